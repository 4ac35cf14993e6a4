"""A learner's connections to OB 3.0 API hosts: registering Laurel with a host (RFC 7591, the
OB profile's required fields), the authorization code grant with PKCE S256 (RFC 7636) whose
``state`` is bound to the learner's web session and used once, the token exchange and refresh
with HTTP Basic client authentication (RFC 6749 §2.3.1, §4.1.3, §6; rotated refresh tokens are
kept), and disconnecting (RFC 7009 revocation where the host publishes a revocation URL)."""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from typing import Any
from urllib.parse import quote_plus, urlencode

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, HostFailed, NotFound
from issuer.crypto.sealing import seal, unseal
from issuer.models import ObConnection, ObHost, ObPush
from issuer.models.base import aware, utcnow
from issuer.oauth.clients import OFFLINE
from issuer.obclient.discovery import UPSERT, Description, discover
from issuer.obclient.transport import call, json_object

log = logging.getLogger("laurel.obclient")
CALLBACK = "/wallet/connections/callback"
SOFTWARE_ID = "laurel"
STATE_LIFETIME = timedelta(minutes=10)
EARLY = timedelta(seconds=30)
"""Refresh an access token this long before it expires, not after a wasted call."""


def _seal(services: Services, label: str, value: str) -> str:
    return seal(services.settings.key_passphrase, label, value)


def _unseal(services: Services, label: str, value: str) -> str:
    return unseal(services.settings.key_passphrase, label, value)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def redirect_uri(services: Services) -> str:
    return services.settings.base_url.rstrip("/") + CALLBACK


def registration(services: Services) -> dict[str, Any]:
    """Laurel's client metadata: every field the OB profile requires, all on Laurel's host."""
    base = services.settings.base_url.rstrip("/")
    return {
        "client_name": "Laurel",
        "client_uri": base + "/",
        "logo_uri": base + "/logo.svg",
        "tos_uri": base + "/terms",
        "policy_uri": base + "/privacy",
        "software_id": SOFTWARE_ID,
        "software_version": version("laurel"),
        "redirect_uris": [redirect_uri(services)],
        "scope": f"{UPSERT} {OFFLINE}",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    }


def _register(session: Session, services: Services, found: Description) -> ObHost:
    """The host's registration: kept from before (its endpoints refreshed from the SDD just
    read), or made now."""
    host = _host_for(session, found.sdd_url)
    if host is None:
        host = _new_registration(services, found)
        try:
            with session.begin_nested():
                session.add(host)
                session.flush()
        except IntegrityError:  # a concurrent connect registered first: use that one
            host = _host_for(session, found.sdd_url)
            assert host is not None
    host.name = found.name
    host.api_base = found.api_base
    host.authorize_url = found.authorize_url
    host.token_url = found.token_url
    host.revocation_url = found.revocation_url
    session.add(host)
    session.flush()
    return host


def _host_for(session: Session, sdd_url: str) -> ObHost | None:
    return session.exec(select(ObHost).where(ObHost.sdd_url == sdd_url)).first()


def _new_registration(services: Services, found: Description) -> ObHost:
    response = call(services, "POST", found.registration_url, json=registration(services))
    answer = json_object(response, "the registration answer")
    if response.status_code not in (200, 201):
        reason = answer.get("error_description") or answer.get("error") or "no reason given"
        raise HostFailed(f"{found.name} refused to register Laurel: {str(reason)[:300]}")
    client_id, secret = answer.get("client_id"), answer.get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str):
        raise HostFailed(f"{found.name}'s registration answer lacks client_id/client_secret")
    return ObHost(
        sdd_url=found.sdd_url,
        client_id=client_id[:500],
        client_secret=_seal(services, "ob_host.client_secret", secret),
        name=found.name,
        api_base=found.api_base,
        authorize_url=found.authorize_url,
        token_url=found.token_url,
    )


def start(
    session: Session, services: Services, learner_id: int, web_session_id: int, sdd_url: str
) -> str:
    """Begin connecting the learner to the host at ``sdd_url``: discover, register if needed,
    remember a fresh ``state`` and PKCE verifier; returns the authorization URL to send the
    learner's browser to."""
    found = discover(services, sdd_url)
    host = _register(session, services, found)
    assert host.id is not None
    connection = _connection(session, learner_id, host.id) or ObConnection(
        learner_id=learner_id, host_id=host.id
    )
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    connection.state_hash = _digest(state)
    connection.web_session_id = web_session_id
    connection.code_verifier = _seal(services, "ob_connection.code_verifier", verifier)
    connection.state_expires_at = utcnow() + STATE_LIFETIME
    session.add(connection)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": host.client_id,
        "redirect_uri": redirect_uri(services),
        "scope": f"{UPSERT} {OFFLINE}",
        "state": state,
        "code_challenge": challenge.rstrip(b"=").decode("ascii"),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in host.authorize_url else "?"
    return f"{host.authorize_url}{separator}{urlencode(params)}"


def _connection(session: Session, learner_id: int, host_id: int) -> ObConnection | None:
    query = select(ObConnection).where(
        ObConnection.learner_id == learner_id, ObConnection.host_id == host_id
    )
    return session.exec(query).first()


@dataclass(frozen=True)
class Finished:
    host_name: str
    error: str | None = None
    host_failed: bool = False
    """The error is the host's fault (not the learner's refusal)."""


def finish(
    session: Session,
    services: Services,
    learner_id: int,
    web_session_id: int,
    *,
    state: str,
    code: str | None,
    error: str | None,
) -> Finished:
    """The host sent the learner back: check ``state`` (this learner, this web session, not
    used, not expired; ``BadRequest`` otherwise), use it up, and exchange the code for tokens.
    A refusal or a failing host is returned as the outcome's ``error`` (the state stays used)."""
    query = select(ObConnection).where(
        ObConnection.learner_id == learner_id, ObConnection.state_hash == _digest(state)
    )
    connection = session.exec(query).first()
    if (
        connection is None
        or connection.web_session_id != web_session_id
        or connection.state_expires_at is None
        or aware(connection.state_expires_at) < utcnow()
        or connection.code_verifier is None
    ):
        raise BadRequest("This connection request is unknown, used or expired: start again.")
    host = session.get(ObHost, connection.host_id)
    assert host is not None
    verifier = _unseal(services, "ob_connection.code_verifier", connection.code_verifier)
    connection.state_hash = connection.code_verifier = connection.state_expires_at = None
    session.add(connection)
    if error or not code:
        return Finished(host.name, f"{host.name} did not connect: {(error or 'no code')[:200]}")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(services),
        "code_verifier": verifier,
        "scope": f"{UPSERT} {OFFLINE}",
    }
    try:
        _store_tokens(services, connection, _token_request(services, host, form))
    except HostFailed as exc:
        return Finished(host.name, exc.detail, host_failed=True)
    connection.connected_at = utcnow()
    return Finished(host.name)


def _client_auth(services: Services, host: ObHost) -> tuple[str, str]:
    """HTTP Basic credentials, each form-urlencoded first (RFC 6749 §2.3.1)."""
    secret = _unseal(services, "ob_host.client_secret", host.client_secret)
    return quote_plus(host.client_id), quote_plus(secret)


def _token_request(services: Services, host: ObHost, form: dict[str, str]) -> dict[str, Any]:
    response = call(services, "POST", host.token_url, data=form, auth=_client_auth(services, host))
    answer = json_object(response, "the token answer")
    if response.status_code != 200:
        reason = answer.get("error_description") or answer.get("error") or "no reason given"
        raise HostFailed(
            f"{host.name} refused the token request (HTTP {response.status_code}: "
            f"{str(reason)[:200]})"
        )
    token_type = answer.get("token_type")
    if not isinstance(answer.get("access_token"), str) or str(token_type).lower() != "bearer":
        raise HostFailed(f"{host.name}'s token answer has no bearer access_token")
    return answer


def _store_tokens(services: Services, connection: ObConnection, answer: dict[str, Any]) -> None:
    connection.access_token = _seal(
        services, "ob_connection.access_token", str(answer["access_token"])
    )
    refresh = answer.get("refresh_token")
    if isinstance(refresh, str) and refresh:  # rotated: the old one is dead now
        connection.refresh_token = _seal(services, "ob_connection.refresh_token", refresh)
    lifetime = answer.get("expires_in")
    connection.expires_at = (
        utcnow() + timedelta(seconds=int(lifetime))
        if isinstance(lifetime, int) and lifetime > 0
        else None
    )
    if isinstance(answer.get("scope"), str):
        connection.scope = str(answer["scope"])[:1000]


def access_token(
    session: Session, services: Services, connection: ObConnection, *, refresh: bool = False
) -> str:
    """A usable access token for ``connection``: the stored one, or (when it has expired, is
    about to, or ``refresh``) a new one from the refresh token. ``HostFailed`` when the host
    no longer accepts the refresh token: the connection then needs connecting again."""
    if connection.access_token is None:
        raise HostFailed("this badge host is not connected: connect it again")
    expired = connection.expires_at is not None and aware(connection.expires_at) - EARLY <= utcnow()
    if not (refresh or expired):
        return _unseal(services, "ob_connection.access_token", connection.access_token)
    host = session.get(ObHost, connection.host_id)
    assert host is not None
    if connection.refresh_token is None:
        raise HostFailed(f"the token for {host.name} expired and there is no refresh token")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": _unseal(services, "ob_connection.refresh_token", connection.refresh_token),
        "scope": connection.scope or UPSERT,
    }
    _store_tokens(services, connection, _token_request(services, host, form))
    session.add(connection)
    log.info("refreshed the access token for connection %s", connection.id)
    assert connection.access_token is not None
    return _unseal(services, "ob_connection.access_token", connection.access_token)


def connected(session: Session, learner_id: int) -> list[tuple[ObConnection, ObHost]]:
    """The learner's connected hosts, oldest first."""
    query = (
        select(ObConnection, ObHost)
        .join(ObHost, col(ObHost.id) == col(ObConnection.host_id))
        .where(ObConnection.learner_id == learner_id, col(ObConnection.connected_at).isnot(None))
        .order_by(col(ObConnection.id))
    )
    return [(connection, host) for connection, host in session.exec(query)]


def mine(session: Session, learner_id: int, connection_id: int) -> tuple[ObConnection, ObHost]:
    for connection, host in connected(session, learner_id):
        if connection.id == connection_id:
            return connection, host
    raise NotFound("there is no such connected badge host")


def send_new(session: Session, learner_id: int, connection_id: int, consent: bool) -> ObConnection:
    """Record whether the learner wants badges issued to them from now on sent to this host."""
    connection, _host = mine(session, learner_id, connection_id)
    connection.send_new = consent
    session.add(connection)
    return connection


def disconnect(
    session: Session, services: Services, learner_id: int, connection_id: int
) -> str | None:
    """Forget the connection and its pushes; first revoke its tokens at the host when it
    published a revocation URL. Returns a warning when the host could not be told."""
    connection, host = mine(session, learner_id, connection_id)
    warning = None
    if host.revocation_url:
        for label, hint in (("refresh_token", "refresh_token"), ("access_token", "access_token")):
            sealed = getattr(connection, label)
            if sealed is None:
                continue
            form = {"token": _unseal(services, f"ob_connection.{label}", sealed)}
            form["token_type_hint"] = hint
            try:
                answer = call(
                    services,
                    "POST",
                    host.revocation_url,
                    data=form,
                    auth=_client_auth(services, host),
                )
                if answer.status_code != 200:
                    warning = f"{host.name} answered HTTP {answer.status_code} to the revocation"
            except HostFailed as exc:
                warning = exc.detail
    for push in session.exec(select(ObPush).where(ObPush.connection_id == connection_id)):
        session.delete(push)
    session.flush()
    session.delete(connection)
    return warning
