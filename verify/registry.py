"""The check registry behind ``tfapprox verify``.

A :class:`Check` is a function of a typed configuration (:mod:`tfapprox.verify.check_config`: one
frozen dataclass per check, validated on construction; the CLI options are generated from it) and
returns a :class:`CheckResult`: a table of rows (each bound-check row carries ``error``, the
certified measured error, and ``bound``, the explicit theorem bound), a fit of the
observed rate, and a two-part verdict: what it certifies (``passed``: bounds hold,
enclosures valid, rate matches) and what it found beyond that (``findings``, e.g. how
many of the paper's trends the construction reproduces).  A check also declares whether
it draws a plot (``has_plot``).  ``tfapprox verify --all`` runs every registered check at
its default configurations and writes a report folder.  Later results register their checks
here with :func:`register` and :func:`typed_check` (see ``docs/contributing.md``).
"""

from __future__ import annotations

import argparse
import functools
import math
import platform
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np

from tfapprox.theory.version import __version__

from .check_config import CheckConfig
# report writing lives in report_files; re-exported here for the modules that import it from the registry
from .report_files import (figure_png, new_figure, save_figure_atomic, write_bytes_atomic, write_json_atomic,
                           write_text_atomic)

__all__ = ["Check", "CheckResult", "CHECKS", "register", "typed_check", "get_check", "all_checks", "json_number",
           "write_json_atomic", "write_text_atomic", "write_bytes_atomic", "figure_png",
           "save_figure_atomic", "new_figure", "run_info", "format_cell", "jsonable"]


@dataclass(repr=False)
class CheckResult:
    """Outcome of one check.

    ``rows`` are dicts with snake_case keys; ``columns`` lists (key, header, format) for
    the printed table; ``fit`` describes the rate fit (parameter varied, predicted form,
    window, fitted value, tolerance, verdict); ``notes`` say what each number is (exact,
    search lower bound, analytic upper bound).

    The verdict has two parts.  ``passed`` (also :attr:`certified`) is what the check
    certifies: every bound holds, every enclosure is valid, the fitted rate matches (what
    the exit status of ``tfapprox verify`` reports).  ``findings`` is what the check found
    beyond that, without a pass/fail meaning: e.g. for ``experiments`` how many of the
    paper's trends (App. H.2) the construction reproduces (``{"paper_trends_reproduced": 0,
    "paper_trends_total": 8}``).  Keys are stable snake_case; ``findings_text`` says the
    same in one short sentence each, printed beside ``PASSED``/``FAILED``.
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
    #: What the check found beyond what it certifies (stable snake_case keys, JSON values).
    findings: dict[str, Any] = field(default_factory=dict)
    #: The findings as short sentences (printed beside the verdict and in the report index).
    findings_text: list[str] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        """What the check certifies held (bounds, enclosures, rate): the same as ``passed``."""
        return bool(self.passed)

    @property
    def verdict(self) -> str:
        """``"PASSED"`` or ``"FAILED"`` (the certified part only)."""
        return "PASSED" if self.passed else "FAILED"

    def verdict_line(self) -> str:
        """The verdict with the findings beside it, e.g.
        ``PASSED (certified) | found: paper trends reproduced by the construction: 0 of 8``.

        >>> CheckResult("x", True, [], findings_text=["3 of 4 trends"]).verdict_line()
        'PASSED (certified) | found: 3 of 4 trends'
        >>> CheckResult("x", False, []).verdict_line()
        'FAILED (not certified)'
        """
        text = f"{self.verdict} ({'certified' if self.passed else 'not certified'})"
        if self.findings_text:
            text += " | found: " + "; ".join(self.findings_text)
        return text

    def to_json(self, command: Sequence[str] | None = None) -> dict[str, Any]:
        """The result as JSON-ready data (the stable keys below; scripts read them).

        Keys: ``check``, ``passed`` (kept for scripts) and ``certified`` (the same value),
        ``findings``, ``findings_text``, ``parameters``, ``rows``, ``fit``, ``notes``, and
        :func:`run_info`: ``tfapprox_version``, ``python_version``, ``numpy_version`` and
        ``command`` (the argument list the CLI was called with; ``null`` from the library
        unless ``command`` is given).
        """
        return {
            "check": self.check,
            "passed": bool(self.passed),
            "certified": bool(self.passed),
            "findings": jsonable(self.findings),
            "findings_text": list(self.findings_text),
            "parameters": jsonable(self.parameters),
            "rows": [jsonable(r) for r in self.rows],
            "fit": jsonable(self.fit),
            "notes": list(self.notes),
            **run_info(command),
        }

    def __repr__(self) -> str:
        extra = f", findings={self.findings!r}" if self.findings else ""
        return (f"CheckResult(check={self.check!r}, {self.verdict}, {len(self.rows)} rows{extra}, "
                f"plot={'yes' if self.plot is not None else 'no'})")

    def _repr_html_(self) -> str:
        """Jupyter display: the verdict, the findings, the parameters, the table and the notes."""
        from html import escape


        cols = self.columns or [(k, k, "") for k in (self.rows[0] if self.rows else {})]
        colour = "#1a7f37" if self.passed else "#cf222e"
        parts = [f"<div><p><b>{escape(self.check)}</b>: <b style='color:{colour}'>{self.verdict}</b> "
                 f"({'certified' if self.passed else 'not certified'})</p>"]
        if self.findings_text:
            parts.append("<p>Found: " + "; ".join(escape(t) for t in self.findings_text) + "</p>")
        if self.parameters:
            parts.append("<p>Parameters: " + ", ".join(f"<code>{escape(str(k))}={escape(str(v))}</code>"
                                                       for k, v in self.parameters.items()) + "</p>")
        head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in cols)
        body = "".join("<tr>" + "".join(f"<td>{escape(format_cell(r.get(k), f))}</td>" for k, _, f in cols) + "</tr>"
                       for r in self.rows[:200])
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if len(self.rows) > 200:
            parts.append(f"<p>... {len(self.rows) - 200} more rows (see <code>.rows</code>)</p>")
        if self.notes:
            parts.append("<details><summary>Notes</summary><ul>"
                         + "".join(f"<li>{escape(n)}</li>" for n in self.notes) + "</ul></details>")
        parts.append("</div>")
        return "".join(parts)


def run_info(command: Sequence[str] | None = None) -> dict[str, Any]:
    """What produced a JSON file: ``tfapprox_version``, ``python_version``, ``numpy_version``, ``command``.

    ``command`` is the argument list of the ``tfapprox`` invocation (the CLI passes its
    ``argv``); ``None`` (the default, a library call) is recorded as ``null``.
    """
    if command is not None:
        if isinstance(command, (str, bytes)) or not all(isinstance(a, str) for a in command):
            raise TypeError(f"command must be a list of strings (an argv), got {command!r}")
        command = list(command)
    return {"tfapprox_version": __version__, "python_version": platform.python_version(),
            "numpy_version": np.__version__, "command": command}


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


def format_cell(value: Any, spec: str) -> str:
    """One table cell: ``-`` for None, yes/no for booleans, ``format(value, spec)`` else (mpf included)."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    try:
        return format(value, spec) if spec else str(value)
    except (TypeError, ValueError):
        import mpmath

        try:
            return mpmath.nstr(value, 4)
        except Exception:  # pragma: no cover
            return str(value)


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON values: dict keys as strings, tuples as lists, numbers through
    :func:`json_number` (decimal strings where float64 would lose them)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return json_number(obj)


@dataclass(frozen=True)
class Check:
    """A registered verification.

    A typed check (built with :func:`typed_check`) holds its configuration class ``config`` (a
    :class:`~tfapprox.verify.check_config.CheckConfig`: typed, validated options), its run
    function ``run(config, progress) -> CheckResult`` and ``defaults``, the configurations that
    ``verify --all`` runs (chosen to finish within the time budget on 2 cores).  Its command-line
    options (``add_arguments``) are generated from the configuration, and ``default_options``
    (the default configurations as argument lists, from which the report names its files) are
    derived from ``defaults``.  ``run`` also accepts the parsed command-line options
    (``argparse.Namespace``).

    A plain check gives ``add_arguments(parser)`` (every option with a ``help`` string) and
    ``run(options, progress)`` itself, with ``default_options`` as argument lists.

    ``has_plot`` says whether the result draws a plot (``CheckResult.plot``), so ``verify CHECK
    --plot`` is refused before running a check that draws none; ``None`` means unknown (decided
    after the run).
    """

    name: str
    summary: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Any, Callable[[int, int, str], None]], CheckResult]
    default_options: tuple[tuple[str, ...], ...] = ((),)
    has_plot: bool | None = None
    #: The configuration class of a typed check (``None`` for a plain check).
    config: type[CheckConfig] | None = None
    #: The configurations ``verify --all`` runs (typed checks).
    defaults: tuple[CheckConfig, ...] = ()

    def __post_init__(self) -> None:
        if self.has_plot is not None and not isinstance(self.has_plot, bool):
            raise TypeError(f"has_plot must be True, False or None, got {self.has_plot!r}")

    def make_config(self, **options: Any) -> CheckConfig:
        """The check's configuration from keyword options (``TypeError`` for an unknown one or for a
        plain check, ``ValueError``/``TypeError`` for a bad value)."""
        if self.config is None:
            raise TypeError(f"check {self.name!r} has no typed configuration; run it from the command line")
        return self.config.create(**options)


def typed_check(name: str, summary: str, config: type[CheckConfig],
                run: Callable[[Any, Callable[[int, int, str], None]], CheckResult],
                defaults: Sequence[Mapping[str, Any]] = ({},), has_plot: bool | None = None) -> Check:
    """A :class:`Check` of the typed configuration ``config`` and the function ``run(config, progress)``.

    ``defaults`` lists the runs of ``verify --all`` as keyword options of ``config`` (in the order
    they are written: the report's file names list them in that order, e.g.
    ``{"rpe": "lin", "lags": [1, 5, 20]}`` -> ``CHECK-rpe-lin-lags-1_5_20.json``).
    """
    if not (isinstance(config, type) and issubclass(config, CheckConfig)):
        raise TypeError(f"config must be a CheckConfig subclass, got {config!r}")

    @functools.wraps(run)
    def run_check(options: Any, progress: Callable[[int, int, str], None]) -> CheckResult:
        if isinstance(options, argparse.Namespace):
            options = config.from_namespace(options)
        elif not isinstance(options, config):
            raise TypeError(f"check {name!r} runs on a {config.__name__} (or parsed command-line options), "
                            f"got {type(options).__name__}")
        return run(options, progress)

    configs = tuple(config.create(**dict(d)) for d in defaults)
    argv = tuple(tuple(c.to_argv(list(d))) for c, d in zip(configs, defaults))
    return Check(name, summary, config.add_arguments, run_check, default_options=argv, has_plot=has_plot,
                 config=config, defaults=configs)


CHECKS: dict[str, Check] = {}
"""Every registered check by name (filled by :func:`register`, built-in checks loaded on first use)."""


def register(check: Check) -> Check:
    """Add ``check`` to the registry (names are unique)."""
    if check.name in CHECKS and CHECKS[check.name] is not check:
        raise ValueError(f"a check named {check.name!r} is already registered")
    CHECKS[check.name] = check
    return check


def get_check(name: str) -> Check:
    """The registered check called ``name``; ValueError listing the available names if there is none."""
    _load_builtin_checks()
    if name not in CHECKS:
        raise ValueError(f"unknown check {name!r}; available: {', '.join(sorted(CHECKS)) or '(none)'}")
    return CHECKS[name]


def all_checks() -> list[Check]:
    """Every registered check: the built-in ones in the order of :data:`BUILTIN_CHECK_MODULES` (and of
    registration within a module), then the others in registration order.  The order does not depend on
    which module happened to be imported first (the ``verify --all`` report lists the checks in it)."""
    _load_builtin_checks()

    def rank(check: Check) -> int:
        module = getattr(check.run, "__module__", "")
        return BUILTIN_CHECK_MODULES.index(module) if module in BUILTIN_CHECK_MODULES else len(BUILTIN_CHECK_MODULES)

    return sorted(CHECKS.values(), key=rank)


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
