"""Invitations that should no longer work (audit 10, F2): removing a member cancels their pending
invitations, a new invitation replaces the older pending ones to the same email, and an owner sees
the pending invitations on the staff page and can cancel one."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.models import AuditEntry, StaffMember
from tests.issuer.conftest import make_issuer
from tests.web.conftest import Inbox
from tests.web.console_steps import csrf, invite, join


def _links(mailbox: Inbox, to: str) -> list[str]:
    """Every invitation link mailed to ``to``, oldest first."""
    found = []
    for message in mailbox.messages:
        if message["To"] == to:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found += re.findall(r"https?://\S+/console/invitations/\S+", body.get_content())
    return found


def _accept(site: TestClient, link: str) -> tuple[TestClient, int]:
    """A new browser that opens ``link`` and accepts it: the browser and the answer's status
    (303 accepted; 400 for a link that cannot be used)."""
    person = TestClient(site.app, base_url=str(site.base_url))
    page = person.get(link)
    if page.status_code != 200:
        return person, page.status_code
    done = person.post(link, data={"csrf": csrf(page.text)}, follow_redirects=False)
    return person, done.status_code


def _member(services: Services, email: str) -> StaffMember:
    with Session(services.engine) as session:
        return session.exec(select(StaffMember).where(StaffMember.email == email)).one()


def test_a_removed_member_does_not_come_back_with_a_pending_invitation(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """X joins; the owner invites X again (a new role, say), then removes X before X accepts:
    the pending invitation is cancelled with the removal (before, accepting it brought X back
    onto the staff). Inviting X again afterwards, on purpose, works."""
    make_issuer(mail_services, site, "hrd")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    join(site, mailbox, mail_services, "hrd", "x@hrd.example", "viewer")
    invite(mail_services, "hrd", "x@hrd.example", "issuer")
    pending = _links(mailbox, "x@hrd.example")[-1]
    member_id = _member(mail_services, "x@hrd.example").id
    page = owner.get("/console/staff")
    removed = owner.post(
        f"/console/staff/{member_id}/remove", data={"csrf": csrf(page.text)}, follow_redirects=False
    )
    assert removed.status_code == 303

    person, status = _accept(site, pending)
    assert status == 400
    assert person.get("/console", follow_redirects=False).headers["location"] == "/console/login"
    assert _member(mail_services, "x@hrd.example").removed_at is not None

    invite(mail_services, "hrd", "x@hrd.example", "viewer")
    person, status = _accept(site, _links(mailbox, "x@hrd.example")[-1])
    assert status == 303 and person.get("/console").status_code == 200
    back = _member(mail_services, "x@hrd.example")
    assert back.removed_at is None and back.role == "viewer"


def test_a_new_invitation_replaces_the_pending_ones_to_the_same_email(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    """Invited as owner, then (the owner changed their mind) as viewer: only the newer link works
    (before, the older one still made an owner)."""
    make_issuer(mail_services, site, "hrd")
    invite(mail_services, "hrd", "x@hrd.example", "owner")
    invite(mail_services, "hrd", "x@hrd.example", "viewer")
    older, newer = _links(mailbox, "x@hrd.example")
    assert _accept(site, older)[1] == 400
    assert _accept(site, newer)[1] == 303
    assert _member(mail_services, "x@hrd.example").role == "viewer"


def test_owners_see_and_cancel_pending_invitations(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    make_issuer(mail_services, site, "other")
    owner = join(site, mailbox, mail_services, "hrd", "owner@hrd.example", "owner")
    invite(mail_services, "hrd", "new@hrd.example", "issuer")
    invite(mail_services, "other", "someone@other.example", "viewer")
    page = owner.get("/console/staff")
    assert 'id="invitations"' in page.text and "new@hrd.example" in page.text
    assert "someone@other.example" not in page.text  # another issuer's
    assert "owner@hrd.example" not in page.text.split('id="invitations"')[1]  # accepted already
    found = re.search(r'action="(/console/staff/invitations/\d+/cancel)"', page.text)
    assert found
    cancel = found.group(1)

    issuer = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    token = csrf(issuer.get("/console").text)
    assert issuer.post(cancel, data={"csrf": token}).status_code == 403
    stranger = join(site, mailbox, mail_services, "other", "owner@other.example", "owner")
    token = csrf(stranger.get("/console").text)
    assert stranger.post(cancel, data={"csrf": token}).status_code == 404
    assert owner.post(cancel, data={"csrf": "forged"}).status_code == 403

    done = owner.post(cancel, data={"csrf": csrf(page.text)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/staff"
    assert "new@hrd.example" not in owner.get("/console/staff").text
    assert _accept(site, _links(mailbox, "new@hrd.example")[-1])[1] == 400
    assert owner.post(cancel, data={"csrf": csrf(page.text)}).status_code == 404  # done already
    with Session(mail_services.engine) as session:
        actions = session.exec(select(AuditEntry.action)).all()
    assert "staff.invitation.cancel" in actions
