"""Kernel families: what the constructions of the paper need from an RPE type (App. F).

A DP-free head with RPE ``phi`` and slope ``p`` contributes the lag weight ``exp(p phi(s))``;
writing ``x(s) = -phi(s)`` for the family's *coordinate*, a layer of ``H`` such heads realises
the kernel ``sum_k a_k exp(-beta_k x(t))``.  The paper's two families are

* :data:`LIN` (``phi_lin(s) = -s``, eq. (4)): ``x(t) = t``, terms ``e^{-beta t}`` on ``t >= 0``
  (Lemmas F.1, F.2, F.3; Theorem 5.1 (A));
* :data:`LOG` (``phi_log(s) = -log s``): ``x(t) = log t``, terms ``t^{-beta}`` on ``t >= 1``
  (Lemmas F.4, F.5, F.6; Theorem 5.1 (B)).

Every formula of App. F that differs between the two is a method here, written once in terms of
``x`` and the weight offset ``o`` (``0`` for lin, ``1`` for log):

* change of variables ``u(t) = exp(-alpha x(t))`` (eq. (F.1) / (F.4));
* decaying weight ``w(t) = exp(-(gamma + o) x(t))``: ``e^{-gamma t}`` / ``t^{-(1+gamma)}``;
* bump placement ``mu_T = u(T)``, ``sigma_T = u(T) - u(T+1)``, ``V_T = e / w(T)``;
* exponent map ``beta = k alpha + gamma + o`` of a monomial ``u^k w``;
* head-allocation weight ``exp((alpha + o) x(T))`` (``e^{alpha T}`` / ``T^{1+alpha}``, Thm 3.1);
* growth ``E(T) = exp((gamma + o + n (alpha + o)) x(T))`` of the paper's bound ``C(n) E(T) / H^n``;
* normaliser and tail sums ``sum_{t >= a} exp(-beta x(t))``: geometric (lin) or Hurwitz zeta (log).

Code never compares family names: it asks the family.  Strings ``"lin"``/``"log"`` are accepted
at the public boundary and resolved by :func:`kernel_family`; a new family is one subclass plus
:func:`register_family`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar

import mpmath
import numpy as np
import sympy

from .rpe import LinRPE, LogRPE
from .validation import short_repr

__all__ = ["KernelFamily", "LinFamily", "LogFamily", "LIN", "LOG", "kernel_family", "register_family",
           "family_names", "family_for_decay"]


class KernelFamily:
    """Base class of a kernel family ``t -> exp(-beta x(t))`` realised by one RPE type.

    Subclasses set the class attributes and implement :meth:`coordinate`,
    :meth:`coordinate_mp`, :meth:`coordinate_np`, :meth:`tail_exact` and :meth:`tail_mp`;
    everything else is derived here.  Instances are immutable singletons compared by name.
    """

    #: Short name used in files, reports and the CLI (``"lin"``, ``"log"``).
    name: ClassVar[str]
    #: First lag the family's terms live on (``0`` for lin, ``1`` for log: ``phi_log(0) = -inf``).
    first_lag: ClassVar[int]
    #: Offset ``o`` of the decaying weight ``w(t) = exp(-(gamma + o) x(t))``.
    weight_offset: ClassVar[int]
    #: Decay class of the essential-memory kernels this family approximates (Thm 5.1): ``"exp"`` or ``"poly"``.
    decay: ClassVar[str]
    #: Lemma labels of App. F: delta kernel, shifted delta kernel, essential kernel.
    delta_lemma: ClassVar[str]
    shifted_lemma: ClassVar[str]
    essential_lemma: ClassVar[str]
    #: Part of Theorem 5.1 this family proves (``"A"`` lin, ``"B"`` log).
    thm5_part: ClassVar[str]
    #: ``"exponential"`` or ``"power"``: what a sum of the family's terms is called.
    sum_kind: ClassVar[str]
    #: LaTeX of one term with rate ``beta`` (``e^{-\beta t}`` / ``t^{-\beta}``).
    term_latex: ClassVar[str]

    # -- identity ---------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"kernel_family({self.name!r})"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KernelFamily) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("KernelFamily", self.name))

    def __reduce__(self) -> tuple:  # pickles as the registry entry (worker processes, dask)
        return (kernel_family, (self.name,))

    def rpe(self) -> Any:
        """The RPE object whose heads realise this family's terms."""
        raise NotImplementedError

    # -- the coordinate x(t) = -phi(t) -------------------------------------------------------------

    def coordinate(self, t: Any) -> sympy.Expr:
        """``x(t) = -phi(t)`` exactly (``t >= first_lag``)."""
        raise NotImplementedError

    def coordinate_mp(self, t: Any) -> mpmath.mpf:
        """``x(t)`` at the working mpmath precision."""
        raise NotImplementedError

    def coordinate_np(self, t: Any) -> np.ndarray:
        """``x(t)`` in float64 for an array of lags ``>= first_lag``."""
        raise NotImplementedError

    def step_mp(self, t: Any) -> mpmath.mpf:
        """``x(t + 1) - x(t)`` at the working precision, without cancellation."""
        raise NotImplementedError

    def coordinate_arb(self, t: Any) -> Any:
        """``x(t)`` as a python-flint ``arb`` ball at flint's working precision (``flint.ctx.prec``)."""
        raise NotImplementedError

    def lags(self, stop: int) -> range:
        """The lags ``first_lag, ..., stop - 1`` on which the family's kernels are compared."""
        return range(self.first_lag, int(stop))

    # -- terms exp(-beta x(t)) --------------------------------------------------------------------

    def term(self, rate: Any, t: Any) -> sympy.Expr:
        """One term ``exp(-rate x(t))`` exactly: ``e^{-rate t}`` or ``t^{-rate}``."""
        return sympy.exp(-rate * self.coordinate(t))

    def term_mp(self, rate: Any, t: Any) -> mpmath.mpf:
        """One term at the working mpmath precision."""
        return mpmath.exp(-mpmath.mpf(rate) * self.coordinate_mp(t))

    def basis_np(self, rates: Any, lags: Any) -> np.ndarray:
        """float64 matrix ``[exp(-rates[k] x(lags[i]))]_{i,k}`` (lags ``>= first_lag``)."""
        x = self.coordinate_np(np.asarray(lags, dtype=float))
        return np.exp(-np.outer(x, np.asarray(rates, dtype=float)))

    # -- App. F change of variables, weight, bump ------------------------------------------------

    def lattice_variable(self, alpha: Any, t: Any) -> sympy.Expr:
        """``u(t) = exp(-alpha x(t))`` (eqs. (F.1), (F.4))."""
        return self.term(alpha, t)

    def lattice_variable_mp(self, alpha: Any, t: Any) -> mpmath.mpf:
        """``u(t)`` at the working mpmath precision."""
        return self.term_mp(alpha, t)

    def weight_rate(self, gamma: Any) -> Any:
        """Rate ``gamma + o`` of the decaying weight ``w(t) = exp(-(gamma + o) x(t))``."""
        return gamma + self.weight_offset

    def weight(self, gamma: Any, t: Any) -> sympy.Expr:
        """``w(t)``: ``e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log)."""
        return self.term(self.weight_rate(gamma), t)

    def exponent(self, power: Any, alpha: Any, gamma: Any) -> Any:
        """The rate ``beta = k alpha + gamma + o`` of ``u(t)^k w(t)`` (monomial ``k`` of the interpolant)."""
        return power * alpha + self.weight_rate(gamma)

    def weight_sum_mp(self, gamma: Any) -> mpmath.mpf:
        """``sum_{t >= first_lag} w(t)`` at the working precision (``1/(1-e^{-gamma})`` or ``zeta(1+gamma)``)."""
        return self.normaliser_mp(self.weight_rate(mpmath.mpf(gamma)))

    def bump(self, alpha: sympy.Expr, gamma: sympy.Expr, lag: int) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
        """Exact ``(mu_T, sigma_T, V_T)`` of Lemma F.1/F.4: ``u(T)``, ``u(T) - u(T+1)``, ``e / w(T)``."""
        mu = self.lattice_variable(alpha, lag)
        sigma = mu - self.lattice_variable(alpha, lag + 1)
        height = sympy.E * self.term(-self.weight_rate(gamma), lag)
        return mu, sigma, height

    def bump_mp(self, alpha: Any, gamma: Any, lag: int) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
        """``(mu_T, sigma_T, V_T)`` at the working precision, ``sigma_T`` without cancellation."""
        a, g = mpmath.mpf(alpha), mpmath.mpf(gamma)
        x0 = self.coordinate_mp(lag)
        mu = mpmath.exp(-a * x0)
        sigma = -mu * mpmath.expm1(-a * self.step_mp(lag))
        height = mpmath.e * mpmath.exp(self.weight_rate(g) * x0)
        return +mu, +sigma, +height

    def allocation_weight_mp(self, alpha: Any, lag: Any) -> mpmath.mpf:
        """Head-allocation weight ``exp((alpha + o) x(T))``: ``e^{alpha T}`` or ``T^{1+alpha}`` (Thm 3.1 proof)."""
        return mpmath.exp((mpmath.mpf(alpha) + self.weight_offset) * self.coordinate_mp(lag))

    def growth_rate(self, rate: Any, alpha: Any, gamma: Any) -> Any:
        """Rate of ``E(T) = exp(rate x(T))`` in the bound ``C(n) E(T)/H^n``: ``gamma + o + n (alpha + o)``."""
        return self.weight_rate(gamma) + rate * (alpha + self.weight_offset)

    def growth(self, rate: Any, alpha: Any, gamma: Any, lag: Any) -> sympy.Expr:
        """``E(T)`` exactly (``lag`` may be a symbol)."""
        return sympy.exp(self.growth_rate(rate, alpha, gamma) * self.coordinate(lag))

    def growth_mp(self, rate: Any, alpha: Any, gamma: Any, lag: Any) -> mpmath.mpf:
        """``E(T)`` at the working precision."""
        return mpmath.exp(self.growth_rate(rate, mpmath.mpf(alpha), mpmath.mpf(gamma)) * self.coordinate_mp(lag))

    # -- sums over the lags -------------------------------------------------------------------------

    def tail_exact(self, rate: Any, start: int) -> sympy.Expr:
        """``sum_{t >= max(start, first_lag)} exp(-rate x(t))`` exactly."""
        raise NotImplementedError

    def tail_mp(self, rate: Any, start: int) -> mpmath.mpf:
        """The tail sum at the working precision."""
        raise NotImplementedError

    def normaliser(self, rate: Any) -> sympy.Expr:
        """``sum_{t >= first_lag} exp(-rate x(t))`` exactly (the padded-past normaliser of a head)."""
        return self.tail_exact(rate, self.first_lag)

    def normaliser_mp(self, rate: Any) -> mpmath.mpf:
        """The normaliser at the working precision."""
        return self.tail_mp(rate, self.first_lag)

    def summable(self, rate: Any) -> bool:
        """Whether the family's tail sums converge at ``rate`` (lin ``> 0``, log ``> 1``)."""
        return bool(self.rpe().summable(sympy.sympify(rate)))

    # -- added by helper numerics --
    def lattice_mp(self, alpha: mpmath.mpf, gamma: mpmath.mpf, start: int, stop: int) -> tuple[list, list]:
        """``(u(t), w(t))`` for ``t = start..stop-1`` at the working precision (App. F lattice).

        ``u = exp(-alpha x(t))``, ``w = exp(-(gamma + o) x(t))``, each value computed alone here;
        an override may chain values but each must depend on ``(start, t)`` only, and
        :meth:`lattice_resume` says from where a range can be extended bit for bit.
        """
        us, ws = [], []
        rate = self.weight_rate(gamma)
        for s in range(start, stop):
            x = self.coordinate_mp(s)
            us.append(mpmath.exp(-alpha * x))
            ws.append(mpmath.exp(-rate * x))
        return us, ws

    def lattice_resume(self, start: int, stop: int) -> int:
        """First lag from which :meth:`lattice_mp` extends a computed range ``start..stop-1`` bit for bit."""
        return stop

    def tail_f64(self, rate: float, start: int) -> float:
        """``sum_{t >= start} exp(-rate x(t))`` as a float (``inf`` when not summable)."""
        return float(self.tail_mp(rate, start)) if self.summable(rate) else math.inf
    # -- added by helper cons --
    # Lemma F.2/F.5 shifts, Lemma F.3/F.6 bump sums and the Theorem 3.1/4.1 head allocation, in the
    # rounding the constructions have always used (the reports' numbers stay bit for bit).

    def shift_offset_np(self, lag: int, shift: int) -> float:
        """``x(T) - x(B)`` in float64: Lemma F.2 translates by ``T - B``, Lemma F.5 rescales by ``T / B``."""
        return float(self.coordinate_mp(lag) - self.coordinate_mp(shift))

    def shift_term_mp(self, rate: Any, t: Any, shift: Any) -> mpmath.mpf:
        """``exp(-rate (x(t) - x(B)))``: ``e^{-rate (t - B)}`` / ``(t / B)^{-rate}`` (Lemmas F.2/F.5)."""
        return mpmath.exp(-mpmath.mpf(rate) * (self.coordinate_mp(t) - self.coordinate_mp(shift)))

    def shift_factor_mp(self, rate: Any, shift: Any, lag: Any) -> mpmath.mpf:
        """``exp(-rate (x(T) - x(B)))`` for ``B <= T``: ``e^{-rate (T - B)}`` / ``(B / T)^{rate}`` (Lemma F.2/F.5 ``at_shift``)."""
        return mpmath.exp(-mpmath.mpf(rate) * (self.coordinate_mp(lag) - self.coordinate_mp(shift)))

    def bump_np(self, alpha: float, gamma: float, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """float64 ``(mu_T, sigma_T, V_T)`` for an array of lags (the bump sums of Lemmas F.3/F.6)."""
        x = self.coordinate_np(lags)
        mu = np.exp(-alpha * x)
        sigma = mu - np.exp(-alpha * self.coordinate_np(np.asarray(lags) + 1))
        return mu, sigma, np.e * np.exp(self.weight_rate(gamma) * x)

    def lattice_inverse_np(self, alpha: float, u: np.ndarray) -> np.ndarray:
        """The real ``t`` with ``u(t) = u`` (float64; ``+inf`` at ``u = 0``): inverts eqs. (F.1)/(F.4)."""
        raise NotImplementedError

    # -- added by helper bounds --
    def bump_scale_floor_mp(self, alpha: Any) -> mpmath.mpf:
        """``inf_{T >= 1} sigma_T exp((alpha + o) x(T))`` at the working precision (``alpha`` an mpf).

        Then ``V_T sigma_T^{-n} <= e floor^{-n} E(T)`` for every lag ``T >= 1`` (the constant ``K_n`` of
        the paper-form bound ``C(n) E(T) / H^n``, Lemmas F.1 / F.4).
        """
        raise NotImplementedError

    def memory_rounding_tolerance(self, lag: int) -> sympy.Rational:
        """Largest error of the FFN output that still rounds to the memory location ``lag`` exactly (Thm 4.4,
        App. D.1: the token-error condition ``Lip(g_l) err_l <= tolerance`` of each nested memory)."""
        raise NotImplementedError

    # -- added by helper exper --

    @functools.cache
    def coordinate_is_affine(self) -> bool:
        """Whether ``x(t)`` is affine in ``t``, i.e. every term ``exp(-beta x(t))`` is geometric in the lag.

        Then a shifted term is a multiple of the term, ``exp(-beta x(t - B + T)) = c exp(-beta x(t))`` (the
        translation identity making Lemma F.2 the tail of Lemma F.1), and a Hankel section ``[g(i + j)]`` of
        a sum of ``H`` terms has rank at most ``H`` (the lower bounds of :mod:`tfapprox.theory.lower_bounds`).
        lin: yes; log: no.

        >>> LIN.coordinate_is_affine(), LOG.coordinate_is_affine()
        (True, False)
        """
        t = sympy.Symbol("t", positive=True)
        return bool(sympy.expand(self.coordinate(t + 2) - 2 * self.coordinate(t + 1) + self.coordinate(t)) == 0)

    @functools.cache
    def coordinate_is_lag(self) -> bool:
        """Whether ``x(t) = t``: the terms are the powers ``lambda^t``, ``lambda = e^{-beta}`` (lin), as the
        divided-difference kernels of :func:`tfapprox.theory.lower_bounds.divided_difference_kernel` need;
        positions are then stored as they are (else as ``x(g)``, e.g. ``log g``, App. C.1)."""
        t = sympy.Symbol("t", positive=True)
        return bool(sympy.expand(self.coordinate(t) - t) == 0)

    def rate_floor(self) -> int:
        """Infimum ``o`` of the summable rates (lin 0, log 1): ``w(t) = exp(-(gamma + o) x(t))`` is summable
        exactly for ``gamma > 0``; searched exponents are kept above it."""
        return self.weight_offset

    def tail_upper_np(self, rates: Any, start: int) -> np.ndarray:
        """float64 upper bounds of ``sum_{t >= start} exp(-rate x(t))`` per rate (``start > first_lag``),
        ``inf`` where the tail diverges.  Generic form: :meth:`tail_mp` at 30 digits with a relative
        ``1e-12`` margin; the families override it with closed forms."""
        p = np.asarray(rates, dtype=float)
        out = np.full(p.shape, np.inf)
        with mpmath.workdps(30):
            for i, v in np.ndenumerate(p):
                if self.summable(sympy.Float(v)):
                    out[i] = float(self.tail_mp(v, start)) * (1 + 1e-12)
        return out

    def shift_factor_np(self, rates: Any, lag: Any) -> np.ndarray:
        """``exp(rates x(lag))`` in float64: the factor of the shifted term ``exp(-p x(t)) / exp(-p x(B))``
        (Lemma F.5: ``(t/B)^{-p} = B^p t^{-p}``)."""
        return np.exp(np.asarray(rates, dtype=float) * float(self.coordinate_np(lag)))


class LinFamily(KernelFamily):
    """``x(t) = t``: terms ``e^{-beta t}`` on ``t >= 0`` (lin-RPE, Lemmas F.1-F.3, Thm 5.1 (A))."""

    name = "lin"
    first_lag = 0
    weight_offset = 0
    decay = "exp"
    delta_lemma, shifted_lemma, essential_lemma, thm5_part = "F.1", "F.2", "F.3", "A"
    sum_kind = "exponential"
    term_latex = r"e^{-\beta t}"

    def rpe(self) -> LinRPE:
        return LinRPE()

    def coordinate(self, t: Any) -> sympy.Expr:
        return sympy.sympify(t)

    def coordinate_mp(self, t: Any) -> mpmath.mpf:
        return mpmath.mpf(t)

    def coordinate_np(self, t: Any) -> np.ndarray:
        return np.asarray(t, dtype=float)

    def step_mp(self, t: Any) -> mpmath.mpf:
        return mpmath.mpf(1)

    def coordinate_arb(self, t: Any) -> Any:
        import flint

        return flint.arb(t)

    def tail_exact(self, rate: Any, start: int) -> sympy.Expr:
        start = max(int(start), 0)
        return sympy.exp(-rate * start) / (1 - sympy.exp(-rate))

    def tail_mp(self, rate: Any, start: int) -> mpmath.mpf:
        start = max(int(start), 0)
        r = mpmath.mpf(rate)
        return mpmath.exp(-r * start) / -mpmath.expm1(-r)

    # -- added by helper numerics --
    def lattice_mp(self, alpha: mpmath.mpf, gamma: mpmath.mpf, start: int, stop: int) -> tuple[list, list]:
        # a product chain restarted (an exp) at start and at every multiple of 64: at most 63
        # consecutive products, each rounded at the working precision
        us, ws = [], []
        ea, eg = mpmath.exp(-alpha), mpmath.exp(-gamma)
        for s in range(start, stop):
            if s == start or s % 64 == 0:
                u, w = mpmath.exp(-alpha * s), mpmath.exp(-gamma * s)
            else:
                u, w = u * ea, w * eg
            us.append(u)
            ws.append(w)
        return us, ws

    def lattice_resume(self, start: int, stop: int) -> int:
        return max(start, (stop // 64) * 64)

    def tail_f64(self, rate: float, start: int) -> float:
        return math.exp(-rate * start) / -math.expm1(-rate)
    # -- added by helper cons --

    def bump_np(self, alpha: float, gamma: float, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu = np.exp(-alpha * lags)
        return mu, -mu * math.expm1(-alpha), math.e * np.exp(gamma * lags)

    def lattice_inverse_np(self, alpha: float, u: np.ndarray) -> np.ndarray:
        return -np.log(u) / alpha
    # -- added by helper bounds --
    def bump_scale_floor_mp(self, alpha: Any) -> mpmath.mpf:
        # sigma_T e^{alpha T} = 1 - e^{-alpha} for every T
        return -mpmath.expm1(-alpha)

    def memory_rounding_tolerance(self, lag: int) -> sympy.Rational:
        # the location t_l is an integer recovered by rounding: 1/4 leaves room for the 2NN error (App. D.1)
        return sympy.Rational(1, 4)

    # -- added by helper exper --

    def tail_upper_np(self, rates: Any, start: int) -> np.ndarray:
        """``e^{-p start} / (1 - e^{-p})`` (geometric, exact up to rounding) with a relative ``1e-12``
        margin; ``inf`` for ``p <= 0``."""
        p = np.asarray(rates, dtype=float)
        out = np.full(p.shape, math.inf)
        ok = p > 0
        out[ok] = np.exp(-p[ok] * start) / -np.expm1(-p[ok])
        return out * (1 + 1e-12)


class LogFamily(KernelFamily):
    """``x(t) = log t``: terms ``t^{-beta}`` on ``t >= 1`` (log-RPE, Lemmas F.4-F.6, Thm 5.1 (B))."""

    name = "log"
    first_lag = 1
    weight_offset = 1
    decay = "poly"
    delta_lemma, shifted_lemma, essential_lemma, thm5_part = "F.4", "F.5", "F.6", "B"
    sum_kind = "power"
    term_latex = r"t^{-\beta}"

    def rpe(self) -> LogRPE:
        return LogRPE()

    def coordinate(self, t: Any) -> sympy.Expr:
        return sympy.log(sympy.sympify(t))

    def coordinate_mp(self, t: Any) -> mpmath.mpf:
        return mpmath.log(t)

    def coordinate_np(self, t: Any) -> np.ndarray:
        return np.log(np.asarray(t, dtype=float))

    def step_mp(self, t: Any) -> mpmath.mpf:
        return mpmath.log1p(mpmath.mpf(1) / t)

    def coordinate_arb(self, t: Any) -> Any:
        import flint

        return flint.arb(t).log()

    def term(self, rate: Any, t: Any) -> sympy.Expr:
        # t^{-rate} rather than exp(-rate log t): sympy keeps powers of integers exact and readable
        return sympy.sympify(t) ** (-rate)

    def term_mp(self, rate: Any, t: Any) -> mpmath.mpf:
        return mpmath.power(t, -mpmath.mpf(rate))

    def basis_np(self, rates: Any, lags: Any) -> np.ndarray:
        return np.power(np.asarray(lags, dtype=float)[:, None], -np.asarray(rates, dtype=float)[None, :])

    def tail_exact(self, rate: Any, start: int) -> sympy.Expr:
        return sympy.zeta(rate, max(int(start), 1))

    def tail_mp(self, rate: Any, start: int) -> mpmath.mpf:
        return mpmath.zeta(mpmath.mpf(rate), max(int(start), 1))

    # -- added by helper numerics --
    def lattice_mp(self, alpha: mpmath.mpf, gamma: mpmath.mpf, start: int, stop: int) -> tuple[list, list]:
        if alpha != gamma:
            return super().lattice_mp(alpha, gamma, start, stop)
        us, ws = [], []
        for s in range(start, stop):  # alpha = gamma: w = t^{-1-alpha} = u / t, one division
            u = mpmath.exp(-alpha * mpmath.log(s))
            us.append(u)
            ws.append(u / s)
        return us, ws

    def tail_f64(self, rate: float, start: int) -> float:
        return float(mpmath.zeta(rate, start)) if rate > 1 else math.inf
    # -- added by helper cons --

    def allocation_weight_mp(self, alpha: Any, lag: Any) -> mpmath.mpf:
        return mpmath.power(lag, 1 + mpmath.mpf(alpha))  # T^{1+alpha} as one correctly rounded power

    def shift_offset_np(self, lag: int, shift: int) -> float:
        return math.log(lag / shift)

    def shift_term_mp(self, rate: Any, t: Any, shift: Any) -> mpmath.mpf:
        return mpmath.power(mpmath.mpf(t) / shift, -mpmath.mpf(rate))

    def shift_factor_mp(self, rate: Any, shift: Any, lag: Any) -> mpmath.mpf:
        return mpmath.power(mpmath.mpf(shift) / lag, mpmath.mpf(rate))

    def bump_np(self, alpha: float, gamma: float, lags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(lags).astype(float)
        mu = np.power(t, -alpha)
        return mu, mu - np.power(np.asarray(lags) + 1.0, -alpha), math.e * np.power(t, 1 + gamma)

    def lattice_inverse_np(self, alpha: float, u: np.ndarray) -> np.ndarray:
        return np.power(u, -1.0 / alpha)
    # -- added by helper bounds --
    def bump_scale_floor_mp(self, alpha: Any) -> mpmath.mpf:
        # T^{1+alpha} sigma_T = T (1 - (1 + 1/T)^{-alpha}) increases with T: its minimum is 1 - 2^{-alpha} at T = 1
        return -mpmath.expm1(-alpha * mpmath.log(2))

    def memory_rounding_tolerance(self, lag: int) -> sympy.Rational:
        # log t_l is stored: an error below 1/(8 T_l) gives |exp(.) - t_l| <= e^{1/8} T_l / (4 T_l) < 1/2 (App. D.1)
        return sympy.Rational(1, 8 * int(lag))

    # -- added by helper exper --

    def tail_upper_np(self, rates: Any, start: int) -> np.ndarray:
        """Hurwitz ``zeta(p, start) <= (start - 1/2)^{1-p} / (p - 1)`` (``t^{-p}`` is convex, so
        ``t^{-p} <= int_{t-1/2}^{t+1/2} x^{-p} dx``; within ``p^2 / (8 start^2)`` relative of the truth)
        with a relative ``1e-12`` margin; ``inf`` for ``p <= 1``."""
        p = np.asarray(rates, dtype=float)
        out = np.full(p.shape, math.inf)
        ok = p > 1
        out[ok] = np.exp((1 - p[ok]) * math.log(start - 0.5)) / (p[ok] - 1)
        return out * (1 + 1e-12)

    def shift_factor_np(self, rates: Any, lag: Any) -> np.ndarray:
        return np.power(float(lag), np.asarray(rates, dtype=float))


#: The lin family (``e^{-beta t}``, eq. (4)).
LIN = LinFamily()
#: The log family (``t^{-beta}``, eq. (4)).
LOG = LogFamily()

_FAMILIES: dict[str, KernelFamily] = {}


def register_family(family: KernelFamily) -> KernelFamily:
    """Add ``family`` to the registry read by :func:`kernel_family` (its ``name`` must be new)."""
    if not isinstance(family, KernelFamily):
        raise TypeError(f"family must be a KernelFamily, got {short_repr(family)}")
    if family.name in _FAMILIES and _FAMILIES[family.name] is not family:
        raise ValueError(f"a kernel family named {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    return family


register_family(LIN)
register_family(LOG)


def family_names() -> tuple[str, ...]:
    """Names of the registered families, in registration order (``("lin", "log", ...)``)."""
    return tuple(_FAMILIES)


def family_for_decay(decay: Any) -> KernelFamily:
    """The registered family whose kernels have the decay class ``decay`` (``"exp"`` -> lin, ``"poly"`` -> log;
    Thm 5.1 (A)/(B)).  Raises ``ValueError`` naming ``decay`` and the known decay classes.

    >>> family_for_decay("poly")
    kernel_family('log')
    """
    known = tuple(dict.fromkeys(f.decay for f in _FAMILIES.values()))
    for family in _FAMILIES.values():
        if family.decay == decay:
            return family
    raise ValueError(f"decay must be one of {', '.join(repr(d) for d in known)}; got {short_repr(decay)}")


def kernel_family(value: Any, name: str = "rpe") -> KernelFamily:
    """The family for ``value``: a :class:`KernelFamily` (returned as is) or a registered name.

    Raises ``ValueError`` naming the parameter ``name``, the value and the allowed names, and
    ``TypeError`` for anything that is neither a family nor a string.

    Examples
    --------
    >>> kernel_family("log").first_lag
    1
    >>> kernel_family(LIN) is LIN
    True
    """
    if isinstance(value, KernelFamily):
        return value
    if isinstance(value, str):
        if value in _FAMILIES:
            return _FAMILIES[value]
        raise ValueError(f"{name} must be one of {', '.join(repr(k) for k in _FAMILIES)}; got {short_repr(value)}")
    raise TypeError(f"{name} must be a kernel family name ({', '.join(repr(k) for k in _FAMILIES)}) or a "
                    f"KernelFamily, got {short_repr(value)}")
