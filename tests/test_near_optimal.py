"""Near-optimal exponential sums: the constructions (AAK/Prony, quadrature, sequential LP) and the recorded,
re-certified, monotone best found (tfapprox.verify.near_optimal)."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from tfapprox.constructions.exponential_sums import (aak_prony, basis, family_exponents, insert_unit, l1_coefficients,
                                                     log_grid, precise_fit,
                                                     power_law_quadrature, refine_l1)
from tfapprox.verify import near_optimal as no
from tfapprox.verify import near_optimal_records as rec

HEAD_GRID = (1, 2, 4, 8, 16, 32, 64)


# ------------------------------------------------------------------------------------------- constructions
@pytest.mark.parametrize("nodes,coef", [((0.2, 0.7), (1.0, -3.0)), ((0.1, 0.5, 0.95), (0.3, 2.0, -1.0))])
def test_aak_prony_recovers_a_real_exponential_sum(nodes, coef):
    s = np.arange(3 * len(nodes) + 8)
    h = sum(c * np.power(z, s) for z, c in zip(nodes, coef))
    got_nodes, got_coef = aak_prony(h, len(nodes))
    assert np.allclose(got_nodes, sorted(nodes), atol=1e-8)
    order = np.argsort(nodes)
    assert np.allclose(got_coef, np.asarray(coef)[order], atol=1e-6)


def test_aak_prony_keeps_the_model_class_on_a_power_law():
    s = np.arange(1, 80, dtype=float)
    nodes, coef = aak_prony(s ** -1.5, 5)
    assert np.all((nodes > 0) & (nodes < 1)) and coef.shape == (5,)


def test_power_law_quadrature_approximates_the_power_law():
    p, c = power_law_quadrature(1.5, 60, 1e4)  # the lower cut-off 0.1 / s_max costs ~ (s / s_max)^1.5
    s = np.arange(1, 1000, dtype=float)
    approx = basis("exp", p, s) @ c
    assert np.max(np.abs(approx / s ** -1.5 - 1)) < 1e-3


def test_l1_coefficients_interpolate_when_the_target_is_in_the_span():
    s = np.arange(30, dtype=float)
    B = basis("exp", [0.1, 1.0], s)
    c, obj = l1_coefficients(B @ np.array([2.0, -1.0]), B)
    assert np.allclose(c, [2.0, -1.0], atol=1e-8) and obj < 1e-9


def test_refine_l1_never_worsens_its_start_and_keeps_p_positive():
    pts, w = log_grid(32, 1e6, 8)
    rho = np.where(pts > 0, np.maximum(pts, 1.0) ** -1.5, 0.0)
    p0, _ = power_law_quadrature(1.5, 4, 1e4)
    _, start = l1_coefficients(rho, basis("exp", p0, pts), w)
    fit = refine_l1(rho, pts, p0, weights=w, iterations=25)
    assert fit.objective <= start and fit.accepted >= 1
    assert all(p > 0 for p in fit.exponents)
    # the reported objective is the one of the reported kernel
    k = basis("exp", fit.exponents, pts) @ np.array(fit.coefficients)
    assert math.isclose(float(np.sum(w * np.abs(rho - k))), fit.objective, rel_tol=1e-9)


def test_insert_unit_gives_one_more_term():
    starts = insert_unit([0.1, 1.0])
    assert len(starts) == 3 and all(len(p) == 3 and np.all(np.diff(p) > 0) for p in starts)


@pytest.mark.parametrize("call,match", [
    (lambda: aak_prony([1.0, 0.5], 1), "2 n \\+ 1"),
    (lambda: power_law_quadrature(-1, 3, 10), "beta"),
    (lambda: basis("cos", [1.0], [1]), "kind"),
    (lambda: refine_l1([1.0], [1.0], [-1.0]), "exponents"),
    (lambda: refine_l1([1.0, 2.0], [1.0], [1.0]), "same length"),
])
def test_constructions_refuse_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ------------------------------------------------------------------------------------------- records
def test_every_rnn_record_recertifies_fast_with_decays_in_the_unit_interval():
    for key, table in rec.RNN.items():
        beta = float(key.split(":")[1])
        for n, r in table.items():
            assert len(r["decays"]) == len(r["coefficients"]) == n
            assert all(0 < float(v) < 1 for v in r["decays"])
            t0 = time.perf_counter()
            lo, hi = no.certify_rnn(beta, r["decays"], r["coefficients"])
            assert time.perf_counter() - t0 < 2.0
            assert lo <= hi <= float(r["certified_upper"]) * (1 + 1e-12)


def test_every_heads_record_recertifies():
    for (experiment, rpe, length), table in rec.HEADS.items():
        for n, r in table.items():
            assert len(r["exponents"]) == len(r["coefficients"]) == n
            lo, hi, mlo, mhi = no.certify_heads(experiment, rpe, r["exponents"], r["coefficients"], length=length)
            assert lo <= hi <= float(r["certified_upper"]) * (1 + 1e-9)
            assert 0 <= mlo <= mhi


def test_curse_of_memory_17_units_beat_the_reported_model():
    r = no.best_found_rnn(1.5, 17)
    assert r.units_used <= 17 and r.upper < 9.73e-4
    assert all(0 < float(v) < 1 for v in r.decays)
    assert no.units_found(1.5, 1e-3) <= 17


def test_rnn_best_found_is_monotone_and_padded():
    vals = [no.best_found_rnn(1.5, n).upper for n in range(1, 21)]
    assert all(b <= a for a, b in zip(vals, vals[1:]))
    r = no.best_found_rnn(1.5, 40)
    assert r.budget == 40 and r.units_used <= max(no.rnn_budgets(1.5))
    assert no.best_found_rnn(2.5, 3) is None  # nothing recorded for this beta


@pytest.mark.parametrize("experiment,rpe", [("h2.7", "lin"), ("h2.8", "log")])
def test_heads_best_found_is_monotone_and_far_below_the_old_search(experiment, rpe):
    vals = [no.best_found_heads(experiment, rpe, H) for H in HEAD_GRID]
    ups = [v.upper for v in vals]
    assert all(b <= a for a, b in zip(ups, ups[1:]))
    assert vals[-1].upper <= 2.0e-8 / 2000  # issue 13: the old best found at H = 64 was 4.5e-8 / 2.0e-8
    assert all(v.mse_lower <= v.mse_upper <= v.upper ** 2 * (1 + 1e-5) for v in vals)  # sum e^2 <= (sum |e|)^2


def test_heads_records_respect_the_certified_lower_bounds():
    from tfapprox.theory.lower_bounds import power_kernel, sigma_lower_bound

    rho = power_kernel(Fraction(1, 2))
    for H in (1, 2, 4):
        lb = sigma_lower_bound(rho, H + 1, range(0, 24))
        assert lb <= no.best_found_heads("h2.7", "lin", H).lower


def test_units_found_respect_the_certified_units_lower():
    from tfapprox.theory.lower_bounds import geometric_index, power_kernel, units_lower

    idx = geometric_index(16, 10 ** 6, 24)
    for eps in (1e-1, 1e-2):
        assert units_lower(power_kernel(Fraction(3, 2)), eps, idx) <= no.units_found(1.5, eps)


def test_certify_heads_matches_an_independent_mpmath_sum():
    r = rec.HEADS[("h2.7", "lin", 1000)][2]
    lo, hi, mlo, mhi = no.certify_heads("h2.7", "lin", r["exponents"], r["coefficients"])
    with mpmath.workdps(40):
        p = [mpmath.mpf(Fraction(t).numerator) / Fraction(t).denominator for t in r["exponents"]]
        c = [mpmath.mpf(Fraction(t).numerator) / Fraction(t).denominator for t in r["coefficients"]]
        e = [(mpmath.mpf(s) ** -0.5 if s else 0) - sum(ci * mpmath.exp(-pi * s) for pi, ci in zip(p, c))
             for s in range(1000)]
        l1 = float(mpmath.fsum(abs(v) for v in e))
        ms = float(mpmath.fsum(v * v for v in e))
    assert lo <= l1 <= hi and mlo <= ms <= mhi


def test_certify_rnn_contains_a_direct_partial_sum():
    r = rec.RNN["power:1.5"][3]
    lo, hi = no.certify_rnn(1.5, r["decays"], r["coefficients"])
    lam = np.array([float(v) for v in r["decays"]])
    c = np.array([float(v) for v in r["coefficients"]])
    s = np.arange(0, 200000, dtype=float)
    k = np.power(lam[None, :], s[:, None]) @ c
    part = math.fsum(np.abs(np.where(s > 0, np.maximum(s, 1) ** -1.5, 0.0) - k).tolist())
    assert part <= hi * (1 + 1e-9)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: no.certify_rnn(1.5, ["0.5000000000000000001"], ["1.0"]), ValueError, "decays\\[0\\]"),
    (lambda: no.certify_rnn(1.5, ["0.5"], ["nan"]), ValueError, "coefficients\\[0\\]"),
    (lambda: no.certify_heads("h2.9", "lin", ["1"], ["1"]), ValueError, "experiment"),
    (lambda: no.certify_heads("h2.7", "lin", ["-1"], ["1"]), ValueError, "exponents"),
    (lambda: no.certify_heads("h2.7", "lin", ["1"], ["1", "2"]), ValueError, "same length"),
    (lambda: no.best_found_heads("h2.7", "rnn", 4), ValueError, "rpe"),
    (lambda: no.best_found_rnn(1.5, 0), ValueError, "units"),
    (lambda: no.best_found_rnn(1.5, 2.0), TypeError, "units"),
    (lambda: no.units_found(1.5, 0), ValueError, "epsilon"),
])
def test_near_optimal_refuses_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_precise_fit_reproduces_the_16_head_h27_record_error():
    """The high-precision fit of the recorded slopes reaches the recorded (certified) error again."""
    import flint

    r = rec.HEADS[("h2.7", "lin", 1000)][16]
    p = [float(v) for v in r["exponents"]]
    c, l1 = precise_fit("exp", p, lambda s: flint.arb(s).rsqrt() if s else 0, range(1000), irls=8)
    assert float(l1.mid()) <= 1.5 * float(r["certified_upper"])
    lo, hi, _, _ = no.certify_heads("h2.7", "lin", r["exponents"], [c_.str(40, radius=False) for c_ in c])
    assert hi <= 1.5 * float(r["certified_upper"])


def test_family_exponents_are_geometric_without_curvature():
    p = family_exponents([math.log(1e-3), math.log(10.0), 0.0, 0.0], 5)
    assert np.allclose(np.diff(np.log(p)), np.log(1e4) / 4)


def test_recorded_strings_are_parsed_strictly_with_the_parameter_named() -> None:
    from tfapprox.verify.near_optimal import certify_heads, certify_rnn

    with pytest.raises(ValueError, match=r"exponents\[0\] must be a decimal string, got 'abc'"):
        certify_heads("h2.7", "lin", ["abc"], ["1"])
    with pytest.raises(ValueError, match=r"coefficients\[0\] must be a decimal string, got 1.0"):
        certify_heads("h2.7", "lin", ["1"], [1.0])
    with pytest.raises(ValueError, match=r"decays\[0\] must be the repr of a finite float64, got 'x'"):
        certify_rnn(1.5, ["x"], ["1.0"])
