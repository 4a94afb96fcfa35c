"""Learning curves: the plotted lines are the logged numbers, on the right axes."""

from __future__ import annotations

import numpy as np
import pytest
import synthetic_run

from deepgrad.lab.plots import curves, plot_learning_curves, plot_lr, smooth


def _line(ax, color=None, ls=None, marker=None):
    lines = [ln for ln in ax.get_lines()
             if (ls is None or ln.get_linestyle() == ls) and (marker is None
                                                               or ln.get_marker() == marker)]
    return lines


def test_smooth_is_a_debiased_ema() -> None:
    values = np.array([1.0, 3.0, 2.0, 5.0])
    np.testing.assert_allclose(smooth(values, 0.0), values)
    np.testing.assert_allclose(smooth(np.full(5, 7.0), 0.9), 7.0)  # no pull towards 0
    w = 0.5
    ema = [0.0]
    for v in values:
        ema.append(w * ema[-1] + (1 - w) * v)
    expected = np.array(ema[1:]) / (1 - w ** np.arange(1, 5))
    np.testing.assert_allclose(smooth(values, w), expected)
    with pytest.raises(ValueError, match="weight"):
        smooth(values, 1.0)


def test_single_run_panels_lines_and_legend() -> None:
    records = synthetic_run.metrics_records(epochs=4, steps_per_epoch=10)
    fig = plot_learning_curves(records)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "learning rate"]
    loss_ax, acc_ax, lr_ax = fig.axes
    epochs = [r for r in records if r["kind"] == "epoch"]
    train = _line(loss_ax, ls="-", marker="o")[0]
    val = _line(loss_ax, ls="--")[0]
    np.testing.assert_allclose(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(train.get_ydata(), [r["train_loss"] for r in epochs])
    np.testing.assert_allclose(val.get_ydata(), [r["val_loss"] for r in epochs])
    # per-step loss on the epoch axis: step 10 of 10 per epoch sits at epoch 1.0
    steps = [r for r in records if r["kind"] == "step"]
    raw = [ln for ln in loss_ax.get_lines() if ln.get_alpha() == 0.15][0]
    np.testing.assert_allclose(raw.get_xdata(), np.arange(1, 41) / 10)
    np.testing.assert_allclose(raw.get_ydata(), [r["loss"] for r in steps])
    np.testing.assert_allclose(_line(acc_ax, ls="--")[0].get_ydata(),
                               [r["val_accuracy"] for r in epochs])
    np.testing.assert_allclose(lr_ax.get_lines()[0].get_ydata(), [r["lr"] for r in steps])
    for ax in fig.axes:
        assert ax.get_xlabel() == "epoch"
        assert ax.get_ylabel()
    legend = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend == ["train", "validation", "train, per step (smoothed)"]


def test_several_runs_overlaid_with_one_legend_naming_them() -> None:
    a = synthetic_run.metrics_records(lr=0.1)
    b = synthetic_run.metrics_records(lr=0.001, seed=1)
    fig = plot_learning_curves({"sgd": a, "adam": b})
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[:2] == ["sgd", "adam"]
    assert "validation" in texts
    loss_ax = fig.axes[0]
    colours = {ln.get_color() for ln in _line(loss_ax, ls="-", marker="o")}
    assert len(colours) == 2  # one colour per run
    lr_ax = fig.axes[-1]
    assert lr_ax.get_yscale() == "log"  # 0.1 ... 0.000125 spans decades


def test_runs_given_as_run_objects_and_steps_only(run_dir) -> None:
    from deepgrad.lab.runs import load_run

    run = load_run(run_dir)
    fig = plot_learning_curves([run])
    assert fig.axes[0].get_lines()
    steps_only = [{"kind": "step", "step": k, "loss": 1.0 / k, "lr": 0.1} for k in range(1, 6)]
    fig = plot_learning_curves(steps_only)
    assert fig.axes[0].get_xlabel() == "step"
    assert [ax.get_title() for ax in fig.axes] == ["loss", "learning rate"]
    lr_fig = plot_lr(steps_only)
    assert lr_fig.axes[0].get_title() == "learning rate"
    assert curves.metric_names(synthetic_run.metrics_records()) == ["accuracy"]
