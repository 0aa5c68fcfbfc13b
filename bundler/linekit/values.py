"""Values the line kit writes into its scripts (program.sh, program.bat, kit_config.tcl): checked against sets that
are plain text for sh, cmd and Tcl alike, then still quoted for each (shlex, tcl_word)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # plain text in sh, cmd, Tcl and file names

# Manifest values the kit writes into program.sh, program.bat and kit_config.tcl: checked where they enter, against
# sets that are plain text for sh, cmd and Tcl alike (and then still quoted for each: shlex, tcl_word).
_KIT_TEXT: dict[str, tuple[re.Pattern[str], str]] = {
    "name": (re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+,-]{0,63}$"),
             "1..64 letters, digits, spaces and . _ + , - (starting with a letter or digit)"),
    "chip.name": (SAFE_NAME, "1..64 letters, digits and . _ - (starting with a letter or digit)"),
}


def safe_value(value: str, field: str, path: Path) -> str:
    """`value` of manifest `field` if it is in the field's safe set (_KIT_TEXT); else one line naming the set."""
    pattern, allowed = _KIT_TEXT[field]
    if not pattern.match(value):
        raise InputError(f"{field}: {value[:80]!r}{'...' if len(value) > 80 else ''}: the line kit takes {allowed} "
                         "(its scripts must not run it as code)", path)
    return value


def tcl_word(text: str) -> str:
    """`text` (printable ASCII) as one Tcl word that is only data: every character but letters and digits is
    backslash-escaped (in Tcl and OpenOCD's Jim a backslash before any other character stands for that character)."""
    if any(not " " <= c <= "~" for c in text):
        raise ValueError(f"tcl_word: {text!r} is not printable ASCII")
    return "".join(c if c.isalnum() else "\\" + c for c in text) or "{}"

