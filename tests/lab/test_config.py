"""Config schema: every shipped experiment validates; mistakes are named with the allowed keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from deepgrad.lab.config import (
    Config,
    ConfigError,
    apply_overrides,
    from_dict,
    load_config,
    parse_override,
)

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))


def minimal(**extra: object) -> dict:
    return {"model": "mlp", "data": {"name": "mnist-sample"}, **extra}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_shipped_experiments_validate(path: Path) -> None:
    config = load_config(path)
    assert config.epochs >= 1
    assert config.model.name
    # the resolved config survives a round trip through plain types (config.yaml)
    again = load_config(config.to_dict())
    assert again.to_dict() == config.to_dict()


def test_experiments_cover_every_headline_setting() -> None:
    names = {p.stem for p in EXPERIMENTS}
    assert {"mnist-cnn", "fashion-mlp", "cifar-cnn", "tutorial-cnn", "lenet5", "moons-net"} <= names


def test_unknown_top_level_key_lists_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(minimal(optimiser={"name": "adam"}))
    msg = str(info.value)
    assert "'optimiser'" in msg and "did you mean 'optimizer'" in msg
    for key in ("batch_size", "data", "epochs", "model", "optimizer", "scheduler", "seed"):
        assert key in msg


def test_unknown_nested_key_names_the_section() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'rooot' in data .*allowed: .*root"):
        load_config(minimal(data={"name": "mnist", "rooot": "/x"}))
    with pytest.raises(ConfigError, match=r"in logging"):
        load_config(minimal(logging={"progres": False}))


@pytest.mark.parametrize(
    "extra, pattern",
    [
        ({"epochs": "ten"}, r"epochs: expected an integer, got 'ten' \(str\)"),
        ({"epochs": True}, r"epochs: expected an integer"),
        ({"batch_size": 1.5}, r"batch_size: expected an integer"),
        ({"optimizer": {"name": "adam", "lr": "fast"}}, r"optimizer.lr: expected a number"),
        ({"data": {"name": "mnist", "val_split": [1]}}, r"data.val_split: expected a number"),
        ({"metrics": "accuracy"}, r"metrics: expected a list of a string"),
        ({"data": "mnist"}, r"data: expected a mapping"),
        ({"seed": None}, r"seed: expected an integer"),
    ],
)
def test_types_are_checked(extra: dict, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(minimal(**extra))


def test_ranges_and_names_are_checked() -> None:
    with pytest.raises(ConfigError, match="batch_size: must be >= 1"):
        load_config(minimal(batch_size=0))
    with pytest.raises(ConfigError, match=r"optimizer.name: unknown optimizer 'adamm'.*adam"):
        load_config(minimal(optimizer={"name": "adamm"}))
    with pytest.raises(ConfigError, match=r"loss.name: unknown loss 'xent'.*cross_entropy"):
        load_config(minimal(loss="xent"))
    with pytest.raises(ConfigError, match=r"model.name: unknown model 'resnet'.*mnist-cnn"):
        load_config({"model": "resnet", "data": {"name": "mnist"}})
    with pytest.raises(ConfigError, match="missing required key 'data'"):
        load_config({"model": "mlp"})


def test_model_kwargs_checked_against_the_builder() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(minimal(model={"name": "mlp", "width": [784, 10]}))
    msg = str(info.value)
    assert "'width'" in msg and "did you mean 'widths'" in msg and "activation" in msg
    with pytest.raises(ConfigError, match=r"model.dropout: expected a number"):
        load_config(minimal(model={"name": "mlp", "dropout": "half"}))
    config = load_config(minimal(model={"name": "mlp", "widths": [784, 10]}))
    assert list(config.model.kwargs["widths"]) == [784, 10]


def test_optimizer_and_scheduler_kwargs_checked_against_their_classes() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'momentom'.*momentum"):
        load_config(minimal(optimizer={"name": "sgd", "lr": 0.1, "momentom": 0.9}))
    config = load_config(minimal(optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9}))
    assert config.optimizer.kwargs == {"momentum": 0.9}
    with pytest.raises(ConfigError, match=r"scheduler \(step\).*allowed: .*step_size"):
        load_config(minimal(scheduler={"name": "step", "stepsize": 3}))


def test_model_name_shorthand_and_defaults() -> None:
    config = from_dict(Config, minimal())
    assert config.model.name == "mlp" and config.model.kwargs == {}
    assert config.optimizer.name == "adam" and config.loss.name == "cross_entropy"
    assert config.run_name == "mlp"


def test_zoo_name_gives_its_default_config() -> None:
    config = load_config("mnist-cnn")
    assert config.model.name == "mnist-cnn"
    assert config.data.name == "mnist-sample"
    with pytest.raises(
        ConfigError, match=r"unknown model or config 'mnist-cn' \(did you mean 'mnist-cnn'\?\)"
    ):
        load_config("mnist-cn")


def test_overrides_parse_yaml_scalars() -> None:
    assert parse_override("optimizer.lr=0.01") == (["optimizer", "lr"], 0.01)
    assert parse_override("model.widths=[784, 10]") == (["model", "widths"], [784, 10])
    assert parse_override("scheduler=null") == (["scheduler"], None)
    assert parse_override("name=my run") == (["name"], "my run")
    with pytest.raises(ConfigError, match="expected key=value"):
        parse_override("optimizer.lr")


def test_overrides_apply_and_reject_bad_keys() -> None:
    raw = minimal()
    out = apply_overrides(
        raw,
        [
            "optimizer.lr=0.5",
            "model.dropout=0.2",
            "scheduler.name=step",
            "scheduler.step_size=2",
            "data.subset=100",
        ],
    )
    assert raw == minimal()  # the input is not modified
    config = load_config(out)
    assert config.optimizer.lr == 0.5 and config.model.kwargs == {"dropout": 0.2}
    assert config.scheduler is not None and config.scheduler.kwargs == {"step_size": 2}
    assert config.data.subset == 100
    with pytest.raises(
        ConfigError, match=r"unknown key 'optimiser' in --set.*allowed: .*optimizer"
    ):
        apply_overrides(raw, ["optimiser.lr=0.1"])
    with pytest.raises(ConfigError, match=r"unknown key 'sbuset' in --set data.*subset"):
        apply_overrides(raw, ["data.sbuset=3"])
    with pytest.raises(ConfigError, match=r"model.widths: expected"):
        load_config(raw, ["model.widths=lots"])


def test_yaml_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: mlp\ndata: {name: mnist\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML \(line \d+"):
        load_config(bad)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping at top level"):
        load_config(listy)


def test_transforms_are_built_from_names() -> None:
    from deepgrad.data import transforms as T
    from deepgrad.lab.config_data import build_transform

    items = ["RandomHorizontalFlip", {"normalize": {"mean": [0.5] * 3, "std": [0.5] * 3}}]
    flip, norm = build_transform(items, "data.transforms.train")
    assert isinstance(flip, T.RandomHorizontalFlip) and isinstance(norm, T.Normalize)
    with pytest.raises(ConfigError, match=r"unknown transform 'Flip'; allowed: .*Normalize"):
        build_transform(["Flip"], "data.transforms.train")
    with pytest.raises(ConfigError, match=r"unknown key 'prob' in data.transforms.train\[0\]"):
        build_transform([{"RandomHorizontalFlip": {"prob": 0.5}}], "data.transforms.train")


# ---- hardening: numbers as YAML 1.2 reads them, val_split in range ------------------------
@pytest.mark.parametrize(("text", "value"), [("1e-3", 1e-3), ("1E-4", 1e-4), ("5e2", 500.0),
                                             ("1.0e5", 1e5), ("0.01", 0.01)])
def test_exponent_numbers_in_a_config_file_are_numbers(tmp_path: Path, text: str,
                                                       value: float) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"model: mlp\ndata: {{name: mnist-sample}}\noptimizer: {{name: adam, "
                    f"lr: {text}}}\n")
    config = load_config(path)
    assert config.optimizer.lr == pytest.approx(value)
    assert load_config(minimal(), [f"optimizer.lr={text}"]).optimizer.lr == pytest.approx(value)


def test_a_quoted_exponent_stays_a_string_and_is_refused_as_one(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("model: mlp\ndata: {name: mnist-sample}\noptimizer: {lr: '1e-3'}\n")
    with pytest.raises(ConfigError, match=r"optimizer.lr: expected a number, got '1e-3'"):
        load_config(path)


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, -3, 2.0])
def test_val_split_outside_the_unit_interval_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match=r"data.val_split: a (fraction must be in \(0, 1\)|"
                                          r"count must be >= 0)"):
        load_config({"model": "mlp", "data": {"name": "mnist-sample", "val_split": bad}})


@pytest.mark.parametrize("good", [0, 0.0, 0.2, 0.999, 500])
def test_val_split_fractions_and_counts_are_accepted(good: float) -> None:
    config = load_config({"model": "mlp", "data": {"name": "mnist-sample", "val_split": good}})
    assert config.data.val_split == good


def test_the_dotted_setter_is_shared_by_overrides_and_sweeps() -> None:
    from deepgrad.lab import config as cfg
    from deepgrad.lab.sweep import spec

    raw = {"model": "mlp", "optimizer": "sgd"}
    cfg.set_dotted(raw, "optimizer.lr", 0.5)  # "optimizer: sgd" shorthand expands here too
    assert raw["optimizer"] == {"name": "sgd", "lr": 0.5}
    spec.set_dotted(raw, "model.widths", [2, 3])
    assert raw["model"] == {"name": "mlp", "widths": [2, 3]}
    with pytest.raises(spec.SweepError, match=r"model.widths is \[2, 3\] \(list\), not a section"):
        spec.set_dotted(raw, "model.widths.x", 1)
