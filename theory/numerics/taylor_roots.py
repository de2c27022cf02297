"""Certified root isolation of trigonometric polynomials with Taylor models (App. F, log-RPE tails).

The l1 tail of a Lemma F.4 / F.6 kernel is an integral of ``|Q(u)|`` split at the roots of ``Q``
(``u = t^-alpha``; ``Q`` oscillates down to ``t`` of order ``10^500``).  Writing ``x = 2u - 1 =
cos(theta)``, ``Q(theta) = sum_j c_j cos(j theta)``; this module isolates its roots *with
certificates*:

* :func:`certified_theta_roots` cuts ``(theta_lo, theta_hi)`` into blocks, certifies the signs
  at their ends (float64 Clenshaw with a rigorous bound, :func:`certified_signs`) and on each
  block a Taylor model (:func:`trig_models`, order :data:`TAYLOR_ORDER`, remainder from
  ``|Q^(K)| <= sum_j j^K |c_j|``) proves no root or strict monotonicity (:func:`model_decide`);
  undecided blocks are bisected up to :data:`MAX_BISECTIONS` times, what stays undecided is
  returned with rigorous bounds (:class:`RootCertificate`), never assumed root-free;
* :func:`refine_brackets` locates one root per certified bracket (Illinois / bisection);
* :func:`uncertain_rows` converts undecided ``theta`` intervals to ``u`` intervals.

Assumed: a faithful libm ``arccos``/``cos`` (:data:`ACOS_SLACK` absorbs it) and IEEE doubles.

Examples
--------
>>> c = np.array([0.0, 1.0])                    # Q = cos(theta): one root at pi/2
>>> cert = certified_theta_roots(c, 0.1, 3.0, 64)
>>> len(cert.brackets), bool(cert.brackets[0, 0] < np.pi / 2 < cert.brackets[0, 1])
(1, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .double_double import EPS, clenshaw_f64, f64_clenshaw_bound

__all__ = ["TAYLOR_ORDER", "MAX_BISECTIONS", "ACOS_SLACK", "RootCertificate", "trig_models", "model_decide",
           "certified_signs", "model_radius", "decide_intervals", "certified_theta_roots", "settle_pi_block",
           "refine_brackets", "uncertain_rows"]

#: Taylor order of the certification models (remainder ``sum_j j^K |c_j| r^K / K!``).
TAYLOR_ORDER = 12
#: Maximal number of bisections of a sampling block whose model does not decide it.
MAX_BISECTIONS = 10
#: Added to every model radius: covers the libm ``arccos`` of the interval ends and centre
#: (taken as faithful, error <= 1 ulp(pi) = 4.4e-16 each).
ACOS_SLACK = 4e-15


@dataclass(frozen=True)
class RootCertificate:
    """Output of :func:`certified_theta_roots` (all angles are exact ``arccos`` of floats).

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


def trig_models(c: np.ndarray, c_err: float, xc: np.ndarray, r: np.ndarray, K: int | None = None
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
    K = TAYLOR_ORDER if K is None else K
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
    err = 3.0 * EPS * np.where(is_odd, acc, acc_even) * (1 + 1e-6) * (1 + (N + 2) * EPS)
    err = err + np.where(is_odd, 5.0 * EPS * np.abs(odd), 0.0)
    # the coefficient powers (j/N)^k carry <= (k + 1) roundings each: relative error (k + 2) u
    err = err + (ks[:, None] + 2) * EPS * absA * 2 + c_err
    fact = np.array([float(math.factorial(int(k))) for k in ks])[:, None]
    sc = (scale * r[None, :]) ** ks[:, None] / fact
    t = sgn[:, None] * val * sc
    e = (err + np.abs(val) * 4 * K * EPS) * sc * (1 + 1e-12)
    jK = (float(np.sum(np.abs(c) * jn ** K)) * (1 + (N + K + 2) * EPS) + c_err)
    rho = jK * (scale * r) ** K / math.factorial(K) * (1 + 1e-10) + 1e-300
    return t, e, rho


def model_decide(t: np.ndarray, e: np.ndarray, rho: np.ndarray, r: np.ndarray
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


def certified_signs(c: np.ndarray, c_err: float, x: np.ndarray) -> np.ndarray:
    """Signs of ``sum_j c_j T_j(x)`` (``0`` where the rounding bound plus ``c_err`` does not decide)."""
    f, fb = f64_clenshaw_bound(c, x)
    fb = fb + c_err
    return np.where(f > fb, 1, np.where(f < -fb, -1, 0)).astype(np.int8)


def model_radius(a: np.ndarray, b: np.ndarray, tc: np.ndarray) -> np.ndarray:
    """Radius of a model centred at ``tc`` covering ``[a, b]`` (plus :data:`ACOS_SLACK`)."""
    return np.maximum(np.abs(a - tc), np.abs(b - tc)) * (1 + 1e-12) + ACOS_SLACK


def decide_intervals(c: np.ndarray, c_err: float, a: np.ndarray, b: np.ndarray, *, taylor_order: int | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`model_decide` on the Taylor models of the theta-intervals ``[a, b]`` (centred at the
    midpoint of ``cos``, radius by :func:`_radius`)."""
    xc = np.cos(0.5 * (a + b))
    r = model_radius(a, b, np.arccos(xc))
    return model_decide(*trig_models(c, c_err, xc, r, taylor_order), r)


def certified_theta_roots(c: np.ndarray, theta_lo: float, theta_hi: float, per_pi: int, *,
                          c_err: float = 0.0, x_lo: float | None = None, negligible: Any = None,
                          taylor_order: int | None = None, max_bisections: int | None = None) -> RootCertificate:
    """Certified isolation of the roots of ``Q(theta) = sum_j c_j cos(j theta)`` (``Q`` within
    ``c_err`` of it in coefficient l1) in ``(theta_lo, theta_hi)``, ``0 <= theta_lo < theta_hi <= pi``.

    The interval is cut into blocks of ``4 pi / per_pi``; the signs at the block ends come from
    float64 Clenshaw with a rigorous rounding bound (every sign used is certified).  On each
    block a Taylor model of order 12 (:func:`trig_models`, remainder from
    ``|Q^(12)| <= sum_j j^12 |c_j|``) decides whether ``Q`` has no root there (``|Q| > 0``) or is
    strictly monotone (``|Q'| > 0``: one root iff the certified end signs differ, zero if they
    agree).  Undecided blocks are bisected up to ``MAX_BISECTIONS`` times; what is still
    undecided is returned in ``uncertain`` with rigorous bounds, for the caller to widen its
    enclosure (nothing is assumed).  At ``theta_hi = pi`` (``u = 0``) the last block's model is
    centred at ``pi``: ``Q`` is even about ``pi``, so ``Q'' != 0`` there leaves at most one root
    in the block, located through ``Q(pi) = sum_j (-1)^j c_j`` (``0`` up to rounding for second-kind nodes; a
    possible root is then confined to a tiny interval at ``pi``).

    The points are the floats ``x = cos(theta)`` (``x_lo`` replaces the left end); every statement
    is about the exact angles ``arccos(x)``.  ``negligible(a, b, sup_abs)`` (vectorised, optional)
    marks undecided intervals the caller can afford to widen for without bisecting them.
    ``taylor_order`` and ``max_bisections`` default to :data:`TAYLOR_ORDER` and :data:`MAX_BISECTIONS`.
    """
    K = TAYLOR_ORDER if taylor_order is None else int(taylor_order)
    max_bisections = MAX_BISECTIONS if max_bisections is None else int(max_bisections)
    if K < 3:  # the models must bound Q, Q' and Q''
        raise ValueError(f"taylor_order must be an int >= 3, got {taylor_order!r}")
    if max_bisections < 0:
        raise ValueError(f"max_bisections must be an int >= 0, got {max_bisections!r}")
    N = len(c) - 1
    if theta_hi <= theta_lo or N < 1:
        return RootCertificate(np.zeros((0, 2)), np.zeros(0), np.zeros((0, 6)), 0)
    nblk = max(16, int(math.ceil(per_pi * (theta_hi - theta_lo) / math.pi / 4)))
    xs = np.cos(np.linspace(theta_lo, theta_hi, nblk + 1))   # block ends
    if x_lo is not None:
        xs[0] = x_lo
    at_pi = theta_hi == math.pi
    if at_pi:
        xs[-1] = -1.0
    sg = certified_signs(c, c_err, xs)
    tha = np.arccos(xs)
    xc = np.cos(0.5 * (tha[:-1] + tha[1:]))                  # block centres
    r = model_radius(tha[:-1], tha[1:], np.arccos(xc))
    if at_pi:  # the last block's model is centred at pi
        xc[-1] = -1.0
        r[-1] = (math.pi - tha[-2]) * (1 + 1e-12) + ACOS_SLACK
    t, e, rho = trig_models(c, c_err, xc, r, K)
    mr, mins, sups = model_decide(t, e, rho, r)
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
            res = settle_pi_block(c, c_err, a, sa, int(mr[bi]), float(mins[2, bi]), float(sups[2, bi]))
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
    while pending and depth < max_bisections:
        if negligible is not None:
            pa = np.array([p[0] for p in pending])
            pb_ = np.array([p[1] for p in pending])
            mrh, _m, suph = decide_intervals(c, c_err, pa, pb_, taylor_order=K)
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
        sm = certified_signs(c, c_err, xm)
        tm = np.arccos(xm)
        ha, hb = np.concatenate([a, tm]), np.concatenate([tm, b])
        hsa, hsb = np.concatenate([sa, sm]), np.concatenate([sm, sb])
        mrh, minsh, _s = decide_intervals(c, c_err, ha, hb, taylor_order=K)
        models += len(ha)
        pending = [(float(ha[i]), float(hb[i]), int(hsa[i]), int(hsb[i])) for i in range(len(ha))
                   if not settle(float(ha[i]), float(hb[i]), int(hsa[i]), int(hsb[i]), int(mrh[i]),
                                 float(minsh[1, i]))]
    if pending:
        a = np.array([p[0] for p in pending])
        b = np.array([p[1] for p in pending])
        mrh, _minsh, suph = decide_intervals(c, c_err, a, b, taylor_order=K)
        models += len(a)
        for i in range(len(a)):
            uncertain.append((float(a[i]), float(b[i]), *[float(v) for v in suph[:, i]],
                              float(mrh[i] if mrh[i] >= 0 else N)))
    br = np.array(brackets, dtype=float).reshape(-1, 2)
    order = np.argsort(br[:, 0], kind="stable")
    return RootCertificate(br[order], np.array(slopes, dtype=float)[order],
                            np.array(uncertain, dtype=float).reshape(-1, 6), models)


def settle_pi_block(c: np.ndarray, c_err: float, a: float, sa: int, m_r: int,
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
    qb = abs(qv) * 2 * EPS + c_err + 1e-300
    if abs(qv) > qb:
        if (qv > 0) == (sa > 0):
            return "none", None
        return "bracket", (a, math.pi)
    q = abs(qv) + qb
    d = min(math.sqrt(2 * q / m2) * (1 + 1e-12), math.pi - a)
    return "uncertain", (math.pi - d, math.pi, q + s2 * d * d / 2, s2 * d, s2, 1.0)


def refine_brackets(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One root per bracket ``[a_i, b_i]`` (``theta``; ``Q(a)``, ``Q(b)`` of opposite certified
    signs) of ``sum_j c_j cos(j theta)``: Illinois / bisection to about ``1e-10 pi / N``."""
    if len(a) == 0:
        return np.zeros(0)
    a, b = a.astype(float).copy(), b.astype(float).copy()
    fa, fb = clenshaw_f64(c, np.cos(a)), clenshaw_f64(c, np.cos(b))
    side = np.zeros(len(a), dtype=np.int8)
    tol = max(1e-10 * math.pi / max(len(c), 1), 8 * np.spacing(math.pi))
    noise = 16 * EPS * float(np.sum(np.abs(c))) * len(c)  # values below this are rounding noise
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
        fm = clenshaw_f64(c, np.cos(m))
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


def uncertain_rows(rows: np.ndarray, theta_U: float, U: float) -> tuple[np.ndarray, ...]:
    """Uncertain ``theta`` intervals as ``(u_lo, u_hi, s0, s1, s2, n)`` (enlarged by ``2e-15``,
    within the models' radius slack; ``u = cos^2(theta / 2)``, clipped to ``[0, U]``)."""
    if len(rows) == 0:
        z = np.zeros(0)
        return z, z, z, z, z, z
    a = np.maximum(rows[:, 0] - 2e-15, theta_U)
    b = np.minimum(rows[:, 1] + 2e-15, math.pi)
    u_hi = np.minimum(np.cos(a / 2) ** 2 * (1 + 4 * EPS), U)
    u_lo = np.maximum(np.cos(b / 2) ** 2 * (1 - 4 * EPS) - 1e-300, 0.0)
    u_lo = np.where(b >= math.pi, 0.0, u_lo)
    return u_lo, u_hi, rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
