"""The course reports' own PyTorch model classes, as source text, for tests to run on
deepgrad and on PyTorch (``import deepgrad as torch``-style: ``build`` binds ``nn``, ``F``
and ``torch`` to either library).

``CASES`` are the seven report models: the four full classes of reports 001 and 002, and
report 001's three discussion variants, which give only the part they change (a new
``__init__`` or a new ``forward``); each variant is that part verbatim joined to the rest
of the task's class it modifies.
"""

from __future__ import annotations

from typing import Any

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


# Report 001, discussion 1a/1b (MNIST, 3x3 kernels): its __init__ verbatim, task 1's forward.
REPORT_001_MNIST_3X3 = """
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        #in, out, kernel, padding(both sides=>*2)
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2, padding=0)
        self.fc1 = nn.Linear(64*7*7, 1024)
        self.fc2 = nn.Linear(1024, 10)
        self.dpout = nn.Dropout(p=0.5)
""" + "    def forward" + REPORT_001_MNIST.split("    def forward")[1]

# Report 001, discussion 1c (CIFAR-10, SELU): task 2's __init__, its forward verbatim.
REPORT_001_CIFAR_SELU = REPORT_001_CIFAR.split("    def forward")[0] + \
    "    def forward" + REPORT_001_CIFAR.split("    def forward")[1].replace(
        "F.relu(self.conv", "F.selu(self.conv")

# Report 001, discussion 1d (CIFAR-10, average pooling, 5x5 first kernel): its __init__
# verbatim, task 2's forward.
REPORT_001_CIFAR_AVGPOOL = """
class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        #in, out, kernel
        self.conv1 = nn.Conv2d(3, 64, 5, 1)
        self.conv2 = nn.Conv2d(64, 128, 3) #6
        self.conv3 = nn.Conv2d(128, 256, 3) #1
        self.pool = nn.AvgPool2d(2, 2)
        self.fc1 = nn.Linear(256*2*2, 128) #25
        self.fc2 = nn.Linear(128, 256) #12
        self.fc3 = nn.Linear(256, 10) #25
""" + "    def forward" + REPORT_001_CIFAR.split("    def forward")[1]

# name: (source, class name, constructor args, input shape of one sample, parameter count)
CASES = {
    "report001_mnist": (REPORT_001_MNIST, "CNN", (), (1, 28, 28), 3_274_634),
    "report001_mnist_3x3": (REPORT_001_MNIST_3X3, "CNN", (), (1, 28, 28), 3_241_354),
    "report001_cifar": (REPORT_001_CIFAR, "CNN", (), (3, 32, 32), 537_610),
    "report001_cifar_selu": (REPORT_001_CIFAR_SELU, "CNN", (), (3, 32, 32), 537_610),
    "report001_cifar_avgpool": (REPORT_001_CIFAR_AVGPOOL, "CNN", (), (3, 32, 32), 540_682),
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
