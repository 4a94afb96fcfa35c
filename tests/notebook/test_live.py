"""``fit`` in a real Jupyter kernel: the notebook is detected, the learning curves are one
output redrawn in place (display_id updates, no ipywidgets), and ``verbose=2`` still prints
text lines."""

from __future__ import annotations

from pathlib import Path

from kernel import execute, jupyter

TRAIN = """
import numpy as np
import deepgrad as dg
from deepgrad import lab, nn
from deepgrad.lab.live import LiveCurves
from deepgrad.notebook import in_notebook

rng = np.random.default_rng(0)
X = rng.normal(size=(256, 2)).astype(np.float32)
y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
"""


def test_fit_in_a_kernel_draws_live_curves_updated_every_epoch(tmp_path: Path) -> None:
    nbformat, _ = jupyter()
    from nbformat.v4 import new_code_cell, new_notebook

    book = new_notebook(cells=[
        new_code_cell(TRAIN),
        new_code_cell("print(in_notebook())"),
        new_code_cell("live = LiveCurves(refresh_secs=0.0)\n"
                      "h = lab.fit(model, (X, y), (X, y), loss='cross_entropy', "
                      "optimizer='adam', epochs=4, batch_size=32, metrics=['accuracy'], "
                      "callbacks=[live])\n"
                      "print(live.updates, len(live.epochs))"),
        new_code_cell("h2 = lab.fit(model, (X, y), loss='cross_entropy', optimizer='adam', "
                      "epochs=3, batch_size=64)"),
        new_code_cell("h3 = lab.fit(model, (X, y), loss='cross_entropy', optimizer='adam', "
                      "epochs=2, batch_size=64, verbose=2)"),
    ])
    execute(book, tmp_path)
    detected, live, default, text = (c.outputs for c in book.cells[1:])
    assert detected[0]["text"].strip() == "True"

    # the given LiveCurves: one display, redrawn in place (start, every batch, every epoch,
    # the end: 1 + 4 * 8 + 4 + 1 updates), holding the finished state and all 4 epochs
    displays = [o for o in live if o["output_type"] == "display_data"]
    assert len(displays) == 1, live
    html = displays[0]["data"]["text/html"]
    assert "finished · epoch 4/4" in html
    # train and val loss, train and val accuracy, lr: each a curve through the 4 epochs
    curves = [part.split('"')[0] for part in html.split('<polyline points="')[1:]]
    assert len(curves) == 5 and all(len(c.split()) == 4 for c in curves)
    streams = [o for o in live if o["output_type"] == "stream"]
    assert streams[-1]["text"].split() == [str(1 + 4 * 8 + 4 + 1), "4"]

    # fit's own choice in a notebook: live curves too, no text bar
    displays = [o for o in default if o["output_type"] == "display_data"]
    assert len(displays) == 1 and "finished · epoch 3/3" in displays[0]["data"]["text/html"]
    assert not [o for o in default if o["output_type"] == "stream"]

    # verbose=2: one text line per epoch on stderr, no HTML
    assert not [o for o in text if o["output_type"] == "display_data"]
    lines = "".join(o["text"] for o in text if o["output_type"] == "stream").splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    nbformat.validate(book)
