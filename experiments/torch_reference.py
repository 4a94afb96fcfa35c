"""Train a config's model in PyTorch on the very arrays deepgrad builds for it.

When a reproduction falls short, this separates the model and recipe from the
framework: the same split, the same deterministic transforms (applied once), the same
optimizer, step schedule, batch size and epochs, in torch. Random flips and random
grayscale are drawn per batch by torch (its own random numbers) on the normalised
arrays, which is the same augmentation when the normalisation is the same for every
channel (flips commute with any; luma weights sum to 1).

    python experiments/torch_reference.py experiments/lenet5.yaml \\
        --set data.val_split=5000 --set epochs=20 --data-dir ../shared/datasets
    python experiments/torch_reference.py experiments/cifar-cnn.yaml --data-dir ../shared/datasets

Prints one JSON line per epoch (train loss and accuracy, validation and test
accuracy). Models: report 002's LeNet-5 and tutorial CNN and report 001's CIFAR CNN
(their activation and pooling options included); optimizers Adam and SGD (momentum,
Nesterov, weight decay); scheduler: step or none. Needs torch (the ``dev`` extra).
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
    if name == "cifar-cnn":
        pool = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}[kwargs.get("pooling", "max")]
        k1 = int(kwargs.get("conv1_kernel", 3))
        side = (((32 - k1 + 1) // 2 - 2) // 2 - 2) // 2
        fc_act = {"tanh": nn.Tanh, "relu": nn.ReLU}[kwargs.get("fc_activation", "relu")]
        return nn.Sequential(nn.Conv2d(3, 64, k1), act(), pool(2, 2), nn.Conv2d(64, 128, 3), act(),
                             pool(2, 2), nn.Conv2d(128, 256, 3), act(), pool(2, 2), nn.Flatten(),
                             nn.Linear(256 * side * side, 128), fc_act(), nn.Linear(128, 256),
                             fc_act(), nn.Dropout(float(kwargs.get("dropout", 0.0))),
                             nn.Linear(256, 10))
    raise SystemExit(f"torch_reference: no torch version of model {name!r} "
                     f"(lenet5, tutorial-cnn, cifar-cnn)")


def split_augmentation(transform: Any) -> tuple[Any, list[tuple[str, float]]]:
    """The train transform without its random steps, and those steps as ``(kind, p)``;
    refuses what torch could not apply after normalisation."""
    from deepgrad.data import transforms as T

    steps, random = [], []
    for step in transform.transforms:
        kind = type(step).__name__
        if kind in ("RandomHorizontalFlip", "RandomGrayscale"):
            random.append((kind, float(step.p)))
        elif kind.startswith("Random"):
            raise SystemExit(f"torch_reference: {kind} is not mirrored")
        else:
            steps.append(step)
    if random:
        for step in steps:
            kind = type(step).__name__
            if kind == "SubtractMean" or (kind == "Normalize" and (
                    np.ptp(step.mean) > 0 or np.ptp(step.std) > 0)):
                raise SystemExit("torch_reference: random augmentation is mirrored only "
                                 "after a normalisation that is the same for every channel")
    return T.Compose(steps), random


def augment(x: Any, random: list[tuple[str, float]], generator: Any) -> Any:
    """Each step of ``random`` on a batch (B, 3, H, W), per image with its probability."""
    import torch

    from deepgrad.data.transforms import LUMA_WEIGHTS

    for kind, p in random:
        pick = torch.rand(len(x), generator=generator) < p
        if kind == "RandomHorizontalFlip":
            x = torch.where(pick[:, None, None, None], x.flip(-1), x)
        else:
            weights = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype)
            luma = torch.einsum("bchw,c->bhw", x, weights)[:, None].expand_as(x)
            x = torch.where(pick[:, None, None, None], luma, x)
    return x


def optimizer_and_schedule(config: Any, params: Any) -> tuple[Any, Any]:
    import torch

    name, kwargs = config.optimizer.name.lower(), dict(config.optimizer.kwargs)
    if name == "adam":
        opt = torch.optim.Adam(params, lr=config.optimizer.lr, **kwargs)
    elif name == "sgd":
        opt = torch.optim.SGD(params, lr=config.optimizer.lr, **kwargs)
    else:
        raise SystemExit(f"torch_reference: optimizer {name!r} is not mirrored (adam, sgd)")
    schedule = config.scheduler
    if schedule is None:
        return opt, None
    if schedule.name.lower() != "step":
        raise SystemExit(f"torch_reference: scheduler {schedule.name!r} is not mirrored "
                         f"(step)")
    return opt, torch.optim.lr_scheduler.StepLR(opt, **dict(schedule.kwargs))


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
    torch.set_num_threads(args.threads)
    exp = build(config)
    exp.train_data.transform, random = split_augmentation(exp.train_data.transform)

    def arrays(ds: Any) -> tuple[Any, Any]:
        if ds is None:
            return None, None
        x, y = ds.get_batch(np.arange(len(ds)))
        return torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y)).long()

    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = map(
        arrays, (exp.train_data, exp.val_data, exp.test_data))
    torch.manual_seed(config.seed)
    model = torch_model(config.model.name, dict(config.model.kwargs))
    opt, schedule = optimizer_and_schedule(config, model.parameters())
    generator = torch.Generator().manual_seed(config.seed)

    def accuracy(x: Any, y: Any) -> float | None:
        if x is None:
            return None
        with torch.no_grad():  # in batches: a whole CIFAR split at once would need 11 GB
            hits = sum(int((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum())
                       for i in range(0, len(x), 1000))
        return hits / len(x)

    rng = np.random.default_rng(config.seed)
    start, history = time.perf_counter(), []
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.from_numpy(rng.permutation(len(x_tr)))
        total = 0.0
        for i in range(0, len(order), config.batch_size):
            idx = order[i:i + config.batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(augment(x_tr[idx], random, generator)), y_tr[idx])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        if schedule is not None:
            schedule.step()
        model.eval()
        row = {"epoch": epoch, "train_loss": total / len(x_tr),
               "train_accuracy": accuracy(x_tr, y_tr), "val_accuracy": accuracy(x_va, y_va),
               "test_accuracy": accuracy(x_te, y_te), "time": time.perf_counter() - start}
        print(json.dumps(row), flush=True)
        history.append(row)
    return history


if __name__ == "__main__":
    main()
