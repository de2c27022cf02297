"""The essential-memory checks via the CLI (small sizes) and the LP machinery."""

import json
import subprocess
import sys

import numpy as np

from tfapprox.verify.essential_error import best_found, lp_l1_fit


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "tfapprox", *args], capture_output=True, text=True)


def test_lp_exact_and_best_found_not_worse_than_given():
    s = np.arange(1, 300)
    rho = s ** -1.5
    assert lp_l1_fit(rho, [s ** -1.5]).objective < 1e-12
    given = [[1.2, 3.0]]
    bf = best_found("log", rho, s, 2, given=given, max_evals=4, min_exponent=1.0)
    fit = lp_l1_fit(rho, [s ** -1.2, s ** -3.0])
    assert bf.error <= fit.objective * (1 + 1e-9) + 1e-12


def test_thm51_cli_passes(tmp_path):
    out = tmp_path / "r.json"
    r = _cli("verify", "thm5.1", "--kernel", "exp:0.5", "--rpe", "lin", "--heads", "64,128", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads(out.read_text())["rows"]
    assert all(row["error"] <= row["bound"] for row in rows)


def test_h28_json(tmp_path):
    out = tmp_path / "h.json"
    r = _cli("verify", "h2.8", "--heads", "1,2", "--max-evals", "2", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = json.loads(out.read_text())["rows"]
    lin1 = [x for x in rows if x["rpe"] == "lin" and x["H"] == 1][0]
    assert lin1["best_found"] < 1e-7 and lin1["construction"] == 0.0 and "paper" in lin1
    assert lin1["float64_model_error"] < 1e-12


def test_bad_input_exit_2():
    r = _cli("verify", "thm5.1", "--kernel", "poly:1.5", "--rpe", "log")
    assert r.returncode == 2 and "F.6" in r.stderr
    r = _cli("verify", "thm5.1", "--kernel", "exp:0.5", "--rpe", "log")
    assert r.returncode == 2
