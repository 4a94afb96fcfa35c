"""Reports of real short training runs, opened in headless Chromium through Selenium.

One MNIST CNN trained briefly on the embedded sample, and three optimizers on two
moons: each report must show every expected section, decode every image, log
no console error and make no request that leaves the file. Screenshots go to
``artifacts/`` (``report.png``, ``report-compare.png``, full pages beside them).

Skips where Chromium or chromedriver is missing (``.ci/browser-deps.sh`` installs
them), but fails under ``CI=true``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import headless_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# what the MNIST CNN report shows; the sections its data lacks stay, as a one-line note
MNIST_SECTIONS = ["overview", "curves", "model", "confusion", "gallery", "features",
                  "histograms", "boundary", "denoise"]
MNIST_LEFT_OUT = {"boundary", "denoise"}
RUN_SECTIONS = ["overview", "curves", "model", "confusion", "gallery", "features",
                "histograms", "boundary", "denoise"]
MOONS_OPTIMIZERS = [("sgd", 0.5), ("adam", 0.05), ("rmsprop", 0.02)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Train the runs (about 4 s of CPU) and write their reports (about 10 s)."""
    from deepgrad.lab.experiment import train
    from deepgrad.lab.report import write_report

    root = tmp_path_factory.mktemp("browser")
    quiet = ["logging.tensorboard=false", "logging.progress=false",
             "logging.checkpoint_every=0", f"logging.out={root / 'runs'}"]
    mnist = train("mnist-cnn", overrides=[
        "epochs=2", "model.channels=[6, 12]", "model.hidden=32", "batch_size=64",
        "data.subset=640", "data.val_split=128", "data.test_subset=256", *quiet])
    moons = [train("moons-net", overrides=[  # no histograms: the MNIST run has them
        "epochs=12", "model.hidden=8", f"optimizer.name={name}", f"optimizer.lr={lr}",
        "data.options={n_samples: 300, noise: 0.2, n_test: 200}",
        "logging.histograms_every=0", *quiet])
        for name, lr in MOONS_OPTIMIZERS]
    return {"single": write_report(mnist, root / "mnist.html"),
            "compare": write_report(moons, root / "moons.html"),
            "mnist_run": mnist}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    with headless_chromium() as browser:
        yield browser


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
    assert driver.execute_script("return document.scripts.length") == 0
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


def test_reports_open_cleanly_in_chromium(driver: Any, reports: dict[str, Path]) -> None:
    # one run: a short MNIST CNN run on the embedded sample
    open_page(driver, reports["single"])
    assert section_ids(driver) == MNIST_SECTIONS
    check_clean(driver, "mnist report")
    for sid in MNIST_SECTIONS:
        images = driver.execute_script(
            f"return document.querySelectorAll('#{sid} img').length")
        note = driver.execute_script(
            f"return document.querySelectorAll('#{sid} > p.left-out').length")
        if sid in MNIST_LEFT_OUT:
            assert images == 0 and note == 1, sid
        elif sid != "overview":
            assert images >= 1 and note == 0, sid
    assert driver.execute_script("return document.querySelectorAll('#overview table').length") == 2
    config = driver.execute_script("return document.querySelector('#overview dl.kv').innerText")
    assert "optimizer.name" in config and "adam" in config
    graph = driver.execute_script(
        "return document.querySelector('#model img[src^=\"data:image/svg\"]').naturalWidth")
    assert graph > 100
    screenshot(driver, "report")

    # three optimizers on two moons: the comparison
    open_page(driver, reports["compare"])
    assert section_ids(driver) == ["comparison", "comparison-curves", "comparison-boundaries",
                                   "run1", "run2", "run3"]
    for k in (1, 2, 3):
        assert section_ids(driver, f"#run{k} > section") == [f"run{k}-{s}" for s in RUN_SECTIONS]
        boundary = driver.execute_script(
            f"return document.querySelectorAll('#run{k}-boundary img').length")
        assert boundary == 2
    check_clean(driver, "moons comparison")
    header = driver.execute_script(
        "return Array.from(document.querySelectorAll('#comparison table')[0]"
        ".querySelectorAll('th')).map(th => th.textContent)")
    assert header[1:] == [f"moons-net ({name})" for name, _ in MOONS_OPTIMIZERS]
    differing = driver.execute_script(
        "return Array.from(document.querySelectorAll('#comparison td.diff:first-child'))"
        ".map(td => td.textContent)")
    assert "optimizer.name" in differing and "optimizer.lr" in differing
    assert driver.execute_script("return document.querySelectorAll('#comparison td.best').length")
    screenshot(driver, "report-compare")
