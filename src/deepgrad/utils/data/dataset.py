"""``torch.utils.data.dataset``: the dataset classes of ``deepgrad.data``."""

from deepgrad.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]
