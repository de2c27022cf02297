"""Best-found kernels against the paper's construction and its bound (tfapprox.verify.tightness)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import exponent_sets, kernel_coefficient_lists

from tfapprox.theory.families import LIN, LOG, KernelFamily
from tfapprox.verify import tightness
from tfapprox.verify.explicit_kernels import exact_error_fn, shifted_exact_error, tail_sums
from tfapprox.verify.essential_error import BestFound
from tfapprox.verify.tightness import (
    _extend_exponents,
    alpha_gamma_sweep,
    coefficient_digits,
    delta_tightness,
    heads_for_epsilon,
    shifted_tightness,
)


@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_ordering_and_search_beats_construction(rpe: str) -> None:
    r = delta_tightness(rpe, 1, 16, starts=1, max_evals=4)
    assert r.ordered
    assert r.bound >= r.construction >= r.best_found
    # at T = 1 the LP search finds kernels far better than the Chebyshev construction
    assert r.best_found_source == "search" and r.slack_construction > 10
    assert r.as_row()["slack_bound"] == r.bound / r.best_found


def test_f2_identity() -> None:
    f1 = delta_tightness("lin", 5, 16, starts=1, max_evals=2)
    f2 = shifted_tightness("lin", 5, 16, f1_row=f1)
    assert f2.lemma == "F.2" and f2.best_found == f1.best_found
    assert math.isclose(f2.construction, f1.construction, rel_tol=1e-9)


def test_f5_ordering() -> None:
    r = shifted_tightness("log", 2, 4, starts=1, max_evals=2)
    assert r.lemma == "F.5" and r.ordered


def test_f5_exact_against_direct_sum() -> None:
    """shifted_exact_error (Lemma F.5) against an independent direct evaluation (mpmath zeta tails)."""
    import mpmath

    p = np.array([2.0, 3.5])
    c = np.array([0.7, -0.2])
    got = shifted_exact_error(LOG, p, c, 3)
    worst = 0.0
    for Bv in (1, 2, 3):
        terms = [abs(sum(ch * (t / Bv) ** -ph for ph, ch in zip(p, c)) - (1.0 if t == Bv else 0.0))
                 for t in range(1, 20000)]
        tail = sum(abs(ch) * Bv ** ph * float(mpmath.zeta(ph, 20000)) for ph, ch in zip(p, c))
        worst = max(worst, math.fsum(terms) + tail)
    assert got >= worst * (1 - 1e-9) and got <= worst * (1 + 1e-6) + 1e-9


@settings(max_examples=20, deadline=None)
@given(kernel_coefficient_lists())
def test_coefficient_digits(coeffs: list[float]) -> None:
    d = coefficient_digits(coeffs)
    assert d >= 15
    l1 = sum(abs(v) for v in coeffs)
    if l1 > 0:
        assert 10 ** (d - 3) * 1e-12 >= l1 * 0.999


def test_alpha_gamma_sweep_and_heads() -> None:
    sw = alpha_gamma_sweep("lin", 1, 16, [("0.01", "0.01"), ("0.3", "0.3")], epsilon=1e-1, max_heads=64)
    assert sw["min_bound"]["bound"] == min(r["bound"] for r in sw["rows"])
    assert sw["min_error"]["error"] == min(r["error"] for r in sw["rows"])
    assert all(r["error"] <= r["bound"] for r in sw["rows"])
    h = heads_for_epsilon("lin", 1, 1e-1, alpha="0.3", gamma="0.3", measured=True, max_heads=64)
    assert h is None or h <= 64
    hb = heads_for_epsilon("lin", 1, 1e-1, alpha="0.3", gamma="0.3", measured=False)
    assert hb is not None and hb > 8


def test_tightness_check_json(tmp_path) -> None:
    import json

    from tfapprox.cli import main

    out = tmp_path / "t.json"
    rc = main(["verify", "tightness", "--lags", "1,5", "--heads", "4,8", "--shifted-heads", "4", "--starts", "1",
               "--max-evals", "2", "--sweep", "0.01:0.01,0.3:0.3", "--sweep-rpe", "lin", "--max-heads", "16",
               "--epsilon", "0.5", "--json", str(out)])
    data = json.loads(out.read_text())
    assert rc == 0 and data["passed"]
    lemmas = {r["lemma"] for r in data["rows"]}
    assert lemmas == {"F.1", "F.2", "F.4", "F.5"}
    for r in data["rows"]:
        assert r["bound"] >= r["construction"] >= r["best_found"] >= r["lower_bound"] >= 0
        assert {"construction", "best_found", "bound", "lower_bound", "lower_bound_reason", "gap", "exact"} <= set(r)
        assert (r["gap"] is None) == (r["lower_bound"] == 0)
    f1 = {(r["T"], r["H"]): r for r in data["rows"] if r["lemma"] == "F.1"}
    assert f1[(5, 4)]["exact"] and f1[(5, 4)]["best_found"] == 1.0  # H <= T: the zero kernel is optimal


# ---- exact errors: closed-form tails ---------------------------------------------------

def test_tail_sums_bound_the_hurwitz_zeta_and_geometric_tails() -> None:
    import mpmath

    p = np.array([1.01, 1.5, 3.0, 40.0])
    got = tail_sums(LOG, p, 1 << 14)
    with mpmath.workdps(30):
        ref = np.array([float(mpmath.zeta(v, 1 << 14)) for v in p])
    assert np.all(got >= ref) and np.all(got <= ref * (1 + p ** 2 / (8 * 2.0 ** 28) + 1e-11))
    q = np.array([1e-3, 0.5, 5.0])
    lin = tail_sums(LIN, q, 100)
    ref_lin = np.array([math.exp(-v * 100) / (1 - math.exp(-v)) for v in q])
    assert np.allclose(lin, ref_lin, rtol=1e-10) and np.all(lin >= ref_lin)
    assert np.isinf(tail_sums(LOG, np.array([1.0]), 10)[0]) and np.isinf(tail_sums(LIN, np.array([0.0]), 10)[0])


def test_exact_error_fn_against_direct_sum() -> None:
    """The best-found error function against a long direct sum plus mpmath tails (log, T = 2)."""
    import mpmath

    p, c = np.array([1.5, 2.5]), np.array([0.9, 1.3])
    lo, hi = exact_error_fn(LOG, 2)(p, c)
    t = np.arange(1, 40000, dtype=float)
    k = c[0] * t ** -p[0] + c[1] * t ** -p[1]
    k[1] -= 1.0
    ref = math.fsum(np.abs(k).tolist()) + sum(abs(ch) * float(mpmath.zeta(ph, 40000)) for ph, ch in zip(p, c))
    assert lo <= ref <= hi and hi - ref < 1e-9 * ref  # lo omits the tail (>= 0)


# ---- seeding: best_found(H) <= best_found(H'), F.5 <= F.4 at T = 1 -------------------------

@settings(max_examples=40, deadline=None)
@given(exponent_sets())
def test_extend_exponents_keeps_the_previous_ones(case) -> None:
    exps, floor, H = case
    out = _extend_exponents(exps, H, floor)
    if H == len(exps):
        assert out is None
        return
    if out is None:  # only when the geometric insertion collides in float64 (distinct inputs within 1 ulp)
        return
    assert len(out) == H == len(np.unique(out)) and np.all(out > floor) and np.all(np.diff(out) > 0)
    assert set(np.asarray(exps, dtype=float).tolist()) <= set(out.tolist())


def _crippled_search(*args, **kwargs) -> BestFound:
    """Stand-in for essential_error.best_found that finds nothing useful (error 10)."""
    H = args[3]
    return BestFound("lin", tuple([1.0] * H), tuple([0.0] * H), 10.0, 10.0, 1, 1)


def test_previous_kernel_is_considered(monkeypatch) -> None:
    """With the search crippled, the zero-padded previous kernel must be the best found (a real seed)."""
    monkeypatch.setattr(tightness, "divided_difference_candidate", lambda T, H: None)
    prev = delta_tightness("lin", 5, 16, starts=1, max_evals=4)
    assert prev.best_found_source == "search" and prev.best_found < prev.construction
    monkeypatch.setattr(tightness, "best_found", _crippled_search)
    r = delta_tightness("lin", 5, 20, previous=prev)
    assert r.best_found_source == "search (H=16, zero-padded)"
    assert r.best_found <= prev.best_found and r.best_found < r.construction
    assert r.best_found_coefficients == prev.best_found_coefficients
    assert r.seeds and r.seeds[0][0] == "search (H=16, zero-padded)"
    assert math.isclose(r.seeds[0][1], prev.best_found, rel_tol=1e-12)


def test_seeding_refuses_a_wrong_previous_row() -> None:
    prev = delta_tightness("lin", 1, 4, starts=1, max_evals=2)
    with pytest.raises(ValueError, match="previous"):
        delta_tightness("lin", 2, 8, previous=prev)
    with pytest.raises(ValueError, match="previous"):
        delta_tightness("lin", 1, 2, previous=prev)
    with pytest.raises(TypeError, match="previous"):
        delta_tightness("lin", 1, 8, previous=prev.as_row())  # type: ignore[arg-type]


def test_f5_at_lag_one_is_f4(monkeypatch) -> None:
    """At T = 1 F.5 is F.4 (shift B = 1 only): the F.4 best kernel is a candidate, even if every LP fails."""
    f4 = delta_tightness("log", 1, 4, starts=1, max_evals=3)
    assert f4.best_found < f4.construction
    monkeypatch.setattr(tightness, "_minimax_lp", lambda rows, H: None)
    r = shifted_tightness("log", 1, 4, starts=1, max_evals=2, f4_row=f4)
    assert r.best_found_source == "F.4 search" and r.best_found <= f4.best_found
    assert (r.bound, r.bound_n) == (f4.bound, f4.bound_n)  # the F.5 bound is the F.4 bound
    assert r.construction == pytest.approx(f4.construction, rel=1e-12)  # the same kernel at T = 1


def test_f5_previous_kernel_is_considered(monkeypatch) -> None:
    prev = shifted_tightness("log", 1, 4, starts=1, max_evals=3)
    assert prev.best_found_coefficients
    monkeypatch.setattr(tightness, "_minimax_lp", lambda rows, H: None)
    r = shifted_tightness("log", 1, 6, starts=1, max_evals=2, previous=prev)
    assert r.best_found == pytest.approx(prev.best_found, rel=1e-12) and r.best_found <= prev.best_found
    assert r.best_found_source == "search (H=4, zero-padded)"


def test_run_is_monotone_in_heads_and_f5_below_f4() -> None:
    """A small run of the check: best found never increases with H (per lemma and T), F.5 <= F.4 at T = 1."""
    import argparse

    from tfapprox.verify.checks_tightness import _tight_run

    o = argparse.Namespace(lags="1,5", heads="4,8,16", shifted_heads="4,8", starts=1, max_evals=2, seed=0,
                           sweep_heads=8, sweep="0.01:0.01", sweep_rpe="lin", epsilon=0.5, max_heads=8)
    res = _tight_run(o, lambda *a: None)
    assert res.passed
    rows = res.rows
    strict = 0
    for lemma in ("F.1", "F.2", "F.4", "F.5"):
        for T in (1, 5):
            seq = sorted((r for r in rows if r["lemma"] == lemma and r["T"] == T), key=lambda r: r["H"])
            assert len(seq) >= 2
            vals = [r["best_found"] for r in seq]
            assert all(b <= a for a, b in itertools.pairwise(vals)), (lemma, T, vals)
            strict += sum(b < a for a, b in itertools.pairwise(vals))
            assert all(r["seeds"] for r in seq[1:])  # every larger H was seeded
    assert strict > 0  # the ordering is not only ties
    f4 = {r["H"]: r["best_found"] for r in rows if r["lemma"] == "F.4" and r["T"] == 1}
    for r in rows:
        if r["lemma"] == "F.5" and r["T"] == 1:
            assert r["best_found"] <= f4[r["H"]]


def test_lower_bound_sandwich_and_exact_rows() -> None:
    """lower <= best found <= construction <= bound; H <= T (lin) meets the lower bound 1: exact."""
    r = delta_tightness("lin", 5, 4, starts=1, max_evals=2)
    assert r.lower_bound == 1.0 and r.best_found == 1.0 and r.exact and r.gap == 1.0 and r.ordered
    assert r.best_found_source == tightness.ZERO_KERNEL
    d = r.as_row()
    assert d["lower_bound"] == 1.0 and d["exact"] and "exchange" in d["lower_bound_reason"]
    r8 = delta_tightness("lin", 5, 8, starts=1, max_evals=2)
    assert r8.lower_bound == 0.0 and r8.gap is None and not r8.exact and r8.ordered
    assert r8.best_found < 0.05 and r8.best_found_source == "divided difference"  # 6 heads suffice, huge weights
    g = delta_tightness("log", 20, 2, starts=1, max_evals=2)
    assert g.lower_bound == 1.0 and g.exact
    f5 = shifted_tightness("log", 20, 4, starts=1, max_evals=2)
    assert f5.lower_bound == 1.0 and f5.exact and f5.ordered
    # a row whose lower bound exceeded its best found would not be ordered
    import dataclasses
    assert not dataclasses.replace(r8, lower_bound=1.0).ordered


def test_divided_difference_error_is_certified() -> None:
    from fractions import Fraction

    err, p, c = tightness.divided_difference_candidate(1, 2)
    # exact: the float kernel's error, summed in exact rationals of the float decays (lambda = e^-p rounded)
    # is bracketed by the ball-arithmetic bound; cross-check against the closed form of the exact kernel
    from tfapprox.theory.lower_bounds import divided_difference_kernel
    lam = [math.exp(-v) for v in p]
    approx = sum(abs((1 if s == 1 else 0) - sum(ci * li ** s for ci, li in zip(c, lam))) for s in range(400))
    assert approx <= err * (1 + 1e-9)
    closed = min(float(divided_difference_kernel(1, Fraction(f).limit_denominator(10 ** 6) / 2)[2])
                 for f in (0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001))
    assert err == pytest.approx(closed, rel=1e-6)
    assert tightness.divided_difference_candidate(5, 5) is None
    with pytest.raises(ValueError, match="exponents"):
        tightness.expsum_delta_l1_upper(1, [0.0], [1.0])


def test_family_forms_used_by_the_search() -> None:
    """The families' closed forms (tails, shift factors) against the generic base-class forms, and the
    structural questions the search asks (translation identity, divided differences, rate floor)."""
    p = np.array([0.3, 1.5, 3.0, 40.0])
    for fam, start in ((LIN, 50), (LOG, 1 << 14)):
        closed = fam.tail_upper_np(p, start)
        generic = KernelFamily.tail_upper_np(fam, p, start)
        finite = np.isfinite(generic)
        assert np.array_equal(finite, np.isfinite(closed))
        assert np.all(closed[finite] >= generic[finite] * (1 - 1e-11))  # closed forms are upper bounds
        assert np.allclose(closed[finite], generic[finite], rtol=p[finite].max() ** 2 / (8 * start ** 2) + 1e-10)
        assert np.allclose(fam.shift_factor_np(p, 7), KernelFamily.shift_factor_np(fam, p, 7), rtol=1e-13)
    assert (LIN.coordinate_is_affine(), LOG.coordinate_is_affine()) == (True, False)
    assert (LIN.coordinate_is_lag(), LOG.coordinate_is_lag()) == (True, False)
    assert (LIN.rate_floor(), LOG.rate_floor()) == (0, 1)
    with pytest.raises(ValueError, match="rpe"):
        delta_tightness("sq", 1, 4)


def test_remembered_errors_are_fresh_values() -> None:
    """The caches of issue 15 return what a fresh computation gives, bit for bit."""
    from tfapprox.verify import explicit_kernels as ek
    from tfapprox.verify.essential_error import basis_matrix

    cols = basis_matrix("log", np.array([1.5, 2.5, 7.0]), np.arange(1, 300))
    assert np.array_equal(ek.basis_columns(cols), np.column_stack(cols)) and ek.basis_columns(cols).flags.c_contiguous
    p, c = np.array([1.5, 2.5]), np.array([0.9, 1.3])
    ek._EXACT_ERROR_CACHE.clear()
    first = exact_error_fn(LOG, 2)(p, c), shifted_exact_error(LOG, p, c, 3)
    assert len(ek._EXACT_ERROR_CACHE) == 2
    again = exact_error_fn(LOG, 2)(p.copy(), c.copy()), shifted_exact_error(LOG, p.copy(), c.copy(), 3)
    ek._EXACT_ERROR_CACHE.clear()
    fresh = exact_error_fn(LOG, 2)(p, c), shifted_exact_error(LOG, p, c, 3)
    assert first == again == fresh
    tightness._construction_error_cached.cache_clear()
    a = tightness._construction_error("lin", 3, 8, "0.01", "0.01")
    assert a is tightness._construction_error("lin", 3, 8, "0.01", "0.01")
    from tfapprox.constructions.delta_kernels import delta_kernel
    from tfapprox.verify.kernel_error import delta_kernel_l1_error

    b = delta_kernel_l1_error(delta_kernel("lin", 3, 8, alpha="0.01", gamma="0.01"))
    assert (a.lower, a.upper) == (b.lower, b.upper)


def test_rows_run_with_one_blas_thread_and_restore_it(monkeypatch) -> None:
    """The search runs with one BLAS thread (faster for its small products, same bits); the caller's setting
    comes back afterwards."""
    def threads() -> list[int]:
        return [i["num_threads"] for i in tightness._BLAS.info() if i["user_api"] == "blas"]

    outside = threads()
    seen: list[list[int]] = []
    real = tightness.best_found

    def spy(*args, **kwargs):
        seen.append(threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(tightness, "best_found", spy)
    r = delta_tightness("lin", 1, 2, starts=1, max_evals=1)
    assert r.ordered and seen and all(t == 1 for t in seen[0])
    assert threads() == outside
    assert "Lemma F.1" in (delta_tightness.__doc__ or "")
