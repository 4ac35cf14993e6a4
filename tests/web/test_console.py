"""The console with a TestClient (SQLite and PostgreSQL, mail through a real SMTP server):
invitations, sign-in by emailed link, the TOTP second factor, roles on every route, CSRF, and a
programme run end to end (achievement, one badge, a CSV previewed then issued as a job, search,
revocation), API keys and the access log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from issuer.context import Services
from issuer.models import AccessLogEntry, ApiKey, Credential, StaffInvitation, StaffMember
from issuer.people import totp
from tests.issuer.conftest import issue_body, make_issuer
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf, invite, join


def _credentials(services: Services) -> int:
    with Session(services.engine) as session:
        return int(session.exec(select(func.count()).select_from(Credential)).one())


def test_totp_matches_rfc_6238_vectors() -> None:
    key = b"12345678901234567890"  # RFC 6238 appendix B, SHA-1
    for seconds, code in ((59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")):
        assert totp.hotp(key, seconds // 30, digits=8) == code
    secret = totp.new_secret()
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    code = totp.code_at(secret, now)
    assert totp.matching_step(secret, code, now, None) == totp.step_of(now)
    assert totp.matching_step(secret, code, now, totp.step_of(now)) is None  # used already
    assert totp.matching_step(secret, code, now + timedelta(minutes=5), None) is None
    assert totp.matching_step(secret, "12345", now, None) is None
    uri = totp.otpauth_uri(secret, "kim@hrd.example", "Laurel HRD")
    assert uri.startswith("otpauth://totp/Laurel%20HRD%3Akim%40hrd.example?secret=" + secret)


def test_an_invitation_signs_in_once_and_a_link_signs_in_again(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    assert site.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    invite(mail_services, "hrd", "Owner@HRD.example", "owner")
    message = mailbox.messages[-1]
    assert message["To"] == "owner@hrd.example" and "HRD Institute" in message["Subject"]
    link = mailbox.link("owner@hrd.example", "/console/invitations/")
    with Session(mail_services.engine) as session:
        stored = session.exec(select(StaffInvitation)).one()
        assert link.rsplit("/", 1)[1] not in stored.token_hash  # only its hash is kept
    page = site.get(link)
    assert "owner@hrd.example" in page.text and "owner" in page.text
    forged = site.post(link, data={"csrf": "forged"})
    assert forged.status_code == 403
    accepted = site.post(link, data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/console"
    cookie = accepted.headers["set-cookie"]
    assert "laurel_staff=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    home = site.get("/console")
    assert home.status_code == 200 and "owner@hrd.example" in home.text
    again = site.get(link)
    assert again.status_code == 400 and "already used" in again.text
    other = TestClient(site.app, base_url="https://laurel.test")
    token = csrf(other.get("/console/login").text)
    assert other.post(link, data={"csrf": token}).status_code == 400  # single use

    # signing out, then in by an emailed link; an unknown email gets the same answer, no mail
    site.post("/console/logout", data={"csrf": csrf(home.text)})
    assert site.get("/console", follow_redirects=False).status_code == 303
    form = site.get("/console/login")
    count = len(mailbox.messages)
    stranger = site.post(
        "/console/login", data={"email": "x@else.example", "csrf": csrf(form.text)}
    )
    assert stranger.status_code == 200 and 'id="sent"' in stranger.text
    assert len(mailbox.messages) == count
    asked = site.post(
        "/console/login", data={"email": "owner@hrd.example", "csrf": csrf(form.text)}
    )
    assert 'id="sent"' in asked.text
    link = mailbox.link("owner@hrd.example", "/console/login/")
    page = site.get(link)
    signed = site.post(link, data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert signed.headers["location"] == "/console"
    assert site.get("/console").status_code == 200
    assert site.get(link).status_code == 400  # used
    assert "laurel_wallet" not in signed.headers["set-cookie"]  # not a learner's session


def test_an_invitation_expires(site: TestClient, mail_services: Services, mailbox: Inbox) -> None:
    make_issuer(mail_services, site, "hrd")
    invite(mail_services, "hrd", "late@hrd.example", "viewer")
    with Session(mail_services.engine) as session:
        row = session.exec(select(StaffInvitation)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
        session.commit()
    assert site.get(mailbox.link("late@hrd.example", "/console/invitations/")).status_code == 400


def _enrol(person: TestClient, services: Services) -> str:
    page = person.get("/console/mfa/setup")
    assert page.status_code == 200
    assert person.get("/console/mfa/setup/qr.svg").headers["content-type"].startswith("image/svg")
    with Session(services.engine) as session:
        secret = session.exec(select(StaffMember.totp_secret)).one()
    assert secret and secret in page.text
    wrong = person.post("/console/mfa/setup", data={"code": "000000", "csrf": csrf(page.text)})
    assert wrong.status_code == 400 and 'id="error"' in wrong.text
    code = totp.code_at(secret, datetime.now(UTC))
    done = person.post(
        "/console/mfa/setup", data={"code": code, "csrf": csrf(page.text)}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    return secret


def _at_second_factor(person: TestClient, mailbox: Inbox, email: str) -> str:
    """Sign ``person`` in by an emailed link, up to the second factor; the CSRF token."""
    page = person.get("/console")
    if page.status_code == 200 and "csrf" in page.text:
        person.post("/console/logout", data={"csrf": csrf(page.text)})
    form = person.get("/console/login")
    person.post("/console/login", data={"email": email, "csrf": csrf(form.text)})
    link = mailbox.link(email, "/console/login/")
    signed = person.post(link, data={"csrf": csrf(person.get(link).text)}, follow_redirects=False)
    assert signed.headers["location"] == "/console/mfa"
    return csrf(person.get("/console/mfa").text)


def test_wrong_codes_end_the_sign_in_and_lock_the_codes_for_a_while(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """Three codes are right at any moment: unlimited guesses find one within hours. The fifth
    wrong code in a row ends the sign-in and no code is looked at for 15 minutes, whatever new
    sign-in links are used; a right code after that is accepted and starts the count again."""
    from issuer.models import AuditEntry
    from issuer.people.staff import MAX_CODE_FAILURES

    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    secret = _enrol(owner, mail_services)
    token = _at_second_factor(owner, mailbox, "owner@hrd.example")
    for _ in range(MAX_CODE_FAILURES - 1):
        wrong = owner.post("/console/mfa", data={"code": "000000", "csrf": token})
        assert wrong.status_code == 400
    locked = owner.post("/console/mfa", data={"code": "000000", "csrf": token})
    assert locked.status_code == 429 and "wrong codes in a row" in locked.text
    assert owner.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    with Session(mail_services.engine) as session:
        actions = session.exec(select(AuditEntry.action)).all()
        assert "staff.totp.locked" in actions
        member = session.exec(select(StaffMember)).one()
        assert member.totp_failures == 0 and member.totp_locked_until is not None
        member.totp_last_step = (member.totp_last_step or 0) - 2  # a fresh step, as if later
        session.add(member)
        session.commit()
    token = _at_second_factor(owner, mailbox, "owner@hrd.example")  # a new sign-in: still locked
    right = totp.code_at(secret, datetime.now(UTC))
    refused = owner.post("/console/mfa", data={"code": right, "csrf": token})
    assert refused.status_code == 429
    with Session(mail_services.engine) as session:
        member = session.exec(select(StaffMember)).one()
        member.totp_locked_until = datetime.now(UTC) - timedelta(seconds=1)
        session.add(member)
        session.commit()
    ok = owner.post("/console/mfa", data={"code": right, "csrf": token}, follow_redirects=False)
    assert ok.status_code == 303 and owner.get("/console").status_code == 200


def _token(person: TestClient) -> str:
    """The staff session token ``person`` holds now (the cookie last set)."""
    from issuer.http.cookies import STAFF_COOKIE

    return [c.value for c in person.cookies.jar if c.name == STAFF_COOKIE][-1] or ""


def test_the_second_factor_gives_a_new_session_and_enrolling_ends_the_others(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """The token a browser held before the second factor is worth nothing after it (one planted
    in it, say); turning TOTP on ends the member's sessions begun without it."""
    from issuer.http.cookies import STAFF_COOKIE

    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    other_device = TestClient(site.app, base_url=str(site.base_url))
    other_device.cookies.set(STAFF_COOKIE, _token(owner))
    assert other_device.get("/console").status_code == 200
    page = owner.get("/console/mfa/setup")
    assert page.status_code == 200
    enrolling = _token(owner)
    secret = _enrol(owner, mail_services)
    assert _token(owner) != enrolling  # a new session
    assert owner.get("/console").status_code == 200
    assert other_device.get("/console", follow_redirects=False).status_code == 303
    _at_second_factor(owner, mailbox, "owner@hrd.example")
    waiting = _token(owner)
    with Session(mail_services.engine) as session:
        member = session.exec(select(StaffMember)).one()
        member.totp_last_step = (member.totp_last_step or 0) - 2
        session.add(member)
        session.commit()
    code = totp.code_at(secret, datetime.now(UTC))
    token = csrf(owner.get("/console/mfa").text)
    done = owner.post("/console/mfa", data={"code": code, "csrf": token}, follow_redirects=False)
    assert done.status_code == 303
    assert _token(owner) != waiting
    planted = TestClient(site.app, base_url=str(site.base_url))
    planted.cookies.set(STAFF_COOKIE, waiting)
    assert planted.get("/console", follow_redirects=False).headers["location"] == "/console/login"


def test_owners_must_enrol_totp_when_required_and_then_give_codes(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    mail_services.settings.staff_mfa = "required"
    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    assert owner.get("/console", follow_redirects=False).headers["location"] == "/console/mfa/setup"
    assert owner.get("/console/keys", follow_redirects=False).status_code == 303
    secret = _enrol(owner, mail_services)
    assert owner.get("/console").status_code == 200

    # the next sign-in needs a code; a used code is refused
    page = owner.get("/console")
    owner.post("/console/logout", data={"csrf": csrf(page.text)})
    form = owner.get("/console/login")
    owner.post("/console/login", data={"email": "owner@hrd.example", "csrf": csrf(form.text)})
    link = mailbox.link("owner@hrd.example", "/console/login/")
    signed = owner.post(link, data={"csrf": csrf(owner.get(link).text)}, follow_redirects=False)
    assert signed.headers["location"] == "/console/mfa"
    assert owner.get("/console", follow_redirects=False).headers["location"] == "/console/mfa"
    assert owner.get("/dashboard", follow_redirects=False).headers["location"] == "/console/mfa"
    page = owner.get("/console/mfa")
    wrong = owner.post("/console/mfa", data={"code": "123456", "csrf": csrf(page.text)})
    assert wrong.status_code == 400
    used = totp.code_at(secret, datetime.now(UTC))  # the enrolment's code, already spent
    with Session(mail_services.engine) as session:
        last = session.exec(select(StaffMember.totp_last_step)).one()
    if last == totp.step_of(datetime.now(UTC)):
        assert (
            owner.post("/console/mfa", data={"code": used, "csrf": csrf(page.text)}).status_code
            == 400
        )
    with Session(mail_services.engine) as session:  # a fresh step, as if 30 s had passed
        member = session.exec(select(StaffMember)).one()
        member.totp_last_step = (member.totp_last_step or 0) - 2
        session.add(member)
        session.commit()
    fresh = totp.code_at(secret, datetime.now(UTC))
    ok = owner.post(
        "/console/mfa", data={"code": fresh, "csrf": csrf(page.text)}, follow_redirects=False
    )
    assert ok.status_code == 303 and owner.get("/console").status_code == 200

    # a viewer is not made to enrol
    viewer = join(site, mailbox, mail_services, "hrd", "viewer@hrd.example", "viewer")
    assert viewer.get("/console").status_code == 200


def test_roles_and_issuers_are_checked_on_every_route(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = site.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("a@x.example"), headers=headers
    )
    badge_id = badge.json()["id"].removeprefix("urn:uuid:")
    make_issuer(mail_services, site, "other")
    viewer = join(site, mailbox, mail_services, "hrd", "viewer@hrd.example", "viewer")
    issuer = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    stranger = join(site, mailbox, mail_services, "other", "owner@other.example", "owner")

    token = csrf(viewer.get("/console").text)
    for path in (
        "/console/issue",
        "/console/upload",
        "/console/achievements/new",
        "/console/keys",
        "/console/staff",
        "/console/access-log",
    ):
        assert viewer.get(path).status_code == 403, path
    for path, data in (
        ("/console/issue", {"email": "b@x.example", "achievement": "leading-people"}),
        (f"/console/credentials/{badge_id}/revoke", {"reason": "x"}),
        ("/console/keys", {"scopes": "read"}),
        ("/console/staff", {"email": "c@x.example", "role": "owner"}),
    ):
        answer = viewer.post(path, data={**data, "csrf": token})
        assert answer.status_code == 403, (path, answer.text)
    assert viewer.get("/console/credentials").status_code == 200
    assert viewer.get(f"/console/credentials/{badge_id}").status_code == 200
    assert viewer.get("/dashboard").status_code == 200
    assert 'href="/console/issue"' not in viewer.get("/console").text

    assert issuer.get("/console/issue").status_code == 200
    assert issuer.get("/console/keys").status_code == 403
    assert issuer.get("/console/staff").status_code == 403

    # another issuer's staff see nothing of hrd's
    assert stranger.get(f"/console/credentials/{badge_id}").status_code == 404
    assert "a@x.example" not in stranger.get("/console/credentials").text
    token = csrf(stranger.get("/console").text)
    revoked = stranger.post(
        f"/console/credentials/{badge_id}/revoke", data={"reason": "x", "csrf": token}
    )
    assert revoked.status_code == 404
    with Session(mail_services.engine) as session:
        row = session.get(Credential, badge_id)
        assert row is not None and row.revoked_at is None


def test_every_form_needs_its_csrf_token_and_this_site(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    token = csrf(owner.get("/console").text)
    for path, data in (
        ("/console/issue", {"email": "b@x.example", "achievement": "leading-people"}),
        ("/console/achievements/new", {"key": "k", "name": "n"}),
        ("/console/keys", {"scopes": "read"}),
        ("/console/staff", {"email": "c@x.example", "role": "owner"}),
        ("/console/logout", {}),
    ):
        assert owner.post(path, data={**data, "csrf": "forged"}).status_code == 403, path
        assert owner.post(path, data=data).status_code == 403, path
        elsewhere = owner.post(
            path, data={**data, "csrf": token}, headers={"Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403, path
    assert _credentials(mail_services) == 0
    assert owner.get("/console").status_code == 200  # still signed in


def test_a_programme_run_in_the_console(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    staff = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    form = staff.get("/console/achievements/new")
    fields = {
        "key": "data-literacy",
        "name": "Data Literacy",
        "description": "Reading and questioning data.",
        "criteria": "Pass the final assessment.",
        "achievementType": "Certificate",
        "hours": "12.5",
        "validity": "P2Y",
        "skills": "Data analysis | https://esco.example/skill/1 | ESCO | S1.2\nStatistics | https://esco.example/skill/2",
        "shape": "shield",
        "color": "#0a7f3f",
        "csrf": csrf(form.text),
    }
    bad = staff.post("/console/achievements/new", data={**fields, "skills": "no url here"})
    assert bad.status_code == 400 and "skills line 1" in bad.text
    made = staff.post("/console/achievements/new", data=fields, follow_redirects=False)
    assert made.status_code == 303, made.text
    listed = staff.get("/api/v1/issuers/hrd/achievements")
    data = site.get("/issuers/hrd").text
    assert "Data Literacy" in staff.get("/console/achievements").text
    edit = staff.get("/console/achievements/data-literacy")
    assert "ESCO" in edit.text and 'value="#0A7F3F"' in edit.text
    picture = staff.get("/console/achievements/data-literacy/badge.svg")
    assert picture.headers["content-type"].startswith("image/svg+xml")
    assert b"#0A7F3F" in picture.content.upper()
    assert staff.get("/console/achievements/nope/badge.svg").status_code == 404
    changed = staff.post(
        "/console/achievements/data-literacy",
        data={**fields, "name": "Data Literacy I", "csrf": csrf(edit.text)},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert "Data Literacy I" in staff.get("/console/achievements").text
    del listed, data

    # one badge
    page = staff.get("/console/issue")
    issued = staff.post(
        "/console/issue",
        data={
            "email": "kim@x.example",
            "name": "Kim",
            "achievement": "data-literacy",
            "csrf": csrf(page.text),
        },
        follow_redirects=False,
    )
    assert issued.status_code == 303, issued.text
    one = issued.headers["location"].split("/")[3].split("?")[0]
    refused = staff.post(
        "/console/issue",
        data={"email": "nope", "achievement": "data-literacy", "csrf": csrf(page.text)},
    )
    assert refused.status_code == 400 and 'id="error"' in refused.text

    # a CSV: the preview shows each row's problem and issues nothing
    upload = staff.get("/console/upload")
    text = (
        "email,name,achievement,validFrom,validUntil\n"
        "lee@x.example,Lee,data-literacy,,\n"
        "not-an-email,Bad,data-literacy,,\n"
        "park@x.example,Park,no-such-badge,,\n"
        "old@x.example,Old,data-literacy,2020-01-01T00:00:00Z,2021-01-01T00:00:00Z\n"
    )
    before = _credentials(mail_services)
    preview = staff.post(
        "/console/upload",
        data={"csrf": csrf(upload.text)},
        files={"upload": ("cohort.csv", text.encode(), "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    assert _credentials(mail_services) == before
    rows = preview.text.split('<tr data-row="')[1:]
    assert len(rows) == 4
    assert 'class="ready"' in rows[0]
    assert 'class="problem"' in rows[1] and "email" in rows[1]
    assert "no-such-badge" in rows[2] and 'class="problem"' in rows[2]
    headerless = staff.post(
        "/console/upload",
        data={"csrf": csrf(upload.text)},
        files={"upload": ("x.csv", b"who,what\n1,2\n", "text/csv")},
    )
    assert headerless.status_code == 400 and "header" in headerless.text
    content = preview.text.split('name="content" value="')[1].split('"')[0]
    import html

    job = staff.post(
        "/console/upload/issue",
        data={"content": html.unescape(content), "csrf": csrf(preview.text)},
        follow_redirects=False,
    )
    assert job.status_code == 303
    progress = staff.get(job.headers["location"])
    assert 'data-status="done"' in progress.text, progress.text
    report = staff.get(job.headers["location"] + "/report.csv")
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [r["status"] for r in lines] == ["issued", "error", "error", "issued"]
    assert lines[0]["link"].startswith("https://laurel.test/v/")
    assert _credentials(mail_services) == before + 2

    # search and filter, with paging
    everything = staff.get("/console/credentials")
    assert "3 found" in everything.text
    lee = staff.get("/console/credentials", params={"recipient": "lee@"})
    assert "1 found" in lee.text and "lee@x.example" in lee.text
    expired = staff.get("/console/credentials", params={"status": "expired"})
    assert "1 found" in expired.text and "old@x.example" in expired.text
    active = staff.get(
        "/console/credentials", params={"status": "active", "achievement": "data-literacy"}
    )
    assert "2 found" in active.text
    today = datetime.now(UTC).date()
    later = staff.get(
        "/console/credentials", params={"from": (today + timedelta(days=1)).isoformat()}
    )
    assert "0 found" in later.text
    assert staff.get("/console/credentials", params={"status": "lost"}).status_code == 400
    assert staff.get("/console/credentials", params={"from": "", "to": ""}).status_code == 200
    assert staff.get("/console/credentials", params={"from": "2026-13-01"}).status_code == 400

    # revoke with a reason
    detail = staff.get(f"/console/credentials/{one}")
    empty = staff.post(
        f"/console/credentials/{one}/revoke", data={"reason": " ", "csrf": csrf(detail.text)}
    )
    assert empty.status_code == 400
    revoked = staff.post(
        f"/console/credentials/{one}/revoke",
        data={"reason": "Issued to the wrong person", "csrf": csrf(detail.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    shown = staff.get(f"/console/credentials/{one}")
    assert 'data-status="revoked"' in shown.text and "Issued to the wrong person" in shown.text
    assert "1 found" in staff.get("/console/credentials", params={"status": "revoked"}).text
    again = staff.post(
        f"/console/credentials/{one}/revoke", data={"reason": "x", "csrf": csrf(detail.text)}
    )
    assert again.status_code == 409

    with Session(mail_services.engine) as session:
        logged = session.exec(select(AccessLogEntry.action, AccessLogEntry.subject)).all()
    assert ("credentials.search", "lee@") in logged
    assert ("credential.view", "kim@x.example") in logged
    korean = staff.get("/console/credentials", params={"lang": "ko"})
    assert 'lang="ko"' in korean.text and "자격 증명" in korean.text


def test_owners_manage_api_keys_and_read_the_access_log(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    page = owner.get("/console/keys")
    none = owner.post("/console/keys", data={"name": "LMS", "csrf": csrf(page.text)})
    assert none.status_code == 400
    made = owner.post(
        "/console/keys", data={"name": "LMS", "scopes": ["read", "issue"], "csrf": csrf(page.text)}
    )
    assert made.status_code == 201
    key = made.text.split('<code id="new-key">')[1].split("<")[0]
    assert key.startswith("lrl_")
    assert key not in owner.get("/console/keys").text  # shown once
    headers = {"Authorization": f"Bearer {key}"}
    talent = site.get("/api/v1/issuers/hrd/talent", params={"skill": "ECQ2-4"}, headers=headers)
    assert talent.status_code == 200, talent.text
    with Session(mail_services.engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.name == "LMS")).one()
        assert row.last_used_at is not None and row.scopes == "read,issue"
        first = row.last_used_at
    site.get("/api/v1/issuers/hrd/credentials", headers=headers)
    with Session(mail_services.engine) as session:
        assert (
            session.exec(select(ApiKey.last_used_at).where(ApiKey.name == "LMS")).one() == first
        )  # at most once a minute
    listing = owner.get("/console/keys")
    assert "never" not in listing.text.split(f'data-prefix="{row.prefix}"')[1].split("</tr>")[0]
    revoked = owner.post(
        f"/console/keys/{row.id}/revoke", data={"csrf": csrf(listing.text)}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert site.get("/api/v1/issuers/hrd/credentials", headers=headers).status_code == 401

    log = owner.get("/console/access-log")
    assert (
        log.status_code == 200
        and "people.search" in log.text
        and "skill ECQ2-4 level 1" in log.text
        and f"apikey:{row.prefix}" in log.text
    )

    # another issuer's owner cannot revoke hrd's keys
    make_issuer(mail_services, site, "other")
    stranger = join(site, mailbox, mail_services, "other", "owner@other.example", "owner")
    with Session(mail_services.engine) as session:
        hrd_key = session.exec(select(ApiKey).where(ApiKey.revoked_at == None)).first()  # noqa: E711
        assert hrd_key is not None
    token = csrf(stranger.get("/console/keys").text)
    assert (
        stranger.post(f"/console/keys/{hrd_key.id}/revoke", data={"csrf": token}).status_code == 404
    )


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_console_page_renders_in_both_languages(
    site: TestClient, mail_services: Services, mailbox: Inbox, lang: str
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    badge = site.post(
        "/api/v1/issuers/hrd/credentials", json=issue_body("a@x.example"), headers=headers
    )
    badge_id = badge.json()["id"].removeprefix("urn:uuid:")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    for path in (
        "/console",
        "/console/credentials",
        f"/console/credentials/{badge_id}",
        "/console/achievements",
        "/console/achievements/new",
        "/console/achievements/leading-people",
        "/console/issue",
        "/console/upload",
        "/console/staff",
        "/console/keys",
        "/console/access-log",
        "/console/mfa/setup",
        "/dashboard",
    ):
        page = owner.get(path, params={"lang": lang})
        assert page.status_code == 200, (path, page.text[:500])
        assert f'lang="{lang}"' in page.text


def test_laurel_staff_invite_emails_and_prints_the_invitation(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from typer.testing import CliRunner

    from issuer.cli import app as cli

    make_issuer(mail_services, site, "hrd")
    settings = mail_services.settings
    environment = {
        "LAUREL_DATABASE_URL": settings.database_url,
        "LAUREL_KEYS_DIR": str(settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": settings.key_passphrase,
        "LAUREL_BASE_URL": settings.base_url,
        "LAUREL_SMTP_HOST": "127.0.0.1",
        "LAUREL_SMTP_PORT": str(mailbox.port),
    }
    runner = CliRunner()
    arguments = ["staff", "invite", "--issuer", "hrd", "--email", "Lee@HRD.example"]
    done = runner.invoke(cli, [*arguments, "--role", "issuer", "--language", "ko"], env=environment)
    assert done.exit_code == 0, done.output
    link = done.output.strip().splitlines()[-1]
    assert link == mailbox.link("lee@hrd.example", "/console/invitations/")
    assert "초대" in str(mailbox.messages[-1]["Subject"])
    page = site.get(link)
    accepted = site.post(link, data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert accepted.headers["location"] == "/console"
    assert site.get("/console/issue").status_code == 200  # an issuer
    bad_role = runner.invoke(cli, [*arguments, "--role", "admin"], env=environment)
    assert bad_role.exit_code == 1 and "owner, issuer, viewer" in bad_role.output
    nowhere = runner.invoke(
        cli, ["staff", "invite", "--issuer", "nope", "--email", "a@b.example"], env=environment
    )
    assert nowhere.exit_code == 1 and "nope" in nowhere.output


def test_an_invitation_accepted_at_once_by_many_is_accepted_once(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from issuer.effects import work
    from issuer.people import signin, staff

    make_issuer(mail_services, site, "hrd")
    invite(mail_services, "hrd", "race@hrd.example", "owner")
    token = mailbox.link("race@hrd.example", "/console/invitations/").rsplit("/", 1)[1]

    def accept(_: int) -> str:
        try:
            with work(mail_services) as db:
                staff.accept(db, token)
            return "joined"
        except signin.InvalidLink:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(accept, range(8)))
    assert outcomes == ["joined"] + ["refused"] * 7
    with Session(mail_services.engine) as session:
        assert len(session.exec(select(StaffMember)).all()) == 1

    # expired invitations go with `laurel wallet purge`
    invite(mail_services, "hrd", "late@hrd.example", "viewer")
    with Session(mail_services.engine) as session:
        for row in session.exec(select(StaffInvitation)).all():
            row.expires_at = datetime.now(UTC) - timedelta(days=2)
            session.add(row)
        session.commit()
    with work(mail_services) as db:
        assert signin.purge(db) == 2
