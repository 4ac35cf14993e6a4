"""Client applications: the scopes they may ask for, and dynamic registration as the OB 3.0
security profile requires (RFC 7591; 1EdTech OB 3.0 "Register with Authorization Server").

Every registration names the client and its software and gives ``client_uri``, ``logo_uri``,
``tos_uri``, ``policy_uri``, ``redirect_uris`` (an array) and ``scope``. Every URL is ``https``
and on one host, that of ``client_uri``; only when Laurel itself runs on a loopback ``http``
address (development, tests) are loopback ``http`` URLs accepted too. Clients authenticate with
``client_secret_basic``; their grants are ``authorization_code`` and ``refresh_token``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, list_to_scope, scope_to_list
from authlib.oauth2.rfc7591 import InvalidClientMetadataError, InvalidRedirectURIError

from issuer.models import OAuthClient

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
OB_SCOPES = tuple(
    SCOPE_PREFIX + name
    for name in ("credential.readonly", "credential.upsert", "profile.readonly", "profile.update")
)
OFFLINE = "offline_access"
"""Not an OB scope, but the OB examples register it: it means "issue refresh tokens"."""
SUPPORTED_SCOPES = (*OB_SCOPES, OFFLINE)
GRANT_TYPES = ("authorization_code", "refresh_token")
AUTH_METHOD = "client_secret_basic"
TEXT_FIELDS = {"client_name": 200, "software_id": 200, "software_version": 100, "scope": 1000}
URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
MAX_URL = 2000
HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|[0-9a-f:.]{2,45}")
"""A DNS name or an IP address, as ``urlsplit`` gives it (lower-cased, IPv6 without brackets)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an HTTP Basic ``Authorization`` header, each
    form-urlencoded as RFC 6749 §2.3.1 says; ``None`` for anything else (also for bytes that
    are not base64 or not UTF-8, which Authlib's own parser fails on)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip() or len(value) > 1000:
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = text.partition(":")
    if not colon or not client_id or not secret:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_base(base_url: str) -> bool:
    """Whether Laurel runs on a loopback ``http`` URL, where loopback clients are allowed."""
    parts = urlsplit(base_url)
    return parts.scheme == "http" and is_loopback(parts.hostname)


def _bad(description: str) -> InvalidClientMetadataError:
    return InvalidClientMetadataError(description)


def _host(url: object, field: str, *, loopback: bool, redirect: bool = False) -> str:
    """The host of ``url`` if it is an acceptable client URL (else the RFC 7591 error)."""
    error = InvalidRedirectURIError if redirect else InvalidClientMetadataError
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise error(f"'{field}' must be a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a port out of range raises here
    except ValueError:
        raise error(f"'{field}' is not a URL") from None
    allowed = parts.scheme == "https" or (loopback and parts.scheme == "http" and is_loopback(host))
    if not allowed or not host or "@" in parts.netloc or any(c.isspace() for c in url):
        raise error(f"'{field}' must be an https URL")
    if not HOST.fullmatch(host):  # an internationalised name goes as its xn-- form
        raise error(f"'{field}' has a host name that is not one")
    if redirect and parts.fragment:
        raise error(f"'{field}' must not have a fragment")
    return host.lower()


def _strings(data: dict[str, Any], field: str, default: list[str] | None) -> list[str]:
    value = data.get(field, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(f"'{field}' must be an array of strings")
    return list(value)


def check_metadata(data: dict[str, Any], *, loopback: bool) -> dict[str, Any]:
    """The client metadata to register from a registration request, as the server keeps and
    echoes it; raises ``InvalidClientMetadataError`` / ``InvalidRedirectURIError``."""
    for field, limit in TEXT_FIELDS.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise _bad(f"'{field}' is required: a string of at most {limit} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise _bad(f"'{field}' must not contain control characters")
    host = _host(data.get("client_uri"), "client_uri", loopback=loopback)
    for field in URL_FIELDS:
        if _host(data.get(field), field, loopback=loopback) != host:
            raise _bad(f"'{field}' must be on the host of 'client_uri' ({host})")
    redirects = data.get("redirect_uris")
    if not isinstance(redirects, list) or not redirects or len(redirects) > 20:
        raise InvalidRedirectURIError("'redirect_uris' is required: an array of 1 to 20 URLs")
    for uri in redirects:
        if _host(uri, "redirect_uris", loopback=loopback, redirect=True) != host:
            raise InvalidRedirectURIError(f"'redirect_uris' must be on the host {host}")
    method = data.get("token_endpoint_auth_method", AUTH_METHOD)
    if method != AUTH_METHOD:
        raise _bad(f"'token_endpoint_auth_method' must be '{AUTH_METHOD}'")
    grants = _strings(data, "grant_types", ["authorization_code"])
    if "authorization_code" not in grants or not set(grants) <= set(GRANT_TYPES):
        raise _bad("'grant_types' must be 'authorization_code', optionally with 'refresh_token'")
    if _strings(data, "response_types", ["code"]) != ["code"]:
        raise _bad("'response_types' must be ['code']")
    scopes = scope_to_list(data["scope"])
    unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
    if unknown or not set(scopes) & set(OB_SCOPES):
        raise _bad("'scope' must list Open Badges 3.0 scopes (and may add offline_access)")
    if OFFLINE in scopes and "refresh_token" not in grants:
        grants.append("refresh_token")
    registered: dict[str, Any] = {
        **{field: data[field] for field in (*TEXT_FIELDS, *URL_FIELDS)},
        "scope": list_to_scope(list(dict.fromkeys(scopes))),
        "redirect_uris": redirects,
        "token_endpoint_auth_method": AUTH_METHOD,
        "grant_types": grants,
        "response_types": ["code"],
    }
    if "contacts" in data:
        registered["contacts"] = _strings(data, "contacts", [])
    return registered


@dataclass
class Client(ClientMixin):  # type: ignore[misc]  # Authlib is untyped: its mixin is Any
    """A registered client as Authlib's grants see it."""

    row: OAuthClient

    @property
    def id(self) -> int:
        assert self.row.id is not None
        return self.row.id

    @property
    def name(self) -> str:
        return str(self.row.registered.get("client_name", self.row.client_id))

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OB: the request must name its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str | None:
        if not scope:
            return None
        allowed = set(scope_to_list(self.row.registered.get("scope", "")))
        granted = [s for s in dict.fromkeys(scope_to_list(scope)) if s in allowed]
        return list_to_scope(granted) if granted else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.registered.get("redirect_uris", [])

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(digest(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return bool(method == AUTH_METHOD)

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.registered.get("grant_types", [])
