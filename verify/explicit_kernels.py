"""Exact l1 errors of explicit kernels against a delta, over all lags (the best-found kernels of App. F's tightness).

A kernel ``sum_h c_h b_h(s)`` with float exponents ``p_h`` and coefficients ``c_h`` (``b_h(s) = e^{-p_h s}`` for
lin, ``s^{-p_h}`` for log: the terms of Lemmas F.1/F.4) is compared with ``1{s = T}`` over *every* lag:

* :func:`exact_error_fn` / :func:`l1_error_all_lags`: direct float64 sum below :data:`DIRECT_LAGS` with an
  a-priori rounding allowance plus the family's closed-form tail bound (:func:`tail_sums`);
* :func:`shifted_exact_error`: the maximum over the shifts ``B`` of Lemma F.5 (``b_h(t) / b_h(B)``);
* :func:`expsum_delta_l1_upper`: ball arithmetic (python-flint ``arb``) for kernels with huge cancelling
  weights, used by :func:`divided_difference_candidate` (divided-difference kernels,
  :func:`tfapprox.theory.lower_bounds.divided_difference_kernel`).

Results are remembered (a bounded cache keyed by the kernel): a search meets the same kernel again.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from fractions import Fraction
from typing import Any, Sequence

import flint
import numpy as np

from tfapprox.theory.families import KernelFamily
from tfapprox.theory.lower_bounds import divided_difference_kernel
from tfapprox.theory.validation import require_int

from .essential_error import basis_matrix
from tfapprox.theory.numerics.double_double import EPS as FLOAT64_EPS

__all__ = ["DIRECT_LAGS", "basis_columns", "tail_sums", "l1_error_all_lags", "exact_error_fn",
           "shifted_exact_error", "expsum_delta_l1_upper", "divided_difference_candidate"]

#: Lags summed directly in the exact error of a best-found kernel (beyond: rigorous tails).
DIRECT_LAGS = 1 << 14


#: Exact errors of explicit kernels already computed (a pure function of the key): a search meets the same
#: kernel again (``H = 1``, where the geometric family has one free parameter) and every row re-evaluates
#: the previous row's best kernel.  Bounded; emptied between report jobs like every ``*_CACHE``.
_EXACT_ERROR_CACHE: "OrderedDict[tuple, Any]" = OrderedDict()
_EXACT_ERROR_CACHE_SIZE = 2048


def _remembered(key: tuple, compute: Any) -> Any:
    """``compute()``, or its value for ``key`` from :data:`_EXACT_ERROR_CACHE`."""
    if key in _EXACT_ERROR_CACHE:
        _EXACT_ERROR_CACHE.move_to_end(key)
        return _EXACT_ERROR_CACHE[key]
    value = compute()
    _EXACT_ERROR_CACHE[key] = value
    while len(_EXACT_ERROR_CACHE) > _EXACT_ERROR_CACHE_SIZE:
        _EXACT_ERROR_CACHE.popitem(last=False)
    return value


def basis_columns(cols: Sequence[np.ndarray]) -> np.ndarray:
    """``np.column_stack(cols)`` for equal-length 1-d columns (the same C-ordered array, copied row-wise: faster)."""
    return np.ascontiguousarray(np.array(cols).T)


def tail_sums(family: KernelFamily, p: np.ndarray, start: int) -> np.ndarray:
    """Upper bounds of ``sum_{s >= start} b_h(s)`` per exponent (closed form, ``start >= 2``):
    the family's ``tail_upper_np``.

    lin: ``e^{-p start} / (1 - e^{-p})`` (geometric, exact up to rounding).  log: Hurwitz
    ``zeta(p, start) <= (start - 1/2)^{1-p} / (p - 1)`` (``t^{-p}`` is convex, so
    ``t^{-p} <= int_{t-1/2}^{t+1/2} x^{-p} dx``), within ``p^2 / (8 start^2)`` relative of the truth.
    Both carry a relative ``1e-12`` margin for float64 rounding; ``inf`` for ``p <= 0`` (lin) or ``p <= 1`` (log).
    """
    return family.tail_upper_np(p, start)


def l1_error_all_lags(basis: np.ndarray, tails: np.ndarray, c: np.ndarray, delta_index: int) -> tuple[float, float]:
    """``(lower, upper)`` of ``sum_s |1{s = T} - sum_h c_h b_h(s)|`` over *all* lags.

    ``basis`` holds ``b_h(s)`` on the lags ``start .. DIRECT_LAGS - 1`` (``delta_index`` = row of ``T``),
    ``tails`` the bounds of :func:`tail_sums`.  Direct part: float64 terms, ``math.fsum``, a-priori
    allowance ``8 eps (1 + sum_s sum_h |c_h| b_h(s)) + 8 eps`` (as
    :func:`tfapprox.verify.essential_error.kernel_l1_error`); tail: ``sum_h |c_h| tails_h``
    (``0 <=`` the tail's true contribution ``<=`` that).
    """
    c = np.asarray(c, dtype=float)
    if not np.all(np.isfinite(c)):
        return math.inf, math.inf
    k = basis @ c
    k[delta_index] -= 1.0
    err = math.fsum(np.abs(k).tolist())
    ac = np.abs(c)
    allowance = 8 * FLOAT64_EPS * (1.0 + float(np.sum(basis @ ac))) + 8 * FLOAT64_EPS
    nz = ac > 0
    tail = float(ac[nz] @ tails[nz]) if np.any(nz) else 0.0
    return max(err - allowance, 0.0), err + allowance + tail


def exact_error_fn(family: KernelFamily, T: int) -> Any:
    """``error_fn(p, c) -> (lower, upper)``: the exact l1 error of ``sum_h c_h b_h`` against ``1{. = T}``
    (infinite when an exponent is at or below the family's rate floor, where ``b_h`` is not summable)."""
    start = family.first_lag
    full = np.arange(start, DIRECT_LAGS)
    floor = float(family.rate_floor())

    def compute(p: np.ndarray, c: np.ndarray) -> tuple[float, float]:
        if np.any(p <= floor):
            return math.inf, math.inf
        Bf = basis_columns(basis_matrix(family.name, p, full))
        return l1_error_all_lags(Bf, tail_sums(family, p, DIRECT_LAGS), c, T - start)

    def err(p: np.ndarray, c: np.ndarray) -> tuple[float, float]:
        p, c = np.asarray(p, dtype=float), np.asarray(c, dtype=float)
        return _remembered(("delta", family.name, T, p.tobytes(), c.tobytes()), lambda: compute(p, c))

    return err


def shifted_exact_error(family: KernelFamily, p: np.ndarray, c: np.ndarray, T: int,
                   shifts: Sequence[int] | None = None) -> float:
    """Exact ``max_B ||1{.=B} - sum_h c_h b_h(.) / b_h(B)||_1`` over ``shifts`` (default ``1..T``), upper ends
    (Lemma F.5: ``b_h(t) / b_h(B) = (t/B)^{-p_h}``).

    For shift ``B`` the kernel is ``sum_h (c_h B^{p_h}) t^{-p_h}``: :func:`l1_error_all_lags` with the direct
    sum over ``t < DIRECT_LAGS`` and the tail ``sum_h |c_h| B^{p_h} zeta(p_h, DIRECT_LAGS)`` bounded in
    closed form (:func:`tail_sums`).  The basis and the tails are computed once for all shifts.
    """
    p, c = np.asarray(p, dtype=float), np.asarray(c, dtype=float)
    key = ("shifted", family.name, T, None if shifts is None else tuple(shifts), p.tobytes(), c.tobytes())
    return _remembered(key, lambda: _shifted_exact_compute(family, p, c, T, shifts))


def _shifted_exact_compute(family: KernelFamily, p: np.ndarray, c: np.ndarray, T: int,
                           shifts: Sequence[int] | None) -> float:
    if np.any(p <= family.rate_floor()):
        return math.inf
    start = family.first_lag
    full = np.arange(start, DIRECT_LAGS)
    Bf = basis_columns(basis_matrix(family.name, p, full))
    tails = tail_sums(family, p, DIRECT_LAGS)
    worst = 0.0
    for B in (range(1, T + 1) if shifts is None else shifts):
        worst = max(worst, l1_error_all_lags(Bf, tails, c * family.shift_factor_np(p, B), B - start)[1])
    return worst


def expsum_delta_l1_upper(T: int, exponents: Sequence[float], coefficients: Sequence[float], *,
                          prec: int = 256) -> float:
    """Certified upper bound of ``sum_{s >= 0} |1{s = T} - sum_h c_h e^{-p_h s}|`` for float ``p_h > 0``, ``c_h``
    (taken as exact numbers), in ball arithmetic (python-flint ``arb``): direct sum over ``s < S`` and
    the tail ``sum_h |c_h| lambda_h^S / (1 - lambda_h)``, ``S`` grown until the tail is below
    ``1e-3`` of the direct sum.  Robust to huge cancelling weights (divided-difference kernels).

    >>> expsum_delta_l1_upper(0, [50.0], [1.0]) < 1e-21     # e^{-50 s}: 1 at s = 0, tiny beyond
    True
    """
    T = require_int("T", T, minimum=0)
    p = [float(v) for v in exponents]
    c = [float(v) for v in coefficients]
    if len(p) != len(c) or not all(math.isfinite(v) and v > 0 for v in p) or not all(math.isfinite(v) for v in c):
        raise ValueError(f"exponents (> 0) and coefficients (finite) must have the same length, got {len(p)} and {len(c)}")
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        lam = [(-flint.arb(v)).exp() for v in p]
        cs = [flint.arb(v) for v in c]
        total = flint.arb(0)
        pw = [flint.arb(1)] * len(lam)
        S = 0
        while True:
            stop = max(2 * S, T + 64)
            for s in range(S, stop):
                g = sum((ci * li for ci, li in zip(cs, pw)), flint.arb(0))
                total += abs((1 if s == T else 0) - g)
                pw = [li * lm for li, lm in zip(pw, lam)]
            S = stop
            tail = sum((abs(ci) * li / (1 - lm) for ci, li, lm in zip(cs, pw, lam)), flint.arb(0))
            up = total + tail
            if float(tail.upper()) <= 1e-3 * max(float(total.lower()), 1e-300) or S > (1 << 16):
                return float(up.upper())
    finally:
        flint.ctx.prec = old


def divided_difference_candidate(T: int, H: int) -> tuple[float, tuple[float, ...], tuple[float, ...]] | None:
    """Best of a few divided-difference kernels (:func:`tfapprox.theory.lower_bounds.divided_difference_kernel`,
    ``T + 1`` heads, ``lambda_j = (j + 1) epsilon``) in float64 weights, by certified error
    (:func:`expsum_delta_l1_upper`); ``None`` if ``H <= T``.  Returns ``(error, exponents, coefficients)``.
    Smaller ``epsilon`` lowers the exact error ``prod 1/(1 - lambda_j) - 1`` but blows the weights up (~ ``epsilon^-T``)."""
    if H <= T:
        return None
    best = None
    for f in (0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001):
        eps = Fraction(f).limit_denominator(10 ** 6) / (T + 1)
        lam, c, _ = divided_difference_kernel(T, eps)
        p = tuple(-math.log(float(v)) for v in lam)
        try:
            cf = tuple(float(v) for v in c)
        except OverflowError:  # weights beyond float64: smaller epsilon only makes them larger
            break
        if not all(math.isfinite(v) and abs(v) < 1e300 for v in cf):
            break
        err = expsum_delta_l1_upper(T, p, cf)
        if best is None or err < best[0]:
            best = (err, p, cf)
    return best
