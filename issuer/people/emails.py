"""The email an issuer knows a learner by: one of the addresses it used itself.

A learner may join several addresses into one wallet (``issuer.wallet.merging``), among them ones
only other issuers know; her primary address may be one of those. What an issuer or the
organisation it runs is shown of her — lists, reports, webhooks, LRS statements, exports — is the
address its own credentials were issued to (their salted ``emailAddress`` hash) or the one its
roster was uploaded with (``OrgMember.email``), never another (audit 11, D-F1). Mail Laurel sends
to the learner herself goes to her primary address, her choice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import Session, col, select

from issuer.models import Credential, LearnerEmail, Organisation, OrgMember


def issued_email(document: Mapping[str, Any], emails: Iterable[str]) -> str | None:
    """Which of ``emails`` a credential was issued to: the one its salted ``emailAddress``
    IdentityObject hashes to (``issuer.issuing.documents.build_credential``)."""
    subject = document.get("credentialSubject")
    found = subject.get("identifier") if isinstance(subject, dict) else None
    for item in found if isinstance(found, list) else []:
        if not (isinstance(item, dict) and item.get("identityType") == "emailAddress"):
            continue
        salt, hashed = str(item.get("salt") or ""), str(item.get("identityHash"))
        for email in emails:
            digest = hashlib.sha256((email + salt).encode("utf-8")).hexdigest()
            if hashed == f"sha256${digest}":
                return email
    return None


def known_addresses(
    session: Session, issuer_id: int, learner_ids: Iterable[int], *, first_only: bool = False
) -> dict[int, list[str]]:
    """Each learner's addresses that the issuer itself used: those the roster of the
    organisation it runs gives (``OrgMember.email``) and those its credentials were issued to,
    latest first. A learner may have joined addresses only other issuers know (a wallet merge);
    those are never among them. Only addresses still hers count, so none after she deleted
    her account. ``first_only``: the first address is enough, so learners the roster names are
    not looked for in the issuer's credentials (whose documents a report of a whole
    organisation would otherwise read)."""
    wanted = sorted(set(learner_ids))
    if not wanted:
        return {}
    hers: dict[int, list[str]] = {}
    for learner, email in session.exec(
        select(LearnerEmail.learner_id, LearnerEmail.email)
        .where(col(LearnerEmail.learner_id).in_(wanted))
        .order_by(col(LearnerEmail.id))
    ):
        hers.setdefault(learner, []).append(email)
    found: dict[int, list[str]] = {learner: [] for learner in hers}
    rostered = session.exec(
        select(OrgMember.learner_id, OrgMember.email)
        .join(Organisation, col(Organisation.id) == col(OrgMember.org_id))
        .where(Organisation.issuer_id == issuer_id, col(OrgMember.learner_id).in_(list(hers)))
    )
    for learner, given in rostered:
        if given in hers[learner] and given not in found[learner]:
            found[learner].append(given)
    unsettled = [learner for learner in hers if not (first_only and found[learner])]
    issued = session.exec(
        select(Credential.learner_id, Credential.document)
        .where(Credential.issuer_id == issuer_id, col(Credential.learner_id).in_(unsettled))
        .order_by(col(Credential.issued_at).desc())
    )
    for learner, document in issued:
        used = issued_email(document, hers[learner])
        if used is not None and used not in found[learner]:
            found[learner].append(used)
    return {learner: emails for learner, emails in found.items() if emails}


def known_emails(session: Session, issuer_id: int, learner_ids: Iterable[int]) -> dict[int, str]:
    """The email the issuer knows each learner by (``known_addresses``): the one every list,
    report, webhook and LRS statement for that issuer names; none for a learner it never
    addressed (or one who has deleted her account)."""
    return {
        learner: emails[0]
        for learner, emails in known_addresses(
            session, issuer_id, learner_ids, first_only=True
        ).items()
    }
