"""Lemmas F.2 and F.5: the *adaptive* delta ``1{t = B}``, uniformly over shifts ``1 <= B <= T``.

Theorem 4.1 (App. C.1) needs one head group that extracts ``x_{t-B}`` for a lag
``B = g(x_t)`` that changes with the query.  The dot product supplies the shift; the
kernel must work for every ``B`` with the **same** coefficients (App. F):

* **Lemma F.2 (lin-RPE, translation).**  With ``P_T(u) = e^{-gamma u} Q(e^{-alpha u})`` the
  Lemma F.1 kernel for lag ``T`` (bump at ``T``),
  ``phi(t; B) = P_T(t - B + T) = sum_k alpha_k e^{-beta_k (t - B)}`` with
  ``alpha_k = a_k e^{-beta_k T}``.  On the lattice ``t - B + T`` runs over ``T - B, T - B + 1, ...``
  (``>= 0``), and ``Phi_T(t - B + T) = 1{t = B}`` exactly.  The error for shift ``B`` is
  therefore the tail ``sum_{u >= T - B} |P_T(u) - 1{u = T}|`` of the F.1 error, and the max
  over ``1 <= B <= T`` is attained at ``B = T``: it *equals* the Lemma F.1 error.
* **Lemma F.5 (log-RPE, rescaling).**  With ``P_T(v) = v^{-(1+gamma)} Q(v^{-alpha})`` the
  Lemma F.4 kernel (bump at ``T``) at the real point ``v = t T / B``,
  ``phi(t; B) = P_T(t T / B) = sum_k alpha_k (t / B)^{-beta_k}`` with ``alpha_k = a_k T^{-beta_k}``.
  The points ``t T / B`` with ``t != B`` fall outside the bump's support (``t = B +- 1``
  gives ``T +- T/B``, at distance ``>= 1`` from ``T``), so again ``Phi = 1{t = B}`` on ``N_+``.
  Now the error depends on ``B`` genuinely; each shift is a Lemma F.4-type kernel for the lag
  ``B`` whose polynomial is ``(B/T)^{1+gamma} Q((B/T)^alpha u)`` (:meth:`ShiftedDeltaKernel.at_shift`),
  so :func:`tfapprox.verify.kernel_error.delta_kernel_l1_error` encloses its l1 error exactly.

In a normalization-free DP head (App. C.1, Step III) the logit ``-beta_h (s - B)`` (lin) or
``-beta_h log(s / B)`` (log) gives the weight ``e^{-beta_h (s - B)}`` or ``(s/B)^{-beta_h}``, so
``W_V = alpha_h`` (no softmax normaliser to cancel).

Examples
--------
>>> from tfapprox.constructions.lemma_f2_f5 import shifted_delta_kernel
>>> k = shifted_delta_kernel("lin", 3, 32)
>>> print(f"{k.evaluate([0, 1, 2, 3], 2).round(3).tolist()}")
[-0.009, 0.371, 0.325, 0.032]
>>> print(f"{float(k.evaluate(2, 2)):.6f} {float(k.evaluate_realised(2, 2, 80)):.6f}")
0.325491 0.325491
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import mpmath
import numpy as np
import sympy

from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.numerics.chebyshev import LOG2_10, clenshaw, cos_table, fixed_round, round_div
from tfapprox.theory.validation import require_int

from .delta_kernel_type import DeltaKernel, as_lags
from .delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA, delta_kernel
from .realisation import decimal_rational

__all__ = ["ShiftedDeltaKernel", "shifted_delta_kernel", "shift_chebyshev", "lemma_f2_kernel", "lemma_f5_kernel"]


@dataclass(frozen=True, repr=False)
class ShiftedDeltaKernel:
    """The Lemma F.2 (lin) / F.5 (log) kernel: one set of coefficients for all shifts ``B <= T``.

    Attributes
    ----------
    base : DeltaKernel
        The Lemma F.1 / F.4 kernel for the lag ``T`` (bump placed at ``T``).
    coefficients : tuple of mpmath.mpf
        ``alpha_k = a_k e^{-beta_k T}`` (lin) or ``a_k T^{-beta_k}`` (log): the heads' value
        weights (normalization-free), with the base kernel's relative precision.
    """

    base: DeltaKernel
    coefficients: tuple[mpmath.mpf, ...]

    def __repr__(self) -> str:
        return f"ShiftedDeltaKernel(rpe={self.rpe!r}, max_shift={self.max_shift}, num_terms={self.num_terms})"

    @property
    def rpe(self) -> str:
        """The base kernel's RPE type (``"lin"`` or ``"log"``), for reports."""
        return self.base.rpe

    @property
    def family(self) -> KernelFamily:
        """The kernel family (:mod:`tfapprox.theory.families`) of the base kernel."""
        return self.base.family

    @property
    def max_shift(self) -> int:
        """``T``: shifts ``1 <= B <= T`` are covered (``B = 0`` too for lin: Prop. 4.2 as stated)."""
        return self.base.lag

    @property
    def num_terms(self) -> int:
        """Number of heads ``H`` of the base kernel."""
        return self.base.num_terms

    @property
    def exponents(self) -> tuple[sympy.Rational, ...]:
        """``beta_k``: the heads' RPE slopes (and the squared query/key scales)."""
        return self.base.exponents

    @property
    def lemma(self) -> str:
        """The family's shifted-delta lemma: ``"F.2"`` (lin) or ``"F.5"`` (log)."""
        return self.family.shifted_lemma

    def exact_coefficient(self, k: int) -> sympy.Expr:
        """``alpha_k`` as an exact sympy number: the stored decimal ``a_k`` times ``e^{-beta_k T}`` / ``T^{-beta_k}``."""
        a = decimal_rational(self.base.coefficients[k], self.base.coefficient_dps)
        return a * self.family.term(self.exponents[k], sympy.Integer(self.max_shift))

    def _check_shift(self, B: Any) -> int:
        return require_int("B (shift)", B, minimum=self.family.first_lag, maximum=self.max_shift)

    def evaluate(self, s: Any, B: Any) -> Any:
        """``phi(s; B)`` in float64 at integer lags ``s >= 0`` (stable Chebyshev form).

        lin: ``P_T(s - B + T)``; log: ``P_T(s T / B)`` (``0`` at ``s = 0``): in the family's
        coordinate, ``P_T`` at ``x(s) + x(T) - x(B)``.
        """
        B = self._check_shift(B)
        lags, scalar = as_lags(s)
        fam = self.family
        a, g = float(self.base.alpha), float(self.base.gamma)
        c = np.array([float(v) for v in self.base.chebyshev_coefficients])
        t = lags.astype(float)
        valid = t >= fam.first_lag
        lv = fam.coordinate_np(np.where(valid, t, float(fam.first_lag))) + fam.shift_offset_np(self.max_shift, B)
        x = 1 + 2 * np.expm1(-a * lv)
        out = np.where(valid, np.exp(-fam.weight_rate(g) * lv) * clenshaw(c, x), 0.0)
        return float(out) if scalar else out

    def evaluate_realised(self, s: Any, B: Any, dps: Any) -> Any:
        """``sum_k alpha_k e^{-beta_k (s - B)}`` or ``sum_k alpha_k (s/B)^{-beta_k}`` in mpmath (the weights' sum)."""
        B = self._check_shift(B)
        dps = require_int("dps", dps, minimum=15)
        lags, scalar = as_lags(s)
        fam = self.family
        out = []
        with mpmath.workdps(dps):
            for v in lags.reshape(-1).tolist():
                if v < fam.first_lag:
                    out.append(mpmath.mpf(0))
                    continue
                acc = mpmath.mpf(0)
                for beta, al in zip(self.exponents, self.coefficients):
                    b = mpmath.mpf(beta.p) / beta.q
                    acc += al * fam.shift_term_mp(b, v, B)
                out.append(+acc)
        return out[0] if scalar else out

    def at_shift(self, B: Any) -> DeltaKernel:
        """The kernel ``t -> phi(t; B)`` as a :class:`DeltaKernel` for the lag ``B``.

        ``phi(t; B) = w(t) Q_B(u(t))`` with ``Q_B(u) = c Q(lambda u)``: ``c = e^{-gamma (T-B)}``,
        ``lambda = e^{-alpha (T-B)}`` (lin) or ``c = (B/T)^{1+gamma}``, ``lambda = (B/T)^alpha`` (log);
        ``c, lambda <= 1``.

        * Stable basis: the Chebyshev coefficients ``d_j`` of ``Q_B`` are computed in exact
          fixed-point integer arithmetic (:func:`shift_chebyshev`): Clenshaw on the base ``c_j`` at
          the ``H`` first-kind Chebyshev points, then the discrete cosine transform, which is exact for
          degree ``H - 1``; every ``cos(j theta_k)`` is a lookup in one table of ``cos(pi m / (2H))``.
          The rounding of the scheme is bounded a priori (``conv``, see :func:`shift_chebyshev`).
        * Realised coefficients: ``a_k lambda^k c`` in mpmath at ``coefficient_dps`` digits plus guard
          bits (relative error at most ``(3k + 6) 2^{-P}`` each: ``mono``).

        ``coefficient_error_bound = c * base bound + conv + mono + sum_k |a_k lambda^k c| 10^{1-dps}/2``
        (the last term: rounding the realised coefficients to ``coefficient_dps`` significant digits, as
        for the base kernel), so :func:`~tfapprox.verify.kernel_error.delta_kernel_l1_error` encloses the
        error of the exact, the stable and the realised shifted kernel alike.
        """
        B = self._check_shift(B)
        T = self.max_shift
        base = self.base
        if B == T:
            return base
        H = base.num_terms
        dps_b = base.coefficient_dps
        fam = self.family
        P = math.ceil(dps_b * LOG2_10) + 2 * (H + 4).bit_length() + 40
        with mpmath.workprec(P + 20):
            am = mpmath.mpf(base.alpha.p) / base.alpha.q
            gm = mpmath.mpf(base.gamma.p) / base.gamma.q
            c_mp = fam.shift_factor_mp(fam.weight_rate(gm), B, T)
            lam_mp = fam.shift_factor_mp(am, B, T)
        cheb, q, conv = shift_chebyshev(base.chebyshev_coefficients, base.coefficient_digits, fam, T, B,
                                        base.alpha, base.gamma)
        with mpmath.workprec(P):
            lam = +lam_mp
            cc = +c_mp
            mono = []
            pw = mpmath.mpf(1)
            for a in base.coefficients:
                mono.append(a * pw * cc)
                pw = pw * lam
        with mpmath.workdps(30):
            l1_mono = mpmath.fsum(abs(v) for v in mono)
            mono_err = l1_mono * (3 * H + 6) * mpmath.mpf(2) ** (-P)
            round_err = l1_mono * mpmath.mpf(10) ** (1 - dps_b) / 2
            c_hi = mpmath.mpf(c_mp) * (1 + mpmath.mpf(2) ** -60)
            bound = (c_hi * base.coefficient_error_bound + conv + mono_err + round_err) * (1 + mpmath.mpf(2) ** -40)
        return DeltaKernel(base.rpe, B, H, base.alpha, base.gamma, base.exponents, tuple(mono),
                           dps_b, cheb, "chebyshev1", base.coefficient_digits, bound, q)


def shift_chebyshev(cheb: Sequence[mpmath.mpf], digits: int, rpe: Any, T: int, B: int, alpha: Any,
                    gamma: Any) -> tuple[tuple[mpmath.mpf, ...], int, mpmath.mpf]:
    """Chebyshev coefficients of ``c Q(lambda u)`` from those of ``Q(u) = sum_j c_j T_j(2u - 1)`` (fixed point).

    Everything is an integer in units of ``2^{-q}`` (``U = 2^q``):

    1. ``C_j = round(c_j U)`` (error ``e_C,j`` = 0 when ``c_j`` is a multiple of ``2^{-q}``, else
       ``<= 1/2``); ``L = round(lambda U)``, ``K = round(c U)`` from mpmath at ``q + 40`` bits
       (error ``<= eps1 = 1/2 + 2^{-20}``); ``cos(pi m/(2H))`` from :func:`~tfapprox.theory.numerics.chebyshev.cos_table` (error ``<= eps2 = 1/2 + 2^{-30}``).
    2. Node ``k`` (``theta_k = pi (2k+1)/(2H)``): ``X_k = round(L (U + cos_{2k+1}) / U) - U`` clamped to
       ``[-U, U]``.  Since ``lambda <= 1`` and ``1 + cos <= 2``, ``|X_k - U x_k| <= e_x = 2 eps1 + eps2 + 1/2 + 2^{-30}``
       where ``x_k = lambda (1 + cos theta_k) - 1 in [-1, 1]``.
    3. Clenshaw ``b_j = C_j + round(2 X b_{j+1} / U) - b_{j+2}``, ``Y = C_0 + round(X b_1 / U) - b_2``.  Each
       rounding ``|eps_j| <= 1/2`` is a perturbation of ``C_j``, so ``Y / U = sum_j (C_j + eps_j) T_j(X / U) / U``
       exactly; with ``|T_j| <= 1`` and Markov's ``|T_j'| <= j^2`` on ``[-1, 1]``:
       ``|Y - U Q(x)| <= e_y = sum_j e_C,j + H/2 + e_x sum_j j^2 |c_j|``.
    4. ``V_k = round(K Y_k / U)``: ``|V_k - U c Q(x_k)| <= e_v = c e_y + eps1 max|Y| / U + 1/2``.
    5. ``D_j = round(kappa_j sum_k V_k cos_{m(j,k)} / (H U))`` (``kappa_0 = 1``, else 2;
       ``m = j (2k+1) mod 4H`` reflected into ``[0, 2H]``): ``|D_j - U d_j| <= kappa_j (e_v + eps2 max|V| / U) + 1/2``,
       where ``d_j`` are the exact interpolation coefficients, i.e. the Chebyshev coefficients of
       ``c Q(lambda u)`` (a polynomial of degree ``H - 1``, interpolated exactly at ``H`` points).

    Returns ``(D_j 2^{-q} as exact mpf, q, conv)`` with
    ``conv = ((2H - 1)(e_v + eps2 max|V|/U) + H/2) / U >= sum_j |D_j / U - d_j|``, which bounds
    ``|sum_j D_j/U T_j(2u - 1) - c Q(lambda u)|`` on ``[0, 1]``.
    """
    fam = kernel_family(rpe)
    H = len(cheb)
    with mpmath.workdps(30):
        l1 = mpmath.fsum(abs(v) for v in cheb)
        m2 = mpmath.fsum(j * j * abs(v) for j, v in enumerate(cheb))
    # U small enough to be cheap, large enough that conv <= 10^-(digits + 10) (1 + l1)
    q = max(64, math.ceil((digits + 10) * LOG2_10 + 3 * math.log2(H + 1) + math.log2(float(m2) + float(l1) + 1)) + 8)
    U = 1 << q
    with mpmath.workprec(q + 40):
        am = mpmath.mpf(sympy.Rational(alpha).p) / sympy.Rational(alpha).q
        gm = mpmath.mpf(sympy.Rational(gamma).p) / sympy.Rational(gamma).q
        c_mp, lam_mp = fam.shift_factor_mp(fam.weight_rate(gm), B, T), fam.shift_factor_mp(am, B, T)
        L = int(mpmath.nint(mpmath.ldexp(lam_mp, q)))
        K = int(mpmath.nint(mpmath.ldexp(c_mp, q)))
    C, e_C = [], 0
    for v in cheb:
        Cj, exact = fixed_round(v, q)
        C.append(Cj)
        e_C += 0 if exact else 1
    cos = cos_table(2 * H, q)
    half = U >> 1
    X = np.array([min(max(((L * (U + cos[2 * k + 1]) + half) >> q) - U, -U), U) for k in range(H)], dtype=object)
    b1 = np.zeros(H, dtype=object)
    b2 = np.zeros(H, dtype=object)
    b1[:] = 0
    b2[:] = 0
    X2 = 2 * X
    for Cj in C[:0:-1]:
        b1, b2 = Cj + ((X2 * b1 + half) >> q) - b2, b1
    Y = C[0] + ((X * b1 + half) >> q) - b2
    V = (K * Y + half) >> q
    period = 4 * H
    j = np.arange(H, dtype=np.int64)
    acc = np.zeros(H, dtype=object)
    acc[:] = 0
    cos_arr = np.array(cos, dtype=object)
    for k in range(H):
        if V[k] == 0:
            continue
        idx = (j * (2 * k + 1)) % period
        idx = np.where(idx > 2 * H, period - idx, idx)
        acc += V[k] * cos_arr[idx]
    den = H << q
    D = [round_div((1 if jj == 0 else 2) * int(acc[jj]), den) for jj in range(H)]
    maxY = max((abs(int(v)) for v in Y), default=0)
    maxV = max((abs(int(v)) for v in V), default=0)
    with mpmath.workdps(30):
        one = mpmath.mpf(1)
        eps1 = one / 2 + mpmath.mpf(2) ** -20
        eps2 = one / 2 + mpmath.mpf(2) ** -30
        e_x = 2 * eps1 + eps2 + one / 2 + mpmath.mpf(2) ** -30
        e_y = mpmath.mpf(e_C) / 2 + mpmath.mpf(H) / 2 + e_x * m2 * (1 + mpmath.mpf(2) ** -40)
        c_hi = (mpmath.mpf(K) + 1) / U
        e_v = c_hi * e_y + eps1 * maxY / U + one / 2
        conv = ((2 * H - 1) * (e_v + eps2 * maxV / U) + mpmath.mpf(H) / 2) / U * (1 + mpmath.mpf(2) ** -40)
    bits = max(max((abs(v).bit_length() for v in D), default=1) + 2, 53)
    with mpmath.workprec(bits):
        out = tuple(mpmath.ldexp(mpmath.mpf(v), -q) for v in D)
    return out, q, conv


def shifted_delta_kernel(rpe: Any, max_shift: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA,
                         gamma: Any = DEFAULT_GAMMA, coefficient_digits: Any = 30,
                         nodes: str = "chebyshev2") -> ShiftedDeltaKernel:
    """Build the Lemma F.2 (``rpe="lin"``) or F.5 (``rpe="log"``) kernel for shifts ``B <= T = max_shift``.

    The base is :func:`~tfapprox.constructions.delta_kernels.delta_kernel` for the lag ``T``
    (same parameters); the coefficients are translated (lin) or rescaled (log).

    Examples
    --------
    >>> k = shifted_delta_kernel("log", 4, 16)
    >>> k.lemma, k.max_shift, k.exponents[0]
    ('F.5', 4, 101/100)
    """
    family = kernel_family(rpe)
    base = delta_kernel(family, max_shift, num_terms, alpha=alpha, gamma=gamma,
                        coefficient_digits=coefficient_digits, nodes=nodes)
    T = base.lag
    extra = 5
    with mpmath.workdps(base.coefficient_dps + extra):
        coeffs = []
        for beta, a in zip(base.exponents, base.coefficients):
            b = mpmath.mpf(beta.p) / beta.q
            coeffs.append(+(a * family.term_mp(b, T)))  # alpha_k = a_k exp(-beta_k x(T))
    return ShiftedDeltaKernel(base, tuple(coeffs))


def lemma_f2_kernel(max_shift: Any, num_terms: Any, **kwargs: Any) -> ShiftedDeltaKernel:
    """Lemma F.2 (lin-RPE): ``1{t = B} ~ sum_k alpha_k e^{-beta_k (t - B)}`` for every ``B <= T``."""
    return shifted_delta_kernel("lin", max_shift, num_terms, **kwargs)


def lemma_f5_kernel(max_shift: Any, num_terms: Any, **kwargs: Any) -> ShiftedDeltaKernel:
    """Lemma F.5 (log-RPE): ``1{t = B} ~ sum_k alpha_k (t / B)^{-beta_k}`` for every ``B <= T``."""
    return shifted_delta_kernel("log", max_shift, num_terms, **kwargs)
