"""Informal learning: a member of an organisation claims an activity (a study group, mentoring,
coaching, job rotation, shadowing, a project: ``rules.INFORMAL_CATEGORIES``), the supervisor
named for their department endorses or returns it, and an endorsed claim becomes a badge.

- **Who endorses**: the ``supervisor_email`` of the member's unit, else of the nearest unit above
  it that names one (a unit whose supervisor is the claimant is skipped: nobody endorses their
  own learning). A member with none is refused, and so is someone not on the roster.
- **States**: ``submitted`` → ``endorsed`` or ``returned`` (by the supervisor); ``returned`` →
  ``submitted`` (edited and sent again by the learner); ``submitted`` or ``returned`` →
  ``withdrawn`` (by the learner). Every move is one conditional UPDATE on the expected state, so
  two decisions racing each other cannot both win (the loser gets ``Conflict``).
- **The badge**: the home issuer's ``informal-<category>`` achievement (loaded from the catalogue
  when the issuer does not have it yet), issued through the normal issuance path (status list,
  emails, webhooks, skills, programmes). Its ``creditsEarned`` are the endorsed hours within the
  category's yearly cap (``Rules.informal_caps``, by the year the activity ended, less the hours
  the learner's endorsed claims of that category already count); both figures and the cap stay on
  the claim. ``validFrom`` is the day the activity ended: the date the hours count for.
- **The endorsement**: an OB 3.0 ``EndorsementCredential`` whose subject is the badge
  (``credentialSubject.id`` = the credential's id) with the supervisor's comment, embedded in the
  badge's ``endorsement``. Laurel holds no key of the supervisor's, so it is signed with the home
  issuer's key, and its issuer Profile is the organisation's with the supervisor as its
  ``official`` (docs/skills.md, "Informal learning").
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from issuer.artifacts.links import http_url
from issuer.catalogue import shared as shared_catalogue
from issuer.catalogue import to_ob_achievement
from issuer.context import Services
from issuer.core import audit, mail
from issuer.core.db import after_commit
from issuer.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MailNotSent,
    NotFound,
    TooManyRequests,
)
from issuer.institutes.issuers import profile
from issuer.issuing import issuance
from issuer.issuing.credentials import primary_emails
from issuer.issuing.documents import OB_CONTEXTS, check_conforms
from issuer.issuing.templates import issuer_language
from issuer.issuing.text import clean_text
from issuer.models import (
    Achievement,
    InformalClaim,
    Issuer,
    Learner,
    LearnerEmail,
    Organisation,
    OrgMember,
    OrgUnit,
)
from issuer.models.base import iso, utcnow
from issuer.orgs.rules import INFORMAL_CATEGORIES, load
from issuer.people.emails import known_emails
from issuer.schemas import MULTI_LINE, ONE_LINE, IssueRequest
from verifier.checks import types_of
from verifier.schema import SchemaViolation, validate

log = logging.getLogger("laurel.informal")
STATES = ("submitted", "returned", "endorsed", "withdrawn")
MAX_HOURS = 1000.0
MAX_TITLE, MAX_EVIDENCE, MAX_LEARNED, MAX_COMMENT = 200, 2000, 4000, 2000
MAX_WAITING = 20
"""Claims of one learner waiting for a decision in one organisation."""
MAX_A_DAY = 30
"""Claims one learner sent in the last 24 hours, to every organisation (one sent again counts
once): each one emails a supervisor."""


def achievement_key(category: str) -> str:
    """The catalogue key of a category's badge (tagged ``informal:<category>``)."""
    return "informal-" + category.replace("_", "-")


@dataclass(frozen=True)
class ClaimIn:
    """What a learner claims (checked by ``checked``)."""

    category: str
    title: str
    started_on: date
    ended_on: date
    hours: float
    learned: str
    evidence_url: str | None = None
    evidence_text: str | None = None


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_MULTI_LINE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def checked(claim: ClaimIn, today: date | None = None) -> ClaimIn:
    """``claim`` with its text trimmed; ``BadRequest`` naming what is wrong."""
    today = today or datetime.now(UTC).date()
    title, learned = claim.title.strip(), claim.learned.strip()
    url = (claim.evidence_url or "").strip() or None
    text = (claim.evidence_text or "").strip() or None
    if claim.category not in INFORMAL_CATEGORIES:
        raise BadRequest(f"the kind of learning is one of {', '.join(INFORMAL_CATEGORIES)}")
    if not title or len(title) > MAX_TITLE:
        raise BadRequest(f"give the activity a title (at most {MAX_TITLE} characters)")
    if not re.match(ONE_LINE, title):
        raise BadRequest("the title is one line, without control characters")
    for what, value in (("what you learned", learned), ("the evidence", text or "")):
        if not re.match(MULTI_LINE, value):
            raise BadRequest(f"{what} has no control characters but tabs and line breaks")
    if claim.ended_on < claim.started_on:
        raise BadRequest("the activity cannot end before it started")
    if claim.ended_on > today:
        raise BadRequest("claim an activity once it has ended (its end date is in the future)")
    hours = round(claim.hours, 2)
    if not 0 < hours <= MAX_HOURS:
        raise BadRequest(f"hours are more than 0 and at most {MAX_HOURS:g}")
    if not learned or len(learned) > MAX_LEARNED:
        raise BadRequest(f"say what you learned (at most {MAX_LEARNED} characters)")
    if url is not None and http_url(url) is None:
        raise BadRequest("the evidence link must be an http(s) URL")
    if text is not None and len(text) > MAX_EVIDENCE:
        raise BadRequest(f"the evidence is at most {MAX_EVIDENCE} characters")
    if url is None and text is None:
        raise BadRequest("give evidence: a link, a description, or both")
    return ClaimIn(
        claim.category, title, claim.started_on, claim.ended_on, hours, learned, url, text
    )


# --- who -----------------------------------------------------------------------------------


def emails_of(session: Session, learner_id: int) -> list[str]:
    """The learner's verified emails (a supervisor is whoever proved the unit's email)."""
    return list(
        session.exec(
            select(LearnerEmail.email).where(
                LearnerEmail.learner_id == learner_id, col(LearnerEmail.verified).is_(True)
            )
        )
    )


def memberships(session: Session, learner_id: int) -> list[tuple[Organisation, OrgMember]]:
    """The organisations whose current roster has the learner."""
    rows = session.exec(
        select(Organisation, OrgMember)
        .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
        .where(OrgMember.learner_id == learner_id, col(OrgMember.left_at).is_(None))
        .order_by(col(Organisation.name))
    )
    return [(org, member) for org, member in rows]


def _member(session: Session, org: Organisation, learner_id: int) -> OrgMember:
    found = session.exec(
        select(OrgMember).where(
            OrgMember.org_id == org.id,
            OrgMember.learner_id == learner_id,
            col(OrgMember.left_at).is_(None),
        )
    ).first()
    if found is None:
        raise Forbidden(f"you are not on the roster of {org.name}")
    return found


def supervisor_for(session: Session, member: OrgMember, skip: Sequence[str] = ()) -> str | None:
    """The supervisor email of the member's unit, else of the nearest unit above that names one
    (other than those in ``skip``: the claimant's own emails)."""
    unit_id, seen = member.unit_id, set[int]()
    while unit_id is not None and unit_id not in seen:
        seen.add(unit_id)
        unit = session.get(OrgUnit, unit_id)
        if unit is None or unit.org_id != member.org_id:
            return None
        email = (unit.supervisor_email or "").strip().lower()
        if email and email not in skip:
            return email
        unit_id = unit.parent_id
    return None


# --- the learner ---------------------------------------------------------------------------


def _organisation(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("there is no such organisation")
    return org


def submit(
    session: Session, services: Services, learner_id: int, org_id: int, claim: ClaimIn
) -> InformalClaim:
    """A new claim to the supervisor of the learner's department, who is emailed."""
    org = _organisation(session, org_id)
    member = _member(session, org, learner_id)
    claim = checked(claim)
    _within_limits(session, org, learner_id)
    supervisor = _supervisor(session, member, learner_id)
    row = InformalClaim(
        org_id=org_id,
        learner_id=learner_id,
        unit_id=member.unit_id,
        supervisor_email=supervisor,
        **_fields(claim),
    )
    session.add(row)
    session.flush()
    _tell_supervisor(session, services, org, row)
    return row


def _within_limits(session: Session, org: Organisation, learner_id: int) -> None:
    """Refuse a claim past ``MAX_WAITING`` waiting in ``org`` or ``MAX_A_DAY`` sent today (a
    member could otherwise flood a supervisor's mailbox and queue)."""
    mine = col(InformalClaim.learner_id) == learner_id
    waiting = select(func.count()).where(
        mine, col(InformalClaim.org_id) == org.id, col(InformalClaim.state) == "submitted"
    )
    if session.exec(waiting).one() >= MAX_WAITING:
        raise Conflict(
            f"you have {MAX_WAITING} claims waiting for a decision in {org.name}: wait for "
            "your supervisor to decide some, or withdraw one"
        )
    since = utcnow() - timedelta(days=1)
    today = select(func.count()).where(mine, col(InformalClaim.submitted_at) >= since)
    if session.exec(today).one() >= MAX_A_DAY:
        raise TooManyRequests(
            f"you sent {MAX_A_DAY} claims in the last 24 hours; send more tomorrow"
        )


def _supervisor(session: Session, member: OrgMember, learner_id: int) -> str:
    found = supervisor_for(session, member, skip=emails_of(session, learner_id))
    if found is None:
        raise BadRequest(
            "no supervisor is named for your department or the departments above it, so nobody "
            "can endorse the claim; ask your HR office to name one"
        )
    return found


def _fields(claim: ClaimIn) -> dict[str, Any]:
    return {
        "category": claim.category,
        "title": claim.title,
        "started_on": claim.started_on,
        "ended_on": claim.ended_on,
        "hours": claim.hours,
        "learned": claim.learned,
        "evidence_url": claim.evidence_url,
        "evidence_text": claim.evidence_text,
    }


def mine(session: Session, learner_id: int) -> list[InformalClaim]:
    return list(
        session.exec(
            select(InformalClaim)
            .where(InformalClaim.learner_id == learner_id)
            .order_by(col(InformalClaim.id).desc())
        )
    )


def own_claim(session: Session, learner_id: int, claim_id: int) -> InformalClaim:
    found = session.get(InformalClaim, claim_id)
    if found is None or found.learner_id != learner_id:
        raise NotFound("there is no such claim of yours")
    return found


def _move(session: Session, claim_id: int, states: Sequence[str], **values: Any) -> None:
    """Move the claim out of one of ``states`` (one conditional UPDATE); ``Conflict`` when it is
    no longer in any of them."""
    moved = session.execute(
        update(InformalClaim)
        .where(col(InformalClaim.id) == claim_id, col(InformalClaim.state).in_(list(states)))
        .values(**values)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        raise Conflict("this claim was already decided or withdrawn; reload to see it")


def _fresh(session: Session, claim_id: int) -> InformalClaim:
    found = session.exec(
        select(InformalClaim)
        .where(InformalClaim.id == claim_id)
        .execution_options(populate_existing=True)
    ).one()
    return found


def resubmit(
    session: Session, services: Services, learner_id: int, claim_id: int, claim: ClaimIn
) -> InformalClaim:
    """A returned claim, edited and sent again (to the department's supervisor now)."""
    row = own_claim(session, learner_id, claim_id)
    org = _organisation(session, row.org_id)
    member = _member(session, org, learner_id)
    claim = checked(claim)
    _within_limits(session, org, learner_id)
    supervisor = _supervisor(session, member, learner_id)
    _move(
        session,
        claim_id,
        ("returned",),
        state="submitted",
        unit_id=member.unit_id,
        supervisor_email=supervisor,
        submitted_at=utcnow(),
        decided_at=None,
        **_fields(claim),
    )
    row = _fresh(session, claim_id)
    _tell_supervisor(session, services, org, row)
    return row


def withdraw(session: Session, learner_id: int, claim_id: int) -> InformalClaim:
    own_claim(session, learner_id, claim_id)
    _move(session, claim_id, ("submitted", "returned"), state="withdrawn", decided_at=utcnow())
    return _fresh(session, claim_id)


# --- the supervisor ------------------------------------------------------------------------


def awaiting(session: Session, learner_id: int) -> list[InformalClaim]:
    """Claims waiting for the signed-in person's decision (by their verified emails)."""
    emails = emails_of(session, learner_id)
    if not emails:
        return []
    return list(
        session.exec(
            select(InformalClaim)
            .join(Learner, col(Learner.id) == col(InformalClaim.learner_id))
            .where(
                col(InformalClaim.supervisor_email).in_(emails),
                InformalClaim.state == "submitted",
                InformalClaim.learner_id != learner_id,
                col(Learner.deleted_at).is_(None),  # see ``_to_decide``
            )
            .order_by(col(InformalClaim.submitted_at))
        )
    )


def decided(session: Session, learner_id: int, limit: int = 20) -> list[InformalClaim]:
    """The claims the person decided most recently."""
    emails = emails_of(session, learner_id)
    if not emails:
        return []
    return list(
        session.exec(
            select(InformalClaim)
            .where(
                col(InformalClaim.supervisor_email).in_(emails),
                col(InformalClaim.state).in_(["endorsed", "returned"]),
            )
            .order_by(col(InformalClaim.decided_at).desc())
            .limit(limit)
        )
    )


def _to_decide(session: Session, supervisor_id: int, claim_id: int) -> InformalClaim:
    found = session.get(InformalClaim, claim_id)
    if (
        found is None
        or found.supervisor_email not in emails_of(session, supervisor_id)
        or found.learner_id == supervisor_id
    ):
        raise NotFound("there is no such claim waiting for you")
    learner = session.get(Learner, found.learner_id)
    # a deletion now takes the claims not endorsed with it; one made before it did may remain
    if learner is None or learner.deleted_at is not None:
        raise Conflict("the person who made this claim deleted their account; it cannot be decided")
    return found


def return_claim(
    session: Session, services: Services, supervisor_id: int, claim_id: int, comment: str
) -> InformalClaim:
    """Send the claim back to the learner with ``comment`` (required: what to change)."""
    _to_decide(session, supervisor_id, claim_id)
    comment = comment.strip()
    if not comment or len(comment) > MAX_COMMENT:
        raise BadRequest(f"say why the claim is returned (at most {MAX_COMMENT} characters)")
    _move(
        session,
        claim_id,
        ("submitted",),
        state="returned",
        supervisor_comment=comment,
        decided_at=utcnow(),
    )
    row = _fresh(session, claim_id)
    org = _organisation(session, row.org_id)
    audit.append(session, f"learner:{supervisor_id}", "informal.return", _ref(org, row), {})
    _tell_learner(session, services, org, row)
    return row


def endorse(
    session: Session,
    services: Services,
    supervisor_id: int,
    claim_id: int,
    comment: str = "",
    hours: float | None = None,
) -> InformalClaim:
    """Endorse the claim (for ``hours``, at most those claimed; default all of them): issue its
    badge, within the category's yearly cap, with the supervisor's EndorsementCredential."""
    claim = _to_decide(session, supervisor_id, claim_id)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise BadRequest(f"the comment is at most {MAX_COMMENT} characters")
    endorsed = claim.hours if hours is None else round(hours, 2)
    if not 0 < endorsed <= claim.hours:
        raise BadRequest(f"endorse more than 0 and at most the {claim.hours:g} hours claimed")
    _move(
        session,
        claim_id,
        ("submitted",),
        state="endorsed",
        supervisor_comment=comment or None,
        hours_endorsed=endorsed,
        decided_at=utcnow(),
    )
    claim = _fresh(session, claim_id)
    org = _organisation(session, claim.org_id)
    # one learner's endorsements are counted against the cap one at a time
    session.exec(
        select(OrgMember)
        .where(OrgMember.org_id == org.id, OrgMember.learner_id == claim.learner_id)
        .with_for_update()
    ).first()
    cap = load(org.rules).informal_caps.get(claim.category, 0.0)  # none: counts nothing
    counted = max(0.0, min(endorsed, cap - _used(session, claim)))
    issuer = session.get(Issuer, org.issuer_id)
    assert issuer is not None and claim.id is not None
    official = _official(session, org, supervisor_id, claim.supervisor_email)
    credential_id, endorsement = _issue(
        session, services, issuer, org, claim, round(counted, 2), official, comment
    )
    session.execute(
        update(InformalClaim)
        .where(col(InformalClaim.id) == claim.id)
        .values(
            hours_counted=round(counted, 2),
            cap_hours=cap,
            credential_id=credential_id,
            endorsement=endorsement,
        )
    )
    claim = _fresh(session, claim.id)
    audit.append(
        session,
        f"learner:{supervisor_id}",
        "informal.endorse",
        _ref(org, claim),
        {"credential": f"urn:uuid:{credential_id}", "hours": claim.hours_counted},
    )
    _tell_learner(session, services, org, claim)
    return claim


def _ref(org: Organisation, claim: InformalClaim) -> str:
    return f"org:{org.slug}/claims/{claim.id}"


def _used(session: Session, claim: InformalClaim) -> float:
    """Hours the learner's other endorsed claims of the category already count that year."""
    year = claim.ended_on.year
    counted = session.exec(
        select(InformalClaim.hours_counted).where(
            InformalClaim.org_id == claim.org_id,
            InformalClaim.learner_id == claim.learner_id,
            InformalClaim.category == claim.category,
            InformalClaim.state == "endorsed",
            InformalClaim.id != claim.id,
            col(InformalClaim.ended_on) >= date(year, 1, 1),
            col(InformalClaim.ended_on) <= date(year, 12, 31),
        )
    )
    return sum(hours or 0.0 for hours in counted)


def _roster_name(session: Session, org: Organisation, learner_id: int) -> str | None:
    """The learner's name on the roster (also after they left it)."""
    return session.exec(
        select(OrgMember.name).where(OrgMember.org_id == org.id, OrgMember.learner_id == learner_id)
    ).first()


def _official(session: Session, org: Organisation, supervisor_id: int, email: str) -> str:
    """How the endorsement names the supervisor: their roster name and position, else their
    email (never ``Learner.name``, which another issuer may have set: the endorsement is this
    organisation's issuer's to sign)."""
    member = session.exec(
        select(OrgMember).where(OrgMember.org_id == org.id, OrgMember.learner_id == supervisor_id)
    ).first()
    if member is not None and member.name:
        return f"{member.name} ({member.role})" if member.role else member.name
    return email


def _achievement(session: Session, services: Services, issuer: Issuer, category: str) -> str:
    """The home issuer's achievement for ``category``, loaded from the catalogue if missing."""
    key = achievement_key(category)
    found = session.exec(
        select(Achievement).where(Achievement.issuer_id == issuer.id, Achievement.key == key)
    ).first()
    if found is None:
        catalogue = shared_catalogue(services.cache)
        template = catalogue.achievement(key)
        assert issuer.id is not None
        data = to_ob_achievement(
            template,
            catalogue,
            achievement_id="",
            base_url=services.settings.base_url,
            language=issuer_language(session, issuer.id),
        )
        data.pop("id", None)
        session.add(
            Achievement(
                issuer_id=issuer.id,
                key=key,
                data=data,
                validity=template.validity,
                design=template.design.model_dump(),
            )
        )
        session.flush()
    return key


def _issue(
    session: Session,
    services: Services,
    issuer: Issuer,
    org: Organisation,
    claim: InformalClaim,
    counted: float,
    official: str,
    comment: str,
) -> tuple[str, dict[str, Any]]:
    """Issue the claim's badge with its endorsement embedded; (credential UUID, endorsement)."""
    email = primary_emails(session, [claim.learner_id]).get(claim.learner_id)
    if email is None:
        raise Conflict("the learner's account no longer exists")
    # to the address the organisation knows her by, not her primary one (audit 11)
    if org.issuer_id is not None:
        email = known_emails(session, org.issuer_id, [claim.learner_id]).get(
            claim.learner_id, email
        )
    # the roster's name, never Learner.name (another issuer's text: issuing.credentials.Recipient)
    name = _roster_name(session, org, claim.learner_id)
    # claims stored before their text was checked may hold control characters (``checked``)
    title = " ".join(_CONTROLS.sub(" ", claim.title).split())
    narrative = (
        f"{title} ({claim.started_on.isoformat()} – {claim.ended_on.isoformat()}, "
        f"{claim.hours_endorsed:g} h endorsed)\n\n{_NOT_MULTI_LINE.sub('', claim.learned)}"
    )
    evidence: dict[str, Any] = {"name": title}
    if claim.evidence_url:
        evidence["id"] = claim.evidence_url
    if claim.evidence_text:
        evidence["narrative"] = _NOT_MULTI_LINE.sub("", claim.evidence_text)
    request = IssueRequest.model_validate(
        {
            "recipient": {"email": email, "name": name},
            "achievement": _achievement(session, services, issuer, claim.category),
            "evidence": [evidence],
            "narrative": narrative,
            "validFrom": datetime.combine(claim.ended_on, time(), UTC),
            "creditsEarned": counted,
        }
    )
    comment_text = comment or (
        f"{claim.hours_endorsed:g}시간 확인: {title}"
        if issuer_language(session, org.issuer_id) == "ko"
        else f"Endorsed {claim.hours_endorsed:g} hours: {title}"
    )
    korean = issuer_language(session, org.issuer_id) == "ko"
    made: list[dict[str, Any]] = []
    inline = issuance.inline_signer(session, services, issuer)

    def sign(documents: list[dict[str, Any]]) -> Any:
        for document in documents:
            endorsement = _endorsement(issuer, official, document["id"], comment_text, korean)
            [signed] = inline([endorsement])()
            document["endorsement"] = [signed]
            check_conforms(document)
            made.append(signed)
        return inline(documents)

    [outcome] = issuance.issue_rows(
        session,
        services,
        issuer,
        [(1, request, f"informal-claim-{claim.id}")],
        f"learner:{claim.learner_id}",
        sign=sign,
    )
    if outcome.error is not None:
        raise outcome.error
    if outcome.status != "issued" or not made or outcome.credential_id is None:
        raise Conflict("this claim's badge was already issued")
    return outcome.credential_id, made[-1]


def _endorsement(
    issuer: Issuer, official: str, subject_id: str, comment: str, korean: bool = False
) -> dict[str, Any]:
    """The unsigned EndorsementCredential of ``subject_id`` (OB 3.0 schema checked)."""
    document: dict[str, Any] = clean_text(
        {
            "@context": list(OB_CONTEXTS),
            "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "EndorsementCredential"],
            "name": f"{official}의 확인" if korean else f"Endorsement by {official}",
            "issuer": {**profile(issuer), "official": official},
            "validFrom": iso(utcnow()),
            "credentialSubject": {
                "id": subject_id,
                "type": ["EndorsementSubject"],
                "endorsementComment": comment,
            },
        }
    )
    try:
        validate(document, types_of(document))
    except SchemaViolation as exc:
        raise BadRequest(f"the endorsement would not conform to the OB 3.0 schema: {exc}") from None
    return document


# --- emails --------------------------------------------------------------------------------

_TEXTS = {
    ("en", "submitted"): (
        "A learning claim waits for your endorsement: {title}",
        "{name} claims informal learning ({category}, {hours:g} hours): {title}.\n\n"
        "As the supervisor named for their department, you can endorse or return it. Sign in "
        "to the Laurel wallet with this email address:\n\n{link}\n",
    ),
    ("ko", "submitted"): (
        "확인을 기다리는 학습 신청: {title}",
        "{name}님이 비공식 학습({category}, {hours:g}시간)을 신청했습니다: {title}.\n\n"
        "부서의 감독자로서 확인하거나 반려할 수 있습니다. 이 이메일 주소로 Laurel 지갑에 "
        "로그인하세요:\n\n{link}\n",
    ),
    ("en", "endorsed"): (
        "Your learning claim was endorsed: {title}",
        'Your claim "{title}" was endorsed for {endorsed:g} hours; {counted:g} hours count '
        "this year{capped}.\n\n{comment}Your badge is in your wallet: {link}\n",
    ),
    ("ko", "endorsed"): (
        "학습 신청이 확인되었습니다: {title}",
        '"{title}" 신청이 {endorsed:g}시간으로 확인되었고, 올해 {counted:g}시간이 '
        "인정됩니다{capped}.\n\n{comment}배지는 지갑에 있습니다: {link}\n",
    ),
    ("en", "returned"): (
        "Your learning claim was returned: {title}",
        'Your claim "{title}" was returned by your supervisor:\n\n{comment}\n\n'
        "You can change it and send it again: {link}\n",
    ),
    ("ko", "returned"): (
        "학습 신청이 반려되었습니다: {title}",
        '"{title}" 신청이 감독자에 의해 반려되었습니다:\n\n{comment}\n\n'
        "수정하여 다시 보낼 수 있습니다: {link}\n",
    ),
}
_CAPPED = {
    "en": " (the yearly cap for this kind of learning is {cap:g} hours)",
    "ko": " (이 학습 유형의 연간 인정 한도는 {cap:g}시간입니다)",
}
CATEGORY_NAMES = {
    "study_group": ("study group", "학습동아리"),
    "mentoring": ("mentoring", "멘토링"),
    "coaching": ("coaching", "코칭"),
    "job_rotation": ("job rotation", "직무순환"),
    "shadowing": ("job shadowing", "업무 참관"),
    "project": ("project", "프로젝트"),
}


def category_name(category: str, lang: str) -> str:
    english, korean = CATEGORY_NAMES.get(category, (category, category))
    return korean if lang == "ko" else english


def _send_later(session: Session, services: Services, to: str, subject: str, body: str) -> None:
    def send() -> None:
        try:
            mail.send(services.settings, to, subject, body)
        except MailNotSent:
            log.warning("the informal-learning email to %s was not sent", to)

    after_commit(session, send)


def _tell_supervisor(
    session: Session, services: Services, org: Organisation, claim: InformalClaim
) -> None:
    lang = issuer_language(session, org.issuer_id)
    subject, body = _TEXTS[(lang, "submitted")]
    email = primary_emails(session, [claim.learner_id]).get(claim.learner_id)
    link = f"{services.settings.base_url}/wallet/login?next=/wallet/endorse"
    values = {
        "title": claim.title,
        "name": _roster_name(session, org, claim.learner_id) or email or "",
        "category": category_name(claim.category, lang),
        "hours": claim.hours,
        "link": link,
    }
    _send_later(
        session, services, claim.supervisor_email, subject.format(**values), body.format(**values)
    )


def _tell_learner(
    session: Session, services: Services, org: Organisation, claim: InformalClaim
) -> None:
    email = primary_emails(session, [claim.learner_id]).get(claim.learner_id)
    if email is None:
        return
    lang = issuer_language(session, org.issuer_id)
    subject, body = _TEXTS[(lang, claim.state)]
    capped = (
        _CAPPED[lang].format(cap=claim.cap_hours)
        if claim.cap_hours is not None and (claim.hours_counted or 0) < (claim.hours_endorsed or 0)
        else ""
    )
    comment = claim.supervisor_comment or ""
    values = {
        "title": claim.title,
        "endorsed": claim.hours_endorsed or 0.0,
        "counted": claim.hours_counted or 0.0,
        "capped": capped,
        "comment": comment + "\n\n" if claim.state == "endorsed" and comment else comment,
        "link": f"{services.settings.base_url}/wallet/claims",
    }
    _send_later(session, services, email, subject.format(**values), body.format(**values))
