"""Verdicts, progress, report index and notebook display (issue 16, items 5-6).

* the verdict separates what a check certifies (``passed`` / ``certified``) from what it
  found (``findings``), in the printed line, the JSON and the report index;
* every JSON records the tfapprox version and the command line;
* progress reports elapsed time and ETA, and when piped writes lines at a bounded cadence
  (at most one step line per ``min_interval``, at least one line per ``max_interval`` even
  inside one long step, from the heartbeat), with an overall ``[i/n]`` line for ``--all``;
* every check declares whether it draws a plot, and every check option has a help string;
* construction results, models and results display shortly (repr, HTML, LaTeX);
* no tfapprox module switches matplotlib's backend or imports pyplot.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from tfapprox.verify import report as report_mod
from tfapprox.verify.progress import ProgressReporter, format_duration
from tfapprox.verify.registry import Check, CheckResult, all_checks, run_info


class _Clock:
    """A fake monotonic clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


class _Stamped(io.StringIO):
    """A stream recording the fake time of every line written."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.stamps: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.stamps.append((self.clock.t, line))
        return super().write(text)

    def isatty(self) -> bool:
        return False


def _run_fake_check(rep: ProgressReporter, clock: _Clock, steps: list[float], tick: float = 1.0) -> None:
    """A check whose step i lasts steps[i] (fake) seconds; the heartbeat thread is simulated by
    calling ``rep.poll()`` every ``tick`` fake seconds."""
    total = len(steps)
    for i, duration in enumerate(steps):
        rep(i, total, f"step {i}")
        end = clock.t + duration
        while clock.t < end:
            clock.t = min(clock.t + tick, end)
            rep.poll()
    rep(total, total, "done")


# ----------------------------------------------------------------------------- progress
def test_piped_progress_is_rate_limited_and_has_eta() -> None:
    clock = _Clock()
    out = _Stamped(clock)
    rep = ProgressReporter(out, interactive=False, clock=clock, heartbeat=False)
    with rep.stage("fast"):
        _run_fake_check(rep, clock, [1.0] * 100)  # a step a second for 100 s
    lines = [line for _, line in out.stamps]
    assert lines[0] == "fast: started" and lines[-1] == "fast: done in 1:40"
    step_times = [t for t, line in out.stamps if "/100 step" in line or "100/100" in line]
    # at most one step line per 10 s, but one at least every 10 s while steps keep coming
    assert all(b - a >= 10.0 for a, b in zip(step_times, step_times[1:]))
    assert 9 <= len(step_times) <= 11
    assert "ETA 1:30" in lines[2]  # 10 of 100 steps in 10 s -> 90 s left
    assert "elapsed 0:10" in lines[2]
    assert not any("still running" in line for line in lines)  # step lines came often enough


def test_heartbeat_inside_one_long_step_at_least_once_a_minute() -> None:
    """``verify --all 2>&1 | cat``: a check whose one step runs 5 minutes still reports every minute."""
    clock = _Clock()
    out = _Stamped(clock)
    rep = ProgressReporter(out, interactive=False, clock=clock, heartbeat=False)
    with rep.stage("tightness", 2, 3):
        _run_fake_check(rep, clock, [3.0, 300.0, 2.0])
    times = [t for t, _ in out.stamps]
    assert times[0] == 0.0 and times[-1] == 305.0
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= 60.0, out.getvalue()
    beats = [line for _, line in out.stamps if "still running" in line]
    assert len(beats) >= 4
    assert beats[0].startswith("[2/3] still running tightness (elapsed 1:00; last step: 1/3 step 1)")
    assert all(line.startswith("[2/3] ") for _, line in out.stamps)
    assert "overall" in out.stamps[-1][1]


def test_heartbeat_thread_writes_when_steps_are_sparse() -> None:
    """The real timer thread (short intervals so the test takes about a second)."""
    out = _Stamped(_Clock())  # stamps unused: real clock below
    rep = ProgressReporter(out, interactive=False, min_interval=0.05, max_interval=0.2, poll_interval=0.05)
    try:
        with rep.stage("slow"):
            rep(0, 1, "one long step")
            time.sleep(1.0)
            rep(1, 1, "done")
    finally:
        rep.close()
    text = out.getvalue()
    assert text.count("still running slow") >= 3, text
    assert rep._thread is None
    assert not any(t.name == "tfapprox-progress" and t.is_alive() for t in threading.enumerate())


def test_quiet_reporter_writes_nothing_and_starts_no_thread() -> None:
    out = io.StringIO()
    rep = ProgressReporter(out, enabled=False)
    with rep.stage("x", 1, 1):
        rep(0, 3, "a")
        rep.poll()
    rep.close()
    assert out.getvalue() == "" and rep._thread is None


def test_interactive_bar_redraws_in_place_and_clears() -> None:
    clock = _Clock()
    out = io.StringIO()
    rep = ProgressReporter(out, interactive=True, clock=clock, heartbeat=False)
    with rep.stage("thm3.1", 1, 2):
        for i in range(4):
            rep(i, 4, f"H={2 ** i}")
            clock.t += 5.0
        rep.poll()
        rep(4, 4, "done")
    text = out.getvalue()
    assert text.count("\n") == 1  # only the end line; the bar is redrawn with \r
    assert "\r[" in text and "ETA" in text and "[1/2] thm3.1" in text
    assert text.endswith("[1/2] thm3.1: done in 0:20 | overall 0:20 elapsed, ETA ~0:20\n")


def test_overall_eta_over_stages() -> None:
    clock = _Clock()
    out = _Stamped(clock)
    rep = ProgressReporter(out, interactive=False, clock=clock, heartbeat=False)
    for i in range(3):
        with rep.stage(f"c{i}", i + 1, 3):
            clock.t += 10.0
    lines = [line for _, line in out.stamps]
    assert lines[0] == "[1/3] c0: started | overall 0:00 elapsed"
    assert lines[2] == "[2/3] c1: started | overall 0:10 elapsed, ETA ~0:20"
    assert lines[-1] == "[3/3] c2: done in 0:10 | overall 0:30 elapsed, ETA ~0:00"


def test_failed_stage_says_failed() -> None:
    out = io.StringIO()
    rep = ProgressReporter(out, interactive=False, clock=_Clock(), heartbeat=False)
    with pytest.raises(RuntimeError):
        with rep.stage("boom"):
            raise RuntimeError("x")
    assert out.getvalue().splitlines()[-1] == "boom: failed in 0:00"


@pytest.mark.parametrize("kwargs, match", [
    ({"min_interval": -1}, "min_interval"), ({"max_interval": 5, "min_interval": 10}, "max_interval"),
    ({"poll_interval": 0}, "poll_interval"), ({"redraw_interval": "1"}, "redraw_interval")])
def test_reporter_rejects_bad_intervals(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        ProgressReporter(io.StringIO(), **kwargs)


def test_stage_index_validated() -> None:
    rep = ProgressReporter(io.StringIO(), heartbeat=False)
    with pytest.raises(ValueError, match="index"):
        with rep.stage("x", 4, 3):
            pass


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0, 59.6, 61, 3600, -1)] == ["0:00", "1:00", "1:01", "1:00:00", "?"]


# ----------------------------------------------------------------------------- verdicts, JSON, index
def _result(**kw) -> CheckResult:
    base = dict(check="fake", passed=True, rows=[{"H": 1, "error": 0.5, "bound": 1.0}],
                columns=[("H", "H", "d"), ("error", "error", ".3e"), ("bound", "bound", ".3e")],
                findings={"paper_trends_reproduced": 0, "paper_trends_total": 8},
                findings_text=["paper trends reproduced by the construction: 0 of 8"])
    base.update(kw)
    return CheckResult(**base)


def test_verdict_line_and_printed_result_show_findings_beside_passed() -> None:
    r = _result()
    assert r.certified is True and r.verdict == "PASSED"
    out = io.StringIO()
    report_mod.print_result(r, out)
    first = out.getvalue().splitlines()[0]
    assert first == "== fake: PASSED (certified) | found: paper trends reproduced by the construction: 0 of 8"
    assert _result(passed=False, findings_text=[]).verdict_line() == "FAILED (not certified)"


def test_json_keeps_passed_and_adds_certified_findings_version_command() -> None:
    from tfapprox import __version__

    data = _result().to_json(["tfapprox", "verify", "fake"])
    assert data["passed"] is True and data["certified"] is True
    assert data["findings"] == {"paper_trends_reproduced": 0, "paper_trends_total": 8}
    assert data["tfapprox_version"] == __version__
    assert data["command"] == ["tfapprox", "verify", "fake"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", data["python_version"]) and data["numpy_version"]
    json.dumps(data, allow_nan=False)
    assert _result().to_json()["command"] is None
    with pytest.raises(TypeError, match="command"):
        run_info("tfapprox verify")


def _fake_check(name: str, clock: _Clock, steps: list[float], plot: bool, findings: bool) -> Check:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("--size", type=int, default=3, help="size")

    def run(o: argparse.Namespace, progress) -> CheckResult:
        total = len(steps)
        for i, d in enumerate(steps):
            progress(i, total, f"part {i}")
            end = clock.t + d
            while clock.t < end:  # the heartbeat thread, simulated
                clock.t = min(clock.t + 1.0, end)
                progress.poll() if isinstance(progress, ProgressReporter) else None
        progress(total, total, "done")
        return _result(check=name, parameters={"size": o.size},
                       plot=(lambda path: open(path, "wb").write(b"png")) if plot else None,
                       findings={} if not findings else {"paper_trends_reproduced": 1, "paper_trends_total": 2},
                       findings_text=[] if not findings else ["paper trends reproduced by the construction: 1 of 2"])

    return Check(name, f"fake check {name}", add, run, default_options=((),), has_plot=plot)


def test_run_all_index_json_and_progress(tmp_path, monkeypatch) -> None:
    clock = _Clock()
    checks = [_fake_check("alpha", clock, [5.0, 5.0], True, False),
              _fake_check("beta", clock, [200.0], False, True)]
    monkeypatch.setattr(report_mod, "all_checks", lambda: checks)
    err = _Stamped(clock)
    rep = ProgressReporter(err, interactive=False, clock=clock, heartbeat=False)
    ok = report_mod.run_all(tmp_path, progress=rep, quiet=True, command=["tfapprox", "verify", "--all"])
    assert ok
    # progress: [i/n] on every line, at least one line a minute during beta's single 200 s step
    times = [t for t, _ in err.stamps]
    assert max(b - a for a, b in zip(times, times[1:])) <= 60.0
    lines = [line for _, line in err.stamps]
    assert lines[0] == "[1/2] alpha: started | overall 0:00 elapsed"
    assert any(line.startswith("[2/2] still running beta") for line in lines)
    assert lines[-1].startswith("[2/2] beta: done in 3:20 - PASSED (certified) | found: paper trends reproduced "
                                "by the construction: 1 of 2 | overall 3:30 elapsed")
    # JSON: verdict split, version, command
    data = json.loads((tmp_path / "beta.json").read_text())
    assert data["certified"] and data["findings"]["paper_trends_total"] == 2
    assert data["command"] == ["tfapprox", "verify", "--all"] and data["tfapprox_version"]
    # index: summary table with the split, then the sections
    index = (tmp_path / "index.md").read_text()
    assert "| check | options | verdict (certified) | found | seconds |" in index
    assert re.search(r"\| \[beta\]\(#beta\) \| `\(defaults\)` \| PASSED \| paper trends reproduced by the "
                     r"construction: 1 of 2 \|", index)
    assert "Found (no pass/fail meaning): paper trends reproduced by the construction: 1 of 2." in index
    assert "`tfapprox verify --all`" in index and (tmp_path / "alpha.png").exists()


def test_run_all_accepts_a_plain_callback(tmp_path, monkeypatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(report_mod, "all_checks", lambda: [_fake_check("alpha", clock, [1.0], False, False)])
    seen = []
    assert report_mod.run_all(tmp_path, progress=lambda d, t, label: seen.append(label), quiet=True)
    assert seen[0] == "[1/1] alpha part 0"
    assert json.loads((tmp_path / "alpha.json").read_text())["command"] is None


# ----------------------------------------------------------------------------- registry metadata
def test_every_check_declares_has_plot_and_helps_every_option() -> None:
    for check in all_checks():
        assert isinstance(check.has_plot, bool), check.name
        parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        check.add_arguments(parser)
        for action in parser._actions:
            assert action.help, f"{check.name} {action.option_strings} has no help string"
        # the default is shown once: no hand-written "(default ..." beside the formatter's
        text = parser.format_help()
        assert "(default: " in text and "(default " not in text.replace("(default: ", ""), check.name


def test_has_plot_is_truthful_on_cheap_runs() -> None:
    def run(name: str, *argv: str) -> CheckResult:
        check = next(c for c in all_checks() if c.name == name)
        parser = argparse.ArgumentParser()
        check.add_arguments(parser)
        return check.run(parser.parse_args(list(argv)), lambda *a: None)

    assert run("lemma-f1", "--heads", "4,8,16", "--lags", "1").plot is not None
    assert run("h2.8", "--heads", "1,2", "--max-evals", "2").plot is not None
    declared = {c.name: c.has_plot for c in all_checks()}
    assert declared["lemma-f1"] is True and declared["h2.8"] is True
    # the two checks that contribute report pages instead of a --plot figure
    assert declared["experiments"] is False and declared["tightness"] is False


def test_has_plot_type_checked() -> None:
    with pytest.raises(TypeError, match="has_plot"):
        Check("x", "x", lambda p: None, lambda o, p: None, has_plot="yes")


# ----------------------------------------------------------------------------- notebook display
def test_check_result_repr_and_html() -> None:
    r = _result(rows=[{"H": i, "error": 1.0 / (i + 1), "bound": 1.0} for i in range(500)],
                notes=["<exact> & certified"])
    assert len(repr(r)) < 200 and "PASSED" in repr(r) and "500 rows" in repr(r)
    html = r._repr_html_()
    assert "PASSED" in html and "0 of 8" in html and "<table>" in html
    assert "&lt;exact&gt; &amp; certified" in html  # escaped
    assert "300 more rows" in html


def test_construction_reprs_are_short_and_display() -> None:
    from tfapprox.api import fixed_memory_target
    from tfapprox.constructions.prop4_2 import build_prop4_2_dp
    from tfapprox.constructions.thm3_1 import build_thm3_1
    from tfapprox.constructions.thm4_1 import build_thm4_1
    from tfapprox.verify.checks_adaptive import two_memory_target
    from tfapprox.verify.model import Model

    cons = build_thm3_1(fixed_memory_target([1, 5, 20], "sum", 64, 0), 256, None)
    text = repr(cons)
    assert len(text) < 300, len(text)
    assert text.startswith("Thm31Construction(rpe='lin', H=256, lags=(1, 5, 20), heads_per_memory=")
    assert "digits=" in text
    assert len(repr(cons.spec)) < 200 and "heads=(256,)" in repr(cons.spec)
    html = cons._repr_html_()
    assert "<table>" in html and "Thm31Construction" in html and "256" in html
    model = Model(cons.spec)
    assert "thm3.1" in model._repr_html_() and "digits" in model._repr_html_()
    latex = cons.kernels[0]._repr_latex_()
    assert latex.startswith("$P_{1}(t) = \\sum_{k=1}^{") and "Lemma F.1" in latex
    for other in (build_thm4_1(two_memory_target(), 8), build_prop4_2_dp(4)):
        assert len(repr(other)) < 400 and type(other).__name__ in other._repr_html_()


# ----------------------------------------------------------------------------- backend
def test_choose_backend() -> None:
    from tfapprox.api import build_model
    from tfapprox.verify.auto_backend import backend_choice, choose_backend

    assert choose_backend(build_model("thm3.1", heads=4, lags=[1])) == "float64"
    backend, why = backend_choice(build_model("thm3.1", heads=64, lags=[1, 5]))
    assert backend == "mpmath" and "dps >=" in why
    with pytest.raises(TypeError, match="model"):
        choose_backend("m.json")


# ----------------------------------------------------------------------------- matplotlib backend
_PROBE = r"""
import importlib, pkgutil, sys
import matplotlib
def refuse(*a, **k):
    raise AssertionError("matplotlib.use called")
matplotlib.use = refuse
import tfapprox
names = []
for root in ("tfapprox", "tfapprox.theory", "tfapprox.constructions", "tfapprox.verify"):
    pkg = importlib.import_module(root)
    names += [m.name for m in pkgutil.iter_modules(pkg.__path__, root + ".")]
for name in names:
    if name.endswith("__main__") or name == "tfapprox.export":
        continue
    importlib.import_module(name)
from tfapprox.verify.plotting import plot_sweep
rows = [{"T": 1, "H": h, "error": 1.0 / h, "bound": 2.0 / h} for h in (2, 4, 8)]
plot_sweep(rows, "T", sys.argv[1], "probe")
from tfapprox.verify.experiments_page import scan_plot as _scan_plot
_scan_plot([{"experiment": "H.2.2", "rpe": "lin", "grid": [[1, 0.5, 0.6], [2, 0.1, 0.2]]}])
assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
print(matplotlib.get_backend())
"""


def test_no_global_matplotlib_backend_switch(tmp_path) -> None:
    env = dict(os.environ, MPLBACKEND="svg")  # a non-Agg backend, standing in for a notebook's inline one
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "p.png")], env=env, capture_output=True,
                         cwd=tmp_path,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lazy_stage_stays_silent_when_the_check_refuses_its_options() -> None:
    """``verify CHECK`` with bad options: stderr keeps only the one-line error (exit status 2)."""
    clock = _Clock()
    out = _Stamped(clock)
    rep = ProgressReporter(out, interactive=False, clock=clock, heartbeat=False)
    with pytest.raises(ValueError):
        with rep.stage("thm3.1", lazy=True):
            raise ValueError("heads must be strictly increasing")
    assert out.getvalue() == ""
    with rep.stage("thm3.1", lazy=True):
        clock.t = 61.0
        rep.poll()  # a long silent start still gets its start line and a heartbeat
    lines = [line for _, line in out.stamps]
    assert lines[:2] == ["thm3.1: started", "still running thm3.1 (elapsed 1:01)"]
    assert lines[-1] == "thm3.1: done in 1:01"


def test_experiments_findings_count_the_trends() -> None:
    """``verify experiments`` prints the count of the paper's trends the construction reproduces."""
    check = next(c for c in all_checks() if c.name == "experiments")
    parser = argparse.ArgumentParser()
    check.add_arguments(parser)
    o = parser.parse_args(["--experiments", "H.2.3,H.2.4", "--heads", "1,3,8", "--widths", "2,64", "--rpe", "lin",
                           "--lag-heads", "1,8", "--best-found-heads", "1", "--max-heads", "65536"])
    r = check.run(o, lambda *a: None)
    trends = r.fit["trends"]["lin"]
    n = sum(bool(t["reproduced"]) for t in trends)
    assert r.findings["paper_trends_reproduced"] == n and r.findings["paper_trends_total"] == len(trends) == 2
    assert r.findings_text == [f"paper trends reproduced by the construction: {n} of 2"]
    assert r.verdict_line().endswith(f"found: paper trends reproduced by the construction: {n} of 2")
    assert r.certified is r.passed is True


def test_tightness_findings() -> None:
    from tfapprox.verify.checks_tightness import tightness_findings

    rows = [{"slack_bound": 3.0, "slack_construction": 1.5}, {"slack_bound": 40.0, "slack_construction": 1.0},
            {"slack_bound": float("inf"), "slack_construction": float("inf")}]
    sweeps = [{"heads_needed": {"paper": {"alpha": "0.01", "gamma": "0.01"}}, "min_error": {"alpha": "0.01",
                                                                                           "gamma": "0.01"}},
              {"heads_needed": {"paper": {"alpha": "0.01", "gamma": "0.01"}}, "min_error": {"alpha": "0.1",
                                                                                           "gamma": "0.01"}}]
    findings, text = tightness_findings(rows, sweeps)
    assert findings == {"bound_over_best_found_min": 3.0, "bound_over_best_found_max": 40.0,
                        "construction_over_best_found_min": 1.0, "construction_over_best_found_max": 1.5,
                        "paper_alpha_gamma_smallest_error": 1, "alpha_gamma_sweeps": 2,
                        "rows_exact": 0, "rows_without_lower_bound": 3}
    assert text[-1] == "paper's alpha, gamma give the smallest error in 1 of 2 sweeps"
