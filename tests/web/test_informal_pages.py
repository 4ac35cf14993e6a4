"""The wallet's informal-learning pages over HTTP: a learner claims, the supervisor (emailed)
signs in, returns then endorses; errors are shown on the form; both languages render."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import InformalClaim
from tests.issuer.orgs_fixtures import informal_org
from tests.web.conftest import Inbox
from tests.web.test_wallet import csrf, sign_in

ANN, BOSS = "ann@mois.example", "boss@mois.example"
CLAIM = {
    "category": "study_group",
    "title": "Data study group",
    "started_on": "2026-03-01",
    "ended_on": "2026-06-30",
    "hours": "12",
    "evidence_url": "https://wiki.mois.example/study/data",
    "evidence_text": "",
    "learned": "Reading survey data with pandas.",
}


def test_claim_return_edit_endorse_over_http(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    org = informal_org(mail_services)
    sign_in(site, mailbox, ANN)
    for lang in ("en", "ko"):
        page = site.get("/wallet/claims", params={"lang": lang})
        assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
    assert "학습동아리" in page.text
    site.get("/wallet/claims", params={"lang": "en"})
    token = csrf(site.get("/wallet/claims").text)
    assert site.post("/wallet/claims", data={**CLAIM}).status_code == 403  # no CSRF token
    typed = {**CLAIM, "ended_on": "30/06/2026", "org": str(org.org_id), "csrf": token}
    bad = site.post("/wallet/claims", data=typed)
    assert bad.status_code == 400 and "a date like 2026-03-31" in bad.text
    assert 'value="Data study group"' in bad.text  # what was typed stays
    sent = site.post(
        "/wallet/claims",
        data={**CLAIM, "org": str(org.org_id), "csrf": token},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    listed = site.get(sent.headers["location"]).text
    assert "Waiting for boss@mois.example" in listed

    link = mailbox.link(BOSS, "/wallet/login?next=")
    assert parse_qs(urlsplit(link).query)["next"] == ["/wallet/endorse"]
    boss = TestClient(site.app, base_url="https://laurel.test")
    sign_in(boss, mailbox, BOSS)
    waiting = boss.get("/wallet/endorse").text
    assert "Data study group" in waiting and "Ann Lee" in waiting
    [claim_id] = [int(n) for n in re.findall(r'id="claim-(\d+)"', waiting)]
    token = csrf(waiting)
    empty = boss.post(f"/wallet/endorse/{claim_id}/return", data={"comment": "", "csrf": token})
    assert empty.status_code == 400 and "say why" in empty.text
    returned = boss.post(
        f"/wallet/endorse/{claim_id}/return",
        data={"comment": "Add the session dates.", "csrf": token},
        follow_redirects=False,
    )
    assert returned.status_code == 303
    assert "Returned to Ann Lee" in boss.get(returned.headers["location"]).text

    assert "Add the session dates." in site.get("/wallet/claims").text
    edit = site.get(f"/wallet/claims/{claim_id}/edit")
    assert edit.status_code == 200 and 'value="2026-06-30"' in edit.text
    again = site.post(
        f"/wallet/claims/{claim_id}",
        data={**CLAIM, "title": "Data study group (8 sessions)", "csrf": csrf(edit.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303, again.text

    waiting = boss.get("/wallet/endorse").text
    too_many = boss.post(
        f"/wallet/endorse/{claim_id}/endorse", data={"hours": "13", "csrf": csrf(waiting)}
    )
    assert too_many.status_code == 400 and "at most the 12 hours" in too_many.text
    endorsed = boss.post(
        f"/wallet/endorse/{claim_id}/endorse",
        data={"hours": "10", "comment": "Good notes.", "csrf": csrf(waiting)},
        follow_redirects=False,
    )
    assert endorsed.status_code == 303
    twice = boss.post(
        f"/wallet/endorse/{claim_id}/endorse", data={"hours": "10", "csrf": csrf(waiting)}
    )
    assert twice.status_code == 409

    mine = site.get("/wallet/claims").text
    assert "12 h claimed · 10 h endorsed · 10 h counted" in mine
    with Session(mail_services.engine) as db:
        row = db.exec(select(InformalClaim)).one()
    assert f"/wallet/badges/c-{row.credential_id}" in mine
    assert site.get(f"/wallet/badges/c-{row.credential_id}").status_code == 200
    told = [m for m in mailbox.messages if m["To"] == ANN]
    assert [m["Subject"] for m in told if "claim" in m["Subject"]] == [
        "Your learning claim was returned: Data study group",
        "Your learning claim was endorsed: Data study group (8 sessions)",
    ]
    for lang in ("en", "ko"):
        assert boss.get("/wallet/endorse", params={"lang": lang}).status_code == 200
        assert site.get("/wallet/claims", params={"lang": lang}).status_code == 200


def test_someone_on_no_roster_is_told_so(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    informal_org(mail_services)
    sign_in(site, mailbox, "visitor@example.org")
    page = site.get("/wallet/claims")
    assert page.status_code == 200 and 'id="not-a-member"' in page.text
    assert 'id="claim-form"' not in page.text
    refused = site.post("/wallet/claims", data={**CLAIM, "org": "1", "csrf": csrf(page.text)})
    assert refused.status_code == 403 and "not on the roster" in refused.text


def test_the_console_lists_the_organisations_claims_by_state(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from datetime import date

    from issuer.effects import work
    from issuer.orgs import informal
    from tests.units import create_issuer
    from tests.web.console_steps import join

    org = informal_org(mail_services)
    body = informal.ClaimIn(
        "project",
        "Open data portal",
        date(2026, 1, 5),
        date(2026, 4, 30),
        40,
        "Scoping a portal with three agencies.",
        evidence_url="https://data.mois.example/portal",
    )
    with work(mail_services) as db:
        first = informal.submit(db, mail_services, org.learners[ANN], org.org_id, body)
        assert first.id is not None
    with work(mail_services) as db:
        informal.endorse(db, mail_services, org.learners[BOSS], first.id)
    with work(mail_services) as db:
        informal.submit(
            db,
            mail_services,
            org.learners[ANN],
            org.org_id,
            informal.ClaimIn(
                "coaching",
                "Coaching circle",
                date(2026, 2, 1),
                date(2026, 2, 28),
                6,
                "Asking better questions.",
                evidence_text="Coach's notes",
            ),
        )
    viewer = join(site, mailbox, mail_services, org.issuer_slug, "hr@mois.example", "viewer")
    waiting = viewer.get("/console/claims")
    assert waiting.status_code == 200
    assert "Coaching circle" in waiting.text and "Open data portal" not in waiting.text
    endorsed = viewer.get("/console/claims", params={"state": "endorsed"}).text
    assert "Open data portal" in endorsed and "40 / 40 / 30" in endorsed
    assert "Ann Lee" in endorsed and "Digital" in endorsed
    assert viewer.get("/console/claims", params={"state": "nope"}).status_code == 400
    assert viewer.get("/console/claims", params={"lang": "ko"}).status_code == 200

    create_issuer(mail_services, slug="other", name="Other Institute")
    outsider = join(site, mailbox, mail_services, "other", "staff@other.example", "viewer")
    page = outsider.get("/console/claims")
    assert page.status_code == 200 and 'id="no-org"' in page.text
    assert "Open data portal" not in page.text
