"""Reading a host's Service Description Document (1EdTech OB 3.0 security profile, "Request the
SDD"): a profiled OpenAPI 3.0 file at ``…/ims/ob/v3p0/discovery`` whose ``OAuth2ACG`` security
scheme names the registration (``x-imssf-registrationUrl``), authorization and token URLs and the
scopes; ``x-imssf-revocationUrl`` is an extension some hosts (Laurel) publish.

Laurel's client secret and the learner's tokens go to the registration, token and revocation
URLs and to the API itself, so those must be on the SDD's own host: an SDD that points them
elsewhere is refused (``HostFailed``). So must the authorization URL: a hostile host naming an
honest host's authorization page (and passing Laurel's registration on to it) would have the
learner allow Laurel there and then receive that host's code and the PKCE verifier at its own
token URL — a mix-up attack (RFC 9700 §4.4). The host the learner names is the one they sign in
at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from issuer.context import Services
from issuer.core.errors import BadRequest, HostFailed
from issuer.oauth.clients import SCOPE_PREFIX
from issuer.obclient.transport import call, check_url, json_object

UPSERT = SCOPE_PREFIX + "credential.upsert"
SUFFIX = "/ims/ob/v3p0/discovery"


@dataclass(frozen=True)
class Description:
    """What Laurel needs from a host's SDD."""

    sdd_url: str
    name: str
    api_base: str
    registration_url: str
    authorize_url: str
    token_url: str
    revocation_url: str | None
    scopes: tuple[str, ...]


def sdd_url(services: Services, given: str) -> str:
    """The SDD URL the learner typed, checked: a host's base URL gets ``/ims/ob/v3p0/discovery``
    added; anything that is not an allowed URL is a ``BadRequest``."""
    url = given.strip()
    if not url.endswith(SUFFIX):
        url = url.rstrip("/") + SUFFIX
    try:
        return check_url(services, url, "The address of the badge host")
    except HostFailed as exc:
        raise BadRequest(exc.detail) from exc


def discover(services: Services, url: str) -> Description:
    """Fetch and read the SDD at ``url``; ``HostFailed`` saying what is wrong with it."""
    response = call(services, "GET", url, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise HostFailed(f"the service description at {url} answered HTTP {response.status_code}")
    return read(services, url, json_object(response, "the service description"))


def read(services: Services, url: str, sdd: dict[str, Any]) -> Description:
    host = urlsplit(url).netloc
    info = sdd.get("info")
    title = info.get("title") if isinstance(info, dict) else None
    if not isinstance(title, str) or not title.strip():
        raise HostFailed("the service description has no info.title")
    scheme = _dig(sdd, "components", "securitySchemes", "OAuth2ACG")
    flow = _dig(scheme, "flows", "authorizationCode")
    scopes = flow.get("scopes")
    if not isinstance(scopes, dict) or UPSERT not in scopes:
        raise HostFailed(f"the host does not accept badges: its scopes lack {UPSERT}")
    servers = sdd.get("servers")
    server = servers[0].get("url") if isinstance(servers, list) and servers else None
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        raise HostFailed("the service description has no servers[0].url")

    def same_host(value: object, what: str) -> str:
        checked = check_url(services, value, f"the service description's {what}")
        if urlsplit(checked).netloc != host:
            raise HostFailed(
                f"the service description's {what} is on another host than the description "
                f"itself ({urlsplit(checked).netloc}, not {host}): refused"
            )
        return checked

    revocation = scheme.get("x-imssf-revocationUrl")
    return Description(
        sdd_url=url,
        name=title.strip()[:500],
        api_base=same_host(server, "servers[0].url").rstrip("/"),
        registration_url=same_host(scheme.get("x-imssf-registrationUrl"), "registration URL"),
        authorize_url=same_host(flow.get("authorizationUrl"), "authorization URL"),
        token_url=same_host(flow.get("tokenUrl"), "token URL"),
        revocation_url=same_host(revocation, "revocation URL") if revocation else None,
        scopes=tuple(str(name) for name in scopes),
    )


def _dig(document: dict[str, Any], *path: str) -> dict[str, Any]:
    value: Any = document
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        raise HostFailed(f"the service description has no {'.'.join(path)}")
    return value
