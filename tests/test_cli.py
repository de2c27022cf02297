"""The ``tfapprox`` command line: build/eval round trip, exit statuses, error messages."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy

from tfapprox.cli import main
from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import LinRPE
from tfapprox.verify.model import Model

R = sympy.Rational


def small_model() -> Model:
    heads = (AttentionHead([[R(3, 2), 0], [R(1, 4), 0]], R(7, 10), query=[[1, 0]], key=[[0, R(1, 3)]]),
             AttentionHead([[0, 0], [1, R(-1, 2)]], sympy.sqrt(2)))
    layer = AttentionLayer(heads, [[1, 0], [0, 1]], LinRPE())
    ffn = FeedForward([[1, -1], [R(1, 2), 1], [0, 1]], [[0], [R(-1, 10)], [R(1, 7)]], [[1, -2, R(1, 3)]])
    return Model(TransformerSpec([[1], [R(1, 2)]], [[0], [1]], (Block(layer, ffn),), "padded",
                                 {"construction": "hand-built"}))


def test_eval_reproduces_model_run_to_the_last_printed_digit(tmp_path, capsys):
    model = small_model()
    model.save(tmp_path / "m.json")
    x = np.random.default_rng(3).uniform(-1, 1, (9, 1))
    np.savetxt(tmp_path / "x.csv", x, delimiter=",", fmt="%.17g")
    assert main(["eval", str(tmp_path / "m.json"), "--input", str(tmp_path / "x.csv")]) == 0
    printed = capsys.readouterr().out.split()
    expected = model.run(x)[:, 0]
    assert printed == [repr(float(v)) for v in expected]
    assert main(["eval", str(tmp_path / "m.json"), "--input", str(tmp_path / "x.csv"),
                 "--backend", "mpmath", "--dps", "40"]) == 0
    printed = capsys.readouterr().out.split()
    # the mpmath backend reads the CSV decimals exactly (issue 12): "0.1" is 1/10, not a double
    cells = (tmp_path / "x.csv").read_text().split()
    x_exact = np.array([[sympy.Rational(c)] for c in cells], dtype=object)
    exact = model.run(x_exact, backend="mpmath", dps=60)[:, 0]
    # printed to the accuracy the run guarantees (eval --help): 1e-15 at the required digits,
    # ten times finer per extra digit of --dps
    accuracy = 1e-15 * 10.0 ** -(40 - model.required_digits)
    via_double = model.run(x, backend="mpmath", dps=60)[:, 0]
    with mpmath.workdps(80):  # parse the printed decimals without rounding them to 53 bits
        assert all(abs(mpmath.mpf(p) - v) <= accuracy for p, v in zip(printed, exact))
        assert any(abs(mpmath.mpf(p) - v) > accuracy for p, v in zip(printed, via_double))


def test_eval_npy_input_and_out_file(tmp_path, capsys):
    model = small_model()
    model.save(tmp_path / "m.json")
    x = np.linspace(-1, 1, 5)
    np.save(tmp_path / "x.npy", x)
    assert main(["eval", str(tmp_path / "m.json"), "--input", str(tmp_path / "x.npy"), "--out",
                 str(tmp_path / "y.txt"), "--pad", "0.5"]) == 0
    values = [float(v) for v in (tmp_path / "y.txt").read_text().split()]
    np.testing.assert_array_equal(values, model.run(x, pad=[0.5])[:, 0])


@pytest.mark.parametrize("argv,message", [
    (["build", "thm3.1", "--lags", "0,3", "--out", "OUT"], "lags[0] must be >= 1, got 0"),
    (["build", "thm3.1", "--lags", "5,3", "--out", "OUT"], "strictly increasing"),
    (["build", "thm3.1", "--lags", "1,5,20", "--heads", "2", "--out", "OUT"], "must be >= M = 3"),
    (["build", "thm3.1", "--alpha", "-0.1", "--out", "OUT"], "alpha must be > 0"),
    (["build", "thm3.1", "--alpha", "0", "--out", "OUT"], "alpha must be > 0"),
    (["build", "thm3.1", "--alpha", "abc", "--out", "OUT"], "alpha must be a decimal number"),
    (["verify", "thm3.1", "--lags", "5,1"], "strictly increasing"),
    (["verify", "thm3.1", "--lags", "1,5,20", "--heads", "2,64"], "must be >= M = 3"),
    (["verify", "thm3.1", "--n-max", "0"], "n-max must be >= 1"),
    (["verify", "thm3.1", "--heads", "64,32"], "heads must be strictly increasing"),
    (["verify", "nosuchcheck"], "unknown check 'nosuchcheck'"),
    (["eval", "MISSING.json", "--input", "x.csv"], "MISSING.json"),
])
def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path, capsys, argv, message):
    argv = [a.replace("OUT", str(tmp_path / "m.json")) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "m.json").exists()


def test_malformed_model_file_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "tfapprox.transformer/9"}))
    (tmp_path / "x.csv").write_text("0.5\n")
    assert main(["eval", str(path), "--input", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "tfapprox.transformer/9" in err and err.count("\n") == 1


def test_help_and_list(capsys):
    assert main(["--help"]) == 0
    assert "verify" in capsys.readouterr().out
    assert main(["verify", "--list"]) == 0
    listed = capsys.readouterr().out
    for name in ("thm3.1", "lemma-f1", "lemma-f4"):
        assert name in listed
    assert main(["verify", "thm3.1", "--help"]) == 0
    assert "--lags" in capsys.readouterr().out


def test_console_script_runs_as_a_subprocess(tmp_path):
    # cwd outside the repository, where `-m tfapprox` would find the source folder first
    proc = subprocess.run([sys.executable, "-m", "tfapprox", "build", "thm3.1", "--lags", "0", "--out", "x"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "lags[0] must be >= 1" in proc.stderr and "Traceback" not in proc.stderr
