"""Staff sign-in to the console with the institute's OpenID Connect provider (``LAUREL_OIDC_*``):
the authorization code flow with PKCE (S256), ``state`` and ``nonce``, as a confidential client.

Starting a sign-in stores a row (a ``SignInLink`` of purpose ``staff-sso``: the SHA-256 of the
``state``, valid 10 minutes) bound to the browser by a random secret in a short-lived cookie:
the row keeps the secret's SHA-256, and the PKCE verifier and the ``nonce`` are derived from the
secret and the state, so nothing else needs storing. The callback uses the row once (one
conditional ``UPDATE``: a replayed or foreign ``state`` finds nothing), exchanges the code, and
validates the ID token with Authlib's ``CodeIDToken`` claims (``iss``, ``aud``/``azp``, ``exp``,
``iat``, ``nonce``) after checking its signature against the provider's JWKS (asymmetric
algorithms only). The email it names must be verified (``email_verified`` true).

It lives with the other clients of other hosts: every document (discovery, JWKS, token) is
fetched through ``issuer.obclient.transport.call`` (https only; loopback ``http`` only when
Laurel itself runs on loopback ``http``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import and_, update
from sqlmodel import Session, col

from issuer.context import Services
from issuer.core.errors import Forbidden, HostFailed
from issuer.core.settings import Settings
from issuer.models import SignInLink
from issuer.models.base import utcnow
from issuer.obclient.transport import call, check_url, json_object
from issuer.people.signin import digest
from issuer.schemas import normalize_email

PURPOSE = "staff-sso"
LIFETIME = timedelta(minutes=10)
CALLBACK = "/console/sso/callback"
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")  # never HS256: the client secret is no key
LEEWAY = 60  # seconds of clock difference allowed on exp / iat
MFA_METHODS = frozenset({"mfa", "otp"})
"""``amr`` values (RFC 8176) that count as the console's second factor."""
EXPIRED = "this sign-in has expired or was already used; start again from the sign-in page"


class SsoRefused(Forbidden):
    title = "Single sign-on refused"


@dataclass(frozen=True)
class Started:
    url: str
    """The provider's authorization URL, where the browser goes next."""
    secret: str
    """The browser's binding, for the short-lived cookie."""


@dataclass(frozen=True)
class Identity:
    email: str
    """The verified email the provider vouches for (normalised)."""
    multi_factor: bool
    """The provider says the person used more than one factor (``amr``: ``mfa`` or ``otp``)."""


def _derived(what: str, secret: str, state: str) -> str:
    raw = hashlib.sha256(f"{what}\0{secret}\0{state}".encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")  # 43 characters


def _configured(settings: Settings) -> tuple[str, str, str]:
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        raise SsoRefused("single sign-on is not set up on this Laurel")
    return settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret


def discover(services: Services) -> dict[str, Any]:
    """The provider's discovery document, checked: it names the configured issuer and https
    endpoints (``HostFailed`` otherwise)."""
    issuer, _, _ = _configured(services.settings)
    url = check_url(services, issuer.rstrip("/") + "/.well-known/openid-configuration", "issuer")
    answer = call(services, "GET", url, headers={"Accept": "application/json"})
    if answer.status_code != 200:
        raise HostFailed(
            f"the identity provider's discovery document answered {answer.status_code}"
        )
    document = json_object(answer, "the identity provider's discovery document")
    if document.get("issuer") != issuer:
        raise HostFailed("the identity provider's discovery document names another issuer")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        check_url(services, document.get(name), f"the identity provider's {name}")
    return document


def start(session: Session, services: Services, document: dict[str, Any]) -> Started:
    """A new sign-in (``document``: the provider's, from ``discover``): the row of its
    ``state``, and where to send the browser."""
    _, client_id, _ = _configured(services.settings)
    secret, state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        SignInLink(
            token_hash=digest(state),
            email="",
            purpose=PURPOSE,
            requester=digest(secret),  # the browser's binding
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    verifier = _derived("pkce", secret, state)
    url = add_params_to_uri(
        document["authorization_endpoint"],
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", services.settings.base_url + CALLBACK),
            ("scope", services.settings.oidc_scopes),
            ("state", state),
            ("nonce", _derived("nonce", secret, state)),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    return Started(url, secret)


def use_state(session: Session, secret: str | None, state: str) -> None:
    """Use up the sign-in of ``state``: ``SsoRefused`` unless it was started in this browser
    (``secret``), less than 10 minutes ago, and not used yet."""
    if not secret or len(secret) > 100 or not state or len(state) > 100:
        raise SsoRefused(EXPIRED)
    used = session.execute(
        update(SignInLink)
        .where(
            and_(
                col(SignInLink.token_hash) == digest(state),
                col(SignInLink.purpose) == PURPOSE,
                col(SignInLink.requester) == digest(secret),
                col(SignInLink.used_at).is_(None),
                col(SignInLink.expires_at) > utcnow(),
            )
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
        raise SsoRefused(EXPIRED)


def identify(services: Services, secret: str, state: str, code: str) -> Identity:
    """The identity of a sign-in (its ``state`` used up already, ``use_state``) that came back
    with ``code``: the code exchanged, the ID token checked; ``SsoRefused`` (or ``HostFailed``)
    if anything does not hold. Only network, no database: nothing is held while waiting."""
    if not code or len(code) > 2000:
        raise SsoRefused("the identity provider sent no authorization code")
    _, client_id, client_secret = _configured(services.settings)
    document = discover(services)
    answer = call(
        services,
        "POST",
        document["token_endpoint"],
        auth=(client_id, client_secret),
        headers={"Accept": "application/json"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": services.settings.base_url + CALLBACK,
            "code_verifier": _derived("pkce", secret, state),
        },
    )
    if answer.status_code != 200:
        raise SsoRefused(f"the identity provider refused the sign-in ({answer.status_code})")
    id_token = json_object(answer, "the identity provider's token answer").get("id_token")
    if not isinstance(id_token, str):
        raise SsoRefused("the identity provider sent no ID token")
    claims = _validated(services, document, id_token, _derived("nonce", secret, state))
    if claims.get("email_verified") is not True:
        raise SsoRefused("the identity provider does not vouch for this email (not verified)")
    try:
        email = normalize_email(str(claims.get("email") or ""))
    except ValueError:
        raise SsoRefused("the identity provider sent no usable email") from None
    amr = claims.get("amr")
    methods = {str(method) for method in amr} if isinstance(amr, list) else set()
    return Identity(email, bool(methods & MFA_METHODS))


def _validated(
    services: Services, document: dict[str, Any], id_token: str, nonce: str
) -> CodeIDToken:
    issuer, client_id, _ = _configured(services.settings)
    jwks = call(services, "GET", document["jwks_uri"], headers={"Accept": "application/json"})
    if jwks.status_code != 200:
        raise HostFailed(f"the identity provider's JWKS answered {jwks.status_code}")
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    if not isinstance(offered, list):
        raise SsoRefused(
            "the identity provider's id_token_signing_alg_values_supported is not a list"
        )
    algorithms = [name for name in ALGORITHMS if name in offered]
    try:
        keys = KeySet.import_key_set(json_object(jwks, "the identity provider's JWKS"))  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=algorithms)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client_id},
                "nonce": {"essential": True, "value": nonce},
            },
            params={"nonce": nonce, "client_id": client_id},
        )
        claims.validate(leeway=LEEWAY)
    except (JoseError, ValueError) as exc:
        raise SsoRefused(f"the identity provider's ID token is not valid ({exc})") from exc
    except (KeyError, TypeError, AttributeError) as exc:  # a JWKS or token of another shape
        raise SsoRefused(f"the identity provider's keys are not usable ({exc!r:.100})") from exc
    return claims
