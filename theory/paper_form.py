"""The paper's form ``C(n) E(T) / H^n`` of Lemmas F.1 / F.4 with an explicit constant (Wang & E 2024, App. F).

The paper proves ``||1{. = T} - phi_H||_{l1} <= C(n) E(T) / H^n`` with ``E(T) = e^{0.01 (n+1) T}``
(Lemma F.1, lin) or ``T^{1.01 (n+1)}`` (Lemma F.4, log) but never makes ``C(n)`` explicit
(Differences from the paper, D12).  Here ``E(T) = exp((gamma + o + n (alpha + o)) x(T))`` is the
kernel family's growth (``KernelFamily.growth_mp()``) and :func:`paper_constant` is the
smallest ``C(n)`` with ``delta_kernel_bound(rpe, T, H, n) <= C(n) E(T) / H^n`` for all
``H, T >= 1``.  The module also holds the sympy forms of these bounds (:func:`lemma_bound_expr`,
:func:`symbolic_paper_form`, :func:`explicit_bound_expr`).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from .bound_common import (
    BOUND_DPS,
    DEFAULT_KERNEL_RATE,
    H,
    T,
    alpha,
    cached_per_precision,
    check_rate_index,
    falling_factorial,
    gamma,
    n,
    round_up,
)
from .bump import bump_derivative_norms
from .families import KernelFamily, kernel_family
from .interpolation_bounds import lebesgue_constant_bound, weight_sum
from .validation import require_positive_rational

__all__ = ["scale_constant", "lattice_growth", "growth_expr", "paper_constant", "paper_constant_float",
           "lemma_bound_expr", "lemma_f1_bound_expr", "lemma_f4_bound_expr", "symbolic_paper_form",
           "explicit_bound_expr", "paper_form_growths"]


def scale_constant(rpe: Any, rate: int, a: mpmath.mpf) -> mpmath.mpf:
    """``K_n`` with ``V_T sigma_T^{-n} <= K_n E(T)`` for every ``T >= 1``: ``e * floor^{-n}``.

    ``V_T sigma_T^{-n} / E(T) = e (sigma_T exp((alpha + o) x(T)))^{-n}``, and the infimum over
    ``T >= 1`` of ``sigma_T exp((alpha + o) x(T))`` is the family's
    ``KernelFamily.bump_scale_floor_mp()``.  lin: equality, ``K_n = e (1 - e^{-alpha})^{-n}``.
    log: ``T^{1+alpha} sigma_T = T (1 - (1+1/T)^{-alpha})`` increases with ``T``, so its minimum is
    ``1 - 2^{-alpha}`` at ``T = 1``: ``K_n = e (1 - 2^{-alpha})^{-n}``.  (The paper states
    ``2^n e / alpha^n``; the mean value theorem gives ``2^{n(1+alpha)} e / alpha^n`` for every
    ``alpha``, and both exceed ours when ``alpha <= 0.47``.)

    >>> print(f"{float(scale_constant('log', 2, mpmath.mpf('0.01'))):.1f}")
    56970.8
    """
    family = kernel_family(rpe)
    return mpmath.e * family.bump_scale_floor_mp(mpmath.mpf(a)) ** (-rate)


def lattice_growth(rpe: Any, rate: int, a: mpmath.mpf, g: mpmath.mpf, lag: Any) -> mpmath.mpf:
    """``E(T)``: ``e^{(gamma + n alpha) T}`` (lin) or ``T^{1 + gamma + n (1 + alpha)}`` (log), at the working precision.

    >>> round(float(lattice_growth("log", 1, mpmath.mpf(0), mpmath.mpf(0), 3)), 12)   # 3^{1 + 0 + 1}
    9.0
    """
    return kernel_family(rpe).growth_mp(rate, a, g, lag)


def growth_expr(rpe: Any, rate: Any, a: Any, g: Any, lag: Any) -> sympy.Expr:
    """``E(T)`` as sympy (any of ``rate, a, g, lag`` may be symbols): ``exp(c x(T))`` with ``c`` the growth rate.

    >>> growth_expr("log", 1, sympy.Rational(1, 100), sympy.Rational(1, 100), T)
    T**(101/50)
    """
    family = kernel_family(rpe)
    return family.term(-family.growth_rate(rate, a, g), lag)


@cached_per_precision(maxsize=256)
def _paper_constant_cached(family: KernelFamily, rate: int, a_rat: sympy.Rational,
                           g_rat: sympy.Rational) -> mpmath.mpf:
    nrm = bump_derivative_norms(rate)
    z = weight_sum(family, gamma=g_rat)
    with mpmath.workdps(BOUND_DPS):
        a = mpmath.mpf(a_rat.p) / a_rat.q
        K = scale_constant(family, rate, a)
        # Lebesgue route: (1+Lambda) V_T/e <= (1+Lambda) c0 E(T), c0 = sup_T exp(-n (alpha + o) x(T)) at T = 1
        c0 = mpmath.exp(-rate * (a + family.weight_offset) * family.coordinate_mp(1))
        A = K * 4 * mpmath.mpf(2) ** (-rate) * nrm.variation_upper / (mpmath.pi * rate)  # tref = A / falling(N, n)
        J = K * (mpmath.pi / 4) ** rate * nrm.sup_upper  # jackson = J (1 + lam) / falling(N + 1, n)
        best = mpmath.mpf(0)
        Hc = 1
        fall = 0  # falling(N, n) with N = Hc - 1, updated exactly as Hc grows
        while True:
            lam = lebesgue_constant_bound(Hc)
            N = Hc - 1
            leb = (1 + lam) * c0
            best_here = leb
            tref = None
            if N >= rate:
                fall_next = fall * (N + 1) // (N + 1 - rate) if fall else falling_factorial(N + 1, rate)
                tref = A / fall
                best_here = min(leb, tref, J * (1 + lam) / fall_next)
                fall = fall_next
            elif N + 1 == rate:
                fall = falling_factorial(N + 1, rate)  # = rate!, the first falling(N, n) with N >= n
            val = best_here * mpmath.mpf(Hc) ** rate
            best = max(best, val)
            # H^n * tref(H) decreases in H: once tref is the smallest route, the sup is reached
            if tref is not None and tref <= leb:
                break
            Hc += 1
        return round_up(best * z)


def paper_constant(rpe: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                   gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
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
    family = kernel_family(rpe)
    rate = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    return _paper_constant_cached(family, rate, a, g)


def paper_constant_float(rpe: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                         gamma: Any = DEFAULT_KERNEL_RATE) -> sympy.Float:
    """:func:`paper_constant` as a 20-digit ``sympy.Float``, rounded up (the ``C`` of the sympy bound expressions)."""
    C = paper_constant(rpe, rate, alpha=alpha, gamma=gamma)
    return sympy.Float(mpmath.nstr(round_up(C * (1 + mpmath.mpf("1e-18"))), 20), 20)


def lemma_bound_expr(rpe: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                     gamma: Any = DEFAULT_KERNEL_RATE) -> sympy.Expr:
    """``C(n) E(T) / H^n`` as a sympy expression in the symbols ``H`` and ``T``.

    ``C(n)`` is :func:`paper_constant` as a ``sympy.Float`` (20 digits, rounded up), ``alpha``
    and ``gamma`` are substituted as exact rationals.
    """
    family = kernel_family(rpe)
    rate = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    C = paper_constant_float(family, rate, alpha=a, gamma=g)
    return C * growth_expr(family, rate, a, g, T) / H ** rate


def lemma_f1_bound_expr(rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> sympy.Expr:
    """Lemma F.1: ``C(n) e^{(gamma + n alpha) T} / H^n`` (``= C(n) e^{0.01 (n+1) T}/H^n`` at the defaults).

    Examples
    --------
    >>> lemma_f1_bound_expr(1)
    56321.09...*exp(T/50)/H
    """
    return lemma_bound_expr("lin", rate, alpha=alpha, gamma=gamma)


def lemma_f4_bound_expr(rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> sympy.Expr:
    """Lemma F.4: ``C(n) T^{1 + gamma + n (1 + alpha)} / H^n`` (``= C(n) T^{1.01 (n+1)}/H^n`` at the defaults)."""
    return lemma_bound_expr("log", rate, alpha=alpha, gamma=gamma)


def symbolic_paper_form(rpe: Any) -> sympy.Expr:
    """The paper's form with every parameter symbolic: ``C(n) e^{(gamma + n alpha) T} / H^n`` (lin) or
    ``C(n) T^{1 + gamma + n (1 + alpha)} / H^n`` (log), ``C`` an undefined function of ``n, alpha, gamma``.

    Examples
    --------
    >>> symbolic_paper_form("lin")
    C(n, alpha, gamma)*exp(T*(alpha*n + gamma))/H**n
    """
    family = kernel_family(rpe)
    C = sympy.Function("C")(n, alpha, gamma)
    return C * growth_expr(family, n, alpha, gamma, T) / H ** n


def explicit_bound_expr(rpe: Any, rate: Any) -> sympy.Expr:
    """The sharpest explicit route (``trefethen_7_1_summed``) as a sympy expression in ``H, T, alpha, gamma``.

    ``sum_t w(t) * 4 * 2^{-n} W_n V_T sigma_T^{-n} / (pi n (H-1)(H-2)...(H-n))``, valid for
    ``H >= n + 1``; ``W_n`` enters as a ``sympy.Float`` upper bound.

    Examples
    --------
    >>> e = explicit_bound_expr("lin", 1)
    >>> sorted(str(s) for s in e.free_symbols)
    ['H', 'T', 'alpha', 'gamma']
    """
    family = kernel_family(rpe)
    rate = check_rate_index(rate)
    W = sympy.Float(mpmath.nstr(bump_derivative_norms(rate).variation_upper, 25), 25)
    _mu, sigma, V = family.bump(alpha, gamma, T)
    Z = family.normaliser(family.weight_rate(gamma))
    falling = sympy.Mul(*[(H - 1 - i) for i in range(rate)])
    return Z * 4 * sympy.Integer(2) ** (-rate) * W * V * sigma ** (-rate) / (sympy.pi * rate * falling)


def paper_form_growths(rpe: Any, lags: Any, rate: Any, alpha: Any,
                       gamma: Any) -> tuple[mpmath.mpf, list[mpmath.mpf], int]:
    """``(C(n), [E(T) for T in lags], n)`` of the theorems' paper-form bounds (validated; ``E`` at ``BOUND_DPS`` digits).

    >>> C, E, rate = paper_form_growths("lin", (1, 2), 1, "1/100", "1/100")
    >>> rate, [round(float(e), 4) for e in E]
    (1, [1.0202, 1.0408])
    """
    family = kernel_family(rpe)
    rate = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    C = paper_constant(family, rate, alpha=a, gamma=g)
    with mpmath.workdps(BOUND_DPS):
        am, gm = mpmath.mpf(a.p) / a.q, mpmath.mpf(g.p) / g.q
        return C, [family.growth_mp(rate, am, gm, T_) for T_ in lags], rate
