"""Names and call forms that public tutorials use (found by running a corpus of them), each
checked against torch on the same code."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import check_op, torch_or_skip

torch = torch_or_skip()


def run_both(fn: Any) -> tuple[Any, Any]:
    return fn(deepgrad), fn(torch)


def plain(value: Any) -> Any:
    return value.detach().numpy() if hasattr(value, "detach") else value


def test_lazy_layers_take_their_size_from_the_first_batch() -> None:
    def build(lib: Any) -> Any:
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.LazyConv2d(4, 3, padding=1), lib.nn.ReLU(),
                                lib.nn.Flatten(), lib.nn.LazyLinear(5))
        opt = lib.optim.SGD(net.parameters(), lr=0.1)  # made before the parameters have a size
        x = lib.ones(2, 3, 6, 6)
        net(x).sum().backward()
        opt.step()
        return [type(m).__name__ for m in net], [tuple(p.shape) for p in net.parameters()]

    ours, theirs = run_both(build)
    assert ours == theirs


def test_lazy_linear_trains_like_linear() -> None:
    layer = deepgrad.nn.LazyLinear(1)
    opt = deepgrad.optim.SGD(layer.parameters(), lr=0.1)
    x = deepgrad.randn(64, 3)
    y = x @ deepgrad.tensor([[1.0], [-2.0], [0.5]])
    for _ in range(200):
        opt.zero_grad()
        ((layer(x) - y) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(layer.weight.detach().numpy(), [[1.0, -2.0, 0.5]], atol=1e-2)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing: str) -> None:
    check_op(lambda a, b: deepgrad.meshgrid(a, b, indexing=indexing), [(3,), (4,)],
             lambda a, b: torch.meshgrid(a, b, indexing=indexing))


def test_size_keyword_and_numpy_spellings() -> None:
    ours, theirs = run_both(lambda lib: (tuple(lib.zeros(size=(2, 3)).shape),
                                         tuple(lib.randn(size=(4,)).shape),
                                         lib.arange(6.0).reshape(2, 3).cumsum(axis=0),
                                         lib.arange(6.0).reshape(2, 3).sum(axis=1, keepdims=True)))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(plain(a), plain(b))


def test_variable_is_the_tensor() -> None:
    def use(lib: Any) -> Any:
        from_autograd = importlib.import_module(lib.__name__ + ".autograd").Variable
        x = from_autograd(lib.ones(3), requires_grad=True)
        (x * 2).sum().backward()
        return x.grad, x.requires_grad, type(x).__name__

    (g, rg, name), (tg, trg, tname) = run_both(use)
    np.testing.assert_array_equal(plain(g), plain(tg))
    assert (rg, name) == (trg, tname)


def test_utils_data_modules() -> None:
    for sub in ("utils.data", "utils.data.dataloader", "utils.data.dataset"):
        module = importlib.import_module("deepgrad." + sub)
        reference = importlib.import_module("torch." + sub)
        for name in ("DataLoader", "Dataset", "TensorDataset"):
            if hasattr(reference, name):
                assert hasattr(module, name), (sub, name)


def test_setitem_drops_leading_ones_of_the_value() -> None:
    def fill(lib: Any) -> Any:
        a = lib.zeros(3, 4)
        a[1] = lib.arange(4.0).reshape(1, 4)
        a[2, :] = lib.ones(1, 1, 4)
        return a

    ours, theirs = run_both(fill)
    np.testing.assert_array_equal(plain(ours), plain(theirs))


def test_summary_writer_takes_tensors(tmp_path: Any) -> None:
    from deepgrad.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    loss = deepgrad.tensor(0.25)
    writer.add_scalar("loss", loss, 0)
    writer.add_scalars("pair", {"a": loss, "b": 1.0}, 0)
    writer.add_histogram("w", deepgrad.randn(100), 0)
    writer.close()
    assert any(tmp_path.rglob("events.out.tfevents.*"))
    with pytest.warns(UserWarning, match="to_dot"):
        writer.add_graph(deepgrad.nn.Linear(2, 2))


def test_functions_take_out() -> None:
    def use(lib: Any) -> Any:
        a = lib.arange(4.0).reshape(2, 2)
        z = lib.empty(2, 2)
        same = lib.mul(a, a, out=z) is z
        lib.add(a, 1, out=z)
        s = lib.empty(2)
        lib.sum(a, 0, out=s)
        return same, z, s

    (same, z, s), (tsame, tz, ts) = run_both(use)
    assert same and tsame
    np.testing.assert_array_equal(plain(z), plain(tz))
    np.testing.assert_array_equal(plain(s), plain(ts))
    with pytest.raises(RuntimeError, match="out="):
        deepgrad.mul(deepgrad.ones(2, requires_grad=True), 2, out=deepgrad.empty(2))


def test_a_checkpoint_loads_into_lazy_layers() -> None:
    def round_trip(lib: Any) -> Any:
        lib.manual_seed(0)
        src = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        dst = lib.nn.Sequential(lib.nn.LazyLinear(4), lib.nn.ReLU(), lib.nn.LazyLinear(2))
        dst.load_state_dict(src.state_dict())
        x = lib.ones(1, 3)
        return [tuple(p.shape) for p in dst.parameters()], bool((dst(x) == src(x)).all())

    assert run_both(round_trip)[0] == run_both(round_trip)[1]


def test_functional_in_place_forms() -> None:
    def use(lib: Any) -> Any:
        b = lib.tensor([0.5, -1.0, 2.0])
        same = lib.sin_(b) is b and lib.relu_(b) is b
        lib.clamp_(b, max=0.3)
        return same, b, b._version

    (same, b, v), (tsame, tb, tv) = run_both(use)
    assert same and tsame and v == tv
    np.testing.assert_allclose(plain(b), plain(tb), rtol=1e-6)


def test_grad_mode_is_per_thread() -> None:
    """A no_grad block in another thread (a DataLoader worker doing x[i] = v) must not switch
    off recording here; a new thread starts with grad on, as torch's do."""
    import threading

    def check(lib: Any) -> Any:
        inside, started = threading.Event(), threading.Event()
        seen: list[bool] = []

        def worker() -> None:
            seen.append(lib.is_grad_enabled())
            with lib.no_grad():
                inside.set()
                started.wait(5)

        t = threading.Thread(target=worker)
        t.start()
        inside.wait(5)
        x = lib.ones(2, requires_grad=True)
        recorded = (x * 2).requires_grad, lib.is_grad_enabled()
        started.set()
        t.join()
        with lib.no_grad():
            other: list[bool] = []
            t2 = threading.Thread(target=lambda: other.append(lib.is_grad_enabled()))
            t2.start()
            t2.join()
        return recorded, seen, other

    ours, theirs = run_both(check)
    assert ours == theirs == ((True, True), [True], [True])
