"""Lemma F.1/F.4 kernels on a finite window of ``L`` tokens: values, rigorous rounding, zero kernels (App. F, App. H).

The finite-window Theorem 3.1 construction (:mod:`tfapprox.constructions.finite_window`) gives memory
``T`` the kernel ``P(s) = w(s) Q(u(s))`` of Lemma F.1 (lin) / F.4 (log) on the lags ``0..L-1``:

* :func:`finite_kernel`: the realised kernel (double-double evaluation of the stable Chebyshev form,
  stored-coefficient allowance included) for ``H <= REALISED_HEADS_MAX``, else the exact interpolant;
* :func:`interpolant_on_window`: the exact interpolant in closed (barycentric) form, cost proportional
  to the nodes inside the bump, any ``H``;
* :func:`first_node_heads`: the smallest ``H`` whose Chebyshev points put a node inside the bump (below
  it the kernel is identically zero and the attention error exactly 1).

Each value carries a rigorous per-lag rounding bound (:class:`FiniteKernel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy

from tfapprox.constructions.delta_kernels import (DEFAULT_ALPHA, DEFAULT_GAMMA, DeltaKernel, bump_node_values,
                                                  delta_kernel)
from tfapprox.constructions.finite_window import REALISED_HEADS_MAX
from tfapprox.theory.bounds import bump_placement
from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.validation import require_int

from tfapprox.theory.numerics.double_double import EPS as FLOAT64_EPS, mp_to_dd
from tfapprox.theory.numerics.lattice import lattice_range_dd

from .kernel_error import kernel_error_dd, prepare_coefficients

__all__ = ["REALISED_HEADS_MAX", "FiniteKernel", "finite_kernel", "interpolant_on_window", "first_node_heads"]


@dataclass(frozen=True)
class FiniteKernel:
    """One head group's kernel on the lags ``0..L-1`` of a finite window.

    ``error[s] = P(s) - 1{s = T}`` (float64), ``rounding`` a rigorous per-lag bound on
    ``|error[s] - exact|`` and ``zero`` whether the interpolant is the zero polynomial (no
    Chebyshev node in the bump: then ``error = -1{s = T}`` exactly).  ``kernel`` is the realised
    :class:`~tfapprox.constructions.delta_kernels.DeltaKernel` (``rounding`` then includes its
    stored-coefficient allowance) or ``None`` when ``H > REALISED_HEADS_MAX`` and the numbers are
    those of the exact interpolant (the construction with exact weights).
    """

    kernel: DeltaKernel | None
    lag: int
    heads: int
    length: int
    error: np.ndarray
    rounding: np.ndarray
    zero: bool
    nodes_in_bump: int

    @property
    def values(self) -> np.ndarray:
        """``P(s)`` on ``0..L-1``."""
        v = self.error.copy()
        v[self.lag] += 1.0
        return v

    @property
    def l1(self) -> tuple[float, float]:
        """Enclosure of ``sum_{s<L} |P(s) - 1{s=T}|`` (the exact worst-case attention error at the last token)."""
        if self.zero:
            return 1.0, 1.0
        s = math.fsum(np.abs(self.error).tolist())
        r = float(np.sum(self.rounding)) + s * 4 * FLOAT64_EPS
        return max(s - r, 0.0), s + r


def _frozen(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


@lru_cache(maxsize=512)
def finite_kernel(rpe: str, lag: int, heads: int, length: int, *, alpha: Any = DEFAULT_ALPHA,
                  gamma: Any = DEFAULT_GAMMA) -> FiniteKernel:
    """The Lemma F.1/F.4 kernel for ``lag`` with ``heads`` terms, on the lags ``0..length-1``.

    ``heads <= REALISED_HEADS_MAX``: the realised kernel (stable Chebyshev form in double-double,
    stored-coefficient allowance included).  Above: the exact interpolant by
    :func:`interpolant_on_window`.  Cached (the arrays are read-only).

    >>> fk = finite_kernel("lin", 901, 64, 1000)
    >>> fk.zero, fk.l1
    (True, (1.0, 1.0))
    """
    family = kernel_family(rpe)
    length = require_int("length", length, minimum=2)
    lag = require_int("lag", lag, minimum=1, maximum=length - 1)
    heads = require_int("heads", heads, minimum=1)
    if heads > REALISED_HEADS_MAX:
        return interpolant_on_window(family.name, lag, heads, length, alpha=alpha, gamma=gamma)
    kern = delta_kernel(family.name, lag, heads, alpha=alpha, gamma=gamma)
    zero = all(c == 0 for c in kern.chebyshev_coefficients)
    err = np.zeros(length)
    rnd = np.zeros(length)
    nodes = len(bump_node_values(bump_placement(family.name, lag, alpha=alpha, gamma=gamma), heads))
    if zero:
        err[lag] = -1.0
        _frozen(err, rnd)
        return FiniteKernel(kern, lag, heads, length, err, rnd, True, 0)
    start = family.first_lag
    cdd, _c1, d2c = prepare_coefficients(kern)
    lags = np.arange(start, length, dtype=np.int64)
    ph, pl, pb = kernel_error_dd(kern, lags, cdd, d2c)
    with mpmath.workdps(30):
        model = float(kern.coefficient_error_bound) * (1 + 1e-12)
    w = family.basis_np([family.weight_rate(float(kern.gamma))], lags)[:, 0]  # w(s) = exp(-(gamma + o) x(s))
    err[start:] = ph + pl
    rnd[start:] = pb + np.abs(ph + pl) * FLOAT64_EPS + model * w * (1 + 1e-12)
    _frozen(err, rnd)
    return FiniteKernel(kern, lag, heads, length, err, rnd, False, nodes)


#: Working precision (decimal digits) of :func:`interpolant_on_window`.
_CLOSED_FORM_DPS = 40


@lru_cache(maxsize=8)
def _lattice_angles(family: KernelFamily, alpha: sympy.Rational, start: int, stop: int) -> tuple[mpmath.mpf, ...]:
    """``theta(s) = 2 acos(sqrt(u(s)))`` (so ``x = 2u - 1 = cos theta``) at 40 digits for ``s = start..stop-1``."""
    with mpmath.workdps(_CLOSED_FORM_DPS):
        a = mpmath.mpf(alpha.p) / alpha.q
        return tuple(+(2 * mpmath.acos(mpmath.sqrt(family.lattice_variable_mp(a, s)))) for s in range(start, stop))


@lru_cache(maxsize=512)
def interpolant_on_window(rpe: str, lag: int, heads: int, length: int, *, alpha: Any = DEFAULT_ALPHA,
                          gamma: Any = DEFAULT_GAMMA) -> FiniteKernel:
    """The exact Lemma F.1/F.4 interpolant kernel ``P(s) = w(s) Q(u(s))`` on ``0..length-1``, any ``H >= 2``.

    Closed form, cost proportional to the number of nodes inside the bump (not to ``H``): the
    interpolant at the ``N + 1 = H`` second-kind points ``x_k = cos(theta_k)``, ``theta_k = k pi / N``,
    of values ``f_k`` that vanish outside the bump is, in barycentric form with the weights
    ``w_k = (-1)^k delta_k 2^{N-1}/N`` (``delta_k = 1/2`` at the ends; Berrut & Trefethen 2004) and
    ``prod_k (x - x_k) = (x^2 - 1) U_{N-1}(x) / 2^{N-1} = -sin(theta) sin(N theta) / 2^{N-1}``,

        ``Q(cos theta) = -(sin theta sin(N theta) / N) sum_{k in bump} (-1)^k delta_k f_k / (x - x_k)``.

    Numerics: ``x`` and ``x_k`` as double-doubles (from 40-digit values), so the differences
    ``x - x_k`` are accurate to ``2^-102`` absolutely even next to a node; ``theta`` at 40 digits
    gives ``sin(N theta)`` to ``N 10^-38``; the sum in float64.  Per lag the rigorous allowance is

        ``|w| (sin theta / N) [ |sin N theta| sum_k |t_k| ((|J| + 6) eps + 2^-102 / |x - x_k|)
        + (2^-53 + N 10^-38) |sum_k t_k| ] + 12 eps |P(s)|``

    with ``t_k`` the terms, ``|J|`` their number and ``eps = 2^-53``.  A lag within ``2^-90`` of a
    node (never met: ``e^{-alpha s}`` is transcendental) raises ``ArithmeticError``.

    >>> fk = interpolant_on_window("lin", 901, 143, 1000)
    >>> round(fk.l1[1], 6) == round(finite_kernel("lin", 901, 143, 1000).l1[1], 6), fk.nodes_in_bump
    (True, 1)
    """
    family = kernel_family(rpe)
    length = require_int("length", length, minimum=2)
    lag = require_int("lag", lag, minimum=1, maximum=length - 1)
    H = require_int("heads", heads, minimum=2)
    N = H - 1
    place = bump_placement(family.name, lag, alpha=alpha, gamma=gamma)
    nodes = bump_node_values(place, H, dps=_CLOSED_FORM_DPS)
    err = np.zeros(length)
    rnd = np.zeros(length)
    if not nodes:
        err[lag] = -1.0
        _frozen(err, rnd)
        return FiniteKernel(None, lag, H, length, err, rnd, True, 0)
    start = family.first_lag
    xh, xl, wh, _wl = lattice_range_dd(family.name, place.alpha, place.gamma, start, length)
    thetas = _lattice_angles(family, place.alpha, start, length)
    with mpmath.workdps(_CLOSED_FORM_DPS):
        sin_nt = np.array([float(mpmath.sin(N * t)) for t in thetas])
    xkh, xkl = mp_to_dd([xk for _k, xk, _f in nodes])
    ck = np.array([float(f) * (0.5 if k in (0, N) else 1.0) * (-1.0) ** k for k, _x, f in nodes])
    J = len(nodes)
    dh = (xh[:, None] - xkh[None, :]) + (xl[:, None] - xkl[None, :])
    at_node = np.abs(dh) < 2.0 ** -90
    if np.any(at_node & (xh[:, None] < 1.0)):
        s_bad = int(np.nonzero(np.any(at_node, axis=1))[0][0]) + start
        raise ArithmeticError(f"lag {s_bad} lies within 2^-90 of an interpolation node")
    one = xh >= 1.0  # s = 0 (lin) / s = 1 (log): x = 1 = x_0 exactly, Q(1) = f_0
    dh[one] = 1.0
    terms = ck[None, :] / dh
    S = terms.sum(axis=1)
    abs_terms = np.abs(terms)
    sin_t = np.sqrt(np.maximum((1.0 - xh - xl) * (1.0 + xh + xl), 0.0))
    pre = np.abs(wh) * sin_t / N
    v = -wh * sin_t * sin_nt * S / N
    allowance = pre * (np.abs(sin_nt) * np.sum(abs_terms * ((J + 6) * FLOAT64_EPS + 2.0 ** -102 / np.abs(dh)), axis=1)
                       + (FLOAT64_EPS + N * 1e-38) * np.abs(S)) + 12 * FLOAT64_EPS * np.abs(v)
    f0 = next((float(f) for k, _x, f in nodes if k == 0), 0.0)
    v = np.where(one, wh * f0, v)
    allowance = np.where(one, 4 * FLOAT64_EPS * np.abs(v), allowance)
    vals = v.copy()
    if start <= lag:
        vals[lag - start] -= 1.0
    err[start:] = vals
    rnd[start:] = allowance * (1 + 1e-9) + np.abs(vals) * FLOAT64_EPS
    _frozen(err, rnd)
    return FiniteKernel(None, lag, H, length, err, rnd, False, J)


def _nodes_in_bump(H: np.ndarray, mu: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """For each ``H`` (array), whether a second-kind Chebyshev node ``cos^2(k pi / (2(H-1)))`` lies in
    ``(mu - sigma, mu + sigma)``, and whether the float64 test is marginal (within 1e-9 sigma)."""
    H = np.asarray(H, dtype=np.int64)
    N = np.maximum(H - 1, 1).astype(float)
    # u_k = (1 + cos(k pi / N)) / 2 = cos^2(k pi / (2N)); k near the angle of mu
    theta = 2.0 * math.acos(math.sqrt(mu))
    k0 = np.floor(theta * N / math.pi)
    hit = np.zeros(len(H), dtype=bool)
    marginal = np.zeros(len(H), dtype=bool)
    for dk in (-1.0, 0.0, 1.0, 2.0):
        k = np.clip(k0 + dk, 0, N)
        u = np.cos(k * math.pi / (2 * N)) ** 2
        d = np.abs(u - mu)
        hit |= d < sigma
        marginal |= np.abs(d - sigma) < 1e-9 * sigma + 4 * FLOAT64_EPS
    one = H == 1  # single node x = 0, u = 1/2
    hit[one] = abs(0.5 - mu) < sigma
    return hit, marginal


def first_node_heads(rpe: str, lag: int, *, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                     max_heads: int = 1 << 20) -> int | None:
    """Smallest ``H`` whose ``H`` Chebyshev points put a node inside the Lemma F.1/F.4 bump for ``lag``.

    Below it the construction's interpolant is identically zero and its attention error is exactly
    1.  ``None`` if no ``H <= max_heads`` does (float64 test; marginal cases count as hits, so the
    returned value is a lower bound of the exact one).

    >>> first_node_heads("lin", 1), first_node_heads("lin", 901), first_node_heads("log", 901)
    (13, 143, 322)
    """
    with mpmath.workdps(30):
        mu, sigma, _h = bump_placement(kernel_family(rpe).name, lag, alpha=alpha, gamma=gamma).numeric(30)
        mu, sigma = float(mu), float(sigma)
    step = 1 << 14
    for lo in range(1, max_heads + 1, step):
        H = np.arange(lo, min(lo + step, max_heads + 1))
        hit, marg = _nodes_in_bump(H, mu, sigma)
        idx = np.nonzero(hit | marg)[0]
        if len(idx):
            return int(H[idx[0]])
    return None
