"""Lemmas F.3 and F.6: a decaying memory kernel ``rho`` as a sum of ``H`` exponentials or powers.

The paper's proofs (Wang & E 2024, App. F) are reproduced step by step:

1. **Bump sum.** One bump per lag ``T``, ``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)`` with
   ``Psi(y) = exp(-1/(1 - y^2))``, placed at the image of ``T`` under the change of variables
   and made half as wide as the gap to the next lag (so the supports are disjoint):

   * Lemma F.3 (exponential decay, lin-RPE): ``u = e^{-alpha t}``, ``mu_T = e^{-alpha T}``,
     ``sigma_T = (e^{-alpha T} - e^{-alpha (T+1)})/2``, ``V_T = e e^{gamma T} rho(T)``, with the
     paper's ``alpha = 5e-3``, ``gamma = 1e-2 beta``;
   * Lemma F.6 (polynomial decay, log-RPE): ``u = t^{-alpha}``, ``mu_T = T^{-alpha}``,
     ``sigma_T = (T^{-alpha} - (T+1)^{-alpha})/2``, ``V_T = e T^{1+gamma} rho(T)``, with
     ``alpha = 1e-2``, ``gamma = 1e-4 beta``.

   Then ``varphi = sum_T Psi_T`` satisfies ``w(t) varphi(u(t)) = rho(t)`` on the lattice,
   ``w(t) = e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log).
2. **Polynomial approximation** of ``varphi`` on ``[0, 1]``: the paper uses Jackson's theorem
   (not constructive); here the Chebyshev interpolant ``Q`` of degree ``H - 1`` (as in
   :mod:`tfapprox.constructions.delta_kernels`), whose error obeys the explicit bound
   :func:`tfapprox.theory.bounds.essential_kernel_bound`.
3. **Back to the lattice.** ``P(t) = w(t) Q(u(t)) = sum_k a_k e^{-(gamma + alpha k) t}`` (lin) or
   ``sum_k a_k t^{-(1 + gamma + alpha k)}`` (log): ``H`` heads.

Two points the paper leaves open, handled here and documented:

* **Erratum (Differences from the paper, D1): lag 0 in Lemma F.3.**  The paper's bump sum starts at ``T = 1``, so
  ``P(0) = Q(1) ~ varphi(1) = 0`` while ``rho(0)`` may be nonzero: the lemma as written
  misses ``|rho(0)|``.  The sound fix (default, ``include_zero=True``) adds the bump ``T = 0``
  at ``mu_0 = 1`` with ``sigma_0 = (1 - e^{-alpha})/2``.  Its support sticks out of ``[0, 1]``
  but only ``[0, 1]`` is interpolated, where the bump is smooth, so every derivative bound
  still holds (the variation over ``[0, 1]`` is at most the full variation).
  ``include_zero=False`` reproduces the paper literally.
* **Lag 0 with log-RPE.**  ``phi_log(0) = -inf``: no log-RPE head sees ``s = 0`` and Lemma F.6
  lives on ``N_+``.  The lag-0 term ``rho(0) x_t`` is supplied by the Theorem 5.1
  construction (a residual path, :mod:`tfapprox.constructions.thm5_1`), not by the kernel.

**Truncation.**  The infinite bump sum is cut after ``T_max``, the first lag with
``sum_{t > T_max} |rho(t)| <= tail_tolerance`` (from the kernel's *declared* decay bound,
capped at ``max_bumps``).  The cut costs exactly ``sum_{t > T_max} |rho(t)|`` in l1, which
the bound adds.

**Decay is checked, not trusted.**  The admissible rate indices are
``n in [floor(99 beta)]`` (F.3) and ``n in [floor(0.99 beta) - 1]`` (F.6) for the kernel's
declared ``beta``; a user kernel declares its decay through
:class:`~tfapprox.theory.memory_kernels.ArrayKernel`, which refuses values that violate the
declaration and names the first failing lag.

**Numerics.**  ``Q`` is stored by its Chebyshev coefficients, float64 numbers (exact binary
rationals); the realised head weights ``a_k`` are their *exact* monomial conversion
(:meth:`EssentialKernel.monomial_coefficients`), so the Transformer computes exactly the
stored ``Q``.  The coefficients come from a DCT of the node values in float64; the
difference from the exact interpolant is bounded by ``(1 + Lambda_N)`` times the node
residual ``max_k |varphi(u_k) - Q(u_k)|`` (:attr:`EssentialKernel.node_residual`).

Examples
--------
>>> from tfapprox.theory.memory_kernels import ExponentialKernel
>>> k = lemma_f3_kernel(ExponentialKernel(1, "0.5"), 64)
>>> k.lemma, k.num_terms, k.exponents[:2]
('F.3', 64, (1/200, 1/100))
>>> admissible_rates("exp", "0.5")
range(1, 50)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import scipy.fft
import sympy

from tfapprox.theory.families import KernelFamily, family_for_decay, kernel_family
from tfapprox.theory.memory_kernels import MemoryKernel
from tfapprox.theory.numerics.chebyshev import chebyshev_to_monomial, clenshaw
from tfapprox.theory.rpe import to_exact
from tfapprox.theory.search import smallest_satisfying
from tfapprox.theory.validation import require_int, short_repr

from .bump_nodes import bump_function
from .delta_kernel_type import DeltaKernel

__all__ = [
    "F3_ALPHA",
    "F6_ALPHA",
    "PAPER_ALPHA",
    "PAPER_GAMMA_FACTOR",
    "RATE_RULE",
    "family_for_decay",
    "admissible_rates",
    "check_rate",
    "paper_gamma",
    "EssentialKernel",
    "essential_kernel",
    "lemma_f3_kernel",
    "lemma_f6_kernel",
]

#: Lemma F.3's ``alpha = 5e-3`` and Lemma F.6's ``alpha = 1e-2`` (exact).
F3_ALPHA = sympy.Rational(1, 200)
F6_ALPHA = sympy.Rational(1, 100)
"""Lemma F.6's ``alpha = 1e-2`` (exact)."""

#: The paper's default ``alpha`` by lemma label (``family.essential_lemma``).
PAPER_ALPHA: dict[str, sympy.Rational] = {"F.3": F3_ALPHA, "F.6": F6_ALPHA}

#: The paper's ``gamma / beta`` by lemma label: ``1e-2`` (Lemma F.3), ``1e-4`` (Lemma F.6).
PAPER_GAMMA_FACTOR: dict[str, sympy.Rational] = {"F.3": sympy.Rational(1, 100), "F.6": sympy.Rational(1, 10000)}
#: The admissible rate indices ``1..floor(c beta) - o`` by lemma label, as ``(c, o, text)``
#: (Lemma F.3: ``floor(99 beta)``, Lemma F.6: ``floor(0.99 beta) - 1``).
RATE_RULE: dict[str, tuple[sympy.Rational, int, str]] = {
    "F.3": (sympy.Integer(99), 0, "[floor(99 beta)]"),
    "F.6": (sympy.Rational(99, 100), 1, "[floor(0.99 beta) - 1]"),
}


def paper_gamma(decay: str, beta: Any) -> sympy.Rational:
    """The paper's ``gamma``: ``1e-2 beta`` (Lemma F.3) or ``1e-4 beta`` (Lemma F.6).

    >>> paper_gamma("exp", 5), paper_gamma("poly", 3)
    (1/20, 3/10000)
    """
    lemma = family_for_decay(decay).essential_lemma
    b = to_exact("beta", beta)
    return sympy.nsimplify(b * PAPER_GAMMA_FACTOR[lemma])


def admissible_rates(decay: str, beta: Any) -> range:
    """The rate indices the lemma allows: ``1..floor(99 beta)`` (F.3) or ``1..floor(0.99 beta) - 1`` (F.6).

    May be empty (F.6 with ``beta < 2/0.99``: the lemma gives no rate).

    >>> admissible_rates("poly", 3), admissible_rates("poly", "1.5")
    (range(1, 2), range(1, 1))
    """
    factor, offset, _text = RATE_RULE[family_for_decay(decay).essential_lemma]
    b = to_exact("beta", beta)
    top = int(sympy.floor(factor * b)) - offset
    return range(1, max(top, 0) + 1)


def check_rate(decay: str, beta: Any, rate: Any) -> int:
    """``rate`` if it is admissible for the lemma, else ``ValueError`` stating the allowed range.

    >>> check_rate("poly", 3, 2)
    Traceback (most recent call last):
    ...
    ValueError: rate index n=2 is not admissible for Lemma F.6 with beta=3: n must be in [floor(0.99 beta) - 1] = {1, ..., 1}
    """
    n = require_int("rate index n", rate, minimum=1)
    allowed = admissible_rates(decay, beta)
    lemma = family_for_decay(decay).essential_lemma
    form = RATE_RULE[lemma][2]
    if n not in allowed:
        span = "{} (empty)" if len(allowed) == 0 else f"{{1, ..., {allowed[-1]}}}"
        raise ValueError(f"rate index n={n} is not admissible for Lemma {lemma} with beta={beta}: "
                         f"n must be in {form} = {span}")
    return n


def _f(x: sympy.Rational) -> float:
    return float(x)


@dataclass(frozen=True, repr=False)
class EssentialKernel:
    """The Lemma F.3 (lin) / F.6 (log) approximation ``P`` of a memory kernel ``rho`` with ``H`` terms.

    Attributes
    ----------
    rpe : str
        ``"lin"`` (Lemma F.3, lags ``t >= 0``) or ``"log"`` (Lemma F.6, lags ``t >= 1``).
    kernel : MemoryKernel
        The target ``rho``.
    num_terms : int
        ``H``.
    alpha, gamma : sympy.Rational
        The lemma's parameters.
    first_bump, last_bump : int
        The bumps ``T = first_bump .. last_bump`` (``first_bump = 0`` with the lag-0 fix).
    exponents : tuple of sympy.Rational
        ``gamma + alpha k`` (lin) or ``1 + gamma + alpha k`` (log), ``k = 0..H-1``.
    chebyshev_coefficients : numpy.ndarray
        ``Q(u) = sum_j c_j T_j(2u - 1)`` (float64; exact binary numbers).
    truncation_tail : float
        Upper bound of ``sum_{t > last_bump} |rho(t)|`` (declared decay).
    node_residual : float
        ``max_k |varphi(u_k) - Q(u_k)|`` at the interpolation nodes, with a float64
        allowance (the stored ``Q`` vs the exact interpolant).
    bump_heights : numpy.ndarray
        ``V_T`` for ``T = first_bump .. last_bump``.
    """

    rpe: str
    kernel: MemoryKernel
    num_terms: int
    alpha: sympy.Rational
    gamma: sympy.Rational
    first_bump: int
    last_bump: int
    exponents: tuple[sympy.Rational, ...]
    chebyshev_coefficients: np.ndarray
    truncation_tail: float
    node_residual: float
    bump_heights: np.ndarray

    def __repr__(self) -> str:
        return (f"EssentialKernel(lemma={self.lemma!r}, H={self.num_terms}, alpha={self.alpha}, "
                f"gamma={self.gamma}, bumps={self.first_bump}..{self.last_bump})")

    @property
    def family(self) -> KernelFamily:
        """The kernel family (:mod:`tfapprox.theory.families`) of :attr:`rpe`."""
        return kernel_family(self.rpe)

    @property
    def lemma(self) -> str:
        """The family's essential-kernel lemma: ``"F.3"`` (lin) or ``"F.6"`` (log)."""
        return self.family.essential_lemma

    @property
    def decay(self) -> str:
        """The family's decay class: ``"exp"`` (lin-RPE, Lemma F.3) or ``"poly"`` (log-RPE, Lemma F.6)."""
        return self.family.decay

    def evaluate(self, s: Any) -> np.ndarray:
        """``P(s)`` in float64 (stable basis, Clenshaw) at integer lags; ``0`` below the first lag (log: ``s = 0``)."""
        t = np.atleast_1d(np.asarray(s, dtype=np.int64)).astype(float)
        a, g = _f(self.alpha), _f(self.gamma)
        c = self.chebyshev_coefficients
        fam = self.family
        valid = t >= fam.first_lag
        lt = fam.coordinate_np(np.where(valid, t, float(fam.first_lag)))
        out = np.exp(-fam.weight_rate(g) * lt) * clenshaw(c, 1 + 2 * np.expm1(-a * lt))
        return np.where(valid, out, 0.0)

    def carrier(self) -> DeltaKernel:
        """The kernel in :class:`DeltaKernel` form (lag 1, no monomial coefficients) so that the
        rigorous tail machinery of :mod:`tfapprox.verify.kernel_error` applies to ``Q``."""
        with mpmath.workprec(60):
            cheb = tuple(mpmath.mpf(float(v)) for v in self.chebyshev_coefficients)
        return DeltaKernel(self.rpe, 1, self.num_terms, self.alpha, self.gamma, self.exponents, (), 17, cheb,
                           "chebyshev2", 15, mpmath.mpf(0), 53)

    def monomial_coefficients(self) -> tuple[sympy.Rational, ...]:
        """The realised head weights ``a_k`` (exact rationals): ``sum_k a_k u^k = Q(u)`` exactly."""
        c = self.chebyshev_coefficients
        exps = [math.frexp(float(v))[1] - 53 for v in c if v != 0]
        if not exps:
            return tuple(sympy.Integer(0) for _ in c)
        p = -min(exps)
        ints = [int(sympy.Rational(float(v)) * sympy.Integer(2) ** p) if p >= 0 else int(float(v)) for v in c]
        mono = chebyshev_to_monomial(ints)
        return tuple(sympy.Rational(m, 2 ** p) if p >= 0 else sympy.Integer(m) for m in mono)


def _last_bump(kernel: MemoryKernel, tol: float, cap: int) -> tuple[int, float]:
    """Smallest ``T`` with ``sum_{t > T} |rho(t)| <= tol`` (declared decay), capped; and that tail."""
    T = smallest_satisfying(lambda T: float(kernel.abs_tail_bound(T + 1)) <= tol, 1, limit=max(cap, 1))
    T = max(cap, 1) if T is None else T
    return T, float(kernel.abs_tail_bound(T + 1)) * (1 + 1e-12)


def essential_kernel(rpe: Any, kernel: MemoryKernel, num_terms: Any, *, alpha: Any = None, gamma: Any = None,
                     include_zero: bool = True, tail_tolerance: float = 1e-8, max_bumps: int = 8192
                     ) -> EssentialKernel:
    """Build the Lemma F.3 (``rpe="lin"``) or F.6 (``rpe="log"``) approximation of ``kernel``.

    Parameters
    ----------
    rpe : str
        ``"lin"`` (needs ``kernel.decay == "exp"``) or ``"log"`` (needs ``"poly"``, ``beta > 1``).
    kernel : MemoryKernel
        ``rho``; its values must be known at every lag (an ``ArrayKernel`` needs ``tail="zero"``).
    num_terms : int
        ``H >= 1``.
    alpha, gamma : rational, optional
        Default: the paper's (F.3: ``5e-3``, ``1e-2 beta``; F.6: ``1e-2``, ``1e-4 beta``).
    include_zero : bool
        lin only: add the bump at ``T = 0`` (the fix of erratum D1; default).
    tail_tolerance : float
        Cut the bump sum once the declared l1 tail of ``rho`` is below this.
    max_bumps : int
        Cap on the last bump.

    Raises
    ------
    ValueError
        Wrong decay class for the RPE, a non-summable kernel, unknown kernel values, ``H < 1``.
    """
    family = kernel_family(rpe)
    if not isinstance(kernel, MemoryKernel):
        raise TypeError(f"kernel must be a MemoryKernel, got {short_repr(kernel)}")
    need = family.decay
    if kernel.decay != need:
        raise ValueError(f"Lemma {family.essential_lemma} ({family.name}-RPE) needs a kernel with decay={need!r} "
                         f"(Thm 5.1 ({family.thm5_part})), got decay={kernel.decay!r}")
    if not kernel.summable:
        raise ValueError(f"kernel must be summable (poly decay needs beta > 1), got beta={kernel.beta}")
    if kernel.known_length is not None:
        raise ValueError("kernel values beyond the given array are unknown (ArrayKernel tail='unknown'); "
                         "Lemmas F.3/F.6 need rho at every lag: use tail='zero'")
    H = require_int("num_terms", num_terms, minimum=1)
    if not isinstance(include_zero, bool):
        raise TypeError(f"include_zero must be True or False, got {short_repr(include_zero)}")
    a = to_exact("alpha", PAPER_ALPHA[family.essential_lemma] if alpha is None else alpha)
    g = paper_gamma(need, kernel.beta) if gamma is None else to_exact("gamma", gamma)
    if not (a > 0 and g > 0):
        raise ValueError(f"alpha and gamma must be > 0, got alpha={a}, gamma={g}")
    cap = require_int("max_bumps", max_bumps, minimum=1)
    T_max, trunc = _last_bump(kernel, float(tail_tolerance), cap)
    T0 = family.first_lag if include_zero else 1  # the lag-0 bump exists only where the family reaches lag 0
    Ts = np.arange(T0, T_max + 1)
    af, gf = _f(a), _f(g)
    rho = np.asarray(kernel.values(Ts), dtype=float)
    mu, width, height = family.bump_np(af, gf, Ts)
    sigma = 0.5 * width
    V = height * rho
    N = H - 1
    x = np.cos(np.pi * np.arange(H) / N) if H > 1 else np.zeros(1)
    u = (1 + x) / 2
    phi = _bump_sum(u, family, af, Ts, mu, sigma, V)
    if H == 1:
        c = phi.copy()
    else:
        c = scipy.fft.dct(phi, type=1) / N
        c[0] /= 2
        c[-1] /= 2
    resid = np.max(np.abs(clenshaw(c, x) - phi))
    allowance = 1e-12 * (float(np.max(np.abs(V))) + float(np.sum(np.abs(c))))
    exps = tuple(family.exponent(k, a, g) for k in range(H))
    c.setflags(write=False)
    V.setflags(write=False)
    return EssentialKernel(family.name, kernel, H, a, g, T0, T_max, exps, c, trunc, float(resid) * 2 + allowance, V)


def _bump_sum(u: np.ndarray, family: KernelFamily, af: float, Ts: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
              V: np.ndarray) -> np.ndarray:
    """``varphi(u) = sum_T Psi_T(u)`` (disjoint supports: at most one bump is nonzero at ``u``)."""
    out = np.zeros_like(u)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        tstar = family.lattice_inverse_np(af, u)
    T0 = int(Ts[0])
    for shift in (-1, 0, 1):
        idx = np.floor(np.minimum(np.nan_to_num(tstar, posinf=1e18), 1e18)).astype(np.int64) + shift - T0
        ok = (idx >= 0) & (idx < len(Ts)) & (u > 0)
        j = idx[ok]
        y = (u[ok] - mu[j]) / sigma[j]
        out[ok] += V[j] * bump_function(y)
    return out


def lemma_f3_kernel(kernel: MemoryKernel, num_terms: Any, **options: Any) -> EssentialKernel:
    """Lemma F.3 (lin-RPE, exponentially decaying ``rho``); see :func:`essential_kernel`."""
    return essential_kernel("lin", kernel, num_terms, **options)


def lemma_f6_kernel(kernel: MemoryKernel, num_terms: Any, **options: Any) -> EssentialKernel:
    """Lemma F.6 (log-RPE, polynomially decaying ``rho``, ``beta > 1``); see :func:`essential_kernel`."""
    return essential_kernel("log", kernel, num_terms, **options)
