"""A learner's choice not to get badge emails, and the unsubscribe link every such email carries
(RFC 8058 one-click: ``List-Unsubscribe`` and ``List-Unsubscribe-Post``). The link's token is the
learner's id and an HMAC-SHA256 of it and their pseudonymous subject id, keyed from
``LAUREL_KEY_PASSPHRASE`` (HKDF, RFC 5869): no sign-in is needed, nobody can make one for
another learner, and it keeps working (an unsubscribe link must)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from sqlmodel import Session

from issuer.core.errors import NotFound
from issuer.models import Learner, MailOptOut
from issuer.models.base import utcnow

PATH = "/wallet/unsubscribe/"


@lru_cache(maxsize=8)
def _key(passphrase: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"laurel unsubscribe v1", info=b"mail"
    ).derive(passphrase.encode("utf-8"))


def _mac(passphrase: str, learner: Learner) -> str:
    signed = f"unsubscribe:{learner.id}:{learner.subject_id}".encode()
    digest = hmac.new(_key(passphrase), signed, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def token(passphrase: str, learner: Learner) -> str:
    return f"{learner.id}.{_mac(passphrase, learner)}"


def link(base_url: str, passphrase: str, learner: Learner) -> str:
    return base_url + PATH + token(passphrase, learner)


def learner_for(session: Session, passphrase: str, value: str) -> Learner:
    """The learner a token was made for; ``NotFound`` for anything else (no oracle: a wrong
    MAC and an unknown learner look the same)."""
    number, _, mac = value.partition(".")
    learner = session.get(Learner, int(number)) if number.isdigit() and len(number) < 19 else None
    if learner is None or not hmac.compare_digest(mac, _mac(passphrase, learner)):
        raise NotFound("this unsubscribe link is not valid")
    return learner


def opted_out(session: Session, learner_id: int) -> bool:
    return session.get(MailOptOut, learner_id) is not None


def choose(session: Session, learner_id: int, *, emails: bool) -> None:
    """Record the learner's choice (idempotent)."""
    row = session.get(MailOptOut, learner_id)
    if emails and row is not None:
        session.delete(row)
    elif not emails and row is None:
        session.add(MailOptOut(learner_id=learner_id, created_at=utcnow()))
