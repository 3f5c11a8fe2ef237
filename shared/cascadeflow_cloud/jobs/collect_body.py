"""Reading a collector body in bounded memory: streamed inflation, then one item per event.

``inflate`` yields the body's bytes in pieces of at most ``CHUNK_BYTES``: a plain body as it
is, a gzip body through ``zlib.decompressobj`` member after member (a gzip file may hold
several members, e.g. ``cat a.gz b.gz``; each one ends its decompressor, the rest of the input
is in ``unused_data`` and starts the next member). It stops with ``BodyTooLarge`` once
``max_bytes`` have come out, and raises ``UnreadableBody`` for a corrupt or truncated stream.

``items`` turns those pieces into one ``bytes`` item per event, never holding more than one
item (plus a piece) at a time: JSON lines are split at newlines; a body whose first
non-blank byte is ``[`` is a JSON array, split at its top-level commas by a scanner that
follows strings and nesting without building the values (so deep nesting cannot recurse
here). A body that opens like an array but does not close as one (no closing ``]``, or more
data after it) raises ``NotAnArray``: it is JSON lines whose first line is an array, and is
read again with ``lines_only``. An item longer than ``max_item_bytes`` is not kept:
``Refused`` stands in its place. An item's length is counted from its first non-blank byte
to the newline or separator that ends it (blanks before it never count, wherever the pieces
were cut; blanks after it do), so the answer does not depend on where a body was cut.

>>> import gzip
>>> body = gzip.compress(b'{"a": 1}\\n') + gzip.compress(b'{"b": 2}\\n\\n{"c": 3}')
>>> list(items(inflate(body, gzipped=True, max_bytes=1000), max_item_bytes=100))
[b'{"a": 1}', b'{"b": 2}', b'{"c": 3}']
>>> list(items([b' [{"a": [1, 2]}, "x,]", ', b'3]'], max_item_bytes=100))
[b'{"a": [1, 2]}', b'"x,]"', b'3']
>>> list(items([b'{"a": 1}\\n', b'x' * 20, b'\\n{}'], max_item_bytes=10))
[b'{"a": 1}', Refused(reason='longer than 10 bytes'), b'{}']
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CHUNK_BYTES = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
_STRUCTURE = re.compile(rb'[\[\]{},"]')
_IN_STRING = re.compile(rb'["\\]')
_BLANK = b" \t\r\n"
_NON_BLANK = re.compile(rb"[^ \t\r\n]")
_BOM = b"\xef\xbb\xbf"


class BodyTooLarge(ValueError):
    """The body inflates beyond the limit (answered 413)."""


class UnreadableBody(ValueError):
    """The body is not a readable gzip stream (answered 400)."""


class NotAnArray(ValueError):
    """The body starts with ``[`` but is not one JSON array: read it as JSON lines."""


@dataclass(frozen=True)
class Refused:
    """An item the reader could not hand over (too long, or the array around it is broken)."""

    reason: str


def inflate(body: bytes, *, gzipped: bool, max_bytes: int) -> Iterator[bytes]:
    """The body's bytes, inflated member by member when ``gzipped``; at most ``max_bytes``."""
    if not gzipped:
        if len(body) > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes} bytes")
        for start in range(0, len(body), CHUNK_BYTES):
            yield body[start:start + CHUNK_BYTES]
        return
    produced = 0
    data = body
    while data:
        if not data.startswith(GZIP_MAGIC):
            raise UnreadableBody("bytes after the last gzip member are not a gzip member")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = data
        while not inflater.eof:
            try:
                piece = inflater.decompress(pending, CHUNK_BYTES)
            except zlib.error as exc:
                raise UnreadableBody(f"not a readable gzip stream ({exc})") from exc
            pending = inflater.unconsumed_tail
            produced += len(piece)
            if produced > max_bytes:
                raise BodyTooLarge(f"body inflates beyond {max_bytes} bytes")
            if piece:
                yield piece
            elif not pending and not inflater.eof:
                raise UnreadableBody("gzip stream is truncated")
        data = inflater.unused_data


def items(pieces: Iterable[bytes], *, max_item_bytes: int,
          lines_only: bool = False) -> Iterator[bytes | Refused]:
    """One item per event (JSON lines, or the elements of one JSON array); see the module."""
    stream = iter(pieces)
    start = b""
    for piece in stream:  # blank pieces before the first item are dropped, not gathered
        start = (start + piece).lstrip(_BLANK)
        if len(start) >= len(_BOM) or not _BOM.startswith(start):
            start = start.removeprefix(_BOM).lstrip(_BLANK)
            if start:
                break
    if not start:
        return
    if start.startswith(b"[") and not lines_only:
        yield from _array_items(start[1:], stream, max_item_bytes)
    else:
        yield from _line_items(start, stream, max_item_bytes)


def _line_items(first: bytes, stream: Iterator[bytes],
                max_item_bytes: int) -> Iterator[bytes | Refused]:
    buffer = first
    skipping = False  # inside a line already refused as too long
    while True:
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for line in lines:
            if skipping:
                skipping = False
                yield Refused(f"longer than {max_item_bytes} bytes")
            elif line.strip(_BLANK):
                yield from _sized(line, max_item_bytes)
        if len(buffer) > max_item_bytes:
            buffer = buffer.lstrip(_BLANK)  # at most one item and a piece: a bounded copy
        if len(buffer) > max_item_bytes:
            buffer, skipping = b"", True
        piece = next(stream, None)
        if piece is None:
            break
        buffer += piece
    if skipping:
        yield Refused(f"longer than {max_item_bytes} bytes")
    elif buffer.strip(_BLANK):
        yield from _sized(buffer, max_item_bytes)


def _sized(raw: bytes, max_item_bytes: int) -> Iterator[bytes | Refused]:
    """The item of ``raw`` (blanks stripped), or ``Refused`` when ``raw`` from its first
    non-blank byte is longer than ``max_item_bytes``."""
    if len(raw.lstrip(_BLANK)) > max_item_bytes:
        yield Refused(f"longer than {max_item_bytes} bytes")
    else:
        yield raw.strip(_BLANK)


def _array_items(first: bytes, stream: Iterator[bytes],
                 max_item_bytes: int) -> Iterator[bytes | Refused]:
    """Elements of a JSON array whose opening ``[`` is already consumed."""
    buffer, pos, start = first, 0, 0  # start: where the current element begins in buffer
    depth, in_string, oversized, ended = 1, False, False, False
    while True:
        match = (_IN_STRING if in_string else _STRUCTURE).search(buffer, pos)
        if match is None or (in_string and match.group() == b"\\" and
                             match.end() >= len(buffer)):
            if match is None:
                pos = len(buffer)
            if not oversized and pos - start > max_item_bytes:
                lead = _NON_BLANK.search(buffer, start, pos)  # blanks before it never count
                start = pos if lead is None else lead.start()
            if not oversized and pos - start > max_item_bytes:
                oversized = True
            if oversized:  # keep only what the scanner still needs
                buffer, pos, start = buffer[pos:], 0, 0
            piece = next(stream, None)
            if piece is None:
                break
            if start:
                buffer, pos, start = buffer[start:], pos - start, 0
            buffer += piece
            continue
        token, pos = match.group(), match.end()
        if in_string:
            if token == b"\\":
                pos += 1  # the escaped byte, whatever it is
            else:
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in (b"[", b"{"):
            depth += 1
        elif token in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                yield from _element(buffer[start:pos - 1], oversized, max_item_bytes,
                                    last=True)
                ended = True
                buffer, pos = buffer[pos:], 0
                break
        elif token == b"," and depth == 1:
            yield from _element(buffer[start:pos - 1], oversized, max_item_bytes, last=False)
            start, oversized = pos, False
    if not ended:
        raise NotAnArray("the JSON array is not closed")
    if buffer.strip(_BLANK) or any(p.strip(_BLANK) for p in stream):
        raise NotAnArray("data after the end of the JSON array")


def _element(raw: bytes, oversized: bool, max_item_bytes: int,
             *, last: bool) -> Iterator[bytes | Refused]:
    if oversized:
        yield Refused(f"longer than {max_item_bytes} bytes")
        return
    if raw.strip(_BLANK):
        yield from _sized(raw, max_item_bytes)
    elif not last:
        yield Refused("an empty element in the JSON array")
