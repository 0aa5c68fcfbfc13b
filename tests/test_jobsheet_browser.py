"""jobsheet.html in a real browser (headless Debian chromium through selenium), screen and print media: it renders,
the SVG memory map is visible, the page loads nothing external; the one large expected checksum per chip is, for
every `--equipment` family, the number an srec_cat command written here computes; the manifest SHA-256 on the page
is `sha256sum manifest.json`; printed (Chrome's PDF, read back with poppler's pdfinfo/pdftotext) every chip is
exactly one page holding its part, file, number and sign-off block. .ci/run installs chromium, chromium-driver,
srecord and poppler-utils: a missing tool fails these tests, it does not skip them."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bundler.build import build_bundle
from bundler.jobsheet import EQUIPMENT, SIGN_OFF

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ota_demo" / "bundle.toml"
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SLOT = 0x7FFF0000

# What each family shows, per chip, written here from the sheet's sources (not read from bundler.jobsheet): the
# 32-bit byte sum or the zlib CRC-32 of the whole device range. A family that does not program a chip leaves the
# default there (CRC-32).
FAMILY_FORMS = {
    "crc32": {"mcu": "crc", "sflash": "crc"},
    "elnec": {"mcu": "sum", "sflash": "sum"},
    "dataman": {"mcu": "sum", "sflash": "sum"},
    "st-link-utility": {"mcu": "sum", "sflash": "crc"},
    "stm32cubeprogrammer": {"mcu": "sum", "sflash": "crc"},
}
FILES = {"mcu": "mcu.bin", "sflash": "sflash.bin"}


def _tools() -> None:
    missing = [t for t in ("srec_cat", "pdfinfo", "pdftotext", "sha256sum") if shutil.which(t) is None]
    if not (shutil.which("chromium") or shutil.which("chromium-browser")) or not CHROMEDRIVER.exists():
        missing.append("chromium + chromium-driver")
    assert not missing, f"install {', '.join(missing)} (bash .ci/run does)"


def _bench():
    spec = importlib.util.spec_from_file_location("screenshot_map", ROOT / "bench" / "screenshot_map.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    _tools()
    drv = _bench().chromium_driver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield drv
    finally:
        drv.quit()


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The sample built once per equipment family (and once with no --equipment: key "")."""
    root = tmp_path_factory.mktemp("families")
    outs = {}
    for family in ["", *FAMILY_FORMS]:
        out = root / (family or "default") / "out"
        build_bundle(SAMPLE, out, equipment=[family] if family else None)
        outs[family] = out
    return outs


def _srec_value(out: Path, file: str, form: str) -> str:
    """The checksum by srec_cat: inserted little-endian at SLOT, cropped to those 4 bytes, written as raw binary."""
    insert = (["-crc32-l-e", f"{SLOT:#x}"] if form == "crc" else ["-checksum-positive-l-e", f"{SLOT:#x}", "4", "1"])
    raw = subprocess.run(["srec_cat", file, "-binary", *insert, "-crop", f"{SLOT:#x}", f"{SLOT + 4:#x}",
                          "-offset", f"-{SLOT:#x}", "-o", "-", "-binary"], cwd=out, check=True,
                         capture_output=True).stdout
    assert len(raw) == 4, raw
    return f"0x{int.from_bytes(raw, 'little'):08x}"


def _open(driver, out: Path) -> None:
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})  # no emulation: screen, print when printed
    driver.get((out / "jobsheet.html").as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def _big(driver, kind: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"section.chip[data-kind='{kind}'] .expect .big").text.strip()


def test_families_under_test_are_the_sheets() -> None:
    assert set(FAMILY_FORMS) == set(EQUIPMENT)


def test_expected_checksum_per_family_is_what_srec_cat_computes(driver, builds) -> None:
    for family, out in builds.items():
        _open(driver, out)
        forms = FAMILY_FORMS.get(family) or {"mcu": "crc", "sflash": "crc"}  # default: CRC-32 of the device range
        for kind, form in forms.items():
            assert _big(driver, kind) == _srec_value(out, FILES[kind], form), (family, kind)
    # and the families really differ where they should: the byte sum is not the CRC
    _open(driver, builds["elnec"])
    elnec = _big(driver, "sflash")
    _open(driver, builds["crc32"])
    assert elnec != _big(driver, "sflash")


def test_one_number_per_chip_in_large_type(driver, builds) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, builds[""])
    body = float(driver.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)"))
    for kind in FILES:
        section = driver.find_element(By.CSS_SELECTOR, f"section.chip[data-kind='{kind}']")
        bigs = section.find_elements(By.CSS_SELECTOR, ".big")
        assert len(bigs) == 1 and bigs[0].is_displayed()
        size = float(driver.execute_script("return parseFloat(getComputedStyle(arguments[0]).fontSize)", bigs[0]))
        assert size >= 2 * body, (kind, size, body)
        # the other forms are in the table below it, the chosen number not repeated there
        others = section.find_element(By.CSS_SELECTOR, "table.others").text
        assert "CRC-32 (zlib), whole device range" not in others and "Sum32, whole device range" in others


def test_first_line_and_manifest_sha256_match_sha256sum(driver, builds) -> None:
    from selenium.webdriver.common.by import By

    out = builds[""]
    _open(driver, out)
    manifest = json.loads((out / "manifest.json").read_text())
    h1 = driver.find_element(By.TAG_NAME, "h1").text
    assert h1 == f"Programming job sheet - {manifest['name']} version {manifest['product']['version']}"
    assert driver.title == h1
    cell = driver.find_element(By.XPATH, "//td[@class='k' and .='Manifest SHA-256']/following-sibling::td").text
    digest = subprocess.run(["sha256sum", "manifest.json"], cwd=out, check=True, capture_output=True,
                            text=True).stdout.split()[0]
    assert cell.split()[0] == digest
    date = driver.find_element(By.XPATH, "//td[@class='k' and .='Date']/following-sibling::td").text
    assert date == "not recorded"


def _pdf_pages(driver, out: Path, pdf: Path) -> list[str]:
    """Print the page as Chrome does (A4, print media) and return the text of each PDF page (poppler)."""
    from selenium.webdriver.common.print_page_options import PrintOptions

    _open(driver, out)
    options = PrintOptions()
    options.page_width, options.page_height = 21.0, 29.7
    options.background = True
    pdf.write_bytes(base64.b64decode(driver.print_page(options)))
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [" ".join(subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], check=True,
                                    capture_output=True, text=True).stdout.split())
            for i in range(1, count + 1)]


def test_print_gives_one_page_per_chip(driver, builds, tmp_path: Path) -> None:
    out = builds[""]
    manifest = json.loads((out / "manifest.json").read_text())
    pages = _pdf_pages(driver, out, tmp_path / "sheet.pdf")
    assert "Programming order" in pages[0] and "Part to select" not in pages[0]
    chip_pages = [i for i, text in enumerate(pages) if "Part to select" in text]
    assert chip_pages == [1, 2], [p[:80] for p in pages]  # right after the header page, one each
    _open(driver, out)
    for i, kind in zip(chip_pages, ("sflash", "mcu")):  # programming order: SFLASH first
        text = pages[i]
        assert text.count("Part to select") == 1 and "Sign-off" in text
        for label in SIGN_OFF:
            assert label in text, (kind, label)
        assert _big(driver, kind) in text and FILES[kind] in text
        assert "Checksum forms and records" not in text.replace("checksum forms and records", "Checksum forms and records")
    sflash_part = "MX25L8006EM2I-12G" if manifest["chip"]["name"] == "MX25L8006E" else manifest["chip"]["name"]
    assert sflash_part in pages[1] and "STM32F215RGT6" in pages[2]
    assert len(pages) > 3  # the reference pages follow


def test_print_css_breaks_before_each_chip(driver, builds) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, builds[""])
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    sections = driver.find_elements(By.CSS_SELECTOR, "section.chip")
    assert len(sections) == 2
    for s in sections:
        style = driver.execute_script("const c = getComputedStyle(arguments[0]); return [c.breakBefore, c.breakInside]",
                                      s)
        assert style == ["page", "avoid"], style


def test_svg_map_is_visible_with_nonzero_size(driver, builds) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, builds[""])
    svg = driver.find_element(By.CSS_SELECTOR, "svg.memory-map")
    driver.execute_script("arguments[0].scrollIntoView(true);", svg)
    assert svg.is_displayed()
    assert svg.size["width"] > 300 and svg.size["height"] > 300
    box = driver.execute_script("const b = arguments[0].getBBox(); return [b.width, b.height];", svg)
    assert box[0] > 300 and box[1] > 300
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.memory-map g.chip")
    assert [b.get_attribute("data-kind") for b in bars] == ["mcu", "sflash"]
    assert all(b.is_displayed() for b in bars)


def test_page_text_holds_the_manifest_checksums(driver, builds) -> None:
    from selenium.webdriver.common.by import By

    out = builds[""]
    _open(driver, out)
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


def test_page_fetches_nothing(driver, builds) -> None:
    _open(driver, builds[""])
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []


def test_screenshot_of_the_map(builds, tmp_path: Path) -> None:
    _tools()
    png = tmp_path / "map.png"
    width, height = _bench().screenshot_map(builds[""] / "jobsheet.html", png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert width > 300 and height > 300
