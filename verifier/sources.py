"""Reading the input: a credential as JSON (dict, str, bytes), a compact JWS, a VPQR text
(``VP1-B…``/``VP1-R…``, ``verifier.vpqr``), a baked PNG or SVG, or a URL. Everything is
size-limited and depth-limited before it is trusted; a URL is fetched only when the caller gave
one."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from verifier import safejson, vpqr
from verifier.baking import PNG_SIGNATURE, read_png, read_svg
from verifier.errors import MalformedInput, TooLarge
from verifier.fetch import Fetcher

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")

Source = dict[str, Any] | str | bytes


@dataclass(frozen=True)
class Loaded:
    """A credential read from the input: JSON (``credential``) or a JWS (``jws``)."""

    format: str
    credential: dict[str, Any] | None = None
    jws: str | None = None


def parse_json(text: str | bytes) -> dict[str, Any]:
    return safejson.loads_object(text)


def _text(text: str, format_hint: str, fetcher: Fetcher, max_bytes: int, allow_url: bool) -> Loaded:
    stripped = text.strip().lstrip("\ufeff").lstrip()
    if stripped.startswith("{"):
        return Loaded(format_hint or "json", credential=parse_json(stripped))
    if _JWS.match(stripped):
        return Loaded(format_hint or "jwt", jws=stripped)
    if vpqr.is_vpqr(stripped):
        credential = vpqr.read(stripped)
        safejson.check_tree(credential)  # what JSON input must be, decoded CBOR-LD must be too
        return Loaded("vpqr", credential=credential)
    if allow_url and stripped.startswith(("https://", "http://")) and len(stripped) < 2048:
        body = fetcher(stripped)
        offered = offered_credential(body, stripped) if len(body) <= max_bytes else None
        return load(
            body if offered is None else fetcher(offered),
            fetcher=fetcher,
            max_bytes=max_bytes,
            allow_url=False,
            hint="url",
        )
    if stripped.startswith("<"):
        _refuse_html(stripped, format_hint)
        return _text(read_svg(stripped), format_hint or "svg", fetcher, max_bytes, False)
    raise MalformedInput(
        "the input is not a JSON credential, a JWS, a VPQR (VP1-…), a baked image or a URL"
    )


_HTML = re.compile(r"<!doctype\s+html[\s>]|<html[\s>]", re.IGNORECASE)


OFFERED_TYPES = frozenset(
    {
        "application/vc",
        "application/vc+ld+json",
        "application/ld+json",
        "application/json",
        "application/vc+jwt",
        "application/jwt",
    }
)
"""The media types of a ``<link rel="alternate">`` that a badge's web page can offer its
credential in (VCDM 2.0 §6.3, and the JSON types such pages use)."""


OFFER_READ_BYTES = 256 * 1024
"""How much of a web page is read for its links (they belong in its ``<head>``)."""


_TAG = re.compile(r"<(link|base)(?=[\s/>])([^<>]{0,2048})>", re.IGNORECASE)
"""A ``<link>`` or ``<base>`` start tag with up to 2 KB of attributes. Each match stops at the
next ``<`` or ``>``, so one pass over the page is linear in its length (``html.parser`` is
quadratic on some markup, CVE-2025-6069: 256 KB of ``<a b='`` took minutes)."""
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s"'<>`=]+)))?""")
"""A name and its value, double-, single- or un-quoted; a quote left open runs to the tag's end,
as in a browser, so no attribute is tried twice."""
_UNREAD = (("<!--", "-->"), ("<script", "</script"), ("<style", "</style"))
"""Where a browser reads no tags: comments, scripts and styles."""
_CLOSING = dict(_UNREAD)


def _readable(text: str) -> str:
    """``text`` without comments, scripts and styles, in one pass: each opening is looked for
    again only once the reading is past it, and each closing once per opening."""
    lower = text.lower()
    ahead = {opening: lower.find(opening) for opening, _ in _UNREAD}
    kept, at = [], 0
    while True:
        for opening, found in ahead.items():
            if 0 <= found < at:
                ahead[opening] = lower.find(opening, at)
        waiting = [(found, opening) for opening, found in ahead.items() if found >= 0]
        if not waiting:
            kept.append(text[at:])
            return "".join(kept)
        found, opening = min(waiting)
        kept.append(text[at:found])
        closing = _CLOSING[opening]
        end = lower.find(closing, found + len(opening))
        if end < 0:  # the rest of the page is inside it
            return "".join(kept)
        at = end + len(closing)


def _attributes(text: str) -> dict[str, str]:
    """A tag's attributes, names lower-cased, values unescaped; the first of a repeated one
    counts, as in browsers."""
    values: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        values.setdefault(name.lower(), html.unescape(double or single or bare))
    return values


def _offers(text: str) -> tuple[list[str], str | None]:
    """The ``href`` of each ``<link rel="alternate" type="…">`` of ``OFFERED_TYPES`` in
    ``text``, in order, and the first ``<base href>`` (what relative links resolve against,
    HTML §4.2.3)."""
    found: list[str] = []
    base: str | None = None
    for match in _TAG.finditer(_readable(text)):
        values = _attributes(match.group(2))
        if match.group(1).lower() == "base":
            if base is None and "href" in values:
                base = values["href"].strip()
            continue
        kind = values.get("type", "").split(";")[0].strip().lower()
        if "alternate" in values.get("rel", "").lower().split() and kind in OFFERED_TYPES:
            found.append(values.get("href", "").strip())
    return found, base


def offered_credential(body: bytes, url: str) -> str | None:
    """The credential a badge's web page at ``url`` offers (its first ``<link rel="alternate">``
    of ``OFFERED_TYPES`` whose ``href``, resolved against the page's ``<base href>`` or else
    ``url``, is an http(s) URL other than the page's own), else None
    (``body`` is not HTML, or offers none). Followed once: what that link gives is read as a
    credential, and a second page is refused as HTML."""
    if not _is_page(body[:512].decode("utf-8", "replace")):
        return None
    links, base_href = _offers(body[:OFFER_READ_BYTES].decode("utf-8", "replace"))
    base = url if base_href is None else urljoin(url, base_href)
    for href in links:
        found = urljoin(base, href)
        if found.startswith(("https://", "http://")) and len(found) < 2048 and found != url:
            return found
    return None


def _is_page(text: str) -> bool:
    """Whether ``text`` begins as an HTML document does (after a byte-order mark and spaces)."""
    return _HTML.match(text.lstrip("\ufeff \t\r\n")[:64]) is not None


def _refuse_html(text: str, hint: str) -> None:
    """A web page is not a baked SVG: say so (a badge's link that answers with its page)."""
    if _is_page(text):
        where = "the URL gave" if hint == "url" else "the input is"
        raise MalformedInput(
            f"{where} a web page (HTML), not a credential: verify the credential the page offers "
            "(its JSON, JWT or baked image)"
        )


def load(
    source: Source,
    *,
    fetcher: Fetcher,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_url: bool = True,
    hint: str = "",
) -> Loaded:
    """Read ``source`` into a credential or a JWS. Raises an ``InputError`` subclass."""
    if isinstance(source, dict):
        safejson.check_tree(source)
        return Loaded(hint or "json", credential=source)
    size = len(source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source)
    if size > max_bytes:
        raise TooLarge(size, max_bytes)
    if isinstance(source, bytes):
        if source.startswith(PNG_SIGNATURE):
            return _text(read_png(source), "png", fetcher, max_bytes, False)
        head = source[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"<"):
            _refuse_html(head.decode("utf-8", "replace"), hint)
            return _text(read_svg(source), "svg", fetcher, max_bytes, False)
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInput("the input is neither UTF-8 text nor a PNG image") from exc
    if isinstance(source, str):
        return _text(source, hint, fetcher, max_bytes, allow_url)
    raise MalformedInput(f"cannot read a credential from {type(source).__name__}")
