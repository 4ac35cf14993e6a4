"""A slow host cannot hold a fetch, or a verification, for as long as it likes.

The drip server sends one byte every 100 ms, so no single read ever waits long enough for a
per-read timeout; only an overall deadline stops it. The tests assert which limit ended the fetch
(its reason), never how long anything took.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.verifier.local_servers import drip_server
from verifier import Outcome, Verdict, transport, verify_credential
from verifier import verify as verify_module
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher
from verifier.httpcache import CachingHttpClient
from verifier.transport import AddressRefused, Deadline, DeadlinePassed, resolve_by, within
from verifier.verify import BoundedFetcher


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

    bounded = BoundedFetcher(recording, budget=0.5)
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


class SilentNameServer:
    """A resolver whose name server answers only when released (at the latest after 30 s)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.released = threading.Event()
        self.answered = threading.Event()

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        self.released.wait(30)
        self.answered.set()
        return ["127.0.0.1"]


@pytest.fixture
def silent_dns() -> Iterator[SilentNameServer]:
    server = SilentNameServer()
    yield server
    server.released.set()


def test_a_name_server_that_does_not_answer_ends_at_the_deadline(
    silent_dns: SilentNameServer,
) -> None:
    """The system resolver has no timeout Laurel can set (glibc waits 5 s per attempt and name
    server): the fetch stops waiting for it at its own deadline, while the lookup still runs."""
    fetcher = HttpFetcher(
        allow_http=True, allow_private_addresses=True, deadline=0.3, resolver=silent_dns
    )
    with pytest.raises(FetchError) as caught:
        fetcher("http://slow-dns.example/did.json")
    still_waiting = not silent_dns.answered.is_set()
    assert caught.value.reason == "took longer than 0.3 s"
    assert still_waiting
    with pytest.raises(FetchError, match=r"took longer than 0\.3 s"):
        fetcher("http://slow-dns.example/did.json")  # kept as silent: not asked again
    assert silent_dns.asked == ["slow-dns.example"]


def test_a_surrounding_budget_ends_a_lookup_sooner(silent_dns: SilentNameServer) -> None:
    fetcher = HttpFetcher(allow_http=True, allow_private_addresses=True, resolver=silent_dns)
    with (
        within(Deadline(0.3, "the whole page took too long")),
        pytest.raises(FetchError, match="the whole page took too long"),
    ):
        fetcher("http://slow-dns.example/did.json")
    assert not silent_dns.answered.is_set()


def test_a_resolvers_refusal_reaches_the_caller() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise AddressRefused(f"the host name {host} does not resolve")

    with pytest.raises(AddressRefused, match=r"nowhere\.example does not resolve"):
        resolve_by(nowhere, "nowhere.example", 443, Deadline(5, "too slow"))


def test_lookups_waited_for_at_once_are_bounded(
    silent_dns: SilentNameServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lookups that outlive their deadline still hold their place until the resolver answers,
    so a name server that never answers cannot make the process start threads without end."""
    monkeypatch.setattr(transport, "LOOKUPS_PENDING", 1)
    monkeypatch.setattr(transport, "_lookups", threading.BoundedSemaphore(1))
    with pytest.raises(DeadlinePassed):
        resolve_by(silent_dns, "slow-dns.example", 443, Deadline(0.2, "too slow"))
    with pytest.raises(AddressRefused, match="1 lookups are pending"):
        resolve_by(lambda host, port: ["192.0.2.1"], "quick.example", 443, Deadline(5, "too slow"))
    silent_dns.released.set()
    for thread in threading.enumerate():
        if thread.name == "resolve slow-dns.example":
            thread.join()
    found = resolve_by(lambda host, port: ["192.0.2.1"], "quick.example", 443, Deadline(5, "x"))
    assert list(found) == ["192.0.2.1"]
