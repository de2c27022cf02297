"""Outward rounding: the one scheme by which computed enclosures are widened to be rigorous.

Every certified number of the toolkit (App. F kernel errors, the bounds of Theorems 3.1-5.1) is an
interval ``[lower, upper]`` computed in floating point and then widened *outward* so that rounding
can only make it wider:

* :func:`round_up` / :func:`round_down`: the nearest float at or above / below an exact value
  (a float, an ``int``, a :class:`fractions.Fraction`, a sympy Rational or an mpmath ``mpf``),
  moved ``ulps`` further floats outward;
* :func:`outward`: both ends of an enclosure at once, with an optional floor (``0`` for norms);
* :func:`relative_up` / :func:`relative_down`: the mpmath side, ``x +- |x| rel`` at the working
  precision, for bounds kept as ``mpf`` (the slack covers the rounding of the evaluation).

Examples
--------
>>> round_up(0.1) == 0.1, round_up(0.1, ulps=1) > 0.1
(True, True)
>>> from fractions import Fraction
>>> round_down(Fraction(1, 3)) <= Fraction(1, 3) <= round_up(Fraction(1, 3))
True
>>> outward(-1e-20, 1.0, floor=0.0)[0]
0.0
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath

__all__ = ["round_up", "round_down", "outward", "relative_up", "relative_down"]


def _nearest_and_exact(x: Any) -> tuple[float, Any]:
    """``(float(x), exact x)`` where the exact value compares correctly with floats."""
    if isinstance(x, float):
        return x, x
    if isinstance(x, int):
        return float(x), x
    if isinstance(x, mpmath.mpf):
        if mpmath.isinf(x) or mpmath.isnan(x):
            return float(x), float(x)
        return float(x), x
    if isinstance(x, Fraction):
        return float(x), x
    p, q = getattr(x, "p", None), getattr(x, "q", None)  # sympy Rational / Integer
    if isinstance(p, int) and isinstance(q, int):
        fr = Fraction(p, q)
        return float(fr), fr
    raise TypeError(f"x must be a float, int, Fraction, sympy Rational or mpmath mpf, got {type(x).__name__}")


def _above(f: float, exact: Any) -> bool:
    return mpmath.mpf(f) >= exact if isinstance(exact, mpmath.mpf) else Fraction(f) >= exact


def round_up(x: Any, ulps: int = 0) -> float:
    """The least float ``>= x``, moved ``ulps`` floats further up (``x`` exact; see module docstring).

    For a float ``x`` with ``ulps = 0`` this is ``x`` itself; infinities are returned as they are.
    """
    if not isinstance(ulps, int) or isinstance(ulps, bool) or ulps < 0:
        raise ValueError(f"ulps must be an int >= 0, got {ulps!r}")
    f, exact = _nearest_and_exact(x)
    if math.isinf(f) or math.isnan(f):
        return f
    if not isinstance(exact, float) and not _above(f, exact):
        f = math.nextafter(f, math.inf)
    for _ in range(ulps):
        f = math.nextafter(f, math.inf)
    return f


def round_down(x: Any, ulps: int = 0) -> float:
    """The greatest float ``<= x``, moved ``ulps`` floats further down (mirror of :func:`round_up`)."""
    if not isinstance(ulps, int) or isinstance(ulps, bool) or ulps < 0:
        raise ValueError(f"ulps must be an int >= 0, got {ulps!r}")
    f, exact = _nearest_and_exact(x)
    if math.isinf(f) or math.isnan(f):
        return f
    if not isinstance(exact, float):
        below = mpmath.mpf(f) <= exact if isinstance(exact, mpmath.mpf) else Fraction(f) <= exact
        if not below:
            f = math.nextafter(f, -math.inf)
    for _ in range(ulps):
        f = math.nextafter(f, -math.inf)
    return f


def outward(lower: Any, upper: Any, *, ulps: int = 2, floor: float | None = None) -> tuple[float, float]:
    """``(round_down(lower, ulps), round_up(upper, ulps))``, the lower end raised to ``floor`` if given.

    The default ``ulps = 2`` covers the last rounding of a float sum of the enclosure's parts twice
    over; ``floor = 0.0`` is used for norms (an l1 error is never negative).
    """
    lo, hi = round_down(lower, ulps), round_up(upper, ulps)
    if floor is not None:
        lo = max(lo, floor)
    return lo, hi


def relative_up(x: Any, rel: Any) -> mpmath.mpf:
    """``x + |x| rel`` as an mpmath number at the working precision (``rel`` covers its rounding)."""
    x = mpmath.mpf(x)
    return x + abs(x) * rel


def relative_down(x: Any, rel: Any) -> mpmath.mpf:
    """``x - |x| rel`` as an mpmath number at the working precision."""
    x = mpmath.mpf(x)
    return x - abs(x) * rel
