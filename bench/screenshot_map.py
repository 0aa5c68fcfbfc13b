#!/usr/bin/env python3
"""Render the sample's job sheet in headless Debian chromium and save a PNG of its memory map (for the README).

    .venv/bin/python bench/screenshot_map.py            # writes docs/memory-map.png
    .venv/bin/python bench/screenshot_map.py --out x.png

Needs Debian `chromium` + `chromium-driver` (.ci/run installs them) and selenium (the `[test]` extra). The browser
runs with a throw-away profile and background networking off; the page itself fetches nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_driver(user_data_dir: str | Path, width: int = 1280, height: int = 1600):
    """A selenium WebDriver on headless Debian chromium with the given (temporary) profile folder."""
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    binary = chromium_binary()
    if binary:
        options.binary_location = binary
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--hide-scrollbars", f"--window-size={width},{height}", f"--user-data-dir={user_data_dir}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def screenshot_map(html: Path, png: Path) -> tuple[int, int]:
    """Open `html` (a jobsheet.html) and save a PNG of its SVG memory map to `png`; returns the map's size in px."""
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        driver = chromium_driver(profile)
        try:
            driver.get(Path(html).resolve().as_uri())
            svg = driver.find_element(By.CSS_SELECTOR, "svg.memory-map")
            driver.execute_script("arguments[0].scrollIntoView(true);", svg)
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(svg.screenshot_as_png)
            return svg.size["width"], svg.size["height"]
        finally:
            driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "memory-map.png")
    parser.add_argument("--config", type=Path, default=ROOT / "samples" / "ota_demo" / "bundle.toml")
    args = parser.parse_args()
    if not chromium_binary() or not Path(CHROMEDRIVER).exists():
        print("needs Debian chromium and chromium-driver (apt-get install chromium chromium-driver)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from bundler.build import build_bundle

    with tempfile.TemporaryDirectory(prefix="bundle-map-") as tmp:
        build_bundle(args.config, Path(tmp) / "out")
        width, height = screenshot_map(Path(tmp) / "out" / "jobsheet.html", args.out)
    print(f"{args.out}: memory map {width}x{height} px")
    return 0


if __name__ == "__main__":
    sys.exit(main())
