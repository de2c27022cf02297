"""Attention tails over the infinite padded past (Differences from the paper, D17).

With a constant padding token every padded position has the same hidden state, so the
contribution of all lags ``s >= a`` of one head is that state times

    S(p, a) = sum_{s >= a} exp(p * phi(s)),

a geometric series for lin-RPE, ``e^{-p a} / (1 - e^{-p})``, a Hurwitz zeta value for
log-RPE, ``zeta(p, max(a, 1))``, a finite piecewise sum for masked T5 and table RPEs and a
finite sum with a certified remainder bound for the quadratic RPE.  Each RPE type owns its
formulas (:class:`tfapprox.theory.rpe.RPEType`); this module puts them behind the forward
pass's backends: float64 returns ``log S`` (for the max-shifted softmax); the mpmath and
sympy backends return ``S`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfapprox.theory.rpe import RPEType

from .lowering import Backend

__all__ = ["log_tail_float64", "tail_object", "rpe_weights_object"]


def _require_rpe(rpe: Any) -> RPEType:
    if not isinstance(rpe, RPEType):
        raise TypeError(f"rpe must be an RPEType (LinRPE, LogRPE, ...), got {rpe!r}")
    return rpe


def log_tail_float64(rpe: RPEType, p: float, starts: np.ndarray) -> np.ndarray:
    """``log sum_{s >= a} exp(p phi(s))`` for each start ``a`` in ``starts`` (float64; ``+inf`` if divergent)."""
    return _require_rpe(rpe).log_tail_float64(p, starts)


def rpe_weights_object(rpe: RPEType, p: Any, lags: np.ndarray, backend: Backend) -> np.ndarray:
    """``exp(p phi(s))`` elementwise at integer lags (mpmath or sympy), 0 where masked."""
    rpe = _require_rpe(rpe)
    lags = np.asarray(lags)
    out = np.empty(lags.shape, dtype=object)
    flat = out.reshape(-1)
    exact = backend.name == "sympy"
    for i, s in enumerate(lags.reshape(-1)):
        s = int(s)
        if s < 0:
            flat[i] = backend.zero
        else:
            flat[i] = rpe.weight_exact(p, s) if exact else rpe.weight_mp(p, s)
    return out


def tail_object(rpe: RPEType, p: Any, start: int, backend: Backend) -> Any:
    """``sum_{s >= start} exp(p phi(s))`` in mpmath or sympy (exact expressions)."""
    rpe = _require_rpe(rpe)
    start = max(int(start), 0)
    if backend.name == "sympy":
        return rpe.tail_exact(p, start)
    return rpe.tail_mp(p, start)
