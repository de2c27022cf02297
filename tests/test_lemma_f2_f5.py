"""Lemmas F.2 / F.5: shifted kernels with the same coefficients for every shift."""

import numpy as np
import pytest

from tfapprox.constructions.lemma_f2_f5 import shifted_delta_kernel
from tfapprox.theory.bounds import lemma_f2_f5_bound
from tfapprox.verify.adaptive_error import shifted_kernel_errors
from tfapprox.verify.kernel_error import delta_kernel_error_terms, delta_kernel_l1_error


def test_lin_shift_error_is_tail_of_f1_error():
    k = shifted_delta_kernel("lin", 3, 32)
    full = delta_kernel_l1_error(k.base)
    terms = np.abs(delta_kernel_error_terms(k.base, 4))
    for B in range(0, 4):
        enc = delta_kernel_l1_error(k.at_shift(B))
        expect = full.value - terms[: 3 - B].sum()
        assert enc.lower - 1e-12 <= expect <= enc.upper + 1e-12
    errs = shifted_kernel_errors(k)
    assert errs.upper == pytest.approx(full.upper, rel=1e-12)  # max over B attained at B = T


@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_realised_coefficients_match_stable_form(rpe):
    k = shifted_delta_kernel(rpe, 4, 48)
    for B in range(1, 5):
        s = np.arange(0, 9)
        stable = k.evaluate(s, B)
        realised = np.array([float(v) for v in k.evaluate_realised(s, B, 120)])
        assert np.allclose(stable, realised, atol=1e-12)
        shifted = k.at_shift(B).evaluate(s)
        assert np.allclose(stable, shifted, atol=1e-12)


@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_shift_errors_below_explicit_bound(rpe):
    k = shifted_delta_kernel(rpe, 3, 64)
    errs = shifted_kernel_errors(k)
    assert errs.upper <= float(lemma_f2_f5_bound(rpe, 3, 64, 1))
    assert all(e.lower <= e.upper for e in errs.enclosures)


def test_bad_shift_refused():
    k = shifted_delta_kernel("log", 3, 8)
    with pytest.raises(ValueError, match="B"):
        k.at_shift(0)
    with pytest.raises(ValueError, match="B"):
        k.evaluate(1, 4)


# ---- the fixed-point at_shift against a slow mpmath reference ---------------------------

def _reference_shift_chebyshev(k, B, dps=80):
    """The former mpmath path of ``at_shift`` (Clenshaw at the H first-kind points, DCT with mpmath.cos),
    at ``dps`` digits: the Chebyshev coefficients of ``c Q(lambda u)`` to about ``dps - 5`` digits."""
    import mpmath

    base = k.base
    H, T = base.num_terms, k.max_shift
    with mpmath.workdps(dps):
        am = mpmath.mpf(base.alpha.p) / base.alpha.q
        gm = mpmath.mpf(base.gamma.p) / base.gamma.q
        if k.rpe == "lin":
            c, lam = mpmath.exp(-gm * (T - B)), mpmath.exp(-am * (T - B))
        else:
            r = mpmath.mpf(B) / T
            c, lam = mpmath.power(r, 1 + gm), mpmath.power(r, am)
        cheb = list(base.chebyshev_coefficients)
        thetas = [mpmath.pi * (2 * j + 1) / (2 * H) for j in range(H)]
        vals = []
        for th in thetas:
            x = lam * (1 + mpmath.cos(th)) - 1
            b1 = b2 = mpmath.mpf(0)
            for cj in cheb[:0:-1]:
                b1, b2 = cj + 2 * x * b1 - b2, b1
            vals.append(c * (cheb[0] + x * b1 - b2))
        return [mpmath.fsum(v * mpmath.cos(j * th) for v, th in zip(vals, thetas)) * (1 if j == 0 else 2) / H
                for j in range(H)]


@pytest.mark.parametrize("rpe,T,H,B", [("log", 3, 17, 1), ("lin", 2, 32, 1), ("log", 2, 40, 1), ("lin", 1, 40, 0),
                                       ("log", 3, 64, 2)])
def test_fixed_point_shift_matches_reference_within_its_bound(rpe, T, H, B):
    import mpmath
    from tfapprox.constructions.lemma_f2_f5 import shift_chebyshev

    k = shifted_delta_kernel(rpe, T, H)
    ref = _reference_shift_chebyshev(k, B)
    base = k.base
    for digits in (1, base.coefficient_digits):  # digits = 1: the smallest fixed-point precision (64 bits)
        got, q, conv = shift_chebyshev(base.chebyshev_coefficients, digits, rpe, T, B, base.alpha, base.gamma)
        with mpmath.workdps(80):
            diff = mpmath.fsum(abs(g - r) for g, r in zip(got, ref))
        assert diff <= conv, (digits, diff, conv)
        assert any(r != 0 for r in ref)  # nonzero kernels only (no node in the bump gives Q = 0 exactly)
        if digits == 1:
            assert q <= 80 and diff > 0  # the rounding is really there ...
            assert conv <= mpmath.mpf(2) ** -40  # ... and the bound is not vacuous
    kb = k.at_shift(B)
    with mpmath.workdps(80):
        assert mpmath.fsum(abs(g - r) for g, r in zip(kb.chebyshev_coefficients, ref)) <= kb.coefficient_error_bound


def test_at_shift_realised_coefficients_at_many_heads():
    """The realised coefficients a_k lambda^k c are carried at the base's digits (they cancel by 10^190 at H = 256)."""
    k = shifted_delta_kernel("log", 5, 256)
    kb = k.at_shift(3)
    s = np.arange(1, 9)
    stable = kb.evaluate(s)
    realised = np.array([float(v) for v in kb.evaluate_realised(s, kb.coefficient_dps + 20)])
    assert np.allclose(stable, realised, atol=1e-12)
    assert np.allclose(stable, k.evaluate(s, 3), atol=1e-12)
    assert float(kb.coefficient_error_bound) < 1e-25


def test_at_shift_is_fast_at_256_heads():
    import time

    k = shifted_delta_kernel("log", 20, 256)
    t0 = time.perf_counter()
    for B in (1, 7, 19):
        k.at_shift(B)
    assert (time.perf_counter() - t0) / 3 < 1.0  # about 0.05 s each (the former mpmath path: about 2-4 s)
