"""The datasets deepgrad knows: MNIST, Fashion-MNIST, CIFAR-10, image folders, toy sets."""

from .cifar import CIFAR10
from .folder import ImageFolder
from .mnist import MNIST, FashionMNIST
from .registry import (
    DATASET_NAMES,
    fashion_mnist_sample,
    load_arrays,
    load_dataset,
    mnist_sample,
)
from .toy import make_blobs, make_circles, make_moons, make_spirals

__all__ = [
    "CIFAR10",
    "DATASET_NAMES",
    "FashionMNIST",
    "ImageFolder",
    "MNIST",
    "fashion_mnist_sample",
    "load_arrays",
    "load_dataset",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "mnist_sample",
]
