"""Issuers: creation (with their keys), key rotation, and what they publish: the OB 3.0
Profile, the DID document (did:web) and the JWT key set.

Key ids: with did:web, Data Integrity keys are ``{did}#key-N`` and JWT keys ``{did}#jwt-N``, all
listed in the DID document; with did:key, the DID is the first Data Integrity key itself.
Rotation adds new keys and retires the old ones, which stay published so that every credential
signed before keeps verifying.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import idna
from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.core import audit
from issuer.core.db import IDENTITY_LOCK, advisory_lock, after_commit
from issuer.core.errors import BadRequest, Conflict, NotFound
from issuer.core.settings import Settings
from issuer.crypto.keys import (
    PrivateKey,
    did_key,
    did_key_method,
    generate_ed25519,
    generate_for_jwt,
    multikey,
    public_jwk,
)
from issuer.crypto.signing import did_configuration, sign_domain_linkage
from issuer.institutes.registry import forget_own_issuers
from issuer.models import Issuer, SigningKey
from issuer.models.base import utcnow
from verifier.identity import origin_of

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
DID_CONTEXTS = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/jwk/v1",
]
DID_CONFIGURATION_CONTEXT = "https://identity.foundation/.well-known/did-configuration/v1"
DEFAULT_JWT_ALG: Final = "RS256"


def get_issuer(session: Session, slug: str) -> Issuer:
    found = session.exec(select(Issuer).where(Issuer.slug == slug)).first()
    if found is None:
        raise NotFound(f"there is no issuer {slug!r}")
    return found


def create_issuer(
    session: Session,
    services: Services,
    *,
    slug: str,
    name: str,
    url: str | None = None,
    email: str | None = None,
    description: str | None = None,
    did_method: str | None = None,
    signatory_name: str | None = None,
    signatory_title: str | None = None,
    location: str | None = None,
    actor: str = "cli",
) -> Issuer:
    if url and origin_of(url) is None:
        raise BadRequest("the website must be an https URL, e.g. https://www.example.ac.kr")
    if not SLUG.match(slug):
        raise BadRequest(
            "a slug is 1–64 lower-case letters, digits and hyphens, e.g. 'hrd-institute'"
        )
    method = did_method or services.settings.did_method
    di_key = generate_ed25519()
    did = did_key(di_key) if method == "key" else f"did:web:{services.settings.host}:issuers:{slug}"
    if session.exec(select(Issuer).where(Issuer.slug == slug)).first():
        raise Conflict(f"an issuer with the slug {slug!r} exists already")
    refuse_anothers_identity(session, None, [name], url)
    issuer = Issuer(
        slug=slug,
        did=did,
        name=name,
        url=url,
        email=email,
        description=description,
        signatory_name=signatory_name,
        signatory_title=signatory_title,
        location=location,
    )
    session.add(issuer)
    session.flush()
    _add_keys(services, session, issuer, di_key, number=1)
    audit.append(session, actor, "issuer.create", did, {"slug": slug, "name": name})
    after_commit(session, lambda: forget_own_issuers(services))
    return issuer


def _add_keys(
    services: Services, session: Session, issuer: Issuer, di_key: PrivateKey, number: int
) -> None:
    assert issuer.id is not None
    if issuer.did.startswith("did:key:"):
        di_kid = did_key_method(di_key)
    else:
        di_kid = f"{issuer.did}#key-{number}"
    keys: list[tuple[str, PrivateKey, str, str]] = [(di_kid, di_key, "di", "EdDSA")]
    if not issuer.did.startswith("did:key:"):
        # A did:key names one key, so a did:key issuer signs its VC-JWTs with it (EdDSA).
        jwt_key = generate_for_jwt(DEFAULT_JWT_ALG)
        keys.append((f"{issuer.did}#jwt-{number}", jwt_key, "jwt", DEFAULT_JWT_ALG))
    for kid, key, purpose, alg in keys:
        row = SigningKey(
            issuer_id=issuer.id,
            purpose=purpose,
            alg=alg,
            kid=kid,
            public_jwk=public_jwk(key, kid=kid, iss=issuer.did),
            multikey=multikey(key) if purpose == "di" else None,
        )
        services.keystore.store(row, key)
        session.add(row)
    session.flush()


def rotate_keys(session: Session, services: Services, slug: str, actor: str = "cli") -> list[str]:
    """New signing keys for ``slug``; the old ones are retired but stay published."""
    issuer = get_issuer(session, slug)
    if issuer.did.startswith("did:key:"):
        raise BadRequest("a did:key issuer's id is its key; create a new issuer to change it")
    current = active_keys(session, issuer)
    number = len(all_keys(session, issuer)) // 2 + 1
    for row in current:
        row.retired_at = utcnow()
        session.add(row)
    _add_keys(services, session, issuer, generate_ed25519(), number)
    new = [row.kid for row in active_keys(session, issuer)]
    audit.append(
        session,
        actor,
        "keys.rotate",
        issuer.did,
        {"retired": [r.kid for r in current], "new": new},
    )
    return new


def all_keys(session: Session, issuer: Issuer) -> list[SigningKey]:
    query = select(SigningKey).where(SigningKey.issuer_id == issuer.id).order_by(col(SigningKey.id))
    return list(session.exec(query))


def active_keys(session: Session, issuer: Issuer) -> list[SigningKey]:
    return [row for row in all_keys(session, issuer) if row.retired_at is None]


def signing_key(session: Session, issuer: Issuer, purpose: str) -> SigningKey:
    """The active key for ``purpose`` ("di" or "jwt"; a did:key issuer's JWT key is its DI key)."""
    if purpose == "jwt" and issuer.did.startswith("did:key:"):
        purpose = "di"
    for row in active_keys(session, issuer):
        if row.purpose == purpose:
            return row
    raise NotFound(f"issuer {issuer.slug!r} has no active {purpose} key")


def achievement_id(services: Services, issuer: Issuer, key: str) -> str:
    """The URL an achievement of ``issuer`` is published at (its OB 3.0 ``id``)."""
    return f"{services.settings.base_url}/issuers/{issuer.slug}/achievements/{key}"


def profile(issuer: Issuer) -> dict[str, Any]:
    """The issuer as an OB 3.0 Profile (what credentials embed and /issuers/{slug} serves)."""
    document: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": issuer.name}
    for field in ("url", "email", "description"):
        if getattr(issuer, field):
            document[field] = getattr(issuer, field)
    return document


def linked_origins(settings: Settings, issuer: Issuer) -> list[str]:
    """The https origins a did:web issuer names in its DID document's ``LinkedDomains`` service:
    this instance (which publishes its DID Configuration) and the institute's own website."""
    found = []
    for url in (settings.base_url, issuer.url or ""):
        origin = origin_of(url)
        if origin and origin not in found:
            found.append(origin)
    return found


def did_document(
    session: Session, issuer: Issuer, settings: Settings | None = None
) -> dict[str, Any]:
    methods = []
    for row in all_keys(session, issuer):
        method: dict[str, Any] = {"id": row.kid, "controller": issuer.did}
        if row.multikey:
            method.update(type="Multikey", publicKeyMultibase=row.multikey)
        else:
            jwk = {k: v for k, v in row.public_jwk.items() if k not in ("kid", "iss")}
            method.update(type="JsonWebKey", publicKeyJwk=jwk)
        methods.append(method)
    ids = [method["id"] for method in methods]
    document: dict[str, Any] = {
        "@context": DID_CONTEXTS,
        "id": issuer.did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }
    origins = linked_origins(settings, issuer) if settings is not None else []
    if origins:
        document["@context"] = [*DID_CONTEXTS, DID_CONFIGURATION_CONTEXT]
        document["service"] = [
            {
                "id": f"{issuer.did}#linked-domain",
                "type": "LinkedDomains",
                "serviceEndpoint": {"origins": origins},
            }
        ]
    return document


EDITABLE = ("name", "url", "email", "description", "location")


def update_issuer(
    session: Session, services: Services, slug: str, changes: dict[str, Any], actor: str
) -> Issuer:
    """Change an issuer's profile (what future credentials embed and the trust list shows)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise BadRequest(f"these fields cannot be changed: {', '.join(sorted(unknown))}")
    if "name" in changes and not (changes["name"] or "").strip():
        raise BadRequest("an issuer needs a name")
    if changes.get("url") and origin_of(changes["url"]) is None:
        raise BadRequest("the website must be an https URL, e.g. https://www.example.ac.kr")
    issuer = get_issuer(session, slug)
    refuse_anothers_identity(session, issuer, [changes.get("name") or ""], changes.get("url"))
    for field, value in changes.items():
        setattr(issuer, field, value.strip() if isinstance(value, str) and value else None)
    session.add(issuer)
    audit.append(session, actor, "issuer.update", issuer.did, changes)
    after_commit(session, lambda: forget_own_issuers(services))
    return issuer


_LOOKALIKES = str.maketrans(
    {
        # letters of other scripts (as case-folded) drawn like a Latin one, and the digits drawn
        # like letters: Unicode's confusables (UTS #39) for the letters names are written with
        **dict(zip("авеһіјкӏмнорԛсѕтуԝхԁьɡɑ", "abehijklmhopqcstywxdbga", strict=True)),  # Cyrillic
        **dict(zip("αβεηικμνορτυχωζ", "abenikmvoptuxwz", strict=True)),  # Greek
        **dict(zip("օսցհոɩıɪʟ", "oughniiil", strict=True)),  # Armenian, Latin variants
        **dict(zip("01", "ol", strict=True)),
    }
)


def name_key(name: str) -> str:
    """A name as issuers' names are compared, so that one drawn like another is the other: NFKC-
    normalised, without invisible characters (zero-width spaces and joiners, soft hyphens,
    direction marks: Unicode's format characters) or accents, case-folded, letters of other
    scripts drawn like Latin ones read as those (a Cyrillic ``а`` in ``Seoul Nаtional``), its
    whitespace collapsed (``ＧＯＯＤ  institute`` is ``GOOD Institute``)."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Cf", "Mn"))
    folded = unicodedata.normalize("NFKC", kept).casefold().translate(_LOOKALIKES)
    return " ".join(folded.split())


def site_key(url: str) -> str | None:
    """A website as issuers' websites are compared: its host without a leading ``www.``, and a
    port other than the scheme's; None for what is not an http(s) URL."""
    try:
        parts = urlsplit(unicodedata.normalize("NFKC", url).strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if not host.isascii():  # the name that is looked up: its ASCII (IDNA) form
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    host = host.removeprefix("www.")
    return host + (f":{port}" if port not in (None, 80, 443) else "")


def anothers_identity(
    session: Session, issuer: Issuer | None, names: Iterable[str], url: str | None
) -> str | None:
    """``"name"`` or ``"url"`` if one of ``names``, or ``url``'s website, is another issuer's on
    this instance (the trust list it publishes names each issuer by these); None if not. What
    ``issuer`` has already is its own, even where an older row shares it."""
    own_names = {name_key(issuer.name)} if issuer is not None else set()
    own_site = site_key(issuer.url) if issuer is not None and issuer.url else None
    wanted = {name_key(n) for n in names if n and n.strip()} - own_names
    site = site_key(url) if url else None
    if site == own_site:
        site = None
    if not wanted and site is None:
        return None
    query = select(Issuer.id, Issuer.name, Issuer.url)
    for other_id, other_name, other_url in session.exec(query):
        if issuer is not None and other_id == issuer.id:
            continue
        if name_key(other_name) in wanted:
            return "name"
        if site is not None and other_url and site_key(other_url) == site:
            return "url"
    return None


def refuse_anothers_identity(
    session: Session, issuer: Issuer | None, names: Iterable[str], url: str | None
) -> None:
    """Conflict (409) if a name or the website would be another issuer's on this instance.
    Creating or renaming issuers waits here for any other doing so to end (``IDENTITY_LOCK``, held
    to commit), so two at once cannot both take one name: the second sees the first's."""
    advisory_lock(session, IDENTITY_LOCK)
    taken = anothers_identity(session, issuer, names, url)
    if taken == "name":
        raise Conflict("another issuer on this instance has this name; choose a name of its own")
    if taken == "url":
        raise Conflict("another issuer on this instance has this website; give the institute's own")


LINKAGE_VALIDITY = timedelta(days=365)


def domain_linkage(session: Session, services: Services, issuer: Issuer, origin: str) -> str:
    """A Domain Linkage JWT: ``issuer`` says it controls ``origin`` (signed with its current
    Data Integrity key, which its DID document lists under ``assertionMethod``)."""
    normal = origin_of(origin)
    if normal is not None and normal != origin.rstrip("/") and not origin.isascii():
        raise BadRequest(f"write the origin {origin!r} in its ASCII form: {normal}")
    if normal is None or normal != origin.rstrip("/"):
        raise BadRequest(f"{origin!r} is not an https origin such as https://www.example.ac.kr")
    row = signing_key(session, issuer, "di")
    now = datetime.now(UTC).replace(microsecond=0)
    return sign_domain_linkage(
        issuer.did,
        normal,
        services.keystore.load(row),
        kid=row.kid,
        issued=now,
        expires=now + LINKAGE_VALIDITY,
    )


def did_configuration_for(
    session: Session, services: Services, slug: str, origin: str | None = None
) -> dict[str, Any]:
    """The ``/.well-known/did-configuration.json`` an institute publishes on its own website
    (default: the website its profile names) to prove that it controls that domain."""
    issuer = get_issuer(session, slug)
    target = origin or (origin_of(issuer.url) if issuer.url else None)
    if not target:
        raise BadRequest("name the website's origin, or set the issuer's url first")
    return did_configuration([domain_linkage(session, services, issuer, target)])


def hosted_did_configuration(session: Session, services: Services) -> dict[str, Any]:
    """This instance's own DID Configuration: a Domain Linkage for every did:web issuer it
    hosts (they are all on its origin). Signed at most once an hour per process."""
    origin = origin_of(services.settings.base_url)
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    hosted = list(
        session.exec(
            select(Issuer).where(col(Issuer.did).startswith("did:web:")).order_by(col(Issuer.id))
        )
    )
    stamp = (hour, tuple(i.id for i in hosted))
    cached = services.cache.get("did-configuration")
    if not (isinstance(cached, tuple) and cached[0] == stamp):
        linked = [domain_linkage(session, services, i, origin) for i in hosted] if origin else []
        cached = (stamp, did_configuration(linked))
        services.cache["did-configuration"] = cached
    document: dict[str, Any] = cached[1]
    return document


def jwks(session: Session) -> dict[str, Any]:
    """Every issuer's JWT keys, retired ones included, each with ``kid`` and ``iss``."""
    rows = session.exec(
        select(SigningKey).where(SigningKey.purpose == "jwt").order_by(col(SigningKey.id))
    )
    return {"keys": [row.public_jwk for row in rows]}
