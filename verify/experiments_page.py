"""The report page ``experiments.md`` of ``tfapprox verify --all``: text, tables and figures.

The ``experiments`` check (:mod:`tfapprox.verify.checks_experiments`: App. H.2.2-H.2.5 of Wang & E 2024
by construction) writes the first section (tables shaped like the paper's, rows ``H``, columns ``m``,
heat maps, heads needed, certified lower bounds), the ``tightness`` check
(:mod:`tfapprox.verify.checks_tightness`) the second (bound, construction and best found per lemma,
the free parameters alpha, gamma).  Figures are PNG bytes drawn without pyplot
(:mod:`tfapprox.verify.report_files`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfapprox.theory.families import LIN, family_names

from .report_files import fmt4, fmt_number, new_figure, page_png

__all__ = ["PAGE", "lower_trend_sentences", "lower_page", "grid_table", "heat_values", "heat_is_flat", "heatmap",
           "scan_plot", "experiments_page", "tightness_page"]

#: The report page the ``experiments`` and ``tightness`` checks write into.
PAGE = "experiments.md"

#: Line styles of the heads-needed scans, one per kernel family (in registration order).
_SCAN_STYLES = ("o-", "s--", "^:", "D-.")


def lower_trend_sentences(lower_rows: list[dict[str, Any]]) -> list[str]:
    """One sentence per paper trend (H.2.3, H.2.4) on what a trained model must have used, from the lin bounds."""
    out = []
    for name in ("H.2.3", "H.2.4"):
        lin = sorted((r for r in lower_rows if r["experiment"] == name and r["rpe"] == LIN.name), key=lambda r: r["H"])
        if not lin:
            continue
        first, last = lin[0], lin[-1]
        if name == "H.2.3":
            var = first["target_variance"]
            out.append(f"H.2.3 (paper: loss 0.49 -> 0.002 as m grows, H gives almost nothing): every DP-free lin-RPE "
                       f"model affine in the attention output has mean square >= {first['mse_lower_bound']:.3g} "
                       f"({first['mse_lower_bound'] / var:.0%} of the target's variance {var:.3g}) at H = {first['H']} "
                       f"and >= {last['mse_lower_bound']:.3g} at H = {last['H']}, so a trained model "
                       "at 0.002 with few heads must decode the attention output nonlinearly (its ReLU FFN of width m, "
                       "matching the m trend) or use dot-product attention; heads alone cannot get there.")
        else:
            below = [r for r in lin if r["mse_lower_bound"] <= 1e-6]
            where = f"from H = {below[0]['H']} on" if below else f"for no H <= {last['H']}"
            out.append(f"H.2.4 (paper: loss 1.16 -> 1e-6 as H grows, m gives almost nothing): the bound is "
                       f"{first['mse_lower_bound']:.3g} at H = {first['H']} and allows 1e-6 only {where}; so a "
                       "trained model below the bound at small H (e.g. 1.16 if the loss is the plain mean square) "
                       "must have used a nonlinear FFN or dot-product attention, while at large H the heads suffice.")
    return out


def lower_page(lower_rows: list[dict[str, Any]], heads: list[int], rpes: list[str]) -> str:
    """The section of certified lower bounds on the mean square (H.2.3, H.2.4): a table per experiment and
    RPE over ``heads``, then the trend sentences (:func:`lower_trend_sentences`)."""
    lines = ["", "### What is necessary: certified lower bounds on the mean square (H.2.3, H.2.4)", "",
             "Any one-layer model with H DP-free heads whose output is affine in the attention output and the "
             "residual (any slopes, weights, readout) has at least this mean-square error over uniform signs "
             "(Walsh decomposition + Eckart-Young on a Hankel section; see *What is necessary?*). A nonlinear "
             "FFN decoding the attention output, dot-product heads and other RPE types are not covered.", "",
             "| experiment | RPE | " + " | ".join(f"H={H}" for H in heads) + " |",
             "|---|---|" + "---|" * len(heads)]
    for name in ("H.2.3", "H.2.4"):
        for rpe in rpes:
            sub = {r["H"]: r for r in lower_rows if r["experiment"] == name and r["rpe"] == rpe}
            if sub:
                lines.append(f"| {name} | {rpe} | " + " | ".join(fmt_number(sub[H]["mse_lower_bound"]) if H in sub else "-"
                                                              for H in heads) + " |")
    lines += [""] + [f"- {t}" for t in lower_trend_sentences(lower_rows)] + [""]
    return "\n".join(lines) + "\n"


def grid_table(rows: list[dict[str, Any]], heads: list[int], widths: list[int], key: str) -> list[str]:
    """Markdown table lines of ``rows[key]`` shaped like the paper's (rows ``H``, columns ``m``): the exact
    value, or ``[lower, upper]`` where the enclosure is wide; ``n/a`` where not computed."""
    by = {(r["H"], r["m"]): r for r in rows}
    out = ["| H \\ m | " + " | ".join(str(m) for m in widths) + " |", "|---|" + "---|" * len(widths)]
    for H in heads:
        cells = []
        for m in widths:
            r = by.get((H, m))
            if r is None or key not in r:
                cells.append("n/a")
            else:
                lo, hi = r[key.replace("upper", "lower")], r[key]
                cells.append(f"{hi:.4g}" if hi - lo <= 1e-9 * max(hi, 1e-300) else f"[{lo:.3g}, {hi:.3g}]")
        out.append(f"| {H} | " + " | ".join(cells) + " |")
    return out


def heat_values(rows: list[dict[str, Any]], heads: list[int], widths: list[int]) -> np.ndarray:
    """MSE / E f^2 per (H, m) cell (NaN where not computed)."""
    by = {(r["H"], r["m"]): r for r in rows}
    A = np.full((len(heads), len(widths)), np.nan)
    for i, H in enumerate(heads):
        for j, m in enumerate(widths):
            r = by.get((H, m))
            if r and "mse_upper" in r and r["target_mean_square"] > 0:
                A[i, j] = r["mse_upper"] / r["target_mean_square"]
    return A


def heat_is_flat(A: np.ndarray) -> bool:
    """True when a heat map of ``A`` would be one colour (all finite cells within 1 % of each other)."""
    v = A[np.isfinite(A)]
    return v.size == 0 or (float(v.min()) > 0 and float(v.max()) <= 1.01 * float(v.min())) or float(v.max()) == 0


def heatmap(rows: list[dict[str, Any]], heads: list[int], widths: list[int], title: str) -> bytes:
    """Heat map of MSE / E f^2 on a logarithmic colour scale spanning the data (exact zeros in grey)."""
    import matplotlib

    from matplotlib.colors import LogNorm

    A = heat_values(rows, heads, widths)
    pos = A[np.isfinite(A) & (A > 0)]
    lo, hi = (float(pos.min()), float(pos.max())) if pos.size else (1e-16, 1.0)
    if hi <= lo:
        lo, hi = lo / 10, hi * 10
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("0.8")
    fig, ax = new_figure(figsize=(5, 4))
    im = ax.imshow(np.where(A > 0, A, np.nan), aspect="auto", cmap=cmap, norm=LogNorm(vmin=lo, vmax=hi))
    ax.set_xticks(range(len(widths)), [str(m) for m in widths])
    ax.set_yticks(range(len(heads)), [str(H) for H in heads])
    ax.set_xlabel("m (FFN width)")
    ax.set_ylabel("H (heads)")
    for i in range(len(heads)):
        for j in range(len(widths)):
            if np.isfinite(A[i, j]):
                ax.text(j, i, "0" if A[i, j] == 0 else f"{A[i, j]:.2g}", ha="center", va="center", fontsize=6,
                        color="k" if A[i, j] == 0 or A[i, j] > np.sqrt(lo * hi) else "w")
    fig.colorbar(im, ax=ax, label="MSE / E f^2 (log scale)")
    ax.set_title(title, fontsize=9)
    return page_png(fig)


def scan_plot(scans: list[dict[str, Any]]) -> bytes:
    """PNG of the heads-needed scans: certified worst-case error against ``H`` per experiment and RPE,
    with the target errors 1e-1 and 1e-2."""

    fig, ax = new_figure(figsize=(6.5, 4))
    for sc in scans:
        g = np.array(sc["grid"], dtype=float)
        ax.loglog(g[:, 0], np.maximum(g[:, 2], 1e-16), _SCAN_STYLES[family_names().index(sc["rpe"]) % len(_SCAN_STYLES)], ms=3,
                  label=f"{sc['experiment']} {sc['rpe']}-RPE")
    for eps in (1e-1, 1e-2):
        ax.axhline(eps, color="grey", lw=0.7, ls=":")
    ax.set_xlabel("H (total heads)")
    ax.set_ylabel("certified worst-case error")
    ax.set_title("Construction (exact FFN): worst case over {+1,-1}^1000 against H", fontsize=9)
    ax.legend(fontsize=6)
    ax.grid(True, which="both", alpha=0.3)
    return page_png(fig)


def experiments_page(rpes: list[str], names: list[str], heads: list[int], widths: list[int], cells: Any,
                      needs: list[dict[str, Any]], lag_rows: list[dict[str, Any]], trends: Any,
                      paper: dict[str, str], scans: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The ``experiments`` section of ``experiments.md`` (tables per experiment and RPE shaped like the
    paper's, heat maps, the lag-901 table, heads and width needed, the trends) and its figures: page name ->
    text or PNG bytes."""
    lines = ["## The paper's experiments H.2.2-H.2.5 by construction (check `experiments`)", "",
             "Theorem 3.1's one-layer DP-free construction adapted to finite sequences (finite softmax normalisers), "
             "1000 tokens in {+1,-1}, output at the last token, memories at lags 901, 944, 952 (x_99, x_56, x_48). "
             "Cells: exact mean square over uniform signs (an interval where only an enclosure is available); "
             "the paper's numbers are trained losses.", ""]
    files: dict[str, bytes] = {}
    for rpe in rpes:
        for name in names:
            rows = cells[rpe].get(name, [])
            lines += [f"### {name}, {rpe}-RPE: mean-square error (paper: {paper[name]})", ""]
            lines += grid_table(rows, heads, widths, "mse_upper")
            lines += ["", "Worst case over {+1,-1}^1000:", ""]
            lines += grid_table(rows, heads, widths, "worst_case_upper")
            values = heat_values(rows, heads, widths)
            if heat_is_flat(values):  # one colour would show nothing: say so instead
                v = values[np.isfinite(values)]
                lines += ["", (f"No heat map: MSE / E f^2 is {float(v.min()):.4g} in every cell (within 1 %)."
                               if v.size else "No heat map: no cell has a mean square."), ""]
            else:
                fname = f"experiments-{name.replace('.', '')}-{rpe}.png"
                files[fname] = heatmap(rows, heads, widths, f"{name} {rpe}-RPE: MSE / E f^2")
                lines += ["", f"![{name} {rpe} heat map]({fname})", ""]
    lines += ["### The paper's trends: does the construction reproduce them?", "",
              "| RPE | experiment | paper | reproduced | numbers |", "|---|---|---|---|---|"]
    for rpe in rpes:
        for t in trends[rpe]:
            lines.append(f"| {rpe} | {t['experiment']} | {t['paper']} | {'yes' if t['reproduced'] else 'no'} | "
                         f"{t['numbers']} |")
    lines += [""] + [f"- {rpe} {t['experiment']}: {t['why']}" for rpe in rpes for t in trends[rpe] if t["why"]]
    lines += ["", "### Why: the attention error at lag 901 for each H (all heads on that memory)", "",
              "| RPE | H | kernel identically 0 | exact l1 error on the window | P(901) | best found on the window "
              "(p >= 0) | best found weighting the start (p <= 0) |", "|---|---|---|---|---|---|---|"]
    for r in lag_rows:
        lines.append(f"| {r['rpe']} | {r['H']} | {'yes' if r['zero_kernel'] else 'no'} | "
                     f"{r['attention_error_901']:.4g} | {r['kernel_at_901']:.3g} | {fmt_number(r.get('best_found_window'))} | "
                     f"{fmt_number(r.get('best_found_from_start'))} |")
    firsts = {r["rpe"]: r["first_node_heads"] for r in lag_rows}
    lines += ["", "First H with a Chebyshev node inside the lag-901 bump: " +
              ", ".join(f"{k}: {v}" for k, v in firsts.items()) +
              ". Below it (and between the narrow windows where a node hits) the interpolant is the zero polynomial "
              "and the error is exactly 1; where a node does hit, the interpolant of a bump of height "
              "e^{0.01*901} ~ 8e3 sampled at one node is far worse than 0.", "",
              "### Heads and width needed for errors 1e-1 and 1e-2", "",
              "| RPE | experiment | epsilon | heads (explicit bound) | heads (measured) | per memory | error there | "
              "grid point below: H, error >= | first node in each bump | width (bound) | width (measured) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in needs:
        below = (f"{n['heads_measured_previous']}, {n['heads_measured_previous_lower']:.3g}"
                 + (" (fails)" if n["heads_measured_certain"] else ""))
        lines.append(f"| {n['rpe']} | {n['experiment']} | {n['epsilon']:g} | {fmt_number(n['heads_by_bound'])} | "
                     f"{fmt_number(n['heads_measured'])} | {fmt_number(n['heads_measured_per_memory'])} | "
                     f"{fmt4(n['heads_measured_error'])} | {below} | {n['first_node_heads']} | "
                     f"{n['width_by_bound']} | {fmt_number(n['width_measured'])} |")
    lines += ["", "Heads (measured): the construction with an exact FFN, certified worst case over {+1,-1}^1000 "
              "(exact for H.2.4; analytic upper end otherwise) on a grid of 8 points per octave: the smallest grid H "
              "from which the error stays <= eps on the grid (the error is not monotone in H). 'fails' marks a grid "
              "point below whose certified lower end already exceeds eps, so the measured number is sharp on the "
              "grid; otherwise it is sufficient, not necessarily necessary. The kernels are the exact interpolants "
              "(closed form, rigorous rounding allowance); the realised weights would need about 0.77 H digits. "
              "Heads (explicit bound): smallest H whose explicit attention bound times Lip(f) (or |w|) is <= eps. "
              "Width by bound: min(64, ceil((||f||_B / eps)^2)) (Maurey, expected pointwise; the exact FFN needs the "
              "readout's 64 neurons); width measured: smallest seeded Maurey sampling with sup over {+-1}^D of "
              "|f - F_m| <= eps.", ""]
    if scans:
        fname = "experiments-heads-needed.png"
        files[fname] = scan_plot(scans)
        lines += [f"![worst-case error against H]({fname})", ""]
    return {PAGE: "\n".join(lines) + "\n", **{k: v for k, v in files.items()}}


def tightness_page(rows: list[dict[str, Any]], sweeps: list[dict[str, Any]], eps: float) -> dict[str, Any]:
    """The ``tightness`` section of ``experiments.md`` (lower bound, best found, construction and bound per
    lemma, ``T`` and ``H``; the alpha/gamma sweep) and its figures: page name -> text or PNG bytes."""

    lines = ["## How tight are the proofs? (check `tightness`)", "",
             "Exact l1 errors of the paper's kernels (construction), the best kernels found by LP + exponent search "
             "(best found, an upper bound on the optimum; seeded with the previous H's best kernel, so it never "
             "increases with H) and the explicit bounds (analytic upper bounds on the construction's error).", "",
             "`lower` is a certified lower bound on the error of every H-head kernel of the class (Hankel rank; "
             "see *What is necessary?*), `gap` = best found / lower; where they meet the answer is exact.", "",
             "| lemma | T | H | lower | best found | gap | construction | bound | bound / best | construction / best | "
             "max weight (cons / best) | digits (cons / best) | best found from |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gap = "exact" if r["exact"] else ("-" if r["gap"] is None else f"{r['gap']:.3g}")
        lines.append(f"| {r['lemma']} | {r['T']} | {r['H']} | {r['lower_bound']:.3g} | {r['best_found']:.3g} | {gap} | "
                     f"{r['construction']:.3g} | {r['bound']:.3g} | {r['slack_bound']:.3g} | {r['slack_construction']:.3g} | "
                     f"{r['construction_max_weight']:.2g} / {r['best_found_max_weight']:.2g} | "
                     f"{r['construction_digits']} / {r['best_found_digits']} | {r['best_found_source']} |")
    files: dict[str, bytes] = {}
    for lemma in sorted({r["lemma"] for r in rows}):
        sub = [r for r in rows if r["lemma"] == lemma]
        # colour = T, line style = what is drawn: a short legend beside the axes, never over the data
        from matplotlib.lines import Line2D

        from .plotting import finish_zeros, h_ticks, log_series

        fig, ax = new_figure(figsize=(7.6, 4))
        zeros: list[Any] = []
        handles = []
        for k, T in enumerate(sorted({r["T"] for r in sub})):
            s = sorted((r for r in sub if r["T"] == T), key=lambda r: r["H"])
            Hs = [r["H"] for r in s]
            color = f"C{k}"
            log_series(ax, Hs, [r["construction"] for r in s], "o-", zeros, color=color)
            log_series(ax, Hs, [r["bound"] for r in s], "--", zeros, color=color)
            log_series(ax, Hs, [r["best_found"] for r in s], ":", zeros, marker="x", color=color)
            handles.append(Line2D([], [], color=color, lw=6, label=f"T = {T}"))
        handles += [Line2D([], [], color="0.3", marker="o", ls="-", label="construction (exact)"),
                    Line2D([], [], color="0.3", ls="--", label="explicit bound"),
                    Line2D([], [], color="0.3", marker="x", ls=":", label="best found")]
        handles += finish_zeros(ax, zeros)
        h_ticks(ax, [r["H"] for r in sub])
        ax.set_xlabel("H (heads)")
        ax.set_ylabel("l1 error")
        ax.set_title(f"Lemma {lemma}: bound, construction, best found (lower bounds in the table)", fontsize=9)
        ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        ax.grid(True, which="both", alpha=0.3)
        name = f"tightness-{lemma.replace('.', '')}.png"
        files[name] = page_png(fig)
        lines += ["", f"![Lemma {lemma}]({name})"]
    lines += ["", f"### Free parameters alpha, gamma (heads for eps = {eps:g})", "",
              "| RPE | T | H | choice | alpha | gamma | bound at H | error at H | heads (bound) | heads (measured) |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for sw in sweeps:
        for label in ("paper", "min_bound", "min_error"):
            hn = sw["heads_needed"][label]
            r = next((x for x in sw["rows"] if x["alpha"] == hn["alpha"] and x["gamma"] == hn["gamma"]), None)
            lines.append(f"| {sw['rpe']} | {sw['T']} | {sw['H']} | {label} | {hn['alpha']} | {hn['gamma']} | "
                         f"{fmt_number(r['bound'] if r else None)} | {fmt_number(r['error'] if r else None)} | "
                         f"{fmt_number(hn['heads_by_bound'])} | {fmt_number(hn['heads_measured']) if hn['heads_measured'] else '> max'} |")
    lines += ["", "heads (measured): smallest H on a doubling grid from 1, bisected, whose exact error is <= eps "
              "('> max' when the largest H tried does not reach it).", ""]
    return {PAGE: "\n".join(lines) + "\n", **files}
