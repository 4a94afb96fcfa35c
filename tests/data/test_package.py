"""The package face: public names, and a core that imports without Pillow or tqdm."""

from __future__ import annotations

import subprocess
import sys

import deepgrad.data as data


def test_public_names() -> None:
    for name in data.__all__:
        assert hasattr(data, name), name
    for name in ("Compose", "ToTensor", "Normalize", "RandomHorizontalFlip", "RandomCrop"):
        assert hasattr(data.transforms, name)
    assert "load_arrays" in (data.__doc__ or "") and 'root="sample"' in (data.__doc__ or "")


def test_core_works_without_pillow_and_tqdm() -> None:
    code = (
        "import sys; sys.modules['PIL'] = None; sys.modules['tqdm'] = None\n"
        "import deepgrad.data as d\n"
        "ds = d.mnist_sample(train=False, transform=d.transforms.ToTensor())\n"
        "x, y = next(iter(d.DataLoader(ds, 4, collate_fn=d.as_arrays)))\n"
        "assert x.shape == (4, 1, 28, 28)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
