"""Train a config's model in PyTorch on the very arrays deepgrad builds for it.

When a reproduction falls short, this separates the model and recipe from the
framework: the same split, the same transforms (applied once, without random
augmentation), the same optimizer, batch size and epochs, in torch.

    python experiments/torch_reference.py experiments/lenet5.yaml \\
        --set data.val_split=5000 --set epochs=20 --data-dir ../shared/datasets

Prints one JSON line per epoch (train loss and accuracy, validation and test
accuracy). Models: report 002's LeNet-5 and tutorial CNN (their activation and
pooling options included). Needs torch (the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np


def torch_model(name: str, kwargs: dict[str, Any]) -> Any:
    """The zoo model ``name`` written in torch.nn, layer for layer."""
    from torch import nn

    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[kwargs.get("activation",
                                                        "tanh" if name == "lenet5" else "relu")]
    if name == "lenet5":
        pool = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}[kwargs.get("pooling", "avg")]
        return nn.Sequential(nn.Conv2d(3, 6, 5), act(), pool(2, 2), nn.Conv2d(6, 16, 5), act(),
                             pool(2, 2), nn.Conv2d(16, 120, 5), act(), nn.Flatten(),
                             nn.Linear(120, 84), act(), nn.Linear(84, 10))
    if name == "tutorial-cnn":
        return nn.Sequential(nn.Conv2d(3, 6, 5), act(), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5),
                             act(), nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(400, 120), act(),
                             nn.Linear(120, 84), act(), nn.Linear(84, 10))
    raise SystemExit(f"torch_reference: no torch version of model {name!r} "
                     f"(lenet5, tutorial-cnn)")


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    import torch
    import torch.nn.functional as F

    from deepgrad.lab.config import load_config
    from deepgrad.lab.experiment import build

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--data-dir")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    overrides = list(args.set) + ([f"data.root={args.data_dir}"] if args.data_dir else [])
    config = load_config(args.config, overrides)
    if config.optimizer.name.lower() != "adam" or config.scheduler is not None:
        raise SystemExit("torch_reference: only Adam without a scheduler is mirrored")
    torch.set_num_threads(args.threads)
    exp = build(config)

    def arrays(ds: Any) -> tuple[Any, Any]:
        if ds is None:
            return None, None
        x, y = ds.get_batch(np.arange(len(ds)))
        return torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y)).long()

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = map(
        arrays, (exp.train_data, exp.val_data, exp.test_data))
    torch.manual_seed(config.seed)
    model = torch_model(config.model.name, dict(config.model.kwargs))
    opt = torch.optim.Adam(model.parameters(), lr=config.optimizer.lr,
                           **config.optimizer.kwargs)

    def accuracy(x: Any, y: Any) -> float | None:
        if x is None:
            return None
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    rng = np.random.default_rng(config.seed)
    start, history = time.perf_counter(), []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.from_numpy(rng.permutation(len(x_tr)))
        total = 0.0
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        row = {"epoch": epoch, "train_loss": total / len(x_tr),
               "train_accuracy": accuracy(x_tr, y_tr), "val_accuracy": accuracy(x_va, y_va),
               "test_accuracy": accuracy(x_te, y_te), "time": time.perf_counter() - start}
        print(json.dumps(row), flush=True)
        history.append(row)
    return history


if __name__ == "__main__":
    main()
