"""ImageFolder over folders and tarballs, and its refusals."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from deepgrad.data import CorruptFileError, ImageFolder

Image = pytest.importorskip("PIL.Image")


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _tree(rng: np.random.Generator, splits=("train", "test"), classes=("cat", "dog"), n=3):
    """{relative path: pixels} for a <split>/<class>/<i>.png tree (PNG: lossless)."""
    files = {}
    for split in splits:
        for c in classes:
            for i in range(n):
                prefix = f"{split}/" if split else ""
                files[f"{prefix}{c}/{i}.png"] = rng.integers(0, 256, (8, 6, 3), dtype=np.uint8)
    return files


def _write_dir(root: Path, files) -> Path:
    for name, pixels in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pixels if isinstance(pixels, bytes) else _png(pixels))
    return root


def _write_tar(path: Path, files) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, pixels in files.items():
            blob = pixels if isinstance(pixels, bytes) else _png(pixels)
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return path


@pytest.fixture
def files():
    return _tree(np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["dir", "tar"])
def test_reads_splits_exactly(isolated: Path, files, kind: str) -> None:
    if kind == "dir":
        source = _write_dir(isolated / "tree", files)
    else:
        source = _write_tar(isolated / "tree.tar.gz", files)
    train = ImageFolder(source, split="train")
    assert train.classes == ["cat", "dog"] and train.class_to_idx == {"cat": 0, "dog": 1}
    assert train.data.shape == (6, 8, 6, 3) and train.data.dtype == np.uint8
    assert train.targets.tolist() == [0, 0, 0, 1, 1, 1]
    for name, x in zip(train.files, train.data, strict=True):
        np.testing.assert_array_equal(x, files[name])
    test = ImageFolder(source, split="test")
    np.testing.assert_array_equal(test.data[5], files["test/dog/2.png"])


def test_tar_gz_with_pax_headers_uses_tarfile(isolated: Path, files) -> None:
    path = isolated / "pax.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, pixels in files.items():
            blob = _png(pixels)
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            info.pax_headers = {"path": name}  # per-file pax header: the slow, general path
            tar.addfile(info, io.BytesIO(blob))
    ds = ImageFolder(path, split="test")
    np.testing.assert_array_equal(ds.data[0], files["test/cat/0.png"])


def test_grayscale_mode(isolated: Path) -> None:
    files = {"a/0.png": np.full((4, 4, 3), 200, np.uint8), "b/0.png": np.zeros((4, 4, 3), np.uint8)}
    ds = ImageFolder(_write_dir(isolated / "g", files), mode="L")
    assert ds.data.shape == (2, 4, 4) and ds.data[0, 0, 0] == 200


def test_no_split_level(isolated: Path) -> None:
    files = _tree(np.random.default_rng(1), splits=("",), n=2)
    ds = ImageFolder(_write_tar(isolated / "flat.tar", files))
    assert len(ds) == 4 and ds.classes == ["cat", "dog"]


def test_ambiguous_splits_need_split_argument(isolated: Path, files) -> None:
    with pytest.raises(ValueError, match=r"split folders \['test', 'train'\].*split="):
        ImageFolder(_write_dir(isolated / "t", files))


def test_unknown_split_lists_found(isolated: Path, files) -> None:
    with pytest.raises(CorruptFileError, match=r"no images under val/.*\['test', 'train'\]"):
        ImageFolder(_write_dir(isolated / "t", files), split="val")


def test_tar_without_class_folders(isolated: Path) -> None:
    files = {"0.png": np.zeros((4, 4, 3), np.uint8)}
    with pytest.raises(CorruptFileError, match=r"noclass.tar.*'0.png' is not inside a class"):
        ImageFolder(_write_tar(isolated / "noclass.tar", files))


def test_tar_without_images(isolated: Path) -> None:
    with pytest.raises(CorruptFileError, match="empty.tar.gz: no images"):
        ImageFolder(_write_tar(isolated / "empty.tar.gz", {"README.txt": b"hello"}))


def test_mixed_sizes_are_an_error(isolated: Path) -> None:
    files = {"a/0.png": np.zeros((4, 4, 3), np.uint8), "b/0.png": np.zeros((5, 4, 3), np.uint8)}
    with pytest.raises(CorruptFileError, match="one size"):
        ImageFolder(_write_dir(isolated / "m", files))


def test_corrupt_image_names_the_file(isolated: Path, files) -> None:
    files["train/dog/1.png"] = b"\x89PNG not really"
    with pytest.raises(CorruptFileError, match=r"train/dog/1.png: cannot decode"):
        ImageFolder(_write_tar(isolated / "bad.tar.gz", files), split="train")


def test_truncated_tar_gz(isolated: Path, files) -> None:
    path = _write_tar(isolated / "cut.tar.gz", files)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match="cut.tar.gz"):
        ImageFolder(path, split="train")


def test_missing_source(isolated: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        ImageFolder(isolated / "nope")


def test_decoding_in_worker_processes_matches_serial(isolated: Path, monkeypatch) -> None:
    from deepgrad.data.datasets import image_tree

    files = _tree(np.random.default_rng(3), n=5)
    source = _write_tar(isolated / "w.tar.gz", files)
    monkeypatch.setattr(image_tree, "CHUNK", 4)
    names_a, serial = image_tree._decode_all(source, "RGB", workers=1)
    monkeypatch.setattr(image_tree, "_can_fork", lambda: True)
    names_b, parallel = image_tree._decode_all(source, "RGB", workers=2)
    assert names_a == names_b
    np.testing.assert_array_equal(serial, parallel)


def test_the_cache_sees_a_file_moved_to_another_class(isolated: Path, files) -> None:
    source = _write_dir(isolated / "tree", files)
    before = ImageFolder(source, split="train")  # decodes and caches
    assert before.targets.tolist() == [0, 0, 0, 1, 1, 1]
    # a rename keeps every size and mtime: only the file list tells
    (source / "train/cat/0.png").rename(source / "train/dog/9.png")
    after = ImageFolder(source, split="train")
    assert after.targets.tolist() == [0, 0, 1, 1, 1, 1]
    assert "train/dog/9.png" in after.files and "train/cat/0.png" not in after.files


def test_the_cache_sees_a_renamed_class(isolated: Path, files) -> None:
    source = _write_dir(isolated / "tree", files)
    assert ImageFolder(source, split="train").classes == ["cat", "dog"]
    for split in ("train", "test"):
        (source / split / "cat").rename(source / split / "kitten")
    again = ImageFolder(source, split="train")
    assert again.classes == ["dog", "kitten"]
    assert again.targets.tolist() == [0, 0, 0, 1, 1, 1]  # dog first now
