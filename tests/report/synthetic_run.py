"""Run folders written by hand, following docs/run-folder.md, from small synthetic arrays.

The report tests read these instead of training, so they are fast and know the
exact numbers every figure should show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

CLASS_NAMES = [str(k) for k in range(10)]

MODEL_TXT = """\
Layer (type)          Output shape      Param #
-------------------------------------------------
conv1 (Conv2d)        (8, 4, 28, 28)         40
relu1 (ReLU)          (8, 4, 28, 28)          0
pool (MaxPool2d)      (8, 4, 14, 14)          0
fc1 (Linear)          (8, 32)            25,120
fc2 (Linear)          (8, 10)               330
-------------------------------------------------
Total params: 25,490
Trainable params: 25,490
"""

GRAPH_DOT = """digraph autograd {
  node [shape=box, style="rounded,filled", fillcolor="#e8edf3"];
  x [label="input\\n(8, 1, 28, 28)", shape=ellipse];
  w1 [label="conv1.weight\\n(4, 1, 3, 3)", fillcolor="#cfe3fb"];
  conv [label="Conv2dBackward\\n(8, 4, 28, 28)"];
  relu [label="ReLUBackward\\n(8, 4, 28, 28)"];
  pool [label="MaxPool2dBackward\\n(8, 4, 14, 14)"];
  w2 [label="fc1.weight\\n(32, 784)", fillcolor="#cfe3fb"];
  fc [label="LinearBackward\\n(8, 32)"];
  out [label="output\\n(8, 10)", fillcolor="#cdebd0"];
  x -> conv; w1 -> conv; conv -> relu -> pool -> fc; w2 -> fc; fc -> out;
}
"""


def _digit_images(n: int, rng: np.random.Generator, size: int = 28) -> np.ndarray:
    """Blurry blobs that look like something: uint8 (n, size, size)."""
    yy, xx = np.mgrid[0:size, 0:size]
    cx = rng.uniform(8, 20, (n, 1, 1))
    cy = rng.uniform(8, 20, (n, 1, 1))
    r = rng.uniform(3, 7, (n, 1, 1))
    ring = np.exp(-((np.hypot(xx - cx, yy - cy) - r) ** 2) / 3.0)
    return (255 * ring).astype(np.uint8)


def classification_predictions(n: int = 200, classes: int = 10, seed: int = 0
                               ) -> dict[str, np.ndarray]:
    """Probabilities with a known structure: ~80% right, a few confident mistakes."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, classes, n).astype(np.int64)
    logits = rng.normal(0, 1, (n, classes))
    logits[np.arange(n), targets] += 3.0
    wrong = rng.random(n) < 0.2
    other = (targets + rng.integers(1, classes, n)) % classes
    logits[np.flatnonzero(wrong), other[wrong]] += 5.0 * rng.random(int(wrong.sum())) + 1
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    preds = probs.argmax(axis=1).astype(np.int64)
    conf = probs.max(axis=1)
    w = np.flatnonzero(preds != targets)
    r = np.flatnonzero(preds == targets)
    index = np.concatenate([w[np.argsort(-conf[w], kind="stable")][:64],
                            r[np.argsort(conf[r], kind="stable")][:64]]).astype(np.int64)
    images = _digit_images(n, rng)
    return {"probs": probs, "targets": targets, "preds": preds,
            "class_names": np.array(CLASS_NAMES[:classes]), "gallery_index": index,
            "gallery_images": images[index]}


def metrics_records(epochs: int = 4, steps_per_epoch: int = 10, lr: float = 0.1,
                    seed: int = 0, decay: float = 0.5) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    records: list[dict[str, Any]] = []
    step = 0
    for e in range(epochs):
        rate = lr * (0.5 ** e)
        for _ in range(steps_per_epoch):
            step += 1
            loss = 2.3 * np.exp(-decay * step / steps_per_epoch) + 0.1 * rng.random()
            records.append({"kind": "step", "epoch": e, "step": step, "loss": float(loss),
                            "lr": rate, "time": 0.01 * step, "accuracy": float(1 - loss / 2.5)})
        train_loss = 2.3 * np.exp(-decay * (e + 1)) + 0.05
        records.append({"kind": "epoch", "epoch": e + 1, "step": step,
                        "train_loss": float(train_loss),
                        "train_accuracy": float(1 - train_loss / 3),
                        "val_loss": float(train_loss + 0.1),
                        "val_accuracy": float(1 - (train_loss + 0.1) / 3), "lr": rate,
                        "time": 0.1, "samples_per_sec": 1000.0})
    records.append({"kind": "test", "test_loss": 0.5, "test_accuracy": 0.8})
    return records


def histograms(steps: int = 3, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {"steps": np.arange(1, steps + 1, dtype=np.int64) * 10}
    layers = {"weight": ["conv1.weight", "fc1.weight"], "grad": ["conv1.weight", "fc1.weight"],
              "act": ["conv1", "fc1", "sig"]}
    for kind, names in layers.items():
        for name in names:
            counts, edges, stats = [], [], []
            for s in range(steps):
                values = rng.normal(0.1 * s, 1.0 + 0.3 * s, 500)
                if kind == "act" and name != "sig":
                    values = np.maximum(values, 0)
                if name == "sig":
                    values = 1 / (1 + np.exp(-3 * values))
                c, e = np.histogram(values, bins=30)
                counts.append(c)
                edges.append(e)
                stats.append([values.mean(), values.std(), values.min(), values.max()])
            out[f"{kind}/{name}/counts"] = np.array(counts, dtype=np.int64)
            out[f"{kind}/{name}/edges"] = np.array(edges, dtype=np.float32)
            out[f"{kind}/{name}/stats"] = np.array(stats, dtype=np.float32)
    out["act/conv1/dead_frac"] = np.array([0.3, 0.4, 0.5][:steps], dtype=np.float32)
    out["act/fc1/dead_frac"] = np.array([0.1, 0.2, 0.25][:steps], dtype=np.float32)
    out["act/sig/saturated_frac"] = np.array([0.05, 0.1, 0.3][:steps], dtype=np.float32)
    return out


def activations(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = _digit_images(8, rng).astype(np.float32)[:, None] / 255
    w = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
    conv = np.stack([np.roll(inputs[:, 0], k, axis=1) * (k + 1) for k in range(4)], axis=1)
    return {"inputs": inputs, "conv1": conv.astype(np.float32),
            "pool": conv[:, :, ::2, ::2].astype(np.float32),
            "fc1": rng.random((8, 32)).astype(np.float32), "weights/conv1": w}


def boundary(epochs: int = 3, grid: int = 40, seed: int = 0) -> dict[str, np.ndarray]:
    """A boundary that rotates into the true one (x > 0 is class 1)."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(-1, 1, (80, 2)).astype(np.float32)
    labels = (points[:, 0] > 0).astype(np.int64)
    xx = np.linspace(-1.2, 1.2, grid, dtype=np.float32)
    yy = np.linspace(-1.2, 1.2, grid, dtype=np.float32)
    gx, gy = np.meshgrid(xx, yy)
    probs = []
    for e in range(epochs):
        angle = (1 - (e + 1) / epochs) * 0.8
        score = 6 * (np.cos(angle) * gx + np.sin(angle) * gy)
        p1 = 1 / (1 + np.exp(-score))
        probs.append(np.stack([1 - p1, p1], axis=-1))
    return {"xx": xx, "yy": yy, "probs": np.array(probs, dtype=np.float32),
            "epochs": np.arange(1, epochs + 1, dtype=np.int64), "points": points,
            "labels": labels}


def denoise(n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    clean = _digit_images(n, rng).astype(np.float32) / 255
    noisy = np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1).astype(np.float32)
    recon = np.clip(clean + rng.normal(0, 0.05, clean.shape), 0, 1).astype(np.float32)
    err = ((clean - recon) ** 2).reshape(n, -1).mean(axis=1).astype(np.float32)
    return {"clean": clean, "noisy": noisy, "recon": recon, "mse": err,
            "psnr": (10 * np.log10(1 / err)).astype(np.float32)}


def config(name: str = "mnist-cnn", optimizer: str = "sgd", lr: float = 0.1,
           model: str = "cnn") -> dict[str, Any]:
    return {"name": name, "model": {"name": model, "hidden": 32},
            "data": {"name": "mnist", "root": None, "val_split": 0.1, "subset": 200,
                     "transforms": ["to_tensor"], "batch_size": 32},
            "optimizer": {"name": optimizer, "lr": lr, "momentum": 0.9},
            "scheduler": None, "loss": "cross_entropy", "epochs": 4, "batch_size": 32,
            "seed": 0, "logging": {"histograms": True}}


def write_run(root: Path, name: str = "mnist-cnn", *, task: str = "classification",
              files: tuple[str, ...] = ("predictions", "activations", "histograms", "graph",
                                        "model"),
              optimizer: str = "sgd", lr: float = 0.1, seed: int = 0, decay: float = 0.5,
              status: str = "completed") -> Path:
    """A complete run folder; ``files`` picks which optional files it has."""
    path = root / f"{name}-20250101-000000"
    path.mkdir(parents=True)
    (path / "config.yaml").write_text(yaml.safe_dump(config(name, optimizer, lr),
                                                     sort_keys=False))
    records = metrics_records(seed=seed, lr=lr, decay=decay)
    if task == "autoencoder":
        records = [{k: v for k, v in r.items() if "accuracy" not in k} for r in records]
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    last = [r for r in records if r["kind"] == "epoch"][-1]
    final = {k: v for k, v in last.items() if k.startswith(("train_", "val_"))}
    final.update({k: v for k, v in records[-1].items() if k != "kind"})
    summary = {"name": name, "model": "cnn", "status": status, "epochs_completed": 4,
               "params": 25490, "final": final,
               "best": {"epoch": 4, "monitor": "val_loss", "value": last["val_loss"]},
               "wall_time": 1.5, "samples_per_sec": 1000.0,
               "versions": {"deepgrad": "0.1.0", "numpy": np.__version__, "python": "3.11"},
               "machine": {"platform": "linux", "processor": "x86_64", "cpus": 2},
               "task": task, "error": None}
    (path / "summary.json").write_text(json.dumps(summary, indent=2))
    if "predictions" in files:
        arrays = classification_predictions(seed=seed) if task == "classification" \
            else denoise(seed=seed)
        np.savez_compressed(path / "predictions.npz", **arrays)
    if "activations" in files:
        np.savez_compressed(path / "activations.npz", **activations(seed))
    if "histograms" in files:
        np.savez_compressed(path / "histograms.npz", **histograms(seed=seed))
    if "boundary" in files:
        np.savez_compressed(path / "boundary.npz", **boundary(seed=seed))
    if "graph" in files:
        (path / "graph.dot").write_text(GRAPH_DOT)
    if "model" in files:
        (path / "model.txt").write_text(MODEL_TXT)
    return path
