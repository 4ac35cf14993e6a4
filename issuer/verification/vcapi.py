"""Verifying for the W3C VC-API (VCALM ``verifyCredential``, ``verifyPresentation``): any VC or VP,
with this instance's fetcher and trust policy (``issuer.verification.trust``), answered as a
VCALM VerificationResult — ``verified``, ``checks`` (what passed), ``warnings``, ``errors`` (only
when not verified) — with Laurel's own report inside (``laurel``)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import BadRequest
from issuer.verification import trust
from issuer.verification.fetching import LocalFirstFetcher
from verifier.errors import BSL_CODES, STATUS_TYPES
from verifier.presentation import PresentationReport, verify_presentation
from verifier.report import Check, Outcome, Report


def verify_vc(session: Session, services: Services, body: Any) -> dict[str, Any]:
    """The VerificationResult of ``body["verifiableCredential"]``."""
    options = _options(body)
    credential = body.get("verifiableCredential")
    if not isinstance(credential, dict):
        raise BadRequest("verifiableCredential must be a JSON object")
    purpose = options.get("expectedProofPurpose")
    report = trust.verify(session, services, credential, profile="vc")
    result = credential_result(report)
    if purpose is not None and purpose != "assertionMethod":
        result = _failed(result, f"a credential's proof purpose is assertionMethod, not {purpose}")
    return result


def credential_result(report: Report) -> dict[str, Any]:
    return _result(report.checks, report.verified, report.to_dict())


def verify_vp(session: Session, services: Services, body: Any) -> dict[str, Any]:
    """The VerificationResult of ``body["verifiablePresentation"]``, with the challenge and
    domain of ``body["options"]``."""
    options = _options(body)
    presentation = body.get("verifiablePresentation")
    if not isinstance(presentation, dict):
        raise BadRequest("verifiablePresentation must be a JSON object")
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str | None) or not isinstance(domain, str | None):
        raise BadRequest("options.challenge and options.domain must be strings")
    report: PresentationReport = verify_presentation(
        presentation,
        challenge=challenge,
        domain=domain,
        fetcher=LocalFirstFetcher(session, services),
        trust=trust.policy(session, services),
    )
    credentials = [credential_result(found) for found in report.credentials]
    laurel = {
        "verdict": report.verdict.value,
        "checks": [_check(check) for check in report.checks],
    }
    result = _result(report.checks, report.verified, laurel)
    return {
        **result,
        "presentationResult": {"verified": report.verified},
        "credentialResults": credentials,
    }


def _options(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise BadRequest("options must be a JSON object")
    return options


def _check(check: Check) -> dict[str, Any]:
    return {
        "name": check.name,
        "outcome": check.outcome.value,
        "reason": check.reason,
        "required": check.required,
    }


def _result(checks: tuple[Check, ...], verified: bool, laurel: dict[str, Any]) -> dict[str, Any]:
    passed = [check.name for check in checks if check.outcome is Outcome.PASSED]
    warnings = [
        {"name": check.name, "message": check.reason}
        for check in checks
        if not check.required and check.outcome in (Outcome.FAILED, Outcome.UNKNOWN)
    ]
    result: dict[str, Any] = {
        "verified": verified,
        "checks": passed,
        "warnings": warnings,
        "laurel": laurel,
    }
    if not verified:
        result["errors"] = [
            _error(check)
            for check in checks
            if check.required and check.outcome in (Outcome.FAILED, Outcome.UNKNOWN)
        ]
    return result


def _error(check: Check) -> dict[str, Any]:
    """A required check that did not pass; a Bitstring Status List error also carries its type
    URL (BSL "Processing Errors", as RFC 9457 problem details name it)."""
    error = {"name": check.name, "message": check.reason}
    if check.code in BSL_CODES:
        error["type"] = STATUS_TYPES + check.code.upper()
    return error


def _failed(result: dict[str, Any], message: str) -> dict[str, Any]:
    errors = [*result.get("errors", []), {"name": "proof purpose", "message": message}]
    return {**result, "verified": False, "errors": errors}
