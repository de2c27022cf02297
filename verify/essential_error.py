"""Exact l1 errors of general memory-kernel approximations, and best-found approximations by LP.

For DP-free heads the attention error is linear in the input, so its worst case over
``||x_t|| <= 1`` is the l1 norm of the kernel error (design.md section 3).  This module
computes it:

* :func:`essential_l1_error` -- a rigorous enclosure of ``||rho - P||_{l1}`` for the Lemma
  F.3/F.6 kernels: a double-double direct sum over ``t < S`` (per-lag rounding bounds from
  :mod:`tfapprox.verify.kernel_error`), and for ``t >= S`` the enclosure of ``sum |P(t)|``
  of that module (geometric bound for lin; integral plus Euler-Maclaurin for log, where
  ``t^{-1-gamma}`` with tiny ``gamma`` decays far too slowly to sum) combined with the
  closed-form tail of ``|rho|`` (geometric series / Hurwitz zeta from the declared decay):
  ``sum_{t>=S} |rho - P|`` lies in ``[sum|P| - sum|rho|, sum|P| + sum|rho|]``.
* :func:`lp_l1_fit` -- for fixed exponents the l1-optimal coefficients are a linear
  programme (``scipy.optimize.linprog``, HiGHS).
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

import mpmath
import numpy as np
import scipy.optimize

from tfapprox.theory.memory_kernels import MemoryKernel
from tfapprox.theory.validation import require_choice, require_int

from .kernel_error import _EPS, _dd_add, _kernel_dd, _outward, _prepare, delta_kernel_l1_error

__all__ = ["EssentialEnclosure", "essential_l1_error", "LPFit", "lp_l1_fit", "basis_matrix", "kernel_l1_error",
           "BestFound", "best_found", "finite_errors"]


@dataclass(frozen=True)
class EssentialEnclosure:
    """``lower <= ||rho - P||_{l1} <= upper`` (lin: lags ``t >= 0``; log: ``t >= 1``)."""

    lower: float
    upper: float
    direct_terms: int
    direct_sum: float
    tail_lower: float
    tail_upper: float

    @property
    def value(self) -> float:
        return 0.5 * (self.lower + self.upper)


def essential_l1_error(approx: Any, *, direct_terms: int | None = None) -> EssentialEnclosure:
    """Rigorous enclosure of the l1 error of an :class:`~tfapprox.constructions.lemma_f3_f6.EssentialKernel`.

    ``rho(t)`` is taken from ``kernel.values`` in float64 (relative error ``<= 4 eps`` allowed per
    lag); everything else is certified as in :func:`tfapprox.verify.kernel_error.delta_kernel_l1_error`.
    """
    kernel: MemoryKernel = approx.kernel
    carrier = approx.carrier()
    S0 = direct_terms
    if approx.rpe == "log" and S0 is None:
        S0 = max(1 << 13, approx.last_bump + 2)
    enc = delta_kernel_l1_error(carrier, direct_terms=S0)
    S = max(enc.direct_terms, approx.last_bump + 2)
    if S > enc.direct_terms:
        enc = delta_kernel_l1_error(carrier, direct_terms=S)
        S = enc.direct_terms
    start = 0 if approx.rpe == "lin" else 1
    lags = np.arange(start, S, dtype=np.int64)
    cdd, _c1, d2c = _prepare(carrier)
    ph, pl, pb = _kernel_dd(carrier, lags, cdd, d2c)
    one = (lags == 1).astype(float)  # the carrier subtracts 1{s = 1}: add it back
    ph, pl = _dd_add(ph, pl, one, np.zeros_like(one))
    pb = pb + 2.0 ** -100 * (np.abs(ph) + 1.0) * one
    rho = np.asarray(kernel.values(lags), dtype=float)
    eh, el = _dd_add(ph, pl, -rho, np.zeros_like(rho))
    err = np.abs(eh + el)
    rounding = float(np.sum(pb)) + float(np.sum(np.abs(rho))) * 4 * _EPS + float(np.sum(err)) * 4 * _EPS
    direct = math.fsum(err.tolist())
    rho_tail = float(kernel.abs_tail_bound(S)) * (1 + 1e-12)
    t_lo = max(enc.tail_lower - rho_tail, 0.0)
    t_hi = enc.tail_upper + rho_tail
    lo, hi = _outward(direct - rounding + t_lo, direct + rounding + t_hi)
    return EssentialEnclosure(max(lo, 0.0), hi, S, direct, t_lo, t_hi)


# ---------------------------------------------------------------------------------------
# LP machinery
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LPFit:
    """l1-optimal coefficients for fixed basis functions (on the given lags, with weights)."""

    coefficients: np.ndarray
    objective: float
    status: str


def lp_l1_fit(target: Any, basis: Sequence[Any], weights: Any = None) -> LPFit:
    """``min_c sum_s w_s |target_s - sum_h c_h basis_h(s)|`` by linear programming (HiGHS).

    Variables ``(c, e)`` with ``e_s >= |target_s - (B c)_s|``; ``c`` is free.
    """
    r = np.asarray(target, dtype=float)
    B = np.column_stack([np.asarray(b, dtype=float) for b in basis])
    S, H = B.shape
    w = np.ones(S) if weights is None else np.asarray(weights, dtype=float)
    scale = np.maximum(np.max(np.abs(B), axis=0), 1e-300)
    Bs = B / scale
    import scipy.sparse as sp

    I = sp.identity(S, format="csr")
    A = sp.vstack([sp.hstack([sp.csr_matrix(Bs), -I]), sp.hstack([sp.csr_matrix(-Bs), -I])], format="csr")
    b = np.concatenate([r, -r])
    cost = np.concatenate([np.zeros(H), w])
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * H + [(0, None)] * S,
                                 method="highs")
    if res.x is None:
        return LPFit(np.zeros(H), float(np.sum(w * np.abs(r))), str(res.message))
    c = res.x[:H] / scale
    return LPFit(c, float(np.sum(w * np.abs(r - B @ c))), str(res.message))


def basis_matrix(rpe: str, exponents: Sequence[float], lags: np.ndarray) -> list[np.ndarray]:
    """``e^{-p s}`` (lin) or ``s^{-p}`` with value 0 at ``s = 0`` (log), one column per exponent."""
    rpe = require_choice("rpe", rpe, ("lin", "log"))
    s = np.asarray(lags, dtype=float)
    if rpe == "lin":
        return [np.exp(-p * s) for p in exponents]
    with np.errstate(divide="ignore"):
        ls = np.log(np.where(s > 0, s, 1.0))
    return [np.where(s > 0, np.exp(-p * ls), 0.0) for p in exponents]


def kernel_l1_error(rho: np.ndarray, rpe: str, exponents: Sequence[float], coefficients: Sequence[float],
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
    allowance = 8 * _EPS * (float(np.sum(np.abs(rho))) + float(np.sum(np.abs(B) @ np.abs(c))) if len(c) else 0.0) \
        + 8 * _EPS * float(np.sum(np.abs(rho)))
    lo, hi = err - allowance, err + allowance
    if tail_start is not None:
        ktail = 0.0
        for p, ch in zip(exponents, c):
            if rpe == "lin":
                ktail += abs(ch) * math.exp(-p * tail_start) / -math.expm1(-p)
            else:
                ktail += abs(ch) * (float(mpmath.zeta(p, tail_start)) if p > 1 else math.inf)
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


def best_found(rpe: str, rho: np.ndarray, lags: np.ndarray, num_terms: int, *, weights: Any = None,
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
    rpe = require_choice("rpe", rpe, ("lin", "log"))
    H = require_int("num_terms", num_terms, minimum=1)
    rng = np.random.default_rng(require_int("seed", seed, minimum=0))
    evals = 0
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    if error_fn is None:
        def error_fn(p: np.ndarray, c: np.ndarray) -> tuple[float, float]:
            return kernel_l1_error(rho, rpe, p, c, lags)

    def consider(p: np.ndarray) -> float:
        nonlocal evals, best
        p = np.maximum(np.asarray(p, dtype=float), min_exponent + 1e-9)
        evals += 1
        fit = lp_l1_fit(rho, basis_matrix(rpe, p, lags), weights)
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
    return BestFound(rpe, tuple(float(v) for v in p), tuple(float(v) for v in c), hi, lo, starts, evals)


def finite_errors(rho: np.ndarray, kernel_values: np.ndarray) -> tuple[float, float]:
    """``(worst case, mean square)`` of ``y = sum_s (rho_s - k_s) x_s`` over ``x in {+1,-1}^S``:
    the worst case is ``sum_s |rho_s - k_s|`` (attained by ``x_s = sign``), the mean square over
    uniform independent signs is ``sum_s (rho_s - k_s)^2`` (exact; no sampling)."""
    e = np.asarray(rho, dtype=float) - np.asarray(kernel_values, dtype=float)
    return math.fsum(np.abs(e).tolist()), math.fsum((e * e).tolist())
