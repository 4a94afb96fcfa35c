"""The course reports' own model classes, run unchanged on deepgrad and on PyTorch.

Each class below is the report's source text, executed twice: once with
``nn``/``F``/``torch`` bound to PyTorch and once to deepgrad (``import deepgrad
as torch``). Torch's weights are loaded into deepgrad through ``load_state_dict``;
then parameter names, counts, logits and every parameter's gradient of the
cross-entropy loss must agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as dnn
from helpers import torch_or_skip

# Report 001, task 1 (MNIST), verbatim.
REPORT_001_MNIST = '''
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
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
'''

# Report 001, task 2 (CIFAR-10), verbatim.
REPORT_001_CIFAR = '''
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        #in, out, kernel
        self.conv1 = nn.Conv2d(3, 64, 3) #3 32 32, 64 30 30
        self.conv2 = nn.Conv2d(64, 128, 3) #64 15 15, 128 15 15
        self.conv3 = nn.Conv2d(128, 256, 3) #128 7 7, 256 4 4
        self.pool = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(256*2*2, 128) #256 2 2, 128
        self.fc2 = nn.Linear(128, 256) #128 256
        self.fc3 = nn.Linear(256, 10) #256 10

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.pool(F.relu(self.conv3(x)))
        x = x.view(-1, 256*2*2)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x
'''

# Report 002's first model: "Conv(3,6,5) ReLU MaxPool(2,2) Conv(6,16,5) ReLU FC(16*5*5, 120)
# ReLU FC(120, 84) ReLU FC(84, 10)", from the PyTorch CIFAR-10 tutorial it cites.
REPORT_002_TUTORIAL = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1) # flatten all dimensions except batch
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x
'''

# Report 002's second model: LeNet-5, "Conv(3,6,5) Tanh AvePool(2,2) Conv(6,16,5) Tanh
# AvePool(2,2) Conv(16, 120, 5) Tanh FC(120, 84) Tanh FC(84, 10)", implemented after
# Lewinson (2020) as the report says (with 3 input channels for CIFAR-10).
REPORT_002_LENET5 = '''
class LeNet5(nn.Module):

    def __init__(self, n_classes):
        super(LeNet5, self).__init__()

        self.feature_extractor = nn.Sequential(
            nn.Conv2d(in_channels=3, out_channels=6, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=6, out_channels=16, kernel_size=5, stride=1),
            nn.Tanh(),
            nn.AvgPool2d(kernel_size=2),
            nn.Conv2d(in_channels=16, out_channels=120, kernel_size=5, stride=1),
            nn.Tanh()
        )

        self.classifier = nn.Sequential(
            nn.Linear(in_features=120, out_features=84),
            nn.Tanh(),
            nn.Linear(in_features=84, out_features=n_classes),
        )

    def forward(self, x):
        x = self.feature_extractor(x)
        x = torch.flatten(x, 1)
        logits = self.classifier(x)
        probs = F.softmax(logits, dim=1)
        return logits, probs
'''

CASES = {
    "report001_mnist": (REPORT_001_MNIST, "CNN", (), (1, 28, 28), 3_274_634),
    "report001_cifar": (REPORT_001_CIFAR, "CNN", (), (3, 32, 32), 537_610),
    "report002_tutorial": (REPORT_002_TUTORIAL, "Net", (), (3, 32, 32), 62_006),
    "report002_lenet5": (REPORT_002_LENET5, "LeNet5", (10,), (3, 32, 32), 62_006),
}


def build(source: str, name: str, args: tuple[Any, ...], lib: Any) -> Any:
    """Run the report's class source with ``nn``, ``F``, ``torch`` bound to ``lib``."""
    namespace = {"nn": lib.nn, "F": lib.nn.functional, "torch": lib}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - our own constants
    return namespace[name](*args)


def logits_of(output: Any) -> Any:
    return output[0] if isinstance(output, tuple) else output


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

