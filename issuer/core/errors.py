"""Errors raised by issuer services; one handler turns them into ``application/problem+json``.

::

    LaurelError (500 if it ever escapes: a bug)
    ├── NotFound            404  no such issuer / credential / achievement (or not yours)
    ├── Unauthorized        401  missing or unknown API key
    │   └── InvalidToken         an OAuth access token missing, unknown, expired or revoked
    ├── Forbidden           403  the key lacks the scope
    │   └── InsufficientScope    the OAuth access token lacks the scope
    ├── BadRequest          400  malformed input a person can fix
    │   ├── InvalidEmail
    │   └── InvalidPresentation  a wallet's DIDAuthentication presentation was not accepted
    ├── Conflict            409  e.g. an idempotency key reused with another request
    ├── AlreadyRevoked      409
    ├── WalletFull          409  a learner's wallet keeps as many imported badges as it may
    ├── PayloadTooLarge     413
    ├── UnsupportedMedia    415
    ├── TooManyRequests     429  e.g. sign-in links asked for too often (with Retry-After)
    ├── ServiceBusy         503  every slot for this kind of work is taken (with Retry-After)
    ├── MailNotSent         503  the SMTP server refused or could not be reached
    └── HostFailed          502  another OB 3.0 API host could not be reached or answered wrongly
"""

from __future__ import annotations


class LaurelError(Exception):
    status = 500
    title = "Internal error"
    retry_after: int | None = None
    """Seconds after which trying again may work (the ``Retry-After`` header)."""
    challenge: str | None = None
    """The ``WWW-Authenticate`` header to answer with (RFC 6750 bearer token errors)."""

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if retry_after is not None:
            self.retry_after = retry_after


class NotFound(LaurelError):
    status, title = 404, "Not found"


class Unauthorized(LaurelError):
    status, title = 401, "Unauthorized"


class Forbidden(LaurelError):
    status, title = 403, "Forbidden"


class InvalidToken(Unauthorized):
    """RFC 6750 §3.1 ``invalid_token``."""

    title = "Invalid token"
    challenge = 'Bearer error="invalid_token"'


class InsufficientScope(Forbidden):
    """RFC 6750 §3.1 ``insufficient_scope``, naming the scope needed."""

    title = "Insufficient scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"the access token lacks the scope {scope}")
        self.scope = scope
        self.challenge = f'Bearer error="insufficient_scope", scope="{scope}"'


class BadRequest(LaurelError):
    status, title = 400, "Bad request"


class InvalidEmail(BadRequest):
    title = "Invalid email"


class InvalidPresentation(BadRequest):
    """A wallet's presentation (a VC-API exchange's DIDAuthentication) failed a check."""

    title = "Invalid presentation"


class Conflict(LaurelError):
    status, title = 409, "Conflict"


class AlreadyRevoked(Conflict):
    title = "Already revoked"


class WalletFull(LaurelError):
    """A learner's wallet already keeps the most badges from elsewhere it may (a count or a
    total size, ``Settings.wallet_max_credentials`` and ``wallet_max_bytes``)."""

    status, title = 409, "Wallet full"


class PayloadTooLarge(LaurelError):
    status, title = 413, "Payload too large"


class UnsupportedMedia(LaurelError):
    status, title = 415, "Unsupported media type"


class TooManyRequests(LaurelError):
    status, title = 429, "Too many requests"


class ServiceBusy(LaurelError):
    status, title = 503, "Busy"


class MailNotSent(LaurelError):
    status, title = 503, "Mail not sent"


class HostFailed(LaurelError):
    """Another host Laurel called (an OB 3.0 API host: its SDD, registration, token or
    credentials endpoint) could not be reached or gave an answer Laurel cannot use."""

    status = 502
    title = "Another host failed"
