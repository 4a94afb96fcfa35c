"""Recorders: what a run writes about the model besides its metrics, one file per concern.

- ``histograms``: ``HistogramRecorder`` -> ``histograms.npz`` at epoch ends;
- ``boundary``: ``BoundaryRecorder`` -> ``boundary.npz`` for 2-D classifiers;
- ``predictions``: ``predictions.npz`` and ``activations.npz`` at the end of a run.

Module hooks live in ``deepgrad.lab.probes``, the NaN trace in
``deepgrad.lab.nan_trace``. Everything runs in eval mode under ``no_grad``
and draws nothing from the random generator, so recording never changes
the training run it watches.
"""

from deepgrad.lab.recorders.boundary import BoundaryRecorder, class_probs
from deepgrad.lab.recorders.histograms import BINS, HistogramRecorder, histogram
from deepgrad.lab.recorders.predictions import (
    autoencoder_arrays,
    classification_arrays,
    dataset_images,
    gallery_indices,
    to_uint8_images,
    write_activations,
    write_predictions,
)

__all__ = ["BINS", "BoundaryRecorder", "HistogramRecorder", "autoencoder_arrays",
           "class_probs", "classification_arrays", "dataset_images", "gallery_indices",
           "histogram", "to_uint8_images", "write_activations", "write_predictions"]
