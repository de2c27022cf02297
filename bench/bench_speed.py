"""Speed benchmarks of issue 15 (items 1 and 3), reported as ratios within one run, answers compared.

(a) Start-up: ``python -c "import tfapprox"`` and ``tfapprox --help`` against ``python -c "import numpy,
    sympy"`` (the two libraries a user of the package loads anyway) and against ``python -c pass``
    (the interpreter alone).  Each command runs ``--repeat`` times in a fresh process; the table
    gives the median wall time and the median CPU time (user + sys of the child).  Answer check:
    ``import tfapprox`` must expose every name of ``tfapprox.__all__``.
(b) ``tfapprox verify --all``: serial (``--jobs 1``) against parallel (``--jobs N``, default the
    usable CPUs), each a fresh process writing its own report folder.  Wall and CPU time (the
    process and its worker processes).  Answer check: every JSON file and ``index.md`` of the two
    folders are compared after masking what is a measured time (every ``seconds`` key, the seconds
    column, ``seconds=`` parameters and the ``in N s`` of ``index.md``); the PNG and other files
    byte for byte.  The
    differences are listed (there should be none).

Run: ``python bench/bench_speed.py`` (a few minutes: (b) runs ``verify --all`` twice; ``--skip-verify``
leaves it out).  On a shared machine the wall times depend on the load (printed with the result);
the CPU times and ratios much less.  Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(cmd: list[str], **kw) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU seconds of one child process (CPU: user + sys of it and its own children)."""
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, cpu, proc


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    except OSError:  # pragma: no cover
        return "load unknown"


def bench_import(repeat: int) -> list[dict]:
    py = sys.executable
    tf = str(BIN / "tfapprox")
    cases = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import numpy, sympy'", [py, "-c", "import numpy, sympy"]),
        ("python -c 'import tfapprox'", [py, "-c", "import tfapprox"]),
        ("tfapprox --help", [tf, "--help"]),
    ]
    rows = []
    for name, cmd in cases:
        walls, cpus = [], []
        for _ in range(repeat):
            wall, cpu, _proc = _timed(cmd)
            walls.append(wall)
            cpus.append(cpu)
        rows.append({"command": name, "wall": statistics.median(walls), "cpu": statistics.median(cpus)})
    # answer: every public name resolves
    check = subprocess.run([py, "-c", "import tfapprox; missing = [n for n in tfapprox.__all__ "
                                      "if getattr(tfapprox, n, None) is None]; print(len(tfapprox.__all__), missing)"],
                           capture_output=True, text=True, check=True)
    ref = next(r for r in rows if "numpy" in r["command"])
    for r in rows:
        r["ratio_wall"] = r["wall"] / ref["wall"]
        r["ratio_cpu"] = r["cpu"] / ref["cpu"] if ref["cpu"] > 0 else float("nan")
    rows.append({"answers": check.stdout.strip()})
    return rows


def _mask_index(text: str) -> str:
    text = re.sub(r"\| [0-9.]+ \|$", "| S |", text, flags=re.M)
    text = re.sub(r"in [0-9.]+ s\.", "in S s.", text)
    text = re.sub(r"checks, [0-9]+ s;", "checks, S s;", text)
    text = re.sub(r"`seconds=[0-9.]+`", "`seconds=S`", text)
    return re.sub(r"; command `[^`]*`", "", text)


def _drop_times(obj):
    """JSON data without its measured times (every ``seconds`` key, at any depth)."""
    if isinstance(obj, dict):
        return {k: _drop_times(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_drop_times(v) for v in obj]
    return obj


def compare_reports(a: Path, b: Path) -> list[str]:
    """The differences between two ``verify --all`` report folders, measured times masked."""
    diffs = []
    names_a = {p.name for p in a.iterdir()}
    names_b = {p.name for p in b.iterdir()}
    for name in sorted(names_a ^ names_b):
        diffs.append(f"{name}: only in {'serial' if name in names_a else 'parallel'}")
    for name in sorted(names_a & names_b):
        da, db = (a / name).read_bytes(), (b / name).read_bytes()
        if name.endswith(".json"):
            ja, jb = _drop_times(json.loads(da)), _drop_times(json.loads(db))
            for j in (ja, jb):
                j.pop("command", None)
            if ja != jb:
                keys = sorted(k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k))
                diffs.append(f"{name}: keys differ: {', '.join(keys)}")
        elif name == "index.md":
            if _mask_index(da.decode()) != _mask_index(db.decode()):
                la, lb = _mask_index(da.decode()).splitlines(), _mask_index(db.decode()).splitlines()
                bad = [i for i, (x, y) in enumerate(zip(la, lb)) if x != y][:5]
                diffs.append(f"index.md: lines {bad} differ (of {len(la)} / {len(lb)})")
        elif da != db:
            diffs.append(f"{name}: bytes differ")
    return diffs


def bench_verify(jobs: int, keep: Path | None) -> dict:
    tf = str(BIN / "tfapprox")
    root = Path(tempfile.mkdtemp(prefix="tfapprox-bench-"))
    out = {}
    try:
        for label, n in (("serial", 1), ("parallel", jobs)):
            folder = root / label
            wall, cpu, proc = _timed([tf, "verify", "--all", "--quiet", "--jobs", str(n), "--out", str(folder)])
            out[label] = {"jobs": n, "wall": wall, "cpu": cpu, "exit": proc.returncode, "load_after": _load()}
        out["differences"] = compare_reports(root / "serial", root / "parallel")
        out["files_compared"] = len(list((root / "serial").iterdir()))
        out["ratio_wall"] = out["serial"]["wall"] / out["parallel"]["wall"]
        if keep is not None:
            shutil.copytree(root, keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of each start-up command (median reported)")
    ap.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                    else (os.cpu_count() or 1), help="worker processes of the parallel verify --all")
    ap.add_argument("--skip-verify", action="store_true", help="leave out (b), the two verify --all runs")
    ap.add_argument("--keep", type=Path, default=None, help="copy both report folders here")
    ap.add_argument("--json", type=Path, default=None, help="write the numbers as JSON here")
    args = ap.parse_args(argv)
    print(f"# bench_speed: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{_load()} at start")
    result: dict = {"machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_at_start": _load()}
    rows = bench_import(args.repeat)
    result["import"] = rows
    print("\n## (a) start-up (median of %d fresh processes)\n" % args.repeat)
    print("| command | wall s | CPU s | wall / numpy+sympy | CPU / numpy+sympy |")
    print("|---|---|---|---|---|")
    for r in rows[:-1]:
        print(f"| `{r['command']}` | {r['wall']:.3f} | {r['cpu']:.3f} | {r['ratio_wall']:.2f} | {r['ratio_cpu']:.2f} |")
    print(f"\nanswers: `tfapprox.__all__` names and the missing ones: {rows[-1]['answers']}")
    if not args.skip_verify:
        v = bench_verify(args.jobs, args.keep)
        result["verify_all"] = v
        print("\n## (b) tfapprox verify --all, serial vs parallel\n")
        print("| run | jobs | wall s | CPU s (all processes) | exit | load after |")
        print("|---|---|---|---|---|---|")
        for label in ("serial", "parallel"):
            r = v[label]
            print(f"| {label} | {r['jobs']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['exit']} | {r['load_after']} |")
        print(f"\nwall ratio serial / parallel: **{v['ratio_wall']:.2f}x**; {v['files_compared']} files compared, "
              f"differences (measured times masked): {v['differences'] or 'none'}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
