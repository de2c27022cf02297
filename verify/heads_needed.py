"""How many heads the finite-window Theorem 3.1 construction needs, and what a finite window allows (App. H).

* :func:`heads_needed_bound`: the smallest ``H`` for which the explicit Lemma F.1/F.4 bounds
  (:func:`tfapprox.theory.bounds.delta_kernel_bound`) with the paper's allocation guarantee a
  worst-case error ``<= epsilon``;
* :func:`heads_needed_measured`: the same measured on a grid in ``H`` from the construction's exact
  errors (:func:`tfapprox.verify.experiment_cells.experiment_cell`; the error is not monotone in ``H``);
* :func:`finite_best_found`: the best ``H``-term kernel found by optimisation for one memory on the
  window (slopes of either sign), for comparison.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tfapprox.constructions.delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA
from tfapprox.constructions.finite_window import allocation
from tfapprox.theory.families import kernel_family
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.search import smallest_satisfying
from tfapprox.theory.targets import paper_experiment
from tfapprox.theory.validation import require_choice, require_int

from .essential_error import best_found
from .experiment_cells import EXPERIMENTS, experiment_cell, kernel_bound

__all__ = ["heads_needed_bound", "heads_needed_measured", "finite_best_found"]


def heads_needed_bound(rpe: str, lags: Sequence[int], weight: float, epsilon: float, *, alpha: Any = DEFAULT_ALPHA,
                       gamma: Any = DEFAULT_GAMMA, n_max: int = 8, max_heads: int = 10 ** 15) -> int | None:
    """Smallest ``H`` (to 1 %; bisection in ``H``, assuming the explicit bound decreases in ``H``) such that
    ``weight * sum_k bound_{F.1/F.4}(T_k, H_k, n) <= epsilon`` for some ``n <= n_max`` with the
    paper's allocation; ``None`` if not reached by ``max_heads``.

    >>> heads_needed_bound("lin", (5,), 1.0, 1.0) > 1000
    True
    """
    family = kernel_family(rpe)
    M = len(lags)

    def ok(H: int) -> bool:
        alloc = allocation(family, lags, H, alpha)
        for n in range(1, n_max + 1):
            if weight * sum(kernel_bound(family.name, T, h, n, alpha, gamma) for T, h in zip(lags, alloc)) <= epsilon:
                return True
        return False

    return smallest_satisfying(ok, max(M, 1), factor=4, limit=max(max_heads, M, 1), rel_tol=1e-2)


def _fine_grid(lo: int, hi: int, steps_per_octave: int) -> list[int]:
    """Integers ``round(lo 2^(j / steps))`` in ``(lo, hi]`` (distinct, increasing)."""
    out = []
    j = 1
    while True:
        H = int(round(lo * 2.0 ** (j / steps_per_octave)))
        if H > hi:
            break
        if H > lo and (not out or H > out[-1]):
            out.append(H)
        j += 1
    if not out or out[-1] != hi:
        out.append(hi)
    return out


def heads_needed_measured(name: str, rpe: str, epsilons: Sequence[float] = (1e-1, 1e-2), *, seed: int = 0,
                          ffn_seed: int = 0, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                          max_heads: int = 1 << 24, steps_per_octave: int = 8) -> dict[str, Any]:
    """Heads the construction needs for a worst-case error ``<= epsilon``, measured on a grid in ``H``.

    The FFN is exact (``m`` = the readout's neurons; 2 for a linear readout), so the error is the
    attention's.  ``err(H)`` is the certified upper end of :func:`experiment_cell`'s worst case
    (exact for the linear readout).  The error is *not* monotone in ``H`` (a kernel is identically
    zero until a Chebyshev node enters its bump, then far above 1, see the module docstring), so:
    double ``H`` from ``2^ceil(log2 M)`` until ``err <= min(epsilons)`` and stays so at the next
    doubling (or ``max_heads``); then for each ``epsilon`` take the first doubling point ``H_c`` from
    which every later doubling point meets it and scan the octave ``(H_c/2, H_c]`` at
    ``steps_per_octave`` points: ``heads`` is the smallest grid point from which every grid point up
    to ``H_c`` meets ``epsilon``.  The kernels are the exact interpolants (``realised=False``; the
    realised weights would need about ``0.77 H`` digits).

    Returns ``{"grid": [(H, lower, upper)], "needs": [{epsilon, heads, heads_per_memory, error,
    previous_heads, previous_error_lower, certain}]}`` where ``certain`` says that the grid point
    before ``heads`` certainly fails (its *lower* end exceeds ``epsilon``); ``heads`` is ``None`` if
    ``max_heads`` does not reach ``epsilon``.

    >>> r = heads_needed_measured("H.2.3", "lin", (1.0,), max_heads=1 << 20, steps_per_octave=2)
    >>> (n,) = r["needs"]; n["heads"], n["error"] <= 1.0 < n["previous_error_lower"], n["certain"]
    (370728, True, True)
    """
    ex = paper_experiment(require_choice("name", name, EXPERIMENTS), seed=seed)
    family = kernel_family(rpe)
    target = ex.target
    readout = target.readout
    M = len(target.lags)
    width = 2 if isinstance(readout, LinearReadout) else int(readout.num_neurons)
    eps_list = [float(e) for e in epsilons]
    if not eps_list or any(not (e > 0 and math.isfinite(e)) for e in eps_list):
        raise ValueError(f"epsilons must be finite and > 0, got {list(epsilons)!r}")
    max_heads = require_int("max_heads", max_heads, minimum=max(M, 2))
    steps = require_int("steps_per_octave", steps_per_octave, minimum=1, maximum=64)
    cache: dict[int, tuple[float, float]] = {}

    def err(H: int) -> tuple[float, float]:
        if H not in cache:
            row = experiment_cell(name, H, width, rpe=family, alpha=alpha, gamma=gamma, seed=seed, ffn_seed=ffn_seed,
                                  n_max=1, realised=False)
            cache[H] = (float(row["worst_case_lower"]), float(row["worst_case_upper"]))
        return cache[H]

    coarse = []
    H = 1 << max(1, math.ceil(math.log2(M)))
    target_eps = min(eps_list)
    run = 0
    while True:
        coarse.append(H)
        run = run + 1 if err(H)[1] <= target_eps else 0
        if run >= 2 or H >= max_heads:
            break
        H = min(2 * H, max_heads)
    needs = []
    for eps in eps_list:
        # first coarse point from which every later coarse point meets eps
        ok_from = None
        for i in range(len(coarse) - 1, -1, -1):
            if err(coarse[i])[1] <= eps:
                ok_from = i
            else:
                break
        if ok_from is None:
            needs.append({"epsilon": eps, "heads": None, "heads_per_memory": None, "error": None,
                          "previous_heads": coarse[-1], "previous_error_lower": err(coarse[-1])[0], "certain": False})
            continue
        Hc = coarse[ok_from]
        lo = Hc // 2 if ok_from > 0 else max(M - 1, 1)
        fine = _fine_grid(lo, Hc, steps)
        first = len(fine) - 1
        for i in range(len(fine) - 1, -1, -1):
            if err(fine[i])[1] <= eps:
                first = i
            else:
                break
        Hn = fine[first]
        prev = fine[first - 1] if first > 0 else lo
        prev_lo = err(prev)[0] if prev >= M else math.inf
        needs.append({"epsilon": eps, "heads": Hn,
                      "heads_per_memory": "/".join(map(str, allocation(family, tuple(target.lags), Hn, alpha))),
                      "error": err(Hn)[1], "previous_heads": prev, "previous_error_lower": prev_lo,
                      "certain": bool(prev_lo > eps)})
    grid = [(H, *cache[H]) for H in sorted(cache)]
    return {"experiment": name, "rpe": family.name, "width": width, "grid": grid, "needs": needs,
            "steps_per_octave": steps, "max_heads": max_heads}


# ---------------------------------------------------------------------------------------
# What a finite-length model can use: best-found kernels on the 1000-token window
# ---------------------------------------------------------------------------------------

def finite_best_found(rpe: str, lag: int, heads: int, length: int = 1000, *, from_start: bool = False,
                      seed: int = 0, starts: int = 2, max_evals: int = 10) -> float:
    """Exact l1 error on ``0..length-1`` of the best ``H``-head kernel found for ``1{s = lag}``.

    ``from_start=False``: slopes ``p >= 0`` (the paper's class, ``p in R_+``).  ``from_start=True``:
    slopes ``p <= 0``, which weight the *sequence start*: ``e^{|p| s}`` is ``e^{|p|(L-1)} e^{-|p| s'}`` in the
    distance ``s' = L-1-s`` from the first token, so the memory at lag ``T`` is a memory at distance
    ``L-1-T`` from the start (98 for ``x_99``).  LP-optimal coefficients for searched slopes
    (:func:`tfapprox.verify.essential_error.best_found`), error recomputed exactly on the window.
    """
    family = kernel_family(rpe)
    L = require_int("length", length, minimum=2)
    T = (L - 1 - lag) if from_start else lag
    s = np.arange(family.first_lag, L)
    rho = (s == T).astype(float)
    bf = best_found(family.name, rho, s, require_int("heads", heads, minimum=1), seed=seed, starts=starts,
                    max_evals=max_evals, min_exponent=0.0)
    return float(bf.error)
