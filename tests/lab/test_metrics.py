"""Every metric against a case computed by hand, and against its definition written as a loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deepgrad
from deepgrad.lab import metrics as M

# 6 samples, 3 classes. Predictions (argmax of the scores): 0, 1, 1, 2, 2, 0
SCORES = np.array([
    [2.0, 1.0, 0.0],  # pred 0, true 0  right
    [0.1, 3.0, 0.2],  # pred 1, true 1  right
    [0.3, 0.9, 0.8],  # pred 1, true 2  wrong (2 is second)
    [0.0, 0.1, 5.0],  # pred 2, true 2  right
    [1.0, 0.5, 1.5],  # pred 2, true 0  wrong (0 is second)
    [0.7, 0.6, 0.1],  # pred 0, true 1  wrong (1 is second)
], dtype=np.float32)
TARGETS = np.array([0, 1, 2, 2, 0, 1])


def test_accuracy_by_hand() -> None:
    assert M.accuracy(SCORES, TARGETS) == pytest.approx(3 / 6)
    assert M.accuracy(np.array([0, 1, 1]), np.array([0, 1, 0])) == pytest.approx(2 / 3)
    # tensors are read through .data
    assert M.accuracy(deepgrad.tensor(SCORES), deepgrad.tensor(TARGETS)) == pytest.approx(0.5)


def test_accuracy_binary_logits_and_probabilities() -> None:
    logits = np.array([[-1.0], [2.0], [0.5], [-0.2]], dtype=np.float32)
    targets = np.array([0, 1, 0, 0])
    assert M.accuracy(logits, targets) == pytest.approx(3 / 4)  # logit > 0 means class 1
    probs = np.array([0.2, 0.9, 0.4, 0.6])
    assert M.accuracy(probs, targets, threshold=0.5) == pytest.approx(3 / 4)
    assert M.accuracy(logits, targets.astype(np.float32)) == pytest.approx(3 / 4)


def test_top_k_accuracy_by_hand() -> None:
    assert M.top_k_accuracy(SCORES, TARGETS, k=1) == pytest.approx(3 / 6)
    assert M.top_k_accuracy(SCORES, TARGETS, k=2) == pytest.approx(6 / 6)
    assert M.top_k_accuracy(SCORES, TARGETS, k=3) == 1.0
    assert M.top_k_accuracy(SCORES, TARGETS, k=10) == 1.0  # k larger than C is all classes


def test_confusion_matrix_by_hand() -> None:
    cm = M.confusion_matrix(SCORES, TARGETS)
    expected = np.array([
        [1, 0, 1],  # true 0: one predicted 0, one predicted 2
        [1, 1, 0],  # true 1: one predicted 0, one predicted 1
        [0, 1, 1],  # true 2: one predicted 1, one predicted 2
    ])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    assert M.confusion_matrix(np.array([0, 0]), np.array([0, 0]), num_classes=4).shape == (4, 4)


def test_per_class_accuracy_by_hand_and_absent_class_is_nan() -> None:
    np.testing.assert_allclose(M.per_class_accuracy(SCORES, TARGETS), [0.5, 0.5, 0.5])
    acc = M.per_class_accuracy(np.array([0, 1]), np.array([0, 1]), num_classes=3)
    assert acc[0] == 1.0 and acc[1] == 1.0 and math.isnan(acc[2])


def test_precision_recall_f1_by_hand() -> None:
    # preds 0,0,1,1,1 against 0,1,1,1,0:
    # class 0: tp 1, predicted 2, actual 2 -> P 1/2 R 1/2 F1 1/2
    # class 1: tp 2, predicted 3, actual 3 -> P 2/3 R 2/3 F1 2/3
    preds, targets = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0])
    p, r, f = M.precision_recall_f1(preds, targets, average=None)
    np.testing.assert_allclose(p, [1 / 2, 2 / 3])
    np.testing.assert_allclose(r, [1 / 2, 2 / 3])
    np.testing.assert_allclose(f, [1 / 2, 2 / 3])
    assert M.f1_score(preds, targets) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert M.precision(preds, targets) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert M.recall(preds, targets) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_precision_of_a_never_predicted_class_is_zero() -> None:
    p, r, f = M.precision_recall_f1(np.array([0, 0, 0]), np.array([0, 1, 1]), average=None)
    np.testing.assert_allclose(p, [1 / 3, 0.0])
    np.testing.assert_allclose(r, [1.0, 0.0])
    np.testing.assert_allclose(f, [0.5, 0.0])
    with pytest.raises(ValueError, match="average"):
        M.precision(np.array([0]), np.array([0]), average="weighted")


def test_regression_metrics_by_hand() -> None:
    out = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert M.mse(out, target) == pytest.approx((0 + 1 + 4 + 16) / 4)
    assert M.mae(out, target) == pytest.approx((0 + 1 + 2 + 4) / 4)
    with pytest.raises(ValueError, match="mse"):
        M.mse(np.zeros((2, 3)), np.zeros((3, 3)))


def test_psnr_by_hand() -> None:
    clean = np.zeros((2, 1, 2, 2))
    noisy = clean.copy()
    noisy[0] += 0.1  # MSE 0.01 -> 20 dB
    noisy[1] += 0.01  # MSE 1e-4 -> 40 dB
    np.testing.assert_allclose(M.psnr_per_sample(noisy, clean), [20.0, 40.0], rtol=1e-6)
    assert M.psnr(noisy, clean) == pytest.approx(30.0)
    assert M.psnr(noisy * 255, clean, data_range=255.0) == pytest.approx(30.0)
    assert M.psnr(clean, clean) == math.inf


def test_bad_shapes_name_the_metric() -> None:
    with pytest.raises(ValueError, match="accuracy"):
        M.accuracy(SCORES, TARGETS[:3])
    with pytest.raises(ValueError, match="top_k_accuracy"):
        M.top_k_accuracy(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="to_labels"):
        M.accuracy(np.zeros((2, 3, 4)), np.zeros(2))


def test_get_metric_by_name() -> None:
    from deepgrad.lab.registry import get_metric

    assert get_metric("acc")[0] == "accuracy"
    name, fn = get_metric("top2_accuracy")
    assert name == "top2_accuracy" and fn(SCORES, TARGETS) == 1.0
    assert get_metric(M.mse) == ("mse", M.mse)
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("bleu")


# --------------------------------------------------------------- against the definitions
def _loop_confusion(preds: list[int], targets: list[int], c: int) -> np.ndarray:
    cm = np.zeros((c, c), dtype=np.int64)
    for p, t in zip(preds, targets, strict=True):
        cm[t, p] += 1
    return cm


@st.composite
def _classification(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    c = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c)).astype(np.float32), rng.integers(0, c, size=n)


@settings(max_examples=60, deadline=None)
@given(_classification())
def test_classification_metrics_match_loops(case: tuple[np.ndarray, np.ndarray]) -> None:
    scores, targets = case
    n, c = scores.shape
    preds = [int(np.argmax(row)) for row in scores]
    assert M.accuracy(scores, targets) == pytest.approx(
        sum(p == t for p, t in zip(preds, targets, strict=True)) / n)
    cm = _loop_confusion(preds, list(targets), c)
    np.testing.assert_array_equal(M.confusion_matrix(scores, targets), cm)
    for k in (1, 2, c):
        hits = sum(t in np.argsort(-row, kind="stable")[:k] for row, t in zip(scores, targets,
                                                                             strict=True))
        assert M.top_k_accuracy(scores, targets, k) == pytest.approx(hits / n)
    precision, recall, f1 = [], [], []
    for k in range(c):
        tp = cm[k, k]
        p = tp / cm[:, k].sum() if cm[:, k].sum() else 0.0
        r = tp / cm[k, :].sum() if cm[k, :].sum() else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    got = M.precision_recall_f1(scores, targets, average=None)
    np.testing.assert_allclose(got[0], precision)
    np.testing.assert_allclose(got[1], recall)
    np.testing.assert_allclose(got[2], f1)
    assert M.f1_score(scores, targets) == pytest.approx(np.mean(f1))
    per_class = M.per_class_accuracy(scores, targets)
    for k in range(c):
        if cm[k].sum():
            assert per_class[k] == pytest.approx(cm[k, k] / cm[k].sum())
        else:
            assert math.isnan(per_class[k])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_regression_metrics_match_definitions(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    out, target = rng.random((n, d)), rng.random((n, d))
    diffs = [float(o - t) for row_o, row_t in zip(out, target, strict=True)
             for o, t in zip(row_o, row_t, strict=True)]
    assert M.mse(out, target) == pytest.approx(sum(e * e for e in diffs) / len(diffs))
    assert M.mae(out, target) == pytest.approx(sum(abs(e) for e in diffs) / len(diffs))
    per_sample = [10 * math.log10(1 / np.mean((o - t) ** 2)) for o, t in zip(out, target,
                                                                             strict=True)]
    np.testing.assert_allclose(M.psnr_per_sample(out, target), per_sample, rtol=1e-10)


def test_metrics_match_torch_where_torch_has_them() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    out, target = rng.normal(size=(7, 5)).astype(np.float32), rng.normal(size=(7, 5))
    target = target.astype(np.float32)
    expected_mse = torch.nn.functional.mse_loss(torch.tensor(out), torch.tensor(target)).item()
    expected_mae = torch.nn.functional.l1_loss(torch.tensor(out), torch.tensor(target)).item()
    assert M.mse(out, target) == pytest.approx(expected_mse, rel=1e-5)
    assert M.mae(out, target) == pytest.approx(expected_mae, rel=1e-5)
    labels = rng.integers(0, 5, size=7)
    _, top3 = torch.tensor(out).topk(3, dim=1)
    expected = (top3 == torch.tensor(labels)[:, None]).any(dim=1).float().mean().item()
    assert M.top_k_accuracy(out, labels, 3) == pytest.approx(expected)
