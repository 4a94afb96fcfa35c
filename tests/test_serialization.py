"""deepgrad.save / deepgrad.load: safetensors + JSON, atomic, never pickle."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
from deepgrad.serialization import CheckpointError

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def model() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 4 * 4, 3))


def assert_same(a: object, b: object) -> None:
    """Equal structure, key types, order, dtypes and bytes (a tensor is compared as the
    array it views: ``load`` gives arrays back)."""
    a = a.detach().numpy() if isinstance(a, deepgrad.Tensor) else a
    b = b.detach().numpy() if isinstance(b, deepgrad.Tensor) else b
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)  # type: ignore[arg-type]
        assert [type(k) for k in a] == [type(k) for k in b]  # type: ignore[union-attr]
        for k in a:
            assert_same(a[k], b[k])  # type: ignore[index]
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)  # type: ignore[arg-type]
        for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape  # type: ignore[union-attr]
        assert a.tobytes() == np.ascontiguousarray(b).tobytes()
    else:
        assert a == b or (a != a and b != b), (a, b)


def test_model_state_dict_round_trip_is_byte_identical(tmp_path: Path) -> None:
    net = model()
    net(deepgrad.randn(2, 1, 6, 6))  # move the running stats
    path = tmp_path / "net.safetensors"
    deepgrad.save(net.state_dict(), path)
    loaded = deepgrad.load(path)
    assert_same(dict(net.state_dict()), dict(loaded))
    assert loaded["1.num_batches_tracked"].dtype == np.int64
    assert loaded["1.num_batches_tracked"].shape == ()
    fresh = model()
    fresh.load_state_dict(loaded)
    assert_same(dict(fresh.state_dict()), dict(net.state_dict()))
    # It is a plain safetensors file: the keys are the state-dict names.
    plain = safetensors_numpy.load_file(str(path))
    assert set(plain) == set(net.state_dict())


def test_optimizer_state_with_int_keys_round_trips(tmp_path: Path) -> None:
    net = model()
    opt = deepgrad.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.99))
    for _ in range(3):
        opt.zero_grad()
        net(deepgrad.randn(2, 1, 6, 6)).sum().backward()
        opt.step()
    checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                  "best": 0.25, "name": "mnist_cnn", "done": False, "note": None,
                  "history": [1.5, 0.75, float("nan")], "rng": deepgrad.get_rng_state()}
    path = tmp_path / "ckpt.safetensors"
    deepgrad.save(checkpoint, path)
    loaded = deepgrad.load(path)
    assert_same(checkpoint, loaded)
    state = loaded["optimizer"]["state"]
    assert list(state) == list(range(len(list(net.parameters()))))
    assert all(isinstance(k, int) for k in state)
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    # and it restores an optimizer that continues exactly like the original
    net2 = model()
    net2.load_state_dict(loaded["model"])
    opt2 = deepgrad.optim.Adam(net2.parameters(), lr=1e-3, betas=(0.9, 0.99))
    opt2.load_state_dict(loaded["optimizer"])
    x = deepgrad.randn(2, 1, 6, 6)
    for o, n in ((opt, net), (opt2, net2)):
        o.zero_grad()
        n(x).sum().backward()
        o.step()
    for (k, a), b in zip(net.state_dict().items(), net2.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=k)


def test_transposed_and_odd_arrays_round_trip() -> None:
    """The safetensors NumPy writer copies raw buffers: views must be made contiguous."""
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    obj = {
        "transposed": base.T,
        "strided": base[:, ::2],
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        "big_endian": np.arange(4, dtype=">i4"),
        "bools": np.array([True, False, True]),
        "empty": np.zeros((0, 3), np.float32),
        "scalar": np.float32(1.5),
        "int_scalar": np.int64(7),
        "tensor": deepgrad.tensor([[1.0, 2.0]], requires_grad=True),
        "weight_t": nn.Linear(3, 2).weight.data.numpy().T,
    }
    loaded = deepgrad.load(io.BytesIO(deepgrad.serialization._bytes_of(obj)))
    for key in ("transposed", "strided", "fortran", "bools", "empty", "weight_t"):
        np.testing.assert_array_equal(loaded[key], obj[key])
        assert loaded[key].dtype == obj[key].dtype
    np.testing.assert_array_equal(loaded["big_endian"], [0, 1, 2, 3])
    assert loaded["scalar"] == np.float32(1.5) and loaded["scalar"].dtype == np.float32
    assert loaded["int_scalar"] == 7 and loaded["int_scalar"].dtype == np.int64
    assert isinstance(loaded["tensor"], deepgrad.Tensor) and loaded["tensor"].requires_grad


def test_transposed_weight_module_round_trip(tmp_path: Path) -> None:
    net = nn.Linear(5, 3)
    with deepgrad.no_grad():
        # a non-contiguous layout
        net.weight.data = deepgrad.from_numpy(np.asfortranarray(net.weight.data.numpy()))
    assert not net.weight.data.numpy().flags.c_contiguous
    net.save(tmp_path / "lin.safetensors")
    other = nn.Linear(5, 3).load(tmp_path / "lin.safetensors")
    np.testing.assert_array_equal(other.weight.data.numpy(), net.weight.data.numpy())


def test_name_collisions_and_key_types_survive() -> None:
    obj = {"a": {"b": np.ones(2)}, "a.b": np.zeros(2), 7: "seven", 2.5: [1, (2, 3)],
           False: None, "nested": OrderedDict([("z", 1), ("y", 2)])}
    loaded = deepgrad.load(io.BytesIO(deepgrad.serialization._bytes_of(obj)))
    assert_same(obj, loaded)


def test_unsupported_objects_are_refused_by_path() -> None:
    with pytest.raises(TypeError, match=r"type set at 'config.tags'.*never pickles"):
        deepgrad.save({"config": {"tags": {"a"}}}, io.BytesIO())
    with pytest.raises(TypeError, match="dtype complex128"):
        deepgrad.save({"z": np.ones(2, complex)}, io.BytesIO())
    with pytest.raises(TypeError, match=r"type Linear.*model.state_dict\(\)"):
        deepgrad.save(nn.Linear(2, 2), io.BytesIO())


def test_pickles_and_torch_files_are_refused(tmp_path: Path) -> None:
    pkl = tmp_path / "model.pkl"
    pkl.write_bytes(pickle.dumps({"w": [1, 2]}))
    with pytest.raises(CheckpointError, match=r"model\.pkl.*pickle.*never unpickles"):
        deepgrad.load(pkl)
    pt = tmp_path / "model.pt"
    with zipfile.ZipFile(pt, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(CheckpointError, match=r"model\.pt.*torch\.save.*safetensors"):
        deepgrad.load(pt)


def test_real_torch_save_is_refused(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "real.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(CheckpointError, match="never unpickles"):
        deepgrad.load(path)


def test_truncated_and_corrupted_files_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.safetensors"
    deepgrad.save(model().state_dict(), path)
    data = path.read_bytes()

    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) - 10])
    with pytest.raises(CheckpointError, match=r"truncated\.safetensors.*truncated"):
        deepgrad.load(truncated)

    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(data[:5])
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors.*only 5 bytes"):
        deepgrad.load(tiny)

    flipped = bytearray(data)
    flipped[-3] ^= 0xFF  # a byte of the last array's payload
    bad = tmp_path / "bitflip.safetensors"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match=r"bitflip\.safetensors.*CRC-32.*corrupted"):
        deepgrad.load(bad)

    header = bytearray(data)
    header[10] = ord("{") if header[10] != ord("{") else ord("[")
    broken = tmp_path / "header.safetensors"
    broken.write_bytes(bytes(header))
    with pytest.raises(CheckpointError, match=r"header\.safetensors"):
        deepgrad.load(broken)

    garbage = tmp_path / "random.bin"
    garbage.write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.raises(CheckpointError, match=r"random\.bin"):
        deepgrad.load(garbage)


def test_tampered_metadata_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "meta.safetensors"
    deepgrad.save({"epoch": 3, "w": np.ones(2)}, path)
    data = path.read_bytes()
    needle = b'epoch\\",3'
    assert needle in data
    path.write_bytes(data.replace(needle, b'epoch\\",4'))
    with pytest.raises(CheckpointError, match=r"meta\.safetensors.*structure.*CRC-32"):
        deepgrad.load(path)


def test_saved_file_gets_the_usual_mode(tmp_path: Path) -> None:
    path = tmp_path / "mode.safetensors"
    umask = os.umask(0o022)
    try:
        deepgrad.save({"w": np.ones(1)}, path)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    deepgrad.save({"w": np.zeros(1)}, path)  # overwriting keeps the file's mode
    assert path.stat().st_mode & 0o777 == 0o600


def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ckpt.safetensors"
    deepgrad.save({"w": np.ones(3)}, path)
    original = path.read_bytes()

    def crash(fd: int) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        deepgrad.save({"w": np.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == original  # the old checkpoint is intact
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary left behind
    np.testing.assert_array_equal(deepgrad.load(path)["w"], np.ones(3))


def test_foreign_safetensors_file_loads_as_dict(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    theirs = torch.nn.Linear(3, 2)
    path = tmp_path / "from_torch.safetensors"
    save_file(theirs.state_dict(), str(path))
    ours = nn.Linear(3, 2)
    ours.load_state_dict(deepgrad.load(path))
    np.testing.assert_array_equal(ours.weight.data.numpy(), theirs.weight.detach().numpy())


def test_load_errors_for_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        deepgrad.load(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match="folder"):
        deepgrad.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        deepgrad.save({"w": np.ones(1)}, tmp_path / "no" / "such" / "dir.safetensors")


# ---- hardening: the CRC covers the header too -------------------------------------------------
def _checkpoint_bytes() -> bytes:
    return deepgrad.serialization._bytes_of(
        {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "step": 3})


def test_a_changed_dtype_in_the_header_is_refused_not_loaded_as_other_numbers() -> None:
    data = _checkpoint_bytes()
    assert data.count(b'"F32"') == 1
    edited = data.replace(b'"F32"', b'"I32"')  # same size: the framing still adds up
    with pytest.raises(deepgrad.serialization.CheckpointError,
                       match=r"header \(dtypes, shapes, offsets or format tag\) fails"):
        deepgrad.load(io.BytesIO(edited))


def test_a_changed_shape_in_the_header_is_refused() -> None:
    data = _checkpoint_bytes()
    edited = data.replace(b'"shape":[2,3]', b'"shape":[3,2]')
    assert edited != data
    with pytest.raises(deepgrad.serialization.CheckpointError, match="fails its CRC-32"):
        deepgrad.load(io.BytesIO(edited))


def test_an_edited_format_tag_does_not_switch_the_checks_off() -> None:
    data = _checkpoint_bytes()
    tag = deepgrad.serialization.FORMAT.encode()
    edited = data.replace(tag, tag[:-1] + b"X")
    with pytest.raises(deepgrad.serialization.CheckpointError, match="format tag"):
        deepgrad.load(io.BytesIO(edited))


def test_a_sealed_checkpoint_is_still_a_plain_safetensors_file(tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    path = tmp_path / "c.safetensors"
    deepgrad.save({"w": np.arange(6, dtype=np.float32)}, path)
    np.testing.assert_array_equal(load_file(str(path))["w"], np.arange(6, dtype=np.float32))
    assert deepgrad.load(path)["w"].dtype == np.float32
