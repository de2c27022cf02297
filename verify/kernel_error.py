"""The exact worst-case attention error of one delta-kernel head group (Lemmas F.1 / F.4).

A DP-free head group with kernel ``P`` approximates ``x_{t-T}`` by ``sum_s P(s) x_{t-s}``; with
``||x_t||_2 <= 1`` its worst-case error is *exactly* the l1 norm

    ``E = sum_s |P(s) - 1{s = T}|``  (``s >= 0`` for lin-RPE, ``s >= 1`` for log-RPE),

attained by the sign input of :func:`delta_kernel_sign_pattern` (the worst case is computed, not sampled).  This
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
      by splitting ``[0, U]`` at the roots of ``Q``: for integer ``gamma/alpha`` (e.g. the
      default 1) with a Chebyshev antiderivative, otherwise (``c = gamma/alpha`` not an
      integer, e.g. ``alpha = 0.3, gamma = 0.03``) through ``int_0^b u^{c-1} Q = b^c G(b)``,
      ``c G + u G' = Q`` (a polynomial solved in the Chebyshev basis with an exact residual
      bound; the weight's integrable singularity at ``u = 0`` needs no special care);
    * ``sum_{t >= S} f(t) = int_S^inf f + f(S)/2 - f'(S+)/12 + E2`` (second-order
      Euler-Maclaurin for the absolutely continuous ``f = |g|``, ``g(t) = t^{-1-gamma} Q(t^{-alpha})``,
      whose derivative jumps by ``2 |g'(r)|`` at each root ``r`` of ``g``), with
      ``-K/6 - W/12 <= E2 <= K/12 + W/12``, ``K = sum_r |g'(r)|`` over the roots ``r > S`` and
      ``W = int_S^inf |g''| = TV(g')``.  With ``g' = t^{-2-gamma} R_1(u)``, ``g'' = t^{-3-gamma} R_2(u)``
      (polynomials ``R_1 = -(1+gamma) Q - alpha u Q'`` and ``R_2 = -(2+gamma) R_1 - alpha u R_1'``),
      ``K`` and ``W`` come from the roots of ``Q`` and of ``R_3`` in ``(0, U)``.  The
      numerically evaluated remainder terms are multiplied by 1.1 as a safety margin.

    The roots are *certified* (:func:`_certified_theta_roots`): in ``theta`` (``u = cos^2(theta/2)``)
    the interval ``(theta_U, pi)`` is cut into blocks of ``pi / (4 (H + 1))``; the signs at the
    block ends are certified by float64 Clenshaw with a rigorous rounding bound, and a Taylor
    model of order 12 on each block (derivatives ``Q^(k)`` at its centre with rounding bounds,
    remainder from ``|Q^(12)| <= sum_j j^12 |c_j|``) proves that ``Q`` has no root there or is
    strictly monotone (exactly one root iff the end signs differ).  Undecided blocks are bisected;
    whatever stays undecided (in practice only a tiny interval at ``u = 0``, where ``Q`` vanishes
    up to rounding for second-kind nodes) widens the enclosure by rigorous bounds (its share of
    the integral, ``n`` possible kinks, its total variation).  Each root is refined inside its
    bracket, and its distance to the true root is bounded by ``|Q(r~)| / min |dQ/dtheta|``; the
    effect of that residual error on the integral and on the kink terms is included.  Assumed:
    a faithful libm ``arccos``/``cos`` (``_ACOS_SLACK`` absorbs it) and IEEE double arithmetic.

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
from collections import OrderedDict
from dataclasses import dataclass
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
    extra = m.bit_length() - 160  # keep 160 bits: the dropped part is below 2^-159 |v|
    if extra > 0:
        m, exp = m >> extra, exp + extra
    if m.bit_length() <= 53:
        return math.ldexp(float(m), exp), 0.0
    hi_m = float(m)  # correctly rounded integer
    rest = m - int(hi_m)
    return math.ldexp(hi_m, exp), math.ldexp(float(rest), exp)


def _mp_to_dd(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """mpf values (an iterable) as double-double arrays ``(hi, lo)``; ``|hi + lo - v| <= 2^-105 |v|``."""
    # mpf inputs are split as they are: mpmath.mpf(v) would round them to the caller's precision
    # (53 bits at the default dps = 15) and lose the low part
    with mpmath.workprec(256):
        pairs = [_mpf_to_dd(v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)) for v in values]
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

def _lattice_compute(rpe: str, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """``x = 2u - 1`` and ``w`` for the lags ``start..stop-1`` as double-double, computed afresh.

    In mpmath at 40 digits (``u, w`` relative error below ``1e-38``).  For ``lin`` each value is
    a product chain restarted (an ``exp``) at ``start`` and at every multiple of 64, so the value
    at a lag depends only on ``start`` and the lag; for ``log`` each value is computed alone.
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
        return (*_mp_to_dd(xs), *_mp_to_dd(ws))


class _LatticeCache:
    """Bounded cache of the double-double lattices, keyed by ``(rpe, alpha, gamma, start)``.

    One entry holds the lags ``start..stop-1`` for the largest ``stop`` asked so far; a shorter
    range is a read-only view of its prefix, a longer one extends it from the last restart point
    of the product chain (:func:`_lattice_compute`), so every value is bit for bit the one a
    fresh computation of the asked range gives.  (The lattice depends only on ``(rpe, alpha,
    gamma)``, not on the lag ``T`` or on ``H``; a sweep over ``H`` asks for growing prefixes.)
    At most ``max_entries`` entries and ``max_points`` lags in all (least recently used
    evicted first; 2^22 lags are 128 MiB); a range longer than ``max_points`` is not kept.
    """

    def __init__(self, max_entries: int = 64, max_points: int = 1 << 22) -> None:
        self.max_entries = max_entries
        self.max_points = max_points
        self._store: "OrderedDict[tuple, tuple[int, tuple[np.ndarray, ...]]]" = OrderedDict()
        self.hits = self.misses = self.extensions = 0

    def clear(self) -> None:
        self._store.clear()
        self.hits = self.misses = self.extensions = 0

    cache_clear = clear  # the name functools caches use (``run_all`` clears caches between jobs)

    def points(self) -> int:
        return sum(len(arrays[0]) for _stop, arrays in self._store.values())

    def get(self, rpe: str, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
        key = (rpe, alpha, gamma, start)
        entry = self._store.get(key)
        if entry is not None and entry[0] >= stop:
            self.hits += 1
            self._store.move_to_end(key)
            return tuple(arr[: max(stop - start, 0)] for arr in entry[1])
        if entry is None:
            self.misses += 1
            arrays = _lattice_compute(rpe, alpha, gamma, start, stop)
        else:  # extend from the last restart point of the chain at or before the cached stop
            self.extensions += 1
            old_stop, old = entry
            resume = max(start, (old_stop // 64) * 64) if rpe == "lin" else old_stop
            new = _lattice_compute(rpe, alpha, gamma, resume, stop)
            arrays = tuple(np.concatenate([o[: resume - start], n]) for o, n in zip(old, new))
        for arr in arrays:
            arr.setflags(write=False)
        if stop - start <= self.max_points:
            self._store[key] = (stop, arrays)
            self._store.move_to_end(key)
            while len(self._store) > self.max_entries or (len(self._store) > 1 and self.points() > self.max_points):
                self._store.popitem(last=False)
        else:
            self._store.pop(key, None)
        return arrays


_LATTICES = _LatticeCache()


def _lattice_range_dd(rpe: str, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """``x = 2u - 1`` and ``w`` for the lags ``start..stop-1`` as double-double (read-only arrays).

    Computed in mpmath at 40 digits (``u, w`` relative error below ``1e-38``); cached
    (:class:`_LatticeCache`, bounded) because the lattice depends only on ``(rpe, alpha, gamma)``,
    not on the lag ``T`` or on ``H``.  ``_lattice_range_dd.__wrapped__`` computes without the cache.
    """
    return _LATTICES.get(rpe, alpha, gamma, start, stop)


_lattice_range_dd.__wrapped__ = _lattice_compute  # type: ignore[attr-defined]


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
    >>> delta_kernel_sign_pattern(lemma_f1_kernel(1, 64), 4)[1:].tolist()  # P(0) = Q(1) is 0 up to rounding
    [-1, 1, -1]
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

# ---------------------------------------------------------------------------------------
# Certified root isolation of Q(theta) = sum_j c_j cos(j theta)   (x = cos theta)
# ---------------------------------------------------------------------------------------

#: Taylor order of the certification models (remainder ``sum_j j^K |c_j| r^K / K!``).
_TAYLOR_ORDER = 12
#: Maximal number of bisections of a sampling block whose model does not decide it.
_MAX_BISECTIONS = 10
#: Added to every model radius: covers the libm ``arccos`` of the interval ends and centre
#: (taken as faithful, error <= 1 ulp(pi) = 4.4e-16 each).
_ACOS_SLACK = 4e-15


@dataclass(frozen=True)
class _RootCertificate:
    """Output of :func:`_certified_theta_roots` (all angles are exact ``arccos`` of floats).

    ``brackets[i] = (a, b)``: ``Q`` has exactly one root in ``(a, b)`` and
    ``|dQ/dtheta| >= slope[i] >= 0`` on ``[a, b]`` (``slope = 0``: no bound).  ``uncertain[i] =
    (a, b, s0, s1, s2, n)``: an interval the models could not decide; there
    ``|Q| <= s0``, ``|dQ/dtheta| <= s1``, ``|d^2Q/dtheta^2| <= s2`` and ``Q`` has at most ``n``
    roots.  ``Q`` has no other root in ``(theta_lo, theta_hi)``.
    """

    brackets: np.ndarray
    slope: np.ndarray
    uncertain: np.ndarray
    models: int


def _trig_models(c: np.ndarray, c_err: float, xc: np.ndarray, r: np.ndarray, K: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Taylor models of ``Q(theta) = sum_j c_j cos(j theta)`` at ``theta_c = arccos(xc)``.

    ``xc`` are exact floats, ``r`` the radii.  Returns ``(t, e, rho)`` with
    ``|t[k] - Q^(k)(theta_c) r^k / k!| <= e[k]`` (``k < K``) and
    ``rho >= sup|Q^(K)| r^K / K!`` (``|Q^(K)| <= sum_j j^K |c_j|``), so that on
    ``|theta - theta_c| <= r``: ``Q = sum_k t_k s^k + R``, ``|s| <= 1``, ``|R| <= rho``.
    ``c_err`` bounds ``sum_j |c_j - c~_j|`` for the polynomial ``c~`` really meant (its
    derivative terms are bounded by ``N^k c_err``).

    ``Q^(k)`` is ``+-sum_j c_j j^k T_j(x)`` (``k`` even) or ``+-sin(theta) sum_j c_j j^k U_{j-1}(x)``
    (``k`` odd): one Clenshaw recurrence on a ``(K, m)`` array with a running rounding bound
    (the error is ``sum_j e_j T_j(x)`` resp. ``sum_j e_j sin(j theta)``, so ``<= sum_j |e_j|``).
    """
    K = _TAYLOR_ORDER if K is None else K
    N = len(c) - 1
    M = len(xc)
    scale = float(max(N, 1))
    ks = np.arange(K)
    jn = np.arange(N + 1, dtype=float) / scale
    A = c[None, :] * jn[None, :] ** ks[:, None]          # c_j (j/N)^k, exact up to 1 rounding per power
    A[0] = c
    sgn = np.array([1.0, -1.0, -1.0, 1.0])[ks % 4]       # cos(. + k pi/2): +cos, -sin, -cos, +sin
    x = xc[None, :]
    x2 = np.broadcast_to(2.0 * x, (K, M))
    b1 = np.zeros((K, M))
    b2 = np.zeros((K, M))
    tmp = np.empty((K, M))
    babs = np.zeros((K, M))   # sum_j |b_j|: |e_j| <= 3u (|a_j| + 2|b_{j+1}| + |b_{j+2}|) as |x| <= 1
    for j in range(N, 0, -1):
        np.multiply(x2, b1, out=tmp)
        tmp -= b2
        tmp += A[:, j:j + 1]
        b1, b2, tmp = tmp, b1, b2
        babs += np.abs(b1)
    even = A[:, 0:1] + x * b1 - b2
    absA = np.sum(np.abs(A), axis=1)[:, None]
    acc = absA + 3.0 * babs + np.abs(even)
    acc_even = acc
    sin_c = np.sqrt((1.0 - xc) * (1.0 + xc))[None, :]    # sin(arccos(xc)) to 3 ulp
    odd = sin_c * b1
    is_odd = (ks % 2 == 1)[:, None]
    val = np.where(is_odd, odd, even)
    err = 3.0 * _EPS * np.where(is_odd, acc, acc_even) * (1 + 1e-6) * (1 + (N + 2) * _EPS)
    err = err + np.where(is_odd, 5.0 * _EPS * np.abs(odd), 0.0)
    # the coefficient powers (j/N)^k carry <= (k + 1) roundings each: relative error (k + 2) u
    err = err + (ks[:, None] + 2) * _EPS * absA * 2 + c_err
    fact = np.array([float(math.factorial(int(k))) for k in ks])[:, None]
    sc = (scale * r[None, :]) ** ks[:, None] / fact
    t = sgn[:, None] * val * sc
    e = (err + np.abs(val) * 4 * K * _EPS) * sc * (1 + 1e-12)
    jK = (float(np.sum(np.abs(c) * jn ** K)) * (1 + (N + K + 2) * _EPS) + c_err)
    rho = jK * (scale * r) ** K / math.factorial(K) * (1 + 1e-10) + 1e-300
    return t, e, rho


def _model_decide(t: np.ndarray, e: np.ndarray, rho: np.ndarray, r: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(max_roots, mins, sups)`` per model.

    ``Q^(m)`` has no zero on the model interval if
    ``|t_m| - e_m > sum_{l > m} C(l, m) (|t_l| + e_l) + C(K, m) rho`` (Taylor expansion of
    ``Q^(m)``), and then ``Q`` has at most ``m`` roots there (Rolle); ``max_roots`` is the least
    such ``m`` (``-1``: none).  ``mins[m] <= inf |Q^(m)|`` (0 when the test fails) and
    ``sups[m] >= sup |Q^(m)|`` on the model interval, ``m = 0, 1, 2``.
    """
    K = t.shape[0]
    up = np.abs(t) + e
    low = np.abs(t) - e
    max_roots = np.full(t.shape[1], -1, dtype=np.int64)
    sups, mins = [], []
    for m in range(K):
        rest = (sum(math.comb(l, m) * up[l] for l in range(m + 1, K)) + math.comb(K, m) * rho) * (1 + 1e-12)
        if m < 3:
            sups.append((up[m] + rest) * math.factorial(m) / r ** m * (1 + 1e-12))
            mins.append(np.maximum(low[m] - rest, 0.0) * math.factorial(m) / r ** m * (1 - 1e-12))
        max_roots = np.where((low[m] > rest) & (max_roots < 0), m, max_roots)
    return max_roots, np.array(mins), np.array(sups)


def _signs(c: np.ndarray, c_err: float, x: np.ndarray) -> np.ndarray:
    f, fb = _f64_clenshaw_bound(c, x)
    fb = fb + c_err
    return np.where(f > fb, 1, np.where(f < -fb, -1, 0)).astype(np.int8)


def _radius(a: np.ndarray, b: np.ndarray, tc: np.ndarray) -> np.ndarray:
    return np.maximum(np.abs(a - tc), np.abs(b - tc)) * (1 + 1e-12) + _ACOS_SLACK


def _decide_intervals(c: np.ndarray, c_err: float, a: np.ndarray, b: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_model_decide` on the Taylor models of the theta-intervals ``[a, b]`` (centred at the
    midpoint of ``cos``, radius by :func:`_radius`)."""
    xc = np.cos(0.5 * (a + b))
    r = _radius(a, b, np.arccos(xc))
    return _model_decide(*_trig_models(c, c_err, xc, r), r)


def _certified_theta_roots(c: np.ndarray, theta_lo: float, theta_hi: float, per_pi: int, *,
                           c_err: float = 0.0, x_lo: float | None = None,
                           negligible: Any = None) -> _RootCertificate:
    """Certified isolation of the roots of ``Q(theta) = sum_j c_j cos(j theta)`` (``Q`` within
    ``c_err`` of it in coefficient l1) in ``(theta_lo, theta_hi)``, ``0 <= theta_lo < theta_hi <= pi``.

    The interval is cut into blocks of ``4 pi / per_pi``; the signs at the block ends come from
    float64 Clenshaw with a rigorous rounding bound (every sign used is certified).  On each
    block a Taylor model of order 12 (:func:`_trig_models`, remainder from
    ``|Q^(12)| <= sum_j j^12 |c_j|``) decides whether ``Q`` has no root there (``|Q| > 0``) or is
    strictly monotone (``|Q'| > 0``: one root iff the certified end signs differ, zero if they
    agree).  Undecided blocks are bisected up to ``_MAX_BISECTIONS`` times; what is still
    undecided is returned in ``uncertain`` with rigorous bounds, for the caller to widen its
    enclosure (nothing is assumed).  At ``theta_hi = pi`` (``u = 0``) the last block's model is
    centred at ``pi``: ``Q`` is even about ``pi``, so ``Q'' != 0`` there leaves at most one root
    in the block, located through ``Q(pi) = sum_j (-1)^j c_j`` (``0`` up to rounding for second-kind nodes; a
    possible root is then confined to a tiny interval at ``pi``).

    The points are the floats ``x = cos(theta)`` (``x_lo`` replaces the left end); every statement
    is about the exact angles ``arccos(x)``.  ``negligible(a, b, sup_abs)`` (vectorised, optional)
    marks undecided intervals the caller can afford to widen for without bisecting them.
    """
    N = len(c) - 1
    if theta_hi <= theta_lo or N < 1:
        return _RootCertificate(np.zeros((0, 2)), np.zeros(0), np.zeros((0, 6)), 0)
    nblk = max(16, int(math.ceil(per_pi * (theta_hi - theta_lo) / math.pi / 4)))
    xs = np.cos(np.linspace(theta_lo, theta_hi, nblk + 1))   # block ends
    if x_lo is not None:
        xs[0] = x_lo
    at_pi = theta_hi == math.pi
    if at_pi:
        xs[-1] = -1.0
    sg = _signs(c, c_err, xs)
    tha = np.arccos(xs)
    xc = np.cos(0.5 * (tha[:-1] + tha[1:]))                  # block centres
    r = _radius(tha[:-1], tha[1:], np.arccos(xc))
    if at_pi:  # the last block's model is centred at pi
        xc[-1] = -1.0
        r[-1] = (math.pi - tha[-2]) * (1 + 1e-12) + _ACOS_SLACK
    t, e, rho = _trig_models(c, c_err, xc, r)
    mr, mins, sups = _model_decide(t, e, rho, r)
    models = nblk
    brackets: list[tuple[float, float]] = []
    slopes: list[float] = []
    uncertain: list[tuple[float, ...]] = []
    pending: list[tuple[float, float, int, int]] = []

    def settle(a: float, b: float, sa: int, sb: int, m_r: int, slp: float) -> bool:
        """Record a decided interval (no root; or monotone with certified end signs)."""
        if m_r == 0:
            return True
        if m_r == 1 and sa != 0 and sb != 0:
            if sa != sb:
                brackets.append((a, b))
                slopes.append(slp)
            return True
        return False

    for bi in range(nblk):
        a, b, sa, sb = float(tha[bi]), float(tha[bi + 1]), int(sg[bi]), int(sg[bi + 1])
        if at_pi and bi == nblk - 1:
            res = _settle_pi_block(c, c_err, a, sa, int(mr[bi]), float(mins[2, bi]), float(sups[2, bi]))
            if res is None:
                pending.append((a, b, sa, sb))
            elif res[0] == "bracket":
                brackets.append(res[1])
                slopes.append(0.0)
            elif res[0] == "uncertain":
                uncertain.append(res[1])
        elif not settle(a, b, sa, sb, int(mr[bi]), float(mins[1, bi])):
            pending.append((a, b, sa, sb))
    depth = 0
    while pending and depth < _MAX_BISECTIONS:
        if negligible is not None:
            pa = np.array([p[0] for p in pending])
            pb_ = np.array([p[1] for p in pending])
            mrh, _m, suph = _decide_intervals(c, c_err, pa, pb_)
            small = np.asarray(negligible(pa, pb_, suph[0]), dtype=bool)
            for i in np.nonzero(small)[0]:
                uncertain.append((float(pa[i]), float(pb_[i]), *[float(v) for v in suph[:, i]],
                                  float(mrh[i] if mrh[i] >= 0 else N)))
            pending = [p for p, sm_ in zip(pending, small) if not sm_]
            if not pending:
                break
        depth += 1
        a = np.array([p[0] for p in pending])
        b = np.array([p[1] for p in pending])
        sa = np.array([p[2] for p in pending], dtype=np.int8)
        sb = np.array([p[3] for p in pending], dtype=np.int8)
        xm = np.cos(0.5 * (a + b))
        sm = _signs(c, c_err, xm)
        tm = np.arccos(xm)
        ha, hb = np.concatenate([a, tm]), np.concatenate([tm, b])
        hsa, hsb = np.concatenate([sa, sm]), np.concatenate([sm, sb])
        mrh, minsh, _s = _decide_intervals(c, c_err, ha, hb)
        models += len(ha)
        pending = [(float(ha[i]), float(hb[i]), int(hsa[i]), int(hsb[i])) for i in range(len(ha))
                   if not settle(float(ha[i]), float(hb[i]), int(hsa[i]), int(hsb[i]), int(mrh[i]),
                                 float(minsh[1, i]))]
    if pending:
        a = np.array([p[0] for p in pending])
        b = np.array([p[1] for p in pending])
        mrh, _minsh, suph = _decide_intervals(c, c_err, a, b)
        models += len(a)
        for i in range(len(a)):
            uncertain.append((float(a[i]), float(b[i]), *[float(v) for v in suph[:, i]],
                              float(mrh[i] if mrh[i] >= 0 else N)))
    br = np.array(brackets, dtype=float).reshape(-1, 2)
    order = np.argsort(br[:, 0], kind="stable")
    return _RootCertificate(br[order], np.array(slopes, dtype=float)[order],
                            np.array(uncertain, dtype=float).reshape(-1, 6), models)


def _settle_pi_block(c: np.ndarray, c_err: float, a: float, sa: int, m_r: int,
                     m2: float, s2: float) -> tuple[str, Any] | None:
    """The block ``[a, pi]`` with its model centred at ``pi`` (``None``: undecided).

    ``Q`` is even about ``pi``; with ``|Q''| >= m2 > 0`` on ``[pi - r, pi + r]`` (``m_r <= 2``),
    ``Q`` is strictly monotone on ``[a, pi]`` and has at most one root there: none if ``Q(a)``
    and ``Q(pi) = sum_j (-1)^j c_j`` have the same certified sign, one (a bracket) if opposite.
    If the sign of ``Q(pi)`` is not certified (``|Q(pi)| <= q``, e.g. a second-kind node at
    ``u = 0``), a root ``theta*`` obeys ``|Q(pi)| = |Q''(xi)| (pi - theta*)^2 / 2``, so it lies in
    ``[pi - d, pi]``, ``d = sqrt(2 q / m2)``: returned as an uncertain interval of one root at
    most, with ``|Q| <= q + s2 d^2 / 2``, ``|Q'| <= s2 d``.
    """
    if m_r == 0:
        return "none", None
    if m_r not in (1, 2) or sa == 0 or m2 <= 0:
        return None
    alt = np.where(np.arange(len(c)) % 2 == 0, 1.0, -1.0) * c
    qv = math.fsum(alt.tolist())
    qb = abs(qv) * 2 * _EPS + c_err + 1e-300
    if abs(qv) > qb:
        if (qv > 0) == (sa > 0):
            return "none", None
        return "bracket", (a, math.pi)
    q = abs(qv) + qb
    d = min(math.sqrt(2 * q / m2) * (1 + 1e-12), math.pi - a)
    return "uncertain", (math.pi - d, math.pi, q + s2 * d * d / 2, s2 * d, s2, 1.0)


def _refine_brackets(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One root per bracket ``[a_i, b_i]`` (``theta``; ``Q(a)``, ``Q(b)`` of opposite certified
    signs) of ``sum_j c_j cos(j theta)``: Illinois / bisection to about ``1e-10 pi / N``."""
    if len(a) == 0:
        return np.zeros(0)
    a, b = a.astype(float).copy(), b.astype(float).copy()
    fa, fb = clenshaw(c, np.cos(a)), clenshaw(c, np.cos(b))
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
            m = (a * fb - b * fa) / np.where(fb != fa, fb - fa, 1.0)
            bad = ~((m > a) & (m < b)) | (fb == fa)
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
    return np.where(active, 0.5 * (a + b), best)


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


def _weight_antiderivative(u: np.ndarray, c: float) -> np.ndarray:
    """``u^c / c`` (an antiderivative of the weight ``u^{c-1}``), slightly rounded up."""
    return np.maximum(u, 0.0) ** c / c * (1 + 1e-10)


def _uncertain_rows(rows: np.ndarray, theta_U: float, U: float) -> tuple[np.ndarray, ...]:
    """Uncertain ``theta`` intervals as ``(u_lo, u_hi, s0, s1, s2, n)`` (enlarged by ``2e-15``,
    within the models' radius slack; ``u = cos^2(theta / 2)``, clipped to ``[0, U]``)."""
    if len(rows) == 0:
        z = np.zeros(0)
        return z, z, z, z, z, z
    a = np.maximum(rows[:, 0] - 2e-15, theta_U)
    b = np.minimum(rows[:, 1] + 2e-15, math.pi)
    u_hi = np.minimum(np.cos(a / 2) ** 2 * (1 + 4 * _EPS), U)
    u_lo = np.maximum(np.cos(b / 2) ** 2 * (1 - 4 * _EPS) - 1e-300, 0.0)
    u_lo = np.where(b >= math.pi, 0.0, u_lo)
    return u_lo, u_hi, rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]


def _log_enclosure(kernel: DeltaKernel, direct_terms: int | None, *,
                   exact_weight: bool = True, tail_only: bool = False) -> L1Enclosure:
    # exact_weight: for non-integer gamma/alpha, the exact piecewise integral against u^(c-1)
    #   (the default); False selects the older monotone-weight enclosure (valid, but wide).
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
    ratio = kernel.gamma / kernel.alpha
    cf = float(ratio)
    c64 = cdd[0]
    U = float(U_mp)
    xU_h, xU_l = _mp_to_dd([xU_mp])
    Q_U_h, Q_U_l, Q_U_b = _dd_clenshaw(cdd[0], cdd[1], xU_h, xU_l)
    Q_U = float(Q_U_h[0] + Q_U_l[0])
    # ---- certified roots of Q in u in (0, U): theta in (theta_U, pi)
    theta_U = math.acos(max(-1.0, min(1.0, float(xU_h[0]))))
    per_pi = 16 * (N + 2)
    c_err = (float(np.sum(np.abs(cdd[1]))) + float(np.sum(np.abs(c64))) * 2.0 ** -104) * (1 + 1e-10)
    cert = _certified_theta_roots(c64, theta_U, math.pi, per_pi, c_err=c_err, x_lo=float(xU_h[0]))
    rows = [tuple(r) for r in cert.uncertain]
    # the sliver between float(x_U) and x_U: no root if |Q(x_U)| beats Markov's |dQ/dx| <= sum j^2 |c_j|
    sliver = abs(float(xU_l[0])) * 2
    if N > 0 and abs(Q_U) - float(Q_U_b[0]) <= d2c * sliver:
        jj = np.arange(N + 1, dtype=float)
        dth = sliver / max(math.sin(theta_U), 1e-300) + 4e-15
        rows.append((theta_U - dth, theta_U + dth, abs(Q_U) + float(Q_U_b[0]) + d2c * sliver,
                     float(np.sum(jj * np.abs(c64))) * 1.01 + c_err * N,
                     float(np.sum(jj ** 2 * np.abs(c64))) * 1.01 + c_err * N * N, float(N)))
    urows = np.array(rows, dtype=float).reshape(-1, 6)
    u_lo, u_hi, s0, s1, s2, n_unc = _uncertain_rows(urows, theta_U, U)
    br = cert.brackets
    roots_th = _refine_brackets(c64, br[:, 0], br[:, 1])
    roots_x = np.cos(roots_th)
    bx_lo, bx_hi = np.cos(br[:, 1]), np.cos(br[:, 0])
    dq_x = _cheb.chebder(c64) if N > 0 else np.zeros(1)  # dQ/dx
    if len(roots_x):  # two Newton steps with Q in double-double, kept inside the certified bracket
        for _ in range(2):
            qh, ql, _qb = _dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
            d = clenshaw(dq_x, roots_x)
            step = np.where(d != 0, (qh + ql) / np.where(d != 0, d, 1.0), 0.0)
            roots_x = np.clip(roots_x - step, bx_lo, bx_hi)
    order = np.argsort(roots_x, kind="stable")
    roots_x, slope = roots_x[order], cert.slope[order]
    width = (br[order, 1] - br[order, 0]) + 2 * _ACOS_SLACK
    roots_u = (1 + roots_x) / 2
    # rigorous distance to the true root: |Q(r~)| / min|dQ/dtheta| on the (monotone) bracket
    qr_h, qr_l, qr_b = _dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
    qr = np.abs(qr_h + qr_l) + qr_b
    dth = np.where(slope > 0, np.minimum(qr / np.where(slope > 0, slope, 1.0), width), width) * (1 + 1e-12)
    du = dth / 2  # |du/dtheta| = sin(theta) / 2
    # |Q| <= |Q(r~)| between r~ and the true root (monotone): the misplaced piece
    w_mis = float(np.sum(2 * qr * (_weight_antiderivative(roots_u + du, cf)
                                   - _weight_antiderivative(roots_u - du, cf) * (1 - 2e-10))))
    # undecided intervals: int_I |Q| w <= sup|Q| int_I w, and breakpoints at their ends
    w_unc = float(np.sum(2 * s0 * (_weight_antiderivative(u_hi, cf) - _weight_antiderivative(u_lo, cf) * (1 - 2e-10))))
    unc_x = np.concatenate([2 * u_lo - 1, 2 * u_hi - 1])
    unc_x = unc_x[(unc_x > -1.0) & (unc_x < float(xU_h[0]))]
    brk_x = np.unique(np.concatenate([roots_x[(roots_x > -1.0) & (roots_x < float(xU_h[0]))], unc_x]))
    # ---- main integral int_0^U u^{c-1} |Q(u)| du
    Q_U_b0 = float(Q_U_b[0])
    if not ratio.is_integer and exact_weight:
        # exact piecewise between the breakpoints via F(b) = int_0^b u^{c-1} Q = b^c G(b)
        bx_h = np.concatenate([[-1.0], brk_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(brk_x), xU_l])
        pieces, perr = _weighted_piece_integrals(cdd, list(kernel.chebyshev_coefficients), ratio, bx_h, bx_l)
        with mpmath.workdps(40):
            integral_u = float(mpmath.fsum(abs(p) for p in pieces))
        # the upper limit U is used as its double-double approximation
        dU = abs(float(xU_mp - (mpmath.mpf(float(xU_h[0])) + float(xU_l[0])))) / 2
        lim_err = dU * (abs(Q_U) + Q_U_b0 + 1.0) * U ** (cf - 1) * 2
        int_lo = integral_u * (1 - 4 * _EPS) - perr - lim_err
        int_hi = integral_u * (1 + 4 * _EPS) + perr + lim_err + w_mis + w_unc
        how = f"exact piecewise integral against u^(c-1), c = gamma/alpha = {ratio}"
    elif ratio.is_integer:
        r = int(ratio)
        with mpmath.workdps(40):
            F = _cheb_antiderivative_u(list(kernel.chebyshev_coefficients), r)
            Fh, Fl = _mp_to_dd(F)
        bx_h = np.concatenate([[-1.0], brk_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(brk_x), xU_l])
        vh, vl, vb = _dd_clenshaw(Fh, Fl, bx_h, bx_l)
        dh, dl = _dd_add(vh[1:], vl[1:], -vh[:-1], -vl[:-1])
        integral_u = _dd_sum_abs(dh, dl)
        int_err = float(np.sum(vb)) * 2 + integral_u * 4 * _EPS
        int_lo, int_hi = integral_u - int_err, integral_u + int_err + w_mis + w_unc
        how = f"exact piecewise integral (gamma/alpha = {r})"
    else:
        rf = cf
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
        brk_u = (1 + brk_x) / 2
        pts = np.unique(np.concatenate([[u_min], brk_u[brk_u > u_min], geo[geo > u_min], [U]]))
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
        int_lo = float(np.sum(lo_piece)) * (1 - len(pts) * _EPS)
        int_hi = float(np.sum(hi_piece)) * (1 + len(pts) * _EPS) + head + w_mis + w_unc
        integral_u = 0.5 * (int_lo + int_hi)
        how = f"monotone-weight enclosure (gamma/alpha = {ratio} not an integer)"
    inv_a = 1.0 / a_f
    tail_integral = integral_u * inv_a
    # ---- Euler-Maclaurin terms (third order, see the module docstring)
    R1 = _cheb.chebsub(-(1 + g_f) * c64, a_f * _cheb_theta_op(c64)) if N > 0 else -(1 + g_f) * c64
    R2 = _cheb.chebsub(-(2 + g_f) * R1, a_f * _cheb_theta_op(R1)) if N > 0 else -(2 + g_f) * R1
    R3 = _cheb.chebsub(-(3 + g_f) * R2, a_f * _cheb_theta_op(R2)) if N > 0 else -(3 + g_f) * R2
    p2, p3 = (2 + g_f) / a_f, (3 + g_f) / a_f
    R1_U = float(clenshaw(R1, np.array([float(xU_mp)]))[0])
    fS = float(wS) * abs(Q_U)
    fpS = (1.0 if Q_U >= 0 else -1.0) * float(w2S) * R1_U
    known = fS / 2 - fpS / 12
    known_err = float(wS) * Q_U_b0 + abs(fpS) * 1e-6 / 12
    root_term, unc = 0.0, 0.0
    if len(roots_u):
        # kinks of f = |g| at the roots t_i = u_i^(-1/alpha) of g: f' jumps by J1 = 2|g'(t_i)|,
        # f'' by J2 = 2|g''(t_i)|; g' = t^(-2-gamma) R1(u), g'' = t^(-3-gamma) R2(u), and
        # t^(-k-gamma) = u^((k+gamma)/alpha)
        J1 = 2 * roots_u ** p2 * np.abs(clenshaw(R1, roots_x))
        J2 = 2 * roots_u ** p3 * np.abs(clenshaw(R2, roots_x))
        p2_mid = np.full(len(roots_u), 1.0 / 48)   # P2 in [-1/24, 1/12] when {t_i} is unknown
        p2_rad = np.full(len(roots_u), 1.0 / 16)
        with mpmath.workdps(40):
            for i in np.nonzero(J1 > 0)[0]:
                u_i = (1 + mpmath.mpf(float(roots_x[i]))) / 2
                t_i = mpmath.power(u_i, -1 / am)
                dt = float(t_i) * (float(du[i]) + 2 * _EPS) / (a_f * float(u_i)) * 1.01 + 1e-25 * float(t_i)
                if float(t_i) < 2.0 ** 45 and dt < 0.25:
                    fr = float(t_i - mpmath.floor(t_i))
                    p2_mid[i] = (fr * fr - fr) / 2 + 1.0 / 12
                    p2_rad[i] = 0.5 * dt + 1e-15
        root_term = -float(np.sum(p2_mid * J1))
        # J1, J2 are evaluated at r~, not at the true root (|u - r~| <= du):
        # d(u^p2 R1)/du = -u^(p2-1) R2 / alpha, d(u^p3 R2)/du = -u^(p3-1) R3 / alpha, and
        # |R(u) - R(r~)| <= 2 du sum_j j^2 |R_j| (Markov)
        def _lip(Rc: np.ndarray, p: float) -> np.ndarray:
            jj = np.arange(len(Rc), dtype=float)
            base = np.maximum(roots_u - du, 0.0) if p < 1 else np.minimum(roots_u + du, 1.0)
            local = np.abs(clenshaw(Rc, roots_x)) * (1 + 1e-6) + 2 * du * float(np.sum(jj ** 2 * np.abs(Rc))) * 1.01
            return base ** (p - 1) * local / a_f * 1.01
        dJ1 = 2 * du * _lip(R2, p2)
        dJ2 = 2 * du * _lip(R3, p3)
        unc += float(np.sum(p2_rad * J1)) + _P3_MAX * float(np.sum(J2))
        unc += float(np.sum((np.abs(p2_mid) + p2_rad) * dJ1)) + _P3_MAX * float(np.sum(dJ2))
    # undecided intervals: up to n roots, each a kink with |P2| <= 1/12 and a jump 2|g''| of f'';
    # sup |g'| <= u^p2 sup|R1|, R1 = -(1+gamma) Q - alpha u Q_u, R2 = (2+gamma)(1+gamma) Q
    # + alpha (3 + 2 gamma + alpha) u Q_u + alpha^2 u^2 Q_uu, with u|Q_u| <= sqrt(u/(1-u)) |Q_theta|,
    # u^2 |Q_uu| <= u/(1-u) |Q_theta theta| + sqrt(u) / (2 (1-u)^1.5) |Q_theta|
    if len(u_hi):
        uq = np.sqrt(u_hi / (1 - u_hi)) * s1
        uuq = u_hi / (1 - u_hi) * s2 + np.sqrt(u_hi) / (2 * (1 - u_hi) ** 1.5) * s1
        R1b = (1 + g_f) * s0 + a_f * uq
        R2b = (2 + g_f) * (1 + g_f) * s0 + a_f * (3 + 2 * g_f + a_f) * uq + a_f ** 2 * uuq
        unc += float(np.sum(n_unc * (u_hi ** p2 * R1b / 6 + 2 * _P3_MAX * u_hi ** p3 * R2b))) * 1.01
    # total variation of g'' = t^(-3-gamma) R2(u) over t >= S: breakpoints at the (certified) roots of R3
    tv2 = _tv_g2(R2, R3, theta_U, U, per_pi, p3, a_f)
    unc += _P3_MAX * tv2
    unc = 1.1 * unc + 1e-12 * abs(root_term)
    tail_lo = int_lo * inv_a * (1 - 2 * _EPS) + known - known_err + root_term - unc
    tail_hi = int_hi * inv_a * (1 + 2 * _EPS) + known + known_err + root_term + unc
    tail_lo = max(tail_lo, 0.0)
    lower, upper = _outward(direct - rounding + tail_lo - model, direct + rounding + tail_hi + model)
    undecided = "" if len(u_hi) == 0 else f"; {len(u_hi)} undecided root interval(s) widened"
    return L1Enclosure(lower, upper, direct, S, rounding, tail_lo, tail_hi, model,
                       f"log: double-double sum over t = 1..{S - 1}; t >= {S}: {how} "
                       f"+ third-order Euler-Maclaurin; certified root isolation{undecided}",
                       tail_integral, (known, root_term, unc), int(len(roots_u)))


def _tv_g2(R2: np.ndarray, R3: np.ndarray, theta_U: float, U: float, per_pi: int, p3: float, a_f: float) -> float:
    """Total variation over ``u in (0, U)`` of ``G2(u) = u^p3 R2(u)`` (``g''`` in ``u``): monotone
    between the roots of ``R3`` (``dG2/du = -u^(p3-1) R3 / alpha``), which are isolated by
    :func:`_certified_theta_roots`; an undecided interval ``I`` adds
    ``int_I |dG2/du| <= sup_I|R3| (u_hi^p3 - u_lo^p3) / (p3 alpha)``."""
    if len(R3) < 2:
        return abs(U ** p3 * float(clenshaw(R2, np.array([2 * U - 1]))[0]))
    def negligible(a: np.ndarray, b: np.ndarray, sup_abs: np.ndarray) -> np.ndarray:
        u_hi = np.minimum(np.cos(np.maximum(a - 2e-15, 0.0) / 2) ** 2, 1.0)
        return sup_abs * u_hi ** p3 / (p3 * a_f) <= 1e-30

    cert = _certified_theta_roots(R3, theta_U, math.pi, per_pi, negligible=negligible)
    r3_u = np.cos(_refine_brackets(R3, cert.brackets[:, 0], cert.brackets[:, 1]) / 2) ** 2
    u_lo, u_hi, s0, _s1, _s2, _n = _uncertain_rows(cert.uncertain, theta_U, U)
    bp = np.unique(np.concatenate([[0.0], r3_u[(r3_u > 0) & (r3_u < U)], u_lo, u_hi, [U]]))
    G2 = bp ** p3 * clenshaw(R2, 2 * bp - 1)
    widen = float(np.sum(s0 * (u_hi ** p3 - u_lo ** p3))) / (p3 * a_f) * 1.01
    return float(np.sum(np.abs(np.diff(G2)))) + widen


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
        log: sum ``t = 1..S-1`` directly (default ``S = 2^13``, at least ``2 (T + 1)``).  The
        tail ``t >= S`` uses the exact weighted integral for any rational ``gamma/alpha`` and a
        certified root isolation (see the module docstring).

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
    # the same (immutable, cached by delta_kernel) kernel object is often certified again
    key = (id(kernel), rel_tail, S, _tunables())
    hit = _ENCLOSURE_CACHE.get(key)
    if hit is not None and hit[0] is kernel:
        _ENCLOSURE_CACHE.move_to_end(key)
        return hit[1]
    enclosure = _delta_kernel_l1_error(kernel, rel_tail, S)
    if kernel.num_terms <= 2048:  # bounded memory: small kernels only, at most _ENCLOSURE_CACHE_SIZE
        _ENCLOSURE_CACHE[key] = (kernel, enclosure)  # the entry holds the kernel: its id is not reused meanwhile
        while len(_ENCLOSURE_CACHE) > _ENCLOSURE_CACHE_SIZE:
            _ENCLOSURE_CACHE.popitem(last=False)
    return enclosure


def _tunables() -> tuple:
    """The module's numeric settings (``_MAX_BISECTIONS``, ``_TAYLOR_ORDER``, ...): part of the
    cache key, so that changing one (as the tests do) is never answered from the cache."""
    return tuple((k, v) for k, v in sorted(globals().items())
                 if k[:2] == "_" + k[1:2] and k[1:2].isupper() and type(v) in (int, float) and k != "_ENCLOSURE_CACHE_SIZE")


#: Enclosures by ``(id(kernel), rel_tail, direct_terms, settings)``, each entry holding its kernel (bounded LRU).
_ENCLOSURE_CACHE: "OrderedDict[tuple, tuple[DeltaKernel, L1Enclosure]]" = OrderedDict()
_ENCLOSURE_CACHE_SIZE = 128


def _delta_kernel_l1_error(kernel: DeltaKernel, rel_tail: float, S: int | None) -> L1Enclosure:
    """:func:`delta_kernel_l1_error` without the cache (arguments already checked)."""
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
    tv2 = _tv_g2(R2, R3, theta_U, U, 16 * (N + 2), (3 + g_f) / a_f, a_f)
    unc = 1.1 * _P3_MAX * tv2 + float(np.sum(vb)) * 2 / a_f + wS * float(qb[0]) + abs(integral) * 4 * _EPS
    mid = integral + known
    return mid - unc, mid + unc
