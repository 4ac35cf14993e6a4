"""Telling a Learning Record Store what was awarded: an issuer's xAPI settings (its LMS's account
home page, its LRS endpoint and Basic auth credentials, the secret sealed and never shown again),
and the ``xapi.send`` effect that posts one xAPI 1.0.3 statement per badge awarded (verb
``earned`` of the xAPI Open Badges recipe) and a ``voided`` statement when one is revoked.

Statements are sent after the commit, outside the request, retried with the effects' back-off
until the LRS accepts them; a ``voided`` statement waits for the ``earned`` one it voids. Each
statement's id is derived from the credential (a UUID v5), and its content only from what is
stored, so a statement sent again after a failure is the same statement: an LRS that already has
it answers 409 Conflict (xAPI 1.0.3 §2.2, "id"), which counts as delivered."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.effects import XAPI_SEND, Record, Send
from issuer.core.errors import BadRequest, HostFailed
from issuer.crypto.sealing import Unsealable, seal, unseal
from issuer.issuing import credentials as issued
from issuer.models import (
    Credential,
    Issuer,
    Organisation,
    OrgMember,
    PendingEffect,
    XapiSettings,
)
from issuer.models.base import utcnow
from issuer.obclient.transport import call, check_url
from verifier.addresses import public_only, public_or_loopback
from verifier.transport import Refused, check_literal

log = logging.getLogger("laurel.xapi")
SECRET_LABEL = "xapi_settings.lrs_secret"
VERSION = "1.0.3"
EARNED = "http://specification.openbadges.org/xapi/verbs/earned"
"""The verb of the xAPI Open Badges recipe (the xAPI Open Badges Community of Practice)."""
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
BADGE = "http://activitystrea.ms/schema/1.0/badge"
BADGE_CLASS = "http://specification.openbadges.org/xapi/extensions/badgeclass"
BADGE_ASSERTION = "http://specification.openbadges.org/xapi/extensions/badgeassertion"
RECIPE = "http://specification.openbadges.org/xapi/recipe/base/0_0_2"
RECIPE_TYPE = "http://id.tincanapi.com/activitytype/recipe"
NAMESPACE = uuid.UUID("5b0c4f4e-3a0e-5b7a-9d0f-6c6175726531")
"""Laurel's namespace for statement ids (UUID v5 of ``{credential id}#{earned|voided}``)."""


# Settings -------------------------------------------------------------------------------------


def settings_of(session: Session, issuer_id: int) -> XapiSettings | None:
    return session.exec(select(XapiSettings).where(XapiSettings.issuer_id == issuer_id)).first()


def _endpoint(services: Services, url: str) -> str:
    try:
        check_url(services, url, "the LRS endpoint")
        loopback = url.startswith("http://")
        check_literal(httpx.URL(url).host, public_or_loopback if loopback else public_only)
    except HostFailed as exc:
        raise BadRequest(exc.detail) from None
    except (Refused, httpx.InvalidURL) as exc:
        raise BadRequest(f"Laurel does not send statements to this address: {exc}") from None
    return url.rstrip("/")


def update(
    session: Session, services: Services, issuer: Issuer, changes: dict[str, Any]
) -> XapiSettings:
    """Change the settings named in ``changes``: ``account_home_page`` (a URL or None) and
    ``lrs`` (``{"endpoint", "key", "secret"}``, or None: no more reports)."""
    assert issuer.id is not None
    found = settings_of(session, issuer.id) or XapiSettings(issuer_id=issuer.id)
    if "account_home_page" in changes:
        home = changes["account_home_page"]
        home = home.strip() if isinstance(home, str) and home.strip() else None
        if home is not None and not home.startswith(("https://", "http://")):
            raise BadRequest("accountHomePage: the LMS's home page is an http(s) URL")
        found.account_home_page = home
    if "lrs" in changes:
        lrs = changes["lrs"]
        if lrs is None:
            found.lrs_endpoint = found.lrs_key = found.lrs_secret = None
        else:
            found.lrs_endpoint = _endpoint(services, str(lrs["endpoint"]))
            found.lrs_key = str(lrs["key"])
            passphrase = services.settings.key_passphrase
            found.lrs_secret = seal(passphrase, SECRET_LABEL, str(lrs["secret"]))
    found.updated_at = utcnow()
    session.add(found)
    session.flush()
    return found


def public(found: XapiSettings | None) -> dict[str, Any]:
    """The settings as the API shows them: never the secret."""
    lrs = None
    if found is not None and found.lrs_endpoint:
        lrs = {"endpoint": found.lrs_endpoint, "key": found.lrs_key}
    return {"accountHomePage": found.account_home_page if found else None, "lrs": lrs}


# Statements -----------------------------------------------------------------------------------


def statement_id(credential_id: str, event: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{credential_id}#{event}"))


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _accounts(
    session: Session, settings: XapiSettings, issuer_id: int, learners: list[int]
) -> dict[int, str]:
    """The LMS account name of each learner that has one (the roster's employee number)."""
    if not settings.account_home_page or not learners:
        return {}
    rows = session.exec(
        select(OrgMember.learner_id, OrgMember.employee_no)
        .join(Organisation, col(Organisation.id) == col(OrgMember.org_id))
        .where(
            Organisation.issuer_id == issuer_id,
            col(OrgMember.learner_id).in_(learners),
            col(OrgMember.employee_no).is_not(None),
            col(OrgMember.left_at).is_(None),
        )
    )
    return {learner: str(number) for learner, number in rows}


def _earned(
    credential: Credential,
    actor: dict[str, Any],
    base: str,
) -> dict[str, Any]:
    document = credential.document
    achievement = document["credentialSubject"]["achievement"]
    lang = str(achievement.get("inLanguage") or "en")
    issuer_ref = document["issuer"]["id"] if isinstance(document["issuer"], dict) else None
    badge_class: dict[str, Any] = {"@id": achievement["id"]}
    if issuer_ref:
        badge_class["issuer"] = issuer_ref
    definition: dict[str, Any] = {
        "type": BADGE,
        "name": {lang: achievement["name"]},
        "extensions": {BADGE_CLASS: badge_class},
    }
    if achievement.get("description"):
        definition["description"] = {lang: achievement["description"]}
    return {
        "id": statement_id(credential.id, "earned"),
        "actor": actor,
        "verb": {"id": EARNED, "display": {"en-US": "earned"}},
        "object": {"objectType": "Activity", "id": achievement["id"], "definition": definition},
        "result": {
            "completion": True,
            "extensions": {BADGE_ASSERTION: {"@id": f"{base}/v/{credential.id}"}},
        },
        "context": {
            "platform": "Laurel",
            "contextActivities": {
                "category": [
                    {"objectType": "Activity", "id": RECIPE, "definition": {"type": RECIPE_TYPE}}
                ]
            },
        },
        "timestamp": str(document.get("validFrom") or _stamp(credential.issued_at)),
    }


def _voided(credential: Credential, issuer: Issuer, base: str) -> dict[str, Any]:
    assert credential.revoked_at is not None
    return {
        "id": statement_id(credential.id, "voided"),
        "actor": {
            "objectType": "Agent",
            "name": issuer.name,
            "account": {"homePage": base, "name": issuer.slug},
        },
        "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": statement_id(credential.id, "earned")},
        "timestamp": _stamp(credential.revoked_at),
    }


def statements(
    session: Session,
    services: Services,
    issuer: Issuer,
    settings: XapiSettings,
    event: str,
    credential_ids: list[str],
) -> list[dict[str, Any]]:
    """The statements that report ``event`` ("earned" or "voided") for these credentials."""
    assert issuer.id is not None
    rows = list(
        session.exec(
            select(Credential).where(
                col(Credential.id).in_([str(c) for c in credential_ids]),
                Credential.issuer_id == issuer.id,
            )
        )
    )
    rows.sort(key=lambda c: credential_ids.index(c.id) if c.id in credential_ids else 0)
    base = services.settings.base_url
    if event == "voided":
        return [_voided(c, issuer, base) for c in rows if c.revoked_at is not None]
    learners = sorted({c.learner_id for c in rows})
    holders = issued.recipients(session, issuer.id, rows)
    accounts = _accounts(session, settings, issuer.id, learners)
    found = []
    for credential in rows:
        holder = holders[credential.id]
        actor: dict[str, Any] = {"objectType": "Agent"}
        if holder.name:
            actor["name"] = holder.name
        if credential.learner_id in accounts:
            actor["account"] = {
                "homePage": settings.account_home_page,
                "name": accounts[credential.learner_id],
            }
        elif holder.email:
            actor["mbox"] = f"mailto:{holder.email}"
        else:
            continue  # the learner deleted their account: nobody to name
        found.append(_earned(credential, actor, base))
    return found


# The effect -----------------------------------------------------------------------------------


def _awaiting(session: Session, issuer_id: int, credentials: list[str]) -> bool:
    """Whether an ``earned`` statement about one of ``credentials`` is still to be sent: its
    voiding must not overtake it (an LRS may keep a statement that arrives after its voiding)."""
    pending = session.exec(
        select(PendingEffect.payload).where(
            PendingEffect.kind == XAPI_SEND, col(PendingEffect.done_at).is_(None)
        )
    )
    wanted = set(credentials)
    return any(
        p.get("issuer") == issuer_id
        and p.get("event") == "earned"
        and wanted.intersection(p.get("credentials", []))
        for p in pending
    )


def prepare(
    session: Session, services: Services, payload: dict[str, Any], until: datetime
) -> Send | None:
    """The ``xapi.send`` effect: read the statements for ``payload["credentials"]``; the
    returned call posts them and raises (the effect is then retried with back-off) unless the
    LRS accepts them. Nothing is recorded but the effect's being done."""
    issuer = session.get(Issuer, int(payload["issuer"]))
    if issuer is None or issuer.id is None:
        return None
    settings = settings_of(session, issuer.id)
    if settings is None or not settings.lrs_endpoint or settings.lrs_secret is None:
        return None  # the LRS was removed meanwhile
    event = str(payload["event"])
    if event == "voided" and _awaiting(session, issuer.id, list(payload["credentials"])):
        raise HostFailed(
            f"the {event} statement waits until the LRS of {issuer.slug} has accepted the "
            "earned statement it voids"
        )
    body = statements(session, services, issuer, settings, event, list(payload["credentials"]))
    if not body:
        return None
    try:
        secret = unseal(services.settings.key_passphrase, SECRET_LABEL, settings.lrs_secret)
    except Unsealable:
        raise HostFailed("Laurel can no longer read the LRS secret: set the LRS again") from None
    slug, endpoint, key = issuer.slug, settings.lrs_endpoint, settings.lrs_key or ""

    def send() -> Record:
        response = call(
            services,
            "POST",
            f"{endpoint}/statements",
            headers={"X-Experience-API-Version": VERSION, "Content-Type": "application/json"},
            auth=(key, secret),
            json=body,
        )
        if response.status_code == 409:  # it has them already (an earlier attempt's, unrecorded)
            log.info("the LRS of %s already had statements %s", slug, body[0]["id"])
        elif not 200 <= response.status_code < 300:
            raise HostFailed(
                f"the LRS of {slug} answered HTTP {response.status_code} to "
                f"{len(body)} {event} statement(s)"
            )
        return _nothing

    return send


def _nothing(session: Session) -> None:
    """What an accepted call records: nothing but the effect's being done."""
