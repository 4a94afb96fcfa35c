"""torch's legacy typed constructors: ``LongTensor([1, 2])``, ``FloatTensor(2, 3)``...

Old tutorials build tensors with these. Each is ``Tensor(...)`` with its dtype: data
(a list, an array, a tensor) is copied into that dtype, sizes give a zero-filled tensor,
and ``isinstance(t, LongTensor)`` tells whether a tensor has that dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgrad.tensor import Tensor


class _TypedTensorMeta(type):
    dtype: np.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:  # type: ignore[override]
        return Tensor(*args, dtype=cls.dtype, **kwargs)


def _typed(name: str, dtype: Any) -> type:
    return _TypedTensorMeta(name, (), {"dtype": np.dtype(dtype),
                                        "__doc__": f"``{name}(...)``: a {dtype} Tensor."})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)
BoolTensor = _typed("BoolTensor", np.bool_)

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
           "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"]
