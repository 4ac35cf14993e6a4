"""Text written into the SVG pictures Laurel draws: escaped for an element or a double-quoted
attribute, without the characters XML 1.0 forbids (controls other than tab and line breaks,
lone surrogates, U+FFFE and U+FFFF), which an imported badge's skill names may carry and which
make the whole picture unreadable."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` for an SVG element's text or a double-quoted attribute."""
    return escape(NOT_XML.sub("", value), {'"': "&quot;"})
