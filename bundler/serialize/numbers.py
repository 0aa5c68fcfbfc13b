"""The numbers a production run issues: serials (prefix + trailing decimal digits counted up at their width) and
MAC addresses (48-bit, counted up inside the OUI block of the first), parsed, checked and made one at a time."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from .places import SERIAL_FIELD

_SERIAL_RE = re.compile(r"^(.*?)([0-9]+)$")
_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
OUI_BLOCK = 1 << 24  # the lower 24 bits (NIC part) under one OUI


@dataclass(frozen=True)
class SerialStart:
    """A serial as prefix + trailing decimal digits; units count the digits up keeping their width."""

    prefix: str
    first: int
    width: int

    @classmethod
    def parse(cls, text: str, what: str = "--serial-start") -> "SerialStart":
        if not text or not all("!" <= c <= "~" for c in text):
            raise ConfigError(f"{what} {text!r}: expected printable ASCII without spaces, e.g. SN00000001")
        m = _SERIAL_RE.match(text)
        if not m:
            raise ConfigError(f"{what} {text!r}: no trailing decimal digits to count up (e.g. SN00000001)")
        return cls(m.group(1), int(m.group(2)), len(m.group(2)))

    def nth(self, i: int) -> str:
        return f"{self.prefix}{self.first + i:0{self.width}d}"

    def last(self, count: int) -> int:
        return self.first + count - 1


class Numbered(Sequence[str]):
    """`count` consecutive serials or MACs, each made when read (a run of a million keeps none)."""

    def __init__(self, count: int, nth: Callable[[int], str]) -> None:
        self.count, self.nth = count, nth

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> str:  # type: ignore[override]  # one at a time, no slices
        if i < 0:
            i += self.count
        if not 0 <= i < self.count:
            raise IndexError(i)
        return self.nth(i)


def serial_range(start: str, count: int, field_size: int) -> Numbered:
    """`count` consecutive serials from `start` (which must fit char[field_size] with its NUL)."""
    s = SerialStart.parse(start)
    if len(start) > field_size - 1:
        raise ConfigError(f"--serial-start {start!r}: {len(start)} characters is too long for {SERIAL_FIELD}: at "
                          f"most {field_size - 1} (char[{field_size}] with its NUL terminator)")
    if len(str(s.last(count))) > s.width:
        room = 10 ** s.width - s.first
        raise ConfigError(f"--serial-start {start!r}: {count} serials would run past {s.prefix}{'9' * s.width} "
                          f"(the {s.width} trailing digits keep their width; {room} left)")
    return Numbered(count, s.nth)


def parse_mac(text: str, what: str = "--mac-start") -> int:
    if not isinstance(text, str) or not _MAC_RE.match(text):
        raise ConfigError(f"{what} {text!r}: not a MAC address like 02:0A:F7:00:00:01")
    value = int(text.replace(":", "").replace("-", ""), 16)
    if value >> 40 & 1:
        raise ConfigError(f"{what} {text}: a multicast address (bit 0 of the first octet set); a unit needs a "
                          "unicast MAC")
    return value


def format_mac(value: int) -> str:
    return ":".join(f"{b:02X}" for b in value.to_bytes(6, "big"))


def mac_range(start: str, count: int) -> Numbered:
    """`count` consecutive MACs (48-bit increment) that stay inside the OUI block of `start`."""
    value = parse_mac(start)
    low = value % OUI_BLOCK
    if low + count > OUI_BLOCK:
        oui = format_mac(value)[:8]
        raise ConfigError(f"--mac-start {start}: {count} addresses would cross the end of the OUI block "
                          f"{oui}:xx:xx:xx ({OUI_BLOCK - low} left up to {oui}:FF:FF:FF)")
    return Numbered(count, lambda i: format_mac(value + i))
