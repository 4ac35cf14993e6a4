"""Badge pictures an issuer uploads instead of a drawn design (the console's achievement editor).

An upload is someone else's file, so it is read with the same care as any picture Laurel decodes
(``issuer.artifacts.pixels``): PNG or JPEG only (by their signatures, not the name or the declared
type), at most ``MAX_UPLOAD_BYTES`` and ``MAX_SIDE`` pixels a side from the header before
decoding, decoded in the decode pool. What is kept is Laurel's own re-encoding: the picture fitted
into ``SIZE``×``SIZE`` on a transparent square, as a PNG without any of the file's metadata. SVG
is refused: it can carry scripts and external references, and a badge image is shown everywhere.

The kept PNG lives in the achievement's design (``design["image"]``, base64), so that everything
that draws the badge (``issuer.artifacts.images``) shows it instead.
"""

from __future__ import annotations

import base64
import io

from PIL import Image, UnidentifiedImageError

from issuer.artifacts import pixels

IMAGE_KEY = "image"
"""The key of an uploaded picture (base64 PNG) in an achievement's design."""
SIZE = 512
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class NotAPicture(ValueError):
    """The upload cannot be a badge picture; the message says why."""


def badge_picture(data: bytes) -> str:
    """The upload as Laurel keeps it (base64 of a ``SIZE``×``SIZE`` RGBA PNG); ``NotAPicture``."""
    if not data:
        raise NotAPicture("choose a PNG or JPEG file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise NotAPicture(f"the picture is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    kind = next((k for sig, k in _SIGNATURES.items() if data.startswith(sig)), None)
    if kind is None:
        if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:1024].lower():
            raise NotAPicture("SVG is not accepted (it can carry scripts); upload a PNG or JPEG")
        raise NotAPicture("the file is not a PNG or JPEG picture")
    return base64.b64encode(pixels.decoded(lambda: _fitted(data, kind))).decode("ascii")


def _fitted(data: bytes, kind: str) -> bytes:
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            if image.width > MAX_SIDE or image.height > MAX_SIDE:
                raise NotAPicture(
                    f"the picture is {image.width}×{image.height} pixels; at most "
                    f"{MAX_SIDE}×{MAX_SIDE}"
                )
            if kind == "JPEG":
                image.draft("RGB", (SIZE, SIZE))
            if not pixels.fits(image, transparent=True):
                raise NotAPicture("the picture is too large to read")
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NotAPicture(f"the picture cannot be read ({exc.__class__.__name__})") from None
    picture.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    canvas.paste(picture, ((SIZE - picture.width) // 2, (SIZE - picture.height) // 2), picture)
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def uploaded_png(design: object) -> bytes | None:
    """The uploaded picture of ``design`` (a mapping), if it has one."""
    if isinstance(design, dict) and isinstance(design.get(IMAGE_KEY), str):
        return base64.b64decode(design[IMAGE_KEY])
    return None


def uploaded_svg(png: bytes) -> bytes:
    """An SVG that shows the uploaded PNG (for the SVG badge and its baked credential)."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">\n'
        f'<image width="{SIZE}" height="{SIZE}" href="data:image/png;base64,{data}"/>\n</svg>\n'
    ).encode()
