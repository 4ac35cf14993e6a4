"""``verify_presentation`` bounds what one presentation makes the verifier fetch, its proofs and
every credential inside it together: at most ``MAX_FETCHES`` documents, all within one
``FETCH_BUDGET`` deadline (``verifier.verify.bounded``). What could not be fetched within the
bound is unknown, never verified. Audit round 8: the proofs' keys were resolved with no bound
and each of up to 32 credentials started a budget of its own, so one anonymous request to
``/vc-api/presentations/verify`` could make some fifty slow fetches."""

from __future__ import annotations

import json
from typing import Any

import pytest

from issuer.crypto.keys import ed25519_from_seed, multikey
from verifier import Verdict, presentation, rdfc_budget
from verifier.errors import FetchError
from verifier.presentation import MAX_CREDENTIALS, verify_presentation
from verifier.proof import data_integrity
from verifier.report import Outcome
from verifier.transport import Deadline, current_budget
from verifier.verify import MAX_FETCHES, bounded, verify_credential

KEY = ed25519_from_seed(bytes(range(5, 37)))
V2 = "https://www.w3.org/ns/credentials/v2"
CREATED = "2025-01-01T00:00:00Z"
HOLDER = "did:web:holder.example"


def _did(host: str) -> str:
    return f"did:web:{host}"


def _document(did: str) -> dict[str, Any]:
    method = f"{did}#key-1"
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(KEY),
            }
        ],
        "assertionMethod": [method],
        "authentication": [method],
    }


def _sign(document: dict[str, Any], did: str, **extra: str) -> dict[str, Any]:
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": CREATED,
        "verificationMethod": f"{did}#key-1",
        "proofPurpose": "assertionMethod",
        **extra,
    }
    signature = KEY.sign(data_integrity.signing_input(document, options))
    return data_integrity.attach_proof(document, options, signature)


def _credential(did: str) -> dict[str, Any]:
    credential = {
        "@context": [V2, {"Diploma": "https://example.org/Diploma"}],
        "type": ["VerifiableCredential", "Diploma"],
        "issuer": did,
        "credentialSubject": {"id": HOLDER},
    }
    return _sign(credential, did)


def _presentation(issuers: int) -> dict[str, Any]:
    """Signed by ``HOLDER``, holding one credential from each of ``issuers`` did:web hosts."""
    presentation = {
        "@context": [V2],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [_credential(_did(f"issuer{n}.example")) for n in range(issuers)],
    }
    return _sign(presentation, HOLDER, proofPurpose="authentication", challenge="abc")


class Hosts:
    """Every did:web host answers its DID document; notes each URL asked and the fetch
    deadline in effect when it was (``within``); ``spend_budget_at``: the fetch that takes
    the whole budget (its deadline made past, as a host answering that slowly would)."""

    def __init__(self, spend_budget_at: int | None = None) -> None:
        self.asked: list[str] = []
        self.deadlines: list[Deadline | None] = []
        self.spend_budget_at = spend_budget_at

    def __call__(self, url: str) -> bytes:
        self.asked.append(url)
        budget = current_budget()
        self.deadlines.append(budget)
        if len(self.asked) == self.spend_budget_at and budget is not None:
            budget.at -= budget.remaining() + 1
        host = url.removeprefix("https://").removesuffix("/.well-known/did.json")
        if "/" in host:
            raise FetchError(url, "not found")
        return json.dumps(_document(_did(host))).encode()


def test_a_presentation_and_its_credentials_share_one_bound_of_fetches() -> None:
    hosts = Hosts()
    report = verify_presentation(_presentation(MAX_CREDENTIALS), challenge="abc", fetcher=hosts)
    assert len(hosts.asked) == MAX_FETCHES  # the holder's document and 15 issuers' of 32
    assert len(set(hosts.deadlines)) == 1 and hosts.deadlines[0] is not None
    verdicts = [credential.verdict for credential in report.credentials]
    assert verdicts == [Verdict.VERIFIED] * 15 + [Verdict.COULD_NOT_DECIDE] * 17
    over = report.credentials[-1].check("proof")
    assert over is not None and over.outcome is Outcome.UNKNOWN
    assert f"more than {MAX_FETCHES} documents for one presentation" in over.reason
    assert report.verdict is Verdict.COULD_NOT_DECIDE
    (credentials,) = [check for check in report.checks if check.name == "credentials"]
    assert credentials.outcome is Outcome.UNKNOWN
    assert [c.outcome for c in report.checks if c.name in ("proof", "holder")] == [
        Outcome.PASSED,
        Outcome.PASSED,
    ]


def test_a_host_that_spends_the_budget_leaves_the_rest_unknown_and_unfetched() -> None:
    """The holder's host answers, issuer 0's, then issuer 1's, slowly enough to take what was
    left of the budget: issuers 2 to 4 are not asked."""
    hosts = Hosts(spend_budget_at=3)
    report = verify_presentation(_presentation(5), challenge="abc", fetcher=hosts)
    assert len(hosts.asked) == 3
    verdicts = [credential.verdict for credential in report.credentials]
    assert verdicts == [Verdict.VERIFIED] * 2 + [Verdict.COULD_NOT_DECIDE] * 3
    late = report.credentials[-1].check("proof")
    assert late is not None and late.outcome is Outcome.UNKNOWN
    assert "the documents of this presentation took longer than" in late.reason
    assert report.verdict is Verdict.COULD_NOT_DECIDE


def test_the_presentations_own_key_unfetched_is_unknown_not_failed() -> None:
    """The holder's document could not be fetched (its host too slow): the proof check cannot
    be decided either way."""

    def slow(url: str) -> bytes:
        raise FetchError(url, "took longer than 10 s")

    report = verify_presentation(_presentation(1), challenge="abc", fetcher=slow)
    proof = next(check for check in report.checks if check.name == "proof")
    assert proof.outcome is Outcome.UNKNOWN and report.verdict is Verdict.COULD_NOT_DECIDE


def test_a_bound_given_is_shared_not_restarted() -> None:
    """``bounded`` leaves a fetcher that is already bounded as it is."""
    once = bounded(Hosts(), what="presentation")
    assert bounded(once) is once


def test_a_presentations_credentials_canonicalise_within_its_one_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every credential inside spends from the presentation's shared RDFC-1.0 budget rather
    than each starting its own (audit round 8: 32 credentials, 32 times the CPU budget)."""
    seen: list[object] = []

    def noting(*args: Any, **options: Any) -> Any:
        seen.append(rdfc_budget._shared.get())
        return verify_credential(*args, **options)

    monkeypatch.setattr(presentation, "verify_credential", noting)
    report = verify_presentation(_presentation(3), challenge="abc", fetcher=Hosts())
    assert report.verdict is Verdict.VERIFIED
    assert len(seen) == 3 and seen[0] is not None and all(b is seen[0] for b in seen)
