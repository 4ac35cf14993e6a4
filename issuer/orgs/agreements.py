"""The trusted issuer's side of an organisation's trust: an organisation run from another
issuer's account that trusts an issuer on this Laurel sees its badges (in hours, programmes,
skills clouds and plans) only once that issuer agrees. Until then the trust is pending; refusing
(or withdrawing an agreement) removes it, and the organisation must ask again.

Credentials members shared with the organisation need no agreement: the learner consented.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from issuer.core import audit
from issuer.core.errors import NotFound
from issuer.models import Issuer, Organisation, OrgTrust
from issuer.models.base import utcnow


def trusted_by(session: Session, issuer: Issuer) -> list[dict[str, Any]]:
    """The organisations that trust ``issuer``, agreed or waiting for its agreement."""
    rows = session.exec(_trusting(issuer).order_by(col(Organisation.slug)))
    return [_shown(trust, org, home) for trust, org, home in rows]


def _trusting(issuer: Issuer) -> Select[OrgTrust, Organisation, str]:
    """The trusts of ``issuer``, each with its organisation and the organisation's home slug."""
    return (
        select(OrgTrust, Organisation, Issuer.slug)
        .join(Organisation, col(Organisation.id) == col(OrgTrust.org_id))
        .join(Issuer, col(Issuer.id) == col(Organisation.issuer_id))
        .where(OrgTrust.issuer_id == issuer.id)
    )


def agree(session: Session, issuer: Issuer, org_slug: str, actor: str) -> dict[str, Any]:
    """``issuer`` agrees that organisation ``org_slug`` counts its badges; agreeing again
    changes nothing."""
    trust, org, home = _trust(session, issuer, org_slug)
    if trust.agreed_at is None:
        trust.agreed_at = utcnow()
        session.add(trust)
        session.flush()
        details = {"issuer": issuer.slug}
        audit.append(session, actor, "org.trust.agree", f"org:{org.slug}", details)
    return _shown(trust, org, home)


def refuse(session: Session, issuer: Issuer, org_slug: str, actor: str) -> None:
    """``issuer`` refuses a pending trust or withdraws its agreement: the trust is removed and
    its badges stop counting for the organisation at once."""
    trust, org, _ = _trust(session, issuer, org_slug)
    was_agreed = trust.agreed_at is not None
    session.delete(trust)
    session.flush()
    details = {"issuer": issuer.slug, "wasAgreed": was_agreed}
    audit.append(session, actor, "org.trust.refuse", f"org:{org.slug}", details)


def _trust(session: Session, issuer: Issuer, org_slug: str) -> tuple[OrgTrust, Organisation, str]:
    found = session.exec(_trusting(issuer).where(Organisation.slug == org_slug)).first()
    if found is None:
        raise NotFound(f"organisation {org_slug!r} does not trust {issuer.slug!r}")
    return found


def _shown(trust: OrgTrust, org: Organisation, home: str) -> dict[str, Any]:
    return {
        "organisation": org.slug,
        "name": org.name,
        "issuer": home,
        "agreed": trust.agreed_at is not None,
        "since": trust.created_at.isoformat(),
        "agreedAt": trust.agreed_at.isoformat() if trust.agreed_at else None,
    }
