"""Checked downloads against a local HTTP server on 127.0.0.1 (these machines are offline)."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from deepgrad.data import (
    CIFAR10,
    MNIST,
    ChecksumError,
    DownloadError,
    check_integrity,
    download_url,
)
from idx_files import mnist_files


class Server:
    """Serves ``files`` by path; ``/broken/...`` cuts the body in half; ``/error/...`` is a 500."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server.hits.append(self.path)
                if self.path.startswith("/error/"):
                    self.send_error(500, "boom")
                    return
                broken = self.path.startswith("/broken/")
                name = self.path.removeprefix("/broken")
                if name not in server.files:
                    self.send_error(404)
                    return
                body = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if broken else body)
                self.wfile.flush()
                if broken:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


PAYLOAD = bytes(range(256)) * 4000  # ~1 MB: several read chunks


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_success_with_sha256_and_md5(server: Server, tmp_path: Path) -> None:
    server.files["/a.bin"] = PAYLOAD
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    dest = download_url(f"{server.url}/a.bin", tmp_path / "a.bin", sha256=sha, progress=False)
    assert dest.read_bytes() == PAYLOAD and _leftovers(tmp_path) == ["a.bin"]
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    download_url(f"{server.url}/a.bin", tmp_path / "b.bin", md5=md5, progress=True)
    assert check_integrity(tmp_path / "b.bin", md5=md5)


def test_wrong_checksum_leaves_nothing(server: Server, tmp_path: Path) -> None:
    server.files["/a.bin"] = PAYLOAD
    with pytest.raises(ChecksumError) as info:
        download_url(f"{server.url}/a.bin", tmp_path / "a.bin", sha256="0" * 64, progress=False)
    message = str(info.value)
    assert "a.bin" in message and "expected sha256 " + "0" * 64 in message
    assert hashlib.sha256(PAYLOAD).hexdigest() in message
    assert _leftovers(tmp_path) == []


def test_server_error_mid_file_leaves_nothing(server: Server, tmp_path: Path) -> None:
    server.files["/a.bin"] = PAYLOAD
    with pytest.raises(DownloadError, match=r"broken/a.bin") as info:
        download_url(f"{server.url}/broken/a.bin", tmp_path / "a.bin", progress=False)
    assert not isinstance(info.value, ChecksumError)
    assert _leftovers(tmp_path) == []


def test_failed_mirrors_fall_through_to_a_good_one(server: Server, tmp_path: Path) -> None:
    server.files["/a.bin"] = PAYLOAD
    urls = [f"{server.url}/error/a.bin", f"{server.url}/broken/a.bin", f"{server.url}/a.bin"]
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    download_url(urls, tmp_path / "a.bin", md5=md5, progress=False)
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD
    assert server.hits == ["/error/a.bin", "/broken/a.bin", "/a.bin"]


def test_all_mirrors_fail_lists_each(server: Server, tmp_path: Path) -> None:
    urls = [f"{server.url}/error/x", f"{server.url}/missing/x"]
    with pytest.raises(DownloadError) as info:
        download_url(urls, tmp_path / "x", progress=False)
    message = str(info.value)
    assert (
        "/error/x" in message and "500" in message and "/missing/x" in message and "404" in message
    )


def test_existing_good_file_is_not_fetched_again(server: Server, tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(PAYLOAD)
    download_url(f"{server.url}/a.bin", tmp_path / "a.bin", md5=hashlib.md5(PAYLOAD).hexdigest())
    assert server.hits == []


def test_existing_bad_file_is_replaced(server: Server, tmp_path: Path) -> None:
    server.files["/a.bin"] = PAYLOAD
    (tmp_path / "a.bin").write_bytes(b"stale")
    download_url(
        f"{server.url}/a.bin",
        tmp_path / "a.bin",
        md5=hashlib.md5(PAYLOAD).hexdigest(),
        progress=False,
    )
    assert (tmp_path / "a.bin").read_bytes() == PAYLOAD


def test_mnist_download_true(server: Server, isolated: Path, monkeypatch) -> None:
    files, md5 = mnist_files(6, 4), {}
    for name, blob in files.items():
        server.files[f"/mnist/{name}"] = blob
        md5[name] = hashlib.md5(blob).hexdigest()
    monkeypatch.setattr(MNIST, "mirrors", (f"{server.url}/error/", f"{server.url}/mnist/"))
    monkeypatch.setattr(MNIST, "md5", md5)
    ds = MNIST(train=False, download=True)
    assert len(ds) == 4 and ds.targets.tolist() == [0, 1, 2, 3]
    assert sorted(_leftovers(isolated / "data" / "mnist")) == sorted(files)
    assert len(MNIST(train=True)) == 6  # both splits were fetched


def test_mnist_download_bad_checksum(server: Server, isolated: Path, monkeypatch) -> None:
    server.files["/mnist/train-images-idx3-ubyte.gz"] = b"not mnist"
    monkeypatch.setattr(MNIST, "mirrors", (f"{server.url}/mnist/",))
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        MNIST(download=True)
    assert _leftovers(isolated / "data" / "mnist") == []


def test_cifar_download_true(server: Server, isolated: Path, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for name in names:
            batch = {
                "data": rng.integers(0, 256, (3, 3072), dtype=np.uint8),
                "labels": [1, 2, 3],
                "batch_label": name,
                "filenames": [b"a.png", b"b.png", b"c.png"],
            }
            blob = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    archive = buf.getvalue()
    server.files["/cifar-10-python.tar.gz"] = archive
    monkeypatch.setattr(CIFAR10, "url", f"{server.url}/cifar-10-python.tar.gz")
    monkeypatch.setattr(CIFAR10, "archive_md5", hashlib.md5(archive).hexdigest())
    ds = CIFAR10(train=True, download=True)
    assert ds.data.shape == (15, 32, 32, 3) and ds.targets[:3].tolist() == [1, 2, 3]
    assert (isolated / "data" / "cifar-10-batches-py" / "test_batch").is_file()


def test_extract_refuses_paths_outside(tmp_path: Path) -> None:
    from deepgrad.data import CorruptFileError, extract_tar

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(CorruptFileError, match=r"evil.tar.gz.*'../escaped.txt'"):
        extract_tar(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
