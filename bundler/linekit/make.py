"""`bundle openocd`: the kit assembled from the checked parts and published as a whole."""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import InputError, OutputError, hexsize
from ..formats.sflash_helper import config_words
from ..inputs import MAX_KEY_BYTES, MAX_TEXT_BYTES, read_file
from ..linetime import Estimate, helper_load_bytes
from ..manifest import product_label
from ..serialize import UNITS_CSV
from ..signing import SIGNATURE_SUFFIX
from .artefacts import read_artefacts
from .helper import HELPER_NAME, builtin_helper, helper_config, patch_helper, spi_settings
from .plan import PlanImage, plan_kit
from .tclgen import serial_tcl, tcl_config
from .units import BLANK_SUFFIX, blank_ranges, serial_ranges, unit_image, unit_table, units_csv_bytes
from .values import safe_value
from .verify import KIT_LOGS, KIT_SUMS, kit_sums

# interface config (Debian openocd's scripts/) per --adapter; the target is always target/stm32f2x.cfg
ADAPTERS: dict[str, str] = {
    "stlink": "interface/stlink.cfg",                                # ST-Link V2 / V2-1 / V3, SWD
    "olimex-arm-usb-ocd-h": "interface/ftdi/olimex-arm-usb-ocd-h.cfg",  # Olimex ARM-USB-OCD-H, 20-pin JTAG
    "ftdi": "interface/ftdi/olimex-arm-usb-tiny-h.cfg",               # FT2232H JTAG (Olimex ARM-USB-TINY-H)
    "jlink": "interface/jlink.cfg",                                  # SEGGER J-Link, JTAG
}
TARGET_CFG = "target/stm32f2x.cfg"
# USB vendor:product IDs per --adapter, for gang.sh to find the connected adapters (globs, as sh `case` takes them)
ADAPTER_USB: dict[str, str] = {
    "stlink": "0483:3744 0483:3748 0483:374b 0483:374d 0483:374e 0483:374f 0483:3752 0483:3753 0483:3754",
    # (the hla_vid_pid list of OpenOCD 0.12's interface/stlink.cfg: ST-Link V1, V2, V2-1, V3)
    "olimex-arm-usb-ocd-h": "15ba:002b",   # interface/ftdi/olimex-arm-usb-ocd-h.cfg ftdi vid_pid
    "ftdi": "15ba:002a",                   # interface/ftdi/olimex-arm-usb-tiny-h.cfg ftdi vid_pid
    "jlink": "1366:*",                     # SEGGER's USB vendor ID: every J-Link model
}
SCRIPTS = ("program.sh", "program.bat", "gang.sh", "gang.bat")  # templates with the kit's values put in; .sh ones executable


def _template(name: str) -> str:
    return resources.files("bundler").joinpath(f"kit/{name}").read_text(encoding="utf-8")


def make_kit(manifest_path: Path, adapter: str, out: Path, helper: Path | None = None, *,
             spi: Mapping[str, Any] | None = None, erase_chip: bool | None = None, pubkey: Path | None = None,
             sign_key: Path | None = None, on_estimate: Callable[[Estimate], None] | None = None) -> list[Path]:
    """Write a production-line kit for `manifest_path`'s images into `out`; return the files written.

    Every file taken from the bundle (images, units.csv) must have the size and SHA-256 the manifest states; the
    built-in helper the SHA-256 pinned beside it. `spi` overrides the board layout's [sflash.spi] table (tests,
    boards without a layout entry). With `pubkey`, a manifest whose signature (manifest.json.sig) does not verify
    is refused before anything else; with `sign_key`, the kit's file list kit.sha256 is signed (kit.sha256.sig).
    `erase_chip`: True chip-erases the serial flash first, False writes it sector by sector, None (default) takes
    the faster by the time model (bundler/linekit/plan.py).

    The kit README ends with the board's time estimate (bundler/linetime.py); `on_estimate` is given it too."""
    from ..manifest import load_with_layouts
    from ..publish import publish

    manifest_path = Path(manifest_path)
    if adapter not in ADAPTERS:
        raise InputError(f"--adapter {adapter!r}: expected one of {', '.join(ADAPTERS)}")
    out = _kit_out_dir(Path(out))
    if pubkey is not None:
        from ..signing import verify

        verify(manifest_path, pubkey)
    # checked against the manifest schema (the fields below are typed); the board it was built with
    doc, _, board, chip_layout, _ = load_with_layouts(manifest_path)
    safe_value(doc["name"], "name", manifest_path)
    kit_label = product_label(doc)  # the name (checked just now) and version/revision (manifest schema: safe text)
    chip = doc["chip"]
    chip_name = safe_value(chip["name"], "chip.name", manifest_path)
    jedec_id, chip_size, sector_size = int(chip["jedec_id"], 16), chip["size"], chip["sector_size"]

    where: str | Path = "[sflash.spi]"
    if spi is None:
        spi, where = board.spi, board.path
    settings = spi_settings(spi, where)
    config = helper_config(settings, jedec_id, chip_size, sector_size)

    if helper is None:
        helper_path = Path(str(resources.files("bundler").joinpath(f"kit/{HELPER_NAME}")))
        helper_bytes = builtin_helper(helper_path)
    else:
        helper_path = Path(helper)
        helper_bytes, _ = read_file(helper_path)
    helper_bytes, _ours = patch_helper(helper_bytes, config, helper_path)

    arts = read_artefacts(doc, manifest_path)
    for a in arts:
        if a.kind == "sflash" and a.base + a.size > chip_size:
            raise InputError(f"{a.file}: {hexsize(a.size)} at 0x{a.base:x} does not fit the {chip_name} "
                             f"({hexsize(chip_size)})", manifest_path)
    images = {a.file: a.data for a in arts}
    ranges = serial_ranges(doc, manifest_path, arts)
    units_csv = manifest_path.parent / UNITS_CSV
    csv_raw = units_csv_bytes(doc, manifest_path) if ranges else b""
    units = unit_table(units_csv, csv_raw, ranges, arts, images) if ranges else []
    files: dict[str, bytes] = {}
    unit_files: dict[str, str] = {}
    plan_images: list[PlanImage] = []
    for a in arts:
        data = images[a.file]
        if a.kind == "mcu" and any(r.file == a.file for r in ranges):
            # internal flash is programmed page-wise after an erase: write the ranges 0xFF, then the unit's bytes
            unit_files[a.file] = a.file.rsplit(".", 1)[0] + BLANK_SUFFIX
            files[unit_files[a.file]] = blank_ranges(data, ranges, a.file)
        else:
            files[a.file] = data
        written = unit_files.get(a.file, a.file)
        # the estimate is for the first unit of a serialized run (its bytes decide which pages hold data)
        final = unit_image(data, ranges, units[0], a.file) if units else data
        plan_images.append(PlanImage(a.file, a.kind, a.base, files[written], final,
                                     tuple((r.offset, r.size) for r in ranges if r.file == a.file), written))
    plan = plan_kit(plan_images, board=board, chip=chip_layout, adapter=adapter, page_size=settings["page_size"],
                    prescaler=settings["prescaler"], helper_bytes=helper_load_bytes(helper_bytes), ours=_ours,
                    erase_chip=erase_chip)
    files.update(plan.parts)
    words = list(config_words.parse(config))
    files[HELPER_NAME] = helper_bytes
    unit_tcl = serial_tcl(ranges, units, unit_files) if ranges else []
    files["kit_config.tcl"] = tcl_config(kit_label, arts, {a.file: plan.tcl_ops(a.file) for a in arts}, words,
                                         chip_name, jedec_id, chip_size, plan.erase_chip, unit_tcl).encode()
    files["sflash_kit.tcl"] = _template("sflash_kit.tcl").encode()
    if ranges:
        files[UNITS_CSV] = csv_raw  # the bytes checked above: the run's record, and the table program.sh /
        # program.bat look the typed serial up in
    # values reach the scripts as data: quoted for sh; for cmd only names of the safe set (checked above)
    subst = {"@INTERFACE@": ADAPTERS[adapter], "@TARGET@": TARGET_CFG, "@SERIALIZED@": "1" if ranges else "0",
             "@ADAPTER@": adapter, "@USB_IDS@": ADAPTER_USB[adapter]}
    for name in SCRIPTS:
        text = _template(name)
        text = text.replace("@NAME@", shlex.quote(kit_label) if name.endswith(".sh") else kit_label)
        for key, value in subst.items():
            text = text.replace(key, value)
        files[name] = text.encode() if name.endswith(".sh") else text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
    board_time = plan.estimate
    files["README.md"] = (_template("README.md").rstrip("\n") + "\n\n## Time per board (this kit)\n\n"
                          + "\n".join(board_time.table()) + "\n").encode()
    files["manifest.json"], _ = read_file(manifest_path, max_size=MAX_TEXT_BYTES)
    signature = manifest_path.with_name(manifest_path.name + SIGNATURE_SUFFIX)
    if signature.is_file():  # the line keeps the proof of origin with the images it programs
        files[signature.name], _ = read_file(signature, max_size=MAX_KEY_BYTES)
    files[KIT_SUMS] = kit_sums(files)
    if sign_key is not None:
        from ..signing import sign

        files[KIT_SUMS + SIGNATURE_SUFFIX] = sign(files[KIT_SUMS], sign_key)

    protected = [manifest_path] + [a.source for a in arts] + ([units_csv] if ranges else []) + \
        ([helper_path] if helper is not None else []) + ([sign_key] if sign_key is not None else [])
    # the line's logs of an earlier kit in the same folder go into the new kit as they are
    written = publish(out, files, protected, "bundle openocd", modes={name: 0o755 for name in SCRIPTS if name.endswith(".sh")}, carry=KIT_LOGS)
    if on_estimate is not None:
        on_estimate(board_time)
    return written


def _kit_out_dir(out: Path) -> Path:
    """The kit folder, refused (before anything is read or written) when it is the current folder or holds it:
    replacing it would leave the shell in a deleted folder."""
    resolved, here = out.resolve(), Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError("the kit folder is (or holds) the current folder; give another --out (e.g. ../line-kit) "
                          "or run from outside it", out)
    return resolved

