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
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from tfapprox.theory.version import __version__

from .progress import ProgressReporter, format_duration
from .registry import CheckResult, all_checks, format_cell
from .report_files import write_bytes_atomic, write_json_atomic, write_text_atomic

__all__ = ["default_workers", "format_table", "print_result", "run_all"]


def format_table(result: CheckResult, markdown: bool = False) -> str:
    """The result's rows as an aligned text table (or a Markdown table)."""
    cols = result.columns or [(k, k, "") for k in (result.rows[0] if result.rows else {})]
    header = [h for _, h, _ in cols]
    body = [[format_cell(r.get(k), f) for k, _, f in cols] for r in result.rows]
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


#: Rough cold-run seconds of the longest checks on a quiet 2-core machine (issue 15's profile),
#: used only to start the longest jobs first when no earlier report in the folder says better.
_COST_HINT: dict[str, float] = {"tightness": 120.0, "experiments": 30.0, "prop4.2": 12.0}


def _slug(check_name: str, opts: Sequence[str]) -> str:
    raw = check_name + ("-" + "-".join(o.strip("-") for o in opts) if opts else "")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw)  # portable file names (no ':', ',', '/', ' ')


@dataclass
class _JobOutput:
    """What one ``verify --all`` job contributes to the report (plain strings: picklable)."""

    index: int
    passed: bool
    elapsed: float
    printed: str
    verdict_line: str
    summary_row: str
    section: list[str]
    text_pages: list[tuple[str, str]]


def _clear_caches() -> None:
    """Empty the package's in-memory caches (functools caches and the ``*_CACHE`` dicts).

    Every job then computes from the same state, the state of a fresh ``tfapprox verify CHECK``
    process, whichever jobs ran before it in the same process: the report does not depend on
    the order of the jobs or on how they are spread over worker processes.
    """
    from collections import OrderedDict

    for name, module in list(sys.modules.items()):
        if module is None or not (name == "tfapprox" or name.startswith("tfapprox.")):
            continue
        for attr, value in list(vars(module).items()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and not isinstance(value, type):
                clear()
            elif isinstance(value, OrderedDict) and attr.endswith("_CACHE"):
                value.clear()


def _execute(index: int, check: Any, opts: Sequence[str], folder: Path, command: Sequence[str] | None,
             progress: Callable[[int, int, str], None]) -> _JobOutput:
    """Run one job (a check at one set of default options) and write its JSON, PNG and byte pages.

    The same function runs a job in the parent (serial run) and in a worker process (parallel
    run), so the files and the returned text are the same either way.
    """
    import argparse
    import io

    import mpmath

    parser = argparse.ArgumentParser(prog=check.name)
    check.add_arguments(parser)
    options = parser.parse_args(list(opts))
    _clear_caches()
    t0 = time.perf_counter()
    with mpmath.workprec(53):  # mpmath's default precision, whatever the caller's
        result = check.run(options, progress)
    elapsed = time.perf_counter() - t0
    slug = _slug(check.name, opts)
    write_json_atomic(folder / f"{slug}.json", dict(result.to_json(command), seconds=round(elapsed, 3)))
    plot_name = None
    if result.plot is not None:
        plot_name = f"{slug}.png"
        result.plot(str(folder / plot_name))
    printed = io.StringIO()
    print_result(result, printed)
    # the heading's anchor as Python-Markdown's toc extension (mkdocs) makes it
    anchor = re.sub(r"[-\s]+", "-", re.sub(r"[^\w\s-]", "", f"{check.name} {' '.join(opts)}").strip().lower())
    found = "; ".join(result.findings_text) or "-"
    summary_row = (f"| [{check.name}](#{anchor}) | `{' '.join(opts) or '(defaults)'}` | "
                   f"{'PASSED' if result.passed else '**FAILED**'} | {found.replace('|', '/')} | "
                   f"{elapsed:.1f} |")
    sections = [f"## {check.name} {' '.join(opts)}", "",
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
    text_pages = []
    for name, content in result.pages.items():
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        if isinstance(content, bytes):
            write_bytes_atomic(folder / safe, content)
        else:
            text_pages.append((safe, content))
            sections += [f"More: [{safe}]({safe})", ""]
    return _JobOutput(index, bool(result.passed), elapsed, printed.getvalue(), result.verdict_line(),
                      summary_row, sections, text_pages)


def _execute_by_name(index: int, name: str, module: str, opts: Sequence[str], folder: Path,
                     command: Sequence[str] | None) -> _JobOutput:
    """Worker-process entry: import the module that registers the check, look it up by name
    (the worker has its own registry) and run the job."""
    import importlib

    from .registry import get_check

    importlib.import_module(module)
    return _execute(index, get_check(name), opts, folder, command, lambda done, total, what: None)


def default_workers() -> int:
    """The number of worker processes of ``verify --all``: ``TFAPPROX_WORKERS`` if set, else the
    CPUs this process may use (``os.sched_getaffinity``; ``os.cpu_count()`` where that is missing),
    at most 8 (a worker peaks at about 0.5 GB; the longest check alone takes about half the run)."""
    import os

    env = os.environ.get("TFAPPROX_WORKERS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"TFAPPROX_WORKERS must be a positive integer, got {env!r}") from None
        if value < 1:
            raise ValueError(f"TFAPPROX_WORKERS must be a positive integer, got {env!r}")
        return value
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _check_module(check: Any) -> str | None:
    """The module whose import registers ``check`` (that of its ``run`` function), if a worker
    process can import it by name and then finds this very check in the registry."""
    import sys as _sys

    from .registry import get_check

    module = getattr(check.run, "__module__", None)
    if not module or module == "__main__" or module not in _sys.modules:
        return None
    try:
        return module if get_check(check.name) is check else None
    except ValueError:
        return None


def _expected_cost(folder: Path, name: str, opts: Sequence[str]) -> float:
    """Seconds the job took in an earlier report in ``folder`` if there is one, else a rough hint."""
    import json

    try:
        return float(json.loads((folder / f"{_slug(name, opts)}.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return _COST_HINT.get(name, 5.0)


def _run_parallel(jobs: list[tuple[Any, Sequence[str]]], folder: Path, command: Sequence[str] | None,
                  modules: list[str], workers: int, reporter: ProgressReporter | None,
                  callback: Callable[[int, int, str], None] | None,
                  emit: Callable[[_JobOutput], None]) -> None:
    """Run the jobs in ``workers`` spawned processes; ``emit`` each output in job order as soon as it and
    every job before it have finished.

    Jobs are submitted longest first (by :func:`_expected_cost`) to shorten the run; the order
    only decides when a job runs, never what it computes or where its output goes.  Each
    job computes from its options alone (the checks' seeds are options) and starts from empty
    caches at mpmath's default precision (:func:`_execute`), so the outputs depend neither on
    the worker count nor on which jobs a worker ran before.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: fresh interpreters (no state or threads inherited from this process), children of
    # this process (their CPU time counts in its rusage), the same on every platform
    ctx = multiprocessing.get_context("spawn")
    n = len(jobs)
    order = sorted(range(n), key=lambda i: (-_expected_cost(folder, jobs[i][0].name, jobs[i][1]), i))
    stream = reporter.stream if reporter is not None and reporter.enabled else None
    start = time.perf_counter()

    def line(text: str) -> None:
        if stream is not None:
            stream.write(f"{text} | overall {format_duration(time.perf_counter() - start)} elapsed\n")
            stream.flush()

    outputs: dict[int, _JobOutput] = {}
    next_emit = 0
    finished = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = {}
        for i in order:
            check, opts = jobs[i]
            futures[pool.submit(_execute_by_name, i, check.name, modules[i], tuple(opts), folder, command)] = i
        line(f"running {n} checks in {workers} worker processes")
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=60.0, return_when=FIRST_COMPLETED)
                if not done:
                    running = ", ".join(f"{jobs[futures[f]][0].name}" for f in futures
                                        if f.running())
                    line(f"[{finished}/{n}] still running: {running or '-'}")
                    continue
                for fut in sorted(done, key=lambda f: futures[f]):
                    out = fut.result()  # a check's exception stops the run, as in a serial run
                    outputs[out.index] = out
                    finished += 1
                    name = f"{jobs[out.index][0].name} {' '.join(jobs[out.index][1])}".strip()
                    line(f"[{finished}/{n}] {name}: done in {format_duration(out.elapsed)} - {out.verdict_line}")
                    if callback is not None:
                        callback(finished, n, f"[{out.index + 1}/{n}] {jobs[out.index][0].name} done")
                while next_emit in outputs:
                    emit(outputs.pop(next_emit))
                    next_emit += 1
        except BaseException:
            for f in pending:
                f.cancel()
            raise


def run_all(folder: Path, progress: Callable[[int, int, str], None] | ProgressReporter | None = None,
            quiet: bool = False, command: Sequence[str] | None = None, workers: int | None = None) -> bool:
    """Run every registered check at its default sizes and write the report folder.

    Parameters
    ----------
    folder
        The report folder (created if needed).
    progress
        A :class:`~tfapprox.verify.progress.ProgressReporter` (serial run: each check runs in a
        stage ``[i/n]`` with start and end lines, an overall elapsed time and ETA, and
        heartbeats during long steps; parallel run: one line per finished check and a
        ``still running`` line a minute) or any ``progress(done, total, label)`` callback
        (serial: called with the label prefixed by ``[i/n] CHECK``; parallel: once per finished
        check); ``None`` reports nothing.
    quiet
        Do not print the results and the final line on stdout.
    command
        The ``tfapprox`` argument list, recorded in every JSON file (``null`` if ``None``).
    workers
        Worker processes (``None``: :func:`default_workers`, the usable CPUs or
        ``TFAPPROX_WORKERS``).  With more than one, the jobs (each check at each of its
        default option sets) run in separate processes; the report (every number, the JSON
        and PNG files, the order of tables and printed results) is the same as a serial
        run's except the measured seconds.  Checks that are not in the registry under their
        name (e.g. built in a test) always run serially in this process.

    Returns
    -------
    bool
        Whether every check passed (what the checks certify; findings do not count).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    checks = all_checks()
    jobs = [(c, opts) for c in checks for opts in c.default_options]
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    workers = min(workers, len(jobs))
    reporter = progress if isinstance(progress, ProgressReporter) else None
    summary = ["| check | options | verdict (certified) | found | seconds |", "|---|---|---|---|---|"]
    sections: list[str] = []
    pages: dict[str, list[str]] = {}  # extra pages contributed by checks (CheckResult.pages), in job order
    all_ok = True
    start = time.perf_counter()

    def emit(out: _JobOutput) -> None:
        nonlocal all_ok
        all_ok &= out.passed
        if not quiet:
            sys.stdout.write(out.printed)
            sys.stdout.flush()
        summary.append(out.summary_row)
        sections.extend(out.section)
        for safe, content in out.text_pages:
            pages.setdefault(safe, []).append(content)

    modules = [_check_module(check) for check, _ in jobs]
    if workers > 1 and all(modules):
        _run_parallel(jobs, folder, command, modules, workers, reporter,
                      None if reporter is not None else progress, emit)
    else:
        for i, (check, opts) in enumerate(jobs):
            name = f"{check.name} {' '.join(opts)}".strip()
            if reporter is not None:
                with reporter.stage(name, i + 1, len(jobs)):
                    out = _execute(i, check, opts, folder, command, reporter)
                    reporter.outcome = out.verdict_line
            else:
                label = f"[{i + 1}/{len(jobs)}] {check.name}"
                callback = progress if progress is not None else (lambda done, total, what: None)
                out = _execute(i, check, opts, folder, command,
                               lambda done, total, what: callback(done, total, f"{label} {what}"))
            emit(out)
    total = time.perf_counter() - start
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
