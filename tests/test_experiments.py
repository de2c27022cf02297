"""Experiments H.2.2-H.2.5 by construction (tfapprox.verify.experiments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from strategies import delta_kernel_specs

from tfapprox.theory.readouts import LinearReadout, ReluSumReadout
from tfapprox.theory.targets import FixedMemoryTarget
from tfapprox.verify.experiments import (EXPERIMENTS, REALISED_HEADS_MAX, build_finite_thm3_1, experiment_cell,
                                         finite_kernel, first_node_heads, heads_needed_bound, heads_needed_measured,
                                         interpolant_on_window, trend_verdicts, width_needed)
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
@given(delta_kernel_specs(max_terms=30, max_lag=40, default_parameters=True))
def test_first_node_matches_kernel(spec: dict) -> None:
    """Below first_node_heads the construction's kernel is exactly zero."""
    rpe, lag, H = spec["rpe"], spec["lag"], spec["num_terms"]
    first = first_node_heads(rpe, lag)
    fk = finite_kernel(rpe, lag, H, 64)
    if H < first:
        assert fk.zero
    if not fk.zero:
        assert H >= first


# ---- the closed-form interpolant (any H) ---------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(delta_kernel_specs(max_terms=80, max_lag=20))
def test_closed_form_agrees_with_realised_kernel(spec: dict) -> None:
    """The barycentric closed form and the realised kernel (Chebyshev coefficients, double-double)
    are two independent evaluations of the same interpolant: they agree within their enclosures."""
    if spec["num_terms"] < 2:
        return
    kw = {"alpha": spec["alpha"], "gamma": spec["gamma"]}
    a = interpolant_on_window(spec["rpe"], spec["lag"], spec["num_terms"], 48, **kw)
    b = finite_kernel(spec["rpe"], spec["lag"], spec["num_terms"], 48, **kw)
    assert a.zero == b.zero and a.nodes_in_bump == b.nodes_in_bump
    assert np.all(np.abs(a.error - b.error) <= a.rounding + b.rounding)
    assert a.l1[0] <= b.l1[1] and b.l1[0] <= a.l1[1]


def test_closed_form_against_lagrange_at_large_H() -> None:
    """Independent check of the barycentric weights: the Lagrange products in mpmath at H = 20000."""
    import mpmath

    from tfapprox.theory.bounds import bump_placement

    rpe, T, H = "lin", 901, 20000
    N = H - 1
    fk = interpolant_on_window(rpe, T, H, 1000)
    assert fk.nodes_in_bump >= 1 and fk.kernel is None
    place = bump_placement(rpe, T)
    with mpmath.workdps(30):
        mu, sigma, height = place.numeric(30)
        xs = [mpmath.cospi(mpmath.mpf(k) / N) for k in range(N + 1)]
        inside = [k for k in range(N + 1) if abs(((1 + xs[k]) / 2 - mu) / sigma) < 1]
        assert len(inside) == fk.nodes_in_bump
        for s in (0, 850, 901, 950, 999):
            x = 2 * mpmath.exp(-mpmath.mpf(1) / 100 * s) - 1
            q = mpmath.mpf(0)
            for k in inside:
                y = ((1 + xs[k]) / 2 - mu) / sigma
                ell = mpmath.fprod((x - xs[j]) / (xs[k] - xs[j]) for j in range(N + 1) if j != k)
                q += height * mpmath.exp(-1 / (1 - y * y)) * ell
            p = float(mpmath.exp(-mpmath.mpf(1) / 100 * s) * q) - (1.0 if s == T else 0.0)
            assert abs(p - fk.error[s]) <= fk.rounding[s] + 1e-12 * max(1.0, abs(p))


def test_finite_kernel_switches_to_closed_form() -> None:
    big = finite_kernel("lin", 901, REALISED_HEADS_MAX + 1, 1000)
    assert big.kernel is None and big.heads == REALISED_HEADS_MAX + 1
    assert finite_kernel("lin", 901, 143, 1000).kernel is not None
    with pytest.raises(ValueError, match="heads per memory"):
        build_finite_thm3_1(FixedMemoryTarget((901,), LinearReadout([0, 1])), REALISED_HEADS_MAX + 1, 2, 1000)


def test_lag_901_converges_only_at_large_H() -> None:
    errs = [interpolant_on_window("lin", 901, H, 1000).l1 for H in (16384, 262144, 1048576)]
    assert errs[0][0] > 1.0  # nodes in the bump, far worse than the zero kernel
    assert 0.05 < errs[1][0] <= errs[1][1] < 0.1
    assert errs[2][1] < 1e-3


def test_heads_needed_measured_is_consistent() -> None:
    r = heads_needed_measured("H.2.3", "lin", (1.0, 0.5), max_heads=1 << 20, steps_per_octave=2)
    grid = {H: (lo, hi) for H, lo, hi in r["grid"]}
    for n in r["needs"]:
        H, eps = n["heads"], n["epsilon"]
        assert H is not None and grid[H][1] <= eps == n["epsilon"]
        # every grid point from the answer on meets eps
        assert all(hi <= eps for h, (_lo, hi) in grid.items() if h >= H)
        # the grid point just below fails (not certain in general, but here its lower end is above eps)
        assert n["certain"] == (grid[n["previous_heads"]][0] > eps)
    with pytest.raises(TypeError, match="realised"):
        experiment_cell("H.2.4", 8, 2, realised="no")
    with pytest.raises(ValueError, match="epsilons"):
        heads_needed_measured("H.2.3", "lin", (0.0,))
    with pytest.raises(ValueError, match="name"):
        heads_needed_measured("H.9.9", "lin")
    with pytest.raises(ValueError, match="max_heads"):
        heads_needed_measured("H.2.4", "lin", max_heads=2)


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
               "--rpe", "lin", "--lag-heads", "1,8", "--best-found-heads", "1", "--max-heads", "65536",
               "--json", str(out)])
    data = json.loads(out.read_text())
    assert rc == 0 and data["passed"]
    assert {r["experiment"] for r in data["rows"]} == {"H.2.3", "H.2.4"}
    assert all("mse_upper" in r or "status" in r for r in data["rows"])
    assert {t["experiment"] for t in data["fit"]["trends"]["lin"]} == {"H.2.3", "H.2.4"}
    assert data["fit"]["lag_901"][0]["attention_error_901"] == 1.0
    needs = data["fit"]["needs"]
    assert {(n["experiment"], n["epsilon"]) for n in needs} == {(e, x) for e in ("H.2.3", "H.2.4") for x in (0.1, 0.01)}
    # 65536 heads do not reach 0.1 at lag 901: reported as None, with the last grid point's certified lower end
    assert all(n["heads_measured"] is None and n["heads_measured_previous_lower"] > 0.1 for n in needs)
    assert {s["experiment"] for s in data["fit"]["heads_scans"]} == {"H.2.3", "H.2.4"}
    low = {(r["experiment"], r["H"]): r for r in data["fit"]["affine_lower_bounds"]}
    assert set(low) == {(e, H) for e in ("H.2.3", "H.2.4") for H in (1, 3, 8)}
    assert low[("H.2.4", 3)]["construction_in_class_ok"]
    assert low[("H.2.4", 1)]["mse_lower_bound"] > low[("H.2.4", 3)]["mse_lower_bound"] > low[("H.2.4", 8)]["mse_lower_bound"] > 0
    assert any("H.2.3 (paper" in n for n in data["notes"]) and any("H.2.4 (paper" in n for n in data["notes"])


def test_affine_lower_bound_recomputed_independently() -> None:
    """H.2.3: the section of the single memory is the 98-one anti-diagonal (all sigma = 1), so the bound is
    f_hat^2 (98 - H) / 99 exactly; H.2.4 against exact rational sympy eigenvalues of a smaller section."""
    import numpy as np
    import sympy

    from tfapprox.theory.lower_bounds import integer_section_sigmas
    from tfapprox.verify.experiments import affine_mse_lower_bound

    r = affine_mse_lower_bound("H.2.3", 5)
    fhat = r["linear_coefficients"]["901"]
    assert r["mse_lower_bound"] == pytest.approx(fhat ** 2 * (98 - 5) / 99, rel=1e-10)
    assert r["mse_lower_bound"] <= fhat ** 2 * (98 - 5) / 99
    # a 10x10 section of the H.2.4 pattern: exact eigenvalues by sympy, compared with the certified lower ends
    idx = range(470, 480)
    M = sympy.Matrix(10, 10, lambda i, j: 1 if (470 + i + 470 + j) in (944, 952) else 0)
    exact = sorted((abs(complex(v)) for v, m in M.eigenvals().items() for _ in range(m)), reverse=True)
    got = integer_section_sigmas(lambda t: int(t in (944, 952)), idx)
    assert all(g <= e + 1e-12 and g >= e - 1e-9 for g, e in zip(got, exact))
    assert affine_mse_lower_bound("H.2.4", 2, rpe="log")["mse_lower_bound"] == 0.0
    with pytest.raises(ValueError, match="name"):
        affine_mse_lower_bound("H.2.2", 1)


def test_finite_window_construction_lives_in_constructions() -> None:
    """The construction is in constructions.finite_window (verify.experiments re-exports it) and checks its input."""
    from tfapprox.constructions import finite_window
    from tfapprox.verify import experiments

    assert experiments.build_finite_thm3_1 is finite_window.build_finite_thm3_1
    assert experiments.allocation is finite_window.allocation
    target = FixedMemoryTarget((1, 3), LinearReadout([0, 1, 2]))
    with pytest.raises(ValueError, match="width"):
        finite_window.build_finite_thm3_1(target, 24, 1, 12)
    with pytest.raises(ValueError, match="rpe"):
        finite_window.build_finite_thm3_1(target, 24, 2, 12, rpe="sq")
    with pytest.raises(TypeError, match="target"):
        finite_window.build_finite_thm3_1("H.2.4", 24, 2, 12)
    # the radius bounds sum_s |P(s)| of the realised kernel on the window
    from tfapprox.constructions.delta_kernels import delta_kernel

    for rpe, T, H in (("lin", 3, 24), ("log", 3, 24), ("lin", 1, 16)):
        fk = finite_kernel(rpe, T, H, 12)
        assert float(np.sum(np.abs(fk.values))) <= float(finite_window.window_input_radius(delta_kernel(rpe, T, H), 12))
