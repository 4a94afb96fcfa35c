"""Transforms that work on a whole batch at once (no Python loop over samples).

Every class here says ``batched = True``. Any other callable given as a transform
(``transform=lambda x: ...``, a torchvision-style class, ``Lambda(fn)``) is what
torch users write: a function of *one* sample (one label for ``target_transform``).
``on_batch`` runs it on each sample of a batch and stacks the results, and
``on_sample`` on the sample a dataset's ``ds[i]`` reads, so such code means on
deepgrad what it means on torch.

Layout rule, as in torchvision (PIL image before ``ToTensor``, tensor after):

* uint8 arrays are images in storage layout: (B, H, W) or (B, H, W, C);
* float arrays are tensors: (B, C, H, W), or (B, H, W) for one channel.

``ToTensor`` turns the first into the second. Random transforms draw from
``rng.current_generator()``: the library's global generator, or inside a
DataLoader the per-batch generator that makes augmentation reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .rng import current_generator

__all__ = [
    "Compose",
    "ToTensor",
    "Normalize",
    "SubtractMean",
    "RandomHorizontalFlip",
    "RandomCrop",
    "Grayscale",
    "RandomGrayscale",
    "GaussianNoise",
    "Lambda",
    "on_batch",
    "on_sample",
]


def _batched(transform: Any) -> bool:
    return bool(getattr(transform, "batched", False))


def on_batch(transform: Callable[[Any], Any] | None, batch: Any) -> Any:
    """``transform`` applied to a batch: a batched transform takes it whole; any other
    callable is a function of one sample, run on each and the results stacked."""
    if transform is None:
        return batch
    if _batched(transform):
        return transform(batch)
    results = [transform(sample) for sample in batch]
    return np.stack([np.asarray(r) for r in results]) if results else batch


def on_sample(transform: Callable[[Any], Any] | None, sample: Any) -> Any:
    """``transform`` applied to one sample (what ``ds[i]`` returns): a batched transform
    sees a batch of one, any other callable the sample itself."""
    if transform is None:
        return sample
    if isinstance(transform, Compose):
        for t in transform.transforms:
            sample = on_sample(t, sample)
        return sample
    if _batched(transform):
        return transform(np.asarray(sample)[None])[0]
    return transform(sample)


def _spatial_axes(x: np.ndarray, who: str) -> tuple[int, int]:
    """The (height, width) axes of a batch under the layout rule above."""
    if x.ndim == 4:
        return (1, 2) if x.dtype == np.uint8 else (2, 3)
    if x.ndim == 3:
        return (1, 2)
    raise ValueError(
        f"{who}: expected a batch (B, H, W), (B, H, W, C) uint8 or (B, C, H, W) float, "
        f"got shape {tuple(x.shape)}; transforms take whole batches"
    )


def _pair(size: int | Sequence[int], who: str) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        return int(size), int(size)
    if len(size) != 2:
        raise ValueError(f"{who}: size must be an int or (height, width), got {size!r}")
    return int(size[0]), int(size[1])


class Compose:
    """Apply transforms in order (to a batch; per-sample callables on each sample)."""

    batched = True

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = on_batch(t, x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class ToTensor:
    """uint8 (B,H,W[,C]) in [0,255] -> float32 (B,C,H,W) in [0,1], as ``x / 255`` like torch.

    Float input is taken to be a tensor already (channels-first): it is cast
    to float32, and a (B,H,W) batch gains its channel axis.
    """

    batched = True

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != np.uint8:
            x = x.astype(np.float32, copy=False)
            return x[:, None] if x.ndim == 3 else x
        if x.ndim == 3:
            x = x[:, None]
        elif x.ndim == 4:
            x = x.transpose(0, 3, 1, 2)
        else:
            raise ValueError(f"ToTensor: expected a uint8 batch (B,H,W[,C]), got shape "
                             f"{tuple(x.shape)}")
        out = np.empty(x.shape, dtype=np.float32)
        np.divide(x, np.float32(255.0), out=out)  # one pass: cast, scale, transpose
        return out

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(x - mean) / std per channel of a float (B,C,H,W) batch."""

    batched = True

    def __init__(self, mean: float | Sequence[float], std: float | Sequence[float]) -> None:
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float32))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float32))
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std.tolist()}")

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == np.uint8:
            raise TypeError("Normalize: got uint8 pixels; put ToTensor() before Normalize")
        channels = x.shape[1] if x.ndim == 4 else 1
        if self.mean.size not in (1, channels) or self.std.size not in (1, channels):
            raise ValueError(
                f"Normalize: mean/std have {self.mean.size}/{self.std.size} values but the "
                f"batch {tuple(x.shape)} has {channels} channels"
            )
        shape = (-1, 1, 1) if x.ndim == 4 else (1, 1)
        out = np.subtract(x, self.mean.reshape(shape), dtype=np.float32)
        np.divide(out, self.std.reshape(shape), out=out)
        return out

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class SubtractMean:
    """x - mean, with ``mean`` a fixed array broadcast over the batch: a mean image
    (C,H,W) or per-channel values (C,1,1), as readers that centre on the training set do.

    In a config, ``data.subtract_mean: image`` (or ``channel``) computes ``mean`` from
    the training split and appends this transform to every split.
    """

    batched = True

    def __init__(self, mean: Any) -> None:
        self.mean = np.asarray(mean, dtype=np.float32)

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == np.uint8:
            raise TypeError("SubtractMean: got uint8 pixels; put ToTensor() before SubtractMean")
        try:
            fits = np.broadcast_shapes(x.shape[1:], self.mean.shape) == x.shape[1:]
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"SubtractMean: a mean of shape {tuple(self.mean.shape)} does not fit "
                             f"samples of shape {x.shape[1:]}")
        return np.subtract(x, self.mean, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SubtractMean(mean of shape {tuple(self.mean.shape)})"


class RandomHorizontalFlip:
    """Mirror each image left-right with probability ``p`` (one draw per image)."""

    batched = True

    def __init__(self, p: float = 0.5) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must lie in [0, 1], got {p}")
        self.p = p

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        _, w_axis = _spatial_axes(x, "RandomHorizontalFlip")
        flip = current_generator().random(len(x)) < self.p
        out = x.copy()
        out[flip] = np.flip(x[flip], axis=w_axis)
        return out

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """Zero-pad by ``padding`` then cut a random ``size`` window from each image.

    All windows are taken at once: a strided view of every possible window,
    then one fancy index with each image's offsets.
    """

    batched = True

    def __init__(
        self, size: int | Sequence[int], padding: int | Sequence[int] = 0, fill: float = 0
    ) -> None:
        self.size = _pair(size, "RandomCrop")
        self.padding = _pair(padding, "RandomCrop")  # (vertical, horizontal)
        self.fill = fill

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        h_axis, w_axis = _spatial_axes(x, "RandomCrop")
        (h, w), (ph, pw) = self.size, self.padding
        if ph or pw:
            shape = list(x.shape)
            shape[h_axis] += 2 * ph
            shape[w_axis] += 2 * pw
            padded = np.full(shape, self.fill, dtype=x.dtype)
            inner = [slice(None)] * x.ndim
            inner[h_axis] = slice(ph, ph + x.shape[h_axis])
            inner[w_axis] = slice(pw, pw + x.shape[w_axis])
            padded[tuple(inner)] = x
        else:
            padded = x
        big_h, big_w = padded.shape[h_axis], padded.shape[w_axis]
        if h > big_h or w > big_w:
            raise ValueError(
                f"RandomCrop: crop {self.size} is larger than the padded image ({big_h}, {big_w})"
            )
        rng = current_generator()
        top = rng.integers(0, big_h - h + 1, size=len(x))
        left = rng.integers(0, big_w - w + 1, size=len(x))
        windows = sliding_window_view(padded, (h, w), axis=(h_axis, w_axis))
        # windows: (B, [C,] positions_h, positions_w, [C,] h, w) -> pick one window per image
        index: list[Any] = [np.arange(len(x))] + [slice(None)] * (padded.ndim - 1)
        index[h_axis], index[w_axis] = top, left
        picked = windows[tuple(index)]  # (B, [C,] h, w) with any channel axis before h, w
        if x.ndim == 4 and x.dtype == np.uint8:  # channels-last: (B, C, h, w) -> (B, h, w, C)
            picked = picked.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(picked)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R 601-2 luma weights of R, G, B (PIL's "L"; they sum to 1)."""


class Grayscale:
    """RGB to luma with ITU-R 601-2 weights (PIL's "L", bit-exact on uint8).

    ``num_output_channels`` 1 gives (B,H,W) uint8 / (B,1,H,W) float; 3
    repeats the luma into three channels.
    """

    batched = True

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError(
                f"Grayscale: num_output_channels must be 1 or 3, got {num_output_channels}"
            )
        self.num_output_channels = num_output_channels

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == np.uint8:
            if x.ndim != 4 or x.shape[-1] != 3:
                raise ValueError(f"Grayscale: expected uint8 (B,H,W,3), got {tuple(x.shape)}")
            r, g, b = (x[..., c].astype(np.uint32) for c in range(3))
            luma = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)
            if self.num_output_channels == 1:
                return luma
            return np.repeat(luma[..., None], 3, axis=-1)
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"Grayscale: expected float (B,3,H,W), got {tuple(x.shape)}")
        weights = np.array(LUMA_WEIGHTS, dtype=x.dtype)
        luma = np.einsum("bchw,c->bhw", x, weights)[:, None]
        return np.repeat(luma, self.num_output_channels, axis=1)

    def __repr__(self) -> str:
        return f"Grayscale(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """Turn each RGB image gray (three equal channels) with probability ``p`` (torchvision's)."""

    batched = True

    def __init__(self, p: float = 0.1) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomGrayscale: p must lie in [0, 1], got {p}")
        self.p = p
        self._gray = Grayscale(num_output_channels=3)

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        pick = current_generator().random(len(x)) < self.p
        out = x.copy()
        if pick.any():
            out[pick] = self._gray(x[pick])
        return out

    def __repr__(self) -> str:
        return f"RandomGrayscale(p={self.p})"


class GaussianNoise:
    """Add N(0, std^2) noise to a float batch, then clip (the denoising autoencoder's input).

    ``clip`` is (low, high), or None for no clipping; default [0, 1] keeps
    ``ToTensor`` output a valid image.
    """

    batched = True

    def __init__(self, std: float, clip: tuple[float, float] | None = (0.0, 1.0)) -> None:
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)
        self.clip = clip

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype == np.uint8:
            raise TypeError("GaussianNoise: got uint8 pixels; put ToTensor() before it")
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float32)
        out = current_generator().standard_normal(x.shape, dtype=dtype)
        out *= dtype.type(self.std)
        out += x
        if self.clip is not None:
            np.clip(out, self.clip[0], self.clip[1], out=out)
        return out

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std}, clip={self.clip})"


class Lambda:
    """Wrap a function as a transform: of one sample, as torchvision's ``Lambda``
    (``on_batch`` loops over the batch), or with ``batched=True`` of a whole batch."""

    def __init__(self, fn: Callable[[Any], Any], batched: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.batched = batched

    def __call__(self, x: Any) -> Any:
        return self.fn(x)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__name__", repr(self.fn))
        return f"Lambda({name}, batched=True)" if self.batched else f"Lambda({name})"
