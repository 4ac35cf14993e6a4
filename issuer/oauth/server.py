"""The authorization server, built on Authlib's grant and endpoint code (RFC 6749 authorization
code grant, RFC 7636 PKCE, RFC 6749 §6 refresh, RFC 7009 revocation, RFC 7591 registration,
RFC 8414 metadata) with Laurel's tables behind it, as the OB 3.0 security profile requires.

``OAuthServer`` works on the request's unit of work (``session``) and never commits. It knows no
web framework: ``issuer.http.oauth`` adds how requests are read and responses written.

The profile, on top of Authlib's defaults:

* authorize: ``redirect_uri`` is required and must be registered (else an error shown to the
  user, never a redirect); ``state`` and ``scope`` are required; PKCE with ``S256`` only;
  the redirect back carries the granted ``scope`` and, with an error too, ``iss`` (RFC 9207:
  this server's issuer identifier, ``LAUREL_BASE_URL``, so a client can detect a mix-up);
* codes live 10 minutes and are used once: the first exchange claims the code with one
  conditional UPDATE; a second one is refused and revokes every token the code led to;
* refresh tokens rotate: using one revokes it (and its access token); presenting a rotated or
  revoked refresh token again revokes every token of that authorization (RFC 9700 §4.14.2);
* clients authenticate with ``client_secret_basic`` only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    InvalidGrantError,
    InvalidRequestError,
    TokenMixin,
    UnsupportedResponseTypeError,
    UnsupportedTokenTypeError,
    grants,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint, InvalidClientMetadataError
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import update
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.models import Learner, OAuthClient, OAuthCode, OAuthToken
from issuer.models.base import utcnow
from issuer.oauth import oid4vci
from issuer.oauth.clients import (
    AUTH_METHOD,
    GRANT_TYPES,
    OB_SCOPES,
    OFFLINE,
    SUPPORTED_SCOPES,
    Client,
    basic_credentials,
    check_metadata,
    digest,
    loopback_base,
)
from issuer.oauth.oid4vci import PRE_AUTHORIZED

AUTHORIZE, TOKEN, REGISTER, REVOKE = (
    "/oauth/authorize",
    "/oauth/token",
    "/oauth/register",
    "/oauth/revoke",
)
CODE_LIFETIME = timedelta(minutes=10)
ACCESS_SECONDS = 3600
REFRESH_LIFETIME = timedelta(days=180)


def metadata(base_url: str) -> dict[str, Any]:
    """RFC 8414 authorization server metadata."""
    return {
        "issuer": base_url,
        "authorization_endpoint": base_url + AUTHORIZE,
        "token_endpoint": base_url + TOKEN,
        "registration_endpoint": base_url + REGISTER,
        "revocation_endpoint": base_url + REVOKE,
        "scopes_supported": list(OB_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [*GRANT_TYPES, PRE_AUTHORIZED],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "revocation_endpoint_auth_methods_supported": [AUTH_METHOD],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": base_url + "/docs",
    }


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]  # Authlib is untyped: its mixin is Any
    row: OAuthCode

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


@dataclass
class Token(TokenMixin):  # type: ignore[misc]  # Authlib is untyped: its mixin is Any
    row: OAuthToken

    def check_client(self, client: Client) -> bool:
        return self.row.client_id == client.id

    def get_scope(self) -> str:
        return self.row.scope


def _random(**_: Any) -> str:
    return secrets.token_urlsafe(32)


def _basic(query_client: Any, request: Any) -> Client | None:
    """``client_secret_basic`` (RFC 6749 §2.3.1): the client whose id and secret the request's
    HTTP Basic header gives, or ``None`` (then Authlib answers 401 ``invalid_client``)."""
    found = basic_credentials(request.headers.get("Authorization"))
    if found is None:
        return None
    client: Client | None = query_client(found[0])
    return client if client is not None and client.check_client_secret(found[1]) else None


def _live_learner(session: Session, learner_id: int) -> Learner | None:
    learner = session.get(Learner, learner_id)
    return learner if learner is not None and learner.deleted_at is None else None


def revoke_family(session: Session, code_id: int | None, token_id: int | None = None) -> None:
    """Revoke every token issued from the code ``code_id`` (and its refreshes)."""
    now = utcnow()
    which = (
        col(OAuthToken.code_id) == code_id
        if code_id is not None
        else col(OAuthToken.id) == token_id
    )
    session.execute(
        update(OAuthToken).where(which, col(OAuthToken.revoked_at).is_(None)).values(revoked_at=now)
    )


class S256Challenge(CodeChallenge):  # type: ignore[misc]  # Authlib is untyped
    """PKCE as the OB profile requires it: always, and only with ``S256``."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: 'code_challenge' is missing")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be 'S256'")
        super().validate_code_challenge(grant, redirect_uri)


class _OfflineOnly:
    """Tokens carry a refresh token only when their scope includes ``offline_access``: the
    consent page then named it ("keep this access while you are away"), so a client registered
    for the refresh grant cannot keep access the learner was never told of (audit round 8)."""

    def generate_token(self, *args: Any, scope: str | None = None, **options: Any) -> Any:
        if OFFLINE not in scope_to_list(scope or ""):
            options["include_refresh_token"] = False
        return super().generate_token(*args, scope=scope, **options)  # type: ignore[misc]


class CodeGrant(_OfflineOnly, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [AUTH_METHOD]

    @property
    def db(self) -> Session:
        session: Session = self.server.db
        return session

    @staticmethod
    def validate_authorization_redirect_uri(request: Any, client: Client) -> str:
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("'redirect_uri' is required")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("'redirect_uri' is not registered for this client")
        return str(uri)

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        if not self.request.payload.state:
            raise InvalidRequestError("'state' is required", redirect_uri=redirect_uri)
        return redirect_uri

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        status, body, headers = super().create_authorization_response(redirect_uri, grant_user)
        issuer = self.server.services.settings.base_url
        location = add_params_to_uri(
            dict(headers)["Location"], [("scope", self.request.scope), ("iss", issuer)]
        )
        return status, body, [("Location", location)]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        now = utcnow()
        self.db.add(
            OAuthCode(
                code_hash=digest(code),
                client_id=request.client.id,
                learner_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = self.db.exec(
            select(OAuthCode).where(
                OAuthCode.code_hash == digest(code), OAuthCode.client_id == client.id
            )
        ).first()
        if row is None:
            return None
        if row.used_at is not None:  # a replay: what the code gave is no longer safe
            revoke_family(self.db, row.id)
            return None
        return Code(row) if row.expires_at > utcnow() else None

    def validate_token_request(self) -> None:
        super().validate_token_request()  # with the PKCE check
        code: Code = self.request.authorization_code
        claimed = self.db.execute(
            update(OAuthCode)
            .where(col(OAuthCode.id) == code.row.id, col(OAuthCode.used_at).is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
            revoke_family(self.db, code.row.id)
            raise InvalidGrantError("this code was already used")

    def delete_authorization_code(self, authorization_code: Code) -> None:
        """Nothing to do: the code was claimed (marked used) before tokens were issued, and is
        kept so that a replay can be recognised."""

    def authenticate_user(self, authorization_code: Code) -> Learner | None:
        return _live_learner(self.db, authorization_code.row.learner_id)


class RefreshGrant(_OfflineOnly, grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [AUTH_METHOD]
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def db(self) -> Session:
        session: Session = self.server.db
        return session

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = self.db.exec(
            select(OAuthToken).where(OAuthToken.refresh_hash == digest(refresh_token))
        ).first()
        if row is None:
            return None
        if row.revoked_at is not None:  # a rotated or revoked refresh token came back
            revoke_family(self.db, row.code_id, row.id)
            return None
        expires = row.refresh_expires_at
        return Token(row) if expires is not None and expires > utcnow() else None

    def validate_token_request(self) -> None:
        super().validate_token_request()
        token: Token = self.request.refresh_token
        claimed = self.db.execute(
            update(OAuthToken)
            .where(col(OAuthToken.id) == token.row.id, col(OAuthToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's count
            raise InvalidGrantError("this refresh token was already used")

    def authenticate_user(self, refresh_token: Token) -> Learner | None:
        return _live_learner(self.db, refresh_token.row.learner_id)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Nothing to do: the old token was revoked when this request claimed it."""


class PreAuthorizedGrant(grants.BaseGrant, grants.TokenEndpointMixin):  # type: ignore[misc]
    """OpenID4VCI's pre-authorized code grant (§6.1), anonymous: no client authenticates; the
    code and its ``tx_code`` are the whole credential (``issuer.oauth.oid4vci.redeem``). The
    token it gives reaches only the credential endpoint, for the offered badge."""

    GRANT_TYPE = PRE_AUTHORIZED
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["none"]

    def validate_token_request(self) -> None:
        """Everything is checked, and the code claimed, in ``create_token_response``."""

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        data = self.request.payload.data
        token = oid4vci.redeem(self.server.db, data.get("pre-authorized_code"), data.get("tx_code"))
        return 200, token, self.TOKEN_RESPONSE_HEADER


class Revocation(RevocationEndpoint):  # type: ignore[misc]  # Authlib is untyped
    """RFC 7009: revoking an access token or a refresh token ends both (the pair is one row);
    an unknown token is answered 200 as well."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = [AUTH_METHOD]

    def check_params(self, request: Any, client: Client) -> None:
        if "token" not in request.form:
            raise InvalidRequestError("'token' is required")
        hint = request.form.get("token_type_hint")
        if hint and hint not in self.SUPPORTED_TOKEN_TYPES:  # RFC 7009 §2.2.1: a 400 error
            unsupported = UnsupportedTokenTypeError()
            unsupported.status_code = 400
            raise unsupported

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        db: Session = self.server.db
        hashed = digest(token_string)
        by_access = select(OAuthToken).where(OAuthToken.access_hash == hashed)
        by_refresh = select(OAuthToken).where(OAuthToken.refresh_hash == hashed)
        order = (
            (by_refresh, by_access)
            if token_type_hint == "refresh_token"
            else (by_access, by_refresh)
        )
        for query in order:
            row = db.exec(query).first()
            if row is not None:
                return Token(row)
        return None

    def revoke_token(self, token: Token, request: Any) -> None:
        revoke_family(self.server.db, None, token.row.id)


class Registration(ClientRegistrationEndpoint):  # type: ignore[misc]  # Authlib is untyped
    """RFC 7591 with the OB rules (``issuer.oauth.clients.check_metadata``). The OB profile
    allows no initial access token: anyone may register."""

    def authenticate_token(self, request: Any) -> bool:
        return True

    def extract_client_metadata(self, request: Any) -> dict[str, Any]:
        data = request.payload.data
        if not isinstance(data, dict):
            raise InvalidClientMetadataError("the body must be a JSON object")
        return check_metadata(data, loopback=loopback_base(self.server.services.settings.base_url))

    def get_server_metadata(self) -> dict[str, Any]:
        return metadata(self.server.services.settings.base_url)

    def generate_client_id(self, request: Any) -> str:
        return secrets.token_urlsafe(24)

    def generate_client_secret(self, request: Any) -> str:
        return secrets.token_urlsafe(32)

    def save_client(
        self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any
    ) -> Client:
        row = OAuthClient(
            client_id=client_info["client_id"],
            secret_hash=digest(client_info["client_secret"]),
            registered=client_metadata,
        )
        db: Session = self.server.db
        db.add(row)
        db.flush()
        return Client(row)


class OAuthServer(AuthorizationServer):  # type: ignore[misc]  # Authlib is untyped
    """Authlib's server over the request's unit of work. A web adapter subclasses it with
    ``create_oauth2_request``, ``create_json_request`` and ``handle_response``."""

    def __init__(self, session: Session, services: Services) -> None:
        super().__init__(scopes_supported=list(SUPPORTED_SCOPES))
        self.db, self.services = session, services
        self.register_token_generator(
            "default", BearerTokenGenerator(_random, _random, ACCESS_SECONDS)
        )
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshGrant)
        self.register_grant(PreAuthorizedGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Registration(self))
        self.register_client_auth_method(AUTH_METHOD, _basic)

    def get_authorization_grant(self, request: Any) -> Any:
        """Authlib's, except that another ``response_type`` is refused here: Authlib writes the
        value into its error description, and refuses its own error (a 500) when the value has
        a quote, a backslash or a non-ASCII character in it."""
        if request.payload.response_type != "code":
            client = self.query_client(request.payload.client_id)
            uri = request.payload.redirect_uri
            known = client is not None and bool(uri) and client.check_redirect_uri(uri)
            raise UnsupportedResponseTypeError(
                "code", "only response_type=code is supported", redirect_uri=uri if known else None
            )
        return super().get_authorization_grant(request)

    def handle_error_response(self, request: Any, error: Any) -> Any:
        """Authlib's, except that an error sent back to the client names this server too
        (RFC 9207 ``iss``), as a code does: a client can then tell which server answered."""
        if not error.redirect_uri:
            return super().handle_error_response(request, error)
        status, body, headers = error()
        issuer = self.services.settings.base_url
        location = add_params_to_uri(dict(headers)["Location"], [("iss", issuer)])
        return self.handle_response(status, body, [("Location", location)])

    def query_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or len(client_id) > 64:
            return None
        row = self.db.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
        return None if row is None else Client(row)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        code: Code | None = request.authorization_code
        previous: Token | None = request.refresh_token
        code_id = code.row.id if code is not None else previous.row.code_id if previous else None
        refresh = token.get("refresh_token")
        now = utcnow()
        self.db.add(
            OAuthToken(
                access_hash=digest(token["access_token"]),
                refresh_hash=digest(refresh) if refresh else None,
                client_id=request.client.id,
                learner_id=request.user.id,
                code_id=code_id,
                scope=token.get("scope", ""),
                issued_at=now,
                expires_at=now + timedelta(seconds=int(token["expires_in"])),
                refresh_expires_at=now + REFRESH_LIFETIME if refresh else None,
            )
        )
        self.db.flush()

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for signals; Laurel listens to none."""
