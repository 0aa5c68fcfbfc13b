"""jobsheet.html in a real browser (headless Debian chromium through selenium): it renders, the SVG memory map is
visible with a non-zero size, the page text holds the manifest's checksums, and the page loads nothing external."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytest.importorskip("selenium")
pytestmark = pytest.mark.skipif(
    not (shutil.which("chromium") or shutil.which("chromium-browser")) or not CHROMEDRIVER.exists(),
    reason="needs Debian chromium + chromium-driver (.ci/run installs them)")


def _bench():
    spec = importlib.util.spec_from_file_location("screenshot_map", ROOT / "bench" / "screenshot_map.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(sample_build, tmp_path_factory):
    from selenium.webdriver.common.by import By

    out, _ = sample_build
    bench = _bench()
    driver = bench.chromium_driver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        driver.get((out / "jobsheet.html").as_uri())
        yield driver, By, out
    finally:
        driver.quit()


def test_page_renders_with_the_title(page) -> None:
    driver, By, out = page
    manifest = json.loads((out / "manifest.json").read_text())
    assert driver.title == f"Programming job sheet - {manifest['name']}"
    assert driver.execute_script("return document.readyState") == "complete"
    assert len(driver.find_elements(By.TAG_NAME, "table")) >= 8


def test_svg_map_is_visible_with_nonzero_size(page) -> None:
    driver, By, _ = page
    svg = driver.find_element(By.CSS_SELECTOR, "svg.memory-map")
    driver.execute_script("arguments[0].scrollIntoView(true);", svg)
    assert svg.is_displayed()
    assert svg.size["width"] > 300 and svg.size["height"] > 300
    box = driver.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height];", svg)
    assert box[0] > 300 and box[1] > 300
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.memory-map g.chip")
    assert [b.get_attribute("data-kind") for b in bars] == ["mcu", "sflash"]
    assert all(b.is_displayed() for b in bars)


def test_page_text_holds_the_manifest_checksums(page) -> None:
    driver, By, out = page
    manifest = json.loads((out / "manifest.json").read_text())
    text = driver.find_element(By.TAG_NAME, "body").text
    for art in manifest["artefacts"]:
        assert art["crc32"] in text, art["file"]
        assert art["sha256"] in text.replace("\n", ""), art["file"]
        if art["format"] == "bin":
            assert art["sum32"] in text, art["file"]
        for region in art["regions"]:
            assert region["crc32"] in text
    assert "verify on your equipment" in text


def test_page_fetches_nothing(page) -> None:
    driver, _, _ = page
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []


def test_screenshot_of_the_map(sample_build, tmp_path: Path) -> None:
    out, _ = sample_build
    png = tmp_path / "map.png"
    width, height = _bench().screenshot_map(out / "jobsheet.html", png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert width > 300 and height > 300
