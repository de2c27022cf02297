"""Experiments H.2.2-H.2.5 by construction (tfapprox.verify.experiments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.theory.readouts import LinearReadout, ReluSumReadout
from tfapprox.theory.targets import FixedMemoryTarget
from tfapprox.verify.experiments import (EXPERIMENTS, build_finite_thm3_1, experiment_cell, finite_kernel,
                                         first_node_heads, heads_needed_bound, trend_verdicts, width_needed)
from tfapprox.verify.model import Model


def test_zero_kernel_below_first_node() -> None:
    first = first_node_heads("lin", 901)
    assert first == 143
    for H in (1, 16, 64, first - 1):
        fk = finite_kernel("lin", 901, H, 1000)
        assert fk.zero and fk.l1 == (1.0, 1.0)
    hit = finite_kernel("lin", 901, first, 1000)
    assert not hit.zero and hit.l1[0] > 1.0  # one node in a bump of height e^{9.01}: far worse than 0


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.sampled_from(["lin", "log"]), st.integers(min_value=1, max_value=30))
def test_first_node_matches_kernel(lag: int, rpe: str, H: int) -> None:
    """Below first_node_heads the construction's kernel is exactly zero."""
    first = first_node_heads(rpe, lag)
    fk = finite_kernel(rpe, lag, H, 64)
    if H < first:
        assert fk.zero
    if not fk.zero:
        assert H >= first


def test_h24_exact_numbers() -> None:
    row = experiment_cell("H.2.4", 32, 16)
    assert row["worst_case_lower"] == row["worst_case_upper"] == 3.0
    assert row["mse_lower"] == row["mse_upper"] == 3.0
    assert row["consistent"] and row["bound"] >= 3.0


def test_h23_worst_case_is_max_of_two_sums() -> None:
    from tfapprox.theory.targets import paper_experiment

    f = paper_experiment("H.2.3").target.readout
    pos = float(np.sum(np.maximum(f.inner_f[:, 1], 0)))
    neg = float(np.sum(np.maximum(-f.inner_f[:, 1], 0)))
    row = experiment_cell("H.2.3", 8, 256)
    assert math.isclose(row["worst_case_upper"], max(pos, neg), rel_tol=1e-12)
    assert math.isclose(row["mse_upper"], (pos ** 2 + neg ** 2) / 2, rel_tol=1e-12)


def test_h_below_m_is_reported() -> None:
    row = experiment_cell("H.2.2", 2, 64)
    assert "status" in row and "worst_case_upper" not in row


def test_small_width_sampled_ffn() -> None:
    row = experiment_cell("H.2.2", 16, 4)
    assert not row["ffn_exact"] and row["ffn_error"] > 0 and row["consistent"]


def test_unknown_experiment() -> None:
    with pytest.raises(ValueError, match="name"):
        experiment_cell("H.2.7", 4, 4)
    assert "H.2.7" not in EXPERIMENTS


def test_finite_construction_runs() -> None:
    """The finite-normaliser weights, run by the model (past='none'), give z_k = sum_s P_k(s) x_{L-1-s}."""
    L = 12
    target = FixedMemoryTarget((1, 3), LinearReadout([0, 1, 2]))
    spec = build_finite_thm3_1(target, 24, 4, L, rpe="lin")
    model = Model(spec)
    rng = np.random.default_rng(1)
    lags = (1, 3)
    from tfapprox.verify.experiments import allocation
    alloc = allocation("lin", lags, 24)
    P = [finite_kernel("lin", T, h, L).values for T, h in zip(lags, alloc)]
    for _ in range(3):
        x = rng.choice([-1.0, 1.0], L)
        y = float(np.asarray(model.run(x.reshape(-1, 1), backend="mpmath", dps=80, positions=[L - 1]),
                             dtype=float).ravel()[-1])
        z = [float(np.dot(p, x[::-1])) for p in P]
        assert math.isclose(y, z[0] + 2 * z[1], rel_tol=1e-9, abs_tol=1e-9)


def test_heads_and_width_needed() -> None:
    assert heads_needed_bound("lin", (5,), 1.0, 1e-1) > heads_needed_bound("lin", (5,), 1.0, 1.0)
    f = ReluSumReadout([1, 1], [[1, 0], [0, -1]])
    w = width_needed(f, 1e-2)
    assert w["bound"] == 2 and w["measured"] is not None and w["measured"] <= 2
    assert width_needed(LinearReadout([1, 1]), 1e-2) == {"measured": 2, "bound": 2}


def test_trend_verdicts_detect_a_trend() -> None:
    """The verdicts are computed, not assumed: a synthetic grid improving in m is reported as reproduced."""
    rows = [{"H": H, "m": m, "mse_upper": 1.0 / m, "target_mean_square": 1.0} for H in (1, 4) for m in (1, 16)]
    out = trend_verdicts({"H.2.3": rows}, [])
    assert out[0]["reproduced"] is True
    rows = [{"H": H, "m": m, "mse_upper": 1.0, "target_mean_square": 1.0} for H in (1, 4) for m in (1, 16)]
    assert trend_verdicts({"H.2.3": rows}, [])[0]["reproduced"] is False


def test_experiments_check_json(tmp_path) -> None:
    import json

    from tfapprox.cli import main

    out = tmp_path / "e.json"
    rc = main(["verify", "experiments", "--experiments", "H.2.3,H.2.4", "--heads", "1,3,8", "--widths", "2,64",
               "--rpe", "lin", "--lag-heads", "1,8", "--best-found-heads", "1", "--json", str(out)])
    data = json.loads(out.read_text())
    assert rc == 0 and data["passed"]
    assert {r["experiment"] for r in data["rows"]} == {"H.2.3", "H.2.4"}
    assert all("mse_upper" in r or "status" in r for r in data["rows"])
    assert {t["experiment"] for t in data["fit"]["trends"]["lin"]} == {"H.2.3", "H.2.4"}
    assert data["fit"]["lag_901"][0]["attention_error_901"] == 1.0
