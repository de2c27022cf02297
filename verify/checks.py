"""Built-in checks of the registry: Lemma F.1, Lemma F.4 and Theorem 3.1.

Each row carries ``error`` (certified measured error: the upper end of an exact
enclosure) and ``bound`` (the explicit bound of :mod:`tfapprox.theory.bounds` at the
best rate index ``n`` in ``1..n_max``; every ``n`` is checked and listed in
``bounds_by_n``).  A check passes when every row has ``error <= bound`` for every ``n``
and the fitted order over the last sweep points is at least ``--min-order``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from tfapprox.theory.families import LIN, LOG, KernelFamily, family_names

from .check_config import CheckConfig, option
from .plotting import plot_sweep
from .rates import fit_rate
from .registry import CheckResult, register, typed_check

__all__ = ["THM31", "LEMMA_F1", "LEMMA_F4", "LemmaConfig", "LemmaF1Config", "LemmaF4Config", "Thm31Config"]

_PREDICTED = "O(C(n) H^-n) for every rate index n (faster than any power of H)"


@dataclass(frozen=True)
class LemmaConfig(CheckConfig):
    """Options shared by ``lemma-f1``, ``lemma-f4`` and ``thm3.1`` (Lemmas F.1/F.4, Theorem 3.1)."""

    heads: tuple[int, ...] = option((16, 32, 64, 128, 256, 512, 1024), "comma-separated head counts H (increasing)",
                                    minimum=1, increasing=True)
    lags: tuple[int, ...] = option((1, 5, 20), "comma-separated lags T", minimum=1)
    alpha: str = option("0.01", "alpha of Lemma F.1/F.4 (0.01 is the paper's)", decimal=True, positive=True)
    gamma: str = option("0.01", "gamma of Lemma F.1/F.4 (0.01 is the paper's)", decimal=True, positive=True)
    n_max: int = option(4, "check the explicit bound for every n in 1..N", minimum=1, maximum=30)
    min_order: float = option(1.0, "smallest acceptable fitted order over the last --window points")
    window: int = option(3, "points in the asymptotic window of the fit", minimum=2)


@dataclass(frozen=True)
class LemmaF1Config(LemmaConfig):
    """Options of ``lemma-f1`` (Lemma F.1, lin-RPE delta kernels)."""


@dataclass(frozen=True)
class LemmaF4Config(LemmaConfig):
    """Options of ``lemma-f4`` (Lemma F.4, log-RPE delta kernels)."""

    lags: tuple[int, ...] = option((1, 3, 8), "comma-separated lags T", minimum=1)


@dataclass(frozen=True)
class Thm31Config(LemmaConfig):
    """Options of ``thm3.1`` (Theorem 3.1, App. B.1: fixed sparse memories)."""

    heads: tuple[int, ...] = option((32, 64, 128, 256, 512, 1024), "comma-separated head counts H (increasing)",
                                    minimum=1, increasing=True)
    rpe: str = option(LIN.name, "RPE type", choices=family_names)
    width: int | None = option(None, "FFN width m (None: the exact readout's width)", minimum=1)
    readout: str = option("sum", "target readout f", choices=("sum", "gaussian"))
    readout_neurons: int = option(64, "neurons of the gaussian readout", minimum=1)
    seed: int = option(0, "seed of the gaussian readout / FFN sampling", minimum=0)


def _bounds(family: KernelFamily, lag: int, H: int, n_max: int, alpha: Any, gamma: Any) -> dict[int, float]:
    from tfapprox.theory.bounds import delta_kernel_bound

    return {n: float(delta_kernel_bound(family.name, lag, H, n, alpha=alpha, gamma=gamma))
            for n in range(1, n_max + 1)}


# ------------------------------------------------------------------ Lemma F.1 / F.4
def _lemma_check(family: KernelFamily, config: type[LemmaConfig]) -> Any:
    lemma = family.delta_lemma
    name = "lemma-" + lemma.lower().replace(".", "")
    rpe = family.name
    summary = (f"Lemma {lemma}: exact l1 error of the {family.sum_kind}-sum "
               f"approximation of the delta at lag T against the explicit bound, and its rate in H")

    def run(o: LemmaConfig, progress: Callable[[int, int, str], None]) -> CheckResult:
        from tfapprox.constructions.delta_kernels import delta_kernel
        from tfapprox.verify.kernel_error import delta_kernel_l1_error

        heads, lags, n_max = list(o.heads), list(o.lags), o.n_max
        rows: list[dict[str, Any]] = []
        fits = {}
        passed = True
        total = len(heads) * len(lags)
        for j, T in enumerate(lags):
            errors = []
            for i, H in enumerate(heads):
                progress(j * len(heads) + i, total, f"T={T} H={H}")
                t0 = time.perf_counter()
                kern = delta_kernel(rpe, T, H, alpha=o.alpha, gamma=o.gamma)
                encl = delta_kernel_l1_error(kern)
                bounds = _bounds(family, T, H, n_max, o.alpha, o.gamma)
                best_n = min(bounds, key=bounds.get)
                ok = all(encl.upper <= b for b in bounds.values())
                passed &= ok
                errors.append(encl.upper)
                rows.append({"T": T, "H": H, "error": encl.upper, "error_lower": encl.lower,
                             "relative_width": (encl.upper - encl.lower) / encl.upper if encl.upper > 0 else 0.0,
                             "bound": bounds[best_n], "bound_n": best_n,
                             "bounds_by_n": {str(n): b for n, b in bounds.items()},
                             "delta_at_T": float(kern.evaluate([T])[0]),
                             "max_coefficient": max(abs(c) for c in kern.coefficients),
                             "digits": kern.digits_needed(1e-12), "within_bound": ok,
                             "seconds": time.perf_counter() - t0})
            fit = fit_rate(heads, errors, parameter="H", predicted=_PREDICTED, min_order=o.min_order,
                           window=o.window)
            passed &= fit["passed"]
            fits[f"T={T}"] = fit
        progress(total, total, "done")
        return CheckResult(
            check=name, passed=passed, rows=rows, fit=fits,
            columns=[("T", "T", "d"), ("H", "H", "d"), ("error", "exact l1 error", ".3e"),
                     ("relative_width", "rel. width", ".1e"), ("bound", "explicit bound", ".3e"), ("bound_n", "n", "d"),
                     ("max_coefficient", "max |a_k|", ".2e"), ("digits", "digits", "d"),
                     ("within_bound", "ok", ""), ("seconds", "s", ".2f")],
            notes=["'exact l1 error' is the upper end of a rigorous enclosure of sum_s |1{s=T} - P(s)|, the exact "
                   "worst-case attention error for inputs with ||x_t|| <= 1; 'rel. width' is the enclosure's "
                   "relative width (tiny for the paper's alpha = gamma; for log-RPE with gamma/alpha not an "
                   "integer it can be wide, and the upper end is then only an upper bound).",
                   "'explicit bound' is the analytic upper bound of theory.bounds at the best n in 1..n_max "
                   "(every n is checked).",
                   "'digits' is the number of decimal digits the realised weights need for 1e-12 accuracy."],
            parameters={"rpe": rpe, "alpha": o.alpha, "gamma": o.gamma, "n_max": n_max},
            plot=lambda path: plot_sweep(rows, "T", path, f"Lemma {lemma} ({rpe}-RPE)"))

    return typed_check(name, summary, config, run, defaults=({},), has_plot=True)


def _thm31_run(o: Thm31Config, progress: Callable[[int, int, str], None]) -> CheckResult:
    from tfapprox.constructions.thm3_1 import build_thm3_1
    from tfapprox.theory.bounds import thm3_1_attention_bound
    from tfapprox.theory.targets import fixed_memory_target

    from .fixed_memory_error import measure_thm3_1

    heads, lags, n_max = list(o.heads), list(o.lags), o.n_max
    target = fixed_memory_target(lags, o.readout, o.readout_neurons, o.seed)
    if heads[0] < len(lags):
        raise ValueError(f"H (number of heads) must be >= M = {len(lags)} (one head group per memory), "
                         f"got {heads[0]}")
    rows: list[dict[str, Any]] = []
    passed = True
    errors = []
    for i, H in enumerate(heads):
        progress(i, len(heads), f"H={H}")
        t0 = time.perf_counter()
        cons = build_thm3_1(target, H, o.width, rpe=o.rpe, alpha=o.alpha, gamma=o.gamma, seed=o.seed)
        meas = measure_thm3_1(cons)
        bounds = {n: float(thm3_1_attention_bound(o.rpe, lags, cons.heads_per_memory, n,
                                                    alpha=o.alpha, gamma=o.gamma)) for n in range(1, n_max + 1)}
        best_n = min(bounds, key=bounds.get)
        ok = all(meas.attention_upper <= b for b in bounds.values())
        total_bound = meas.lipschitz * bounds[best_n] + meas.ffn_upper
        ok &= meas.total_upper <= total_bound * (1 + 1e-12)
        passed &= ok
        errors.append(meas.attention_upper)
        rows.append({
            "H": H, "heads_per_memory": "/".join(map(str, cons.heads_per_memory)),
            "error": meas.attention_upper, "error_lower": meas.attention_lower,
            "per_memory_error": [e.upper for e in meas.per_memory],
            "bound": bounds[best_n], "bound_n": best_n, "bounds_by_n": {str(n): b for n, b in bounds.items()},
            "total_error_lower": meas.total_lower, "total_error_upper": meas.total_upper,
            "total_error_exact": meas.total_exact, "total_bound": total_bound,
            "ffn_exact": cons.ffn_exact, "ffn_error_upper": meas.ffn_upper,
            "digits": meas.digits_needed, "within_bound": ok, "seconds": time.perf_counter() - t0})
    progress(len(heads), len(heads), "done")
    fit = fit_rate(heads, errors, parameter="H", predicted=_PREDICTED, min_order=o.min_order, window=o.window)
    passed &= fit["passed"]
    notes = [
        "'attn error' = sup ||x^(1/2)_t - (x_t, x_{t-T_1}, ...)||_2, upper end: sqrt(sum_k E_k^2) with E_k the exact "
        "l1 kernel errors (enclosures); its lower end max_k E_k is attained by a sign-pattern input.",
        "'bound' = the explicit E_Attn bound (sum over memories of the Lemma bounds for the heads actually "
        "allocated) at the best n in 1..n_max; every n is checked.",
        "'total' = sup |H_t - TF_t|: 'total low' is the worst input found (a lower bound), 'total up' an analytic "
        "upper bound (Lip(f) * attn + E_FFN, or for a linear readout the triangle inequality, or with lin-RPE the "
        "sign-pattern value plus its rigorous tail: then the pair encloses the exact value, column 'exact').",
        "'digits' = decimal digits the realised weights need for 1e-12 accuracy (float64 has 16).",
    ]
    return CheckResult(
        check="thm3.1", passed=passed, rows=rows, fit={"H": fit},
        columns=[("H", "H", "d"), ("heads_per_memory", "H_k", ""), ("error", "attn error", ".3e"),
                 ("bound", "bound", ".3e"), ("bound_n", "n", "d"), ("total_error_lower", "total low", ".3e"),
                 ("total_error_upper", "total up", ".3e"), ("total_error_exact", "exact", ""),
                 ("digits", "digits", "d"),
                 ("within_bound", "ok", ""), ("seconds", "s", ".2f")],
        notes=notes,
        parameters={"rpe": o.rpe, "lags": lags, "alpha": o.alpha, "gamma": o.gamma, "readout": o.readout,
                    "n_max": n_max},
        plot=lambda path: plot_sweep(
            [dict(r, group="all") for r in rows], "group", path,
            f"Theorem 3.1, {o.rpe}-RPE, memories at lags {', '.join(map(str, lags))}",
            measured="attention error, all memories (upper end)",
            extra=[(f"memory T={T} (H_k heads): exact l1 kernel error", [r["H"] for r in rows],
                    [r["per_memory_error"][k] for r in rows], ":") for k, T in enumerate(lags)]))


THM31 = register(typed_check(
    "thm3.1", "Theorem 3.1: one-layer DP-free Transformer for fixed sparse memories; exact worst-case "
              "attention error against the explicit bound, and the rate in H",
    Thm31Config, _thm31_run,
    defaults=({"rpe": LIN.name, "lags": (1, 5, 20), "heads": (32, 64, 128, 256, 512, 1024)},
              {"rpe": LOG.name, "lags": (1, 3, 8), "heads": (32, 64, 128, 256, 512, 1024)}),
    has_plot=True))
"""The ``thm3.1`` check (Theorem 3.1, App. B.1), registered in :data:`tfapprox.verify.registry.CHECKS`."""
LEMMA_F1 = register(_lemma_check(LIN, LemmaF1Config))
"""The ``lemma-f1`` check (Lemma F.1, lin-RPE delta kernels)."""
LEMMA_F4 = register(_lemma_check(LOG, LemmaF4Config))
"""The ``lemma-f4`` check (Lemma F.4, log-RPE delta kernels)."""
