"""torch's set_num_threads / get_num_threads: the BLAS threads, set and read back."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import pytest
from threadpoolctl import threadpool_info

import deepgrad
from helpers import torch_or_skip

torch = torch_or_skip()


@pytest.fixture
def restore_threads() -> Iterator[None]:
    before = deepgrad.get_num_threads()
    yield
    deepgrad.set_num_threads(before)


def test_set_and_get_num_threads_are_torchs_names_for_the_blas(restore_threads: None) -> None:
    assert callable(torch.set_num_threads) and callable(torch.get_num_threads)
    deepgrad.set_num_threads(3)
    assert deepgrad.get_num_threads() == 3
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {3}
    deepgrad.set_num_threads(1)
    assert deepgrad.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_num_threads_refuses_bad_counts(bad: object, restore_threads: None) -> None:
    with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
        deepgrad.set_num_threads(bad)  # type: ignore[arg-type]


def test_without_threadpoolctl_it_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_threadpoolctl(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "threadpoolctl":
            raise ImportError("No module named 'threadpoolctl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert deepgrad.get_num_threads() == 5          # what the BLAS started with
    with pytest.raises(RuntimeError, match="needs threadpoolctl.*OMP_NUM_THREADS=2"):
        deepgrad.set_num_threads(2)
