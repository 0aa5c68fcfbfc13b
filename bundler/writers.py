"""Artefact writers that turn an image into file bytes."""

from __future__ import annotations

import io


def fill_runs(data: bytes, fill: int, min_run: int = 16) -> list[tuple[int, int]]:
    """(start, end) of the runs of non-fill data, separated by fill gaps of at least `min_run` bytes."""
    runs, i, n = [], 0, len(data)
    gap = bytes([fill]) * min_run
    while i < n:
        while i < n and data[i] == fill:
            i += 1
        if i >= n:
            break
        j = data.find(gap, i)
        j = n if j < 0 else j
        runs.append((i, j))
        i = j
    return runs


def intel_hex(data: bytes, base: int, *, skip_fill: int | None = None) -> bytes:
    """Intel HEX (intelhex's writer, 16-byte data records, extended linear address records) of `data` at `base`.
    With `skip_fill`, runs of that value are left out (a programmer then leaves them erased)."""
    from intelhex import IntelHex

    ih = IntelHex()
    runs = fill_runs(data, skip_fill) if skip_fill is not None else [(0, len(data))]
    for start, end in runs:
        ih.frombytes(data[start:end], offset=base + start)
    out = io.StringIO()
    ih.write_hex_file(out, write_start_addr=False)
    return out.getvalue().encode("ascii")
