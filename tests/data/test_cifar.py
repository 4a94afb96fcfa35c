"""CIFAR-10 in its three forms, the restricted unpickler, and the real JPEG copy."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from deepgrad.data import CIFAR10, CorruptFileError, DatasetNotFoundError, UnsafePickleError
from deepgrad.data.datasets import image_tree
from deepgrad.data.safe_pickle import safe_load

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
N = 12  # images per batch file in the small canonical copies


def _batches(seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Rows of 3072 bytes (R, G, B planes) and labels, per canonical batch name."""
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {
        n: (rng.integers(0, 256, (N, 3072), dtype=np.uint8), rng.integers(0, 10, N)) for n in names
    }


def _hwc(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def write_python_batches(folder: Path, batches, bytes_keys: bool = False) -> Path:
    """cifar-10-batches-py exactly as published: one pickled dict per batch, plus meta."""
    out = folder / "cifar-10-batches-py"
    out.mkdir(parents=True)

    def key(k: str):
        return k.encode() if bytes_keys else k

    for name, (rows, labels) in batches.items():
        batch = {
            key("batch_label"): f"{name} of 5".encode() if bytes_keys else f"{name} of 5",
            key("labels"): [int(v) for v in labels],
            key("data"): rows,
            key("filenames"): [f"img_{i}.png".encode() for i in range(len(rows))],
        }
        (out / name).write_bytes(pickle.dumps(batch, protocol=2))
    meta = {key("label_names"): CLASSES, key("num_cases_per_batch"): N, key("num_vis"): 3072}
    (out / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return out


def write_binary_batches(folder: Path, batches) -> Path:
    """cifar-10-batches-bin: records of 1 label byte + 3072 pixel bytes, plus meta.txt."""
    out = folder / "cifar-10-batches-bin"
    out.mkdir(parents=True)
    for name, (rows, labels) in batches.items():
        records = np.concatenate([labels.astype(np.uint8)[:, None], rows], axis=1)
        (out / f"{name}.bin").write_bytes(records.tobytes())
    (out / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n\n")
    return out


@pytest.mark.parametrize("bytes_keys", [False, True])
def test_python_batches(tmp_path: Path, bytes_keys: bool) -> None:
    batches = _batches()
    write_python_batches(tmp_path, batches, bytes_keys)
    train, test = CIFAR10(root=tmp_path), CIFAR10(root=tmp_path, train=False)
    assert train.data.shape == (5 * N, 32, 32, 3) and train.data.dtype == np.uint8
    expected = np.concatenate([_hwc(batches[f"data_batch_{i}"][0]) for i in range(1, 6)])
    np.testing.assert_array_equal(train.data, expected)
    np.testing.assert_array_equal(test.targets, batches["test_batch"][1])
    assert train.targets.dtype == np.int64 and train.classes == CLASSES
    assert train.data.flags.c_contiguous


def test_binary_batches(tmp_path: Path) -> None:
    batches = _batches(1)
    write_binary_batches(tmp_path, batches)
    train, test = CIFAR10(root=tmp_path), CIFAR10(root=tmp_path, train=False)
    np.testing.assert_array_equal(test.data, _hwc(batches["test_batch"][0]))
    labels = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    np.testing.assert_array_equal(train.targets, labels)
    assert train.classes == CLASSES
    red_corner = batches["test_batch"][0][0, 0]  # first byte of the red plane
    assert test.data[0, 0, 0, 0] == red_corner


def test_binary_and_python_agree(tmp_path: Path) -> None:
    batches = _batches(2)
    write_python_batches(tmp_path / "a", batches)
    write_binary_batches(tmp_path / "b", batches)
    a, b = CIFAR10(root=tmp_path / "a"), CIFAR10(root=tmp_path / "b")
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.targets, b.targets)


def test_truncated_binary_batch(tmp_path: Path) -> None:
    out = write_binary_batches(tmp_path, _batches())
    path = out / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptFileError, match="test_batch.bin.*3073-byte records"):
        CIFAR10(root=tmp_path, train=False)


def test_missing_batch_is_named(tmp_path: Path) -> None:
    out = write_python_batches(tmp_path, _batches())
    (out / "data_batch_3").unlink()
    with pytest.raises(CorruptFileError, match="missing data_batch_3"):
        CIFAR10(root=tmp_path)


def test_wrong_shape_in_batch(tmp_path: Path) -> None:
    out = write_python_batches(tmp_path, _batches())
    (out / "test_batch").write_bytes(
        pickle.dumps({"data": np.zeros((3, 100), np.uint8), "labels": [0, 1, 2]}, protocol=2)
    )
    with pytest.raises(CorruptFileError, match=r"test_batch.*uint8 \(N, 3072\)"):
        CIFAR10(root=tmp_path, train=False)


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path: Path) -> None:
    out = write_python_batches(tmp_path, _batches())
    marker = tmp_path / "pwned"
    evil = {"data": np.zeros((1, 3072), np.uint8), "labels": [0], "x": _Evil(marker)}
    (out / "data_batch_1").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"data_batch_1.*refusing.*(posix|os)\.system"):
        CIFAR10(root=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"data": {1, 2}},  # a set: built without find_class, caught by the type walk
        {"data": 1.5},
        [np.array([object()], dtype=object)],
    ],
    ids=["set", "float", "object-array"],
)
def test_only_plain_types_are_admitted(tmp_path: Path, payload) -> None:
    path = tmp_path / "batch"
    try:
        path.write_bytes(pickle.dumps(payload, protocol=2))
    except pickle.PicklingError:  # pragma: no cover
        pytest.skip("cannot pickle this payload")
    with pytest.raises(UnsafePickleError, match="batch"):
        safe_load(path)


def test_restricted_unpickler_refuses_builtins(tmp_path: Path) -> None:
    path = tmp_path / "b"
    path.write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(UnsafePickleError, match="builtins.eval"):
        safe_load(path)


def test_truncated_pickle(tmp_path: Path) -> None:
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": np.zeros(100, np.uint8)}, protocol=2)[:-20])
    with pytest.raises(CorruptFileError, match="not a readable pickle"):
        safe_load(path)


def test_missing_cifar_lists_all_formats(isolated: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as info:
        CIFAR10()
    message = str(info.value)
    for name in ("cifar-10-batches-py", "cifar-10-batches-bin", "cifar10-jpeg.tar.gz"):
        assert str(isolated / "data" / name) in message
    assert "download=True" in message


# ------------------------------------------------------------- the JPEG tree
def _jpeg_tar(path: Path, per_class: int = 1, classes=CLASSES) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for c in classes:
                for i in range(per_class):
                    buf = io.BytesIO()
                    pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                    Image.fromarray(pixels).save(buf, format="JPEG")
                    info = tarfile.TarInfo(f"{split}/{c}/{i:04d}.jpg")
                    info.size = buf.tell()
                    buf.seek(0)
                    tar.addfile(info, buf)


def test_jpeg_tar_cached_next_to_writable_data(isolated: Path, monkeypatch) -> None:
    _jpeg_tar(isolated / "data" / "cifar10-jpeg.tar.gz")
    train = CIFAR10()
    assert train.data.shape == (10, 32, 32, 3) and train.targets.tolist() == list(range(10))
    assert train.files[:2] == ["train/airplane/0000.jpg", "train/automobile/0000.jpg"]
    assert list((isolated / "data" / ".deepgrad-cache").glob("*/index.json"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of using the cache")

    monkeypatch.setattr(image_tree, "_decode_all", no_decoding)
    again = CIFAR10(train=False)
    assert len(again) == 10


def test_jpeg_tar_cached_in_cache_dir_when_read_only(isolated: Path) -> None:
    folder = isolated / "data" / "ro"
    folder.mkdir()
    _jpeg_tar(folder / "cifar10-jpeg.tar.gz")
    folder.chmod(0o555)
    try:
        CIFAR10(root=folder)
        assert not (folder / ".deepgrad-cache").exists()
        assert list((isolated / "cache" / "images").glob("cifar10-jpeg.tar.gz-*/index.json"))
    finally:
        folder.chmod(0o755)


def test_cache_is_rebuilt_when_damaged(isolated: Path) -> None:
    _jpeg_tar(isolated / "data" / "cifar10-jpeg.tar.gz")
    first = CIFAR10()
    (npy,) = (isolated / "data" / ".deepgrad-cache").glob("*/train.images.npy")
    npy.write_bytes(b"garbage")
    np.testing.assert_array_equal(CIFAR10().data, first.data)


@pytest.mark.slow
def test_real_cifar10_jpeg(real_data) -> None:
    real_data("cifar10-jpeg.tar.gz")
    train, test = CIFAR10(train=True), CIFAR10(train=False)
    assert train.data.shape == (50000, 32, 32, 3) and test.data.shape == (10000, 32, 32, 3)
    assert np.bincount(train.targets).tolist() == [5000] * 10
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert train.classes == CLASSES and test.classes == CLASSES
    assert train.files[0] == "train/airplane/0000.jpg"
    assert 100 < train.data.mean() < 150  # natural images, not zeros
