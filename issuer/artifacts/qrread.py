"""Reading a QR code from a photo or scan (server-side, for /verify), with zxing-cpp."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000


def read_qr(data: bytes) -> str | None:
    """The text of the first QR code in the image, or None (not an image, or no QR code)."""
    import zxingcpp

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:  # checked before decoding the pixels
                return None
            image.load()
            results = zxingcpp.read_barcodes(image.convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    for result in results:
        if result.format == zxingcpp.BarcodeFormat.QRCode and result.text:
            return str(result.text)
    return None
