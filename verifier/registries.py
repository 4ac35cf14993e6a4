"""Trust lists: the issuer registries a verifier consults to call an issuer "known".

Formats read (see ``shared/spec/trust`` and docs/verifier.md):

* the Digital Credentials Consortium's static registry (``dcc-legacy``), which VerifierPlus and the
  Learner Credential Wallet read: ``{"meta": {…}, "registry": {"<DID>": {"name", "location",
  "url"}}}``. Laurel publishes its own issuers in this format (with ``meta.name``);
* DCC OpenID Federation registries (``oidf``): the trust anchor's entity configuration gives its
  keys and ``federation_fetch_endpoint``; ``GET {endpoint}?sub=<DID>`` answers a subordinate
  statement, a JWT that must be signed by one of the anchor's keys, name the anchor as ``iss`` and
  the DID as ``sub``, and not be expired (OpenID Federation 1.0 §8.1);
* a DCC "known registries" list (``[{"name", "type": "dcc-legacy" | "oidf", "url" |
  "trustAnchorEC"}]``), which expands into the registries it names, in its order;
* a simple local list: ``["<issuer id>", …]`` or ``{"issuers": [id or {"id", "name", "country",
  "url"}, …]}`` (the ``laurel verify --trust`` file).

A list that cannot be loaded or verified raises ``RegistryUnavailable`` on lookup, so the report
says it was not checked — never that the issuer is not in it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jwt

from verifier import safejson
from verifier.errors import FetchError, InputError, KeyResolutionError
from verifier.httpcache import CachingHttpClient
from verifier.identity import RegistryEntry, RegistryUnavailable, TrustRegistry
from verifier.keys import key_from_jwk
from verifier.proof import jwt as vcjwt

REGISTRY_TYPES = ("dcc-legacy", "oidf")
FEDERATION_ALGORITHMS = ("ES256", "RS256", "EdDSA", "PS256", "ES384")


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@dataclass(frozen=True)
class StaticRegistry:
    """A trust list held in memory: issuer id -> entry."""

    name: str
    entries: Mapping[str, RegistryEntry]

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        return self.entries.get(issuer_id)


def _entry(registry: str, data: Any) -> RegistryEntry:
    data = data if isinstance(data, dict) else {}
    return RegistryEntry(
        registry=registry,
        name=_text(data.get("legalName")) or _text(data.get("name")),
        location=_text(data.get("location")),
        country=_text(data.get("country")),
        url=_text(data.get("url")),
    )


def is_known_registries(data: Any) -> bool:
    """A DCC "known registries" configuration (a list of registry descriptions)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(
            isinstance(item, dict) and item.get("type") in ("dcc-legacy", "oidf") for item in data
        )
    )


def parse_static(data: Any, default_name: str) -> StaticRegistry:
    """A DCC static registry or a simple local list; ``ValueError`` when it is neither."""
    if isinstance(data, dict) and isinstance(data.get("registry"), dict):
        meta = data.get("meta")
        name = (_text(meta.get("name")) if isinstance(meta, dict) else None) or default_name
        return StaticRegistry(
            name, {str(did): _entry(name, entry) for did, entry in data["registry"].items()}
        )
    if isinstance(data, dict) and isinstance(data.get("issuers"), list):
        name = _text(data.get("name")) or default_name
        items = data["issuers"]
    elif isinstance(data, list):
        name, items = default_name, data
    else:
        raise ValueError(
            'a trust list is a DCC registry ({"registry": {…}}), a list of issuer ids, '
            'or {"issuers": […]}'
        )
    entries: dict[str, RegistryEntry] = {}
    for item in items:
        if isinstance(item, str):
            entries[item] = RegistryEntry(registry=name)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            entries[item["id"]] = _entry(name, item)
        else:
            raise ValueError("each trusted issuer is an id or an object with an id")
    return StaticRegistry(name, entries)


class RemoteRegistry:
    """A static registry at a URL (cached with its HTTP caching headers) or in a file (read
    again when it changes)."""

    def __init__(self, name: str | None, source: str, client: CachingHttpClient) -> None:
        self.source = source
        self.client = client
        self._name = name
        self._loaded: tuple[object, StaticRegistry] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        loaded = self._loaded
        return loaded[1].name if loaded else _default_name(self.source)

    def _load(self) -> StaticRegistry:
        version: object
        if _is_url(self.source):
            response = self.client.get(self.source)
            if response.status != 200:
                raise RegistryUnavailable(f"{self.source} answered HTTP {response.status}")
            body, version = response.body, response.body
        else:
            path = Path(self.source)
            stat = path.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            with self._lock:
                if self._loaded and self._loaded[0] == version:
                    return self._loaded[1]
            body = path.read_bytes()
        with self._lock:
            if self._loaded and self._loaded[0] is version:
                return self._loaded[1]
        try:
            registry = parse_static(safejson.loads(body), self._name or _default_name(self.source))
        except (InputError, ValueError) as exc:
            raise RegistryUnavailable(f"{self.source} is not a usable trust list: {exc}") from exc
        if self._name:
            registry = StaticRegistry(self._name, _renamed(registry.entries, self._name))
        with self._lock:
            self._loaded = (version, registry)
        return registry

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        try:
            return self._load().lookup(issuer_id)
        except (FetchError, OSError) as exc:
            raise RegistryUnavailable(f"{self.source} could not be loaded: {exc}") from exc


def _renamed(entries: Mapping[str, RegistryEntry], name: str) -> dict[str, RegistryEntry]:
    return {
        key: RegistryEntry(name, entry.name, entry.location, entry.country, entry.url)
        for key, entry in entries.items()
    }


class OidfRegistry:
    """A DCC OpenID Federation registry: subordinate statements signed by the trust anchor."""

    def __init__(
        self,
        name: str,
        trust_anchor_ec: str,
        client: CachingHttpClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.trust_anchor_ec = trust_anchor_ec
        self.client = client
        self.clock = clock

    def _verified(self, token: str, keys: list[dict[str, Any]], what: str) -> dict[str, Any]:
        try:
            decoded = vcjwt.decode(token.strip())
        except InputError as exc:
            raise RegistryUnavailable(f"the {what} is not a JWT: {exc}") from exc
        alg, kid = decoded.header.get("alg"), decoded.header.get("kid")
        if alg not in FEDERATION_ALGORITHMS:
            raise RegistryUnavailable(f"the {what} uses the algorithm {alg!r}")
        candidates = [
            k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") == kid)
        ]
        algorithm = jwt.get_algorithm_by_name(str(alg))
        for candidate in candidates:
            try:
                key = key_from_jwk(candidate)
                if algorithm.verify(decoded.signing_input, key, decoded.signature):
                    break
            except (KeyResolutionError, TypeError, ValueError):
                continue
        else:
            raise RegistryUnavailable(f"the {what} is not signed by the trust anchor")
        payload = decoded.payload
        exp = payload.get("exp")
        if not isinstance(exp, int | float) or exp < self.clock():
            raise RegistryUnavailable(f"the {what} has expired")
        return payload

    def _anchor(self) -> tuple[str, list[dict[str, Any]], str]:
        response = self.client.get(self.trust_anchor_ec, accept="application/entity-statement+jwt")
        if response.status != 200:
            raise RegistryUnavailable(f"{self.trust_anchor_ec} answered HTTP {response.status}")
        try:
            unverified = vcjwt.decode(response.body.decode("utf-8", "strict").strip()).payload
        except (InputError, UnicodeDecodeError) as exc:
            raise RegistryUnavailable(
                "the trust anchor's entity configuration is not a JWT"
            ) from exc
        jwks = unverified.get("jwks")
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(keys, list) or not keys:
            raise RegistryUnavailable("the trust anchor publishes no keys")
        payload = self._verified(response.body.decode(), keys, "trust anchor's configuration")
        anchor = payload.get("iss")
        if not isinstance(anchor, str) or payload.get("sub") != anchor:
            raise RegistryUnavailable("the trust anchor's configuration is not self-issued")
        metadata = payload.get("metadata")
        entity = metadata.get("federation_entity") if isinstance(metadata, dict) else None
        endpoint = entity.get("federation_fetch_endpoint") if isinstance(entity, dict) else None
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise RegistryUnavailable("the trust anchor names no federation fetch endpoint")
        return anchor, keys, endpoint

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        try:
            anchor, keys, endpoint = self._anchor()
            separator = "&" if "?" in endpoint else "?"
            response = self.client.get(
                f"{endpoint}{separator}sub={quote(issuer_id, safe='')}",
                accept="application/entity-statement+jwt",
            )
        except FetchError as exc:
            raise RegistryUnavailable(f"could not be reached: {exc}") from exc
        if response.status == 404:
            return None
        if response.status != 200:
            raise RegistryUnavailable(f"the fetch endpoint answered HTTP {response.status}")
        try:
            token = response.body.decode("utf-8", "strict")
        except UnicodeDecodeError as exc:
            raise RegistryUnavailable("the subordinate statement is not text") from exc
        payload = self._verified(token, keys, "subordinate statement")
        if payload.get("iss") != anchor or payload.get("sub") != issuer_id:
            raise RegistryUnavailable(
                "the statement is not the anchor's statement about this issuer"
            )
        metadata = payload.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        entity = metadata.get("federation_entity")
        entity = entity if isinstance(entity, dict) else {}
        extra = metadata.get("institution_additional_information")
        extra = extra if isinstance(extra, dict) else {}
        return RegistryEntry(
            registry=self.name,
            name=_text(extra.get("legal_name")) or _text(entity.get("organization_name")),
            location=_text(entity.get("location")) or _text(extra.get("location")),
            country=_text(extra.get("country")),
            url=_text(entity.get("homepage_uri")),
        )


def _is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _default_name(source: str) -> str:
    if _is_url(source):
        parts = urlsplit(source)
        return f"{parts.netloc}{parts.path}"
    return Path(source).name


class _Unavailable:
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def lookup(self, issuer_id: str) -> RegistryEntry | None:
        raise RegistryUnavailable(self.reason)


def from_description(description: Mapping[str, Any], client: CachingHttpClient) -> TrustRegistry:
    """One entry of a DCC "known registries" list."""
    name = _text(description.get("name")) or "unnamed registry"
    kind = description.get("type")
    if kind == "dcc-legacy" and isinstance(description.get("url"), str):
        return RemoteRegistry(name, description["url"], client)
    if kind == "oidf" and isinstance(description.get("trustAnchorEC"), str):
        return OidfRegistry(name, description["trustAnchorEC"], client)
    return _Unavailable(name, f"a registry of type {kind!r} without its address is not read")


def load_sources(sources: Iterable[str], client: CachingHttpClient) -> tuple[TrustRegistry, ...]:
    """Trust lists from URLs or files. A source holding a "known registries" list expands into
    the registries it names; it is read once, here (``ValueError`` if it cannot be)."""
    registries: list[TrustRegistry] = []
    for source in sources:
        source = source.strip()
        if not source:
            continue
        try:
            if _is_url(source):
                response = client.get(source)
                body = response.body if response.status == 200 else None
            else:
                body = Path(source).read_bytes()
        except (FetchError, OSError) as exc:
            if not _is_url(source):
                raise ValueError(f"the trust list {source} cannot be read: {exc}") from exc
            body = None
        data: Any = None
        if body is not None:
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ValueError(f"the trust list {source} is not JSON: {exc}") from exc
        if is_known_registries(data):
            registries.extend(from_description(item, client) for item in data)
            continue
        if data is not None:
            parse_static(data, _default_name(source))  # fail early on a list of the wrong shape
        registries.append(RemoteRegistry(None, source, client))
    return tuple(registries)
