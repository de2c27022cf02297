"""``verify --all`` in worker processes: the same report as a serial run, whatever the worker count.

The checks are the small registered ones of tests/parallel_checks.py (the real ones take minutes).
Every file of the report folder is compared byte for byte after the measured seconds are
masked (the JSON ``seconds`` key, the ``seconds`` column and the ``in N s`` of index.md, the
run's total time); the process-id note differs by design and shows that the jobs ran elsewhere.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tfapprox.verify import registry
from tfapprox.verify import report as report_mod
from tfapprox.verify.registry import Check


@pytest.fixture
def parallel_checks():
    """tests/parallel_checks.py, its checks registered for the test only (a worker process
    registers them by importing the module; this process must not keep them: other tests in
    the same pytest worker list the registry)."""
    import parallel_checks as module

    for check in module.CHECKS:
        registry.CHECKS[check.name] = check
    yield module
    for check in module.CHECKS:
        registry.CHECKS.pop(check.name, None)


def _run(parallel_checks, tmp_path: Path, monkeypatch, workers: int, name: str) -> tuple[Path, bool]:
    monkeypatch.setattr(report_mod, "all_checks", lambda: list(parallel_checks.CHECKS))
    folder = tmp_path / name
    ok = report_mod.run_all(folder, quiet=True, command=["tfapprox", "verify", "--all"], workers=workers)
    return folder, ok


def _masked(folder: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        if path.suffix == ".json":
            obj = json.loads(data)
            assert isinstance(obj.pop("seconds"), float)
            obj["notes"] = [n for n in obj["notes"] if not n.startswith("pid ")]
            data = json.dumps(obj, sort_keys=True).encode()
        elif path.name == "index.md":
            text = data.decode()
            text = re.sub(r"\| [0-9.]+ \|$", "| S |", text, flags=re.M)
            text = re.sub(r"in [0-9.]+ s\.", "in S s.", text)
            text = re.sub(r"checks, [0-9]+ s;", "checks, S s;", text)
            text = re.sub(r"- pid [0-9]+", "- pid P", text)
            data = text.encode()
        files[path.name] = data
    return files


def test_parallel_report_equals_serial_for_any_worker_count(parallel_checks, tmp_path, monkeypatch) -> None:
    serial, ok1 = _run(parallel_checks, tmp_path, monkeypatch, 1, "serial")
    two, ok2 = _run(parallel_checks, tmp_path, monkeypatch, 2, "two")
    three, ok3 = _run(parallel_checks, tmp_path, monkeypatch, 3, "three")
    assert ok1 and ok2 and ok3
    base = _masked(serial)
    assert {"par-a-seed-1.json", "par-a-seed-2-size-5.json", "par-b-seed-3-size-4.png", "par.md",
            "par-2.bin", "index.md"} <= set(base)
    assert _masked(two) == base
    assert _masked(three) == base
    assert "par-a" in registry.CHECKS  # registered for this test only (see the fixture)
    # the text page collects the sections in job order, not in finishing order
    assert (two / "par.md").read_text().index("seed 1") < (two / "par.md").read_text().index("seed 3")
    # the serial run ran in this process, the parallel one elsewhere
    pid_note = lambda folder: json.loads((folder / "par-pid.json").read_text())["notes"][0]
    assert pid_note(serial) == f"pid {os.getpid()}"
    assert pid_note(two) != f"pid {os.getpid()}"


def test_parallel_run_prints_results_in_job_order(parallel_checks, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(report_mod, "all_checks", lambda: list(parallel_checks.CHECKS))
    assert report_mod.run_all(tmp_path / "a", workers=2)
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("== ")]
    assert [h.split(":")[0] for h in heads] == ["== par-1", "== par-2", "== par-3", "== par-pid"]


def test_unregistered_checks_run_serially_in_this_process(parallel_checks, tmp_path, monkeypatch) -> None:
    # a check built in a test (not in the registry under its name) cannot be found by a worker
    local = Check("local-only", "not registered", parallel_checks._args, parallel_checks._run_pid)
    monkeypatch.setattr(report_mod, "all_checks", lambda: [local])
    assert report_mod.run_all(tmp_path, quiet=True, workers=2)
    assert json.loads((tmp_path / "local-only.json").read_text())["notes"] == [f"pid {os.getpid()}"]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_workers_must_be_a_positive_integer(parallel_checks, tmp_path, monkeypatch, bad) -> None:
    monkeypatch.setattr(report_mod, "all_checks", lambda: list(parallel_checks.CHECKS))
    with pytest.raises(ValueError, match="workers must be a positive integer"):
        report_mod.run_all(tmp_path, quiet=True, workers=bad)


def test_default_workers_reads_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TFAPPROX_WORKERS", "3")
    assert report_mod.default_workers() == 3
    monkeypatch.setenv("TFAPPROX_WORKERS", "zero")
    with pytest.raises(ValueError, match="TFAPPROX_WORKERS must be a positive integer, got 'zero'"):
        report_mod.default_workers()
    monkeypatch.delenv("TFAPPROX_WORKERS")
    assert 1 <= report_mod.default_workers() <= 8


def test_the_test_checks_leave_the_registry() -> None:
    assert not any(name.startswith("par-") for name in registry.CHECKS)
