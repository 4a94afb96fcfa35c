"""Report 001's MNIST CNN, trained on deepgrad with the report's own PyTorch code.

The model class is the report's, unchanged; the only port is the imports
(``import deepgrad as torch``, ``deepgrad.nn as nn``, ``deepgrad.nn.functional
as F``). Training follows the report's PyTorch version: Adam at 1e-4 on the
cross-entropy plus an L2 penalty ``lambda * sum ||W||^2`` added to the loss
(lambda = 1e-3), the way the report does it after TF1's collection-based L2
failed to reach the gradients. The report trained 7 epochs of 60,000 images
with batch size 5; on a CPU NumPy backend the defaults below take a few
thousand images so the run finishes in about a minute and still shows the
loss going down.

Run:  python examples/mnist_cnn.py [--train-size 4000] [--epochs 1] [--batch-size 50]
                                   [--lr 1e-3] [--l2 1e-3] [--save mnist_cnn.safetensors]
Data: $DEEPGRAD_DATA (the project's tests point it at ../shared/datasets), or
``--data sample`` for the 5,000-image sample shipped inside deepgrad.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import deepgrad as torch
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from deepgrad import optim
from deepgrad.data import MNIST, DataLoader, Subset
from deepgrad.data import transforms as T


class CNN(nn.Module):  # report 001, task 1, verbatim
    def __init__(self):
        super(CNN, self).__init__()  # noqa: UP008
        #in, out, kernel, padding(both sides=>*2)
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2) # 1 28 28 -> 32 28 28 -> 32 14 14
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2) # 32 14 14 -> 64 14 14 -> 64 7 7
        self.pool = nn.MaxPool2d(2, 2, padding=0)
        self.fc1 = nn.Linear(64*7*7, 1024) #64*7*7 -> 1024
        self.fc2 = nn.Linear(1024, 10) #1024 -> 10
        self.dpout = nn.Dropout(p=0.5)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(x)
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 64*7*7)
        x = F.relu(self.fc1(x))
        x = self.dpout(x)
        x = self.fc2(x)
        #print(x.shape) is important
        return x


def l2_penalty(model: nn.Module) -> torch.Tensor:
    """``sum ||W||^2`` over the weights (not the biases), as the report's ``l2_loss``."""
    return sum((p * p).sum() for name, p in model.named_parameters() if name.endswith("weight"))


def accuracy(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(1) == y).sum().item())
            total += len(y)
    model.train()
    return correct / max(total, 1)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--test-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3,
                        help="Adam learning rate (the report: 1e-4 with 7 full epochs)")
    parser.add_argument("--l2", type=float, default=1e-3, help="lambda of the L2 penalty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="data folder, or 'sample'")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--save", default=None, help="write a checkpoint here at the end")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    transform = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    train = MNIST(root=args.data, train=True, transform=transform)
    test = MNIST(root=args.data, train=False, transform=transform)
    train = Subset(train, np.arange(min(args.train_size, len(train))))
    test = Subset(test, np.arange(min(args.test_size, len(test))))
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test, batch_size=500)

    model = CNN()
    print(model)
    torch.summary(model, (1, 28, 28))
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    step, start, first, last = 0, time.perf_counter(), None, None
    for epoch in range(args.epochs):
        running = []
        for x, y in train_loader:
            optimizer.zero_grad()
            cross_entropy = F.cross_entropy(model(x), y)
            loss = cross_entropy + args.l2 * l2_penalty(model)
            loss.backward()
            optimizer.step()
            running.append(cross_entropy.item())
            step += 1
            if step % args.log_every == 0:
                mean = float(np.mean(running[-args.log_every:]))
                first = mean if first is None else first
                last = mean
                print(f"epoch {epoch + 1} step {step:4d}  cross-entropy {mean:.4f}  "
                      f"loss+L2 {loss.item():.4f}  ({time.perf_counter() - start:.0f}s)",
                      flush=True)
    acc = accuracy(model, test_loader)
    print(f"test accuracy on {len(test)} images: {acc:.4f}")
    if first is not None and last is not None:
        print(f"cross-entropy went from {first:.4f} to {last:.4f}")
    if args.save:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epochs": args.epochs}, args.save)
        print(f"saved {args.save}")
    return {"accuracy": acc, "first_loss": first or float("nan"), "last_loss": last or float("nan")}


if __name__ == "__main__":
    main()
