"""The `bundle` command. Thin: parse options, call library functions, print, exit.

Heavy modules (construct, intelhex, elftools, rich, jsonschema) are imported inside the commands so that
`bundle --help` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
import warnings
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Sequence

import typer
# typer 0.28 (pinned in pyproject) carries its own copy of click: parameter types and usage errors come from there
from typer import _click as click
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer._click.types import ParamType
from typer._types import TyperChoice
from typer.core import TyperGroup

from . import TOOL_NAME, __version__
from .errors import BundleError

EXIT_CODES = "Exit codes: 0 ok, 1 a verification failed, 2 an input could not be read or understood."
WORKFLOW = ("build", "inspect", "serialize", "openocd", "dct", "fs", "keygen", "version")  # order in `bundle -h`
HELP = {"help_option_names": ["-h", "--help"]}


def epilog(*examples: str, codes: str = EXIT_CODES) -> str:
    """The end of a command's help: example lines (kept as written) and the exit codes."""
    return "\b\nExamples:\n" + "\n".join(f"  {e}" for e in examples) + f"\n\n{codes}"


class _Group(TyperGroup):
    """Commands in workflow order; a wrong option or value is one line on stderr (exit 2), like every other
    bad input, instead of click's usage block."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: WORKFLOW.index(n) if n in WORKFLOW else len(WORKFLOW))

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rc = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(0)
        except UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else TOOL_NAME
            click.echo(f"error: {where}: {exc.format_message()} (see '{where} -h')", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            click.echo("error: interrupted", err=True)
            sys.exit(130)
        sys.exit(rc if isinstance(rc, int) else 0)


class Size(ParamType):
    """A size in bytes: 65536, 0x10000, 64k, 1M (k = 1024, M = 1024 * 1024)."""

    name = "size"
    _FORM = re.compile(r"(0x[0-9a-f]+|[0-9]+)([km]?)", re.IGNORECASE)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "<size>"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        found = self._FORM.fullmatch(str(value).strip())
        if found is None:
            self.fail(f"{value!r} is not a size (e.g. 65536, 0x10000, 64k, 1M)", param, ctx)
        return int(found[1], 0) * {"": 1, "k": 1 << 10, "m": 1 << 20}[found[2].lower()]


class Choices(TyperChoice[str]):
    """The values of a library constant (e.g. linekit.ADAPTERS), read only when help is shown or a value is
    checked: `bundle -h` does not import the library module."""

    def __init__(self, module: str, name: str) -> None:
        self._source = (module, name)
        self.case_sensitive = True

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        module, name = self._source
        return tuple(getattr(importlib.import_module(f"bundler.{module}"), name))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{TOOL_NAME} {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="bundle",
    cls=_Group,
    help="Offline WICED SDK 3.5.2 image bundler.",
    epilog=epilog("bundle build samples/ota_demo/bundle.toml --out out/",
                  "bundle inspect out/ --manifest out/manifest.json"),
    context_settings=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich for it would cost ~80 ms at every start
)


@app.callback()
def _main_options(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="print the version and exit"),
) -> None:
    pass


def _clean_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and the error's exit code; never a traceback."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BundleError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a file system refusal the library did not name (e.g. a name too long)
            typer.echo(f"error: {BundleError(exc.strerror or str(exc), exc.filename)}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None

    return run


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@command(name, epilog=epilog(...))` registers a Typer command on `app` wrapped by `_clean_errors`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        return app.command(*args, **kwargs)(_clean_errors(fn))

    return register


_EQUIPMENT_HELP = ("programmer family whose checksum the job sheet prints large per chip (default crc32; an unknown "
                   "name lists the families); mcu=... or sflash=... for one chip; repeatable (default: bundle.toml "
                   "[output] equipment)")


@command("build", epilog=epilog("bundle build bundle.toml --out out/",
                                 "bundle build bundle.toml -o out/ --sign keys/bundle-signing.key"))
def build(
    config: Path = typer.Argument(..., help="bundle.toml describing the product"),
    out: Path = typer.Option(..., "--out", "-o", help="output folder (replaced as a whole when the build succeeds)"),
    hex_skip_fill: bool = typer.Option(None, "--hex-skip-fill/--hex-full",
                                       help="omit all-0xFF runs from mcu.hex (default: bundle.toml [output])"),
    sign: Path = typer.Option(None, "--sign", help="Ed25519 private key (from `bundle keygen`): also write "
                                                   "manifest.json.sig"),
    equipment: list[str] = typer.Option(None, "--equipment", metavar="FAMILY|CHIP=FAMILY", help=_EQUIPMENT_HELP),
) -> None:
    """Build mcu.bin, mcu.hex, sflash.bin and manifest.json from bundle.toml."""
    from .build import build_bundle

    bundle = build_bundle(config, out, hex_skip_fill=hex_skip_fill, sign_key=sign, equipment=equipment or None)
    for note in bundle.notes:
        typer.echo(f"note: {note}")
    for name in bundle.files:
        typer.echo(f"{out / name}  {(out / name).stat().st_size} bytes")
    for art in bundle.manifest["artefacts"]:
        typer.echo(f"{art['file']}: crc32 {art['crc32']}  sum32 {art['sum32']}  sha256 {art['sha256']}")


# ---- fs: WicedFS read-only filesystem images (issue 5) ----
fs_app = typer.Typer(help="WicedFS read-only filesystem images: build, list, extract.", no_args_is_help=True,
                     epilog=epilog("bundle fs build resources/ -o fs.bin", "bundle fs ls fs.bin"))
app.add_typer(fs_app, name="fs")

_WIDE_HELP = "64-bit-length flavour (mk_wicedfs64); default is the SDK's 32-bit mk_wicedfs32"


def _read_input(path: Path) -> bytes:
    from .inputs import MAX_IMAGE_BYTES, read_file

    return read_file(path, max_size=MAX_IMAGE_BYTES)[0]  # a regular file no larger than any image


@fs_app.command("build", epilog=epilog("bundle fs build resources/ -o fs.bin",
                                       "bundle fs build resources/ --out fs.bin --max-size 1M"))
@_clean_errors
def fs_build(
    folder: Path = typer.Argument(..., help="folder whose tree becomes the image"),
    output: Path = typer.Option(..., "--out", "-o", "--output", help="image file to write"),
    wide: bool = typer.Option(False, "--wide", help=_WIDE_HELP),
    max_size: int = typer.Option(None, "--max-size", click_type=Size(),
                                 help="slot size (65536, 0x10000, 64k, 1M); refuse a bigger image"),
    force: bool = typer.Option(False, "--force", help="replace an existing file that is not a WicedFS image"),
) -> None:
    """Make a WicedFS image from FOLDER (deterministic: sorted names, no timestamps)."""
    from .output import atomic_write, check_target
    from .wicedfs import build_image, detect

    limit = max_size
    check_target(output, [folder], detect, force)
    image = build_image(folder, wide=wide, max_size=limit)
    atomic_write(output, image)
    typer.echo(f"{output}  {len(image)} bytes")


@fs_app.command("ls", epilog=epilog("bundle fs ls fs.bin", "bundle fs ls fs.bin --json"))
@_clean_errors
def fs_ls(
    image: Path = typer.Argument(..., help="WicedFS image file"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON list of entries"),
    wide: bool = typer.Option(False, "--wide", help=_WIDE_HELP),
) -> None:
    """List the files of a WicedFS image: path, size, offset of the content, sha256."""
    import dataclasses
    import json

    from .wicedfs import display_path, list_image

    entries = list_image(_read_input(image), wide=wide)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(e) for e in entries], indent=2))
        return
    for e in entries:
        shown = display_path(e.path)
        if e.is_dir:
            typer.echo(f"{'-':>10}  0x{e.offset:08X}  {'-':64}  {shown}/")
        else:
            typer.echo(f"{e.size:>10}  0x{e.offset:08X}  {e.sha256}  {shown}")


@fs_app.command("extract", epilog=epilog("bundle fs extract fs.bin extracted/"))
@_clean_errors
def fs_extract(
    image: Path = typer.Argument(..., help="WicedFS image file"),
    dest: Path = typer.Argument(..., help="folder to create (must be absent or empty unless --force)"),
    wide: bool = typer.Option(False, "--wide", help=_WIDE_HELP),
    force: bool = typer.Option(False, "--force", help="extract into a non-empty folder, replacing files"),
) -> None:
    """Extract the tree of a WicedFS image into DEST (the whole image is checked before anything is written)."""
    from .wicedfs import extract_image

    entries = extract_image(_read_input(image), dest, wide=wide, force=force, protected=[image])
    files = [e for e in entries if not e.is_dir]
    typer.echo(f"{dest}  {len(files)} files, {len(entries) - len(files)} folders, "
               f"{sum(e.size for e in files)} bytes")

# ---- dct: device configuration table (issue 4) ----
dct_app = typer.Typer(help="The DCT (device configuration table): decode a DCT blob, DCT ELF or MCU image.",
                      no_args_is_help=True, epilog=epilog("bundle dct decode out/mcu.bin"))
app.add_typer(dct_app, name="dct")


@dct_app.command("decode", epilog=epilog("bundle dct decode out/sflash.bin --manifest out/manifest.json",
                                          "bundle dct decode old/DCT.bin --toml > dct.toml"))
@_clean_errors
def dct_decode(
    file: Path = typer.Argument(..., help="DCT blob, DCT ELF (DCT.elf / DCT.stripped.elf), MCU image (.bin or .hex) or SFLASH image"),
    board: str = typer.Option(None, "--board", help="board layout: a name or a board file (default: the manifest's, "
                                                    "else bcm943362wcd4)"),
    manifest: Path = typer.Option(None, "--manifest", "-m", help="manifest.json of the bundle the file comes from: "
                                                                 "read with the board layout it embeds"),
    show_secrets: bool = typer.Option(False, "--show-secrets", help="print keys, passphrases and PEM text"),
    as_toml: bool = typer.Option(False, "--toml", help="print a [dct] table that rebuilds the same bytes"),
    as_json: bool = typer.Option(False, "--json", help="print the decoded fields as JSON"),
) -> None:
    """Print every field of a DCT of the layout's SDK, 3.1.1 - 3.7.0 (secrets redacted unless --show-secrets)."""
    import json

    from .dct.codec import decode_dct
    from .dct.locate import load_dct_input
    from .dct.toml_out import dct_to_toml, flatten
    from .layout import DEFAULT_BOARD

    layout: Any = board or DEFAULT_BOARD
    if manifest is not None and board is None:
        from .manifest import load_with_layouts

        layout = load_with_layouts(manifest)[2]
    data, options, note = load_dct_input(file, layout)
    if as_toml:
        typer.echo(dct_to_toml(data, options, file.parent, show_secrets=show_secrets), nl=False)
        return
    model = decode_dct(data, options, show_secrets=show_secrets)
    if as_json:
        typer.echo(json.dumps(model, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .errors import inert

    def shown(text: str) -> str:  # DCT strings come from the input: no control characters, markup or emoji codes
        return escape(inert(text))

    table = Table(title=shown(f"{file.name}: {note}"), show_lines=False)
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in flatten(model):
        table.add_row(shown(key), shown(value))
    Console(width=max(Console().width, 132), emoji=False, highlight=False).print(table)


# ---- serialize: per-unit serial number and MAC (issue 4) ----
@command("serialize", epilog=epilog("bundle serialize bundle.toml -n 500 --serial-start SN00001001 "
                                     "--mac-start 02:0A:F7:00:10:00 --out run/ --state issued.json"))
def serialize_cmd(
    config: Path = typer.Argument(..., help="bundle.toml describing the product"),
    count: int = typer.Option(..., "--count", "-n", help="number of units"),
    serial_start: str = typer.Option(..., "--serial-start", help="first serial number; its trailing digits count "
                                                                 "up, keeping their width (e.g. SN00000001)"),
    mac_start: str = typer.Option(..., "--mac-start", help="first MAC address (e.g. 02:0A:F7:00:00:01); the range "
                                                           "must stay inside its OUI block"),
    out: Path = typer.Option(..., "--out", "-o", help="output folder (replaced as a whole when the run succeeds)"),
    state: Path = typer.Option(None, "--state", help="JSON file recording issued serials and MACs; a run reusing "
                                                     "any is refused"),
    full: bool = typer.Option(False, "--full", help="the same as --unit-files full"),
    sign: Path = typer.Option(None, "--sign", help="Ed25519 private key (from `bundle keygen`): also write "
                                                   "manifest.json.sig"),
    unit_files: str = typer.Option(None, "--unit-files", help="per-unit files: hex (each unit's DCT sectors as Intel "
                                                              "HEX; the default with crc = \"computed\"), full (also "
                                                              "its whole images) or none (the default with crc = "
                                                              "\"sdk\")"),
    equipment: list[str] = typer.Option(None, "--equipment", metavar="FAMILY|CHIP=FAMILY", help=_EQUIPMENT_HELP),
) -> None:
    """Per-unit serial numbers and MAC addresses: base bundle, units.csv, per-unit DCT patches."""
    from .progress import terminal_progress
    from .serialize import serialize, summary_lines

    with terminal_progress() as progress:  # a bar on a terminal for a run over about a second, else nothing
        result = serialize(config, count, serial_start, mac_start, out, state=state, full=full, sign_key=sign,
                           unit_files=unit_files, progress=progress, equipment=equipment or None)
    for line in summary_lines(result):
        typer.echo(line)


@command("keygen", epilog=epilog("bundle keygen --out keys/"))
def keygen(
    out: Path = typer.Option(Path("."), "--out", "-o", help="folder for the key pair"),
    name: str = typer.Option("bundle-signing", "--name", help="file name stem: <name>.key and <name>.pub"),
    force: bool = typer.Option(False, "--force", help="replace an existing key pair of that name"),
) -> None:
    """Make an Ed25519 key pair for signing manifests (`build --sign`, `inspect --pubkey`)."""
    from .signing import keygen as make_keys

    private, public = make_keys(out, name, force=force)
    typer.echo(f"private key: {private} (keep it secret; never give it to the programming house)")
    typer.echo(f"public key:  {public} (give this one with the manifest)")


# ---- openocd: production-line kit (issue 9) ----
@command("openocd", epilog=epilog("bundle openocd out/manifest.json --adapter stlink --out line-kit/",
                                   "bundle openocd run/manifest.json -a jlink -o line-kit/ --pubkey keys/bundle-signing.pub"))
def openocd_kit(
    manifest: Path = typer.Argument(..., help="manifest.json written by `bundle build`"),
    adapter: str = typer.Option(..., "--adapter", "-a", click_type=Choices("linekit", "ADAPTERS"),
                                help="debug adapter (ftdi: Olimex ARM-USB-TINY-H)"),
    out: Path = typer.Option(..., "--out", "-o", help="kit folder (replaced as a whole)"),
    helper: Path = typer.Option(None, "--helper", help="sflash helper ELF to use instead of the built-in one "
                                                       "(e.g. the SDK's waf.sflash_write-NoOS-<platform>.elf)"),
    chip_erase: bool = typer.Option(None, "--chip-erase/--no-chip-erase",
                                    help="serial flash: erase the whole chip first / write it sector by sector "
                                         "(default: the faster by the kit's time model)"),
    pubkey: Path = typer.Option(None, "--pubkey", help="Ed25519 public key: refuse a manifest whose signature "
                                                       "(manifest.json.sig) does not verify"),
    sign: Path = typer.Option(None, "--sign", help="Ed25519 private key: also sign the kit's file list "
                                                   "(kit.sha256.sig; check with `bundle inspect KIT/ --pubkey`)"),
) -> None:
    """Write a folder that programs and verifies a board with OpenOCD (program.sh / program.bat)."""
    from .linekit import make_kit

    times: list[str] = []
    for path in make_kit(manifest, adapter, out, helper, erase_chip=chip_erase, pubkey=pubkey,
                         sign_key=sign, on_estimate=lambda e: times.extend(e.table())):
        typer.echo(str(path))
    typer.echo("\n".join(times))
    typer.echo(f"run: {out / 'program.sh'}  (Windows: program.bat)")


# ---- inspect: decode and verify images (issue 3) ----
@command("inspect", epilog=epilog(
    "bundle inspect returned/ --manifest out/manifest.json",
    "bundle inspect dump.bin --kind sflash --chip-size 16M",
    codes="Exit codes: 0 all good; 1 a verification failed (a region differs from the manifest, a byte outside every "
          "region is not erased, no valid DCT copy, a LUT entry past the chip, ...); 2 an input could not be read or "
          "understood (missing file, unknown kind: use --kind, bad manifest)."))
def inspect_cmd(
    paths: list[Path] = typer.Argument(..., help="image files or folders (every file inside, sorted)"),
    manifest: Path = typer.Option(None, "--manifest", "-m", help="manifest.json to verify the files against"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document (schema: bundler/schemas/inspect.schema.json)"),
    kind: str = typer.Option(None, "--kind", click_type=Choices("inspect", "KINDS"),
                             help="force the kind (default: detected)"),
    board: str = typer.Option(None, "--board", help="board layout (default: the manifest's, else bcm943362wcd4)"),
    chip: str = typer.Option(None, "--chip", help="serial-flash chip, a name from chips.toml (default: the "
                                                  "manifest's, else a chip of the image's size)"),
    chip_size: int = typer.Option(None, "--chip-size", click_type=Size(),
                                  help="serial-flash chip known only by its size (16M, 0x1000000): JEDEC ID unknown"),
    pubkey: Path = typer.Option(None, "--pubkey", help="Ed25519 public key: refuse a manifest whose signature "
                                                       "(manifest.json.sig) does not verify"),
    map_svg: Path = typer.Option(None, "--map", help="also write an SVG memory map of the MCU/SFLASH images"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="one verdict line per file, then the summary line"),
    force: bool = typer.Option(False, "--force", help="let --map replace an existing file that is not a memory map"),
) -> None:
    """Decode MCU and SFLASH images, DCTs, stored apps and filesystems; with --manifest, verify each file."""
    if len(paths) == 1 and paths[0].is_dir() and manifest is None:
        from .linekit import KIT_SUMS, verify_kit

        if (paths[0] / KIT_SUMS).is_file():  # a line kit: every file against kit.sha256, its signature with --pubkey
            for line in verify_kit(paths[0], pubkey):
                typer.echo(line)
            typer.echo(f"kit {paths[0]}: every file as listed in {KIT_SUMS}" + (", signature OK" if pubkey else ""))
            raise typer.Exit(0)
    from .inspect import inspect_paths
    from .report import Renderer

    if map_svg is not None:  # before any work: never over an input (an image, the manifest) or a foreign file
        from .output import check_target
        from .svgmap import is_memory_map

        check_target(map_svg, [*paths, *([manifest] if manifest else []), *([pubkey] if pubkey else [])],
                     is_memory_map, force)
    if pubkey is not None:
        from .errors import InputError
        from .signing import verify

        if manifest is None:
            raise InputError("--pubkey verifies a manifest's signature: give --manifest too")
        verify(manifest, pubkey)
    out = Renderer(as_json=as_json, quiet=quiet)
    report = inspect_paths(paths, manifest=manifest, kind=kind, board=board, chip=chip, chip_size=chip_size,
                           listener=out, keep_files=as_json or map_svg is not None)  # else printed as they finish
    out.end(report)
    if map_svg is not None:
        from .output import atomic_write
        from .svgmap import maps_from_report, render_svg

        maps = maps_from_report(report)
        if maps:
            atomic_write(map_svg, render_svg(maps, "Memory map", xml_declaration=True))
    raise typer.Exit(report["exit_code"])


@command("version", epilog=epilog("bundle version", codes="Exit codes: 0."))
def version() -> None:
    """Print the version (as `bundle --version`)."""
    _version(True)


def _warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    typer.echo(f"warning: {message}", err=True)  # one line, without Python's file:line decoration


def main() -> None:
    warnings.showwarning = _warning
    try:
        app()
    finally:
        # a short-lived command: at exit the interpreter would walk every object of the imported modules in a last
        # garbage collection (~15 ms); frozen objects are skipped
        gc.freeze()


if __name__ == "__main__":
    main()
