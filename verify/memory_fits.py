"""Best-found fits and certified lower bounds of memory kernels, for the checks of
:mod:`tfapprox.verify.checks_essential` (experiments H.2.7 / H.2.8, Insights 4a/4b of Wang & E 2024).

* :func:`finite_lower_bounds`: certified lower bounds (Hankel rank, Eckart-Young) on the error of every
  ``H``-head DP-free model on the H.2.7 / H.2.8 targets;
* :func:`infinite_best_found`: the best ``H``-term fit found of an infinite kernel (LP on log-spaced lags,
  exact l1 error over all lags).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from tfapprox.theory.families import KernelFamily

__all__ = ["finite_lower_bounds", "infinite_best_found"]


def finite_lower_bounds(name: str, matched: KernelFamily, L: int) -> Callable[[KernelFamily, int], dict[str, Any]]:
    """``lower(family, H)``: certified lower bounds on the worst case (l1) and the mean square of any ``H``-head
    DP-free model of the kernel family on the H.2.7 / H.2.8 target (``name``: ``"h2.7"`` or ``"h2.8"``) over
    ``L`` lags (cached per ``(family, H)``); ``matched`` is the family realising the target exactly.

    The matched RPE realises the target exactly: its bound is 0 and the answer (0) is exact.  lin-RPE on
    ``s^-1/2`` (H.2.7): at the last token a head contributes ``c lambda^s`` (any real slope, finite
    normaliser absorbed in ``c``), so the Hankel section on indices ``i, j <= (L - 2)/2`` (log-spaced,
    :func:`tfapprox.theory.lower_bounds.geometric_index`) bounds the l1 error by ``sigma_{H+1}`` and the
    squared error by Eckart-Young.  log-RPE on ``e^{-5 s}`` (H.2.8, lags ``s >= 1``; lag 0 is the residual's):
    on ``s = 2^k`` a head is ``c (2^{-p})^k``; section ``k = i + j``, ``i, j <= 4`` (lags up to 256 < L).
    """
    from fractions import Fraction

    from tfapprox.theory.lower_bounds import (exponential_kernel, geometric_index, mean_square_lower_bound,
                                              power_kernel, sigma_lower_bound)

    cache: dict[tuple[KernelFamily, int], dict[str, Any]] = {}
    if name == "h2.7":
        rho = power_kernel(Fraction(1, 2))
        half = (L - 2) // 2
        reason = "rank: Hankel section of s^-1/2 on log-spaced indices <= (L-2)/2"
    else:
        e5 = exponential_kernel(5)
        half = min(4, int(math.log2(max(L - 1, 1))) // 2)
        rho = lambda k: e5(2 ** k)  # noqa: E731
        reason = "rank on the lags 2^k: Hankel section of e^{-5 2^k}"

    def lower(family: KernelFamily, H: int) -> dict[str, Any]:
        if (family, H) in cache:
            return cache[(family, H)]
        if family == matched:
            out = {"lower_bound": 0.0, "lower_bound_mse": 0.0,
                   "lower_bound_reason": "matched RPE: error 0 is attained (exact)"}
        else:
            # about H + 24 indices (at most 72): 0..31 dense, the rest log-spaced up to (L - 2)/2
            idx = (geometric_index(min(32, half + 1), half, max(8, min(H + 24, 72) - 32))
                   if name == "h2.7" else tuple(range(half + 1)))
            if H + 1 > len(idx):
                out = {"lower_bound": 0.0, "lower_bound_mse": 0.0,
                       "lower_bound_reason": f"H >= section size {len(idx)}: no rank bound"}
            else:
                out = {"lower_bound": sigma_lower_bound(rho, H + 1, idx),
                       "lower_bound_mse": mean_square_lower_bound(rho, H, idx, extra=2),
                       "lower_bound_reason": f"{reason} ({len(idx)} indices)"}
        cache[(family, H)] = out
        return out

    return lower


def infinite_best_found(family: KernelFamily, rho_kernel: Any, H: int, seed: int, starts: int, max_evals: int,
                   S: int = 1 << 16) -> Any:
    """Best-found H-term fit of an infinite kernel: LP on log-spaced lags (weights = spacing),
    exact l1 over lags < S by direct sum plus closed-form tails."""
    from .essential_error import best_found, kernel_l1_error

    grid = np.unique(np.concatenate([np.arange(0, 64), np.round(np.geomspace(64, S - 1, 400)).astype(int)]))
    rpe = family.name
    grid = grid[grid >= family.first_lag]
    wts = np.diff(np.concatenate([grid, [S]])).astype(float)
    rho_g = np.asarray(rho_kernel.values(grid), dtype=float)
    full = np.arange(family.first_lag, S)
    rho_full = np.asarray(rho_kernel.values(full), dtype=float)
    rho_tail = float(rho_kernel.abs_tail_bound(S))

    def err(p: np.ndarray, c: np.ndarray) -> tuple[float, float]:
        return kernel_l1_error(rho_full, rpe, p, c, full, rho_tail=rho_tail, tail_start=S)

    lo_exp = float(family.weight_offset)  # the family's terms are summable for exponents above it (0 / 1)
    return best_found(rpe, rho_g, grid, H, weights=wts, seed=seed, starts=starts, max_evals=max_evals,
                      min_exponent=lo_exp, error_fn=err)
