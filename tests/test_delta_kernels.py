"""Tests of the Lemma F.1 / F.4 delta kernels (constructions/delta_kernels.py)."""

from __future__ import annotations

import math
import time

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import delta_kernel_specs, malformed_delta_kernel_calls

from tfapprox.constructions import delta_kernels as dk
from tfapprox.constructions.bump_nodes import node_geometry
from tfapprox.theory.numerics import chebyshev as cheb
from tfapprox.constructions.delta_kernels import (
    DeltaKernel,
    bump_function,
    bump_function_mp,
    chebyshev_nodes,
    delta_kernel,
    lemma_f1_kernel,
    lemma_f4_kernel,
)

R = sympy.Rational
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _exact_interpolant_values(k: DeltaKernel, dps: int = 60) -> tuple[list, list]:
    """(node values of Psi_T, Q at the nodes from the stored Chebyshev coefficients), in mpmath."""
    M, angle = node_geometry(k.num_terms, k.nodes)
    f, q = [], []
    with mpmath.workdps(dps):
        mu, sigma, height = k.placement.numeric(dps)
        for a in angle:
            x = mpmath.cospi(mpmath.mpf(a) / M)
            f.append(height * bump_function_mp(((1 + x) / 2 - mu) / sigma))
            b1 = b2 = mpmath.mpf(0)
            for c in k.chebyshev_coefficients[:0:-1]:
                b1, b2 = c + 2 * x * b1 - b2, b1
            q.append(k.chebyshev_coefficients[0] + x * b1 - b2)
    return f, q


# ---- the bump and the change of variables ------------------------------------------------

def test_bump_function_values() -> None:
    assert bump_function(0.0) == pytest.approx(math.exp(-1))
    assert bump_function(0.5) == pytest.approx(math.exp(-1 / 0.75))
    assert bump_function([1.0, -1.0, 2.0, -7.0]).tolist() == [0.0, 0.0, 0.0, 0.0]
    with mpmath.workdps(30):
        assert bump_function_mp(mpmath.mpf("0.3")) == mpmath.exp(-1 / (1 - mpmath.mpf("0.09")))
        assert bump_function_mp(1) == 0


@pytest.mark.parametrize("rpe", ["lin", "log"])
@pytest.mark.parametrize("lag", [1, 2, 5, 20, 137])
@pytest.mark.parametrize("params", [(R(1, 100), R(1, 100)), (R(1, 10), R(1, 20)), (R(1, 3), 2)])
def test_phi_T_is_the_indicator_on_the_lattice(rpe: str, lag: int, params: tuple) -> None:
    """Phi_T(t) = w(t) Psi_T(u(t)) = 1{t = T} exactly on N (lin) / N_+ (log)."""
    a, g = params
    k = delta_kernel(rpe, lag, 1, alpha=a, gamma=g)
    start = 0 if rpe == "lin" else 1
    with mpmath.workdps(50):
        mu, sigma, height = k.placement.numeric(50)
        for t in range(start, 3 * lag + 5):
            u, w = k._lattice_mp(t)
            phi = w * height * bump_function_mp((u - mu) / sigma)
            if t == lag:
                assert abs(phi - 1) < mpmath.mpf(10) ** -45
            else:
                assert phi < mpmath.mpf(10) ** -1000  # t = T+1 sits on the support edge: e^{-1/0} up to rounding


def test_log_lag_one_bump_is_centred_at_the_interval_end() -> None:
    """F.4 with T = 1: mu_T = 1 = the end of [0, 1]; Psi_T on [0, 1] is half the bump.
    Chebyshev points of the second kind contain u = 1, so P(1) = 1 up to rounding."""
    k = lemma_f4_kernel(1, 33)
    assert k.placement.mu == 1
    assert k.evaluate(1) == pytest.approx(1.0, abs=1e-13)
    f, q = _exact_interpolant_values(k)
    assert abs(f[0] - 1) < 1e-40  # node u = 1 carries the peak T^{1+gamma} = 1


def test_chebyshev_nodes() -> None:
    assert chebyshev_nodes(1).tolist() == [0.5]
    assert chebyshev_nodes(1, "chebyshev1").tolist() == pytest.approx([0.5])
    u = chebyshev_nodes(5)
    assert u[0] == 1.0 and u[-1] == 0.0 and np.all(np.diff(u) < 0)
    u1 = chebyshev_nodes(4, "chebyshev1")
    assert np.all((u1 > 0) & (u1 < 1))


# ---- exact structure ---------------------------------------------------------------------

@given(delta_kernel_specs(max_terms=40))
@SETTINGS
def test_exponents_are_exact(spec: dict) -> None:
    k = delta_kernel(**spec)
    base = spec["gamma"] if spec["rpe"] == "lin" else 1 + spec["gamma"]
    assert k.exponents == tuple(base + spec["alpha"] * j for j in range(spec["num_terms"]))
    assert all(isinstance(b, sympy.Rational) for b in k.exponents)
    assert len(k.coefficients) == len(k.chebyshev_coefficients) == spec["num_terms"]
    assert k.lemma == ("F.1" if spec["rpe"] == "lin" else "F.4")


@given(delta_kernel_specs(max_terms=40, nodes=("chebyshev2", "chebyshev1")))
@SETTINGS
def test_interpolates_the_bump_at_the_nodes(spec: dict) -> None:
    """Q(u_k) = Psi_T(u_k) at every interpolation node (mpmath), within the recorded bound."""
    k = delta_kernel(**spec)
    f, q = _exact_interpolant_values(k)
    tol = k.coefficient_error_bound
    assert max(abs(a - b) for a, b in zip(f, q)) <= tol


def test_monomial_coefficients_are_the_exact_conversion() -> None:
    """a_k equal the exact (sympy) monomial expansion of sum_j c_j T_j(2u - 1)."""
    u = sympy.Symbol("u")
    for rpe, lag, H in [("lin", 1, 12), ("log", 2, 9), ("lin", 3, 1), ("log", 1, 2)]:
        k = delta_kernel(rpe, lag, H)
        cs = [sympy.Integer(int(c.man_exp[0])) * sympy.Integer(2) ** int(c.man_exp[1])
              for c in k.chebyshev_coefficients]
        poly = sympy.Poly(sympy.expand(sum(c * sympy.chebyshevt(j, 2 * u - 1) for j, c in enumerate(cs))), u)
        exact = [poly.coeff_monomial(u ** j) for j in range(H)]
        with mpmath.workdps(k.coefficient_dps + 20):
            for a, e in zip(k.coefficients, exact):
                ae = mpmath.mpf(e.p) / e.q
                assert abs(a - ae) <= abs(ae) * mpmath.mpf(10) ** (-k.coefficient_dps) + mpmath.mpf(10) ** -300


def test_integer_chebyshev_conversion_matches_numpy() -> None:
    rng = np.random.default_rng(1)
    C = [int(v) for v in rng.integers(-1000, 1000, size=9)]
    mono = cheb.chebyshev_to_monomial(C)
    x_poly = np.polynomial.chebyshev.cheb2poly(np.array(C, dtype=float))  # in x = 2u - 1
    # compose with x = 2u - 1 exactly via sympy for reference
    u = sympy.Symbol("u")
    ref = sympy.Poly(sympy.expand(sum(int(round(c)) * (2 * u - 1) ** j for j, c in enumerate(x_poly))), u)
    assert mono == [int(ref.coeff_monomial(u ** j)) for j in range(len(C))]


def test_cos_table_is_accurate() -> None:
    M, p = 37, 200
    table = cheb.cos_table(M, p)
    with mpmath.workprec(p + 40):
        for m, v in enumerate(table):
            exact = mpmath.cospi(mpmath.mpf(m) / M) * mpmath.mpf(2) ** p
            assert abs(v - exact) <= 1
    assert table[M] == -(1 << p)


@given(delta_kernel_specs(max_terms=64))
@SETTINGS
def test_coefficient_error_bound_meets_the_requested_digits(spec: dict) -> None:
    k = delta_kernel(**spec)
    with mpmath.workdps(30):
        peak = k.placement.numeric(30)[2] / mpmath.e
        assert k.coefficient_error_bound <= mpmath.mpf(10) ** (-k.coefficient_digits) * peak / 2
        assert k.coefficient_error_bound > 0
    assert k.coefficient_dps >= 3


# ---- realised coefficients vs the stable basis -------------------------------------------

@given(delta_kernel_specs(max_terms=96), st.lists(st.integers(0, 400), min_size=1, max_size=4))
@SETTINGS
def test_realised_coefficients_reproduce_the_stable_kernel(spec: dict, extra: list[int]) -> None:
    """sum_k a_k e^{-beta_k s} at the reported digits equals the Chebyshev form to 1e-20 (relative)."""
    k = delta_kernel(**spec)
    dps = k.digits_needed(1e-25)
    lags = sorted({spec["lag"], spec["lag"] + 1, max(spec["lag"] - 1, 1), 1, *extra})
    realised = k.evaluate_realised(lags, dps)
    stable = k.evaluate_stable_mp(lags, 40)
    for r, s in zip(realised, stable):
        assert abs(r - s) <= mpmath.mpf("1e-20") * max(1, abs(s))


@given(delta_kernel_specs(max_terms=96))
@SETTINGS
def test_float64_evaluation_matches_mpmath(spec: dict) -> None:
    k = delta_kernel(**spec)
    lags = np.arange(0, 3 * spec["lag"] + 40)
    f64 = k.evaluate(lags)
    ref = np.array([float(v) for v in k.evaluate_stable_mp(lags, 40)])
    scale = float(k.chebyshev_l1) + 1.0
    assert np.all(np.abs(f64 - ref) <= 1e-12 * scale)
    if spec["rpe"] == "log":
        assert f64[0] == 0.0


def test_too_few_digits_lose_the_kernel() -> None:
    """Cancellation is real: float-like precision gives garbage, the reported digits do not."""
    k = lemma_f1_kernel(5, 128)
    good = k.evaluate_realised(5, k.digits_needed(1e-20))
    bad = k.evaluate_realised(5, 16)
    assert abs(good - mpmath.mpf(k.evaluate(5))) < 1e-12
    assert abs(bad - good) > 1  # 10^{0.75 H} coefficients at 16 digits
    assert k.digits_needed(1e-20) > 100


def test_largest_coefficient_at_256_heads_is_about_1e190() -> None:
    """design.md section 4: the head weights at H = 256 reach about 1e190."""
    for lag in (1, 5, 20):
        k = lemma_f1_kernel(lag, 256)
        assert 188 <= float(mpmath.log10(k.max_abs_coefficient)) <= 192


def test_digits_needed_grows_like_three_quarters_h() -> None:
    d = [lemma_f1_kernel(1, H).digits_needed(1e-30) for H in (64, 128, 256)]
    slope = (d[2] - d[0]) / 192
    assert 0.6 <= slope <= 0.9


def test_zero_kernel_when_no_node_hits_the_bump() -> None:
    k = lemma_f1_kernel(20, 32)
    assert all(c == 0 for c in k.chebyshev_coefficients)
    assert all(a == 0 for a in k.coefficients)
    assert k.digits_needed(1e-30) >= 1
    assert np.all(k.evaluate(np.arange(50)) == 0)


# ---- inputs -------------------------------------------------------------------------------

def test_parameter_conversions() -> None:
    # one rule (theory/rationals.py): strings and Rationals are exact decimals, a float is its binary value
    k = lemma_f1_kernel(3, 4, alpha="0.01", gamma="1/50")
    assert k.alpha == R(1, 100) and k.gamma == R(1, 50)
    k2 = lemma_f4_kernel(3, 4, alpha=R(1, 100), gamma="0.01")
    assert k2.exponents[0] == R(101, 100)
    assert delta_kernel("lin", 3, 4, alpha="0.01").alpha == R(1, 100)
    kf = lemma_f1_kernel(3, 4, alpha=0.01, gamma=0.25)
    assert kf.alpha == R(0.01) != R(1, 100) and kf.gamma == R(1, 4)


@given(malformed_delta_kernel_calls())
@settings(max_examples=60, deadline=None)
def test_malformed_calls_raise(case: tuple) -> None:
    description, thunk = case
    with pytest.raises((ValueError, TypeError)):
        thunk()


@pytest.mark.parametrize("bad, exc, word", [
    (dict(lag=0), ValueError, "lag"), (dict(num_terms=0), ValueError, "num_terms"),
    (dict(alpha=0), ValueError, "alpha"), (dict(alpha=-0.5), ValueError, "alpha"),
    (dict(gamma=0), ValueError, "gamma"), (dict(lag=2.0), TypeError, "lag"),
    (dict(num_terms="8"), TypeError, "num_terms"), (dict(rpe="exp"), ValueError, "rpe"),
])
def test_error_messages_name_the_parameter(bad: dict, exc: type, word: str) -> None:
    args = dict(rpe="lin", lag=2, num_terms=4) | bad
    with pytest.raises(exc, match=word):
        delta_kernel(**args)


def test_evaluate_validates_lags() -> None:
    k = lemma_f1_kernel(2, 8)
    assert isinstance(k.evaluate(3), float)
    assert k.evaluate(np.array([[1, 2], [3, 4]])).shape == (2, 2)
    with pytest.raises(ValueError, match="s"):
        k.evaluate([-1, 2])
    with pytest.raises(TypeError):
        k.evaluate([1.5])
    with pytest.raises(ValueError):
        k.digits_needed(0)
    with pytest.raises(ValueError):
        k.evaluate_realised(1, 5)


def test_repr_is_short() -> None:
    text = repr(lemma_f1_kernel(2, 300))
    assert len(text) < 200 and "lag=2" in text


# ---- speed ------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_build_1024_terms_quickly(rpe: str) -> None:
    start = time.perf_counter()
    k = delta_kernel(rpe, 5, 1024)
    elapsed = time.perf_counter() - start
    assert elapsed < 20
    assert len(k.coefficients) == 1024
    dps = k.digits_needed(1e-25)
    r = k.evaluate_realised(5, dps)
    assert abs(r - k.evaluate_stable_mp(5, 40)) < 1e-20


@settings(max_examples=40, deadline=None)
@given(delta_kernel_specs(max_terms=400, max_lag=30, nodes=("chebyshev2", "chebyshev1")))
def test_bump_node_values_are_exactly_the_nodes_inside_the_bump(spec: dict) -> None:
    """The angle-range candidates of bump_node_values miss no node: compare with a scan of all H nodes
    (mpmath at 40 digits), and the values are Psi_T at those nodes."""
    from tfapprox.theory.bounds import bump_placement

    place = bump_placement(spec["rpe"], spec["lag"], alpha=spec["alpha"], gamma=spec["gamma"])
    got = dk.bump_node_values(place, spec["num_terms"], spec["nodes"], dps=40)
    H = spec["num_terms"]
    with mpmath.workdps(40):
        mu, sigma, height = place.numeric(40)
        if H == 1:
            xs = [mpmath.mpf(0)]
        elif spec["nodes"] == "chebyshev2":
            xs = [mpmath.cospi(mpmath.mpf(k) / (H - 1)) for k in range(H)]
        else:
            xs = [mpmath.cospi(mpmath.mpf(2 * k + 1) / (2 * H)) for k in range(H)]
        want = [k for k, x in enumerate(xs) if abs(((1 + x) / 2 - mu) / sigma) < 1]
        assert [k for k, _x, _f in got] == want
        for k, x, f in got:
            y = ((1 + xs[k]) / 2 - mu) / sigma
            assert abs(x - xs[k]) <= mpmath.mpf(10) ** -38
            assert abs(f - height * mpmath.exp(-1 / (1 - y * y))) <= abs(f) * mpmath.mpf(10) ** -30
