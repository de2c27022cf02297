"""Closed-form attention tails over the infinite padded past (Differences from the paper, D17).

With a constant padding token every padded position has the same hidden state, so the
contribution of all lags ``s >= a`` of one head is that state times

    S(p, a) = sum_{s >= a} exp(p * phi(s)),

which is a geometric series for lin-RPE, ``e^{-p a} / (1 - e^{-p})``, a Hurwitz zeta
value for log-RPE, ``zeta(p, max(a, 1))``, and a finite piecewise sum for masked T5
and table RPEs.  float64 returns ``log S`` (for the max-shifted softmax); the mpmath and
sympy backends return ``S`` itself.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import scipy.special
import sympy

from tfapprox.theory.rpe import RPE, LinRPE, LogRPE, T5RPE, TableRPE

from .lowering import Backend

__all__ = ["log_tail_float64", "tail_object", "rpe_weights_object"]


def log_tail_float64(rpe: RPE, p: float, starts: np.ndarray) -> np.ndarray:
    """``log sum_{s >= a} exp(p phi(s))`` for each start ``a`` in ``starts`` (float64)."""
    a = np.asarray(starts, dtype=float)
    if isinstance(rpe, LinRPE):
        if not p > 0:
            return np.full(a.shape, math.inf)
        return -p * np.maximum(a, 0.0) - math.log(-math.expm1(-p))
    if isinstance(rpe, LogRPE):
        if not p > 1:
            return np.full(a.shape, math.inf)
        q = np.maximum(a, 1.0)
        with np.errstate(divide="ignore", under="ignore"):
            z = scipy.special.zeta(p, q)
            out = np.log(z)
        bad = ~np.isfinite(out) | (z <= 0)
        if np.any(bad):  # underflow: evaluate those few in mpmath
            with mpmath.workdps(30):
                out[bad] = [float(mpmath.log(mpmath.zeta(p, int(v)))) for v in q[bad]]
        return out
    if isinstance(rpe, (T5RPE, TableRPE)):
        limit = rpe.max_distance if isinstance(rpe, T5RPE) else len(rpe.values)
        if isinstance(rpe, T5RPE) and not rpe.mask_beyond:
            return np.full(a.shape, math.inf)
        lags = np.arange(limit)
        logw = p * rpe.phi(lags) if p != 0 else np.where(np.isfinite(rpe.phi(lags)), 0.0, -np.inf)
        # suffix log-sum-exp
        suffix = np.full(limit + 1, -np.inf)
        for i in range(limit - 1, -1, -1):
            suffix[i] = np.logaddexp(suffix[i + 1], logw[i])
        idx = np.clip(a.astype(int), 0, limit)
        return suffix[idx]
    raise TypeError(f"unknown RPE {rpe!r}")


def rpe_weights_object(rpe: RPE, p: Any, lags: np.ndarray, backend: Backend) -> np.ndarray:
    """``exp(p phi(s))`` elementwise at integer lags (mpmath or sympy), 0 where masked."""
    lags = np.asarray(lags)
    out = np.empty(lags.shape, dtype=object)
    flat = out.reshape(-1)
    for i, s in enumerate(lags.reshape(-1)):
        s = int(s)
        if s < 0:
            flat[i] = backend.zero
            continue
        if backend.name == "sympy":
            phi = rpe.phi_exact(s)
            flat[i] = sympy.Integer(0) if phi == -sympy.oo else (sympy.Integer(s) ** (-p) if isinstance(rpe, LogRPE)
                                                                   else sympy.exp(p * phi))
        else:
            if isinstance(rpe, LinRPE):
                flat[i] = mpmath.exp(-p * s)
            elif isinstance(rpe, LogRPE):
                flat[i] = mpmath.mpf(0) if s == 0 else mpmath.power(s, -p)
            else:
                phi = rpe.phi_exact(s)
                flat[i] = mpmath.mpf(0) if phi == -sympy.oo else mpmath.exp(p * backend.scalar(phi))
    return out


def tail_object(rpe: RPE, p: Any, start: int, backend: Backend) -> Any:
    """``sum_{s >= start} exp(p phi(s))`` in mpmath or sympy (exact closed forms)."""
    start = max(int(start), 0)
    if backend.name == "sympy":
        return rpe.tail_exact(p, start)
    if isinstance(rpe, LinRPE):
        return mpmath.exp(-p * start) / (1 - mpmath.exp(-p))
    if isinstance(rpe, LogRPE):
        return mpmath.zeta(p, max(start, 1))
    if isinstance(rpe, T5RPE) and not rpe.mask_beyond:
        raise ValueError("T5RPE without mask_beyond has no finite padded tail")
    limit = rpe.max_distance if isinstance(rpe, T5RPE) else len(rpe.values)
    lags = np.arange(start, limit)
    return mpmath.fsum(rpe_weights_object(rpe, p, lags, backend)) if lags.size else mpmath.mpf(0)
