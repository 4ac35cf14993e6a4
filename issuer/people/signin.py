"""Passwordless sign-in: one-time links by email, and browser sessions.

A link is a random token (only its SHA-256 is stored) that expires after 15 minutes and can be
used once: redeeming it is a single conditional UPDATE, so two clicks racing each other cannot
both win. Asking for links is rate-limited per email and per client address, in the database,
so the limits hold across processes; counting and inserting are serialised per email and per
address (PostgreSQL: advisory locks; SQLite: the write transaction), so requests arriving at the
same moment cannot all count the same links and all pass. Whether an email is known is never
revealed: every well-formed request sends a link (to an unknown email it opens an empty wallet).

Sessions are random tokens as well, stored hashed, with a CSRF token each; a staff session
(the console and the dashboard, ``issuer.people.staff``) is tied to a staff member and ends when
the member is removed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, delete, func, text, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import mail
from issuer.core.db import after_commit
from issuer.core.errors import BadRequest, TooManyRequests
from issuer.models import (
    Learner,
    LearnerEmail,
    SignInLink,
    StaffInvitation,
    StaffMember,
    WebSession,
)
from issuer.models.base import utcnow
from issuer.schemas import normalize_email

LINK_LIFETIME = timedelta(minutes=15)
LEARNER_SESSION = timedelta(days=14)
STAFF_SESSION = timedelta(hours=12)
RATE_WINDOW = timedelta(minutes=15)
LINKS_PER_EMAIL = 3
LINKS_PER_REQUESTER = 10
SIGN_IN, ADD_EMAIL, STAFF_SIGN_IN = "sign-in", "add-email", "staff-sign-in"
_PATHS = {
    SIGN_IN: "/wallet/login/",
    ADD_EMAIL: "/wallet/emails/confirm/",
    STAFF_SIGN_IN: "/console/login/",
}
UNUSABLE = "this link has expired or was already used; ask for a new one"
LIMIT_LOCKS = 7272  # the advisory-lock space of the rate limits (the audit chain's lock is 7271)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class InvalidLink(BadRequest):
    title = "Invalid link"


def request_link(
    session: Session,
    services: Services,
    email: str,
    requester: str,
    *,
    purpose: str = SIGN_IN,
    learner_id: int | None = None,
    language: str = "en",
    next_path: str | None = None,
) -> None:
    """Email a one-time link to ``email`` (a sign-in link, or one proving an added email). The
    email goes once the unit of work commits (a link that was not stored is never sent).
    ``next_path``: a path on this site the sign-in returns to (checked by the caller)."""
    try:
        email = normalize_email(email)
    except ValueError:
        raise BadRequest("that is not an email address") from None
    requester = requesting_network(requester)
    _lock_limits(session, f"email:{email}", f"requester:{digest(requester)}")
    now = utcnow()
    token = secrets.token_urlsafe(32)
    since = now - RATE_WINDOW
    by_email = session.exec(
        select(func.count()).where(SignInLink.email == email, SignInLink.created_at > since)
    ).one()
    by_requester = session.exec(
        select(func.count()).where(
            SignInLink.requester == digest(requester), SignInLink.created_at > since
        )
    ).one()
    if by_email >= LINKS_PER_EMAIL or by_requester >= LINKS_PER_REQUESTER:
        raise TooManyRequests("too many links were asked for; try again in 15 minutes")
    session.add(
        SignInLink(
            token_hash=digest(token),
            email=email,
            purpose=purpose,
            learner_id=learner_id,
            requester=digest(requester),
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    after_commit(session, lambda: _send(services, email, token, purpose, language, next_path))


def requesting_network(requester: str) -> str:
    """Whom the per-requester limit counts: an IPv6 client by its /64 (one subscriber's
    network: a host there has 2⁶⁴ addresses to choose from, audit round 9), anything else as
    it is."""
    try:
        address = ipaddress.ip_address(requester)
    except ValueError:
        return requester
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _lock_limits(session: Session, *names: str) -> None:
    """Hold, until the transaction ends, the lock of each rate limit ``names`` count against, so
    that one request's count and insert are not interleaved with another's. PostgreSQL: an
    advisory lock per name, taken in one order (two requests never wait for each other in a
    circle); SQLite: nothing to do, a write transaction (BEGIN IMMEDIATE) holds the database's
    one write lock already."""
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = {
        int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
        for name in names
    }
    for key in sorted(keys):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LIMIT_LOCKS, "key": key}
        )


_TEXTS = {
    ("en", SIGN_IN): (
        "Your Laurel sign-in link",
        "Open this link to sign in to your badge wallet:\n\n{link}\n\n"
        "It works once, for 15 minutes. If you did not ask for it, ignore this email.",
    ),
    ("ko", SIGN_IN): (
        "Laurel 로그인 링크",
        "배지 지갑에 로그인하려면 다음 링크를 여세요:\n\n{link}\n\n"
        "15분 동안 한 번만 쓸 수 있습니다. 요청하지 않았다면 이 메일을 무시하세요.",
    ),
    ("en", ADD_EMAIL): (
        "Confirm your email for your Laurel wallet",
        "Open this link, in the browser where you are signed in to your wallet, to add this "
        "email to it:\n\n{link}\n\nIt works once, for 15 minutes. If you did not ask for it, "
        "ignore this email.",
    ),
    ("ko", ADD_EMAIL): (
        "Laurel 지갑 이메일 확인",
        "지갑에 로그인한 브라우저에서 다음 링크를 열면 이 이메일이 지갑에 추가됩니다:\n\n{link}\n\n"
        "15분 동안 한 번만 쓸 수 있습니다. 요청하지 않았다면 이 메일을 무시하세요.",
    ),
    ("en", STAFF_SIGN_IN): (
        "Your Laurel console sign-in link",
        "Open this link to sign in to your institute's Laurel console:\n\n{link}\n\n"
        "It works once, for 15 minutes. If you did not ask for it, ignore this email.",
    ),
    ("ko", STAFF_SIGN_IN): (
        "Laurel 콘솔 로그인 링크",
        "기관의 Laurel 콘솔에 로그인하려면 다음 링크를 여세요:\n\n{link}\n\n"
        "15분 동안 한 번만 쓸 수 있습니다. 요청하지 않았다면 이 메일을 무시하세요.",
    ),
}


def _send(
    services: Services,
    email: str,
    token: str,
    purpose: str,
    language: str,
    next_path: str | None = None,
) -> None:
    path = _PATHS[purpose]
    subject, body = _TEXTS.get((language, purpose)) or _TEXTS[("en", purpose)]
    link = f"{services.settings.base_url}{path}{token}"
    if next_path:
        link += "?" + urlencode({"next": next_path})
    mail.send(services.settings, email, subject, body.format(link=link))


def _usable(token: str, purpose: str) -> Any:
    """The SQL condition: the link ``token`` exists for ``purpose``, unused and unexpired."""
    return and_(
        col(SignInLink.token_hash) == digest(token),
        col(SignInLink.purpose) == purpose,
        col(SignInLink.used_at).is_(None),
        col(SignInLink.expires_at) > utcnow(),
    )


def check_usable(session: Session, token: str, purpose: str) -> str:
    """``InvalidLink`` now, before the learner presses "Continue", if the link cannot work;
    else the email it was sent to (shown on the page: someone who was handed another person's
    link sees whose account it opens)."""
    found = session.exec(select(SignInLink.email).where(_usable(token, purpose))).first()
    if found is None:
        raise InvalidLink(UNUSABLE)
    return found


def redeem(session: Session, token: str, purpose: str) -> SignInLink:
    """Use a link: ``InvalidLink`` unless it exists, is unused, unexpired and for ``purpose``."""
    used = session.execute(
        update(SignInLink).where(_usable(token, purpose)).values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        raise InvalidLink(UNUSABLE)
    link = session.exec(select(SignInLink).where(SignInLink.token_hash == digest(token))).one()
    return link


def sign_in(session: Session, email: str) -> Learner:
    """The learner who owns ``email`` (now verified), created if the email is new."""
    from issuer.people.learners import resolve_learner

    learner = resolve_learner(session, email)
    session.execute(
        update(LearnerEmail).where(col(LearnerEmail.email) == email).values(verified=True)
    )
    return learner


@dataclass(frozen=True)
class Started:
    token: str
    csrf: str
    lifetime: timedelta


def start_session(
    session: Session,
    *,
    learner_id: int | None = None,
    staff_id: int | None = None,
    kind: str | None = None,
) -> Started:
    """A new session of a learner, or of a staff member (``kind``: ``staff``, or a pending
    staff kind, ``staff-mfa`` / ``staff-new``)."""
    kind = kind or ("learner" if learner_id is not None else "staff")
    lifetime = LEARNER_SESSION if kind == "learner" else STAFF_SESSION
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=digest(token),
            kind=kind,
            learner_id=learner_id,
            staff_id=staff_id,
            csrf=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return Started(token, csrf, lifetime)


def find_session(
    session: Session, token: str | None, kind: str | tuple[str, ...]
) -> WebSession | None:
    """The live session of ``kind`` (or of one of the kinds) with this token, if any."""
    kinds = (kind,) if isinstance(kind, str) else kind
    if not token or len(token) > 100:
        return None
    found = session.exec(
        select(WebSession).where(
            WebSession.token_hash == digest(token),
            col(WebSession.kind).in_(kinds),
            col(WebSession.expires_at) > utcnow(),
        )
    ).first()
    if found is None:
        return None
    if found.kind.startswith("staff"):
        member = session.get(StaffMember, found.staff_id) if found.staff_id else None
        if member is None or member.removed_at is not None:
            return None
    if found.kind == "learner":
        learner = session.get(Learner, found.learner_id)
        if learner is None or learner.deleted_at is not None:
            return None
    return found


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(col(WebSession.token_hash) == digest(token)))


def purge(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in links, sessions and staff invitations that expired more than
    ``older_than`` ago (the rate limit only looks back 15 minutes); returns how many rows went."""
    cutoff = utcnow() - older_than
    links = session.execute(delete(SignInLink).where(col(SignInLink.expires_at) < cutoff))
    sessions = session.execute(delete(WebSession).where(col(WebSession.expires_at) < cutoff))
    invitations = session.execute(
        delete(StaffInvitation).where(col(StaffInvitation.expires_at) < cutoff)
    )
    return int(links.rowcount + sessions.rowcount + invitations.rowcount)  # type: ignore[attr-defined]
