"""Lemmas F.2 and F.5: the *adaptive* delta ``1{t = B}``, uniformly over shifts ``1 <= B <= T``.

Theorem 4.1 (App. C.1) needs one head group that extracts ``x_{t-B}`` for a lag
``B = g(x_t)`` that changes with the query.  The dot product supplies the shift; the
kernel must work for every ``B`` with the **same** coefficients (digest section 4.7):

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
from typing import Any

import mpmath
import numpy as np
import sympy

from tfapprox.theory.validation import require_int

from .delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA, DeltaKernel, _as_lags, clenshaw, delta_kernel

__all__ = ["ShiftedDeltaKernel", "shifted_delta_kernel", "lemma_f2_kernel", "lemma_f5_kernel"]


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
        return self.base.rpe

    @property
    def max_shift(self) -> int:
        """``T``: shifts ``1 <= B <= T`` are covered (``B = 0`` too for lin: Prop. 4.2 as stated)."""
        return self.base.lag

    @property
    def num_terms(self) -> int:
        return self.base.num_terms

    @property
    def exponents(self) -> tuple[sympy.Rational, ...]:
        """``beta_k``: the heads' RPE slopes (and the squared query/key scales)."""
        return self.base.exponents

    @property
    def lemma(self) -> str:
        return "F.2" if self.rpe == "lin" else "F.5"

    def exact_coefficient(self, k: int) -> sympy.Expr:
        """``alpha_k`` as an exact sympy number: the stored decimal ``a_k`` times ``e^{-beta_k T}`` / ``T^{-beta_k}``."""
        from .thm3_1 import _decimal_rational

        a = _decimal_rational(self.base.coefficients[k], self.base.coefficient_dps)
        beta = self.exponents[k]
        T = sympy.Integer(self.max_shift)
        return a * (sympy.exp(-beta * T) if self.rpe == "lin" else T ** (-beta))

    def _check_shift(self, B: Any) -> int:
        lo = 0 if self.rpe == "lin" else 1
        return require_int("B (shift)", B, minimum=lo, maximum=self.max_shift)

    def evaluate(self, s: Any, B: Any) -> Any:
        """``phi(s; B)`` in float64 at integer lags ``s >= 0`` (stable Chebyshev form).

        lin: ``P_T(s - B + T)``; log: ``P_T(s T / B)`` (``0`` at ``s = 0``).
        """
        B = self._check_shift(B)
        lags, scalar = _as_lags(s)
        T = self.max_shift
        if self.rpe == "lin":
            out = self.base.evaluate(lags - B + T)
            return float(out) if scalar else np.asarray(out)
        a, g = float(self.base.alpha), float(self.base.gamma)
        c = np.array([float(v) for v in self.base.chebyshev_coefficients])
        t = lags.astype(float)
        pos = t > 0
        lv = np.log(np.where(pos, t, 1.0)) + math.log(T / B)
        x = 1 + 2 * np.expm1(-a * lv)
        out = np.where(pos, np.exp(-(1 + g) * lv) * clenshaw(c, x), 0.0)
        return float(out) if scalar else out

    def evaluate_realised(self, s: Any, B: Any, dps: Any) -> Any:
        """``sum_k alpha_k e^{-beta_k (s - B)}`` or ``sum_k alpha_k (s/B)^{-beta_k}`` in mpmath (the weights' sum)."""
        B = self._check_shift(B)
        dps = require_int("dps", dps, minimum=15)
        lags, scalar = _as_lags(s)
        out = []
        with mpmath.workdps(dps):
            for v in lags.reshape(-1).tolist():
                if self.rpe == "log" and v == 0:
                    out.append(mpmath.mpf(0))
                    continue
                acc = mpmath.mpf(0)
                for beta, al in zip(self.exponents, self.coefficients):
                    b = mpmath.mpf(beta.p) / beta.q
                    acc += al * (mpmath.exp(-b * (v - B)) if self.rpe == "lin" else mpmath.power(mpmath.mpf(v) / B, -b))
                out.append(+acc)
        return out[0] if scalar else out

    def at_shift(self, B: Any) -> DeltaKernel:
        """The kernel ``t -> phi(t; B)`` as a :class:`DeltaKernel` for the lag ``B``.

        ``phi(t; B) = w(t) Q_B(u(t))`` with ``Q_B(u) = c Q(lambda u)``: ``c = e^{-gamma (T-B)}``,
        ``lambda = e^{-alpha (T-B)}`` (lin) or ``c = (B/T)^{1+gamma}``, ``lambda = (B/T)^alpha`` (log).
        The Chebyshev coefficients of ``Q_B`` come from the stable values ``Q(lambda u)`` at ``H``
        first-kind Chebyshev points (exact for degree ``H - 1``, 40 digits).  Its
        ``coefficient_error_bound`` is ``c`` times the base bound plus the base coefficients'
        rounding and the conversion error, so :func:`~tfapprox.verify.kernel_error.delta_kernel_l1_error`
        encloses the error of the exact, the stable and the realised shifted kernel alike.
        """
        B = self._check_shift(B)
        T = self.max_shift
        base = self.base
        if B == T:
            return base
        H = base.num_terms
        dps = 40
        with mpmath.workdps(dps):
            am = mpmath.mpf(base.alpha.p) / base.alpha.q
            gm = mpmath.mpf(base.gamma.p) / base.gamma.q
            if self.rpe == "lin":
                c = mpmath.exp(-gm * (T - B))
                lam = mpmath.exp(-am * (T - B))
            else:
                r = mpmath.mpf(B) / T
                c = mpmath.power(r, 1 + gm)
                lam = mpmath.power(r, am)
            cheb = list(base.chebyshev_coefficients)
            thetas = [mpmath.pi * (2 * k + 1) / (2 * H) for k in range(H)]
            vals = []
            for th in thetas:
                u = (1 + mpmath.cos(th)) / 2
                x = 2 * lam * u - 1
                b1 = b2 = mpmath.mpf(0)
                for cj in cheb[:0:-1]:
                    b1, b2 = cj + 2 * x * b1 - b2, b1
                vals.append(c * (cheb[0] + x * b1 - b2))
            new = []
            for j in range(H):
                s = mpmath.fsum(v * mpmath.cos(j * th) for v, th in zip(vals, thetas))
                new.append(s * (1 if j == 0 else 2) / H)
            l1_cheb = mpmath.fsum(abs(v) for v in cheb)
            conv = (l1_cheb * H * H + 1) * mpmath.mpf(10) ** (-(dps - 5))
            l1_a = mpmath.fsum(abs(a) for a in base.coefficients)
            coef_round = l1_a * mpmath.mpf(10) ** (1 - base.coefficient_dps)
            bound = c * (base.coefficient_error_bound + coef_round) + conv
            mono = [a * lam ** k * c for k, a in enumerate(base.coefficients)]
        return DeltaKernel(base.rpe, B, H, base.alpha, base.gamma, base.exponents, tuple(mono),
                           base.coefficient_dps, tuple(new), "chebyshev1", base.coefficient_digits,
                           bound, base.working_precision)


def shifted_delta_kernel(rpe: str, max_shift: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA,
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
    base = delta_kernel(rpe, max_shift, num_terms, alpha=alpha, gamma=gamma,
                        coefficient_digits=coefficient_digits, nodes=nodes)
    T = base.lag
    extra = 5
    with mpmath.workdps(base.coefficient_dps + extra):
        coeffs = []
        for beta, a in zip(base.exponents, base.coefficients):
            b = mpmath.mpf(beta.p) / beta.q
            coeffs.append(+(a * (mpmath.exp(-b * T) if rpe == "lin" else mpmath.power(T, -b))))
    return ShiftedDeltaKernel(base, tuple(coeffs))


def lemma_f2_kernel(max_shift: Any, num_terms: Any, **kwargs: Any) -> ShiftedDeltaKernel:
    """Lemma F.2 (lin-RPE): ``1{t = B} ~ sum_k alpha_k e^{-beta_k (t - B)}`` for every ``B <= T``."""
    return shifted_delta_kernel("lin", max_shift, num_terms, **kwargs)


def lemma_f5_kernel(max_shift: Any, num_terms: Any, **kwargs: Any) -> ShiftedDeltaKernel:
    """Lemma F.5 (log-RPE): ``1{t = B} ~ sum_k alpha_k (t / B)^{-beta_k}`` for every ``B <= T``."""
    return shifted_delta_kernel("log", max_shift, num_terms, **kwargs)
