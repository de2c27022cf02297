"""Euler-Maclaurin and Hurwitz-zeta enclosures of power-law tails (App. F log-RPE, Sec. 5).

* The l1 tail ``sum_{t >= S} |g(t)|`` of a Lemma F.4 / F.6 kernel ``g(t) = t^{-1-gamma} Q(t^{-alpha})``
  is ``int_S^inf |g| + |g|(S)/2 - |g|'(S+)/12`` plus kink terms at the roots of ``g`` and a
  remainder ``int P3 g'''``, ``|P3| <= P3_MAX``.  The derivatives are ``g^(k) = t^{-k-1-gamma} R_k(u)``
  with the Chebyshev polynomials of :func:`euler_maclaurin_polys`, and the remainder is bounded
  through the total variation of ``g''`` (:func:`total_variation_g2`, certified roots of ``R_3``).
* :func:`hurwitz_tail`: float64 ``zeta(beta, A)`` for large ``A`` with a rigorous bound (two
  Bernoulli corrections), vectorised for the curse-of-memory enclosures of Sec. 5;
  :func:`hurwitz_zeta_enclosure`: the same quantity (any ``A > 0``) from arb's ball arithmetic
  (python-flint ``arb.zeta(s, a)``), rigorous with no error analysis of its own.

Examples
--------
>>> v, b = hurwitz_tail(1.5, [4096])
>>> e = hurwitz_zeta_enclosure(1.5, 4096)
>>> bool(e.lower - b[0] <= v[0] <= e.upper + b[0]) and e.width < 1e-15
True
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import flint
import mpmath
import numpy as np
from numpy.polynomial import chebyshev as npcheb

from tfapprox.theory.validation import require_int, require_real

from .double_double import EPS, clenshaw_f64
from .enclosure import Enclosure
from .rounding import round_down, round_up
from .taylor_roots import certified_theta_roots, refine_brackets, uncertain_rows
from .weighted_integrals import cheb_theta_op

__all__ = ["P3_MAX", "euler_maclaurin_polys", "total_variation_g2", "check_beta", "hurwitz_tail",
           "hurwitz_zeta_enclosure"]

#: ``max |B_3({t})| / 6``, the periodic Bernoulli kernel of the third-order remainder (rounded up).
P3_MAX = math.sqrt(3) / 216 * (1 + 1e-12)


def euler_maclaurin_polys(c: np.ndarray, alpha: float, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chebyshev coefficients of ``R_1, R_2, R_3`` with ``g^(k)(t) = t^{-k-1-gamma} R_k(u)``, ``u = t^{-alpha}``.

    ``R_0 = Q`` (coefficients ``c``) and ``R_{k+1} = -(k + 1 + gamma) R_k - alpha u R_k'``
    (:func:`~tfapprox.theory.numerics.weighted_integrals.cheb_theta_op` is ``u d/du``), float64.
    """
    nonconstant = len(c) > 1
    R = [np.asarray(c)]
    for k in range(3):
        prev = R[-1]
        R.append(npcheb.chebsub(-(k + 1 + gamma) * prev, alpha * cheb_theta_op(prev)) if nonconstant
                 else -(k + 1 + gamma) * prev)
    return R[1], R[2], R[3]


def total_variation_g2(R2: np.ndarray, R3: np.ndarray, theta_U: float, U: float, per_pi: int, p3: float,
                       a_f: float, *, taylor_order: int | None = None, max_bisections: int | None = None) -> float:
    """Total variation over ``u in (0, U)`` of ``G2(u) = u^p3 R2(u)`` (``g''`` in ``u``): monotone
    between the roots of ``R3`` (``dG2/du = -u^(p3-1) R3 / alpha``), which are isolated by
    :func:`certified_theta_roots`; an undecided interval ``I`` adds
    ``int_I |dG2/du| <= sup_I|R3| (u_hi^p3 - u_lo^p3) / (p3 alpha)``."""
    if len(R3) < 2:
        return abs(U ** p3 * float(clenshaw_f64(R2, np.array([2 * U - 1]))[0]))
    def negligible(a: np.ndarray, b: np.ndarray, sup_abs: np.ndarray) -> np.ndarray:
        u_hi = np.minimum(np.cos(np.maximum(a - 2e-15, 0.0) / 2) ** 2, 1.0)
        return sup_abs * u_hi ** p3 / (p3 * a_f) <= 1e-30

    cert = certified_theta_roots(R3, theta_U, math.pi, per_pi, negligible=negligible,
                                 taylor_order=taylor_order, max_bisections=max_bisections)
    r3_u = np.cos(refine_brackets(R3, cert.brackets[:, 0], cert.brackets[:, 1]) / 2) ** 2
    u_lo, u_hi, s0, _s1, _s2, _n = uncertain_rows(cert.uncertain, theta_U, U)
    bp = np.unique(np.concatenate([[0.0], r3_u[(r3_u > 0) & (r3_u < U)], u_lo, u_hi, [U]]))
    G2 = bp ** p3 * clenshaw_f64(R2, 2 * bp - 1)
    widen = float(np.sum(s0 * (u_hi ** p3 - u_lo ** p3))) / (p3 * a_f) * 1.01
    return float(np.sum(np.abs(np.diff(G2)))) + widen


def check_beta(beta: Any) -> float:
    """``beta`` as a float, checked finite and ``> 1`` (``s^-beta`` summable); ValueError naming ``beta`` otherwise."""
    b = float(require_real("beta", beta, minimum=1.0, strict_minimum=True))
    if not math.isfinite(b):
        raise ValueError(f"beta must be finite and > 1 (s^-beta summable), got {beta!r}")
    return b


def hurwitz_tail(beta: float, A: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(value, bound)``: ``zeta(beta, A) = sum_{s >= A} s^-beta`` for integers ``A >= 64`` by
    Euler-Maclaurin with two Bernoulli corrections; ``|value - zeta(beta, A)| <= bound`` (the
    first omitted term, ``f`` being completely monotone, doubled, plus float64 rounding).

    >>> v, b = hurwitz_tail(1.5, [4096])
    >>> import mpmath; bool(abs(float(mpmath.zeta(1.5, 4096)) - v[0]) <= b[0])
    True
    """
    beta = check_beta(beta)
    A = np.asarray(A, dtype=float)
    if np.any(A < 64):
        raise ValueError(f"A must be >= 64 for the Euler-Maclaurin tail, got min {A.min()}")
    with np.errstate(under="ignore"):
        fa = np.power(A, -beta)
        v = A * fa / (beta - 1) + fa / 2 + beta * fa / A / 12 \
            - beta * (beta + 1) * (beta + 2) * fa / A ** 3 / 720
        omitted = beta * (beta + 1) * (beta + 2) * (beta + 3) * (beta + 4) * fa / A ** 5 / 30240
    return v, 2 * omitted + 16 * EPS * v


def hurwitz_zeta_enclosure(s: Any, a: Any, *, prec: int = 128) -> Enclosure:
    """Rigorous ``[lower, upper]`` of ``zeta(s, a) = sum_{t >= 0} (t + a)^-s`` from arb (python-flint).

    ``s > 1`` and ``a > 0`` are taken exactly (ints, floats, Fractions or sympy Rationals); the
    ball is computed at ``prec`` bits and rounded outward to floats.

    >>> e = hurwitz_zeta_enclosure(2, 1)   # pi^2 / 6
    >>> e.lower <= math.pi ** 2 / 6 <= e.upper
    True
    """
    prec = require_int("prec", prec, minimum=53)
    sv = _exact_fraction("s", s)
    av = _exact_fraction("a", a)
    if not sv > 1:
        raise ValueError(f"s must be > 1 (the Hurwitz zeta series converges), got {s!r}")
    if not av > 0:
        raise ValueError(f"a must be > 0, got {a!r}")
    old = flint.ctx.prec
    try:
        flint.ctx.prec = prec
        ball = (flint.arb(sv.numerator) / sv.denominator).zeta(flint.arb(av.numerator) / av.denominator)
        lo, hi = ball.lower().man_exp(), ball.upper().man_exp()
    finally:
        flint.ctx.prec = old
    return Enclosure(round_down(_exact_mpf(*lo)), round_up(_exact_mpf(*hi)))


def _exact_mpf(man: Any, exp: Any) -> mpmath.mpf:
    """``man * 2^exp`` as an mpf without rounding (the precision is raised to the mantissa's bits)."""
    man, exp = int(man), int(exp)
    with mpmath.workprec(max(man.bit_length(), 1) + 8):
        return mpmath.ldexp(mpmath.mpf(man), exp)


def _exact_fraction(name: str, v: Any) -> Fraction:
    """``v`` as an exact Fraction (sympy Rationals by numerator/denominator, floats exactly)."""
    if isinstance(v, Fraction):
        return v
    p, q = getattr(v, "p", None), getattr(v, "q", None)
    if isinstance(p, int) and isinstance(q, int):
        return Fraction(p, q)
    x = require_real(name, v)
    if isinstance(x, (int, float)) and math.isfinite(float(x)):
        return Fraction(x)
    raise ValueError(f"{name} must be a finite real number, got {v!r}")
