"""Near-optimal exponential sums: AAK / Prony starting points and a sequential-LP refinement.

The kernels of DP-free lin-RPE heads with the infinite padded past and of diagonal linear RNNs are
exponential sums ``g(s) = sum_k c_k lambda_k^s`` with real ``lambda_k = e^{-p_k}`` in ``(0, 1)``
(Wang & E 2024, Sec. 5 and App. F.1-F.3); on a finite window (``past="none"``) a head's
contribution at a fixed output position is ``c e^{-p s}`` for any real slope; a log-RPE head gives
``c s^{-p}``, an exponential in ``u = log s``.  This module *constructs* such sums for a given
target (values in, exponents and coefficients out); certifying their errors is the job of
:mod:`tfapprox.verify.near_optimal`.

Starting points
---------------
* :func:`aak_prony` -- the AAK / Prony line (Adamjan-Arov-Krein; Beylkin and Monzon 2005, "On
  approximation of functions by exponential sums"; Plonka, Potts et al., arXiv 1609.09603): the
  singular vector ``u`` of the ``(n+1)``-st singular value of a Hankel section ``[h(i + j)]`` of the
  samples; the roots of its polynomial ``sum_j u_j z^j`` give the nodes ``lambda_k`` (Prony), and
  the coefficients follow by least squares.  For a sum of ``n`` real exponentials the nodes are
  recovered exactly (``sigma_{n+1} = 0``).
* :func:`power_law_quadrature` -- Beylkin-Monzon for ``s^-beta``: the trapezoidal rule on
  ``s^-beta = Gamma(beta)^{-1} int e^{-s e^u + beta u} du`` gives geometric exponents
  ``p_k = e^{u_k}`` with positive coefficients.

Refinement
----------
:func:`refine_l1` minimises the weighted l1 error ``sum_s w_s |rho(s) - sum_k c_k b(p_k, s)|`` over
the exponents *and* the coefficients by sequential linear programming: at each step the kernel is
linearised in the log-exponents ``x_k = log p_k`` (a Gauss-Newton step for the l1 norm), the LP
(HiGHS) returns new coefficients and a step inside a trust region, and the step is kept only if
the l1 error with LP-optimal coefficients for the new exponents (variable projection) decreases.
Exponents stay in the model class: ``p_k > 0`` (``lambda_k`` in ``(0, 1)``), capped at
``max_exponent``.  :func:`power_law_search` runs it from quadrature and continuation starts
(:func:`insert_unit`) for the curse-of-memory kernel.

On finite windows the errors fall far below float64 resolution: :func:`precise_fit` computes the
coefficients in ball arithmetic (least squares, then IRLS towards l1) for exponents from the
4-parameter family :func:`family_exponents`.

Examples
--------
>>> import numpy as np
>>> s = np.arange(40)
>>> h = 2.0 * 0.9 ** s - 0.5 * 0.3 ** s
>>> nodes, coef = aak_prony(h, 2)
>>> np.round(nodes, 10).tolist(), np.round(coef, 10).tolist()
([0.3, 0.9], [-0.5, 2.0])
>>> p, c = power_law_quadrature(1.5, 12, 1e6)
>>> bool(np.all(p > 0) and np.all(c > 0))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import scipy.optimize
import scipy.sparse as sp
import scipy.special

from tfapprox.theory.validation import require_choice, require_int, require_real

__all__ = ["aak_prony", "power_law_quadrature", "basis", "l1_coefficients", "L1Fit", "refine_l1", "log_grid",
           "power_law_search", "insert_unit", "family_exponents", "precise_fit"]


def aak_prony(values: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` real nodes in ``(0, 1)`` and least-squares coefficients from equispaced samples ``h(0..M-1)``.

    The approximate Prony method (Potts and Tasche; the finite-section form of the AAK approach of
    Beylkin-Monzon 2005 and Plonka et al., arXiv 1609.09603): the right singular vector ``u`` of the
    smallest singular value of the ``(M - n) x (n + 1)`` Hankel matrix ``[h(i + j)]`` (the
    ``(n+1)``-st singular value of the Hankel operator's section) annihilates every sum of ``n``
    exponentials, so the ``n`` roots of ``sum_j u_j z^j`` are the nodes (exact for such a sum).
    Complex or out-of-range roots are replaced by the nearest admissible real node (the modulus,
    clipped into ``[1e-12, 1 - 1e-12]``): the model class has real decays in ``(0, 1)``.
    Coefficients: least squares on the samples.  Returns nodes sorted ascending.

    Parameters
    ----------
    values : array of float
        Samples ``h(0), ..., h(M-1)``, ``M >= 2 n + 1``.
    n : int
        Number of terms.
    """
    h = np.asarray(values, dtype=float).ravel()
    n = require_int("n", n, minimum=1)
    if h.size < 2 * n + 1:
        raise ValueError(f"values needs at least 2 n + 1 = {2 * n + 1} samples, got {h.size}")
    if not np.all(np.isfinite(h)):
        raise ValueError("values must be finite")
    rows = h.size - n
    H = np.array([[h[i + j] for j in range(n + 1)] for i in range(rows)])
    _, _, vt = np.linalg.svd(H)
    u = vt[-1]
    lead = np.flatnonzero(np.abs(u[::-1]) > 0)
    roots = np.roots(u[::-1][lead[0]:]) if lead.size else np.zeros(0)
    nodes = np.clip(np.array([abs(z) if abs(z.imag) > 1e-9 * max(abs(z), 1e-300) else z.real for z in roots],
                             dtype=float), 1e-12, 1 - 1e-12)
    if nodes.size < n:  # degenerate polynomial: fill geometrically
        nodes = np.concatenate([nodes, np.geomspace(0.5, 1 - 1e-6, n - nodes.size)])
    nodes = np.sort(nodes)
    s = np.arange(h.size, dtype=float)
    V = np.power(nodes[None, :], s[:, None])
    coef = np.linalg.lstsq(V, h, rcond=None)[0]
    return nodes, coef


def power_law_quadrature(beta: Any, n: int, s_max: Any) -> tuple[np.ndarray, np.ndarray]:
    """Beylkin-Monzon exponential sum for ``s^-beta`` on ``[1, s_max]``: ``n`` exponents ``p_k = e^{u_k}``
    equispaced in ``u`` and coefficients ``h e^{beta u_k} / Gamma(beta)`` (trapezoidal rule on
    ``s^-beta = Gamma(beta)^{-1} int_R exp(-s e^u + beta u) du``), ``u`` from ``log(0.1 / s_max)`` to
    ``log(30)``.  A starting point (positive coefficients, well conditioned), not a fit.
    """
    beta = float(require_real("beta", beta, minimum=0.0, strict_minimum=True))
    n = require_int("n", n, minimum=1)
    s_max = float(require_real("s_max", s_max, minimum=1.0))
    lo, hi = math.log(0.1 / s_max), math.log(30.0)
    u = np.linspace(lo, hi, n) if n > 1 else np.array([0.5 * (lo + hi)])
    step = (hi - lo) / max(n - 1, 1)
    return np.exp(u), step * np.exp(beta * u) / math.gamma(beta)


def basis(kind: str, exponents: Any, lags: Any) -> np.ndarray:
    """Columns ``e^{-p s}`` (``kind="exp"``) or ``s^{-p}`` (``kind="power"``, lags ``s >= 1``)."""
    kind = require_choice("kind", kind, ("exp", "power"))
    p = np.asarray(exponents, dtype=float)
    s = np.asarray(lags, dtype=float)
    x = s if kind == "exp" else np.log(s)
    with np.errstate(under="ignore"):
        return np.exp(-np.outer(x, p))


def log_grid(dense: int, end: float, per_efold: int) -> tuple[np.ndarray, np.ndarray]:
    """Lags ``0..dense-1`` (weight 1) and log-spaced cells up to ``end``, each sampled at its geometric
    midpoint and weighted by the number of lags it stands for: an l1 quadrature over all lags."""
    dense = require_int("dense", dense, minimum=2)
    per_efold = require_int("per_efold", per_efold, minimum=1)
    end = float(require_real("end", end, minimum=4.0 * dense))
    k = max(int(per_efold * math.log(end / dense)), 2)
    edges = np.unique(np.round(np.geomspace(dense, end, k)))
    left, right = edges[:-1], edges[1:]
    pts = np.concatenate([np.arange(dense, dtype=float), np.sqrt(left * (right - 1))])
    w = np.concatenate([np.ones(dense), right - left])
    return pts, w


def _lp(target: np.ndarray, B: np.ndarray, w: np.ndarray, J: np.ndarray | None = None,
        step_bounds: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``min sum w |target - B c - J d|`` over free ``c`` and ``lo <= d <= hi`` (HiGHS)."""
    S, n = B.shape
    # rows scaled by their weights (cost 1 per row): the solver's absolute tolerances then act on the
    # weighted residuals, which is what the objective sums
    target, B = w * target, w[:, None] * B
    J = None if J is None else w[:, None] * J
    scale = np.maximum(np.max(np.abs(B), axis=0), 1e-300)
    cols = [B / scale]
    m = 0
    if J is not None:
        jscale = np.maximum(np.max(np.abs(J), axis=0), 1e-300)
        cols.append(J / jscale)
        m = J.shape[1]
    M = sp.csr_matrix(np.hstack(cols))
    eye = sp.identity(S, format="csr")
    A = sp.vstack([sp.hstack([M, -eye]), sp.hstack([-M, -eye])], format="csr")
    b = np.concatenate([target, -target])
    cost = np.concatenate([np.zeros(n + m), np.ones(S)])
    bounds = [(None, None)] * n
    if m:
        assert step_bounds is not None
        bounds += [(lo * js, hi * js) for lo, hi, js in zip(step_bounds[0], step_bounds[1], jscale)]
    bounds += [(0, None)] * S
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=b, bounds=bounds, method="highs",
                                 options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.x is None or not np.all(np.isfinite(res.x)):
        return None
    c = res.x[:n] / scale
    d = res.x[n:n + m] / jscale if m else np.zeros(0)
    return c, d, float(res.fun)


def l1_coefficients(target: Any, B: Any, weights: Any = None) -> tuple[np.ndarray, float]:
    """l1-optimal coefficients ``argmin_c sum_s w_s |target_s - (B c)_s|`` and the objective (HiGHS).

    The objective is recomputed from the returned coefficients (not taken from the solver)."""
    t = np.asarray(target, dtype=float)
    B = np.asarray(B, dtype=float)
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float)
    out = _lp(t, B, w)
    if out is None:
        return np.zeros(B.shape[1]), float(np.sum(w * np.abs(t)))
    c = out[0]
    return c, float(np.sum(w * np.abs(t - B @ c)))


@dataclass(frozen=True)
class L1Fit:
    """Result of :func:`refine_l1`: exponents ``p_k > 0``, coefficients, the weighted l1 objective on the
    fitting lags, and the number of accepted / tried steps."""

    exponents: tuple[float, ...]
    coefficients: tuple[float, ...]
    objective: float
    accepted: int
    steps: int


def refine_l1(target: Any, lags: Any, exponents: Any, *, kind: str = "exp", weights: Any = None,
              iterations: int = 60, radius: float = 0.3, min_exponent: float = 1e-12,
              max_exponent: float = 700.0, min_radius: float = 1e-7) -> L1Fit:
    """Sequential-LP refinement of an exponential (``kind="exp"``) or power (``"power"``) sum in l1.

    Linearises ``c_k b(p_k, s)`` in ``x_k = log p_k``
    (``d/dx_k c_k e^{-p_k s} = -c_k p_k s e^{-p_k s}``; ``s`` replaced by ``log s`` for powers), solves
    the l1 LP for new coefficients and a step ``|dx_k| <= radius``, and keeps the step when the
    variable-projection objective (LP-optimal coefficients for the new exponents) decreases; the
    radius grows by 2 after an accepted step and shrinks by 4 after a rejected one.  Exponents are
    clipped to ``[min_exponent, max_exponent]``: ``p > 0`` keeps ``lambda = e^{-p}`` in ``(0, 1)``.

    Returns the best fit seen (its objective never exceeds that of the starting exponents).
    """
    kind = require_choice("kind", kind, ("exp", "power"))
    t = np.asarray(target, dtype=float).ravel()
    s = np.asarray(lags, dtype=float).ravel()
    if t.size != s.size:
        raise ValueError(f"target and lags need the same length, got {t.size} and {s.size}")
    w = np.ones(t.size) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.size != t.size:
        raise ValueError(f"weights needs length {t.size}, got {w.size}")
    iterations = require_int("iterations", iterations, minimum=0)
    radius = float(require_real("radius", radius, minimum=0.0, strict_minimum=True))
    lo_x = math.log(float(require_real("min_exponent", min_exponent, minimum=0.0, strict_minimum=True)))
    hi_x = math.log(float(require_real("max_exponent", max_exponent, minimum=0.0, strict_minimum=True)))
    p0 = np.asarray(exponents, dtype=float).ravel()
    if p0.size < 1 or not np.all(np.isfinite(p0)) or np.any(p0 <= 0):
        raise ValueError(f"exponents must be finite and > 0, got {p0.tolist()!r}")
    x = np.clip(np.log(p0), lo_x, hi_x)
    xs = s if kind == "exp" else np.log(s)

    def project(xv: np.ndarray) -> tuple[np.ndarray, float]:
        return l1_coefficients(t, basis(kind, np.exp(xv), s), w)

    c, obj = project(x)
    accepted = steps = 0
    for _ in range(iterations):
        if radius < min_radius:
            break
        steps += 1
        p = np.exp(x)
        B = basis(kind, p, s)
        J = -(B * (xs[:, None] * p[None, :])) * c[None, :]
        out = _lp(t, B, w, J, (np.maximum(-radius, lo_x - x), np.minimum(radius, hi_x - x)))
        if out is None:
            radius /= 4
            continue
        x_new = np.clip(x + out[1], lo_x, hi_x)
        c_new, obj_new = project(x_new)
        if obj_new < obj:
            x, c, obj = x_new, c_new, obj_new
            accepted += 1
            radius = min(radius * 2, 2.0)
        else:
            radius /= 4
    order = np.argsort(x)
    return L1Fit(tuple(float(v) for v in np.exp(x)[order]), tuple(float(v) for v in c[order]), obj, accepted, steps)


def power_law_search(beta: Any, units: int, *, starts: Sequence[float] = (1e3, 1e4, 1e5, 1e6, 1e7),
                     warm: Sequence[Sequence[float]] = (), iterations: int = 300, end: float = 1e12,
                     per_efold: int = 24, polish_per_efold: int = 64) -> list[L1Fit]:
    """Candidates for the ``units``-term exponential sum closest in l1 (over all lags ``s >= 0``) to
    ``rho(s) = s^-beta``, ``rho(0) = 0`` (the curse-of-memory kernel, Sec. 5).

    Starting points: :func:`power_law_quadrature` on ``[1, s_max]`` for each ``s_max`` in ``starts``, with
    and without one fast unit (``p = 30``, nearly a delta at lag 0), and the ``warm`` exponent sets (e.g. a
    smaller fit with one unit inserted: continuation in ``units``).  Each is refined by :func:`refine_l1`
    on :func:`log_grid` ``(64, end, per_efold)``; the coefficients are then re-fitted on the finer
    ``polish_per_efold`` grid (an l1 polish).  Returns all candidates, best objective first (the
    objective is a quadrature of the l1 error, not the certified error).
    """
    beta = float(require_real("beta", beta, minimum=1.0, strict_minimum=True))
    units = require_int("units", units, minimum=1)
    pts, w = log_grid(64, end, per_efold)
    with np.errstate(divide="ignore"):
        rho = np.where(pts > 0, np.power(np.maximum(pts, 1.0), -beta), 0.0)
    fpts, fw = log_grid(64, end, polish_per_efold)
    frho = np.where(fpts > 0, np.power(np.maximum(fpts, 1.0), -beta), 0.0)
    inits: list[np.ndarray] = [np.asarray(q, dtype=float) for q in warm if len(q) == units]
    for s_max in starts:
        for delta in (0, 1):
            if units - delta < 1:
                continue
            p, _ = power_law_quadrature(beta, units - delta, s_max)
            inits.append(np.concatenate([p, [30.0] * delta]))
    out = []
    for p0 in inits:
        f = refine_l1(rho, pts, p0, weights=w, iterations=iterations, max_exponent=700.0)
        c, obj = l1_coefficients(frho, basis("exp", f.exponents, fpts), fw)
        out.append(L1Fit(f.exponents, tuple(float(v) for v in c), obj, f.accepted, f.steps))
    return sorted(out, key=lambda f: f.objective)


def insert_unit(exponents: Sequence[float]) -> list[list[float]]:
    """Warm starts for one more term: each gap of the sorted log-exponents split at its midpoint, and one
    term beyond each end (continuation in the number of terms)."""
    x = np.sort(np.log(np.asarray(exponents, dtype=float)))
    out = []
    for i in range(len(x) + 1):
        if i == 0:
            new = x[0] - 1.0
        elif i == len(x):
            new = x[-1] + 1.0
        else:
            new = 0.5 * (x[i - 1] + x[i])
        out.append(np.exp(np.sort(np.append(x, new))).tolist())
    return out


def family_exponents(params: Sequence[float], n: int, *, max_exponent: float = 690.0) -> np.ndarray:
    """``n`` exponents of the 4-parameter log-family ``log p_k = a (1-u) + b u + w1 u(1-u) + w2 u(1-u)(u-1/2)``,
    ``u = k/(n-1)`` (geometric when ``w1 = w2 = 0``), capped at ``max_exponent``."""
    a, b, w1, w2 = (float(v) for v in params)
    n = require_int("n", n, minimum=1)
    u = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    return np.exp(np.minimum(a * (1 - u) + b * u + w1 * u * (1 - u) + w2 * u * (1 - u) * (u - 0.5),
                             math.log(max_exponent)))


def precise_fit(kind: str, exponents: Sequence[float], target: Any, lags: Sequence[int], *, prec: int = 384,
                irls: int = 0) -> tuple[list[Any], Any]:
    """Coefficients for fixed exponents in ``prec``-bit ball arithmetic (python-flint ``arb``): least squares
    (normal equations solved approximately at that precision), then ``irls`` rounds of iteratively
    reweighted least squares towards the l1 fit (weights ``1 / max(|e_s|, 1e-4 max |e|)``).

    ``target(s)`` returns the target at lag ``s`` as an ``arb`` (or a number ``arb`` accepts); the
    exponents are float64 numbers taken exactly.  Returns ``(coefficients, l1)``: the coefficients
    (``arb`` midpoints, exact binary numbers) of the smallest l1 error seen and that error as an
    ``arb`` ball.  Used for the finite windows of H.2.7 / H.2.8, where the error falls far below
    float64 resolution; the certified error is computed separately
    (:func:`tfapprox.verify.near_optimal.certify_heads`).
    """
    import flint

    kind = require_choice("kind", kind, ("exp", "power"))
    prec = require_int("prec", prec, minimum=53)
    irls = require_int("irls", irls, minimum=0)
    p = [float(v) for v in exponents]
    if not p or any(not math.isfinite(v) or v <= 0 for v in p):
        raise ValueError(f"exponents must be finite and > 0, got {p!r}")
    lags = [require_int(f"lags[{i}]", s, minimum=1 if kind == "power" else 0) for i, s in enumerate(lags)]
    old = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        arb = flint.arb
        P = [arb(repr(v)) for v in p]
        rows = []
        for s in lags:
            x = arb(s) if kind == "exp" else arb(s).log()
            rows.append([(-(q * x)).exp() for q in P])
        tv = [arb(target(s)) for s in lags]
        sw = [arb(1)] * len(lags)
        best = None
        for _ in range(irls + 1):
            Bw = flint.arb_mat([[b * sw[i] for b in r] for i, r in enumerate(rows)])
            tw = flint.arb_mat([[tv[i] * sw[i]] for i in range(len(lags))])
            sol = (Bw.transpose() * Bw).solve(Bw.transpose() * tw, algorithm="approx")
            c = [sol[k, 0].mid() for k in range(len(P))]
            e = [tv[i] - sum((b * ck for b, ck in zip(rows[i], c)), arb(0)) for i in range(len(lags))]
            l1 = sum((abs(v) for v in e), arb(0))
            if best is None or l1.mid() < best[1].mid():
                best = (c, l1)
            big = max(float(abs(v).mid()) for v in e)
            if big == 0:
                break
            sw = [(1 / arb(max(float(abs(v).mid()), 1e-4 * big))).sqrt() for v in e]
        return best[0], best[1]
    finally:
        flint.ctx.prec = old
