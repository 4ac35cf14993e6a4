"""Content negotiation by ``Accept`` (RFC 9110 §12.5.1): which of the media types a resource
offers a client prefers."""

from __future__ import annotations

from collections.abc import Sequence

PAGE_OR_CREDENTIAL = (
    "text/html",
    "application/vc+ld+json",
    "application/vc",
    "application/ld+json",
    "application/json",
)
"""What a badge's public link (``/v/{id}``, a share link ``/s/{token}``) answers, by ``Accept``:
its page, or the credential itself for a client that prefers JSON (a verifier given the link:
``laurel verify``, another Laurel's ``/verify``); a browser's ``Accept`` prefers the page."""


def wants_page(accept: str | None) -> bool:
    """Whether a client with this ``Accept`` prefers a page to a credential as JSON."""
    return preferred(accept, PAGE_OR_CREDENTIAL) == "text/html"


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each media range in ``accept``; a malformed q counts as 0."""
    found = []
    for item in accept.split(","):
        kind, *parameters = (part.strip() for part in item.split(";"))
        main, _, sub = kind.lower().partition("/")
        if not main or not sub:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        found.append((main, sub, q))
    return found


def preferred(accept: str | None, offered: Sequence[str]) -> str:
    """The type of ``offered`` that ``accept`` gives the highest quality, by the most specific
    range that matches it; on a tie, or when nothing matches, the first offered (no ``Accept``
    at all accepts anything)."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best, best_q = offered[0], -1.0
    for media_type in offered:
        main, _, sub = media_type.lower().partition("/")
        specificity, q = -1, 0.0
        for range_main, range_sub, range_q in ranges:
            if (range_main, range_sub) == (main, sub):
                rank = 2
            elif range_main == main and range_sub == "*":
                rank = 1
            elif (range_main, range_sub) == ("*", "*"):
                rank = 0
            else:
                continue
            if rank > specificity:
                specificity, q = rank, range_q
        if q > best_q:
            best, best_q = media_type, q
    return best
