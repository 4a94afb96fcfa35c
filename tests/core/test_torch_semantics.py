"""Tensor semantics, torch against deepgrad on the same code.

Each scenario is written once as ``scenario(lib)`` and run with ``lib = torch``
and ``lib = deepgrad``. It returns what it observed (numbers, flags, exception
types and messages), and the two runs must agree: values within float
tolerance, everything else exactly. This is ``check_op`` extended from op
values to behaviour: in-place updates, views and shared memory, ``.data``,
0-d tensors, version counters and the errors torch raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import deepgrad
from helpers import torch_or_skip

Scenario = Callable[[Any], dict[str, Any]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


def observe(lib: Any, fn: Scenario) -> dict[str, Any]:
    try:
        return fn(lib)
    except Exception as exc:  # the error itself is the observation
        return {"raised": type(exc).__name__, "message": str(exc)}


def as_plain(value: Any) -> Any:
    """Tensors of either library as NumPy arrays; everything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return np.asarray(value.detach().numpy())
    return value


def err(lib: Any, fn: Callable[[], Any]) -> str | None:
    """The exception class raised by ``fn`` (None if it returned): to observe an error
    mid-scenario."""
    try:
        fn()
    except Exception as exc:
        return type(exc).__name__
    return None


def first_words(message: str, count: int = 6) -> str:
    return " ".join(re.sub(r"^[\w.]+: ", "", message).split()[:count])


# ---- the silent wrong results of the issue --------------------------------------

@scenario
def isub_in_no_grad_updates_parameters(lib: Any) -> dict[str, Any]:
    p = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    before = p
    (p * p).sum().backward()
    with lib.no_grad():
        p -= 0.1 * p.grad
    return {"p": p, "same_object": p is before, "version": p._version}


@scenario
def grads_routed_unchanged_do_not_share_memory(lib: Any) -> dict[str, Any]:
    """add sends one gradient to both inputs, reshape/clone pass it on as it is: each
    leaf's .grad must still be its own memory (a gradient is adopted without a copy only
    when nothing else refers to it)."""
    a = lib.ones(3, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    c = lib.ones(2, 3, requires_grad=True)
    (a + b + c.reshape(6)[:3]).sum().backward()
    with lib.no_grad():
        a.grad.mul_(10)
        c.grad.add_(5)
    return {"a": a.grad, "b": b.grad, "c": c.grad}


@scenario
def a_grad_kept_by_a_hook_is_not_the_leafs_grad(lib: Any) -> dict[str, Any]:
    x = lib.ones(4, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g))
    (x * 3).sum().backward()
    with lib.no_grad():
        x.grad.zero_()
    return {"seen": seen[0], "grad": x.grad}


@scenario
def root_gradient_given_by_the_user_is_not_adopted(lib: Any) -> dict[str, Any]:
    x = lib.ones(3, requires_grad=True)
    g = lib.tensor([1.0, 2.0, 3.0])
    y = x.clone()
    y.backward(g)
    with lib.no_grad():
        x.grad.mul_(0)
    return {"g": g, "grad": x.grad}


@scenario
def adopted_grads_accumulate_and_clip_in_place(lib: Any) -> dict[str, Any]:
    lin = lib.nn.Linear(4, 3)
    with lib.no_grad():
        lin.weight.copy_(lib.arange(12.0).reshape(3, 4) / 10)
        lin.bias.fill_(0.5)
    x = lib.arange(8.0).reshape(2, 4)
    for _ in range(2):
        lin(x).pow(2).sum().backward()
    total = lib.nn.utils.clip_grad_norm_(lin.parameters(), 1.0)
    return {"w": lin.weight.grad, "b": lin.bias.grad, "norm": total}


@scenario
def sgd_momentum_on_a_0d_parameter(lib: Any) -> dict[str, Any]:
    p = lib.nn.Parameter(lib.tensor(1.0))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (p * 2).backward()
        opt.step()
    return {"p": p.item(), "grad_shape": tuple(p.grad.shape), "grad_is_tensor":
            type(p.grad).__name__ == "Tensor"}


@scenario
def mul_inplace_after_forward_is_caught(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.mul_(10)
    z.backward()
    return {}


@scenario
def no_grad_update_of_a_saved_leaf_is_caught(lib: Any) -> dict[str, Any]:
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    x = lib.tensor([3.0, 4.0], requires_grad=True)
    loss = (w * x).sum()
    with lib.no_grad():
        w.add_(1.0)
    loss.backward()
    return {}


@scenario
def optimizer_step_before_backward_through_saved_weights_is_caught(lib: Any) -> dict[str, Any]:
    lib.manual_seed(0)
    layer = lib.nn.Linear(3, 1)
    out = layer(lib.ones(2, 3, requires_grad=True)).sum()
    opt = lib.optim.SGD(layer.parameters(), lr=0.1)
    out.backward(retain_graph=True)
    opt.step()
    out.backward()
    return {}


@scenario
def data_changes_are_not_tracked(lib: Any) -> dict[str, Any]:
    # torch's documented difference between .data and .detach(): .data has a version
    # counter of its own, so backward uses the new values without a word.
    x = lib.tensor([1.0, 1.0], requires_grad=True)
    w = lib.tensor([1.0, 1.0], requires_grad=True)
    y = (x * w).sum()
    w.data.mul_(5)
    y.backward()
    return {"x_grad": x.grad, "w_version": w._version}


@scenario
def detach_changes_are_tracked_so_backward_is_caught(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 1.0], requires_grad=True)
    w = lib.tensor([1.0, 1.0], requires_grad=True)
    y = (x * w).sum()
    w.detach().mul_(5)
    y.backward()
    return {}


@scenario
def integer_cast_cuts_the_graph(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.5, 2.5], requires_grad=True)
    n = (x * 3).long()
    b = (x > 2)
    f = n.float()
    return {"long_requires_grad": n.requires_grad, "bool_requires_grad": b.requires_grad,
            "float_requires_grad": f.requires_grad, "n": n, "dtype": str(n.dtype)[-5:]}


@scenario
def data_iadd_stays_a_tensor(lib: Any) -> dict[str, Any]:
    p = lib.tensor([1.0, 2.0], requires_grad=True)
    (p * 3).sum().backward()
    p.data += -0.5 * p.grad
    q = p * 2
    return {"p": p, "data_type": type(p.data).__name__, "q": q}


# ---- storage: views share memory -------------------------------------------------

@scenario
def views_share_memory(lib: Any) -> dict[str, Any]:
    x = lib.zeros(2, 3)
    x.view(-1)[0] = 1
    x.reshape(6)[1] = 2
    x.t()[2, 0] = 3
    x.transpose(0, 1)[0, 1] = 4
    x.permute(1, 0)[1, 1] = 5
    x[1][2] = 6
    x[:, 0:1].fill_(7)
    x.detach()[0, 2] += 1
    x.data[1, 1] -= 1
    x.unsqueeze(0)[0, 0, 1] *= 3
    x.flatten()[5] += 10
    return {"x": x, "version": x._version}


@scenario
def numpy_and_from_numpy_share_memory(lib: Any) -> dict[str, Any]:
    a = np.zeros(3, dtype=np.float32)
    t = lib.from_numpy(a)
    t.add_(1)
    a[0] = 5
    n = t.numpy()
    n[1] = 7
    return {"a": a.copy(), "t": t, "version": t._version}


@scenario
def data_assignment_replaces_the_storage(lib: Any) -> dict[str, Any]:
    p = lib.zeros(3, requires_grad=True)
    p.data = lib.ones(2, 2)
    return {"p": p, "shape": tuple(p.shape), "requires_grad": p.requires_grad}


@scenario
def view_of_a_transposed_tensor_refuses(lib: Any) -> dict[str, Any]:
    return {"v": lib.zeros(2, 3).t().view(-1)}


@scenario
def contiguous_then_view(lib: Any) -> dict[str, Any]:
    x = lib.arange(6.0).reshape(2, 3)
    y = x.t().contiguous().view(-1)
    return {"y": y, "x_contiguous": x.is_contiguous(), "t_contiguous": x.t().is_contiguous()}


@scenario
def version_counters(lib: Any) -> dict[str, Any]:
    x = lib.zeros(4)
    v = x[1:3]
    d = x.detach()
    counts = [x._version]
    x.add_(1)
    counts.append(x._version)
    v.mul_(2)
    counts += [x._version, v._version, d._version]
    x[0] = 3
    counts.append(x._version)
    x += 1
    counts.append(x._version)
    return {"counts": counts, "data_version": x.data._version}


# ---- in-place on graph tensors: differentiable -----------------------------------

@scenario
def setitem_on_a_graph_tensor(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[0] = 0
    y.sum().backward()
    return {"grad": x.grad, "y": y, "grad_fn": type(y.grad_fn).__name__ != "NoneType"}


@scenario
def setitem_with_a_tensor_value(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([5.0], requires_grad=True)
    y = x ** 2
    y[1:2] = w * 3
    (y * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    return {"x_grad": x.grad, "w_grad": w.grad, "y": y}


@scenario
def buffer_filled_from_a_graph(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    buf = lib.zeros(3, 2)
    for i in range(3):
        buf[i] = x * (i + 1)
    (buf ** 2).sum().backward()
    return {"grad": x.grad, "buf_requires_grad": buf.requires_grad, "buf": buf}


@scenario
def inplace_on_a_view_updates_the_base_graph(lib: Any) -> dict[str, Any]:
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    row = y[1]
    row.mul_(x[0])
    (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return {"grad": x.grad, "y": y}


@scenario
def chain_of_inplace_ops(lib: Any) -> dict[str, Any]:
    x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = x * 3
    h.add_(1).mul_(2).clamp_(min=-1.0).sub_(x, alpha=0.5)
    h += x
    h *= 2
    h.relu_()
    h.sum().backward()
    return {"grad": x.grad, "h": h}


@scenario
def iadd_on_a_graph_tensor_keeps_the_other_graph(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + 1            # made from y before the change: keeps the old history
    y += x ** 2
    (z.sum() + y.sum()).backward()
    return {"grad": x.grad}


@scenario
def masked_fill_and_index_put(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
    y = x * 2
    y.masked_fill_(x < 0, 0.0)
    z = y.clone()
    z[lib.tensor([0, 2])] = lib.tensor([10.0, 20.0])
    (y.sum() + (z * x).sum()).backward()
    return {"grad": x.grad, "y": y, "z": z}


@scenario
def inplace_on_a_leaf_that_requires_grad_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(2, requires_grad=True)
    x.add_(1)
    return {}


@scenario
def inplace_on_a_view_of_a_leaf_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(2, 2, requires_grad=True)
    x[0].add_(1)
    return {}


@scenario
def setitem_on_a_leaf_that_requires_grad_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(3, requires_grad=True)
    x[0] = 2.0
    return {}


@scenario
def inplace_on_an_expanded_tensor_refuses(lib: Any) -> dict[str, Any]:
    lib.ones(3).expand(2, 3).add_(1)
    return {}


@scenario
def inplace_integer_result_cast_refuses(lib: Any) -> dict[str, Any]:
    lib.ones(3, dtype=lib.long).add_(1.5)
    return {}


@scenario
def inplace_broadcast_to_a_bigger_shape_refuses(lib: Any) -> dict[str, Any]:
    lib.ones(3).add_(lib.ones(2, 3))
    return {}


@scenario
def inplace_ops_in_no_grad_on_leaves(lib: Any) -> dict[str, Any]:
    w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with lib.no_grad():
        w.mul_(2).add_(lib.ones(3), alpha=0.5).clamp_(-3.0, 5.0)
        w.div_(2).pow_(2)
        w.sqrt_().neg_().abs_().exp_().log_()
        w.addcmul_(lib.ones(3), lib.ones(3) * 2, value=0.1)
        w.lerp_(lib.zeros(3), 0.25)
    return {"w": w, "requires_grad": w.requires_grad, "leaf": w.is_leaf}


@scenario
def fill_zero_copy(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[:2].zero_()
    z = x * 1
    z.copy_(lib.tensor([7.0, 8.0, 9.0]))
    u = x * 3
    u.fill_(2.0)
    (y.sum() + z.sum() + (u * x).sum()).backward()
    return {"grad": x.grad, "y": y, "z": z}


@scenario
def copy_from_a_graph(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    dest = lib.zeros(3, 2)
    dest.copy_(x * x)
    dest.sum().backward()
    return {"grad": x.grad, "dest": dest}


@scenario
def retain_grad_survives_an_inplace_op(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    return {"x_grad": x.grad, "y_grad": y.grad}


# ---- 0-d tensors -------------------------------------------------------------------

@scenario
def zero_dim_everywhere(lib: Any) -> dict[str, Any]:
    s = lib.tensor(2.0, requires_grad=True)
    y = (s * s + 1).exp().log()
    y.backward()
    t = lib.ones(3).sum()
    return {"grad_shape": tuple(s.grad.shape), "y_shape": tuple(y.shape),
            "sum_shape": tuple(t.shape), "t_plus": t + 1, "grad": s.grad,
            "item": t.item(), "mean_dim": tuple(lib.ones(4).mean(0).shape),
            "indexed": tuple(lib.ones(3)[0].shape)}


@scenario
def zero_dim_inplace(lib: Any) -> dict[str, Any]:
    s = lib.tensor(1.0)
    s += 2
    s.mul_(3)
    s.sub_(lib.tensor(1.0))
    return {"s": s, "version": s._version, "shape": tuple(s.shape)}


# ---- construction and bad input --------------------------------------------------------

@scenario
def tensor_constructor_forms(lib: Any) -> dict[str, Any]:
    return {"sizes": tuple(lib.Tensor(2, 3).shape), "empty": tuple(lib.Tensor().shape),
            "float": str(lib.Tensor([1, 2]).dtype)[-7:], "values": lib.Tensor([1, 2])}


@scenario
def grad_assignment_of_a_float_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(3, requires_grad=True)
    x.grad = 0.0
    return {}


@scenario
def grad_assignment_of_another_shape_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(3, requires_grad=True)
    x.grad = lib.ones(4)
    return {}


@scenario
def tensor_of_a_string_refuses(lib: Any) -> dict[str, Any]:
    lib.tensor("abc")
    return {}


@scenario
def backward_twice_refuses(lib: Any) -> dict[str, Any]:
    x = lib.ones(2, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    y.backward()
    return {}


# ---- a torch-style custom Function -------------------------------------------------------

def _legendre(lib: Any) -> Any:
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, input: Any) -> Any:  # noqa: A002
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (input,) = ctx.saved_tensors  # noqa: A001
            return grad_output * 1.5 * (5 * input ** 2 - 1)

    return LegendrePolynomial3


def _my_relu(lib: Any) -> Any:
    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, input: Any) -> Any:  # noqa: A002
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> Any:
            (input,) = ctx.saved_tensors  # noqa: A001
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    return MyReLU


@scenario
def custom_functions_see_tensors(lib: Any) -> dict[str, Any]:
    x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = _legendre(lib).apply(x * 1) + _my_relu(lib).apply(x)
    y.sum().backward()
    return {"y": y, "grad": x.grad}


@scenario
def custom_function_input_modified_is_caught(lib: Any) -> dict[str, Any]:
    x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = x * 1
    y = _legendre(lib).apply(h)
    h.add_(1)
    y.sum().backward()
    return {}


def test_every_scenario_runs_on_torch_too() -> None:
    """A scenario torch itself cannot run would compare deepgrad with nothing."""
    torch = torch_or_skip()
    unexpected = {n: observe(torch, f) for n, f in SCENARIOS.items()}
    meant_to_raise = {n for n in SCENARIOS if n.endswith(("refuses", "is_caught"))}
    raised = {n for n, r in unexpected.items() if "raised" in r}
    assert raised == meant_to_raise, (raised ^ meant_to_raise,
                                      {n: unexpected[n] for n in raised ^ meant_to_raise})


@scenario
def inplace_activations(lib: Any) -> dict[str, Any]:
    x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    h = x * 2
    out = lib.nn.ReLU(inplace=True)(h)
    g = lib.nn.functional.leaky_relu(x * 1, 0.1, inplace=True)
    (out * 3 + g).sum().backward()
    return {"same_object": out is h, "h": h, "grad": x.grad, "version": h._version}


@scenario
def view_as_another_dtype_reinterprets_the_bytes(lib: Any) -> dict[str, Any]:
    x = lib.tensor([1.0, -2.0, 0.5])
    bits = x.view(lib.int32)
    bits[0] = 0
    halves = x.view(lib.int16)
    return {"bits": bits, "x": x, "halves_shape": tuple(halves.shape),
            "same": x.view(lib.float32).data_ptr() == x.data_ptr(), "version": x._version}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_behaviour_as_torch(name: str) -> None:
    torch = torch_or_skip()
    ours = observe(deepgrad, SCENARIOS[name])
    theirs = observe(torch, SCENARIOS[name])
    if "raised" in theirs or "raised" in ours:
        assert ours.get("raised") == theirs.get("raised"), (ours, theirs)
        # the same error, told with torch's words (deepgrad may prefix the op and add a hint)
        key = first_words(theirs["message"])
        assert key.lower() in ours["message"].lower(), (ours["message"], theirs["message"])
        return
    assert ours.keys() == theirs.keys()
    for key in theirs:
        a, b = as_plain(ours[key]), as_plain(theirs[key])
        if isinstance(b, np.ndarray) or isinstance(b, float):
            np.testing.assert_allclose(np.asarray(a, dtype=np.float64),
                                       np.asarray(b, dtype=np.float64), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}: {key}")
        else:
            assert a == b, f"{name}: {key}: deepgrad {a!r}, torch {b!r}"
