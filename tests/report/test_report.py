"""The HTML report: every section the data allows, notes for the rest, offline and alone."""

from __future__ import annotations

import argparse
import base64
import html.parser
import re
from pathlib import Path

import numpy as np
import pytest
import synthetic_run

from deepgrad.lab.report import add_report_parser, build_report, main, write_report
from deepgrad.lab.report.sections import flatten, fmt, unique_labels
from deepgrad.lab.runs import load_run

SINGLE_SECTIONS = ["overview", "curves", "model", "confusion", "gallery", "features",
                   "histograms", "boundary", "denoise"]


class Page(html.parser.HTMLParser):
    """Just enough of the page's structure to assert on."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.sections: list[str] = []
        self.scripts: list[str] = []  # the text of each executable script
        self.data_blocks = 0  # <script type="application/json">: data, never run
        self.embeds = 0
        self.urls: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"] or "")
        if tag == "section":
            self.sections.append(a.get("id") or "")
        if tag == "a":
            self.links.append(a.get("href") or "")
        if tag == "img":
            self.images.append(a.get("src") or "")
        if tag == "script":
            if a.get("type") == "application/json":
                self.data_blocks += 1
            else:
                self.scripts.append("")
                self._in_script = True
        if tag in {"link", "iframe", "object", "embed"}:
            self.embeds += 1
        for key in ("src", "href", "action", "data", "srcset"):
            if key in a:
                self.urls.append(a[key] or "")


    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def script_sources(text: str) -> list[str]:
    """The script-src sources of the page's Content-Security-Policy."""
    match = re.search(r"script-src ([^;\"]+)", text)
    assert match, "the CSP names no script-src"
    return match.group(1).split()


def section_html(text: str, sid: str) -> str:
    match = re.search(rf'<section id="{sid}".*?</section>', text, re.S)
    assert match, f"no section {sid}"
    return match.group(0)


def test_single_run_has_every_section_and_is_self_contained(run_dir: Path,
                                                            tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    path = write_report(run_dir, png_dir=figures)
    assert path == run_dir / "report.html"
    # --png: every figure of the report also saved as a PNG file (the graph as SVG too)
    names = sorted(p.name for p in figures.iterdir())
    assert "mnist-cnn-confusion-matrix.png" in names
    assert "mnist-cnn-graph.png" in names and "mnist-cnn-graph.svg" in names
    pngs = [figures / n for n in names if n.endswith(".png")]
    assert len(pngs) == 1 + 1 + 2 + 2 + 2 + 7
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    text = path.read_text()
    page = Page(text)
    assert page.sections == SINGLE_SECTIONS
    assert [link[1:] for link in page.links] == SINGLE_SECTIONS  # the table of contents
    assert len(page.ids) == len(set(page.ids))
    # one script, the page's own, allowed by its hash and by nothing broader
    import hashlib

    # data for the curves and the confusion matrix (the synthetic run has no graph trace)
    assert len(page.scripts) == 1 and page.embeds == 0 and page.data_blocks == 2
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert script_sources(text) == [f"'sha256-{digest}'"]
    assert all(u.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,", "#"))
               for u in page.urls)
    assert "http" not in " ".join(page.urls)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    for src in page.images:  # every image is a real PNG or SVG
        kind, payload = src.split(",", 1)
        data = base64.b64decode(payload)
        assert data.startswith(b"\x89PNG") if "png" in kind else b"<svg" in data
    # the figures each section should have (feature maps: the conv layers of model.txt)
    expected = {"curves": 1, "model": 1, "confusion": 2, "gallery": 2, "features": 2,
                "histograms": 7, "boundary": 0, "denoise": 0}
    for sid, count in expected.items():
        assert section_html(text, sid).count("<img") == count, sid
    assert "could not draw" not in text
    # left-out sections say why in one line
    assert "Left out: no boundary.npz" in section_html(text, "boundary")
    assert "Left out: no reconstructions" in section_html(text, "denoise")
    # the config and summary are there
    overview = section_html(text, "overview")
    assert "optimizer.lr" in overview and "84.62%" in overview  # val_accuracy, final
    assert "conv1 (Conv2d)" in section_html(text, "model")


def test_missing_files_become_notes_not_errors(tmp_path: Path) -> None:
    run = synthetic_run.write_run(tmp_path, files=())
    (run / "summary.json").unlink()
    text = build_report(run)
    for sid in ["model", "confusion", "gallery", "features", "histograms", "boundary",
                "denoise"]:
        body = section_html(text, sid)
        assert "<img" not in body and "Left out:" in body, sid
    assert "No summary.json" in text
    assert "<img" in section_html(text, "curves")
    assert "80.00%" in section_html(text, "overview")  # final metrics rebuilt from metrics.jsonl
    assert 'class="left-out"' in text  # greyed in the contents


def test_autoencoder_run_shows_denoising(tmp_path: Path) -> None:
    run = synthetic_run.write_run(tmp_path, "dae", task="autoencoder", files=("predictions",))
    text = build_report(run)
    assert section_html(text, "denoise").count("<img") == 1
    assert "not a classifier" in section_html(text, "confusion")
    assert section_html(text, "curves").count("<img") == 1


def test_a_broken_array_costs_one_figure(tmp_path: Path) -> None:
    run = synthetic_run.write_run(tmp_path, files=("histograms",))
    hist = {k: v for k, v in np.load(run / "histograms.npz").items()
            if not k.startswith(("grad/", "act/"))}
    hist["weight/conv1.weight/counts"] = hist["weight/conv1.weight/counts"][:, :5]  # mismatch
    np.savez(run / "histograms.npz", **hist)
    with pytest.warns(RuntimeWarning, match="could not draw"):
        text = build_report(run)
    body = section_html(text, "histograms")
    assert body.count("could not draw") == 1 and body.count("<img") == 1  # stats still drawn
    assert "No gradients recorded." in body


def test_comparison_highlights_differences_and_best(tmp_path: Path) -> None:
    runs = [synthetic_run.write_run(tmp_path / opt, "moons", optimizer=opt, lr=lr, seed=k,
                                    decay=decay, files=("predictions", "boundary"))
            for k, (opt, lr, decay) in enumerate([("sgd", 0.1, 0.5), ("adam", 0.01, 0.9),
                                                  ("rmsprop", 0.01, 0.7)])]
    out = tmp_path / "compare.html"
    path = write_report(runs, out)
    assert path == out
    text = out.read_text()
    page = Page(text)
    assert page.sections[:3] == ["comparison", "comparison-curves", "comparison-boundaries"]
    assert {"run1", "run2", "run3", "run1-overview", "run3-boundary"} <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))
    comparison = section_html(text, "comparison")
    for label in ("moons (sgd)", "moons (adam)", "moons (rmsprop)"):
        assert label in comparison
    # the differing config keys are highlighted; equal ones are not
    assert re.search(r'<td class="diff">optimizer.name</td>', comparison)
    assert re.search(r'<td class="diff">optimizer.lr</td>', comparison)
    assert re.search(r"<td>optimizer.momentum</td>", comparison)
    # best final value per metric: adam (decay 0.9) has the lowest losses
    row = re.search(r"<tr><td>val_loss</td>(.*?)</tr>", comparison).group(1)
    cells = re.findall(r"<td( class=\"best\")?>", row)
    assert cells == ["", ' class="best"', ""]
    assert section_html(text, "comparison-curves").count("<img") == 1
    assert section_html(text, "run2-boundary").count("<img") == 2


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run_dir = synthetic_run.write_run(tmp_path, files=("model",))
    out = tmp_path / "cli.html"
    assert main([str(run_dir), "-o", str(out)]) == 0
    assert out.exists() and f"report: {out}" in capsys.readouterr().out
    assert main([str(tmp_path / "missing")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    parser = argparse.ArgumentParser(prog="deepgrad")
    add_report_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", str(run_dir), "--png", str(tmp_path / "p"), "-o",
                              str(tmp_path / "x.html")])
    assert args.func(args) == 0
    assert (tmp_path / "x.html").exists() and any((tmp_path / "p").iterdir())


def test_helpers() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": None}) == {"a.b": 1, "a.c.d": 2,
                                                                  "e": None}
    assert fmt(0.8, "val_accuracy") == "80.00%"
    assert fmt(12.34, "wall_time") == "12.3 s"
    assert fmt(123456) == "123,456"
    assert fmt(1e-5) == "1.000e-05"
    assert fmt(None) == "—"


def test_labels_fall_back_to_folder_names(tmp_path: Path) -> None:
    a = synthetic_run.write_run(tmp_path / "a", "same")
    b = synthetic_run.write_run(tmp_path / "b", "same")
    labels = unique_labels([load_run(a), load_run(b)])
    assert len(set(labels)) == 2


def test_text_from_the_run_is_escaped(tmp_path: Path) -> None:
    import yaml

    run = synthetic_run.write_run(tmp_path, files=())
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["description"] = '<script>alert("x")</script>'
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    text = build_report(run)
    assert text.count("<script") == text.count("</script>")
    assert len(Page(text).scripts) == 1 and 'alert("x")' not in Page(text).scripts[0]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
