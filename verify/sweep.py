"""Large sweeps: one registered check over a parameter grid, run through Dask.

A *sweep spec* (a TOML file, or the same data as a dict) names a check of the registry
(:mod:`tfapprox.verify.registry`), options shared by every cell, and a grid: the
cartesian product of lists of option values.  Each grid point (a *cell*) runs the check
exactly as ``tfapprox verify CHECK --opt value ...`` would (its argument list is parsed by
the check's own parser), on a ``dask.distributed`` cluster: an embedded local cluster by
default, or a running scheduler (``scheduler = "tcp://HOST:PORT"``).  This is how the
paper's rate experiments (Wang & E 2024, App. H: heads needed for a target error, the
Lemma F.1/F.4 kernel errors over T, H, alpha and gamma, the lower-bound sections) are run
past the sizes one machine handles.

Results are stored in two files:

* ``OUTPUT.cells.jsonl``, an append-only log: one JSON line per finished cell (its key,
  status, error, verdict, rows, wall time and worker), flushed and fsynced as each cell
  finishes.  A line cut short by a crash is ignored.
* ``OUTPUT`` (CSV), the table: one line per row of each finished cell (one line for a
  cell without rows or that raised), in grid order, rewritten atomically (temporary file
  and :func:`os.replace`) every few seconds and when the sweep ends or is interrupted.

A cell is identified by its *key*, a SHA-256 hash of the check name, the check's fully
parsed options (defaults included, so equivalent command lines share a key) and the
tfapprox version.  A sweep run again with the same output skips every cell whose key is
in the log: an interrupted or partly failed sweep resumes where it stopped, a grid
extended by new values computes only the new cells, and a new tfapprox version
recomputes everything.  A cell whose check raises is recorded with ``status = "error"``
and the exception in ``error``; the sweep goes on (``retry_failed=True`` runs such cells
again).  The table is a function of the spec and the tfapprox version only (per-cell and
per-row wall times stay in the log unless ``keep_timings = true``), so it is identical
byte for byte whatever the scheduler, the number of workers and the order in which cells
finish.

Spec keys (TOML, top level):

``check`` (string, required)
    A registered check name (``tfapprox verify --list``).
``output`` (string, required)
    The CSV table to write; relative paths are relative to the current directory.
``options`` (table, optional)
    Options given to every cell: ``heads = "16,32,64"`` means ``--heads 16,32,64``;
    ``n-max`` and ``n_max`` both mean ``--n-max``; a flag is ``true`` (given) or ``false``.
``grid`` (table, required)
    Option name -> non-empty list of values; the cells are the cartesian product, in the
    order the keys are written (the last key varies fastest).  At most 100,000 cells.
``scheduler`` (string, optional)
    ``tcp://HOST:PORT`` of a running ``dask.distributed`` scheduler.
``keep_timings`` (bool, optional, default false)
    Keep the check's ``seconds`` columns in the table (the table then differs between runs).

Example (``docs/examples/sweep-lemma-f1.toml``)::

    check = "lemma-f1"
    output = "lemma-f1-sweep.csv"

    [options]
    heads = "8,16,32"
    window = 2

    [grid]
    lags = [1, 5]
    alpha = ["0.01", "0.02"]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from tfapprox.theory.version import __version__

from .registry import get_check, jsonable, write_text_atomic
from .sweep_spec import MAX_CELLS, SweepSpec, check_parser, load_spec

__all__ = ["SweepSpec", "SweepResult", "load_spec", "run_sweep", "cell_key", "read_log",
           "add_sweep_parser", "add_sweep_arguments", "cmd_sweep", "MAX_CELLS", "TIMING_COLUMNS"]

TIMING_COLUMNS: tuple[str, ...] = ("seconds",)
"""Row keys holding wall-clock times: left out of the table unless ``keep_timings`` (kept in the log)."""

#: Table columns written before the check's own row keys.
_LEAD_COLUMNS = ("cell", "cell_key")
_STATUS_COLUMNS = ("cell_status", "cell_certified", "cell_error", "row")


def cell_key(check: str, argv: Sequence[str], version: str | None = None, *,
             _parser: argparse.ArgumentParser | None = None) -> str:
    """The cell's key: SHA-256 (hex) of the check name, its fully parsed options and the tfapprox version.

    Two command lines that parse to the same options (``--n-max 4`` and the default) share a key.

    >>> k = cell_key("lemma-f1", ["--heads=8,16", "--lags=5"])
    >>> k == cell_key("lemma-f1", ["--lags", "5", "--heads", "8,16", "--n-max", "4"])
    True
    >>> k == cell_key("lemma-f1", ["--heads=8,16", "--lags=6"]), len(k)
    (False, 64)
    """
    if version is None:
        version = __version__
    if _parser is None:
        _parser = check_parser(get_check(check))
    options = dict(sorted(vars(_parser.parse_args(list(argv))).items()))
    payload = json.dumps({"check": check, "options": options, "tfapprox": version},
                         sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _json_fallback(value: Any) -> Any:
    """JSON for what :func:`~tfapprox.verify.registry.json_number` leaves alone (arrays, sets, fractions...)."""
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if isinstance(value, (set, frozenset)):
        return sorted((jsonable(v) for v in value), key=repr)
    return str(value)


def _run_cell(check_name: str, argv: list[str], key: str, version: str) -> dict[str, Any]:
    """Run one cell (on a worker): the check with the cell's argv; exceptions become an error record."""
    t0 = time.perf_counter()
    record: dict[str, Any] = {"key": key, "check": check_name, "argv": list(argv), "tfapprox_version": __version__,
                              "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        if __version__ != version:
            raise RuntimeError(f"worker has tfapprox {__version__}, the sweep needs {version}")
        check = get_check(check_name)
        options = check_parser(check).parse_args(list(argv))
        result = check.run(options, lambda done, total, label: None)
        # Through JSON and back: the rows are then exactly what the log gives back on a resumed run (lists,
        # string keys, float64 values), so the table does not depend on whether a cell ran now or before.
        rows = json.loads(json.dumps([jsonable(r) for r in result.rows], allow_nan=False, default=_json_fallback))
        record.update(status="done", certified=bool(result.passed), error="", rows=rows)
    except Exception as exc:  # a failing cell is recorded, not raised
        record.update(status="error", certified=None, error=f"{type(exc).__name__}: {exc}", rows=[])
    record["seconds"] = time.perf_counter() - t0
    return record


def read_log(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The cell records of a sweep log (``OUTPUT.cells.jsonl``) by key; the last record of a key wins.

    A last line cut short (a crash while writing) is ignored; a damaged line elsewhere is a ValueError.
    """
    path = Path(path)
    records: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return records
    lines = path.read_bytes().split(b"\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # an unterminated last line: the write was interrupted
                break
            raise ValueError(f"sweep log {str(path)!r} line {i + 1} is not valid JSON") from None
        records[rec["key"]] = rec
    return records


def _append_log(path: Path, record: dict[str, Any]) -> None:
    # Key order is kept (not sorted): the table lists a check's columns in the order its rows give them.
    data = (json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
    with open(path, "ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _repair_log(path: Path) -> None:
    """Cut an unterminated last line (a write interrupted by a crash) so that appends start on a new line."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)
            fh.flush()
            os.fsync(fh.fileno())


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _table_csv(spec: SweepSpec, cells: list[tuple[dict[str, Any], str]], records: Mapping[str, dict]) -> str:
    """The table as CSV text: finished cells in grid order, one line per row."""
    param_cols = [f"opt_{k.replace('-', '_')}" for k, _ in spec.grid]
    reserved = {*_LEAD_COLUMNS, *param_cols, *_STATUS_COLUMNS}  # a row key with one of these names gets "row_"
    row_cols: list[str] = []
    seen: set[str] = set()
    lines: list[list[Any]] = []
    for index, (params, key) in enumerate(cells):
        rec = records.get(key)
        if rec is None:
            continue
        rows = rec.get("rows") or [None]
        for r, row in enumerate(rows):
            row = {} if row is None else {(f"row_{k}" if k in reserved else k): v for k, v in row.items()
                                          if spec.keep_timings or k not in TIMING_COLUMNS}
            for k in row:
                if k not in seen:
                    seen.add(k)
                    row_cols.append(k)
            lines.append([index, key, *params.values(), rec["status"], rec.get("certified"), rec.get("error", ""),
                          r if rec.get("rows") else None, row])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*_LEAD_COLUMNS, *param_cols, *_STATUS_COLUMNS, *row_cols])
    for *head, row in lines:
        writer.writerow([_cell_text(v) for v in head] + [_cell_text(row.get(k)) for k in row_cols])
    return buf.getvalue()


@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    ``computed`` cells ran in this call (``failed`` of them raised), ``skipped`` were
    already in the log; ``table`` is the CSV file, ``log`` the cell log.
    """

    table: Path
    log: Path
    cells: int
    computed: int = 0
    skipped: int = 0
    failed: int = 0
    not_certified: int = 0
    seconds: float = 0.0
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every cell of the grid ran without raising and was certified."""
        return not self.errors and self.not_certified == 0

    def __repr__(self) -> str:
        return (f"SweepResult({self.cells} cells: {self.computed} computed, {self.skipped} skipped, "
                f"{len(self.errors)} with errors, {self.not_certified} not certified)")


def run_sweep(spec: str | os.PathLike[str] | Mapping[str, Any] | SweepSpec, scheduler: str | None = None,
              workers: int | None = None, *, processes: bool = True, output: str | os.PathLike[str] | None = None,
              retry_failed: bool = False, client: Any = None, flush_seconds: float = 5.0,
              on_cell: Callable[[int, dict[str, Any]], None] | None = None,
              progress: Callable[[int, int, str], None] | None = None) -> SweepResult:
    """Run a sweep spec through ``dask.distributed``, resuming from the output's log.

    Parameters
    ----------
    spec
        A TOML file, a mapping with the spec keys, or a :class:`SweepSpec` (see the module docstring).
    scheduler
        ``tcp://HOST:PORT`` of a running scheduler (overrides the spec's ``scheduler``);
        ``None``: an embedded local cluster, started here and closed at the end.
    workers
        Workers of the local cluster (one thread each; default: the number of CPUs, at
        most the number of cells to compute).  Ignored with a scheduler.
    processes
        Local cluster workers in separate processes (True, the default: the checks are
        pure Python and need processes to use several cores) or threads of this process.
    output
        Overrides the spec's ``output`` (the CSV table; the log is ``OUTPUT.cells.jsonl``).
    retry_failed
        Run again the cells recorded with ``status = "error"`` (finished cells are never rerun).
    client
        An existing ``distributed.Client`` to use (then ``scheduler`` and ``workers`` are ignored).
    flush_seconds
        Rewrite the table at most this often while cells finish (always at the end).
    on_cell
        ``on_cell(index, record)`` called in this process after each computed cell is logged.
    progress
        ``progress(done, total, label)`` callback.

    Returns
    -------
    SweepResult
        Counts of computed, skipped and failed cells and the paths written.
    """
    spec = load_spec(spec, output=output)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(flush_seconds, bool) or not isinstance(flush_seconds, (int, float)) or not flush_seconds >= 0:
        raise ValueError(f"flush_seconds must be a number >= 0 (seconds), got {flush_seconds!r}")
    scheduler = scheduler if scheduler is not None else spec.scheduler
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ValueError(f"scheduler must be an address like 'tcp://HOST:PORT', got {scheduler!r}")
    table = spec.output
    log = table.with_name(table.name + ".cells.jsonl")
    t_start = time.perf_counter()
    parser = check_parser(get_check(spec.check))
    keyed = [(params, argv, cell_key(spec.check, argv, __version__, _parser=parser))
             for params, argv in spec.cells()]
    records = read_log(log)
    _repair_log(log)
    # One run per distinct key: cells whose options parse to the same values (window = 2 and "2") share it.
    first_of: dict[str, int] = {}
    for i, (_, _, key) in enumerate(keyed):
        first_of.setdefault(key, i)
    todo = [i for key, i in first_of.items()
            if key not in records or (retry_failed and records[key].get("status") == "error")]
    result = SweepResult(table=table, log=log, cells=len(keyed), skipped=len(first_of) - len(todo))
    cells_by_key = [(params, key) for params, _, key in keyed]

    def write_table() -> None:
        write_text_atomic(table, _table_csv(spec, cells_by_key, records))

    def finish() -> SweepResult:
        write_table()
        for i, (_, _, key) in enumerate(keyed):
            rec = records.get(key)
            if rec is None:
                continue
            if rec.get("status") == "error":
                result.errors[i] = rec.get("error", "")
            elif not rec.get("certified"):
                result.not_certified += 1
        result.seconds = time.perf_counter() - t_start
        return result

    if not todo:
        return finish()

    own: list[Any] = []
    try:
        if client is None:
            from distributed import Client, LocalCluster

            if scheduler is not None:
                client = Client(scheduler, set_as_default=False)
            else:
                n = workers if workers is not None else max(1, min(os.cpu_count() or 1, len(todo)))
                kw = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process, no sockets
                cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                       dashboard_address=None, **kw)
                own.append(cluster)
                client = Client(cluster, set_as_default=False)
            own.insert(0, client)
        _run_cells(client, spec, keyed, todo, records, log, result, __version__, write_table,
                   flush_seconds, on_cell, progress)
    finally:
        try:
            write_table()
        finally:
            for obj in own:
                obj.close()
    return finish()


def _run_cells(client: Any, spec: SweepSpec, keyed: list, todo: list[int], records: dict, log: Path,
               result: SweepResult, version: str, write_table: Callable[[], None], flush_seconds: float,
               on_cell: Callable | None, progress: Callable | None) -> None:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    # Tasks in flight: twice the cluster's threads (asked again every few seconds: workers may join or
    # leave), so every worker stays busy without 100,000 futures queued at once.
    window = [4, 0.0]

    def in_flight_target() -> int:
        if time.monotonic() - window[1] > 2.0:
            window[:] = [max(2 * sum(client.nthreads().values()), 4), time.monotonic()]
        return int(window[0])

    pending = iter(todo)
    index_of: dict[str, int] = {}
    ac = as_completed(loop=client.loop)

    def submit_next() -> bool:
        i = next(pending, None)
        if i is None:
            return False
        _, argv, key = keyed[i]
        fut = client.submit(_run_cell, spec.check, argv, key, version, key=f"tfapprox-cell-{key}", pure=False,
                            retries=0)
        index_of[fut.key] = i
        ac.add(fut)
        return True

    def top_up() -> None:
        target = in_flight_target()
        while len(index_of) < target and submit_next():
            pass

    top_up()
    last_flush = time.monotonic()
    done = 0
    try:
        for fut in ac:
            i = index_of.pop(fut.key)
            params, argv, key = keyed[i]
            try:
                record = fut.result()
            except KilledWorker as exc:  # the cell took down every worker it ran on
                record = {"key": key, "check": spec.check, "argv": list(argv), "status": "error", "certified": None,
                          "error": f"KilledWorker: {exc}", "rows": [], "seconds": None, "worker": None,
                          "tfapprox_version": version}
            fut.release()
            _append_log(log, record)
            records[key] = record
            result.computed += 1
            if record["status"] == "error":
                result.failed += 1
            done += 1
            if progress is not None:
                progress(done, len(todo), ", ".join(f"{k}={v}" for k, v in params.items()))
            if on_cell is not None:
                on_cell(i, record)
            top_up()
            if time.monotonic() - last_flush >= flush_seconds:
                write_table()
                last_flush = time.monotonic()
    except BaseException:
        for fut in list(ac.futures):
            fut.cancel()
        raise


# ----------------------------------------------------------------------------------- CLI
def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` command to the ``tfapprox`` subparsers (``parser.add_subparsers()``); returns it."""
    p = subparsers.add_parser(
        "sweep", help="run a check over a parameter grid on a Dask cluster (resumable)",
        description="Run a registered check over a grid of options (a TOML spec: check, options, grid, output) on "
                    "an embedded local Dask cluster or, with --scheduler, a running dask.distributed cluster. "
                    "Finished cells are logged as they finish (OUTPUT.cells.jsonl) and never recomputed: run the "
                    "same command again to resume. A cell whose check raises is recorded with its error. "
                    "See docs/sweeps.md. Exit status 0 if every cell ran and was certified, 1 if not, 2 for a "
                    "bad spec.")
    add_sweep_arguments(p)
    return p


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``tfapprox sweep`` on ``parser`` (a subparser)."""
    parser.add_argument("spec", help="sweep spec (TOML: check, options, grid, output; see docs/sweeps.md)")
    parser.add_argument("--scheduler", default=None,
                        help="tcp://HOST:PORT of a running dask.distributed scheduler (default: the spec's "
                             "'scheduler', else an embedded local cluster)")
    parser.add_argument("--workers", type=int, default=None,
                        help="workers of the local cluster, one process each (default: number of CPUs)")
    parser.add_argument("--out", default=None, help="CSV table to write (default: the spec's 'output')")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the cells recorded with an error (finished cells are never rerun)")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``tfapprox sweep``: 0 if every cell ran and was certified, 1 if not (bad input raises ValueError)."""
    show = (not args.quiet) and sys.stderr.isatty()

    def progress(done: int, total: int, label: str) -> None:
        if show:
            sys.stderr.write(f"\r{done}/{total} cells  {label[:50]:<50}")
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()

    res = run_sweep(args.spec, scheduler=args.scheduler, workers=args.workers, output=args.out,
                    retry_failed=args.retry_failed, progress=progress)
    if not args.quiet:
        print(f"sweep: {res.cells} cells, {res.computed} computed, {res.skipped} already done, "
              f"{len(res.errors)} with errors, {res.not_certified} not certified ({res.seconds:.1f} s)")
        for i, err in sorted(res.errors.items())[:10]:
            print(f"  cell {i}: {err}")
        print(f"table: {res.table}\nlog:   {res.log}")
    return 0 if res.ok else 1

