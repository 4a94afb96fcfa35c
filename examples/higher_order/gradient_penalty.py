"""A WGAN-GP critic step: the gradient penalty on a small conv net, trained through a
double backward.

WGAN-GP (Gulrajani et al., 2017) keeps the critic D 1-Lipschitz by penalising
``(||dD(x_hat)/dx_hat|| - 1)^2`` at points ``x_hat`` between real and generated
samples. The penalty is a function of a *gradient*, so training on it needs the
gradient of a gradient: ``autograd.grad(..., create_graph=True)``, then ``backward``.

The critic here is a conv net (conv2d, LeakyReLU, avg pooling, linear) on 1x8x8
images: "real" ones are noisy bright squares, "fake" ones are noise. Trained on the
penalty alone, the gradient norm at the interpolates is driven to 1; trained with the
Wasserstein term too, the critic separates real from fake while the penalty holds the
norm near 1. The first step's penalty gradients are checked against PyTorch when it is
installed (the same weights, float64).

Run:  python examples/higher_order/gradient_penalty.py [--steps 60]
"""

from __future__ import annotations

import argparse

import numpy as np

import deepgrad as dg
import deepgrad.nn as nn


def critic() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.LeakyReLU(0.2),
        nn.AvgPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(8 * 4 * 4, 1),
    )


def batches(rng: np.random.Generator, n: int) -> tuple[dg.Tensor, dg.Tensor]:
    real = rng.normal(0.0, 0.1, (n, 1, 8, 8))
    real[:, :, 2:6, 2:6] += 1.0
    fake = rng.normal(0.0, 0.5, (n, 1, 8, 8))
    return dg.tensor(real), dg.tensor(fake)


def gradient_penalty(model: nn.Module, real: dg.Tensor, fake: dg.Tensor,
                     alpha: dg.Tensor) -> tuple[dg.Tensor, dg.Tensor]:
    """``mean((||dD/dx_hat|| - 1)^2)`` and the norms, with the graph kept for backward."""
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = model(x_hat)
    (grads,) = dg.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grads.reshape(grads.shape[0], -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean(), norms


def check_against_torch(model: nn.Module, real: dg.Tensor, fake: dg.Tensor,
                        alpha: dg.Tensor) -> float | None:
    """The largest difference between deepgrad's and torch's d(penalty)/d(weights)."""
    try:
        import torch
    except ImportError:
        return None
    layers = [torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.LeakyReLU(0.2),
              torch.nn.AvgPool2d(2), torch.nn.Conv2d(4, 8, 3, padding=1),
              torch.nn.LeakyReLU(0.2), torch.nn.Flatten(), torch.nn.Linear(128, 1)]
    theirs = torch.nn.Sequential(*layers).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    model.zero_grad()
    penalty, _ = gradient_penalty(model, real, fake, alpha)
    penalty.backward()
    x_hat = torch.tensor((alpha * real + (1 - alpha) * fake).numpy(), requires_grad=True)
    (g,) = torch.autograd.grad(theirs(x_hat).sum(), x_hat, create_graph=True)
    ((g.reshape(len(g), -1).norm(2, dim=1) - 1) ** 2).mean().backward()
    diffs = []
    for p, q in zip(model.parameters(), theirs.parameters(), strict=True):
        # The output layer's bias does not reach dD/dx: its .grad stays None in both.
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            diffs.append(float(np.abs(p.grad.numpy() - q.grad.numpy()).max()))
    model.zero_grad()
    return max(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--lambda-gp", type=float, default=10.0)
    args = parser.parse_args()

    dg.manual_seed(0)
    rng = np.random.default_rng(0)
    model = critic().double()
    optimizer = dg.optim.Adam(model.parameters(), lr=2e-3, betas=(0.5, 0.9))
    real, fake = batches(rng, 16)
    alpha = dg.tensor(rng.random((16, 1, 1, 1)))
    diff = check_against_torch(model, real, fake, alpha)
    if diff is not None:
        print(f"d(penalty)/d(weights) against PyTorch: max |difference| = {diff:.1e}")
        assert diff < 1e-10
    first_norm = last_norm = gap = 0.0
    for step in range(args.steps):
        real, fake = batches(rng, 16)
        alpha = dg.tensor(rng.random((16, 1, 1, 1)))
        penalty, norms = gradient_penalty(model, real, fake, alpha)
        wasserstein = model(fake).mean() - model(real).mean()
        loss = wasserstein + args.lambda_gp * penalty
        optimizer.zero_grad()
        loss.backward()  # through the gradient: the double backward
        optimizer.step()
        gap = -float(wasserstein)
        last_norm = float(norms.mean())
        if step == 0:
            first_norm = last_norm
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step:3d}: critic gap D(real) - D(fake) = {gap:7.3f}, "
                  f"|grad D| at interpolates = {last_norm:.3f}, penalty = {float(penalty):.4f}")
    assert abs(last_norm - 1) < abs(first_norm - 1) and gap > 0, "the critic did not train"


if __name__ == "__main__":
    main()
