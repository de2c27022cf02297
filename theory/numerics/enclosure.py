"""The one enclosure type: a certified interval ``lower <= value <= upper`` and its thin subclasses.

Every certified quantity of the App. F error analysis is reported as an :class:`Enclosure`.  The
base class holds the two ends (outward rounded, :mod:`tfapprox.theory.numerics.rounding`) and what
every enclosure is asked (midpoint, width, relative width, containment, unpacking as
``lo, hi = enc``).  Subclasses add the fields that describe *how* one kind was computed; their
attribute names are the ones the reports read:

* :class:`L1Enclosure` -- exact l1 error of a Lemma F.1 / F.4 delta kernel (direct sum, tail,
  model allowance; for log-RPE the Euler-Maclaurin pieces and the number of certified roots);
* :class:`EssentialEnclosure` -- l1 error of a Lemma F.3 / F.6 kernel against its target ``rho``;
* :class:`ExpSumEnclosure` -- l1 error of an exponential sum against ``s^-beta`` over all lags
  (Sec. 5, the curse of memory).

Examples
--------
>>> e = Enclosure(1.0, 1.5)
>>> e.value, e.width, e.contains(1.2)
(1.25, 0.5, True)
>>> lo, hi = e
>>> (lo, hi)
(1.0, 1.5)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

__all__ = ["Enclosure", "L1Enclosure", "EssentialEnclosure", "ExpSumEnclosure"]


@dataclass(frozen=True)
class Enclosure:
    """A rigorous enclosure ``lower <= value <= upper`` (both ends outward rounded).

    Attributes
    ----------
    lower, upper : float
        The ends of the enclosure.
    """

    lower: float
    upper: float

    def __post_init__(self) -> None:
        if self.lower > self.upper:  # (NaN ends are left to the caller)
            raise ValueError(f"an enclosure needs lower <= upper, got lower={self.lower!r}, upper={self.upper!r}")

    @property
    def value(self) -> float:
        """Midpoint of the enclosure."""
        return 0.5 * (self.lower + self.upper)

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower

    @property
    def relative_width(self) -> float:
        """``(upper - lower) / upper`` (0 when both are 0)."""
        return 0.0 if self.upper == 0 else self.width / self.upper

    def contains(self, x: Any) -> bool:
        """Whether ``lower <= x <= upper``."""
        return bool(self.lower <= x <= self.upper)

    def __iter__(self) -> Iterator[float]:
        """``lo, hi = enclosure`` (the form the bare ``(lower, upper)`` tuples had)."""
        return iter((self.lower, self.upper))


@dataclass(frozen=True)
class L1Enclosure(Enclosure):
    """A rigorous enclosure ``lower <= ||1{. = T} - P||_{l1} <= upper`` (Lemmas F.1 / F.4).

    Attributes
    ----------
    lower, upper : float
        The enclosure (outward rounded).
    direct_sum : float
        ``sum_{s < S} |P(s) - 1{s = T}|`` from double-double arithmetic (correctly rounded).
    direct_terms : int
        ``S``: lags ``first_lag..S-1`` were summed directly.
    direct_rounding_bound : float
        Rigorous bound of the rounding error of ``direct_sum``.
    tail_lower, tail_upper : float
        Enclosure of ``sum_{s >= S} |P(s)|``.
    model_bound : float
        ``coefficient_error_bound * sum_t w(t)``: the allowance that makes the enclosure valid
        for the exact interpolant and the realised coefficients too.
    method : str
        A one-line description of how the tail was handled.
    tail_integral : float or None
        (log) ``(1/alpha) int_0^U u^{gamma/alpha-1} |Q(u)| du``.
    euler_maclaurin : tuple of float or None
        (log) ``(f(S)/2 - f'(S+)/12, K, W)``.
    roots : int or None
        (log) number of sign changes of ``Q`` found in ``(0, U)``.
    """

    direct_sum: float
    direct_terms: int
    direct_rounding_bound: float
    tail_lower: float
    tail_upper: float
    model_bound: float
    method: str
    tail_integral: float | None = None
    euler_maclaurin: tuple[float, float, float] | None = None
    roots: int | None = None


@dataclass(frozen=True)
class EssentialEnclosure(Enclosure):
    """``lower <= ||rho - P||_{l1} <= upper`` for a Lemma F.3 / F.6 kernel (lags ``t >= first_lag``).

    ``direct_sum`` is ``sum_{t < direct_terms} |rho(t) - P(t)|``; ``tail_lower, tail_upper``
    enclose the rest.
    """

    direct_terms: int
    direct_sum: float
    tail_lower: float
    tail_upper: float


@dataclass(frozen=True)
class ExpSumEnclosure(Enclosure):
    """``lower <= sum_{s >= 0} |rho(s) - K(s)| <= upper`` for ``rho(s) = s^-beta`` (``rho(0) = 0``) and
    ``K(s) = sum_k c_k lambda_k^s``: direct sum on ``s < direct_terms`` and on ``leaf_lags`` lags near
    sign changes, closed-form sums on ``signed_intervals`` intervals of certified sign, and the
    enclosed tail ``s >= end`` (``tail_lower``, ``tail_upper``)."""

    direct_terms: int
    leaf_lags: int
    signed_intervals: int
    unresolved_intervals: int
    end: int
    tail_lower: float
    tail_upper: float
