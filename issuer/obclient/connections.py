"""A learner's connections to OB 3.0 API hosts: registering Laurel with a host (RFC 7591, the
OB profile's required fields), the authorization code grant with PKCE S256 (RFC 7636) whose
``state`` is bound to the learner's web session and used once, and whose answer must not name
another server (RFC 9207 ``iss``: a mix-up, ``check_issuer``), the token exchange and refresh
with HTTP Basic client authentication (RFC 6749 §2.3.1, §4.1.3, §6; rotated refresh tokens are
kept), and disconnecting (RFC 7009 revocation where the host publishes a revocation URL).

Every call to the host is made with no database transaction open (docs/operations.md, "no
transaction stays open across the network"): the functions that call a host take no session,
and those that take one call no host. The wallet's pages (``issuer.web.connections``) read what a
call needs in one short unit of work and record its outcome in another, which checks again what
may have changed meanwhile."""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core.errors import BadRequest, HostFailed, NotFound
from issuer.crypto.sealing import seal, unseal
from issuer.models import ObConnection, ObHost, ObPush
from issuer.models.base import aware, utcnow
from issuer.oauth.clients import OFFLINE
from issuer.obclient.discovery import UPSERT, Description
from issuer.obclient.transport import call, json_object

log = logging.getLogger("laurel.obclient")
CALLBACK = "/wallet/connections/callback"
SOFTWARE_ID = "laurel"
STATE_LIFETIME = timedelta(minutes=10)
EARLY = timedelta(seconds=30)
"""Refresh an access token this long before it expires, not after a wasted call."""
LONGEST_LIFETIME = timedelta(days=366)
"""The longest an access token is believed to live, whatever the host says (``expires_in``):
no token should go a year unrefreshed, and a date far enough ahead cannot be computed at all."""


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


def _register(session: Session, found: Description, fresh: ObHost | None) -> ObHost:
    """The host's registration: kept from before (its endpoints refreshed from the SDD just
    read), or ``fresh``, made (``register``) for want of one."""
    host = _host_for(session, found.sdd_url)
    if host is None:
        if fresh is None:
            raise HostFailed(f"Laurel is not registered with {found.name}: try again")
        host = fresh
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


def registered(session: Session, sdd_url: str) -> bool:
    """Whether Laurel has registered with the host of this SDD already."""
    return _host_for(session, sdd_url) is not None


def _host_for(session: Session, sdd_url: str) -> ObHost | None:
    return session.exec(select(ObHost).where(ObHost.sdd_url == sdd_url)).first()


def register(services: Services, found: Description) -> ObHost:
    """Register Laurel with the host (RFC 7591): the registration, not stored yet (``start``
    stores it). Calls the host; takes no session."""
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
    session: Session,
    services: Services,
    learner_id: int,
    web_session_id: int,
    found: Description,
    fresh: ObHost | None = None,
) -> str:
    """Begin connecting the learner to the host ``found`` (its SDD, read already): keep the
    registration (``fresh`` when there was none), remember a fresh ``state`` and PKCE verifier;
    returns the authorization URL to send the learner's browser to. Calls no host."""
    host = _register(session, found, fresh)
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


@dataclass(frozen=True)
class Exchange:
    """A code to exchange for tokens: what the token request needs, read in a unit of work."""

    connection_id: int
    host: ObHost
    verifier: str


def use_state(
    session: Session, services: Services, learner_id: int, web_session_id: int, state: str
) -> Exchange:
    """The host sent the learner back: check ``state`` (this learner, this web session, not
    used, not expired; ``BadRequest`` otherwise) and use it up. Calls no host."""
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
    assert host is not None and connection.id is not None
    verifier = _unseal(services, "ob_connection.code_verifier", connection.code_verifier)
    connection.state_hash = connection.code_verifier = connection.state_expires_at = None
    session.add(connection)
    return Exchange(connection.id, host, verifier)


def exchange(
    services: Services, pending: Exchange, code: str, issuer: str | None
) -> dict[str, Any]:
    """The token answer for ``code`` (RFC 6749 §4.1.3); ``HostFailed`` when the host refuses
    or fails, or when the authorization response named another server (``issuer``, its RFC 9207
    ``iss``: the code is then not sent anywhere). Calls the host; takes no session."""
    check_issuer(pending.host, issuer)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(services),
        "code_verifier": pending.verifier,
        "scope": f"{UPSERT} {OFFLINE}",
    }
    return _token_request(services, pending.host, form)


def check_issuer(host: ObHost, issuer: str | None) -> None:
    """Refuse an authorization response whose RFC 9207 ``iss`` is not the host's: its code was
    issued by another server (a mix-up: the host sent the learner on to it), and sending that
    code and the PKCE verifier to this host's token URL would hand them to this host. An OB SDD
    names no issuer identifier, so the host's is taken to be on its SDD's origin (scheme and
    host; any path). Hosts that send no ``iss`` are not checked."""
    if issuer is None:
        return
    expected = urlsplit(host.sdd_url)
    try:
        given = urlsplit(issuer)
    except ValueError:  # not a URL at all
        given = None
    if (
        given is None
        or (given.scheme, given.netloc.lower()) != (expected.scheme, expected.netloc.lower())
        or given.query
        or given.fragment
    ):
        raise HostFailed(
            f"{host.name} sent you on to another server ({issuer[:200]}): refused, and that "
            f"server's code was not sent to {host.name}. Connect only hosts you trust."
        )


def connect(
    session: Session, services: Services, pending: Exchange, answer: dict[str, Any]
) -> Finished:
    """Keep the tokens of ``answer``: the connection is connected. Calls no host. If the
    learner disconnected meanwhile, nothing is kept."""
    connection = session.get(ObConnection, pending.connection_id)
    if connection is None:
        return Finished(pending.host.name, f"{pending.host.name} was disconnected meanwhile")
    _store_tokens(services, connection, answer)
    connection.connected_at = utcnow()
    session.add(connection)
    return Finished(pending.host.name)


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


def _store_tokens(
    services: Services, target: ObConnection | Tokens, answer: dict[str, Any]
) -> None:
    target.access_token = _seal(services, "ob_connection.access_token", str(answer["access_token"]))
    refresh = answer.get("refresh_token")
    if isinstance(refresh, str) and refresh:  # rotated: the old one is dead now
        target.refresh_token = _seal(services, "ob_connection.refresh_token", refresh)
    target.expires_at = _expiry(answer.get("expires_in"))
    if isinstance(answer.get("scope"), str):
        target.scope = str(answer["scope"])[:1000]


def _expiry(lifetime: object) -> datetime | None:
    """When an access token expires, from the host's ``expires_in`` (RFC 6749 §5.1: seconds,
    recommended, not required): at most ``LONGEST_LIFETIME`` ahead. One that is missing or not a
    positive number is taken as missing, not as the host failing (the token works): the token is
    then used until the host answers 401, which refreshes it."""
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float):
        return None
    if not math.isfinite(lifetime) or lifetime <= 0:
        return None
    return utcnow() + timedelta(seconds=min(lifetime, LONGEST_LIFETIME.total_seconds()))


@dataclass
class Tokens:
    """A connection's tokens, read in one unit of work, used (and refreshed) with none open,
    and stored back in another (``store``)."""

    host: ObHost
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None
    scope: str | None
    refreshed_from: str | None = None
    """The sealed refresh token this copy was refreshed with, if it was."""

    @property
    def api_base(self) -> str:
        return self.host.api_base

    def access(self, services: Services, *, refresh: bool = False) -> str:
        """A usable access token: the stored one, or (when it has expired, is about to, or
        ``refresh``) a new one from the refresh token. ``HostFailed`` when the host no longer
        accepts the refresh token: the connection then needs connecting again."""
        if self.access_token is None:
            raise HostFailed("this badge host is not connected: connect it again")
        expired = self.expires_at is not None and aware(self.expires_at) - EARLY <= utcnow()
        if not (refresh or expired):
            return _unseal(services, "ob_connection.access_token", self.access_token)
        if self.refresh_token is None:
            raise HostFailed(
                f"the token for {self.host.name} expired and there is no refresh token"
            )
        used = self.refresh_token
        form = {
            "grant_type": "refresh_token",
            "refresh_token": _unseal(services, "ob_connection.refresh_token", used),
            "scope": self.scope or UPSERT,
        }
        _store_tokens(services, self, _token_request(services, self.host, form))
        if self.refreshed_from is None:
            self.refreshed_from = used
        assert self.access_token is not None
        return _unseal(services, "ob_connection.access_token", self.access_token)

    def store(self, connection: ObConnection) -> None:
        """Keep refreshed tokens (the host rotated the refresh token: the old one is dead),
        unless the connection's tokens changed meanwhile (connected again)."""
        if self.refreshed_from is None or connection.refresh_token != self.refreshed_from:
            return
        connection.access_token, connection.refresh_token = self.access_token, self.refresh_token
        connection.expires_at, connection.scope = self.expires_at, self.scope
        log.info("refreshed the access token for connection %s", connection.id)


def tokens_of(connection: ObConnection, host: ObHost) -> Tokens:
    return Tokens(
        host,
        connection.access_token,
        connection.refresh_token,
        connection.expires_at,
        connection.scope,
    )


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


@dataclass(frozen=True)
class Forgotten:
    """A connection just forgotten, and what telling its host to revoke its tokens needs."""

    host: ObHost
    tokens: tuple[tuple[str, str], ...]
    """(label, sealed token) of each token to revoke: the refresh token first."""


def forget(session: Session, learner_id: int, connection_id: int) -> Forgotten:
    """Forget the connection and its pushes; returns what ``revoke`` needs. Calls no host."""
    connection, host = mine(session, learner_id, connection_id)
    tokens = tuple(
        (label, sealed)
        for label in ("refresh_token", "access_token")
        if (sealed := getattr(connection, label)) is not None
    )
    for push in session.exec(select(ObPush).where(ObPush.connection_id == connection_id)):
        session.delete(push)
    session.flush()
    session.delete(connection)
    return Forgotten(host, tokens)


def revoke(services: Services, forgotten: Forgotten) -> str | None:
    """Tell the host to revoke the forgotten connection's tokens (RFC 7009), when it published
    a revocation URL. Returns a warning when the host could not be told. Calls the host; takes
    no session."""
    host, warning = forgotten.host, None
    if not host.revocation_url:
        return None
    for label, sealed in forgotten.tokens:
        form = {"token": _unseal(services, f"ob_connection.{label}", sealed)}
        form["token_type_hint"] = label
        try:
            answer = call(
                services, "POST", host.revocation_url, data=form, auth=_client_auth(services, host)
            )
            if answer.status_code != 200:
                warning = f"{host.name} answered HTTP {answer.status_code} to the revocation"
        except HostFailed as exc:
            warning = exc.detail
    return warning
