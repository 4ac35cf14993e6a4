"""Programme completion: when a learner's valid credentials satisfy a programme (every required
achievement, ``electives_needed`` of the electives, and every nested programme's award), the
programme's award credential is issued automatically — exactly once, because its idempotency key
(``program:{id}:{learner}``) is unique in the database — with the credentials that earned it as
evidence. An award can complete an enclosing programme in turn.

Awards follow issuance as a post-commit effect (``programs.award``, see ``issuer.core.effects``):
issuing a credential that counts towards a programme records the effect in the same transaction,
and ``handle`` runs it after the commit, retried until it succeeds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer import orgs
from issuer.catalogue import Program
from issuer.context import Services
from issuer.core.effects import PROGRAM_AWARDS
from issuer.issuing import notices
from issuer.models import Achievement, Credential, Issuer, LearnerEmail, OrgEquivalence
from issuer.models.base import aware, maybe_time
from issuer.schemas import IssueRequest

MAX_ROUNDS = 4


@dataclass(frozen=True)
class Earned:
    """A credential that counts towards a programme: issued here (``local``: its id, for its
    ``/v/`` page) or shared from elsewhere (``ref``: its own id)."""

    ref: str
    name: str
    local: bool


def _held(
    session: Session, issuer: Issuer, learner_id: int, at: datetime | None = None
) -> dict[str, list[Earned]]:
    """Achievement key -> the learner's credentials valid at ``at`` (default now) for it: the
    issuer's own, and, for a member of the organisation ``issuer`` is the home of, what
    ``issuer.orgs.held`` counts — badges of the other trusted issuers here (by their catalogue
    key) and shared badges from elsewhere that the organisation declared equivalent to a
    catalogue achievement. A credential counts from its ``validFrom`` (else when it was issued)
    until its ``validUntil``, and not once revoked."""
    now = at or datetime.now(UTC)
    rows = session.exec(
        select(Achievement.key, Credential)
        .join(Credential, col(Credential.achievement_id) == Achievement.id)
        .where(
            Credential.issuer_id == issuer.id,
            Credential.learner_id == learner_id,
            col(Credential.revoked_at).is_(None),
            col(Credential.valid_until).is_(None) | (col(Credential.valid_until) > now),
        )
    )
    held: dict[str, list[Earned]] = {}
    for key, credential in rows:
        if _valid_from(credential) > now:
            continue  # dated ahead: it completes nothing before its day
        name = str(credential.document["credentialSubject"]["achievement"]["name"])
        held.setdefault(key, []).append(Earned(credential.id, name, local=True))
    org = orgs.of_issuer(session, issuer)
    if org is None:
        return held
    seen = {e.ref for items in held.values() for e in items}
    equivalent = dict(
        session.exec(
            select(OrgEquivalence.external_id, OrgEquivalence.achievement_key).where(
                OrgEquivalence.org_id == org.id
            )
        ).all()
    )
    for item in orgs.held(session, org, [learner_id], now):
        local = item.source == "here"
        ref = item.credential_ref.removeprefix("urn:uuid:") if local else item.credential_ref
        if local:
            counted = item.achievement_key
        else:
            achievement = item.document.get("credentialSubject", {}).get("achievement", {})
            counted = (
                equivalent.get(str(achievement.get("id")))
                if isinstance(achievement, dict)
                else None
            )
        if counted is None or ref in seen:
            continue
        seen.add(ref)
        held.setdefault(counted, []).append(Earned(ref, item.achievement_name, local))
    return held


def _valid_from(credential: Credential) -> datetime:
    return maybe_time(credential.document.get("validFrom")) or aware(credential.issued_at)


def progress(program: Program, held: dict[str, Any], awards: dict[str, str]) -> dict[str, Any]:
    """What is done and what is missing for ``program`` (``awards``: programme id -> award)."""
    required = [*program.required, *(awards[p] for p in program.programs if p in awards)]
    done_electives = [key for key in program.electives if key in held]
    missing = [key for key in required if key not in held]
    needed = max(0, program.electives_needed - len(done_electives))
    return {
        "program": program.id,
        "name": program.name,
        "complete": not missing and needed == 0,
        "requiredDone": [k for k in required if k in held],
        "requiredMissing": missing,
        "electivesDone": done_electives,
        "electivesStillNeeded": needed,
        "awarded": program.award in held,
    }


def _evidence(services: Services, earned: Earned) -> dict[str, str]:
    """An evidence entry: a badge issued here links to its verification page; one shared from
    elsewhere links to its own id if that is a web address, and otherwise names it."""
    if earned.local:
        return {"id": f"{services.settings.base_url}/v/{earned.ref}", "name": earned.name}
    if earned.ref.startswith("https://"):
        return {"id": earned.ref, "name": earned.name}
    return {"name": earned.name, "description": f"Shared with the organisation: {earned.ref}"}


EFFECT = PROGRAM_AWARDS


def handle(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``programs.award`` effect (``issuer.effects``): the issuer's awards, then those of
    every organisation's home issuer for which the learner's badges at this issuer count."""
    learner = int(payload["learner"])
    award_completed(session, services, str(payload["issuer"]), learner)
    for home in _homes_counting(session, str(payload["issuer"]), learner):
        award_completed(session, services, home, learner)


def _homes_counting(session: Session, slug: str, learner_id: int) -> list[str]:
    """Slugs of the home issuers of organisations that have the learner on their roster and
    trust issuer ``slug``, which agreed (or, for ``slug`` an organisation itself, nothing
    more)."""
    from issuer.models import Organisation, OrgMember, OrgTrust

    issuer = session.exec(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        return []
    rows = session.exec(
        select(Issuer.slug)
        .join(Organisation, col(Organisation.issuer_id) == col(Issuer.id))
        .join(OrgTrust, col(OrgTrust.org_id) == col(Organisation.id))
        .join(OrgMember, col(OrgMember.org_id) == col(Organisation.id))
        .where(
            OrgTrust.issuer_id == issuer.id,
            col(OrgTrust.agreed_at).is_not(None),
            OrgMember.learner_id == learner_id,
            col(OrgMember.left_at).is_(None),
        )
        .distinct()
    )
    return sorted(set(rows) - {slug})


def award_completed(
    session: Session,
    services: Services,
    issuer_slug: str,
    learner_id: int,
    actor: str = "programs",
) -> list[str]:
    """Issue, in ``session``, every award the learner has now earned; returns the new
    credential ids. Idempotent: an award already issued is found by its idempotency key."""
    from issuer.institutes.issuers import get_issuer
    from issuer.issuing.issuance import find_by_key, issue
    from issuer.skills.frameworks import catalogue

    issued: list[str] = []
    programs = catalogue(services).programs
    awards = {p.id: p.award for p in programs}
    issuer = get_issuer(session, issuer_slug)
    for _ in range(MAX_ROUNDS):
        held = _held(session, issuer, learner_id)
        offered = set(
            session.exec(select(Achievement.key).where(Achievement.issuer_id == issuer.id))
        )
        email = session.exec(
            select(LearnerEmail.email).where(
                LearnerEmail.learner_id == learner_id, col(LearnerEmail.is_primary).is_(True)
            )
        ).first()
        due = [
            p
            for p in programs
            if p.award in offered and p.award not in held and progress(p, held, awards)["complete"]
        ]
        if not due or email is None:
            break
        new_this_round = 0
        for program in due:
            key = f"program:{program.id}:{learner_id}"
            if issuer.id is not None and find_by_key(session, issuer.id, key):
                continue
            earned = [
                c
                for k in (
                    *program.required,
                    *program.electives,
                    *(awards[p] for p in program.programs),
                )
                for c in held.get(k, [])
            ]
            evidence = [_evidence(services, c) for c in earned[:20]]
            request = IssueRequest.model_validate(
                {
                    "recipient": {"email": email},
                    "achievement": program.award,
                    "evidence": evidence,
                    "narrative": f"Completed {program.name}.",
                }
            )
            result = issue(
                session, services, issuer_slug, request, idempotency_key=key, actor=actor
            )
            if result.created:
                issued.append(result.credential.id)
                new_this_round += 1
                assert issuer.id is not None
                notices.program_completed(
                    session, issuer.id, program.id, program.name, learner_id, result.credential.id
                )
        if not new_this_round:
            break
    return issued


def reconcile(session: Session, services: Services, issuer_slug: str) -> int:
    """Record an award effect for every learner who holds a valid credential of the issuer that
    counts towards a programme (after a catalogue change, or to repair); returns how many. The
    effects then award what each learner has completed, and nothing twice."""
    from issuer.core.effects import emit
    from issuer.institutes.issuers import get_issuer
    from issuer.skills.frameworks import catalogue

    issuer = get_issuer(session, issuer_slug)
    counting = catalogue(services).programme_keys
    learners = session.exec(
        select(Credential.learner_id)
        .join(Achievement, col(Credential.achievement_id) == Achievement.id)
        .where(
            Credential.issuer_id == issuer.id,
            col(Achievement.key).in_(counting),
            col(Credential.revoked_at).is_(None),
        )
        .distinct()
        .order_by(col(Credential.learner_id))
    )
    count = 0
    for learner in learners:
        emit(session, PROGRAM_AWARDS, {"issuer": issuer.slug, "learner": learner})
        count += 1
    return count
