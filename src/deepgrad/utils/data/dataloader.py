"""``torch.utils.data.dataloader``: the DataLoader and the dataset classes it names."""

from deepgrad.data import DataLoader, Dataset, TensorDataset

__all__ = ["DataLoader", "Dataset", "TensorDataset"]
