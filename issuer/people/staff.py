"""An issuer's named staff: invitations, sign-in by emailed link, the optional TOTP second factor.

Roles (``models.staff.ROLES``): an *owner* manages staff, API keys and settings; an *issuer*
creates achievements, issues and revokes; a *viewer* reads and runs reports. Each role includes
the rights of the ones below it.

An invitation is a single-use capability (256 random bits, only its SHA-256 stored) that expires
after ``INVITATION_LIFETIME``; accepting it is one conditional UPDATE, so two clicks cannot both
win. Only the newest invitation to an email works (a new one uses up the older pending ones), an
owner can cancel one, and removing a member cancels theirs.

Signing in uses the wallet's one-time links (``issuer.people.signin``, purpose
``staff-sign-in``, rate-limited the same way); a link is only mailed to an email that is on some
issuer's staff, and the answer is the same either way.

A staff member with TOTP enrolled gets a ``staff-mfa`` session from the link, which becomes a
``staff`` session only with a valid code; an owner without TOTP while ``LAUREL_STAFF_MFA=required``
gets a ``staff-new`` session that can only enrol.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit, mail
from issuer.core.db import after_commit
from issuer.core.errors import BadRequest, Conflict, NotFound, TooManyRequests
from issuer.core.settings import Settings
from issuer.institutes.issuers import get_issuer
from issuer.models import Issuer, StaffInvitation, StaffMember, WebSession
from issuer.models.base import utcnow
from issuer.models.staff import ROLES
from issuer.people import signin, totp
from issuer.people.signin import InvalidLink, Started, digest
from issuer.schemas import normalize_email

INVITATION_LIFETIME = timedelta(days=7)
STAFF, NEEDS_CODE, NEEDS_ENROLMENT = "staff", "staff-mfa", "staff-new"
STAFF_KINDS = (STAFF, NEEDS_CODE, NEEDS_ENROLMENT)
EXPIRED = "this invitation has expired or was already used; ask for a new one"


class WrongCode(BadRequest):
    title = "Wrong code"


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError:
        raise BadRequest("that is not an email address") from None


def _role(value: str) -> str:
    if value not in ROLES:
        raise BadRequest(f"the role is one of {', '.join(ROLES)}")
    return value


def invite(
    session: Session,
    services: Services,
    slug: str,
    email: str,
    role: str,
    invited_by: str,
    language: str = "en",
) -> str:
    """Invite ``email`` to issuer ``slug``'s staff as ``role``; the invitation is emailed once
    the unit of work commits. Returns the invitation link (shown to an operator at the CLI).
    It replaces the email's invitations still pending: the newest says what the owner wants
    (an older one for a higher role would otherwise still work)."""
    issuer = get_issuer(session, slug)
    assert issuer.id is not None
    email, role = _email(email), _role(role)
    _cancel_pending(session, issuer.id, email)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffInvitation(
            token_hash=digest(token),
            issuer_id=issuer.id,
            email=email,
            role=role,
            invited_by=invited_by[:400],
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
    )
    audit.append(session, invited_by, "staff.invite", email, {"issuer": slug, "role": role})
    link = f"{services.settings.base_url}/console/invitations/{token}"
    subject, body = _invitation_text(language, issuer.name, role, link)
    after_commit(session, lambda: mail.send(services.settings, email, subject, body))
    return link


def _invitation_text(language: str, issuer: str, role: str, link: str) -> tuple[str, str]:
    if language == "ko":
        return (
            f"{issuer}의 Laurel 콘솔 초대",
            f"{issuer}의 배지 콘솔에 {role} 역할로 초대되었습니다. 다음 링크를 열어 "
            f"수락하세요:\n\n{link}\n\n7일 동안 한 번만 쓸 수 있습니다.",
        )
    return (
        f"You are invited to {issuer}'s Laurel console",
        f"You are invited to join {issuer}'s badge console as {role}. Open this link to "
        f"accept:\n\n{link}\n\nIt works once, for 7 days. If you did not expect it, ignore "
        "this email.",
    )


def _usable(token: str) -> Any:
    return and_(
        col(StaffInvitation.token_hash) == digest(token),
        col(StaffInvitation.used_at).is_(None),
        col(StaffInvitation.expires_at) > utcnow(),
    )


def _cancel_pending(session: Session, issuer_id: int, email: str) -> None:
    """Use up every invitation to ``email`` on this issuer's staff that is not used yet."""
    session.execute(
        update(StaffInvitation)
        .where(
            col(StaffInvitation.issuer_id) == issuer_id,
            col(StaffInvitation.email) == email,
            col(StaffInvitation.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )


def pending_invitations(session: Session, issuer: Issuer) -> list[StaffInvitation]:
    """The issuer's invitations that can still be accepted, by email."""
    query = select(StaffInvitation).where(
        StaffInvitation.issuer_id == issuer.id,
        col(StaffInvitation.used_at).is_(None),
        col(StaffInvitation.expires_at) > utcnow(),
    )
    return list(session.exec(query.order_by(col(StaffInvitation.email))))


def cancel_invitation(
    session: Session, issuer: Issuer, invitation_id: int, actor: StaffMember
) -> None:
    """Cancel one of the issuer's pending invitations (404 for another issuer's, or one that
    was used, cancelled or has expired)."""
    cancelled = session.execute(
        update(StaffInvitation)
        .where(
            col(StaffInvitation.id) == invitation_id,
            col(StaffInvitation.issuer_id) == issuer.id,
            col(StaffInvitation.used_at).is_(None),
            col(StaffInvitation.expires_at) > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(col(StaffInvitation.email))
    ).first()
    if cancelled is None:
        raise NotFound("there is no such pending invitation")
    audit.append(session, f"staff:{actor.email}", "staff.invitation.cancel", cancelled[0])


def pending_invitation(session: Session, token: str) -> tuple[StaffInvitation, Issuer]:
    """The invitation, if it can still be accepted (``InvalidLink`` if not)."""
    found = session.exec(select(StaffInvitation).where(_usable(token))).first()
    issuer = session.get(Issuer, found.issuer_id) if found else None
    if found is None or issuer is None:
        raise InvalidLink(EXPIRED)
    return found, issuer


def accept(session: Session, token: str) -> StaffMember:
    """Use the invitation (once, atomically): its email joins the issuer's staff with its role
    (an existing member's role becomes the invited one)."""
    used = session.execute(update(StaffInvitation).where(_usable(token)).values(used_at=utcnow()))
    if used.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        raise InvalidLink(EXPIRED)
    invitation = session.exec(
        select(StaffInvitation).where(StaffInvitation.token_hash == digest(token))
    ).one()
    member = session.exec(
        select(StaffMember).where(
            StaffMember.issuer_id == invitation.issuer_id, StaffMember.email == invitation.email
        )
    ).first() or StaffMember(
        issuer_id=invitation.issuer_id, email=invitation.email, role=invitation.role
    )
    member.role, member.removed_at = invitation.role, None
    session.add(member)
    session.flush()
    audit.append(
        session, f"staff:{member.email}", "staff.join", member.email, {"role": member.role}
    )
    return member


def request_sign_in(
    session: Session, services: Services, email: str, requester: str, language: str = "en"
) -> None:
    """Email a sign-in link to ``email`` if it is on some issuer's staff (silently nothing if
    not: the page answers the same)."""
    email = _email(email)
    if _members(session, email):
        signin.request_link(
            session, services, email, requester, purpose=signin.STAFF_SIGN_IN, language=language
        )


def _members(session: Session, email: str) -> list[StaffMember]:
    query = select(StaffMember).where(
        StaffMember.email == email, col(StaffMember.removed_at).is_(None)
    )
    return list(session.exec(query.order_by(col(StaffMember.id))))


def sso_issuers(session: Session, settings: Settings) -> list[int] | None:
    """The issuers (ids) whose staff may sign in with the instance's identity provider: those
    ``LAUREL_OIDC_ISSUERS`` names or, when it is unset, the instance's only issuer. ``None``
    when it is unset and there are several: the one provider would otherwise sign in, by the
    email it vouches for, the staff of institutes that never chose it."""
    slugs = settings.oidc_issuer_slugs
    if slugs:
        named = session.exec(select(Issuer.id).where(col(Issuer.slug).in_(slugs)))
        return [found for found in named if found is not None]
    ids = [found for found in session.exec(select(Issuer.id).limit(2)) if found is not None]
    return ids if len(ids) < 2 else None


def member_by_email(session: Session, email: str, issuer_ids: list[int]) -> StaffMember | None:
    """The staff member an identity provider's verified ``email`` signs in (the first
    membership among ``issuer_ids``, as a link signs in the first), or ``None``: single sign-on
    never creates staff."""
    members = [found for found in _members(session, email) if found.issuer_id in issuer_ids]
    return members[0] if members else None


def redeem_sign_in(session: Session, token: str) -> StaffMember:
    """Use a staff sign-in link: the member it signs in (the first membership, for an email on
    several issuers' staff)."""
    link = signin.redeem(session, token, signin.STAFF_SIGN_IN)
    members = _members(session, link.email)
    if not members:
        raise InvalidLink(signin.UNUSABLE)
    return members[0]


def start(session: Session, settings: Settings, member: StaffMember) -> tuple[Started, str]:
    """A session for ``member`` who just proved their email, and its kind: complete, or
    waiting for the second factor (or for its enrolment, when owners must have one)."""
    if member.totp_enabled_at is not None:
        kind = NEEDS_CODE
    elif member.role == "owner" and settings.staff_mfa == "required":
        kind = NEEDS_ENROLMENT
    else:
        kind = STAFF
    return signin.start_session(session, staff_id=member.id, kind=kind), kind


def find(session: Session, token: str | None) -> tuple[WebSession, StaffMember] | None:
    """The live staff session with this token (of any staff kind) and its member."""
    web = signin.find_session(session, token, STAFF_KINDS)
    member = session.get(StaffMember, web.staff_id) if web and web.staff_id else None
    return None if web is None or member is None else (web, member)


def _complete(session: Session, web: WebSession) -> signin.Started:
    """The waiting session ends and a complete one starts, under a new token: a token known
    before the second factor (planted in the browser, say) is worth nothing after it."""
    session.delete(web)
    return signin.start_session(session, staff_id=web.staff_id, kind=STAFF)


MAX_CODE_FAILURES = 5
"""Wrong codes in a row, across sign-ins, before a member's codes are locked (``CODE_LOCK``):
three codes are right at any moment, so unlimited guesses find one in hours."""
CODE_LOCK = timedelta(minutes=15)


class CodesLocked(TooManyRequests):
    title = "Too many wrong codes"


class SignInEnded(BadRequest):
    """The waiting sign-in ended while this code waited its turn (another request completed it,
    or locked the codes)."""

    title = "Sign-in ended"


def _hold(session: Session, member: StaffMember) -> StaffMember:
    """``member`` read again under a lock on their row, held until the unit of work commits
    (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite's write transaction holds the whole database
    already). The route's dependency read the row without one: under READ COMMITTED, concurrent
    codes would each be judged against that same old row, so dozens were judged where five may
    be, and one code completed several sign-ins. Judged one after another, each sees what the
    one before it wrote."""
    statement = select(StaffMember).where(StaffMember.id == member.id).with_for_update()
    return session.exec(statement.execution_options(populate_existing=True)).one()


def check_code(session: Session, web: WebSession, member: StaffMember, code: str) -> signin.Started:
    """The second factor: ``WrongCode`` unless ``code`` is the member's current TOTP code (not
    used before); then the session is complete (a new one: its token to set). The
    ``MAX_CODE_FAILURES``-th wrong code in a row ends this sign-in and locks the member's codes
    for ``CODE_LOCK`` (``CodesLocked``, audited); a right code starts the count again. Codes for
    one member are judged one at a time (``_hold``); one that waited its turn while another
    request ended this sign-in is not looked at (``SignInEnded``)."""
    member = _hold(session, member)
    if member.totp_secret is None or member.totp_enabled_at is None:
        raise BadRequest("no second factor is set up for this account")
    now = utcnow()
    if member.totp_locked_until is not None and member.totp_locked_until > now:
        raise CodesLocked(_locked(member.totp_locked_until))
    if session.exec(select(WebSession.id).where(WebSession.id == web.id)).first() is None:
        raise SignInEnded("this sign-in has ended; ask for a new sign-in link")
    step = totp.matching_step(member.totp_secret, code, now, member.totp_last_step)
    if step is None:
        member.totp_failures += 1
        session.add(member)
        if member.totp_failures < MAX_CODE_FAILURES:
            raise WrongCode("that code is not right; enter the current one from your app")
        member.totp_failures, member.totp_locked_until = 0, now + CODE_LOCK
        session.delete(web)
        details = {"until": member.totp_locked_until.isoformat()}
        audit.append(session, f"staff:{member.email}", "staff.totp.locked", member.email, details)
        raise CodesLocked(f"{_locked(member.totp_locked_until)}; this sign-in has ended")
    member.totp_last_step, member.totp_failures = step, 0
    session.add(member)
    return _complete(session, web)


def _locked(until: datetime) -> str:
    return (
        f"{MAX_CODE_FAILURES} wrong codes in a row: no code is accepted until "
        f"{until.strftime('%H:%M')} UTC"
    )


def enrolment_secret(session: Session, member: StaffMember) -> str:
    """The secret being enrolled (made on first call, kept until confirmed; read under the
    member's row lock, ``_hold``, so two pages or confirmations at once agree on it)."""
    return _secret_to_enrol(session, _hold(session, member))


def _secret_to_enrol(session: Session, member: StaffMember) -> str:
    if member.totp_enabled_at is not None:
        raise Conflict("a second factor is already set up")
    if member.totp_secret is None:
        member.totp_secret = totp.new_secret()
        session.add(member)
    return member.totp_secret


def confirm_enrolment(
    session: Session, web: WebSession, member: StaffMember, code: str
) -> signin.Started:
    """Turn TOTP on once the member shows a code from their app; this session is complete (a
    new one: its token to set), and the member's other sessions, begun without the second
    factor, end. A second confirmation at once waits for the first, then finds TOTP on
    (``Conflict``)."""
    member = _hold(session, member)
    secret = _secret_to_enrol(session, member)
    step = totp.matching_step(secret, code, utcnow(), None)
    if step is None:
        raise WrongCode("that code is not right; check the app's clock and try again")
    member.totp_enabled_at, member.totp_last_step = utcnow(), step
    session.add(member)
    audit.append(session, f"staff:{member.email}", "staff.totp.enable", member.email)
    session.execute(
        delete(WebSession).where(
            col(WebSession.staff_id) == member.id, col(WebSession.id) != web.id
        )
    )
    return _complete(session, web)


def members(session: Session, issuer: Issuer) -> list[StaffMember]:
    query = select(StaffMember).where(
        StaffMember.issuer_id == issuer.id, col(StaffMember.removed_at).is_(None)
    )
    return list(session.exec(query.order_by(col(StaffMember.email))))


def remove(session: Session, issuer: Issuer, member_id: int, actor: StaffMember) -> None:
    """Take a member off the staff (their sessions end, their pending invitations are
    cancelled: accepting one would bring them back); an owner cannot remove themselves."""
    member = session.get(StaffMember, member_id)
    if member is None or member.issuer_id != issuer.id or member.removed_at is not None:
        raise NotFound("there is no such staff member")
    if member.id == actor.id:
        raise BadRequest("you cannot remove yourself; ask another owner")
    member.removed_at = utcnow()
    session.add(member)
    _cancel_pending(session, member.issuer_id, member.email)
    audit.append(session, f"staff:{actor.email}", "staff.remove", member.email)
