"""A learner's account: their emails (add with proof, choose the primary, remove), merging two
learner records proven to be one person, downloading their data, exporting every badge, and
deleting the account.

Merging: when a signed-in learner proves an email that belongs to another learner record (a
badge was issued to it before, or an organisation's roster lists it), that record joins theirs —
every row that names it: credentials, skills, groups, emails, imports, links, profile, connected
applications, roster entries, shared credentials, claims and plans (``issuer.wallet.merging``) —
and is removed. Both emails are
then verified by the same person, which is what "the same person" can mean here.

Deleting (``issuer.wallet.deletion``): the learner's personal data goes (emails, name, imports,
share links, profile, sessions, sign-in links, claims not endorsed, her text on endorsed ones),
what she shared with organisations is withdrawn and connected applications lose their access;
the issuers' records of what they issued and the organisations' own records stay, tied to a
pseudonymous learner record that no email leads to any more.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.effects import PROGRAM_AWARDS, emit
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.models import (
    Credential,
    ImportedCredential,
    Issuer,
    Learner,
    LearnerDid,
    LearnerEmail,
    LearnerGroup,
    PublicProfile,
    SignInLink,
)
from issuer.models.base import utcnow
from issuer.people import signin
from issuer.schemas import normalize_email
from issuer.wallet.deletion import delete_account as delete_account  # public names here too
from issuer.wallet.deletion import remove_import as remove_import
from issuer.wallet.merging import merge as merge  # a public name of this module too


def emails(session: Session, learner_id: int) -> list[LearnerEmail]:
    rows = session.exec(
        select(LearnerEmail)
        .where(LearnerEmail.learner_id == learner_id)
        .order_by(col(LearnerEmail.is_primary).desc(), col(LearnerEmail.email))
    )
    return list(rows)


def request_email(
    session: Session,
    services: Services,
    learner_id: int,
    email: str,
    requester: str,
    language: str = "en",
) -> str:
    """Send a link proving ``email`` to it; the learner must open it while signed in."""
    try:
        email = normalize_email(email)
    except ValueError:
        raise BadRequest("that is not an email address") from None
    if any(e.email == email and e.verified for e in emails(session, learner_id)):
        raise BadRequest(f"{email} is already in your wallet")
    signin.request_link(
        session,
        services,
        email,
        requester,
        purpose=signin.ADD_EMAIL,
        learner_id=learner_id,
        language=language,
    )
    return email


def confirm_email(session: Session, learner_id: int, token: str) -> str:
    """Use an add-email link (it must have been asked for by this learner): the email joins the
    wallet, merging the learner record it belonged to, if any. Returns the email."""
    link = session.exec(
        select(SignInLink).where(SignInLink.token_hash == signin.digest(token))
    ).first()
    if link is not None and link.used_at is None and link.learner_id != learner_id:
        raise signin.InvalidLink(
            "open this link in the browser where you asked for it, signed in to that wallet"
        )
    used = signin.redeem(session, token, signin.ADD_EMAIL)
    merged = False
    owner = session.exec(select(LearnerEmail).where(LearnerEmail.email == used.email)).first()
    if owner is None:
        session.add(LearnerEmail(learner_id=learner_id, email=used.email, verified=True))
    elif owner.learner_id == learner_id:
        owner.verified = True
        session.add(owner)
    else:
        merge(session, into=learner_id, other=owner.learner_id)
        session.execute(
            update(LearnerEmail).where(col(LearnerEmail.email) == used.email).values(verified=True)
        )
        merged = True
    if merged:
        _award_programmes(session, learner_id)
    return used.email


def _award_programmes(session: Session, learner_id: int) -> None:
    """Badges of two records together may complete a programme neither completed alone: a
    ``programs.award`` effect per issuer, run after the merge commits."""
    slugs = session.exec(
        select(Issuer.slug)
        .join(Credential, col(Credential.issuer_id) == Issuer.id)
        .where(Credential.learner_id == learner_id)
        .distinct()
    ).all()
    for slug in sorted(slugs):
        emit(session, PROGRAM_AWARDS, {"issuer": slug, "learner": learner_id})


def set_primary(session: Session, learner_id: int, email: str) -> None:
    chosen = _own(session, learner_id, email)
    if not chosen.verified:
        raise BadRequest("only a verified email can be the primary one")
    session.execute(
        update(LearnerEmail)
        .where(col(LearnerEmail.learner_id) == learner_id)
        .values(is_primary=False)
    )
    chosen.is_primary = True
    session.add(chosen)


def remove_email(session: Session, learner_id: int, email: str) -> None:
    """Remove an email. Badges already issued to it stay in the wallet; new ones no longer
    arrive here. The primary email and the last verified one cannot be removed."""
    chosen = _own(session, learner_id, email)
    if chosen.is_primary:
        raise Conflict("choose another primary email before removing this one")
    others = [e for e in emails(session, learner_id) if e.verified and e.email != email]
    if not others:
        raise Conflict("this is the last verified email of your wallet")
    session.delete(chosen)


def _own(session: Session, learner_id: int, email: str) -> LearnerEmail:
    try:
        email = normalize_email(email)
    except ValueError:
        raise BadRequest("that is not an email address") from None
    found = session.exec(
        select(LearnerEmail).where(
            LearnerEmail.email == email, LearnerEmail.learner_id == learner_id
        )
    ).first()
    if found is None:
        raise NotFound(f"{email} is not in your wallet")
    return found


def personal_data(session: Session, services: Services, learner_id: int) -> dict[str, Any]:
    """Everything Laurel holds about the learner, as one JSON document."""
    from issuer.wallet import badges as wallet
    from issuer.wallet import sharing

    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFound("there is no such learner")
    public = session.exec(
        select(PublicProfile).where(PublicProfile.learner_id == learner_id)
    ).first()
    return {
        "exportedAt": utcnow().isoformat(),
        "learner": {
            "subjectId": learner.subject_id,
            "name": learner.name,
            "did": learner.did,
            "createdAt": learner.created_at.isoformat(),
        },
        "emails": [
            {"email": e.email, "verified": e.verified, "primary": e.is_primary}
            for e in emails(session, learner_id)
        ],
        "issuerDids": [  # the DIDs issuers named for the learner (issuer.people.dids)
            {"issuer": issuer_name, "did": did}
            for did, issuer_name in session.exec(
                select(LearnerDid.did, Issuer.name)
                .join(Issuer, col(Issuer.id) == LearnerDid.issuer_id)
                .where(LearnerDid.learner_id == learner_id)
            )
        ],
        "groups": [
            {"issuer": issuer_name, "group": name}
            for name, issuer_name in session.exec(
                select(LearnerGroup.name, Issuer.name)
                .join(Issuer, col(Issuer.id) == LearnerGroup.issuer_id)
                .where(LearnerGroup.learner_id == learner_id)
            )
        ],
        "badges": [
            {
                "ref": b.ref,
                "name": b.name,
                "issuer": b.issuer_name,
                "issuedOn": b.issued_on.isoformat() if b.issued_on else None,
                "status": b.status,
                "imported": b.imported,
            }
            for b in wallet.badges(session, learner_id)
        ],
        "shareLinks": sharing.listing(session, services, learner_id),
        "publicProfile": None
        if public is None
        else {
            "slug": public.slug,
            "displayName": public.display_name,
            "headline": public.headline,
            "published": public.published,
            "badges": public.badges,
        },
    }


def export_zip(session: Session, services: Services, learner_id: int) -> bytes:
    """A zip of every badge in its original form (issued ones as signed JSON, imported ones as
    they came), a signed CLR 2.0 transcript per issuer of this instance, and a README."""
    from issuer.issuing.clr import build_clr

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        learner = session.get(Learner, learner_id)
        if learner is None:
            raise NotFound("there is no such learner")
        issued = list(session.exec(select(Credential).where(Credential.learner_id == learner_id)))
        for row in issued:
            archive.writestr(
                f"issued/{row.id}.json", json.dumps(row.document, ensure_ascii=False, indent=2)
            )
        for imported in session.exec(
            select(ImportedCredential).where(ImportedCredential.learner_id == learner_id)
        ):
            name = f"imported/{imported.id}{_extension(imported.media_type)}"
            archive.writestr(name, imported.original)
        transcripts = []
        for issuer in {row.issuer_id: None for row in issued if row.revoked_at is None}:
            found = session.get(Issuer, issuer)
            assert found is not None
            clr = build_clr(session, services, found, learner, issued)
            archive.writestr(
                f"clr/{found.slug}.json", json.dumps(clr, ensure_ascii=False, indent=2)
            )
            transcripts.append(found.slug)
        archive.writestr("README.txt", _readme(len(issued), transcripts))
    return buffer.getvalue()


def _extension(media_type: str) -> str:
    return {
        "application/json": ".json",
        "application/ld+json": ".json",
        "application/vc+ld+json": ".json",
        "application/vc+jwt": ".jwt",
        "application/jwt": ".jwt",
        "text/plain": ".jwt",
        "image/png": ".png",
        "image/svg+xml": ".svg",
    }.get(media_type.split(";")[0].strip(), ".bin")


def _readme(issued: int, transcripts: list[str]) -> str:
    return (
        "Your badges, exported from Laurel on "
        f"{datetime.now(UTC).date().isoformat()}.\n\n"
        f"issued/    {issued} Open Badges 3.0 credentials issued to you here, signed JSON\n"
        "imported/  badges you imported, exactly as you gave them\n"
        f"clr/       {len(transcripts)} signed CLR 2.0 transcript(s), one per issuer\n\n"
        "Each file verifies on its own: `laurel verify FILE`, or any Open Badges 3.0 verifier.\n"
    )
