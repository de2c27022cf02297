"""Lemmas F.3 / F.6: admissible rates, construction, exact errors within the explicit bound."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st
from numpy.polynomial import chebyshev as C

from tfapprox.constructions.lemma_f3_f6 import admissible_rates, check_rate, essential_kernel
from tfapprox.theory.bounds import essential_kernel_bound
from tfapprox.theory.memory_kernels import ArrayKernel, ExponentialKernel, PolynomialKernel
from tfapprox.theory.numerics.weighted_integrals import euler_inverse_cheb, euler_residual_bound
from tfapprox.verify import kernel_error as ke
from tfapprox.verify.essential_error import essential_l1_error


def _bound(k, n=1):
    return float(essential_kernel_bound(k.rpe, k.kernel, k.num_terms, n, alpha=k.alpha, gamma=k.gamma,
                                        first_bump=k.first_bump, last_bump=k.last_bump,
                                        truncation_tail=k.truncation_tail, node_residual=k.node_residual))


def test_admissible_rates():
    assert admissible_rates("exp", "0.5") == range(1, 50)
    assert admissible_rates("poly", 3) == range(1, 2)
    assert len(admissible_rates("poly", "1.5")) == 0
    with pytest.raises(ValueError, match=r"floor\(99 beta\)"):
        check_rate("exp", "0.01", 1)
    with pytest.raises(ValueError, match="F.6"):
        check_rate("poly", 3, 2)


def test_lattice_identity_and_decay():
    # with enough heads the kernel approaches rho; the l1 error decreases
    rho = ExponentialKernel(1, "0.5")
    e1 = essential_l1_error(essential_kernel("lin", rho, 256))
    e2 = essential_l1_error(essential_kernel("lin", rho, 1024))
    assert e2.upper < e1.lower
    assert e1.lower <= e1.upper


def test_lag_zero_fix_erratum_6d():
    rho = ExponentialKernel(1, 2)
    with_fix = essential_kernel("lin", rho, 512)
    paper = essential_kernel("lin", rho, 512, include_zero=False)
    assert abs(with_fix.evaluate([0])[0] - 1.0) < 1e-3
    assert abs(paper.evaluate([0])[0]) < 1e-3  # the paper's bump sum misses rho(0) = 1
    assert essential_l1_error(paper).lower > 0.99


def test_wrong_decay_class_refused():
    with pytest.raises(ValueError, match="decay='exp'"):
        essential_kernel("lin", PolynomialKernel(1, 3, offset=0), 8)
    with pytest.raises(ValueError, match="tail='zero'"):
        essential_kernel("lin", ArrayKernel([1, 0.5], "exp", "0.5", 1), 8)


def test_violating_kernel_refused_first_lag():
    vals = [np.exp(-0.5 * t) for t in range(10)]
    vals[6] = 0.5
    with pytest.raises(ValueError, match="first failure at lag 6"):
        ArrayKernel(vals, "exp", "0.5", 1, tail="zero")


@settings(max_examples=6, deadline=None)
@given(beta=st.sampled_from(["0.5", "1", "2"]), scale=st.sampled_from(["1", "1/2", "-3/4"]),
       H=st.sampled_from([16, 64, 200]))
def test_random_exp_kernels_within_bound(beta, scale, H):
    k = essential_kernel("lin", ExponentialKernel(scale, beta), H)
    enc = essential_l1_error(k)
    assert enc.upper <= _bound(k)


@settings(max_examples=4, deadline=None)
@given(values=st.lists(st.floats(-1, 1), min_size=3, max_size=12), H=st.sampled_from([8, 64]))
def test_random_array_kernels_within_bound(values, H):
    vals = [v * float(np.exp(-1.0 * t)) for t, v in enumerate(values)]
    rho = ArrayKernel(vals, "exp", 1, 1, tail="zero")
    k = essential_kernel("lin", rho, H)
    assert essential_l1_error(k).upper <= _bound(k)


# ---- Lemma F.6: the exact l1 error with the non-integer weight exponent gamma/alpha ---------


def _hurwitz_reference(k, S, dps=50):
    """``sum_{t >= 1} |rho(t) - P(t)|`` for ``rho = scale t^-beta`` and the *realised* kernel
    ``P = sum_k a_k t^-b_k`` (exact ``a_k``), independently of verify/: an mpmath direct sum for
    ``t < S``, then exact Hurwitz-zeta sums ``sum_{A <= t < B} (P - rho)`` between consecutive
    sign changes of ``P - rho`` (roots of ``Q(u) - scale u^p``, ``p = (beta - 1 - gamma)/alpha``,
    from numpy's companion matrix, bracketed and refined in mpmath)."""
    with mpmath.workdps(dps):
        am = [mpmath.mpf(v.p) / v.q for v in k.monomial_coefficients()]
        bm = [mpmath.mpf(v.p) / v.q for v in k.exponents]
        sc = mpmath.mpf(k.kernel.scale.p) / k.kernel.scale.q
        be = mpmath.mpf(k.kernel.beta.p) / k.kernel.beta.q
        al = mpmath.mpf(k.alpha.p) / k.alpha.q
        ga = mpmath.mpf(k.gamma.p) / k.gamma.q
        direct = mpmath.fsum(abs(mpmath.fsum(x * mpmath.power(t, -y) for x, y in zip(am, bm))
                                 - sc * mpmath.power(t, -be)) for t in range(1, S))
        p = (be - 1 - ga) / al

        def D(u):
            return mpmath.polyval(am[::-1], u) - sc * mpmath.power(u, p)

        U = mpmath.power(S, -al)
        roots = []
        for r in C.chebroots(np.asarray(k.chebyshev_coefficients)):
            u = (1 + r.real) / 2
            if abs(r.imag) > 1e-9 or not 0 < u < float(U):
                continue
            d = 1e-9
            while D(mpmath.mpf(u) * (1 - d)) * D(mpmath.mpf(u) * (1 + d)) >= 0:
                d *= 10
                assert d < 1e-3
            roots.append(mpmath.findroot(D, (mpmath.mpf(u) * (1 - d), mpmath.mpf(u) * (1 + d)), solver="illinois"))
        edges = [mpmath.mpf(S)] + [mpmath.ceil(mpmath.power(r, -1 / al)) for r in sorted(roots, reverse=True)]
        zeta = {e: [mpmath.zeta(y, e) for y in bm] + [mpmath.zeta(be, e)] for e in edges}
        tail = mpmath.mpf(0)
        for A, B in zip(edges, edges[1:] + [None]):
            zA, zB = zeta[A], (zeta[B] if B is not None else [0] * (len(bm) + 1))
            tail += abs(mpmath.fsum(x * (za - zb) for x, za, zb in zip(am, zA, zB)) - sc * (zA[-1] - zB[-1]))
        return direct + tail


@pytest.mark.parametrize("H", [16, 24])
def test_f6_enclosure_contains_the_hurwitz_reference(H):
    """The whole pipeline (direct sum, exact weighted integral, Euler-Maclaurin, rho correction)
    against an independent exact evaluation; the tail reaches t ~ 10^200 (roots of Q near u = 0.01)."""
    k = essential_kernel("log", PolynomialKernel(1, 3, offset=0), H)
    ref = _hurwitz_reference(k, 300)
    enc = essential_l1_error(k)
    assert enc.lower <= ref <= enc.upper
    assert (enc.upper - enc.lower) / enc.upper < 1e-9


@pytest.mark.parametrize("H, S", [(16, 300), (32, 2000), (48, 8192)])
def test_f6_signed_tail_matches_hurwitz_zeta(H, S):
    """sum_{t >= S} P(t) = sum_k a_k zeta(1 + gamma + alpha k, S): checks the weighted integral
    int_0^U u^{c-1} Q = U^c G(U) (c = 3/100) and the Euler-Maclaurin terms independently."""
    k = essential_kernel("log", PolynomialKernel(1, 3, offset=0), H)
    lo, hi = ke.log_signed_tail(k.carrier(), S)
    with mpmath.workdps(60):
        z = mpmath.fsum(mpmath.mpf(a.p) / a.q * mpmath.zeta(mpmath.mpf(b.p) / b.q, S)
                        for a, b in zip(k.monomial_coefficients(), k.exponents))
    assert lo <= z <= hi
    assert hi - lo <= 1e-8 * abs(z)


def test_euler_inverse_polynomial_and_residual_bound():
    """c G + u G' = Q, int_0^b u^{c-1} Q(u) du = b^c G(b) (mpmath quadrature), and the residual
    bound is tiny for the computed G but catches a perturbed one."""
    rng = np.random.default_rng(3)
    q = rng.standard_normal(12)
    c = sympy.Rational(3, 100)
    gh, gl, bound = euler_inverse_cheb([mpmath.mpf(float(v)) for v in q], c)
    assert bound < 1e-25
    x = np.linspace(-1, 1, 9)
    g = gh + gl
    assert np.max(np.abs(0.03 * C.chebval(x, g) + (1 + x) * C.chebval(x, C.chebder(g)) - C.chebval(x, q))) < 1e-12
    q0 = C.chebval(-1.0, q)
    with mpmath.workdps(30):
        cm = mpmath.mpf(3) / 100
        for b in ("0.3", "0.9"):
            bb = mpmath.mpf(b)
            # Q(0) b^c / c + int_0^b u^{c-1} (Q(u) - Q(0)) du (a bounded integrand for the quadrature)
            quad = q0 * bb ** cm / cm + mpmath.quad(lambda u: u ** (cm - 1) * (C.chebval(float(2 * u - 1), q) - q0),
                                                    [0, bb / 4, bb])
            ours = bb ** cm * C.chebval(float(2 * bb - 1), g)
            assert abs(quad - ours) < 1e-10 * abs(ours)
    # the residual bound is a posteriori: a perturbed G~ gets a correspondingly larger bound
    gh2 = gh.copy()
    gh2[5] += 1e-7
    bad = euler_residual_bound([mpmath.mpf(float(v)) for v in q], gh2, gl, c)
    assert 1e-7 * 5 / 0.03 <= bad <= 1e-7 * 100 / 0.03


def test_f6_poly3_reference_value_and_split_points():
    """t^-3, H = 64 (the thm5.1 default's first point): the exact error is 0.755113519 (not ~183,
    the width of the former loose tail enclosure), certified to relative width < 1e-9, and
    independent of where the direct sum stops."""
    k = essential_kernel("log", PolynomialKernel(1, 3, offset=0), 64)
    a = essential_l1_error(k)
    b = essential_l1_error(k, direct_terms=2048)
    assert (a.upper - a.lower) / a.upper < 1e-9
    assert abs(a.value - 0.7551135188) < 2e-10
    assert a.lower <= b.upper and b.lower <= a.upper
    assert (b.upper - b.lower) / b.upper < 1e-6
