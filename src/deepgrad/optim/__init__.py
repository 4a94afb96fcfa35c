"""deepgrad.optim: optimizers and learning-rate schedules, shaped like torch.optim.

``optim.SGD(model.parameters(), lr=0.1, momentum=0.9)``, then per batch
``optimizer.zero_grad(); loss.backward(); optimizer.step()``; schedules in
``optim.lr_scheduler`` adjust ``optimizer.param_groups[i]["lr"]`` per epoch.
"""

from deepgrad.optim import lr_scheduler
from deepgrad.optim.adadelta import Adadelta
from deepgrad.optim.adagrad import Adagrad
from deepgrad.optim.adam import Adam, AdamW
from deepgrad.optim.adamax import Adamax
from deepgrad.optim.lbfgs import LBFGS
from deepgrad.optim.nadam import NAdam
from deepgrad.optim.optimizer import Optimizer
from deepgrad.optim.radam import RAdam
from deepgrad.optim.rmsprop import RMSprop
from deepgrad.optim.rprop import Rprop
from deepgrad.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "Adamax",
           "NAdam", "RAdam", "Rprop", "LBFGS", "lr_scheduler"]
