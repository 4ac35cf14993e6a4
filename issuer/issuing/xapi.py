"""xAPI statements from an LMS or LRS that award badges (xAPI 1.0.3 / IEEE 9274.1.1 statements).

A statement whose verb is ``completed`` or ``passed`` (ADL verb ids) and whose object is an activity
that maps to one of the issuer's achievements issues that badge to the actor — its ``mbox``, or its
``account`` on the issuer's LMS (``XapiSettings.account_home_page``): the current member of the
organisation run from the issuer whose roster ``employee_no`` is the account's ``name`` (an
account that leads to nobody is reported as an error) — once per statement id, dated
(``validFrom``) by the statement's ``timestamp`` — when the learning happened,
which is the year its hours count for — or now when it has none. A ``voided`` statement (xAPI 1.0.3
§2.3.2: its object a ``StatementRef``) revokes the badge the voided statement awarded. An activity
maps to an achievement when its id is the achievement's id
(``{base}/issuers/{slug}/achievements/{key}``) or when the last path segment of its id is the
achievement key (``https://lms.example.org/courses/emotional-intelligence``). Statements with other
verbs are accepted and ignored. The whole request is checked first: one malformed statement rejects
the request (400, with every reason) and nothing is issued. Then every statement's issuance request
is built and validated, and each is issued in a savepoint of its own: a statement that cannot be
issued (a name too long, an unknown achievement) is reported as an error, its changes are rolled
back, and no other statement is affected.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, LaurelError
from issuer.issuing.credentials import revoke
from issuer.issuing.issuance import Outcome, Row, find_by_key, issue_rows
from issuer.models import (
    Achievement,
    Issuer,
    LearnerEmail,
    Organisation,
    OrgMember,
    XapiSettings,
)
from issuer.schemas import IssueRequest, normalize_email

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
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
    verb = statement.get("verb")
    if isinstance(verb, dict) and verb.get("id") == VOIDED:
        target = statement.get("object")
        if not isinstance(target, dict) or target.get("objectType") != "StatementRef":
            problems.append(f"statement {number}: a voiding statement's object is a StatementRef")
        else:
            try:
                uuid.UUID(str(target.get("id")))
            except ValueError:
                problems.append(f"statement {number}: the voided statement's id is not a UUID")
        return problems
    if "timestamp" in statement and not _time(statement["timestamp"]):
        problems.append(f"statement {number}: timestamp is not an ISO 8601 time with a zone")
    actor = statement.get("actor")
    mbox = actor.get("mbox") if isinstance(actor, dict) else None
    account = actor.get("account") if isinstance(actor, dict) else None
    if account is not None and mbox is None:
        if not (
            isinstance(account, dict)
            and isinstance(account.get("homePage"), str)
            and isinstance(account.get("name"), str)
            and account["name"]
        ):
            problems.append(f"statement {number}: actor.account needs a homePage and a name")
    elif not isinstance(mbox, str) or not mbox.startswith("mailto:"):
        problems.append(
            f"statement {number}: actor.mbox must be 'mailto:<email>' (or the actor an account)"
        )
    else:
        try:
            normalize_email(mbox.removeprefix("mailto:"))
        except ValueError as exc:
            problems.append(f"statement {number}: {exc}")
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str):
        problems.append(f"statement {number}: verb.id is missing")
    target = statement.get("object")
    if not isinstance(target, dict) or not isinstance(target.get("id"), str):
        problems.append(f"statement {number}: object.id (the activity) is missing")
    return problems


def _time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _achievement_key(activity: str, keys: set[str], prefix: str) -> str | None:
    if activity.startswith(prefix) and activity.removeprefix(prefix) in keys:
        return activity.removeprefix(prefix)
    last = activity.rstrip("/").rsplit("/", 1)[-1]
    return last if last in keys else None


def _statement_id(statement: dict[str, Any]) -> str:
    if statement.get("id"):
        return str(uuid.UUID(str(statement["id"])))
    return hashlib.sha256(json.dumps(statement, sort_keys=True).encode()).hexdigest()[:32]


_FIELDS = {
    "recipient.name": "actor.name",
    "recipient.email": "actor.mbox",
    "narrative": "object.id",
    "validFrom": "timestamp",
}


def _request(
    statement: dict[str, Any], verb: str, key: str, statement_id: str, email: str
) -> IssueRequest:
    """The issuance a statement asks for; ``BadRequest`` naming the statement's field."""
    name = statement["actor"].get("name")
    try:
        return IssueRequest.model_validate(
            {
                "recipient": {
                    "email": email,
                    **({"name": name} if isinstance(name, str) and name else {}),
                },
                "achievement": key,
                "narrative": f"{verb.capitalize()} {statement['object']['id']} (xAPI "
                f"statement {statement_id}).",
                **({"validFrom": statement["timestamp"]} if "timestamp" in statement else {}),
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        raise BadRequest(f"{_FIELDS.get(field, field)}: {message}") from None


class Accounts:
    """Where the accounts of the statements' actors lead: the issuer's LMS home page (its xAPI
    settings), the organisation run from the issuer, and the email of each current member whose
    roster employee number is one of the account names."""

    def __init__(self, home_page: str | None, org: Organisation | None, emails: dict[str, str]):
        self.home_page, self.org, self.emails = home_page, org, emails


def _accounts(session: Session, issuer: Issuer, statements: list[Any]) -> Accounts:
    names = {
        str(s["actor"]["account"]["name"])
        for s in statements
        if "mbox" not in s["actor"] and isinstance(s["actor"].get("account"), dict)
    }
    settings = session.exec(select(XapiSettings).where(XapiSettings.issuer_id == issuer.id)).first()
    home = settings.account_home_page if settings is not None else None
    org = session.exec(select(Organisation).where(Organisation.issuer_id == issuer.id)).first()
    if not names or home is None or org is None:
        return Accounts(home, org, {})
    rows = session.exec(
        select(OrgMember.employee_no, OrgMember.email, LearnerEmail.email)
        .join(LearnerEmail, col(LearnerEmail.learner_id) == col(OrgMember.learner_id))
        .where(
            OrgMember.org_id == org.id,
            col(OrgMember.employee_no).in_(sorted(names)),
            col(OrgMember.left_at).is_(None),
            col(LearnerEmail.is_primary).is_(True),
        )
    )
    # the roster's address (HR's), else her primary one: never one only another issuer knows
    # when HR gave one (audit 11)
    return Accounts(
        home, org, {str(number): rostered or primary for number, rostered, primary in rows}
    )


def _same_page(one: str, other: str) -> bool:
    return one.rstrip("/").lower() == other.rstrip("/").lower()


def _email(actor: dict[str, Any], accounts: Accounts) -> str:
    """The email to issue to: the actor's ``mbox``, or that of the roster member whose employee
    number is the account's name; ``BadRequest`` for an account that leads nowhere."""
    if "mbox" in actor:
        return str(actor["mbox"]).removeprefix("mailto:")
    home, name = str(actor["account"]["homePage"]), str(actor["account"]["name"])
    if accounts.home_page is None or accounts.org is None:
        raise BadRequest(
            f"actor.account: this issuer maps no LMS accounts to learners (set its xAPI "
            f"accountHomePage{'' if accounts.org else ' and run an organisation from it'})"
        )
    if not _same_page(home, accounts.home_page):
        raise BadRequest(
            f"actor.account.homePage: accounts of {home} are unknown here "
            f"(this issuer's LMS is {accounts.home_page})"
        )
    if name not in accounts.emails:
        raise BadRequest(
            f"actor.account.name: no current member of {accounts.org.name} has employee "
            f"number {name!r} (or an email)"
        )
    return accounts.emails[name]


def _issue_alone(
    session: Session, services: Services, issuer: Issuer, row: Row, actor: str
) -> Outcome:
    """One statement's issuance in a savepoint of its own: if it fails, what it changed is
    rolled back and the error reported; the statements before and after are untouched."""
    savepoint = session.begin_nested()
    try:
        [outcome] = issue_rows(session, services, issuer, [row], actor)
    except LaurelError as exc:
        savepoint.rollback()
        return Outcome(row[0], "error", error=exc)
    if outcome.error is None:
        savepoint.commit()
    else:
        savepoint.rollback()
    return outcome


def receive(
    session: Session,
    services: Services,
    slug: str,
    body: Any,
    actor: str,
    *,
    may_revoke: bool,
) -> dict[str, Any]:
    """Issue the badges the statements award, each through the one issuing path in the caller's
    unit of work (the idempotency key ``xapi:{statement id}`` makes a statement award once).
    A ``voided`` statement revokes what its statement awarded only when the caller may revoke
    (an API key with the ``revoke`` scope): else it is reported as an error, and the badge stays
    (audit round 9: an ``issue``-only key revoked badges it could not revoke otherwise)."""
    from issuer.institutes.issuers import get_issuer

    statements = body if isinstance(body, list) else [body]
    if not statements or len(statements) > MAX_STATEMENTS:
        raise BadRequest(f"send 1 to {MAX_STATEMENTS} statements")
    problems = [p for n, s in enumerate(statements, start=1) for p in _check(n, s)]
    if problems:
        raise BadRequest("; ".join(problems[:10]))
    issuer: Issuer = get_issuer(session, slug)
    keys = set(session.exec(select(Achievement.key).where(Achievement.issuer_id == issuer.id)))
    prefix = f"{services.settings.base_url}/issuers/{slug}/achievements/"
    accounts = _accounts(session, issuer, statements)
    report: list[dict[str, Any]] = []
    rows: list[Row] = []
    for number, statement in enumerate(statements):
        statement_id = _statement_id(statement)
        entry: dict[str, Any] = {"statement": statement_id}
        report.append(entry)
        if statement["verb"]["id"] == VOIDED:
            if may_revoke:
                entry.update(_void(session, issuer, statement, actor))
            else:
                entry.update(
                    status="error",
                    error="voiding a statement revokes its badge: "
                    "this API key lacks the 'revoke' scope",
                )
            continue
        verb = AWARDING_VERBS.get(statement["verb"]["id"])
        key = _achievement_key(statement["object"]["id"], keys, prefix)
        if verb is None or key is None:
            entry.update(
                status="ignored",
                reason="the verb does not award badges"
                if verb is None
                else "the activity maps to none of the issuer's achievements",
            )
            continue
        try:
            email = _email(statement["actor"], accounts)
            request = _request(statement, verb, key, statement_id, email)
        except BadRequest as exc:
            entry.update(status="error", error=exc.detail)
            continue
        rows.append((number, request, f"xapi:{statement_id}"))
    for row in rows:
        result = _issue_alone(session, services, issuer, row, actor).report()
        report[row[0]].update({k: v for k, v in result.items() if k != "row"})
    return {"statements": report}


def _void(
    session: Session, issuer: Issuer, statement: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Revoke the badge the voided statement awarded (its idempotency key), if it awarded one."""
    voided = str(uuid.UUID(str(statement["object"]["id"])))
    assert issuer.id is not None
    credential = find_by_key(session, issuer.id, f"xapi:{voided}")
    if credential is None:
        return {"status": "ignored", "reason": f"statement {voided} awarded no badge here"}
    if credential.revoked_at is not None:
        return {"status": "already revoked", "id": f"urn:uuid:{credential.id}"}
    revoke(session, credential.id, f"xAPI statement {voided} was voided", None, actor)
    return {"status": "revoked", "id": f"urn:uuid:{credential.id}"}
