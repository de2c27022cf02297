"""Outward-rounded float64 enclosures of mpmath values, for the ``l^1`` norms of memory kernels.

The essentially sparse class H^Ess (paper eqs. (13)-(14)) needs ``rho in l^1(N)``; a kernel's
``l1_norm`` returns a rigorous float64 pair ``(lower, upper)`` around ``||rho||_1``.  The value
is computed in mpmath at ``dps`` digits; these helpers widen it by that precision's rounding and
round each end outward to float64, so the pair contains the exact value.
"""

from __future__ import annotations

import math

import mpmath
import sympy

from .rationals import to_mpf

__all__ = ["round_down_float", "round_up_float", "enclose_outward", "mp_upper_bound"]


def round_down_float(x: mpmath.mpf) -> float:
    """The largest float64 ``<= x`` (infinities pass through)."""
    if mpmath.isinf(x):
        return float(x)
    f = float(x)
    return f if mpmath.mpf(f) <= x else math.nextafter(f, -math.inf)


def round_up_float(x: mpmath.mpf) -> float:
    """The smallest float64 ``>= x`` (infinities pass through)."""
    if mpmath.isinf(x):
        return float(x)
    f = float(x)
    return f if mpmath.mpf(f) >= x else math.nextafter(f, math.inf)


def enclose_outward(lo: mpmath.mpf, hi: mpmath.mpf, dps: int) -> tuple[float, float]:
    """Widen an mpmath enclosure ``[lo, hi]`` computed at ``dps`` digits by the working
    precision's rounding (relative ``10^-(dps-5)``) and round outward to float64.

    >>> lo, hi = enclose_outward(mpmath.mpf(1) / 3, mpmath.mpf(1) / 3, 30)
    >>> lo < 1 / 3 < hi or lo <= 1 / 3 <= hi
    True
    """
    with mpmath.workdps(dps + 10):
        slack = mpmath.mpf(10) ** (-(dps - 5))
        lo = lo * (1 - slack) if lo >= 0 else lo * (1 + slack)
        hi = hi * (1 + slack) if hi >= 0 else hi * (1 - slack)
        return round_down_float(lo), round_up_float(hi)


def mp_upper_bound(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    """An mpf ``>=`` the exact sympy number ``expr >= 0`` (exact for rationals; otherwise the
    ``dps``-digit value widened by ``10^-dps`` relative)."""
    if isinstance(expr, sympy.Rational):
        return to_mpf(expr)
    with mpmath.workdps(dps):
        v = mpmath.mpf(sympy.N(expr, dps + 10)._mpf_)
        return v * (1 + mpmath.mpf(10) ** (-dps))
