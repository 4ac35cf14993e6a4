"""A badge's web page that offers its credential (``<link rel="alternate" type="…">``): verifying
the page's URL verifies the credential it offers, one link deep (``verifier.sources``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuer.crypto.keys import did_key, did_key_method, ed25519_from_seed
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from tests.issuer.credentials import make_credential
from tests.vectors import NOW
from tests.verifier.test_binding_attacks import ATTACKER, ATTACKER_KEY, did_doc, signed, vm
from tests.verifier.test_binding_attacks import NOW as WHEN
from verifier import Verdict, verify_credential
from verifier.fetch import MappingFetcher
from verifier.sources import OFFER_READ_BYTES, offered_credential

KEY = ed25519_from_seed(b"\x0b" * 32)
ISSUER = did_key(KEY)
PAGE = "https://badges.example.org/v/1"
MARKUP = [
    *("<html>", "<link", " rel=alternate", " rel='alternate stylesheet'", " type=application/vc"),
    *(" type='application/json'", " href=", "'/x'", "'javascript:x'", "//h.example/y", ">"),
    *("<!", "<![", "[CDATA[", "<?", "<!--", "-->", "</", "&", "&#", "&#x", "\x00", "<a", '"'),
    *("'", "=", " ", "<script>", "</script>", "<style>", "]]>", "<!ELEMENT", "\udcff", "é"),
]


def credential() -> dict[str, Any]:
    return sign_data_integrity(
        make_credential(ISSUER), KEY, did_key_method(KEY), created="2026-01-01T00:00:00Z"
    )


def page(*links: str, before: str = "") -> bytes:
    head = "".join(links)
    return f"<!doctype html><html><head>{before}{head}<title>A badge</title></head></html>".encode()


def link(href: str, kind: str = "application/vc+ld+json", rel: str = "alternate") -> str:
    return f'<link rel="{rel}" type="{kind}" href="{href}">'


def verify(table: dict[str, bytes], source: str = PAGE) -> Any:
    return verify_credential(source, now=NOW, fetcher=MappingFetcher(table))


@pytest.mark.parametrize(
    ("href", "where"),
    [
        ("/v/1/credential.json", "https://badges.example.org/v/1/credential.json"),
        ("credential.json", "https://badges.example.org/v/credential.json"),
        ("https://cdn.example.net/c/1.json", "https://cdn.example.net/c/1.json"),
        ("//cdn.example.net/c/2.json", "https://cdn.example.net/c/2.json"),
    ],
)
def test_the_page_of_a_badge_leads_to_its_credential(href: str, where: str) -> None:
    body = json.dumps(credential()).encode()
    report = verify({PAGE: page(link(href)), where: body})
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert report.summary.format == "url"


@pytest.mark.parametrize(
    "kind", ["application/vc", "application/ld+json", "APPLICATION/JSON; charset=utf-8"]
)
def test_every_json_type_is_followed(kind: str) -> None:
    where = "https://badges.example.org/c.json"
    report = verify({PAGE: page(link(where, kind)), where: json.dumps(credential()).encode()})
    assert report.verdict is Verdict.VERIFIED


def test_a_jwt_the_page_offers_is_verified_as_one() -> None:
    where = "https://badges.example.org/c.jwt"
    token = sign_jwt(make_credential(ISSUER), KEY, kid=did_key_method(KEY))
    report = verify({PAGE: page(link(where, "application/vc+jwt")), where: token.encode()})
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_the_first_usable_link_is_followed() -> None:
    good = "https://badges.example.org/good.json"
    body = page(
        link("javascript:alert(1)"),
        link(PAGE),  # itself
        link("/style.css", "text/css", "stylesheet"),
        link("/other.html", "text/html"),
        link("/preload.json", rel="preload"),
        link(good),
        link("https://badges.example.org/second.json"),
    )
    assert offered_credential(body, PAGE) == good
    assert verify({PAGE: body, good: json.dumps(credential()).encode()}).verified


@pytest.mark.parametrize(
    "body",
    [
        page(),
        page(link("/x.css", "text/css", "stylesheet")),
        page(link("file:///etc/passwd")),
        page(link("data:application/json,{}")),
        page(link("")),
        b'{"not": "html"}',
        b"\x89PNG\r\n",
    ],
)
def test_a_page_that_offers_nothing_usable_is_refused_as_a_page(body: bytes) -> None:
    assert offered_credential(body, PAGE) is None
    if body.startswith(b"<!doctype"):
        reason = verify({PAGE: body}).checks[0].reason
        assert reason.startswith("the URL gave a web page (HTML), not a credential")


def test_a_link_is_followed_once() -> None:
    """A page that offers a page is not followed on: the second is refused as HTML."""
    second = "https://badges.example.org/second"
    third = "https://badges.example.org/third.json"
    table = {
        PAGE: page(link(second)),
        second: page(link(third)),
        third: json.dumps(credential()).encode(),
    }
    report = verify(table)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.checks[0].reason.startswith("the URL gave a web page (HTML)")


def test_an_offered_credential_that_cannot_be_fetched_says_so() -> None:
    report = verify({PAGE: page(link("/gone.json"))})
    assert report.verdict is not Verdict.VERIFIED
    assert "https://badges.example.org/gone.json" in report.checks[0].reason


def test_only_the_head_of_a_long_page_is_read() -> None:
    late = page(link("https://badges.example.org/late.json"), before="x" * OFFER_READ_BYTES)
    assert offered_credential(late, PAGE) is None
    early = page(link("https://badges.example.org/early.json"))
    assert offered_credential(early + b" " * OFFER_READ_BYTES, PAGE) is not None


def test_the_credential_itself_is_not_read_for_links() -> None:
    """Only a URL's answer is a page that may offer a credential: HTML given as the input is
    refused as before, not followed."""
    body = page(link("https://badges.example.org/c.json"))
    table = {"https://badges.example.org/c.json": json.dumps(credential()).encode()}
    for source in (body, body.decode()):
        report = verify_credential(source, now=NOW, fetcher=MappingFetcher(table))
        assert report.checks[0].reason.startswith("the input is a web page (HTML)")


@pytest.mark.parametrize(
    "markup",
    ["<![=", "<! rel=alternate</script><a href=<?<![<link", "<![</=[CDATA[&& rel=alternate"],
)
def test_markup_the_parser_gives_up_on_keeps_the_links_before_it(markup: str) -> None:
    """``html.parser`` raises ``AssertionError`` on some malformed declarations: a page with one
    is read up to it, never an error of the verifier."""
    good = "https://badges.example.org/good.json"
    assert offered_credential(page(markup), PAGE) is None
    assert offered_credential(page(link(good), markup), PAGE) == good
    report = verify({PAGE: page(markup)})
    assert report.checks[0].reason.startswith("the URL gave a web page (HTML)")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MARKUP), max_size=30), st.binary(max_size=40))
def test_any_page_is_read_without_error(pieces: list[str], tail: bytes) -> None:
    body = ("<!doctype html>" + "".join(pieces)).encode("utf-8", "surrogatepass") + tail
    found = offered_credential(body, PAGE)
    assert found is None or found.startswith(("https://", "http://"))


def test_links_resolve_against_the_pages_base() -> None:
    body = page(link("c/1.json"), before='<base href="https://cdn.example.net/badges/">')
    assert offered_credential(body, PAGE) == "https://cdn.example.net/badges/c/1.json"
    relative = page(link("c/1.json"), before='<base href="/b/"><base href="/ignored/">')
    assert offered_credential(relative, PAGE) == "https://badges.example.org/b/c/1.json"
    unusable = page(link("c/1.json"), before='<base href="javascript:void(0)/">')
    assert offered_credential(unusable, PAGE) is None


def test_the_page_that_offers_a_credential_vouches_for_nothing() -> None:
    """A forger's credential (its own did:web, calling itself the victim's name) offered by a
    page on the victim's host: it verifies as the forger's, linked to the forger's domain only;
    the page's host lends it no identity."""
    own = did_doc(ATTACKER, [vm(f"{ATTACKER}#key-1", ATTACKER, ATTACKER_KEY)])
    own["assertionMethod"] = [f"{ATTACKER}#key-1"]
    victim_page = "https://victim.example/badges/1"
    table = {
        victim_page: page(link("/badges/1.json")),
        "https://victim.example/badges/1.json": json.dumps(
            signed(ATTACKER, f"{ATTACKER}#key-1")
        ).encode(),
        "https://attacker.example/.well-known/did.json": json.dumps(own).encode(),
    }
    report = verify_credential(victim_page, now=WHEN, fetcher=MappingFetcher(table))
    assert report.summary.issuer_id == ATTACKER
    assert report.identity.linked_domain == "https://attacker.example"
    assert "victim.example" not in json.dumps(report.identity.to_dict())
