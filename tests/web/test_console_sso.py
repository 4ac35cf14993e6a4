"""Staff sign-in to the console with an OpenID Connect provider (``LAUREL_OIDC_*``), against a
local provider on loopback (``tests.web.oidc_provider``), SQLite and PostgreSQL: an existing
member signs in (TestClient, and once in Chromium); an unknown email, an unverified email, a
wrong nonce, a replayed or foreign state, a wrong audience or issuer, an expired ID token and a
bad signature are refused; an owner under ``LAUREL_STAFF_MFA=required`` still gives the TOTP
step unless the provider says it used more than one factor, and a member who turned TOTP on
gives it whatever the provider says; only the staff of the issuers ``LAUREL_OIDC_ISSUERS`` names
sign in (unset: the one issuer, or no one when there are several)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from sqlmodel import Session, select

from issuer import cli
from issuer.app import create_app
from issuer.context import Services
from issuer.core.db import make_engine
from issuer.core.settings import Settings
from issuer.models import Issuer, SignInLink, StaffMember, WebSession
from issuer.obclient import oidc
from tests.databases import serving
from tests.issuer.conftest import make_issuer
from tests.web.conftest import Live, free_port, offline
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.web.test_browser import browser as browser  # the module-scoped fixture
from tests.web.test_wallet_browser import accessible, axe

__all__ = ["axe"]
EMAIL = "kim@hrd.example"
TOTP = {"totp_secret": "JBSWY3DPEHPK3PXP", "totp_enabled_at": datetime.now(UTC)}


@pytest.fixture
def provider() -> Iterator[Provider]:
    port = free_port()
    found = Provider(port)
    found.user["email"] = EMAIL
    with serving(found.app, port):
        yield found


def _configure(settings: Settings, provider: Provider) -> None:
    settings.oidc_issuer = provider.issuer
    settings.oidc_client_id = CLIENT_ID
    settings.oidc_client_secret = CLIENT_SECRET
    settings.oidc_name = "HRD Institute ID"


def _member(
    services: Services, email: str, role: str, slug: str = "hrd", **fields: Any
) -> StaffMember:
    """``email`` on the staff of ``slug`` (as an accepted invitation leaves it)."""
    with Session(services.engine, expire_on_commit=False) as session:
        issuer = session.exec(select(Issuer).where(Issuer.slug == slug)).one()
        assert issuer.id is not None
        member = StaffMember(issuer_id=issuer.id, email=email, role=role, **fields)
        session.add(member)
        session.commit()
        return member


@dataclass
class Site:
    client: TestClient
    services: Services
    provider: Provider

    def member(
        self, email: str = EMAIL, role: str = "issuer", slug: str = "hrd", **fields: Any
    ) -> StaffMember:
        return _member(self.services, email, role, slug, **fields)

    def person(self) -> TestClient:
        return TestClient(self.client.app, base_url=str(self.client.base_url))

    def start(self, person: TestClient) -> str:
        """Press "Sign in with …": the provider signs in at once; its redirect back."""
        page = person.get("/console/login")
        assert 'id="sso"' in page.text and "Sign in with HRD Institute ID" in page.text
        started = person.get("/console/sso", follow_redirects=False)
        assert started.status_code == 303, started.text
        assert started.headers["location"].startswith(f"{self.provider.issuer}/authorize?")
        assert "laurel_sso=" in started.headers["set-cookie"]
        back = httpx2.get(started.headers["location"], follow_redirects=False)
        assert back.status_code == 302, back.text
        return str(back.headers["location"])

    def sign_in(self, person: TestClient) -> httpx2.Response:
        return person.get(self.start(person), follow_redirects=False)


@pytest.fixture
def site(database_url: str, tmp_path: Path, provider: Provider) -> Iterator[Site]:
    """Laurel on a loopback http base URL (so a loopback provider may be called), its single
    sign-on set to ``provider``, with the issuer ``hrd``."""
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    _configure(settings, provider)
    engine = make_engine(database_url)
    services = Services.from_settings(settings, engine)
    services.network = offline
    with TestClient(create_app(services=services), base_url=settings.base_url) as client:
        make_issuer(services, client, "hrd")
        yield Site(client, services, provider)
    engine.dispose()


def _sessions(services: Services) -> list[WebSession]:
    with Session(services.engine) as session:
        return list(session.exec(select(WebSession)))


def test_an_existing_member_signs_in_once_with_the_provider(site: Site) -> None:
    site.member()
    person = site.person()
    back = site.start(person)
    signed = person.get(back, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/console", signed.text
    assert "laurel_staff=" in signed.headers["set-cookie"]
    home = person.get("/console")
    assert home.status_code == 200 and EMAIL in home.text

    # what went over the wire: PKCE S256, a nonce, the state; the verifier at the exchange
    asked = site.provider.authorizations[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["nonce"] and asked["state"] and asked["scope"] == "openid email profile"
    assert asked["redirect_uri"] == site.services.settings.base_url + oidc.CALLBACK
    assert len(site.provider.exchanges[-1]["code_verifier"]) == 43
    with Session(site.services.engine) as session:
        row = session.exec(select(SignInLink).where(SignInLink.purpose == oidc.PURPOSE)).one()
        assert row.used_at is not None and asked["state"] not in row.token_hash

    # the same answer again (state used), or in another browser (no cookie), is refused
    count = len(_sessions(site.services))
    again = person.get(back, follow_redirects=False)
    assert again.status_code == 403 and "already used" in again.text
    other = site.person()
    assert other.get(back).status_code == 403
    assert len(_sessions(site.services)) == count


def test_a_state_from_another_browser_or_too_old_is_refused(site: Site) -> None:
    site.member()
    victim, attacker = site.person(), site.person()
    attackers = site.start(attacker)
    site.start(victim)  # the victim has a sign-in of their own under way
    forced = victim.get(attackers, follow_redirects=False)
    assert forced.status_code == 403 and "laurel_staff=" not in forced.headers.get("set-cookie", "")

    late = site.person()
    back = site.start(late)
    with Session(site.services.engine) as session:
        for row in session.exec(select(SignInLink)):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
        session.commit()
    assert late.get(back).status_code == 403
    assert _sessions(site.services) == []


def test_sso_never_creates_staff(site: Site) -> None:
    site.member()
    site.provider.user["email"] = "stranger@else.example"
    refused = site.sign_in(site.person())
    assert refused.status_code == 403
    assert "stranger@else.example is not on the staff of any institute" in refused.text
    assert "laurel_staff=" not in refused.headers.get("set-cookie", "")
    with Session(site.services.engine) as session:
        assert len(session.exec(select(StaffMember)).all()) == 1
    site.member("gone@hrd.example", removed_at=datetime.now(UTC))  # a removed member is no one
    site.provider.user["email"] = "gone@hrd.example"
    assert site.sign_in(site.person()).status_code == 403
    assert _sessions(site.services) == []


def test_sso_signs_in_only_the_staff_of_the_issuers_it_serves(site: Site) -> None:
    """Audit 10, F3: the instance's one provider signed in, by the email it vouched for, the
    owner of another institute on the same Laurel (the first membership across all issuers),
    and its ``amr`` stood in for that owner's TOTP."""
    make_issuer(site.services, site.client, "other")
    site.services.settings.oidc_issuers = "hrd"
    site.member()
    site.member("boss@other.example", "owner", "other", **TOTP)
    site.provider.user["email"] = "boss@other.example"
    site.provider.claims = {"amr": ["pwd", "mfa"]}
    refused = site.sign_in(site.person())
    assert refused.status_code == 403, refused.headers
    assert "boss@other.example is not on the staff of any institute" in refused.text
    assert "laurel_staff=" not in refused.headers.get("set-cookie", "")
    assert _sessions(site.services) == []

    site.provider.user["email"] = EMAIL  # a member of an issuer it serves signs in
    person = site.person()
    assert site.sign_in(person).headers["location"] == "/console"
    assert person.get("/console").status_code == 200

    # on both staffs: the first membership among the issuers it serves, as a link signs in
    site.member("both@hrd.example", "owner", "other")
    at_hrd = site.member("both@hrd.example", "viewer", "hrd")
    site.provider.user["email"] = "both@hrd.example"
    assert site.sign_in(site.person()).headers["location"] == "/console"
    assert max(_sessions(site.services), key=lambda web: web.id or 0).staff_id == at_hrd.id

    # named too: the owner signs in, and still gives her own code
    site.services.settings.oidc_issuers = "hrd, other"
    site.provider.user["email"] = "boss@other.example"
    person = site.person()
    assert site.sign_in(person).headers["location"] == "/console/mfa"
    assert person.get("/console/keys", follow_redirects=False).headers["location"] == "/console/mfa"


def test_with_several_issuers_sso_waits_for_the_operator_to_name_them(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    site.member()
    cli._warn_about_sso(site.services)
    assert capsys.readouterr().err == ""
    person = site.person()
    back = site.start(person)  # one issuer, nothing set: its staff sign in

    make_issuer(site.services, site.client, "other")
    refused = person.get(back, follow_redirects=False)
    assert refused.status_code == 403 and "LAUREL_OIDC_ISSUERS" in refused.text, refused.text
    assert "laurel_staff=" not in refused.headers.get("set-cookie", "")
    refused = person.get("/console/sso", follow_redirects=False)  # nor does a new one start
    assert refused.status_code == 403 and "LAUREL_OIDC_ISSUERS" in refused.text
    with Session(site.services.engine) as session:
        assert len(session.exec(select(SignInLink)).all()) == 1
    assert _sessions(site.services) == []
    cli._warn_about_sso(site.services)
    assert "LAUREL_OIDC_ISSUERS does not name" in capsys.readouterr().err

    site.services.settings.oidc_issuers = "hrd"
    assert site.sign_in(person).headers["location"] == "/console"
    cli._warn_about_sso(site.services)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("claims", "forge", "says"),
    [
        ({"email_verified": False}, False, "not verified"),
        ({"email_verified": "true"}, False, "not verified"),
        ({"nonce": "another-nonce"}, False, "nonce"),
        ({"aud": "someone-else"}, False, "aud"),
        ({"iss": "https://idp.example"}, False, "iss"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, False, "exp"),
        ({}, True, "not valid"),
    ],
    ids=["unverified", "verified-as-text", "nonce", "audience", "issuer", "expired", "signature"],
)
def test_an_id_token_that_does_not_hold_is_refused(
    site: Site, claims: dict[str, Any], forge: bool, says: str
) -> None:
    site.member()
    site.provider.claims = claims
    site.provider.forge = forge
    refused = site.sign_in(site.person())
    assert refused.status_code == 403 and says in refused.text, refused.text
    assert _sessions(site.services) == []


@pytest.mark.parametrize(
    ("discovery", "jwks", "says"),
    [
        ({}, {}, "keys are not usable"),
        ({}, {"keys": "k1"}, "not valid"),
        ({"id_token_signing_alg_values_supported": 5}, None, "is not a list"),
    ],
    ids=["no keys", "keys not a list", "algorithms not a list"],
)
def test_a_provider_document_of_another_shape_is_refused_not_a_crash(
    site: Site, discovery: dict[str, Any], jwks: dict[str, Any] | None, says: str
) -> None:
    site.member()
    site.provider.discovery = discovery
    site.provider.jwks = jwks
    refused = site.sign_in(site.person())
    assert refused.status_code == 403 and says in refused.text, refused.text
    assert _sessions(site.services) == []


def test_an_owner_gives_the_second_factor_unless_the_provider_did_or_she_has_totp(
    site: Site,
) -> None:
    site.services.settings.staff_mfa = "required"
    site.member(role="owner")
    enrol = site.sign_in(site.person())
    assert enrol.headers["location"] == "/console/mfa/setup"
    site.provider.claims = {"amr": ["pwd", "otp"]}
    person = site.person()
    done = site.sign_in(person)
    assert done.headers["location"] == "/console" and person.get("/console").status_code == 200

    with Session(site.services.engine) as session:  # enrolled: her code, whatever the provider
        member = session.exec(select(StaffMember)).one()
        member.totp_secret, member.totp_enabled_at = "JBSWY3DPEHPK3PXP", datetime.now(UTC)
        session.add(member)
        session.commit()
    site.provider.claims = {"amr": ["pwd"]}
    person = site.person()
    code = site.sign_in(person)
    assert code.headers["location"] == "/console/mfa"
    assert person.get("/console", follow_redirects=False).headers["location"] == "/console/mfa"
    site.provider.claims = {"amr": ["pwd", "mfa"]}  # audit 10, F3: was a complete session
    complete = [web.id for web in _sessions(site.services) if web.kind == "staff"]
    person = site.person()
    assert site.sign_in(person).headers["location"] == "/console/mfa"
    assert person.get("/console", follow_redirects=False).headers["location"] == "/console/mfa"
    assert [web.id for web in _sessions(site.services) if web.kind == "staff"] == complete


def test_starting_sign_ins_is_limited_per_address(site: Site) -> None:
    person = site.person()
    for _ in range(20):
        assert person.get("/console/sso", follow_redirects=False).status_code == 303
    assert person.get("/console/sso", follow_redirects=False).status_code == 429
    with Session(site.services.engine) as session:
        assert len(session.exec(select(SignInLink)).all()) == 20


def test_without_settings_there_is_no_button(site: Site) -> None:
    site.services.settings.oidc_issuer = None
    person = site.person()
    assert 'id="sso"' not in person.get("/console/login").text
    assert person.get("/console/sso").status_code == 403


def test_the_provider_must_be_https_unless_laurel_runs_on_loopback(site: Site) -> None:
    site.services.settings.base_url = "https://laurel.test"
    person = TestClient(site.client.app, base_url="https://laurel.test")
    refused = person.get("/console/sso", follow_redirects=False)
    assert refused.status_code == 502 and "https" in refused.text
    assert site.provider.authorizations == []


def test_a_member_signs_in_with_the_provider_in_chromium(
    live: Live, provider: Provider, browser: Browser, axe: Path
) -> None:
    _configure(live.services.settings, provider)
    _member(live.services, EMAIL, "issuer")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.base_url}/console/login")
    accessible(page, axe)
    page.click("#sso")
    page.wait_for_url(f"{live.base_url}/console")
    assert EMAIL in page.inner_text("body")
    context.close()
