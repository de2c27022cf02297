"""The check registry behind ``tfapprox verify`` (design.md section 6).

A :class:`Check` knows its CLI options, runs at given sizes and returns a
:class:`CheckResult`: a table of rows (each bound-check row carries ``error``, the
certified measured error, and ``bound``, the explicit theorem bound), a fit of the
observed rate, and pass/fail.  ``tfapprox verify --all`` runs every registered check at
its default sizes and writes a report folder.  Later results register their checks here
by adding them to :data:`CHECKS` (see ``docs/contributing.md``).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import mpmath

__all__ = ["Check", "CheckResult", "CHECKS", "register", "get_check", "all_checks", "json_number",
           "write_json_atomic", "write_text_atomic", "write_bytes_atomic", "figure_png",
           "save_figure_atomic"]


@dataclass
class CheckResult:
    """Outcome of one check.

    ``rows`` are dicts with snake_case keys; ``columns`` lists (key, header, format) for
    the printed table; ``fit`` describes the rate fit (parameter varied, predicted form,
    window, fitted value, tolerance, verdict); ``notes`` say what each number is (exact,
    search lower bound, analytic upper bound).
    """

    check: str
    passed: bool
    rows: list[dict[str, Any]]
    fit: dict[str, Any] = field(default_factory=dict)
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    plot: Callable[[str], None] | None = None
    #: Extra report content for ``verify --all``: file name -> Markdown text (``str``, appended as a
    #: section to that page; several checks may contribute to one page) or file bytes (``bytes``,
    #: e.g. a PNG the page links to).  Written atomically by :func:`tfapprox.verify.report.run_all`.
    pages: dict[str, str | bytes] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "passed": bool(self.passed),
            "parameters": _jsonable(self.parameters),
            "rows": [_jsonable(r) for r in self.rows],
            "fit": _jsonable(self.fit),
            "notes": list(self.notes),
        }


def json_number(value: Any) -> Any:
    """A JSON number if ``value`` fits float64 faithfully, else a decimal string."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            return str(value)
        f = float(value)
        if f != 0 and math.isfinite(f) and abs(math.log10(abs(f))) < 300:
            return f
        return mpmath.nstr(value, 20)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return json_number(value.item())
    except ImportError:  # pragma: no cover
        pass
    return value


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return json_number(obj)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


@dataclass(frozen=True)
class Check:
    """A registered verification.

    ``add_arguments(parser)`` declares the CLI options; ``run(options, progress)``
    returns a :class:`CheckResult`; ``default_options`` are the sizes used by
    ``verify --all`` (chosen to finish within the time budget on 2 cores).
    """

    name: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Callable[[int, int, str], None]], CheckResult]
    default_options: tuple[tuple[str, ...], ...] = ((),)


CHECKS: dict[str, Check] = {}


def register(check: Check) -> Check:
    """Add ``check`` to the registry (names are unique)."""
    if check.name in CHECKS and CHECKS[check.name] is not check:
        raise ValueError(f"a check named {check.name!r} is already registered")
    CHECKS[check.name] = check
    return check


def get_check(name: str) -> Check:
    _load_builtin_checks()
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; available: {', '.join(sorted(CHECKS)) or '(none)'}")
    return CHECKS[name]


def all_checks() -> list[Check]:
    _load_builtin_checks()
    return [CHECKS[k] for k in CHECKS]


#: Modules whose import registers built-in checks (one line per result family).
BUILTIN_CHECK_MODULES: tuple[str, ...] = (
    "tfapprox.verify.checks",
    "tfapprox.verify.checks_essential",
    "tfapprox.verify.checks_adaptive",
    "tfapprox.verify.checks_nested",
    "tfapprox.verify.checks_experiments",
    "tfapprox.verify.checks_tightness",
)


def _load_builtin_checks() -> None:
    """Import the modules that register the built-in checks."""
    import importlib

    for name in BUILTIN_CHECK_MODULES:
        importlib.import_module(name)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write text to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically, mode ``0o600`` minus the umask, creating missing
    parent folders: :func:`tfapprox.verify.atomic.write_atomic` (the one writer of the toolkit)."""
    from .atomic import write_atomic

    write_atomic(path, data, make_parents=True)


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (tight layout); the figure is closed."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def save_figure_atomic(fig: Any, path: str | Path, dpi: int = 110) -> None:
    """Write a matplotlib figure as a PNG file atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, figure_png(fig, dpi))
