"""Which URLs from data Laurel may turn into links (HTML ``href``, PDF link annotations).

A credential, an imported badge, a trust list or an admin can put any string where a URL is
expected (an alignment's ``targetUrl``, an evidence ``id``, an issuer's website). Only an absolute
``http`` or ``https`` URL with a host becomes a link; anything else (``javascript:``, ``data:``,
``vbscript:``, a relative path, a URL hidden behind spaces or control characters, which browsers
strip before reading the scheme — WHATWG URL §4.4) is shown as text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ALLOWED = re.compile(r"https?://", re.IGNORECASE)
_HIDDEN = re.compile(
    r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]"
)
MAX_LENGTH = 8000  # longer than any real link; keeps a page from carrying a megabyte-long href


def http_url(value: object, *, https_only: bool = False) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host, else ``None``."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return None
    if not _ALLOWED.match(value) or _HIDDEN.search(value) or "\\" in value:
        return None
    if https_only and value[:8].lower() != "https://":
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. a bracketed host that is not an IPv6 address
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return value
