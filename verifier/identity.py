"""Who issued a credential, as far as anyone but the credential itself can tell.

A valid signature says the credential is genuine: nobody changed it since the holder of the
issuer's key signed it. It says nothing about who that is: anyone can create a did:key, call it
"Seoul National University" and sign a "Doctor of Medicine" badge. So the report states the
issuer's identity separately, in one of three states:

``known``
    The issuer id is in a trust list the verifier uses (``TrustPolicy.registries``); the evidence
    is the list's name and its entry (legal name, location or country, website).
``linked``
    The issuer controls a web domain: a did:web (or an https issuer id) published on that domain,
    or a DID Configuration (``/.well-known/did-configuration.json``) on the website the issuer
    names, checked both ways (see ``verifier.linkage``).
``unconfirmed``
    Only self-declared: anyone can create such an issuer, and the name shown is its own claim.

Identity is only assessed when the signing key is bound to the issuer id (the ``issuer`` check
passed); otherwise it is ``unconfirmed``. It never changes the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import idna

from verifier.errors import VerifierError


class IdentityState(StrEnum):
    KNOWN = "known"
    LINKED = "linked"
    UNCONFIRMED = "unconfirmed"


class RegistryUnavailable(VerifierError):
    """A trust list could not be consulted (not loaded, not verifiable): never "not found"."""


@dataclass(frozen=True)
class RegistryEntry:
    """An issuer as a trust list describes it."""

    registry: str
    """The trust list's name."""
    name: str | None = None
    """The issuer's (legal) name according to the list."""
    location: str | None = None
    country: str | None = None
    url: str | None = None
    """The issuer's website according to the list."""

    def to_dict(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in {
                "registry": self.registry,
                "name": self.name,
                "location": self.location,
                "country": self.country,
                "url": self.url,
            }.items()
            if value is not None
        }


class TrustRegistry(Protocol):
    """A trust list: ``lookup`` gives the entry for an issuer id, ``None`` when it has none, and
    raises ``RegistryUnavailable`` when it cannot tell."""

    @property
    def name(self) -> str: ...

    def lookup(self, issuer_id: str) -> RegistryEntry | None: ...


@dataclass(frozen=True)
class TrustPolicy:
    """What a verifier trusts about issuers: its trust lists, in order (the first entry found is
    the one shown), and whether it checks the web domain an issuer names."""

    registries: tuple[TrustRegistry, ...] = ()
    domain_linkage: bool = True


DEFAULT_POLICY = TrustPolicy()


@dataclass(frozen=True, slots=True)
class IssuerIdentity:
    state: IdentityState
    reason: str
    issuer_id: str | None = None
    claimed_name: str | None = None
    """The name the credential gives its issuer (the issuer's own claim)."""
    registries: tuple[RegistryEntry, ...] = ()
    """Every trust list the issuer is in, in the policy's order."""
    linked_domain: str | None = None
    """The origin the issuer controls (``https://host[:port]``), when linked."""
    linkage: str | None = None
    """How the domain was linked: ``did:web``, ``https`` or ``did-configuration``."""
    not_checked: tuple[str, ...] = ()
    """Trust lists and domains that could not be consulted, with the reason."""
    notes: tuple[str, ...] = ()

    @property
    def entry(self) -> RegistryEntry | None:
        return self.registries[0] if self.registries else None

    def to_dict(self) -> dict[str, Any]:
        evidence: dict[str, Any] = {}
        if self.registries:
            evidence["registry"] = self.registries[0].registry
            evidence["entry"] = self.registries[0].to_dict()
            evidence["registries"] = [entry.to_dict() for entry in self.registries]
        if self.linked_domain:
            evidence["linkedDomain"] = self.linked_domain
            evidence["linkage"] = self.linkage
        return {
            "state": self.state.value,
            "reason": self.reason,
            "issuer": self.issuer_id,
            "claimedName": self.claimed_name,
            "evidence": evidence,
            "notChecked": list(self.not_checked),
            "notes": list(self.notes),
        }


NOTHING_READ = IssuerIdentity(IdentityState.UNCONFIRMED, "no credential was read")


def origin_of(url: str) -> str | None:
    """``https://host[:port]`` of an https URL (lower-cased, default port dropped), else None.
    A host written in other scripts is given in its ASCII form (IDNA, ``xn--…``), the name that
    is looked up and registered: ``https://ѕnu.ac.kr`` (a Cyrillic ``ѕ``) is not shown as
    ``snu.ac.kr``. A host that has no ASCII form is no origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    if ":" in host:
        host = f"[{host}]"
    return f"https://{host}" + (f":{port}" if port and port != 443 else "")


def same_site(url: str, served: str) -> bool:
    """Whether ``served`` (where a document asked for at ``url`` came from, after redirects) is
    ``url``'s own site: the same https origin, or the same but for a leading ``www.`` on either
    host (a domain that sends its visitors to its ``www.`` host, or back). A redirect to any
    other host means that host, not ``url``'s, served the document: through an open redirect on
    a university's website, anyone's."""
    if served == url:
        return True
    mine, theirs = origin_of(url), origin_of(served)
    if mine is None or theirs is None:
        return False
    return _without_www(mine) == _without_www(theirs)


def _without_www(origin: str) -> str:
    return "https://" + origin.removeprefix("https://").removeprefix("www.")


def did_web_origin(did: str) -> str | None:
    host = unquote(did.removeprefix("did:web:").split(":")[0])
    return origin_of(f"https://{host}/")


Linker = Callable[[str, str], str]
"""``(did, origin) -> reason`` when ``did`` and ``origin`` are linked both ways; raises
``VerifierError`` (with the reason) when they are not."""
Locator = Callable[[str], tuple[str, str]]
"""``issuer_id -> (url, served)``: the URL the issuer's own document (a did:web's DID document,
an https issuer's controller document) is fetched from, and the URL that served it after
redirects; raises ``VerifierError`` when it cannot be read."""


def assess(
    *,
    issuer_id: str | None,
    claimed_name: str | None,
    website: str | None,
    bound: bool,
    policy: TrustPolicy,
    did_domains: Callable[[str], Sequence[str]],
    link: Linker,
    locate: Locator,
) -> IssuerIdentity:
    """The identity of a credential's issuer under ``policy``.

    ``bound``: the signing key is the issuer's (the ``issuer`` check passed). ``website``: the
    ``url`` the credential's issuer profile names (a claim signed by the issuer). ``did_domains``
    gives the origins a DID document names in ``LinkedDomains`` services; ``link`` checks a DID
    Configuration; ``locate`` says which site served the issuer's own document.
    """

    def made(state: IdentityState, reason: str, **evidence: Any) -> IssuerIdentity:
        return IssuerIdentity(
            state, reason, issuer_id=issuer_id, claimed_name=claimed_name, **evidence
        )

    if not issuer_id:
        return made(IdentityState.UNCONFIRMED, "the credential names no issuer")
    if not bound:
        return made(
            IdentityState.UNCONFIRMED,
            "the signature is not tied to the issuer id, so nothing confirms who issued it",
        )
    found: list[RegistryEntry] = []
    not_checked: list[str] = []
    for registry in policy.registries:
        try:
            entry = registry.lookup(issuer_id)
        except RegistryUnavailable as exc:
            not_checked.append(f"{registry.name}: {exc}")
            continue
        if entry is not None:
            found.append(entry)
    if found:
        return made(
            IdentityState.KNOWN,
            f"the issuer is in the trust list “{found[0].registry}”",
            registries=tuple(found),
            not_checked=tuple(not_checked),
        )
    notes: list[str] = []
    if policy.domain_linkage:
        linked = _linked_domain(issuer_id, website, did_domains, link, locate, notes, not_checked)
        if linked is not None:
            origin, how, reason = linked
            return made(
                IdentityState.LINKED,
                reason,
                linked_domain=origin,
                linkage=how,
                not_checked=tuple(not_checked),
                notes=tuple(notes),
            )
    name = f"the name “{claimed_name}”" if claimed_name else "any name it shows"
    return made(
        IdentityState.UNCONFIRMED,
        f"only self-declared: anyone can create an issuer like this, and {name} is the issuer's "
        "own claim; no trust list or web domain confirms it",
        not_checked=tuple(not_checked),
        notes=tuple(notes),
    )


def _linked_domain(
    issuer_id: str,
    website: str | None,
    did_domains: Callable[[str], Sequence[str]],
    link: Linker,
    locate: Locator,
    notes: list[str],
    not_checked: list[str],
) -> tuple[str, str, str] | None:
    own: tuple[str, str] | None = None
    under = _published_under(issuer_id)
    if under is not None and under[1] == "/":
        own = (under[0], "did:web" if issuer_id.startswith("did:web:") else "https")
    candidates: list[str] = []
    if issuer_id.startswith("did:"):
        named = [website] if website else []
        try:
            named += list(did_domains(issuer_id))
        except VerifierError as exc:
            notes.append(f"the DID document's linked domains could not be read: {exc}")
        for url in named:
            origin = origin_of(url)
            if origin and origin not in candidates and (own is None or origin != own[0]):
                candidates.append(origin)
    for origin in candidates[:2]:
        try:
            reason = link(issuer_id, origin)
        except VerifierError as exc:
            not_checked.append(f"{origin}: {exc}")
            continue
        return origin, "did-configuration", reason
    if own is not None and not _served_by_own_site(issuer_id, own[1], locate, notes):
        own = None
    if own is not None:
        host = own[0].removeprefix("https://")
        if own[1] == "did:web":
            reason = f"the issuer's DID document is published on the web domain {host}"
        else:
            reason = f"the issuer's id and keys are published on the web domain {host}"
        return own[0], own[1], reason
    if under is not None and under[1] != "/":
        what = "DID document" if issuer_id.startswith("did:") else "id"
        notes.append(
            f"the issuer's {what} is published under {under[0].removeprefix('https://')}"
            f"{under[1]}, a path on that web domain, not by the domain itself: whoever may "
            "publish there could have made it, so only the domain's own DID Configuration "
            "could link the two"
        )
    return None


def _published_under(issuer_id: str) -> tuple[str, str] | None:
    """The origin and the path under which the issuer's own document is published (``/`` for
    the domain itself: a did:web with no path, served from ``/.well-known/did.json``, or an
    https id that is its origin), or None for an id no web domain publishes."""
    if issuer_id.startswith("did:web:"):
        origin = did_web_origin(issuer_id)
        segments = issuer_id.removeprefix("did:web:").split(":")[1:]
        path = "/" + "".join(f"{unquote(segment)}/" for segment in segments)
    elif issuer_id.startswith("https://"):
        origin = origin_of(issuer_id)
        parts = urlsplit(issuer_id)
        root = parts.path in ("", "/") and not parts.query and not parts.fragment
        path = "/" if root else parts._replace(scheme="", netloc="").geturl()
    else:
        return None
    return (origin, path) if origin else None


def _served_by_own_site(issuer_id: str, how: str, locate: Locator, notes: list[str]) -> bool:
    """Whether the issuer's own document came from the site its id names; a note when not."""
    what = "DID document" if how == "did:web" else "document"
    try:
        url, served = locate(issuer_id)
    except VerifierError as exc:
        notes.append(f"the issuer's {what} could not be read to confirm its web domain: {exc}")
        return False
    if same_site(url, served):
        return True
    other = (origin_of(served) or served).removeprefix("https://")
    notes.append(
        f"the issuer's {what} at {url} was served by another site, {other}, through a redirect, "
        "so its id's web domain does not vouch for it"
    )
    return False


__all__ = [
    "DEFAULT_POLICY",
    "NOTHING_READ",
    "IdentityState",
    "IssuerIdentity",
    "Linker",
    "Locator",
    "RegistryEntry",
    "RegistryUnavailable",
    "TrustPolicy",
    "TrustRegistry",
    "assess",
    "did_web_origin",
    "origin_of",
    "same_site",
]
