"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``, written
with matmul, softmax and dropout, so their gradients (and higher ones) come with them.

Two mask conventions meet here, as in torch. ``scaled_dot_product_attention`` takes a
boolean ``attn_mask`` that is True where a query *may* attend; ``MultiheadAttention``'s
boolean ``attn_mask`` and ``key_padding_mask`` are True where it may *not*. Float masks
are added to the scores in both.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deepgrad.ops import elementwise as E
from deepgrad.ops import shape as S
from deepgrad.ops.creation import zeros
from deepgrad.ops.dropout import dropout
from deepgrad.ops.linalg import linear, matmul
from deepgrad.ops.loss import softmax
from deepgrad.ops.maths import logical_not
from deepgrad.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "additive_mask"]


def additive_mask(mask: Tensor | None, dtype: Any, blocked_when_true: bool = True) -> Any:
    """A mask as the float added to the scores: 0 where attention may go, -inf where not."""
    if mask is None:
        return None
    if mask.dtype == np.bool_:
        blocked = mask if blocked_when_true else logical_not(mask)
        return E.where(blocked, -math.inf, 0.0).to(dtype)
    if mask.dtype.kind != "f":
        raise TypeError(f"attention: a mask must be bool or float, got {mask.dtype}")
    return mask


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` over (..., L, E) queries and (..., S, E) keys;
    ``is_causal`` lets query i see keys up to i; ``dropout_p`` drops attention weights
    (whatever the module's mode, as torch)."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention: enable_gqa is not supported")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"scaled_dot_product_attention: expected (..., L, E) tensors, got "
                         f"shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    length, source = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, S.transpose(key, -2, -1)) * factor
    if is_causal:
        allowed = np.tril(np.ones((length, source), dtype=bool))
        scores = scores + Tensor(np.where(allowed, 0.0, -np.inf).astype(scores.dtype),
                                 _copy=False)
    elif attn_mask is not None:
        scores = scores + additive_mask(attn_mask, scores.dtype, blocked_when_true=False)
    weights = softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return matmul(weights, value)


def _projections(query: Tensor, key: Tensor, value: Tensor, weights: dict[str, Any],
                 embed_dim: int) -> tuple[Tensor, Tensor, Tensor]:
    w, b = weights.get("in_proj_weight"), weights.get("in_proj_bias")
    parts = [None, None, None] if b is None else list(S.chunk(b, 3, 0))
    if w is not None:
        wq, wk, wv = S.chunk(w, 3, 0)
    else:
        wq, wk, wv = (weights["q_proj_weight"], weights["k_proj_weight"],
                      weights["v_proj_weight"])
    return (linear(query, wq, parts[0]), linear(key, wk, parts[1]),
            linear(value, wv, parts[2]))


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, num_heads: int, weights: dict[str, Any],
        *, dropout_p: float = 0.0, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, average_attn_weights: bool = True,
        add_zero_attn: bool = False, is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """torch's multi-head attention on time-major (L, N, E) query and (S, N, E) key/value:
    project, split into ``num_heads`` heads, attend, join, project out. ``weights`` holds
    ``in_proj_weight``/``in_proj_bias`` (or ``q/k/v_proj_weight``), ``bias_k``/``bias_v``
    and ``out_proj_weight``/``out_proj_bias``. Returns the output and, with
    ``need_weights``, the attention weights (averaged over the heads unless not
    ``average_attn_weights``)."""
    length, batch, embed_dim = query.shape
    head_dim = embed_dim // num_heads
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    q, k, v = _projections(query, key, value, weights, embed_dim)
    mask = additive_mask(attn_mask, q.dtype)
    pad = additive_mask(key_padding_mask, q.dtype)
    if weights.get("bias_k") is not None:
        k = S.cat([k, S.expand(weights["bias_k"], 1, batch, embed_dim)], 0)
        v = S.cat([v, S.expand(weights["bias_v"], 1, batch, embed_dim)], 0)
        mask = None if mask is None else S.pad(mask, (0, 1))
        pad = None if pad is None else S.pad(pad, (0, 1))

    def heads(x: Tensor) -> Tensor:  # (T, N, E) -> (N * heads, T, head_dim)
        return S.transpose(S.reshape(x, (x.shape[0], batch * num_heads, head_dim)), 0, 1)

    q, k, v = heads(q), heads(k), heads(v)
    if add_zero_attn:
        zero = zeros(batch * num_heads, 1, head_dim, dtype=q.dtype)
        k, v = S.cat([k, zero], 1), S.cat([v, zero], 1)
        mask = None if mask is None else S.pad(mask, (0, 1))
        pad = None if pad is None else S.pad(pad, (0, 1))
    source = k.shape[1]
    scores = matmul(q * (1.0 / math.sqrt(head_dim)), S.transpose(k, 1, 2))  # (N*h, L, S)
    if mask is not None:
        scores = scores + (S.unsqueeze(mask, 0) if mask.ndim == 2 else mask)
    if pad is not None:
        by_batch = S.reshape(scores, (batch, num_heads, length, source))
        scores = S.reshape(by_batch + S.reshape(pad, (batch, 1, 1, source)),
                           (batch * num_heads, length, source))
    attention = softmax(scores, -1)
    dropped = dropout(attention, dropout_p, training) if dropout_p > 0.0 else attention
    out = matmul(dropped, v)                                              # (N*h, L, head_dim)
    out = S.reshape(S.transpose(out, 0, 1), (length * batch, embed_dim))
    out = S.reshape(linear(out, weights["out_proj_weight"], weights.get("out_proj_bias")),
                    (length, batch, embed_dim))
    if not need_weights:
        return out, None
    per_head = S.reshape(attention, (batch, num_heads, length, source))
    return out, (per_head.mean(1) if average_attn_weights else per_head)
