"""tfapprox.checks.run_check: typed options, the same result as the CLI (issue 14, item 4)."""

from __future__ import annotations

import json

import pytest

from tfapprox.checks import check_options, list_checks, run_check
from tfapprox.cli import main
from tfapprox.theory.families import LOG
from tfapprox.verify.checks import LemmaF1Config, Thm31Config
from tfapprox.verify.registry import all_checks, get_check

_RUN_INFO = ("tfapprox_version", "python_version", "numpy_version", "command")


def _strip(data: dict) -> dict:
    out = {k: v for k, v in data.items() if k not in _RUN_INFO}
    out["rows"] = [{k: v for k, v in r.items() if k != "seconds"} for r in out["rows"]]
    return out


@pytest.mark.parametrize("name,options,argv", [
    ("thm3.1", {"heads": [32, 64], "rpe": "log", "lags": [1, 3]},
     ["--heads", "32,64", "--rpe", "log", "--lags", "1,3"]),
    ("lemma-f4", {"heads": (16, 32, 64), "lags": "1", "n_max": 2}, ["--heads", "16,32,64", "--lags", "1", "--n-max", "2"]),
    ("thm4.1", {"rpe": LOG, "heads": [8, 16], "enumerate_heads": 0}, ["--rpe", "log", "--heads", "8,16",
                                                                       "--enumerate-heads", "0"]),
])
def test_typed_call_equals_cli_json(tmp_path, capsys, name, options, argv) -> None:
    out = tmp_path / "r.json"
    rc = main(["verify", name, *argv, "--json", str(out), "--quiet"])
    capsys.readouterr()
    result = run_check(name, **options)
    assert rc == (0 if result.passed else 1)
    assert _strip(json.loads(json.dumps(result.to_json()))) == _strip(json.loads(out.read_text()))


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown option 'head'.*allowed: heads"):
        run_check("thm3.1", head=[32])
    with pytest.raises(TypeError, match="unexpected keyword|unknown option"):
        Thm31Config(nheads=3)  # type: ignore[call-arg]


@pytest.mark.parametrize("options,message", [
    ({"heads": [64, 32]}, "heads must be strictly increasing"),
    ({"heads": [0, 32]}, "heads must be >= 1, got 0"),
    ({"n_max": 0}, "n_max must be >= 1, got 0"),
    ({"rpe": "exp"}, "rpe must be one of 'lin', 'log'; got 'exp'"),
    ({"alpha": "abc"}, "alpha: 'abc' is not a decimal number"),
    ({"alpha": -0.5}, "alpha must be > 0"),
    ({"heads": [100_000_000]}, "limit MAX_HEADS"),
    ({"readout": "max"}, "readout must be one of"),
])
def test_bad_value_is_a_value_error(options, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("'", "'")):
        run_check("thm3.1", **options)


@pytest.mark.parametrize("options,message", [
    ({"heads": 32}, "heads must be a list of integers"),
    ({"heads": [32.0]}, "heads must be an integer"),
    ({"window": True}, "window must be an integer"),
    ({"rpe": 1}, "rpe must be a string"),
])
def test_wrong_type_is_a_type_error(options, message) -> None:
    with pytest.raises(TypeError, match=message):
        run_check("thm3.1", **options)


def test_unknown_check() -> None:
    with pytest.raises(ValueError, match="unknown check 'nope'"):
        run_check("nope")


def test_configs_are_frozen_typed_and_normalised() -> None:
    c = LemmaF1Config(heads="16, 32", lags=[1])
    assert c.heads == (16, 32) and c.lags == (1,) and c.alpha == "0.01"
    with pytest.raises(Exception):
        c.heads = (1,)  # type: ignore[misc]
    assert Thm31Config(rpe=LOG).rpe == "log"
    assert Thm31Config(alpha=0.02).alpha == "0.02"


def test_list_and_options() -> None:
    names = list_checks()
    assert list(names) == [c.name for c in all_checks()]
    opts = check_options("thm4.4")
    assert opts["heads"]["default"] is None and "auto" in opts["heads"]["help"]


def test_every_check_is_typed_and_its_defaults_are_valid() -> None:
    for check in all_checks():
        assert check.config is not None, check.name
        assert len(check.defaults) == len(check.default_options) >= 1
        for config, argv in zip(check.defaults, check.default_options):
            # the argument list parses back to the same configuration (the report names derive from it)
            import argparse

            parser = argparse.ArgumentParser()
            check.add_arguments(parser)
            assert check.config.from_namespace(parser.parse_args(list(argv))) == config


def test_verify_all_report_names_are_unchanged() -> None:
    """The file names of `verify --all` (derived from the default configurations) are the baseline's."""
    from tfapprox.verify.report import _slug

    slugs = [_slug(c.name, opts) for c in all_checks() for opts in c.default_options]
    assert slugs == [
        "thm3.1-rpe-lin-lags-1_5_20-heads-32_64_128_256_512_1024",
        "thm3.1-rpe-log-lags-1_3_8-heads-32_64_128_256_512_1024",
        "lemma-f1", "lemma-f4",
        "thm5.1-kernel-exp_0.5-rpe-lin-heads-64_256_1024", "thm5.1-kernel-poly_3-rpe-log-heads-64_256_1024",
        "h2.7", "h2.8", "tails", "curse-of-memory",
        "thm4.1-rpe-lin-heads-8_32_128_256", "thm4.1-rpe-log-heads-8_32_128",
        "prop4.3-rpe-lin-heads-8_64", "prop4.3-rpe-log-heads-8_64", "prop4.2",
        "thm4.4-K-2-M-3-rpe-lin-heads-64_128_256-enumerate-heads-64",
        "thm4.4-K-2-M-2-rpe-lin-heads-64_128_256-enumerate-heads-0",
        "thm4.4-K-2-M-3-rpe-log-heads-128_256-enumerate-heads-0",
        "prop4.5", "experiments", "tightness",
    ]
    assert get_check("thm4.4").defaults[1].M == 2
