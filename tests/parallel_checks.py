"""Small registered checks for the parallel ``verify --all`` tests (tests/test_report_parallel.py).

Importing this module registers them (a worker process of ``run_all`` imports it by name, as it
imports the built-in check modules).  Each computes something deterministic from its options
(a seeded random table, a plot file, a text page and a byte page) so that the serial and the
parallel report can be compared file by file.
"""

from __future__ import annotations

import argparse
import os
from typing import Any, Callable

import numpy as np

from tfapprox.verify.registry import Check, CheckResult, register


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--size", type=int, default=3, help="rows")
    p.add_argument("--seed", type=int, default=0, help="seed of the table")


def _run(o: argparse.Namespace, progress: Callable[[int, int, str], None]) -> CheckResult:
    rng = np.random.default_rng(o.seed)
    rows: list[dict[str, Any]] = []
    for i in range(o.size):
        progress(i, o.size, f"row {i}")
        rows.append({"n": i, "error": float(rng.random()), "bound": 1.0, "pid_free": True})
    table = "|".join(f"{r['error']:.17g}" for r in rows)

    def plot(path: str) -> None:
        with open(path, "wb") as fh:
            fh.write(f"plot {o.seed} {table}".encode())

    return CheckResult(
        "par-" + str(o.seed), all(r["error"] <= r["bound"] for r in rows), rows,
        columns=[("n", "n", "d"), ("error", "error", ".6g"), ("bound", "bound", "g")],
        notes=[f"worker-independent note {o.seed}"], parameters={"size": o.size, "seed": o.seed},
        plot=plot, pages={"par.md": f"section of seed {o.seed}: {table}", f"par-{o.seed}.bin": table.encode()},
        findings={"seed": o.seed}, findings_text=[f"seed {o.seed}"])


def _run_pid(o: argparse.Namespace, progress: Callable[[int, int, str], None]) -> CheckResult:
    """Records its process id in a note: lets the test see that jobs ran in other processes."""
    return CheckResult("par-pid", True, [{"n": 0, "error": 0.0, "bound": 1.0}], notes=[f"pid {os.getpid()}"])


PAR_A = register(Check("par-a", "parallel test check a", _args, _run,
                       default_options=(("--seed", "1"), ("--seed", "2", "--size", "5")), has_plot=True))
PAR_B = register(Check("par-b", "parallel test check b", _args, _run,
                       default_options=(("--seed", "3", "--size", "4"),), has_plot=True))
PAR_PID = register(Check("par-pid", "parallel test check: process id", _args, _run_pid,
                         default_options=((),), has_plot=False))
CHECKS = [PAR_A, PAR_B, PAR_PID]
