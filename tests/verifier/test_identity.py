"""Issuer identity: known (a trust list), linked (a web domain, checked both ways) or unconfirmed
(only self-declared) — and never borrowed by a forger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519, multikey
from issuer.crypto.signing import did_configuration, sign_data_integrity, sign_domain_linkage
from tests.issuer.credentials import make_credential
from verifier import Verdict, verify_credential
from verifier.fetch import MappingFetcher
from verifier.identity import IdentityState, RegistryEntry, TrustPolicy
from verifier.registries import StaticRegistry

NOW = datetime(2026, 6, 1, tzinfo=UTC)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "trust"
UNIVERSITY_KEY = generate_ed25519()
UNIVERSITY = did_key(UNIVERSITY_KEY)
SITE = "https://www.university.example"
FORGER_KEY = generate_ed25519()
FORGER = did_key(FORGER_KEY)


def badge(key: Any, did: str, method: str, *, url: str | None = SITE) -> dict[str, Any]:
    credential = make_credential(did)
    credential["issuer"]["name"] = "Seoul National University"
    if url:
        credential["issuer"]["url"] = url
    return sign_data_integrity(credential, key, method)


def linkage(did: str, key: Any, origin: str = SITE, **times: datetime) -> str:
    return sign_domain_linkage(
        did,
        origin,
        key,
        kid=f"{did}#{did.removeprefix('did:key:')}",
        issued=times.get("issued", NOW - timedelta(days=30)),
        expires=times.get("expires", NOW + timedelta(days=335)),
    )


def site(*linked: Any, origin: str = SITE) -> dict[str, bytes]:
    config = did_configuration(list(linked))
    return {f"{origin}/.well-known/did-configuration.json": json.dumps(config).encode()}


def identity(credential: Any, table: dict[str, bytes] | None = None, **options: Any) -> Any:
    report = verify_credential(credential, now=NOW, fetcher=MappingFetcher(table or {}), **options)
    return report


# --- unconfirmed ------------------------------------------------------------------------------


def test_a_self_made_did_key_is_unconfirmed_whatever_it_calls_itself() -> None:
    report = identity(badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY), url=None))
    assert report.verdict is Verdict.VERIFIED
    who = report.identity
    assert who.state is IdentityState.UNCONFIRMED
    assert who.claimed_name == "Seoul National University"
    assert "anyone can create an issuer like this" in who.reason
    assert report.to_dict()["issuerIdentity"]["state"] == "unconfirmed"


def test_a_website_that_cannot_be_reached_leaves_it_unconfirmed() -> None:
    report = identity(badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)))
    assert report.identity.state is IdentityState.UNCONFIRMED
    assert any(SITE in item for item in report.identity.not_checked)


def test_a_forger_cannot_borrow_the_universitys_website() -> None:
    """The forger names the university's site, whose DID Configuration links only the
    university's DID."""
    table = site(linkage(UNIVERSITY, UNIVERSITY_KEY))
    report = identity(badge(FORGER_KEY, FORGER, did_key_method(FORGER_KEY)), table)
    assert report.verdict is Verdict.VERIFIED
    assert report.identity.state is IdentityState.UNCONFIRMED


def test_a_linkage_signed_by_another_key_does_not_count() -> None:
    """The forger publishes a linkage for the university's DID, signed with the forger's key."""
    forged = sign_domain_linkage(
        UNIVERSITY,
        SITE,
        FORGER_KEY,
        kid=did_key_method(UNIVERSITY_KEY),
        issued=NOW - timedelta(days=1),
        expires=NOW + timedelta(days=1),
    )
    report = identity(
        badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)), site(forged)
    )
    assert report.identity.state is IdentityState.UNCONFIRMED
    assert any("signature does not match" in item for item in report.identity.not_checked)


def test_an_expired_linkage_or_another_origin_does_not_count() -> None:
    credential = badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY))
    expired = linkage(UNIVERSITY, UNIVERSITY_KEY, expires=NOW - timedelta(days=1))
    other = linkage(UNIVERSITY, UNIVERSITY_KEY, origin="https://elsewhere.example")
    for linked in (expired, other):
        assert identity(credential, site(linked)).identity.state is IdentityState.UNCONFIRMED


def test_a_forgery_never_gets_an_identity() -> None:
    """When the signature is not bound to the issuer, nothing about the issuer is confirmed,
    however good the issuer's own standing."""
    registry = StaticRegistry("Ministry list", {UNIVERSITY: RegistryEntry("Ministry list", "SNU")})
    forged = badge(FORGER_KEY, UNIVERSITY, did_key_method(FORGER_KEY))
    report = identity(forged, trust=TrustPolicy((registry,)))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.identity.state is IdentityState.UNCONFIRMED
    assert "not tied to the issuer" in report.identity.reason


def test_an_issuer_named_by_a_urn_is_unconfirmed() -> None:
    credential = sign_data_integrity(
        make_credential("urn:uuid:2f0b0f58-1c2d-4e3f-9a8b-7c6d5e4f3a2b"),
        UNIVERSITY_KEY,
        did_key_method(UNIVERSITY_KEY),
    )
    assert identity(credential).identity.state is IdentityState.UNCONFIRMED


# --- linked -----------------------------------------------------------------------------------


def test_did_configuration_links_a_did_key_to_its_website() -> None:
    table = site(linkage(UNIVERSITY, UNIVERSITY_KEY))
    report = identity(badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)), table)
    who = report.identity
    assert who.state is IdentityState.LINKED, who
    assert who.linked_domain == SITE
    assert who.linkage == "did-configuration"
    evidence = report.to_dict()["issuerIdentity"]["evidence"]
    assert evidence == {"linkedDomain": SITE, "linkage": "did-configuration"}


def test_other_dids_on_the_same_site_are_skipped() -> None:
    table = site(linkage(FORGER, FORGER_KEY), linkage(UNIVERSITY, UNIVERSITY_KEY))
    report = identity(badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)), table)
    assert report.identity.state is IdentityState.LINKED


def test_a_json_ld_domain_linkage_credential_counts_too() -> None:
    unsigned = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://identity.foundation/.well-known/did-configuration/v1",
            "https://w3id.org/security/data-integrity/v1",
        ],
        "issuer": UNIVERSITY,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "type": ["VerifiableCredential", "DomainLinkageCredential"],
        "credentialSubject": {"id": UNIVERSITY, "origin": SITE},
    }
    linked = sign_data_integrity(unsigned, UNIVERSITY_KEY, did_key_method(UNIVERSITY_KEY))
    report = identity(
        badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)), site(linked)
    )
    assert report.identity.state is IdentityState.LINKED, report.identity


def did_web_world(did: str, key: Any, **extra: Any) -> dict[str, bytes]:
    host = did.removeprefix("did:web:").split(":")[0]
    document = {
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(key),
            }
        ],
        "assertionMethod": [f"{did}#key-1"],
        **extra,
    }
    return {f"https://{host}/.well-known/did.json": json.dumps(document).encode()}


def test_a_did_web_is_linked_to_the_domain_that_publishes_it() -> None:
    did = "did:web:badges.university.example"
    credential = badge(UNIVERSITY_KEY, did, f"{did}#key-1", url=None)
    who = identity(credential, did_web_world(did, UNIVERSITY_KEY)).identity
    assert who.state is IdentityState.LINKED
    assert who.linked_domain == "https://badges.university.example"
    assert who.linkage == "did:web"
    assert "badges.university.example" in who.reason


def test_a_did_web_whose_website_confirms_it_is_linked_to_the_website() -> None:
    """did:web hosted by a badge platform; the institute's own site confirms it — the stronger
    evidence for an employer, so it is the one shown."""
    did = "did:web:badges.platform.example:issuers:snu"
    key = generate_ed25519()
    document = did_web_world(
        did,
        key,
        service=[
            {"id": f"{did}#site", "type": "LinkedDomains", "serviceEndpoint": {"origins": [SITE]}}
        ],
    )
    document = {
        "https://badges.platform.example/issuers/snu/did.json": next(iter(document.values()))
    }
    linked = sign_domain_linkage(
        did,
        SITE,
        key,
        kid=f"{did}#key-1",
        issued=NOW - timedelta(days=1),
        expires=NOW + timedelta(days=9),
    )
    credential = badge(
        key, did, f"{did}#key-1", url=None
    )  # the site named only in the DID document
    who = identity(credential, {**document, **site(linked)}).identity
    assert who.state is IdentityState.LINKED, who
    assert (who.linked_domain, who.linkage) == (SITE, "did-configuration")
    without_site = identity(credential, document).identity
    assert without_site.state is IdentityState.UNCONFIRMED  # a path on the platform's domain
    assert any(
        "published under badges.platform.example/issuers/snu/, a path" in note
        for note in without_site.notes
    ), without_site.notes


def test_a_did_web_under_a_path_is_not_linked_to_the_whole_domain() -> None:
    """``did:web:university.example:~mallory`` is served from a student's home directory on the
    university's web server: the university did not publish it. Only the domain's own DID
    Configuration, listing that DID, links the two — as a Laurel instance's does for the
    issuers it hosts under /issuers/{slug}."""
    key = generate_ed25519()
    did = "did:web:university.example:~mallory"
    served = did_web_world(did, key)
    served = {"https://university.example/~mallory/did.json": next(iter(served.values()))}
    credential = badge(key, did, f"{did}#key-1", url="https://university.example/")
    who = identity(credential, served).identity
    assert who.state is IdentityState.UNCONFIRMED, who
    assert who.linked_domain is None
    hosted = "did:web:university.example:issuers:medicine"
    served = did_web_world(
        hosted,
        key,
        service=[
            {
                "id": f"{hosted}#site",
                "type": "LinkedDomains",
                "serviceEndpoint": {"origins": ["https://university.example"]},
            }
        ],
    )
    served = {"https://university.example/issuers/medicine/did.json": next(iter(served.values()))}
    origin = "https://university.example"
    linked = sign_domain_linkage(
        hosted,
        origin,
        key,
        kid=f"{hosted}#key-1",
        issued=NOW - timedelta(days=1),
        expires=NOW + timedelta(days=9),
    )
    credential = badge(key, hosted, f"{hosted}#key-1", url=None)
    who = identity(credential, {**served, **site(linked, origin=origin)}).identity
    assert (who.state, who.linked_domain, who.linkage) == (
        IdentityState.LINKED,
        origin,
        "did-configuration",
    ), who
    assert identity(credential, served).identity.state is IdentityState.UNCONFIRMED


def test_an_https_issuer_under_a_path_is_not_linked_to_the_whole_domain() -> None:
    key = generate_ed25519()
    for issuer, linked in (
        ("https://university.example/~mallory/issuer.json", False),
        ("https://university.example/", True),
    ):
        document = {
            "id": issuer,
            "verificationMethod": [
                {
                    "id": f"{issuer}#key-1",
                    "type": "Multikey",
                    "controller": issuer,
                    "publicKeyMultibase": multikey(key),
                }
            ],
            "assertionMethod": [f"{issuer}#key-1"],
        }
        table = {issuer: json.dumps(document).encode()}
        who = identity(badge(key, issuer, f"{issuer}#key-1", url=None), table).identity
        assert (who.state is IdentityState.LINKED) is linked, (issuer, who)


# --- known ------------------------------------------------------------------------------------


def test_known_from_a_dcc_registry_fixture(tmp_path: Path) -> None:
    """The DCC static registry, in the real shape (``shared/spec/trust``), read from a file."""
    from verifier.httpcache import CachingHttpClient
    from verifier.registries import load_sources

    guide_key_did = "did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    registries = load_sources([str(FIXTURES / "legacy-registry.example.json")], CachingHttpClient())
    entry = registries[0].lookup("did:web:badges.example.ac.kr")
    assert entry == RegistryEntry(
        "legacy-registry.example.json",
        "Example National HRD Institute",
        "Jincheon, Korea",
        None,
        "https://www.example.ac.kr",
    )
    guide = registries[0].lookup(guide_key_did)
    assert guide is not None and guide.name is not None
    assert guide.name.startswith("Example Test Issuer")
    assert registries[0].lookup(UNIVERSITY) is None


def test_known_wins_and_every_list_is_reported_in_order() -> None:
    first = StaticRegistry(
        "Ministry list", {UNIVERSITY: RegistryEntry("Ministry list", "SNU", country="KR")}
    )
    second = StaticRegistry("Community", {UNIVERSITY: RegistryEntry("Community", "Seoul Nat'l")})
    table = site(linkage(UNIVERSITY, UNIVERSITY_KEY))
    report = identity(
        badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY)),
        table,
        trust=TrustPolicy((first, second)),
    )
    who = report.identity
    assert who.state is IdentityState.KNOWN
    assert [e.registry for e in who.registries] == ["Ministry list", "Community"]
    evidence = report.to_dict()["issuerIdentity"]["evidence"]
    assert evidence["registry"] == "Ministry list"
    assert evidence["entry"] == {"registry": "Ministry list", "name": "SNU", "country": "KR"}


def test_the_simple_trusted_issuers_list_still_works() -> None:
    credential = badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY), url=None)
    report = identity(credential, trusted_issuers=[UNIVERSITY])
    assert report.identity.state is IdentityState.KNOWN
    assert report.identity.entry == RegistryEntry("trusted issuers")


# --- lookalike domains ------------------------------------------------------------------------


def test_a_lookalike_domain_is_shown_in_its_ascii_form() -> None:
    """``https://ѕnu.ac.kr`` (a Cyrillic ``ѕ``) is another domain than snu.ac.kr, one anyone may
    register: the origin is the name that is looked up, ``xn--nu-doc.ac.kr``, as a browser's
    address bar shows it — for an https issuer and for a website that confirms a did:key."""
    from verifier.identity import origin_of

    assert origin_of("https://ѕnu.ac.kr/issuer") == "https://xn--nu-doc.ac.kr"
    assert origin_of("https://ＳＮＵ.ac.kr/") == "https://snu.ac.kr"  # what is looked up
    assert origin_of("https://a\u200db.example/") is None
    issuer = "https://ѕnu.ac.kr/"
    key = generate_ed25519()
    document = {
        "id": issuer,
        "verificationMethod": [
            {
                "id": f"{issuer}#key-1",
                "type": "Multikey",
                "controller": issuer,
                "publicKeyMultibase": multikey(key),
            }
        ],
        "assertionMethod": [f"{issuer}#key-1"],
    }
    who = identity(
        badge(key, issuer, f"{issuer}#key-1", url=None), {issuer: json.dumps(document).encode()}
    ).identity
    assert (who.state, who.linked_domain) == (IdentityState.LINKED, "https://xn--nu-doc.ac.kr")
    assert "snu.ac.kr" not in who.reason
    lookalike = "https://ѕnu.ac.kr"
    report = identity(
        badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY), url=lookalike),
        site(linkage(UNIVERSITY, UNIVERSITY_KEY, origin=lookalike), origin=lookalike),
    )
    assert report.identity.state is IdentityState.UNCONFIRMED  # its configuration is elsewhere
    puny = "https://xn--nu-doc.ac.kr"
    report = identity(
        badge(UNIVERSITY_KEY, UNIVERSITY, did_key_method(UNIVERSITY_KEY), url=lookalike),
        site(linkage(UNIVERSITY, UNIVERSITY_KEY, origin=lookalike), origin=puny),
    )
    who = report.identity
    assert (who.state, who.linked_domain) == (IdentityState.LINKED, puny), who
    assert "xn--nu-doc.ac.kr" in who.reason
