"""``verify_presentation``: a Verifiable Presentation (VCDM 2.0 §4.13, VCDM 1.1 §4.10) and the
credentials inside it, as the W3C VC-API's ``/presentations/verify`` runs it.

Checks, in order: input, context, type, JSON-LD processing (which fails on dropped terms), the
presentation's Data Integrity proofs (``proofPurpose`` ``authentication``, with the caller's
``challenge`` and ``domain``: VC Data Integrity §2.1), the holder (the signing key's controller,
whose own document lists the key under ``authentication``: Controlled Identifiers §2.3.2),
and every embedded credential (``verify_credential`` with the ``vc`` profile). A presentation
may be unsigned when no challenge is asked for; with a challenge, a proof is required.

Everything the presentation and its credentials make Laurel fetch shares one bound
(``verifier.verify.bounded``): at most ``MAX_FETCHES`` documents, all within ``FETCH_BUDGET``
seconds. What could not be fetched within it makes its check unknown, never passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from verifier import rdfc_budget
from verifier.checks import check_vc_context, check_vc_type
from verifier.errors import (
    FetchError,
    Indeterminate,
    InputError,
    JsonLdError,
    ProofError,
    VerifierError,
)
from verifier.fetch import Fetcher
from verifier.identity import TrustPolicy
from verifier.jsonld import canonicalize
from verifier.keys import DefaultKeyResolver, KeyResolver, ResolvedKey
from verifier.proof import data_integrity
from verifier.report import Check, Outcome, Report, Verdict, decide
from verifier.verify import MAX_PROOFS, bounded, verify_credential

MAX_CREDENTIALS = 32
AUTHENTICATION = "authentication"


@dataclass(frozen=True)
class PresentationReport:
    """The verdict on a presentation, its own checks, and one report per embedded credential."""

    verdict: Verdict
    checks: tuple[Check, ...]
    credentials: tuple[Report, ...] = ()

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VERIFIED


def verify_presentation(
    presentation: Any,
    *,
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
    fetcher: Fetcher | None = None,
    resolve_key: KeyResolver | None = None,
    trust: TrustPolicy | None = None,
) -> PresentationReport:
    """Verify ``presentation`` (a JSON object). Never raises for bad input. ``fetcher`` is
    bounded once for the whole presentation, its embedded credentials included, and every
    canonicalisation spends from one shared budget (``rdfc_budget.shared_budget``)."""
    limited = bounded(fetcher, what="presentation")
    with rdfc_budget.shared_budget(), limited.budget():
        return _verify(presentation, challenge, domain, now, limited, resolve_key, trust)


def _verify(
    presentation: Any,
    challenge: str | None,
    domain: str | None,
    now: datetime | None,
    fetcher: Fetcher,
    resolve_key: KeyResolver | None,
    trust: TrustPolicy | None,
) -> PresentationReport:
    resolver = resolve_key or DefaultKeyResolver(fetcher)
    checks: list[Check] = []

    def run(name: str, step: Any) -> bool:
        try:
            reason = step()
        except (Indeterminate, FetchError) as exc:
            checks.append(Check(name, Outcome.UNKNOWN, str(exc)))
            return False
        except VerifierError as exc:
            checks.append(Check(name, Outcome.FAILED, str(exc)))
            return False
        if reason is None:
            checks.append(Check(name, Outcome.SKIPPED, "not applicable", required=False))
        else:
            checks.append(Check(name, Outcome.PASSED, reason))
        return True

    if not isinstance(presentation, dict):
        checks.append(Check("input", Outcome.FAILED, "the presentation is not a JSON object"))
        return PresentationReport(decide(tuple(checks)), tuple(checks))
    checks.append(Check("input", Outcome.PASSED, "read a presentation from JSON"))
    run("context", lambda: check_vc_context(presentation))
    run("type", lambda: check_vc_type(presentation, "VerifiablePresentation"))
    canonical: list[str] = []
    if run("json-ld", lambda: _canonical(presentation, canonical)):
        signers: list[ResolvedKey] = []
        proved = run(
            "proof",
            lambda: _proofs(presentation, canonical[0], resolver, challenge, domain, signers, now),
        )
        if proved:
            run("holder", lambda: _holder(presentation, signers))
    reports: list[Report] = []
    run(
        "credentials",
        lambda: _credentials(presentation, reports, now, fetcher, resolver, trust),
    )
    holder = next((c for c in checks if c.name == "holder"), None)
    if holder is not None and holder.outcome is Outcome.PASSED and reports:
        checks.append(_holder_is_subject(presentation, reports))
    found = tuple(checks)
    return PresentationReport(decide(found), found, tuple(reports))


def _canonical(presentation: Mapping[str, Any], out: list[str]) -> str:
    try:
        out.append(canonicalize(data_integrity.unsigned(presentation)))
    except JsonLdError:
        raise
    return "every term is defined by the presentation's contexts"


def _proofs(
    presentation: Mapping[str, Any],
    canonical: str,
    resolver: KeyResolver,
    challenge: str | None,
    domain: str | None,
    signers: list[ResolvedKey],
    now: datetime | None = None,
) -> str | None:
    proofs = presentation.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs] if proofs is not None else []
    if not proofs:
        if challenge is not None:
            raise ProofError("a challenge was given, but the presentation is not signed")
        return None
    if len(proofs) > MAX_PROOFS:
        raise ProofError(f"the presentation has {len(proofs)} proofs; at most {MAX_PROOFS}")
    for proof in proofs:
        if not isinstance(proof, dict):
            raise ProofError("a proof is not a JSON object")
        if challenge is not None and proof.get("challenge") != challenge:
            raise ProofError("the proof's challenge is not the one given")
        domains = proof.get("domain")
        if domain is not None and domain not in (
            domains if isinstance(domains, list) else [domains]
        ):
            raise ProofError("the proof's domain is not the one given")
        signers.append(
            data_integrity.verify_proof(
                presentation,
                proof,
                resolver,
                canonical_document=canonical,
                purpose=AUTHENTICATION,
                now=now,
            )
        )
    return f"{len(proofs)} authentication proof(s) valid"


def _holder(presentation: Mapping[str, Any], signers: list[ResolvedKey]) -> str | None:
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    if holder is None or not signers:
        return None
    if not isinstance(holder_id, str):
        raise VerifierError("the holder has no id")
    by_holder = [signer for signer in signers if signer.controller == holder_id]
    if not by_holder:
        raise VerifierError(f"the presentation is not signed by its holder {holder_id}")
    if not any(signer.confirmed for signer in by_holder):
        raise Indeterminate(f"the document of the holder {holder_id} could not be fetched")
    if all(AUTHENTICATION not in signer.purposes for signer in by_holder):
        raise VerifierError(
            f"the holder {holder_id} does not list the signing key under {AUTHENTICATION}"
        )
    return f"signed by its holder {holder_id} with an {AUTHENTICATION} key"


def _holder_is_subject(presentation: Mapping[str, Any], reports: list[Report]) -> Check:
    """Whether each credential is about the holder who signed the presentation: a warning, not
    a failure (VCDM 2.0 lets anyone present a credential, a parent their child's, say), so that
    a verifier that expects the holder to be the subject is told when not."""
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    others = []
    for number, report in enumerate(reports, 1):
        subjects = _subject_ids(report.credential)
        if holder_id not in subjects:
            named = ", ".join(subjects) if subjects else "no subject id"
            others.append(f"credential {number} is about {named}")
    if others:
        reason = f"{'; '.join(others)}, not the holder {holder_id}"
        return Check("holder is subject", Outcome.FAILED, reason, required=False)
    return Check(
        "holder is subject",
        Outcome.PASSED,
        f"every credential is about the holder {holder_id}",
        required=False,
    )


def _subject_ids(credential: Mapping[str, Any] | None) -> list[str]:
    subject = credential.get("credentialSubject") if credential else None
    subjects = subject if isinstance(subject, list) else [subject]
    return [s["id"] for s in subjects if isinstance(s, dict) and isinstance(s.get("id"), str)]


def _credentials(
    presentation: Mapping[str, Any],
    reports: list[Report],
    now: datetime | None,
    fetcher: Fetcher,
    resolver: KeyResolver,
    trust: TrustPolicy | None,
) -> str | None:
    items = presentation.get("verifiableCredential")
    if items is None:
        return None
    items = items if isinstance(items, list) else [items]
    if len(items) > MAX_CREDENTIALS:
        raise InputError(f"the presentation holds {len(items)} credentials; at most 32")
    for item in items:
        credential = item if isinstance(item, dict) else {}  # never a URL to fetch
        reports.append(
            verify_credential(
                credential,
                now=now,
                fetcher=fetcher,
                resolve_key=resolver,
                trust=trust,
                profile="vc",
            )
        )
    failed = [n for n, report in enumerate(reports, 1) if not report.verified]
    if failed:
        reasons = "; ".join(f"credential {n}: {reports[n - 1].reason()}" for n in failed)
        if all(reports[n - 1].verdict is Verdict.COULD_NOT_DECIDE for n in failed):
            raise Indeterminate(reasons)
        raise VerifierError(reasons)
    return f"{len(reports)} credential(s) verified"
