"""Certified lower bounds (tfapprox.theory.lower_bounds): recomputed independently in exact arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from tfapprox.theory.lower_bounds import (delta_l1_lower_bound, divided_difference_kernel, geometric_index,
                                          log_delta_depth, mean_square_lower_bound, power_kernel,
                                          sigma_lower_bound, singular_count_above, units_lower)


def _exact_count_above(entries: sympy.Matrix, x: Fraction) -> int:
    """#|eigenvalues| > x of a symmetric rational matrix: exact characteristic polynomial + Sturm counts."""
    lam = sympy.Symbol("lam")
    p = sympy.Poly(entries.charpoly(lam).as_expr(), lam)
    xr = sympy.Rational(x.numerator, x.denominator)
    big = sum(abs(v) for v in entries) + 1
    return int(p.count_roots(xr, big)) - int(p.eval(xr) == 0) + int(p.count_roots(-big, -xr)) - int(p.eval(-xr) == 0)


@pytest.mark.parametrize("n,k", [(4, 2), (5, 3), (6, 2), (6, 4)])
def test_sigma_lower_bound_certified_by_exact_rational_charpoly(n, k):
    # rho(s) = s^-2 has rational Hankel entries: the section's eigenvalues are counted exactly
    rho = power_kernel(2)
    x = sigma_lower_bound(rho, k, range(n))
    M = sympy.Matrix(n, n, lambda i, j: sympy.Rational(0) if i + j == 0 else sympy.Rational(1, (i + j) ** 2))
    assert x > 0
    assert _exact_count_above(M, Fraction(x)) >= k  # sigma_k > x, exactly
    ref = np.sort(np.abs(np.linalg.eigvalsh(np.array(M.tolist(), dtype=float))))[::-1][k - 1]
    assert x >= 0.99 * ref  # and the bound is close to the truth


def test_singular_count_matches_exact_count():
    rho = power_kernel(2)
    M = sympy.Matrix(5, 5, lambda i, j: sympy.Rational(0) if i + j == 0 else sympy.Rational(1, (i + j) ** 2))
    for x in (Fraction(1, 10), Fraction(1, 1000), Fraction(1, 10 ** 6)):
        assert singular_count_above(rho, range(5), float(x)) == _exact_count_above(M, x)


def test_lin_delta_exact_and_degenerate():
    for T in (1, 5, 20):
        assert singular_count_above(lambda s, T=T: 1 if s == T else 0, range(T + 1), 1 - 1e-9) == T + 1
        lb = delta_l1_lower_bound("lin", T, T)
        assert lb.value == 1.0 and lb.exact
        assert delta_l1_lower_bound("lin", T, T + 1).value == 0.0


def test_divided_difference_kernel_error_is_exact():
    T = 3
    lam, c, err = divided_difference_kernel(T, Fraction(1, 50))
    # direct exact sum of |1{s=T} - g(s)| over s < 400 plus a crude tail (all terms beyond are positive, tiny)
    total = Fraction(0)
    for s in range(400):
        g = sum(cj * lj ** s for cj, lj in zip(c, lam))
        total += abs((1 if s == T else 0) - g)
    assert abs(float(total) - float(err)) < 1e-12 * float(err) + 1e-300
    # the error tends to 0 with epsilon: no positive bound for H = T + 1
    assert divided_difference_kernel(T, Fraction(1, 10 ** 6))[2] < Fraction(1, 10 ** 4)
    with pytest.raises(ValueError, match="epsilon"):
        divided_difference_kernel(T, "1/2")


def test_log_delta_depth_brute_force():
    for T in range(1, 200):
        # largest v with d^v | T for some d >= 2
        brute = max((v for d in range(2, T + 1) for v in range(0, 9) if T % d ** v == 0), default=0)
        assert log_delta_depth(T) == brute, T


def test_log_delta_bounds():
    assert delta_l1_lower_bound("log", 1, 1).value == 0.0
    assert delta_l1_lower_bound("log", 5, 1).value == 1.0
    assert delta_l1_lower_bound("log", 100, 2).value == 1.0 and delta_l1_lower_bound("log", 100, 4).value == 0.0
    # F.5: best shift B <= T, depth floor(log2 T)
    assert delta_l1_lower_bound("log", 100, 6, shifted=True).value == 1.0
    assert delta_l1_lower_bound("log", 100, 7, shifted=True).value == 0.0
    with pytest.raises(ValueError, match="rpe"):
        delta_l1_lower_bound("cos", 5, 1)


def test_rank_bound_below_fitted_errors():
    """Any exponential sum (here LP-fitted on the section's lags) has l1 error above the certified bound."""
    import scipy.optimize

    beta = 1.5
    idx = range(12)
    lags = np.arange(0, 23)
    rho = np.where(lags > 0, np.maximum(lags, 1.0) ** -beta, 0.0)
    for H in (1, 2, 3):
        lb = sigma_lower_bound(power_kernel("3/2"), H + 1, idx)
        lam = np.linspace(0.2, 0.9, H)
        B = lam[None, :] ** lags[:, None]
        c = np.linalg.lstsq(B, rho, rcond=None)[0]
        res = scipy.optimize.minimize(lambda q: np.abs(rho - (np.clip(q[:H], 1e-3, 0.999)[None, :] ** lags[:, None]) @ q[H:]).sum(),
                                      np.concatenate([lam, c]), method="Nelder-Mead", options={"maxfev": 2000})
        assert 0 < lb <= res.fun  # finite lags: the error on lags 0..22 alone is already above the bound


def test_units_lower_monotone_and_mean_square():
    rho = power_kernel("3/2")
    idx = geometric_index(16, 10 ** 5, 16)
    counts = [units_lower(rho, e, idx) for e in (1e-1, 1e-2, 1e-3)]
    assert counts == sorted(counts) and counts[0] >= 1
    ms1 = mean_square_lower_bound(rho, 1, range(8))
    ms3 = mean_square_lower_bound(rho, 3, range(8))
    assert ms1 > ms3 > 0


def test_validation():
    with pytest.raises(ValueError, match="beta"):
        power_kernel("-1")
    with pytest.raises(ValueError, match="beta"):
        power_kernel("abc")
    with pytest.raises(ValueError, match="index"):
        singular_count_above(power_kernel(2), [1, 1], 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        units_lower(power_kernel(2), 0.0, range(3))
    assert geometric_index(2, 10, 0) == (0, 1)
    assert sigma_lower_bound(power_kernel(2), 9, range(4)) == 0.0


def test_weight_budget_bound_below_explicit_kernels():
    """The LP-duality bound never exceeds the exact error of an explicit kernel within the budget."""
    from tfapprox.theory.lower_bounds import polynomial_sup_01, weight_budget_lower_bound

    for T, eps in ((1, Fraction(1, 10)), (2, Fraction(1, 20)), (1, Fraction(1, 3))):
        lam, c, err = divided_difference_kernel(T, eps)
        W = float(sum(abs(v) for v in c))
        lb = weight_budget_lower_bound(T, W * (1 + 1e-9))
        assert 0 <= lb.value <= float(err)
    assert weight_budget_lower_bound(1, 0.0).value == pytest.approx(1.0, abs=1e-9)  # W = 0: only the zero kernel
    assert weight_budget_lower_bound(1, 1.0).value > weight_budget_lower_bound(1, 10.0).value > 0
    # the certified sup is at least the maximum on a fine float grid
    y = [0.3, -1.0, 0.7, 0.2]
    grid = np.linspace(0, 1, 100001)
    assert polynomial_sup_01(y) >= np.max(np.abs(np.polyval(y[::-1], grid)))
    with pytest.raises(ValueError, match="W"):
        weight_budget_lower_bound(1, -1.0)


def test_delta_rank_argument_is_asked_of_the_family():
    """Family objects work like names; a registered rank argument replaces the family's (issue 14)."""
    from tfapprox.theory.families import LIN, LOG
    from tfapprox.theory.lower_bounds import LowerBound, register_delta_rank_argument

    assert delta_l1_lower_bound(LIN, 5, 4) == delta_l1_lower_bound("lin", 5, 4)
    assert delta_l1_lower_bound(LOG, 100, 6, shifted=True) == delta_l1_lower_bound("log", 100, 6, shifted=True)
    original = register_delta_rank_argument("lin", lambda T, H, shifted: LowerBound(0.5, f"test {T} {H} {shifted}"))
    try:
        assert callable(original)
        assert delta_l1_lower_bound(LIN, 5, 4, shifted=True) == LowerBound(0.5, "test 5 4 True")
    finally:
        assert register_delta_rank_argument(LIN, original) is not original
    assert delta_l1_lower_bound("lin", 5, 4).value == 1.0
    with pytest.raises(TypeError, match="argument"):
        register_delta_rank_argument(LIN, 3)
    with pytest.raises(ValueError, match="family"):
        register_delta_rank_argument("cos", original)
