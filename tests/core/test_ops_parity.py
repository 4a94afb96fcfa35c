"""Every differentiable core op: float64 gradcheck and float32 parity with torch, one line each."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
tF = torch.nn.functional


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((2, 3, 4), (3, 1)),
     ((2, 1, 4), (3, 1)), ((3, 4), ()), ((), (2, 3))],
    ids=["same", "row", "column", "3d", "both", "scalar-b", "scalar-a"],
)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_broadcasting(op: str, shape_a: tuple, shape_b: tuple) -> None:
    fns = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "maximum": lambda a, b: deepgrad.maximum(a, b),
        "minimum": lambda a, b: deepgrad.minimum(a, b),
    }
    tfns = {"maximum": torch.maximum, "minimum": torch.minimum}
    check_op(fns[op], [shape_a, shape_b], tfns.get(op, fns[op]), positive=(op == "div"))


def test_scalar_operands() -> None:
    check_op(lambda a: 2.5 * a - 1 + a / 3 - 2 / (a + 5), [(3, 4)], positive=True)


def test_pow_scalar() -> None:
    check_op(lambda a: a**3 + a**2 + a**0.5, [(3, 4)], positive=True)


def test_pow_tensor() -> None:
    check_op(lambda a, b: a**b, [(3, 4), (4,)], positive=True)


def test_rpow() -> None:
    check_op(lambda a: 2.0**a, [(5,)])


@pytest.mark.parametrize("name", ["neg", "abs", "exp", "log", "sqrt", "sin", "cos", "tanh",
                                  "sigmoid", "relu"])
def test_unary(name: str) -> None:
    positive = name in ("log", "sqrt")
    check_op(lambda a: getattr(a, name)() if hasattr(a, name) else getattr(deepgrad, name)(a),
             [(4, 5)], lambda a: getattr(torch, name)(a), positive=positive)


@pytest.mark.parametrize("name,kwargs", [
    ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 1.3}),
    ("selu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 1.5}), ("hardtanh", {"min_val": -0.5, "max_val": 1.0}),
])
def test_activations(name: str, kwargs: dict) -> None:
    from deepgrad.ops import activation

    check_op(lambda a: getattr(activation, name)(a, **kwargs), [(4, 6)],
             lambda a: getattr(tF, name)(a, **kwargs), low=-3, high=3)


def test_clamp() -> None:
    check_op(lambda a: a.clamp(-0.5, 0.7), [(4, 5)], lambda a: a.clamp(-0.5, 0.7))
    check_op(lambda a: deepgrad.clamp(a, min=0.1), [(4, 5)], lambda a: torch.clamp(a, min=0.1))


def test_where() -> None:
    cond = np.random.default_rng(1).random((3, 4)) > 0.5
    check_op(lambda a, b: deepgrad.where(deepgrad.tensor(cond), a, b), [(3, 4), (4,)],
             lambda a, b: torch.where(torch.from_numpy(cond), a, b))


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 2), False),
                                         (-1, True)])
@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "logsumexp", "amax", "amin"])
def test_reductions(op: str, dim, keepdim: bool) -> None:
    if op == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    if op in ("var", "std", "amax", "amin", "logsumexp") or dim is not None:
        check_op(lambda a: getattr(a, op)(dim=dim, keepdim=keepdim), [(3, 4, 5)],
                 lambda a: getattr(torch, op)(a, dim=dim if dim is not None else
                                              tuple(range(a.ndim)), keepdim=keepdim))
    else:
        check_op(lambda a: getattr(a, op)(), [(3, 4, 5)])


def test_max_min_full_and_dim() -> None:
    x = np.random.default_rng(2).permutation(60).reshape(3, 4, 5).astype(np.float64) / 10
    check_op(lambda a: a.max(), [x])
    check_op(lambda a: a.min(), [x])
    check_op(lambda a: a.max(dim=1)[0], [x], lambda a: a.max(dim=1).values)
    check_op(lambda a: a.min(dim=-1, keepdim=True)[0], [x],
             lambda a: a.min(dim=-1, keepdim=True).values)
    dg_idx = deepgrad.tensor(x).max(dim=1)[1].numpy()
    np.testing.assert_array_equal(dg_idx, torch.from_numpy(x).max(dim=1).indices.numpy())


def test_argmax_argmin() -> None:
    x = np.random.default_rng(3).standard_normal((4, 6)).astype(np.float32)
    np.testing.assert_array_equal(deepgrad.tensor(x).argmax(dim=1).numpy(),
                                  torch.from_numpy(x).argmax(dim=1).numpy())
    assert deepgrad.tensor(x).argmin().item() == torch.from_numpy(x).argmin().item()


@pytest.mark.parametrize(("shape_a", "shape_b"), [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                                                  ((2, 3, 4), (2, 4, 5)), ((4,), (4, 5)),
                                                  ((3, 4), (4,)), ((4,), (4,)),
                                                  ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(shape_a: tuple, shape_b: tuple) -> None:
    check_op(lambda a, b: a @ b, [shape_a, shape_b])


def test_linear_fused() -> None:
    from deepgrad.ops.linalg import linear

    check_op(lambda x, w, b: linear(x, w, b), [(5, 4), (3, 4), (3,)], tF.linear)
    check_op(lambda x, w: linear(x, w), [(2, 5, 4), (3, 4)], tF.linear)


def test_shape_ops() -> None:
    check_op(lambda a: a.reshape(4, 6) * 1.5, [(2, 3, 4)])
    check_op(lambda a: a.view(-1, 2) * 1.5, [(2, 3, 4)])
    check_op(lambda a: a.permute(2, 0, 1) * 1.5, [(2, 3, 4)])
    check_op(lambda a: a.transpose(0, 2) * 1.5, [(2, 3, 4)])
    check_op(lambda a: a.T * 1.5, [(3, 4)])
    check_op(lambda a: a.unsqueeze(1).squeeze() * 1.5, [(3, 4)])
    check_op(lambda a: a.squeeze(1) * 1.5, [(3, 1, 4)])
    check_op(lambda a: a.expand(2, 3, 4) * 1.5, [(3, 1)])
    check_op(lambda a: a.repeat(2, 1, 3) * 1.5, [(3, 2)])
    check_op(lambda a: a.flatten(1) * 1.5, [(2, 3, 4)])
    check_op(lambda a: a.unflatten(1, (2, 2)) * 1.5, [(3, 4)])
    check_op(lambda a: deepgrad.flatten(a, 1) * 1.5, [(2, 3, 4)],
             lambda a: torch.flatten(a, 1) * 1.5)


@pytest.mark.parametrize("index", [
    1, -1, slice(1, 3), (slice(None), 2), (slice(None, None, 2), slice(1, None)),
    (None, 1), (Ellipsis, 0), np.array([0, 2, 2, 1]), (np.array([0, 1]), np.array([2, 2])),
], ids=["int", "neg", "slice", "col", "step", "none", "ellipsis", "dup-array", "pairs"])
def test_indexing(index) -> None:
    check_op(lambda a: a[index] * 1.5, [(3, 4)],
             lambda a: a[torch.from_numpy(index) if isinstance(index, np.ndarray) else
                         tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i
                               for i in index) if isinstance(index, tuple) else index] * 1.5)


def test_boolean_mask_index() -> None:
    mask = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])
    check_op(lambda a: a[deepgrad.tensor(mask)] * 2, [(3, 4)],
             lambda a: a[torch.from_numpy(mask)] * 2)


def test_cat_stack_split_chunk() -> None:
    check_op(lambda a, b: deepgrad.cat([a, b], dim=1), [(2, 3), (2, 5)],
             lambda a, b: torch.cat([a, b], dim=1))
    check_op(lambda a, b: deepgrad.stack([a, b], dim=1), [(2, 3), (2, 3)],
             lambda a, b: torch.stack([a, b], dim=1))
    check_op(lambda a: a.split(2, dim=1), [(2, 5)], lambda a: a.split(2, dim=1))
    check_op(lambda a: a.split([1, 4], dim=1), [(2, 5)], lambda a: a.split([1, 4], dim=1))
    check_op(lambda a: a.chunk(3, dim=0), [(7, 2)], lambda a: a.chunk(3, dim=0))


def test_pad() -> None:
    from deepgrad.ops.shape import pad

    check_op(lambda a: pad(a, (1, 2)) * 1.5, [(2, 3)], lambda a: tF.pad(a, (1, 2)) * 1.5)
    check_op(lambda a: pad(a, (1, 0, 2, 1), value=0.5), [(2, 2, 3)],
             lambda a: tF.pad(a, (1, 0, 2, 1), value=0.5))


def test_cast_and_clone_keep_gradient() -> None:
    check_op(lambda a: (a.double() * 2).to(a.dtype).clone(), [(3,)])
