"""``deepgrad export RUN -o model.onnx``: a run folder's trained model as an ONNX file.

The run's ``config.yaml`` names the zoo model and its arguments; the model is rebuilt,
its checkpoint loaded (``best``, else ``last``, as ``deepgrad eval``), and exported with
``deepgrad.onnx.export`` on an example input of the zoo's input shape, with a dynamic
batch axis unless ``--static``. A command of its own module, so ``cli.py`` only adds it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_export_parser", "export_run"]


def export_run(run_dir: str | Path, output: str | Path | None = None, *,
               checkpoint: str = "best", opset_version: int | None = None, batch: int = 1,
               dynamic_batch: bool = True) -> tuple[Path, Any]:
    """Export the model of ``run_dir``; returns the file written and the ``ModelProto``."""
    import numpy as np

    import deepgrad
    from deepgrad.lab import zoo
    from deepgrad.lab.config import ConfigError, load_config, load_yaml
    from deepgrad.lab.experiment import build_model
    from deepgrad.onnx import DEFAULT_OPSET, export

    folder = Path(run_dir)
    config = load_config(load_yaml(folder / "config.yaml"))
    names = [checkpoint, "last"] if checkpoint == "best" else [checkpoint]
    path = next((folder / "checkpoints" / f"{n}.safetensors" for n in names
                 if (folder / "checkpoints" / f"{n}.safetensors").is_file()), None)
    if path is None:
        raise ConfigError(f"{folder}: no {checkpoint} checkpoint in {folder / 'checkpoints'}")
    model = build_model(config)
    state = deepgrad.load(path)
    model.load_state_dict(state["model"] if "model" in state else state)
    spec = zoo.get_spec(config.model.name)
    shape = spec.input_shape_for(config.model.kwargs)
    if batch < 1:
        raise ConfigError(f"--batch must be at least 1, got {batch}")
    example = deepgrad.tensor(np.random.default_rng(0).standard_normal((batch, *shape)),
                              dtype=deepgrad.float32)
    target = Path(output) if output is not None else folder / "model.onnx"
    axes = {"input": {0: "batch"}, "output": {0: "batch"}} if dynamic_batch else None
    proto = export(model, example, target, dynamic_axes=axes,
                   opset_version=opset_version or DEFAULT_OPSET)
    return target, proto


def cmd_export(args: argparse.Namespace) -> int:
    # ConfigError, not cli.UserError: under `python -m deepgrad.cli` that module is __main__,
    # and its UserError another class than deepgrad.cli's.
    from deepgrad.lab.config import ConfigError
    from deepgrad.onnx import ExportError

    run_dir = Path(args.run).expanduser()
    if not run_dir.is_dir():
        raise ConfigError(f"{args.run}: no such run folder")
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(f"{args.run}: not a run folder (no config.yaml)")
    try:
        target, proto = export_run(run_dir, args.output, checkpoint=args.checkpoint,
                                   opset_version=args.opset, batch=args.batch,
                                   dynamic_batch=not args.static)
    except (ExportError, ImportError, ValueError, FileNotFoundError) as exc:
        raise ConfigError(str(exc)) from None
    graph = proto.graph
    print(f"{target}: {len(graph.node)} nodes, opset {proto.opset_import[0].version}, "
          f"{_shapes(graph.input)} -> {_shapes(graph.output)}")
    return 0


def _shapes(values: Any) -> str:
    parts = []
    for v in values:
        dims = [d.dim_param or str(d.dim_value) for d in v.type.tensor_type.shape.dim]
        parts.append(f"{v.name}[{', '.join(dims)}]")
    return ", ".join(parts)


_EXAMPLES = """\
examples:
  deepgrad export runs/mnist-cnn-20250101-120000 -o mnist.onnx
  deepgrad export runs/moons-net-20250101-120000 --checkpoint last --opset 18
  deepgrad export runs/cifar-cnn-20250101-120000 --static --batch 16

The file runs in onnxruntime and opens in Netron (netron.app); docs/onnx.md says more.
"""


def add_export_parser(sub: Any) -> None:
    """The ``export`` subcommand on ``deepgrad``'s subparsers."""
    p = sub.add_parser(
        "export",
        help="write a run's trained model as an ONNX file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Export a run folder's model (its best or last checkpoint) to ONNX.",
        epilog=_EXAMPLES,
    )
    p.add_argument("run", metavar="RUN", help="a run folder")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="the ONNX file to write (default: RUN/model.onnx)")
    p.add_argument("--checkpoint", default="best", choices=["best", "last"],
                   help="which checkpoint (default best; falls back to last)")
    p.add_argument("--opset", type=int, metavar="N", help="ONNX opset (default 17)")
    p.add_argument("--batch", type=int, default=1, help="example batch size (default 1)")
    p.add_argument("--static", action="store_true",
                   help="fix the batch size to --batch instead of a dynamic batch axis")
    p.set_defaults(func=cmd_export)
