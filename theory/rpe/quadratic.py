"""Quadratic RPE: ``phi(s) = -s^2``, a Gaussian-type lag weight ``e^{-p s^2}``.

Not one of the paper's RPEs (eq. (4) has lin and log; App. G.1 adds T5): it is the worked
example of adding an RPE type as one module (docs/extending.md).  The weights decay faster
than any geometric series, so the padded-past sums converge for every ``p > 0``
(Differences from the paper, D17).  Their tails have no elementary closed form (a partial
Jacobi theta sum), so they are evaluated as a finite sum plus a certified geometric bound on
the remainder:

for ``s >= m`` the ratio of consecutive weights is ``e^{-p (2s + 1)} <= e^{-p (2m + 1)} < 1``, so

    0 <= sum_{s >= m} e^{-p s^2} <= e^{-p m^2} / (1 - e^{-p (2m + 1)}).

With ``m = a + K`` the remainder is below ``e^{-p a^2} e^{-p K^2} / (1 - e^{-p(2K+1)})``, and
:func:`quadratic_terms` picks ``K`` to make that at most ``2^{-b}`` times the first term
``e^{-p a^2}`` (``b = 64`` in float64, the working precision plus 20 bits in mpmath).
TMX heads (Def. C.5) use ``-phi(z) = z^2`` for real ``z >= 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from .base import RPEType, register_rpe

__all__ = ["QuadraticRPE", "quadratic_terms", "MAX_QUADRATIC_TERMS"]

#: Most terms one tail evaluation may sum (``K ~ sqrt(b log 2 / p)``): slopes below about
#: ``b log 2 / MAX_QUADRATIC_TERMS^2`` (``~1e-11`` in float64) are refused by the tail methods.
MAX_QUADRATIC_TERMS = 1 << 22


def quadratic_terms(p: Any, bits: int) -> int:
    """The number ``K`` of terms to sum from a start ``a`` so that the rest is at most
    ``2^{-bits}`` times the first term ``e^{-p a^2}``.

    The rest is below ``e^{-p a^2} e^{-p K^2} / (1 - e^{-p (2K + 1)})`` (module docstring;
    ``(a + K)^2 >= a^2 + K^2``), so ``K`` is the smallest integer with
    ``p K^2 >= (bits + log2(1 / (1 - e^{-p (2K_0 + 1)}))) log 2``, ``K_0`` the value without
    the denominator (a smaller ``K_0`` only enlarges the correction), plus one.

    Raises ValueError naming ``p`` if ``p <= 0`` or if ``K`` exceeds :data:`MAX_QUADRATIC_TERMS`.
    """
    pf = float(p)
    if not pf > 0:
        raise ValueError(f"p must be > 0 for quadratic-RPE tails, got {p}")

    def root(b: float) -> int:
        return math.isqrt(int(math.ceil(b * math.log(2) / pf))) + 1

    k0 = root(bits)
    k = root(bits - math.log2(-math.expm1(-pf * (2 * k0 + 1)))) + 1
    if k > MAX_QUADRATIC_TERMS:
        raise ValueError(f"p = {p} is too small for quadratic-RPE tails: they need {k} terms, more than "
                         f"MAX_QUADRATIC_TERMS = {MAX_QUADRATIC_TERMS}")
    return k


@register_rpe
@dataclass(frozen=True)
class QuadraticRPE(RPEType):
    """``phi(s) = -s^2`` for ``s >= 0``; weight ``e^{-p s^2}`` (summable for ``p > 0``).

    Examples
    --------
    >>> import sympy
    >>> rpe = QuadraticRPE()
    >>> rpe.phi_exact(3), rpe.summable(sympy.Rational(1, 2))
    (-9, True)
    >>> with mpmath.workdps(40):   # e^{-4} + e^{-9} + e^{-16}, plus the bound e^{-25}/(1 - e^{-11})
    ...     lo, hi = rpe.tail_enclosure_mp(1, 2, terms=3)
    ...     bool(lo <= mpmath.fsum(mpmath.exp(-s * s) for s in range(2, 20)) <= hi)
    True
    """

    type_name = "quadratic"
    summability = "p > 0 (Gaussian series sum_s e^{-p s^2})"
    export_kind = "quadratic"
    tmx_min = 0

    def phi(self, s: np.ndarray) -> np.ndarray:
        """``-s^2`` in float64."""
        s = np.asarray(s, dtype=float)
        return -(s * s)

    def phi_exact(self, s: int) -> sympy.Expr:
        """``-s^2`` exactly."""
        return -sympy.Integer(s) ** 2

    def weight_mp(self, p: Any, s: int) -> mpmath.mpf:
        """``e^{-p s^2}`` at the current mpmath precision."""
        return mpmath.exp(-p * (s * s))

    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s>=0} e^{-p s^2}`` converges: ``p > 0``."""
        return bool(p > 0)

    def support(self) -> None:
        """Infinite support (every weight is positive)."""
        return None

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """``Sum(exp(-p s^2), (s, start, oo))``, an unevaluated sympy sum (no closed form)."""
        s = sympy.Dummy("s", integer=True, nonnegative=True)
        return sympy.Sum(sympy.exp(-p * s ** 2), (s, max(int(start), 0), sympy.oo))

    @staticmethod
    def remainder_bound_mp(p: Any, m: int) -> mpmath.mpf:
        """``e^{-p m^2} / (1 - e^{-p (2m + 1)})``, an upper bound of ``sum_{s >= m} e^{-p s^2}``."""
        p = mpmath.mpf(p)
        return mpmath.exp(-p * m * m) / -mpmath.expm1(-p * (2 * m + 1))

    def tail_enclosure_mp(self, p: Any, start: int, terms: int | None = None) -> tuple[mpmath.mpf, mpmath.mpf]:
        """``(lo, hi)`` with ``lo <= sum_{s >= start} e^{-p s^2} <= hi`` up to the working
        precision's rounding: ``lo`` sums ``terms`` weights from ``start`` (default
        :func:`quadratic_terms` at the working precision), ``hi = lo +`` the geometric
        remainder bound."""
        p = mpmath.mpf(p)
        a = max(int(start), 0)
        k = quadratic_terms(p, mpmath.mp.prec + 20) if terms is None else int(terms)
        lo = mpmath.fsum(mpmath.exp(-p * (s * s)) for s in range(a, a + k))
        return lo, lo + self.remainder_bound_mp(p, a + k)

    def tail_mp(self, p: Any, start: int) -> mpmath.mpf:
        """The midpoint of :meth:`tail_enclosure_mp`: relative error below ``2^{-(prec+20)}``."""
        lo, hi = self.tail_enclosure_mp(p, start)
        return lo + (hi - lo) / 2

    def log_tail_float64(self, p: float, starts: np.ndarray) -> np.ndarray:
        """``log sum_{s >= a} e^{-p s^2}`` (float64, ``+inf`` unless ``p > 0``): a suffix
        log-sum-exp over lags up to ``max(a) + K`` (:func:`quadratic_terms` at 64 bits), the
        remainder beyond being below ``2^{-64}`` of each tail's first term."""
        a = np.maximum(np.asarray(starts, dtype=float), 0.0)
        if not p > 0:
            return np.full(a.shape, math.inf)
        if a.size == 0:
            return a.copy()
        k = quadratic_terms(p, 64)
        top = int(a.max()) + k
        lags = np.arange(top + 1, dtype=float)
        suffix = np.logaddexp.accumulate((-p * lags * lags)[::-1])[::-1]
        return suffix[a.astype(int)]

    def tmx_neg_phi(self, z: Any, log: Any) -> Any:
        """``-phi(z) = z^2``."""
        return z * z

    def export_tables(self, ps: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """``phi(0..K)`` and the log tails at starts ``0..K``, ``K`` = the most terms a tail
        needs for these slopes (:func:`quadratic_terms`, 64 bits): the tables' length tells
        :meth:`torch_log_tail` how many terms to sum beyond a start."""
        k = max(quadratic_terms(p, 64) for p in ps)
        phi = self.phi(np.arange(k + 1))
        return phi, np.stack([self.log_tail_float64(p, np.arange(k + 1)) for p in ps])

    def torch_phi(self, lag: Any, phi_table: Any) -> Any:
        """``-lag^2`` in the table's dtype."""
        lf = lag.to(phi_table.dtype)
        return -(lf * lf)

    def torch_log_tail(self, p: Any, starts: Any, logtail_table: Any) -> Any:
        """Suffix ``logcumsumexp`` of ``-p s^2`` over lags ``0..max(starts) + K`` (``K + 1`` =
        the table length), read at ``starts``: (H, len(starts))."""
        import torch

        k = logtail_table.shape[1] - 1
        lags = torch.arange(starts.shape[0] + k, device=p.device).to(p.dtype)  # starts are 0..n
        logw = -p[:, None] * (lags * lags)[None]
        suffix = torch.flip(torch.logcumsumexp(torch.flip(logw, [-1]), dim=-1), [-1])
        return suffix[:, starts]
