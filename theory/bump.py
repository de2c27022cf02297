"""The bump of Lemmas F.1 / F.4 (Wang & E 2024, App. F): its placement and rigorous derivative norms.

Lemma F.1 (lin-RPE) / F.4 (log-RPE) approximate the delta ``1{t = T}`` by interpolating the bump
``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)``, ``Psi(y) = exp(-1/(1 - y^2))`` on ``(-1, 1)``, in the
variable ``u(t) = exp(-alpha x(t))`` of the kernel family (``tfapprox.theory.families``).
This module holds

* :func:`bump_placement`: the exact ``mu_T, sigma_T, V_T`` (asked of the family);
* :func:`bump_derivative_polynomial`: the integer polynomials ``p_k`` with
  ``Psi^{(k)} = p_k(y) (1 - y^2)^{-2k} Psi(y)``;
* :func:`bump_derivative_norms`: rigorous enclosures of ``M_k = sup |Psi^{(k)}|`` and
  ``W_k = int |Psi^{(k+1)}|``, the two numbers per ``k`` that every interpolation-error route
  of :mod:`tfapprox.theory.interpolation_bounds` needs.  The critical points of ``Psi^{(k)}``
  (real roots of ``p_{k+1}`` in ``(-1, 1)``) are isolated by python-flint with certified
  enclosures (:func:`tfapprox.theory.numerics.polynomial_roots.real_root_enclosures`) and
  ``Psi^{(k)}`` is enclosed on them in ball arithmetic (``arb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import flint
import mpmath
import sympy

from .bound_common import BOUND_DPS, DEFAULT_KERNEL_RATE, MAX_RATE_INDEX, cached_per_precision, round_up
from .families import KernelFamily, kernel_family
from .numerics.polynomial_roots import real_root_enclosures
from .validation import require_int, require_positive_rational

__all__ = ["BumpPlacement", "bump_placement", "bump_derivative_polynomial", "BumpDerivativeNorms",
           "bump_derivative_norms", "bump_derivative_enclosure"]

_Y = sympy.Symbol("y", real=True)


def _mpf_rational(r: sympy.Rational) -> mpmath.mpf:
    return mpmath.mpf(int(r.p)) / int(r.q)


@dataclass(frozen=True)
class BumpPlacement:
    """Where Lemma F.1 (lin) / F.4 (log) places the bump for lag ``T`` (exact sympy numbers).

    Attributes
    ----------
    rpe : str
        The kernel family's name: ``"lin"`` (``u = e^{-alpha t}``, ``t in N``) or ``"log"``
        (``u = t^{-alpha}``, ``t in N_+``).
    lag : int
        The lag ``T >= 1`` of the delta ``1{t = T}``.
    alpha, gamma : sympy.Rational
        Change-of-variables rate and decay of the weight (paper: ``1/100`` each).
    mu, sigma, height : sympy.Expr
        ``mu_T``, ``sigma_T`` and ``V_T`` of ``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)``:
        ``mu_T = u(T)``, ``sigma_T = u(T) - u(T+1)``, ``V_T = e / w(T)``, i.e. lin
        ``mu_T = e^{-alpha T}``, ``V_T = e * e^{gamma T}``; log ``mu_T = T^{-alpha}``,
        ``V_T = e * T^{1+gamma}``.  With ``Psi(0) = e^{-1}`` this makes
        ``w(t) Psi_T(u_t) = 1{t = T}`` on the lattice.
    """

    rpe: str
    lag: int
    alpha: sympy.Rational
    gamma: sympy.Rational
    mu: sympy.Expr
    sigma: sympy.Expr
    height: sympy.Expr

    @property
    def family(self) -> KernelFamily:
        """The kernel family (``kernel_family()`` of ``rpe``)."""
        return kernel_family(self.rpe)

    @property
    def peak(self) -> sympy.Expr:
        """``sup Psi_T = V_T / e`` (``e^{gamma T}`` for lin, ``T^{1+gamma}`` for log)."""
        return sympy.simplify(self.height / sympy.E)

    def lattice_variable(self, t: Any) -> sympy.Expr:
        """``u(t)``: ``e^{-alpha t}`` (lin) or ``t^{-alpha}`` (log)."""
        return self.family.lattice_variable(self.alpha, t)

    def weight(self, t: Any) -> sympy.Expr:
        """``w(t)``: ``e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log)."""
        return self.family.weight(self.gamma, t)

    def numeric(self, dps: int = BOUND_DPS) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
        """``(mu_T, sigma_T, V_T)`` as mpf at ``dps`` digits (``sigma_T`` without cancellation)."""
        with mpmath.workdps(dps):
            return self.family.bump_mp(_mpf_rational(self.alpha), _mpf_rational(self.gamma), self.lag)


def bump_placement(rpe: Any, lag: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                   gamma: Any = DEFAULT_KERNEL_RATE) -> BumpPlacement:
    """The bump of Lemma F.1 (``rpe="lin"``) or F.4 (``rpe="log"``) for lag ``T``.

    ``rpe`` is a family name or a ``KernelFamily``.

    Examples
    --------
    >>> p = bump_placement("lin", 5)
    >>> p.mu, p.height
    (exp(-1/20), exp(21/20))
    """
    family = kernel_family(rpe)
    lag = require_int("lag", lag, minimum=1)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    mu, sigma, height = family.bump(a, g, lag)
    return BumpPlacement(family.name, lag, a, g, mu, sigma, height)


# ---------------------------------------------------------------------------------------
# Derivatives of the bump Psi(y) = exp(-1/(1-y^2))
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _bump_poly(k: int) -> flint.fmpz_poly:
    """``p_k`` as an ``fmpz_poly`` (exact recurrence, cached)."""
    if k == 0:
        return flint.fmpz_poly([1])
    prev = _bump_poly(k - 1)
    w = flint.fmpz_poly([1, 0, -1])
    y = flint.fmpz_poly([0, 1])
    return w * w * prev.derivative() + 4 * (k - 1) * y * w * prev - 2 * y * prev


def bump_derivative_polynomial(k: int) -> sympy.Poly:
    """Integer polynomial ``p_k`` with ``Psi^{(k)}(y) = p_k(y) (1 - y^2)^{-2k} Psi(y)`` on ``(-1, 1)``.

    Recurrence: ``p_0 = 1``, ``p_{k+1} = (1-y^2)^2 p_k' + 4 k y (1-y^2) p_k - 2 y p_k``
    (differentiate ``p_k (1-y^2)^{-2k} e^{-1/(1-y^2)}``); ``deg p_k = 3k - 2`` for ``k >= 1``.
    Computed exactly with python-flint and returned as a sympy ``Poly`` over ``ZZ`` in ``y``.

    Examples
    --------
    >>> bump_derivative_polynomial(1).as_expr()
    -2*y
    """
    k = require_int("k", k, minimum=0, maximum=MAX_RATE_INDEX + 1)
    coeffs = [int(c) for c in _bump_poly(k).coeffs()]
    return sympy.Poly(list(reversed(coeffs)), _Y, domain="ZZ")


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


def bump_derivative_enclosure(k: int, y: flint.arb) -> flint.arb:
    """Ball enclosure of ``Psi^{(k)}`` over the ball ``y`` (inside ``(-1, 1)``), at ``flint.ctx.prec``.

    >>> import flint
    >>> bump_derivative_enclosure(0, flint.arb(0)).contains(flint.arb(-1).exp())   # Psi(0) = 1/e
    True
    """
    k = require_int("k", k, minimum=0, maximum=MAX_RATE_INDEX + 2)
    w = 1 - y * y
    return flint.arb_poly(_bump_poly(k))(y) / w ** (2 * k) * (-1 / w).exp()


def _to_mpf(x: flint.arb) -> mpmath.mpf:
    """An exact ``arb`` (an ``upper()`` / ``lower()`` / ``abs_*()`` end point) as an mpf, exactly."""
    man, exp = x.man_exp()
    with mpmath.workprec(max(int(man).bit_length(), 1) + 8):
        return mpmath.ldexp(mpmath.mpf(int(man)), int(exp))


#: Bits of relative accuracy asked of every value enclosure (the bounds are rounded up by 1e-30 ~ 2^-100).
_TARGET_BITS = 140


def _taylor_enclosure(k: int, lower: Fraction, upper: Fraction) -> flint.arb:
    """Ball holding ``Psi^{(k)}`` on ``[lower, upper]`` (inside ``(-1, 1)``), in second-order Taylor form about
    the midpoint ``m``: ``Psi^{(k)}(m) + Psi^{(k+1)}(m) [-r, r] + Psi^{(k+2)}([lower, upper]) [0, r^2/2]``
    (``r`` the half width).  Near a critical point (``Psi^{(k+1)}(m) ~ 0``) its radius is ``O(r^2)``."""
    mid = (lower + upper) / 2
    m = flint.arb(flint.fmpq(mid.numerator, mid.denominator))
    r = flint.arb(flint.fmpq((upper - lower).numerator, 2 * (upper - lower).denominator))
    ball = flint.arb(flint.fmpq(lower.numerator, lower.denominator)).union(
        flint.arb(flint.fmpq(upper.numerator, upper.denominator)))
    unit = flint.arb(0, 1)  # [-1, 1]
    return (bump_derivative_enclosure(k, m) + bump_derivative_enclosure(k + 1, m) * r * unit
            + bump_derivative_enclosure(k + 2, ball) * r * r * unit / 2)


def _norm_enclosures(k: int) -> tuple[list[flint.arb], list[float]]:
    """Balls of ``Psi^{(k)}`` at ``-1``, its critical points, ``1`` (each ``rel_accuracy_bits >= _TARGET_BITS``)
    and the critical points as floats.  Root enclosures and precision are refined until the balls are tight."""
    width = Fraction(1, 10 ** 40)
    prec = 256
    old = flint.ctx.prec
    try:
        while True:
            roots = real_root_enclosures(_bump_poly(k + 1), -1, 1, width=width)
            flint.ctx.prec = prec
            values = [flint.arb(0)] + [_taylor_enclosure(k, r.lower, r.upper) for r in roots] + [flint.arb(0)]
            deficit = _TARGET_BITS - min((v.rel_accuracy_bits() for v in values[1:-1]), default=_TARGET_BITS)
            if deficit <= 0:
                return values, [float(r.midpoint) for r in roots]
            if prec > 1 << 14:
                raise ArithmeticError(f"bump_derivative_norms: enclosures of Psi^({k}) not tight at {prec} bits")
            width /= 2 ** (deficit // 2 + 16)  # the radius is O(width^2)
            prec += deficit + 64
    finally:
        flint.ctx.prec = old


@cached_per_precision(maxsize=128)
def bump_derivative_norms(k: int) -> BumpDerivativeNorms:
    """Rigorous enclosures of ``M_k = sup|Psi^{(k)}|`` and ``W_k = int |Psi^{(k+1)}|``.

    ``Psi^{(k)}`` vanishes at ``+-1`` (with all derivatives) and is smooth in between; its
    local extrema are at the real roots of ``p_{k+1}`` in ``(-1, 1)``.  python-flint isolates
    those roots in certified rational enclosures of width ``<= 1e-40``
    (:func:`~tfapprox.theory.numerics.polynomial_roots.real_root_enclosures`), and the value of
    ``Psi^{(k)}`` on each enclosure is a ball (``arb``, at least 140 correct bits).  Then
    ``M_k = max_i |Psi^{(k)}(z_i)|`` and ``W_k = sum_i |Psi^{(k)}(z_{i+1}) - Psi^{(k)}(z_i)|``
    over the breakpoints ``-1 = z_0 < z_1 < ... < z_m < z_{m+1} = 1``; the upper ends are
    rounded up (:func:`~tfapprox.theory.bound_common.round_up`).  Measured on one core:
    0.03 s at ``k = 20``, 1 s at ``k = 40``, 4 s at ``k = MAX_RATE_INDEX = 60`` (cached).

    Examples
    --------
    >>> nrm = bump_derivative_norms(0)
    >>> print(f"{float(nrm.sup_upper):.6f} {float(nrm.variation_upper):.6f}")
    0.367879 0.735759
    """
    k = require_int("k", k, minimum=0, maximum=MAX_RATE_INDEX)
    values, points = _norm_enclosures(k)
    old = flint.ctx.prec
    flint.ctx.prec = 320
    try:
        sup_hi = max((v.abs_upper() for v in values), key=_to_mpf)
        sup_lo = max((v.abs_lower() for v in values), key=_to_mpf)
        var_hi = flint.arb(0)
        var_lo = flint.arb(0)
        for v0, v1 in zip(values[:-1], values[1:]):
            d = v1 - v0
            var_hi += d.abs_upper()
            var_lo += d.abs_lower()
        ends = [_to_mpf(sup_hi), _to_mpf(sup_lo), _to_mpf(var_hi.upper()), _to_mpf(var_lo.lower())]
    finally:
        flint.ctx.prec = old
    with mpmath.workdps(BOUND_DPS):
        down = 1 - mpmath.mpf("1e-30")  # the lower ends, rounded to BOUND_DPS digits, stay lower bounds
        return BumpDerivativeNorms(k, round_up(ends[0]), ends[1] * down, round_up(ends[2]), ends[3] * down,
                                   tuple(points))
