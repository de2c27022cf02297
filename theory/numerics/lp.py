"""The l1 and minimax linear programmes of the tightness and depth evidence (one helper, HiGHS).

Two linear programmes recur in the checks; both are built here once and solved by
``scipy.optimize.linprog(method="highs")``:

* :func:`lp_l1_fit` -- ``min_c sum_s w_s |target_s - sum_h c_h basis_h(s)|``: the l1-optimal
  coefficients of a memory-kernel approximation for fixed exponents (Insights 4a/4b, Thm 5.1
  best-found comparisons, the curse-of-memory RNN fits of Sec. 5);
* :func:`minimax_fit` -- ``min_{c, a} max_i |y_i - c - Z_i . a|``: the best affine function of
  the past tokens in the sup norm over enumerated inputs (Prop. 4.2(B): DP-free attention;
  the two-layer family of Theorem 4.1 as depth evidence for Theorem 4.4).

**Failure policy.**  Both programmes always have an optimum (they are feasible and bounded
below by 0), so a solver status other than "optimal" means numerical trouble; :func:`lp_l1_fit`
and :func:`minimax_fit` then raise :class:`LPError` (a ``RuntimeError``) naming the programme,
the HiGHS status and message.  No NaN or zero fit is ever returned in place of an optimum.  The
one documented exception is :func:`lp_l1_fit_or_trivial`, for searches over many candidate
exponent sets (best-found kernels, RNN fits): there a failed solve yields a *candidate*
(the solver's point if it returned one, else ``c = 0``), whose exact error the caller computes
like any other's; nothing is claimed about its optimality.

Examples
--------
>>> import numpy as np
>>> s = np.arange(1, 200)
>>> fit = lp_l1_fit(s ** -1.5, [s ** -1.5, s ** -2.0])
>>> print(f"{fit.objective:.1e}")
0.0e+00
>>> m = minimax_fit(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 0.0]))
>>> round(m.optimum, 6)
0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.optimize
import scipy.sparse as sp

__all__ = ["LPError", "LPFit", "lp_l1_fit", "lp_l1_fit_or_trivial", "MinimaxFit", "minimax_fit"]


class LPError(RuntimeError):
    """A linear programme of this module did not reach an optimum (HiGHS status and message given)."""


def _solve(name: str, cost: np.ndarray, A: Any, b: np.ndarray, bounds: list) -> Any:
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0 or res.x is None:
        raise LPError(f"{name}: HiGHS did not reach an optimum (status {res.status}: {res.message})")
    return res


@dataclass(frozen=True)
class LPFit:
    """l1-optimal coefficients for fixed basis functions (on the given lags, with weights).

    ``objective`` is ``sum_s w_s |target_s - sum_h c_h basis_h(s)|`` recomputed in float64 from the
    returned coefficients; ``status`` is the solver's message.
    """

    coefficients: np.ndarray
    objective: float
    status: str


def _l1_solve(target: Any, basis: Sequence[Any], weights: Any) -> tuple:
    """Build and solve the l1 programme; ``(res, r, B, w, scale)`` (``res`` as linprog returns it)."""
    r = np.asarray(target, dtype=float)
    if r.ndim != 1 or len(basis) == 0:
        raise ValueError(f"target must be 1-d and basis non-empty, got target shape {r.shape} and "
                         f"{len(basis)} basis functions")
    cols = [np.asarray(b, dtype=float) for b in basis]
    if any(col.shape != r.shape for col in cols):
        raise ValueError(f"every basis function must have the target's shape {r.shape}, got "
                         f"{sorted({col.shape for col in cols})}")
    B = np.column_stack(cols)
    S, H = B.shape
    w = np.ones(S) if weights is None else np.asarray(weights, dtype=float)
    scale = np.maximum(np.max(np.abs(B), axis=0), 1e-300)
    Bs = B / scale
    I = sp.identity(S, format="csr")
    A = sp.vstack([sp.hstack([sp.csr_matrix(Bs), -I]), sp.hstack([sp.csr_matrix(-Bs), -I])], format="csr")
    b = np.concatenate([r, -r])
    cost = np.concatenate([np.zeros(H), w])
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * H + [(0, None)] * S,
                                 method="highs")
    return res, r, B, w, scale


def _l1_fit_from(res: Any, r: np.ndarray, B: np.ndarray, w: np.ndarray, scale: np.ndarray) -> LPFit:
    c = res.x[:B.shape[1]] / scale
    return LPFit(c, float(np.sum(w * np.abs(r - B @ c))), str(res.message))


def lp_l1_fit(target: Any, basis: Sequence[Any], weights: Any = None) -> LPFit:
    """``min_c sum_s w_s |target_s - sum_h c_h basis_h(s)|`` by linear programming (HiGHS).

    Variables ``(c, e)`` with ``e_s >= |target_s - (B c)_s|``; ``c`` is free.  The basis columns are
    scaled to max 1 for the solver.  Raises :class:`LPError` if HiGHS reports no optimum.
    """
    res, r, B, w, scale = _l1_solve(target, basis, weights)
    if res.status != 0 or res.x is None:
        raise LPError(f"the l1 fit: HiGHS did not reach an optimum (status {res.status}: {res.message})")
    return _l1_fit_from(res, r, B, w, scale)


def lp_l1_fit_or_trivial(target: Any, basis: Sequence[Any], weights: Any = None) -> LPFit:
    """:func:`lp_l1_fit` for searches over candidates: never raises for a failed solve.

    If HiGHS returns a point without reaching an optimum, that point is the candidate; if it
    returns none, the candidate is ``c = 0`` with objective ``sum_s w_s |target_s|``.  ``status``
    is the solver's message either way.  Use only where the candidate's error is computed
    exactly afterwards (the result is a candidate, not a certified optimum).
    """
    res, r, B, w, scale = _l1_solve(target, basis, weights)
    if res.x is None:
        return LPFit(np.zeros(B.shape[1]), float(np.sum(w * np.abs(r))), str(res.message))
    return _l1_fit_from(res, r, B, w, scale)


@dataclass(frozen=True)
class MinimaxFit:
    """``optimum = min_{c, a} max_i |y_i - c - Z_i . a|`` and the optimal ``coefficients = (c, a_1, ...)``."""

    optimum: float
    coefficients: tuple[float, ...]
    status: int
    message: str
    constraints: int


def minimax_fit(Z: Any, y: Any) -> MinimaxFit:
    """The best affine fit ``c + Z a`` of ``y`` in the sup norm, exactly (HiGHS).

    Variables ``(c, a_1..a_m, eps)``, minimise ``eps`` subject to ``+-(c + Z_i . a - y_i) <= eps``
    (``2 n`` constraints for ``n`` rows of ``Z``).  Raises :class:`LPError` if HiGHS reports no optimum.
    """
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(y, dtype=float)
    if Z.ndim != 2 or y.shape != (Z.shape[0],):
        raise ValueError(f"Z must be 2-d with one row per entry of y, got shapes {Z.shape} and {y.shape}")
    n, m = Z.shape
    A1 = np.hstack([np.ones((n, 1)), Z, -np.ones((n, 1))])    # c + a.z - eps <= y
    A2 = np.hstack([-np.ones((n, 1)), -Z, -np.ones((n, 1))])  # -c - a.z - eps <= -y
    A = np.vstack([A1, A2])
    cost = np.zeros(m + 2)
    cost[-1] = 1
    res = _solve("the minimax fit", cost, A, np.concatenate([y, -y]), [(None, None)] * (m + 1) + [(0, None)])
    return MinimaxFit(float(res.fun), tuple(float(v) for v in res.x[:-1]), int(res.status), str(res.message),
                      int(A.shape[0]))
