"""Programme completion: when a learner's valid credentials satisfy a programme (every required
achievement, ``electives_needed`` of the electives, and every nested programme's award), the
programme's award credential is issued automatically — exactly once, because its idempotency key
(``program:{id}:{learner}``) is unique in the database — with the credentials that earned it as
evidence. An award can complete an enclosing programme in turn. A credential counts from its
``validFrom`` until its ``validUntil``, and not once revoked.

Awards follow issuance as a post-commit effect (``programs.award``, see ``issuer.core.effects``):
issuing a credential that counts towards a programme records the effect in the same transaction,
and ``handle`` runs it after the commit, retried until it succeeds.

Revoking a credential records a ``programs.recheck`` effect (``recheck``): the learner's awards
of programmes that are no longer complete without it are revoked, with a reason naming it. An
award stays when the programme is still complete from what the learner holds now or held when it
was awarded (a course that merely expired since does not take an award back). Only a
revocation does this: an expiry, a withdrawn share, a catalogue change or a suspension elsewhere
revokes nothing. A revoked award does not block a new one: once the programme is complete again
with a credential valid from after the last revocation, it is awarded under the next key
(``program:{id}:{learner}:{n}`` for the n-th award) — still once, under concurrent completions.
An award staff revoked by hand is therefore not re-issued from the same credentials."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from issuer import orgs
from issuer.catalogue import Program
from issuer.context import Services
from issuer.core import metrics
from issuer.core.effects import PROGRAM_AWARDS, PROGRAM_RECHECK
from issuer.core.errors import Conflict
from issuer.issuing import notices
from issuer.models import Achievement, Credential, Issuer, LearnerEmail, OrgEquivalence
from issuer.models.base import aware, maybe_time
from issuer.people.emails import known_emails
from issuer.schemas import IssueRequest

MAX_ROUNDS = 4


@dataclass(frozen=True)
class Earned:
    """A credential that counts towards a programme: issued here (``local``: its id, for its
    ``/v/`` page) or shared from elsewhere (``ref``: its own id). ``since``: when it began to
    count — for the issuer's own, the later of its ``validFrom`` and when it was issued (to the
    microsecond: ``validFrom`` is written to the second); for others, its ``validFrom``."""

    ref: str
    name: str
    local: bool
    since: datetime


def _held(
    session: Session, issuer: Issuer, learner_id: int, at: datetime | None = None
) -> dict[str, list[Earned]]:
    """Achievement key -> the learner's credentials valid at ``at`` (default now) for it: the
    issuer's own, and, for a member of the organisation ``issuer`` is the home of, what
    ``issuer.orgs.held`` counts — badges of the other trusted issuers here (by their catalogue
    key) and shared badges from elsewhere that the organisation declared equivalent to a
    catalogue achievement for their issuer. A credential counts from its ``validFrom`` (else
    when it was issued) until its ``validUntil``, and not once revoked."""
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
        since = _valid_from(credential)
        if since > now:
            continue  # dated ahead: it completes nothing before its day
        name = str(credential.document["credentialSubject"]["achievement"]["name"])
        since = max(since, aware(credential.issued_at))
        held.setdefault(key, []).append(Earned(credential.id, name, True, since))
    org = orgs.of_issuer(session, issuer)
    if org is None:
        return held
    seen = {e.ref for items in held.values() for e in items}
    equivalent = {  # bound to the issuer it was declared for (unbound ones count for nothing)
        (issuer_ref, external): key
        for issuer_ref, external, key in session.exec(
            select(
                OrgEquivalence.issuer_ref,
                OrgEquivalence.external_id,
                OrgEquivalence.achievement_key,
            ).where(OrgEquivalence.org_id == org.id, col(OrgEquivalence.issuer_ref).is_not(None))
        )
    }
    for item in orgs.held(session, org, [learner_id], now):
        local = item.source == "here"
        ref = item.credential_ref.removeprefix("urn:uuid:") if local else item.credential_ref
        if local:
            counted = item.achievement_key
        else:
            achievement = item.document.get("credentialSubject", {}).get("achievement", {})
            counted = (
                equivalent.get((item.issuer_ref, str(achievement.get("id"))))
                if isinstance(achievement, dict)
                else None
            )
        if counted is None or ref in seen:
            continue
        seen.add(ref)
        held.setdefault(counted, []).append(
            Earned(ref, item.achievement_name, local, item.valid_from)
        )
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
    from issuer.issuing.issuance import issue
    from issuer.skills.frameworks import catalogue

    issued: list[str] = []
    programs = catalogue(services).programs
    awards = {p.id: p.award for p in programs}
    issuer = get_issuer(session, issuer_slug)
    assert issuer.id is not None
    for _ in range(MAX_ROUNDS):
        held = _held(session, issuer, learner_id)
        offered = set(
            session.exec(select(Achievement.key).where(Achievement.issuer_id == issuer.id))
        )
        # the address this issuer knows her by (its courses' badges were issued to it), never
        # her primary one, which may be an address only another issuer knows (audit 11)
        email = (
            known_emails(session, issuer.id, [learner_id]).get(learner_id)
            or session.exec(
                select(LearnerEmail.email).where(
                    LearnerEmail.learner_id == learner_id, col(LearnerEmail.is_primary).is_(True)
                )
            ).first()
        )
        due = [
            p
            for p in programs
            if p.award in offered and p.award not in held and progress(p, held, awards)["complete"]
        ]
        if not due or email is None:
            break
        new_this_round = 0
        for program in due:
            earned = [
                c
                for k in (
                    *program.required,
                    *program.electives,
                    *(awards[p] for p in program.programs),
                )
                for c in held.get(k, [])
            ]
            key = _next_key(session, issuer.id, program.id, learner_id, earned)
            if key is None:
                continue
            evidence = [_evidence(services, c) for c in earned[:20]]
            request = IssueRequest.model_validate(
                {
                    "recipient": {"email": email},
                    "achievement": program.award,
                    "evidence": evidence,
                    "narrative": f"Completed {program.name}.",
                }
            )
            try:
                result = issue(
                    session, services, issuer_slug, request, idempotency_key=key, actor=actor
                )
            except Conflict:  # a concurrent completion took the key, with other evidence
                continue
            if result.created:
                issued.append(result.credential.id)
                new_this_round += 1
                notices.program_completed(
                    session, issuer.id, program.id, program.name, learner_id, result.credential.id
                )
        if not new_this_round:
            break
    return issued


def _keyed(session: Session, issuer_id: int, learner_id: int) -> dict[str, list[Credential]]:
    """Programme id -> the learner's awards issued for it here (by their idempotency keys,
    ``program:{id}:{learner}`` and ``program:{id}:{learner}:{n}``), first first."""
    rows = session.exec(
        select(Credential)
        .where(
            Credential.issuer_id == issuer_id,
            Credential.learner_id == learner_id,
            col(Credential.idempotency_key).startswith("program:", autoescape=True),
        )
        .order_by(col(Credential.issued_at), col(Credential.id))
    )
    found: dict[str, list[Credential]] = {}
    for row in rows:
        parts = str(row.idempotency_key).removeprefix("program:").split(":")
        if parts[-1] != str(learner_id):  # a later award: …:{learner}:{n}
            parts = parts[:-1] if parts[-1].isdigit() else []
        if len(parts) > 1 and parts[-1] == str(learner_id):
            found.setdefault(":".join(parts[:-1]), []).append(row)
    return found


def _next_key(
    session: Session, issuer_id: int, program_id: str, learner_id: int, earned: list[Earned]
) -> str | None:
    """The idempotency key of the learner's next award of the programme, or None when none is
    due: one is valid, or every award was revoked and nothing that counts is valid from after
    the last revocation (so an award staff revoked is not issued again from the same badges)."""
    before = _keyed(session, issuer_id, learner_id).get(program_id, [])
    if any(award.revoked_at is None for award in before):
        return None
    if before:
        last = max(aware(award.revoked_at) for award in before if award.revoked_at is not None)
        if not any(item.since > last for item in earned):
            return None
    return _free_key(session, issuer_id, f"program:{program_id}:{learner_id}", learner_id, before)


def _free_key(
    session: Session, issuer_id: int, base: str, learner_id: int, before: list[Credential]
) -> str | None:
    """The first of ``base``, ``base:2``, … after the learner's ``before`` awards that no
    credential holds; None when a valid award of hers holds one (issued meanwhile).

    The key names her by id, and an award of another learner can hold it: one that moved to
    another account when the learner it was issued to was merged into it, while SQLite gave that
    id again (before migration 0022). That award is not hers; it is skipped, counted and
    logged."""
    from issuer.issuing.issuance import find_by_key

    number = len(before) + 1
    while True:
        key = base if number == 1 else f"{base}:{number}"
        holder = find_by_key(session, issuer_id, key)
        if holder is None:
            return key
        if holder.learner_id == learner_id and holder.revoked_at is None:
            return None
        if holder.learner_id != learner_id:
            metrics.fallback(
                "key_taken",
                "the programme award key %s is held by credential %s of learner %s, "
                "not learner %s's",
                key,
                holder.id,
                holder.learner_id,
                learner_id,
            )
        number += 1


RECHECK = PROGRAM_RECHECK


def recheck(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``programs.recheck`` effect: a credential was revoked (``payload["credential"]``,
    issued here) or a shared one found revoked (``payload["shared"]``, at home issuer
    ``payload["issuer"]``); revoke the awards that no longer stand without it, at its issuer
    and at the home issuers of organisations for which it counts."""
    from issuer.skills.frameworks import catalogue

    if "credential" not in payload:
        cause = f"{payload['name']} ({payload['shared']})"
        revoke_incomplete(session, services, str(payload["issuer"]), int(payload["learner"]), cause)
        return
    revoked = session.get(Credential, str(payload["credential"]))
    if revoked is None or revoked.revoked_at is None:
        return
    achievement = session.get(Achievement, revoked.achievement_id)
    issuer = session.get(Issuer, revoked.issuer_id)
    if achievement is None or issuer is None:
        return
    if achievement.key not in catalogue(services).programme_keys:
        return
    name = str(revoked.document["credentialSubject"]["achievement"]["name"])
    cause = f"{name} (urn:uuid:{revoked.id})"
    learner = revoked.learner_id
    for slug in [issuer.slug, *_homes_counting(session, issuer.slug, learner)]:
        revoke_incomplete(session, services, slug, learner, cause)


def revoke_incomplete(
    session: Session,
    services: Services,
    issuer_slug: str,
    learner_id: int,
    cause: str,
    actor: str = "programs",
) -> list[str]:
    """Revoke, in ``session``, the learner's valid awards of this issuer whose programme is no
    longer complete — neither from what the learner holds now nor from what they held when it
    was awarded — because ``cause`` (a credential, named) was revoked. Returns their ids. Each
    revocation is audited with its reason and, in turn, re-checks enclosing programmes."""
    from issuer.institutes.issuers import get_issuer
    from issuer.issuing.credentials import revoke
    from issuer.skills.frameworks import catalogue

    issuer = get_issuer(session, issuer_slug)
    assert issuer.id is not None
    keyed = _keyed(session, issuer.id, learner_id)
    programs = catalogue(services).programs
    awards = {p.id: p.award for p in programs}
    now = _held(session, issuer, learner_id)
    revoked: list[str] = []
    for program in programs:
        for award in keyed.get(program.id, []):
            if award.revoked_at is not None:
                continue
            then = _held(session, issuer, learner_id, at=aware(award.issued_at))
            held = {k: [*now.get(k, []), *then.get(k, [])] for k in {*now, *then}}
            if progress(program, held, awards)["complete"]:
                continue
            reason = (
                f"{cause}, which counted towards {program.name}, was revoked: "
                "the programme is no longer complete"
            )
            revoke(session, award.id, reason, None, actor)
            revoked.append(award.id)
    return revoked


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
