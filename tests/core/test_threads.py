"""Intra-op threads: torch's set/get_num_threads, and every threaded pass giving the very
numbers of the one-thread pass (they split memory, never a sum)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

import deepgrad
from deepgrad import nn, threads
from helpers import torch_or_skip

torch = torch_or_skip()


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = deepgrad.get_num_threads()
    yield
    deepgrad.set_num_threads(before)


def test_set_and_get_num_threads_match_torch_names(restore_threads: None) -> None:
    deepgrad.set_num_threads(3)
    assert deepgrad.get_num_threads() == 3
    assert hasattr(torch, "set_num_threads") and hasattr(torch, "get_num_threads")
    from threadpoolctl import threadpool_info

    assert all(i["num_threads"] == 3 for i in threadpool_info() if i["user_api"] == "blas")


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_threads_refuses_bad_counts(bad: object, restore_threads: None) -> None:
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        deepgrad.set_num_threads(bad)  # type: ignore[arg-type]


def test_parts_cover_the_axis_once(monkeypatch: pytest.MonkeyPatch,
                                   restore_threads: None) -> None:
    deepgrad.set_num_threads(3)
    assert threads.parts(10, threads.MIN_ELEMENTS) == [slice(0, 3), slice(3, 6), slice(6, 10)]
    assert threads.parts(10, threads.MIN_ELEMENTS - 1) == [slice(None)]   # too small
    assert threads.parts(2, threads.MIN_ELEMENTS) == [slice(0, 1), slice(1, 2)]
    deepgrad.set_num_threads(1)
    assert threads.parts(10, 10**9) == [slice(None)]


def test_an_error_in_a_part_is_raised_after_all_parts(restore_threads: None) -> None:
    deepgrad.set_num_threads(2)
    done: list[int] = []

    def work(part: slice) -> None:
        if part.start:
            raise RuntimeError("second part failed")
        done.append(0)

    with pytest.raises(RuntimeError, match="second part failed"):
        threads.run(work, 4, threads.MIN_ELEMENTS)
    assert done == [0]


def _cnn() -> nn.Module:
    """Every threaded pass: narrow channels-first first layer, channels-last im2col with
    groups, Winograd 3x3 and 5x5, ReLU, ELU, SELU, max and average pooling (tiling and
    overlapping)."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),                  # 20 -> 16 -> 8
        nn.Conv2d(6, 16, 3, padding=1, groups=2), nn.ELU(0.7),
        nn.Conv2d(16, 16, 3, padding=1), nn.SELU(), nn.MaxPool2d(3, 1, 1),
        nn.Conv2d(16, 24, 5, padding=2), nn.ReLU(), nn.AvgPool2d(2),      # 8 -> 4
        nn.Conv2d(24, 12, 1), nn.Flatten(), nn.Linear(12 * 16, 10))


def _step(threads_count: int) -> tuple[np.ndarray, list[np.ndarray]]:
    deepgrad.set_num_threads(threads_count)
    deepgrad.manual_seed(0)
    model = _cnn()
    x = deepgrad.tensor(np.random.default_rng(1).standard_normal((6, 3, 20, 20))
                        .astype(np.float32), requires_grad=True)
    out = model(x)
    out.square().sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    assert x.grad is not None
    return out.detach().numpy().copy(), [x.grad.numpy().copy(), *grads]


def test_threaded_passes_give_the_one_thread_numbers(monkeypatch: pytest.MonkeyPatch,
                                                      restore_threads: None) -> None:
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)   # thread every pass, however small
    used: list[int] = []
    run = threads.run
    monkeypatch.setattr(threads, "run", lambda work, extent, size: (
        used.append(len(threads.parts(extent, size))), run(work, extent, size))[-1])
    one_out, one_grads = _step(1)
    assert set(used) == {1}
    used.clear()
    three_out, three_grads = _step(3)
    assert max(used) == 3
    np.testing.assert_array_equal(one_out, three_out)
    for a, b in zip(one_grads, three_grads, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                    reason="fork is POSIX (and unsafe with macOS frameworks)")
def test_a_forked_child_starts_its_own_pool(monkeypatch: pytest.MonkeyPatch,
                                            restore_threads: None) -> None:
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    deepgrad.set_num_threads(2)
    x = deepgrad.randn(4, 8)
    deepgrad.relu(x)                      # the parent's pool is running
    pid = os.fork()
    if pid == 0:                          # child: would hang on the parent's dead threads
        ok = bool((deepgrad.relu(x).numpy() == np.maximum(x.numpy(), 0)).all())
        os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.WEXITSTATUS(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("the forked child hung on the parent's thread pool")


def _adam_steps(threads_count: int) -> np.ndarray:
    deepgrad.set_num_threads(threads_count)
    rng = np.random.default_rng(0)
    weight = deepgrad.tensor(rng.standard_normal((700, 1000)).astype(np.float32),
                             requires_grad=True)          # 21 blocks: threaded in parts
    optimizer = deepgrad.optim.Adam([weight], lr=1e-2, weight_decay=1e-3, amsgrad=True)
    for _ in range(3):
        weight.grad = deepgrad.tensor(rng.standard_normal((700, 1000)).astype(np.float32))
        optimizer.step()
    return weight.detach().numpy().copy()


def test_threaded_adam_gives_the_one_thread_numbers(restore_threads: None) -> None:
    np.testing.assert_array_equal(_adam_steps(1), _adam_steps(3))
