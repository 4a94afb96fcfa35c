"""Sweep files: expansion of grid, list and random sweeps, profiles, bases, validation errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sweep_helpers import moons

from deepgrad.lab.sweep import SweepError, expand, load_sweep, parse_sweep
from deepgrad.lab.sweep.spec import Distribution, set_dotted, slug, variant_name


def sweep(**sections: Any) -> dict[str, Any]:
    return {"name": "t", "base": moons(), **sections}


# ----------------------------------------------------------------------------- expansion


def test_grid_is_the_cartesian_product_times_seeds() -> None:
    spec = parse_sweep(sweep(
        seeds=[0, 1],
        grid={"model.hidden": [3, 8, 16], "optimizer.lr": [0.01, 0.1]},
    ))
    trials = expand(spec)
    assert len(trials) == 3 * 2 * 2
    combos = {(t.overrides["model.hidden"], t.overrides["optimizer.lr"], t.seed) for t in trials}
    assert len(combos) == 12
    first = trials[0]
    assert first.overrides == {"model.hidden": 3, "optimizer.lr": 0.01}
    assert first.config["model"]["hidden"] == 3 and first.config["optimizer"]["lr"] == 0.01
    assert [t.seed for t in trials[:2]] == [0, 1]  # seeds repeat each variant in turn
    assert trials[1].config["seed"] == 1
    ids = [t.trial_id for t in trials]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert first.trial_id == "000-hidden_3-lr_0.01-s0"
    assert spec.varied == ["model.hidden", "optimizer.lr"]
    assert len({t.key for t in trials}) == 12  # every trial has its own fingerprint


def test_list_variants_keep_their_names_and_combine_with_the_grid() -> None:
    spec = parse_sweep(sweep(
        list=[
            {"name": "sgd", "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}},
            {"name": "adam", "optimizer.name": "adam", "optimizer.lr": 0.01},
        ],
        grid={"model.activation": ["tanh", "relu"]},
    ))
    trials = expand(spec)
    assert [t.variant for t in trials] == [
        "sgd,activation=tanh", "sgd,activation=relu",
        "adam,activation=tanh", "adam,activation=relu",
    ]
    sgd = trials[0].config["optimizer"]
    assert sgd == {"name": "sgd", "lr": 0.1, "momentum": 0.9}  # a mapping replaces the section
    adam = trials[2].config["optimizer"]
    assert adam["name"] == "adam" and adam["lr"] == 0.01
    assert trials[3].config["model"]["activation"] == "relu"


def test_list_without_names_gets_names_from_its_values() -> None:
    spec = parse_sweep(sweep(list=[{"model.hidden": 4}, {"model.hidden": 9}]))
    assert [t.variant for t in expand(spec)] == ["hidden=4", "hidden=9"]


def test_random_samples_are_seeded_in_bounds_and_typed() -> None:
    params = {
        "optimizer.lr": {"log_uniform": [1e-4, 1e-1]},
        "model.hidden": {"int": [2, 6]},
        "model.activation": {"choice": ["tanh", "relu", "sigmoid"]},
        "data.options.noise": {"uniform": [0.1, 0.3]},
    }
    spec = parse_sweep(sweep(random={"n": 20, "seed": 7, "params": params}))
    trials = expand(spec)
    assert len(trials) == 20
    for t in trials:
        o = t.overrides
        assert 1e-4 <= o["optimizer.lr"] <= 1e-1
        assert isinstance(o["model.hidden"], int) and 2 <= o["model.hidden"] <= 6
        assert o["model.activation"] in ("tanh", "relu", "sigmoid")
        assert 0.1 <= o["data.options.noise"] <= 0.3
        assert t.config["data"]["options"]["noise"] == o["data.options.noise"]
    assert {t.overrides["model.hidden"] for t in trials} == {2, 3, 4, 5, 6}  # inclusive ends
    again = expand(parse_sweep(sweep(random={"n": 20, "seed": 7, "params": params})))
    assert [t.overrides for t in again] == [t.overrides for t in trials]
    other = expand(parse_sweep(sweep(random={"n": 20, "seed": 8, "params": params})))
    assert [t.overrides for t in other] != [t.overrides for t in trials]


def test_log_uniform_spreads_over_decades() -> None:
    d = Distribution("log_uniform", 1e-4, 1e-0)
    rng = np.random.default_rng(0)
    values = np.array([d.sample(rng) for _ in range(2000)])
    decades = np.floor(np.log10(values)).astype(int)
    counts = np.bincount(decades + 4, minlength=4)
    assert counts.min() > 400  # each of the 4 decades gets about a quarter


def test_int_step_and_optuna_distributions() -> None:
    d = Distribution("int", 8, 64, step=8)
    rng = np.random.default_rng(0)
    assert {d.sample(rng) for _ in range(200)} == {8, 16, 24, 32, 40, 48, 56, 64}
    o = d.to_optuna()
    assert (o.low, o.high, o.step) == (8, 64, 8)
    assert Distribution("log_uniform", 1e-3, 1.0).to_optuna().log is True
    assert list(Distribution("choice", choices=("a", "b")).to_optuna().choices) == ["a", "b"]


def test_profile_merges_into_the_file(write_sweep: Any) -> None:
    path = write_sweep(sweep(
        seeds=[0, 1, 2],
        grid={"model.hidden": [3, 8, 16]},
        profiles={"quick": {"set": {"epochs": 1}, "seeds": [0], "grid": {"model.hidden": [3]}}},
    ))
    full = load_sweep(path)
    quick = load_sweep(path, profile="quick")
    assert len(expand(full)) == 9 and full.base["epochs"] == 4
    trials = expand(quick)
    assert len(trials) == 1 and trials[0].config["epochs"] == 1
    assert quick.profile == "quick" and full.profiles == ("quick",)
    with pytest.raises(SweepError, match="no 'fast' profile"):
        load_sweep(path, profile="fast")


def test_overrides_apply_after_the_files_set(write_sweep: Any) -> None:
    path = write_sweep(sweep(set={"epochs": 9, "model.hidden": 5}, grid={"seed": [0]}))
    spec = load_sweep(path, overrides={"epochs": 2})
    assert spec.base["epochs"] == 2 and spec.base["model"]["hidden"] == 5


def test_base_from_zoo_config_file_and_other_sweep(tmp_path: Path, write_sweep: Any) -> None:
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(moons(epochs=7)))
    by_file = load_sweep(write_sweep({"name": "a", "base": "cfg.yaml", "grid": {"seed": [1]}},
                                     "a.yaml"))
    assert by_file.base["epochs"] == 7
    by_zoo = load_sweep(write_sweep({"name": "b", "base": "moons-net", "set": {"epochs": 1}},
                                    "b.yaml"))
    assert by_zoo.base["model"]["name"] == "moons-net" and by_zoo.base["epochs"] == 1
    inherit = load_sweep(write_sweep({"name": "c", "base": "b.yaml", "set": {"batch_size": 8}},
                                     "c.yaml"))
    assert inherit.base["epochs"] == 1 and inherit.base["batch_size"] == 8


def test_set_dotted_turns_a_named_section_into_a_mapping() -> None:
    config: dict[str, Any] = {"model": "mlp"}
    set_dotted(config, "model.widths", [2, 3])
    set_dotted(config, "data.options.noise", 0.1)
    assert config == {"model": {"name": "mlp", "widths": [2, 3]},
                      "data": {"options": {"noise": 0.1}}}


def test_names_are_file_safe() -> None:
    assert variant_name({"model.activation": "tanh", "optimizer.lr": 1e-3}) == \
        "activation=tanh,lr=0.001"
    assert slug("a=1,b:[2, 3]/x") == "a_1-b_-2-3-x"
    assert variant_name({}) == "base"


def test_search_section_defaults() -> None:
    spec = parse_sweep(sweep(search={
        "n_trials": 4, "metric": "val_loss", "params": {"optimizer.lr": [0.1, 0.01]},
    }))
    s = spec.search
    assert s is not None
    assert s.direction == "minimize" and s.pruner == "median" and s.sampler == "tpe"
    assert spec.metric == "val_loss" and spec.direction == "minimize"
    assert expand(spec) == []  # Optuna proposes the trials while the sweep runs
    off = parse_sweep(sweep(search={"n_trials": 2, "metric": "val_accuracy", "pruner": "none",
                                    "params": {"model.hidden": {"int": [2, 4]}}}))
    assert off.search is not None and off.search.pruner is None
    assert off.search.direction == "maximize"


# ----------------------------------------------------------------------------- validation errors

BAD = [
    ({"grdi": {"seed": [0]}}, r"unknown key 'grdi'.*did you mean 'grid'"),
    ({"grid": {"model.hidden": 3}}, r"grid\.model\.hidden: expected a non-empty list"),
    ({"grid": {"model.hidden": []}}, r"expected a non-empty list"),
    ({"grid": {"optimizer.lrr": [0.1]}}, r"variant 'lrr=0\.1'.*unknown key 'lrr'"),
    ({"grid": {"model.hidden": ["many"]}}, r"variant 'hidden=many'.*hidden.*expected an integer"),
    ({"grid": {"model.widht": [3]}}, r"unknown key 'widht'"),
    ({"grid": {"epochs": [-1]}}, r"epochs: must be >= 0"),
    ({"list": [{"name": "a", "seed": 1}, {"name": "a", "seed": 2}]}, r"name 'a' is used twice"),
    ({"list": {"name": "a"}}, r"expected a non-empty list of variants"),
    ({"seeds": [0, 0]}, r"seeds repeat"),
    ({"seeds": ["one"]}, r"seeds\[0\]: expected an integer"),
    ({"random": {"n": 2, "params": {"optimizer.lr": {"uniform": [1, 0]}}}},
     r"low must be below high"),
    ({"random": {"n": 2, "params": {"optimizer.lr": {"log_uniform": [0, 1]}}}},
     r"bounds must be > 0"),
    ({"random": {"n": 2, "params": {"optimizer.lr": {"gauss": [0, 1]}}}},
     r"unknown key 'gauss'"),
    ({"random": {"n": 2, "params": {"model.hidden": {"int": [1.5, 4]}}}},
     r"bounds must be integers"),
    ({"random": {"n": 0, "params": {"model.hidden": [1, 2]}}}, r"random\.n: expected an integer"),
    ({"random": {"n": 2, "params": {"model.hidden": [1, 2]}}, "grid": {"seed": [0]}},
     r"cannot be combined"),
    ({"search": {"n_trials": 2, "metric": "val_loss", "params": {"model.hidden": [2]}},
      "seeds": [0, 1]}, r"one seed per trial"),
    ({"search": {"n_trials": 2, "params": {"model.hidden": [2]}}},
     r"missing required key 'metric'"),
    ({"search": {"n_trials": 2, "metric": "val_loss", "direction": "up",
                 "params": {"model.hidden": [2]}}}, r"direction: expected maximize or minimize"),
    ({"search": {"n_trials": 2, "metric": "val_loss", "pruner": "hyperband",
                 "params": {"model.hidden": [2]}}}, r"pruner: expected median or none"),
    ({"search": {"method": "grid", "n_trials": 2, "metric": "a", "params": {"x": [1]}}},
     r"only 'optuna'"),
    ({"trainer": "my_module.train"}, r"package\.module:function"),
    ({"profiles": {"quick": {"nmae": 1}}}, r"unknown key 'nmae' in profiles\.quick"),
]


@pytest.mark.parametrize("extra, message", BAD, ids=[m for _, m in BAD])
def test_validation_errors_name_the_problem(extra: dict[str, Any], message: str) -> None:
    data = sweep(**extra)
    with pytest.raises(SweepError, match=message):
        parse_sweep(data, profile="quick" if "profiles" in extra else None)


def test_base_errors(write_sweep: Any) -> None:
    with pytest.raises(SweepError, match=r"missing; give a zoo model name"):
        parse_sweep({"name": "x", "grid": {"seed": [0]}})
    with pytest.raises(SweepError, match=r"'moons-nett' is neither a zoo model \(did you mean "
                                         r"'moons-net'\?\)"):
        parse_sweep({"name": "x", "base": "moons-nett"})
    with pytest.raises(SweepError, match=r"sweep file not found"):
        load_sweep(Path(write_sweep(sweep())).parent / "nope.yaml")
    path = write_sweep(sweep())
    path.write_text("name: [unclosed\n")
    with pytest.raises(SweepError, match=r"invalid YAML"):
        load_sweep(path)


def test_every_trial_config_is_checked_on_load() -> None:
    # the fourth variant's key is wrong: the sweep fails before any trial runs
    data = sweep(list=[{"model.hidden": h} for h in (2, 3, 4)] + [{"model.hiden": 5}])
    with pytest.raises(SweepError, match=r"variant 'hiden=5'.*did you mean 'hidden'"):
        parse_sweep(data)


def test_distribution_sample_is_plain_python() -> None:
    rng = np.random.default_rng(0)
    for d in (Distribution("uniform", 0, 1), Distribution("log_uniform", 1e-3, 1)):
        v = d.sample(rng)
        assert type(v) is float and math.isfinite(v)
    assert type(Distribution("int", 1, 3).sample(rng)) is int


def test_dry_run_lists_the_trials(write_sweep: Any, capsys: Any) -> None:
    from deepgrad.cli import main

    path = write_sweep(sweep(grid={"model.hidden": [3, 4]}, seeds=[0, 1]))
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "000-hidden_3-s0" in out and "003-hidden_4-s1" in out and "4 trial(s)" in out
    bad = write_sweep({"name": "t", "base": "moons-net", "grid": {"model.hidn": [1]}}, "bad.yaml")
    assert main(["sweep", str(bad), "--dry-run"]) == 2
    assert "did you mean 'hidden'" in capsys.readouterr().err


def test_variant_names_tell_large_from_tiny_exponents() -> None:
    big, tiny = variant_name({"optimizer.lr": 1e35}), variant_name({"optimizer.lr": 1e-35})
    assert big == "lr=1e35" and tiny == "lr=1e-35"
    assert slug(big) != slug(tiny)


def test_sweep_files_are_checked_by_the_config_validator() -> None:
    # the generic validator's messages: a did-you-mean, and the item inside a list
    with pytest.raises(SweepError, match=r"unknown key 'n_trails' in search \(did you mean "
                                         r"'n_trials'\?\)"):
        parse_sweep(sweep(search={"n_trails": 2, "metric": "val_loss",
                                  "params": {"model.hidden": [2]}}))
    with pytest.raises(SweepError, match=r"seeds\[1\]: expected an integer, got 'x'"):
        parse_sweep(sweep(seeds=[0, "x"]))
    with pytest.raises(SweepError, match=r"description: expected a string or null"):
        parse_sweep(sweep(description=3))
