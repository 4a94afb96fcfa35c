"""``Parameter``: a tensor that a ``Module`` registers as trainable state.

Assigning a Parameter to a module attribute is what makes it appear in
``parameters()``, ``state_dict()`` and the optimizer; a plain Tensor does not.
"""

from __future__ import annotations

from typing import Any

from deepgrad import backend
from deepgrad.tensor import Tensor, as_array


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered by ``Module``.

    ``Parameter(t)`` shares ``t``'s array (as torch does); a NumPy array or list is
    converted with torch's dtype rules (float becomes float32). Freeze a parameter
    with ``requires_grad_(False)``.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = backend.xp.empty((0,), dtype=backend.default_float_dtype())
        elif isinstance(data, Tensor):
            array = data._array
        else:
            array = as_array(data)
        super().__init__(array, requires_grad=requires_grad, _copy=False)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: Any) -> Any:
        # copy.deepcopy(model) must give Parameters back, with their own arrays.
        return (_rebuild_parameter, (self.data, self.requires_grad, self.grad))


def _rebuild_parameter(data: Any, requires_grad: bool, grad: Any) -> Parameter:
    p = Parameter(data, requires_grad)
    p.grad = grad
    return p


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module (torch 2.x)."""

    def __init__(self, data: Any, persistent: bool = True) -> None:
        array = data._array if isinstance(data, Tensor) else as_array(data)
        super().__init__(array, _copy=False)
        self.persistent = persistent
