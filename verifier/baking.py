"""Baked badges (OB 3.0 §5.3, "Baking"): read and write credentials in PNG and SVG images.

* PNG: one ``iTXt`` chunk with keyword ``openbadgecredential``, uncompressed, whose text is the
  JSON credential or the compact JWS. Baking splices the chunk in right after ``IHDR``; the pixel
  data are never re-encoded. An existing credential chunk is replaced.
* SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on ``<svg>`` and one
  ``<openbadges:credential>`` right after the start tag; a JWS goes in its ``verify`` attribute,
  JSON in a CDATA body. SVGs are parsed with defusedxml: no entity declarations, nothing fetched.

Reading is bounded by the image it reads: no pixel is decoded, only the chunk list is walked, and
only the credential's ``iTXt`` chunk is ever inflated — at most ``MAX_TEXT`` bytes of it, into a
buffer of that size (a compressed chunk that inflates further, a "zlib bomb", is refused; other
``iTXt``, ``zTXt`` and ``tEXt`` chunks are skipped unread). An SVG is at most the input size
limit, and with entities refused (billion laughs, external entities) it parses into a tree of
about that size.
"""

from __future__ import annotations

import re
import struct
import zlib
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from verifier.errors import MalformedInput, NoCredentialFound

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
MAX_TEXT = 2 * 1024 * 1024


def _chunks(png: bytes) -> list[tuple[bytes, bytes, int, int]]:
    """(type, data, start, end) of each chunk; raises MalformedInput on a broken file."""
    if not png.startswith(PNG_SIGNATURE):
        raise MalformedInput("not a PNG file")
    chunks, pos = [], len(PNG_SIGNATURE)
    while pos < len(png):
        if pos + 8 > len(png):
            raise MalformedInput("the PNG file is truncated")
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        end = pos + 12 + length
        if end > len(png):
            raise MalformedInput("the PNG file is truncated")
        chunks.append((kind, png[pos + 8 : pos + 8 + length], pos, end))
        pos = end
        if kind == b"IEND":
            break
    return chunks


def _itxt_text(data: bytes) -> str | None:
    keyword, sep, rest = data.partition(b"\0")
    if keyword != KEYWORD or not sep or len(rest) < 2:
        return None
    compressed, _method = rest[0], rest[1]
    _lang, _, rest = rest[2:].partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_TEXT)
        except zlib.error as exc:
            raise MalformedInput("the baked credential's compressed text is corrupt") from exc
        if not inflater.eof:  # stopped at MAX_TEXT, or the stream is cut short
            if len(text) >= MAX_TEXT:
                raise MalformedInput(
                    f"the baked credential is larger than the limit ({MAX_TEXT:,} bytes inflated)"
                )
            raise MalformedInput("the baked credential's compressed text is cut short")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput("the baked credential is not UTF-8") from exc


def read_png(png: bytes) -> str:
    """The first baked credential in a PNG (JSON text or compact JWS)."""
    for kind, data, _, _ in _chunks(png):
        if kind == b"iTXt":
            text = _itxt_text(data)
            if text is not None:
                return text
    raise NoCredentialFound("the PNG image carries no Open Badges credential")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bake_png(png: bytes, credential: str) -> bytes:
    """``png`` with ``credential`` (JSON text or a JWS) in an uncompressed iTXt chunk."""
    chunks = _chunks(png)
    if not chunks or chunks[0][0] != b"IHDR":
        raise MalformedInput("the PNG file does not start with IHDR")
    payload = KEYWORD + b"\0\0\0\0\0" + credential.encode("utf-8")
    out = [png[: chunks[0][3]], _chunk(b"iTXt", payload)]
    for kind, data, start, end in chunks[1:]:
        if kind == b"iTXt" and _itxt_text(data) is not None:
            continue
        out.append(png[start:end])
    return b"".join(out)


def _parse_svg(svg: bytes | str) -> Element:
    try:
        root: Element = SafeET.fromstring(svg)
    except DefusedXmlException as exc:
        raise MalformedInput(
            f"the SVG uses a forbidden XML feature ({type(exc).__name__})"
        ) from exc
    except SafeET.ParseError as exc:
        raise MalformedInput(f"not a well-formed SVG: {exc}") from exc
    except (ValueError, LookupError) as exc:  # expat on an encoding it cannot read
        raise MalformedInput(f"the SVG's text cannot be read: {exc}") from exc
    if not root.tag.endswith("svg"):
        raise MalformedInput("the XML document is not an SVG image")
    return root


def read_svg(svg: bytes | str) -> str:
    """The baked credential in an SVG (the ``verify`` attribute or the element's text)."""
    root = _parse_svg(svg)
    for element in root.iter(f"{{{OB3_NAMESPACE}}}credential"):
        jws = element.get("verify")
        if jws:
            return jws.strip()
        if element.text and element.text.strip():
            return element.text.strip()
    raise NoCredentialFound("the SVG image carries no Open Badges credential")


_SVG_OPEN = re.compile(rb"<svg\b[^>]*>", re.DOTALL)
_OLD_CREDENTIAL = re.compile(
    rb"<openbadges:credential\b.*?(/>|</openbadges:credential>)", re.DOTALL
)


def bake_svg(svg: bytes, credential: str, *, is_jws: bool) -> bytes:
    """``svg`` with an ``<openbadges:credential>`` element right after the ``<svg>`` start tag."""
    _parse_svg(svg)
    svg = _OLD_CREDENTIAL.sub(b"", svg)
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise MalformedInput("no <svg> start tag")
    tag = match.group(0)
    closing = b""
    if tag.endswith(b"/>"):  # <svg .../>: open it so the element can go inside
        tag, closing = tag[:-2].rstrip() + b">", b"</svg>"
    if b"xmlns:openbadges" not in tag:
        tag = tag[:-1] + f' xmlns:openbadges="{OB3_NAMESPACE}"'.encode() + b">"
    if is_jws:
        element = f'<openbadges:credential verify="{credential}"/>'.encode()
    else:
        if "]]>" in credential:
            raise MalformedInput("the credential contains ']]>' and cannot go in CDATA")
        element = (
            f"<openbadges:credential><![CDATA[{credential}]]></openbadges:credential>".encode()
        )
    return svg[: match.start()] + tag + element + closing + svg[match.end() :]
