"""Bad input raises an error that names the op, the expected and the received shape or value."""

from __future__ import annotations

import pytest

import deepgrad
from deepgrad.ops.linalg import linear


def test_matmul_shape_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\).*3 != 4"):
        deepgrad.randn(2, 3) @ deepgrad.randn(4, 5)


def test_broadcast_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        deepgrad.randn(2, 3) + deepgrad.randn(4)
    with pytest.raises(ValueError, match=r"mul: shapes"):
        deepgrad.randn(2, 3) * deepgrad.randn(2)


def test_linear_feature_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"linear: input has 5 features.*expects 4"):
        linear(deepgrad.randn(2, 5), deepgrad.randn(3, 4))


def test_reshape_invalid() -> None:
    with pytest.raises(RuntimeError, match=r"reshape: shape \[4, 4\] is invalid for input of "
                                           r"size 6"):
        deepgrad.randn(2, 3).reshape(4, 4)


def test_dim_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"sum: dimension out of range.*\[-2, 1\].*got 2"):
        deepgrad.randn(2, 3).sum(dim=2)


def test_cat_mismatch() -> None:
    with pytest.raises(RuntimeError, match=r"cat: sizes.*\(2, 3\).*\(3, 3\)"):
        deepgrad.cat([deepgrad.randn(2, 3), deepgrad.randn(3, 3)], dim=1)


def test_index_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"index.*shape \(3,\)"):
        deepgrad.randn(3)[5]


def test_mean_of_integer_tensor() -> None:
    with pytest.raises(TypeError, match="mean: input dtype should be floating point"):
        deepgrad.tensor([1, 2]).mean()


def test_expand_invalid() -> None:
    with pytest.raises(RuntimeError, match=r"expand: the size of input dim 0 \(3\)"):
        deepgrad.randn(3, 1).expand(4, 2)


def test_where_condition_must_be_bool() -> None:
    with pytest.raises(TypeError, match="where: condition must be a bool tensor"):
        deepgrad.where(deepgrad.tensor([1, 0]), deepgrad.randn(2), deepgrad.randn(2))


def test_dtype_mismatch_in_linear() -> None:
    with pytest.raises(TypeError, match="linear: input dtype float64 does not match weight"):
        linear(deepgrad.randn(2, 3, dtype=deepgrad.float64), deepgrad.randn(4, 3))
