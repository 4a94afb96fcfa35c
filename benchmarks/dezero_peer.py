"""DeZero (Saito's "Deep Learning from Scratch 3" framework) as an optional peer.

``pip install -e ".[bench]"`` installs it; without it the benchmark skips the column.
The shim gives DeZero the few torch-shaped names that ``run.make_step`` uses
(``nn.Conv2d(in, out, k, padding=)``, ``nn.Linear(in, out)``, ``F.cross_entropy``,
``opt.zero_grad()/step()``), each mapped onto DeZero's own layer or function, so both
run the same model on the same data. DeZero has no ELU; model B gets it from DeZero's
own primitives, ``relu(x) + exp(-relu(-x)) - 1``, as a DeZero user would write it.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace
from typing import Any

import numpy as np


def available() -> bool:
    return importlib.util.find_spec("dezero") is not None


class Unsupported(Exception):
    """The model uses a layer DeZero does not have."""


class DeZero:
    """The ``Framework`` face of DeZero (see ``run.Framework``)."""

    name = "dezero"

    def __init__(self) -> None:
        # DeZero 0.0.13 evaluates ``np.int`` (removed in NumPy 1.24) as a default argument
        # when ``dezero.transforms`` is imported; the alias exists only during the import.
        added = not hasattr(np, "int")
        if added:
            np.int = int  # type: ignore[attr-defined]
        try:
            import dezero
        finally:
            if added:
                del np.int  # type: ignore[attr-defined]
        import dezero.functions as F
        import dezero.layers as L
        from dezero import optimizers

        self._dz, self._optimizers = dezero, optimizers

        class Fn(L.Layer):
            def __init__(self, f: Any) -> None:
                super().__init__()
                self.f = f

            def forward(self, x: Any) -> Any:
                return self.f(x)

        class Sequential(dezero.models.Sequential):
            def train(self) -> None:
                dezero.Config.train = True

            def eval(self) -> None:
                dezero.Config.train = False

            def parameters(self) -> Any:
                return self

        def unsupported(name: str) -> Any:
            def make(*args: Any, **kwargs: Any) -> Any:
                raise Unsupported(f"DeZero has no {name}")
            return make

        self.nn = SimpleNamespace(
            Sequential=Sequential,
            Flatten=lambda: Fn(F.flatten),
            Linear=lambda i, o: L.Linear(o, in_size=i),
            Conv2d=lambda i, o, k, padding=0: L.Conv2d(o, k, pad=padding, in_channels=i),
            ReLU=lambda: Fn(F.relu),
            Sigmoid=lambda: Fn(F.sigmoid),
            MaxPool2d=lambda k, s: Fn(lambda x: F.pooling(x, k, s)),
            Dropout=lambda p: Fn(lambda x: F.dropout(x, p)),
            ELU=lambda: Fn(lambda x: F.relu(x) + F.exp(-F.relu(-x)) - 1),
            BatchNorm2d=unsupported("BatchNorm2d with torch's signature"),
        )
        self.F = SimpleNamespace(cross_entropy=F.softmax_cross_entropy,
                                 mse_loss=F.mean_squared_error)
        self.lib = SimpleNamespace(manual_seed=np.random.seed, no_grad=dezero.no_grad)

    def tensor(self, array: np.ndarray) -> Any:
        return self._dz.Variable(array)

    def optimizer(self, kind: str, model: Any) -> Any:
        if kind == "sgd":
            opt = self._optimizers.SGD(lr=0.01)
        elif kind == "momentum":
            opt = self._optimizers.MomentumSGD(lr=0.01, momentum=0.9)
        else:
            opt = self._optimizers.Adam(alpha=1e-3)
        opt.setup(model)
        return SimpleNamespace(zero_grad=model.cleargrads, step=opt.update)
