"""Badges from other issuers in a learner's wallet (OB 3.0 §8.1 "Verification", §5.3 "Baking").

Accepted: an OB 3.0 credential as JSON or a compact VC-JWT, a baked PNG (iTXt
``openbadgecredential``) or SVG (``<openbadges:credential>``), or an https URL to any of them,
fetched through ``LocalFirstFetcher`` (https only; no private or local addresses). Every import is
verified with ``verifier.verify_credential`` and kept with that verdict, whatever it is;
``recheck`` verifies the stored original again later, so a revocation shows up then.

Open Badges 2.0 assertions are kept as ``legacy``: shown with what they say, never
signature-verified (``issuer.services.imports_legacy`` reads them).

Refused, storing nothing: empty or oversized input, anything that is not a badge, unreadable or
malicious files (deep JSON, XML entities, PNG decompression bombs), unreachable or private URLs,
and badges this instance issued (they are in their recipient's wallet already).
"""

from __future__ import annotations

import re
import struct
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from issuer.context import Services
from issuer.core.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, WalletFull
from issuer.models import Credential, ImportedCredential, Issuer, Learner, LearnerEmail
from issuer.models.base import aware, maybe_time, utcnow
from issuer.skills.weights import alignment_factor, base_weight, framework_of, recency
from issuer.verification import trust
from issuer.verification.fetching import LocalFirstFetcher
from issuer.wallet.imports_legacy import (
    BADGE_TYPES,
    MAX_BYTES,
    Badge,
    check_numbers,
    clean,
    identifier_of,
    is_ob2,
    issuer_ref_of,
    legacy_badge,
    legacy_baked,
    legacy_fields,
    name_of,
)
from verifier import Check, Outcome, Report
from verifier.baking import PNG_SIGNATURE
from verifier.checks import check_recipient, types_of
from verifier.errors import FetchError, InputError, NoCredentialFound, TooLarge, VerifierError
from verifier.fetch import NO_NETWORK
from verifier.proof import jwt as vcjwt
from verifier.report import Verdict, decide
from verifier.sources import load
from verifier.summary import summarize

MAX_PIXELS = 40_000_000  # what a wallet page may ask a browser to decode for one badge
MAX_URL = 2000
VERIFIED = Verdict.VERIFIED.value
MAX_HOURS = 100_000  # the most learning hours Laurel itself issues (IssueRequest.creditsEarned)
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "json": "application/vc+ld+json",
    "jwt": "application/vc+jwt",
}
_OTHER_FILES = {
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
}


def import_badge(
    session: Session,
    services: Services,
    learner_id: int,
    data: bytes | None = None,
    *,
    url: str | None = None,
    filename: str | None = None,
    now: datetime | None = None,
) -> ImportedCredential:
    """Verify a badge (``data``, or fetched from ``url``) and keep it in the learner's wallet
    with its verdict. A badge imported before is checked again and its row returned. Bad input
    raises a ``LaurelError`` (``BadRequest``, ``PayloadTooLarge``, ``Conflict``, ``NotFound``)
    and stores nothing."""
    now = aware(now) if now else utcnow()
    emails = _learner_emails(session, services, learner_id)
    original, source_url = _obtain(session, services, data, url, filename)
    label = source_url or filename or "The upload"
    badge = _read(session, services, original, label)
    if not badge.legacy:
        _refuse_own(session, services, badge.document, learner_id, emails)
    existing = _find(
        session, learner_id, badge.credential_id, issuer_ref_of(badge.document), original
    )
    # Imported again: checked again. Only a verified copy replaces a stored one that is not.
    retry = existing is not None and existing.verdict != VERIFIED and existing.original != original
    if existing is not None and (badge.legacy or not retry):
        return recheck(session, services, existing, now=now)
    if badge.legacy:
        fields = legacy_fields(session, services, badge, now)
    else:
        fields = _verify(session, services, badge, original, now, label)
    values = {
        "original": original,
        "media_type": badge.media_type,
        "source_url": source_url,
        "legacy": badge.legacy,
        "document": badge.document,
        "credential_id": badge.credential_id,
        "issuer_ref": issuer_ref_of(badge.document),
        "checked_at": now,
        **fields,
    }
    if existing is not None:
        if fields["verdict"] != VERIFIED:
            return recheck(session, services, existing, now=now)
        return _save(session, services, existing, values)
    return _insert(
        session, services, ImportedCredential(learner_id=learner_id, created_at=now, **values)
    )


def upsert_badge(
    session: Session,
    services: Services,
    learner_id: int,
    data: bytes,
    *,
    now: datetime | None = None,
) -> tuple[ImportedCredential, bool]:
    """The OB 3.0 API's ``upsertCredential``: keep ``data`` (an OB 3.0 credential as JSON or a
    compact JWS, never a link) in the learner's wallet only if it verifies. Returns the row and
    whether it was created. A credential equal to a stored one (the same issuer and ``id``)
    replaces it unless the stored one is verified and newer (a later ``validFrom``). Raises
    ``BadRequest`` for anything that does not verify, storing nothing, and ``Conflict`` for a
    badge this instance issued to the learner (it is in their wallet already). A credential
    issued to someone else (none of the learner's confirmed emails) is refused with
    ``BadRequest``: what is stored here is listed by ``getCredentials`` as the learner's own."""
    now = aware(now) if now else utcnow()
    label = "The credential"
    emails = _learner_emails(session, services, learner_id)
    if not data.strip():
        raise BadRequest("The body is empty: send an OB 3.0 credential (JSON or a compact JWS).")
    _check_size(len(data), label)
    badge = _read(session, services, data, label)
    if badge.legacy or badge.media_type not in (MEDIA_TYPES["json"], MEDIA_TYPES["jwt"]):
        raise BadRequest(
            "Only Open Badges 3.0 credentials, as JSON or a compact JWS, can be stored through "
            "this API."
        )
    _refuse_own(session, services, badge.document, learner_id, emails)
    if not issued_to_any(badge.document, _confirmed_emails(session, learner_id)):
        raise BadRequest(
            f"{label} was issued to someone else (its recipient is none of the wallet's confirmed "
            "emails), so it was not stored. If it is yours, add and confirm that email in the "
            "wallet first."
        )
    fields = _verify(session, services, badge, data, now, label)
    if fields["verdict"] != VERIFIED:
        reason = str(fields["report"].get("reason") or fields["verdict"])
        raise BadRequest(f"{label} does not verify, so it was not stored: {reason}")
    values = {
        "original": data,
        "media_type": badge.media_type,
        "source_url": None,
        "legacy": False,
        "document": badge.document,
        "credential_id": badge.credential_id,
        "issuer_ref": issuer_ref_of(badge.document),
        "checked_at": now,
        **fields,
    }
    existing = _find(session, learner_id, badge.credential_id, values["issuer_ref"], data)
    if existing is None:
        new = ImportedCredential(learner_id=learner_id, created_at=now, **values)
        row = _insert(session, services, new)
        return row, row is new  # else a concurrent upsert of the same credential stored it
    stored_from = window_of(existing)[0]
    given_from = maybe_time(fields["report"].get("summary", {}).get("valid_from"))
    if existing.verdict == VERIFIED and stored_from and given_from and stored_from > given_from:
        return existing, False
    return _save(session, services, existing, values), False


def recheck(
    session: Session,
    services: Services,
    imported: ImportedCredential,
    *,
    now: datetime | None = None,
) -> ImportedCredential:
    """Verify the stored original again (it may have been revoked or expired since) and store
    the new verdict. Legacy badges stay legacy: only ``checked_at`` changes."""
    return recheck_report(session, services, imported, now=now)[0]


def recheck_report(
    session: Session,
    services: Services,
    imported: ImportedCredential,
    *,
    now: datetime | None = None,
) -> tuple[ImportedCredential, Report | None]:
    """``recheck``, also returning the verifier's report (``None`` for a legacy badge), for a
    page that shows every check."""
    now = aware(now) if now else utcnow()
    changes: dict[str, Any] = {"checked_at": now}
    report = None
    if not imported.legacy:
        report = _run_verifier(session, services, imported.original, now)
        changes.update(verdict=report.verdict.value, report=report.to_dict())
    return _save(session, services, imported, changes), report


def foresee_import(
    session: Session,
    services: Services,
    learner_id: int,
    data: bytes | None = None,
    *,
    url: str | None = None,
    filename: str | None = None,
    now: datetime | None = None,
) -> None:
    """What ``import_badge`` will ask other hosts, asked first (its read-only first pass,
    ``issuer.verification.remembered``): the badge by its URL, an OB 2.0 badge's linked parts,
    everything verifying it fetches, and what verifying a stored copy of it again fetches."""
    now = aware(now) if now else utcnow()
    original, source_url = _obtain(session, services, data, url, filename)
    badge = _read(session, services, original, source_url or filename or "The upload")
    if badge.legacy:
        legacy_fields(session, services, badge, now)
    else:
        _run_verifier(session, services, original, now)
    ref = issuer_ref_of(badge.document)
    existing = _find(session, learner_id, badge.credential_id, ref, original)
    if existing is not None:
        foresee_recheck(session, services, existing, now=now)


def foresee_upsert(
    session: Session, services: Services, data: bytes, *, now: datetime | None = None
) -> None:
    """What ``upsert_badge`` will ask other hosts, asked first (as ``foresee_import``)."""
    badge = _read(session, services, data, "The credential")
    if not badge.legacy:
        _run_verifier(session, services, data, aware(now) if now else utcnow())


def foresee_recheck(
    session: Session,
    services: Services,
    imported: ImportedCredential,
    *,
    now: datetime | None = None,
) -> None:
    """What ``recheck`` will ask other hosts, asked first (as ``foresee_import``)."""
    if not imported.legacy:
        _run_verifier(session, services, imported.original, aware(now) if now else utcnow())


def _save(
    session: Session, services: Services, imported: ImportedCredential, changes: dict[str, Any]
) -> ImportedCredential:
    """Write ``changes`` to the stored row (and to ``imported``, so the caller sees them)."""
    row = session.get(ImportedCredential, imported.id)
    if row is None:
        raise NotFound(f"there is no imported badge {imported.id}")
    for name, value in changes.items():
        setattr(row, name, value)
        setattr(imported, name, value)
    session.add(row)
    return row


def stale(session: Session, cutoff: datetime, after: int = 0, limit: int = 500) -> list[int]:
    """Ids of imported badges last checked before ``cutoff``, after id ``after`` (a job rechecks
    them one unit of work each: each row holds its original, up to 2 MiB)."""
    ids = session.exec(
        select(ImportedCredential.id)
        .where(col(ImportedCredential.checked_at) < cutoff, col(ImportedCredential.id) > after)
        .order_by(col(ImportedCredential.id))
        .limit(limit)
    ).all()
    return [i for i in ids if i is not None]


def issued_to_any(document: dict[str, Any], emails: list[str]) -> bool:
    """Whether the credential names one of ``emails`` as its recipient (a hashed or plain email
    identifier). Only such imports count towards the learner's skills and hours: a genuine badge
    of someone else is still someone else's."""
    for email in emails:
        try:
            check_recipient(document, email)
            return True
        except VerifierError:
            continue
    return False


def window_of(imported: ImportedCredential) -> tuple[datetime | None, datetime | None]:
    """The validity window the verifier read when it last checked the badge: its report's
    ``summary`` (a VCDM 1.1 credential's ``issuanceDate`` / ``expirationDate``, a JWT's ``nbf``
    / ``exp``), never the document's fields read again here. A report stored without one
    (none yet, or from before summaries): the verifier's ``summarize`` of the document."""
    report = imported.report if isinstance(imported.report, dict) else {}
    summary = report.get("summary")
    if not isinstance(summary, dict):
        document = imported.document if isinstance(imported.document, dict) else {}
        summary = summarize(document, "json").to_dict()
    return maybe_time(summary.get("valid_from")), maybe_time(summary.get("valid_until"))


def imported_skills(
    imported: ImportedCredential, now: datetime, emails: list[str] | None = None
) -> list[tuple[str, str, str, float]]:
    """(framework, code, name, weight) of each alignment of a verified import's achievement at
    ``now``, weighed as issued badges are (``issuer.services.skills``). Legacy, unverified,
    not yet valid and expired imports count nothing; given ``emails`` (the learner's), nor do
    imports issued to none of them."""
    if imported.legacy or imported.verdict != VERIFIED:
        return []
    if emails is not None and not issued_to_any(imported.document, emails):
        return []
    now, document = (aware(now) if now else utcnow()), imported.document
    subject = document.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if not isinstance(subject, dict) or not isinstance(achievement, dict):
        return []
    issued, until = window_of(imported)
    issued = issued or imported.issued_on
    if issued is None or issued > now or (until is not None and until <= now):
        return []
    weight = _base_weight(subject, achievement) * recency(issued, now)
    alignments = achievement.get("alignment", [])
    skills, seen = [], set()
    listed = alignments if isinstance(alignments, list) else [alignments]
    for position, alignment in enumerate(listed):
        if not isinstance(alignment, dict):
            continue
        code = str(alignment.get("targetCode") or alignment.get("targetName") or "")
        key = (framework_of(alignment)[:200], code[:200])
        if not code or key in seen:
            continue
        seen.add(key)
        share = weight * alignment_factor(position)  # primary 1, secondary 0.5, as issued badges
        skills.append((*key, str(alignment.get("targetName") or code)[:500], share))
    return skills


# --- input ------------------------------------------------------------------------------------


def _obtain(
    session: Session,
    services: Services,
    data: bytes | str | None,
    url: str | None,
    filename: str | None,
) -> tuple[bytes, str | None]:
    """The original bytes and the URL they came from (if any)."""
    if data is not None and url is not None:
        raise BadRequest("Give either a badge file or a link to one, not both.")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if url is not None and not url.strip():
        raise BadRequest("The link is empty: paste the link to a badge.")
    if url is None:
        if not data or not data.strip():
            raise BadRequest(
                f"{filename or 'The upload'} is empty: choose a badge file "
                "(a baked PNG or SVG, JSON or a VC-JWT) or paste a link to one."
            )
        _check_size(len(data), filename or "The upload")
        url = _as_url(data)
        if url is None:
            return data, None
    return _fetch_badge(session, services, url.strip()), url.strip()


def _as_url(data: bytes) -> str | None:
    if len(data) > MAX_URL:
        return None
    candidate = data.strip().decode("utf-8", "replace")
    if candidate.startswith(("https://", "http://")) and not re.search(r"\s", candidate):
        return candidate
    return None


def _check_size(size: int, label: str) -> None:
    if size > MAX_BYTES:
        raise PayloadTooLarge(
            f"{label} is {size:,} bytes; a badge can be at most {MAX_BYTES:,} bytes. "
            "Upload the badge image or JSON itself, not a larger file."
        )


def _fetch_badge(session: Session, services: Services, url: str) -> bytes:
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme != "https" or not parts.hostname:
        raise BadRequest(
            f"{url[:200]} is not a link Laurel can fetch: links must start with https:// and "
            f"be at most {MAX_URL} characters."
        )
    try:
        body = LocalFirstFetcher(session, services)(url)
    except FetchError as exc:
        raise BadRequest(
            f"Laurel could not fetch {url}: {exc.reason}. Check the link, or download the badge "
            "and upload the file instead."
        ) from exc
    if not body.strip():
        raise BadRequest(f"{url} returned nothing; link to the badge file itself.")
    _check_size(len(body), url)
    return body


def _read(session: Session, services: Services, original: bytes, label: str) -> Badge:
    """Classify the input: an OB 3.0 credential, or an OB 2.0 assertion. Raises on bad input."""
    if original.startswith(PNG_SIGNATURE):
        _check_png(original, label)
    try:
        loaded = load(original, fetcher=NO_NETWORK, max_bytes=MAX_BYTES, allow_url=False)
    except NoCredentialFound as exc:
        return legacy_baked(original, label, exc, partial(_fetch_badge, session, services))
    except TooLarge as exc:
        raise PayloadTooLarge(f"{label} is too large to import: {exc}.") from exc
    except InputError as exc:
        raise BadRequest(_unreadable(original, label, exc)) from exc
    container = loaded.format if loaded.format in ("png", "svg") else None
    if loaded.jws is not None:
        try:
            decoded = vcjwt.decode(loaded.jws)
        except InputError as exc:
            raise BadRequest(f"{label} holds a JWT that cannot be read: {exc}.") from exc
        if is_ob2(decoded.payload):
            return legacy_badge(decoded.payload, container or "jwt", label)
        document = decoded.credential
    else:
        assert loaded.credential is not None
        document = loaded.credential
        if is_ob2(document):
            return legacy_badge(document, container or "json", label)
    _require_badge(document, label)
    check_numbers(document, label)
    fmt = container or ("jwt" if loaded.jws is not None else "json")
    return Badge(MEDIA_TYPES[fmt], fmt, False, document, identifier_of(document.get("id")))


def _unreadable(original: bytes, label: str, exc: InputError) -> str:
    for magic, kind in _OTHER_FILES.items():
        if original.startswith(magic):
            return f"{label} is {kind}; badges come as baked PNG or SVG images, JSON or a VC-JWT."
    head = original[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return f"{label} is a web page, not a badge; link to or upload the badge file itself."
    if original.startswith(PNG_SIGNATURE) or head.startswith(b"<"):
        return f"{label} is an image Laurel cannot read: {exc}."
    return f"{label} is not a badge: {exc}."


def _check_png(png: bytes, label: str) -> None:
    """Refuse a PNG whose pixels would decompress to an unreasonable size (a PNG bomb): Laurel
    never decodes them, but the wallet shows the image to browsers."""
    if len(png) < 24 or png[12:16] != b"IHDR":
        raise BadRequest(f"{label} is an image Laurel cannot read: the PNG has no IHDR header.")
    width, height = struct.unpack(">II", png[16:24])
    if width * height > MAX_PIXELS:
        raise BadRequest(
            f"{label} is a {width}×{height} pixel image, too large to show safely; "
            "badge images are at most a few thousand pixels wide."
        )


def _require_badge(document: dict[str, Any], label: str) -> None:
    kinds = types_of(document)
    if any(kind in BADGE_TYPES for kind in kinds):
        return
    if "EndorsementCredential" in kinds:
        raise BadRequest(f"{label} is an endorsement of a badge or issuer, not a badge.")
    if "VerifiableCredential" in kinds:
        raise BadRequest(
            f"{label} is a verifiable credential but not an Open Badge (its type is {kinds})."
        )
    raise BadRequest(f"{label} is JSON, but not an Open Badges credential.")


# --- verification and storage -----------------------------------------------------------------


def _verify(
    session: Session, services: Services, badge: Badge, original: bytes, now: datetime, label: str
) -> dict[str, Any]:
    """The verifier's verdict and what the credential says, as column values."""
    report = _run_verifier(session, services, original, now)
    read = report.check("input")
    if read is None or read.outcome is not Outcome.PASSED:
        raise BadRequest(f"{label} could not be checked as a badge: {report.reason()}.")
    summary = report.summary
    name = summary.achievement_name or name_of(badge.document.get("name")) or "Untitled badge"
    return {
        "name": clean(name) or "Untitled badge",
        "issuer_name": clean(summary.issuer_name or summary.issuer_id) or "Unknown issuer",
        "issued_on": maybe_time(summary.valid_from),
        "verdict": report.verdict.value,
        "report": report.to_dict(),
    }


def _run_verifier(session: Session, services: Services, original: bytes, now: datetime) -> Report:
    """``verify_credential``, which promises never to raise for bad input; where it breaks that
    promise (pyld errors on odd contexts or numbers escape it), the input is reported as one
    that could not be checked, so one odd badge cannot stop an import or ``recheck_stale``."""
    try:
        return trust.verify(session, services, original, now=now)
    except (ValueError, OverflowError, RecursionError) as exc:
        reason = f"Laurel's verifier could not process it ({type(exc).__name__}: {exc})"
        checks = (Check("input", Outcome.UNKNOWN, reason),)
        return Report(decide(checks), checks)


def _insert(session: Session, services: Services, row: ImportedCredential) -> ImportedCredential:
    """Insert, unless a concurrent import of the same badge won: then that row gets this
    verdict. The learner's row lock (SQLite: the write transaction) serialises the two."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT id FROM learner WHERE id = :id FOR UPDATE"), {"id": row.learner_id}
        )
    existing = _find(session, row.learner_id, row.credential_id, row.issuer_ref, row.original)
    if existing is not None:
        for name in ("verdict", "report", "checked_at"):
            setattr(existing, name, getattr(row, name))
        session.add(existing)
        return existing
    _check_room(session, services, row.learner_id, len(row.original))
    session.add(row)
    session.flush()
    return row


def _check_room(session: Session, services: Services, learner_id: int, size: int) -> None:
    """Refuse a new badge beyond what one wallet keeps (``LAUREL_WALLET_MAX_CREDENTIALS``,
    ``LAUREL_WALLET_MAX_BYTES``): anyone can make a wallet, and each badge may be 2 MB."""
    settings = services.settings
    count, used = session.exec(
        select(
            func.count(col(ImportedCredential.id)),
            func.coalesce(func.sum(func.length(ImportedCredential.original)), 0),
        ).where(ImportedCredential.learner_id == learner_id)
    ).one()
    if count >= settings.wallet_max_credentials:
        raise WalletFull(
            f"This wallet already keeps {count:,} badges from elsewhere, the most it can keep "
            f"({settings.wallet_max_credentials:,}); delete some to add others."
        )
    if used + size > settings.wallet_max_bytes:
        raise WalletFull(
            f"This wallet's badges from elsewhere take {used:,} bytes; with this one "
            f"({size:,} bytes) they would take more than the {settings.wallet_max_bytes:,} "
            "bytes it can keep. Delete some to add others."
        )


def _find(
    session: Session,
    learner_id: int,
    credential_id: str | None,
    issuer_ref: str,
    original: bytes,
) -> ImportedCredential | None:
    """The learner's stored copy of a credential: the same ``id`` of the same issuer (OB 3.0
    equality; another issuer's credential with that id is another credential), or without an
    id, the same bytes."""
    query = select(ImportedCredential).where(ImportedCredential.learner_id == learner_id)
    if credential_id is not None:
        query = query.where(
            ImportedCredential.credential_id == credential_id,
            ImportedCredential.issuer_ref == issuer_ref,
        )
    else:
        query = query.where(
            col(ImportedCredential.credential_id).is_(None), ImportedCredential.original == original
        )
    return session.exec(query.order_by(col(ImportedCredential.id))).first()


def _learner_emails(session: Session, services: Services, learner_id: int) -> list[str]:
    learner = session.get(Learner, learner_id)
    if learner is None or learner.deleted_at is not None:
        raise NotFound(f"there is no learner {learner_id}")
    rows = session.exec(select(LearnerEmail.email).where(LearnerEmail.learner_id == learner_id))
    return list(rows)


def _confirmed_emails(session: Session, learner_id: int) -> list[str]:
    """The learner's verified emails: whom a badge must name to be theirs (as the wallet's
    "not yours", ``issuer.wallet.badges.emails``)."""
    query = select(LearnerEmail.email).where(
        LearnerEmail.learner_id == learner_id, col(LearnerEmail.verified).is_(True)
    )
    return list(session.exec(query))


def _refuse_own(
    session: Session,
    services: Services,
    document: dict[str, Any],
    learner_id: int,
    emails: list[str],
) -> None:
    """Badges issued by this instance are not imported: they are in their recipient's wallet."""
    issuer = vcjwt.issuer_id(document)
    if issuer is None or not _is_own_issuer(session, services, issuer):
        return
    summary = summarize(document, "json")
    who = summary.issuer_name or issuer
    if _issued_to(session, services, document, learner_id, emails):
        raise Conflict(
            f"This badge was issued by {who} here on Laurel and is already in your wallet."
        )
    raise BadRequest(
        f"This badge was issued by {who} here on Laurel to someone else. Badges issued here "
        "appear in the wallet of the person they were issued to and cannot be imported."
    )


def _is_own_issuer(session: Session, services: Services, issuer: str) -> bool:
    settings = services.settings
    did_web = f"did:web:{settings.host}"
    if issuer == did_web or issuer.startswith(did_web + ":"):
        return True
    own_host = urlsplit(settings.base_url).netloc.lower()
    if issuer.startswith(("https://", "http://")) and urlsplit(issuer).netloc.lower() == own_host:
        return True
    return session.exec(select(Issuer.id).where(Issuer.did == issuer)).first() is not None


def _issued_to(
    session: Session,
    services: Services,
    document: dict[str, Any],
    learner_id: int,
    emails: list[str],
) -> bool:
    credential_id = document.get("id")
    if isinstance(credential_id, str):
        row = session.get(Credential, credential_id.removeprefix("urn:uuid:")[:36])
        if row is not None and row.learner_id == learner_id:
            return True
    return issued_to_any(document, emails)


# --- small helpers ----------------------------------------------------------------------------


def _base_weight(subject: dict[str, Any], achievement: dict[str, Any]) -> float:
    """``skills.base_weight`` on the fields it reads, with hours that are not a usable number
    (text, negative) counted as none and hours over what Laurel issues counted as that."""
    hours = subject.get("creditsEarned", achievement.get("creditsAvailable", 0))
    usable = isinstance(hours, int | float) and not isinstance(hours, bool) and hours >= 0
    hours = float(min(hours, MAX_HOURS)) if usable else 0.0  # NaN is not >= 0
    minimal = {
        "credentialSubject": {
            "creditsEarned": hours,
            "achievement": {"achievementType": achievement.get("achievementType")},
        }
    }
    return base_weight(minimal)
