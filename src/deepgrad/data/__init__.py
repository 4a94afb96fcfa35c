"""deepgrad.data: datasets, a fast deterministic DataLoader, batched transforms.

Quick start::

    from deepgrad.data import MNIST, DataLoader, transforms as T
    train = MNIST(train=True, transform=T.Compose([T.ToTensor(), T.Normalize(0.1307, 0.3081)]))
    for x, y in DataLoader(train, batch_size=50, shuffle=True):   # x (50,1,28,28) float32
        ...

Where data live. ``root=...``, else ``$DEEPGRAD_DATA``, else
``~/.cache/deepgrad/datasets``; a missing dataset raises
``DatasetNotFoundError`` listing every place looked at, with the remedies
(``download=True``, or point ``$DEEPGRAD_DATA`` at a folder). Downloads use
the canonical mirrors and published checksums and are written atomically.
Decoded JPEG datasets are cached as .npy (``$DEEPGRAD_CACHE``, default
``~/.cache/deepgrad``, when the data folder is read-only).

Offline samples. ``MNIST(root="sample")`` / ``mnist_sample()`` and
``FashionMNIST(root="sample")`` / ``fashion_mnist_sample()`` load 5,000
training and 1,000 test images shipped inside the package.

Whole splits as arrays (for the lab). ``load_arrays(name, train, root)``
returns the raw uint8 images and int64 labels (``name`` in
``DATASET_NAMES``: "mnist", "fashion-mnist", "cifar10", "mnist-sample",
...); every array-backed dataset also has ``.data``, ``.targets`` and
``.arrays()``, and ``load_dataset(name, ...)`` builds the dataset itself.

Batches. Datasets store raw uint8; transforms (``deepgrad.data.transforms``)
take a whole batch; the DataLoader gets a batch from an array-backed
dataset with one fancy index (``get_batch``) and yields ``(Tensor,
Tensor)`` (``collate_fn=as_arrays`` for ndarrays). The same seed gives the
same batches; ``state_dict()``/``load_state_dict()`` resume mid-epoch.

Samplers and streams, as torch.utils.data: ``SequentialSampler``,
``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler`` and
``BatchSampler`` for ``DataLoader(sampler=/batch_sampler=)`` (the batch
fast path stays), ``IterableDataset``/``ChainDataset`` for streams, and
``default_collate``, ``default_convert``, ``get_worker_info``.
"""

from . import transforms
from .collate import as_arrays, default_collate, default_convert, to_tensors
from .dataset import ArrayDataset, ChainDataset, Dataset, IterableDataset, TensorDataset
from .datasets import (
    CIFAR10,
    DATASET_NAMES,
    MNIST,
    FashionMNIST,
    ImageFolder,
    fashion_mnist_sample,
    load_arrays,
    load_dataset,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    mnist_sample,
)
from .distributed import DistributedSampler
from .download import check_integrity, download_url, extract_tar
from .errors import (
    ChecksumError,
    CorruptFileError,
    DatasetNotFoundError,
    DownloadError,
    UnsafePickleError,
)
from .loader import DataLoader, get_worker_info
from .paths import cache_dir, data_roots
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .subsets import ConcatDataset, Subset, random_split

__all__ = [
    "ArrayDataset",
    "BatchSampler",
    "CIFAR10",
    "ChainDataset",
    "ChecksumError",
    "ConcatDataset",
    "CorruptFileError",
    "DATASET_NAMES",
    "DataLoader",
    "Dataset",
    "DatasetNotFoundError",
    "DistributedSampler",
    "DownloadError",
    "FashionMNIST",
    "ImageFolder",
    "IterableDataset",
    "MNIST",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "UnsafePickleError",
    "WeightedRandomSampler",
    "as_arrays",
    "cache_dir",
    "check_integrity",
    "data_roots",
    "default_collate",
    "default_convert",
    "download_url",
    "extract_tar",
    "fashion_mnist_sample",
    "get_worker_info",
    "load_arrays",
    "load_dataset",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "mnist_sample",
    "random_split",
    "to_tensors",
    "transforms",
]
