"""Training utilities: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and
sequences of different lengths (``rnn``: ``pad_sequence``, ``PackedSequence``, ...)."""

from deepgrad.nn.utils import rnn
from deepgrad.nn.utils.clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "rnn"]
