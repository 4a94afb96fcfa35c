"""``torch.utils.data.dataloader``: the DataLoader and the names it brings along."""

from deepgrad.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    default_collate,
    default_convert,
    get_worker_info,
)

__all__ = ["DataLoader", "Dataset", "IterableDataset", "TensorDataset", "default_collate",
           "default_convert", "get_worker_info"]
