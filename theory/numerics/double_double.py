"""Double-double arithmetic on numpy arrays (Dekker / Knuth error-free transformations).

The exact l1 errors of the App. F kernels (Lemmas F.1-F.6) are sums of many terms
``w(t) Q(u(t))`` whose cancellation needs about 32 digits: each value is an unevaluated sum
``hi + lo`` of two floats, and every operation comes with a rigorous rounding bound.  Vectorised
over numpy arrays, this is measured to be much faster than mpmath or arb balls for the
``2^13 .. 10^7`` lags of a direct sum, which is why it is kept hand-written.

* :func:`two_sum`, :func:`fast_two_sum`, :func:`split`: error-free transformations;
* :func:`dd_add`, :func:`dd_mul`: double-double sum and product (error bounds in their docstrings);
* :func:`mp_to_dd`: mpmath values split into ``(hi, lo)`` arrays (``|hi + lo - v| <= 2^-105 |v|``);
* :func:`dd_clenshaw`: Chebyshev sums ``sum_j c_j T_j(x)`` in double-double with a per-point bound;
* :func:`f64_clenshaw_bound`, :func:`clenshaw_f64`: the float64 recurrence, with and without bound;
* :func:`dd_sum_abs`: ``sum |hi + lo|`` correctly rounded.

Examples
--------
>>> import mpmath
>>> with mpmath.workdps(40):
...     third = mpmath.mpf(1) / 3
>>> h, l = mp_to_dd([third])             # 1/3 to about 2^-106
>>> bool(l[0] != 0.0), abs(float(h[0]) - 1 / 3) == 0.0
(True, True)
>>> s, e = two_sum(np.array([1.0]), np.array([2.0 ** -60]))
>>> float(s[0]), float(e[0]) == 2.0 ** -60
(1.0, True)
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np

# Clenshaw's float64 recurrence lives with the other Chebyshev helpers; re-exported under its
# double-double-module name, the same recurrence bit for bit as the value of f64_clenshaw_bound.
from .chebyshev import clenshaw as clenshaw_f64

__all__ = ["EPS", "DD_UNIT", "SPLITTER", "two_sum", "fast_two_sum", "split", "dd_mul", "dd_add", "mpf_to_dd",
           "mp_to_dd", "dd_clenshaw", "f64_clenshaw_bound", "clenshaw_f64", "dd_sum_abs"]

#: Normwise error bound per double-double operation used in the rounding bounds
#: (the algorithms below err by at most about ``7 * 2^-106``; ``2^-100`` leaves a margin).
DD_UNIT = 2.0 ** -100
#: Unit roundoff of IEEE double precision.
EPS = 2.0 ** -53
#: Dekker's splitting constant ``2^27 + 1``.
SPLITTER = 134217729.0


def two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(s, e)`` with ``s + e = a + b`` exactly when ``|a| >= |b|`` (Dekker)."""
    s = a + b
    return s, b - (s - a)


def split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hi, lo)`` with ``hi + lo = a`` and 26-bit halves (Dekker)."""
    t = SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def dd_mul(ah: Any, al: Any, bh: Any, bl: Any, a_split: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """``(ah + al) * (bh + bl)`` (Dekker's product plus cross terms; relative error <= 7 * 2^-106)."""
    p = ah * bh
    a1, a2 = a_split if a_split is not None else split(ah)
    b1, b2 = split(bh)
    e = ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2
    e = e + (ah * bl + al * bh)
    return fast_two_sum(p, e)


def dd_add(ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    """``(ah + al) + (bh + bl)`` (absolute error <= 3 * 2^-106 (|a| + |b|))."""
    s, e = two_sum(ah, bh)
    e = e + (al + bl)
    return fast_two_sum(s, e)


def mpf_to_dd(v: mpmath.mpf) -> tuple[float, float]:
    """One mpf as ``hi + lo`` (``hi`` correctly rounded, ``lo`` the rounded remainder)."""
    sign, man, exp, _bc = v._mpf_
    if not man:
        return 0.0, 0.0
    m = -man if sign else man
    extra = m.bit_length() - 160  # keep 160 bits: the dropped part is below 2^-159 |v|
    if extra > 0:
        m, exp = m >> extra, exp + extra
    if m.bit_length() <= 53:
        return math.ldexp(float(m), exp), 0.0
    hi_m = float(m)  # correctly rounded integer
    rest = m - int(hi_m)
    return math.ldexp(hi_m, exp), math.ldexp(float(rest), exp)


def mp_to_dd(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """mpf values (an iterable) as double-double arrays ``(hi, lo)``; ``|hi + lo - v| <= 2^-105 |v|``."""
    # mpf inputs are split as they are: mpmath.mpf(v) would round them to the caller's precision
    # (53 bits at the default dps = 15) and lose the low part
    with mpmath.workprec(256):
        pairs = [mpf_to_dd(v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)) for v in values]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    arr = np.array(pairs, dtype=float)
    return arr[:, 0].copy(), arr[:, 1].copy()


def dd_clenshaw(ch: np.ndarray, cl: np.ndarray, xh: np.ndarray, xl: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sum_j c_j T_j(x)`` in double-double, with a rigorous rounding bound per point.

    Writing the computed recurrence as ``b_j = c_j + 2 x b_{j+1} - b_{j+2} + e_j`` and
    ``y = c_0 + x b_1 - b_2 + e_0``, the error of ``y`` is ``sum_j e_j T_j(x)`` (the error
    recurrence is solved by Chebyshev polynomials of the second kind, and
    ``x U_{j-1} - U_{j-2} = T_j``), so ``|error| <= sum_j |e_j|`` for ``|x| <= 1`` with
    ``|e_j| <= 3 DD_UNIT (|c_j| + 2|x| |b_{j+1}| + |b_{j+2}|)``.  The returned bound also covers
    the representation of ``c`` as double-double.
    """
    x2h, x2l = 2.0 * xh, 2.0 * xl
    x2_split = split(x2h)
    x_split = split(xh)
    zeros = np.zeros_like(xh)
    b1h, b1l, b2h, b2l = zeros, zeros, zeros, zeros
    acc = np.zeros_like(xh)
    ax2 = np.abs(x2h) * (1 + 2 * EPS)
    N = len(ch) - 1
    for j in range(N, 0, -1):
        acc = acc + (abs(ch[j]) + ax2 * np.abs(b1h) + np.abs(b2h))
        th, tl = dd_mul(x2h, x2l, b1h, b1l, x2_split)
        th, tl = dd_add(th, tl, ch[j], cl[j])
        nh, nl = dd_add(th, tl, -b2h, -b2l)
        b2h, b2l = b1h, b1l
        b1h, b1l = nh, nl
    acc = acc + (abs(ch[0]) + np.abs(xh) * np.abs(b1h) + np.abs(b2h))
    th, tl = dd_mul(xh, xl, b1h, b1l, x_split)
    th, tl = dd_add(th, tl, ch[0], cl[0])
    yh, yl = dd_add(th, tl, -b2h, -b2l)
    c_repr = float(np.sum(np.abs(ch))) * 2.0 ** -104  # |hi + lo - c| <= 2^-106 |c| per coefficient
    bound = (3.0 * DD_UNIT * acc) * (1 + 1e-10) * (1 + N * EPS) + c_repr
    return yh, yl, bound


def f64_clenshaw_bound(c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float64 Clenshaw with the same rigorous running error bound as :func:`dd_clenshaw`
    (unit roundoff ``2^-53`` per operation; ``x`` is taken as exact)."""
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    acc = np.zeros_like(x)
    x2 = 2 * x
    ax2 = np.abs(x2)
    for cj in c[:0:-1]:
        acc = acc + (abs(cj) + ax2 * np.abs(b1) + np.abs(b2))
        b1, b2 = cj + x2 * b1 - b2, b1
    acc = acc + (abs(c[0]) + np.abs(x) * np.abs(b1) + np.abs(b2))
    y = c[0] + x * b1 - b2
    return y, 3.0 * EPS * acc * (1 + 1e-6) * (1 + len(c) * EPS)


def dd_sum_abs(h: np.ndarray, l: np.ndarray) -> float:
    """``sum |h + l|`` correctly rounded (fsum of the exact double-double values)."""
    sign = np.where(h < 0, -1.0, 1.0)
    return math.fsum(np.concatenate([np.abs(h), sign * l]).tolist())
