"""Benchmark of ``tfapprox sweep`` (verify/sweep.py): the same grid on 1 and on 2 Dask workers.

The grid: the ``lemma-f1`` check (Wang & E 2024, Lemma F.1: exact l1 error of the
exponential-sum delta approximation against the explicit bound) at H = 64 ... 1024 heads,
over lags T in {1, 5, 20} and alpha in {0.01, 0.02}: 6 cells of roughly equal cost.  Each
run gets a fresh local cluster (single-threaded worker processes on 127.0.0.1) whose
workers have already imported the checks, so the timed part is the sweep itself: cells
scheduled, computed, logged and the table written.  Cluster start-up is reported apart.

Reported: wall time on 1 worker, on 2 workers, the ratio (ideal 2 on 2 free cores; less
when the machine is shared), and whether the two tables are identical byte for byte (the
answers compared).

Run: ``python bench/bench_sweep.py`` (about a minute).  Results: bench/README.md.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

SPEC = {
    "check": "lemma-f1",
    "output": "bench-sweep.csv",
    "options": {"heads": "64,128,256,512,1024", "window": 3},
    "grid": {"lags": [1, 5, 20], "alpha": ["0.01", "0.02"]},
}


def _warm() -> int:
    """Run on each worker: import the checks (what the first cell would otherwise pay)."""
    from tfapprox.verify.registry import all_checks

    return len(all_checks())


def run(workers: int, folder: Path) -> dict:
    from distributed import Client, LocalCluster

    from tfapprox.verify.sweep import run_sweep

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    client.run(_warm)
    startup = time.perf_counter() - t0
    try:
        out = folder / f"workers-{workers}.csv"
        t0 = time.perf_counter()
        res = run_sweep(SPEC, client=client, output=out)
        seconds = time.perf_counter() - t0
    finally:
        client.close()
        cluster.close()
    assert res.computed == res.cells and res.ok, res
    return {"workers": workers, "startup_seconds": startup, "sweep_seconds": seconds, "table": out.read_bytes(),
            "cells": res.cells}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tfapprox-bench-sweep-") as tmp:
        one = run(1, Path(tmp))
        two = run(2, Path(tmp))
    same = one["table"] == two["table"]
    rows = one["table"].decode().count("\n") - 1
    print(f"grid: {one['cells']} cells of lemma-f1 (H = 64..1024, T in 1,5,20, alpha in 0.01,0.02), {rows} table rows")
    for r in (one, two):
        print(f"{r['workers']} worker(s): sweep {r['sweep_seconds']:.2f} s (cluster start-up {r['startup_seconds']:.2f} s)")
    print(f"ratio 1 worker / 2 workers: {one['sweep_seconds'] / two['sweep_seconds']:.2f}x")
    print(f"tables identical: {same}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {load[0]:.2f}" if isinstance(load[0], float) else "")
    if not same:
        raise SystemExit("the tables differ")


if __name__ == "__main__":
    main()
