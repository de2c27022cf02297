"""``tfapprox sweep`` (verify/sweep.py): grid specs run through dask.distributed.

The documented example grid (docs/examples/sweep-lemma-f1.toml, 4 cells of the Lemma F.1
check) runs on a threads-only cluster (the reference table), on the default local
cluster (worker processes), and on a real ``dask scheduler`` with two ``dask worker``
processes started here on 127.0.0.1, one of them killed while it computes a cell: every
table must equal the reference byte for byte.  Resuming an interrupted sweep must run
only the cells missing from the log; a cell whose check raises must be recorded with its
error; bad specs must be refused with a ValueError naming the spec key.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tfapprox.verify import registry
from tfapprox.verify.sweep import (MAX_CELLS, add_sweep_arguments, add_sweep_parser, cell_key, cmd_sweep, load_spec, read_log,
                                   run_sweep)

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "sweep-lemma-f1.toml"


def _table(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> bytes:
    """The example grid on an in-process (threads) cluster with one worker."""
    out = tmp_path_factory.mktemp("ref") / "ref.csv"
    res = run_sweep(EXAMPLE, output=out, workers=1, processes=False)
    assert (res.cells, res.computed, res.skipped, res.failed) == (4, 4, 0, 0)
    assert res.ok
    rows = _table(out)
    # 4 cells x 3 head counts, in grid order (lags slowest, alpha fastest), every row certified
    assert [(r["cell"], r["opt_lags"], r["opt_alpha"], r["H"]) for r in rows] == [
        (str(c), lag, alpha, H) for c, (lag, alpha) in enumerate([("1", "0.01"), ("1", "0.02"), ("5", "0.01"),
                                                                   ("5", "0.02")]) for H in ("8", "16", "32")]
    assert all(r["cell_status"] == "done" and r["cell_certified"] == "True" and r["within_bound"] == "True"
               for r in rows)
    assert all(float(r["error"]) <= float(r["bound"]) for r in rows)
    assert "seconds" not in rows[0]  # wall times stay in the log
    return out.read_bytes()


def test_table_matches_a_direct_verify_run(reference, tmp_path):
    """A cell's rows are exactly what the check returns for the same command line."""
    check = registry.get_check("lemma-f1")
    parser = argparse.ArgumentParser()
    check.add_arguments(parser)
    result = check.run(parser.parse_args(["--heads", "8,16,32", "--window", "2", "--lags", "5", "--alpha", "0.02"]),
                       lambda *a: None)
    (tmp_path / "r.csv").write_bytes(reference)
    rows = [r for r in _table(tmp_path / "r.csv") if r["cell"] == "3"]
    assert [float(r["error"]) for r in rows] == [float(x["error"]) for x in result.rows]
    assert [float(r["bound"]) for r in rows] == [float(x["bound"]) for x in result.rows]


def test_default_local_cluster_gives_the_reference_table(reference, tmp_path):
    out = tmp_path / "local.csv"
    res = run_sweep(EXAMPLE, output=out, workers=2)  # worker processes on 127.0.0.1
    assert (res.computed, res.failed) == (4, 0)
    assert out.read_bytes() == reference
    workers = {rec["worker"] for rec in read_log(res.log).values()}
    assert all(not w.endswith(f":{os.getpid()}") for w in workers)  # the cells ran in other processes


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    # cwd outside the repository: from its root `-c "import tfapprox"` would import the source folder
    return subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=log.parent)


@pytest.fixture
def dask_cluster(tmp_path):
    """A real dask.distributed scheduler and two single-thread workers (no nanny) on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    bindir = Path(sys.executable).parent
    dask_cli = [str(bindir / "dask")] if (bindir / "dask").exists() else [sys.executable, "-m", "dask"]
    procs = [_start(dask_cli + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                "--scheduler-file", str(sched_file)], tmp_path / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() or not sched_file.read_text().strip():
            assert procs[0].poll() is None, (tmp_path / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "scheduler did not start"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = [_start(dask_cli + ["worker", address, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                                      "--no-dashboard", "--name", f"w{i}"], tmp_path / f"worker{i}.log")
                   for i in range(2)]
        procs += workers
        from distributed import Client

        client = Client(address, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield address, client, workers
        client.close()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_real_scheduler_two_workers_and_a_killed_worker(reference, tmp_path, dask_cluster):
    address, client, workers = dask_cluster
    # 1. the example grid through --scheduler: the same table as the reference
    out = tmp_path / "cluster.csv"
    res = run_sweep(EXAMPLE, scheduler=address, output=out)
    assert (res.computed, res.failed) == (4, 0)
    assert out.read_bytes() == reference
    assert len({rec["worker"] for rec in read_log(res.log).values()}) >= 1

    # 2. again into a new table, in a thread; as soon as a worker holds a cell, kill it (SIGKILL)
    pids = client.run(os.getpid)  # worker address -> pid
    out2 = tmp_path / "killed.csv"
    box: dict = {}

    def sweep() -> None:
        try:
            box["result"] = run_sweep(EXAMPLE, output=out2, client=client)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc

    thread = threading.Thread(target=sweep)
    thread.start()
    deadline = time.monotonic() + 60
    victim = held = None
    while victim is None and thread.is_alive() and time.monotonic() < deadline:
        busy = {w: tasks for w, tasks in client.processing().items() if tasks}
        if busy:
            worker, held = sorted(busy.items())[0]
            victim = next(p for p in workers if p.pid == pids[worker])
            victim.kill()
            victim.wait()
        else:
            time.sleep(0.002)
    thread.join(120)
    assert not thread.is_alive() and "error" not in box, box.get("error")
    assert victim is not None and held, "no worker held a cell to lose"
    res2 = box["result"]
    assert (res2.computed, res2.failed) == (4, 0)  # the lost cells were rescheduled on the survivor
    assert out2.read_bytes() == reference
    survivor = next(p for p in workers if p is not victim)
    ran_on = {int(rec["worker"].rsplit(":", 1)[1]) for rec in read_log(res2.log).values()}
    assert survivor.pid in ran_on and ran_on <= {survivor.pid, victim.pid}


def _counting_check(monkeypatch, calls: list) -> None:
    """Register `sweep-counter`: lemma-f1 that records every execution (threads cluster: same process)."""
    base = registry.get_check("lemma-f1")

    def run(options, progress):
        calls.append((options.lags, options.alpha))
        return base.run(options, progress)

    monkeypatch.setitem(registry.CHECKS, "sweep-counter",
                        registry.Check("sweep-counter", "test", base.add_arguments, run))


def _example_as(check: str, out: Path) -> dict:
    import tomllib

    data = tomllib.loads(EXAMPLE.read_text())
    data.update(check=check, output=str(out))
    return data


def test_resume_after_interrupt_recomputes_nothing_finished(reference, tmp_path, monkeypatch):
    calls: list = []
    _counting_check(monkeypatch, calls)
    out = tmp_path / "resume.csv"
    spec = _example_as("sweep-counter", out)

    class Stop(Exception):
        pass

    def stop_after_two(index, record):
        if len(read_log(out.with_name(out.name + ".cells.jsonl"))) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(spec, workers=1, processes=False, on_cell=stop_after_two)
    logged = read_log(out.with_name(out.name + ".cells.jsonl"))
    assert len(logged) == 2
    assert len({r["cell"] for r in _table(out)}) == 2  # the table was written on the way out
    # a crash while writing the log leaves an unterminated line: it is ignored
    with open(out.with_name(out.name + ".cells.jsonl"), "ab") as fh:
        fh.write(b'{"key":"abc","sta')
    calls.clear()
    res = run_sweep(spec, workers=1, processes=False)
    assert (res.skipped, res.computed) == (2, 2)
    assert len(calls) == 2  # only the two missing cells ran
    done_before = {(r["argv"][-2].split("=")[1], r["argv"][-1].split("=")[1]) for r in logged.values()}
    assert not done_before & {(str(a), str(b)) for a, b in calls}
    # the same rows as the reference (the check's name is not in the table; the cell keys differ with it)
    ref_path = tmp_path / "ref.csv"
    ref_path.write_bytes(reference)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "cell_key"} for r in rows]  # noqa: E731
    assert strip(_table(out)) == strip(_table(ref_path))
    # a third run computes nothing
    calls.clear()
    res = run_sweep(spec, workers=1, processes=False)
    assert (res.skipped, res.computed, len(calls)) == (4, 0, 0)


def test_resume_after_the_sweep_process_is_killed(reference, tmp_path):
    """SIGKILL the process running a sweep after its first logged cell; a new run completes the rest."""
    out = tmp_path / "crash.csv"
    log = out.with_name(out.name + ".cells.jsonl")
    script = ("import sys, time\nfrom tfapprox.verify.sweep import run_sweep\n"
              "run_sweep(sys.argv[1], output=sys.argv[2], workers=1, processes=False,\n"
              "          on_cell=lambda i, rec: time.sleep(30))\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(EXAMPLE), str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and log.read_bytes().count(b"\n") >= 1):
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep did not log a cell"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    assert len(read_log(log)) == 1
    res = run_sweep(EXAMPLE, output=out, workers=1, processes=False)
    assert (res.skipped, res.computed) == (1, 3)
    assert out.read_bytes() == reference


def test_failing_cell_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    out = tmp_path / "fail.csv"
    spec = {"check": "lemma-f1", "output": str(out), "options": {"lags": "5", "window": 2},
            "grid": {"heads": ["8,16,32", "32,16,8"]}}
    res = run_sweep(spec, workers=1, processes=False)
    assert (res.computed, res.failed) == (2, 1)
    assert not res.ok and list(res.errors) == [1]
    rows = _table(out)
    assert [r["cell_status"] for r in rows] == ["done"] * 3 + ["error"]
    assert rows[-1]["opt_heads"] == "32,16,8"
    assert rows[-1]["cell_error"].startswith("ValueError: heads must be strictly increasing")
    assert rows[-1]["cell_certified"] == "" and rows[-1]["row"] == ""
    # finished (also failed) cells are not rerun; --retry-failed reruns only the failed one
    assert run_sweep(spec, workers=1, processes=False).computed == 0
    again = run_sweep(spec, workers=1, processes=False, retry_failed=True)
    assert (again.computed, again.failed, again.skipped) == (1, 1, 1)
    # the CLI handler: exit status 1, the error printed
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)
    spec_file = tmp_path / "fail.toml"
    spec_file.write_text(f'check = "lemma-f1"\noutput = {json.dumps(str(out))}\n[options]\nlags = "5"\nwindow = 2\n'
                         '[grid]\nheads = ["8,16,32", "32,16,8"]\n')
    assert cmd_sweep(parser.parse_args([str(spec_file)])) == 1
    text = capsys.readouterr().out
    assert "2 cells, 0 computed, 2 already done, 1 with errors" in text
    assert "cell 1: ValueError: heads must be strictly increasing" in text


def test_cells_with_equal_options_run_once(tmp_path):
    """window = 2 and "2" parse to the same options: one run, both cells in the table with its rows."""
    out = tmp_path / "dup.csv"
    res = run_sweep({"check": "lemma-f1", "output": str(out), "options": {"heads": "8,16,32", "lags": "5"},
                     "grid": {"window": [2, "2"]}}, workers=1, processes=False)
    assert (res.cells, res.computed, res.skipped) == (2, 1, 0)
    rows = _table(out)
    assert [r["cell"] for r in rows] == ["0"] * 3 + ["1"] * 3
    assert [r["error"] for r in rows[:3]] == [r["error"] for r in rows[3:]]


def test_cli_handler_on_a_finished_sweep(reference, tmp_path, capsys):
    out = tmp_path / "done.csv"
    run_sweep(EXAMPLE, output=out, workers=1, processes=False)
    parser = argparse.ArgumentParser(prog="tfapprox")
    add_sweep_parser(parser.add_subparsers(dest="command"))  # what tfapprox/cli.py does
    args = parser.parse_args(["sweep", str(EXAMPLE), "--out", str(out), "--workers", "1"])
    assert (args.command, args.workers, args.scheduler) == ("sweep", 1, None)
    assert cmd_sweep(args) == 0
    assert "4 cells, 0 computed, 4 already done, 0 with errors, 0 not certified" in capsys.readouterr().out
    assert out.read_bytes() == reference


def test_cell_key_depends_on_options_and_version():
    argv = ["--heads=8,16", "--lags=5"]
    assert cell_key("lemma-f1", argv) == cell_key("lemma-f1", ["--lags", "5", "--heads", "8,16", "--window", "3"])
    assert cell_key("lemma-f1", argv) != cell_key("lemma-f4", argv)
    assert cell_key("lemma-f1", argv, "0.1.0") != cell_key("lemma-f1", argv, "0.2.0")


@pytest.mark.parametrize("change, key", [
    ({"check": "no-such-check"}, "'check'"),
    ({"grid": {"no_such_option": [1, 2]}}, "grid.no_such_option"),
    ({"options": {"bogus": 1}}, "options.bogus"),
    ({"grid": {}}, "'grid'"),
    ({"grid": {"lags": []}}, "grid.lags"),
    ({"grid": {"lags": list(range(1, 400)), "alpha": [str(0.01 * i) for i in range(1, 400)]}}, "'grid'"),
    ({"grid": {"window": ["two"]}}, "grid.window='two'"),
    ({"grid": {"lags": 5}}, "grid.lags"),
    ({"options": {"lags": "5"}, "grid": {"lags": [1]}}, "grid.lags: option --lags is already given as options.lags"),
    ({"grid": {"n-max": [1], "n_max": [2]}}, "grid.n_max: option --n-max is already given as grid.n-max"),
    ({"grid": {"help": [True]}}, "grid.help"),
    ({"options": {"window": True}}, "options.window"),
    ({"colour": "red"}, "'colour'"),
    ({"output": "OUT/x.csv/in-a-file.csv"}, "'output'"),
    ({"output": "OUT"}, "'output'"),
    ({"scheduler": "localhost"}, "'scheduler'"),
])
def test_bad_specs_name_the_key(tmp_path, change, key):
    (tmp_path / "x.csv").write_text("a file, not a folder\n")
    spec = {"check": "lemma-f1", "output": str(tmp_path / "ok.csv"), "options": {"heads": "8,16,32"},
            "grid": {"lags": [1, 5]}}
    spec.update({k: (v.replace("OUT", str(tmp_path)) if k == "output" else v) for k, v in change.items()})
    with pytest.raises((ValueError, TypeError)) as info:
        load_spec(spec)
    assert key in str(info.value)
    assert not (tmp_path / "ok.csv").exists()


def test_grid_size_limit_is_exact(tmp_path):
    spec = {"check": "lemma-f1", "output": str(tmp_path / "t.csv"),
            "grid": {"lags": list(range(1, 101)), "alpha": [str(i) for i in range(1, 1001)]}}
    assert load_spec(spec).size == MAX_CELLS == 100 * 1000
    spec["grid"]["n_max"] = [1, 2]
    with pytest.raises(ValueError, match="200,000 cells"):
        load_spec(spec)


def test_output_override_replaces_an_unwritable_spec_output(tmp_path):
    (tmp_path / "file").write_text("")
    spec = {"check": "lemma-f1", "output": str(tmp_path / "file" / "x.csv"), "grid": {"lags": [1]}}
    with pytest.raises(ValueError, match="'output'"):
        load_spec(spec)
    assert load_spec(spec, output=tmp_path / "y.csv").output == tmp_path / "y.csv"
    del spec["output"]
    assert load_spec(spec, output=str(tmp_path / "z.csv")).output == tmp_path / "z.csv"


def test_spec_file_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("check = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(ValueError, match="workers"):
        run_sweep(EXAMPLE, output=tmp_path / "t.csv", workers=0)


def test_docs_page_shows_the_example_file():
    """docs/sweeps.md's TOML block is the example file, and its Python example is the same spec."""
    import re
    import tomllib

    page = (EXAMPLE.parents[1] / "sweeps.md").read_text()
    block = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    assert block == EXAMPLE.read_text()
    data = tomllib.loads(EXAMPLE.read_text())
    assert data == {"check": "lemma-f1", "output": "lemma-f1-sweep.csv",
                    "options": {"heads": "8,16,32", "window": 2}, "grid": {"lags": [1, 5], "alpha": ["0.01", "0.02"]}}
    assert '"options": {"heads": "8,16,32", "window": 2}' in page and '"grid": {"lags": [1, 5], "alpha": ["0.01", "0.02"]}' in page
