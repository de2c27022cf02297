"""Explicit bounds for the delta-kernel Lemmas F.1 / F.4 and the attention error of Theorem 3.1.

The paper (Wang & E 2024, App. F) proves, for every rate index ``n >= 1``,

* Lemma F.1 (lin-RPE): ``||1{. = T} - phi_H||_{l1(N)} <= C(n) e^{0.01 (n+1) T} / H^n``,
* Lemma F.4 (log-RPE): ``||1{. = T} - phi_H||_{l1(N+)} <= C(n) T^{1.01 (n+1)} / H^n``,
* Theorem 3.1: ``E_Attn <= C(n)/H^n (sum_i e^{0.01 T_i})^{n+1}`` (lin), resp.
  ``C(n)/H^n (sum_i T_i^{1.01})^{n+1}`` (log),

with a constant ``C(n)`` that the paper never makes explicit (Differences from the paper, D12).
This module makes it explicit for the construction that :mod:`tfapprox.constructions.delta_kernels`
actually builds: the bump ``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)`` interpolated at ``H``
Chebyshev points on ``[0, 1]`` (degree ``N = H - 1``).  The sup-norm interpolation error
``||Psi_T - Q||_{[0,1]}`` is bounded by the minimum of four rigorous routes:

``trefethen_7_2``
    Trefethen, *Approximation Theory and Approximation Practice* (ATAP), Thm 7.2, eq. (7.5):
    if ``f^{(nu)}`` has total variation ``V`` on ``[-1, 1]`` then for ``N > nu`` the Chebyshev
    interpolant satisfies ``||f - p_N|| <= 4 V / (pi nu (N - nu)^nu)``.
``trefethen_7_1_summed``
    The same argument with the telescoping sum done exactly: ATAP Thm 7.1 gives
    ``|a_k| <= 2V / (pi k (k-1) ... (k-nu))`` and the aliasing identity (ATAP Thm 4.2) gives
    ``||f - p_N|| <= 2 sum_{k>N} |a_k|``; since
    ``sum_{k>N} 1/(k (k-1) ... (k-nu)) = 1/(nu N (N-1) ... (N-nu+1))`` this is
    ``||f - p_N|| <= 4 V / (pi nu N (N-1) ... (N-nu+1))`` for ``N >= nu``.  Always at least as
    good as (7.5).  The aliasing bound ``||T_k - I_N T_k|| <= 2`` holds for both Chebyshev
    point families (extrema and roots), so this route covers both.
``jackson_rivlin``
    Jackson's theorem with Rivlin's explicit constant (Rivlin, *An Introduction to the
    Approximation of Functions*, Jackson's Theorem V): for ``f in C^k[-1, 1]`` and ``N >= k``,
    ``E_N(f) <= (pi/2)^k ||f^{(k)}|| / ((N+1) N ... (N-k+2))``, times ``1 + Lambda_N``
    (ATAP Thm 15.1) with the Lebesgue constant of Chebyshev points
    ``Lambda_N <= (2/pi) log(N+1) + 1`` (ATAP Thm 15.2, eq. (15.8a)).  The statement of
    Rivlin's theorem is quoted from the book, not re-derived or checked against its text here;
    with the defaults this route is never the minimum (it decides neither a kernel bound nor
    ``C(n)``), so no reported number depends on it.
``lebesgue``
    Always valid (every ``H >= 1``): ``||f - p_N|| <= (1 + Lambda_N) ||f||``.

On ``[-1, 1]`` (``u = (1 + x)/2``) the ``nu``-th derivative of ``f(x) = Psi_T(u)`` is
``2^{-nu} Psi_T^{(nu)}(u)``, and ``Psi_T^{(nu)} = V_T sigma_T^{-nu} Psi^{(nu)}``, so the
routes need only two numbers per ``nu`` about the fixed bump ``Psi``: its sup norm
``M_nu = sup |Psi^{(nu)}|`` and total variation ``W_nu = int |Psi^{(nu+1)}|``.  Both are
computed *rigorously* in :func:`bump_derivative_norms`: ``Psi^{(k)} = p_k(y) (1-y^2)^{-2k}
Psi(y)`` with integer polynomials ``p_k``; the critical points of ``Psi^{(k)}`` are the real
roots of ``p_{k+1}`` in ``(-1, 1)``, isolated exactly by sympy (rational isolating intervals)
and evaluated in interval arithmetic (``mpmath.iv``).

The l1 error of the kernel then follows from ``|1{t=T} - P(t)| = w(t) |Psi_T(u_t) - Q(u_t)|``
with ``w(t) = e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log):
``l1 <= sup|Psi_T - Q| * sum_t w(t)``, and ``sum_{t>=0} e^{-gamma t} = 1/(1 - e^{-gamma})``,
``sum_{t>=1} t^{-1-gamma} = zeta(1 + gamma)``.

All functions return upper bounds as ``mpmath.mpf`` (computed at 50 digits and rounded up
by a relative ``1e-30``); they hold for every ``H >= 1`` and every ``n >= 1``.

Examples
--------
>>> from tfapprox.theory.bounds import delta_kernel_bound, paper_constant
>>> b = delta_kernel_bound("lin", 1, 1024, 2)
>>> print(f"{float(b):.3e}")
1.543e+01
>>> float(paper_constant("lin", 2)) > 0
True
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

import mpmath
import sympy

from .validation import (
    require_choice,
    require_int,
    require_positive_rational,
    require_sorted_distinct_lags,
)

__all__ = [
    "RPE_TYPES",
    "MAX_RATE_INDEX",
    "H",
    "n",
    "T",
    "alpha",
    "gamma",
    "BumpPlacement",
    "bump_placement",
    "bump_derivative_polynomial",
    "BumpDerivativeNorms",
    "bump_derivative_norms",
    "lebesgue_constant_bound",
    "weight_sum",
    "interpolation_error_routes",
    "interpolation_error_bound",
    "delta_kernel_bound_routes",
    "delta_kernel_bound",
    "best_delta_kernel_bound",
    "paper_constant",
    "lemma_f1_bound_expr",
    "lemma_f4_bound_expr",
    "lemma_bound_expr",
    "explicit_bound_expr",
    "symbolic_paper_form",
    "thm3_1_attention_bound",
    "thm3_1_paper_form",
    "thm3_1_bound_expr",
]

#: The two RPE types of the paper (eq. (4)).
RPE_TYPES: tuple[str, ...] = ("lin", "log")

#: Largest rate index ``n`` accepted (the exact root isolation of ``p_{n+1}`` grows with n).
MAX_RATE_INDEX = 20

#: Sympy symbols used by the bound expressions.
H, n, T, alpha, gamma = sympy.symbols("H n T alpha gamma", positive=True)
# One docstring per symbol (griffe gives the names of a tuple assignment none).
H: sympy.Symbol
"""The number of heads ``H`` (positive sympy symbol) in the symbolic bounds."""
n: sympy.Symbol
"""The rate index ``n`` of Lemmas F.1/F.4 (bound ``C(n) H^{-n}``), positive sympy symbol."""
T: sympy.Symbol
"""The memory lag ``T`` (positive sympy symbol)."""
alpha: sympy.Symbol
"""The change-of-variables rate ``alpha`` of Lemmas F.1/F.4 (paper: 0.01), positive sympy symbol."""
gamma: sympy.Symbol
"""The decay factor ``gamma`` of Lemmas F.1/F.4 (paper: 0.01), positive sympy symbol."""

_Y = sympy.Symbol("y", real=True)
_DPS = 50
_ROUND_UP = mpmath.mpf("1e-30")
_DEFAULT = sympy.Rational(1, 100)


def _up(x: Any) -> mpmath.mpf:
    """``x`` rounded up by a relative 1e-30 (covers the 50-digit rounding of the evaluation)."""
    x = mpmath.mpf(x)
    return x + abs(x) * _ROUND_UP


def _check_rate(n_value: Any) -> int:
    return require_int("n", n_value, minimum=1, maximum=MAX_RATE_INDEX)


# ---------------------------------------------------------------------------------------
# The bump placement of Lemmas F.1 / F.4
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BumpPlacement:
    """Where Lemma F.1 (lin) / F.4 (log) places the bump for lag ``T`` (exact sympy numbers).

    Attributes
    ----------
    rpe : str
        ``"lin"`` (``u = e^{-alpha t}``, ``t in N``) or ``"log"`` (``u = t^{-alpha}``, ``t in N_+``).
    lag : int
        The lag ``T >= 1`` of the delta ``1{t = T}``.
    alpha, gamma : sympy.Rational
        Change-of-variables rate and decay of the weight (paper: ``1/100`` each).
    mu, sigma, height : sympy.Expr
        ``mu_T``, ``sigma_T`` and ``V_T`` of ``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)``:
        lin ``mu_T = e^{-alpha T}``, ``sigma_T = e^{-alpha T} - e^{-alpha (T+1)}``,
        ``V_T = e * e^{gamma T}``; log ``mu_T = T^{-alpha}``,
        ``sigma_T = T^{-alpha} - (T+1)^{-alpha}``, ``V_T = e * T^{1+gamma}``.  With
        ``Psi(0) = e^{-1}`` this makes ``w(t) Psi_T(u_t) = 1{t = T}`` on the lattice.
    """

    rpe: str
    lag: int
    alpha: sympy.Rational
    gamma: sympy.Rational
    mu: sympy.Expr
    sigma: sympy.Expr
    height: sympy.Expr

    @property
    def peak(self) -> sympy.Expr:
        """``sup Psi_T = V_T / e`` (``e^{gamma T}`` for lin, ``T^{1+gamma}`` for log)."""
        return sympy.simplify(self.height / sympy.E)

    def lattice_variable(self, t: Any) -> sympy.Expr:
        """``u(t)``: ``e^{-alpha t}`` (lin) or ``t^{-alpha}`` (log)."""
        return sympy.exp(-self.alpha * t) if self.rpe == "lin" else sympy.Integer(t) ** (-self.alpha)

    def weight(self, t: Any) -> sympy.Expr:
        """``w(t)``: ``e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log)."""
        return sympy.exp(-self.gamma * t) if self.rpe == "lin" else sympy.Integer(t) ** (-(1 + self.gamma))

    def numeric(self, dps: int = _DPS) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
        """``(mu_T, sigma_T, V_T)`` as mpf at ``dps`` digits (evaluated at the caller's precision)."""
        with mpmath.workdps(dps):
            a = mpmath.mpf(self.alpha.p) / self.alpha.q
            g = mpmath.mpf(self.gamma.p) / self.gamma.q
            if self.rpe == "lin":
                mu = mpmath.exp(-a * self.lag)
                sigma = -mpmath.expm1(-a) * mu
                height = mpmath.e * mpmath.exp(g * self.lag)
            else:
                mu = mpmath.power(self.lag, -a)
                # T^{-a} - (T+1)^{-a} = T^{-a} (1 - (1 + 1/T)^{-a}), without cancellation
                sigma = -mu * mpmath.expm1(-a * mpmath.log1p(mpmath.mpf(1) / self.lag))
                height = mpmath.e * mpmath.power(self.lag, 1 + g)
            return +mu, +sigma, +height


def bump_placement(rpe: str, lag: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> BumpPlacement:
    """The bump of Lemma F.1 (``rpe="lin"``) or F.4 (``rpe="log"``) for lag ``T``.

    Examples
    --------
    >>> p = bump_placement("lin", 5)
    >>> p.mu, p.height
    (exp(-1/20), exp(21/20))
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    lag = require_int("lag", lag, minimum=1)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    if rpe == "lin":
        mu = sympy.exp(-a * lag)
        sigma = mu - sympy.exp(-a * (lag + 1))
        height = sympy.E * sympy.exp(g * lag)
    else:
        mu = sympy.Integer(lag) ** (-a)
        sigma = mu - sympy.Integer(lag + 1) ** (-a)
        height = sympy.E * sympy.Integer(lag) ** (1 + g)
    return BumpPlacement(rpe, lag, a, g, mu, sigma, height)


# ---------------------------------------------------------------------------------------
# Derivatives of the bump Psi(y) = exp(-1/(1-y^2))
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def bump_derivative_polynomial(k: int) -> sympy.Poly:
    """Integer polynomial ``p_k`` with ``Psi^{(k)}(y) = p_k(y) (1 - y^2)^{-2k} Psi(y)`` on ``(-1, 1)``.

    Recurrence: ``p_0 = 1``, ``p_{k+1} = (1-y^2)^2 p_k' + 4 k y (1-y^2) p_k - 2 y p_k``
    (differentiate ``p_k (1-y^2)^{-2k} e^{-1/(1-y^2)}``); ``deg p_k = 3k - 2`` for ``k >= 1``.

    Examples
    --------
    >>> bump_derivative_polynomial(1).as_expr()
    -2*y
    """
    k = require_int("k", k, minimum=0, maximum=MAX_RATE_INDEX + 1)
    if k == 0:
        return sympy.Poly(1, _Y, domain="ZZ")
    prev = bump_derivative_polynomial(k - 1)
    w = sympy.Poly(1 - _Y ** 2, _Y, domain="ZZ")
    y = sympy.Poly(_Y, _Y, domain="ZZ")
    j = k - 1
    return w ** 2 * prev.diff(_Y) + 4 * j * y * w * prev - 2 * y * prev


@dataclass(frozen=True)
class BumpDerivativeNorms:
    """Rigorous norms of ``Psi^{(k)}`` on ``[-1, 1]``.

    Attributes
    ----------
    order : int
        ``k``.
    sup_upper : mpmath.mpf
        Upper bound of ``M_k = sup |Psi^{(k)}|``.
    sup_lower : mpmath.mpf
        Lower bound of ``M_k`` (the enclosure is tight to ~40 digits).
    variation_upper : mpmath.mpf
        Upper bound of ``W_k = TV(Psi^{(k)}) = int_{-1}^{1} |Psi^{(k+1)}(y)| dy``.
    variation_lower : mpmath.mpf
        Lower bound of ``W_k``.
    critical_points : tuple of float
        The critical points of ``Psi^{(k)}`` in ``(-1, 1)`` (roots of ``p_{k+1}``).
    """

    order: int
    sup_upper: mpmath.mpf
    sup_lower: mpmath.mpf
    variation_upper: mpmath.mpf
    variation_lower: mpmath.mpf
    critical_points: tuple[float, ...]


@contextmanager
def _iv_precision(bits: int) -> Iterator[None]:
    """Set ``mpmath.iv.prec`` for a block and restore it (mpmath.iv has no ``workprec``)."""
    saved = mpmath.iv.prec
    mpmath.iv.prec = bits
    try:
        yield
    finally:
        mpmath.iv.prec = saved


def _iv_rational(r: sympy.Rational) -> Any:
    return mpmath.iv.mpf(int(r.p)) / mpmath.iv.mpf(int(r.q))


def _iv_bump_derivative(k: int, yv: Any) -> Any:
    """Interval enclosure of ``Psi^{(k)}`` over the interval ``yv`` (inside (-1, 1))."""
    coeffs = bump_derivative_polynomial(k).all_coeffs()
    acc = mpmath.iv.mpf(0)
    for c in coeffs:  # Horner, highest degree first
        acc = acc * yv + int(c)
    w = 1 - yv * yv
    return acc / w ** (2 * k) * mpmath.iv.exp(-1 / w)


def _cached_per_precision(maxsize: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``lru_cache`` whose key also holds mpmath's working precision (``mpmath.mp.prec``).

    The functions so cached compute part of their result at the caller's precision; a plain
    ``lru_cache`` let the first caller's precision decide the last digits every later caller
    got, so ``verify --all`` printed digits that depended on which check ran first (issue 15).
    """
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @lru_cache(maxsize=maxsize)
        def at_precision(prec: int, *args: Any) -> Any:
            return fn(*args)

        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            return at_precision(mpmath.mp.prec, *args)

        wrapper.cache_clear = at_precision.cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = at_precision.cache_info  # type: ignore[attr-defined]
        return wrapper

    return decorate


@_cached_per_precision(maxsize=64)
def bump_derivative_norms(k: int) -> BumpDerivativeNorms:
    """Rigorous enclosures of ``M_k = sup|Psi^{(k)}|`` and ``W_k = int |Psi^{(k+1)}|``.

    ``Psi^{(k)}`` vanishes at ``+-1`` (with all derivatives) and is smooth in between; its
    local extrema are at the real roots of ``p_{k+1}`` in ``(-1, 1)``.  sympy isolates those
    roots in rational intervals of width ``<= 1e-40`` (exact arithmetic), and the value of
    ``Psi^{(k)}`` on each interval is enclosed with ``mpmath.iv``.  Then
    ``M_k = max_i |Psi^{(k)}(z_i)|`` and ``W_k = sum_i |Psi^{(k)}(z_{i+1}) - Psi^{(k)}(z_i)|``
    over the breakpoints ``-1 = z_0 < z_1 < ... < z_m < z_{m+1} = 1``.

    Examples
    --------
    >>> nrm = bump_derivative_norms(0)
    >>> print(f"{float(nrm.sup_upper):.6f} {float(nrm.variation_upper):.6f}")
    0.367879 0.735759
    """
    k = require_int("k", k, minimum=0, maximum=MAX_RATE_INDEX)
    poly = bump_derivative_polynomial(k + 1)
    isolating = poly.intervals(eps=sympy.Rational(1, 10 ** 40), inf=-1, sup=1)
    with _iv_precision(220):
        values = [mpmath.iv.mpf(0)]
        points = []
        for (a, b), _mult in sorted(isolating, key=lambda item: item[0][0]):
            a, b = sympy.Rational(a), sympy.Rational(b)
            if not (-1 < a and b < 1):
                continue
            lo, hi = _iv_rational(a), _iv_rational(b)
            yv = mpmath.iv.mpf([lo.a, hi.b])
            values.append(_iv_bump_derivative(k, yv))
            points.append(float((a + b) / 2))
        values.append(mpmath.iv.mpf(0))
        sup_hi = max(max(abs(v.a), abs(v.b)) for v in values)
        sup_lo = max(mpmath.mpf(0) if (v.a <= 0 <= v.b) else min(abs(v.a), abs(v.b)) for v in values)
        var_hi = mpmath.mpf(0)
        var_lo = mpmath.mpf(0)
        for v0, v1 in zip(values[:-1], values[1:]):
            d = v1 - v0
            var_hi += max(abs(d.a), abs(d.b))
            var_lo += mpmath.mpf(0) if (d.a <= 0 <= d.b) else min(abs(d.a), abs(d.b))
    with mpmath.workdps(_DPS):
        return BumpDerivativeNorms(k, _up(sup_hi), +mpmath.mpf(sup_lo), _up(var_hi), +mpmath.mpf(var_lo),
                                   tuple(points))


# ---------------------------------------------------------------------------------------
# Interpolation error of Psi_T and the l1 error of the kernel
# ---------------------------------------------------------------------------------------

def lebesgue_constant_bound(num_terms: Any) -> mpmath.mpf:
    """``(2/pi) log(H) + 1 >= Lambda_{H-1}`` for ``H`` Chebyshev points (ATAP Thm 15.2, (15.8a)).

    The bound is stated in ATAP for Chebyshev points of the second kind; the same bound
    ``(2/pi) log(N+1) + 1`` holds for the roots (first kind) (Rivlin).

    Examples
    --------
    >>> print(f"{float(lebesgue_constant_bound(1)):.1f}")
    1.0
    """
    num_terms = require_int("num_terms", num_terms, minimum=1)
    with mpmath.workdps(_DPS):
        return _up(2 / mpmath.pi * mpmath.log(num_terms) + 1)


def weight_sum(rpe: str, *, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """``sum_t w(t)``: ``1/(1 - e^{-gamma})`` over ``t >= 0`` (lin) or ``zeta(1 + gamma)`` over ``t >= 1`` (log).

    Examples
    --------
    >>> print(f"{float(weight_sum('lin')):.4f} {float(weight_sum('log')):.4f}")
    100.5008 100.5779
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    g = require_positive_rational("gamma", gamma)
    with mpmath.workdps(_DPS):
        gm = mpmath.mpf(g.p) / g.q
        return _up(-1 / mpmath.expm1(-gm)) if rpe == "lin" else _up(mpmath.zeta(1 + gm))


def _falling(x: int, k: int) -> int:
    """``x (x-1) ... (x-k+1)`` (``k`` factors)."""
    out = 1
    for i in range(k):
        out *= x - i
    return out


def _route_values(num_terms: int, rate: int, peak: mpmath.mpf, scaled: mpmath.mpf) -> dict[str, mpmath.mpf | None]:
    """The four sup-norm routes, given ``peak = V_T/e`` and ``scaled = V_T sigma_T^{-rate}``
    (or upper bounds of them).  ``None`` marks a route that does not apply at this ``H``."""
    N = num_terms - 1
    nrm = bump_derivative_norms(rate)
    lam = lebesgue_constant_bound(num_terms)
    with mpmath.workdps(_DPS):
        # total variation of f^{(n)} on [-1, 1], f(x) = Psi_T((1+x)/2)
        V = mpmath.mpf(2) ** (-rate) * scaled * nrm.variation_upper
        sup_fn = mpmath.mpf(2) ** (-rate) * scaled * nrm.sup_upper
        routes: dict[str, mpmath.mpf | None] = {}
        routes["lebesgue"] = _up((1 + lam) * peak)
        routes["trefethen_7_2"] = (_up(4 * V / (mpmath.pi * rate * mpmath.mpf(N - rate) ** rate))
                                   if N > rate else None)
        routes["trefethen_7_1_summed"] = (_up(4 * V / (mpmath.pi * rate * _falling(N, rate)))
                                          if N >= rate else None)
        routes["jackson_rivlin"] = (_up((1 + lam) * (mpmath.pi / 2) ** rate * sup_fn / _falling(N + 1, rate))
                                    if N >= rate else None)
    return routes


def interpolation_error_routes(rpe: str, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = _DEFAULT,
                               gamma: Any = _DEFAULT) -> dict[str, mpmath.mpf | None]:
    """Each route's upper bound of ``sup_{[0,1]} |Psi_T - Q|`` (``None`` where it does not apply).

    Parameters
    ----------
    rpe : str
        ``"lin"`` or ``"log"``.
    lag : int
        ``T >= 1``.
    num_terms : int
        ``H >= 1`` (interpolation degree ``H - 1``).
    rate : int
        The rate index ``n`` (``1 <= n <= MAX_RATE_INDEX``), i.e. ``nu`` of ATAP Thm 7.2 and
        ``k`` of Jackson's theorem.
    alpha, gamma : rational
        The lemma's parameters.

    Returns
    -------
    dict
        ``{"lebesgue", "trefethen_7_2", "trefethen_7_1_summed", "jackson_rivlin"} -> mpf | None``.
    """
    place = bump_placement(rpe, lag, alpha=alpha, gamma=gamma)
    num_terms = require_int("num_terms", num_terms, minimum=1)
    rate = _check_rate(rate)
    with mpmath.workdps(_DPS + 10):
        mu, sigma, height = place.numeric(_DPS + 10)
        peak = height / mpmath.e
        scaled = height * sigma ** (-rate)
    return _route_values(num_terms, rate, _up(peak), _up(scaled))


def interpolation_error_bound(rpe: str, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = _DEFAULT,
                              gamma: Any = _DEFAULT) -> mpmath.mpf:
    """``min`` over the valid routes of :func:`interpolation_error_routes` (sup-norm bound)."""
    routes = interpolation_error_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    return min(v for v in routes.values() if v is not None)


def delta_kernel_bound_routes(rpe: str, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = _DEFAULT,
                              gamma: Any = _DEFAULT) -> dict[str, mpmath.mpf | None]:
    """Each route's explicit bound of the kernel's l1 error (sup bound times ``sum_t w(t)``)."""
    routes = interpolation_error_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    z = weight_sum(rpe, gamma=gamma)
    with mpmath.workdps(_DPS):
        return {k: (None if v is None else _up(v * z)) for k, v in routes.items()}


def delta_kernel_bound(rpe: str, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = _DEFAULT,
                       gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit upper bound of ``||1{. = T} - P||_{l1}`` for the built Lemma F.1 / F.4 kernel.

    Valid for every ``H >= 1`` and rate index ``1 <= n <= MAX_RATE_INDEX`` (the minimum
    over the routes that apply at this ``H``; the Lebesgue route always applies).

    Parameters
    ----------
    rpe : str
        ``"lin"`` (Lemma F.1) or ``"log"`` (Lemma F.4).
    lag : int
        ``T >= 1``.
    num_terms : int
        ``H >= 1``, the number of exponential / power terms (heads).
    rate : int
        The rate index ``n >= 1``.
    alpha, gamma : rational
        The lemma's parameters (default ``1/100``).

    Returns
    -------
    mpmath.mpf
        The bound.

    Raises
    ------
    ValueError
        For ``n`` outside ``1..MAX_RATE_INDEX``, ``T < 1``, ``H < 1``, ``alpha, gamma <= 0``.

    Examples
    --------
    >>> print(f"{float(delta_kernel_bound('log', 3, 256, 1)):.3e}")
    1.687e+03
    """
    routes = delta_kernel_bound_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    return min(v for v in routes.values() if v is not None)


def best_delta_kernel_bound(rpe: str, lag: Any, num_terms: Any, *, max_rate: Any = 8, alpha: Any = _DEFAULT,
                            gamma: Any = _DEFAULT) -> tuple[mpmath.mpf, int]:
    """``min_{1 <= n <= max_rate}`` of :func:`delta_kernel_bound`, and the minimising ``n``."""
    max_rate = require_int("max_rate", max_rate, minimum=1, maximum=MAX_RATE_INDEX)
    best = None
    for r in range(1, max_rate + 1):
        v = delta_kernel_bound(rpe, lag, num_terms, r, alpha=alpha, gamma=gamma)
        if best is None or v < best[0]:
            best = (v, r)
    assert best is not None
    return best


# ---------------------------------------------------------------------------------------
# The paper's form: C(n) E(T) / H^n
# ---------------------------------------------------------------------------------------

def _scale_constant(rpe: str, rate: int, a: mpmath.mpf) -> mpmath.mpf:
    """``K_n`` with ``V_T sigma_T^{-n} <= K_n E(T)`` for every ``T >= 1``.

    lin: equality, ``K_n = e (1 - e^{-alpha})^{-n}``.  log: ``V_T sigma_T^{-n} / E(T) =
    e (T^{1+alpha} sigma_T)^{-n}`` and ``T^{1+alpha} sigma_T = T (1 - (1+1/T)^{-alpha})`` increases
    with ``T``, so its minimum is ``1 - 2^{-alpha}`` at ``T = 1``: ``K_n = e (1 - 2^{-alpha})^{-n}``.
    (The paper states ``2^n e / alpha^n``; the mean value theorem gives ``2^{n(1+alpha)} e / alpha^n``
    for every ``alpha``, and both exceed ours when ``alpha <= 0.47``.)
    """
    if rpe == "lin":
        return mpmath.e * (-mpmath.expm1(-a)) ** (-rate)
    return mpmath.e * (-mpmath.expm1(-a * mpmath.log(2))) ** (-rate)


def _lattice_growth(rpe: str, rate: int, a: mpmath.mpf, g: mpmath.mpf, lag: Any) -> mpmath.mpf:
    """``E(T)``: ``e^{(gamma + n alpha) T}`` (lin) or ``T^{1 + gamma + n (1 + alpha)}`` (log)."""
    if rpe == "lin":
        return mpmath.exp((g + rate * a) * lag)
    return mpmath.power(lag, 1 + g + rate * (1 + a))


@_cached_per_precision(maxsize=256)
def _paper_constant_cached(rpe: str, rate: int, a_rat: sympy.Rational, g_rat: sympy.Rational) -> mpmath.mpf:
    nrm = bump_derivative_norms(rate)
    z = weight_sum(rpe, gamma=g_rat)
    with mpmath.workdps(_DPS):
        a = mpmath.mpf(a_rat.p) / a_rat.q
        K = _scale_constant(rpe, rate, a)
        # Lebesgue route: (1+Lambda) V_T/e <= (1+Lambda) c0 E(T)
        c0 = mpmath.exp(-rate * a) if rpe == "lin" else mpmath.mpf(1)
        best = mpmath.mpf(0)
        Hc = 1
        while True:
            lam = lebesgue_constant_bound(Hc)
            N = Hc - 1
            cands = [(1 + lam) * c0]
            tref = None
            if N >= rate:
                tref = K * 4 * mpmath.mpf(2) ** (-rate) * nrm.variation_upper / (mpmath.pi * rate * _falling(N, rate))
                cands.append(tref)
                cands.append(K * (1 + lam) * (mpmath.pi / 4) ** rate * nrm.sup_upper / _falling(N + 1, rate))
            val = min(cands) * mpmath.mpf(Hc) ** rate
            best = max(best, val)
            # H^n * tref(H) decreases in H: once tref is the smallest route, the sup is reached
            if tref is not None and tref <= (1 + lam) * c0:
                break
            Hc += 1
        return _up(best * z)


def paper_constant(rpe: str, rate: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit ``C(n)`` of Lemma F.1 / F.4 in the paper's form.

    ``C(n)`` is the smallest constant with
    ``delta_kernel_bound(rpe, T, H, n) <= C(n) E(T) / H^n`` for all ``H >= 1`` and ``T >= 1``, where
    ``E(T) = e^{(gamma + n alpha) T}`` (lin; the paper's ``e^{0.01 (n+1) T}``) and
    ``E(T) = T^{1 + gamma + n (1 + alpha)}`` (log; the paper's ``T^{1.01 (n+1)}``).  It is
    ``sum_t w(t) * sup_{H >= 1} H^n min_routes coef(H)`` with each route's ``T``-free coefficient;
    the sup is attained at a finite ``H`` because ``H^n / (N (N-1) ... (N-n+1))`` decreases.

    Examples
    --------
    >>> print(f"{float(paper_constant('lin', 1)):.4g}")
    5.632e+04
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    rate = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    return _paper_constant_cached(rpe, rate, a, g)


def lemma_bound_expr(rpe: str, rate: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> sympy.Expr:
    """``C(n) E(T) / H^n`` as a sympy expression in the symbols ``H`` and ``T``.

    ``C(n)`` is :func:`paper_constant` as a ``sympy.Float`` (20 digits, rounded up), ``alpha``
    and ``gamma`` are substituted as exact rationals.
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    rate = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    C = sympy.Float(mpmath.nstr(_up(paper_constant(rpe, rate, alpha=a, gamma=g) * (1 + mpmath.mpf("1e-18"))), 20), 20)
    if rpe == "lin":
        return C * sympy.exp((g + rate * a) * T) / H ** rate
    return C * T ** (1 + g + rate * (1 + a)) / H ** rate


def lemma_f1_bound_expr(rate: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> sympy.Expr:
    """Lemma F.1: ``C(n) e^{(gamma + n alpha) T} / H^n`` (``= C(n) e^{0.01 (n+1) T}/H^n`` at the defaults).

    Examples
    --------
    >>> lemma_f1_bound_expr(1)
    56321.09...*exp(T/50)/H
    """
    return lemma_bound_expr("lin", rate, alpha=alpha, gamma=gamma)


def lemma_f4_bound_expr(rate: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> sympy.Expr:
    """Lemma F.4: ``C(n) T^{1 + gamma + n (1 + alpha)} / H^n`` (``= C(n) T^{1.01 (n+1)}/H^n`` at the defaults)."""
    return lemma_bound_expr("log", rate, alpha=alpha, gamma=gamma)


def symbolic_paper_form(rpe: str) -> sympy.Expr:
    """The paper's form with every parameter symbolic: ``C(n) e^{(gamma + n alpha) T} / H^n`` (lin) or
    ``C(n) T^{1 + gamma + n (1 + alpha)} / H^n`` (log), ``C`` an undefined function of ``n, alpha, gamma``.

    Examples
    --------
    >>> symbolic_paper_form("lin")
    C(n, alpha, gamma)*exp(T*(alpha*n + gamma))/H**n
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    C = sympy.Function("C")(n, alpha, gamma)
    if rpe == "lin":
        return C * sympy.exp((gamma + n * alpha) * T) / H ** n
    return C * T ** (1 + gamma + n * (1 + alpha)) / H ** n


def explicit_bound_expr(rpe: str, rate: Any) -> sympy.Expr:
    """The sharpest explicit route (``trefethen_7_1_summed``) as a sympy expression in ``H, T, alpha, gamma``.

    ``sum_t w(t) * 4 * 2^{-n} W_n V_T sigma_T^{-n} / (pi n (H-1)(H-2)...(H-n))``, valid for
    ``H >= n + 1``; ``W_n`` enters as a ``sympy.Float`` upper bound.

    Examples
    --------
    >>> e = explicit_bound_expr("lin", 1)
    >>> sorted(str(s) for s in e.free_symbols)
    ['H', 'T', 'alpha', 'gamma']
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    rate = _check_rate(rate)
    W = sympy.Float(mpmath.nstr(bump_derivative_norms(rate).variation_upper, 25), 25)
    if rpe == "lin":
        V = sympy.E * sympy.exp(gamma * T)
        sigma = sympy.exp(-alpha * T) - sympy.exp(-alpha * (T + 1))
        Z = 1 / (1 - sympy.exp(-gamma))
    else:
        V = sympy.E * T ** (1 + gamma)
        sigma = T ** (-alpha) - (T + 1) ** (-alpha)
        Z = sympy.zeta(1 + gamma)
    falling = sympy.Mul(*[(H - 1 - i) for i in range(rate)])
    return Z * 4 * sympy.Integer(2) ** (-rate) * W * V * sigma ** (-rate) / (sympy.pi * rate * falling)


# ---------------------------------------------------------------------------------------
# Theorem 3.1
# ---------------------------------------------------------------------------------------

def thm3_1_attention_bound(rpe: str, lags: Sequence[int], heads_per_memory: Sequence[int], rate: Any, *,
                           alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit bound of ``E_Attn`` for the allocation actually used: ``sum_k bound(T_k, H_k, n)``.

    Each memory's head group realises its own Lemma F.1/F.4 kernel and ``||x||_2 <= 1``,
    so the attention error is at most the sum of the kernels' l1 errors (App. B.1).  A
    memory with ``H_k = 0`` heads contributes exactly ``1`` (``||1{. = T}||_{l1} = 1``).

    Examples
    --------
    >>> b = thm3_1_attention_bound("lin", (1, 5), (512, 512), 2)
    >>> print(f"{float(b):.3e}")
    1.317e+02
    """
    lags = require_sorted_distinct_lags("lags", lags)
    return _summed_group_bounds(delta_kernel_bound, rpe, lags, heads_per_memory, rate, alpha, gamma)


def _summed_group_bounds(lemma_bound: Any, rpe: str, lags: Sequence[int], heads_per_memory: Sequence[int],
                         rate: Any, alpha: Any, gamma: Any) -> mpmath.mpf:
    """``sum_k lemma_bound(T_k, H_k)`` over head groups, rounded up; a group with no head
    contributes exactly 1 (its kernel is zero, the error is ``||delta||_1``)."""
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    if len(heads) != len(lags):
        raise ValueError(f"heads_per_memory must have one entry per memory ({len(lags)}), got {len(heads)}")
    rate = _check_rate(rate)
    total = mpmath.mpf(0)
    with mpmath.workdps(_DPS):
        for lag, h in zip(lags, heads):
            total += 1 if h == 0 else lemma_bound(rpe, lag, h, rate, alpha=alpha, gamma=gamma)
        return _up(total)


def _paper_form_growths(rpe: str, lags: Sequence[int], rate: Any, alpha: Any,
                        gamma: Any) -> tuple[mpmath.mpf, list[mpmath.mpf], int]:
    """``(C(n), [E(T) for T in lags], n)`` of the paper-form bounds (validated; ``E`` at ``_DPS`` digits)."""
    require_choice("rpe", rpe, RPE_TYPES)
    rate = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    C = paper_constant(rpe, rate, alpha=a, gamma=g)
    with mpmath.workdps(_DPS):
        am, gm = mpmath.mpf(a.p) / a.q, mpmath.mpf(g.p) / g.q
        return C, [_lattice_growth(rpe, rate, am, gm, T_) for T_ in lags], rate


def thm3_1_paper_form(rpe: str, lags: Sequence[int], num_heads: Any, rate: Any, *, alpha: Any = _DEFAULT,
                      gamma: Any = _DEFAULT) -> mpmath.mpf:
    """The paper's Theorem 3.1 expression with the explicit ``C(n)``:
    ``C(n)/H^n (sum_i E(T_i)^{1/(n+1)})^{n+1}``.

    ``E(T)^{1/(n+1)}`` is ``e^{(gamma + n alpha) T/(n+1)}`` (``= e^{0.01 T}`` when ``alpha = gamma``)
    for lin and ``T^{(1 + gamma + n(1+alpha))/(n+1)}`` (``= T^{1.01}``) for log.  This bounds the
    attention error for the *real-valued* allocation ``H_k = H E(T_k)^{1/(n+1)} / sum_j E(T_j)^{1/(n+1)}``
    of the proof; with integer allocations use :func:`thm3_1_attention_bound`.
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    lags = require_sorted_distinct_lags("lags", lags)
    num_heads = require_int("num_heads", num_heads, minimum=1)
    C, E, rate = _paper_form_growths(rpe, lags, rate, alpha, gamma)
    with mpmath.workdps(_DPS):
        s = mpmath.fsum(e ** (mpmath.mpf(1) / (rate + 1)) for e in E)
        return _up(C * s ** (rate + 1) / mpmath.mpf(num_heads) ** rate)


def thm3_1_bound_expr(rpe: str, num_memories: Any, rate: Any, *, alpha: Any = _DEFAULT,
                      gamma: Any = _DEFAULT) -> sympy.Expr:
    """Theorem 3.1's ``C(n)/H^n (sum_i e^{c T_i})^{n+1}`` as sympy, in symbols ``H, T_1, ..., T_M``.

    Examples
    --------
    >>> thm3_1_bound_expr("lin", 2, 1)
    56321.09...*(exp(T_1/100) + exp(T_2/100))**2/H
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    M = require_int("num_memories", num_memories, minimum=1)
    rate = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    Ts = sympy.symbols(" ".join(f"T_{i + 1}" for i in range(M)) + ("," if M == 1 else ""), positive=True)
    C = lemma_bound_expr(rpe, rate, alpha=a, gamma=g).subs({T: 0, H: 1}) if rpe == "lin" else \
        lemma_bound_expr(rpe, rate, alpha=a, gamma=g).subs({T: 1, H: 1})
    if rpe == "lin":
        c = (g + rate * a) / (rate + 1)
        total = sympy.Add(*[sympy.exp(c * t) for t in Ts])
    else:
        c = (1 + g + rate * (1 + a)) / (rate + 1)
        total = sympy.Add(*[t ** c for t in Ts])
    return C * total ** (rate + 1) / H ** rate



# ---------------------------------------------------------------------------------------
# Lemmas F.3 / F.6 and Theorem 5.1 (essentially sparse memories)
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _bump_sum_scaled(rpe: str, kernel: Any, rate: int, a_rat: sympy.Rational, g_rat: sympy.Rational,
                     first: int, last: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(sum_T V_T sigma_T^{-rate}, max_T V_T / e)`` over the bumps ``T = first..last`` (upper bounds)."""
    with mpmath.workdps(30):
        a = mpmath.mpf(a_rat.p) / a_rat.q
        g = mpmath.mpf(g_rat.p) / g_rat.q
        rho = kernel.values_mp(list(range(first, last + 1)), 30)
        total = mpmath.mpf(0)
        peak = mpmath.mpf(0)
        for T, r in zip(range(first, last + 1), rho):
            r = abs(mpmath.mpf(r))
            if r == 0:
                continue
            if rpe == "lin":
                V = mpmath.e * mpmath.exp(g * T) * r
                sigma = -mpmath.exp(-a * T) * mpmath.expm1(-a) / 2
            else:
                V = mpmath.e * mpmath.power(T, 1 + g) * r
                sigma = (mpmath.power(T, -a) - mpmath.power(T + 1, -a)) / 2
            total += V * sigma ** (-rate)
            peak = max(peak, V / mpmath.e)
        return _up(total), _up(peak)


def essential_kernel_bound(rpe: str, kernel: Any, num_terms: Any, rate: Any, *, alpha: Any, gamma: Any,
                           first_bump: int, last_bump: int, truncation_tail: Any = 0, node_residual: Any = 0,
                           missing_lag0: Any = 0) -> mpmath.mpf:
    """Explicit upper bound of ``||rho - P||_{l1}`` for the Lemma F.3 (lin, ``t >= 0``) / F.6 (log,
    ``t >= 1``) kernel built by :mod:`tfapprox.constructions.lemma_f3_f6`.

    ``sup_{[0,1]} |varphi - Q_interp|`` is bounded as for Lemma F.1 (module docstring): the
    minimum of ATAP Thm 7.1 summed, ``4 V / (pi n N (N-1) ... (N-n+1))`` for ``N = H - 1 >= n``,
    with ``V = 2^{-n} W_n sum_T V_T sigma_T^{-n}`` (the bumps have disjoint supports, so the
    variations add), and the Lebesgue route ``(1 + Lambda_N) max_T V_T / e``.  The stored
    coefficients add ``(1 + Lambda_N) node_residual``.  Then
    ``l1 <= sup * sum_t w(t) + truncation_tail + missing_lag0`` (the cut bump sum costs exactly
    ``sum_{t > T_max} |rho(t)|``; ``missing_lag0 = |rho(0)|`` when Lemma F.3 is used without the
    ``T = 0`` bump, erratum D1 of the Differences page).

    The rate index is *not* checked against the lemma's admissible range here (see
    :func:`tfapprox.constructions.lemma_f3_f6.check_rate`); the bound is valid for every
    ``1 <= n <= MAX_RATE_INDEX`` for the truncated bump sum.

    Examples
    --------
    >>> from tfapprox.theory.memory_kernels import ExponentialKernel
    >>> b = essential_kernel_bound("lin", ExponentialKernel(1, 5), 64, 1, alpha="1/200", gamma="1/20",
    ...                            first_bump=0, last_bump=8)
    >>> float(b) > 0
    True
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    H_ = require_int("num_terms", num_terms, minimum=1)
    n_ = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    first = require_int("first_bump", first_bump, minimum=0)
    last = require_int("last_bump", last_bump, minimum=first)
    scaled, peak = _bump_sum_scaled(rpe, kernel, n_, a, g, first, last)
    N = H_ - 1
    nrm = bump_derivative_norms(n_)
    lam = lebesgue_constant_bound(H_)
    with mpmath.workdps(_DPS):
        routes = [(1 + lam) * peak]
        if N >= n_:
            V = mpmath.mpf(2) ** (-n_) * scaled * nrm.variation_upper
            routes.append(4 * V / (mpmath.pi * n_ * _falling(N, n_)))
        sup = min(routes) + (1 + lam) * mpmath.mpf(node_residual)
        # + 1e-300: room for the outward rounding of a measured enclosure of an exact 0
        return _up(sup * weight_sum(rpe, gamma=g) + mpmath.mpf(truncation_tail) + mpmath.mpf(missing_lag0)
                   + mpmath.mpf("1e-300"))


def thm5_1_attention_bound(per_memory_bounds: Sequence[Any]) -> mpmath.mpf:
    """Theorem 5.1's ``E_Attn`` (explicit): ``sum_k`` of the Lemma F.3/F.6 bounds of the ``M`` head groups.

    With equal allocation ``H_k = H/M`` and a common ``C(n)`` this is the paper's
    ``C(n) M^{n+1} / H^n`` (App. E.1); the sum of the explicit per-group bounds is never larger.
    It bounds ``sup ||x^{(1/2)}_t - ((X*rho_k)(t))_k||_inf`` and, for ``d = 1``, the l1 norm of the
    stacked kernel errors.
    """
    with mpmath.workdps(_DPS):
        return _up(mpmath.fsum(mpmath.mpf(b) for b in per_memory_bounds))


__all__ += ["essential_kernel_bound", "thm5_1_attention_bound"]


# ---------------------------------------------------------------------------------------
# Lemmas F.2 / F.5 and Theorem 4.1 (adaptive memories)
# ---------------------------------------------------------------------------------------

def lemma_f2_f5_bound(rpe: str, max_shift: Any, num_terms: Any, rate: Any, *, alpha: Any = _DEFAULT,
                      gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit bound of ``max_{1 <= B <= T} ||1{. = B} - phi(.; B)||_{l1}`` (Lemma F.2 lin, F.5 log).

    The shifted kernel is the Lemma F.1/F.4 kernel for ``T`` evaluated at ``t - B + T`` (lin) or
    ``t T / B`` (log), and ``Phi_T`` there is exactly ``1{t = B}``; so the error for shift ``B`` is at
    most ``sup_u |Psi_T - Q| * sum_t w(.)`` over the shifted points, and that weight sum is at most
    ``sum_t w(t)`` (lin: a tail of it; log: ``(B/T)^{1+gamma} sum_t t^{-1-gamma}``).  Hence the
    Lemma F.1/F.4 bound :func:`delta_kernel_bound` for the lag ``T`` holds for every shift.

    >>> print(f"{float(lemma_f2_f5_bound('lin', 3, 256, 2)):.3e}")
    2.645e+02
    """
    return delta_kernel_bound(rpe, max_shift, num_terms, rate, alpha=alpha, gamma=gamma)


def thm4_1_attention_bound(rpe: str, max_lags: Sequence[int], heads_per_memory: Sequence[int], rate: Any, *,
                           alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit bound of ``E_Attn`` in Theorem 4.1 for the allocation used: ``sum_k bound_F2/F5(T_k, H_k, n)``.

    Unlike Theorem 3.1 the ``T_k`` need not be distinct (they are maxima of ``g_k``).  A memory
    with ``H_k = 0`` contributes ``1``.  The total error bound is ``Lip(f)`` times this plus
    ``E_FFN`` (0 for an exact readout FFN), provided FFN 1 meets the rounding threshold.

    >>> print(f"{float(thm4_1_attention_bound('lin', (3, 2), (128, 128), 1)):.3e}")
    9.242e+02
    """
    lags = tuple(require_int(f"max_lags[{i}]", T, minimum=1) for i, T in enumerate(max_lags))
    return _summed_group_bounds(lemma_f2_f5_bound, rpe, lags, heads_per_memory, rate, alpha, gamma)

__all__ += ["lemma_f2_f5_bound", "thm4_1_attention_bound"]


# ---------------------------------------------------------------------------------------
# Theorem 4.4 / Proposition 4.5 (nested memories, App. D.1 - D.2)
# ---------------------------------------------------------------------------------------

def _nested_split(lags: Sequence[int], layers_K: Any) -> tuple[tuple[int, ...], int]:
    lags = tuple(require_int(f"max_lags[{i}]", T, minimum=1) for i, T in enumerate(lags))
    K = require_int("layers_K", layers_K, minimum=1, maximum=len(lags))
    return lags, K


def thm4_4_attention_bound(rpe: str, max_lags: Sequence[int], heads_per_memory: Sequence[int], layers_K: Any,
                           rate: Any, *, alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Explicit bound of ``E_Attn`` in Theorem 4.4 (App. D.1, (E3)) for the allocation used.

    ``sqrt( sum_{l <= K} B(T_l, H_l)^2 + (sum_{l > K} B(T_l, H_l))^2 )`` with ``B`` the Lemma F.2/F.5
    bound :func:`lemma_f2_f5_bound`: the first ``K`` memories sit in separate blocks (their token
    errors add in l2), the concurrent memories ``K+1..M`` share layer ``K+2`` (their bounds add, as in
    Thm 4.1; a memory with no head contributes 1).  Valid when the positions are exact (the
    head-count condition :func:`thm4_4_head_condition`).  Times ``Lip(f)`` plus ``E_FFN`` bounds
    the total error.

    >>> print(f"{float(thm4_4_attention_bound('lin', (2, 2), (512, 512), 2, 2)):.3e}")
    9.021e+01
    """
    lags, K = _nested_split(max_lags, layers_K)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    if len(heads) != len(lags):
        raise ValueError(f"heads_per_memory must have one entry per memory ({len(lags)}), got {len(heads)}")
    rate = _check_rate(rate)
    with mpmath.workdps(_DPS):
        sq = mpmath.mpf(0)
        for T_, h in zip(lags[:K], heads[:K]):
            b = 1 if h == 0 else lemma_f2_f5_bound(rpe, T_, h, rate, alpha=alpha, gamma=gamma)
            sq += mpmath.mpf(b) ** 2
        if len(lags) > K:
            sq += _summed_group_bounds(lemma_f2_f5_bound, rpe, lags[K:], heads[K:], rate, alpha, gamma) ** 2
        return _up(mpmath.sqrt(sq))


def thm4_4_paper_form(rpe: str, max_lags: Sequence[int], num_heads: Any, layers_K: Any, rate: Any, *,
                      alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> mpmath.mpf:
    """Theorem 4.4's expression with the explicit ``C(n)`` (:func:`paper_constant`):

    ``C(n)/H^n sqrt( sum_{l<=K} E(T_l)^2 + (sum_{l>K} E(T_l)^{1/(n+1)})^{2n+2} )``, with
    ``E(T) = e^{0.01 (n+1) T}`` (lin) / ``T^{1.01 (n+1)}`` (log) at the default ``alpha = gamma``.
    For ``K = M`` (Proposition 4.5) the second sum is empty.  Real-valued head split as in the proof.
    """
    lags, K = _nested_split(max_lags, layers_K)
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    Hn = require_int("num_heads", num_heads, minimum=1)
    C, E, rate = _paper_form_growths(rpe, lags, rate, alpha, gamma)
    with mpmath.workdps(_DPS):
        s = mpmath.fsum(e ** 2 for e in E[:K])
        if len(lags) > K:
            s += mpmath.fsum(e ** (mpmath.mpf(1) / (rate + 1)) for e in E[K:]) ** (2 * rate + 2)
        return _up(C * mpmath.sqrt(s) / mpmath.mpf(Hn) ** rate)


def thm4_4_head_condition(rpe: str, max_lags: Sequence[int], heads_per_memory: Sequence[int], layers_K: Any,
                          reads: Sequence[Sequence[int]], lipschitz: Sequence[Any], rate: Any, *,
                          alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> list[dict[str, Any]]:
    """The implicit head-count conditions of the proof of Theorem 4.4 ("hold when H is large enough").

    For each memory ``l`` whose ``g_l`` reads memory blocks ``J_l`` (``reads[l-1]``, 0 = ``x_t``):
    the token error it sees is at most ``err_l = sqrt(sum_{j in J_l} B(T_j, H_j)^2)`` ((E3), explicit
    Lemma F.2/F.5 bounds), and the proof asks ``Lip(g_l) err_l <= 1/4`` (lin) or ``<= 1/(8 T_l)``
    (log; Thm 4.4).  Returns one dict per memory with ``token_error_bound``,
    ``lipschitz``, ``product``, ``threshold`` and ``met`` (memories reading ``x_t`` only: always met).

    >>> c = thm4_4_head_condition("lin", (2, 2), (512, 512), 2, [(0,), (1,)], [2, 2], 2)
    >>> tuple(r.get("met") for r in c)
    (True, False)
    """
    lags, K = _nested_split(max_lags, layers_K)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    rate = _check_rate(rate)
    if len(reads) != len(lags) or len(lipschitz) != len(lags):
        raise ValueError(f"reads and lipschitz must have one entry per memory ({len(lags)})")
    out = []
    with mpmath.workdps(_DPS):
        B = [1 if h == 0 else lemma_f2_f5_bound(rpe, T_, h, rate, alpha=alpha, gamma=gamma)
             for T_, h in zip(lags, heads)]
        for l, (T_, r, lip) in enumerate(zip(lags, reads, lipschitz), start=1):
            mem = [j for j in r if j > 0]
            err = mpmath.sqrt(mpmath.fsum(mpmath.mpf(B[j - 1]) ** 2 for j in mem)) if mem else mpmath.mpf(0)
            thr = mpmath.mpf(1) / 4 if rpe == "lin" else mpmath.mpf(1) / (8 * T_)
            prod = _up(mpmath.mpf(lip) * err)
            out.append({"memory": l, "token_error_bound": float(_up(err)), "lipschitz": float(lip),
                        "product": float(prod), "threshold": float(thr), "met": bool(prod <= thr)})
    return out


def thm4_4_min_heads_paper(rpe: str, max_lags: Sequence[int], layers_K: Any, max_lipschitz: Any, rate: Any, *,
                           alpha: Any = _DEFAULT, gamma: Any = _DEFAULT) -> int:
    """Smallest ``H`` meeting the paper's head-count condition with the explicit ``C(n)``:

    ``C(n)/H^n sqrt(sum_{l <= K'} E(T_l)^2) <= 1 / (4 max Lip(g_l))`` (lin) or ``1/(4 max Lip(log g_l))``
    (log), ``K' = K`` if ``M > K`` and ``K - 1`` if ``M = K`` (Thm 4.4).  Returns 1 when the sum
    is empty (``K' = 0``).

    >>> thm4_4_min_heads_paper("lin", (2, 2), 2, 2, 3) > 1000
    True
    """
    lags, K = _nested_split(max_lags, layers_K)
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    Kp = K if len(lags) > K else K - 1
    C, E, rate = _paper_form_growths(rpe, lags[:Kp], rate, alpha, gamma)
    if Kp == 0:
        return 1
    with mpmath.workdps(_DPS):
        s = mpmath.sqrt(mpmath.fsum(e ** 2 for e in E))
        Hreal = (4 * mpmath.mpf(max_lipschitz) * C * s) ** (mpmath.mpf(1) / rate)
        return max(1, int(mpmath.ceil(Hreal * (1 - mpmath.mpf("1e-40")))))


def app_d2_head_ratio(rpe: str, max_lags: Sequence[int], rate: Any, *, alpha: Any = _DEFAULT,
                      gamma: Any = _DEFAULT) -> mpmath.mpf:
    """App. D.2 (corrected reading, Differences from the paper, D8): ``H^{(M+1)}_need / H^{(2)}_need``.

    ``(H^{(M+1)}/H^{(2)})^{2n} = sum_i b_i^2 / (sum_i b_i)^2`` with ``b_i = E(T_i)``
    (``e^{0.01 (n+1) T_i}`` lin, ``T_i^{1.01 (n+1)}`` log): the 2-layer network needs
    ``(sum_i e^{0.01 T_i})^{n+1}``, the ``(M+1)``-layer one ``sqrt(sum_i e^{0.02 (n+1) T_i})``.

    >>> print(f"{float(app_d2_head_ratio('lin', (2, 2, 2), 1)):.4f}")
    0.5774
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    lags = tuple(require_int(f"max_lags[{i}]", T_, minimum=1) for i, T_ in enumerate(max_lags))
    rate = _check_rate(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    with mpmath.workdps(_DPS):
        am, gm = mpmath.mpf(a.p) / a.q, mpmath.mpf(g.p) / g.q
        b = [_lattice_growth(rpe, rate, am, gm, T_) for T_ in lags]
        return (mpmath.fsum(v ** 2 for v in b) / mpmath.fsum(b) ** 2) ** (mpmath.mpf(1) / (2 * rate))


__all__ += ["thm4_4_attention_bound", "thm4_4_paper_form", "thm4_4_head_condition", "thm4_4_min_heads_paper",
            "app_d2_head_ratio"]
