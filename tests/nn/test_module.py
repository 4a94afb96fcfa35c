"""Module semantics against PyTorch's: registration order, names, state dicts, modes, hooks."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from deepgrad.nn import Parameter


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Linear(4, 3)
        self.scale = Parameter(np.ones(3, dtype=np.float32))
        self.register_buffer("count", deepgrad.zeros(1))
        self.head = nn.Linear(3, 2)

    def forward(self, x: deepgrad.Tensor) -> deepgrad.Tensor:
        return self.head(self.conv1(x) * self.scale)


class Replacing(Block):
    """A subclass that replaces conv1 after super().__init__(): conv1 keeps its place."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Linear(4, 3, bias=False)


def test_registration_order_and_dotted_names() -> None:
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.Linear(2, 3), nn.ReLU()),
                                      block=Block()))
    names = [n for n, _ in model.named_parameters()]
    assert names == ["features.0.weight", "features.0.bias", "block.scale",
                     "block.conv1.weight", "block.conv1.bias", "block.head.weight",
                     "block.head.bias"]
    assert list(model.state_dict()) == [
        "features.0.weight", "features.0.bias", "block.scale", "block.count",
        "block.conv1.weight", "block.conv1.bias", "block.head.weight", "block.head.bias"]
    assert [n for n, _ in model.named_modules()] == [
        "", "features", "features.0", "features.1", "block", "block.conv1", "block.head"]
    assert [n for n, _ in model.named_children()] == ["features", "block"]
    assert [n for n, _ in model.named_buffers()] == ["block.count"]


def test_registration_order_matches_torch() -> None:
    torch = pytest.importorskip("torch")

    def build(nn_: object) -> object:
        class Net(nn_.Module):  # type: ignore[name-defined,misc]
            def __init__(self) -> None:
                super().__init__()
                self.b = nn_.Linear(2, 2)
                self.a = nn_.Sequential(nn_.Linear(2, 2), nn_.BatchNorm1d(2))
                self.b = nn_.Linear(2, 2, bias=False)  # reassigned: keeps its place

        return Net()

    ours, theirs = build(nn), build(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]


def test_reassignment_keeps_place() -> None:
    model = Replacing()
    assert [n for n, _ in model.named_parameters()] == [
        "scale", "conv1.weight", "head.weight", "head.bias"]
    assert [n for n, _ in model.named_children()] == ["conv1", "head"]


def test_shared_parameters_listed_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3


def test_attribute_kinds_move_between_registries() -> None:
    model = Block()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        model.scale = deepgrad.ones(3)  # a plain Tensor cannot replace a Parameter
    model.scale = None
    assert "scale" not in dict(model.named_parameters())
    model.head = None
    assert "head.weight" not in model.state_dict()
    del model.conv1
    assert not hasattr(model, "conv1")
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = model.missing


def test_assign_before_init_is_explained() -> None:
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)
            super().__init__()

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_forgotten_super_init_is_explained() -> None:
    class NoInit(nn.Module):
        def __init__(self) -> None:
            pass

        def forward(self, x: deepgrad.Tensor) -> deepgrad.Tensor:
            return x

    with pytest.raises(AttributeError, match="forget to call super"):
        NoInit()(deepgrad.ones(1))


def test_hook_order_and_prepend() -> None:
    layer = nn.Identity()
    calls: list[str] = []
    layer.register_forward_hook(lambda m, a, o: calls.append("first"))
    layer.register_forward_hook(lambda m, a, o: calls.append("prepended"), prepend=True)
    with layer.register_forward_hook(lambda m, a, o: calls.append("temporary")):
        layer(deepgrad.ones(1))
    layer(deepgrad.ones(1))
    assert calls == ["prepended", "first", "temporary", "prepended", "first"]


def test_train_eval_and_requires_grad() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    model[0].weight.requires_grad_(True)
    assert [p.requires_grad for p in model.parameters()] == [True, False]


def test_frozen_layer_gets_no_gradient() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    model(deepgrad.randn(5, 3)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[1].weight.grad is not None


def test_zero_grad_and_apply() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model(deepgrad.randn(4, 3)).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    visited: list[str] = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Linear", "Sequential"]

    def zero_linear(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    model.apply(zero_linear)
    assert not model[0].weight.data.numpy().any()


def test_state_dict_values_are_detached_views_and_load_copies_in_place() -> None:
    src, dst = Block(), Block()
    state = src.state_dict()
    assert all(isinstance(v, deepgrad.Tensor) and not v.requires_grad for v in state.values())
    assert np.shares_memory(state["conv1.weight"].numpy(), src.conv1.weight.detach().numpy())
    weight_array = dst.conv1.weight.data.numpy()
    version = dst.conv1.weight._version
    result = dst.load_state_dict({k: v.clone() if i % 2 else v.numpy().astype(np.float64)
                                  for i, (k, v) in enumerate(state.items())})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.conv1.weight.data.numpy() is weight_array  # copied into, not replaced
    assert dst.conv1.weight._version == version + 1  # an in-place change, as torch
    assert dst.conv1.weight.dtype == np.float32
    for key, value in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[key], value)


def test_load_state_dict_reports_every_problem_by_name() -> None:
    model = Block()
    state = dict(model.state_dict())
    state["head.weight"] = np.zeros((5, 3), np.float32)
    del state["conv1.bias"]
    state["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "conv1.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for head.weight" in message
    assert "(5, 3)" in message and "(2, 3)" in message
    # non-strict still refuses a shape mismatch, but accepts missing/unexpected keys
    with pytest.raises(RuntimeError, match="size mismatch for head.weight"):
        model.load_state_dict(state, strict=False)
    state["head.weight"] = np.zeros((2, 3), np.float32)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["conv1.bias"] and result.unexpected_keys == ["extra.weight"]
    assert not model.head.weight.data.numpy().any()


def test_load_state_dict_from_torch_tensors() -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    theirs(torch.randn(4, 3))  # move the running stats
    ours.load_state_dict(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())


def test_non_persistent_buffer_not_saved() -> None:
    model = nn.Module()
    model.register_buffer("kept", deepgrad.ones(2))
    model.register_buffer("scratch", deepgrad.ones(2), persistent=False)
    assert list(model.state_dict()) == ["kept"]
    assert [n for n, _ in model.named_buffers()] == ["kept", "scratch"]


def test_deepcopy_gives_independent_parameters() -> None:
    model = Block()
    clone = copy.deepcopy(model)
    assert isinstance(clone.conv1.weight, Parameter)
    assert clone.conv1.weight.data.numpy() is not model.conv1.weight.data.numpy()
    np.testing.assert_array_equal(clone.conv1.weight.data.numpy(), model.conv1.weight.data.numpy())
    with deepgrad.no_grad():
        clone.conv1.weight.fill_(0.0)
    assert model.conv1.weight.data.numpy().any()


def test_to_double_and_back() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64
    out = model(deepgrad.randn(3, 2, dtype=deepgrad.float64))
    assert out.dtype == np.float64
    model.to("cpu").float()
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_repr_like_torch() -> None:
    torch = pytest.importorskip("torch")

    def build(nn_: object) -> object:
        return nn_.Sequential(  # type: ignore[attr-defined]
            nn_.Conv2d(1, 32, 5, padding=2), nn_.ReLU(), nn_.MaxPool2d(2, 2),  # type: ignore
            nn_.Flatten(), nn_.Linear(32 * 14 * 14, 10), nn_.Dropout(p=0.5),  # type: ignore
            nn_.BatchNorm1d(10), nn_.LayerNorm(10), nn_.LeakyReLU(0.2),  # type: ignore
            nn_.Softmax(dim=1), nn_.AvgPool2d(2), nn_.Embedding(5, 3),  # type: ignore
            nn_.AdaptiveAvgPool2d((1, 1)), nn_.Conv2d(3, 6, 3, stride=2, bias=False),  # type: ignore
            nn_.Identity(), nn_.Tanh(), nn_.CrossEntropyLoss())  # type: ignore

    assert repr(build(nn)) == repr(build(torch.nn))


def test_forward_hooks_capture_and_replace() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    seen: dict[str, tuple[int, ...]] = {}
    handle = model[1].register_forward_hook(
        lambda m, args, out: seen.__setitem__("relu", out.shape))
    pre = model[0].register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = model(deepgrad.randn(5, 3))
    assert seen == {"relu": (5, 4)}
    expected = model[2](nn.functional.relu(model[0].bias.detach().reshape(1, 4) * 1))
    np.testing.assert_allclose(out.data.numpy(), np.broadcast_to(expected.data.numpy(), (5, 2)),
                               rtol=1e-6)
    handle.remove()
    pre.remove()
    assert not model[1]._has_hooks and not model[0]._has_hooks
    seen.clear()
    model(deepgrad.randn(5, 3))
    assert seen == {}


def test_full_backward_hook_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    results = {}
    for name, lib, nn_ in (("torch", torch, torch.nn), ("dg", deepgrad, nn)):
        lib.manual_seed(0)
        model = nn_.Sequential(nn_.Linear(3, 5), nn_.Tanh(), nn_.Linear(5, 2))
        if name == "dg":
            model.load_state_dict(results["torch_state"])
        captured: dict[str, object] = {}

        def hook(module: object, grad_input: tuple, grad_output: tuple,
                 captured: dict = captured) -> None:
            captured["in"] = [None if g is None else np.array(g.detach().numpy())
                              for g in grad_input]
            captured["out"] = [np.array(g.detach().numpy()) for g in grad_output]

        model[1].register_full_backward_hook(hook)
        first = model[0].register_full_backward_hook(
            lambda m, gi, go, c=captured: c.__setitem__("first_in", gi))
        xt = lib.tensor(x, requires_grad=True) if name == "dg" else \
            torch.tensor(x, requires_grad=True)
        model(xt).sum().backward()
        results[name] = captured
        if name == "torch":
            results["torch_state"] = {k: v.numpy() for k, v in model.state_dict().items()}
        first.remove()
    ours, theirs = results["dg"], results["torch"]
    np.testing.assert_allclose(ours["in"][0], theirs["in"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["out"][0], theirs["out"][0], rtol=1e-5, atol=1e-6)
    assert len(ours["first_in"]) == 1


def test_backward_hook_on_first_layer_without_input_grad() -> None:
    model = nn.Linear(3, 2)
    calls = []
    model.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go[0].shape)))
    model(deepgrad.randn(4, 3)).sum().backward()
    assert calls == [((None,), (4, 2))]


def test_backward_hook_can_replace_grad_input() -> None:
    layer = nn.Tanh()
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = deepgrad.randn(3, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None and not x.grad.data.numpy().any()


def test_tensor_register_hook_captures_activation_gradient() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    grads = []

    def watch(module: nn.Module, args: tuple, out: deepgrad.Tensor) -> None:
        out.register_hook(grads.append)

    model[1].register_forward_hook(watch)
    model(deepgrad.randn(2, 3)).sum().backward()
    assert grads[0].shape == (2, 4)


def test_layer_error_names_the_path() -> None:
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.Linear(4, 3)),
                                      fc1=nn.Linear(5, 2)))
    with pytest.raises(RuntimeError) as info:
        model(deepgrad.randn(2, 4))
    message = str(info.value)
    assert "'fc1'" in message and "5 features" in message and "(2, 3)" in message


def test_missing_forward() -> None:
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(deepgrad.ones(1))


def test_l2_penalty_reaches_the_gradients() -> None:
    """Report 001: loss + lambda * sum ||W||^2; the penalty's gradient 2*lambda*W shows up."""
    model = nn.Linear(3, 2)
    lam = 1e-3
    x = deepgrad.randn(4, 3)
    plain = (model(x) ** 2).mean()
    plain.backward()
    base = model.weight.grad.data.numpy().copy()
    model.zero_grad()
    penalty = sum((p ** 2).sum() for name, p in model.named_parameters() if "weight" in name)
    ((model(x) ** 2).mean() + lam * penalty).backward()
    np.testing.assert_allclose(model.weight.grad.data.numpy(),
                               base + 2 * lam * model.weight.data.numpy(),
                               rtol=1e-5, atol=1e-7)


def test_module_save_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model, other = Block(), Block()
    path = tmp_path / "block.safetensors"
    model.save(path)
    assert other.load(path) is other
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_get_submodule_and_parameter() -> None:
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.Linear(2, 2))))
    assert model.get_submodule("features.0") is model.features[0]
    assert model.get_parameter("features.0.bias") is model.features[0].bias
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        model.get_submodule("features.nope")
