"""Artefact writers that turn an image into file bytes.

Intel HEX is written here rather than with intelhex's writer: intelhex keeps one dict entry per byte and formats
records in Python, ~0.45 s and ~100 MB per 1 MiB image. Here each run of records is laid out column by column with
strided slice assignments (~0.03 s per MiB). The text is intelhex's `write_hex_file` output exactly (16-byte data
records from the start address, records split at 64 KiB boundaries, type-04 records, uppercase, LF), which the
tests check byte for byte, and intelhex still reads every HEX input (inputs.py)."""

from __future__ import annotations

import binascii
import zlib

RECORD = 16  # data bytes per record, as intelhex and objcopy write
LINE = 1 + 2 * (4 + RECORD + 1) + 1  # ':' + hex(length, address, type, data, checksum) + LF = 44
_ALIGNED_ADDRESSES = b"".join(b"%04X" % (i * RECORD) for i in range(0x10000 // RECORD))


def _record(address: int, rtype: int, payload: bytes) -> bytes:
    """One record: ':' length, 16-bit address, type, data, two's-complement checksum of all preceding bytes."""
    total = len(payload) + (address >> 8) + (address & 0xFF) + rtype + sum(payload)
    return b":%02X%04X%02X%s%02X\n" % (len(payload), address, rtype, payload.hex().upper().encode(), -total & 0xFF)


def _data_records(chunk: memoryview, low: int) -> bytes:
    """Type-00 records for `chunk` (inside one 64 KiB block) starting at 16-bit address `low`."""
    n, tail = divmod(len(chunk), RECORD)
    buf = bytearray(LINE * n)
    if n:
        full = chunk[:n * RECORD]
        for col, char in ((0, b":"), (1, b"1"), (2, b"0"), (7, b"0"), (8, b"0"), (LINE - 1, b"\n")):
            buf[col::LINE] = char * n
        if low % RECORD == 0:
            addresses = _ALIGNED_ADDRESSES[4 * (low // RECORD):4 * (low // RECORD + n)]
        else:
            addresses = b"".join(b"%04X" % (low + RECORD * i) for i in range(n))
        for j in range(4):
            buf[3 + j::LINE] = addresses[j::4]
        digits = binascii.hexlify(full).upper()
        for k in range(2 * RECORD):
            buf[9 + k::LINE] = digits[k::2 * RECORD]
        adler = zlib.adler32  # low half - 1 = the byte sum of a record (exact for <= 256 bytes)
        sums = bytes(-(RECORD + (a >> 8) + (a & 0xFF) + (adler(full[i:i + RECORD]) & 0xFFFF) - 1) & 0xFF
                     for i, a in zip(range(0, n * RECORD, RECORD), range(low, low + n * RECORD, RECORD)))
        checksums = binascii.hexlify(sums).upper()
        buf[LINE - 3::LINE] = checksums[0::2]
        buf[LINE - 2::LINE] = checksums[1::2]
    if tail:
        buf += _record(low + n * RECORD, 0, bytes(chunk[n * RECORD:]))
    return bytes(buf)


def hex_data_spans(view: memoryview, fill: int | None) -> list[tuple[int, int]]:
    """The (start, end) offsets of the bytes `intel_hex(view, base, skip_fill=fill)` holds (base 16-byte aligned):
    all of them, or the runs of whole records that are not all `fill`."""
    if fill is None:
        return [(0, len(view))]
    blank = bytes([fill]) * RECORD
    spans: list[tuple[int, int]] = []
    for start in range(0, len(view), RECORD):
        end = min(start + RECORD, len(view))
        if view[start:end] == blank[:end - start]:
            continue
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def intel_hex(data: bytes | bytearray | memoryview, base: int, *, skip_fill: int | None = None) -> bytes:
    """Intel HEX of `data` loaded at `base`. With `skip_fill`, records whose bytes are all that value are left out
    (a programmer then leaves them erased)."""
    view = memoryview(data).cast("B")
    if skip_fill is not None and base % RECORD:
        raise ValueError("skip_fill needs a 16-byte aligned base address")  # records would straddle kept spans
    spans = hex_data_spans(view, skip_fill)
    out: list[bytes] = []
    # as intelhex: type-04 records only when some address is above 0xFFFF, then one first and one per 64 KiB
    upper = -1 if base + len(view) - 1 > 0xFFFF else 0
    for start, end in spans:
        offset = start
        while offset < end:
            address = base + offset
            low = address & 0xFFFF
            span = min(end - offset, 0x10000 - low)
            if address >> 16 != upper:
                upper = address >> 16
                out.append(_record(0, 4, upper.to_bytes(2, "big")))
            out.append(_data_records(view[offset:offset + span], low))
            offset += span
    out.append(_record(0, 1, b""))
    return b"".join(out)
