"""Denoising gallery (report 003): clean, noisy and reconstructed images, MSE and PSNR each."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from deepgrad.lab.plots._common import as_numpy, new_figure, show_image, styled

__all__ = ["mse", "plot_denoising", "psnr"]


def mse(clean: Any, recon: Any) -> np.ndarray:
    """Mean squared error per image (N,)."""
    a = as_numpy(clean).astype(np.float64)
    b = as_numpy(recon).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"mse: clean {tuple(a.shape)} and recon {tuple(b.shape)} differ in shape")
    return ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)


def psnr(clean: Any, recon: Any, data_range: float = 1.0) -> np.ndarray:
    """Peak signal-to-noise ratio per image in dB: ``10 log10(range^2 / MSE)``; inf when equal."""
    err = mse(clean, recon)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range**2 / err)


@styled
def plot_denoising(clean: Any, noisy: Any, recon: Any, *, n: int = 8, mse_values: Any = None,
                   psnr_values: Any = None) -> Figure:
    """Three rows — clean, noisy, reconstructed — for ``n`` images.

    Each reconstruction is captioned with its MSE and PSNR against the clean image
    (computed here when not given), and the noisy input with its own PSNR, so the
    gain of the denoiser reads off the picture.
    """
    c, z, r = as_numpy(clean), as_numpy(noisy), as_numpy(recon)
    n = min(n, len(c))
    if n == 0:
        raise ValueError("plot_denoising: no images")
    errors = as_numpy(mse_values)[:n] if mse_values is not None else mse(c[:n], r[:n])
    scores = as_numpy(psnr_values)[:n] if psnr_values is not None else psnr(c[:n], r[:n])
    noisy_scores = psnr(c[:n], z[:n])
    fig = new_figure(1.25 * n + 0.9, 4.3)
    axes = fig.subplots(3, n, squeeze=False)
    for row, (images, name) in enumerate(((c, "clean"), (z, "noisy"), (r, "reconstructed"))):
        for j in range(n):
            ax = axes[row, j]
            show_image(ax, np.clip(images[j], 0, 1), vmin=0, vmax=1)
            if row == 1:
                ax.set_xlabel(f"{noisy_scores[j]:.1f} dB", fontsize=7)
            if row == 2:
                ax.set_xlabel(f"MSE {errors[j]:.4f}\n{scores[j]:.1f} dB", fontsize=7)
        axes[row, 0].set_ylabel(name, fontsize=9)
    fig.suptitle(f"denoising — mean PSNR {np.mean(noisy_scores):.1f} dB noisy → "
                 f"{np.mean(scores):.1f} dB reconstructed", fontweight="bold")
    return fig
