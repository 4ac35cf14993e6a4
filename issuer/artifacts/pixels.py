"""How much of a picture made by someone else Laurel decodes (uploads to /verify, imported
badge images that get a state stamp).

A small file can hold a huge picture (a 4 KB PNG of 6300×6300 pixels decodes to 40 MB at one
byte a pixel), so the pixel count is read from the file's header before anything is decoded:

* ``MAX_PIXELS``: a picture with more pixels is refused from its header, with its size in the
  message. Pillow's own decompression-bomb limit, ``Image.MAX_IMAGE_PIXELS``, is set just above
  it for every ``Image.open`` in the process: Pillow warns above it and refuses above twice it.
* ``DECODE_BUDGET``: the memory one decode may take, counted by :func:`decode_cost` (the frame as
  Pillow stores it plus its grey copy). A JPEG is decoded reduced by libjpeg (``Image.draft``)
  and so rarely reaches it; a PNG, WebP, GIF, BMP or TIFF is decoded at full size or refused.
* :func:`decoded`: pictures are decoded in a pool of ``CONCURRENT_DECODES`` threads of its own,
  so many uploads at once queue instead of multiplying the memory. Its own threads also keep the
  memory the C allocator holds on to after a decode (per thread) to those few threads: decoding
  in any request thread would leave that much behind in each of them.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from PIL import Image, ImageMode

MAX_PIXELS = 80_000_000  # a 48 MP or 64 MP phone photo is fine; under Pillow's default (≈89 MP)
DECODE_BUDGET = 64 * 1024 * 1024
CONCURRENT_DECODES = 2

Image.MAX_IMAGE_PIXELS = 90_000_000  # above MAX_PIXELS, so Laurel's own refusal comes first

_POOL = ThreadPoolExecutor(CONCURRENT_DECODES, thread_name_prefix="laurel-decode")
T = TypeVar("T")


def decode_cost(image: Image.Image, *, transparent: bool = False) -> int:
    """Bytes that decoding ``image`` at its current size (after ``draft``) and turning it grey
    take: Pillow keeps one to four bytes a pixel, the grey copy one more (seven more for the
    grey-and-alpha pair of a transparent picture)."""
    mode = ImageMode.getmode(image.mode)
    stored = 4 if len(mode.bands) > 1 else int(mode.typestr[-1])
    return image.width * image.height * (stored + (7 if transparent else 1))


def fits(image: Image.Image, *, transparent: bool = False) -> bool:
    return decode_cost(image, transparent=transparent) <= DECODE_BUDGET


def decoded(work: Callable[[], T]) -> T:
    """``work()`` run in the decode pool (waits for a free thread); its answer or its
    exception."""
    return _POOL.submit(_released, work).result()


def _released(work: Callable[[], T]) -> T:
    try:
        return work()
    except BaseException as exc:
        # A refusal ("no QR code") travels back to the request with its traceback, whose frames
        # still hold the decoded pictures: let them go now, before the next decode starts.
        chained: BaseException | None = exc
        cleared: set[int] = set()
        while chained is not None and id(chained) not in cleared:
            cleared.add(id(chained))
            traceback.clear_frames(chained.__traceback__)
            chained = chained.__cause__ or chained.__context__
        raise
