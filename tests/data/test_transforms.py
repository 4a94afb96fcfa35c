"""Batched transforms: values, layouts, randomness from the library's generator."""

from __future__ import annotations

import numpy as np
import pytest

from deepgrad import backend
from deepgrad.data import transforms as T
from deepgrad.data.rng import use_generator

rng = np.random.default_rng(0)
HWC = rng.integers(0, 256, (6, 8, 10, 3), dtype=np.uint8)  # (B, H, W, C) uint8
HW = rng.integers(0, 256, (6, 8, 10), dtype=np.uint8)  # (B, H, W) uint8
CHW = rng.random((6, 3, 8, 10), dtype=np.float32)  # (B, C, H, W) float


def test_to_tensor_hwc() -> None:
    out = T.ToTensor()(HWC)
    assert out.shape == (6, 3, 8, 10) and out.dtype == np.float32 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, HWC.transpose(0, 3, 1, 2).astype(np.float32) / 255)


def test_to_tensor_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    expected = torch.from_numpy(HWC).permute(0, 3, 1, 2).float().div(255).numpy()
    np.testing.assert_array_equal(T.ToTensor()(HWC), expected)


def test_to_tensor_grayscale_and_float() -> None:
    out = T.ToTensor()(HW)
    assert out.shape == (6, 1, 8, 10) and out.max() <= 1.0
    assert T.ToTensor()(CHW) is CHW  # float input is already a tensor
    assert T.ToTensor()(HW.astype(np.float64)).shape == (6, 1, 8, 10)
    with pytest.raises(ValueError, match="ToTensor"):
        T.ToTensor()(HW[0, 0])


def test_normalize_per_channel() -> None:
    out = T.Normalize([0.1, 0.2, 0.3], [0.5, 0.25, 2.0])(CHW)
    expected = (CHW - np.array([0.1, 0.2, 0.3], np.float32)[:, None, None]) / np.array(
        [0.5, 0.25, 2.0], np.float32
    )[:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32 and not np.shares_memory(out, CHW)


def test_normalize_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    mean, std = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    t = torch.from_numpy(CHW.copy())
    expected = ((t - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]).numpy()
    np.testing.assert_allclose(T.Normalize(mean, std)(CHW), expected, rtol=1e-6, atol=1e-6)


def test_normalize_errors() -> None:
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize(0.5, 0.5)(HWC)
    with pytest.raises(ValueError, match="2/2 values but the batch .* 3 channels"):
        T.Normalize([0.5, 0.5], [0.5, 0.5])(CHW)
    with pytest.raises(ValueError, match="non-zero"):
        T.Normalize(0.0, 0.0)


@pytest.mark.parametrize(("batch", "axis"), [(HWC, 2), (HW, 2), (CHW, 3)])
def test_flip_extremes(batch: np.ndarray, axis: int) -> None:
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(batch), batch)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(batch), np.flip(batch, axis))


def test_flip_each_image_independently() -> None:
    backend.manual_seed(3)
    batch = np.repeat(HWC[:1], 64, axis=0)
    out = T.RandomHorizontalFlip(0.5)(batch)
    flipped = np.array([np.array_equal(o, np.flip(HWC[0], 1)) for o in out])
    kept = np.array([np.array_equal(o, HWC[0]) for o in out])
    assert np.all(flipped | kept) and 10 < flipped.sum() < 54
    assert np.array_equal(batch[0], HWC[0])  # the input is not modified


def _is_window(out: np.ndarray, padded: np.ndarray, hw_axes: tuple[int, int]) -> bool:
    h, w = out.shape[hw_axes[0] - 1], out.shape[hw_axes[1] - 1]
    for top in range(padded.shape[hw_axes[0] - 1] - h + 1):
        for left in range(padded.shape[hw_axes[1] - 1] - w + 1):
            index = [slice(None)] * padded.ndim
            index[hw_axes[0] - 1] = slice(top, top + h)
            index[hw_axes[1] - 1] = slice(left, left + w)
            if np.array_equal(padded[tuple(index)], out):
                return True
    return False


@pytest.mark.parametrize(("batch", "axes"), [(HWC, (1, 2)), (HW, (1, 2)), (CHW, (2, 3))])
def test_random_crop_cuts_windows_of_padded_images(batch: np.ndarray, axes) -> None:
    backend.manual_seed(1)
    out = T.RandomCrop((8, 10), padding=2)(batch)
    assert out.shape == batch.shape and out.dtype == batch.dtype and out.flags.c_contiguous
    pad = [(0, 0)] * batch.ndim
    pad[axes[0]] = pad[axes[1]] = (2, 2)
    padded = np.pad(batch, pad)
    assert all(_is_window(o, p, axes) for o, p in zip(out, padded, strict=True))
    assert not all(np.array_equal(o, b) for o, b in zip(out, batch, strict=True))


def test_random_crop_smaller_and_identity() -> None:
    assert T.RandomCrop(4)(HWC).shape == (6, 4, 4, 3)
    np.testing.assert_array_equal(T.RandomCrop((8, 10))(CHW), CHW)
    with pytest.raises(ValueError, match="larger than the padded image"):
        T.RandomCrop(20, padding=1)(HWC)


def test_grayscale_matches_pil() -> None:
    Image = pytest.importorskip("PIL.Image")
    out = T.Grayscale()(HWC)
    expected = np.stack([np.asarray(Image.fromarray(x).convert("L")) for x in HWC])
    np.testing.assert_array_equal(out, expected)
    three = T.Grayscale(3)(HWC)
    assert three.shape == HWC.shape and np.array_equal(three[..., 2], out)


def test_grayscale_float_and_errors() -> None:
    out = T.Grayscale(1)(CHW)
    assert out.shape == (6, 1, 8, 10)
    np.testing.assert_allclose(
        out[:, 0], 0.299 * CHW[:, 0] + 0.587 * CHW[:, 1] + 0.114 * CHW[:, 2], rtol=1e-5
    )
    with pytest.raises(ValueError, match="1 or 3"):
        T.Grayscale(2)
    with pytest.raises(ValueError, match=r"\(B,H,W,3\)"):
        T.Grayscale()(HW)


def test_gaussian_noise_statistics_and_clip() -> None:
    backend.manual_seed(0)
    x = np.full((64, 1, 28, 28), 0.5, np.float32)
    out = T.GaussianNoise(0.1, clip=None)(x)
    assert out.dtype == np.float32 and abs(float((out - x).std()) - 0.1) < 0.005
    clipped = T.GaussianNoise(1.0)(x)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    with pytest.raises(TypeError, match="ToTensor"):
        T.GaussianNoise(0.1)(HW)
    with pytest.raises(ValueError, match="std"):
        T.GaussianNoise(-1)


def test_random_transforms_follow_manual_seed() -> None:
    aug = T.Compose(
        [T.RandomCrop(8, padding=2), T.RandomHorizontalFlip(), T.ToTensor(), T.GaussianNoise(0.1)]
    )
    backend.manual_seed(42)
    a = aug(HWC)
    backend.manual_seed(42)
    b = aug(HWC)
    np.testing.assert_array_equal(a, b)
    with use_generator(np.random.default_rng(42)):
        c = aug(HWC)
    with use_generator(np.random.default_rng(42)):
        d = aug(HWC)
    np.testing.assert_array_equal(c, d)


def test_compose_lambda_and_pipeline() -> None:
    pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5),
                          T.Lambda(lambda x: x.reshape(len(x), -1), batched=True)])
    out = pipeline(HW)
    assert out.shape == (6, 80) and out.min() >= -1 and out.max() <= 1
    assert "Normalize" in repr(pipeline) and "ToTensor" in repr(pipeline)
    assert "batched=True" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)  # type: ignore[arg-type]


def test_single_image_is_rejected_with_advice() -> None:
    with pytest.raises(ValueError, match="whole batches"):
        T.RandomHorizontalFlip()(HW[0, 0])


def test_a_function_of_one_sample_means_what_it_means_in_torch() -> None:
    """torchvision's transforms and users' lambdas take one sample: ``ds[i]`` gives it the
    sample, a batch runs it on each sample; deepgrad's own (batched) ones take batches."""
    import deepgrad
    from deepgrad.data import mnist_sample
    from deepgrad.utils.data import DataLoader

    def one_hot(y: int) -> deepgrad.Tensor:  # the PyTorch Transforms tutorial's target_transform
        return deepgrad.zeros(10, dtype=deepgrad.float).scatter_(0, deepgrad.tensor(y), value=1)

    flat = T.Compose([T.ToTensor(), T.Lambda(lambda x: x.flatten())])
    ds = mnist_sample(train=False, transform=flat, target_transform=T.Lambda(one_hot))
    x, y = ds[3]
    assert isinstance(x, deepgrad.Tensor) and x.shape == (784,)
    np.testing.assert_array_equal(x.numpy(), ds.data[3].reshape(-1) / np.float32(255))
    assert isinstance(y, deepgrad.Tensor)
    assert y.numpy().tolist() == np.eye(10)[ds.targets[3]].tolist()
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 784)
    np.testing.assert_array_equal(yb.numpy(), np.eye(10, dtype=np.float32)[ds.targets[:5]])

    plain = mnist_sample(train=False, transform=lambda img: img.reshape(-1) / 255.0)
    xb, _ = next(iter(DataLoader(plain, batch_size=4)))
    assert xb.shape == (4, 784)  # not a (4*784,) batch flattened whole
    raw_x, raw_y = mnist_sample(train=False)[0]
    assert isinstance(raw_x, np.ndarray) and raw_x.dtype == np.uint8 and raw_x.shape == (28, 28)
    assert type(raw_y) is int  # as torchvision's int(target)
    assert T.on_sample(T.RandomHorizontalFlip(p=1.0), HW[0]).tolist() == HW[0, :, ::-1].tolist()
