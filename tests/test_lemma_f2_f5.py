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
