"""Opening a report in headless Chromium and checking it as a reader would meet it.

Shared by the browser tests of the report: load a page, then check that every
image decodes, the console stays clean, no request leaves the file, and the
only script that runs is the page's own, allowed by its hash in the CSP.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
MOONS_OPTIMIZERS = [("sgd", 0.5), ("adam", 0.05), ("rmsprop", 0.02)]


def scripts_allowed_by_hash(driver: Any) -> int:
    """How many executable scripts the page has, after checking each is named in the CSP
    by its SHA-256 (data blocks, type=application/json, are not executable)."""
    csp = driver.execute_script(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert all(source.startswith("'sha256-") for source in directives["script-src"].split())
    code = driver.execute_script(
        "return Array.from(document.scripts).filter(s => !s.type || s.type === 'text/javascript')"
        ".map(s => [s.src, s.textContent])")
    for src, text in code:
        assert not src, f"a script loaded from {src}"
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, "an inline script the CSP does not name"
    return len(code)


def open_page(driver: Any, path: Path) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def undecoded_images(driver: Any) -> list[str]:
    """Alt texts of images that fail to decode or have no width (decode() awaited for all)."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const images = Array.from(document.images);
        Promise.all(images.map(img => img.decode().then(() => null,
                                                         () => img.alt || img.src.slice(0, 40))))
          .then(failed => done(failed.filter(x => x !== null).concat(
                images.filter(img => !(img.complete && img.naturalWidth > 0))
                      .map(img => img.alt))));
    """)


def requests_leaving_the_file(driver: Any) -> list[str]:
    """URLs the page asked for other than itself and inline data (performance log + timing)."""
    import json

    page = driver.current_url
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent" \
                and params.get("documentURL") == page:  # not the browser's own new-tab page
            urls.append(params["request"]["url"])
    urls += driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    return [u for u in urls if u != page and not u.startswith("data:")]


def remote_attributes(driver: Any) -> list[str]:
    return driver.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('[src], [href], [srcset], [action]')) {
          for (const name of ['src', 'href', 'srcset', 'action']) {
            const v = el.getAttribute(name);
            if (v && !v.startsWith('data:') && !v.startsWith('#')) out.push(name + '=' + v);
          }
        }
        return out;
    """)


def section_ids(driver: Any, css: str = "main > section") -> list[str]:
    return driver.execute_script(
        f"return Array.from(document.querySelectorAll('{css}')).map(s => s.id)")


def check_clean(driver: Any, name: str) -> None:
    assert undecoded_images(driver) == [], f"{name}: images that did not decode"
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"{name}: console errors"
    assert requests_leaving_the_file(driver) == [], f"{name}: requests left the file"
    assert remote_attributes(driver) == [], f"{name}: attributes that point elsewhere"
    assert scripts_allowed_by_hash(driver) == 1, f"{name}: one inline script, allowed by hash"
    broken_links = driver.execute_script("""
        return Array.from(document.querySelectorAll('nav a'))
          .map(a => a.getAttribute('href').slice(1))
          .filter(id => !document.getElementById(id));""")
    assert broken_links == [], f"{name}: contents entries without a section"


def screenshot(driver: Any, name: str) -> None:
    """The first screen as ``artifacts/<name>.png``, the whole page as ``<name>-full.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    import base64

    height = driver.execute_script("return document.documentElement.scrollHeight")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1400, "height": min(height, 16000), "scale": 1}})
    (ARTIFACTS / f"{name}-full.png").write_bytes(base64.b64decode(shot["data"]))


