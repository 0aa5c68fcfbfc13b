"""CLI conventions of the field (esptool, imgtool, pyocd): version, -h, examples and exit codes in every help,
choices shown and checked, sizes with units, workflow order, completion. Run through the installed `bundle`
entry point (the real `main`, as a user runs it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

import bundler
from bundler.cli import Size, app
from bundler.inspect import KINDS
from bundler.linekit import ADAPTERS

from conftest import SAMPLE

BUNDLE = Path(sys.executable).parent / "bundle"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BUNDLE), *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def _commands() -> list[list[str]]:
    """Every command and sub-command path of the app, from Typer's own registry."""
    import typer.main

    out: list[list[str]] = []

    def walk(group, path: list[str]) -> None:
        for name, cmd in group.commands.items():
            out.append([*path, name])
            if hasattr(cmd, "commands"):
                walk(cmd, [*path, name])

    walk(typer.main.get_command(app), [])
    return out


def test_version_forms_agree() -> None:
    expected = f"bundle {bundler.__version__}\n"
    for args in (["--version"], ["-V"], ["version"]):
        res = run(*args)
        assert (res.returncode, res.stdout, res.stderr) == (0, expected, "")
    from importlib.metadata import version

    assert version("wiced-bundle") == bundler.__version__  # pyproject takes the version from the package


def test_commands_in_workflow_order_and_completion_offered() -> None:
    res = run("-h")
    assert res.returncode == 0
    listed = re.findall(r"^  (\w+)  ", res.stdout.split("Commands:")[1], re.MULTILINE)
    assert listed == ["build", "inspect", "serialize", "openocd", "dct", "fs", "keygen", "version"]
    assert "--install-completion" in res.stdout and "--show-completion" in res.stdout


@pytest.mark.parametrize("path", [" ".join(p) for p in _commands()] + [""])
def test_every_help_ends_with_examples_and_exit_codes(path: str) -> None:
    words = path.split()
    short, long = run(*words, "-h"), run(*words, "--help")
    assert short.returncode == long.returncode == 0 and short.stdout == long.stdout
    text = short.stdout
    examples = text.split("Examples:\n")[1].split("\n\n")[0].splitlines()
    assert 1 <= len(examples) <= 2
    for line in examples:  # each example is a command of this path, shown as written (not re-wrapped)
        prefix = f"    bundle {path}".rstrip()
        assert line == prefix or line.startswith(prefix + " "), line
    assert re.search(r"Exit codes: 0[^\n]*(\n[^\n]+)*\n$", text.split("Examples:")[1]), text[-300:]


@pytest.mark.parametrize("args, option, choices", [
    (["inspect", "x.bin", "--kind", "sflsh"], "--kind", KINDS),
    (["openocd", "m.json", "--out", "kit", "--adapter", "st-link"], "--adapter", tuple(ADAPTERS)),
])
def test_choices_are_shown_and_checked(tmp_path: Path, args: list[str], option: str, choices: tuple[str, ...]) -> None:
    shown = run(args[0], "-h").stdout
    assert f"{option} <{'|'.join(choices)}>" in " ".join(shown.split())
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2 and res.stdout == ""
    line, = res.stderr.splitlines()  # one line, not click's usage block
    assert re.match(rf"error: bundle {args[0]}: Invalid value for '{option}'( / '-.')?: '{args[-1]}' is not one of", line)
    assert all(repr(c) in line for c in choices)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text, value", [
    ("65536", 65536), ("0x10000", 65536), ("0X10000", 65536), ("64k", 65536), ("64K", 65536), ("1M", 1 << 20),
    ("16m", 16 << 20), ("0", 0), ("0x1k", 1024),
])
def test_sizes(text: str, value: int) -> None:
    assert Size().convert(text, None, None) == value


@given(st.integers(0, 1 << 40), st.sampled_from([("", 1), ("k", 1024), ("K", 1024), ("M", 1 << 20), ("m", 1 << 20)]),
       st.booleans())
def test_sizes_any_number(n: int, unit: tuple[str, int], as_hex: bool) -> None:
    text = (hex(n) if as_hex else str(n)) + unit[0]
    assert Size().convert(text, None, None) == n * unit[1]


@pytest.mark.parametrize("text", ["", "k", "1.5M", "-1", "64kb", "1G", "0x", "12q", "1 M"])
def test_bad_sizes_are_refused_in_one_line(tmp_path: Path, text: str) -> None:
    res = run("fs", "build", str(SAMPLE / "resources"), "-o", str(tmp_path / "fs.bin"), "--max-size", text)
    assert res.returncode == 2 and res.stdout == ""
    line, = res.stderr.splitlines()
    assert line == f"error: bundle fs build: Invalid value for '--max-size': {text!r} is not a size " \
                   "(e.g. 65536, 0x10000, 64k, 1M) (see 'bundle fs build -h')"
    assert not (tmp_path / "fs.bin").exists()


@pytest.mark.parametrize("flag", ["--out", "-o", "--output"])
def test_fs_build_out_spellings(tmp_path: Path, flag: str) -> None:
    from bundler.wicedfs import build_image

    res = run("fs", "build", str(SAMPLE / "resources"), flag, str(tmp_path / "fs.bin"), "--max-size", "64k")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "fs.bin").read_bytes() == build_image(SAMPLE / "resources")
    # a limit in units is applied as bytes: 1k is smaller than the sample's image
    res = run("fs", "build", str(SAMPLE / "resources"), flag, str(tmp_path / "small.bin"), "--max-size", "1k")
    assert res.returncode == 2 and "larger than its slot of 1024 bytes (0x400)" in res.stderr
    assert not (tmp_path / "small.bin").exists()


def test_unknown_command_and_missing_argument_are_one_line() -> None:
    for args, expected in ((["nope"], "error: bundle: No such command 'nope'. (see 'bundle -h')"),
                           (["build"], "error: bundle build: Missing argument 'config'. (see 'bundle build -h')")):
        res = run(*args)
        assert (res.returncode, res.stdout, res.stderr) == (2, "", expected + "\n")


def test_shell_completion_of_commands_and_choices() -> None:
    """What `bundle --install-completion` wires into bash: the completion protocol answers commands and choices."""
    import os

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_BUNDLE_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
        res = subprocess.run([str(BUNDLE)], capture_output=True, text=True, env=env, timeout=60)
        assert res.returncode == 0, res.stderr
        return res.stdout.split()

    assert complete("bundle ins") == ["inspect"]
    assert complete("bundle openocd m.json --adapter ") == list(ADAPTERS)
    assert complete("bundle inspect x --kind s") == ["sflash"]
    script = run("--show-completion", "bash")
    assert script.returncode == 0 and "_BUNDLE_COMPLETE=complete_bash" in script.stdout
