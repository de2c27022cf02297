"""Plots of the checks: error against size with the bound, on log axes, drawn on an Agg
canvas without pyplot (no global matplotlib backend switch).

One home for the drawing conventions every check shares: exact zeros on the bottom axis
(a log axis has no 0), x ticks at the sizes drawn, legends that never cover the data.
"""

from __future__ import annotations

from typing import Any, Callable

from .registry import new_figure, save_figure_atomic

__all__ = ["log_series", "finish_zeros", "h_ticks", "legend", "plot_sweep"]


def log_series(ax: Any, xs: list[Any], ys: list[Any], fmt: str, zeros: list[tuple[list[Any], str]],
                **kw: Any) -> Any:
    """Draw ``ys`` against ``xs`` on log-log axes; exact zeros are collected in ``zeros`` (drawn by
    :func:`finish_zeros` on the bottom axis), ``None`` values are skipped.  Returns the line."""
    pts = [(x, float(y)) for x, y in zip(xs, ys) if y is not None]
    pos = [(x, y) for x, y in pts if y > 0]
    line, = ax.loglog([p[0] for p in pos], [p[1] for p in pos], fmt, **kw)
    zx = [x for x, y in pts if y == 0]
    if zx:
        zeros.append((zx, line.get_color()))
    return line


def finish_zeros(ax: Any, zeros: list[tuple[list[Any], str]]) -> list[Any]:
    """Draw exact zeros as downward triangles ON the bottom axis (a log axis has no 0); return the
    legend handle explaining them (empty list when there is no zero)."""
    if not zeros:
        return []
    from matplotlib.lines import Line2D

    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top)
    for xs, color in zeros:
        ax.plot(xs, [bottom] * len(xs), "v", color=color, ms=8, clip_on=False, zorder=5)
    return [Line2D([], [], marker="v", ls="", color="0.3", ms=8, label="exactly 0 (on the bottom axis)")]


def h_ticks(ax: Any, xs: list[Any]) -> None:
    """Label a log x axis at the sizes drawn (plain integers), without crowded minor labels."""
    from matplotlib.ticker import NullFormatter, NullLocator

    values = sorted({float(x) for x in xs if x is not None and float(x) > 0})
    if not values or len(values) > 12:
        return
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(values, [f"{v:g}" for v in values])


def legend(ax: Any, extra_handles: list[Any] = (), max_inside: int = 3) -> None:
    """A legend that never covers the data: inside for a few entries, beside the axes otherwise."""
    handles, labels = ax.get_legend_handles_labels()
    handles = list(handles) + list(extra_handles)
    labels = list(labels) + [h.get_label() for h in extra_handles]
    if not handles:
        return
    if len(handles) <= max_inside:
        ax.legend(handles, labels, fontsize=7, loc="best")
    else:
        fig = ax.figure
        width, height = fig.get_size_inches()
        if width < 8.2:  # room for the legend beside the axes
            fig.set_size_inches(8.2, height)
        ax.legend(handles, labels, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def plot_sweep(rows: list[dict[str, Any]], group: str, path: str, title: str,
               label: Callable[[Any], str] | None = None,
               extra: list[tuple[str, list[Any], list[Any], str]] = (),
               ylabel: str = "worst-case error", measured: str = "measured") -> None:
    """Error (``error``) and explicit bound (``bound``, skipped where ``None``) against ``H``, one
    colour per value of ``rows[i][group]``; ``label(value)`` names a group in the legend (default
    ``group=value``; no prefix when there is one group).  ``extra`` adds curves
    ``(label, xs, ys, matplotlib format)``.  Exact zeros are drawn on the bottom axis."""
    keys = sorted({r[group] for r in rows}, key=lambda k: (not isinstance(k, (int, float)), k if isinstance(k, (int, float)) else str(k)))
    if label is None:
        label = (lambda key: "") if len(keys) == 1 else (lambda key: f"{group}={key}")
    entries = len(keys) * (1 + any(r.get("bound") is not None for r in rows)) + len(extra)
    fig, ax = new_figure(figsize=(8.2, 4) if entries > 3 else (6, 4))
    zeros: list[tuple[list[Any], str]] = []
    for i, key in enumerate(keys):
        sub = [r for r in rows if r[group] == key]
        prefix = label(key)
        prefix = f"{prefix}: " if prefix else ""
        # marker shape and size differ per group, so that coinciding curves stay visible
        line = log_series(ax, [r["H"] for r in sub], [r["error"] for r in sub], "osD^v"[i % 5] + "-", zeros,
                           ms=max(7 - 2 * i, 3), label=f"{prefix}{measured}")
        if any(r.get("bound") is not None for r in sub):
            log_series(ax, [r["H"] for r in sub], [r.get("bound") for r in sub], "--", zeros,
                        color=line.get_color(), label=f"{prefix}explicit bound")
    for text, xs, ys, fmt in extra:
        log_series(ax, xs, ys, fmt, zeros, label=text, ms=4)
    ax.set_xlabel("H (heads)")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    h_ticks(ax, [r["H"] for r in rows] + [x for _, xs, _, _ in extra for x in xs])
    ax.grid(True, which="both", alpha=0.3)
    legend(ax, finish_zeros(ax, zeros))
    save_figure_atomic(fig, path)


# ----------------------------------------------------------------------- Theorem 3.1
