"""The exact worst-case attention error of one delta-kernel head group (Lemmas F.1 / F.4).

A DP-free head group with kernel ``P`` approximates ``x_{t-T}`` by ``sum_s P(s) x_{t-s}``; with
``||x_t||_2 <= 1`` its worst-case error is *exactly* the l1 norm

    ``E = sum_s |P(s) - 1{s = T}|``  (``s >= 0`` for lin-RPE, ``s >= 1`` for log-RPE),

attained by the sign input of :func:`delta_kernel_sign_pattern` (design.md section 3).  This
module computes ``E`` as a rigorous enclosure ``[lower, upper]`` (:class:`L1Enclosure`),
never by sampling.

lin-RPE
    ``P(s) = e^{-gamma s} Q(e^{-alpha s})`` decays geometrically: the terms ``s < S`` are
    summed in double-double arithmetic (about 32 digits; Clenshaw on the Chebyshev
    coefficients, a running rounding-error bound per term), and the tail is bounded by
    ``sum_{s >= S} e^{-gamma s} sup|Q| <= (sum_j |c_j|) e^{-gamma S} / (1 - e^{-gamma})``, with
    ``S`` grown until this is below ``1e-13`` of the sum.
log-RPE
    ``P(t) = t^{-(1+gamma)} Q(t^{-alpha})`` decays like ``t^{-1-gamma}`` times ``|Q(u)|`` with
    ``u = t^{-alpha} -> 0`` only astronomically slowly (``Q`` oscillates down to ``u`` of order
    ``H^{-2}``, i.e. ``t`` of order ``10^{500}``).  The terms ``t < S`` are summed directly
    (double-double); for ``t >= S`` the sum is an integral plus an Euler-Maclaurin correction:

    * ``int_S^inf f(t) dt = (1/alpha) int_0^U u^{gamma/alpha - 1} |Q(u)| du`` with ``U = S^{-alpha}``,
      ``f(t) = t^{-1-gamma} |Q(t^{-alpha})|``, computed exactly (up to double-double rounding)
      by splitting ``[0, U]`` at the roots of ``Q`` and using a Chebyshev antiderivative
      (for integer ``gamma/alpha``, e.g. the default 1; otherwise an enclosure with a
      monotone weight on each piece);
    * ``sum_{t >= S} f(t) = int_S^inf f + f(S)/2 - f'(S+)/12 + E2`` (second-order
      Euler-Maclaurin for the absolutely continuous ``f = |g|``, ``g(t) = t^{-1-gamma} Q(t^{-alpha})``,
      whose derivative jumps by ``2 |g'(r)|`` at each root ``r`` of ``g``), with
      ``-K/6 - W/12 <= E2 <= K/12 + W/12``, ``K = sum_r |g'(r)|`` over the roots ``r > S`` and
      ``W = int_S^inf |g''| = TV(g')``.  With ``g' = t^{-2-gamma} R_1(u)``, ``g'' = t^{-3-gamma} R_2(u)``
      (polynomials ``R_1 = -(1+gamma) Q - alpha u Q'`` and ``R_2 = -(2+gamma) R_1 - alpha u R_1'``),
      ``K`` and ``W`` come from the roots of ``Q`` and of ``R_2`` in ``(0, U)``.  Both are
      multiplied by 1.1 as a safety margin.

    The roots are found numerically (sign changes on a grid of ``16 (H+1)`` points per
    ``pi`` in ``theta``, ``u = cos^2(theta/2)``, refined by a bracketing secant method); the
    enclosure is rigorous *given* that every sign change of ``Q`` in ``(0, U)`` is seen at that
    resolution (a pair of roots closer than ``pi/(16 H)`` in ``theta`` could be missed).  The
    effect of the residual root error is bounded and included.

Both cases add ``coefficient_error_bound * sum_t w(t)`` on each side, so the enclosure
contains the l1 error of the exact Chebyshev interpolant, of the stored stable-basis kernel
and of the realised ``sum_k a_k e^{-beta_k s}`` alike.

Examples
--------
>>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
>>> from tfapprox.verify.kernel_error import delta_kernel_l1_error
>>> enc = delta_kernel_l1_error(lemma_f1_kernel(1, 64))
>>> print(f"{enc.lower:.6f} {enc.upper:.6f}")
0.389223 0.389223
>>> enc.relative_width < 1e-9
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
from numpy.polynomial import chebyshev as _cheb

from tfapprox.constructions.delta_kernels import DeltaKernel, clenshaw
from tfapprox.theory.validation import require_int, require_real

__all__ = [
    "DD_UNIT",
    "L1Enclosure",
    "delta_kernel_l1_error",
    "delta_kernel_error_terms",
    "delta_kernel_sign_pattern",
]

#: Normwise error bound per double-double operation used in the rounding bounds
#: (the algorithms below err by at most about ``7 * 2^-106``; ``2^-100`` leaves a margin).
DD_UNIT = 2.0 ** -100
_EPS = 2.0 ** -53
_SPLITTER = 134217729.0  # 2^27 + 1
_P3_MAX = math.sqrt(3) / 216 * (1 + 1e-12)  # max |B_3({t})/6|


# ---------------------------------------------------------------------------------------
# Double-double arithmetic on numpy arrays (Dekker / Knuth error-free transformations)
# ---------------------------------------------------------------------------------------

def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    return s, b - (s - a)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = _SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _dd_mul(ah: Any, al: Any, bh: Any, bl: Any, a_split: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """``(ah + al) * (bh + bl)`` (Dekker's product plus cross terms; relative error <= 7 * 2^-106)."""
    p = ah * bh
    a1, a2 = a_split if a_split is not None else _split(ah)
    b1, b2 = _split(bh)
    e = ((a1 * b1 - p) + a1 * b2 + a2 * b1) + a2 * b2
    e = e + (ah * bl + al * bh)
    return _fast_two_sum(p, e)


def _dd_add(ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    """``(ah + al) + (bh + bl)`` (absolute error <= 3 * 2^-106 (|a| + |b|))."""
    s, e = _two_sum(ah, bh)
    e = e + (al + bl)
    return _fast_two_sum(s, e)


def _mpf_to_dd(v: mpmath.mpf) -> tuple[float, float]:
    """One mpf as ``hi + lo`` (``hi`` correctly rounded, ``lo`` the rounded remainder)."""
    sign, man, exp, _bc = v._mpf_
    if not man:
        return 0.0, 0.0
    m = -man if sign else man
    if m.bit_length() <= 53:
        return math.ldexp(float(m), exp), 0.0
    hi_m = float(m)  # correctly rounded integer
    rest = m - int(hi_m)
    return math.ldexp(hi_m, exp), math.ldexp(float(rest), exp)


def _mp_to_dd(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """mpf values (an iterable) as double-double arrays ``(hi, lo)``; ``|hi + lo - v| <= 2^-105 |v|``."""
    pairs = [_mpf_to_dd(mpmath.mpf(v)) for v in values]
    if not pairs:
        return np.zeros(0), np.zeros(0)
    arr = np.array(pairs, dtype=float)
    return arr[:, 0].copy(), arr[:, 1].copy()


def _dd_clenshaw(ch: np.ndarray, cl: np.ndarray, xh: np.ndarray, xl: np.ndarray
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
    x2_split = _split(x2h)
    x_split = _split(xh)
    zeros = np.zeros_like(xh)
    b1h, b1l, b2h, b2l = zeros, zeros, zeros, zeros
    acc = np.zeros_like(xh)
    ax2 = np.abs(x2h) * (1 + 2 * _EPS)
    N = len(ch) - 1
    for j in range(N, 0, -1):
        acc = acc + (abs(ch[j]) + ax2 * np.abs(b1h) + np.abs(b2h))
        th, tl = _dd_mul(x2h, x2l, b1h, b1l, x2_split)
        th, tl = _dd_add(th, tl, ch[j], cl[j])
        nh, nl = _dd_add(th, tl, -b2h, -b2l)
        b2h, b2l = b1h, b1l
        b1h, b1l = nh, nl
    acc = acc + (abs(ch[0]) + np.abs(xh) * np.abs(b1h) + np.abs(b2h))
    th, tl = _dd_mul(xh, xl, b1h, b1l, x_split)
    th, tl = _dd_add(th, tl, ch[0], cl[0])
    yh, yl = _dd_add(th, tl, -b2h, -b2l)
    c_repr = float(np.sum(np.abs(ch))) * 2.0 ** -104  # |hi + lo - c| <= 2^-106 |c| per coefficient
    bound = (3.0 * DD_UNIT * acc) * (1 + 1e-10) * (1 + N * _EPS) + c_repr
    return yh, yl, bound


def _f64_clenshaw_bound(c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Float64 Clenshaw with the same rigorous running error bound as :func:`_dd_clenshaw`
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
    return y, 3.0 * _EPS * acc * (1 + 1e-6) * (1 + len(c) * _EPS)


def _dd_sum_abs(h: np.ndarray, l: np.ndarray) -> float:
    """``sum |h + l|`` correctly rounded (fsum of the exact double-double values)."""
    sign = np.where(h < 0, -1.0, 1.0)
    return math.fsum(np.concatenate([np.abs(h), sign * l]).tolist())


# ---------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class L1Enclosure:
    """A rigorous enclosure ``lower <= ||1{. = T} - P||_{l1} <= upper``.

    Attributes
    ----------
    lower, upper : float
        The enclosure (outward rounded).
    direct_sum : float
        ``sum_{s < S} |P(s) - 1{s = T}|`` from double-double arithmetic (correctly rounded).
    direct_terms : int
        ``S``: lags ``0..S-1`` (lin) or ``1..S-1`` (log) were summed directly.
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

    lower: float
    upper: float
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


def _outward(lower: float, upper: float) -> tuple[float, float]:
    lo = math.nextafter(math.nextafter(lower, -math.inf), -math.inf)
    hi = math.nextafter(math.nextafter(upper, math.inf), math.inf)
    return max(lo, 0.0), hi


# ---------------------------------------------------------------------------------------
# Lattice values in double-double
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _lattice_range_dd(rpe: str, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """``x = 2u - 1`` and ``w`` for the lags ``start..stop-1`` as double-double (read-only arrays).

    Computed in mpmath at 40 digits (``u, w`` relative error below ``1e-38``); cached because
    the lattice depends only on ``(rpe, alpha, gamma)``, not on the lag ``T`` or on ``H``.
    """
    xs, ws = [], []
    with mpmath.workdps(40):
        a = mpmath.mpf(alpha.p) / alpha.q
        g = mpmath.mpf(gamma.p) / gamma.q
        if rpe == "lin":
            ea, eg = mpmath.exp(-a), mpmath.exp(-g)
            for s in range(start, stop):
                if s == start or s % 64 == 0:
                    u, w = mpmath.exp(-a * s), mpmath.exp(-g * s)
                else:  # at most 63 consecutive products, each rounded at 40 digits
                    u, w = u * ea, w * eg
                xs.append(2 * u - 1)
                ws.append(w)
        else:
            same = alpha == gamma
            for s in range(start, stop):
                ls = mpmath.log(s)
                u = mpmath.exp(-a * ls)
                xs.append(2 * u - 1)
                ws.append(u / s if same else mpmath.exp(-(1 + g) * ls))
        arrays = (*_mp_to_dd(xs), *_mp_to_dd(ws))
    for arr in arrays:
        arr.setflags(write=False)
    return arrays


def _lattice_dd(kernel: DeltaKernel, lags: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(xh, xl, wh, wl)`` at the lags (contiguous ranges are cached; log lags must be ``>= 1``)."""
    lags = np.asarray(lags, dtype=np.int64)
    if len(lags) and np.all(np.diff(lags) == 1):
        return _lattice_range_dd(kernel.rpe, kernel.alpha, kernel.gamma, int(lags[0]), int(lags[-1]) + 1)
    parts = [_lattice_range_dd.__wrapped__(kernel.rpe, kernel.alpha, kernel.gamma, int(s), int(s) + 1)
             for s in lags.tolist()]
    if not parts:
        return tuple(np.zeros(0) for _ in range(4))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def _kernel_dd(kernel: DeltaKernel, lags: np.ndarray, cdd: tuple[np.ndarray, np.ndarray],
               d2c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P(s) - 1{s = T}`` in double-double with a per-lag rounding bound."""
    xh, xl, wh, wl = _lattice_dd(kernel, lags)
    qh, ql, qb = _dd_clenshaw(cdd[0], cdd[1], xh, xl)
    # x = 2u - 1 with u from 40-digit mpmath, stored as double-double: |x - x'| <= 2^-104 (|x| + 1),
    # and |Q(x) - Q(x')| <= |x - x'| sum_j j^2 |c_j| (Markov: |T_j'| <= j^2 on [-1, 1])
    qb = qb + (np.abs(xh) + 1.0) * 2.0 ** -104 * d2c
    ph, pl = _dd_mul(wh, wl, qh, ql)
    pb = np.abs(wh) * (1 + 2.0 ** -50) * qb + DD_UNIT * (np.abs(ph) + np.abs(wh) * np.abs(qh))
    at_t = lags == kernel.lag
    if np.any(at_t):
        ones = np.where(at_t, -1.0, 0.0)
        ph, pl = _dd_add(ph, pl, ones, np.zeros_like(ones))
        pb = pb + DD_UNIT * (np.abs(ph) + 1.0) * at_t
    return ph, pl, pb


def _prepare(kernel: DeltaKernel) -> tuple[tuple[np.ndarray, np.ndarray], float, float]:
    cdd = _mp_to_dd(kernel.chebyshev_coefficients)
    N = len(cdd[0]) - 1
    c1 = float(np.sum(np.abs(cdd[0]))) * (1 + (N + 2) * _EPS) + 1e-300
    d2c = float(np.sum(np.abs(cdd[0]) * np.arange(N + 1) ** 2)) * (1 + (N + 2) * _EPS)
    return cdd, c1, d2c


def delta_kernel_error_terms(kernel: DeltaKernel, length: Any) -> np.ndarray:
    """``P(s) - 1{s = T}`` for ``s = 0..length-1`` (float64 rounded from double-double).

    For log-RPE the entry ``s = 0`` is 0 (that lag is never seen).
    """
    if not isinstance(kernel, DeltaKernel):
        raise TypeError(f"kernel must be a DeltaKernel, got {type(kernel).__name__}")
    length = require_int("length", length, minimum=1)
    cdd, _c1, d2c = _prepare(kernel)
    out = np.zeros(length)
    start = 0 if kernel.rpe == "lin" else 1
    if length > start:
        lags = np.arange(start, length, dtype=np.int64)
        ph, pl, _ = _kernel_dd(kernel, lags, cdd, d2c)
        out[start:] = ph + pl
    return out


def delta_kernel_sign_pattern(kernel: DeltaKernel, length: Any) -> np.ndarray:
    """The worst-case input signs ``x_{t-s} = sign(P(s) - 1{s = T})`` for lags ``s = 0..length-1``.

    With these (``+1`` where the error is 0), ``sum_s (P(s) - 1{s=T}) x_{t-s}`` equals the l1
    error of the kernel over the lags ``< length``, i.e. :func:`delta_kernel_l1_error` up to
    the truncated tail.  Entry ``s`` is the token ``s`` steps back; a window in time order is
    the reverse of this array.  Returns an ``int8`` array.

    Examples
    --------
    >>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
    >>> delta_kernel_sign_pattern(lemma_f1_kernel(1, 64), 4).tolist()
    [1, -1, 1, -1]
    """
    e = delta_kernel_error_terms(kernel, length)
    return np.where(e < 0, -1, 1).astype(np.int8)


# ---------------------------------------------------------------------------------------
# lin-RPE
# ---------------------------------------------------------------------------------------

def _weight_sum_f(kernel: DeltaKernel) -> float:
    """``sum_t w(t)`` as a float (slightly rounded up)."""
    with mpmath.workdps(30):
        g = mpmath.mpf(kernel.gamma.p) / kernel.gamma.q
        z = -1 / mpmath.expm1(-g) if kernel.rpe == "lin" else mpmath.zeta(1 + g)
        return float(z) * (1 + 1e-12)


def _lin_enclosure(kernel: DeltaKernel, rel_tail: float) -> L1Enclosure:
    cdd, c1, d2c = _prepare(kernel)
    g = float(kernel.gamma)
    with mpmath.workdps(30):
        zsum = float(-1 / mpmath.expm1(-mpmath.mpf(kernel.gamma.p) / kernel.gamma.q)) * (1 + 1e-12)
        model = float(kernel.coefficient_error_bound) * zsum * (1 + 1e-12)

    def tail_bound(S: int) -> float:
        return c1 * math.exp(-g * S) * zsum * (1 + 1e-12)

    # first block: until the tail is below 1e-15 absolute (relative test below)
    S = max(kernel.lag + 2, math.ceil(math.log(max(c1 * zsum, 1.0) / 1e-15) / g))
    chunk = max(64, math.ceil(math.log(10.0) / g))
    parts_h, parts_l = [], []
    rounding = 0.0
    done = 0
    while True:
        lags = np.arange(done, S, dtype=np.int64)
        ph, pl, pb = _kernel_dd(kernel, lags, cdd, d2c)
        parts_h.append(ph)
        parts_l.append(pl)
        rounding += float(np.sum(pb))
        done = S
        direct = _dd_sum_abs(np.concatenate(parts_h), np.concatenate(parts_l))
        if tail_bound(S) <= rel_tail * direct or S > 10 ** 7:
            break
        S += chunk
    rounding = rounding * (1 + 1e-10) + abs(direct) * 2 * _EPS
    tail = tail_bound(S)
    lower, upper = _outward(direct - rounding - model, direct + rounding + tail + model)
    return L1Enclosure(lower, upper, direct, S, rounding, 0.0, tail, model,
                       f"lin: double-double sum over lags 0..{S - 1}, tail <= sum|c_j| e^(-gamma S)/(1-e^(-gamma))")


# ---------------------------------------------------------------------------------------
# log-RPE
# ---------------------------------------------------------------------------------------

def _theta_roots(c: np.ndarray, theta_lo: float, theta_hi: float, per_pi: int) -> np.ndarray:
    """Roots in ``(theta_lo, theta_hi)`` of ``sum_j c_j cos(j theta)`` (float64, bracketed)."""
    if theta_hi <= theta_lo:
        return np.zeros(0)
    count = max(64, int(math.ceil(per_pi * (theta_hi - theta_lo) / math.pi)))
    th = np.linspace(theta_lo, theta_hi, count + 1)
    f = clenshaw(c, np.cos(th))
    exact = th[1:-1][f[1:-1] == 0.0]
    s = np.sign(f)
    idx = np.nonzero(s[:-1] * s[1:] < 0)[0]
    a, b = th[idx], th[idx + 1]
    fa, fb = f[idx], f[idx + 1]
    side = np.zeros(len(a), dtype=np.int8)
    tol = max(1e-10 * math.pi / max(len(c), 1), 8 * np.spacing(math.pi))
    noise = 16 * _EPS * float(np.sum(np.abs(c))) * len(c)  # values below this are rounding noise
    best = 0.5 * (a + b)
    active = np.ones(len(a), dtype=bool)
    for it in range(200):
        if not np.any(active):
            break
        if it % 4 == 3:
            m = 0.5 * (a + b)
        else:
            m = (a * fb - b * fa) / (fb - fa)
            bad = ~((m > a) & (m < b))
            m = np.where(bad, 0.5 * (a + b), m)
        fm = clenshaw(c, np.cos(m))
        left = np.sign(fm) == np.sign(fa)
        # Illinois: halve the retained endpoint's value when it is retained twice
        fb = np.where(active & left & (side == 1), fb * 0.5, fb)
        fa = np.where(active & ~left & (side == -1), fa * 0.5, fa)
        a = np.where(active & left, m, a)
        fa = np.where(active & left, fm, fa)
        b = np.where(active & ~left, m, b)
        fb = np.where(active & ~left, fm, fb)
        side = np.where(left, 1, -1).astype(np.int8)
        small = b - a <= tol
        quiet = np.abs(fm) <= noise
        best = np.where(active & quiet, m, np.where(active & small, 0.5 * (a + b), best))
        active = active & ~(small | quiet)
    roots = np.concatenate([np.where(active, 0.5 * (a + b), best), exact])
    return np.sort(roots)


def _cheb_theta_op(c: np.ndarray) -> np.ndarray:
    """Coefficients of ``u dQ/du = (1 + x) dQ/dx`` for ``Q = sum c_j T_j(x)``."""
    d = _cheb.chebder(c) if len(c) > 1 else np.zeros(1)
    return _cheb.chebadd(d, _cheb.chebmulx(d))


def _cheb_antiderivative_u(c_mp: list[mpmath.mpf], r: int) -> list[mpmath.mpf]:
    """Chebyshev coefficients (in ``x = 2u - 1``) of ``F`` with ``dF/du = u^{r-1} Q(u)``."""
    c = list(c_mp)
    for _ in range(r - 1):  # multiply by u = (1 + x)/2
        n = len(c)
        out = [mpmath.mpf(0)] * (n + 1)
        for j, v in enumerate(c):
            out[j] += v / 2
            if j == 0:
                out[1] += v / 2
            else:
                out[j + 1] += v / 4
                out[j - 1] += v / 4
        c = out
    n = len(c)
    c = c + [mpmath.mpf(0), mpmath.mpf(0)]
    d = [mpmath.mpf(0)] * (n + 1)
    d[1] = c[0] - c[2] / 2
    for j in range(2, n + 1):
        d[j] = (c[j - 1] - c[j + 1]) / (2 * j)
    return [v / 2 for v in d]  # du = dx / 2



def _euler_inverse_cheb(c_mp: list[Any], ratio: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """Chebyshev coefficients (in ``x = 2u - 1``) of the polynomial ``G`` with ``c G + u G' = Q``.

    ``c = ratio > 0`` (a rational, e.g. ``gamma/alpha``).  Then
    ``int_0^b u^{c-1} Q(u) du = b^c G(b)`` for every ``b >= 0`` (differentiate ``u^c G(u)``),
    and ``G(u) = int_0^1 v^{c-1} Q(uv) dv``, so ``|G| <= max|Q| / c``: a well-scaled polynomial.

    With ``G = sum g_m T_m`` and ``G' = dG/dx = sum d_m T_m`` (``d_{m-1} = d_{m+1} + 2 m g_m``),
    the coefficient of ``T_m`` in ``c G + (1 + x) G'`` is ``(c + m) g_m + d_m + d_{m+1}`` for
    ``m >= 1`` and ``c g_0 + d_0 + d_1/2`` for ``m = 0``: back substitution from ``m = N``
    (in mpmath, 60 digits).  The result is rounded to double-double; the *exact* Chebyshev
    coefficients of the residual ``Q - (c G~ + u G~')`` are then computed in rational
    arithmetic, and since ``G - G~ = int_0^1 v^{c-1} res(uv) dv``, the returned bound
    ``sum_m |res_m| / c`` is rigorous for ``sup_{[0,1]} |G - G~|``.
    """
    from fractions import Fraction

    cr = Fraction(int(ratio.p), int(ratio.q))
    if cr <= 0:
        raise ValueError(f"gamma/alpha must be > 0, got {ratio}")
    N = len(c_mp) - 1
    with mpmath.workdps(60):
        q = [mpmath.mpf(v) for v in c_mp]
        cm = mpmath.mpf(cr.numerator) / cr.denominator
        g = [mpmath.mpf(0)] * (N + 3)
        d = [mpmath.mpf(0)] * (N + 3)
        for m in range(N, 0, -1):
            d[m] = d[m + 2] + 2 * (m + 1) * g[m + 1] if m < N else mpmath.mpf(0)
            g[m] = (q[m] - d[m] - d[m + 1]) / (cm + m)
        if N >= 1:
            d[0] = d[2] / 2 + g[1]
        g[0] = (q[0] - d[0] - d[1] / 2) / cm
        gh, gl = _mp_to_dd(g[:N + 1])
    return gh, gl, _euler_residual_bound(c_mp, gh, gl, ratio)


def _euler_residual_bound(c_mp: list[Any], gh: np.ndarray, gl: np.ndarray, ratio: Any) -> float:
    """Rigorous bound of ``sup_{[0,1]} |G - G~|`` for ``G~ = gh + gl`` (see :func:`_euler_inverse_cheb`):
    ``sum_m |res_m| / c`` with the residual's Chebyshev coefficients computed exactly in integers."""
    from fractions import Fraction

    cr = Fraction(int(ratio.p), int(ratio.q))
    N = len(c_mp) - 1
    # exact residual in integers: every coefficient is a dyadic rational, scaled by 2^E
    def _man_exp(v: Any) -> tuple[int, int]:
        sign, man, exp, _bc = mpmath.mpf(v)._mpf_
        return (-int(man) if sign else int(man)), int(exp)

    parts = [_man_exp(v) for v in c_mp] + [_man_exp(float(v)) for v in gh] + [_man_exp(float(v)) for v in gl]
    E = -min([e for m, e in parts if m != 0] + [0])

    def _scaled(m: int, e: int) -> int:
        return m << (e + E)

    qi = [_scaled(*parts[j]) for j in range(N + 1)]
    gi = [_scaled(*parts[N + 1 + j]) + _scaled(*parts[2 * N + 2 + j]) for j in range(N + 1)] + [0, 0]
    di = [0] * (N + 3)  # 2 * (the derivative coefficients) times 2^E: integers
    for m in range(N - 1, -1, -1):
        di[m] = di[m + 2] + 4 * (m + 1) * gi[m + 1]
    if N >= 1:
        di[0] = di[2] // 2 + 2 * gi[1]  # di[2] is even (a multiple of 4)
    P_, Q_ = cr.numerator, cr.denominator
    # 2 Q_ 2^E res_m = 2 Q_ q_m - 2 (P_ + Q_ m) g_m - Q_ (di_m + di_{m+1})  (m >= 1)
    num0 = 4 * Q_ * qi[0] - 4 * P_ * gi[0] - 2 * Q_ * di[0] - Q_ * di[1]   # 4 Q_ 2^E res_0
    tot = Fraction(abs(num0), 4 * Q_)
    acc = 0
    for m in range(1, N + 1):
        acc += abs(2 * Q_ * qi[m] - 2 * (P_ + Q_ * m) * gi[m] - Q_ * (di[m] + di[m + 1]))
    tot += Fraction(acc, 2 * Q_)
    res = tot / (Fraction(2) ** E)
    return float(res / cr) * (1 + 1e-12) + 1e-300


def _weighted_piece_integrals(cdd: tuple[np.ndarray, np.ndarray], c_mp: list[Any], ratio: Any,
                              bx_h: np.ndarray, bx_l: np.ndarray) -> tuple[list[Any], float]:
    """``int_{b_i}^{b_{i+1}} u^{c-1} Q(u) du`` between consecutive breakpoints ``b = (1 + x)/2``
    (``x = bx_h + bx_l``, increasing, ``b_0 >= 0``), exactly up to a returned absolute bound.

    ``F(b) = b^c G(b)`` with ``G`` from :func:`_euler_inverse_cheb`, evaluated by the
    double-double Clenshaw recurrence (rigorous rounding bound) and ``b^c`` in mpmath at 40
    digits.  Returns the pieces (mpf, 40 digits) and a bound on the sum of their errors.
    """
    gh, gl, gbound = _euler_inverse_cheb(c_mp, ratio)
    vh, vl, vb = _dd_clenshaw(gh, gl, bx_h, bx_l)
    F, errs = [], []
    with mpmath.workdps(40):
        cm = mpmath.mpf(int(ratio.p)) / int(ratio.q)
        for xh_, xl_, yh, yl, yb in zip(bx_h.tolist(), bx_l.tolist(), vh.tolist(), vl.tolist(), vb.tolist()):
            b = (1 + mpmath.mpf(xh_) + mpmath.mpf(xl_)) / 2
            bc = mpmath.power(b, cm) if b > 0 else mpmath.mpf(0)
            F.append(bc * (mpmath.mpf(yh) + mpmath.mpf(yl)))
            errs.append(float(bc) * (yb + gbound) * (1 + 1e-10) + abs(float(F[-1])) * 1e-38)
        pieces = [F[i + 1] - F[i] for i in range(len(F) - 1)]
    err = 2 * sum(errs) + sum(abs(float(p)) for p in pieces) * 1e-38
    return pieces, err


def _log_enclosure(kernel: DeltaKernel, direct_terms: int | None, *,
                   exact_weight: bool = False, tail_only: bool = False) -> L1Enclosure:
    # exact_weight: the exact piecewise integral for non-integer gamma/alpha (Lemma F.6 kernels);
    # tail_only: skip the direct sum (direct_sum = 0), the caller sums t < S itself
    cdd, c1, d2c = _prepare(kernel)
    a_f, g_f = float(kernel.alpha), float(kernel.gamma)
    N = kernel.num_terms - 1
    S = direct_terms if direct_terms is not None else 1 << 13
    S = max(S, 2 * (kernel.lag + 1), 8)
    with mpmath.workdps(40):
        am = mpmath.mpf(kernel.alpha.p) / kernel.alpha.q
        gm = mpmath.mpf(kernel.gamma.p) / kernel.gamma.q
        zsum = float(mpmath.zeta(1 + gm)) * (1 + 1e-12)
        model = float(kernel.coefficient_error_bound) * zsum * (1 + 1e-12)
        U_mp = mpmath.power(S, -am)
        xU_mp = 2 * U_mp - 1
        wS = mpmath.power(S, -(1 + gm))
        w2S = mpmath.power(S, -(2 + gm))
    # ---- direct part t = 1..S-1
    if tail_only:
        direct, rounding = 0.0, 0.0
    else:
        lags = np.arange(1, S, dtype=np.int64)
        ph, pl, pb = _kernel_dd(kernel, lags, cdd, d2c)
        direct = _dd_sum_abs(ph, pl)
        rounding = float(np.sum(pb)) * (1 + 1e-10) + abs(direct) * 2 * _EPS
    # ---- roots of Q in u in (0, U): theta in (theta_U, pi)
    c64 = cdd[0]
    U = float(U_mp)
    theta_U = math.acos(max(-1.0, min(1.0, float(xU_mp))))
    per_pi = 16 * (N + 2)
    roots_th = _theta_roots(c64, theta_U, math.pi, per_pi)
    roots_u = np.cos(roots_th / 2) ** 2
    roots_u = np.sort(roots_u[(roots_u > 0) & (roots_u < U)])
    roots_x = 2 * roots_u - 1
    dq_x = _cheb.chebder(c64) if N > 0 else np.zeros(1)  # dQ/dx
    if len(roots_x):  # two Newton steps with Q in double-double: roots to float64 accuracy
        for _ in range(2):
            qh, ql, _qb = _dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
            d = clenshaw(dq_x, roots_x)
            step = np.where(d != 0, (qh + ql) / np.where(d != 0, d, 1.0), 0.0)
            step = np.clip(step, -0.0625 / (N + 1) ** 2, 0.0625 / (N + 1) ** 2)
            roots_x = np.clip(roots_x - step, -1.0, 1.0)
        roots_x = np.sort(roots_x)
        roots_x = roots_x[(roots_x > -1.0) & (roots_x < float(xU_mp))]
        roots_u = (1 + roots_x) / 2
    # ---- main integral
    ratio = kernel.gamma / kernel.alpha
    xU_h, xU_l = _mp_to_dd([xU_mp])
    Q_U_h, Q_U_l, Q_U_b = _dd_clenshaw(cdd[0], cdd[1], xU_h, xU_l)
    Q_U = float(Q_U_h[0] + Q_U_l[0])
    dq = dq_x * 2.0  # dQ/du
    root_err = 0.0
    if len(roots_x):
        qr_h, qr_l, qr_b = _dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
        qr = np.abs(qr_h + qr_l) + qr_b
        dqr = np.abs(clenshaw(dq, roots_x))
        root_err = float(np.sum(np.where(dqr > 0, 4 * qr ** 2 / np.maximum(dqr, 1e-300), qr * 1e-3)))
    if exact_weight and not ratio.is_integer:
        # int_0^U u^{c-1} |Q(u)| du, c = gamma/alpha: exact piecewise between the roots of Q
        # via F(b) = int_0^b u^{c-1} Q = b^c G(b) (see _euler_inverse_cheb)
        bx_h = np.concatenate([[-1.0], roots_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(roots_x), xU_l])
        pieces, perr = _weighted_piece_integrals(cdd, list(kernel.chebyshev_coefficients), ratio, bx_h, bx_l)
        with mpmath.workdps(40):
            integral_u = float(mpmath.fsum(abs(p) for p in pieces))
        cf = float(ratio)
        # root misplacement: 2 int_{r~}^{r} w |Q| with w = u^{c-1} (unbounded as u -> 0 when c < 1)
        w_root = 0.0
        if len(roots_x):  # qr = |Q(r~)| + its rounding bound, dqr = |Q'(r~)|, from above
            delta = np.where(dqr > 0, 2 * qr / np.maximum(dqr, 1e-300), 1.0)
            near = np.maximum(roots_u - delta, roots_u / 2)
            w = np.maximum(near, 1e-300) ** (cf - 1) if cf < 1 else np.minimum(roots_u + delta, 1.0) ** (cf - 1)
            w_root = float(np.sum(np.where(dqr > 0, 4 * qr ** 2 / np.maximum(dqr, 1e-300), qr) * w)) * 1.01
        # the upper limit U is used as its double-double approximation
        dU = abs(float(xU_mp - (mpmath.mpf(float(xU_h[0])) + float(xU_l[0])))) / 2
        lim_err = dU * (abs(Q_U) + float(Q_U_b[0]) + 1.0) * U ** (cf - 1) * 2
        int_lo = integral_u * (1 - 4 * _EPS) - perr - lim_err
        int_hi = integral_u * (1 + 4 * _EPS) + perr + lim_err + w_root
        how = f"exact piecewise integral against u^(c-1), c = gamma/alpha = {ratio}"
    elif ratio.is_integer:
        r = int(ratio)
        with mpmath.workdps(40):
            F = _cheb_antiderivative_u(list(kernel.chebyshev_coefficients), r)
            Fh, Fl = _mp_to_dd(F)
        bx_h = np.concatenate([[-1.0], roots_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(roots_x), xU_l])
        vh, vl, vb = _dd_clenshaw(Fh, Fl, bx_h, bx_l)
        dh, dl = _dd_add(vh[1:], vl[1:], -vh[:-1], -vl[:-1])
        integral_u = _dd_sum_abs(dh, dl)
        # root misplacement effect carries the weight u^{r-1} <= 1
        int_err = float(np.sum(vb)) * 2 + integral_u * 4 * _EPS + root_err
        int_lo, int_hi = integral_u - int_err, integral_u + int_err
        how = f"exact piecewise integral (gamma/alpha = {r})"
    else:
        rf = float(ratio)
        # breakpoints: roots plus geometric points so that the weight varies by <= 1e-4 per piece
        eps_w = 1e-4
        rho = (1 + eps_w) ** (-1.0 / abs(rf - 1)) if rf != 1 else 0.0
        # below u_min = 1e-14 (where x = 2u - 1 still resolves u to 0.6%), bound the integral by
        # max|Q| <= |Q(0)| + u_min * 2 sum_j j^2 |c_j| on [0, u_min]
        u_min = 1e-14
        q0h, q0l, q0b = _dd_clenshaw(cdd[0], cdd[1], np.array([-1.0]), np.array([0.0]))
        q_head = abs(float(q0h[0] + q0l[0])) + float(q0b[0]) + u_min * 2 * d2c
        n_geo = min(int(math.log(U / u_min) / -math.log(rho)) + 1, 2_000_000)
        geo = U * rho ** np.arange(1, n_geo)
        pts = np.unique(np.concatenate([[u_min], roots_u[roots_u > u_min], geo[geo > u_min], [U]]))
        with mpmath.workdps(40):
            F = _cheb_antiderivative_u(list(kernel.chebyshev_coefficients), 1)
        F64 = np.array([float(v) for v in F])
        xs = 2 * pts - 1
        us = (1 + xs) / 2  # the points F is really evaluated at (float rounding of 2u - 1 aside)
        vals, vbound = _f64_clenshaw_bound(F64, xs)
        vbound = vbound + float(np.sum(np.abs(F64))) * 2 * _EPS  # F's coefficients rounded to float64
        piece = np.abs(np.diff(vals))
        perr = vbound[1:] + vbound[:-1]
        wa, wb = us[:-1] ** (rf - 1), us[1:] ** (rf - 1)
        slack = 1 + 8 * _EPS * (abs(rf - 1) + 1)
        lo_piece = np.minimum(wa, wb) / slack * np.maximum(piece - perr, 0.0)
        hi_piece = np.maximum(wa, wb) * slack * (piece + perr)
        head = q_head * u_min ** rf / rf * slack
        int_lo = float(np.sum(lo_piece)) * (1 - len(pts) * _EPS) - root_err
        int_hi = float(np.sum(hi_piece)) * (1 + len(pts) * _EPS) + root_err + head
        integral_u = 0.5 * (int_lo + int_hi)
        how = f"monotone-weight enclosure (gamma/alpha = {ratio} not an integer)"
    inv_a = 1.0 / a_f
    tail_integral = integral_u * inv_a
    # ---- Euler-Maclaurin terms (third order, see the module docstring)
    R1 = _cheb.chebsub(-(1 + g_f) * c64, a_f * _cheb_theta_op(c64)) if N > 0 else -(1 + g_f) * c64
    R2 = _cheb.chebsub(-(2 + g_f) * R1, a_f * _cheb_theta_op(R1)) if N > 0 else -(2 + g_f) * R1
    R3 = _cheb.chebsub(-(3 + g_f) * R2, a_f * _cheb_theta_op(R2)) if N > 0 else -(3 + g_f) * R2
    R1_U = float(clenshaw(R1, np.array([float(xU_mp)]))[0])
    fS = float(wS) * abs(Q_U)
    fpS = (1.0 if Q_U >= 0 else -1.0) * float(w2S) * R1_U
    known = fS / 2 - fpS / 12
    known_err = float(wS) * float(Q_U_b[0]) + abs(fpS) * 1e-6 / 12
    root_term, unc = 0.0, 0.0
    if len(roots_u):
        # kinks of f = |g| at the roots t_i = u_i^(-1/alpha) of g: f' jumps by J1 = 2|g'(t_i)|,
        # f'' by J2 = 2|g''(t_i)|; g' = t^(-2-gamma) R1(u), g'' = t^(-3-gamma) R2(u), and
        # t^(-k-gamma) = u^((k+gamma)/alpha)
        qh, ql, qb = _dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
        dqx = np.abs(clenshaw(dq_x, roots_x))
        dx = 2 * (np.abs(qh + ql) + qb) / np.maximum(dqx, 1e-300) + 2 * _EPS  # distance to the true root
        J1 = 2 * roots_u ** ((2 + g_f) / a_f) * np.abs(clenshaw(R1, roots_x))
        J2 = 2 * roots_u ** ((3 + g_f) / a_f) * np.abs(clenshaw(R2, roots_x))
        p2_mid = np.full(len(roots_u), 1.0 / 48)   # P2 in [-1/24, 1/12] when {t_i} is unknown
        p2_rad = np.full(len(roots_u), 1.0 / 16)
        with mpmath.workdps(40):
            for i in np.nonzero(J1 > 0)[0]:
                u_i = (1 + mpmath.mpf(float(roots_x[i]))) / 2
                t_i = mpmath.power(u_i, -1 / am)
                dt = float(t_i) * (float(dx[i]) / 2) / (a_f * float(u_i)) * 1.01 + 1e-25 * float(t_i)
                if float(t_i) < 2.0 ** 45 and dt < 0.25:
                    fr = float(t_i - mpmath.floor(t_i))
                    p2_mid[i] = (fr * fr - fr) / 2 + 1.0 / 12
                    p2_rad[i] = 0.5 * dt + 1e-15
        root_term = -float(np.sum(p2_mid * J1))
        unc += float(np.sum(p2_rad * J1)) + _P3_MAX * float(np.sum(J2))
    # total variation of g'' = t^(-3-gamma) R2(u) over t >= S: breakpoints at the roots of R3
    p3 = (3 + g_f) / a_f
    r3_th = _theta_roots(R3, theta_U, math.pi, per_pi) if N > 0 else np.zeros(0)
    r3_u = np.cos(r3_th / 2) ** 2
    r3_u = np.sort(r3_u[(r3_u > 0) & (r3_u < U)])
    bp = np.concatenate([[0.0], r3_u, [U]])
    G2 = bp ** p3 * clenshaw(R2, 2 * bp - 1)
    tv2 = float(np.sum(np.abs(np.diff(G2))))
    unc += _P3_MAX * tv2
    unc = 1.1 * unc + 1e-12 * abs(root_term)
    tail_lo = int_lo * inv_a * (1 - 2 * _EPS) + known - known_err + root_term - unc
    tail_hi = int_hi * inv_a * (1 + 2 * _EPS) + known + known_err + root_term + unc
    tail_lo = max(tail_lo, 0.0)
    lower, upper = _outward(direct - rounding + tail_lo - model, direct + rounding + tail_hi + model)
    return L1Enclosure(lower, upper, direct, S, rounding, tail_lo, tail_hi, model,
                       f"log: double-double sum over t = 1..{S - 1}; t >= {S}: {how} "
                       f"+ third-order Euler-Maclaurin",
                       tail_integral, (known, root_term, unc), int(len(roots_u)))


def delta_kernel_l1_error(kernel: DeltaKernel, *, rel_tail: Any = 1e-13,
                          direct_terms: Any = None) -> L1Enclosure:
    """Rigorous enclosure of ``||1{. = T} - P||_{l1}`` (the exact worst-case attention error).

    Parameters
    ----------
    kernel : DeltaKernel
        A Lemma F.1 / F.4 kernel.
    rel_tail : float
        lin: stop the direct sum once the tail bound is below ``rel_tail`` times the sum.
    direct_terms : int or None
        log: sum ``t = 1..S-1`` directly (default ``S = 2^13``, at least ``2 (T + 1)``).

    Returns
    -------
    L1Enclosure
        ``lower <= l1 error <= upper`` with the pieces of the computation.

    Examples
    --------
    >>> from tfapprox.constructions.delta_kernels import lemma_f4_kernel
    >>> enc = delta_kernel_l1_error(lemma_f4_kernel(3, 64))
    >>> print(f"{enc.value:.6f}")
    4.915810
    """
    if not isinstance(kernel, DeltaKernel):
        raise TypeError(f"kernel must be a DeltaKernel, got {type(kernel).__name__}")
    rel_tail = float(require_real("rel_tail", rel_tail, minimum=0.0, strict_minimum=True))
    S = None if direct_terms is None else require_int("direct_terms", direct_terms, minimum=2)
    if all(c == 0 for c in kernel.chebyshev_coefficients):
        # no interpolation node inside the bump: Q = 0 exactly, the error is ||1{.=T}||_1 = 1
        model = float(kernel.coefficient_error_bound) * float(
            _weight_sum_f(kernel)) * (1 + 1e-12)
        lower, upper = _outward(1.0 - model, 1.0 + model)
        return L1Enclosure(lower, upper, 1.0, 0, 0.0, 0.0, 0.0, model,
                           "zero kernel: no interpolation node inside the bump's support, P = 0")
    if kernel.rpe == "lin":
        return _lin_enclosure(kernel, rel_tail)
    return _log_enclosure(kernel, S)


def _log_signed_tail(kernel: DeltaKernel, direct_terms: int) -> tuple[float, float]:
    """Enclosure of the *signed* tail ``sum_{t >= S} P(t)`` (log-RPE; any rational ``gamma/alpha > 0``).

    The same integral transform and Euler-Maclaurin expansion as the l1 tail, for the smooth
    ``g`` (no kinks): ``sum = int + g(S)/2 - g'(S)/12 + int P3 g'''``.  For the realised
    coefficients this equals ``sum_k a_k zeta(beta_k, S)`` (Hurwitz zeta); the tests use that
    identity to check the machinery independently.
    """
    if kernel.rpe != "log":
        raise ValueError("the signed tail is implemented for log-RPE")
    S = require_int("direct_terms", direct_terms, minimum=2)
    cdd, _c1, _d2c = _prepare(kernel)
    c64 = cdd[0]
    N = kernel.num_terms - 1
    a_f, g_f = float(kernel.alpha), float(kernel.gamma)
    ratio = kernel.gamma / kernel.alpha
    with mpmath.workdps(40):
        am = mpmath.mpf(kernel.alpha.p) / kernel.alpha.q
        gm = mpmath.mpf(kernel.gamma.p) / kernel.gamma.q
        U_mp = mpmath.power(S, -am)
        xU = 2 * U_mp - 1
        wS, w2S = float(mpmath.power(S, -(1 + gm))), float(mpmath.power(S, -(2 + gm)))
    xh, xl = _mp_to_dd([mpmath.mpf(-1), xU])
    if ratio.is_integer:
        with mpmath.workdps(40):
            F = _cheb_antiderivative_u(list(kernel.chebyshev_coefficients), int(ratio))
            Fh, Fl = _mp_to_dd(F)
        vh, vl, vb = _dd_clenshaw(Fh, Fl, xh, xl)
        integral = float((vh[1] - vh[0]) + (vl[1] - vl[0])) / a_f
    else:  # int_0^U u^{c-1} Q = U^c G(U) (non-integer c = gamma/alpha, Lemma F.6 kernels)
        pieces, perr = _weighted_piece_integrals(cdd, list(kernel.chebyshev_coefficients), ratio, xh, xl)
        integral = float(pieces[0]) / a_f
        vb = np.array([perr / 2, 0.0])  # enters below as sum(vb) * 2 / alpha
    qh, ql, qb = _dd_clenshaw(cdd[0], cdd[1], xh[1:], xl[1:])
    R1 = _cheb.chebsub(-(1 + g_f) * c64, a_f * _cheb_theta_op(c64)) if N > 0 else -(1 + g_f) * c64
    R2 = _cheb.chebsub(-(2 + g_f) * R1, a_f * _cheb_theta_op(R1)) if N > 0 else -(2 + g_f) * R1
    R3 = _cheb.chebsub(-(3 + g_f) * R2, a_f * _cheb_theta_op(R2)) if N > 0 else -(3 + g_f) * R2
    known = wS * float(qh[0] + ql[0]) / 2 - w2S * float(clenshaw(R1, np.array([float(xU)]))[0]) / 12
    U = float(U_mp)
    theta_U = math.acos(max(-1.0, min(1.0, float(xU))))
    r3_th = _theta_roots(R3, theta_U, math.pi, 16 * (N + 2)) if N > 0 else np.zeros(0)
    r3_u = np.sort(np.cos(r3_th / 2) ** 2)
    bp = np.concatenate([[0.0], r3_u[(r3_u > 0) & (r3_u < U)], [U]])
    tv2 = float(np.sum(np.abs(np.diff(bp ** ((3 + g_f) / a_f) * clenshaw(R2, 2 * bp - 1)))))
    unc = 1.1 * _P3_MAX * tv2 + float(np.sum(vb)) * 2 / a_f + wS * float(qb[0]) + abs(integral) * 4 * _EPS
    mid = integral + known
    return mid - unc, mid + unc
