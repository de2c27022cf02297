"""Explicit attention-error bounds of Theorems 3.1, 4.1 and 5.1 (Wang & E 2024, App. B.1, C.1, E.1).

Each theorem's attention layer realises one kernel per memory with its own head group, so the
attention error is at most the sum over memories of the kernels' l1 errors (``||x||_2 <= 1``):

* Theorem 3.1 (fixed memories): Lemma F.1 / F.4 kernels, :func:`thm3_1_attention_bound`, and the
  paper's form ``C(n)/H^n (sum_i E(T_i)^{1/(n+1)})^{n+1}`` (:func:`thm3_1_paper_form`,
  :func:`thm3_1_bound_expr`);
* Theorem 4.1 (adaptive memories): Lemma F.2 / F.5 shifted kernels, :func:`lemma_f2_f5_bound`,
  :func:`thm4_1_attention_bound`;
* Theorem 5.1 (essentially sparse memories): Lemma F.3 / F.6 kernels,
  :func:`essential_kernel_bound`, :func:`thm5_1_attention_bound`.

A memory whose head group is empty contributes exactly ``1`` (``||1{. = T}||_{l1} = 1``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

import mpmath
import sympy

from .bound_common import (
    BOUND_DPS,
    DEFAULT_KERNEL_RATE,
    H,
    check_rate_index,
    falling_factorial,
    round_up,
)
from .bump import bump_derivative_norms
from .families import KernelFamily, kernel_family
from .interpolation_bounds import delta_kernel_bound, lebesgue_constant_bound, weight_sum
from .paper_form import paper_constant_float, paper_form_growths
from .validation import require_int, require_positive_rational, require_sorted_distinct_lags

__all__ = ["summed_group_bounds", "thm3_1_attention_bound", "thm3_1_paper_form", "thm3_1_bound_expr",
           "lemma_f2_f5_bound", "thm4_1_attention_bound", "essential_kernel_bound", "thm5_1_attention_bound"]


def summed_group_bounds(lemma_bound: Callable[..., Any], rpe: Any, lags: Sequence[int],
                        heads_per_memory: Sequence[int], rate: Any, alpha: Any, gamma: Any) -> mpmath.mpf:
    """``sum_k lemma_bound(rpe, T_k, H_k, n)`` over head groups, rounded up.

    A group with no head contributes exactly 1 (its kernel is zero, the error is ``||delta||_1``).

    >>> float(summed_group_bounds(delta_kernel_bound, "lin", (1, 2), (0, 0), 1, "1/100", "1/100"))
    2.0
    """
    family = kernel_family(rpe)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    if len(heads) != len(lags):
        raise ValueError(f"heads_per_memory must have one entry per memory ({len(lags)}), got {len(heads)}")
    rate = check_rate_index(rate)
    total = mpmath.mpf(0)
    with mpmath.workdps(BOUND_DPS):
        for lag, h in zip(lags, heads):
            total += 1 if h == 0 else lemma_bound(family, lag, h, rate, alpha=alpha, gamma=gamma)
        return round_up(total)


# ---------------------------------------------------------------------------------------
# Theorem 3.1
# ---------------------------------------------------------------------------------------

def thm3_1_attention_bound(rpe: Any, lags: Sequence[int], heads_per_memory: Sequence[int], rate: Any, *,
                           alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
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
    return summed_group_bounds(delta_kernel_bound, rpe, lags, heads_per_memory, rate, alpha, gamma)


def thm3_1_paper_form(rpe: Any, lags: Sequence[int], num_heads: Any, rate: Any, *,
                      alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """The paper's Theorem 3.1 expression with the explicit ``C(n)``:
    ``C(n)/H^n (sum_i E(T_i)^{1/(n+1)})^{n+1}``.

    ``E(T)^{1/(n+1)}`` is ``e^{(gamma + n alpha) T/(n+1)}`` (``= e^{0.01 T}`` when ``alpha = gamma``)
    for lin and ``T^{(1 + gamma + n(1+alpha))/(n+1)}`` (``= T^{1.01}``) for log.  This bounds the
    attention error for the *real-valued* allocation ``H_k = H E(T_k)^{1/(n+1)} / sum_j E(T_j)^{1/(n+1)}``
    of the proof; with integer allocations use :func:`thm3_1_attention_bound`.
    """
    family = kernel_family(rpe)
    lags = require_sorted_distinct_lags("lags", lags)
    num_heads = require_int("num_heads", num_heads, minimum=1)
    C, E, rate = paper_form_growths(family, lags, rate, alpha, gamma)
    with mpmath.workdps(BOUND_DPS):
        s = mpmath.fsum(e ** (mpmath.mpf(1) / (rate + 1)) for e in E)
        return round_up(C * s ** (rate + 1) / mpmath.mpf(num_heads) ** rate)


def thm3_1_bound_expr(rpe: Any, num_memories: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                      gamma: Any = DEFAULT_KERNEL_RATE) -> sympy.Expr:
    """Theorem 3.1's ``C(n)/H^n (sum_i E(T_i)^{1/(n+1)})^{n+1}`` as sympy, in symbols ``H, T_1, ..., T_M``.

    Examples
    --------
    >>> thm3_1_bound_expr("lin", 2, 1)
    56321.09...*(exp(T_1/100) + exp(T_2/100))**2/H
    """
    family = kernel_family(rpe)
    M = require_int("num_memories", num_memories, minimum=1)
    rate = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    Ts = sympy.symbols(" ".join(f"T_{i + 1}" for i in range(M)) + ("," if M == 1 else ""), positive=True)
    C = paper_constant_float(family, rate, alpha=a, gamma=g)
    c = family.growth_rate(rate, a, g) / (rate + 1)
    total = sympy.Add(*[family.term(-c, t) for t in Ts])  # E(T_i)^{1/(n+1)} = exp(c x(T_i))
    return C * total ** (rate + 1) / H ** rate


# ---------------------------------------------------------------------------------------
# Lemmas F.2 / F.5 and Theorem 4.1 (adaptive memories)
# ---------------------------------------------------------------------------------------

def lemma_f2_f5_bound(rpe: Any, max_shift: Any, num_terms: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                      gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
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


def thm4_1_attention_bound(rpe: Any, max_lags: Sequence[int], heads_per_memory: Sequence[int], rate: Any, *,
                           alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """Explicit bound of ``E_Attn`` in Theorem 4.1 for the allocation used: ``sum_k bound_F2/F5(T_k, H_k, n)``.

    Unlike Theorem 3.1 the ``T_k`` need not be distinct (they are maxima of ``g_k``).  A memory
    with ``H_k = 0`` contributes ``1``.  The total error bound is ``Lip(f)`` times this plus
    ``E_FFN`` (0 for an exact readout FFN), provided FFN 1 meets the rounding threshold.

    >>> print(f"{float(thm4_1_attention_bound('lin', (3, 2), (128, 128), 1)):.3e}")
    9.242e+02
    """
    lags = tuple(require_int(f"max_lags[{i}]", T, minimum=1) for i, T in enumerate(max_lags))
    return summed_group_bounds(lemma_f2_f5_bound, rpe, lags, heads_per_memory, rate, alpha, gamma)


# ---------------------------------------------------------------------------------------
# Lemmas F.3 / F.6 and Theorem 5.1 (essentially sparse memories)
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _bump_sum_scaled(family: KernelFamily, kernel: Any, rate: int, a_rat: sympy.Rational, g_rat: sympy.Rational,
                     first: int, last: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(sum_T V_T sigma_T^{-rate}, max_T V_T / e)`` over the bumps ``T = first..last`` (upper bounds)."""
    with mpmath.workdps(40):  # 10 digits below the relative 1e-30 of round_up
        a = mpmath.mpf(a_rat.p) / a_rat.q
        g = mpmath.mpf(g_rat.p) / g_rat.q
        rho = kernel.values_mp(list(range(first, last + 1)), 40)
        total = mpmath.mpf(0)
        peak = mpmath.mpf(0)
        for T_, r in zip(range(first, last + 1), rho):
            r = abs(mpmath.mpf(r))
            if r == 0:
                continue
            _mu, sigma, height = family.bump_mp(a, g, T_)
            V = height * r
            total += V * (sigma / 2) ** (-rate)
            peak = max(peak, V / mpmath.e)
        return round_up(total), round_up(peak)


def essential_kernel_bound(rpe: Any, kernel: Any, num_terms: Any, rate: Any, *, alpha: Any, gamma: Any,
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
    family = kernel_family(rpe)
    H_ = require_int("num_terms", num_terms, minimum=1)
    n_ = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    first = require_int("first_bump", first_bump, minimum=0)
    last = require_int("last_bump", last_bump, minimum=first)
    scaled, peak = _bump_sum_scaled(family, kernel, n_, a, g, first, last)
    N = H_ - 1
    nrm = bump_derivative_norms(n_)
    lam = lebesgue_constant_bound(H_)
    with mpmath.workdps(BOUND_DPS):
        routes = [(1 + lam) * peak]
        if N >= n_:
            V = mpmath.mpf(2) ** (-n_) * scaled * nrm.variation_upper
            routes.append(4 * V / (mpmath.pi * n_ * falling_factorial(N, n_)))
        sup = min(routes) + (1 + lam) * mpmath.mpf(node_residual)
        # + 1e-300: room for the outward rounding of a measured enclosure of an exact 0
        return round_up(sup * weight_sum(family, gamma=g) + mpmath.mpf(truncation_tail) + mpmath.mpf(missing_lag0)
                        + mpmath.mpf("1e-300"))


def thm5_1_attention_bound(per_memory_bounds: Sequence[Any]) -> mpmath.mpf:
    """Theorem 5.1's ``E_Attn`` (explicit): ``sum_k`` of the Lemma F.3/F.6 bounds of the ``M`` head groups.

    With equal allocation ``H_k = H/M`` and a common ``C(n)`` this is the paper's
    ``C(n) M^{n+1} / H^n`` (App. E.1); the sum of the explicit per-group bounds is never larger.
    It bounds ``sup ||x^{(1/2)}_t - ((X*rho_k)(t))_k||_inf`` and, for ``d = 1``, the l1 norm of the
    stacked kernel errors.
    """
    with mpmath.workdps(BOUND_DPS):
        return round_up(mpmath.fsum(mpmath.mpf(b) for b in per_memory_bounds))
