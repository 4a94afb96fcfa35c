"""The course reports' own model classes, run unchanged on deepgrad and on PyTorch.

Each class (in ``tests/report_models.py``) is the report's source text, executed twice: once with
``nn``/``F``/``torch`` bound to PyTorch and once to deepgrad (``import deepgrad
as torch``). Torch's weights are loaded into deepgrad through ``load_state_dict``;
then parameter names, counts, logits and every parameter's gradient of the
cross-entropy loss must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as dnn
from helpers import torch_or_skip
from report_models import CASES, REPORT_001_MNIST, build, logits_of


@pytest.mark.parametrize("case", list(CASES))
def test_report_model_matches_torch(case: str) -> None:
    torch = torch_or_skip()
    source, name, args, input_shape, expected_params = CASES[case]
    torch.manual_seed(0)
    theirs = build(source, name, args, torch)
    ours = build(source, name, args, deepgrad)

    assert sum(p.numel() for p in theirs.parameters()) == expected_params
    assert sum(p.numel() for p in ours.parameters()) == expected_params
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [tuple(p.shape) for p in ours.parameters()] == \
        [tuple(p.shape) for p in theirs.parameters()]

    ours.load_state_dict(theirs.state_dict())
    ours.eval()  # dropout off in both, so the two runs are the same function
    theirs.eval()

    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, *input_shape)).astype(np.float32)
    target = np.array([3, 1, 0, 9])
    out_t = theirs(torch.from_numpy(x))
    out_d = ours(deepgrad.tensor(x))
    np.testing.assert_allclose(logits_of(out_d).data.numpy(), logits_of(out_t).detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    if isinstance(out_t, tuple):
        np.testing.assert_allclose(out_d[1].data.numpy(), out_t[1].detach().numpy(), rtol=1e-4,
                                   atol=1e-6)

    loss_t = torch.nn.functional.cross_entropy(logits_of(out_t), torch.from_numpy(target))
    loss_d = dnn.functional.cross_entropy(logits_of(out_d), deepgrad.tensor(target))
    np.testing.assert_allclose(loss_d.item(), loss_t.item(), rtol=1e-5)
    loss_t.backward()
    loss_d.backward()
    torch_grads = {n: p.grad.numpy() for n, p in theirs.named_parameters()}
    for n, p in ours.named_parameters():
        assert p.grad is not None, f"{case}: no gradient reached {n}"
        scale = float(np.abs(torch_grads[n]).max()) or 1.0
        np.testing.assert_allclose(p.grad.data.numpy(), torch_grads[n], rtol=1e-3,
                                   atol=1e-4 * scale,
                                   err_msg=f"{case}: gradient of {n} differs from torch")


def test_summary_prints_report_001_total(capsys: pytest.CaptureFixture[str]) -> None:
    model = build(REPORT_001_MNIST, "CNN", (), deepgrad)
    result = deepgrad.summary(model, (1, 28, 28))
    printed = capsys.readouterr().out
    assert "Total params: 3,274,634" in printed
    assert result.total_params == 3_274_634
    rows = [(r.name, r.output_shape, r.num_params) for r in result.layers]
    assert rows == [
        ("conv1", (2, 32, 28, 28), 832),
        ("pool", (2, 32, 14, 14), 0),
        ("conv2", (2, 64, 14, 14), 51_264),
        ("pool", (2, 64, 7, 7), 0),
        ("fc1", (2, 1024), 3_212_288),
        ("dpout", (2, 1024), 0),
        ("fc2", (2, 10), 10_250),
    ]
    assert result.layers[3].repeat
    assert "[-1, 64, 7, 7]" in printed


def test_report_001_dropout_runs_in_train_mode() -> None:
    """Train mode: dropout active, output still the right shape, gradients flow."""
    model = build(REPORT_001_MNIST, "CNN", (), deepgrad)
    out = model(deepgrad.randn(2, 1, 28, 28))
    dnn.functional.cross_entropy(out, deepgrad.tensor([1, 2])).backward()
    assert out.shape == (2, 10)
    assert all(p.grad is not None for p in model.parameters())

