"""Headless Chromium through Selenium, for the tests that look at a page as a reader would
(the HTML report, a model in Netron).

``headless_chromium()`` skips where Chromium, chromedriver or Selenium is missing
(``.ci/browser-deps.sh`` installs the first two), but fails under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, why: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{why} (required under CI=true)")
        pytest.skip(why)


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Chrome WebDriver on a fresh profile, logging the console and the network."""
    need(CHROMIUM.exists() and CHROMEDRIVER.exists(),
         "chromium/chromedriver not installed (run .ci/browser-deps.sh)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need(False, "selenium is not installed (pip install 'deepgrad[dev]')")

    profile = tempfile.mkdtemp(prefix="deepgrad-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions",
                 "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
