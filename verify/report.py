"""Printing check results and writing the ``verify --all`` report folder.

The report folder holds ``index.md`` (a summary table of every check's verdict: what it
certifies and what it found, then one table per check, with what every number is), one JSON
file per check (the keys of :meth:`~tfapprox.verify.registry.CheckResult.to_json`: the
verdict, the rows, the tfapprox version and the command line), PNG plots of error against
size with the bound, and any extra pages (and their files) that checks
contribute through :attr:`CheckResult.pages` (e.g. ``experiments.md``).  Every file is written atomically.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .progress import ProgressReporter
from .registry import CheckResult, all_checks, write_bytes_atomic, write_json_atomic, write_text_atomic

__all__ = ["format_table", "print_result", "run_all"]


def _fmt(value: Any, spec: str) -> str:
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


def format_table(result: CheckResult, markdown: bool = False) -> str:
    """The result's rows as an aligned text table (or a Markdown table)."""
    cols = result.columns or [(k, k, "") for k in (result.rows[0] if result.rows else {})]
    header = [h for _, h, _ in cols]
    body = [[_fmt(r.get(k), f) for k, _, f in cols] for r in result.rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def _fit_lines(result: CheckResult) -> list[str]:
    """One line per fitted sweep: verdict, predicted form, window, local orders."""
    lines = []
    for key, fit in result.fit.items():
        if not isinstance(fit, dict) or "verdict" not in fit:
            lines.append(f"{key}: {fit}")
            continue
        orders = ", ".join("nan" if o != o else f"{o:.2f}" for o in fit.get("local_orders", []))
        lines.append(f"[{key}] {fit['verdict']}; predicted {fit['predicted']}; "
                     f"local orders between successive points: [{orders}]")
    return lines


def print_result(result: CheckResult, stream: Any = None) -> None:
    """Print a check's verdict (what it certifies | what it found), table, fit and notes."""
    out = stream or sys.stdout
    out.write(f"== {result.check}: {result.verdict_line()}\n")
    if result.parameters:
        out.write("parameters: " + ", ".join(f"{k}={v}" for k, v in result.parameters.items()) + "\n")
    out.write(format_table(result) + "\n")
    for line in _fit_lines(result):
        out.write(f"rate {line}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.flush()


def run_all(folder: Path, progress: Callable[[int, int, str], None] | ProgressReporter | None = None,
            quiet: bool = False, command: Sequence[str] | None = None) -> bool:
    """Run every registered check at its default sizes and write the report folder.

    Parameters
    ----------
    folder
        The report folder (created if needed).
    progress
        A :class:`~tfapprox.verify.progress.ProgressReporter` (each check then runs in a
        stage ``[i/n]`` with start and end lines, an overall elapsed time and ETA, and
        heartbeats during long steps) or any ``progress(done, total, label)`` callback
        (called with the label prefixed by ``[i/n] CHECK``); ``None`` reports nothing.
    quiet
        Do not print the results and the final line on stdout.
    command
        The ``tfapprox`` argument list, recorded in every JSON file (``null`` if ``None``).

    Returns
    -------
    bool
        Whether every check passed (what the checks certify; findings do not count).
    """
    import argparse

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    checks = all_checks()
    jobs = [(c, opts) for c in checks for opts in c.default_options]
    reporter = progress if isinstance(progress, ProgressReporter) else None
    sections: list[str] = []
    summary = ["| check | options | verdict (certified) | found | seconds |", "|---|---|---|---|---|"]
    all_ok = True
    pages: dict[str, list[str]] = {}  # extra pages contributed by checks (CheckResult.pages), in run order
    start = time.perf_counter()
    for i, (check, opts) in enumerate(jobs):
        parser = argparse.ArgumentParser(prog=check.name)
        check.add_arguments(parser)
        options = parser.parse_args(list(opts))
        t0 = time.perf_counter()
        name = f"{check.name} {' '.join(opts)}".strip()
        if reporter is not None:
            with reporter.stage(name, i + 1, len(jobs)):
                result = check.run(options, reporter)
                reporter.outcome = result.verdict_line()
        else:
            label = f"[{i + 1}/{len(jobs)}] {check.name}"
            callback = progress if progress is not None else (lambda done, total, what: None)
            result = check.run(options, lambda done, total, what: callback(done, total, f"{label} {what}"))
        elapsed = time.perf_counter() - t0
        all_ok &= result.passed
        raw = check.name + ("-" + "-".join(o.strip("-") for o in opts) if opts else "")
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", raw)  # portable file names (no ':', ',', '/', ' ')
        write_json_atomic(folder / f"{slug}.json", dict(result.to_json(command), seconds=round(elapsed, 3)))
        plot_name = None
        if result.plot is not None:
            plot_name = f"{slug}.png"
            result.plot(str(folder / plot_name))
        if not quiet:
            print_result(result)
        # the heading's anchor as Python-Markdown's toc extension (mkdocs) makes it
        anchor = re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", f"{check.name} {' '.join(opts)}").strip().lower())
        found = "; ".join(result.findings_text) or "-"
        summary.append(f"| [{check.name}](#{anchor}) | `{' '.join(opts) or '(defaults)'}` | "
                       f"{'PASSED' if result.passed else '**FAILED**'} | {found.replace('|', '/')} | "
                       f"{elapsed:.1f} |")
        sections += [f"## {check.name} {' '.join(opts)}", "",
                     f"**{result.verdict}** ({'certified' if result.passed else 'not certified'}) in "
                     f"{elapsed:.1f} s. {check.summary}", ""]
        if result.findings_text:
            sections += ["Found (no pass/fail meaning): " + "; ".join(result.findings_text) + ".", ""]
        if result.parameters:
            sections += ["Parameters: " + ", ".join(f"`{k}={v}`" for k, v in result.parameters.items()), ""]
        sections += [format_table(result, markdown=True), ""]
        sections += [f"- rate {line}" for line in _fit_lines(result)]
        sections += [f"- {note}" for note in result.notes]
        sections += ["", f"JSON: [{slug}.json]({slug}.json)", ""]
        if plot_name:
            sections += [f"![{check.name}]({plot_name})", ""]
        for name, content in result.pages.items():
            safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
            if isinstance(content, bytes):
                write_bytes_atomic(folder / safe, content)
            else:
                if safe not in pages:
                    pages[safe] = []
                pages[safe].append(content)
                sections += [f"More: [{safe}]({safe})", ""]
    total = time.perf_counter() - start
    from tfapprox import __version__

    head = ["# tfapprox verification report", "",
            f"Overall: **{'PASSED' if all_ok else 'FAILED'}** ({len(jobs)} checks, {total:.0f} s; "
            f"tfapprox {__version__}"
            + (f"; command `{' '.join(command)}`" if command is not None else "") + ").", "",
            "Produced by `tfapprox verify --all`. Each verdict has two parts: **verdict (certified)** is what the "
            "check certifies (every bound holds, every enclosure is valid, the fitted rate matches; it decides "
            "the exit status), **found** is what it found beyond that, with no pass/fail meaning (e.g. how many of "
            "the paper's trends the construction reproduces). Each table below lists, per size, the certified "
            "measured error (`error`: the exact value or the upper end of its enclosure) and the explicit bound. "
            "The notes under each table say which numbers are exact, which are lower bounds from a "
            "search and which are analytic upper bounds.", ""]
    head += summary + [""]
    for safe, parts in pages.items():
        write_text_atomic(folder / safe, f"# {safe[:-3] if safe.endswith('.md') else safe}\n\n"
                          "Produced by `tfapprox verify --all`; see [index.md](index.md).\n\n" + "\n".join(parts))
    write_text_atomic(folder / "index.md", "\n".join(head + sections) + "\n")
    if not quiet:
        print(f"report written to {folder / 'index.md'} ({'all passed' if all_ok else 'some checks FAILED'})")
    return all_ok
