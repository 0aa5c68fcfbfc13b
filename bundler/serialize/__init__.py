"""`bundle serialize`: a unique serial number and MAC address per unit of a production run.

One module per job (import from them directly; the names below are re-exported for callers of `bundler.serialize`):

- `numbers`  serials and MAC addresses: parsed, checked, counted up (`serial_range`, `mac_range`)
- `places`   where the per-unit bytes are: the DCT in the MCU image and in SFLASH (`find_places`, `PatchRange`)
- `state`    the state file of issued ranges: validated, checked, locked, reserved (`load_state`, `state_lock`)
- `result`   what a run made: units and the run's result, output names (`Unit`, `SerializationResult`)
- `run`      the run itself: base bundle, units, checks, reserve, publish (`serialize`)
- `summary`  what the CLI prints after a run (`summary_lines`)

The per-unit bytes, files and units.csv at factory scale are `bundler.units`.
"""

from .numbers import SerialStart, format_mac, mac_range, parse_mac, serial_range
from .places import CRC_FIELD, MAC_FIELD, SERIAL_FIELD, DctPlace, PatchRange, find_places
from .result import UNIT_FILES, UNITS_CSV, UNITS_DIR, SerializationResult, Unit, UnitSums
from .run import TOOL, serialize
from .summary import summary_lines

__all__ = ["CRC_FIELD", "MAC_FIELD", "SERIAL_FIELD", "TOOL", "UNITS_CSV", "UNITS_DIR", "UNIT_FILES", "DctPlace",
           "PatchRange", "SerialStart", "SerializationResult", "Unit", "UnitSums", "find_places", "format_mac",
           "mac_range", "parse_mac", "serial_range", "serialize", "summary_lines"]
