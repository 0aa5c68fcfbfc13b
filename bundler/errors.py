"""User-facing errors. The CLI prints `str(error)` as one line and exits with `exit_code`.

Messages name the file, then the field/offset, then what was expected, e.g.
``app.elf: segment 1 at 0x08100000 (0x400 bytes) is outside flash 0x08000000-0x080FFFFF``.
"""

from __future__ import annotations

from pathlib import Path


# C0 and C1 control characters, DEL, and the Unicode controls that reorder or hide text (bidi overrides and
# isolates, zero-width marks): what could move a terminal's cursor, recolour it or make text read otherwise.
_ESCAPE_CONTROLS = {c: repr(chr(c))[1:-1] if c < 0x80 else f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
                    for c in (*range(0x20), *range(0x7F, 0xA0), 0x200B, 0x200E, 0x200F, *range(0x202A, 0x202F),
                              *range(0x2066, 0x206A), 0xFEFF)}


def inert(text: str) -> str:
    """`text` with every control character shown escaped (\\x1b, \\n, \\u202e ...): safe to print on a terminal."""
    return text.translate(_ESCAPE_CONTROLS)


class BundleError(Exception):
    """Base class: an input could not be read or understood (exit 2)."""

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        text = f"{self.path}: {message}" if self.path else message
        # one line whatever the input: a newline or other control character in a path or value is shown escaped
        super().__init__(inert(text))


class InputError(BundleError):
    """An input file is missing, unreadable or malformed."""


class ConfigError(BundleError):
    """bundle.toml or a layout file is invalid."""


class PlacementError(BundleError):
    """Parts overlap, do not fit their region, or fall outside the chip."""


class OutputError(BundleError):
    """The output folder cannot be written, or would overwrite an input."""


class VerificationError(BundleError):
    """An image does not match what it should be (exit 1)."""

    exit_code = 1


def hexsize(n: int) -> str:
    """Sizes in messages are given in bytes and hex: '4097 bytes (0x1001)'."""
    return f"{n} bytes (0x{n:X})"
