"""The `bundle` command. Thin: parse options, call library functions, print, exit.

Heavy modules (construct, intelhex, elftools, rich, jsonschema) are imported inside the commands so that
`bundle --help` starts fast.
"""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path
from typing import Any, Callable

import typer

from .errors import BundleError

app = typer.Typer(
    name="bundle",
    help="Offline WICED SDK 3.5.2 image bundler.\n\nExit codes: 0 ok, 1 verification failed, 2 bad input.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _clean_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into one line on stderr and the error's exit code; never a traceback."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BundleError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted", err=True)
            raise typer.Exit(130) from None

    return run


def command(*args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`@command()` registers a Typer command on `app` wrapped by `_clean_errors`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        return app.command(*args, **kwargs)(_clean_errors(fn))

    return register


@command("build")
def build(
    config: Path = typer.Argument(..., help="bundle.toml describing the product"),
    out: Path = typer.Option(..., "--out", "-o", help="output folder (replaced as a whole when the build succeeds)"),
    hex_skip_fill: bool = typer.Option(None, "--hex-skip-fill/--hex-full",
                                       help="omit all-0xFF runs from mcu.hex (default: bundle.toml [output])"),
) -> None:
    """Build mcu.bin, mcu.hex, sflash.bin and manifest.json from bundle.toml."""
    from .build import build_bundle

    bundle = build_bundle(config, out, hex_skip_fill=hex_skip_fill)
    for art in bundle.manifest["artefacts"]:
        typer.echo(f"{out / art['file']}  {art['size']} bytes  crc32 {art['crc32']}  sum32 {art['sum32']}")
    typer.echo(f"{out / 'manifest.json'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
