"""The serialization state file: which serial and MAC ranges were issued (so none is issued twice), read and
validated, checked against a new run, locked while a run uses it, and the run reserved in it.

The file (documented in the README, "bundle serialize"): a JSON object
  {"version": 1, "runs": [{"serial_first": "SN00001001", "serial_last": "SN00001500",
                           "mac_first": "02:0A:F7:00:10:00", "mac_last": "02:0A:F7:00:11:F3",
                           "count": 500, "product": "ota_demo", "out": "/abs/run", "created": "..."}, ...]}
serial_* and mac_* are required: serials with the same prefix and digit count, first <= last; unicast MACs of one
OUI block, first <= last; `count` (optional) the number of serials and of MACs. `product`, `out`, `created`
(optional) are text. Other keys are kept as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import ConfigError, InputError, OutputError
from .numbers import OUI_BLOCK, SerialStart, parse_mac

STATE_VERSION = 1
_RUN_TEXT = ("product", "out", "created")


def _state_run(run: object, where: str, path: Path) -> None:
    """Check one entry of `runs` against the state schema (a one-line InputError naming it otherwise)."""
    if not isinstance(run, dict):
        raise InputError(f"{where}: expected an object with serial_first, serial_last, mac_first, mac_last", path)
    for key in ("serial_first", "serial_last", "mac_first", "mac_last"):
        if not isinstance(run.get(key), str):
            raise InputError(f"{where}.{key}: expected a string, got {type(run.get(key)).__name__}", path)
    try:
        first, last = SerialStart.parse(run["serial_first"], "serial_first"), SerialStart.parse(run["serial_last"],
                                                                                                 "serial_last")
        mac_first, mac_last = parse_mac(run["mac_first"], "mac_first"), parse_mac(run["mac_last"], "mac_last")
    except ConfigError as exc:
        raise InputError(f"{where}: {exc}", path) from None
    if (first.prefix, first.width) != (last.prefix, last.width) or first.first > last.first:
        raise InputError(f"{where}: serial_first {run['serial_first']} .. serial_last {run['serial_last']} is not a "
                         "range (same prefix and digit count, first <= last)", path)
    if mac_first > mac_last or mac_first // OUI_BLOCK != mac_last // OUI_BLOCK:
        raise InputError(f"{where}: mac_first {run['mac_first']} .. mac_last {run['mac_last']} is not a range "
                         "(first <= last, one OUI block)", path)
    count = run.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or count != last.first - first.first + 1 or count != mac_last - mac_first + 1):
        raise InputError(f"{where}.count: {count!r} is not the number of serials and of MACs of the run", path)
    for key in _RUN_TEXT:
        if key in run and not isinstance(run[key], str):
            raise InputError(f"{where}.{key}: expected a string, got {type(run[key]).__name__}", path)


def load_state(path: Path) -> dict[str, Any]:
    """The state at `path` (resolved), validated; a new one if the file does not exist."""
    if not path.exists():
        return {"version": STATE_VERSION, "runs": []}
    from ..inputs import MAX_TEXT_BYTES, parse_json, read_file

    raw, _ = read_file(path, max_size=MAX_TEXT_BYTES)
    doc = parse_json(raw, path)
    if not isinstance(doc, dict) or doc.get("version") != STATE_VERSION or not isinstance(doc.get("runs"), list):
        raise InputError(f"not a serialization state file (expected an object with version {STATE_VERSION} and "
                         "runs [{serial_first, serial_last, mac_first, mac_last}, ...])", path)
    for n, run in enumerate(doc["runs"], 1):
        _state_run(run, f"run {n}", path)
    return doc


def check_state(path: Path, state: Mapping[str, Any], serials: Sequence[str], macs: Sequence[str]) -> None:
    """Refuse a run whose serials or MACs overlap any recorded run (every run is compared)."""
    s = SerialStart.parse(serials[0])
    s_last = s.last(len(serials))
    m_first, m_last = parse_mac(macs[0]), parse_mac(macs[-1])
    for n, run in enumerate(state["runs"], 1):
        rs, rs_last = SerialStart.parse(run["serial_first"]), SerialStart.parse(run["serial_last"])
        rm_first, rm_last = parse_mac(run["mac_first"]), parse_mac(run["mac_last"])
        if (rs.prefix, rs.width) == (s.prefix, s.width) and s.first <= rs_last.first and rs.first <= s_last:
            raise ConfigError(f"serials {serials[0]}..{serials[-1]} overlap {run['serial_first']}.."
                              f"{run['serial_last']} already issued (run {n} in {path}); start after "
                              f"{run['serial_last']}")
        if m_first <= rm_last and rm_first <= m_last:
            raise ConfigError(f"MACs {macs[0]}..{macs[-1]} overlap {run['mac_first']}..{run['mac_last']} already "
                              f"issued (run {n} in {path}); start after {run['mac_last']}")


def reserve(path: Path, state: dict[str, Any], run: dict[str, Any]) -> None:
    """Record `run` in the state file (atomically): its numbers are never issued again."""
    from ..output import atomic_write

    state["runs"].append(run)
    atomic_write(path, json.dumps(state, indent=2) + "\n")


@contextmanager
def state_lock(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock (a `<state>.lock` file beside it) so two runs cannot both pass the reuse check."""
    if path is None:
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+")
    except OSError as exc:
        raise OutputError(f"cannot create the state lock: {exc.strerror}", lock) from None
    with fh:
        try:
            _lock_exclusive(fh)
        except OSError:
            raise OutputError("another `bundle serialize` run holds this state file; try again when it ends",
                              path) from None
        yield


def _lock_exclusive(fh: IO[str]) -> None:
    """Lock the open lock file without waiting (OSError if another process holds it); released when it is closed.
    flock on POSIX; on Windows msvcrt.locking of its first byte (a lock may lie past the end of the file)."""
    try:
        import fcntl
    except ImportError:
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
