"""Sending email (sign-in links) through SMTP: ``LAUREL_SMTP_HOST``, ``LAUREL_SMTP_PORT``,
``LAUREL_MAIL_FROM`` (and optionally ``LAUREL_SMTP_USERNAME``, ``LAUREL_SMTP_PASSWORD``,
``LAUREL_SMTP_STARTTLS``). Without an SMTP host the message is written to the server log, so
that a local run works."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage

from issuer.core.errors import MailNotSent
from issuer.core.settings import Settings

log = logging.getLogger("laurel.mail")
TIMEOUT_S = 15


def send(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    headers: Mapping[str, str] | None = None,
    *,
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> None:
    """Send a plain-text message (with extra ``headers``, e.g. ``List-Unsubscribe``), and with
    ``html`` an HTML alternative whose ``images`` (PNG by Content-ID, ``cid:`` in the HTML) are
    attached inline; ``MailNotSent`` if the SMTP server cannot take it."""
    if not settings.smtp_host:
        log.warning("no LAUREL_SMTP_HOST: mail to %s, %r:\n%s", to, subject, text)
        return
    message = EmailMessage()
    try:
        message["From"] = settings.mail_from
        message["To"] = to
        # one line: names in subjects may hold line separators the header would refuse
        message["Subject"] = " ".join(subject.split())
        for name, value in (headers or {}).items():
            message[name] = value
    except ValueError as exc:  # a header the email policy refuses (a line break in it)
        log.error("mail to %s not sent: %s", to, exc)
        raise MailNotSent("the email could not be written (a header was refused)") from exc
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
        shown = message.get_body(preferencelist=("html",))
        assert shown is not None
        for cid, png in (images or {}).items():
            shown.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("mail to %s not sent: %s", to, exc)
        raise MailNotSent("the email could not be sent just now; please try again later") from exc
