"""Emails to learners when a badge is issued to them or revoked: the badge and its issuer, the
wallet, each badge's public page (``/v/{id}``) and, where available, adding it to a phone
wallet; an unsubscribe link (``notify.optout``) in the text and in RFC 8058 headers.

Templates: English and Korean defaults (``DEFAULTS``); an issuer may choose the language and
override any subject or body (``IssuerMail``). Placeholders are ``{name}`` words from
``PLACEHOLDERS`` only — a template is text, never code (no attribute access, no formatting
language), and one with an unknown placeholder is refused when it is saved."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from issuer.artifacts.qr import qr_png
from issuer.context import Services
from issuer.core import mail, metrics
from issuer.core.effects import Record, Send
from issuer.core.errors import BadRequest
from issuer.issuing import credentials as issued
from issuer.models import Credential, Issuer, IssuerMail, Learner, LearnerEmail
from issuer.models.base import utcnow
from issuer.notify import optout
from issuer.wallet import collect

log = logging.getLogger("laurel.mail")
LANGUAGES = ("en", "ko")
KINDS = ("issued", "revoked")
PLACEHOLDERS = (
    "name",
    "badge",
    "issuer",
    "badges",
    "verify_url",
    "wallet_url",
    "unsubscribe_url",
    "reason",
)
_FIELD = re.compile(r"\{([A-Za-z_]+)\}")
_BRACED = re.compile(r"\{([^{}\s]*)\}")
MAX_SUBJECT, MAX_BODY = 200, 10_000

DEFAULTS: dict[str, dict[str, dict[str, str]]] = {
    "issued": {
        "en": {
            "subject": "You have earned a badge: {badge}",
            "body": "Hello {name},\n\n{issuer} has issued you a badge:\n\n{badges}\n\n"
            "See and share all your badges in your wallet: {wallet_url}\n\n"
            "Do not want these emails? Unsubscribe: {unsubscribe_url}\n",
        },
        "ko": {
            "subject": "배지를 받았습니다: {badge}",
            "body": "{name}님, 안녕하세요.\n\n{issuer}에서 배지를 발급했습니다:\n\n{badges}\n\n"
            "지갑에서 모든 배지를 보고 공유할 수 있습니다: {wallet_url}\n\n"
            "이 메일을 받지 않으려면 수신 거부하세요: {unsubscribe_url}\n",
        },
    },
    "revoked": {
        "en": {
            "subject": "A badge was revoked: {badge}",
            "body": "Hello {name},\n\n{issuer} has revoked your badge:\n\n{badges}\n\n"
            "Reason: {reason}\n\nYour wallet: {wallet_url}\n\n"
            "Do not want these emails? Unsubscribe: {unsubscribe_url}\n",
        },
        "ko": {
            "subject": "배지가 취소되었습니다: {badge}",
            "body": "{name}님, 안녕하세요.\n\n{issuer}에서 배지를 취소했습니다:\n\n{badges}\n\n"
            "사유: {reason}\n\n지갑: {wallet_url}\n\n"
            "이 메일을 받지 않으려면 수신 거부하세요: {unsubscribe_url}\n",
        },
    },
}
_LINES = {
    "en": ("Verify: {url}", "Add to the Learner Credential Wallet or a phone wallet: {url}"),
    "ko": ("확인: {url}", "Learner Credential Wallet 또는 휴대폰 지갑에 추가: {url}"),
}
_LEARNER = {"en": "learner", "ko": "학습자"}

PhoneWallet = Callable[[Services, Credential], str | None]


def collect_link(services: Services, credential: Credential) -> str | None:
    """The badge's "collect" page (``issuer.wallet.collect``): a long-lived link whose page makes
    a fresh Learner Credential Wallet exchange or OpenID4VCI offer (None once it is in a wallet)."""
    return collect.link(services, credential)


phone_wallet: PhoneWallet = collect_link
"""The hook for "add to a wallet app": a function giving the link, or None for none."""


def render(template: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _checked(text: str, limit: int, what: str) -> str:
    if len(text) > limit or not text.strip():
        raise BadRequest(f"{what} must be 1 to {limit} characters")
    unknown = sorted({m for m in _BRACED.findall(text) if m not in PLACEHOLDERS})
    if unknown:
        raise BadRequest(
            f"{what} uses unknown placeholders {', '.join(unknown)} "
            f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
        )
    return text


def settings_of(session: Session, issuer_id: int) -> dict[str, Any]:
    """The issuer's language and every template in effect (its own, else the default), with
    which are its own."""
    row = session.get(IssuerMail, issuer_id)
    own = row.templates if row else {}
    templates = {
        kind: {
            lang: {
                **DEFAULTS[kind][lang],
                **own.get(kind, {}).get(lang, {}),
                "custom": bool(own.get(kind, {}).get(lang)),
            }
            for lang in LANGUAGES
        }
        for kind in KINDS
    }
    return {"language": (row.language if row else None) or "en", "templates": templates}


def configure(
    session: Session,
    issuer_id: int,
    *,
    language: str | None = None,
    templates: dict[str, dict[str, dict[str, str | None]]] | None = None,
) -> dict[str, Any]:
    """Set the issuer's language and override templates (a ``null`` subject or body goes back
    to the default)."""
    row = session.get(IssuerMail, issuer_id) or IssuerMail(issuer_id=issuer_id)
    if language is not None:
        if language not in LANGUAGES:
            raise BadRequest(f"language is one of {', '.join(LANGUAGES)}")
        row.language = language
    own: dict[str, Any] = {
        k: {lg: dict(v) for lg, v in d.items()} for k, d in row.templates.items()
    }
    for kind, by_language in (templates or {}).items():
        if kind not in KINDS:
            raise BadRequest(f"templates are for {', '.join(KINDS)} (not {kind!r})")
        for lang, fields in by_language.items():
            if lang not in LANGUAGES:
                raise BadRequest(f"templates are in {', '.join(LANGUAGES)} (not {lang!r})")
            mine = own.setdefault(kind, {}).setdefault(lang, {})
            for field, text in fields.items():
                if field not in ("subject", "body"):
                    raise BadRequest(f"a template has a subject and a body (not {field!r})")
                if text is None:
                    mine.pop(field, None)
                else:
                    limit = MAX_SUBJECT if field == "subject" else MAX_BODY
                    mine[field] = _checked(text, limit, f"the {kind} {lang} {field}")
            if not mine:
                own[kind].pop(lang)
    row.templates = {k: v for k, v in own.items() if v}
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return settings_of(session, issuer_id)


_SAMPLE = {
    "en": {"name": "Jamie Doe", "badge": "Data Literacy", "reason": "issued in error"},
    "ko": {"name": "홍길동", "badge": "데이터 리터러시", "reason": "잘못 발급됨"},
}


def preview(
    services: Services, issuer: Issuer, kind: str, lang: str, subject: str, body: str
) -> dict[str, str]:
    """A template as a learner would read it, filled with a sample learner and badge (checked
    as ``configure`` checks it; nothing is saved or sent)."""
    if kind not in KINDS or lang not in LANGUAGES:
        raise BadRequest(f"templates are for {', '.join(KINDS)} in {', '.join(LANGUAGES)}")
    subject = _checked(subject, MAX_SUBJECT, f"the {kind} {lang} subject")
    body = _checked(body, MAX_BODY, f"the {kind} {lang} body")
    base = services.settings.base_url
    sample = _SAMPLE[lang]
    verify = f"{base}/v/00000000-0000-4000-8000-000000000000"
    values = {
        **sample,
        "issuer": issuer.name,
        "badges": f"- {sample['badge']}\n  " + _LINES[lang][0].format(url=verify),
        "verify_url": verify,
        "wallet_url": f"{base}/wallet",
        "unsubscribe_url": f"{base}{optout.PATH}…",
    }
    return {
        "subject": " ".join(render(subject, values).split())[:MAX_SUBJECT],
        "body": render(body, values),
    }


def sends_nothing(services: Services) -> bool:
    """No mail server is configured: ``handle`` only counts and logs (no query, no network)."""
    return not services.settings.smtp_host


def handle(session: Session, services: Services, payload: dict[str, Any]) -> None:
    """The ``notify.mail`` effect in one unit of work (the batches of effects that stay in the
    database, when there is no mail server). Raises ``MailNotSent`` when the SMTP server is
    down (the effect is retried)."""
    send = prepare(session, services, payload, utcnow())
    if send is not None:
        send()


def prepare(
    session: Session, services: Services, payload: dict[str, Any], until: datetime
) -> Send | None:
    """The ``notify.mail`` effect: one email to one learner about one batch, composed in the
    unit of work and sent by the returned call with none open, which raises ``MailNotSent``
    when the SMTP server is down (the effect is retried)."""
    kind = str(payload["event"])
    if sends_nothing(services):  # a local run: no mail server, nothing to look up
        log.info(
            "no LAUREL_SMTP_HOST: the %s email to learner %s is not sent", kind, payload["learner"]
        )
        metrics.EMAILS.labels(kind, "no_smtp").inc()
        return None
    learner = session.get(Learner, int(payload["learner"]))
    issuer = session.get(Issuer, int(payload["issuer"]))
    if learner is None or learner.id is None or issuer is None or issuer.id is None:
        return None
    if learner.deleted_at is not None or optout.opted_out(session, learner.id):
        metrics.EMAILS.labels(kind, "opted_out").inc()
        return None
    email = session.exec(
        select(LearnerEmail.email).where(
            LearnerEmail.learner_id == learner.id, col(LearnerEmail.is_primary).is_(True)
        )
    ).first()
    rows = _credentials(session, issuer.id, learner.id, payload["credentials"], kind)
    if email is None or not rows:
        metrics.EMAILS.labels(kind, "no_address" if email is None else "nothing").inc()
        return None
    links = _collect_links(services, kind, rows)
    subject, body, html_body = compose(session, services, issuer, learner, kind, rows, links)
    unsubscribe = optout.link(services.settings.base_url, services.settings.key_passphrase, learner)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
    }
    html, images = _html(html_body, links, chosen_language(session, issuer.id))

    def send() -> Record:
        mail.send(services.settings, email, subject, body, headers, html=html, images=images)
        metrics.EMAILS.labels(kind, "sent").inc()
        return _nothing

    return send


def _nothing(session: Session) -> None:
    """What a sent email records: nothing but the effect's being done."""


def _credentials(
    session: Session, issuer_id: int, learner_id: int, ids: list[Any], kind: str
) -> list[Credential]:
    query = select(Credential).where(
        col(Credential.id).in_([str(i) for i in ids]),
        Credential.issuer_id == issuer_id,
        Credential.learner_id == learner_id,
    )
    if kind == "issued":  # revoked before the email went: say nothing
        query = query.where(col(Credential.revoked_at).is_(None))
    return list(session.exec(query.order_by(col(Credential.issued_at), col(Credential.id))))


class Letter(NamedTuple):
    subject: str
    body: str
    html: str
    """The body as HTML (``render_html``)."""


def compose(
    session: Session,
    services: Services,
    issuer: Issuer,
    learner: Learner,
    kind: str,
    rows: list[Credential],
    links: dict[str, str] | None = None,
) -> Letter:
    """The subject and body, in the issuer's language, from its templates (``links``: each
    badge's "add to a wallet" link, made here when not given). The learner is named as this
    issuer named them (``issued.recipient``: never a name another issuer gave), else neutrally."""
    assert issuer.id is not None and learner.id is not None and rows
    chosen = settings_of(session, issuer.id)
    lang = chosen["language"]
    template = chosen["templates"][kind][lang]
    base = services.settings.base_url
    names = [str(c.document["credentialSubject"]["achievement"]["name"]) for c in rows]
    verify, phone = _LINES[lang]
    links = _collect_links(services, kind, rows) if links is None else links
    blocks, html_blocks = [], []
    for credential, badge in zip(rows, names, strict=True):
        url = f"{base}/v/{credential.id}"
        lines = [f"- {badge}", "  " + verify.format(url=url)]
        html_lines = [f"- {escape(badge)}", "  " + escape(verify).format(url=_link(url))]
        pass_link = links.get(credential.id)
        if pass_link:
            lines.append("  " + phone.format(url=pass_link))
            html_lines.append("  " + escape(phone).format(url=_link(pass_link)))
        blocks.append("\n".join(lines))
        html_blocks.append("\n".join(html_lines))
    named = issued.recipient(session, issuer.id, learner.id, rows).name
    words = {
        "name": named or _LEARNER[lang],
        "badge": ", ".join(names),
        "issuer": issuer.name,
        "reason": rows[0].revocation_reason or "-",
    }
    urls = {
        "verify_url": f"{base}/v/{rows[0].id}",
        "wallet_url": f"{base}/wallet",
        "unsubscribe_url": optout.link(base, services.settings.key_passphrase, learner),
    }
    values = {**words, **urls, "badges": "\n".join(blocks)}
    html_values = {
        **{key: escape(value) for key, value in words.items()},
        **{key: _link(value) for key, value in urls.items()},
        "badges": "\n".join(html_blocks),
    }
    subject = " ".join(render(template["subject"], values).split())[:MAX_SUBJECT]
    return Letter(
        subject, render(template["body"], values), render_html(template["body"], html_values)
    )


def render_html(template: str, values: dict[str, str]) -> str:
    """``template`` as HTML: its own text escaped, with its URLs made links, and each
    placeholder's ``values`` (HTML already) as they are. A placeholder's text is never made a
    link here: the learner's name, a badge's or the issuer's name and a revocation reason are
    escaped only, so that no name can become a live link; the URLs Laurel makes (a badge's page,
    the wallet, unsubscribing, adding to a wallet) come as links in ``values``."""
    parts, last = [], 0
    for found in _FIELD.finditer(template):
        if found.group(1) in values:
            parts += [_linked(template[last : found.start()]), values[found.group(1)]]
            last = found.end()
    parts.append(_linked(template[last:]))
    return "".join(parts)


def _link(url: str) -> str:
    return f'<a href="{escape(url)}">{escape(url)}</a>'


def _linked(text: str) -> str:
    return _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escape(text))


def chosen_language(session: Session, issuer_id: int) -> str:
    return str(settings_of(session, issuer_id)["language"])


def _collect_links(services: Services, kind: str, rows: list[Credential]) -> dict[str, str]:
    """Each issued badge's "add to a wallet" link (none in a revocation email)."""
    if kind != "issued":
        return {}
    found = {c.id: phone_wallet(services, c) for c in rows}
    return {key: value for key, value in found.items() if value}


_BUTTON = {"en": "Add to Learner Credential Wallet", "ko": "Learner Credential Wallet에 추가"}
_SCAN = {
    "en": "Or scan this code with your phone's camera:",
    "ko": "또는 휴대폰 카메라로 이 코드를 스캔하세요:",
}
_URL = re.compile(r"https?://[^\s<>\"']+")


def _html(body: str, links: dict[str, str], lang: str) -> tuple[str | None, dict[str, bytes]]:
    """The HTML alternative of an email with "add to a wallet" links: the body (``Letter.html``)
    and, per badge, a button and the link's QR code as an inline PNG (``cid:``; mail clients
    show attached images where they block remote ones)."""
    if not links:
        return None, {}
    parts = [f'<div style="white-space: pre-wrap; font-family: sans-serif">{body}</div>']
    images = {}
    for number, url in enumerate(links.values(), start=1):
        cid = f"collect-{number}@laurel"
        images[cid] = qr_png(url, scale=6)
        parts.append(
            f'<p><a href="{escape(url)}" style="display: inline-block; padding: 10px 16px; '
            f'background: #1d4ed8; color: #ffffff; text-decoration: none; border-radius: 6px">'
            f"{_BUTTON[lang]}</a></p>"
            f"<p>{_SCAN[lang]}<br>"
            f'<img src="cid:{cid}" width="240" height="240" alt="QR: {escape(url)}"></p>'
        )
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>", images
