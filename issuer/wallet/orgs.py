"""A member sharing a credential from elsewhere with their organisation, with consent.

The learner picks a credential they hold in their wallet (imported there, or stored through the
OB 3.0 API's upsert, ``issuer.wallet.imports``) and an organisation whose roster they are on.
Sharing verifies the credential again with ``verifier.verify_credential`` (this instance's trust
policy, as imports do) and refuses — storing nothing — when it does not verify, when it was not
issued to the learner, or when its issuer is not one the organisation trusts. What is kept
(``SharedCredential``): the issuer's id, the achievement's name, ``creditsEarned`` as hours and
the validity period. Withdrawing sets ``withdrawn_at``: the credential counts no more.

The validity window kept (``valid_from`` / ``valid_until``) is the verifier's reading of it (its
report's summary: VCDM 1.1 ``issuanceDate`` / ``expirationDate``, a JWT's ``nbf`` / ``exp``), so a
credential stops counting when the verifier says it expired, whatever its data model.

``recheck`` verifies shared credentials again (``laurel orgs recheck``, or on demand): it sets
``revoked_at`` when the issuer's status list says revoked, takes the end date the verifier reads
now, and sets ``rejected_at`` when the credential no longer verifies for any other reason (its
proof, its issuer's key, ...). Both are final, as withdrawing is: sharing again (if it verifies)
starts over. A verdict the verifier could not reach (a host unreachable) changes nothing: the
next recheck decides. ``foresee_share`` and
``foresee_recheck`` ask other hosts first what they will, with no write transaction open
(``issuer.verification.remembered``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.effects import ORG_HOURS, PROGRAM_AWARDS, PROGRAM_RECHECK, emit
from issuer.core.errors import BadRequest, Forbidden, NotFound
from issuer.issuing.credentials import primary_emails
from issuer.models import (
    ImportedCredential,
    Issuer,
    LearnerEmail,
    Organisation,
    OrgMember,
    OrgTrust,
    SharedCredential,
)
from issuer.models.base import aware, maybe_time, utcnow
from issuer.orgs import members, organisation
from issuer.people.emails import known_emails
from issuer.verification import trust
from issuer.wallet.imports import (
    VERIFIED,
    foresee_recheck,
    issued_to_any,
    recheck_report,
    window_of,
)
from verifier import Outcome, Report
from verifier.proof import jwt as vcjwt

SOURCES = ("wallet", "obapi")


def share(
    session: Session,
    services: Services,
    learner_id: int,
    org_slug: str,
    imported: ImportedCredential,
    source: str,
    *,
    now: datetime | None = None,
) -> SharedCredential:
    """Share ``imported`` (the learner's) with organisation ``org_slug``."""
    now = aware(now) if now else utcnow()
    org = _member_org(session, learner_id, org_slug)
    if imported.learner_id != learner_id:
        raise NotFound("there is no such badge in your wallet")
    if imported.legacy:
        raise BadRequest("Open Badges 2.0 badges cannot be verified, so they cannot be shared")
    checked, report = recheck_report(session, services, imported, now=now)
    if checked.verdict != VERIFIED:
        reason = report.reason() if report is not None else checked.verdict
        raise BadRequest(f"the badge does not verify, so it was not shared: {reason}")
    document = checked.document
    emails = list(
        session.exec(select(LearnerEmail.email).where(LearnerEmail.learner_id == learner_id))
    )
    if not issued_to_any(document, emails):
        raise BadRequest("the badge was not issued to any of your email addresses")
    issuer_ref = vcjwt.issuer_id(document) or ""
    trusted = session.exec(
        select(OrgTrust).where(
            OrgTrust.org_id == org.id,
            OrgTrust.issuer_ref == issuer_ref,
            col(OrgTrust.issuer_id).is_(None),
        )
    ).first()
    if trusted is None:
        raise Forbidden(
            f"{org.name} does not recognise badges from {checked.issuer_name} ({issuer_ref}); "
            "ask its HR office to add the issuer to its trusted issuers"
        )
    return _store(session, org, learner_id, checked, issuer_ref, source, now)


def foresee_share(
    session: Session,
    services: Services,
    imported: ImportedCredential,
    *,
    now: datetime | None = None,
) -> None:
    """What ``share`` will ask other hosts (verifying ``imported`` again), asked first."""
    foresee_recheck(session, services, imported, now=now)


def _store(
    session: Session,
    org: Organisation,
    learner_id: int,
    imported: ImportedCredential,
    issuer_ref: str,
    source: str,
    now: datetime,
) -> SharedCredential:
    assert org.id is not None
    document = imported.document
    ref = credential_ref(imported)
    row = session.exec(
        select(SharedCredential).where(
            SharedCredential.org_id == org.id,
            SharedCredential.learner_id == learner_id,
            SharedCredential.credential_ref == ref,
        )
    ).first()
    subject = document.get("credentialSubject") or {}
    starts, ends = window_of(imported)  # the verifier's reading, which decided it verifies
    valid_from = starts or imported.issued_on or now
    values: dict[str, Any] = {
        "issuer_ref": issuer_ref[:600],
        "document": document,
        "jwt": imported.original.decode() if imported.media_type == "application/vc+jwt" else None,
        "source": source,
        "achievement_name": imported.name[:500],
        "hours": hours_of(subject),
        "valid_from": valid_from,
        "valid_until": ends,
        "verified_at": now,
        "revoked_at": None,
        "rejected_at": None,
        "rejected_reason": None,
        "withdrawn_at": None,
    }
    if row is None:
        row = SharedCredential(org_id=org.id, learner_id=learner_id, credential_ref=ref, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    session.flush()
    details = {"learner": learner_id, "credential": ref, "source": source}
    audit.append(session, f"learner:{learner_id}", "org.share", f"org:{org.slug}", details)
    home = session.get(Issuer, org.issuer_id)
    if home is not None:  # a shared badge may complete a programme of the home issuer
        emit(session, PROGRAM_AWARDS, {"issuer": home.slug, "learner": learner_id})
        # ... and the year's learning-hours rule (the annual badge, issuer.orgs.hours)
        emit(
            session,
            ORG_HOURS,
            {"issuer": home.id, "learner": learner_id, "years": [valid_from.year]},
        )
    return row


def withdraw(
    session: Session, learner_id: int, org_slug: str, ref: str, *, now: datetime | None = None
) -> SharedCredential:
    """Take back consent: the shared credential ``ref`` counts no more."""
    org = organisation(session, org_slug)
    row = session.exec(
        select(SharedCredential).where(
            SharedCredential.org_id == org.id,
            SharedCredential.learner_id == learner_id,
            SharedCredential.credential_ref == ref,
        )
    ).first()
    if row is None:
        raise NotFound(f"you have not shared {ref!r} with {org.name}")
    if row.withdrawn_at is None:
        row.withdrawn_at = aware(now) if now else utcnow()
        session.add(row)
        details = {"learner": learner_id, "credential": ref}
        audit.append(session, f"learner:{learner_id}", "org.withdraw", f"org:{org.slug}", details)
    return row


def shares_of(session: Session, learner_id: int) -> list[tuple[Organisation, SharedCredential]]:
    """The learner's shared credentials that are not withdrawn, with their organisations."""
    rows = session.exec(
        select(Organisation, SharedCredential)
        .join(SharedCredential, col(SharedCredential.org_id) == col(Organisation.id))
        .where(
            SharedCredential.learner_id == learner_id,
            col(SharedCredential.withdrawn_at).is_(None),
        )
    )
    return list(rows)


def organisations_of(session: Session, learner_id: int) -> list[Organisation]:
    """The organisations whose current roster lists the learner (whom they can share with)."""
    from issuer.models import OrgMember

    return list(
        session.exec(
            select(Organisation)
            .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
            .where(OrgMember.learner_id == learner_id, col(OrgMember.left_at).is_(None))
            .order_by(col(Organisation.name))
        )
    )


@dataclass
class Rechecked:
    """What a ``recheck`` newly found: credentials that stopped counting, by why. ``expired``:
    those the stored end date still counted and the verifier's reading of it now ends (a row
    stored before that reading was kept); one stored with its end date ends on its own."""

    revoked: int = 0
    expired: int = 0
    rejected: int = 0

    def __add__(self, other: Rechecked) -> Rechecked:
        return Rechecked(
            self.revoked + other.revoked,
            self.expired + other.expired,
            self.rejected + other.rejected,
        )


def recheck(
    session: Session, services: Services, org: Organisation, *, now: datetime | None = None
) -> Rechecked:
    """Verify the organisation's shared credentials again. Revoked ones get ``revoked_at``;
    each keeps the end date the verifier reads now (an expired one counts for its window only);
    one failing any other required check gets ``rejected_at``. Returns what newly stopped
    counting. A programme award of the home issuer that a revoked one helped earn is checked
    again (``programs.recheck``) when its issuer revoked it, not when it only suspended it."""
    now = aware(now) if now else utcnow()
    home = session.get(Issuer, org.issuer_id)
    found = Rechecked()
    for row in _counting(session, org):
        report = trust.verify(session, services, _original(row), now=now)
        counted = _counts_at(row, now)
        read = report.check("input")
        if read is not None and read.outcome is Outcome.PASSED:
            row.valid_until = maybe_time(report.summary.valid_until)
        failed = {c.name for c in report.checks if c.required and c.outcome is Outcome.FAILED}
        if _revoked(report):
            row.revoked_at = now
            found.revoked += 1
            if home is not None and not _suspended(report):
                payload = {"learner": row.learner_id, "shared": row.credential_ref}
                payload |= {"issuer": home.slug, "name": row.achievement_name}
                emit(session, PROGRAM_RECHECK, payload)
        elif failed - {"validity"} or (failed and _counts_at(row, now)):
            row.rejected_at, row.rejected_reason = now, report.reason()[:500]
            found.rejected += 1
        elif counted and not _counts_at(row, now):
            found.expired += 1
        session.add(row)
    return found


def _counts_at(row: SharedCredential, at: datetime) -> bool:
    """Within its validity window at ``at`` (``issuer.orgs.held`` reads the same)."""
    ends = aware(row.valid_until) if row.valid_until else None
    return aware(row.valid_from) <= at and (ends is None or ends > at)


def foresee_recheck_shared(
    session: Session, services: Services, org: Organisation, *, now: datetime | None = None
) -> None:
    """What ``recheck`` will ask other hosts, asked first."""
    now = aware(now) if now else utcnow()
    for row in _counting(session, org):
        trust.verify(session, services, _original(row), now=now)


def _counting(session: Session, org: Organisation) -> list[SharedCredential]:
    return list(
        session.exec(
            select(SharedCredential).where(
                SharedCredential.org_id == org.id,
                col(SharedCredential.withdrawn_at).is_(None),
                col(SharedCredential.revoked_at).is_(None),
                col(SharedCredential.rejected_at).is_(None),
            )
        )
    )


def _original(row: SharedCredential) -> bytes:
    return row.jwt.encode() if row.jwt else json.dumps(row.document).encode()


def _revoked(report: Report) -> bool:
    status = report.check("status")
    return status is not None and status.outcome is Outcome.FAILED


def _suspended(report: Report) -> bool:
    """Whether the failed status check was a suspension (``verifier.status`` says "suspended"
    for a set bit of a ``suspension`` list), which may be lifted, rather than a revocation."""
    status = report.check("status")
    return status is not None and "suspended" in status.reason


def _member_org(session: Session, learner_id: int, slug: str) -> Organisation:
    org = organisation(session, slug)
    if learner_id not in {m.learner_id for m in members(session, org)}:
        raise Forbidden(f"you are not on the roster of {org.name}, so you cannot share with it")
    return org


def credential_ref(imported: ImportedCredential) -> str:
    """The credential's ``id``, or a digest of what was imported when it has none."""
    if imported.credential_id:
        return imported.credential_id[:600]
    return "sha256:" + hashlib.sha256(imported.original).hexdigest()


def hours_of(subject: dict[str, Any]) -> float | None:
    value = subject.get("creditsEarned")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(min(value, 100_000))


def shown(
    row: SharedCredential, trusted: bool = True, now: datetime | None = None
) -> dict[str, Any]:
    now = aware(now) if now else utcnow()
    state = (
        "withdrawn"
        if row.withdrawn_at
        else "revoked"
        if row.revoked_at
        else "not-verified"
        if row.rejected_at
        else "expired"
        if row.valid_until and aware(row.valid_until) <= now
        else "counting"
    )
    if state == "counting" and not trusted:
        state = "untrusted"
    return {
        "credential": row.credential_ref,
        "issuerRef": row.issuer_ref,
        "achievement": row.achievement_name,
        "hours": row.hours,
        "validFrom": row.valid_from.isoformat(),
        "validUntil": row.valid_until.isoformat() if row.valid_until else None,
        "source": row.source,
        "state": state,
    }


def listing(
    session: Session, org: Organisation, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every credential shared with the organisation, with who shared it and where from."""
    trusted = dict(
        session.exec(
            select(OrgTrust.issuer_ref, OrgTrust.name).where(OrgTrust.org_id == org.id)
        ).all()
    )
    rows = list(
        session.exec(
            select(SharedCredential)
            .where(SharedCredential.org_id == org.id)
            .order_by(col(SharedCredential.id))
        )
    )
    emails = org_emails(session, org, (row.learner_id for row in rows))
    return [
        {
            "learner": emails.get(row.learner_id),
            "issuer": trusted.get(row.issuer_ref, row.issuer_ref),
            **shown(row, row.issuer_ref in trusted, now),
        }
        for row in rows
        if row.learner_id in emails
    ]


def org_emails(session: Session, org: Organisation, learner_ids: Iterable[int]) -> dict[int, str]:
    """The email the organisation knows each learner by: its roster's, else its home issuer's
    (``known_emails``), else — she shared with it herself — her primary email, never another
    address she joined to her wallet when it knows one. None for a deleted account."""
    found = primary_emails(session, learner_ids)
    wanted = set(found)
    found.update(known_emails(session, org.issuer_id, wanted))
    rostered = session.exec(
        select(OrgMember.learner_id, OrgMember.email).where(
            OrgMember.org_id == org.id, col(OrgMember.learner_id).in_(sorted(wanted))
        )
    )
    found.update((learner, email) for learner, email in rostered if email is not None)
    return found


def org_choices(
    session: Session, learner_id: int, imported: ImportedCredential
) -> list[tuple[Organisation, bool]]:
    """The organisations the learner could share ``imported`` with, each with whether it is
    shared with it now (the wallet's "Share with …" / "Withdraw" buttons)."""
    ref = credential_ref(imported)
    shared = {
        org_id
        for org_id in session.exec(
            select(SharedCredential.org_id).where(
                SharedCredential.learner_id == learner_id,
                SharedCredential.credential_ref == ref,
                col(SharedCredential.withdrawn_at).is_(None),
            )
        )
    }
    return [(org, org.id in shared) for org in organisations_of(session, learner_id)]
