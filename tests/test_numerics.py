"""Tests of the numerics package ``tfapprox.theory.numerics`` (issue 14, item 3).

Each module is checked against an independent computation: mpmath at high precision, arb balls
(python-flint), numpy's colleague-matrix roots, or a closed form.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfapprox.theory.families import LIN, LOG, KernelFamily, kernel_family
from tfapprox.theory.numerics import lp as lp_mod
from tfapprox.theory.numerics.double_double import (
    DD_UNIT, EPS, clenshaw_f64, dd_add, dd_clenshaw, dd_mul, dd_sum_abs, f64_clenshaw_bound, mp_to_dd,
)
from tfapprox.theory.numerics.enclosure import Enclosure, EssentialEnclosure, ExpSumEnclosure, L1Enclosure
from tfapprox.theory.numerics.euler_maclaurin import (
    check_beta, euler_maclaurin_polys, hurwitz_tail, hurwitz_zeta_enclosure,
)
from tfapprox.theory.numerics.lattice import lattice_compute
from tfapprox.theory.numerics.lp import LPError, lp_l1_fit, lp_l1_fit_or_trivial, minimax_fit
from tfapprox.theory.numerics.rounding import outward, relative_down, relative_up, round_down, round_up
from tfapprox.theory.numerics.taylor_roots import certified_theta_roots, refine_brackets, uncertain_rows
from tfapprox.theory.numerics.weighted_integrals import (
    cheb_antiderivative_u, euler_inverse_cheb, weighted_piece_integrals,
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)


# ---- rounding ---------------------------------------------------------------------------------

@given(st.fractions(min_value=-10 ** 6, max_value=10 ** 6, max_denominator=10 ** 9))
@SETTINGS
def test_round_up_and_down_are_the_nearest_floats_outward(x: Fraction) -> None:
    up, down = round_up(x), round_down(x)
    assert Fraction(down) <= x <= Fraction(up)
    assert Fraction(math.nextafter(up, -math.inf)) < x or Fraction(up) == x
    assert Fraction(math.nextafter(down, math.inf)) > x or Fraction(down) == x
    # the same value given as an mpf (exact at 200 bits) and as a sympy Rational
    with mpmath.workprec(200):
        m = mpmath.mpf(x.numerator) / x.denominator
    assert round_up(m) == up and round_down(m) == down
    assert round_up(sympy.Rational(x.numerator, x.denominator)) == up


@given(finite)
@SETTINGS
def test_outward_moves_floats_by_the_given_ulps(x: float) -> None:
    lo, hi = outward(x, x)
    assert lo == math.nextafter(math.nextafter(x, -math.inf), -math.inf)
    assert hi == math.nextafter(math.nextafter(x, math.inf), math.inf)
    assert round_up(x) == x and round_down(x) == x
    assert round_up(x, 1) == math.nextafter(x, math.inf)
    assert outward(x, x, floor=0.0)[0] == max(lo, 0.0)


def test_rounding_edge_cases_and_validation() -> None:
    assert round_up(mpmath.inf) == math.inf and round_down(-mpmath.inf) == -math.inf
    assert round_up(3) == 3.0 and round_up(2 ** 60 + 1) == math.nextafter(2.0 ** 60, math.inf)
    with mpmath.workdps(50):
        assert relative_up(mpmath.mpf(2), mpmath.mpf("1e-30")) > 2 > relative_down(2, mpmath.mpf("1e-30"))
    with pytest.raises(TypeError, match="x must be"):
        round_up("1.0")
    with pytest.raises(ValueError, match="ulps"):
        round_up(1.0, -1)
    with pytest.raises(ValueError, match="ulps"):
        outward(0.0, 1.0, ulps=1.5)


# ---- double-double ----------------------------------------------------------------------------

@given(finite, finite)
@SETTINGS
def test_two_sum_based_dd_add_and_mul_match_mpmath(a: float, b: float) -> None:
    a, b = a * 1e-160, b * 1e-160  # keep products in range
    x = np.array([a])
    y = np.array([b])
    sh, sl = dd_add(x, np.zeros(1), y, np.zeros(1))
    assert mpmath.mpf(float(sh[0])) + mpmath.mpf(float(sl[0])) == mpmath.mpf(a) + mpmath.mpf(b)  # exact
    ph, pl = dd_mul(x, np.zeros(1), y, np.zeros(1))
    with mpmath.workprec(300):
        exact = mpmath.mpf(a) * mpmath.mpf(b)
        got = mpmath.mpf(float(ph[0])) + mpmath.mpf(float(pl[0]))
        assert abs(got - exact) <= abs(exact) * DD_UNIT + mpmath.mpf(2) ** -1074


def test_clenshaw_variants_agree_and_bounds_hold() -> None:
    rng = np.random.default_rng(11)
    c = rng.normal(size=40)
    x = np.linspace(-1, 1, 17)
    y, bound = f64_clenshaw_bound(c, x)
    assert np.array_equal(clenshaw_f64(c, x), y)  # bit for bit the same recurrence
    ch, cl = mp_to_dd([mpmath.mpf(float(v)) for v in c])
    yh, yl, dbound = dd_clenshaw(ch, cl, x, np.zeros_like(x))
    with mpmath.workdps(50):
        for i, xv in enumerate(x):
            exact = mpmath.fsum(mpmath.mpf(float(cj)) * mpmath.chebyt(j, mpmath.mpf(float(xv)))
                                for j, cj in enumerate(c))
            assert abs(mpmath.mpf(float(y[i])) - exact) <= bound[i]
            assert abs(mpmath.mpf(float(yh[i])) + mpmath.mpf(float(yl[i])) - exact) <= dbound[i]
    assert np.all(dbound < 1e-20)


def test_dd_sum_abs_is_correctly_rounded() -> None:
    h = np.array([1.0, -1.0, 2.0 ** -60])
    l = np.array([2.0 ** -80, -(2.0 ** -80), 0.0])
    with mpmath.workprec(300):
        exact = sum(abs(mpmath.mpf(a) + mpmath.mpf(b)) for a, b in zip(h, l))
    assert dd_sum_abs(h, l) == float(exact)
    assert EPS == 2.0 ** -53


# ---- the one Enclosure type -------------------------------------------------------------------

def test_enclosure_base_and_subclasses() -> None:
    e = Enclosure(1.0, 3.0)
    assert (e.value, e.width, e.relative_width) == (2.0, 2.0, 2.0 / 3.0)
    assert e.contains(1.0) and not e.contains(3.5)
    lo, hi = e
    assert (lo, hi) == (1.0, 3.0)
    assert Enclosure(0.0, 0.0).relative_width == 0.0
    with pytest.raises(ValueError, match="lower <= upper"):
        Enclosure(2.0, 1.0)
    l1 = L1Enclosure(0.1, 0.2, 0.15, 10, 1e-20, 0.0, 1e-3, 0.0, "test")
    assert isinstance(l1, Enclosure) and l1.direct_terms == 10 and l1.roots is None
    ess = EssentialEnclosure(0.1, 0.2, 5, 0.15, 0.0, 0.01)
    assert ess.direct_terms == 5 and ess.direct_sum == 0.15 and ess.value == pytest.approx(0.15)
    xs = ExpSumEnclosure(1.0, 2.0, 64, 0, 3, 0, 1 << 20, 0.0, 0.1)
    assert xs.signed_intervals == 3 and isinstance(xs, Enclosure)


# ---- certified root isolation -------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 5, 17, 40])
def test_certified_roots_of_chebyshev_polynomials(n: int) -> None:
    """T_n(cos theta) = cos(n theta): roots at theta_k = (k - 1/2) pi / n, all certified."""
    c = np.zeros(n + 1)
    c[n] = 1.0
    cert = certified_theta_roots(c, 0.01, math.pi, 16 * (n + 2))  # (block ends off the roots)
    assert len(cert.uncertain) == 0 and len(cert.brackets) == n
    roots = np.sort(refine_brackets(c, cert.brackets[:, 0], cert.brackets[:, 1]))
    assert np.allclose(roots, (np.arange(1, n + 1) - 0.5) * math.pi / n, atol=1e-9)


def test_root_isolation_settings_are_parameters() -> None:
    """Lower settings leave undecided intervals (bounds returned, never assumed root-free)."""
    c = np.zeros(41)
    c[40] = 1.0
    cert = certified_theta_roots(c, 0.0, math.pi, 8, taylor_order=3, max_bisections=0)
    assert len(cert.uncertain) > 0
    truth = (np.arange(1, 41) - 0.5) * math.pi / 40
    br, unc = cert.brackets, cert.uncertain
    for t in truth:
        assert np.any((br[:, 0] <= t) & (t <= br[:, 1])) or np.any((unc[:, 0] <= t) & (t <= unc[:, 1]))
    u_lo, u_hi, *_ = uncertain_rows(unc, 0.0, 1.0)
    assert np.all((0 <= u_lo) & (u_lo <= u_hi) & (u_hi <= 1))


# ---- weighted integrals -------------------------------------------------------------------------

@pytest.mark.parametrize("ratio", [sympy.Rational(1, 100), sympy.Rational(3, 10), sympy.Rational(5, 2)])
def test_euler_inversion_gives_the_weighted_integral(ratio) -> None:
    """int_0^b u^{c-1} Q(u) du = b^c G(b), checked against the monomial expansion integrated exactly."""
    coeffs = (0.3, -0.5, 0.25, 0.1, -0.05)
    c_mp = [mpmath.mpf(v) for v in coeffs]
    u_sym = sympy.Symbol("u")
    poly = sympy.Poly(sum(sympy.Rational(v) * sympy.chebyshevt(j, 2 * u_sym - 1) for j, v in enumerate(coeffs)), u_sym)
    cdd = mp_to_dd(c_mp)
    xs = np.array([-1.0, -0.2, 0.4, 1.0])
    pieces, err = weighted_piece_integrals(cdd, c_mp, ratio, xs, np.zeros_like(xs))
    with mpmath.workdps(30):
        cm = mpmath.mpf(ratio.p) / ratio.q
        def antiderivative(b):  # int_0^b u^{c-1} Q(u) du, term by term
            return mpmath.fsum(mpmath.mpf(q.p) / q.q * b ** (cm + k) / (cm + k)
                               for (k,), q in poly.terms()) if b > 0 else mpmath.mpf(0)

        us = [(1 + mpmath.mpf(float(x))) / 2 for x in xs]
        for i in range(len(pieces)):
            exact = antiderivative(us[i + 1]) - antiderivative(us[i])
            assert abs(pieces[i] - exact) <= err + abs(exact) * mpmath.mpf(10) ** -25
    gh, gl, gbound = euler_inverse_cheb(c_mp, ratio)
    assert gbound < 1e-25 and len(gh) == len(c_mp)


def test_integer_antiderivative_differentiates_back() -> None:
    c_mp = [mpmath.mpf(v) for v in (1.0, 0.5, -0.25)]
    for r in (1, 2, 3):
        with mpmath.workdps(30):
            F = cheb_antiderivative_u(c_mp, r)
            for u in (mpmath.mpf("0.1"), mpmath.mpf("0.7")):
                dF = mpmath.diff(lambda v: mpmath.fsum(f * mpmath.chebyt(j, 2 * v - 1) for j, f in enumerate(F)), u)
                Q = mpmath.fsum(cj * mpmath.chebyt(j, 2 * u - 1) for j, cj in enumerate(c_mp))
                assert abs(dF - u ** (r - 1) * Q) < mpmath.mpf(10) ** -20


# ---- Euler-Maclaurin and Hurwitz zeta ------------------------------------------------------------

@given(st.floats(min_value=1.01, max_value=8.0), st.integers(min_value=64, max_value=10 ** 9))
@settings(max_examples=30, deadline=None)
def test_hurwitz_tail_lies_in_the_arb_enclosure(beta: float, A: int) -> None:
    v, b = hurwitz_tail(beta, [A])
    e = hurwitz_zeta_enclosure(beta, A)
    assert e.lower - b[0] <= v[0] <= e.upper + b[0]
    assert e.relative_width < 1e-14


def test_hurwitz_zeta_enclosure_against_mpmath_and_validation() -> None:
    for s, a in [(2, 1), (Fraction(3, 2), 7), (sympy.Rational(101, 100), 1), (3.5, 0.25)]:
        e = hurwitz_zeta_enclosure(s, a)
        with mpmath.workdps(40):
            z = mpmath.zeta(mpmath.mpf(Fraction(s).numerator) / Fraction(s).denominator
                            if not hasattr(s, "p") else mpmath.mpf(s.p) / s.q, mpmath.mpf(a))
        assert e.lower <= z <= e.upper
    with pytest.raises(ValueError, match="s must be > 1"):
        hurwitz_zeta_enclosure(1, 2)
    with pytest.raises(ValueError, match="a must be > 0"):
        hurwitz_zeta_enclosure(2, 0)
    with pytest.raises(ValueError, match="beta"):
        check_beta(1.0)
    with pytest.raises(ValueError, match="beta"):
        check_beta(math.inf)


def test_euler_maclaurin_polynomials_are_the_derivatives() -> None:
    """g(t) = t^{-1-gamma} Q(t^{-alpha}): g^(k)(t) = t^{-k-1-gamma} R_k(u)."""
    c = np.array([0.2, -0.4, 0.3, 0.05])
    alpha, gamma = 0.3, 0.1
    R = euler_maclaurin_polys(c, alpha, gamma)
    with mpmath.workdps(30):
        def g(t):
            u = t ** -alpha
            return t ** (-1 - gamma) * mpmath.fsum(cj * mpmath.chebyt(j, 2 * u - 1) for j, cj in enumerate(c))

        t0 = mpmath.mpf(3)
        u0 = float(t0 ** -alpha)
        for k in (1, 2, 3):
            deriv = mpmath.diff(g, t0, k)
            mine = float(t0 ** (-k - 1 - gamma)) * float(clenshaw_f64(R[k - 1], np.array([2 * u0 - 1]))[0])
            assert abs(float(deriv) - mine) <= 1e-12 * max(abs(float(deriv)), 1e-3)


# ---- the lattice through the families ---------------------------------------------------------------

@pytest.mark.parametrize("family, alpha, gamma, start", [
    (LIN, sympy.Rational(1, 100), sympy.Rational(1, 100), 0),
    (LIN, sympy.Rational(3, 10), sympy.Rational(1, 7), 61),
    (LOG, sympy.Rational(1, 2), sympy.Rational(1, 2), 1),
    (LOG, sympy.Rational(1, 10), sympy.Rational(1, 100), 5),
])
def test_lattice_values_are_the_family_formulas(family: KernelFamily, alpha, gamma, start: int) -> None:
    xh, xl, wh, wl = lattice_compute(family.name, alpha, gamma, start, start + 150)
    with mpmath.workdps(50):
        for i, t in enumerate(range(start, start + 150)):
            u = family.lattice_variable_mp(mpmath.mpf(alpha.p) / alpha.q, t)
            w = family.term_mp(family.weight_rate(mpmath.mpf(gamma.p) / gamma.q), t)
            assert abs(mpmath.mpf(float(xh[i])) + float(xl[i]) - (2 * u - 1)) <= mpmath.mpf(2) ** -100
            assert abs(mpmath.mpf(float(wh[i])) + float(wl[i]) - w) <= w * mpmath.mpf(2) ** -100
    # the specialised lattices agree with the generic base-class form
    with mpmath.workdps(40):
        a, g = mpmath.mpf(alpha.p) / alpha.q, mpmath.mpf(gamma.p) / gamma.q
        fast = family.lattice_mp(a, g, start, start + 70)
        generic = KernelFamily.lattice_mp(family, a, g, start, start + 70)
        for x, y in zip(fast[0] + fast[1], generic[0] + generic[1]):
            assert abs(x - y) <= abs(y) * mpmath.mpf(10) ** -37


def test_family_float_tails_and_translation_invariance() -> None:
    assert LIN.coordinate_is_affine() and not LOG.coordinate_is_affine()
    assert LIN.tail_f64(0.5, 10) == pytest.approx(float(LIN.tail_mp(0.5, 10)), rel=1e-14)
    assert LOG.tail_f64(2.5, 10) == pytest.approx(float(LOG.tail_mp(2.5, 10)), rel=1e-14)
    assert LOG.tail_f64(1.0, 10) == math.inf
    assert kernel_family("lin").lattice_resume(3, 200) == 192 and LOG.lattice_resume(1, 200) == 200


# ---- the LP helper ------------------------------------------------------------------------------

def test_lp_l1_fit_recovers_an_exact_representation() -> None:
    s = np.arange(1, 300, dtype=float)
    target = 2 * s ** -1.5 - 0.5 * np.exp(-0.3 * s)
    fit = lp_l1_fit(target, [s ** -1.5, np.exp(-0.3 * s), s ** -3.0])
    assert fit.objective < 1e-10
    assert np.allclose(fit.coefficients, [2, -0.5, 0], atol=1e-8)
    with pytest.raises(ValueError, match="basis function"):
        lp_l1_fit(target, [s[:-1]])
    with pytest.raises(ValueError, match="target must be 1-d"):
        lp_l1_fit(target, [])


def test_minimax_fit_matches_a_closed_form() -> None:
    """Best constant for y in {0, 1}: 1/2 with error 1/2; best affine through 3 collinear points: 0."""
    m = minimax_fit(np.zeros((2, 0)), np.array([0.0, 1.0]))
    assert m.optimum == pytest.approx(0.5) and m.coefficients[0] == pytest.approx(0.5)
    z = np.array([[0.0], [1.0], [2.0]])
    m = minimax_fit(z, 3 * z[:, 0] + 1)
    assert m.optimum == pytest.approx(0.0, abs=1e-12) and m.constraints == 6 and m.status == 0
    with pytest.raises(ValueError, match="Z must be 2-d"):
        minimax_fit(np.zeros(3), np.zeros(3))


def test_lp_failure_raises_lp_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure policy: no NaN or zero fit in place of an optimum, a clear LPError."""
    class Failed:
        status, x, fun, message = 4, None, math.nan, "numerical difficulties"

    monkeypatch.setattr(lp_mod.scipy.optimize, "linprog", lambda *a, **k: Failed())
    with pytest.raises(LPError, match="l1 fit.*status 4"):
        lp_l1_fit([1.0, 2.0], [[1.0, 1.0]])
    with pytest.raises(LPError, match="minimax fit"):
        minimax_fit(np.zeros((2, 1)), np.zeros(2))
    assert issubclass(LPError, RuntimeError)
    # the search form: a failed solve is a candidate (c = 0 here, objective sum |target|), not an error
    fit = lp_l1_fit_or_trivial([1.0, -2.0], [[1.0, 1.0]])
    assert fit.coefficients.tolist() == [0.0] and fit.objective == 3.0 and "numerical" in fit.status

    class Stopped:
        status, x, fun, message = 1, np.array([0.5, 0.0, 0.0]), 0.0, "iteration limit"

    monkeypatch.setattr(lp_mod.scipy.optimize, "linprog", lambda *a, **k: Stopped())
    fit = lp_l1_fit_or_trivial([1.0, 1.0], [[2.0, 2.0]])   # the solver's point, unscaled: c = 0.5 / 2
    assert fit.coefficients.tolist() == [0.25] and fit.objective == 1.0
    with pytest.raises(LPError, match="status 1"):
        lp_l1_fit([1.0, 1.0], [[2.0, 2.0]])
