"""deepgrad.summary: rows, shapes and counts, without side effects on the model or the seed."""

from __future__ import annotations

import numpy as np
import pytest

import deepgrad
import deepgrad.nn as nn


def test_summary_of_a_sequential_model(capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
    model[1].weight.requires_grad_(False)
    result = deepgrad.summary(model, (3, 16, 16), verbose=0)
    assert capsys.readouterr().out == ""
    assert [r.name for r in result.layers] == ["0", "1", "2", "3", "4", "5"]
    assert result.layers[0].output_shape == (2, 8, 16, 16)
    assert result.layers[-1].output_shape == (2, 10)
    assert result.total_params == 224 + 16 + 90
    assert result.trainable_params == 224 + 8 + 90
    assert result.non_trainable_params == 8
    text = str(result)
    assert "0 (Conv2d)" in text and "Total params: 330" in text
    assert "Non-trainable params: 8" in text
    assert "330" in repr(result)


def test_summary_leaves_model_and_seed_untouched() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout())
    model[2].eval()
    deepgrad.manual_seed(3)
    expected = deepgrad.randn(3).data.numpy()
    deepgrad.manual_seed(3)
    deepgrad.summary(model, (4,), verbose=0)
    np.testing.assert_array_equal(deepgrad.randn(3).data.numpy(), expected)
    assert model.training and model[1].training and not model[2].training
    assert int(model[1].num_batches_tracked.item()) == 0
    assert all(not m._has_hooks for m in model.modules())


def test_summary_with_input_data_and_tuple_output() -> None:
    class TwoHeads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.a = nn.Linear(4, 2)

        def forward(self, ids: deepgrad.Tensor) -> tuple[deepgrad.Tensor, deepgrad.Tensor]:
            h = self.embed(ids)
            return self.a(h), h

    result = deepgrad.summary(TwoHeads(), input_data=deepgrad.tensor([[1, 2, 3]]), verbose=0)
    assert result.layers[0].output_shape == (1, 3, 4)
    assert result.total_params == 40 + 10
    ints = deepgrad.summary(TwoHeads(), (5,), dtypes=[np.int64], verbose=0)
    assert ints.layers[1].output_shape == (2, 5, 2)


def test_summary_bad_arguments() -> None:
    with pytest.raises(ValueError, match="input_size"):
        deepgrad.summary(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="nn.Module"):
        deepgrad.summary(lambda x: x, (2,))
