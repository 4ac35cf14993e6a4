"""A slow host cannot hold a fetch, or a verification, for as long as it likes.

The drip server sends one byte every 100 ms, so no single read ever waits long enough for a
per-read timeout; only an overall deadline stops it. The tests assert which limit ended the fetch
(its reason), never how long anything took.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.verifier.local_servers import drip_server
from verifier import Outcome, Verdict, verify_credential
from verifier import verify as verify_module
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher
from verifier.httpcache import CachingHttpClient
from verifier.transport import Deadline, within
from verifier.verify import _BoundedFetcher


@pytest.fixture
def drip() -> Iterator[str]:
    with drip_server() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def drip_headers() -> Iterator[str]:
    with drip_server(headers_too=True) as port:
        yield f"http://127.0.0.1:{port}"


def local(*, deadline: float, timeout: float = 5.0) -> HttpFetcher:
    return HttpFetcher(
        allow_http=True, allow_private_addresses=True, deadline=deadline, timeout=timeout
    )


def test_a_slow_drip_body_ends_at_the_deadline(drip: str) -> None:
    with pytest.raises(FetchError, match=r"took longer than 0\.5 s"):
        local(deadline=0.5)(f"{drip}/did.json")


def test_slow_drip_headers_end_at_the_deadline(drip_headers: str) -> None:
    with pytest.raises(FetchError, match=r"took longer than 0\.5 s"):
        local(deadline=0.5)(f"{drip_headers}/did.json")


def test_the_per_read_timeout_never_fires_on_a_drip(drip: str) -> None:
    """Each byte comes well within 0.3 s, so it is the deadline, not a read timeout, that ends
    the fetch (before this, a 5 s read timeout let a drip run without end)."""
    with pytest.raises(FetchError) as caught:
        local(timeout=0.3, deadline=0.8)(f"{drip}/did.json")
    assert caught.value.reason == "took longer than 0.8 s"


def test_the_trust_list_client_has_a_deadline_too(drip: str) -> None:
    client = CachingHttpClient(allow_loopback_http=True, deadline=0.5)
    with pytest.raises(FetchError, match=r"took longer than 0\.5 s"):
        client.get(f"{drip}/list.json")


def test_a_surrounding_budget_ends_a_fetch_sooner(drip: str) -> None:
    with within(Deadline(0.3, "the whole page took too long")):
        with pytest.raises(FetchError, match="the whole page took too long"):
            local(deadline=10)(f"{drip}/did.json")
        with pytest.raises(FetchError, match="the whole page took too long"):
            CachingHttpClient(allow_loopback_http=True).get(f"{drip}/list.json")


def test_one_verification_shares_one_budget_across_its_fetches(drip: str) -> None:
    """Each fetch may take 0.3 s, all of them together 0.5 s: the first ends at its own
    deadline, the second at what is left of the budget, the third is not even started."""
    fetched: list[str] = []
    network = local(deadline=0.3)

    def recording(url: str) -> bytes:
        fetched.append(url)
        return network(url)

    bounded = _BoundedFetcher(recording, budget=0.5)
    reasons = []
    for name in ("did.json", "status.json", "jwks.json"):
        with pytest.raises(FetchError) as caught:
            bounded(f"{drip}/{name}")
        reasons.append(caught.value.reason)
    budget = "the documents of this credential took longer than 0.5 s to fetch"
    assert reasons == ["took longer than 0.3 s", budget, budget]
    assert fetched == [f"{drip}/did.json", f"{drip}/status.json"]


def test_verify_credential_gives_up_on_a_slow_host_within_its_budget(
    drip: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_module, "FETCH_BUDGET", 0.5)
    report = verify_credential(f"{drip}/credential.json", fetcher=local(deadline=10))
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    (check,) = report.checks
    assert check.outcome is Outcome.UNKNOWN
    assert "took longer than 0.5 s to fetch" in check.reason
