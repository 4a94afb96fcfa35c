"""LBFGS: limited-memory BFGS with an optional strong Wolfe line search, as torch.optim.LBFGS.

One ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations on all
parameters flattened into one vector ``x`` (gradient ``g``):

    d = -H g        H: the inverse Hessian implied by the last ``history_size``
                    pairs (s = x_new - x, y = g_new - g), applied by the
                    two-loop recursion, scaled by H_diag = s.y / y.y
    x = x + t d     t = lr (the first iteration of all: min(1, 1/|g|_1) * lr),
                    or the step a strong Wolfe line search finds from there

The algorithm, its constants and its stopping rules are torch's line for line
(itself minFunc's, via torch7's ``lbfgs.lua`` and ``lswolfe.lua``), so the
iterates agree with torch's to rounding. The maths runs on flat NumPy vectors of
the parameters' dtype; the parameters are only touched through Tensor in-place
methods under ``no_grad``. The whole state is global, so, as torch, it is kept
as the state of the first parameter, which lets ``state_dict`` carry it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from deepgrad import autograd
from deepgrad.optim.optimizer import Optimizer, ParamsT
from deepgrad.tensor import Tensor, from_numpy

Scalar = Any  # a Python float or a NumPy scalar of the parameters' dtype
ObjFunc = Callable[[list[np.ndarray], Scalar, np.ndarray], tuple[float, np.ndarray]]

_GROUPS_MESSAGE = "LBFGS doesn't support per-parameter options (parameter groups)"


def _cubic_interpolate(x1: Scalar, f1: Scalar, g1: Scalar, x2: Scalar, f2: Scalar,
                       g2: Scalar, bounds: tuple[Scalar, Scalar] | None = None) -> Scalar:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds``
    (default: the interval between the points); their midpoint if the cubic has none."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: ObjFunc, x: list[np.ndarray], t: Scalar, d: np.ndarray, f: float,
                  g: np.ndarray, gtd: Scalar, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> tuple[float, np.ndarray, Scalar, int]:
    """Find t with f(x + t d) <= f + c1 t gtd and |g(x + t d).d| <= -c2 gtd: bracket such a
    step, then zoom in by cubic interpolation. Returns (f, g, t, function evaluations)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev: Scalar = 0
    f_prev, g_prev, gtd_prev = f, g, gtd
    done = False
    ls_iter = 0
    bracket: list[Scalar] = []
    bracket_f: list[float] = []
    bracket_g: list[np.ndarray] = []
    bracket_gtd: list[Scalar] = []
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # interpolate, extrapolating at most 10x
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter == max_ls:  # out of evaluations: the interval from the start
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    if not bracket:
        raise ValueError(f"LBFGS: the line search was given max_ls={max_ls} evaluations; "
                         "max_eval must be at least 1")

    # zoom: shrink the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end twice in a row (or outside) moves 10% inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than the lowest point
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # Wolfe conditions satisfied
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high becomes the new low
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS (``lr``, ``max_iter``, ``max_eval``, ``tolerance_grad``, ``tolerance_change``,
    ``history_size``, ``line_search_fn=None | "strong_wolfe"``); ``step`` needs a closure
    that recomputes the loss and its gradients. One parameter group only, as torch; it
    keeps ``(history_size + 1)`` copies of the parameters' size."""

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._numel_cache: int | None = None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Refused once a group exists: the state is one history over all parameters."""
        if self.param_groups:
            raise ValueError(_GROUPS_MESSAGE)
        super().add_param_group(param_group)

    def _validate_group(self, group: dict[str, Any]) -> None:
        if isinstance(group["lr"], Tensor):  # a 1-element tensor lr, as torch allows
            if group["lr"].numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
            group["lr"] = float(group["lr"].item())
        if not isinstance(group["lr"], (int, float)) or not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"LBFGS: {key} must be an int, got {value!r}")
        # torch only notices an unknown line search at the first step; say so up front
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{group['line_search_fn']!r} (only 'strong_wolfe' is supported)")

    # ---- the flat vector view of the parameters -----------------------------------
    def _numel(self) -> int:
        if self._numel_cache is None:
            self._numel_cache = sum(2 * p.numel() if p.dtype.kind == "c" else p.numel()
                                    for p in self._params)
        return self._numel_cache

    @staticmethod
    def _flat(array: np.ndarray) -> np.ndarray:
        """A 1-D real view: complex numbers as (re, im) pairs, as torch.view_as_real."""
        flat = np.ascontiguousarray(array).reshape(-1)
        return flat.view(flat.real.dtype) if flat.dtype.kind == "c" else flat

    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients in one new vector (zeros for a parameter without one)."""
        views = []
        for p in self._params:
            if p.grad is None:
                views.append(self._flat(np.zeros(p.shape, dtype=p.dtype)))
            else:
                views.append(self._flat(p.grad.detach().numpy()))
        return np.concatenate(views)

    def _add_grad(self, step_size: Scalar, update: np.ndarray) -> None:
        """x += step_size * update, parameter by parameter, in place."""
        offset = 0
        for p in self._params:
            n = 2 * p.numel() if p.dtype.kind == "c" else p.numel()
            piece = update[offset:offset + n]
            if p.dtype.kind == "c":
                piece = piece.view(p.dtype)
            p.add_(from_numpy(piece.reshape(p.shape)), alpha=step_size)
            offset += n
        if offset != self._numel():
            raise AssertionError(f"Expected offset {offset} to equal {self._numel()}")

    def _clone_param(self) -> list[np.ndarray]:
        return [p.detach().numpy().copy() for p in self._params]

    def _set_param(self, params_data: list[np.ndarray]) -> None:
        for p, pdata in zip(self._params, params_data, strict=True):
            p.copy_(from_numpy(pdata))

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray],
                              t: Scalar, d: np.ndarray) -> tuple[float, np.ndarray]:
        """Loss and gradient at x + t d, leaving the parameters at x."""
        self._add_grad(t, d)
        loss = _loss_value(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the update -----------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` iterations; ``closure`` (required) clears the gradients,
        computes the loss, calls ``backward`` and returns the loss. Returns the loss of
        the first evaluation, at the parameters the step started from."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and "
                            "returns the loss: def closure(): opt.zero_grad(); "
                            "loss = loss_fn(model(x), y); loss.backward(); return loss")
        if len(self.param_groups) != 1:
            raise ValueError(_GROUPS_MESSAGE)
        self._opt_called = True
        # torch's tensor maths is silent on inf/nan (a 0/0 in an interpolation); so is this
        with autograd.no_grad(), np.errstate(all="ignore"):
            return self._step(closure)

    def _step(self, user_closure: Callable[[], Any]) -> Any:
        def closure() -> Any:
            with autograd.enable_grad():
                return user_closure()

        group = self.param_groups[0]
        lr = group["lr"]
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        # evaluate the initial f(x) and df/dx
        orig_loss = closure()
        loss = _loss_value(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = np.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        # what the last step left (None before the first): vectors, lists of them, scalars
        d: Any = state.get("d")
        t: Any = state.get("t")
        old_dirs: Any = state.get("old_dirs")
        old_stps: Any = state.get("old_stps")
        ro: Any = state.get("ro")
        h_diag: Any = state.get("H_diag")
        prev_flat_grad: Any = state.get("prev_flat_grad")
        prev_loss: Any = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- the descent direction ----
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                # update the memory with the last step's (y, s), if curvature is positive
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:  # drop the oldest pair
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)  # scale of the initial inverse Hessian

                # the two-loop recursion: d = -H g, in one buffer
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # ---- the step length ----
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr

            gtd = flat_grad.dot(d)  # directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x: list[np.ndarray], t: Scalar,
                             d: np.ndarray) -> tuple[float, np.ndarray]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                if n_iter != max_iter:
                    # re-evaluate only if another iteration follows (torch: in a stochastic
                    # setting the last evaluation would be of no use)
                    loss = _loss_value(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stopping rules ----
            if n_iter == max_iter:
                break
            if current_evals >= max_eval:
                break
            if opt_cond:
                break
            if np.abs(d * t).max() <= tolerance_change:  # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = h_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss
        return orig_loss

    # ---- checkpoints ------------------------------------------------------------------
    def _restore_value(self, index: int, p: Tensor, field: str, value: Any) -> Any:
        """The state holds flat vectors, lists of them and scalars (not arrays shaped like
        the parameter, as the base expects): cast them to the parameters' real dtype, as
        torch casts the first parameter's state, and check the vector lengths."""
        if field in ("n_iter", "func_evals"):
            return int(value)
        real = np.zeros((), dtype=p.dtype).real.dtype
        return self._restore(field, value, real)

    def _restore(self, field: str, value: Any, dtype: np.dtype) -> Any:
        if isinstance(value, (list, tuple)):
            return [self._restore(field, v, dtype) for v in value]
        if isinstance(value, Tensor):
            value = value.detach().numpy()
        if isinstance(value, np.ndarray):
            if value.ndim == 0:
                return dtype.type(value)
            array = np.array(value, dtype=dtype, copy=True).reshape(-1)
            if array.size != self._numel():
                raise ValueError(f"LBFGS.load_state_dict: state {field!r} holds a vector of "
                                 f"{array.size} numbers, but the parameters have "
                                 f"{self._numel()} in all")
            return array
        if isinstance(value, np.generic) and value.dtype.kind == "f":
            return dtype.type(value)
        return value  # Python numbers (t = lr, prev_loss, H_diag = 1) and None stay as saved


def _loss_value(loss: Any) -> float:
    """The closure's loss as a float, or an error that says what the closure must do."""
    if loss is None:
        raise TypeError("LBFGS: the closure returned None; it must return the loss "
                        "(end it with `return loss`), which LBFGS compares between "
                        "evaluations")
    return float(loss)
