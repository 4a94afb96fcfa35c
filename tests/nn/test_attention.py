"""Attention and the Transformer layers against torch: scaled_dot_product_attention (masks,
causal, scale) with float64 gradcheck; MultiheadAttention and the encoder/decoder layers
loaded with torch's state_dict give torch's outputs, attention weights and gradients."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:torch")  # its nested-tensor hints
TF = torch.nn.functional
RNG = np.random.default_rng(0)
ATOL, RTOL = 2e-5, 2e-4


def test_scaled_dot_product_attention() -> None:
    shapes = [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]
    check_op(F.scaled_dot_product_attention, shapes, TF.scaled_dot_product_attention)
    check_op(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
             [(2, 5, 4), (2, 5, 4), (2, 5, 3)],
             lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3))
    float_mask = RNG.standard_normal((4, 6))
    check_op(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
             shapes + [float_mask],
             lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
             grad=False)
    allowed = RNG.random((4, 6)) > 0.3
    allowed[:, 0] = True  # every query sees at least one key
    check_op(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
             shapes, lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
             extra=[allowed])
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(deepgrad.zeros(1, 2, 3), deepgrad.zeros(1, 2, 3),
                                       deepgrad.zeros(1, 2, 3), attn_mask=deepgrad.zeros(2, 2),
                                       is_causal=True)


def _pair(cls: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*args, **kwargs)
    ours = getattr(nn, cls)(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours.eval(), theirs.eval()


def _compare(outs_d: list[Any], outs_t: list[Any], inputs: list[tuple[Any, Any]],
             ours: Any, theirs: Any) -> None:
    loss_d = loss_t = 0
    for i, (a, b) in enumerate(zip(outs_d, outs_t, strict=True)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=ATOL, rtol=RTOL,
                                   err_msg=f"output {i}")
        w = RNG.standard_normal(tuple(b.shape)).astype(np.float32)
        loss_d = loss_d + (a * deepgrad.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_d.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(inputs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-4, rtol=1e-3,
                                   err_msg=f"gradient of input {i}")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), atol=1e-4,
                                   rtol=1e-3, err_msg=name)


def _inputs(*shapes: tuple[int, ...]) -> list[tuple[Any, Any]]:
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    return [(deepgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
            for a in arrays]


MHA_CASES = {
    "self": ({}, {}),
    "batch_first_no_average": ({"batch_first": True}, {"average_attn_weights": False}),
    "kdim_vdim": ({"kdim": 5, "vdim": 3}, {}),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True}, {}),
    "no_bias": ({"bias": False}, {}),
    "causal_float_mask": ({}, {"attn_mask": "causal", "is_causal": True}),
    "bool_mask_and_padding": ({}, {"attn_mask": "bool", "key_padding_mask": "bool"}),
    "unbatched": ({}, {"unbatched": True}),
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention(case: str) -> None:
    make, call = MHA_CASES[case]
    ours, theirs = _pair("MultiheadAttention", 8, 2, **make)
    unbatched = call.pop("unbatched", False) if "unbatched" in call else False
    call = dict(call)
    length, source, batch = 4, 6, 3
    batch_first = make.get("batch_first", False)

    def shape(n: int, e: int) -> tuple[int, ...]:
        return (n, e) if unbatched else (batch, n, e) if batch_first else (n, batch, e)

    inputs = _inputs(shape(length, 8), shape(source, make.get("kdim", 8)),
                     shape(source, make.get("vdim", 8)))
    if case == "causal_float_mask":
        inputs = _inputs(shape(length, 8), shape(length, 8), shape(length, 8))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(length).numpy()
        call["attn_mask"] = mask
    extra_d: dict[str, Any] = {}
    extra_t: dict[str, Any] = {}
    for key in ("attn_mask", "key_padding_mask"):
        value = call.pop(key, None)
        if isinstance(value, np.ndarray):
            array = value
        elif value == "bool":
            array = RNG.random((length, source) if key == "attn_mask" else (batch, source)) > 0.7
            array[..., 0] = False  # one key always visible
        else:
            continue
        extra_d[key], extra_t[key] = deepgrad.tensor(array), torch.tensor(array)
    out_d, w_d = ours(*(a for a, _ in inputs), **call, **extra_d)
    out_t, w_t = theirs(*(b for _, b in inputs), **call, **extra_t)
    _compare([out_d, w_d], [out_t, w_t], inputs, ours, theirs)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_and_decoder_layers(norm_first: bool, batch_first: bool) -> None:
    kwargs = {"dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first,
              "norm_first": norm_first}
    enc, enc_t = _pair("TransformerEncoderLayer", 8, 2, activation="gelu", **kwargs)
    src_shape = (3, 5, 8) if batch_first else (5, 3, 8)
    inputs = _inputs(src_shape)
    padding = np.zeros((3, 5), bool)
    padding[1, 3:] = True
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    out_d = enc(inputs[0][0], src_mask=deepgrad.tensor(mask.numpy()),
                src_key_padding_mask=deepgrad.tensor(padding))
    out_t = enc_t(inputs[0][1], src_mask=mask, src_key_padding_mask=torch.tensor(padding))
    _compare([out_d], [out_t], inputs, enc, enc_t)

    dec, dec_t = _pair("TransformerDecoderLayer", 8, 2, **kwargs)
    inputs = _inputs((3, 4, 8) if batch_first else (4, 3, 8), src_shape)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    out_d = dec(inputs[0][0], inputs[1][0], tgt_mask=deepgrad.tensor(tgt_mask.numpy()),
                memory_key_padding_mask=deepgrad.tensor(padding))
    out_t = dec_t(inputs[0][1], inputs[1][1], tgt_mask=tgt_mask,
                  memory_key_padding_mask=torch.tensor(padding))
    _compare([out_d], [out_t], inputs, dec, dec_t)


def test_transformer_end_to_end() -> None:
    ours, theirs = _pair("Transformer", d_model=8, nhead=2, num_encoder_layers=2,
                         num_decoder_layers=2, dim_feedforward=16, dropout=0.0)
    inputs = _inputs((6, 2, 8), (5, 2, 8))
    mask = theirs.generate_square_subsequent_mask(5)
    assert np.array_equal(nn.Transformer.generate_square_subsequent_mask(5).numpy(),
                          mask.numpy())
    out_d = ours(inputs[0][0], inputs[1][0], tgt_mask=deepgrad.tensor(mask.numpy()))
    out_t = theirs(inputs[0][1], inputs[1][1], tgt_mask=mask)
    _compare([out_d], [out_t], inputs, ours, theirs)


def test_encoder_stacks_independent_copies() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    encoder = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8))
    names = [n for n, _ in encoder.named_parameters()]
    assert names[0] == "layers.0.self_attn.in_proj_weight" and names[-1] == "norm.bias"
    first, second = encoder.layers[0].linear1.weight, encoder.layers[1].linear1.weight
    assert first is not second and np.array_equal(first.detach().numpy(), second.detach().numpy())
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16), 3,
                                         norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    assert names == [n for n, _ in theirs.named_parameters()]
    assert copy.deepcopy(encoder).layers[2].norm2.weight is not encoder.layers[2].norm2.weight


def test_attention_errors_say_what_is_wrong() -> None:
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match="was expecting embedding dimension of 8, but got 6"):
        mha(deepgrad.zeros(4, 2, 6), deepgrad.zeros(4, 2, 6), deepgrad.zeros(4, 2, 6))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        x = deepgrad.zeros(4, 2, 8)
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")

