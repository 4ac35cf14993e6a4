"""Korean pages show the catalogue's Korean names (issue 17): the wallet's programme list and the
gap to a target — its heading, the skills missing and the badges that would close them — and the
gap chart, on the wallet and on the staff dashboard; English pages keep the English names."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from issuer.catalogue import load_catalogue
from issuer.context import Services
from tests.issuer.test_programs import AWARD, REQUIRED
from tests.units import create_api_key, create_issuer, load_templates
from tests.web.conftest import Inbox
from tests.web.console_steps import join
from tests.web.test_wallet import sign_in

CATALOGUE = load_catalogue()
TARGET = "lead-team-leader"
TEAM_LEADER = "LEAD 자격과정: 팀 리더"  # badge_templates/targets/targets.toml


def _programme() -> tuple[str, str]:
    [program] = [p for p in CATALOGUE.programs if p.award == AWARD]
    return program.name, program.name_ko


def _wanted_skills() -> list[tuple[str, str]]:
    """The target's skills, (English, Korean), from the catalogue."""
    from issuer.skills.targets import load_targets

    target = load_targets(CATALOGUE)[TARGET]
    return [
        (
            CATALOGUE.skill(s["framework"], s["code"]).name,
            CATALOGUE.skill(s["framework"], s["code"]).name_ko,
        )
        for s in target["skills"]
    ]


def _text(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:h3|ul)>', page, re.S)
    assert found, element_id
    return html.unescape(found.group(1))


def _seed(site: TestClient, services: Services) -> None:
    create_issuer(services, slug="hrd", name="HRD Institute")
    load_templates(services, "hrd")
    headers = {"Authorization": f"Bearer {create_api_key(services, 'hrd', ['issue'])}"}
    for key in REQUIRED[:1]:
        body = {"recipient": {"email": "kim@example.org"}, "achievement": key}
        assert site.post("/api/v1/issuers/hrd/credentials", json=body, headers=headers).is_success


def test_wallet_programmes_and_gap_in_korean(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    _seed(site, mail_services)
    sign_in(site, mailbox, "kim@example.org")
    english_name, korean_name = _programme()
    assert korean_name != english_name
    korean = site.get("/wallet", params={"lang": "ko"}).text
    programmes = _text(korean, "programmes")
    assert korean_name in programmes and english_name not in programmes
    english = site.get("/wallet", params={"lang": "en"}).text
    assert english_name in _text(english, "programmes")

    skills = _wanted_skills()
    page = site.get("/wallet/skills", params={"target": TARGET, "lang": "ko"}).text
    assert _text(page, "gap-name") == TEAM_LEADER
    missing = _text(page, "missing")
    assert any(ko in missing for _, ko in skills)
    for english_skill, korean_skill in skills:
        assert english_skill not in missing or english_skill == korean_skill
    closing = [a for a in CATALOGUE.achievements if a.name_ko in missing]
    assert closing  # the badges that would close a gap, named in Korean
    assert all(a.name not in missing for a in closing if a.name != a.name_ko)
    korean_programmes = page.split('id="programmes-title"')[1]
    assert korean_name in korean_programmes and english_name not in korean_programmes

    chart = site.get("/wallet/gaps.svg", params={"target": TARGET, "lang": "ko"})
    assert chart.status_code == 200
    svg = html.unescape(chart.text)
    assert TEAM_LEADER in svg and all(ko[:40] in svg for _, ko in skills)
    chart_url = re.search(r'id="gap-chart" src="([^"]+)"', page)
    assert chart_url and "lang=ko" in html.unescape(chart_url.group(1))

    english_page = site.get("/wallet/skills", params={"target": TARGET, "lang": "en"}).text
    assert _text(english_page, "gap-name") == "LEAD Certificate Program: Team Leader"
    english_svg = html.unescape(site.get("/wallet/gaps.svg", params={"target": TARGET}).text)
    assert all(en[:40] in english_svg for en, _ in skills) and TEAM_LEADER not in english_svg


def test_dashboard_gap_in_korean(site: TestClient, mail_services: Services, mailbox: Inbox) -> None:
    _seed(site, mail_services)
    staff = join(site, mailbox, mail_services, "hrd", "viewer@hrd.example", "viewer")
    query = {"email": "kim@example.org", "target": TARGET}
    skills = _wanted_skills()
    page = staff.get("/dashboard", params={**query, "lang": "ko"})
    assert page.status_code == 200, page.text
    assert _text(page.text, "gap-name") == TEAM_LEADER
    missing = _text(page.text, "missing")
    assert any(ko in missing for _, ko in skills)
    assert not any(en in missing for en, ko in skills if en != ko)
    svg = html.unescape(staff.get("/dashboard/gaps.svg", params={**query, "lang": "ko"}).text)
    assert TEAM_LEADER in svg and all(ko[:40] in svg for _, ko in skills)
    english = staff.get("/dashboard", params={**query, "lang": "en"}).text
    assert _text(english, "gap-name") == "LEAD Certificate Program: Team Leader"
    assert any(en in _text(english, "missing") for en, _ in skills)
