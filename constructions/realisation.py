"""Realised head weights of the delta kernels: the Chebyshev form converted exactly, then rounded.

Wang & E 2024, App. F write ``P(t) = sum_k a_k e^{-beta_k t}`` (Lemma F.1) or
``sum_k a_k t^{-beta_k}`` (Lemma F.4): the ``a_k`` are the Transformer's value weights.  They are
huge and cancel (Differences from the paper, D18), so the construction keeps the Chebyshev form
as primary data and makes the ``a_k`` on demand: the stored ``C_j`` converted **exactly** to the
monomial basis (:func:`tfapprox.theory.numerics.chebyshev.chebyshev_to_monomial`), rounded once
with a share of the error budget fixed in advance (:data:`ROUNDING_SHARE`).  The weights of the
model files are exact decimals (:func:`decimal_rational`).
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import sympy

from tfapprox.theory.numerics.chebyshev import LOG2_10, chebyshev_to_monomial, fixed_point

__all__ = ["ROUNDING_SHARE", "realise", "decimal_rational"]


#: Upper bound of (the sup-norm move caused by rounding the realised ``a_k``) / ``tol`` (:func:`realise`):
#: ``1/80`` for the decimal rounding to ``coefficient_dps`` digits, ``1/102400`` for the binary one, with a
#: margin for the float ``log10`` that chooses ``coefficient_dps``.
ROUNDING_SHARE = (mpmath.mpf(1) / 80 + mpmath.mpf(1) / 102400) * (1 + mpmath.mpf(10) ** -10)


def realise(kernel: Any) -> tuple[tuple[mpmath.mpf, ...], int]:
    """The realised ``a_k`` of a :func:`delta_kernel` and their digits ``coefficient_dps``.

    ``A_k``: the exact monomial conversion (:func:`chebyshev_to_monomial`) of the stored
    ``C_j = c_j 2^p``, so ``sum_k A_k 2^{-p} u^k = Q_cheb(u)`` identically.  With
    ``l1 = sum_k |A_k| 2^{-p}``, ``tol = 10^{-digits} sup Psi_T`` and ``ratio = max(1, l1/tol)``:
    ``coefficient_dps = ceil(log10(40 ratio)) + 1`` and every ``a_k`` is ``A_k 2^{-p}`` rounded to
    ``bits >= coefficient_dps log2(10) + 8`` bits.  Rounding (binary, then to ``coefficient_dps``
    decimals as the model files do) moves ``sum_k a_k u^k`` on ``[0, 1]`` by at most
    ``l1 (2^{-bits} + 10^{1 - dps}/2) <= tol (1/102400 + 1/80)``: the ``ROUNDING_SHARE`` already in
    :attr:`DeltaKernel.coefficient_error_bound`.
    """
    p = kernel.working_precision
    C = [fixed_point(c, p) for c in kernel.chebyshev_coefficients]
    A = chebyshev_to_monomial(C)
    with mpmath.workdps(30):
        peak = kernel.placement.numeric(30)[2] / mpmath.e
        tol = mpmath.mpf(10) ** (-kernel.coefficient_digits) * peak
        l1_a = mpmath.mpf(sum(abs(v) for v in A)) * mpmath.mpf(2) ** (-p)
        ratio = max(mpmath.mpf(1), l1_a / tol)
        coef_dps = math.ceil(float(mpmath.log10(ratio * 40))) + 1
    coef_bits = max(math.ceil(coef_dps * LOG2_10) + 8, 53)
    with mpmath.workprec(coef_bits):
        coeffs = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in A)
    return coeffs, coef_dps


def decimal_rational(value: Any, dps: int) -> sympy.Rational:
    """``value`` (mpf) rounded to ``dps`` significant decimal digits, as an exact decimal rational.

    Exact rationals pass unchanged.  This is how every realised head weight ``a_k`` enters a
    model (Theorem 3.1 value weights, the Lemma F.1/F.4 one-layer kernels, Lemma F.2/F.5 ``alpha_k``).

    >>> decimal_rational(mpmath.mpf(1) / 3, 4)
    3333/10000
    """
    if isinstance(value, sympy.Rational):
        return value
    with mpmath.workdps(dps + 5):
        text = mpmath.nstr(mpmath.mpf(value), dps, strip_zeros=False, min_fixed=1, max_fixed=0)
    return sympy.Rational(text)
