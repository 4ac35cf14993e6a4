"""Regression test (audit 9, R1): a public profile showed an imported badge issued to someone
else ("not yours" in the wallet) as a genuine badge of the profile's owner. Only her own badges
(issued here, or imported and issued to one of her confirmed emails) go on it: choosing another
is refused with a reason, and one chosen before is not shown."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import PublicProfile
from tests.web.conftest import Inbox
from tests.web.test_wallet import _external, csrf, sign_in


def test_a_badge_issued_to_someone_else_never_shows_on_the_public_profile(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    sign_in(site, mailbox, "mallory@example.org")
    token = csrf(site.get("/wallet/import").text)

    def upload(data: bytes) -> str:
        made = site.post(
            "/wallet/import",
            data={"csrf": token},
            files={"upload": ("b.json", data, "application/json")},
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        return str(made.headers["location"]).split("/")[-1].split("?")[0]

    mine = upload(_external("mallory@example.org", name="Spreadsheet Basics"))
    alices = upload(_external("alice@example.org", name="Certified Data Scientist"))
    assert "does not count" in site.get(f"/wallet/badges/{alices}").text  # not hers
    assert 'id="profile-toggle"' not in site.get(f"/wallet/badges/{alices}").text
    assert 'id="profile-toggle"' in site.get(f"/wallet/badges/{mine}").text
    settings = site.get("/wallet/profile").text
    assert f'value="{mine}"' in settings and f'value="{alices}"' not in settings

    form = {"csrf": token, "display_name": "Mallory", "slug": "mallory", "published": "yes"}
    refused = site.post("/wallet/profile", data={**form, "badges": [mine, alices]})
    assert refused.status_code == 400
    assert "not issued to any of your confirmed email addresses" in refused.text
    toggled = site.post(f"/wallet/badges/{alices}/profile", data={"csrf": token, "shown": "yes"})
    assert toggled.status_code == 400
    assert site.post("/wallet/profile", data={**form, "badges": [mine]}).status_code == 200

    # one chosen before this check (or hers until she removed the email it was issued to)
    with Session(mail_services.engine) as db:
        profile = db.exec(select(PublicProfile).where(PublicProfile.slug == "mallory")).one()
        profile.badges = [mine, alices]
        db.add(profile)
        db.commit()
    with TestClient(site.app, base_url="https://laurel.test") as employer:
        card = employer.get("/p/mallory").text.split('id="badges"')[1]
    assert "Spreadsheet Basics" in card and "Certified Data Scientist" not in card
    # and she can still take it off
    removed = site.post(
        f"/wallet/badges/{alices}/profile",
        data={"csrf": token, "shown": "no"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with Session(mail_services.engine) as db:
        assert db.exec(select(PublicProfile.badges)).one() == [mine]
