"""Shared fixtures: the sample product built once per session, and a copy of the sample to edit per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ota_demo"


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory):
    """`bundle build samples/ota_demo/bundle.toml` into a temporary folder: (out folder, Bundle)."""
    from bundler.build import build_bundle

    out = tmp_path_factory.mktemp("sample") / "out"
    return out, build_bundle(SAMPLE / "bundle.toml", out)


@pytest.fixture()
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample folder (so a test may edit bundle.toml or inputs); returns its bundle.toml."""
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE, dest)
    return dest / "bundle.toml"
