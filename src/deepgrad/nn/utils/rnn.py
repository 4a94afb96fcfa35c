"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn``.

``pad_sequence`` stacks sequences padded to the longest. A ``PackedSequence`` keeps only
the real steps: the sequences sorted by decreasing length, then step by step, ``data``
``(sum of lengths, *)`` and ``batch_sizes[t]``, how many sequences are still running at
step ``t``. ``RNN``, ``LSTM`` and ``GRU`` take one and return their output packed the
same way, each sequence's final state taken at its own last step (``nn/modules/rnn.py``).

Everything is indexing with integer arrays, so gradients flow through packing and
unpacking with nothing new in autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from deepgrad.ops import shape as S
from deepgrad.ops.creation import full
from deepgrad.ops.indexing import index_select
from deepgrad.tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """The real steps of a batch of sequences (see the module docstring). ``sorted_indices``
    is the order the batch was sorted into (None when it came sorted); ``unsorted_indices``
    the order back."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """``data`` converted as ``Tensor.to``; the sizes and orders stay int64."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def float(self) -> PackedSequence:
        return self._replace(data=self.data.float())

    def double(self) -> PackedSequence:
        return self._replace(data=self.data.double())

    @property
    def is_cuda(self) -> bool:
        return bool(self.data.is_cuda)


def _long(values: np.ndarray) -> Tensor:
    return Tensor(np.ascontiguousarray(values, dtype=np.int64), _copy=False)


def _lengths(lengths: Any, batch: int) -> np.ndarray:
    values = np.asarray(lengths._array if isinstance(lengths, Tensor) else lengths)
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise ValueError(f"pack_padded_sequence: lengths must be a 1-D sequence of ints, got "
                         f"{values.dtype} of shape {tuple(values.shape)}")
    if len(values) != batch:
        raise ValueError(f"pack_padded_sequence: expected {batch} lengths (one per sequence "
                         f"of the batch), got {len(values)}")
    if values.size and values.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0 (lengths {values.tolist()})")
    return values.astype(np.int64)


def _valid(lengths_sorted: np.ndarray, steps: int) -> np.ndarray:
    """``(steps, batch)`` True where step ``t`` of sequence ``b`` is real."""
    return np.arange(steps)[:, None] < lengths_sorted[None, :]


def _sorted_lengths(batch_sizes: np.ndarray) -> np.ndarray:
    """The length of each (sorted) sequence: the steps at which it is still running."""
    return (batch_sizes[None, :] > np.arange(batch_sizes[0])[:, None]).sum(axis=1)


def _pack_rows(padded: Tensor, valid: np.ndarray) -> Tensor:
    """The real steps of a time-major, sorted ``(T, B, *)`` batch, step by step: packed data."""
    steps, batch = valid.shape
    flat = S.reshape(S.getitem(padded, slice(0, steps)), (steps * batch, *padded.shape[2:]))
    return S.getitem(flat, np.flatnonzero(valid))  # row-major: step by step, as packed


def _pad_rows(data: Tensor, batch_sizes: np.ndarray, steps: int,
              padding_value: float) -> tuple[Tensor, np.ndarray]:
    """Packed ``data`` as the time-major, sorted ``(steps, B, *)`` batch (``padding_value``
    after each sequence's end), and the ``(steps, B)`` mask of its real steps."""
    batch = int(batch_sizes[0])
    valid = _valid(_sorted_lengths(batch_sizes), steps)
    pad = full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    rows = np.full(steps * batch, data.shape[0], dtype=np.int64)  # the padding row
    rows[np.flatnonzero(valid)] = np.arange(data.shape[0])
    padded = S.reshape(S.getitem(S.cat([data, pad], 0), rows), (steps, batch, *data.shape[1:]))
    return padded, valid


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """``(T_max, B, *)`` (``(B, T_max, *)`` with ``batch_first``) of sequences ``(T_i, *)``
    padded with ``padding_value`` after (``padding_side="left"``: before) their steps."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    if len(sequences) == 0:
        raise ValueError("pad_sequence: received an empty list of sequences")
    trailing = {tuple(s.shape[1:]) for s in sequences}
    if len(trailing) != 1 or any(s.ndim == 0 for s in sequences):
        raise ValueError(f"pad_sequence: every sequence must be (length, *) with the same "
                         f"trailing sizes, got shapes {[tuple(s.shape) for s in sequences]}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = full((missing, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = S.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return S.stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose sequence
    ``b`` has ``lengths[b]`` real steps. With ``enforce_sorted`` the lengths must already
    decrease; otherwise the batch is sorted and the order kept to undo it."""
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence: expected input (T, B, *) or (B, T, *), got "
                         f"shape {tuple(input.shape)}")
    batch_dim = 0 if batch_first else 1
    values = _lengths(lengths, input.shape[batch_dim])
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(values) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-values, kind="stable")
        values = values[order]
        input = index_select(input, batch_dim, _long(order))  # noqa: A001
        sorted_indices, unsorted_indices = _long(order), _long(np.argsort(order))
    if batch_first:
        input = S.transpose(input, 0, 1)  # noqa: A001
    steps = int(values[0])
    if steps > input.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length of {steps} exceeds the {input.shape[0]} "
                         "time steps of the input")
    valid = _valid(values, steps)
    return PackedSequence(_pack_rows(input, valid), _long(valid.sum(axis=1)), sorted_indices,
                          unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The padded batch of a PackedSequence, in the original batch order, and the lengths."""
    batch_sizes = np.asarray(sequence.batch_sizes._array)
    lengths = _sorted_lengths(batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in the input, but got total_length={total_length} and "
                             f"max sequence length being {steps}")
        steps = total_length
    padded, _ = _pad_rows(sequence.data, batch_sizes, steps, padding_value)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[np.asarray(sequence.unsorted_indices._array)]
    if batch_first:
        padded = S.transpose(padded, 0, 1)
    return padded, _long(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(T_i, *)`` (longest first, unless not ``enforce_sorted``)."""
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any,
                   batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length."""
    batch = padded_sequences if batch_first else S.transpose(padded_sequences, 0, 1)
    values = _lengths(lengths, batch.shape[0])
    return [S.getitem(S.getitem(batch, b), slice(0, int(n))) for b, n in enumerate(values)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
