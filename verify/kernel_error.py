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

    The roots are *certified*
    (:func:`tfapprox.theory.numerics.taylor_roots.certified_theta_roots`): in ``theta`` (``u = cos^2(theta/2)``)
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
    a faithful libm ``arccos``/``cos`` (``ACOS_SLACK`` absorbs it) and IEEE double arithmetic.

The numerics live in :mod:`tfapprox.theory.numerics` (double-double arithmetic, the lattice,
Taylor-model root isolation, weighted integrals, Euler-Maclaurin, outward rounding); this module
puts them together for the two families (:data:`_ENCLOSURES`).

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
from typing import Any

import mpmath
import numpy as np
from numpy.polynomial import chebyshev as npcheb

from tfapprox.constructions.delta_kernels import DeltaKernel
from tfapprox.theory.families import LIN, LOG, kernel_family
from tfapprox.theory.numerics.double_double import (
    DD_UNIT, EPS, clenshaw_f64, dd_add, dd_clenshaw, dd_mul, dd_sum_abs, f64_clenshaw_bound, mp_to_dd,
)
from tfapprox.theory.numerics.enclosure import Enclosure, L1Enclosure
from tfapprox.theory.numerics.euler_maclaurin import P3_MAX, euler_maclaurin_polys, total_variation_g2
from tfapprox.theory.numerics.lattice import lattice_dd
from tfapprox.theory.numerics.rounding import outward
from tfapprox.theory.numerics.taylor_roots import (
    ACOS_SLACK, MAX_BISECTIONS, TAYLOR_ORDER, certified_theta_roots, refine_brackets, uncertain_rows,
)
from tfapprox.theory.numerics.weighted_integrals import (
    cheb_antiderivative_u, weight_antiderivative, weighted_piece_integrals,
)
from tfapprox.theory.validation import require_int, require_real

__all__ = [
    "DD_UNIT",
    "L1Enclosure",
    "delta_kernel_l1_error",
    "delta_kernel_error_terms",
    "delta_kernel_sign_pattern",
    "kernel_error_dd",
    "prepare_coefficients",
    "log_enclosure",
    "log_signed_tail",
]

#: Settings of the root certification used here (the tests lower them to provoke undecided
#: intervals); part of the enclosure cache key (:func:`_tunables`).
_TAYLOR_ORDER = TAYLOR_ORDER
_MAX_BISECTIONS = MAX_BISECTIONS


# ---------------------------------------------------------------------------------------
# P(s) - 1{s = T} in double-double
# ---------------------------------------------------------------------------------------

def kernel_error_dd(kernel: DeltaKernel, lags: np.ndarray, cdd: tuple[np.ndarray, np.ndarray],
                    d2c: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(hi, lo, bound)``: ``P(s) - 1{s = T}`` at the lags in double-double, with a per-lag rounding bound.

    ``cdd, d2c`` come from :func:`prepare_coefficients`; lags must be ``>= first_lag`` of the family.
    """
    xh, xl, wh, wl = lattice_dd(kernel.rpe, kernel.alpha, kernel.gamma, lags)
    qh, ql, qb = dd_clenshaw(cdd[0], cdd[1], xh, xl)
    # x = 2u - 1 with u from 40-digit mpmath, stored as double-double: |x - x'| <= 2^-104 (|x| + 1),
    # and |Q(x) - Q(x')| <= |x - x'| sum_j j^2 |c_j| (Markov: |T_j'| <= j^2 on [-1, 1])
    qb = qb + (np.abs(xh) + 1.0) * 2.0 ** -104 * d2c
    ph, pl = dd_mul(wh, wl, qh, ql)
    pb = np.abs(wh) * (1 + 2.0 ** -50) * qb + DD_UNIT * (np.abs(ph) + np.abs(wh) * np.abs(qh))
    at_t = lags == kernel.lag
    if np.any(at_t):
        ones = np.where(at_t, -1.0, 0.0)
        ph, pl = dd_add(ph, pl, ones, np.zeros_like(ones))
        pb = pb + DD_UNIT * (np.abs(ph) + 1.0) * at_t
    return ph, pl, pb


def prepare_coefficients(kernel: DeltaKernel) -> tuple[tuple[np.ndarray, np.ndarray], float, float]:
    """``(cdd, c1, d2c)``: the Chebyshev coefficients of ``Q`` as double-double, ``sum_j |c_j|`` and
    ``sum_j j^2 |c_j|`` (Markov's bound of ``|Q'|``), both rounded up."""
    cdd = mp_to_dd(kernel.chebyshev_coefficients)
    N = len(cdd[0]) - 1
    c1 = float(np.sum(np.abs(cdd[0]))) * (1 + (N + 2) * EPS) + 1e-300
    d2c = float(np.sum(np.abs(cdd[0]) * np.arange(N + 1) ** 2)) * (1 + (N + 2) * EPS)
    return cdd, c1, d2c


def delta_kernel_error_terms(kernel: DeltaKernel, length: Any) -> np.ndarray:
    """``P(s) - 1{s = T}`` for ``s = 0..length-1`` (float64 rounded from double-double).

    Entries below the family's first lag are 0 (log-RPE: the lag ``s = 0`` is never seen).
    """
    if not isinstance(kernel, DeltaKernel):
        raise TypeError(f"kernel must be a DeltaKernel, got {type(kernel).__name__}")
    length = require_int("length", length, minimum=1)
    cdd, _c1, d2c = prepare_coefficients(kernel)
    out = np.zeros(length)
    start = kernel_family(kernel.rpe).first_lag
    if length > start:
        lags = np.arange(start, length, dtype=np.int64)
        ph, pl, _ = kernel_error_dd(kernel, lags, cdd, d2c)
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
# lin-RPE (geometric tail)
# ---------------------------------------------------------------------------------------

def _weight_sum_f(kernel: DeltaKernel) -> float:
    """``sum_t w(t)`` as a float (slightly rounded up)."""
    with mpmath.workdps(30):
        g = mpmath.mpf(kernel.gamma.p) / kernel.gamma.q
        return float(kernel_family(kernel.rpe).weight_sum_mp(g)) * (1 + 1e-12)


def _lin_enclosure(kernel: DeltaKernel, rel_tail: float, _S: int | None = None) -> L1Enclosure:
    """lin-RPE: double-double sum until the geometric tail bound is below ``rel_tail`` of the sum."""
    cdd, c1, d2c = prepare_coefficients(kernel)
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
        ph, pl, pb = kernel_error_dd(kernel, lags, cdd, d2c)
        parts_h.append(ph)
        parts_l.append(pl)
        rounding += float(np.sum(pb))
        done = S
        direct = dd_sum_abs(np.concatenate(parts_h), np.concatenate(parts_l))
        if tail_bound(S) <= rel_tail * direct or S > 10 ** 7:
            break
        S += chunk
    rounding = rounding * (1 + 1e-10) + abs(direct) * 2 * EPS
    tail = tail_bound(S)
    lower, upper = outward(direct - rounding - model, direct + rounding + tail + model, floor=0.0)
    return L1Enclosure(lower, upper, direct, S, rounding, 0.0, tail, model,
                       f"lin: double-double sum over lags 0..{S - 1}, tail <= sum|c_j| e^(-gamma S)/(1-e^(-gamma))")


# ---------------------------------------------------------------------------------------
# log-RPE (certified Euler-Maclaurin tail)
# ---------------------------------------------------------------------------------------

def log_enclosure(kernel: DeltaKernel, direct_terms: int | None, *,
                  exact_weight: bool = True, tail_only: bool = False) -> L1Enclosure:
    """log-RPE: direct sum over ``t < S`` and the certified Euler-Maclaurin tail (module docstring).

    ``direct_terms`` is ``S`` (default ``2^13``, at least ``2 (T + 1)``).  ``exact_weight``: for
    non-integer ``gamma/alpha`` the exact piecewise integral against ``u^(c-1)`` (default);
    ``False`` selects the older monotone-weight enclosure (valid, but wide).  ``tail_only``: skip
    the direct sum (``direct_sum = 0``); the caller sums ``t < S`` itself (Lemma F.6).
    """
    cdd, c1, d2c = prepare_coefficients(kernel)
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
        ph, pl, pb = kernel_error_dd(kernel, lags, cdd, d2c)
        direct = dd_sum_abs(ph, pl)
        rounding = float(np.sum(pb)) * (1 + 1e-10) + abs(direct) * 2 * EPS
    ratio = kernel.gamma / kernel.alpha
    cf = float(ratio)
    c64 = cdd[0]
    U = float(U_mp)
    xU_h, xU_l = mp_to_dd([xU_mp])
    Q_U_h, Q_U_l, Q_U_b = dd_clenshaw(cdd[0], cdd[1], xU_h, xU_l)
    Q_U = float(Q_U_h[0] + Q_U_l[0])
    # ---- certified roots of Q in u in (0, U): theta in (theta_U, pi)
    theta_U = math.acos(max(-1.0, min(1.0, float(xU_h[0]))))
    per_pi = 16 * (N + 2)
    c_err = (float(np.sum(np.abs(cdd[1]))) + float(np.sum(np.abs(c64))) * 2.0 ** -104) * (1 + 1e-10)
    cert = certified_theta_roots(c64, theta_U, math.pi, per_pi, c_err=c_err, x_lo=float(xU_h[0]),
                                 taylor_order=_TAYLOR_ORDER, max_bisections=_MAX_BISECTIONS)
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
    u_lo, u_hi, s0, s1, s2, n_unc = uncertain_rows(urows, theta_U, U)
    br = cert.brackets
    roots_th = refine_brackets(c64, br[:, 0], br[:, 1])
    roots_x = np.cos(roots_th)
    bx_lo, bx_hi = np.cos(br[:, 1]), np.cos(br[:, 0])
    dq_x = npcheb.chebder(c64) if N > 0 else np.zeros(1)  # dQ/dx
    if len(roots_x):  # two Newton steps with Q in double-double, kept inside the certified bracket
        for _ in range(2):
            qh, ql, _qb = dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
            d = clenshaw_f64(dq_x, roots_x)
            step = np.where(d != 0, (qh + ql) / np.where(d != 0, d, 1.0), 0.0)
            roots_x = np.clip(roots_x - step, bx_lo, bx_hi)
    order = np.argsort(roots_x, kind="stable")
    roots_x, slope = roots_x[order], cert.slope[order]
    width = (br[order, 1] - br[order, 0]) + 2 * ACOS_SLACK
    roots_u = (1 + roots_x) / 2
    # rigorous distance to the true root: |Q(r~)| / min|dQ/dtheta| on the (monotone) bracket
    qr_h, qr_l, qr_b = dd_clenshaw(cdd[0], cdd[1], roots_x, np.zeros_like(roots_x))
    qr = np.abs(qr_h + qr_l) + qr_b
    dth = np.where(slope > 0, np.minimum(qr / np.where(slope > 0, slope, 1.0), width), width) * (1 + 1e-12)
    du = dth / 2  # |du/dtheta| = sin(theta) / 2
    # |Q| <= |Q(r~)| between r~ and the true root (monotone): the misplaced piece
    w_mis = float(np.sum(2 * qr * (weight_antiderivative(roots_u + du, cf)
                                   - weight_antiderivative(roots_u - du, cf) * (1 - 2e-10))))
    # undecided intervals: int_I |Q| w <= sup|Q| int_I w, and breakpoints at their ends
    w_unc = float(np.sum(2 * s0 * (weight_antiderivative(u_hi, cf) - weight_antiderivative(u_lo, cf) * (1 - 2e-10))))
    unc_x = np.concatenate([2 * u_lo - 1, 2 * u_hi - 1])
    unc_x = unc_x[(unc_x > -1.0) & (unc_x < float(xU_h[0]))]
    brk_x = np.unique(np.concatenate([roots_x[(roots_x > -1.0) & (roots_x < float(xU_h[0]))], unc_x]))
    # ---- main integral int_0^U u^{c-1} |Q(u)| du
    Q_U_b0 = float(Q_U_b[0])
    if not ratio.is_integer and exact_weight:
        # exact piecewise between the breakpoints via F(b) = int_0^b u^{c-1} Q = b^c G(b)
        bx_h = np.concatenate([[-1.0], brk_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(brk_x), xU_l])
        pieces, perr = weighted_piece_integrals(cdd, list(kernel.chebyshev_coefficients), ratio, bx_h, bx_l)
        with mpmath.workdps(40):
            integral_u = float(mpmath.fsum(abs(p) for p in pieces))
        # the upper limit U is used as its double-double approximation
        dU = abs(float(xU_mp - (mpmath.mpf(float(xU_h[0])) + float(xU_l[0])))) / 2
        lim_err = dU * (abs(Q_U) + Q_U_b0 + 1.0) * U ** (cf - 1) * 2
        int_lo = integral_u * (1 - 4 * EPS) - perr - lim_err
        int_hi = integral_u * (1 + 4 * EPS) + perr + lim_err + w_mis + w_unc
        how = f"exact piecewise integral against u^(c-1), c = gamma/alpha = {ratio}"
    elif ratio.is_integer:
        r = int(ratio)
        with mpmath.workdps(40):
            F = cheb_antiderivative_u(list(kernel.chebyshev_coefficients), r)
            Fh, Fl = mp_to_dd(F)
        bx_h = np.concatenate([[-1.0], brk_x, xU_h])
        bx_l = np.concatenate([[0.0], np.zeros_like(brk_x), xU_l])
        vh, vl, vb = dd_clenshaw(Fh, Fl, bx_h, bx_l)
        dh, dl = dd_add(vh[1:], vl[1:], -vh[:-1], -vl[:-1])
        integral_u = dd_sum_abs(dh, dl)
        int_err = float(np.sum(vb)) * 2 + integral_u * 4 * EPS
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
        q0h, q0l, q0b = dd_clenshaw(cdd[0], cdd[1], np.array([-1.0]), np.array([0.0]))
        q_head = abs(float(q0h[0] + q0l[0])) + float(q0b[0]) + u_min * 2 * d2c
        n_geo = min(int(math.log(U / u_min) / -math.log(rho)) + 1, 2_000_000)
        geo = U * rho ** np.arange(1, n_geo)
        brk_u = (1 + brk_x) / 2
        pts = np.unique(np.concatenate([[u_min], brk_u[brk_u > u_min], geo[geo > u_min], [U]]))
        with mpmath.workdps(40):
            F = cheb_antiderivative_u(list(kernel.chebyshev_coefficients), 1)
        F64 = np.array([float(v) for v in F])
        xs = 2 * pts - 1
        us = (1 + xs) / 2  # the points F is really evaluated at (float rounding of 2u - 1 aside)
        vals, vbound = f64_clenshaw_bound(F64, xs)
        vbound = vbound + float(np.sum(np.abs(F64))) * 2 * EPS  # F's coefficients rounded to float64
        piece = np.abs(np.diff(vals))
        perr = vbound[1:] + vbound[:-1]
        wa, wb = us[:-1] ** (rf - 1), us[1:] ** (rf - 1)
        slack = 1 + 8 * EPS * (abs(rf - 1) + 1)
        lo_piece = np.minimum(wa, wb) / slack * np.maximum(piece - perr, 0.0)
        hi_piece = np.maximum(wa, wb) * slack * (piece + perr)
        head = q_head * u_min ** rf / rf * slack
        int_lo = float(np.sum(lo_piece)) * (1 - len(pts) * EPS)
        int_hi = float(np.sum(hi_piece)) * (1 + len(pts) * EPS) + head + w_mis + w_unc
        integral_u = 0.5 * (int_lo + int_hi)
        how = f"monotone-weight enclosure (gamma/alpha = {ratio} not an integer)"
    inv_a = 1.0 / a_f
    tail_integral = integral_u * inv_a
    # ---- Euler-Maclaurin terms (third order, see the module docstring)
    R1, R2, R3 = euler_maclaurin_polys(c64, a_f, g_f)
    p2, p3 = (2 + g_f) / a_f, (3 + g_f) / a_f
    R1_U = float(clenshaw_f64(R1, np.array([float(xU_mp)]))[0])
    fS = float(wS) * abs(Q_U)
    fpS = (1.0 if Q_U >= 0 else -1.0) * float(w2S) * R1_U
    known = fS / 2 - fpS / 12
    known_err = float(wS) * Q_U_b0 + abs(fpS) * 1e-6 / 12
    root_term, unc = 0.0, 0.0
    if len(roots_u):
        # kinks of f = |g| at the roots t_i = u_i^(-1/alpha) of g: f' jumps by J1 = 2|g'(t_i)|,
        # f'' by J2 = 2|g''(t_i)|; g' = t^(-2-gamma) R1(u), g'' = t^(-3-gamma) R2(u), and
        # t^(-k-gamma) = u^((k+gamma)/alpha)
        J1 = 2 * roots_u ** p2 * np.abs(clenshaw_f64(R1, roots_x))
        J2 = 2 * roots_u ** p3 * np.abs(clenshaw_f64(R2, roots_x))
        p2_mid = np.full(len(roots_u), 1.0 / 48)   # P2 in [-1/24, 1/12] when {t_i} is unknown
        p2_rad = np.full(len(roots_u), 1.0 / 16)
        with mpmath.workdps(40):
            for i in np.nonzero(J1 > 0)[0]:
                u_i = (1 + mpmath.mpf(float(roots_x[i]))) / 2
                t_i = mpmath.power(u_i, -1 / am)
                dt = float(t_i) * (float(du[i]) + 2 * EPS) / (a_f * float(u_i)) * 1.01 + 1e-25 * float(t_i)
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
            local = np.abs(clenshaw_f64(Rc, roots_x)) * (1 + 1e-6) + 2 * du * float(np.sum(jj ** 2 * np.abs(Rc))) * 1.01
            return base ** (p - 1) * local / a_f * 1.01
        dJ1 = 2 * du * _lip(R2, p2)
        dJ2 = 2 * du * _lip(R3, p3)
        unc += float(np.sum(p2_rad * J1)) + P3_MAX * float(np.sum(J2))
        unc += float(np.sum((np.abs(p2_mid) + p2_rad) * dJ1)) + P3_MAX * float(np.sum(dJ2))
    # undecided intervals: up to n roots, each a kink with |P2| <= 1/12 and a jump 2|g''| of f'';
    # sup |g'| <= u^p2 sup|R1|, R1 = -(1+gamma) Q - alpha u Q_u, R2 = (2+gamma)(1+gamma) Q
    # + alpha (3 + 2 gamma + alpha) u Q_u + alpha^2 u^2 Q_uu, with u|Q_u| <= sqrt(u/(1-u)) |Q_theta|,
    # u^2 |Q_uu| <= u/(1-u) |Q_theta theta| + sqrt(u) / (2 (1-u)^1.5) |Q_theta|
    if len(u_hi):
        uq = np.sqrt(u_hi / (1 - u_hi)) * s1
        uuq = u_hi / (1 - u_hi) * s2 + np.sqrt(u_hi) / (2 * (1 - u_hi) ** 1.5) * s1
        R1b = (1 + g_f) * s0 + a_f * uq
        R2b = (2 + g_f) * (1 + g_f) * s0 + a_f * (3 + 2 * g_f + a_f) * uq + a_f ** 2 * uuq
        unc += float(np.sum(n_unc * (u_hi ** p2 * R1b / 6 + 2 * P3_MAX * u_hi ** p3 * R2b))) * 1.01
    # total variation of g'' = t^(-3-gamma) R2(u) over t >= S: breakpoints at the (certified) roots of R3
    tv2 = total_variation_g2(R2, R3, theta_U, U, per_pi, p3, a_f, taylor_order=_TAYLOR_ORDER,
                             max_bisections=_MAX_BISECTIONS)
    unc += P3_MAX * tv2
    unc = 1.1 * unc + 1e-12 * abs(root_term)
    tail_lo = int_lo * inv_a * (1 - 2 * EPS) + known - known_err + root_term - unc
    tail_hi = int_hi * inv_a * (1 + 2 * EPS) + known + known_err + root_term + unc
    tail_lo = max(tail_lo, 0.0)
    lower, upper = outward(direct - rounding + tail_lo - model, direct + rounding + tail_hi + model, floor=0.0)
    undecided = "" if len(u_hi) == 0 else f"; {len(u_hi)} undecided root interval(s) widened"
    return L1Enclosure(lower, upper, direct, S, rounding, tail_lo, tail_hi, model,
                       f"log: double-double sum over t = 1..{S - 1}; t >= {S}: {how} "
                       f"+ third-order Euler-Maclaurin; certified root isolation{undecided}",
                       tail_integral, (known, root_term, unc), int(len(roots_u)))


def _log_enclosure_entry(kernel: DeltaKernel, _rel_tail: float, S: int | None) -> L1Enclosure:
    """log-RPE entry of :data:`_ENCLOSURES` (``rel_tail`` is a lin setting)."""
    return log_enclosure(kernel, S)


#: The enclosure of each kernel family: lin sums until the geometric tail is negligible, log
#: adds the certified Euler-Maclaurin tail.  A new family registers its enclosure here.
_ENCLOSURES = {LIN: _lin_enclosure, LOG: _log_enclosure_entry}


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
        certified root isolation (see the module docstring).  Ignored by lin.

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
        lower, upper = outward(1.0 - model, 1.0 + model, floor=0.0)
        return L1Enclosure(lower, upper, 1.0, 0, 0.0, 0.0, 0.0, model,
                           "zero kernel: no interpolation node inside the bump's support, P = 0")
    family = kernel_family(kernel.rpe)
    if family not in _ENCLOSURES:
        raise ValueError(f"no l1 enclosure is implemented for the kernel family {family.name!r}; "
                         f"known: {', '.join(f.name for f in _ENCLOSURES)}")
    return _ENCLOSURES[family](kernel, rel_tail, S)


def log_signed_tail(kernel: DeltaKernel, direct_terms: int) -> Enclosure:
    """Enclosure of the *signed* tail ``sum_{t >= S} P(t)`` (log-RPE; any rational ``gamma/alpha > 0``).

    The same integral transform and Euler-Maclaurin expansion as the l1 tail, for the smooth
    ``g`` (no kinks): ``sum = int + g(S)/2 - g'(S)/12 + int P3 g'''``.  For the realised
    coefficients this equals ``sum_k a_k zeta(beta_k, S)`` (Hurwitz zeta); the tests use that
    identity to check the machinery independently.  Returns an :class:`Enclosure` (``lo, hi = ...``).
    """
    if _ENCLOSURES.get(kernel_family(kernel.rpe)) is not _log_enclosure_entry:
        raise ValueError(f"the signed tail is implemented for log-RPE (the Euler-Maclaurin families), "
                         f"got rpe={kernel.rpe!r}")
    S = require_int("direct_terms", direct_terms, minimum=2)
    cdd, _c1, _d2c = prepare_coefficients(kernel)
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
    xh, xl = mp_to_dd([mpmath.mpf(-1), xU])
    if ratio.is_integer:
        with mpmath.workdps(40):
            F = cheb_antiderivative_u(list(kernel.chebyshev_coefficients), int(ratio))
            Fh, Fl = mp_to_dd(F)
        vh, vl, vb = dd_clenshaw(Fh, Fl, xh, xl)
        integral = float((vh[1] - vh[0]) + (vl[1] - vl[0])) / a_f
    else:  # int_0^U u^{c-1} Q = U^c G(U) (non-integer c = gamma/alpha, Lemma F.6 kernels)
        pieces, perr = weighted_piece_integrals(cdd, list(kernel.chebyshev_coefficients), ratio, xh, xl)
        integral = float(pieces[0]) / a_f
        vb = np.array([perr / 2, 0.0])  # enters below as sum(vb) * 2 / alpha
    qh, ql, qb = dd_clenshaw(cdd[0], cdd[1], xh[1:], xl[1:])
    R1, R2, R3 = euler_maclaurin_polys(c64, a_f, g_f)
    known = wS * float(qh[0] + ql[0]) / 2 - w2S * float(clenshaw_f64(R1, np.array([float(xU)]))[0]) / 12
    U = float(U_mp)
    theta_U = math.acos(max(-1.0, min(1.0, float(xU))))
    tv2 = total_variation_g2(R2, R3, theta_U, U, 16 * (N + 2), (3 + g_f) / a_f, a_f,
                             taylor_order=_TAYLOR_ORDER, max_bisections=_MAX_BISECTIONS)
    unc = 1.1 * P3_MAX * tv2 + float(np.sum(vb)) * 2 / a_f + wS * float(qb[0]) + abs(integral) * 4 * EPS
    mid = integral + known
    return Enclosure(mid - unc, mid + unc)
