"""A mail's headers are one line: a subject made from names holding line separators (U+2028,
U+0085) is sent on one line, and a header the email policy refuses is ``MailNotSent`` (which
every sender handles), never a ``ValueError`` from an after-commit hook (audit round 9: a claim
titled "Mentoring\\u2028a colleague" was stored, the learner got a 500, its supervisor no mail).
Such text is refused as input too: ``ONE_LINE`` and ``NOT_BLANK`` exclude C1 controls and the
line and paragraph separators."""

from __future__ import annotations

import re
import smtplib
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest

from issuer.core import mail
from issuer.core.errors import BadRequest, MailNotSent
from issuer.core.settings import Settings
from issuer.orgs import informal
from issuer.schemas import NOT_BLANK, ONE_LINE

SENT: list[EmailMessage] = []


class _Server:
    """Takes what ``smtplib.SMTP`` would send, as ``send_message`` gets it."""

    def __init__(self, *args: Any, **options: Any) -> None:
        pass

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def send_message(self, message: EmailMessage) -> None:
        SENT.append(message)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(smtplib, "SMTP", _Server)
    SENT.clear()
    return Settings(demo=True, smtp_host="smtp.test", mail_from="laurel@example.org")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\n"])
def test_a_subject_with_a_line_separator_is_sent_on_one_line(
    settings: Settings, separator: str
) -> None:
    mail.send(settings, "kim@example.org", f"Mentoring{separator}a colleague", "text")
    [sent] = SENT
    assert sent["Subject"] == "Mentoring a colleague"


def test_a_header_the_policy_refuses_is_mail_not_sent(settings: Settings) -> None:
    with pytest.raises(MailNotSent):
        mail.send(settings, "kim@example.org", "Hello", "text", {"X-Note": "a\nb"})
    assert SENT == []


@pytest.mark.parametrize("text", ["a\u2028b", "a\u2029b", "a\x85b", "a\x9fb", "a\x80b"])
def test_one_line_text_has_no_c1_controls_or_separators(text: str) -> None:
    assert not re.match(ONE_LINE, text) and not re.match(NOT_BLANK, text)
    assert re.match(ONE_LINE, "김민준 Kim\u00a0Min-jun") and re.match(NOT_BLANK, "김민준")


def test_a_claim_titled_with_a_line_separator_is_refused() -> None:
    claim = informal.ClaimIn(
        category="mentoring",
        title="Mentoring\u2028a colleague",
        started_on=date(2026, 3, 1),
        ended_on=date(2026, 8, 31),
        hours=15,
        learned="x",
    )
    with pytest.raises(BadRequest, match="one line"):
        informal.checked(claim, today=date(2026, 12, 1))
