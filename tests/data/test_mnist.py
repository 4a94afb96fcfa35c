"""MNIST and Fashion-MNIST: real files, the embedded samples, and every kind of bad file."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from deepgrad.data import (
    MNIST,
    CorruptFileError,
    DatasetNotFoundError,
    FashionMNIST,
    fashion_mnist_sample,
    load_arrays,
    mnist_sample,
)
from deepgrad.data import (
    transforms as T,
)
from deepgrad.data.datasets.sample import SAMPLE_DIR
from deepgrad.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


# ------------------------------------------------------------------ real data
def test_mnist_real_train(real_data) -> None:
    real_data("mnist")
    ds = MNIST(train=True)
    assert len(ds) == 60000
    assert ds.data.dtype == np.uint8 and ds.data.shape == (60000, 28, 28)
    assert ds.targets.dtype == np.int64 and ds.targets.shape == (60000,)
    assert ds.targets[0] == 5 and ds[0][1] == 5
    assert np.bincount(ds.targets).tolist() == MNIST_TRAIN_COUNTS
    assert len(ds.classes) == 10


def test_mnist_real_test(real_data) -> None:
    real_data("mnist")
    ds = MNIST(train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    assert np.bincount(ds.targets).sum() == 10000


def test_mnist_real_pixels_are_canonical(real_data) -> None:
    """The README's SHA-256 of the uncompressed canonical training images."""
    import hashlib

    path = real_data("mnist") / "train-images-idx3-ubyte.gz"
    digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    assert digest == "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    images = MNIST(train=True).data
    header = bytes.fromhex("00000803") + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    assert hashlib.sha256(header + images.tobytes()).hexdigest() == digest


def test_fashion_mnist_real(real_data) -> None:
    real_data("fashion-mnist")
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert np.bincount(train.targets).tolist() == [6000] * 10
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert train.classes[0] == "T-shirt/top" and train.classes[9] == "Ankle boot"
    assert not np.array_equal(train.data[:100], MNIST(train=True).data[:100])


def test_load_arrays_whole_split(real_data) -> None:
    real_data("mnist")
    x, y = load_arrays("mnist", train=False)
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and y.dtype == np.int64


def test_transform_applies_to_item(real_data) -> None:
    real_data("mnist")
    ds = MNIST(train=False, transform=T.ToTensor())
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    np.testing.assert_array_equal(x[0], ds.data[3] / np.float32(255))


def test_index_out_of_range_names_length() -> None:
    ds = mnist_sample(train=False)
    with pytest.raises(IndexError, match="index 1000 out of range.*1000 samples"):
        ds[1000]
    assert ds[-1][1] == ds.targets[-1]


# ---------------------------------------------------------------- the samples
@pytest.mark.parametrize("make", [mnist_sample, fashion_mnist_sample])
def test_samples_sizes_and_stratification(make) -> None:
    train, test = make(train=True), make(train=False)
    assert train.data.shape == (5000, 28, 28) and test.data.shape == (1000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    assert set(np.unique(train.targets)) == set(range(10))
    assert np.bincount(train.targets).min() >= 400  # every class present in proportion


def test_mnist_sample_is_stratified_against_full_counts() -> None:
    counts = np.bincount(mnist_sample(train=True).targets)
    expected = np.array(MNIST_TRAIN_COUNTS) * 5000 / 60000
    assert np.all(np.abs(counts - expected) < 1) and counts.sum() == 5000


def test_sample_root_and_loader_name_agree() -> None:
    a = MNIST(root="sample", train=False)
    b = load_arrays("mnist-sample", train=False)
    np.testing.assert_array_equal(a.data, b[0])
    assert FashionMNIST(root="sample").classes[0] == "T-shirt/top"


def test_samples_match_the_full_sets(real_data) -> None:
    real_data("mnist")
    for cls in (MNIST, FashionMNIST):
        with np.load(SAMPLE_DIR / f"{cls.sample}.npz") as npz:
            index = npz["index_test"]
        full = cls(train=False)
        sample = cls(root="sample", train=False)
        np.testing.assert_array_equal(sample.data, full.data[index])
        np.testing.assert_array_equal(sample.targets, full.targets[index])


def test_samples_are_small_and_attributed() -> None:
    sizes = sum(p.stat().st_size for p in SAMPLE_DIR.glob("*.npz"))
    assert sizes <= 6_000_000
    note = (SAMPLE_DIR / "ATTRIBUTION.md").read_text()
    assert "CC BY-SA 3.0" in note and "LeCun" in note and "Cortes" in note and "Burges" in note
    assert "Zalando" in note and "MIT" in note


def test_sample_is_read_only() -> None:
    ds = mnist_sample(train=False)
    with pytest.raises(ValueError):
        ds.data[0, 0, 0] = 1


# ------------------------------------------------------------ where data live
def test_missing_dataset_lists_places_and_remedies(isolated: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        MNIST(train=True)
    message = str(info.value)
    assert str(isolated / "data" / "mnist") in message
    assert str(isolated / "data" / "MNIST" / "raw") in message
    assert str(isolated / "home" / ".cache" / "deepgrad" / "datasets" / "mnist") in message
    assert "download=True" in message and "DEEPGRAD_DATA" in message


def test_root_argument_wins(isolated: Path, tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    _write_mnist(folder / "mnist", n=7)
    ds = MNIST(root=folder, train=False)
    assert len(ds) == 7
    with pytest.raises(DatasetNotFoundError, match="root argument"):
        MNIST(root=tmp_path / "nothing-here")


def test_env_variable_and_torchvision_layout(isolated: Path) -> None:
    _write_mnist(isolated / "data" / "FashionMNIST" / "raw", n=4, gz=False)
    ds = FashionMNIST(train=True)
    assert len(ds) == 4 and ds.folder == isolated / "data" / "FashionMNIST" / "raw"


# ------------------------------------------------------------------ bad files
def _idx(magic: int, shape: tuple[int, ...], payload: bytes | None = None) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    if payload is None:
        payload = bytes(int(np.prod(shape)))
    return header + payload


def _write_mnist(folder: Path, n: int, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes()
        labels = rng.integers(0, 10, n, dtype=np.uint8).tobytes()
        for stem, blob in (
            (f"{prefix}-images-idx3-ubyte", _idx(IMAGES_MAGIC, (n, 28, 28), images)),
            (f"{prefix}-labels-idx1-ubyte", _idx(LABELS_MAGIC, (n,), labels)),
        ):
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(blob))
            else:
                (folder / stem).write_bytes(blob)


def test_read_idx_roundtrip(tmp_path: Path) -> None:
    data = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(_idx(IMAGES_MAGIC, (2, 28, 28), data.tobytes())))
    np.testing.assert_array_equal(read_idx(path, IMAGES_MAGIC), data)


def test_truncated_gzip_names_file(tmp_path: Path) -> None:
    blob = gzip.compress(_idx(IMAGES_MAGIC, (3, 28, 28)))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(CorruptFileError, match="train-images-idx3-ubyte.gz.*(truncated|gzip)"):
        read_idx(path, IMAGES_MAGIC)


def test_corrupted_gzip_names_file(tmp_path: Path) -> None:
    blob = bytearray(
        gzip.compress(_idx(IMAGES_MAGIC, (3, 28, 28), bytes(range(256)) * 9 + b"x" * 48))
    )
    blob[20] ^= 0xFF  # flip bits inside the deflate stream
    blob[-6] ^= 0xFF  # and in the CRC
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(CorruptFileError, match="t10k-images-idx3-ubyte.gz"):
        read_idx(path, IMAGES_MAGIC)


def test_wrong_magic_names_expected_and_got(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_idx(LABELS_MAGIC, (5,))))
    with pytest.raises(CorruptFileError, match=r"labels.gz.*expected 2051.*got 2049"):
        read_idx(path, IMAGES_MAGIC)


def test_size_mismatch_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(_idx(IMAGES_MAGIC, (3, 28, 28), bytes(2 * 28 * 28))))
    with pytest.raises(CorruptFileError, match=r"images.gz.*expected 2368 bytes, got 1584"):
        read_idx(path, IMAGES_MAGIC)


def test_tiny_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(CorruptFileError, match="too short"):
        read_idx(path, LABELS_MAGIC)


def test_images_and_labels_disagree(isolated: Path) -> None:
    folder = isolated / "data" / "mnist"
    _write_mnist(folder, n=5)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(LABELS_MAGIC, (4,))))
    with pytest.raises(CorruptFileError, match="5 images but t10k-labels-idx1-ubyte.gz holds 4"):
        MNIST(train=False)


def test_labels_out_of_range(isolated: Path) -> None:
    folder = isolated / "data" / "mnist"
    _write_mnist(folder, n=3)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx(LABELS_MAGIC, (3,), bytes([1, 2, 12])))
    )
    with pytest.raises(CorruptFileError, match="label 12 out of range"):
        MNIST(train=False)
