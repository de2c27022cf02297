"""Model-file lowering benchmark (issue 15, item 2): certified ball arithmetic vs sympy evalf.

Builds the Theorem 3.1 model with one memory (``tfapprox build thm3.1 --lags 20 --heads H``:
``build_thm3_1(fixed_memory_target([20]), H)``) and writes it with ``Model.save`` twice: once
with the ball-arithmetic fast path of :func:`tfapprox.theory.numbers._lower` (python-flint
``arb``), once with that path switched off, so that every irrational weight
``a_k / (1 - e^{-beta_k})`` (or ``a_k zeta(beta_k)`` with ``--rpe log``) is lowered by sympy's
``evalf(strict=True)`` as before.  The two files must be identical byte for byte.

Times are CPU seconds of this process (``time.process_time``; the machine may be shared).
Run: ``python bench/bench_lowering.py [--heads 1024 4096] [--rpe lin]``.  Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from tfapprox.api import fixed_memory_target
from tfapprox.constructions.thm3_1 import build_thm3_1
from tfapprox.theory import numbers
from tfapprox.verify.model import Model


def bench(H: int, *, rpe: str = "lin", lag: int = 20, baseline: bool = True) -> dict:
    """CPU seconds of build, fast save and (when ``baseline``) evalf-only save at ``H`` heads."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.process_time()
        cons = build_thm3_1(fixed_memory_target([lag]), H, rpe=rpe)
        t_build = time.process_time() - t0
        counts0 = dict(numbers.LOWERING_COUNTS)
        fast = Path(tmp) / "fast.json"
        t0 = time.process_time()
        Model(cons.spec).save(fast)
        t_fast = time.process_time() - t0
        row = {"H": H, "rpe": rpe, "build": t_build, "save_fast": t_fast, "bytes": fast.stat().st_size,
               "ball": numbers.LOWERING_COUNTS["ball"] - counts0["ball"],
               "sympy": numbers.LOWERING_COUNTS["sympy"] - counts0["sympy"]}
        if baseline:
            slow = Path(tmp) / "slow.json"
            original = numbers._lower_ball
            numbers._lower_ball = lambda expr, digits: None  # the pre-issue-15 path: evalf only
            try:
                t0 = time.process_time()
                Model(cons.spec).save(slow)
                t_slow = time.process_time() - t0
            finally:
                numbers._lower_ball = original
            row.update({"save_sympy": t_slow, "identical": fast.read_bytes() == slow.read_bytes(),
                        "ratio_save": t_slow / t_fast, "ratio_total": (t_build + t_slow) / (t_build + t_fast)})
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heads", type=int, nargs="+", default=[1024, 4096])
    ap.add_argument("--rpe", choices=["lin", "log"], default="lin")
    ap.add_argument("--no-baseline", action="store_true", help="skip the evalf-only save")
    args = ap.parse_args(argv)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for H in args.heads:
        r = bench(H, rpe=args.rpe, baseline=not args.no_baseline)
        line = (f"H = {H} ({r['rpe']}): build {r['build']:.2f} s, save (ball) {r['save_fast']:.2f} s "
                f"[{r['ball']} ball, {r['sympy']} evalf], {r['bytes'] / 1e6:.1f} MB")
        if "save_sympy" in r:
            line += (f"; save (evalf only) {r['save_sympy']:.2f} s; build + save {r['build'] + r['save_fast']:.2f} s"
                     f" vs {r['build'] + r['save_sympy']:.2f} s: save {r['ratio_save']:.1f}x, total "
                     f"{r['ratio_total']:.1f}x; files identical: {r['identical']}")
        print(line, flush=True)
    print(f"# load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
