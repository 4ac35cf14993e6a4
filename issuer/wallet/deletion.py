"""Deleting a wallet account ("Delete my account") and removing one imported badge.

``DELETED`` names every table with a foreign key to ``learner`` and what a deletion does to its
rows (a test compares it with the models' metadata, so a table added without a rule here fails
it). In short:

- **deleted**: emails, DIDs, issuer groups, imports, share links, the public profile, sessions,
  sign-in links, authorization codes no token names, connections to badge hosts and what was
  pushed there, the mail opt-out, and informal-learning claims not endorsed (submitted,
  returned, withdrawn);
- **withdrawn**: every credential shared with an organisation (``withdrawn_at``: it counts
  nowhere any more, as when she withdraws it herself); connected applications' tokens are
  revoked;
- **kept, without her own words**: an endorsed claim stays as the issuer's record of the badge
  it became (its dates, hours and the supervisor's decision) with what she wrote — what she
  learned, her evidence — blanked; a development plan stays as the organisation's jointly
  signed HR record (objectives, activities, signatures, the supervisor's review) with her
  career goal blanked;
- **kept**: the badges issued to her and their skill rows (the issuers' records of issuance)
  and her organisations' roster entries (HR's own data: HR takes her off the roster when she
  leaves), tied to the learner record, which keeps no name, DID or email.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, SQLModel, col, select

from issuer.core import audit
from issuer.core.errors import NotFound
from issuer.models import (
    DevelopmentPlan,
    ImportedCredential,
    InformalClaim,
    Learner,
    LearnerDid,
    LearnerEmail,
    LearnerGroup,
    MailOptOut,
    OAuthCode,
    OAuthToken,
    ObConnection,
    ObPush,
    Organisation,
    PublicProfile,
    SharedCredential,
    ShareLink,
    SignInLink,
    WebSession,
)
from issuer.models.base import utcnow
from issuer.wallet.badges import imported_credential
from issuer.wallet.orgs import credential_ref
from verifier.proof import jwt as vcjwt

GONE: tuple[type[SQLModel], ...] = (
    ShareLink,
    PublicProfile,
    WebSession,
    LearnerEmail,
    LearnerGroup,
    LearnerDid,
    ObPush,
    ObConnection,  # Laurel's tokens there are forgotten, not revoked at the host (that needs
    # the network, which an account deletion must not wait for)
    ImportedCredential,
    MailOptOut,
)
DELETED = {
    **{table.__tablename__: "deleted" for table in GONE},
    "sign_in_link": "deleted (hers, and those sent to her emails)",
    "oauth_token": "revoked",
    "oauth_code": "deleted unless a token names it (then pruned with the token)",
    "shared_credential": "withdrawn",
    "informal_claim": "deleted unless endorsed; an endorsed one keeps no text of hers",
    "development_plan": "kept by the organisation, her career goal blanked",
    "credential": "kept (the issuer's record)",
    "credential_skill": "kept (the issuer's record)",
    "org_member": "kept (the organisation's roster)",
}
"""Each table with a foreign key to ``learner``: what ``delete_account`` does to her rows."""

ENDORSED = "endorsed"


def delete_account(session: Session, learner_id: int) -> None:
    """Delete the learner's personal data and withdraw what she shared; keep the issuers'
    records of issuance and the organisations' own records (``DELETED``)."""
    learner = session.get(Learner, learner_id)
    if learner is None or learner.deleted_at is not None:
        raise NotFound("there is no such account")
    now = utcnow()
    addresses = list(
        session.exec(select(LearnerEmail.email).where(LearnerEmail.learner_id == learner_id))
    )
    session.execute(
        delete(SignInLink).where(
            col(SignInLink.email).in_(addresses) | (col(SignInLink.learner_id) == learner_id)
        )
    )
    withdrawn = _withdraw_shares(session, learner_id, now)
    claims = _forget_claims(session, learner_id)
    session.execute(
        update(DevelopmentPlan)
        .where(col(DevelopmentPlan.learner_id) == learner_id)
        .values(career_goal="")
    )
    for table in GONE:
        column = table.learner_id  # type: ignore[attr-defined]
        session.execute(delete(table).where(col(column) == learner_id))
    still_named = select(OAuthToken.code_id).where(col(OAuthToken.code_id).is_not(None))
    session.execute(  # as ``issuer.oauth.tokens`` prunes: a token's code goes with the token
        delete(OAuthCode).where(
            col(OAuthCode.learner_id) == learner_id, col(OAuthCode.id).not_in(still_named)
        )
    )
    session.execute(  # connected applications lose their access
        update(OAuthToken)
        .where(col(OAuthToken.learner_id) == learner_id, col(OAuthToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    learner.name = None
    learner.did = None
    learner.deleted_at = now
    session.add(learner)
    details = {"withdrawn": withdrawn, **claims} if withdrawn or any(claims.values()) else {}
    audit.append(session, "wallet", "learner.delete", f"learner:{learner_id}", details)


def _withdraw_shares(
    session: Session, learner_id: int, now: datetime, imported: ImportedCredential | None = None
) -> int:
    """Withdraw the learner's shares (of ``imported`` only, when given), each with its own
    ``org.withdraw`` audit entry as when she withdraws it herself; how many were."""
    query = select(SharedCredential, Organisation.slug).join(
        Organisation, col(Organisation.id) == col(SharedCredential.org_id)
    )
    query = query.where(
        SharedCredential.learner_id == learner_id, col(SharedCredential.withdrawn_at).is_(None)
    )
    if imported is not None:  # another issuer's credential with the same id is another badge
        document = imported.document if isinstance(imported.document, dict) else {}
        issuer_ref = (vcjwt.issuer_id(document) or "")[:600]
        query = query.where(
            SharedCredential.credential_ref == credential_ref(imported),
            SharedCredential.issuer_ref == issuer_ref,
        )
    rows = list(session.exec(query))
    for row, slug in rows:
        row.withdrawn_at = now
        session.add(row)
        details = {"learner": learner_id, "credential": row.credential_ref}
        audit.append(session, f"learner:{learner_id}", "org.withdraw", f"org:{slug}", details)
    return len(rows)


def _forget_claims(session: Session, learner_id: int) -> dict[str, int]:
    """Delete the claims not endorsed; blank her text on the endorsed ones."""
    mine = col(InformalClaim.learner_id) == learner_id
    deleted = session.execute(
        delete(InformalClaim).where(mine, col(InformalClaim.state) != ENDORSED)
    )
    blanked = session.execute(
        update(InformalClaim)
        .where(mine, col(InformalClaim.state) == ENDORSED)
        .values(learned="", evidence_url=None, evidence_text=None)
    )
    return {
        "claimsDeleted": deleted.rowcount,  # type: ignore[attr-defined]  # a CursorResult's
        "claimsBlanked": blanked.rowcount,  # type: ignore[attr-defined]
    }


def remove_import(session: Session, learner_id: int, ref: str) -> None:
    """Remove an imported badge from the wallet: its share links, its place on the public
    profile, and its shares with organisations (withdrawn: it counts there no more)."""
    row = imported_credential(session, learner_id, ref)
    session.execute(delete(ShareLink).where(col(ShareLink.imported_id) == row.id))
    profile = session.exec(
        select(PublicProfile).where(PublicProfile.learner_id == learner_id)
    ).first()
    if profile is not None and ref in profile.badges:
        profile.badges = [r for r in profile.badges if r != ref]
        session.add(profile)
    _withdraw_shares(session, learner_id, utcnow(), row)
    session.delete(row)
