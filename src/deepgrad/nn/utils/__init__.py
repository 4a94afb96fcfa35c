"""Training utilities: gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``),
parameters as one vector (``parameters_to_vector``) and sequences of different lengths
(``rnn``: ``pad_sequence``, ``PackedSequence``, ...)."""

from deepgrad.nn.utils import rnn
from deepgrad.nn.utils.clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from deepgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from deepgrad.nn.utils.weight_norms import (
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "remove_spectral_norm", "remove_weight_norm", "rnn", "spectral_norm",
           "vector_to_parameters", "weight_norm"]
