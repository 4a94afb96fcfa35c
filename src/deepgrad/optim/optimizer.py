"""Optimizer: the base every update rule shares.

An optimizer holds ``param_groups`` (dicts with ``"params"`` and that group's
hyperparameters) and a per-parameter ``state`` (step counts, running averages).
Subclasses only write ``_update``: one parameter's in-place NumPy update. The
rest, shaped like ``torch.optim.Optimizer``, lives here: grouping and checking
parameters, ``zero_grad``, and a ``state_dict`` that restores a run bit for bit.

Updates run on raw arrays (``p._array``) with ufuncs writing into preallocated
buffers (``out=``): no graph is recorded and the hot path allocates nothing.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from deepgrad import autograd, denormal
from deepgrad.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks a hyperparameter that has no default and must be given per group."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of the optimizers: ``step``, ``zero_grad``, groups and checkpoints.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts
    (``{"params": [...], "lr": ...}``) that form separate parameter groups whose
    missing hyperparameters fall back to ``defaults``.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[Tensor, list[Any]] = {}
        self._opt_called = False  # read by lr schedulers to warn about the call order
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, but got a single "
                f"Tensor of shape {tuple(params.shape)}; wrap it in a list")
        if isinstance(params, (set, frozenset)):
            raise TypeError(self._set_message())
        groups: list[Any] = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters() "
                             "of a model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---- parameter groups ---------------------------------------------------
    def _set_message(self) -> str:
        return (f"{type(self).__name__}: parameters must be given in an ordered collection "
                "(a list), not a set: the order of a set changes between runs, and "
                "state_dict() relies on it")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. when unfreezing
        layers during fine-tuning); missing hyperparameters take the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, "
                            f"but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: param_group has no 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(self._set_message())
        else:
            params = list(params)
        if len(params) == 0:
            raise ValueError(f"{name}: got an empty parameter list in param group "
                             f"{len(self.param_groups)}")
        tensors: list[Any] = []
        names: list[str] = []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: all parameters of a group must be named "
                             "(name, tensor) pairs, or none of them")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but params[{i}] of group "
                                f"{len(self.param_groups)} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (params[{i}] of "
                                 f"group {len(self.param_groups)} was computed by "
                                 f"{p.grad_fn!r}); optimize the leaves it was made from")
            if p.dtype.kind not in "fc":
                raise TypeError(f"{name} can only optimize floating point Tensors, but "
                                f"params[{i}] has dtype {p.dtype}")
        if len({id(p) for p in tensors}) != len(tensors):
            raise ValueError(f"{name}: a parameter appears twice in param group "
                             f"{len(self.param_groups)}; it would be updated twice per step")
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for group_other in self.param_groups:
            if ("param_names" in group_other) != ("param_names" in group):
                raise ValueError(f"{name}: all param groups must be with names or all "
                                 "without names")
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: param group didn't specify a value of the "
                                 f"required hyperparameter {key!r}")
            group.setdefault(key, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in tensors):
            raise ValueError(f"{name}: some parameters appear in more than one parameter "
                             "group; each parameter may belong to one group only")
        self._validate_group(group)
        for p in tensors:
            if not p._array.flags.writeable:  # e.g. a broadcast view: give it its own memory
                p._array = p._array.copy()
        self.param_groups.append(group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check a group's hyperparameters; subclasses call the ``_check_*`` helpers."""

    def _check(self, ok: bool, key: str, value: Any, expected: str) -> None:
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {key} value {value!r} "
                             f"(expected {expected})")

    def _check_number(self, group: dict[str, Any], key: str, low: float = 0.0,
                      high: float | None = None, high_open: bool = False) -> None:
        """``group[key]`` must be a real number in [low, high] (or [low, high))."""
        given = group[key]
        if isinstance(given, bool) or not isinstance(given, numbers.Real) \
                or math.isnan(float(given)):
            raise TypeError(f"{type(self).__name__}: {key} must be a real number, "
                            f"got {given!r}")
        value = float(given)
        if high is None:
            self._check(value >= low, key, given, f">= {low}")
        elif high_open:
            self._check(low <= value < high, key, given, f"in [{low}, {high})")
        else:
            self._check(low <= value <= high, key, given, f"in [{low}, {high}]")

    def _check_betas(self, group: dict[str, Any]) -> None:
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), "
                             f"got {betas!r}")
        for i, b in enumerate(betas):
            if isinstance(b, bool) or not isinstance(b, numbers.Real) \
                    or not 0.0 <= float(b) < 1.0:
                raise ValueError(f"{type(self).__name__}: invalid beta parameter at index "
                                 f"{i}: {b!r} (expected in [0, 1))")
        group["betas"] = tuple(betas)

    # ---- the update -----------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: drop them (``None``, the default, as torch) or fill zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    grad = p.grad
                    if grad.grad_fn is not None:
                        p.grad = grad = grad.detach()
                    if grad._array.flags.writeable:
                        grad._array.fill(0)
                    else:
                        grad._array = np.zeros_like(grad._array)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` re-evaluates the loss
        (with gradients enabled) and its value is returned."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        self._opt_called = True
        for group in self.param_groups:
            for p in group["params"]:
                grad_tensor = p._grad
                if grad_tensor is None:
                    continue
                grad = grad_tensor._array
                param = p._array
                if grad.shape != param.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: gradient shape {tuple(grad.shape)} does "
                        f"not match parameter shape {tuple(param.shape)}")
                if grad.dtype != param.dtype:
                    grad = grad.astype(param.dtype)
                if not param.flags.writeable:
                    p._array = param = param.copy()
                state = self.state[p]
                self._update(p, param, grad, state, group)
                if denormal.ENABLED:  # subnormal weights make BLAS ~170x slower
                    denormal.flush_if_needed_(p._array)
                    for value in state.values():
                        denormal.flush_if_needed_(value)
                p._version_counter.value += 1  # an in-place change, as torch: a saved graph sees it
        return loss

    def _update(self, p: Tensor, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        """Update ``param`` (= ``p._array``) in place from ``grad``; subclasses implement it."""
        raise NotImplementedError

    def _buffers(self, p: Tensor, n: int) -> list[Any]:
        """``n`` scratch arrays shaped like ``p``, kept between steps (never in state_dict)
        so that an update allocates nothing."""
        bufs = self._scratch.get(p)
        data = p._array
        if bufs is None or len(bufs) < n or bufs[0].shape != data.shape \
                or bufs[0].dtype != data.dtype:
            bufs = [np.empty_like(data) for _ in range(n)]
            self._scratch[p] = bufs
        return bufs

    @staticmethod
    def _direction(param: Any, grad: Any, weight_decay: float, maximize: bool, out: Any) -> Any:
        """The gradient the rule sees: ``±grad + weight_decay * param`` (L2 folded into the
        gradient, as torch). Returns ``grad`` itself when there is nothing to add, else
        writes into ``out``; the caller's gradient is never modified."""
        if weight_decay == 0:
            if not maximize:
                return grad
            return np.negative(grad, out=out)
        np.multiply(param, weight_decay, out=out)
        if maximize:
            np.subtract(out, grad, out=out)
        else:
            np.add(out, grad, out=out)
        return out

    # ---- checkpoints ------------------------------------------------------------
    def _param_index(self) -> dict[int, int]:
        index: dict[int, int] = {}
        for group in self.param_groups:
            for p in group["params"]:
                index[id(p)] = len(index)
        return index

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}`` with
        parameters numbered in group order and state arrays copied (NumPy), so the
        result can be stored and later restores this optimizer exactly."""
        index = self._param_index()
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                s = self.state.get(p)
                if not s:
                    continue
                state[index[id(p)]] = {
                    k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else copy.deepcopy(v))
                    for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (of an optimizer of the
        same kind over parameters of the same shapes, in the same order)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the loaded state has "
                             f"{len(saved_groups)} parameter groups, this optimizer has "
                             f"{len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has "
                                 f"{len(saved['params'])} parameters in the loaded state, "
                                 f"but {len(group['params'])} in this optimizer")
        id_map: dict[int, Tensor] = {}
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            for old, p in zip(saved["params"], group["params"], strict=True):
                id_map[int(old)] = p
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            k = int(key)  # JSON turns the integer keys into strings
            if k not in id_map:
                raise ValueError(f"{name}.load_state_dict: the loaded state has an entry for "
                                 f"parameter {k}, which no parameter group lists")
            p = id_map[k]
            restored: dict[str, Any] = {}
            for field, value in values.items():
                restored[field] = self._restore_value(k, p, field, value)
            new_state[p] = restored
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups, strict=True):
            new_group = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for k, v in new_group.items():  # JSON stores tuples (betas) as lists
                if isinstance(group.get(k), tuple) and isinstance(v, list):
                    new_group[k] = tuple(v)
            new_group["params"] = group["params"]
            new_groups.append(new_group)
        self.state = new_state
        self.param_groups = new_groups

    def _restore_value(self, index: int, p: Tensor, field: str, value: Any) -> Any:
        name = type(self).__name__
        if field == "step":
            return int(value)
        if isinstance(value, Tensor):
            value = value._array
        if isinstance(value, (np.ndarray, list)):
            array = np.array(value, dtype=p.dtype, copy=True)
            if array.shape != p.shape:
                raise ValueError(f"{name}.load_state_dict: state {field!r} of parameter "
                                 f"{index} has shape {tuple(array.shape)}, but the parameter "
                                 f"has shape {tuple(p.shape)}")
            return array
        if isinstance(value, np.generic):
            return value.item()
        return copy.deepcopy(value)

    # ---- printing ---------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key not in ("params", "param_names"):
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
