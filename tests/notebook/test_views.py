"""The notebook views (``_repr_html_``): what they show, that they stay small, and that
everything they show is escaped (a layer, a run or a sweep variant named ``<script>``)."""

from __future__ import annotations

import io
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import deepgrad as dg
from deepgrad import lab, nn
from deepgrad.lab.history import History
from deepgrad.lab.live import LiveCurves, progress_callback
from deepgrad.lab.progress import ProgressBar
from deepgrad.lab.runs import load_run
from deepgrad.lab.sweep.runner import SweepResult
from deepgrad.notebook import in_notebook, tensor_html
from deepgrad.notebook.charts import line_chart, png_data_uri
from deepgrad.notebook.tensor_view import image_planes

EVIL = '<script>alert("x")</script>'


class Tags(HTMLParser):
    """Every start tag with its attributes, from real HTML parsing."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def names(self) -> list[str]:
        return [t for t, _ in self.tags]


def assert_no_script(html: str) -> None:
    """Neither a script element nor an event-handler attribute made it through."""
    tags = Tags(html)
    assert "script" not in tags.names()
    for tag, attrs in tags.tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)


# ---- Tensor -----------------------------------------------------------------------------
def test_tensor_view_shows_shape_dtype_stats_and_counts_nan_inf() -> None:
    t = dg.tensor([[1.0, 2.0, math.nan], [math.inf, -math.inf, 3.0]])
    html = t._repr_html_()
    assert html == tensor_html(t)
    assert "shape [2, 3]" in html and "dtype float32" in html
    # statistics over the finite entries 1, 2, 3: min 1, max 3, mean 2
    cells = [c.split("<")[0] for c in html.split("<td>")[1:]]
    assert cells[:4] == ["1", "3", "2", "0.8165"]
    assert ">1<" in html and ">2<" in html  # 1 NaN, 2 Inf, shown in red
    assert html.count("color:#c00") == 2
    assert "tensor([[1., 2., nan],\n        [inf, -inf, 3.]])" in html  # as torch prints


def test_tensor_view_of_an_image_batch_shows_the_images_and_stays_small() -> None:
    images = dg.rand(64, 3, 32, 32)
    html = images._repr_html_()
    tags = Tags(html)
    imgs = [a for t, a in tags.tags if t == "img"]
    assert len(imgs) == 8 and "first 8 of 64 images" in html
    assert all(str(a["src"]).startswith("data:image/png;base64,") for a in imgs)
    assert len(html) < 40_000
    assert "tensor(" not in html  # 196,608 values are not printed


def test_big_tensor_view_is_a_histogram_and_small() -> None:
    html = dg.randn(1000, 1000)._repr_html_()
    assert 'class="deepgrad-hist"' in html and "<img" not in html
    assert len(html) < 6_000


@pytest.mark.parametrize("shape, layout", [
    ((28, 28), "hw"), ((1, 28, 28), "chw"), ((3, 32, 32), "chw"), ((5, 1, 28, 28), "nchw"),
    ((3, 5), None), ((4, 28, 28), None), ((1, 2, 512), None), ((100, 7), None), ((10,), None),
    ((1000, 1000), None), ((256, 256), "hw"),
])
def test_which_shapes_are_images(shape: tuple[int, ...], layout: str | None) -> None:
    assert image_planes(shape) == layout


def test_tensor_view_edge_cases_int_bool_scalar_empty_grad() -> None:
    for t in (dg.tensor(3), dg.tensor([True, False]), dg.zeros(0, 4), dg.arange(10)):
        html = t._repr_html_()
        assert html.startswith('<div class="deepgrad-view deepgrad-tensor"')
        assert_no_script(html)
    w = dg.randn(3, requires_grad=True)
    (w * 2).sum().backward()
    assert "requires_grad" in w._repr_html_() and "has .grad" in w._repr_html_()
    assert "grad_fn" in (w * 2)._repr_html_()
    assert "NaN" in dg.full((4,), math.nan)._repr_html_()


def test_png_is_a_real_png_with_the_scaled_pixels() -> None:
    import base64

    from PIL import Image

    image = np.array([[0.0, 0.5], [1.0, 0.25]])
    uri = png_data_uri(image)
    decoded = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert decoded.mode == "L" and decoded.size == (2, 2)
    assert np.array(decoded).tolist() == [[0, 128], [255, 64]]
    rgb = Image.open(io.BytesIO(base64.b64decode(
        png_data_uri(np.zeros((4, 5, 3))).split(",", 1)[1])))
    assert rgb.mode == "RGB" and rgb.size == (5, 4)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\).*\(2, 2, 2\)"):
        png_data_uri(np.zeros((2, 2, 2)))


# ---- Module and summary -------------------------------------------------------------------
class Sneaky(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def extra_repr(self) -> str:
        return '<img src=x onerror="alert(1)">'

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return self.fc(x)


def test_module_view_is_the_tree_with_parameter_counts() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    html = model._repr_html_()
    assert "27,090 parameters (27,090 trainable)" in html
    assert "Conv2d" in html and "kernel_size=(3, 3)" in html and ">40<" in html
    assert "27,050" in html


def test_module_view_escapes_names_and_settings() -> None:
    model = nn.Sequential()
    model.add_module(EVIL, Sneaky())
    html = model._repr_html_()
    assert_no_script(html)
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=" in html


def test_module_view_of_a_long_model_is_cut() -> None:
    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(400)])
    html = model._repr_html_()
    assert "… 281 more modules" in html  # 401 modules, 120 rows shown
    assert len(html) < 25_000
    assert "2,400 parameters" in html


def test_summary_view_has_output_shapes() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10))
    html = dg.summary(model, (1, 28, 28), verbose=0)._repr_html_()
    assert "[-1, 4, 26, 26]" in html and "[-1, 10]" in html and "27,090 parameters" in html
    evil = nn.Sequential()
    evil.add_module(EVIL, Sneaky())
    html = dg.summary(evil, (3,), verbose=0)._repr_html_()
    assert_no_script(html)
    assert "&lt;script&gt;" in html


# ---- History, Run, sweep -----------------------------------------------------------------
def _records(n: int) -> list[dict[str, float]]:
    return [{"epoch": i + 1, "step": 10 * (i + 1), "train_loss": 1.0 / (i + 1),
             "val_loss": 1.2 / (i + 1), "val_accuracy": 0.5 + 0.04 * i, "lr": 0.01,
             "time": 1.0, "samples_per_sec": 100.0} for i in range(n)]


def test_history_view_has_curves_and_final_metrics() -> None:
    history = History(_records(5))
    history.status, history.test = "completed", {"test_accuracy": 0.9}
    html = history._repr_html_()
    tags = Tags(html)
    assert tags.names().count("svg") == 3  # loss, accuracy, lr
    assert tags.names().count("polyline") == 4  # train_loss, val_loss, val_accuracy, lr
    assert "5 epochs · status completed" in html and "test_accuracy" in html
    assert "0.66" in html  # the last val_accuracy


def test_history_view_escapes_the_error_and_survives_nan_and_no_epochs() -> None:
    history = History([{"epoch": 1, "train_loss": math.nan}])
    history.status, history.error = "failed", EVIL
    html = history._repr_html_()
    assert_no_script(html)
    assert "&lt;script&gt;alert(&quot;x&quot;)" in html and "no finite values yet" in html
    assert "no epoch finished yet" in History()._repr_html_()


def test_long_history_view_stays_small() -> None:
    html = History(_records(10_000))._repr_html_()
    assert len(html) < 40_000
    points = [a["points"] for t, a in Tags(html).tags if t == "polyline"]
    assert points and all(len(str(p).split()) <= 201 for p in points)


def test_run_view_reads_a_run_folder(tmp_path: Path) -> None:
    X, y = dg.randn(64, 2), (dg.rand(64) > 0.5).long()
    model = nn.Sequential(nn.Linear(2, 2))
    h = lab.fit(model, (X, y), (X, y), loss="cross_entropy", optimizer="sgd", epochs=2,
                batch_size=16, run_dir=tmp_path / EVIL.replace("/", "_"), tensorboard=False,
                verbose=0)
    run = load_run(h.run_dir)
    html = run._repr_html_()
    assert_no_script(html)
    assert "status completed · 2 epochs" in html and "&lt;script&gt;" in html
    assert Tags(html).names().count("polyline") >= 2


def test_run_view_names_the_files_it_could_not_read(tmp_path: Path) -> None:
    X, y = dg.randn(32, 2), (dg.rand(32) > 0.5).long()
    h = lab.fit(nn.Sequential(nn.Linear(2, 2)), (X, y), loss="cross_entropy",
                optimizer="sgd", epochs=1, batch_size=16, run_dir=tmp_path / "run",
                tensorboard=False, verbose=0)
    (Path(h.run_dir) / "summary.json").write_text('{"status": "<b>broken')
    run = load_run(h.run_dir)
    html = run._repr_html_()
    assert run.problems and all(p.split(":")[0] in html for p in run.problems)
    assert 'color:#c00">' in html and "<b>broken" not in html


def test_sweep_view_escapes_variants_and_shows_mean_std(tmp_path: Path) -> None:
    summary = [{"variant": EVIL, "n": 2, "seeds": 2, "val_accuracy_mean": 0.91,
                "val_accuracy_std": 0.012},
               {"variant": "b", "n": 0, "seeds": 2, "val_accuracy_mean": None,
                "val_accuracy_std": None},
               {"variant": "c", "n": 1, "seeds": 1, "val_accuracy_mean": 0.75,
                "val_accuracy_std": 0.0}]
    result = SweepResult(tmp_path, rows=[{"status": "completed"}] * 2, summary=summary,
                         best={"number": 3, "value": 0.93, "params": {"lr": EVIL}},
                         counts={"completed": 2, "failed": 0})
    html = result._repr_html_()
    assert_no_script(html)
    assert "0.91 ± 0.012" in html and "2/2" in html and "completed 2" in html
    assert "<td>0.75</td>" in html  # one seed: no spread to show
    assert "failed" not in html and "best trial" in html
    assert repr(result).startswith("SweepResult(") and "completed=2" in repr(result)


def test_line_chart_drops_non_finite_points_and_escapes_names() -> None:
    svg = line_chart({EVIL: [1.0, math.nan, 3.0, math.inf]})
    assert_no_script(svg)
    polyline = [a for t, a in Tags(svg).tags if t == "polyline"][0]
    assert len(str(polyline["points"]).split()) == 2


# ---- outside a notebook ------------------------------------------------------------------
def test_outside_a_notebook_fit_keeps_the_text_bar() -> None:
    assert not in_notebook()
    assert isinstance(progress_callback(None), ProgressBar)
    assert isinstance(progress_callback(2), ProgressBar)


def test_show_outside_a_notebook_says_what_to_do_instead(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="deepgrad report RUN"):
        lab.show(tmp_path)


def test_inline_report_is_the_report_isolated_in_a_sandboxed_frame(tmp_path: Path) -> None:
    from deepgrad.lab.report import build_report

    X, y = dg.randn(64, 2), (dg.rand(64) > 0.5).long()
    h = lab.fit(nn.Sequential(nn.Linear(2, 2)), (X, y), loss="cross_entropy",
                optimizer="sgd", epochs=1, batch_size=16, run_dir=tmp_path / "run",
                tensorboard=False, verbose=0)
    html = lab.inline_report(h)._repr_html_()
    tags = Tags(html)
    assert tags.names() == ["iframe"]  # the report's own tags are all inside srcdoc
    attrs = tags.tags[0][1]
    # no allow-same-origin: an opaque origin; downloads for the curves' CSV button
    assert attrs["sandbox"] == "allow-scripts allow-downloads"
    expected = build_report(h.run_dir)
    def strip(text: object) -> str:  # the same page, but for the minute it was written in
        return re.sub(r"\bon \d{4}-\d{2}-\d{2} \d{2}:\d{2}\.", "on <minute>.", str(text))

    assert "on <minute>." in strip(expected)  # the footer's time was found, so only it differs
    assert strip(attrs["srcdoc"]) == strip(expected)
    with pytest.raises(ValueError, match="wrote no run folder"):
        lab.inline_report(History())
    with pytest.raises(ValueError, match="height must be an int >= 100"):
        lab.InlineReport("<p>", "t", height=5)


def test_live_curves_html_before_any_epoch() -> None:
    trainer = SimpleNamespace(epoch=0, epochs=3, batches_per_epoch=0, batch_in_epoch=0)
    html = LiveCurves().html(trainer, "starting")  # type: ignore[arg-type]
    assert "starting · epoch 0/3" in html and "<svg" not in html
