"""Denoising gallery (MSE, PSNR per image) and the model summary table."""

from __future__ import annotations

import numpy as np
import pytest
import synthetic_run

from deepgrad.lab.plots import mse, parse_summary, plot_denoising, plot_summary, psnr, summary_rows


def test_psnr_and_mse_by_hand() -> None:
    clean = np.zeros((2, 4, 4))
    recon = clean.copy()
    recon[0] += 0.1  # MSE 0.01 -> 20 dB
    np.testing.assert_allclose(mse(clean, recon), [0.01, 0.0])
    scores = psnr(clean, recon)
    assert scores[0] == pytest.approx(20.0) and np.isinf(scores[1])
    assert psnr(clean, recon + 0.0, data_range=255.0)[0] == pytest.approx(20 * np.log10(2550))
    with pytest.raises(ValueError, match="differ in shape"):
        mse(clean, recon[:, :2])


def test_denoising_rows_and_captions() -> None:
    d = synthetic_run.denoise(n=16)
    fig = plot_denoising(d["clean"], d["noisy"], d["recon"], n=5)
    axes = np.array(fig.axes).reshape(3, 5)
    assert [axes[r, 0].get_ylabel() for r in range(3)] == ["clean", "noisy", "reconstructed"]
    for j in range(5):
        np.testing.assert_allclose(np.asarray(axes[0, j].images[0].get_array()), d["clean"][j])
        np.testing.assert_allclose(np.asarray(axes[2, j].images[0].get_array()), d["recon"][j])
        caption = axes[2, j].get_xlabel()
        assert f"MSE {mse(d['clean'][j:j + 1], d['recon'][j:j + 1])[0]:.4f}" in caption
        assert f"{psnr(d['clean'][j:j + 1], d['recon'][j:j + 1])[0]:.1f} dB" in caption
    given = plot_denoising(d["clean"], d["noisy"], d["recon"], n=2,
                           mse_values=np.array([0.5, 0.25]), psnr_values=np.array([3.0, 6.0]))
    assert np.array(given.axes).reshape(3, 2)[2, 1].get_xlabel() == "MSE 0.2500\n6.0 dB"


def test_parse_summary_of_the_model_table() -> None:
    table = parse_summary(synthetic_run.MODEL_TXT)
    assert table.header == ["Layer (type)", "Output shape", "Param #"]
    assert table.rows[0] == ["conv1 (Conv2d)", "(8, 4, 28, 28)", "40"]
    assert len(table.rows) == 5
    assert table.notes == ["Total params: 25,490", "Trainable params: 25,490"]
    fig = plot_summary(table)
    cells = fig.axes[0].tables[0].get_celld()
    assert cells[(0, 0)].get_text().get_text() == "Layer (type)"
    assert cells[(4, 2)].get_text().get_text() == "25,120"
    with pytest.raises(ValueError, match="no table"):
        plot_summary("nothing here")


def test_summary_rows_from_a_module_tree() -> None:
    nn = pytest.importorskip("deepgrad.nn")
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    table = summary_rows(model)
    assert table.header == ["layer", "type", "parameters", "count"]
    by_name = {r[0]: r for r in table.rows}
    assert by_name["0"][1] == "Linear" and by_name["0"][3] == "15"
    assert by_name["2"][3] == "8"
    assert table.notes[0] == "Total params: 23"
