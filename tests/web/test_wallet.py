"""The wallet over HTTP with a real SMTP server: passwordless sign-in, badges and filters,
emails and merging, share links, LinkedIn, the public profile, export, data and deletion, and
the bad input around all of them (forged, replayed and expired links, CSRF, other people's
badges)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import Credential, Learner, LearnerEmail, SignInLink
from issuer.models.base import utcnow
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Inbox, post_verify
from verifier import Verdict, verify_credential


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(site: TestClient, mailbox: Inbox, email: str) -> str:
    """Sign in as ``email`` from the emailed link; returns the wallet page."""
    form = site.get("/wallet/login")
    sent = site.post("/wallet/login", data={"email": email, "csrf": csrf(form.text)})
    assert sent.status_code == 200 and "Check your email" in sent.text, sent.text
    path = urlsplit(mailbox.link(email)).path
    confirm = site.get(path)
    assert confirm.status_code == 200
    # a link handed on by someone else says whose wallet it opens (login CSRF)
    shown = email.strip().lower()
    assert f'<p id="signing-in-as">This link opens the wallet of {shown}.' in confirm.text
    done = site.post(path, data={"csrf": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/wallet", done.text
    cookie = done.headers["set-cookie"]
    assert "laurel_wallet=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    return site.get("/wallet").text


def issue(site: TestClient, headers: dict[str, str], email: str, **extra: object) -> str:
    response = site.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body(email, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).removeprefix("urn:uuid:")


def test_sign_in_from_the_emailed_link_and_see_an_issued_badge(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = issue(site, headers, "kim@example.org", validFrom="2025-03-01T09:00:00Z")
    assert site.get("/wallet", follow_redirects=False).headers["location"] == "/wallet/login"
    home = sign_in(site, mailbox, "Kim@Example.org ")
    assert f'href="/wallet/badges/c-{badge}"' in home and "Leading People" in home
    message = mailbox.messages[-1]
    assert message["From"] == "badges@laurel.test" and "sign-in" in message["Subject"]
    assert "Leading People" in site.get("/wallet", params={"year": "2025"}).text
    assert "Leading People" not in site.get("/wallet", params={"year": "2024"}).text
    assert "Leading People" in site.get("/wallet", params={"skill": "ECQ2-4"}).text
    assert "Leading People" not in site.get("/wallet", params={"type": "Certification"}).text
    page = site.get(f"/wallet/badges/c-{badge}")
    assert page.status_code == 200 and 'id="verdict-title">Verified' in page.text
    skills = site.get("/wallet/skills", params={"target": "lead-team-leader"})
    assert "Team Building" in skills.text and 'id="gap-chart"' in skills.text
    assert site.get("/wallet/skills.svg").headers["content-type"].startswith("image/svg+xml")
    korean = site.get("/wallet", params={"lang": "ko"})
    assert "내 배지" in korean.text and '<html lang="ko">' in korean.text
    korean_skills = site.get("/wallet/skills").text  # the language is remembered
    assert "팀 빌딩" in korean_skills and "Team Building" not in korean_skills


def test_links_are_single_use_expire_and_cannot_be_forged(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    form = site.get("/wallet/login")
    token = csrf(form.text)
    site.post("/wallet/login", data={"email": "a@example.org", "csrf": token})
    path = urlsplit(mailbox.link("a@example.org")).path
    page = site.get(path)
    assert (
        site.post(path, data={"csrf": csrf(page.text)}, follow_redirects=False).status_code == 303
    )
    site.cookies.clear()
    shown = site.get(path)  # said before the button is pressed
    assert shown.status_code == 400 and "already used" in shown.text
    replay_form = site.get("/wallet/login")
    replay = site.post(path, data={"csrf": csrf(replay_form.text)})
    assert replay.status_code == 400 and "already used" in replay.text
    forged = site.post("/wallet/login/not-a-real-token", data={"csrf": csrf(replay_form.text)})
    assert forged.status_code == 400
    site.post("/wallet/login", data={"email": "b@example.org", "csrf": csrf(replay_form.text)})
    late = urlsplit(mailbox.link("b@example.org")).path
    with Session(mail_services.engine) as db:
        db.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.commit()
    assert site.get(late).status_code == 400
    expired = site.post(late, data={"csrf": csrf(replay_form.text)})
    assert expired.status_code == 400 and "expired" in expired.text
    no_csrf = site.post("/wallet/login", data={"email": "c@example.org", "csrf": "made-up"})
    assert no_csrf.status_code == 403
    other_site = site.post(
        "/wallet/login",
        data={"email": "c@example.org", "csrf": csrf(replay_form.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403


def test_requests_do_not_reveal_known_emails_and_are_rate_limited(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    issue(site, headers, "known@example.org")
    token = csrf(site.get("/wallet/login").text)
    known = site.post("/wallet/login", data={"email": "known@example.org", "csrf": token})
    unknown = site.post("/wallet/login", data={"email": "nobody@example.org", "csrf": token})
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@", "X@") == unknown.text.replace("nobody@", "X@")
    assert mailbox.link("nobody@example.org")  # a new person gets an empty wallet
    for _ in range(2):
        site.post("/wallet/login", data={"email": "known@example.org", "csrf": token})
    limited = site.post("/wallet/login", data={"email": "known@example.org", "csrf": token})
    assert limited.status_code == 429 and "15 minutes" in limited.text
    bad = site.post("/wallet/login", data={"email": "not-an-email", "csrf": token})
    assert bad.status_code == 400 and "not an email" in bad.text


def test_a_second_email_merges_the_learner_it_belonged_to(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    first = issue(site, headers, "me@example.org")
    second = issue(site, headers, "old@example.org")  # another learner record, for now
    sign_in(site, mailbox, "me@example.org")
    emails = site.get("/wallet/emails")
    added = site.post(
        "/wallet/emails", data={"email": "old@example.org", "csrf": csrf(emails.text)}
    )
    assert added.status_code == 200 and "old@example.org" in added.text
    path = urlsplit(mailbox.link("old@example.org", "/wallet/emails/confirm/")).path

    with TestClient(site.app, base_url="https://laurel.test") as stranger:
        refused = stranger.get(path)
        assert refused.status_code == 401  # not signed in: the link is not used up

    confirm = site.get(path)
    done = site.post(path, data={"csrf": csrf(confirm.text)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    home = site.get("/wallet").text
    assert f"c-{first}" in home and f"c-{second}" in home
    with Session(mail_services.engine) as db:
        owners = {e.email: e.learner_id for e in db.exec(select(LearnerEmail))}
        assert owners["me@example.org"] == owners["old@example.org"]
        assert len(db.exec(select(Learner)).all()) == 1
    third = issue(site, headers, "old@example.org")
    assert f"c-{third}" in site.get("/wallet").text

    page = site.get("/wallet/emails")
    token = csrf(page.text)
    primary = site.post("/wallet/emails/primary", data={"email": "old@example.org", "csrf": token})
    assert primary.status_code == 200
    cannot = site.post("/wallet/emails/remove", data={"email": "old@example.org", "csrf": token})
    assert cannot.status_code == 409 and "primary" in cannot.text
    removed = site.post("/wallet/emails/remove", data={"email": "me@example.org", "csrf": token})
    assert removed.status_code == 200 and "me@example.org" not in removed.text.split("emails")[-1]
    # badges issued to a removed email stay
    assert f"c-{first}" in site.get("/wallet").text


def test_share_links_linkedin_and_other_peoples_badges(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    mine = issue(site, headers, "me@example.org", validUntil="2030-06-01T00:00:00Z")
    theirs = issue(site, headers, "them@example.org")
    sign_in(site, mailbox, "me@example.org")
    page = site.get(f"/wallet/badges/c-{mine}")
    token = csrf(page.text)
    made = site.post(
        f"/wallet/badges/c-{mine}/share", data={"csrf": token, "label": "For ACME", "days": "30"}
    )
    assert made.status_code == 200 and "For ACME" in made.text
    url = re.search(r'<code class="share-url">([^<]+)</code>', made.text)
    assert url
    share_path = urlsplit(url.group(1)).path
    with TestClient(site.app, base_url="https://laurel.test") as employer:
        shown = employer.get(share_path)
        assert shown.status_code == 200 and 'id="verdict-title">Verified' in shown.text
        assert employer.get(share_path + "/badge.png").headers["content-type"] == "image/png"
        assert shown.headers["vary"] == "Accept"
        # a verifier given the link gets the badge itself (laurel verify, another Laurel)
        as_json = employer.get(share_path, headers={"Accept": "application/json, */*;q=0.5"})
        assert as_json.headers["content-type"] == "application/vc+ld+json"
        assert as_json.headers["vary"] == "Accept" and "content-disposition" not in as_json.headers
        assert as_json.json() == site.get(f"/v/{mine}/credential.json").json()
        # this instance's /verify form reads its own share link from its records
        checked = post_verify(employer, data={"url": url.group(1)})
        assert checked.status_code == 200 and 'id="verdict-title">Verified' in checked.text
        link_id = re.search(r"/wallet/links/(\d+)/revoke", made.text)
        assert link_id
        revoked = site.post(
            f"/wallet/links/{link_id.group(1)}/revoke", data={"csrf": token, "ref": f"c-{mine}"}
        )
        assert revoked.status_code == 200
        gone = employer.get(share_path)
        assert gone.status_code == 404 and "revoked" in gone.text
        gone = employer.get(share_path, headers={"Accept": "application/vc+ld+json"})
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        assert "revoked" in gone.json()["detail"]
        refused = post_verify(employer, data={"url": url.group(1)})
        assert refused.status_code == 400 and "revoked by the badge" in refused.text
    bad_days = site.post(f"/wallet/badges/c-{mine}/share", data={"csrf": token, "days": "x"})
    assert bad_days.status_code == 400

    linkedin = site.post(
        f"/wallet/badges/c-{mine}/linkedin", data={"csrf": token}, follow_redirects=False
    )
    assert linkedin.status_code == 303
    target = urlsplit(linkedin.headers["location"])
    assert target.netloc == "www.linkedin.com" and target.path == "/profile/add"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["name"] == "Leading People" and query["organizationName"] == "HRD Institute"
    assert query["expirationYear"] == "2030" and query["certId"] == f"urn:uuid:{mine}"
    assert query["certUrl"].startswith("https://laurel.test/s/")

    for path in (f"/wallet/badges/c-{theirs}", "/wallet/badges/i-999", "/wallet/badges/x"):
        other = site.get(path)
        assert other.status_code == 404 and "no such badge" in other.text
    stolen = site.post(f"/wallet/badges/c-{theirs}/share", data={"csrf": token})
    assert stolen.status_code == 404
    forged = site.post(f"/wallet/badges/c-{mine}/share", data={"csrf": "nope"})
    assert forged.status_code == 403


def test_public_profile_is_opt_in_and_shows_chosen_badges(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    shown = issue(site, headers, "me@example.org")
    issue(site, headers, "me@example.org", narrative="a second one")
    theirs = issue(site, headers, "them@example.org")
    sign_in(site, mailbox, "me@example.org")
    token = csrf(site.get("/wallet/profile").text)
    form = {
        "csrf": token,
        "display_name": "Kim Min-jun",
        "slug": "kim-minjun",
        "badges": [f"c-{shown}"],
    }
    assert site.post("/wallet/profile", data=form).status_code == 200
    assert site.get("/p/kim-minjun").status_code == 404  # not published yet
    site.post("/wallet/profile", data={**form, "published": "yes"})
    public = site.get("/p/kim-minjun")
    assert public.status_code == 200 and "Kim Min-jun" in public.text
    assert public.text.count("<li>") == 1 and f"/v/{shown}" in public.text
    stolen = site.post("/wallet/profile", data={**form, "badges": [f"c-{theirs}"]})
    assert stolen.status_code == 404
    bad_slug = site.post("/wallet/profile", data={**form, "slug": "-x"})
    assert bad_slug.status_code == 400


def test_export_data_and_delete(site: TestClient, mail_services: Services, mailbox: Inbox) -> None:
    from tests.issuer.conftest import ClientFetcher

    headers = make_issuer(mail_services, site, "hrd")
    badges = [issue(site, headers, "me@example.org") for _ in range(2)]
    sign_in(site, mailbox, "me@example.org")
    archive = zipfile.ZipFile(io.BytesIO(site.get("/wallet/export.zip").content))
    names = set(archive.namelist())
    assert {f"issued/{b}.json" for b in badges} | {"clr/hrd.json", "README.txt"} <= names
    fetcher = ClientFetcher(site)
    for name in (f"issued/{badges[0]}.json", "clr/hrd.json"):
        report = verify_credential(archive.read(name), fetcher=fetcher)
        assert report.verdict == Verdict.VERIFIED, (name, report.reason())
    data = json.loads(site.get("/wallet/data.json").content)
    assert data["emails"] == [{"email": "me@example.org", "verified": True, "primary": True}]
    assert len(data["badges"]) == 2

    account = site.get("/wallet/account")
    wrong = site.post("/wallet/account/delete", data={"csrf": csrf(account.text), "confirm": "no"})
    assert wrong.status_code == 400
    gone = site.post(
        "/wallet/account/delete", data={"csrf": csrf(account.text), "confirm": "DELETE"}
    )
    assert gone.status_code == 200 and "deleted" in gone.text
    assert site.get("/wallet", follow_redirects=False).status_code == 303
    with Session(mail_services.engine) as db:
        assert db.exec(select(LearnerEmail)).all() == []
        assert len(db.exec(select(Credential)).all()) == 2  # the issuer's records stay
        assert db.exec(select(SignInLink)).all() == []
    home = sign_in(site, mailbox, "me@example.org")  # a fresh, empty wallet
    assert "c-" not in re.sub(r"<nav.*?</nav>", "", home, flags=re.S).split("badges-title")[-1]


def test_every_page_renders_in_both_languages(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = issue(site, headers, "me@example.org")
    sign_in(site, mailbox, "me@example.org")
    for lang in ("en", "ko"):
        for path in (
            "/wallet",
            "/wallet/skills",
            "/wallet/import",
            "/wallet/emails",
            "/wallet/profile",
            "/wallet/account",
            "/wallet/connections",
            f"/wallet/badges/c-{badge}",
        ):
            response = site.get(path, params={"lang": lang})
            assert response.status_code == 200, (path, lang, response.text[:500])
            assert f'<html lang="{lang}">' in response.text
    korean = site.get(f"/wallet/badges/c-{badge}", params={"lang": "ko"}).text
    assert "모든 검사 항목" in korean and ">검증됨<" in korean
    site.cookies.delete("laurel_lang")
    public = site.get(f"/v/{badge}", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert ">검증됨<" in public.text and "발급 기관" in public.text
    assert ">Verified<" in site.get(f"/v/{badge}").text  # English by default


def _external(email: str, name: str = "Data Literacy") -> bytes:
    """A badge from an issuer this instance does not know (a fresh did:key), issued to
    ``email``, aligned to a skill."""
    import hashlib
    import uuid

    from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
    from issuer.crypto.signing import sign_data_integrity
    from tests.issuer.credentials import make_credential

    key = generate_ed25519()
    credential = make_credential(did_key(key), id=f"urn:uuid:{uuid.uuid4()}")
    credential["issuer"]["name"] = "Open University of Testing"
    subject = credential["credentialSubject"]
    subject["identifier"][0]["identityHash"] = (
        "sha256$" + hashlib.sha256(f"{email}s4lt".encode()).hexdigest()
    )
    subject["achievement"]["name"] = name
    subject["creditsEarned"] = 8
    subject["achievement"]["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": "Data analysis",
            "targetUrl": "https://esco.example.org/skill/S1.2",
            "targetFramework": "ESCO",
            "targetCode": "S1.2",
        }
    ]
    return json.dumps(sign_data_integrity(credential, key, did_key_method(key))).encode()


def test_import_badges_from_other_issuers(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    sign_in(site, mailbox, "me@example.org")
    token = csrf(site.get("/wallet/import").text)

    def upload(data: bytes, name: str = "badge.json") -> httpx2.Response:
        return site.post(
            "/wallet/import",
            data={"csrf": token},
            files={"upload": (name, data, "application/json")},
            follow_redirects=False,
        )

    mine = upload(_external("me@example.org"))
    assert mine.status_code == 303, getattr(mine, "text", "")
    page = site.get(mine.headers["location"])
    # a did:key issuer that no list or domain confirms: genuine, but honestly unconfirmed
    assert 'id="verdict-title">Genuine, but the issuer is not confirmed' in page.text
    assert 'data-state="unconfirmed"' in page.text and "Open University of Testing" in page.text
    assert "counts in your skills" in page.text
    listed = site.get("/wallet").text
    assert 'data-status="unconfirmed"' in listed
    skills = site.get("/wallet/skills").text
    assert "Data analysis" in skills

    someone_elses = upload(_external("other@example.org", name="Borrowed Badge"))
    page = site.get(someone_elses.headers["location"])
    assert 'id="verdict-title">Genuine, but' in page.text and "does not count" in page.text
    assert site.get("/wallet/skills").text.count("Data analysis") == skills.count("Data analysis")
    from issuer.wallet import badges as wallet

    with Session(mail_services.engine) as db:
        [learner] = db.exec(select(Learner)).all()
        assert learner.id is not None
        assert wallet.hours(db, learner.id, 2026)["hours"] == 8  # only the badge issued to me

    ref = someone_elses.headers["location"].split("/")[-1].split("?")[0]
    removed = site.post(f"/wallet/badges/{ref}/remove", data={"csrf": token})
    assert removed.status_code == 200 and "Borrowed Badge" not in removed.text

    legacy = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://old.example.org/assertions/1",
        "recipient": {"type": "email", "hashed": False, "identity": "me@example.org"},
        "badge": {
            "type": "BadgeClass",
            "name": "Old Badge",
            "issuer": {"type": "Issuer", "name": "Old Academy"},
        },
        "issuedOn": "2019-05-01T00:00:00Z",
        "verification": {"type": "hosted"},
    }
    old = upload(json.dumps(legacy).encode())
    page = site.get(old.headers["location"])
    assert "Open Badges 2.0" in page.text and "Old Academy" in page.text

    before = len(re.findall(r'href="/wallet/badges/i-', site.get("/wallet").text))
    for data, status, words in (
        (b"not a badge at all", 400, ""),
        (b"{" * 10_000, 400, ""),
        (b"x" * (3 * 1024 * 1024), 413, "at most"),
    ):
        refused = upload(data)
        assert refused.status_code == status, (data[:20], refused.status_code)
        assert 'id="error"' in refused.text and words in refused.text
    assert len(re.findall(r'href="/wallet/badges/i-', site.get("/wallet").text)) == before
    nothing = site.post("/wallet/import", data={"csrf": token})
    assert nothing.status_code == 400
    private = site.post("/wallet/import", data={"csrf": token, "url": "https://127.0.0.1/b"})
    assert private.status_code >= 400 and 'id="error"' in private.text


def test_odd_requests_get_an_answer_never_a_500(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    sign_in(site, mailbox, "me@example.org")
    token = csrf(site.get("/wallet").text)
    long = "x" * 5000
    for method, path, data in (
        ("get", "/wallet/badges/%00", None),
        ("get", f"/wallet/badges/{long}", None),
        ("get", "/wallet/badges/i-99999999999999999999/image", None),
        ("get", "/wallet/badges/c-../original", None),
        ("post", "/wallet/links/999999/revoke", {"csrf": token}),
        ("post", "/wallet/links/abc/revoke", {"csrf": token}),
        ("get", "/wallet/gaps.svg?target=nope", None),
        ("get", "/wallet/skills?target=nope", None),
        ("get", "/wallet?year=abcd&issuer=%00&skill=" + long, None),
        ("get", f"/s/{long}", None),
        ("get", "/s/unknown/badge.png", None),
        ("get", "/p/NOPE", None),
        ("get", f"/wallet/login/{long}", None),
        ("post", "/wallet/login/x", {"csrf": token}),
        ("post", "/wallet/emails/confirm/x", {"csrf": token}),
        ("post", "/wallet/emails/primary", {"csrf": token, "email": "nope"}),
        ("post", "/wallet/emails/remove", {"csrf": token, "email": "x@example.org"}),
        ("post", "/wallet/profile", {"csrf": token}),
        ("post", "/wallet/badges/c-x/share", {"csrf": token, "days": "99999"}),
        ("post", "/wallet/badges/c-x/linkedin", {"csrf": token}),
        ("post", "/wallet/import", {"csrf": token, "url": "ftp://x"}),
        ("post", "/wallet/import", {"csrf": token, "pasted": "\x00\x01"}),
        ("post", "/wallet/account/delete", {}),
        ("post", "/console/login", {"email": long[:320]}),
    ):
        response = site.request(method, path, data=data)
        assert response.status_code < 500, (method, path[:80], response.status_code)
        assert response.status_code >= 400 or path.startswith("/wallet?"), (method, path[:80])


def test_merged_records_can_complete_a_programme_together(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from tests.issuer.test_programs import AWARD, ELECTIVES, REQUIRED
    from tests.units import create_api_key, create_issuer, load_templates

    create_issuer(mail_services, slug="hrd", name="HRD Institute")
    load_templates(mail_services, "hrd")
    headers = {"Authorization": f"Bearer {create_api_key(mail_services, 'hrd', ['admin'])}"}
    for email, keys in (("me@example.org", REQUIRED), ("old@example.org", ELECTIVES)):
        for key in keys:
            body = {"recipient": {"email": email}, "achievement": key}
            assert site.post(
                "/api/v1/issuers/hrd/credentials", json=body, headers=headers
            ).is_success
    with Session(mail_services.engine) as db:
        assert not [
            c
            for c in db.exec(select(Credential))
            if c.idempotency_key and "program:" in c.idempotency_key
        ]
    sign_in(site, mailbox, "me@example.org")
    site.post(
        "/wallet/emails",
        data={"email": "old@example.org", "csrf": csrf(site.get("/wallet/emails").text)},
    )
    path = urlsplit(mailbox.link("old@example.org", "/wallet/emails/confirm/")).path
    site.post(path, data={"csrf": csrf(site.get(path).text)})
    with Session(mail_services.engine) as db:
        awards = [
            c
            for c in db.exec(select(Credential))
            if c.document["credentialSubject"]["achievement"]["id"].endswith(f"/{AWARD}")
        ]
    assert len(awards) == 1
    assert "LEAD" in site.get("/wallet").text


def test_cron_commands_purge_expired_links_and_recheck_imports(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:

    sign_in(site, mailbox, "me@example.org")
    token = csrf(site.get("/wallet/import").text)
    site.post(
        "/wallet/import",
        data={"csrf": token},
        files={"upload": ("b.json", _external("me@example.org"), "application/json")},
    )
    assert _purge(mail_services) == 0  # nothing expired yet
    with Session(mail_services.engine) as db:
        db.execute(update(SignInLink).values(expires_at=utcnow() - timedelta(days=2)))
        db.commit()
    assert _purge(mail_services) == 1
    assert site.get("/wallet").status_code == 200  # the session is still live

    from issuer.jobs import recheck_stale

    assert recheck_stale(mail_services, timedelta(0)) == 1


def test_merging_two_wallets_that_imported_the_same_badge(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from issuer.models import ImportedCredential
    from tests.units import import_badge, resolve_learner

    badge = _external("me@example.org")
    other = resolve_learner(mail_services, "old@example.org")
    assert other.id is not None
    import_badge(mail_services, other.id, badge)
    sign_in(site, mailbox, "me@example.org")
    token = csrf(site.get("/wallet/import").text)
    site.post(
        "/wallet/import",
        data={"csrf": token},
        files={"upload": ("b.json", badge, "application/json")},
    )
    site.post("/wallet/emails", data={"email": "old@example.org", "csrf": token})
    path = urlsplit(mailbox.link("old@example.org", "/wallet/emails/confirm/")).path
    done = site.post(path, data={"csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    with Session(mail_services.engine) as db:
        assert len(db.exec(select(ImportedCredential)).all()) == 1


def test_without_smtp_the_link_is_written_to_the_server_log(
    services: Services, caplog: object
) -> None:
    import logging

    import pytest

    from issuer.app import create_app

    assert isinstance(caplog, pytest.LogCaptureFixture)
    assert services.settings.smtp_host is None
    with (
        caplog.at_level(logging.WARNING, logger="laurel.mail"),
        TestClient(create_app(services=services), base_url="https://laurel.test") as client,
    ):
        form = client.get("/wallet/login")
        client.post("/wallet/login", data={"email": "local@example.org", "csrf": csrf(form.text)})
        found = re.search(r"https://laurel\.test(/wallet/login/\S+)", caplog.text)
        assert found, caplog.text
        page = client.get(found.group(1))
        done = client.post(found.group(1), data={"csrf": csrf(page.text)}, follow_redirects=False)
        assert done.status_code == 303


def _purge(services: Services) -> int:
    from issuer.effects import work
    from issuer.people.signin import purge

    with work(services) as db:
        return purge(db)
