"""All parameters as one flat vector and back (``parameters_to_vector``,
``vector_to_parameters``): for optimizers written by hand, line searches, Hessian-vector
products and weight averaging."""

from __future__ import annotations

from collections.abc import Iterable

from deepgrad.ops import shape as S
from deepgrad.tensor import Tensor


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and concatenated, in order (differentiable, as torch)."""
    return S.cat([S.reshape(p, (-1,)) for p in parameters], 0)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (replacing their data, as
    torch's ``param.data = ...``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements (shape "
                           f"{tuple(vec.shape)}), the parameters {total}")
    start = 0
    for p in params:
        n = p.numel()
        p.data = S.reshape(vec[start:start + n], tuple(p.shape)).detach().clone()
        start += n
