"""The public face: ``tfapprox.__all__`` lists every builder beside its result type, every name
resolves, and the named builders of :mod:`tfapprox.api` refuse unknown options (issue 14)."""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys

import pytest

import tfapprox
from tfapprox import api
from tfapprox.constructions.base import Construction

RESULT_CLASSES = ["Thm31Construction", "Thm41Construction", "Thm44Construction", "Prop45Construction",
                  "Thm51Construction", "Prop42Construction"]


def test_every_public_name_resolves_and_is_listed_once() -> None:
    assert len(tfapprox.__all__) == len(set(tfapprox.__all__))
    for name in tfapprox.__all__:
        assert getattr(tfapprox, name) is not None, name
    assert set(tfapprox._LAZY) <= set(tfapprox.__all__)
    for name, module in tfapprox._LAZY.items():
        assert getattr(importlib.import_module(module), name) is getattr(tfapprox, name)
    with pytest.raises(AttributeError, match="no attribute 'build_thm9_9'"):
        tfapprox.build_thm9_9


def test_all_lists_each_builder_beside_its_result_type() -> None:
    builders = [name for name in tfapprox.__all__ if name.startswith("build_")]
    assert set(builders) <= set(tfapprox.BUILDER_RESULTS)
    for builder, result in tfapprox.BUILDER_RESULTS.items():
        assert builder in tfapprox.__all__ and result in tfapprox.__all__, (builder, result)
        assert callable(getattr(tfapprox, builder))
        assert isinstance(getattr(tfapprox, result), type)
    for builder in builders:  # the result type follows its builder in __all__
        assert tfapprox.__all__[tfapprox.__all__.index(builder) + 1] == tfapprox.BUILDER_RESULTS[builder]


def test_every_construction_result_shares_the_one_base() -> None:
    assert "Construction" in tfapprox.__all__
    base_fields = [f.name for f in dataclasses.fields(Construction)]
    assert base_fields == ["spec", "target", "rpe"]
    for name in RESULT_CLASSES:
        cls = getattr(tfapprox, name)
        assert issubclass(cls, Construction), name
        assert [f.name for f in dataclasses.fields(cls)][:3] == base_fields
        assert cls.__repr__ is Construction.__repr__ and cls._repr_markdown_ is Construction._repr_markdown_
    assert issubclass(tfapprox.Prop45Construction, tfapprox.Thm44Construction)


def test_builders_return_their_result_types() -> None:
    from tfapprox.theory.targets import prop42_witness

    cons = tfapprox.build_thm3_1(tfapprox.fixed_memory_target([1, 3], "sum", 4, 0), 8)
    assert type(cons) is tfapprox.Thm31Construction and cons.family.name == cons.rpe == "lin"
    assert cons.num_heads == 8 and cons.metadata["construction"] == "thm3.1" and "Theorem 3.1" in cons.paper
    text = cons._repr_markdown_()
    assert text.startswith("**Thm31Construction**") and "| rpe | lin |" in text
    c41 = tfapprox.build_thm4_1(prop42_witness(corrected=True), 4, rpe="log")
    assert type(c41) is tfapprox.Thm41Construction and c41.family.first_lag == 1 and c41.stores_log
    p42 = tfapprox.build_prop4_2_dp(4)
    assert type(p42) is tfapprox.Prop42Construction and p42.rpe == "lin" and p42.num_heads == 4


@pytest.mark.parametrize("construction", sorted(api.BUILDERS))
def test_unknown_builder_options_raise_type_error(construction: str) -> None:
    allowed = api.builder_options(construction)
    assert allowed and "heads" in allowed
    with pytest.raises(TypeError) as info:
        api.build_model(construction, heads=4, rpee="log", head=8)
    message = str(info.value)
    assert "'head'" in message and "'rpee'" in message and construction in message
    assert "allowed: " + ", ".join(allowed) in message
    with pytest.raises(TypeError, match="unknown option 'bogus_option'"):
        api.build_construction(construction, bogus_option=1)


def test_unknown_construction_raises_value_error() -> None:
    with pytest.raises(ValueError, match="construction must be one of thm3.1"):
        api.build_model("thm9.9")
    with pytest.raises(ValueError, match="construction must be one of"):
        api.builder_options("thm9.9")


def test_options_spelled_with_dashes_and_none_defaults_are_accepted() -> None:
    cons, model = api.build_construction("thm3.1", lags="1,3", heads=4, width=None, **{"readout-neurons": 8})
    assert cons.metadata["heads"] == 4 and model.metadata["construction"] == "thm3.1"


def test_cli_build_passes_only_declared_options(tmp_path) -> None:
    """``tfapprox build`` hands the builder exactly its declared options (no TypeError)."""
    out = tmp_path / "m.json"
    proc = subprocess.run([sys.executable, "-m", "tfapprox", "build", "thm4.1", "--heads", "4", "--rpe", "log",
                           "--out", str(out)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)  # outside the repository: its tfapprox/ folder would shadow the install
    assert proc.returncode == 0, proc.stderr
    assert out.exists()
