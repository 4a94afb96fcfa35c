"""Ranking, margin and likelihood losses (``ops/loss_margin.py``) against torch: float64
gradcheck and float32 parity of each loss and reduction, and the modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn
import deepgrad.nn.functional as F
from helpers import check_op, torch_or_skip

torch = torch_or_skip()
TF = torch.nn.functional
RNG = np.random.default_rng(0)
SIGNS = np.where(RNG.random(5) > 0.5, 1.0, -1.0)
LABELS = (RNG.random((5, 4)) > 0.5).astype(np.float64)
CLASSES = np.array([0, 3, 1, 2, 3])
COUNTS = RNG.integers(0, 6, (5, 4)).astype(np.float64)

F32 = np.float32
# name -> (function, differentiated inputs, constant inputs after them, keyword arguments)
CASES: dict[str, tuple[str, list[Any], list[Any], dict[str, Any]]] = {
    "margin_ranking": ("margin_ranking_loss", [(5,), (5,)], [SIGNS.astype(F32)],
                       {"margin": 0.3}),
    "hinge_embedding": ("hinge_embedding_loss", [(5,)], [SIGNS.astype(F32)], {"margin": 1.5}),
    "soft_margin": ("soft_margin_loss", [(5, 4)], [np.where(LABELS > 0, 1.0, -1.0).astype(F32)],
                    {}),
    "multilabel_soft_margin": ("multilabel_soft_margin_loss", [(5, 4)], [LABELS.astype(F32)],
                               {}),
    "cosine_embedding": ("cosine_embedding_loss", [(5, 3), (5, 3)], [SIGNS.astype(F32)],
                         {"margin": 0.2}),
    "triplet": ("triplet_margin_loss", [(5, 3), (5, 3), (5, 3)], [], {"margin": 2.0}),
    "triplet_swap_p1": ("triplet_margin_loss", [(5, 3), (5, 3), (5, 3)], [],
                        {"p": 1.0, "swap": True, "margin": 3.0}),
    "multi_margin": ("multi_margin_loss", [(5, 4)], [CLASSES], {}),
    "multi_margin_p2_weight": ("multi_margin_loss", [(5, 4)], [CLASSES],
                               {"p": 2, "margin": 0.5,
                                "weight": np.array([1.0, 2.0, 0.5, 1.5], F32)}),
    "gaussian_nll": ("gaussian_nll_loss", [(5, 4), (5, 4), np.abs(RNG.standard_normal((5, 4)))
                                           + 0.1], [], {"full": True}),
    "gaussian_nll_shared_var": ("gaussian_nll_loss", [(5, 4), (5, 4), np.abs(
        RNG.standard_normal((5, 1))) + 0.1], [], {}),
    "poisson_nll": ("poisson_nll_loss", [(5, 4)], [COUNTS.astype(F32)], {}),
    "poisson_nll_rates_full": ("poisson_nll_loss", [np.abs(RNG.standard_normal((5, 4))) + 0.2],
                               [COUNTS.astype(F32)], {"log_input": False, "full": True}),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CASES))
def test_loss_matches_torch(case: str, reduction: str) -> None:
    name, shapes, constants, kwargs = CASES[case]

    def call(lib: Any, tensor: Any) -> Any:
        options = {k: tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}

        def fn(*args: Any) -> Any:
            floats = args[:len(shapes)]
            rest = [c.to(floats[0].dtype) if c.dtype.kind == "f" else c  # gradcheck: float64
                    for c in args[len(shapes):]] if lib is F else list(args[len(shapes):])
            if lib is F and "weight" in options:
                options["weight"] = options["weight"].to(floats[0].dtype)
            return getattr(lib, name)(*floats, *rest, **options, reduction=reduction)
        return fn

    check_op(call(F, deepgrad.tensor), shapes, call(TF, torch.tensor), extra=constants)


def test_modules_match_torch() -> None:
    x1, x2, x3 = (RNG.standard_normal((5, 3)).astype(np.float32) for _ in range(3))
    y = SIGNS.astype(np.float32)
    pairs: list[tuple[Any, Any, tuple[Any, ...]]] = [
        (nn.MarginRankingLoss(0.1), torch.nn.MarginRankingLoss(0.1), (x1[:, 0], x2[:, 0], y)),
        (nn.CosineEmbeddingLoss(0.2), torch.nn.CosineEmbeddingLoss(0.2), (x1, x2, y)),
        (nn.TripletMarginLoss(swap=True), torch.nn.TripletMarginLoss(swap=True), (x1, x2, x3)),
        (nn.TripletMarginWithDistanceLoss(margin=0.5),
         torch.nn.TripletMarginWithDistanceLoss(margin=0.5), (x1, x2, x3)),
        (nn.SoftMarginLoss(), torch.nn.SoftMarginLoss(), (x1[:, 0], y)),
        (nn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), (np.abs(x1[:, 0]), y)),
        (nn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss(), (x1, x2, np.abs(x3) + 0.1)),
        (nn.PoissonNLLLoss(), torch.nn.PoissonNLLLoss(), (x1, np.abs(np.round(x2 * 3)))),
        (nn.MultiLabelSoftMarginLoss(), torch.nn.MultiLabelSoftMarginLoss(),
         (x1, (x2 > 0).astype(np.float32))),
    ]
    for ours, theirs, args in pairs:
        got = ours(*(deepgrad.tensor(a) for a in args))
        want = theirs(*(torch.tensor(a) for a in args))
        np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=type(ours).__name__)
    got = nn.MultiMarginLoss()(deepgrad.tensor(x1), deepgrad.tensor(np.array([0, 2, 1, 1, 0])))
    want = torch.nn.MultiMarginLoss()(torch.tensor(x1), torch.tensor(np.array([0, 2, 1, 1, 0])))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_errors() -> None:
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.soft_margin_loss(deepgrad.zeros(2), deepgrad.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(deepgrad.zeros(2), deepgrad.zeros(2), deepgrad.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(deepgrad.zeros(2, 3), deepgrad.tensor([0, 1]), p=3)
