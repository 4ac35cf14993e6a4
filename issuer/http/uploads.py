"""Large uploads read as a stream: a bulk body is spooled as it arrives, then read row by row.

A cohort of 100,000 rows is ~20 MB of JSON and ten times that as Python objects. The body is
written to a :class:`~tempfile.SpooledTemporaryFile` while it arrives (in memory up to
``IN_MEMORY`` bytes, on disk beyond), so a slow upload holds no database connection; afterwards
its rows are parsed one at a time, so only the rows being stored are ever in memory.

:func:`json_array` reads a JSON array element by element with the same strict rules as
:func:`~issuer.http.strictjson.parse_json` (each element is parsed by the same decoder): a body
that is not an array is read whole, so it gets the same answer a whole body would. Every error
is :class:`json.JSONDecodeError` naming the row. :func:`text_lines` decodes UTF-8 (a BOM is
dropped) line by line for the CSV reader.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncIterator, Iterator
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from issuer.core.errors import BadRequest
from issuer.http.strictjson import DECODER, parse_json, strict

IN_MEMORY = 1024 * 1024
CHUNK = 64 * 1024
MAX_ROW_BYTES = 1024 * 1024
"""The most one element of a streamed array may take (an issuance request is a few KB)."""

_SPACE = " \t\n\r"


async def spooled(chunks: AsyncIterator[bytes]) -> IO[bytes]:
    """The whole stream in a file positioned at its start (the caller closes it)."""
    file: IO[bytes] = SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 - returned
    try:
        async for chunk in chunks:
            file.write(chunk)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file


class _Text:
    """The file's text, decoded as it is needed, with what is not yet consumed in ``buffer``."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.pos = 0
        self.ended = False

    def more(self) -> bool:
        """Read the next chunk; False at the end of the file."""
        if self.ended:
            return False
        chunk = self.file.read(CHUNK)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
        self.buffer = self.buffer[self.pos :] + text
        self.pos = 0
        self.ended = not chunk
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buffer) or not self.more():
                return self.buffer[self.pos : self.pos + 1]


def json_array(file: IO[bytes]) -> Iterator[Any]:
    """The elements of the JSON array in ``file``, one at a time."""
    text = _Text(file)
    if text.peek() != "[":
        file.seek(0)
        yield from _whole(file.read())
        return
    text.pos += 1
    number = 0
    while True:
        if text.peek() == "]" and number == 0:
            break
        number += 1
        yield _element(text, number)
        after = text.peek()
        if after == "]":
            break
        if after != ",":
            found = f"{after!r}" if after else "the end of the body"
            reason = f"expected ',' or ']' after row {number}, not {found}"
            raise json.JSONDecodeError(reason, "", 0)
        text.pos += 1
    text.pos += 1
    if text.peek():
        raise json.JSONDecodeError("extra data after the array", "", 0)


def _whole(body: bytes) -> Iterator[Any]:
    value = parse_json(body)
    if not isinstance(value, list):
        raise BadRequest("a bulk JSON body is an array of issuance requests")
    yield from value


def _element(text: _Text, number: int) -> Any:
    """Row ``number``, decoded once the buffer holds all of it."""
    while True:
        try:
            value, end = strict(lambda: DECODER.raw_decode(text.buffer, text.pos))
        except json.JSONDecodeError as exc:
            if len(text.buffer) - text.pos <= MAX_ROW_BYTES and text.more():
                continue
            limit = f" (a row may take up to {MAX_ROW_BYTES // 1024:,} KB)"
            raise json.JSONDecodeError(f"row {number}: {exc.msg}{limit}", "", 0) from None
        if _may_go_on(value, text.buffer[end:]) and text.more():
            continue
        text.pos = end
        return value


def _may_go_on(value: Any, after: str) -> bool:
    """Whether the next chunk could make ``value`` another value: a number followed by nothing
    but what a number may hold (``1`` of ``12``, ``0.`` of ``0.5``, ``1e`` of ``1e3``)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and after.strip("0123456789+-.eE") == ""


_LINE_END = re.compile(r"\r\n|\r|\n")


def text_lines(file: IO[bytes]) -> Iterator[str]:
    """The file's UTF-8 lines, ends kept (a BOM is dropped): lines end with ``\r\n``, ``\n`` or
    an old Mac's ``\r``, as the csv module reads a file opened with ``newline=""``. Each chunk
    is searched once (a long line costs its length, not its length times its chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending, searched = "", 0
    try:
        while chunk := file.read(CHUNK):
            pending += decoder.decode(chunk)
            begin = 0
            while (end := _LINE_END.search(pending, searched)) is not None:
                if end.group() == "\r" and end.end() == len(pending):
                    break  # the next chunk may begin with the "\n" of this "\r\n"
                yield pending[begin : end.end()]
                begin = searched = end.end()
            pending = pending[begin:]
            searched = max(0, len(pending) - 1) if pending.endswith("\r") else len(pending)
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise BadRequest("the CSV is not UTF-8 text; save it as 'CSV UTF-8'") from None
    begin = 0
    for end in _LINE_END.finditer(pending):
        yield pending[begin : end.end()]
        begin = end.end()
    if pending[begin:]:
        yield pending[begin:]
