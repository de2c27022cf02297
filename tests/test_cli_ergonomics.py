"""CLI ergonomics of issue 16 item 6: defaults in --help, aligned --list, --plot refused before
running, progress lines when piped, version and command line in the JSON, eval --backend auto."""

from __future__ import annotations

import json
import time

import numpy as np

from tfapprox.cli import main
from tfapprox.verify.registry import all_checks


def test_check_help_shows_defaults(capsys) -> None:
    for check in all_checks():
        assert main(["verify", check.name, "--help"]) == 0
        text = capsys.readouterr().out
        assert "(default: " in text, check.name
    assert main(["verify", "tightness", "--help"]) == 0
    assert "seed of the best-found search (default: 0)" in " ".join(capsys.readouterr().out.split())


def test_list_is_aligned(capsys) -> None:
    assert main(["verify", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [c.name for c in all_checks()]
    starts = {len(line) - len(line[len(name):].lstrip()) for line, name in zip(lines, names)}
    assert len(lines) == len(names) and len(starts) == 1


def test_plot_refused_before_running(tmp_path, capsys) -> None:
    t0 = time.perf_counter()
    rc = main(["verify", "experiments", "--plot", str(tmp_path / "x.png")])  # the full check runs minutes
    assert rc == 2 and time.perf_counter() - t0 < 10
    err = capsys.readouterr().err
    assert "draws no plot" in err and "thm3.1" in err
    assert not (tmp_path / "x.png").exists()


def test_verify_json_records_version_command_and_verdict_split(tmp_path, capsys) -> None:
    out = tmp_path / "r.json"
    argv = ["verify", "lemma-f1", "--heads", "16,32,64,128", "--lags", "1", "--json", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["command"] == ["tfapprox", *argv] and data["tfapprox_version"]
    assert data["passed"] is True and data["certified"] is True and "findings" in data
    assert captured.out.startswith("== lemma-f1: PASSED (certified)")
    # stderr is not a terminal under pytest: whole lines, not a bar
    assert "lemma-f1: started" in captured.err and "lemma-f1: done in" in captured.err and "\r" not in captured.err


def test_eval_auto_picks_float64_or_mpmath(tmp_path, capsys) -> None:
    from tfapprox.api import build_model

    x = np.array([1.0, -1.0, 0.5, 0.25, -0.5, 1.0])
    np.savetxt(tmp_path / "x.csv", x[:, None], delimiter=",")
    small = build_model("thm3.1", heads=4, lags=[1])
    small.save(tmp_path / "small.json")
    assert main(["eval", str(tmp_path / "small.json"), "--input", str(tmp_path / "x.csv")]) == 0
    auto = capsys.readouterr()
    assert main(["eval", str(tmp_path / "small.json"), "--input", str(tmp_path / "x.csv"), "--backend",
                 "float64"]) == 0
    assert auto.out == capsys.readouterr().out and auto.err == ""
    big = build_model("thm3.1", heads=64, lags=[1, 5])
    big.save(tmp_path / "big.json")
    assert main(["eval", str(tmp_path / "big.json"), "--input", str(tmp_path / "x.csv"),
                 "--backend", "float64"]) == 2  # float64 refuses this model
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "big.json"), "--input", str(tmp_path / "x.csv")]) == 0
    got = capsys.readouterr()
    assert "using mpmath" in got.err
    values = [float(line) for line in got.out.splitlines()]
    exact = [float(v) for v in big.run(x[:, None], backend="mpmath", dps=60)[:, 0]]
    assert np.allclose(values, exact, rtol=1e-12, atol=1e-12)
