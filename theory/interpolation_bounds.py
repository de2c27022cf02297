"""Interpolation-error routes and the explicit l1 bound of the Lemma F.1 / F.4 kernels (Wang & E 2024, App. F).

The kernel that :mod:`tfapprox.constructions.delta_kernels` builds interpolates the bump
``Psi_T`` (:mod:`tfapprox.theory.bump`) at ``H`` Chebyshev points on ``[0, 1]`` (degree
``N = H - 1``).  The sup-norm error ``||Psi_T - Q||_{[0,1]}`` is bounded by the minimum of four
rigorous routes (module docstring of :mod:`tfapprox.theory.bounds`): ``trefethen_7_2`` (ATAP
Thm 7.2), ``trefethen_7_1_summed`` (ATAP Thm 7.1 with the aliasing sum done exactly),
``jackson_rivlin`` (Jackson's theorem with Rivlin's constant times ``1 + Lambda_N``) and
``lebesgue`` (``(1 + Lambda_N) ||Psi_T||``, valid for every ``H``).  The l1 error of the kernel
follows from ``|1{t=T} - P(t)| = w(t) |Psi_T(u_t) - Q(u_t)|``: ``l1 <= sup |Psi_T - Q| * sum_t w(t)``,
the weight sum asked of the kernel family (:func:`weight_sum`).
"""

from __future__ import annotations

from typing import Any

import mpmath

from .bound_common import (
    BOUND_DPS,
    DEFAULT_KERNEL_RATE,
    MAX_RATE_INDEX,
    check_rate_index,
    falling_factorial,
    round_up,
)
from .bump import bump_derivative_norms, bump_placement
from .families import kernel_family
from .validation import require_int, require_positive_rational

__all__ = ["lebesgue_constant_bound", "weight_sum", "interpolation_route_values", "interpolation_error_routes",
           "interpolation_error_bound", "delta_kernel_bound_routes", "delta_kernel_bound", "best_delta_kernel_bound"]


def lebesgue_constant_bound(num_terms: Any) -> mpmath.mpf:
    """``(2/pi) log(H) + 1 >= Lambda_{H-1}`` for ``H`` Chebyshev points (ATAP Thm 15.2, (15.8a)).

    The bound is stated in ATAP for Chebyshev points of the second kind; the same bound
    ``(2/pi) log(N+1) + 1`` holds for the roots (first kind) (Rivlin).

    Examples
    --------
    >>> print(f"{float(lebesgue_constant_bound(1)):.1f}")
    1.0
    """
    num_terms = require_int("num_terms", num_terms, minimum=1)
    with mpmath.workdps(BOUND_DPS):
        return round_up(2 / mpmath.pi * mpmath.log(num_terms) + 1)


def weight_sum(rpe: Any, *, gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """``sum_t w(t)``: ``1/(1 - e^{-gamma})`` over ``t >= 0`` (lin) or ``zeta(1 + gamma)`` over ``t >= 1`` (log).

    ``rpe`` is a family name or a kernel family (``KernelFamily.weight_sum_mp()``).

    Examples
    --------
    >>> print(f"{float(weight_sum('lin')):.4f} {float(weight_sum('log')):.4f}")
    100.5008 100.5779
    """
    family = kernel_family(rpe)
    g = require_positive_rational("gamma", gamma)
    with mpmath.workdps(BOUND_DPS):
        return round_up(family.weight_sum_mp(mpmath.mpf(int(g.p)) / int(g.q)))


def interpolation_route_values(num_terms: int, rate: int, peak: mpmath.mpf,
                               scaled: mpmath.mpf) -> dict[str, mpmath.mpf | None]:
    """The four sup-norm routes, given ``peak = V_T/e`` and ``scaled = V_T sigma_T^{-rate}`` (or upper bounds).

    ``None`` marks a route that does not apply at this ``H = num_terms``.
    """
    N = num_terms - 1
    nrm = bump_derivative_norms(rate)
    lam = lebesgue_constant_bound(num_terms)
    with mpmath.workdps(BOUND_DPS):
        # total variation of f^{(n)} on [-1, 1], f(x) = Psi_T((1+x)/2)
        V = mpmath.mpf(2) ** (-rate) * scaled * nrm.variation_upper
        sup_fn = mpmath.mpf(2) ** (-rate) * scaled * nrm.sup_upper
        routes: dict[str, mpmath.mpf | None] = {}
        routes["lebesgue"] = round_up((1 + lam) * peak)
        routes["trefethen_7_2"] = (round_up(4 * V / (mpmath.pi * rate * mpmath.mpf(N - rate) ** rate))
                                   if N > rate else None)
        routes["trefethen_7_1_summed"] = (round_up(4 * V / (mpmath.pi * rate * falling_factorial(N, rate)))
                                          if N >= rate else None)
        routes["jackson_rivlin"] = (round_up((1 + lam) * (mpmath.pi / 2) ** rate * sup_fn
                                             / falling_factorial(N + 1, rate)) if N >= rate else None)
    return routes


def interpolation_error_routes(rpe: Any, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                               gamma: Any = DEFAULT_KERNEL_RATE) -> dict[str, mpmath.mpf | None]:
    """Each route's upper bound of ``sup_{[0,1]} |Psi_T - Q|`` (``None`` where it does not apply).

    Parameters
    ----------
    rpe : str or KernelFamily
        ``"lin"`` or ``"log"``.
    lag : int
        ``T >= 1``.
    num_terms : int
        ``H >= 1`` (interpolation degree ``H - 1``).
    rate : int
        The rate index ``n`` (``1 <= n <= MAX_RATE_INDEX``), i.e. ``nu`` of ATAP Thm 7.2 and
        ``k`` of Jackson's theorem.
    alpha, gamma : rational
        The lemma's parameters.

    Returns
    -------
    dict
        ``{"lebesgue", "trefethen_7_2", "trefethen_7_1_summed", "jackson_rivlin"} -> mpf | None``.
    """
    place = bump_placement(rpe, lag, alpha=alpha, gamma=gamma)
    num_terms = require_int("num_terms", num_terms, minimum=1)
    rate = check_rate_index(rate)
    with mpmath.workdps(BOUND_DPS + 10):
        mu, sigma, height = place.numeric(BOUND_DPS + 10)
        # rounded up here, at BOUND_DPS + 10 digits: outside this block they would be rounded to the
        # caller's precision (53 bits in `verify`), possibly downwards
        peak = round_up(height / mpmath.e)
        scaled = round_up(height * sigma ** (-rate))
    return interpolation_route_values(num_terms, rate, peak, scaled)


def interpolation_error_bound(rpe: Any, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                              gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """``min`` over the valid routes of :func:`interpolation_error_routes` (sup-norm bound)."""
    routes = interpolation_error_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    return min(v for v in routes.values() if v is not None)


def delta_kernel_bound_routes(rpe: Any, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                              gamma: Any = DEFAULT_KERNEL_RATE) -> dict[str, mpmath.mpf | None]:
    """Each route's explicit bound of the kernel's l1 error (sup bound times ``sum_t w(t)``)."""
    routes = interpolation_error_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    z = weight_sum(rpe, gamma=gamma)
    with mpmath.workdps(BOUND_DPS):
        return {k: (None if v is None else round_up(v * z)) for k, v in routes.items()}


def delta_kernel_bound(rpe: Any, lag: Any, num_terms: Any, rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                       gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """Explicit upper bound of ``||1{. = T} - P||_{l1}`` for the built Lemma F.1 / F.4 kernel.

    Valid for every ``H >= 1`` and rate index ``1 <= n <= MAX_RATE_INDEX`` (the minimum
    over the routes that apply at this ``H``; the Lebesgue route always applies).

    Parameters
    ----------
    rpe : str or KernelFamily
        ``"lin"`` (Lemma F.1) or ``"log"`` (Lemma F.4).
    lag : int
        ``T >= 1``.
    num_terms : int
        ``H >= 1``, the number of exponential / power terms (heads).
    rate : int
        The rate index ``n >= 1``.
    alpha, gamma : rational
        The lemma's parameters (default ``1/100``).

    Returns
    -------
    mpmath.mpf
        The bound.

    Raises
    ------
    ValueError
        For ``n`` outside ``1..MAX_RATE_INDEX``, ``T < 1``, ``H < 1``, ``alpha, gamma <= 0``.

    Examples
    --------
    >>> print(f"{float(delta_kernel_bound('log', 3, 256, 1)):.3e}")
    1.687e+03
    """
    routes = delta_kernel_bound_routes(rpe, lag, num_terms, rate, alpha=alpha, gamma=gamma)
    return min(v for v in routes.values() if v is not None)


def best_delta_kernel_bound(rpe: Any, lag: Any, num_terms: Any, *, max_rate: Any = 8,
                            alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> tuple[mpmath.mpf, int]:
    """``min_{1 <= n <= max_rate}`` of :func:`delta_kernel_bound`, and the minimising ``n``."""
    max_rate = require_int("max_rate", max_rate, minimum=1, maximum=MAX_RATE_INDEX)
    best = None
    for r in range(1, max_rate + 1):
        v = delta_kernel_bound(rpe, lag, num_terms, r, alpha=alpha, gamma=gamma)
        if best is None or v < best[0]:
            best = (v, r)
    assert best is not None
    return best
