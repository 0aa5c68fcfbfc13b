"""The wheel `pip wheel .` makes holds the whole tool: every module, layout, schema and line-kit file.
(.ci/run installs that wheel in a fresh venv and runs the sample from outside the clone.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out, src = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("clone")
    # from a copy of the clone's files: setuptools would reuse a stale build/ folder of the working tree
    for path in _tracked():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, src / path)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    found, = out.glob("wiced_bundle-*.whl")
    return zipfile.ZipFile(found)


def _tracked(*patterns: str) -> list[str]:
    """Files of the repository (git's view: what a clone has, plus new files not ignored) matching the patterns."""
    res = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "--", *patterns],
                         capture_output=True, text=True, check=True)
    return res.stdout.splitlines()


def test_every_layout_schema_kit_file_and_module_is_inside(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    layouts = _tracked("layouts/*.toml", "layouts/boards/*.toml")
    assert "layouts/boards/bcm943362wcd4.toml" in layouts and "layouts/chips.toml" in layouts
    for path in layouts:  # the top-level layouts/ is installed as the package bundler.layouts
        assert f"bundler/{path}" in names, path
        assert wheel.read(f"bundler/{path}") == (ROOT / path).read_bytes()
    assert "bundler/layouts/__init__.py" in names
    data = _tracked("bundler/schemas/*", "bundler/kit/*")
    assert {"bundler/schemas/manifest.schema.json", "bundler/kit/sflash_helper.elf"} <= set(data)
    modules = [p for p in _tracked("bundler/*.py") if p.endswith(".py")]
    assert "bundler/cli.py" in modules
    for path in data + modules:
        assert path in names, path
        assert wheel.read(path) == (ROOT / path).read_bytes()
    # nothing from outside the package (tests, samples, the top-level layouts/ under its own name)
    assert all(n.startswith(("bundler/", "wiced_bundle-")) for n in names), sorted(names)


def test_metadata_entry_point_and_no_test_packages(wheel: zipfile.ZipFile) -> None:
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(wheel.read(info).decode())
    import bundler

    assert meta["Version"] == bundler.__version__
    requires = meta.get_all("Requires-Dist")
    plain = [r for r in requires if "extra ==" not in r]
    for test_only in ("pytest", "hypothesis", "unicorn", "selenium", "atheris", "bincopy", "esptool"):
        assert not any(r.startswith(test_only) for r in plain), test_only
        assert any(r.startswith(test_only) for r in requires)  # in the `test` extra
    points = wheel.read(next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))).decode()
    assert "bundle = bundler.cli:main" in points


def test_an_install_without_the_layouts_package_says_to_reinstall(tmp_path: Path) -> None:
    """The package from the source tree alone (as an editable install made before setup.py mapped layouts/ in):
    one clear message, not a bare ModuleNotFoundError."""
    res = subprocess.run([sys.executable, "-S", "-c", "import bundler.layout"], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}, timeout=60)
    assert res.returncode == 1
    assert res.stderr.splitlines()[-1] == ("ImportError: bundler.layouts is not installed: this install predates the "
                                           "layouts as package data; run `pip install -e .` (or reinstall the tool) "
                                           "again")
