"""Content written and checksummed block by block instead of held whole (issue 6: a build's peak memory).

A flash image is its parts plus runs of the erased value, and a big raw input (a multi-MiB filesystem) can be read
again from its file when it is written: so a 16 MiB SFLASH image never has to exist as one buffer, and a build holds
only the bytes it generates itself. A `Stream` yields its bytes in order as buffers and `Fill` runs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Protocol, Union

Buffer = Union[bytes, bytearray, memoryview]
BLOCK = 1 << 20  # fill / read block: big enough for C-speed hashing and writing, small beside the images


@dataclass(frozen=True)
class Fill:
    """`size` bytes of `value` (erased flash), never materialised beyond one shared block."""

    size: int
    value: int

    def blocks(self) -> Iterator[memoryview]:
        block, left = _fill_block(self.value), self.size
        while left > 0:
            yield block[:min(left, BLOCK)]
            left -= BLOCK


@lru_cache(maxsize=4)
def _fill_block(value: int) -> memoryview:
    return memoryview(bytes([value]) * BLOCK)


@lru_cache(maxsize=4)
def not_fill(value: int) -> re.Pattern[bytes]:
    """Runs of bytes other than `value`: the regex engine scans in C, on any buffer, without copying it."""
    return re.compile(b"[^" + re.escape(bytes([value])) + b"]+")


class Stream(Protocol):
    """Bytes produced in order (an image, an Intel HEX text, an input file)."""

    def chunks(self) -> Iterator[Buffer | Fill]: ...


Content = Union[bytes, Stream]  # what a build publishes under one file name


def is_buffer(data: object) -> bool:
    return isinstance(data, (bytes, bytearray, memoryview))


def blocks(data: Buffer | Stream) -> Iterator[Buffer]:
    """The bytes of `data` in order, fill runs expanded into blocks."""
    if is_buffer(data):
        yield data  # type: ignore[misc]
        return
    for chunk in data.chunks():  # type: ignore[union-attr]
        if isinstance(chunk, Fill):
            yield from chunk.blocks()
        else:
            yield chunk


def to_bytes(data: Buffer | Stream) -> bytes:
    """All of `data` as one bytes object (for a caller that needs it whole, e.g. to compare or to patch)."""
    return bytes(data) if is_buffer(data) else b"".join(blocks(data))  # type: ignore[arg-type]
