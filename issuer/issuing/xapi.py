"""xAPI statements from an LMS or LRS that award badges (xAPI 1.0.3 / IEEE 9274.1.1 statements).

A statement whose verb is ``completed`` or ``passed`` (ADL verb ids) and whose object is an
activity that maps to one of the issuer's achievements issues that badge to the actor's ``mbox``,
once per statement id. An activity maps to an achievement when its id is the achievement's id
(``{base}/issuers/{slug}/achievements/{key}``) or when the last path segment of its id is the
achievement key (``https://lms.example.org/courses/emotional-intelligence``). Statements with other
verbs are accepted and ignored. The whole request is checked first: one malformed statement
rejects the request (400, with every reason) and nothing is issued.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sqlmodel import Session, select

from issuer.core.context import Services
from issuer.core.errors import BadRequest, LaurelError
from issuer.models import Achievement, Issuer
from issuer.schemas import IssueRequest, normalize_email

AWARDING_VERBS = {
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/passed": "passed",
}
MAX_STATEMENTS = 1000


def _check(number: int, statement: Any) -> list[str]:
    if not isinstance(statement, dict):
        return [f"statement {number}: not a JSON object"]
    problems = []
    if "id" in statement:
        try:
            uuid.UUID(str(statement["id"]))
        except ValueError:
            problems.append(f"statement {number}: id is not a UUID")
    actor = statement.get("actor")
    mbox = actor.get("mbox") if isinstance(actor, dict) else None
    if not isinstance(mbox, str) or not mbox.startswith("mailto:"):
        problems.append(f"statement {number}: actor.mbox must be 'mailto:<email>'")
    else:
        try:
            normalize_email(mbox.removeprefix("mailto:"))
        except ValueError as exc:
            problems.append(f"statement {number}: {exc}")
    verb = statement.get("verb")
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str):
        problems.append(f"statement {number}: verb.id is missing")
    target = statement.get("object")
    if not isinstance(target, dict) or not isinstance(target.get("id"), str):
        problems.append(f"statement {number}: object.id (the activity) is missing")
    return problems


def _achievement_key(activity: str, keys: set[str], prefix: str) -> str | None:
    if activity.startswith(prefix) and activity.removeprefix(prefix) in keys:
        return activity.removeprefix(prefix)
    last = activity.rstrip("/").rsplit("/", 1)[-1]
    return last if last in keys else None


def receive(services: Services, slug: str, body: Any, actor: str) -> dict[str, Any]:
    from issuer.institutes.issuers import get_issuer
    from issuer.issuing.issuance import issue

    statements = body if isinstance(body, list) else [body]
    if not statements or len(statements) > MAX_STATEMENTS:
        raise BadRequest(f"send 1 to {MAX_STATEMENTS} statements")
    problems = [p for n, s in enumerate(statements, start=1) for p in _check(n, s)]
    if problems:
        raise BadRequest("; ".join(problems[:10]))
    with Session(services.engine) as session:
        issuer: Issuer = get_issuer(session, slug)
        keys = set(session.exec(select(Achievement.key).where(Achievement.issuer_id == issuer.id)))
    prefix = f"{services.settings.base_url}/issuers/{slug}/achievements/"
    report = []
    for statement in statements:
        statement_id = str(
            statement.get("id")
            or hashlib.sha256(json.dumps(statement, sort_keys=True).encode()).hexdigest()[:32]
        )
        verb = AWARDING_VERBS.get(statement["verb"]["id"])
        key = _achievement_key(statement["object"]["id"], keys, prefix)
        if verb is None:
            report.append(
                {
                    "statement": statement_id,
                    "status": "ignored",
                    "reason": "the verb does not award badges",
                }
            )
            continue
        if key is None:
            report.append(
                {
                    "statement": statement_id,
                    "status": "ignored",
                    "reason": "the activity maps to none of the issuer's achievements",
                }
            )
            continue
        name = statement["actor"].get("name")
        request = IssueRequest.model_validate(
            {
                "recipient": {
                    "email": statement["actor"]["mbox"].removeprefix("mailto:"),
                    **({"name": name} if isinstance(name, str) and name else {}),
                },
                "achievement": key,
                "narrative": f"{verb.capitalize()} {statement['object']['id']} (xAPI statement "
                f"{statement_id}).",
            }
        )
        try:
            issued = issue(
                services, slug, request, idempotency_key=f"xapi:{statement_id}", actor=actor
            )
        except LaurelError as exc:
            report.append({"statement": statement_id, "status": "error", "error": exc.detail})
            continue
        report.append(
            {
                "statement": statement_id,
                "status": "issued" if issued.created else "already issued",
                "id": f"urn:uuid:{issued.credential.id}",
            }
        )
    return {"statements": report}
