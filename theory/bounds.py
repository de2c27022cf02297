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
roots of ``p_{k+1}`` in ``(-1, 1)``, isolated with certified rational enclosures by python-flint
(:mod:`tfapprox.theory.numerics.polynomial_roots`) and evaluated in ball arithmetic (``arb``).

The l1 error of the kernel then follows from ``|1{t=T} - P(t)| = w(t) |Psi_T(u_t) - Q(u_t)|``
with ``w(t) = e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log):
``l1 <= sup|Psi_T - Q| * sum_t w(t)``, and ``sum_{t>=0} e^{-gamma t} = 1/(1 - e^{-gamma})``,
``sum_{t>=1} t^{-1-gamma} = zeta(1 + gamma)``.

All functions return upper bounds as ``mpmath.mpf`` (computed at 50 digits and rounded up
by a relative ``1e-30``); they hold for every ``H >= 1`` and every ``1 <= n <= MAX_RATE_INDEX``.
Every ``rpe`` argument is a kernel-family name (``"lin"``, ``"log"``) or a
``KernelFamily``; the formulas that differ between the families
are asked of the family object.

This module is the public import path of every bound; the code lives in one module per idea:

* :mod:`tfapprox.theory.bound_common`: precision, outward rounding, rate index, symbols;
* :mod:`tfapprox.theory.bump`: bump placement, derivative polynomials and norms;
* :mod:`tfapprox.theory.interpolation_bounds`: the interpolation-error routes and the
  Lemma F.1 / F.4 kernel bound;
* :mod:`tfapprox.theory.paper_form`: the explicit ``C(n)`` and the sympy forms;
* :mod:`tfapprox.theory.theorem_bounds`: Theorems 3.1, 4.1 (Lemmas F.2 / F.5) and 5.1
  (Lemmas F.3 / F.6);
* :mod:`tfapprox.theory.nested_bounds`: Theorem 4.4 and Proposition 4.5 (App. D).

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

from .bound_common import (
    BOUND_DPS,
    DEFAULT_KERNEL_RATE,
    MAX_RATE_INDEX,
    RPE_TYPES,
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
from .bump import (
    BumpDerivativeNorms,
    BumpPlacement,
    bump_derivative_enclosure,
    bump_derivative_norms,
    bump_derivative_polynomial,
    bump_placement,
)
from .interpolation_bounds import (
    best_delta_kernel_bound,
    delta_kernel_bound,
    delta_kernel_bound_routes,
    interpolation_error_bound,
    interpolation_error_routes,
    interpolation_route_values,
    lebesgue_constant_bound,
    weight_sum,
)
from .nested_bounds import (
    app_d2_head_ratio,
    thm4_4_attention_bound,
    thm4_4_head_condition,
    thm4_4_min_heads_paper,
    thm4_4_paper_form,
)
from .paper_form import (
    explicit_bound_expr,
    growth_expr,
    lattice_growth,
    lemma_bound_expr,
    lemma_f1_bound_expr,
    lemma_f4_bound_expr,
    paper_constant,
    paper_constant_float,
    paper_form_growths,
    scale_constant,
    symbolic_paper_form,
)
from .theorem_bounds import (
    essential_kernel_bound,
    lemma_f2_f5_bound,
    summed_group_bounds,
    thm3_1_attention_bound,
    thm3_1_bound_expr,
    thm3_1_paper_form,
    thm4_1_attention_bound,
    thm5_1_attention_bound,
)

__all__ = [
    # conventions (bound_common)
    "RPE_TYPES",
    "MAX_RATE_INDEX",
    "BOUND_DPS",
    "DEFAULT_KERNEL_RATE",
    "H",
    "n",
    "T",
    "alpha",
    "gamma",
    "round_up",
    "check_rate_index",
    "falling_factorial",
    "cached_per_precision",
    # the bump (bump)
    "BumpPlacement",
    "bump_placement",
    "bump_derivative_polynomial",
    "BumpDerivativeNorms",
    "bump_derivative_norms",
    "bump_derivative_enclosure",
    # Lemma F.1 / F.4 kernels (interpolation_bounds)
    "lebesgue_constant_bound",
    "weight_sum",
    "interpolation_route_values",
    "interpolation_error_routes",
    "interpolation_error_bound",
    "delta_kernel_bound_routes",
    "delta_kernel_bound",
    "best_delta_kernel_bound",
    # the paper's form (paper_form)
    "scale_constant",
    "lattice_growth",
    "growth_expr",
    "paper_constant",
    "paper_constant_float",
    "paper_form_growths",
    "lemma_bound_expr",
    "lemma_f1_bound_expr",
    "lemma_f4_bound_expr",
    "symbolic_paper_form",
    "explicit_bound_expr",
    # Theorems 3.1, 4.1, 5.1 (theorem_bounds)
    "summed_group_bounds",
    "thm3_1_attention_bound",
    "thm3_1_paper_form",
    "thm3_1_bound_expr",
    "lemma_f2_f5_bound",
    "thm4_1_attention_bound",
    "essential_kernel_bound",
    "thm5_1_attention_bound",
    # Theorem 4.4 / Proposition 4.5 (nested_bounds)
    "thm4_4_attention_bound",
    "thm4_4_paper_form",
    "thm4_4_head_condition",
    "thm4_4_min_heads_paper",
    "app_d2_head_ratio",
]
