"""ONNX export: every zoo model and the seven report models pass ``onnx.checker`` and give
deepgrad's outputs in onnxruntime within 1e-5, on random inputs of another batch size
than the one exported with (a dynamic batch axis). Then the recurrent layers, the op
table across opsets, and the errors for what cannot be exported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import deepgrad as dg
import deepgrad.nn.functional as F
from deepgrad import nn
from deepgrad.autograd import Function
from deepgrad.lab import zoo
from deepgrad.onnx import ExportError, UnsupportedOpError, export
from helpers import onnx_or_skip
from report_models import CASES, build

TOL = 1e-5
BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def run(path: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    _, ort = onnx_or_skip()
    data = path.read_bytes() if isinstance(path, Path) else path
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def flat(value: Any) -> list[np.ndarray]:
    if isinstance(value, dg.Tensor):
        return [value.detach().numpy()]
    return [a for v in value for a in flat(v)]


def deepgrad_outputs(model: Any, *inputs: np.ndarray) -> list[np.ndarray]:
    model.eval()
    with dg.no_grad():
        return flat(model(*(dg.tensor(x) for x in inputs)))


def assert_same(got: list[np.ndarray], want: list[np.ndarray], rtol: float = 0.0) -> None:
    """Every output within 1e-5 of deepgrad's (plus ``rtol`` for long chains of ops)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=TOL)


def export_checked(model: Any, args: Any, path: Path, **kwargs: Any) -> Any:
    """Export to a file, load it back and run onnx.checker on it (as a reader would)."""
    onnx, _ = onnx_or_skip()
    export(model, args, path, **kwargs)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def images(n: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, *shape)).astype(np.float32)


# ---- the zoo and the reports --------------------------------------------------------------

ZOO = [(name, {}) for name in zoo.list_models()] + [
    ("mlp", {"batch_norm": True, "dropout": 0.2, "activation": "elu"}),
    ("cifar-cnn", {"activation": "selu", "pooling": "avg", "conv1_kernel": 5}),
    ("mlp", {"widths": [3072, 1500, 400, 10], "activation": "elu", "dropout": 0.12}),
]


@pytest.mark.parametrize("name,kwargs", ZOO, ids=[f"{n}{'-' if k else ''}{'-'.join(k)}"
                                                   for n, k in ZOO])
def test_zoo_model_runs_in_onnxruntime(name: str, kwargs: dict[str, Any],
                                       tmp_path: Path) -> None:
    model = zoo.get_model(name, **kwargs)
    spec = zoo.get_spec(name)
    shape = spec.input_shape_for(kwargs)
    for module in model.modules():  # batch norm with statistics that are not 0 and 1
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean._array[...] = np.linspace(-0.5, 0.5, module.num_features)
            module.running_var._array[...] = np.linspace(0.5, 2.0, module.num_features)
    path = tmp_path / "model.onnx"
    proto = export_checked(model, dg.tensor(images(2, shape, 0)), path, dynamic_axes=BATCH)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.training, "export must put the model back in training mode"
    x = images(5, shape, 1)
    assert_same(run(path, {"input": x}), deepgrad_outputs(model, x))


@pytest.mark.parametrize("case", list(CASES))
def test_report_model_runs_in_onnxruntime(case: str, tmp_path: Path) -> None:
    source, name, args, input_shape, _ = CASES[case]
    model = build(source, name, args, dg)
    path = tmp_path / f"{case}.onnx"
    outputs = ["logits", "probs"] if case == "report002_lenet5" else ["logits"]
    export_checked(model, dg.tensor(images(3, input_shape, 0)), path, input_names=["image"],
                   output_names=outputs,
                   dynamic_axes={"image": {0: "batch"}, **{o: {0: "batch"} for o in outputs}})
    x = images(4, input_shape, 1)
    got = run(path, {"image": x})
    assert_same(got, deepgrad_outputs(model, x))
    if case == "report002_lenet5":
        np.testing.assert_allclose(got[1].sum(axis=1), 1.0, rtol=1e-5)


# ---- recurrent layers -----------------------------------------------------------------------

class Wrap(nn.Module):
    """A layer as a model's child, called with what the test gives."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, *args: Any) -> Any:
        if isinstance(self.layer, nn.LSTM) and len(args) == 3:
            return self.layer(args[0], (args[1], args[2]))
        return self.layer(*args)


RECURRENT = [(cls, kw) for cls, kw in [(nn.RNN, {}), (nn.RNN, {"nonlinearity": "relu"}),
                                       (nn.LSTM, {}), (nn.GRU, {})]]


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cls,kw", RECURRENT, ids=["rnn", "rnn-relu", "lstm", "gru"])
def test_recurrent_layer_is_one_onnx_node_per_layer(cls: type, kw: dict[str, Any],
                                                    batch_first: bool, bidirectional: bool,
                                                    tmp_path: Path) -> None:
    model = Wrap(cls(4, 6, num_layers=2, batch_first=batch_first, bidirectional=bidirectional,
                     **kw))
    batch, seq = (0, 1) if batch_first else (1, 0)
    x = images(3, (7, 4), 0) if batch_first else np.swapaxes(images(3, (7, 4), 0), 0, 1)
    path = tmp_path / "rnn.onnx"
    proto = export_checked(model, dg.tensor(np.ascontiguousarray(x)), path,
                           dynamic_axes={"input": {batch: "batch", seq: "steps"}})
    onnx_op = {nn.RNN: "RNN", nn.LSTM: "LSTM", nn.GRU: "GRU"}[cls]
    assert [n.op_type for n in proto.graph.node].count(onnx_op) == 2  # one node per layer
    other = images(5, (9, 4), 1) if batch_first else np.swapaxes(images(5, (9, 4), 1), 0, 1)
    other = np.ascontiguousarray(other)
    assert_same(run(path, {"input": other}), deepgrad_outputs(model, other))


def test_recurrent_initial_states_are_graph_inputs(tmp_path: Path) -> None:
    model = Wrap(nn.LSTM(4, 5, num_layers=2, bidirectional=True))
    rng = np.random.default_rng(0)

    def example(n: int) -> list[np.ndarray]:
        return [rng.standard_normal(s).astype(np.float32) for s in [(6, n, 4), (4, n, 5),
                                                                     (4, n, 5)]]

    names = ["x", "h0", "c0"]
    path = tmp_path / "lstm.onnx"
    export_checked(model, tuple(dg.tensor(a) for a in example(2)), path, input_names=names,
                   output_names=["y", "h", "c"],
                   dynamic_axes={"x": {1: "batch"}, "h0": {1: "batch"}, "c0": {1: "batch"}})
    feeds = example(3)
    assert_same(run(path, dict(zip(names, feeds, strict=True))), deepgrad_outputs(model, *feeds))


class EmbedGRU(nn.Module):
    """Token ids -> embedding -> GRU (initial state by keyword) -> last step -> classes."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(12, 4, padding_idx=0)
        self.gru = nn.GRU(4, 5, batch_first=True)
        self.fc = nn.Linear(5, 3)

    def forward(self, ids: dg.Tensor, h0: dg.Tensor) -> dg.Tensor:
        y, _ = self.gru(self.embed(ids), hx=h0)
        return F.log_softmax(self.fc(y[:, -1]), dim=-1)


def test_embedding_and_gru_with_integer_ids(tmp_path: Path) -> None:
    model = EmbedGRU()
    rng = np.random.default_rng(0)
    path = tmp_path / "gru.onnx"
    export_checked(model, (dg.tensor(rng.integers(0, 12, (2, 6))),
                           dg.tensor(rng.standard_normal((1, 2, 5)).astype(np.float32))),
                   path, input_names=["ids", "h0"],
                   dynamic_axes={"ids": {0: "batch"}, "h0": {1: "batch"}})
    ids, h0 = rng.integers(0, 12, (4, 6)), rng.standard_normal((1, 4, 5)).astype(np.float32)
    assert_same(run(path, {"ids": ids, "h0": h0}), deepgrad_outputs(model, ids, h0))


@pytest.mark.parametrize("cell", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cells(cell: type, tmp_path: Path) -> None:
    model = Wrap(cell(4, 5))
    path = tmp_path / "cell.onnx"
    export_checked(model, dg.tensor(images(2, (4,), 0)), path, dynamic_axes={"input": [0]})
    x = images(6, (4,), 1)
    assert_same(run(path, {"input": x}), deepgrad_outputs(model, x))


# ---- the op table ---------------------------------------------------------------------------

class ManyOps(nn.Module):
    """Most entries of the op table in one forward, with a dynamic batch throughout."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.avg = nn.AvgPool2d(3, 2, padding=1, count_include_pad=False)
        self.adapt = nn.AdaptiveAvgPool2d((3, 2))
        self.norm = nn.LayerNorm(6)
        self.fc = nn.Linear(6, 5)
        self.drop = nn.Dropout(0.5)
        with dg.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 1.5)

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        y = self.act(self.bn(self.c2(self.c1(x))))
        y = self.avg(self.pool(y) + 1.0) * 2
        y = self.adapt(y)
        y = y.view(y.size(0), 8, -1)  # a batch-sized reshape made dynamic
        y = F.gelu(self.norm(y)) - y.mean(dim=1, keepdim=True)
        y = F.softplus(y, beta=2.0) + y.var(dim=2, keepdim=True) + y.amax(dim=-1, keepdim=True)
        y = self.drop(self.fc(y))  # a 3-D linear
        y = dg.cat([y, y[:, :2] ** 2, y[:, None, 0].expand(-1, 2, -1)], dim=1)
        y = dg.stack([y, -y], dim=1).transpose(1, 2)
        y = F.pad(y, (1, 1)).clamp(-3, 3)
        y = y.reshape(y.shape[0], -1)
        y = F.elu(y) + F.leaky_relu(y, 0.2) + F.selu(y) + dg.sigmoid(y) * dg.tanh(y) / 3
        y = F.log_softmax(y, dim=1) + y.max(dim=1, keepdim=True)[0]
        total = y.abs().sum(dim=1, keepdim=True)
        return y.exp().sqrt()[:, ::-3] + F.softmax(total.repeat(1, 56), 1)


@pytest.mark.parametrize("opset", [14, 17, 18, 20, "latest"])
def test_op_table_across_opsets(opset: Any, tmp_path: Path) -> None:
    onnx, _ = onnx_or_skip()
    version = int(onnx.defs.onnx_opset_version()) if opset == "latest" else opset
    model = ManyOps()
    path = tmp_path / "ops.onnx"
    proto = export_checked(model, dg.tensor(images(2, (4, 13, 11), 0)), path,
                           dynamic_axes={"input": [0]}, opset_version=version)
    assert proto.opset_import[0].version == version
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "Relu", "Gemm"} - ops \
        == {"Gemm"}  # the 3-D linear is a MatMul
    assert ("LayerNormalization" in ops) == (version >= 17)
    assert ("Gelu" in ops) == (version >= 20)
    x = images(3, (4, 13, 11), 1)
    # float32 rounding differs op by op and ~25 ops compound it (values up to ~6 differ by
    # up to 1.2e-4 there); each op alone agrees within 1e-6.
    assert_same(run(path, {"input": x}), deepgrad_outputs(model, x), rtol=1e-4)


class IndexAndMaths(nn.Module):
    """'same' padding, a buffer mask, an integer index input, rounding and maths functions."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 4, padding="same")  # asymmetric padding (1 left, 2 right)
        self.register_buffer("mask", dg.tensor(np.array([True, False, True, True])))
        self.low = nn.Parameter(dg.full((4,), -0.5))

    def forward(self, x: dg.Tensor, idx: dg.Tensor) -> dg.Tensor:
        y = F.relu6(self.conv(x) * 4).mean(dim=(2, 3))
        y = y.masked_fill(self.mask, 0.5) + y.std(dim=1, keepdim=True) + y.rsqrt().clamp(max=3)
        y = dg.maximum(y, self.low) + F.hardtanh(y, -0.2, 0.2) + y.floor() + y.round()
        y = y + y.ceil() + y.trunc()
        y = y[:, idx] + y[:, self.mask].sum(dim=1, keepdim=True) + y[..., 1:2]
        return y.sin() + y.cos().log1p() + dg.atan(y) + dg.erf(y) + y.log2()


def test_index_inputs_masks_and_maths(tmp_path: Path) -> None:
    model = IndexAndMaths()
    path = tmp_path / "index.onnx"
    export_checked(model, (dg.tensor(images(2, (3, 9, 8), 0)), dg.tensor(np.array([3, 0, 0, 2]))),
                   path, input_names=["x", "idx"], dynamic_axes={"x": [0]})
    x, idx = images(5, (3, 9, 8), 1), np.array([1, 1, 2, 3])
    assert_same(run(path, {"x": x, "idx": idx}), deepgrad_outputs(model, x, idx))


class ScansAndProducts(nn.Module):
    """index_select, gather, flip, tril/triu, cumsum, prod and einsum."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(dg.randn(5, 4))

    def forward(self, x: dg.Tensor, index: dg.Tensor) -> dg.Tensor:
        y = dg.einsum("bi,ij->bj", x, self.w)  # (N, 4)
        y = dg.index_select(y, 1, index) + dg.gather(y, 1, dg.tensor([[3, 0, 1, 1]]).expand(
            y.shape[0], 4))
        y = dg.flip(y, [0, 1]) + dg.cumsum(y, dim=1) + y.prod(dim=1, keepdim=True)
        square = dg.einsum("bi,bj->bij", y, y)  # (N, 4, 4)
        return dg.tril(square, -1).sum(dim=2) + dg.triu(square, 1).sum(dim=1)


def test_scans_and_products(tmp_path: Path) -> None:
    model = ScansAndProducts()
    path = tmp_path / "scan.onnx"
    export_checked(model, (dg.tensor(images(2, (5,), 0)), dg.tensor(np.array([2, 2, 0, 3]))),
                   path, input_names=["x", "index"], dynamic_axes={"x": [0]})
    x, index = images(6, (5,), 1), np.array([1, 3, 3, 0])
    assert_same(run(path, {"x": x, "index": index}), deepgrad_outputs(model, x, index),
                rtol=1e-5)


class FoldTime(nn.Module):
    """Batch and time folded into one dim and back: reshapes with two dynamic dims."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        n, t, f = x.shape
        y = self.fc(x.reshape(n * t, f))
        y = y.reshape(n, t, 2, 3).permute(0, 2, 1, 3)
        return y.reshape(n, 2, t * 3)


def test_two_dynamic_axes_fold_and_unfold(tmp_path: Path) -> None:
    model = FoldTime()
    path = tmp_path / "fold.onnx"
    proto = export_checked(model, dg.tensor(images(2, (3, 6), 0)), path,
                           dynamic_axes={"input": {0: "batch", 1: "time"}})
    dims = [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 2, "output_dim2"]  # t * 3 follows "time" but is not it
    x = images(4, (5, 6), 1)
    assert_same(run(path, {"input": x}), deepgrad_outputs(model, x))


# ---- names, files and what export leaves behind -------------------------------------------

def test_names_shapes_and_initializers_read_well_in_netron(tmp_path: Path) -> None:
    model = zoo.get_model("tutorial-cnn")
    path = tmp_path / "cnn.onnx"
    proto = export_checked(model, dg.tensor(images(1, (3, 32, 32), 0)), path,
                           input_names=["image"], output_names=["logits"],
                           dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}})
    graph = proto.graph
    assert [i.name for i in graph.input] == ["image"]
    assert [o.name for o in graph.output] == ["logits"]
    dims = [d.dim_param or d.dim_value for d in graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["n", 10]
    names = {i.name for i in graph.initializer}
    assert set(model.state_dict()) <= names  # parameters keep their state_dict names
    assert names - set(model.state_dict()) == {"flatten/shape"}  # constants: module/what
    assert [n.name for n in graph.node if n.op_type == "Conv"] == ["/conv1/Conv_0",
                                                                   "/conv2/Conv_1"]
    assert proto.producer_name == "deepgrad"


def test_static_export_keeps_the_example_shape(tmp_path: Path) -> None:
    _, ort = onnx_or_skip()
    model = zoo.get_model("moons-net")
    path = tmp_path / "moons.onnx"
    proto = export_checked(model, dg.tensor(images(4, (2,), 0)), path)
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [4, 2]
    x = images(4, (2,), 1)
    assert_same(run(path, {"input": x}), deepgrad_outputs(model, x))
    with pytest.raises(Exception, match="dimensions"):  # ORT refuses another batch size
        run(path, {"input": images(3, (2,), 1)})


def test_writes_a_file_object_and_leaves_deepgrad_as_it_was(tmp_path: Path) -> None:
    import io

    onnx, _ = onnx_or_skip()
    model = zoo.get_model("mlp")
    apply_before = Function.__dict__["apply"]
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    buffer = io.BytesIO()
    returned = export(model, dg.tensor(images(2, (1, 28, 28), 0)), buffer)
    assert onnx.load_from_string(buffer.getvalue()) == returned
    assert Function.__dict__["apply"] is apply_before  # the recording wrapper is gone
    assert not any(m._has_hooks for m in model.modules())  # and so are its hooks
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    assert list(tmp_path.iterdir()) == []


# ---- what cannot be exported ------------------------------------------------------------------

class Angle(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return dg.atan2(self.fc(x), x)  # ONNX has no atan2


def test_an_op_without_a_mapping_is_named(tmp_path: Path) -> None:
    onnx_or_skip()
    model = nn.Sequential(Angle())
    with pytest.raises(UnsupportedOpError) as info:
        export(model, dg.randn(2, 3), tmp_path / "x.onnx")
    assert info.value.op == "Atan2"
    message = str(info.value)
    assert "op Atan2 in module '0'" in message and "has no ONNX mapping" in message
    assert "test_export.py" in message and "dg.atan2(self.fc(x), x)" in message
    assert "Conv2d" in message  # lists what is mapped
    assert not (tmp_path / "x.onnx").exists()


class Cube(Function):
    """A user's torch-style Function: its forward runs deepgrad ops on tensors."""

    @staticmethod
    def forward(ctx: Any, x: dg.Tensor) -> dg.Tensor:
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx: Any, grad: dg.Tensor) -> dg.Tensor:
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


class UsesCube(nn.Module):
    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return Cube.apply(x.relu()) + 1


def test_a_custom_function_is_named_not_its_insides(tmp_path: Path) -> None:
    onnx_or_skip()
    with pytest.raises(UnsupportedOpError, match="op Cube .*has no ONNX mapping") as info:
        export(UsesCube(), dg.randn(2, 3), tmp_path / "x.onnx")
    assert info.value.op == "Cube"


class MaskFromComparison(nn.Module):
    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return x * (x > 0).float()  # the comparison is NumPy, outside the recorded ops


def test_values_computed_outside_the_ops_are_refused(tmp_path: Path) -> None:
    onnx_or_skip()
    with pytest.raises(ExportError, match="comparison"):
        export(MaskFromComparison(), dg.randn(2, 3), tmp_path / "x.onnx",
               dynamic_axes={"input": [0]})


class SizeDependentBranch(nn.Module):
    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return x.exp() if x.shape[0] > 2 else x.relu()


def test_control_flow_on_the_batch_size_is_refused(tmp_path: Path) -> None:
    onnx_or_skip()
    with pytest.raises(ExportError, match="different ops for two batches"):
        export(SizeDependentBranch(), dg.randn(2, 3), tmp_path / "x.onnx",
               dynamic_axes={"input": [0]})


class BatchNormWithoutStats(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(3, track_running_stats=False)

    def forward(self, x: dg.Tensor) -> dg.Tensor:
        return self.bn(x)


def test_batch_statistics_are_refused(tmp_path: Path) -> None:
    onnx_or_skip()
    with pytest.raises(ExportError, match="running statistics"):
        export(BatchNormWithoutStats(), dg.randn(4, 3), tmp_path / "x.onnx")


def test_bad_arguments_say_what_was_expected(tmp_path: Path) -> None:
    onnx_or_skip()
    model = zoo.get_model("moons-net")
    x = dg.randn(2, 2)
    with pytest.raises(ValueError, match="opset_version must be an int from 14"):
        export(model, x, tmp_path / "m.onnx", opset_version=9)
    with pytest.raises(ValueError, match="input_names has 2 names for 1 input"):
        export(model, x, tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ValueError, match=r"dynamic_axes names \['inputs'\]"):
        export(model, x, tmp_path / "m.onnx", dynamic_axes={"inputs": [0]})
    with pytest.raises(ValueError, match="has axes \\[2\\], but that input has 2 dims"):
        export(model, x, tmp_path / "m.onnx", dynamic_axes={"input": [2]})
    with pytest.raises(TypeError, match="model must be a deepgrad nn.Module, got function"):
        export(lambda t: t, x, tmp_path / "m.onnx")
    with pytest.raises(TypeError, match=r"args\[0\] must be a Tensor"):
        export(model, [[1.0, 2.0]], tmp_path / "m.onnx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export(model, x, tmp_path / "missing" / "m.onnx")
