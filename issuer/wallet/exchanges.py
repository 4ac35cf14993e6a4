"""Offering an issued badge to a wallet through a W3C VC-API (VCALM) exchange, the way the DCC
Learner Credential Wallet (LCW 2.2) collects credentials (spec digest §3.2, §3.4, §3.6).

::

    create_exchange  ->  exchange  {base}/exchanges/{secret}        (capability URL, single use)
                         interaction {base}/interactions/{secret}?iuv=1 -> {"protocols": {"vcapi"}}
                         lcw         https://lcw.app/request?request={"protocols":{"vcapi":…}}
                         dccrequest  dccrequest://request?issuer=…&vc_request_url=…&challenge=…
    POST {}                         -> {"verifiablePresentationRequest": DIDAuthentication,
                                        challenge, domain}
    POST {"verifiablePresentation"} -> verify (authentication proof, our challenge and domain,
                                        signed by a key the holder's DID document lists under
                                        ``authentication``), spend, bind the badge to the holder
                                        (``issuing.holders``) -> {"verifiablePresentation": {…,
                                        "verifiableCredential": [badge]}}

The legacy ``dccrequest://`` path posts the signed presentation itself (no ``{}`` first, no
wrapper); it gets the same presentation back, bare. A presentation that fails any check is
refused (400) and spends nothing. It must carry one proof, by a key of its holder (the
``verificationMethod``'s DID is the ``holder``), or it is refused before anything is fetched.
A did:web holder's document is read by ``authenticate`` in a read-only first pass, with no
write transaction open; ``participate`` then verifies again from what that pass read, in a
short write unit. The secret (256 random bits) is stored only as its SHA-256; the exchange is
spent by one conditional update (``state = 'pending'`` and not expired), in the same unit of
work as the binding, so two wallets racing for one exchange cannot both get the badge, and a
binding that fails (a revoked badge: 409) leaves the exchange usable.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.errors import BadRequest, Conflict, InvalidPresentation, NotFound
from issuer.issuing.holders import bind_to_holder, check_holder
from issuer.models import Credential
from issuer.models.base import utcnow
from issuer.models.exchange import PENDING, SPENT, WalletExchange
from issuer.verification.fetching import LocalFirstFetcher
from issuer.wallet.badges import issued_credential
from verifier.presentation import PresentationReport, verify_presentation
from verifier.report import Outcome

SECRET_BYTES = 32
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
VCDM2 = "https://www.w3.org/ns/credentials/v2"
GONE = "there is no such exchange: it may have expired or been used"


@dataclass(frozen=True)
class Offer:
    """What a wallet needs to collect the badge; ``exchange`` is the capability URL."""

    exchange: str
    interaction: str
    lcw: str
    dccrequest: str
    expires_at: datetime

    def to_dict(self) -> dict[str, str]:
        return {
            "exchange": self.exchange,
            "interaction": self.interaction,
            "lcw": self.lcw,
            "dccrequest": self.dccrequest,
            "expires": self.expires_at.isoformat().replace("+00:00", "Z"),
        }


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def exchange_url(services: Services, secret: str) -> str:
    return f"{services.settings.base_url}/exchanges/{secret}"


def interaction_url(services: Services, secret: str) -> str:
    return f"{services.settings.base_url}/interactions/{secret}?iuv=1"


def lcw_link(vcapi: str) -> str:
    """LCW's ``?request=`` deep link for a VC-API exchange (``walletRequestApi.ts``)."""
    request = json.dumps({"protocols": {"vcapi": vcapi}}, separators=(",", ":"))
    return "https://lcw.app/request?request=" + quote(request, safe="")


def dcc_request_link(issuer_id: str, vcapi: str, challenge: str) -> str:
    """The legacy link older LCW builds (and Open edX) use (``credentialRequest.ts``)."""
    query = urlencode(
        {
            "issuer": issuer_id,
            "vc_request_url": vcapi,
            "auth_type": "bearer",
            "challenge": challenge,
        }
    )
    return f"dccrequest://request?{query}"


def create_exchange(
    session: Session,
    services: Services,
    credential: Credential,
    *,
    actor: str,
    now: datetime | None = None,
) -> Offer:
    """A new single-use exchange for ``credential`` (which the caller has checked is the
    actor's), expiring after ``exchange_ttl_seconds``. 409 for a revoked badge."""
    if credential.revoked_at is not None:
        raise Conflict("the badge was revoked; it cannot be collected into a wallet")
    now = now or utcnow()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    row = WalletExchange(
        secret_hash=_hash(secret),
        credential_id=credential.id,
        challenge=str(uuid.uuid4()),
        created_by=actor[:200],
        created_at=now,
        expires_at=now + timedelta(seconds=services.settings.exchange_ttl_seconds),
    )
    session.add(row)
    session.flush()
    audit.append(
        session, actor, "credential.exchange", f"urn:uuid:{credential.id}", {"exchange": row.id}
    )
    vcapi = exchange_url(services, secret)
    return Offer(
        exchange=vcapi,
        interaction=interaction_url(services, secret),
        lcw=lcw_link(vcapi),
        dccrequest=dcc_request_link(_issuer_id(credential), vcapi, row.challenge),
        expires_at=row.expires_at,
    )


def _issuer_id(credential: Credential) -> str:
    issuer = credential.document.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    return found if isinstance(found, str) else ""


def _pending(session: Session, secret: str, now: datetime) -> WalletExchange:
    """The pending, unexpired exchange of ``secret``; 404 alike for every other case."""
    if not _SECRET.fullmatch(secret):
        raise NotFound(GONE)
    found = session.exec(
        select(WalletExchange).where(WalletExchange.secret_hash == _hash(secret))
    ).first()
    if found is None or found.state != PENDING or found.expires_at <= now:
        raise NotFound(GONE)
    return found


def protocols(
    session: Session, services: Services, secret: str, now: datetime | None = None
) -> dict[str, Any]:
    """The VCALM interaction answer (``GET /interactions/{x}?iuv=1``)."""
    _pending(session, secret, now or utcnow())
    return {"protocols": {"vcapi": exchange_url(services, secret)}}


def authenticate(
    session: Session, services: Services, secret: str, body: Any, now: datetime | None = None
) -> str | None:
    """The read-only part of ``participate``: the holder DID that ``body``'s presentation
    authenticates for the pending exchange ``secret`` (None for the ``{}`` step), refused as
    ``participate`` refuses it. Verifying the presentation may fetch the holder's DID
    document: the route runs this first, with no write transaction open
    (``issuer.http.deps.read_then_write``), so that ``participate`` answers from what it read."""
    row, presentation, legacy = _step(session, secret, body, now or utcnow())
    if presentation is None:
        return None
    return _authenticated_holder(session, services, row, presentation, legacy)


def participate(
    session: Session, services: Services, secret: str, body: Any, now: datetime | None = None
) -> dict[str, Any]:
    """One step of the exchange (VCALM ``participateInExchange``) for ``body``."""
    now = now or utcnow()
    row, presentation, legacy = _step(session, secret, body, now)
    if presentation is None:
        return {"verifiablePresentationRequest": _request(services, secret, row)}
    holder = _authenticated_holder(session, services, row, presentation, legacy)
    spent = session.connection().execute(
        update(WalletExchange)
        .where(
            col(WalletExchange.id) == row.id,
            col(WalletExchange.state) == PENDING,
            col(WalletExchange.expires_at) > now,
        )
        .values(state=SPENT, spent_at=now, holder_id=holder)
    )
    if spent.rowcount != 1:  # another request spent it first
        raise NotFound(GONE)
    credential = bind_to_holder(
        session, services, row.credential_id, holder, actor=f"exchange:{row.id}"
    )
    answer = {
        "@context": [VCDM2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential.document],
    }
    return answer if legacy else {"verifiablePresentation": answer}


def _step(
    session: Session, secret: str, body: Any, now: datetime
) -> tuple[WalletExchange, dict[str, Any] | None, bool]:
    """The pending exchange, and the presentation ``body`` posts to it (None for ``{}``) and
    whether it came bare (the legacy flow)."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    row = _pending(session, secret, now)
    if "verifiablePresentation" in body:
        presentation, legacy = body["verifiablePresentation"], False
    elif _is_presentation(body):
        presentation, legacy = body, True
    elif not body:
        return row, None, False
    else:
        raise BadRequest("expected {} or {verifiablePresentation: …} (a DIDAuthentication VP)")
    if not isinstance(presentation, dict):
        raise InvalidPresentation("verifiablePresentation must be a JSON object")
    return row, presentation, legacy


def _is_presentation(body: dict[str, Any]) -> bool:
    kinds = body.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "VerifiablePresentation" in kinds and "proof" in body


def _request(services: Services, secret: str, row: WalletExchange) -> dict[str, Any]:
    vcapi = exchange_url(services, secret)
    return {
        "query": [{"type": "DIDAuthentication"}],
        "challenge": row.challenge,
        "domain": services.settings.origin,
        "interact": {
            "service": [{"type": "UnmediatedPresentationService2021", "serviceEndpoint": vcapi}]
        },
    }


def _authenticated_holder(
    session: Session,
    services: Services,
    row: WalletExchange,
    presentation: dict[str, Any],
    legacy: bool,
) -> str:
    """The holder DID, if ``presentation`` is a DIDAuthentication for this exchange signed by
    a key the holder authorises for ``authentication``; else ``InvalidPresentation``."""
    holder = presentation.get("holder")
    holder = holder.get("id") if isinstance(holder, dict) else holder
    if not isinstance(holder, str):
        raise InvalidPresentation("the presentation names no holder (a DID)")
    try:
        check_holder(holder)
    except BadRequest as exc:
        raise InvalidPresentation(exc.detail) from None
    if not presentation.get("proof"):
        raise InvalidPresentation("the presentation is not signed")
    if "verifiableCredential" in presentation:  # nothing to fetch or verify on a wallet's word
        raise InvalidPresentation("a DIDAuthentication presentation carries no credentials")
    _one_proof_by(holder, presentation["proof"])
    domain: str | None = services.settings.origin
    if legacy and not _any_domain(presentation):
        domain = None  # the legacy request names no domain; its challenge is this exchange's
    report = verify_presentation(
        presentation,
        challenge=row.challenge,
        domain=domain,
        fetcher=LocalFirstFetcher(session, services),
    )
    _require(report)
    return holder


def _one_proof_by(holder: str, proof: Any) -> None:
    """Refuse, before anything is fetched, a presentation with more than one proof or whose
    proof names a key of another DID than its holder: only the holder's own key can
    authenticate the holder, so no other host's document needs reading."""
    proofs = proof if isinstance(proof, list) else [proof]
    if len(proofs) != 1:
        raise InvalidPresentation(
            f"a DIDAuthentication presentation carries one proof, by its holder; "
            f"this one has {len(proofs)}"
        )
    method = proofs[0].get("verificationMethod") if isinstance(proofs[0], dict) else None
    if not isinstance(method, str) or method.partition("#")[0] != holder:
        raise InvalidPresentation(
            f"the proof's verificationMethod must be a key of the holder {holder}"
        )


def _any_domain(presentation: dict[str, Any]) -> bool:
    proofs = presentation.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return any(isinstance(proof, dict) and "domain" in proof for proof in proofs)


def _require(report: PresentationReport) -> None:
    failed = [
        f"{check.name}: {check.reason}"
        for check in report.checks
        if check.outcome in (Outcome.FAILED, Outcome.UNKNOWN)
    ]
    if failed or not report.verified:
        raise InvalidPresentation("the presentation was not accepted: " + "; ".join(failed))
    passed = {check.name for check in report.checks if check.outcome is Outcome.PASSED}
    missing = {"proof", "holder"} - passed
    if missing:
        raise InvalidPresentation(
            "the presentation must be signed by its holder: " + ", ".join(sorted(missing))
        )


def offer_for_learner(
    session: Session, services: Services, learner_id: int, ref: str
) -> tuple[Credential, Offer]:
    """An exchange for the learner's own badge ``ref`` (issued here, ``c-…``)."""
    if not ref.startswith("c-"):
        raise BadRequest("only badges issued here can be added to the Learner Credential Wallet")
    credential = issued_credential(session, learner_id, ref)
    return credential, create_exchange(session, services, credential, actor=f"learner:{learner_id}")
