"""Checks for nested memories: Theorem 4.4 and Proposition 4.5.

* ``thm4.4``: a ``(K, M)`` nested chain on ``{-1, 1}`` (:func:`nested_chain`); for each ``H`` the
  certified per-layer errors (exact Lemma F.2/F.5 kernel errors, (E3)), the certified rounding
  condition (positions exact on *every* input), the certified output error against the explicit
  bound; at ``--enumerate-heads`` the model runs in mpmath on every window of length ``max T + 1``
  with every padding symbol: positions (E1), untouched blocks (E2), measured block errors (E3),
  enumerated output error.
* ``prop4.5``: a 3-memory warm-up target; heads and width needed for ``--eps`` by the 2-layer
  (Thm 4.1) and the ``(M+1)``-layer (Prop. 4.5) constructions, from the explicit bounds and from
  the certified (measured) errors, side by side, with App. D.2's prediction (corrected reading,
  Differences from the paper, D8).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tfapprox.constructions.delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA
from tfapprox.theory.families import LIN, LOG, family_names, kernel_family
from tfapprox.theory.search import smallest_satisfying
from tfapprox.theory.validation import require_int

from .check_config import CheckConfig, option
from .plotting import plot_sweep
from .registry import CheckResult, register, typed_check

__all__ = ["THM44", "PROP45", "nested_chain", "prop45_target", "Thm44Config", "Prop45Config"]


def nested_chain(K: int, M: int, *, max_lag: int = 2, seed: int = 0, full_reads: bool = False) -> Any:
    """A seeded nested chain in H^Adap_(K,M) on the alphabet ``{-1, 1}``, every ``T_l = max_lag``.

    ``full_reads=False``: pointer-chasing style, ``g_1`` reads ``x_t``, ``g_l`` (``2 <= l <= K``) reads
    ``x_{t-t_{l-1}}``, ``g_l`` (``l > K``) reads ``x_{t-t_K}``.  ``full_reads=True``: every token eq. (8)
    allows.  Tables are drawn with ``seed`` and take both values ``1`` and ``max_lag`` (when
    ``max_lag > 1``).  Readout: the mean of the memory tokens, ``f = (1/M) sum_l x_{t-t_l}``.

    >>> t = nested_chain(2, 3)
    >>> t.paper_class, t.max_lags, [g.reads for g in t.memory_functions]
    ('H^Adap_(2,3)', (2, 2, 2), [(0,), (1,), (2,)])
    """
    import itertools

    import sympy

    from tfapprox.theory.readouts import LinearReadout
    from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction

    K = require_int("K", K, minimum=1)
    M = require_int("M", M, minimum=K)
    T = require_int("max_lag", max_lag, minimum=1, maximum=8)
    rng = np.random.default_rng(require_int("seed", seed, minimum=0))
    gs = []
    for l in range(1, M + 1):
        if full_reads:
            reads = tuple(range(min(l - 1, K) + 1))
        else:
            reads = (min(l - 1, K),)
        keys = list(itertools.product((-1, 1), repeat=len(reads)))
        vals = rng.integers(1, T + 1, size=len(keys))
        if T > 1 and len(set(vals.tolist())) < 2:
            vals[0], vals[-1] = 1, T
        gs.append(TableMemoryFunction((-1, 1), {k: int(v) for k, v in zip(keys, vals)}, reads=reads))
    w = [0] + [sympy.Rational(1, M)] * M
    return AdaptiveMemoryTarget(gs, (T,) * M, K, LinearReadout(w))


#: ``thm4.4`` with ``--heads auto`` / ``--enumerate-heads auto``: the sizes per kernel family.
_AUTO_HEADS = {LIN: (64, 128, 256), LOG: (128, 256)}
_AUTO_ENUMERATE = {LIN: 64, LOG: 128}


@dataclass(frozen=True)
class Thm44Config(CheckConfig):
    """Options of ``thm4.4`` (Theorem 4.4, App. D.1: nested memories)."""

    K: int = option(2, "nesting K of the target (and of the layer schedule)", minimum=1)
    M: int = option(3, "number of memories M >= K", minimum=1)
    rpe: str = option(LIN.name, "RPE type", choices=family_names)
    heads: tuple[int, ...] | None = option(None, "comma-separated H per layer (auto: lin 64,128,256; log 128,256)",
                                           minimum=1, increasing=True, auto="auto")
    enumerate_heads: int | None = option(None, "run the model on every enumerated input at this H "
                                               "(auto: lin 64, log 128; 0: never)", minimum=0, auto="auto")
    max_lag: int = option(2, "T_l of every memory", minimum=1, maximum=8)
    seed: int = option(0, "seed of the chain's tables", minimum=0)
    full_reads: bool = option(False, "g_l reads every token eq. (8) allows")
    n: int = option(2, "rate index n of the explicit bound", minimum=1, maximum=20)


@dataclass(frozen=True)
class Prop45Config(CheckConfig):
    """Options of ``prop4.5`` (Proposition 4.5 / App. D.2: heads and width needed for eps)."""

    rpe: str = option(LIN.name, "RPE type", choices=family_names)
    eps: float = option(1e-2, "target accuracy epsilon", positive=True, maximum=1.0)
    grid: tuple[int, ...] = option((64, 128, 192, 256, 384, 512, 768, 1024),
                                   "heads per layer tried for the (M+1)-layer network; the 2-layer network tries "
                                   "M times these", minimum=1, increasing=True)
    max_rate: int = option(6, "the bound uses the best rate index n in 1..max-rate", minimum=1, maximum=20)


def _thm44_run(o: Thm44Config, progress: Callable[[int, int, str], None]) -> CheckResult:
    from tfapprox.constructions.thm4_4 import build_thm4_4
    from tfapprox.theory.bounds import thm4_4_attention_bound, thm4_4_head_condition, thm4_4_paper_form

    from .nested_error import measure_thm4_4

    family = kernel_family(o.rpe)
    rpe = family.name
    heads = list(_AUTO_HEADS[family] if o.heads is None else o.heads)
    enum_h = _AUTO_ENUMERATE[family] if o.enumerate_heads is None else o.enumerate_heads
    if enum_h and enum_h not in heads:
        heads = sorted(set(heads) | {enum_h})
    target = nested_chain(o.K, o.M, max_lag=o.max_lag, seed=o.seed, full_reads=bool(o.full_reads))
    n = o.n
    rows, passed, certified_rows = [], True, 0
    for i, H in enumerate(heads):
        progress(i, len(heads), f"H={H}")
        t0 = time.perf_counter()
        cons = build_thm4_4(target, H, rpe=rpe)
        run = H == enum_h
        meas = measure_thm4_4(cons, run_model=run)
        lip = meas.lipschitz
        bound = float(thm4_4_attention_bound(rpe, target.max_lags, cons.heads_per_memory, cons.layers_K, n)) * lip
        paper = float(thm4_4_paper_form(rpe, target.max_lags, H, cons.layers_K, n)) * lip
        cond = thm4_4_head_condition(rpe, target.max_lags, cons.heads_per_memory, cons.layers_K,
                                     [p.reads for p in cons.position_ffns], [p.lipschitz for p in cons.position_ffns], n)
        ok: bool | None
        if meas.positions_certified:
            certified_rows += 1
            ok = meas.total_upper <= bound
            if run:
                ok = ok and bool(meas.positions_exact) and meas.untouched_violations == 0 \
                    and meas.enumerated_max <= meas.total_upper \
                    and all(a <= b for a, b in zip(meas.block_error_measured, meas.block_error_upper))
            passed &= ok
        else:
            ok = None  # premise of the theorem (head-count condition) not met: nothing is claimed
        rows.append({"H": H, "L": cons.num_layers, "heads_per_memory": "/".join(map(str, cons.heads_per_memory)),
                     "error": meas.total_upper, "bound": bound, "paper_form": paper,
                     "block_error_upper": list(meas.block_error_upper),
                     "cumulative_upper": [v for v in meas.cumulative_upper if not math.isnan(v)],
                     "rounding_slack": min(meas.rounding_slack),
                     "positions_certified": meas.positions_certified,
                     "explicit_head_condition_met": all(c["met"] for c in cond),
                     "enumerated_max": meas.enumerated_max if run else None,
                     "block_error_measured": list(meas.block_error_measured) if run else None,
                     "positions_exact": meas.positions_exact if run else None,
                     "untouched_violations": meas.untouched_violations if run else None,
                     "inputs": meas.windows * len(meas.pads) if run else 0,
                     "digits": meas.dps, "within_bound": ok, "seconds": time.perf_counter() - t0})
    progress(len(heads), len(heads), "done")
    passed = bool(passed and certified_rows > 0)
    return CheckResult(
        check="thm4.4", passed=passed, rows=rows, fit={},
        columns=[("H", "H", "d"), ("L", "L", "d"), ("heads_per_memory", "H_l", ""),
                 ("error", "certified error", ".3e"), ("bound", "bound", ".3e"),
                 ("rounding_slack", "min slack", ".3f"), ("positions_certified", "pos. certified", ""),
                 ("enumerated_max", "enumerated max", ".3e"), ("inputs", "inputs", "d"),
                 ("positions_exact", "pos. exact", ""), ("untouched_violations", "(E2) viol.", ""),
                 ("within_bound", "ok", ""), ("seconds", "s", ".2f")],
        notes=["'certified error' = Lip(f) sqrt(sum_l E_l^2), E_l = max over shifts of the exact (enclosed) "
               "Lemma F.2/F.5 l1 error of memory l's kernel: an upper bound of sup |H_t - TF_t| when positions are "
               "exact.",
               "'min slack' = min_l (margin_l - accuracy_l - Lip(g_l FFN) sqrt(sum_{j read} E_j^2)); > 0 certifies "
               "exact rounding of every t_l on every input (the proof's head-count condition, certified form).",
               "'bound' = Lip(f) sqrt(sum_{l<=K} B_l^2 + (sum_{l>K} B_l)^2), B_l the explicit Lemma F.2/F.5 bound "
               "at rate index n (App. D.1 (E3)).",
               "'enumerated max' = exact max |H_t - TF_t| over every window of length max T + 1 over {-1,1} after "
               "each constant padding symbol, all times, mpmath: a lower bound of the sup. 'pos. exact': (E1) every "
               "t_l read back exactly from the hidden states; '(E2) viol.': later layers changed an earlier block "
               "or position (must be 0).",
               "Rows with 'ok' = None do not meet the head-count condition (premise of Thm 4.4): nothing is claimed."],
        parameters={"K": o.K, "M": o.M, "rpe": rpe, "n": n, "max_lag": o.max_lag, "seed": o.seed,
                    "target": target.to_dict(), "enumerate_heads": enum_h},
        plot=lambda path: plot_sweep([dict(r, group=f"L={r['L']}") for r in rows], "group", path,
                                      f"Theorem 4.4, K={o.K}, M={o.M}, {rpe}-RPE"))


THM44 = register(typed_check(
    "thm4.4", "Theorem 4.4: (K+1+1{M>=K+1})-layer Transformer for nested memories; per-layer certified errors, "
              "exact positions, enumerated worst case against the bound",
    Thm44Config, _thm44_run,
    defaults=({"K": 2, "M": 3, "rpe": LIN.name, "heads": (64, 128, 256), "enumerate_heads": 64},
              {"K": 2, "M": 2, "rpe": LIN.name, "heads": (64, 128, 256), "enumerate_heads": 0},
              {"K": 2, "M": 3, "rpe": LOG.name, "heads": (128, 256), "enumerate_heads": 0}),
    has_plot=True))
"""The ``thm4.4`` check (Theorem 4.4, App. D.1)."""


# ----------------------------------------------------------------------- Proposition 4.5
def prop45_target() -> Any:
    """The default 3-memory warm-up target of ``prop4.5``: tables on ``{-1, 0, 1}``, ``T = (2, 2, 2)``,
    ``f = (x_{t-t_1} + x_{t-t_2} + x_{t-t_3}) / 3``."""
    import sympy

    from tfapprox.theory.readouts import LinearReadout
    from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction

    a = (-1, 0, 1)
    g1 = TableMemoryFunction(a, {-1: 1, 0: 2, 1: 1})
    g2 = TableMemoryFunction(a, {-1: 2, 0: 1, 1: 2})
    g3 = TableMemoryFunction(a, {-1: 1, 0: 1, 1: 2})
    third = sympy.Rational(1, 3)
    return AdaptiveMemoryTarget.warm_up((g1, g2, g3), (2, 2, 2), LinearReadout([0, third, third, third]))


def _min_heads_bound(fn: Callable[[int], float], eps: float, start: int = 1, limit: int = 10 ** 12) -> int | None:
    """Smallest integer H >= start with fn(H) <= eps (fn eventually decreasing): doubling then bisection."""
    return smallest_satisfying(lambda H: fn(H) <= eps, max(start, 1), factor=2, limit=limit)


def _prop45_run(o: Prop45Config, progress: Callable[[int, int, str], None]) -> CheckResult:
    import mpmath

    from tfapprox.constructions.lemma_f2_f5 import shifted_delta_kernel
    from tfapprox.constructions.thm3_1 import allocate_heads
    from tfapprox.constructions.thm4_1 import build_thm4_1
    from tfapprox.constructions.thm4_4 import build_prop4_5
    from tfapprox.theory.bounds import app_d2_head_ratio, lemma_f2_f5_bound

    from .adaptive_error import shifted_kernel_errors

    family = kernel_family(o.rpe)
    rpe = family.name
    eps = o.eps
    if not 0 < eps < 1:
        raise ValueError(f"eps must lie in (0, 1), got {eps}")
    grid = list(o.grid)
    max_rate = o.max_rate
    target = prop45_target()
    M = target.memory_count
    lags = target.max_lags
    lip = float(target.readout.lipschitz)
    # the constructions' head allocation (Thm 3.1 proof): exp((alpha + o) x(T)) at the default alpha = 1/100
    # of the delta kernels (constructions.delta_kernels.DEFAULT_ALPHA), i.e. e^{0.01 T} / T^{1.01}
    alpha = float(DEFAULT_ALPHA)
    weights = [family.allocation_weight_mp(alpha, T) for T in lags]

    # ---- widths: the constructions' own FFNs (exact interpolation) and the smallest accepted width
    def min_width(build: Callable[[int | None], Any], exact: int) -> int:
        m = exact
        while m > 1:
            try:
                build(m - 1)
            except ValueError:
                break
            m -= 1
        return m

    two_exact = build_thm4_1(target, M, rpe=rpe).spec.blocks[0].ffn.width
    deep_small = build_prop4_5(target, 1, rpe=rpe)
    deep_exact = max(b.ffn.width for b in deep_small.spec.blocks[:-1])
    two_min = min_width(lambda m: build_thm4_1(target, M, m, rpe=rpe), two_exact)
    deep_min = min_width(lambda m: build_prop4_5(target, 1, m, rpe=rpe), deep_exact)

    # ---- heads from the explicit bounds (best rate index n)
    def two_bound(H: int) -> float:
        if H < M:
            return math.inf
        alloc, _ = allocate_heads(weights, H)
        best = math.inf
        for n in range(1, max_rate + 1):
            s = sum(float(lemma_f2_f5_bound(rpe, T, h, n)) for T, h in zip(lags, alloc))
            best = min(best, s)
        return lip * best

    def deep_bound(H: int) -> float:
        best = math.inf
        for n in range(1, max_rate + 1):
            s = math.sqrt(sum(float(lemma_f2_f5_bound(rpe, T, H, n)) ** 2 for T in lags))
            best = min(best, s)
        return lip * best

    progress(0, 4, "bounds")
    H2_bound = _min_heads_bound(two_bound, eps, start=M)
    Hd_bound = _min_heads_bound(deep_bound, eps)

    # ---- heads from the certified errors of the constructions' kernels (exact kernel l1 errors)
    cache: dict[tuple[int, int], float] = {}

    def E(T: int, h: int) -> float:
        if (T, h) not in cache:
            cache[(T, h)] = shifted_kernel_errors(shifted_delta_kernel(rpe, T, h)).upper
        return cache[(T, h)]

    def two_err(H: int) -> tuple[float, tuple[int, ...]]:
        alloc, _ = allocate_heads(weights, H)
        return lip * math.sqrt(sum(E(T, h) ** 2 for T, h in zip(lags, alloc))), alloc

    def deep_err(H: int) -> float:
        return lip * math.sqrt(sum(E(T, H) ** 2 for T in lags))

    progress(1, 4, "(M+1)-layer")
    sweep = []
    Hd_meas = None
    for h in grid:
        e = deep_err(h)
        sweep.append({"construction": f"{M + 1}-layer (Prop. 4.5)", "H": h, "error": e, "bound": deep_bound(h)})
        if e <= eps:
            Hd_meas = h
            break
    progress(2, 4, "2-layer")
    H2_meas = None
    for h in grid:
        H = M * h
        e, alloc = two_err(H)
        sweep.append({"construction": "2-layer (Thm 4.1)", "H": H, "error": e, "bound": two_bound(H),
                      "heads_per_memory": list(alloc)})
        if e <= eps:
            H2_meas = H
            break
    progress(3, 4, "prediction")
    pred_forms = {}
    for n in (1, 2):
        with mpmath.workdps(30):
            # App. D.2 with the paper's alpha = gamma = 1/100 (constructions.delta_kernels defaults): the
            # 2-layer form (sum_i exp((alpha + o) x(T_i)))^{n+1}, the (M+1)-layer one sqrt(sum_l E(T_l)^2)
            # with E(T) = exp((gamma + o + n (alpha + o)) x(T)) (e^{0.01 T}, e^{0.02 (n+1) T} for lin)
            a, g = mpmath.mpf(DEFAULT_ALPHA.p) / DEFAULT_ALPHA.q, mpmath.mpf(DEFAULT_GAMMA.p) / DEFAULT_GAMMA.q
            two_form_over_C = mpmath.fsum(family.allocation_weight_mp(a, T) for T in lags) ** (n + 1)
            deep_over_C = mpmath.sqrt(mpmath.fsum(family.growth_mp(n, a, g, T) ** 2 for T in lags))
            pred_forms[n] = float((deep_over_C / two_form_over_C) ** (mpmath.mpf(1) / n))
    d2 = {n: float(app_d2_head_ratio(rpe, lags, n)) for n in (1, 2)}

    def ratio(a: int | None, b: int | None) -> float | None:
        return None if a is None or b is None else a / b

    rows = [
        {"construction": "2-layer (Thm 4.1)", "layers": 2, "heads_needed_bound": H2_bound,
         "heads_needed_measured": H2_meas, "total_heads_measured": H2_meas,
         "width_needed_bound": two_exact, "width_needed_measured": two_min,
         "error": two_err(H2_meas)[0] if H2_meas else None,
         "bound": two_bound(H2_meas) if H2_meas else None, "best_found": None},
        {"construction": f"{M + 1}-layer (Prop. 4.5)", "layers": M + 1, "heads_needed_bound": Hd_bound,
         "heads_needed_measured": Hd_meas, "total_heads_measured": Hd_meas * M if Hd_meas else None,
         "width_needed_bound": deep_exact, "width_needed_measured": deep_min,
         "error": deep_err(Hd_meas) if Hd_meas else None,
         "bound": deep_bound(Hd_meas) if Hd_meas else None, "best_found": None},
    ]
    fewer = (Hd_meas is not None and H2_meas is not None and Hd_meas < H2_meas
             and Hd_bound is not None and H2_bound is not None and Hd_bound < H2_bound)
    narrower = deep_min <= two_min and deep_exact <= two_exact
    passed = bool(fewer and narrower)
    progress(4, 4, "done")
    return CheckResult(
        check="prop4.5", passed=passed, rows=rows,
        fit={"head_ratio_measured": ratio(Hd_meas, H2_meas), "head_ratio_bound": ratio(Hd_bound, H2_bound),
             "head_ratio_paper_forms": pred_forms, "head_ratio_app_d2_formula": d2,
             "width_ratio_measured": deep_min / two_min, "deeper_needs_fewer_heads_per_layer": fewer,
             "deeper_needs_less_width": narrower},
        columns=[("construction", "construction", ""), ("layers", "L", "d"),
                 ("heads_needed_bound", "H needed (bound)", ""), ("heads_needed_measured", "H needed (measured)", ""),
                 ("total_heads_measured", "total heads", ""),
                 ("width_needed_bound", "m (construction)", ""), ("width_needed_measured", "m (smallest accepted)", ""),
                 ("error", "certified error", ".3e"), ("bound", "bound", ".3e")],
        notes=[f"eps = {eps}; target: 3 warm-up memories on {{-1,0,1}}, T = {lags}, f = mean of the memories "
               f"(Lip {lip:.4f}).",
               "H = heads per attention layer (the class TF_(L,H,m)); the 2-layer network splits its H over the M "
               "memories (largest remainder), the (M+1)-layer one uses all H on one memory per layer. 'total heads' "
               "counts all attention layers.",
               "'H needed (bound)': smallest H whose explicit bound (Lemma F.2/F.5 bounds, best n <= max-rate; "
               "2-layer: Lip(f) sum_k B_k as Thm 4.1, (M+1)-layer: Lip(f) sqrt(sum_l B_l^2) as (E3)) is <= eps "
               "(bisection; exact).",
               "'H needed (measured)': smallest H of the grid whose certified error Lip(f) sqrt(sum E_k^2) (exact "
               "kernel l1 errors) is <= eps (grid search: kernel errors are not monotone in H).",
               "'m (construction)': the construction's exact-interpolation width of the position FFN(s); "
               "'m (smallest accepted)': smallest width whose greedy interpolant still meets the rounding "
               "threshold (the construction refuses smaller ones). The (M+1)-layer value is the max over layers.",
               "Prediction (App. D.2, corrected reading, docs/differences.md D8): the 2-layer network needs "
               "(sum_i e^{0.01 T_i})^{n+1} / H^n, the (M+1)-layer one sqrt(sum_l e^{0.02 (n+1) T_l}) / H^n; "
               "'head_ratio_paper_forms' is the ratio of H needed from these forms, 'head_ratio_app_d2_formula' "
               "the printed formula (sum b^2/(sum b)^2)^{1/(2n)} with b_i = e^{0.01 (n+1) T_i}."],
        parameters={"rpe": rpe, "eps": eps, "grid": grid, "max_rate": max_rate, "target": target.to_dict(),
                    "sweep": sweep},
        plot=lambda path: plot_sweep(sweep, "construction", path,
                                      f"Proposition 4.5, {rpe}-RPE: H per attention layer until eps = {float(eps):g}",
                                      label=lambda k: k, measured="certified error"))


PROP45 = register(typed_check(
    "prop4.5", "Proposition 4.5 / App. D.2: heads and width needed for eps by the 2-layer and the (M+1)-layer "
               "constructions, from the explicit bounds and from certified errors",
    Prop45Config, _prop45_run, defaults=({},), has_plot=True))
"""The ``prop4.5`` check (Proposition 4.5 / App. D.2)."""
