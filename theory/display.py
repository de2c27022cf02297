"""Short reprs and notebook (Jupyter) display of construction results and models.

A construction's dataclass repr prints every exact weight (204 KB for Theorem 3.1 at
``H = 256``); the result classes use :func:`summary_repr` and :func:`summary_html` on a
small ordered summary instead (type, heads, lags, digits, ...).  The full data stay in the
fields (``.spec``, ``.kernels``, ...).
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping

__all__ = ["spec_summary", "summary_repr", "summary_html", "summary_markdown"]


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def spec_summary(spec: Any) -> dict[str, Any]:
    """Layers, heads per layer, widths, past and provenance of a ``TransformerSpec``.

    >>> from tfapprox.api import build_model
    >>> s = spec_summary(build_model("thm3.1", heads=4, lags=[1, 3]).spec)
    >>> s["layers"], s["heads"], s["construction"], s["past"]
    (1, (4,), 'thm3.1', 'padded')
    """
    meta = spec.metadata
    out: dict[str, Any] = {"construction": meta.get("construction", "user"), "layers": spec.num_layers,
                           "heads": tuple(spec.num_heads), "D": spec.width, "d": spec.input_dim,
                           "outputs": spec.output_dim, "past": spec.past}
    if "precision_digits" in meta:
        out["digits"] = meta["precision_digits"]
    if "paper" in meta:
        out["paper"] = meta["paper"]
    return out


def summary_repr(name: str, summary: Mapping[str, Any]) -> str:
    """``Name(key=value, ...)`` with each value cut to 80 characters.

    >>> summary_repr("Thm31Construction", {"rpe": "lin", "H": 256, "lags": (1, 5, 20)})
    "Thm31Construction(rpe='lin', H=256, lags=(1, 5, 20))"
    """
    return f"{name}(" + ", ".join(f"{k}={_short(v) if not isinstance(v, str) else repr(_short(v))}"
                                  for k, v in summary.items()) + ")"


def summary_html(name: str, summary: Mapping[str, Any], note: str = "") -> str:
    """A two-column HTML table of ``summary`` headed by ``name`` (for ``_repr_html_``)."""
    rows = "".join(f"<tr><th style='text-align:left'>{escape(str(k))}</th><td style='text-align:left'>"
                   f"{escape(_short(v, 200))}</td></tr>" for k, v in summary.items())
    foot = f"<p><small>{escape(note)}</small></p>" if note else ""
    return f"<div><b>{escape(name)}</b><table>{rows}</table>{foot}</div>"


def summary_markdown(name: str, summary: Mapping[str, Any], note: str = "") -> str:
    """A two-column Markdown table of ``summary`` headed by ``name`` (for ``_repr_markdown_``).

    >>> print(summary_markdown("Thm31Construction", {"rpe": "lin", "H": 8}))
    **Thm31Construction**
    <BLANKLINE>
    | field | value |
    |---|---|
    | rpe | lin |
    | H | 8 |
    """
    def cell(v: Any) -> str:
        return _short(v, 200).replace("|", "\\|").replace("\n", " ")

    rows = "\n".join(f"| {cell(str(k))} | {cell(v)} |" for k, v in summary.items())
    foot = f"\n\n{note}" if note else ""
    return f"**{name}**\n\n| field | value |\n|---|---|\n{rows}{foot}"
