"""Every request Laurel makes to another OB 3.0 API host goes through ``call``: the verifier's
guarded transport (``verifier.transport``: the host resolved once and connected to at the
address that was checked, no private or special-purpose addresses, one deadline), ``https``
only, no redirects followed, a size cap on the answer.

Loopback ``http`` hosts are allowed only when Laurel itself runs on a loopback ``http`` base URL
(development, tests) — the same rule as the OAuth server's for its clients
(``oauth.clients.loopback_base``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from issuer.context import Services
from issuer.core.errors import HostFailed
from issuer.oauth.clients import is_loopback, loopback_base
from verifier.addresses import public_only, public_or_loopback
from verifier.transport import GuardedTransport, Refused, check_literal, deadline_for

TIMEOUT = 10.0
MAX_BYTES = 2 * 1024 * 1024


def check_url(services: Services, url: object, what: str) -> str:
    """``url`` if Laurel may call it: ``https``, or loopback ``http`` under the loopback rule."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise HostFailed(f"{what} is missing or not a URL")
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback(parts.hostname) and _loopback(services):
        return url
    raise HostFailed(f"{what} must be an https URL (it is {url[:200]!r})")


def _loopback(services: Services) -> bool:
    return loopback_base(services.settings.base_url)


def call(
    services: Services,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    json: Any = None,
    content: bytes | None = None,
) -> httpx.Response:
    """One request to another host; ``HostFailed`` if it cannot be made or its answer is too
    large. Any HTTP status is returned: the caller decides what it means."""
    check_url(services, url, "the URL")
    policy = public_or_loopback if _loopback(services) else public_only
    transport = GuardedTransport(deadline=deadline_for(TIMEOUT), policy=policy)
    try:
        check_literal(httpx.URL(url).host, policy)
    except (Refused, httpx.InvalidURL) as exc:
        raise HostFailed(f"Laurel does not call {_host(url)}: {exc}") from exc
    sent = {"User-Agent": "Laurel", "Accept-Encoding": "identity", **(headers or {})}
    try:
        with (
            httpx.Client(transport=transport, timeout=TIMEOUT, follow_redirects=False) as client,
            client.stream(
                method, url, headers=sent, auth=auth, data=data, json=json, content=content
            ) as response,
        ):
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise HostFailed(f"{_host(url)} answered with more than {MAX_BYTES} bytes")
            return httpx.Response(response.status_code, headers=response.headers, content=body)
    except Refused as exc:
        raise HostFailed(f"Laurel does not call {_host(url)}: {exc}") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise HostFailed(f"{_host(url)} could not be reached ({type(exc).__name__})") from exc


def _host(url: str) -> str:
    return urlsplit(url).netloc or url[:100]


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON object, or ``HostFailed`` naming ``what`` was expected."""
    try:
        value = response.json()
    except ValueError as exc:
        raise HostFailed(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise HostFailed(f"{what} is not a JSON object")
    return value
