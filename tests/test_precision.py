"""Precision is part of the result (issue 12, items 1, 2, 4, 5, 6)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from strategies import transformer_specs

from tfapprox.api import build_construction, build_model
from tfapprox.theory.architecture import Block, FeedForward, TransformerSpec
from tfapprox.theory.digits import GUARD_DIGITS, OUTPUT_DIGITS, required_digits, weights_log10
from tfapprox.theory.limits import MAX_HEADS, MAX_LAG, MIN_DPS
from tfapprox.verify.kernel_error import delta_kernel_l1_error
from tfapprox.verify.lowering import LogRoundError
from tfapprox.verify.model import Model, PrecisionError
from tfapprox.verify.model_file import spec_from_dict, spec_to_dict

SMALL = [("thm3.1", {"heads": 32}), ("thm3.1", {"heads": 32, "rpe": "log"}), ("thm4.1", {"heads": 32}),
         ("thm4.1", {"heads": 32, "rpe": "log"}), ("thm4.1", {"heads": 32, "tmx": True}), ("thm4.4", {"heads": 16}),
         ("thm4.4", {"heads": 16, "prop45": True}), ("thm5.1", {"heads": 32}),
         ("thm5.1", {"heads": 32, "kernel": "poly:3.5"})]


def _ffn_spec(outer: object, precision: str | None = None, bias: object = 0) -> TransformerSpec:
    ffn = FeedForward([[1]], [[bias]], [[outer]], precision)
    return TransformerSpec(sympy.Matrix([[1]]), sympy.Matrix([[0]]), (Block(None, ffn),), "padded", {})


# ------------------------------------------------------------------ the digits policy
def test_policy_formula() -> None:
    spec = _ffn_spec(sympy.Integer(10) ** 40)
    assert weights_log10(spec) == pytest.approx(40.0)
    assert required_digits(spec) == 40 + OUTPUT_DIGITS + GUARD_DIGITS
    assert required_digits(_ffn_spec(0)) == OUTPUT_DIGITS + GUARD_DIGITS  # never below S = 1
    assert required_digits(_ffn_spec(sympy.Rational(1, 3))) == 1 + OUTPUT_DIGITS + GUARD_DIGITS  # S = 1 + 1/3
    assert required_digits(_ffn_spec(1), extra_log10=10.5) == 11 + OUTPUT_DIGITS + GUARD_DIGITS
    huge = _ffn_spec(sympy.Integer(10) ** 400)  # no float overflow on sizes beyond float64
    assert required_digits(huge) == 400 + OUTPUT_DIGITS + GUARD_DIGITS


@pytest.mark.parametrize("name,options", SMALL)
def test_every_builder_records_usable_digits(name: str, options: dict) -> None:
    """Item 6: the recorded digits are always accepted by the backend, and equal the policy."""
    model = build_model(name, **options)
    digits = model.metadata["precision_digits"]
    assert isinstance(digits, int) and digits >= MIN_DPS
    assert digits == model.required_digits == required_digits(model.spec) or digits == model.required_digits
    x = np.zeros((1, 4, model.spec.input_dim))
    model.run(x, backend="mpmath", dps=digits)  # the README recipe
    model.run(x, backend="mpmath")  # dps=None: the same digits


def test_thm5_1_digits_follow_the_weights() -> None:
    model = build_model("thm5.1", kernel="exp:0.7", heads=96)
    biggest = max(abs(float(v)) for _, v in model.spec.parameters())
    assert biggest > 1e69
    assert model.metadata["precision_digits"] >= math.log10(biggest) + OUTPUT_DIGITS + GUARD_DIGITS


# ------------------------------------------------------------------ Model.run never below the digits
def test_issue_reproduction_mpmath_default(tmp_path: Path) -> None:
    """build thm3.1 --lags 1,5,20 --heads 256; eval --backend mpmath without --dps: ~1e18 before."""
    cons, model = build_construction("thm3.1", lags="1,5,20", heads=256)
    model.save(tmp_path / "m.json")
    loaded = Model.load(tmp_path / "m.json")
    x = np.random.default_rng(0).uniform(-1, 1, 40)
    y = np.array(loaded.run(x, backend="mpmath")[:, 0], dtype=float)
    truth = cons.target.evaluate(x)
    bound = sum(delta_kernel_l1_error(k).upper for k in cons.kernels)
    assert np.max(np.abs(y - truth)) <= bound
    need = loaded.required_digits
    assert need > 60
    with pytest.raises(PrecisionError, match=f"dps=50 is below the {need} decimal digits"):
        loaded.run(x, backend="mpmath", dps=50)
    with pytest.raises(PrecisionError, match=str(need)):
        loaded.forward(x, backend="mpmath", dps=need - 1)
    with pytest.raises(PrecisionError):
        loaded.lowered("mpmath", need - 1)
    assert isinstance(PrecisionError("x"), ArithmeticError)
    loaded.run(x[:5], backend="mpmath", dps=need)  # exactly the digits needed is accepted


def test_lying_metadata_cannot_lower_the_digits() -> None:
    model = build_model("thm5.1", kernel="exp:0.7", heads=96)
    doc = spec_to_dict(model.spec)
    doc["metadata"]["precision_digits"] = 5
    liar = Model(spec_from_dict(doc))
    assert liar.required_digits >= model.required_digits - 1
    with pytest.raises(PrecisionError):
        liar.run(np.zeros(3), backend="mpmath", dps=20)
    honest = Model(spec_from_dict(spec_to_dict(model.spec)))
    # metadata above the computed digits is honoured
    doc["metadata"]["precision_digits"] = honest.required_digits + 7
    assert Model(spec_from_dict(doc)).required_digits == honest.required_digits + 7


def test_spec_without_metadata_gets_digits_from_weights() -> None:
    spec = _ffn_spec(sympy.Integer(10) ** 60)
    model = Model(spec)
    assert model.required_digits == 60 + OUTPUT_DIGITS + GUARD_DIGITS
    with pytest.raises(PrecisionError):
        model.run(np.ones(2), backend="mpmath", dps=50)
    y = model.run(np.ones(2), backend="mpmath")
    assert int(y[-1, 0]) == 10 ** 60


def test_bad_dps_is_a_value_error() -> None:
    model = build_model("thm3.1", heads=32)
    with pytest.raises(ValueError, match="dps"):
        model.run(np.zeros(2), backend="mpmath", dps=3)
    with pytest.raises(TypeError, match="dps"):
        model.run(np.zeros(2), backend="mpmath", dps=50.5)


# ------------------------------------------------------------------ zero attention is said
def test_zero_attention_is_recorded() -> None:
    cons, model = build_construction("thm3.1", lags="1,5", heads=4)
    warnings = model.metadata["warnings"]
    assert len(warnings) == 2
    assert "T=5 is identically zero at H=2 heads" in warnings[1] and "exactly 1" in warnings[1]
    for kern in cons.kernels:  # the statement: the l1 kernel error is exactly 1 for that memory
        enc = delta_kernel_l1_error(kern)
        assert enc.lower <= 1.0 <= enc.upper and enc.upper - enc.lower < 1e-9
    y = model.run(np.random.default_rng(1).uniform(-1, 1, 30))
    assert np.allclose(y[:, 0], 0.0)  # y = x_{t-1} + x_{t-5} read through zero attention
    assert "warnings" not in build_model("thm3.1", lags="1,5", heads=128).metadata


def test_zero_attention_recorded_by_adaptive_builders() -> None:
    model = build_model("thm4.1", heads=4)
    assert any("identically zero" in w for w in model.metadata["warnings"])


# ------------------------------------------------------------------ log_round at 0
@pytest.mark.parametrize("backend", ["float64", "mpmath", "sympy"])
def test_log_round_refuses_log_zero(backend: str) -> None:
    spec = _ffn_spec(1, "log_round")  # z = relu(x): e^z rounds to 0 never (z >= 0)
    model = Model(spec)
    ok = model.run(np.array([0.0, 1.0]), backend=backend)
    assert float(ok[0, 0]) == 0.0  # log[e^0] = log 1
    neg = Model(_ffn_spec(-1, "log_round"))  # z = -relu(x): x = 1 gives e^{-1} -> 0
    with pytest.raises(LogRoundError, match=r"blocks\[0\]\.ffn .*window 0, time 1, coordinate 0"):
        neg.run(np.array([0.0, 1.0]), backend=backend)
    with pytest.raises(ValueError, match="log 0"):
        neg.run(np.array([0.0, 1.0]), backend=backend)


def test_log_round_in_the_padded_past() -> None:
    neg = Model(_ffn_spec(-1, "log_round"))
    with pytest.raises(ValueError, match="padded past"):
        neg.run(np.array([0.0]), pad=[1.0], backend="mpmath")
    # the tie e^z = 1/2 rounds to 0 (ties to even): refused too
    tie = Model(_ffn_spec(sympy.Integer(-1), "log_round", bias=0))
    with pytest.raises(LogRoundError):
        tie.run(np.array([float(math.log(2))]), backend="float64")


# ------------------------------------------------------------------ limits before allocation
def test_builder_limits() -> None:
    with pytest.raises(ValueError, match=f"lags must be <= {MAX_LAG}, got 100000000"):
        build_model("thm3.1", lags="1,100000000")
    with pytest.raises(ValueError, match=f"heads must be <= {MAX_HEADS}"):
        build_model("thm5.1", heads=10 ** 9)
    with pytest.raises(ValueError, match="width must be <="):
        build_model("thm4.1", width=10 ** 9)
    with pytest.raises(ValueError, match="readout_neurons must be <="):
        build_model("thm3.1", readout="gaussian", readout_neurons=10 ** 9)
    with pytest.raises(ValueError, match="comma-separated integers"):
        build_model("thm3.1", lags="1_0")


def test_largest_lag_builds_without_overflow() -> None:
    model = build_model("thm3.1", lags=f"1,{MAX_LAG}", heads=8)  # was: cannot convert float infinity
    assert model.metadata["precision_digits"] >= MIN_DPS
    assert any(f"T={MAX_LAG}" in w for w in model.metadata["warnings"])


# ------------------------------------------------------------------ the guarantee, measured
@pytest.mark.parametrize("name,options", [("thm3.1", {"lags": "1,5,20", "heads": 256}),
                                          ("thm5.1", {"kernel": "exp:0.7", "heads": 96}),
                                          ("thm4.1", {"heads": 96}),
                                          ("thm4.4", {"heads": 64, "prop45": True})])
def test_required_digits_give_outputs_below_1e_15(name: str, options: dict) -> None:
    """At the policy's digits the output agrees with a run at 40 more digits to < 1e-15."""
    from tfapprox.verify.nested_error import target_alphabet

    cons, model = build_construction(name, **options)
    need = model.required_digits
    if name.startswith("thm4"):
        alphabet = target_alphabet(cons.target)
        x = np.array([alphabet[i % len(alphabet)] for i in (0, 2, 1, 1, 0, 2)], dtype=float)
        kw = {"pad": [alphabet[0]]}
    else:
        x = np.random.default_rng(3).uniform(-1, 1, 12)
        kw = {}
    a = model.run(x, backend="mpmath", **kw)
    b = model.run(x, backend="mpmath", dps=need + 40, **kw)
    assert max(abs(u - v) for u, v in zip(np.ravel(a), np.ravel(b))) < 1e-15


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(transformer_specs(pasts=("padded",), metadata=False))
def test_property_default_digits_agree_with_more_digits(spec: TransformerSpec) -> None:
    """Random normalised models, inputs of norm <= 1: dps=None agrees with dps + 30 to 1e-15."""
    assume(all(b.attention is None or b.attention.normalized for b in spec.blocks))
    model = Model(spec)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 4, spec.input_dim)) / max(1, spec.input_dim)
    try:
        a = model.run(x, backend="mpmath")
    except (LogRoundError, OverflowError):
        return
    b = model.run(x, backend="mpmath", dps=model.required_digits + 30)
    assert all(abs(u - v) <= 1e-15 * max(1, abs(v)) for u, v in zip(np.ravel(a), np.ravel(b)))
