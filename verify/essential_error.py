"""Exact l1 errors of general memory-kernel approximations, and best-found approximations by LP.

For DP-free heads the attention error is linear in the input, so its worst case over
``||x_t|| <= 1`` is the l1 norm of the kernel error (the worst case is computed, not sampled).  This module
computes it:

* :func:`essential_l1_error` -- a rigorous enclosure of ``||rho - P||_{l1}`` for the Lemma
  F.3/F.6 kernels: a double-double direct sum over ``t < S`` (per-lag rounding bounds from
  :mod:`tfapprox.verify.kernel_error`), and for ``t >= S`` the enclosure of ``sum |P(t)|``
  of that module.  lin: geometric bound, and ``sum_{t>=S} |rho - P|`` lies within
  ``sum_{t>=S} |rho|`` of it.  log (Lemma F.6, ``gamma/alpha = beta/100`` not an integer): the
  exact weighted integral ``(1/alpha) int_0^U u^{gamma/alpha - 1} |Q(u)| du`` piecewise between
  the roots of ``Q`` plus Euler-Maclaurin (``t^{-1-gamma}`` with tiny ``gamma`` decays far too
  slowly to sum; ``Q`` oscillates down to ``t ~ 10^{200}``), and ``rho``'s effect on the tail
  enclosed lag by lag up to ``2^16``; relative widths about ``1e-9 .. 5e-8`` for ``t^-3``.
* :func:`lp_l1_fit` -- for fixed exponents the l1-optimal coefficients are a linear
  programme (HiGHS; :mod:`tfapprox.theory.numerics.lp`, which raises ``LPError`` when the solver
  reports no optimum).  The searches below use its candidate form
  :func:`~tfapprox.theory.numerics.lp.lp_l1_fit_or_trivial` (a failed solve gives a candidate whose
  exact error is computed like any other's).
* :func:`best_found` -- exponents optimised on top (Nelder-Mead in a two-parameter geometric
  family, seeded, several starts, one start being given exponents such as the paper's
  construction's, so best-found never exceeds it).  The result is **an upper bound on the
  optimum, not the optimum**.
* :func:`kernel_l1_error` -- the exact l1 error of an explicit exponential / power sum
  against ``rho`` on finite lags (math.fsum) plus closed-form tails.

Examples
--------
>>> import numpy as np
>>> s = np.arange(1, 200)
>>> fit = lp_l1_fit(s ** -1.5, [s ** -1.5, s ** -2.0])
>>> print(f"{fit.objective:.1e}")
0.0e+00
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.optimize

from tfapprox.theory.families import LIN, LOG, kernel_family
from tfapprox.theory.memory_kernels import MemoryKernel
from tfapprox.theory.numerics.double_double import DD_UNIT, EPS, dd_add, f64_clenshaw_bound
from tfapprox.theory.numerics.enclosure import EssentialEnclosure, ExpSumEnclosure
from tfapprox.theory.numerics.euler_maclaurin import check_beta, hurwitz_tail
from tfapprox.theory.numerics.lp import LPError, LPFit, lp_l1_fit, lp_l1_fit_or_trivial
from tfapprox.theory.numerics.rounding import outward
from tfapprox.theory.validation import require_int, require_real, short_repr

from .kernel_error import delta_kernel_l1_error, kernel_error_dd, log_enclosure, prepare_coefficients

__all__ = ["EssentialEnclosure", "essential_l1_error", "LPFit", "LPError", "lp_l1_fit", "basis_matrix",
           "kernel_l1_error", "BestFound", "best_found", "finite_errors", "hurwitz_tail", "check_beta",
           "ExpSumEnclosure", "expsum_l1_error", "RNNFit", "rnn_rates", "rnn_best_found", "rnn_refine"]

def essential_l1_error(approx: Any, *, direct_terms: int | None = None) -> EssentialEnclosure:
    """Rigorous enclosure of the l1 error of an :class:`~tfapprox.constructions.lemma_f3_f6.EssentialKernel`.

    ``rho(t)`` is taken from ``kernel.values`` in float64 (relative error ``<= 4 eps`` allowed per
    lag); everything else is certified as in :func:`tfapprox.verify.kernel_error.delta_kernel_l1_error`.

    log-RPE (Lemma F.6): see :func:`_log_essential_l1_error` (direct sum up to
    ``S = max(2^15, last_bump + 2)``, exact weighted integral of the tail).
    """
    family = kernel_family(approx.rpe)
    if family not in _ESSENTIAL:
        raise ValueError(f"no essential-kernel enclosure is implemented for the kernel family {family.name!r}")
    return _ESSENTIAL[family](approx, direct_terms)


def _lin_essential_l1_error(approx: Any, direct_terms: int | None) -> EssentialEnclosure:
    """Lemma F.3 kernels: the carrier's enclosure, ``rho`` summed directly and bounded beyond ``S``."""
    kernel: MemoryKernel = approx.kernel
    carrier = approx.carrier()
    enc = delta_kernel_l1_error(carrier, direct_terms=direct_terms)
    S = max(enc.direct_terms, approx.last_bump + 2)
    if S > enc.direct_terms:
        enc = delta_kernel_l1_error(carrier, direct_terms=S)
        S = enc.direct_terms
    direct, rounding = _direct_part(approx, carrier, 0, S)
    rho_tail = float(kernel.abs_tail_bound(S)) * (1 + 1e-12)
    t_lo = max(enc.tail_lower - rho_tail, 0.0)
    t_hi = enc.tail_upper + rho_tail
    lo, hi = outward(direct - rounding + t_lo, direct + rounding + t_hi, floor=0.0)
    return EssentialEnclosure(max(lo, 0.0), hi, S, direct, t_lo, t_hi)


def _direct_part(approx: Any, carrier: Any, start: int, S: int) -> tuple[float, float]:
    """``sum_{start <= t < S} |rho(t) - P(t)|`` (double-double terms, fsum) and its rounding bound."""
    lags = np.arange(start, S, dtype=np.int64)
    cdd, _c1, d2c = prepare_coefficients(carrier)
    ph, pl, pb = kernel_error_dd(carrier, lags, cdd, d2c)
    one = (lags == 1).astype(float)  # the carrier subtracts 1{s = 1}: add it back
    ph, pl = dd_add(ph, pl, one, np.zeros_like(one))
    pb = pb + DD_UNIT * (np.abs(ph) + 1.0) * one
    rho = np.asarray(approx.kernel.values(lags), dtype=float)
    eh, el = dd_add(ph, pl, -rho, np.zeros_like(rho))
    err = np.abs(eh + el)
    rounding = float(np.sum(pb)) + float(np.sum(np.abs(rho))) * 4 * EPS + float(np.sum(err)) * 4 * EPS
    return math.fsum(err.tolist()), rounding


#: log-RPE: lags ``1..S-1`` are summed in double-double, ``S = max(2^13, last_bump + 2)``; on
#: ``S <= t < S2 = max(2^16, 8 S)`` the effect of ``rho`` on the tail is enclosed lag by lag
#: (:func:`_rho_correction`), beyond ``S2`` by ``sum_{t >= S2} |rho(t)|`` (``1/(2 S2^2)`` for ``t^-3``).
LOG_DIRECT_TERMS = 1 << 13
LOG_RHO_TERMS = 1 << 16


def _rho_correction(approx: Any, S: int, S2: int) -> tuple[float, float]:
    """Enclosure of ``sum_{S <= t < S2} (|P(t) - rho(t)| - |P(t)|)`` (log-RPE).

    ``h(p) = |p - r| - |p|`` is nonincreasing in ``p`` for ``r >= 0`` (and nondecreasing for
    ``r < 0``), so an enclosure ``p_lo <= P(t) <= p_hi`` gives ``h(t)`` between ``h(p_hi)`` and
    ``h(p_lo)``, and ``h`` is 1-Lipschitz in ``r``.  ``P(t)`` is evaluated in float64
    (``u = exp(-alpha log t)``, Clenshaw) with the a-priori bound
    ``w (clenshaw_bound + |dx| sum_j j^2 |c_j|) + 64 eps |P|``, where ``|dx| <= 64 eps`` covers the libm ``log``/``exp`` (accurate to a few ulps) and the
    arithmetic; ``rho(t)`` from ``kernel.values`` is given ``8 eps`` relative slack.
    """
    c = np.asarray(approx.chebyshev_coefficients, dtype=float)
    d2c = float(np.sum(np.arange(len(c)) ** 2 * np.abs(c)))
    a, g = float(approx.alpha), float(approx.gamma)
    lo_sum, hi_sum = [], []
    for a0 in range(S, S2, 1 << 14):
        t = np.arange(a0, min(a0 + (1 << 14), S2), dtype=np.int64)
        lt = np.log(t.astype(float))
        x = 1 + 2 * np.expm1(-a * lt)
        w = np.exp(-(1 + g) * lt)
        q, qb = f64_clenshaw_bound(c, x)
        p = w * q
        pb = w * (qb + 64 * EPS * d2c) * (1 + 64 * EPS) + 64 * EPS * np.abs(p)
        r = np.asarray(approx.kernel.values(t), dtype=float)
        rb = 8 * EPS * np.abs(r)
        # h(p, r) = |p - r| - |p| is monotone in p (for fixed r) and 1-Lipschitz in r: over the box
        # [p - pb, p + pb] x [r - rb, r + rb] it lies within rb of the range of h(., r) at p +- pb
        h1 = np.abs(p - pb - r) - np.abs(p - pb)
        h2 = np.abs(p + pb - r) - np.abs(p + pb)
        lo_sum.append(math.fsum((np.minimum(h1, h2) - rb).tolist()))
        hi_sum.append(math.fsum((np.maximum(h1, h2) + rb).tolist()))
    lo, hi = math.fsum(lo_sum), math.fsum(hi_sum)
    slack = 4 * EPS * (abs(lo) + abs(hi)) + (S2 - S) * 1e-300
    return lo - slack, hi + slack


def _log_essential_l1_error(approx: Any, direct_terms: int | None) -> EssentialEnclosure:
    """Lemma F.6 kernels: ``sum_{t >= 1} |rho(t) - P(t)|``, ``P(t) = t^{-(1+gamma)} Q(t^{-alpha})``.

    * ``1 <= t < S``: double-double terms (per-lag rounding bounds), ``S = max(2^13, last_bump + 2)``.
    * ``t >= S``: ``sum |P(t)|`` is enclosed by
      :func:`tfapprox.verify.kernel_error.log_enclosure` with ``exact_weight=True``: the integral
      ``(1/alpha) int_0^U u^{c-1} |Q(u)| du`` (``c = gamma/alpha = 0.01 beta``, *not* an integer:
      an integrable singularity at ``u = 0``) is computed exactly piecewise between the roots of
      ``Q`` through ``int_0^b u^{c-1} Q = b^c G(b)``, ``c G + u G' = Q`` (a polynomial solved in the
      Chebyshev basis with an exact residual bound), plus the third-order Euler-Maclaurin
      correction of that module (kinks at the roots, remainder bounded by total variations).
    * ``rho`` on ``t >= S``: ``sum (|P - rho| - |P|)`` is enclosed lag by lag up to ``S2``
      (:func:`_rho_correction`), and by ``+-sum_{t >= S2} |rho(t)|`` beyond (declared decay).

    The roots of ``Q`` in ``(0, U)`` are isolated with certificates (Taylor models per block,
    :mod:`tfapprox.theory.numerics.taylor_roots`); an interval the certifier cannot decide widens the
    enclosure by a rigorous amount instead of being assumed root-free.
    """
    carrier = approx.carrier()
    S = direct_terms if direct_terms is not None else max(LOG_DIRECT_TERMS, approx.last_bump + 2)
    S = require_int("direct_terms", S, minimum=2)
    S2 = max(LOG_RHO_TERMS, 8 * S)
    direct, rounding = _direct_part(approx, carrier, 1, S)
    enc = log_enclosure(carrier, S, exact_weight=True, tail_only=True)
    if enc.direct_terms != S:
        raise AssertionError(f"tail split {enc.direct_terms} != {S}")
    h_lo, h_hi = _rho_correction(approx, S, S2)
    rho_tail = float(approx.kernel.abs_tail_bound(S2)) * (1 + 1e-12)
    t_lo = max(enc.tail_lower + h_lo - rho_tail, 0.0)
    t_hi = enc.tail_upper + h_hi + rho_tail
    lo, hi = outward(direct - rounding + t_lo, direct + rounding + t_hi, floor=0.0)
    return EssentialEnclosure(max(lo, 0.0), hi, S, direct, t_lo, t_hi)


#: The enclosure of each kernel family (Lemma F.3: lin, Lemma F.6: log).
_ESSENTIAL = {LIN: _lin_essential_l1_error, LOG: _log_essential_l1_error}


# ---------------------------------------------------------------------------------------
# LP machinery
# ---------------------------------------------------------------------------------------

def basis_matrix(rpe: Any, exponents: Sequence[float], lags: np.ndarray) -> list[np.ndarray]:
    """``exp(-p x(s))``: ``e^{-p s}`` (lin) or ``s^{-p}`` (log), one column per exponent, with value 0
    at lags below the family's first lag (``s = 0`` for log)."""
    family = kernel_family(rpe)
    s = np.asarray(lags, dtype=float)
    seen = s >= family.first_lag
    x = family.coordinate_np(np.where(seen, s, float(family.first_lag)))
    if np.all(seen):
        return [np.exp(-p * x) for p in exponents]
    return [np.where(seen, np.exp(-p * x), 0.0) for p in exponents]


def kernel_l1_error(rho: np.ndarray, rpe: Any, exponents: Sequence[float], coefficients: Sequence[float],
                    lags: np.ndarray, *, rho_tail: float = 0.0, tail_start: int | None = None) -> tuple[float, float]:
    """``(lower, upper)`` of ``sum_s |rho(s) - sum_h c_h b_h(s)|`` over ``lags`` plus, if ``tail_start``
    is given, the lags ``s >= tail_start`` (``rho_tail`` = ``sum_{s >= tail_start} |rho(s)|``).

    Terms in float64 summed with ``math.fsum``; the rounding allowance is
    ``8 eps sum_s (|rho(s)| + sum_h |c_h| b_h(s))`` (an a-priori float64 bound).
    """
    B = np.column_stack(basis_matrix(rpe, exponents, lags)) if len(exponents) else np.zeros((len(lags), 0))
    c = np.asarray(coefficients, dtype=float)
    k = B @ c if len(c) else np.zeros(len(lags))
    err = math.fsum(np.abs(rho - k).tolist())
    allowance = 8 * EPS * (float(np.sum(np.abs(rho))) + float(np.sum(np.abs(B) @ np.abs(c))) if len(c) else 0.0) \
        + 8 * EPS * float(np.sum(np.abs(rho)))
    lo, hi = err - allowance, err + allowance
    if tail_start is not None:
        family = kernel_family(rpe)
        ktail = 0.0
        for p, ch in zip(exponents, c):
            ktail += abs(ch) * family.tail_f64(p, tail_start)
        lo += max(rho_tail - ktail, 0.0)
        hi += rho_tail + ktail
    return max(lo, 0.0), hi


@dataclass(frozen=True)
class BestFound:
    """The best approximation found: exponents, LP coefficients and its exact l1 error (upper end)."""

    rpe: str
    exponents: tuple[float, ...]
    coefficients: tuple[float, ...]
    error: float
    error_lower: float
    starts: int
    evaluations: int


def _geometric(params: np.ndarray, H: int) -> np.ndarray:
    p0, logr = float(params[0]), float(params[1])
    return np.exp(p0) * np.exp(np.exp(logr) * np.arange(H) / max(H - 1, 1)) if H > 1 else np.array([np.exp(p0)])


def best_found(rpe: Any, rho: np.ndarray, lags: np.ndarray, num_terms: int, *, weights: Any = None,
               given: Sequence[Sequence[float]] = (), seed: int = 0, starts: int = 3, max_evals: int = 40,
               min_exponent: float = 0.0, error_fn: Any = None) -> BestFound:
    """Search ``H``-term exponent sets; LP-optimal coefficients for each (HiGHS).

    Exponents: ``given`` sets (e.g. the paper's construction, evaluated as they are) and a
    geometric family ``p_h = e^{a} e^{e^{b} h/(H-1)}`` optimised over ``(a, b)`` by Nelder-Mead
    from ``starts`` seeded starting points.  Exponents at or below ``min_exponent`` are lifted
    above it.  ``error_fn(exponents, coefficients) -> (lower, upper)`` computes the exact error
    of a candidate (default: :func:`kernel_l1_error` on ``lags``); the best upper end wins.
    Returns an upper bound on the optimal ``H``-term error, not the optimum.
    """
    family = kernel_family(rpe)
    H = require_int("num_terms", num_terms, minimum=1)
    rng = np.random.default_rng(require_int("seed", seed, minimum=0))
    evals = 0
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    if error_fn is None:
        def error_fn(p: np.ndarray, c: np.ndarray) -> tuple[float, float]:
            return kernel_l1_error(rho, family, p, c, lags)

    def consider(p: np.ndarray) -> float:
        nonlocal evals, best
        p = np.maximum(np.asarray(p, dtype=float), min_exponent + 1e-9)
        evals += 1
        fit = lp_l1_fit_or_trivial(rho, basis_matrix(family, p, lags), weights)
        lo, hi = error_fn(p, fit.coefficients)
        if best is None or hi < best[1]:
            best = (lo, hi, p.copy(), fit.coefficients.copy())
        return fit.objective

    for p in given:
        consider(np.asarray(p, dtype=float))
    base = max(min_exponent, 0.0)
    inits = [np.array([math.log(base + 1e-3), math.log(math.log((base + 10.0) / (base + 1e-3)))]),
             np.array([math.log(base + 0.5), math.log(2.0)])]
    for _ in range(max(starts - 2, 0)):
        inits.append(np.array([rng.uniform(-3, 2), rng.uniform(-1, 2.5)]))
    for x0 in inits[:max(starts, 2)]:
        scipy.optimize.minimize(lambda q: consider(_geometric(q, H)), x0, method="Nelder-Mead",
                                options={"maxfev": max_evals, "xatol": 1e-3, "fatol": 1e-14})
    assert best is not None
    lo, hi, p, c = best
    return BestFound(family.name, tuple(float(v) for v in p), tuple(float(v) for v in c), hi, lo, starts, evals)


def finite_errors(rho: np.ndarray, kernel_values: np.ndarray) -> tuple[float, float]:
    """``(worst case, mean square)`` of ``y = sum_s (rho_s - k_s) x_s`` over ``x in {+1,-1}^S``:
    the worst case is ``sum_s |rho_s - k_s|`` (attained by ``x_s = sign``), the mean square over
    uniform independent signs is ``sum_s (rho_s - k_s)^2`` (exact; no sampling)."""
    e = np.asarray(rho, dtype=float) - np.asarray(kernel_values, dtype=float)
    return math.fsum(np.abs(e).tolist()), math.fsum((e * e).tolist())


# ---------------------------------------------------------------------------------------
# Curse of memory: exponential sums (diagonal linear RNNs) against s^-beta on all lags
# ---------------------------------------------------------------------------------------

def _expsum_terms(logs: np.ndarray, c: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(K(s), sum_k |c_k| lambda_k^s, rounding bound)`` for float lags ``s`` (vectorised).

    ``lambda^s = exp(s log lambda)``: the product ``s log lambda`` carries relative error
    ``<= 2 eps`` (log to 1 ulp, product to 1/2 ulp), so each term has relative error
    ``<= eps (4 + 2 |s log lambda|)``; the sum adds ``N eps sum |terms|``.
    """
    with np.errstate(under="ignore"):
        x = np.outer(s, logs)
        P = np.exp(x)
        T = P * c
        absT = np.abs(T)
        K = T.sum(axis=1)
        A = absT.sum(axis=1)
        rb = EPS * ((4 + len(c)) * A + 2 * (absT * np.abs(x)).sum(axis=1))
    return K, A, rb


def expsum_l1_error(decays: Sequence[float], coefficients: Sequence[float], beta: Any, *,
                    direct_terms: int = 4096, leaf: int = 256, end: int = 1 << 62,
                    max_intervals: int = 200_000) -> ExpSumEnclosure:
    """Rigorous enclosure of the exact l1 error of the kernel ``K(s) = sum_k c_k lambda_k^s`` (the
    float64 ``lambda_k``, ``c_k`` taken as exact numbers) against ``rho(s) = s^-beta``, ``rho(0) = 0``,
    over **all** lags ``s >= 0`` (Sec. 5, curse of memory).

    * ``s < direct_terms`` and leaves of ``<= leaf`` lags: direct float64 sum with a per-lag
      rounding bound (:func:`_expsum_terms`, ``4 eps rho(s)`` for ``s^-beta``).
    * ``direct_terms <= s < end``: intervals ``[A, B)``, halved until the sign of ``e = rho - K`` is
      certified on them.  Each ``c_k lambda_k^s`` is monotone, so on ``[A, B)``
      ``rho(B-1) - sum_k max(c_k lambda_k^A, c_k lambda_k^{B-1}) <= e(s) <= rho(A) - sum_k min(...)``;
      with a fixed sign, ``sum |e| = |sum e|`` in closed form: Hurwitz zeta differences
      (:func:`hurwitz_tail`) minus geometric sums ``c_k lambda^A (1 - lambda^{B-A}) / (1 - lambda)``.
      Intervals still unresolved after ``max_intervals`` get ``[|sum e|, (B-A) max|e|]``.
    * ``s >= end``: ``[|zeta(beta, end) - sum_k c_k lambda_k^end/(1-lambda_k)|,
      zeta(beta, end) + sum_k |c_k| lambda_k^end/(1-lambda_k)]``.

    Examples
    --------
    >>> e = expsum_l1_error([0.5], [0.0], 1.5)    # K = 0: the error is zeta(1.5)
    >>> e.lower <= 2.6123753486854883 <= e.upper and e.upper - e.lower < 1e-9
    True
    """
    beta = check_beta(beta)
    lam = np.asarray(decays, dtype=float).ravel()
    c = np.asarray(coefficients, dtype=float).ravel()
    if lam.size < 1 or lam.size != c.size:
        raise ValueError(f"decays and coefficients need the same length >= 1, got {lam.size} and {c.size}")
    if not np.all((lam > 0) & (lam < 1)):
        raise ValueError(f"decays must lie in (0, 1), got {short_repr(lam.tolist())}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"coefficients must be finite, got {short_repr(c.tolist())}")
    S0 = require_int("direct_terms", direct_terms, minimum=64)
    leaf = require_int("leaf", leaf, minimum=1)
    end = require_int("end", end, minimum=4 * S0)
    logs = np.log(lam)  # < 0, to 1 ulp
    om = -np.expm1(logs)  # 1 - lambda, relative error <= 2 eps
    lo_parts: list[float] = []
    hi_parts: list[float] = []
    slack = 0.0

    def direct(s: np.ndarray) -> None:
        nonlocal slack
        for i in range(0, len(s), 1 << 16):
            ss = s[i:i + (1 << 16)].astype(float)
            K, _A, rb = _expsum_terms(logs, c, ss)
            with np.errstate(divide="ignore"):
                rho = np.where(ss > 0, np.power(np.maximum(ss, 1.0), -beta), 0.0)
            e = np.abs(rho - K)
            val = math.fsum(e.tolist())
            lo_parts.append(val)
            hi_parts.append(val)
            slack += float(np.sum(rb + 4 * EPS * rho + EPS * e)) + len(ss) * 1e-300

    direct(np.arange(0, S0, dtype=np.int64))
    leaf_lags = S0
    # initial partition: 8 intervals per octave
    edges = np.unique(np.round(np.exp2(np.arange(math.log2(S0) * 8, math.log2(end) * 8 + 1) / 8)).astype(np.int64))
    edges[0], edges[-1] = S0, end
    edges = np.unique(edges)
    A, B = edges[:-1], edges[1:]
    signed = unresolved = 0
    zeta_cache: dict[int, tuple[float, float]] = {}
    while len(A):
        a, bm1 = A.astype(float), (B - 1).astype(float)
        with np.errstate(under="ignore"):
            PA = np.exp(np.outer(a, logs)) * c
            PB = np.exp(np.outer(bm1, logs)) * c
        rA, rB = np.power(a, -beta), np.power(bm1, -beta)
        low = rB - np.maximum(PA, PB).sum(axis=1)
        high = rA - np.minimum(PA, PB).sum(axis=1)
        tol = 8 * EPS * (rA + (np.abs(PA) * (len(c) + 4 + 2 * np.abs(np.outer(a, logs)))).sum(axis=1)
                          + (np.abs(PB) * (len(c) + 4 + 2 * np.abs(np.outer(bm1, logs)))).sum(axis=1))
        sign = np.where(low > tol, 1, np.where(high < -tol, -1, 0))
        done = sign != 0
        if np.any(done):
            Ad, Bd = A[done], B[done]
            keys = np.unique(np.concatenate([Ad, Bd]))
            new = [k for k in keys.tolist() if k not in zeta_cache]
            if new:
                zv, zb = hurwitz_tail(beta, np.array(new, dtype=float))
                zeta_cache.update({k: (float(v), float(b)) for k, v, b in zip(new, zv, zb)})
            zA = np.array([zeta_cache[k] for k in Ad.tolist()])
            zB = np.array([zeta_cache[k] for k in Bd.tolist()])
            rho_sum = zA[:, 0] - zB[:, 0]
            rho_err = zA[:, 1] + zB[:, 1] + 2 * EPS * (zA[:, 0] + zB[:, 0])
            L = (Bd - Ad).astype(float)
            with np.errstate(under="ignore"):
                xa = np.outer(Ad.astype(float), logs)
                xl = np.outer(L, logs)
                T = c * np.exp(xa) * (-np.expm1(xl)) / om
                k_err = EPS * (np.abs(T) * (len(c) + 8 + 2 * np.abs(xa) + 2 * np.abs(xl))).sum(axis=1)
            e_sum = np.abs(rho_sum - T.sum(axis=1))
            val = math.fsum(e_sum.tolist())
            lo_parts.append(val)
            hi_parts.append(val)
            slack += float(np.sum(rho_err + k_err + 2 * EPS * e_sum))
            signed += int(done.sum())
        A, B, low, high = A[~done], B[~done], low[~done], high[~done]
        small = (B - A) <= leaf
        if np.any(small):
            s = np.concatenate([np.arange(x, y, dtype=np.int64) for x, y in zip(A[small], B[small])])
            direct(s)
            leaf_lags += len(s)
        A, B, low, high = A[~small], B[~small], low[~small], high[~small]
        if len(A) == 0:
            break
        if signed + 2 * len(A) > max_intervals:  # give up refining: crude rigorous bound
            unresolved = len(A)
            hi_parts.append(float(np.sum((B - A) * np.maximum(np.abs(low), np.abs(high)))) * (1 + 1e-12))
            break
        M = (A + B) // 2
        A, B = np.concatenate([A, M]), np.concatenate([M, B])
    # tail s >= end
    zE, zEb = hurwitz_tail(beta, [end])
    with np.errstate(under="ignore"):
        geo = np.exp(end * logs) / om
    tk = float(np.sum(c * geo))
    tabs = float(np.sum(np.abs(c) * geo)) * (1 + 1e-12) + 1e-300
    t_lo = max(abs(float(zE[0]) - tk) - float(zEb[0]) - 8 * EPS * tabs * (len(c) + 4 + 2 * float(np.max(np.abs(end * logs)))), 0.0)
    t_hi = float(zE[0]) + float(zEb[0]) + tabs * (1 + 8 * EPS * (len(c) + 4 + 2 * float(np.max(np.abs(end * logs)))))
    slack *= 1 + 1e-10
    lo = math.fsum(lo_parts) - slack + t_lo
    hi = math.fsum(hi_parts) + slack + t_hi
    lo, hi = outward(max(lo, 0.0), hi, floor=0.0)
    return ExpSumEnclosure(max(lo, 0.0), hi, S0, leaf_lags - S0, signed, unresolved, end, t_lo, t_hi)


def rnn_rates(params: Sequence[float], units: int) -> np.ndarray:
    """Log-rates of the searched family: ``log10 p_k = lo + (hi - lo) u + w1 u(1-u) + w2 u(1-u)(u - 1/2)``,
    ``u = k/(N-1)`` (geometric in log-rate when ``w1 = w2 = 0``), capped at ``p <= 10^1.5``;
    returns ``p_k`` (``lambda_k = e^{-p_k}``)."""
    lo, hi, w1, w2 = (float(v) for v in params)
    u = np.linspace(0.0, 1.0, units) if units > 1 else np.zeros(1)
    x = lo + (hi - lo) * u + w1 * u * (1 - u) + w2 * u * (1 - u) * (u - 0.5)
    return np.power(10.0, np.clip(x, -15.0, 1.5))


@dataclass(frozen=True)
class RNNFit:
    """Best-found ``N``-unit diagonal linear RNN kernel for ``s^-beta``: decays, LP coefficients, the
    family parameters, the LP objective on the fitting grid, and the rigorous enclosure of its exact
    l1 error over all lags (:func:`expsum_l1_error`).  Best found: an upper bound on the optimum."""

    beta: float
    units: int
    decays: tuple[float, ...]
    coefficients: tuple[float, ...]
    params: tuple[float, ...]
    lp_objective: float
    enclosure: ExpSumEnclosure
    evaluations: int

    @property
    def error(self) -> float:
        """The certified upper end of the fit's l1 error."""
        return self.enclosure.upper


def _rnn_grid(beta: float, fit_end: float, per_efold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    small = np.arange(0, 32, dtype=float)
    n = max(int(per_efold * math.log(fit_end / 32)), 2)
    edges = np.unique(np.round(np.geomspace(32, fit_end, n)))
    left, right = edges[:-1], edges[1:]
    pts = np.concatenate([small, np.sqrt(left * (right - 1))])
    w = np.concatenate([np.ones(32), right - left])  # each sample stands for the lags of its cell
    with np.errstate(divide="ignore"):
        rho = np.where(pts > 0, np.power(np.maximum(pts, 1.0), -beta), 0.0)
    return pts, w, rho


def rnn_best_found(beta: Any, units: int, *, seed: int = 0, starts: int = 2, max_evals: int = 60,
                   warm: Sequence[Sequence[float]] = (), fit_end: float = 1e9, per_efold: int = 8) -> RNNFit:
    """Search ``units``-term exponential sums ``K(s) = sum_k c_k lambda_k^s`` for ``rho(s) = s^-beta``.

    Exponents from the 4-parameter family :func:`rnn_rates` (Nelder-Mead from ``warm`` starts,
    a default start and seeded random starts, ``starts`` in all); for each candidate the
    coefficients are l1-optimal by LP (HiGHS, :func:`lp_l1_fit`) on lags ``0..31`` plus a
    log-spaced grid up to ``fit_end`` weighted by the lags each sample stands for.  The best
    candidate's exact l1 error over all lags is then enclosed rigorously (:func:`expsum_l1_error`).
    """
    beta = check_beta(beta)
    N = require_int("units", units, minimum=1)
    starts = require_int("starts", starts, minimum=1)
    max_evals = require_int("max_evals", max_evals, minimum=1)
    rng = np.random.default_rng(require_int("seed", seed, minimum=0))
    fit_end = float(require_real("fit_end", fit_end, minimum=1e3))
    pts, w, rho = _rnn_grid(beta, fit_end, require_int("per_efold", per_efold, minimum=1))
    evals = 0
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None

    def objective(q: np.ndarray) -> float:
        nonlocal evals, best
        evals += 1
        lam = np.exp(-rnn_rates(q, N))
        if not np.all((lam > 0) & (lam < 1)):
            return math.inf
        B = np.exp(np.outer(pts, np.log(lam)))
        fit = lp_l1_fit_or_trivial(rho, list(B.T), w)
        if not fit.status.startswith("Optimization terminated successfully") and not np.all(np.isfinite(fit.coefficients)):
            return math.inf
        if best is None or fit.objective < best[0]:
            best = (fit.objective, np.array(q, dtype=float), lam, fit.coefficients.copy())
        return fit.objective

    inits = [np.asarray(q, dtype=float) for q in warm]
    if not inits:
        inits.append(np.array([-1.0 - 0.28 * N, 0.5, 0.5, 0.0]))
    while len(inits) < starts:
        inits.append(np.array([rng.uniform(-1.5, -0.5) - 0.28 * N, rng.uniform(0, 1.2), rng.uniform(0, 1.5), 0.0]))
    for x0 in inits[:max(starts, 1)]:
        simplex = x0[None, :] + np.vstack([np.zeros(4), np.diag([0.4, 0.3, 0.5, 0.5])])
        scipy.optimize.minimize(objective, x0, method="Nelder-Mead",
                                options={"maxfev": max_evals, "initial_simplex": simplex, "xatol": 1e-3,
                                         "fatol": 1e-14})
    if best is None:
        raise RuntimeError(f"the LP failed for every candidate with units={N}")
    obj, q, lam, c = best
    enc = expsum_l1_error(lam, c, beta)
    # polish: the same exponents, coefficients refitted on a 3x finer grid reaching 100x further
    fp, fw, frho = _rnn_grid(beta, fit_end * 100, 3 * per_efold)
    fine = lp_l1_fit_or_trivial(frho, list(np.exp(np.outer(fp, np.log(lam))).T), fw)
    if np.all(np.isfinite(fine.coefficients)):
        enc2 = expsum_l1_error(lam, fine.coefficients, beta)
        if enc2.upper < enc.upper:
            enc, c = enc2, fine.coefficients
    return RNNFit(beta, N, tuple(float(v) for v in lam), tuple(float(v) for v in c), tuple(float(v) for v in q),
                  obj, enc, evals)


def rnn_refine(fit: RNNFit, *, max_evals: int = 600, rounds: int = 1, fit_end: float = 1e12,
               per_efold: int = 24) -> RNNFit:
    """Refine an :class:`RNNFit` beyond its 4-parameter family: all ``N`` log-rates free (Nelder-Mead,
    adaptive, ``rounds`` restarts of ``max_evals`` LP evaluations each), coefficients l1-optimal by LP on a
    fine grid (``per_efold`` samples per e-fold up to ``fit_end``: at 24 the LP objective is within about
    0.3 % of the exact error, at 8 within about 6 %).  The refined kernel's exact error is enclosed
    rigorously (:func:`expsum_l1_error`); the better of it and ``fit`` is returned (a search result: an
    upper bound on the optimum).
    """
    if not isinstance(fit, RNNFit):
        raise TypeError(f"fit must be an RNNFit, got {type(fit).__name__}")
    max_evals = require_int("max_evals", max_evals, minimum=1)
    rounds = require_int("rounds", rounds, minimum=1)
    pts, w, rho = _rnn_grid(fit.beta, float(require_real("fit_end", fit_end, minimum=1e3)),
                            require_int("per_efold", per_efold, minimum=1))
    cap = math.log(10 ** 1.5)
    evals = 0

    def objective(x: np.ndarray) -> float:
        nonlocal evals
        evals += 1
        if np.any(x > cap):
            return math.inf
        B = np.exp(-np.outer(pts, np.exp(x)))
        return lp_l1_fit_or_trivial(rho, list(B.T), w).objective

    x = np.log(-np.log(np.asarray(fit.decays, dtype=float)))
    for _ in range(rounds):
        res = scipy.optimize.minimize(objective, x, method="Nelder-Mead",
                                      options={"maxfev": max_evals, "xatol": 1e-5, "fatol": 1e-13,
                                               "adaptive": True})
        x = np.asarray(res.x, dtype=float)
    p = np.exp(np.minimum(x, cap))
    lam = np.exp(-p)
    if not np.all((lam > 0) & (lam < 1)):
        return fit
    lp = lp_l1_fit_or_trivial(rho, list(np.exp(-np.outer(pts, p)).T), w)
    if not np.all(np.isfinite(lp.coefficients)):
        return fit
    enc = expsum_l1_error(lam, lp.coefficients, fit.beta)
    if enc.upper >= fit.enclosure.upper:
        return fit
    return RNNFit(fit.beta, fit.units, tuple(float(v) for v in lam), tuple(float(v) for v in lp.coefficients),
                  fit.params, lp.objective, enc, fit.evaluations + evals)
