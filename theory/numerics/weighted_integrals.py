"""Exact weighted integrals of Chebyshev series: antiderivatives in ``u`` and Euler inversion.

The tail ``sum_{t >= S} |P(t)|`` of a Lemma F.4 / F.6 kernel ``P(t) = t^{-(1+gamma)} Q(t^{-alpha})``
becomes, after ``u = t^{-alpha}``, the integral ``(1/alpha) int_0^U u^{c-1} |Q(u)| du`` with
``c = gamma/alpha``, split at the roots of ``Q`` (App. F; :mod:`.taylor_roots`).  With ``Q`` a
Chebyshev series in ``x = 2u - 1``:

* integer ``c``: :func:`cheb_antiderivative_u` gives ``F`` with ``dF/du = u^{c-1} Q(u)`` exactly;
* any rational ``c > 0``: ``int_0^b u^{c-1} Q = b^c G(b)`` with ``c G + u G' = Q``
  (:func:`euler_inverse_cheb`, the *Euler inversion*), with a rigorous residual bound computed
  in exact integer arithmetic (:func:`euler_residual_bound`);
  :func:`weighted_piece_integrals` evaluates the pieces between breakpoints;
* :func:`cheb_theta_op` is ``u d/du`` in the Chebyshev basis (the Euler-Maclaurin derivatives).

Examples
--------
>>> import mpmath
>>> F = cheb_antiderivative_u([mpmath.mpf(1)], 1)   # Q = 1: F = x/2 = u - 1/2 (up to a constant)
>>> [float(v) for v in F]
[0.0, 0.5]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from numpy.polynomial import chebyshev as npcheb

from .double_double import dd_clenshaw, mp_to_dd

__all__ = ["cheb_theta_op", "cheb_antiderivative_u", "euler_inverse_cheb", "euler_residual_bound",
           "weighted_piece_integrals", "weight_antiderivative"]


def cheb_theta_op(c: np.ndarray) -> np.ndarray:
    """Coefficients of ``u dQ/du = (1 + x) dQ/dx`` for ``Q = sum c_j T_j(x)``."""
    d = npcheb.chebder(c) if len(c) > 1 else np.zeros(1)
    return npcheb.chebadd(d, npcheb.chebmulx(d))


def cheb_antiderivative_u(c_mp: list[mpmath.mpf], r: int) -> list[mpmath.mpf]:
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


def euler_inverse_cheb(c_mp: list[Any], ratio: Any) -> tuple[np.ndarray, np.ndarray, float]:
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
        gh, gl = mp_to_dd(g[:N + 1])
    return gh, gl, euler_residual_bound(c_mp, gh, gl, ratio)


def euler_residual_bound(c_mp: list[Any], gh: np.ndarray, gl: np.ndarray, ratio: Any) -> float:
    """Rigorous bound of ``sup_{[0,1]} |G - G~|`` for ``G~ = gh + gl`` (see :func:`euler_inverse_cheb`):
    ``sum_m |res_m| / c`` with the residual's Chebyshev coefficients computed exactly in integers."""
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


def weighted_piece_integrals(cdd: tuple[np.ndarray, np.ndarray], c_mp: list[Any], ratio: Any,
                              bx_h: np.ndarray, bx_l: np.ndarray) -> tuple[list[Any], float]:
    """``int_{b_i}^{b_{i+1}} u^{c-1} Q(u) du`` between consecutive breakpoints ``b = (1 + x)/2``
    (``x = bx_h + bx_l``, increasing, ``b_0 >= 0``), exactly up to a returned absolute bound.

    ``F(b) = b^c G(b)`` with ``G`` from :func:`euler_inverse_cheb`, evaluated by the
    double-double Clenshaw recurrence (rigorous rounding bound) and ``b^c`` in mpmath at 40
    digits.  Returns the pieces (mpf, 40 digits) and a bound on the sum of their errors.
    """
    gh, gl, gbound = euler_inverse_cheb(c_mp, ratio)
    vh, vl, vb = dd_clenshaw(gh, gl, bx_h, bx_l)
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


def weight_antiderivative(u: np.ndarray, c: float) -> np.ndarray:
    """``u^c / c`` (an antiderivative of the weight ``u^{c-1}``), slightly rounded up."""
    return np.maximum(u, 0.0) ** c / c * (1 + 1e-10)
