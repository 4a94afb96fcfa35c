"""Optimizer steps flush subnormal values (weight decay's slow-BLAS trap), torch beside it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import deepgrad
from deepgrad import denormal
from helpers import torch_or_skip

torch = torch_or_skip()
TINY = np.finfo(np.float32).tiny
FLOOR = denormal.floor(np.float32)  # tiny * 2**32: what the optimizers flush below


@pytest.fixture(autouse=True)
def _restore_flush() -> Iterator[None]:
    yield
    deepgrad.set_flush_denormal(True)


def decaying_weights() -> np.ndarray:
    """Weights on the edge of the subnormal range, and normal ones, and zeros; with a
    first column of zeros and rows of the sampling stride's length, a strided sample
    would see only that column, were this not small enough to be checked in full."""
    w = np.full((32, denormal.SAMPLE_STRIDE), 1.5 * TINY, dtype=np.float32)
    w[::2] = 0.5
    w[:, 0] = 0.0
    return w


def run(lib: str, make_opt: str, steps: int) -> np.ndarray:
    """``steps`` updates with zero loss gradient: only weight decay moves the weights."""
    w0 = decaying_weights()
    if lib == "torch":
        p = torch.nn.Parameter(torch.tensor(w0))
        opt = eval(make_opt, {"optim": torch.optim, "p": p})
    else:
        p = deepgrad.nn.Parameter(deepgrad.tensor(w0))
        opt = eval(make_opt, {"optim": deepgrad.optim, "p": p})
    for _ in range(steps):
        opt.zero_grad()
        (p * 0).sum().backward()
        opt.step()
    return p.detach().numpy().copy()


# Both halve every weight per step: 1.5 * tiny is subnormal after one.
OPTIMIZERS = ["optim.SGD([p], lr=1.0, weight_decay=0.5)",
              "optim.AdamW([p], lr=1.0, weight_decay=0.5)"]


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
def test_step_flushes_subnormal_weights(make_opt: str) -> None:
    ours = run("dg", make_opt, 3)
    theirs = run("torch", make_opt, 3)
    assert not ((np.abs(ours) < FLOOR) & (ours != 0)).any()
    assert ((np.abs(theirs) < TINY) & (theirs != 0)).any()  # torch keeps them
    # Every value within the floor of torch's: the flush moves nothing else.
    assert np.abs(ours - theirs).max() < FLOOR
    kept = np.abs(theirs) >= FLOOR
    assert kept.any()
    np.testing.assert_array_equal(ours[kept], theirs[kept])


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
def test_flush_off_keeps_torchs_numbers(make_opt: str) -> None:
    assert deepgrad.set_flush_denormal(False) is True
    np.testing.assert_array_equal(run("dg", make_opt, 3), run("torch", make_opt, 3))


def test_adam_state_is_flushed_too() -> None:
    """A gradient of 1e-20 squares to a subnormal ``exp_avg_sq``: torch keeps it, deepgrad
    flushes it, and the parameters stay equal (its square root is far below eps)."""
    w = np.ones((8, 64), np.float32)
    g = np.full((8, 64), 1e-20, np.float32)
    p = deepgrad.nn.Parameter(deepgrad.tensor(w))
    tp = torch.nn.Parameter(torch.tensor(w))
    opt, topt = deepgrad.optim.Adam([p], lr=1e-3), torch.optim.Adam([tp], lr=1e-3)
    for _ in range(2):
        p.grad, tp.grad = deepgrad.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    ours, theirs = opt.state[p]["exp_avg_sq"], topt.state[tp]["exp_avg_sq"].numpy()
    assert ((theirs < TINY) & (theirs != 0)).all()
    assert (ours == 0).all()
    np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())


def test_sample_check_and_flush() -> None:
    a = np.zeros(100_000, np.float32)
    assert not denormal.has_subnormal_sample(a)
    positions = np.arange(0, a.size, denormal.SAMPLE_STRIDE)
    assert 0 < len(positions) < a.size
    outside = np.setdiff1d(np.arange(a.size), positions)[:2]
    a[outside[0]] = TINY / 8
    assert not denormal.has_subnormal_sample(a)   # a sample: not every value is looked at
    a[positions[3]] = 1e-30               # normal, but below the floor
    a[outside[1]] = -2.0
    assert denormal.has_subnormal_sample(a)
    denormal.flush_if_needed_(a)                 # a hit flushes the whole array
    assert a[positions[3]] == 0 and a[outside[0]] == 0 and a[outside[1]] == -2.0
    ints = np.ones(5, np.int64)
    denormal.flush_if_needed_(ints)      # not a float array: left alone
    assert (ints == 1).all()
