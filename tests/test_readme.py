"""The README stays true: its commands exist, and the production-line section is the kit's own README."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.main import get_command

from bundler.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_production_line_section_is_the_kit_readme() -> None:
    section = README
    start = section.index("## Production line")
    end = section.index("<!-- end of production-line section -->")
    assert section[start:end].strip() == (ROOT / "bundler" / "kit" / "README.md").read_text().strip()


def test_every_bundle_command_in_the_readme_exists() -> None:
    cli = get_command(app)
    code = "\n".join(re.findall(r"```.*?```|`[^`\n]+`", README, re.S))  # code blocks and inline code only
    used = set(re.findall(r"(?:^|[\s`/])bundle ([a-z]+)(?: ([a-z]+))?", code, re.M))
    assert used
    for command, sub in used:
        assert command in cli.commands, command  # type: ignore[attr-defined]
        group = cli.commands[command]  # type: ignore[attr-defined]
        if hasattr(group, "commands") and sub:
            assert sub in group.commands, f"{command} {sub}"


def test_quick_start_commands() -> None:
    quick = README[README.index("## Quick start"):README.index("## Describing a product")]
    blocks = re.findall(r"```sh\n(.*?)\n```", quick, re.S)
    assert blocks == [
        "python3 -m venv .venv && .venv/bin/pip install -q . && "
        ".venv/bin/bundle build samples/ota_demo/bundle.toml --out out/",
        "bash .ci/run",
    ]
    assert (ROOT / ".ci" / "run").read_text().count(".venv/bin/python -m pytest") == 1


def test_quick_start_build_works(tmp_path: Path) -> None:
    """The quick start's build, run as written from a copy of the repository whose .venv/bin/bundle is this
    environment's console script: it must give a bundle that `bundle inspect` verifies against its manifest."""
    quick = README[README.index("## Quick start"):README.index("## Describing a product")]
    setup = re.findall(r"```sh\n(.*?)\n```", quick, re.S)[0].split(" && ")
    assert setup[:2] == ["python3 -m venv .venv", ".venv/bin/pip install -q ."]  # the real install: .ci/check-installed
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "test" in pyproject["project"]["optional-dependencies"]
    assert pyproject["project"]["scripts"]["bundle"] == "bundler.cli:main"
    script = Path(sys.executable).parent / "bundle"
    assert script.is_file(), "the editable install gives a bundle console script"
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "samples", repo / "samples")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "bundle").symlink_to(script)
    for command in setup[2:]:
        run = subprocess.run(command, shell=True, cwd=repo, capture_output=True, text=True)
        assert run.returncode == 0, (command, run.stdout, run.stderr)
    assert {"mcu.bin", "mcu.hex", "sflash.bin", "manifest.json"} <= {p.name for p in (repo / "out").iterdir()}
    check = subprocess.run([str(script), "inspect", "out/", "--manifest", "out/manifest.json"], cwd=repo,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_code_map_names_every_module() -> None:
    """Every module of bundler/ (and every module of its packages) is in the README's code map, and the map names
    none that is gone: a newcomer finds each file where the map says."""
    section = README[README.index("## Code map"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = set(re.findall(r"`([A-Za-z_/]+(?:\.py)?/?)`", " ".join(row.split(" | ")[0] for row in rows)))
    package = ROOT / "bundler"
    top = {p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "cli.py")}
    top |= {p.name + "/" for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert top <= named, sorted(top - named)
    assert {n for n in named if (n.endswith(".py") or n.endswith("/"))} <= top, sorted(
        n for n in named if n not in top)
    for pkg in sorted(p for p in package.iterdir() if (p / "__init__.py").exists()):
        row = next(r for r in rows if f"`{pkg.name}/`" in r.split(" | ")[0])
        for module in sorted(m.stem for m in pkg.glob("*.py") if m.name != "__init__.py"):
            assert re.search(rf"`{module}(\.py)?`", row), f"{pkg.name}/{module}.py is not in the code map"
