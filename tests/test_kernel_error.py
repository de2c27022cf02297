"""Tests of the exact l1 error of the delta kernels (verify/kernel_error.py)."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from strategies import delta_kernel_specs, noninteger_log_kernel_specs, rate_indices, trig_polynomials

from tfapprox.constructions.delta_kernels import delta_kernel, lemma_f1_kernel, lemma_f4_kernel
from tfapprox.theory.bounds import delta_kernel_bound
from tfapprox.theory.numerics.double_double import dd_clenshaw, mp_to_dd
from tfapprox.theory.numerics.taylor_roots import certified_theta_roots
from tfapprox.verify import kernel_error as ke
from tfapprox.verify.kernel_error import (
    L1Enclosure,
    delta_kernel_error_terms,
    delta_kernel_l1_error,
    delta_kernel_sign_pattern,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: design.md section 4 (computed there with Chebyshev points of the first kind, see the docs page)
DESIGN_TABLE = {(1, 64): 0.36, (1, 256): 2.8e-2, (1, 1024): 1.2e-4,
                (5, 64): 1.2, (5, 256): 1.0e-1, (5, 1024): 3.3e-3,
                (20, 64): 1.0, (20, 256): 3.8e-1, (20, 1024): 2.2e-2}

#: Reference l1 errors with the default second-kind points (this module, enclosures of width < 1e-9).
REFERENCE = {("lin", 1, 64): 0.389223465548961, ("lin", 5, 256): 0.134464632123968,
             ("lin", 20, 256): 0.269630095650955, ("log", 1, 32): 1.22157872028817,
             ("log", 3, 128): 0.548996331458882, ("log", 8, 512): 1.05024520984683}


def _brute_force_l1(kernel, terms: int) -> mpmath.mpf:
    """sum_{s < terms} |realised P(s) - 1{s=T}| in mpmath (the weights as the Transformer has them)."""
    dps = kernel.digits_needed(1e-30)
    start = 0 if kernel.rpe == "lin" else 1
    vals = kernel.evaluate_realised(list(range(start, terms)), dps)
    with mpmath.workdps(40):
        return mpmath.fsum(abs(v - (1 if s == kernel.lag else 0)) for s, v in zip(range(start, terms), vals))


# ---- agreement with the design notes and with brute force --------------------------------

@pytest.mark.parametrize("lag", [1, 5, 20])
@pytest.mark.parametrize("H", [64, 256])
def test_design_table_is_reproduced_with_first_kind_points(lag: int, H: int) -> None:
    enc = delta_kernel_l1_error(lemma_f1_kernel(lag, H, nodes="chebyshev1"))
    assert enc.value == pytest.approx(DESIGN_TABLE[(lag, H)], rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("lag", [1, 5, 20])
@pytest.mark.parametrize("nodes", ["chebyshev1", "chebyshev2"])
def test_design_table_at_1024_heads(lag: int, nodes: str) -> None:
    start = time.perf_counter()
    enc = delta_kernel_l1_error(lemma_f1_kernel(lag, 1024, nodes=nodes))
    assert time.perf_counter() - start < 20
    if nodes == "chebyshev1":
        assert enc.value == pytest.approx(DESIGN_TABLE[(lag, 1024)], rel=0.05)
    assert enc.relative_width < 1e-9
    for n in range(1, 5):
        assert float(delta_kernel_bound("lin", lag, 1024, n)) >= enc.upper


@pytest.mark.parametrize("key", sorted(REFERENCE))
def test_reference_values_second_kind(key: tuple) -> None:
    rpe, lag, H = key
    enc = delta_kernel_l1_error(delta_kernel(rpe, lag, H))
    assert enc.lower - 1e-13 <= REFERENCE[key] <= enc.upper + 1e-13
    assert enc.relative_width < 1e-9


@pytest.mark.parametrize("lag, H", [(1, 24), (2, 16), (3, 28), (1, 40)])
def test_lin_enclosure_contains_the_brute_force_sum(lag: int, H: int) -> None:
    k = lemma_f1_kernel(lag, H)
    assert any(c != 0 for c in k.coefficients)  # a genuine kernel, not the zero one
    enc = delta_kernel_l1_error(k)
    brute = _brute_force_l1(k, enc.direct_terms)
    assert enc.lower - enc.tail_upper <= brute <= enc.upper
    assert abs(float(brute) - enc.direct_sum) <= 1e-13 * max(enc.direct_sum, 1e-300) + 1e-25


@pytest.mark.parametrize("lag, H", [(2, 40), (1, 16), (4, 160)])
def test_log_direct_part_matches_brute_force(lag: int, H: int) -> None:
    k = lemma_f4_kernel(lag, H)
    assert any(c != 0 for c in k.coefficients)
    enc = delta_kernel_l1_error(k, direct_terms=600)
    brute = _brute_force_l1(k, 600)
    assert abs(float(brute) - enc.direct_sum) <= 1e-13 * enc.direct_sum + 1e-25


@pytest.mark.parametrize("lag, H, S", [(2, 40, 2000), (1, 16, 400), (4, 160, 700), (1, 64, 5000)])
def test_log_signed_tail_matches_hurwitz_zeta(lag: int, H: int, S: int) -> None:
    """sum_{t>=S} P(t) = sum_k a_k zeta(beta_k, S): an independent check of the integral
    transform and the Euler-Maclaurin correction used for the tail."""
    k = lemma_f4_kernel(lag, H)
    assert any(c != 0 for c in k.coefficients)
    lo, hi = ke.log_signed_tail(k, S)
    with mpmath.workdps(k.digits_needed(1e-30) + 10):
        z = mpmath.fsum(a * mpmath.zeta(mpmath.mpf(b.p) / b.q, S) for a, b in zip(k.coefficients, k.exponents))
    assert lo - 1e-25 <= z <= hi + 1e-25
    assert hi - lo <= 1e-6 * max(abs(z), 1e-6)


@pytest.mark.parametrize("rpe_args", [
    dict(lag=3, num_terms=128), dict(lag=1, num_terms=200), dict(lag=8, num_terms=300),
    dict(lag=5, num_terms=64, alpha="1/100", gamma="1/50"),       # gamma/alpha = 2
    dict(lag=2, num_terms=48, alpha="1/10", gamma="3/10"),        # gamma/alpha = 3
    dict(lag=5, num_terms=64, alpha="1/50", gamma="1/100"),       # gamma/alpha = 1/2 (enclosure path)
])
def test_log_enclosures_for_different_split_points_overlap(rpe_args: dict) -> None:
    """Summing directly to S = 512 or to S = 8192 must give overlapping enclosures: the tail
    machinery at t >= 512 is checked against direct summation over 512 <= t < 8192."""
    k = lemma_f4_kernel(**rpe_args)
    a = delta_kernel_l1_error(k, direct_terms=512)
    b = delta_kernel_l1_error(k, direct_terms=8192)
    assert a.lower <= b.upper and b.lower <= a.upper
    if (k.gamma / k.alpha).is_integer:
        assert b.relative_width < 1e-9


# ---- properties ---------------------------------------------------------------------------

@given(delta_kernel_specs(max_terms=64, default_parameters=True))
@SETTINGS
def test_delta_is_recovered_at_the_lag(spec: dict) -> None:
    k = delta_kernel(**spec)
    enc = delta_kernel_l1_error(k)
    assert abs(1 - k.evaluate(spec["lag"])) <= enc.upper * (1 + 1e-12)
    assert 0 <= enc.lower <= enc.upper
    assert isinstance(enc, L1Enclosure)


@given(delta_kernel_specs(max_terms=64, default_parameters=True), rate_indices())
@SETTINGS
def test_explicit_bound_dominates_the_measured_error(spec: dict, n: int) -> None:
    k = delta_kernel(**spec)
    enc = delta_kernel_l1_error(k)
    assert float(delta_kernel_bound(spec["rpe"], spec["lag"], spec["num_terms"], n)) >= enc.upper


@pytest.mark.parametrize("rpe, lag", [("lin", 1), ("lin", 5), ("lin", 20), ("log", 1), ("log", 3), ("log", 8)])
@pytest.mark.parametrize("H", [1, 2, 3, 128, 256])
def test_explicit_bound_dominates_at_fixed_sizes(rpe: str, lag: int, H: int) -> None:
    enc = delta_kernel_l1_error(delta_kernel(rpe, lag, H))
    for n in range(1, 5):
        assert float(delta_kernel_bound(rpe, lag, H, n)) >= enc.upper


@pytest.mark.slow
@pytest.mark.parametrize("rpe, lag", [("log", 1), ("log", 3), ("log", 8)])
def test_log_at_1024_heads(rpe: str, lag: int) -> None:
    start = time.perf_counter()
    enc = delta_kernel_l1_error(delta_kernel(rpe, lag, 1024))
    assert time.perf_counter() - start < 20
    assert enc.relative_width < 1e-9
    for n in range(1, 5):
        assert float(delta_kernel_bound(rpe, lag, 1024, n)) >= enc.upper


def test_zero_kernel_error_is_exactly_one() -> None:
    for k in (lemma_f1_kernel(20, 32), lemma_f4_kernel(8, 32), lemma_f1_kernel(3, 1)):
        enc = delta_kernel_l1_error(k)
        assert enc.lower <= 1 <= enc.upper and enc.width < 1e-14


def test_lin_widths_are_tiny() -> None:
    for lag, H in [(1, 64), (5, 128), (20, 200)]:
        assert delta_kernel_l1_error(lemma_f1_kernel(lag, H)).relative_width < 1e-9


# ---- the worst-case input ----------------------------------------------------------------

@pytest.mark.parametrize("rpe, lag, H", [("lin", 2, 40), ("lin", 5, 100), ("log", 3, 64), ("log", 1, 20)])
def test_sign_pattern_realises_the_truncated_l1(rpe: str, lag: int, H: int) -> None:
    k = delta_kernel(rpe, lag, H)
    L = 3000
    signs = delta_kernel_sign_pattern(k, L)
    assert signs.dtype == np.int8 and set(np.unique(signs)) <= {-1, 1}
    e = delta_kernel_error_terms(k, L)
    realised = math.fsum((e * signs).tolist())
    assert realised == pytest.approx(math.fsum(np.abs(e).tolist()), rel=1e-15)
    enc = delta_kernel_l1_error(k)
    assert realised <= enc.upper
    if rpe == "lin":  # 3000 lags hold all but e^{-30} of the lin error
        assert realised >= enc.lower - 1e-9
    # a random sign input does worse
    rng = np.random.default_rng(0)
    assert float(np.dot(e, rng.choice([-1, 1], size=L))) <= realised


def test_error_terms_match_the_float64_kernel() -> None:
    k = lemma_f1_kernel(4, 50)
    e = delta_kernel_error_terms(k, 60)
    p = k.evaluate(np.arange(60))
    p[4] -= 1
    assert np.allclose(e, p, atol=1e-13)
    k4 = lemma_f4_kernel(4, 50)
    assert delta_kernel_error_terms(k4, 5)[0] == 0.0


# ---- the double-double machinery ------------------------------------------------------------

def test_double_double_clenshaw_bound_is_valid() -> None:
    rng = np.random.default_rng(3)
    c = [mpmath.mpf(v) for v in rng.normal(size=300)]
    x = np.array([-0.999, -0.3, 0.1, 0.77, 0.9999])
    ch, cl = mp_to_dd(c)
    yh, yl, bound = dd_clenshaw(ch, cl, x, np.zeros_like(x))
    with mpmath.workdps(60):
        for i, xv in enumerate(x):
            xm = mpmath.mpf(float(xv))
            b1 = b2 = mpmath.mpf(0)
            for cj in c[:0:-1]:
                b1, b2 = cj + 2 * xm * b1 - b2, b1
            exact = c[0] + xm * b1 - b2
            err = abs(mpmath.mpf(float(yh[i])) + mpmath.mpf(float(yl[i])) - exact)
            assert err <= bound[i]
            assert bound[i] < 1e-23


def test_mp_to_dd_roundtrip() -> None:
    with mpmath.workdps(50):
        vals = [mpmath.pi, -mpmath.e / 3, mpmath.mpf(0), mpmath.mpf(2) ** -900 * mpmath.sqrt(2)]
        h, l = mp_to_dd(vals)
        for v, a, b in zip(vals, h, l):
            assert abs(mpmath.mpf(float(a)) + mpmath.mpf(float(b)) - v) <= abs(v) * mpmath.mpf(2) ** -105


def test_mp_to_dd_keeps_the_low_part_at_the_callers_default_precision() -> None:
    """Regression: mpf values computed at high precision are split as they are, even when the
    caller runs at mpmath's default 15 digits (``mpmath.mpf(v)`` used to round them to 53 bits,
    so the "double-double" coefficients were plain float64), and mantissas wider than a float
    (thousands of bits) do not overflow."""
    with mpmath.workdps(120):
        vals = [mpmath.pi * 10 ** 40, -mpmath.e / 3, mpmath.sqrt(2) * mpmath.mpf(2) ** -900, mpmath.mpf(1) / 3]
    with mpmath.workdps(1000):
        vals.append(mpmath.exp(mpmath.mpf(1) / 7))
    assert mpmath.mp.dps == 15
    h, l = mp_to_dd(vals)
    with mpmath.workdps(200):
        for v, a, b in zip(vals, h, l):
            assert b != 0.0
            assert abs(mpmath.mpf(float(a)) + mpmath.mpf(float(b)) - v) <= abs(v) * mpmath.mpf(2) ** -105


# ---- validation ---------------------------------------------------------------------------

def test_validation() -> None:
    k = lemma_f1_kernel(2, 8)
    with pytest.raises(TypeError, match="kernel"):
        delta_kernel_l1_error("not a kernel")
    with pytest.raises(ValueError, match="rel_tail"):
        delta_kernel_l1_error(k, rel_tail=0)
    with pytest.raises(ValueError, match="direct_terms"):
        delta_kernel_l1_error(lemma_f4_kernel(2, 8), direct_terms=1)
    with pytest.raises(TypeError, match="direct_terms"):
        delta_kernel_l1_error(lemma_f4_kernel(2, 8), direct_terms=10.5)
    with pytest.raises(ValueError, match="length"):
        delta_kernel_sign_pattern(k, 0)
    with pytest.raises(ValueError):
        ke.log_signed_tail(k, 100)


# ---- non-integer gamma/alpha: the exact weighted integral, checked by brute force ------------

def _hurwitz_reference(kernel, S0: int) -> mpmath.mpf:
    """sum_{t>=1} |P(t) - 1{t=T}| by brute force: an mpmath sum over t < S0 (stable kernel, 40
    digits) plus, for t >= S0, exact block sums of the *realised* kernel between consecutive sign
    changes, sum_{t=s}^{s'-1} P(t) = F(s) - F(s') with F(s) = sum_k a_k zeta(beta_k, s) (Hurwitz).
    The sign changes come from numpy's colleague-matrix roots of Q (independent of the certified
    isolation under test), and consecutive blocks are checked to alternate in sign."""
    start = list(range(1, S0))
    with mpmath.workdps(40):
        vals = kernel.evaluate_stable_mp(start, 40)
        direct = mpmath.fsum(abs(v - (1 if s == kernel.lag else 0)) for s, v in zip(start, vals))
    c = np.array([float(v) for v in kernel.chebyshev_coefficients])
    z = np.polynomial.chebyshev.chebroots(c)
    u = (1 + z[np.abs(z.imag) < 1e-9].real) / 2
    U0 = S0 ** -float(kernel.alpha)
    u = np.sort(u[(u > 1e-12) & (u < U0)])[::-1]
    dps = kernel.digits_needed(1e-30) + 10
    with mpmath.workdps(dps):
        am = mpmath.mpf(kernel.alpha.p) / kernel.alpha.q
        starts = [mpmath.mpf(S0)] + [mpmath.floor(mpmath.power(mpmath.mpf(float(v)), -1 / am)) + 1 for v in u]
        starts = sorted(set(starts))
        betas = [mpmath.mpf(b.p) / b.q for b in kernel.exponents]
        F = [mpmath.fsum(a * mpmath.zeta(b, s) for a, b in zip(kernel.coefficients, betas)) for s in starts]
        blocks = [F[i] - F[i + 1] for i in range(len(F) - 1)] + [F[-1]]
        signs = [mpmath.sign(b) for b in blocks if abs(b) > mpmath.mpf(10) ** -40]
        assert all(s1 != s2 for s1, s2 in zip(signs, signs[1:])), "blocks must alternate in sign"
        return direct + mpmath.fsum(abs(b) for b in blocks)


#: (lag, H, alpha, gamma): gamma/alpha = 1/10, 3/4, 7/20 (not integers)
NONINTEGER_CASES = [(1, 40, "3/10", "3/100"), (2, 24, "1/50", "3/200"), (3, 40, "1/50", "7/1000")]


@pytest.mark.parametrize("lag, H, alpha, gamma", NONINTEGER_CASES)
def test_noninteger_ratio_matches_hurwitz_brute_force(lag: int, H: int, alpha: str, gamma: str) -> None:
    k = lemma_f4_kernel(lag, H, alpha=alpha, gamma=gamma)
    assert not (k.gamma / k.alpha).is_integer and any(c != 0 for c in k.coefficients)
    enc = delta_kernel_l1_error(k)
    ref = _hurwitz_reference(k, 400)
    assert enc.lower - 1e-20 <= ref <= enc.upper + 1e-20
    assert enc.relative_width < 1e-8
    assert "exact piecewise integral against u^(c-1)" in enc.method


@pytest.mark.slow
@pytest.mark.parametrize("lag, H, alpha, gamma", [(1, 64, "3/10", "3/100"), (5, 96, "1/50", "1/100"),
                                                  (1, 256, "3/10", "3/100")])
def test_noninteger_ratio_matches_hurwitz_brute_force_large(lag: int, H: int, alpha: str, gamma: str) -> None:
    k = lemma_f4_kernel(lag, H, alpha=alpha, gamma=gamma)
    enc = delta_kernel_l1_error(k)
    ref = _hurwitz_reference(k, 2000)  # H = 256: about 8 minutes (about 40 blocks of 256 zetas)
    assert enc.lower - 1e-20 <= ref <= enc.upper + 1e-20
    assert enc.width < 1e-7 * enc.upper


def test_noninteger_ratio_is_tight_where_the_old_branch_was_loose() -> None:
    """alpha = 0.3, gamma = 0.03: the monotone-weight enclosure (still reachable with
    exact_weight=False) was [1.5e-3, 24.2]; the default is now the exact weighted integral."""
    k = lemma_f4_kernel(1, 64, alpha="3/10", gamma="3/100")
    enc = delta_kernel_l1_error(k)
    old = ke.log_enclosure(k, None, exact_weight=False)
    assert old.lower <= enc.lower <= enc.upper <= old.upper
    assert enc.relative_width < 1e-9 < old.relative_width
    bound = min(float(delta_kernel_bound("log", 1, 64, n, alpha=k.alpha, gamma=k.gamma)) for n in range(1, 5))
    assert bound >= enc.upper


@given(noninteger_log_kernel_specs())
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_noninteger_enclosures_for_different_split_points_overlap(spec: dict) -> None:
    k = delta_kernel(**spec)
    a = delta_kernel_l1_error(k, direct_terms=300)
    b = delta_kernel_l1_error(k)
    assert a.lower <= b.upper and b.lower <= a.upper
    assert 0 <= b.lower <= b.upper
    if any(c != 0 for c in k.coefficients):
        assert b.relative_width < 1e-6


# ---- certified root isolation ------------------------------------------------------------------

@given(trig_polynomials())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_certified_roots_contain_every_root(data: tuple) -> None:
    """Every simple root of Q in (theta_lo, pi) (numpy's colleague-matrix eigenvalues: an
    independent method) lies in a certified one-root bracket or in an undecided interval;
    brackets are disjoint and hold a sign change each."""
    c, theta_lo = data
    cert = certified_theta_roots(c, theta_lo, math.pi, 16 * (len(c) + 1))
    br, unc = cert.brackets, cert.uncertain
    assert np.all(br[:, 0] < br[:, 1]) and np.all(br[1:, 0] >= br[:-1, 1] - 1e-15)
    fa = np.polynomial.chebyshev.chebval(np.cos(br[:, 0]), c)
    fb = np.polynomial.chebyshev.chebval(np.cos(br[:, 1]), c)
    assert np.all(fa * fb <= 0)
    # simple real roots: colleague-matrix eigenvalues where Q changes sign across x0 -+ 1e-7
    z = np.polynomial.chebyshev.chebroots(c) if len(c) > 1 else np.zeros(0)
    z = z[(np.abs(z.imag) < 1e-6) & (np.abs(z.real) < 1 - 1e-6)].real
    lo, hi = np.polynomial.chebyshev.chebval(z - 1e-7, c), np.polynomial.chebyshev.chebval(z + 1e-7, c)
    th = np.arccos(z[lo * hi < 0])
    th = th[(th > theta_lo + 1e-5) & (th < math.pi - 1e-5)]
    for t in th:
        in_br = np.any((br[:, 0] - 1e-6 <= t) & (t <= br[:, 1] + 1e-6))
        in_unc = bool(len(unc)) and np.any((unc[:, 0] - 1e-6 <= t) & (t <= unc[:, 1] + 1e-6))
        assert in_br or in_unc, (t, br, unc)
    assert len(br) <= len(c) - 1
    # the undecided intervals carry a root count and sup bounds
    assert np.all(unc[:, 5] >= 1) if len(unc) else True


def test_certified_roots_of_the_kernels_need_no_widening() -> None:
    """For the Lemma F.4 kernels every block of (theta_U, pi) is decided; only the tiny interval
    at u = 0 (second-kind node, Q(0) = 0 up to rounding) stays open, and it is negligible."""
    for k in (lemma_f4_kernel(3, 128), lemma_f4_kernel(8, 512)):
        cdd, _c1, _d2c = ke.prepare_coefficients(k)
        theta_U = math.acos(2 * 8192 ** -float(k.alpha) - 1)
        cert = certified_theta_roots(cdd[0], theta_U, math.pi, 16 * (k.num_terms + 1),
                                         c_err=float(np.sum(np.abs(cdd[1]))))
        assert len(cert.uncertain) <= 1
        if len(cert.uncertain):
            a, b, s0, *_ = cert.uncertain[0]
            assert b == math.pi and b - a < 1e-5 and s0 < 1e-12
        enc = delta_kernel_l1_error(k)
        assert enc.roots == len(cert.brackets)
        assert "certified root isolation" in enc.method and enc.relative_width < 1e-11


def test_undecided_intervals_widen_the_enclosure() -> None:
    """With the bisections switched off and a coarse model grid, undecided blocks appear; the
    enclosure widens but still contains the reference value."""
    k = lemma_f4_kernel(3, 128)
    ref = delta_kernel_l1_error(k)
    saved = (ke._MAX_BISECTIONS, ke._TAYLOR_ORDER)
    try:
        ke._MAX_BISECTIONS, ke._TAYLOR_ORDER = 0, 4
        enc = delta_kernel_l1_error(k)
    finally:
        ke._MAX_BISECTIONS, ke._TAYLOR_ORDER = saved
    assert "undecided" in enc.method
    assert enc.lower <= ref.lower <= ref.upper <= enc.upper
    assert enc.width > ref.width
