"""The confusion matrix as data for the page's clickable matrix (static/confusion.js).

Every cell carries its count; every off-diagonal cell lists its misclassified
samples (test-split index, confidence in the predicted class), most confident
first, and the thumbnails that ``predictions.npz`` stored for them
(``gallery_index``/``gallery_images``, up to 16 per cell: see docs/run-folder.md)
as small PNG data URIs, each image once.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["MAX_LISTED", "confusion_data", "png_uri"]

MAX_LISTED = 200  # samples listed per cell; the count says how many there are


def png_uri(image: np.ndarray) -> str:
    """A uint8 image (H, W) or (H, W, 3) as a PNG data URI."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def confusion_data(pred: Mapping[str, Any]) -> dict[str, Any]:
    """``{"classes", "matrix", "cells": {"t,p": [[index, confidence, image or -1], ...]},
    "images": [uri, ...], "stored": bool}`` from the arrays of ``predictions.npz``."""
    probs = np.asarray(pred["probs"], dtype=np.float64)
    targets = np.asarray(pred["targets"]).astype(np.int64).reshape(-1)
    preds = (np.asarray(pred["preds"]).astype(np.int64) if "preds" in pred
             else probs.argmax(axis=1))
    c = probs.shape[1]
    if len(targets) != len(probs) or len(preds) != len(probs):
        raise ValueError(f"confusion: probs has {len(probs)} rows, targets {len(targets)}, "
                         f"preds {len(preds)}; expected the same number")
    names = [str(n) for n in pred["class_names"]] if "class_names" in pred \
        else [str(i) for i in range(c)]
    matrix = np.zeros((c, c), dtype=np.int64)
    np.add.at(matrix, (targets, preds), 1)
    stored: dict[int, int] = {}
    images: list[str] = []
    if "gallery_index" in pred and "gallery_images" in pred:
        stored = {int(i): k for k, i in enumerate(np.asarray(pred["gallery_index"]))}
    gallery = np.asarray(pred["gallery_images"]) if stored else None
    confidence = probs[np.arange(len(probs)), preds]
    cells: dict[str, list[list[Any]]] = {}
    uri_of: dict[int, int] = {}
    for t, p in zip(*np.nonzero(matrix), strict=True):
        if t == p:
            continue
        rows = np.flatnonzero((targets == t) & (preds == p))
        rows = rows[np.argsort(-confidence[rows], kind="stable")][:MAX_LISTED]
        listed = []
        for i in rows:
            image = -1
            if gallery is not None and int(i) in stored:
                if int(i) not in uri_of:
                    uri_of[int(i)] = len(images)
                    images.append(png_uri(gallery[stored[int(i)]]))
                image = uri_of[int(i)]
            listed.append([int(i), round(float(confidence[i]), 4), image])
        cells[f"{t},{p}"] = listed
    return {"classes": names, "matrix": matrix.tolist(), "cells": cells, "images": images,
            "stored": gallery is not None}
