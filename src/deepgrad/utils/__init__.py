"""``deepgrad.utils``: torch's ``torch.utils`` names, so ``from torch.utils.data import ...``
and ``torch.utils.tensorboard`` code run by changing the import."""

from deepgrad.utils import data
