"""The essential-memory checks via the CLI (small sizes) and the LP machinery."""

import json
import subprocess
import sys
import tempfile

import numpy as np

from tfapprox.verify.essential_error import best_found, lp_l1_fit


def _cli(*args):
    # run outside the repository: from its root, `python -m tfapprox` would import the
    # source folder tfapprox/ (which lacks the mapped subpackages) instead of the install
    return subprocess.run([sys.executable, "-m", "tfapprox", *args], capture_output=True, text=True,
                          cwd=tempfile.gettempdir())


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
    assert lin1["exact"] and lin1["lower_bound"] == 0.0
    for x in rows:  # the sandwich on every row
        assert x["sandwich_ok"] and x["lower_bound"] <= x["best_found"] and x["lower_bound_mse"] <= x["best_found_mse"]
    log1 = [x for x in rows if x["rpe"] == "log" and x["H"] == 1][0]
    assert log1["lower_bound"] > 1e-7 and not log1["exact"]


def test_h27_monotone_and_lower_bound_recomputed(tmp_path):
    from fractions import Fraction

    import sympy

    out = tmp_path / "h.json"
    r = _cli("verify", "h2.7", "--heads", "1,2,3", "--max-evals", "2", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    rows = [x for x in json.loads(out.read_text())["rows"] if x["rpe"] == "lin"]
    errs = [x["best_found"] for x in rows]
    assert errs == sorted(errs, reverse=True)
    # independent check of the H = 1 bound: any one-term kernel has l1 error >= sigma_2 of ANY section, e.g.
    # the 2x2 section on indices {1, 4} (lags 2, 5, 8): sigma_2 = |det| / sigma_1 >= |det| / ||M||_F (exact)
    M = sympy.Matrix([[sympy.sqrt(2) ** -1, sympy.sqrt(5) ** -1], [sympy.sqrt(5) ** -1, sympy.sqrt(8) ** -1]])
    crude = abs(M.det()) / sympy.sqrt(sum(v ** 2 for v in M))
    assert rows[0]["lower_bound"] >= float(crude) > 0
    assert rows[0]["lower_bound"] <= rows[0]["best_found"]


def test_bad_input_exit_2():
    r = _cli("verify", "thm5.1", "--kernel", "poly:1.5", "--rpe", "log")
    assert r.returncode == 2 and "F.6" in r.stderr
    r = _cli("verify", "thm5.1", "--kernel", "exp:0.5", "--rpe", "log")
    assert r.returncode == 2


# --------------------------------------------------------------------------- curse of memory
import math  # noqa: E402

import mpmath  # noqa: E402
import pytest  # noqa: E402

from tfapprox.constructions.rnn import DiagonalLinearRNN  # noqa: E402
from tfapprox.verify.essential_error import expsum_l1_error, hurwitz_tail, rnn_best_found  # noqa: E402


def _brute_force_l1(decays, coefficients, beta, S):
    """Independent: float64 sum over s < S (lambda^s by chunked products lambda^{s0} * lambda^j,
    not exp(s log lambda)) plus the tail s >= S enclosed by mpmath Hurwitz zeta and geometric sums."""
    lam = np.array(decays)
    c = np.array(coefficients)
    L = 1 << 16
    Pj = np.power(lam[None, :], np.arange(L)[:, None].astype(float))  # (L, N)
    total, allow = [], 0.0
    for block in range(0, S, 64 * L):
        s0 = np.arange(block, min(block + 64 * L, S), L).astype(float)
        V = np.power(lam[None, :], s0[:, None]) * c  # (chunks, N)
        K = V @ Pj.T  # (chunks, L)
        s = s0[:, None] + np.arange(L)[None, :]
        with np.errstate(divide="ignore"):
            rho = np.where(s > 0, np.power(np.maximum(s, 1.0), -beta), 0.0)
        e = np.abs(rho - K)
        total.append(math.fsum(e.sum(axis=1).tolist()))
        allow += 1e-13 * float(np.sum(np.abs(V) @ np.abs(Pj).T) + rho.sum())
    direct = math.fsum(total)
    z = float(mpmath.zeta(beta, S))
    tk = sum(float(ci) * float(mpmath.mpf(li) ** S / (1 - mpmath.mpf(li))) for li, ci in zip(decays, coefficients))
    tabs = sum(abs(float(ci)) * float(mpmath.mpf(li) ** S / (1 - mpmath.mpf(li))) for li, ci in zip(decays, coefficients))
    return direct - allow + abs(z - tk), direct + allow + z + tabs


def test_hurwitz_tail_matches_mpmath():
    A = np.array([64, 100, 4096, 10 ** 6 + 7, 2 ** 40, 2 ** 62])
    for beta in (1.5, 1.01, 3.0):
        v, b = hurwitz_tail(beta, A)
        for a, vi, bi in zip(A.tolist(), v, b):
            exact = mpmath.zeta(beta, a)
            assert abs(mpmath.mpf(vi) - exact) <= bi
            assert bi <= (1e-13 if a >= 4096 else 1e-10) * float(exact)


def test_expsum_enclosure_simple_cases():
    e = expsum_l1_error([0.5], [0.0], 1.5)  # K = 0
    z = float(mpmath.zeta(1.5))
    assert e.lower <= z <= e.upper and e.upper - e.lower < 1e-9
    # |0 - 1| + sum_{s>=1} |s^-2 - 2^-s|: the sign is negative only at s = 3 (zero at s = 2, 4), so the
    # sum is 1 + (zeta(2) - 1) + 2 (1/8 - 1/9)
    e = expsum_l1_error([0.5], [1.0], 2.0)
    exact = mpmath.pi ** 2 / 6 + mpmath.mpf(1) / 36
    assert e.lower <= float(exact) <= e.upper and e.upper - e.lower < 1e-12


@pytest.mark.parametrize("units,warm,S", [(6, [-2.73, 0.8, 1.09, -0.17], 1 << 20),
                                          (12, [-5.19, 0.84, 2.23, -2.33], 1 << 23)])
def test_exhibited_kernels_recomputed_independently(units, warm, S):
    fit = rnn_best_found(1.5, units, warm=[warm], starts=1, max_evals=4)
    enc = fit.enclosure
    assert enc.lower <= enc.upper and enc.upper - enc.lower < 1e-9 and enc.unresolved_intervals == 0
    lo, hi = _brute_force_l1(fit.decays, fit.coefficients, 1.5, S)
    assert hi - lo < 1e-8  # the independent recomputation is sharp too ...
    assert lo <= enc.upper and enc.lower <= hi  # ... and the two enclosures intersect
    # pointwise: the RNN's kernel in float64 against mpmath at 40 digits on a subset of lags
    rnn = DiagonalLinearRNN.from_kernel(fit.decays, fit.coefficients)
    lags = np.unique(np.concatenate([np.arange(0, 20), np.geomspace(20, 1e9, 40).astype(np.int64)]))
    with mpmath.workdps(40):
        for s, k in zip(lags.tolist(), rnn.kernel(lags)):
            exact = sum(mpmath.mpf(c) * mpmath.mpf(lam) ** s for lam, c in zip(fit.decays, fit.coefficients))
            assert abs(float(exact) - k) <= 1e-12 * (1 + sum(abs(c) for c in fit.coefficients))
    # the recurrence realises the kernel
    x = np.zeros(30)
    x[0] = 1.0
    assert np.allclose(rnn.run(x), rnn.kernel(np.arange(30)), rtol=1e-12, atol=1e-15)


def test_curse_cli_json(tmp_path):
    out = tmp_path / "c.json"
    r = _cli("verify", "curse-of-memory", "--epsilons", "1e-1,5e-2", "--max-evals", "25", "--refine-evals", "40",
             "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(out.read_text())
    rows = data["rows"]
    for row in rows:
        assert isinstance(row["rnn_units"], int) and row["consistent"]
        assert row["best_found_lower"] <= row["best_found"] <= row["epsilon"]
        assert row["rnn_units_minus_one_error"] > row["epsilon"]
        assert row["log_rpe_heads"] == 1 and row["construction"] == 0.0 and row["bound"] is None
        assert len(row["decays"]) == row["rnn_units"] == len(row["coefficients"])
        enc = expsum_l1_error(row["decays"], row["coefficients"], 1.5)  # recomputed from the JSON weights
        assert enc.upper == row["best_found"]
    assert rows[0]["rnn_units"] <= rows[1]["rnn_units"]
    # two-sided: the certified lower bound, recomputed here on a different Hankel section
    from fractions import Fraction

    from tfapprox.theory.lower_bounds import geometric_index, power_kernel, sigma_lower_bound

    for row in rows:
        lo = row["units_lower"]
        assert 1 <= lo <= row["units_found"] == row["rnn_units"] == row["lin_rpe_units_found"]
        assert row["exact"] == (lo == row["units_found"])
        # fewer than lo units cannot reach epsilon: sigma_lo of the section exceeds epsilon (independent
        # float64 recomputation with mpmath entries), and sigma_{lo+1} does not
        idx = np.array(geometric_index(32, 10 ** 8, 64), dtype=float)
        S = idx[:, None] + idx[None, :]
        M = np.where(S > 0, np.maximum(S, 1.0) ** -1.5, 0.0)
        sig = np.sort(np.abs(np.linalg.eigvalsh(M)))[::-1]
        assert sig[lo - 1] > row["epsilon"] * (1 + 1e-9) and sig[lo] < row["epsilon"] * (1 - 1e-9)
        assert sigma_lower_bound(power_kernel(Fraction(1.5)), lo, geometric_index(32, 10 ** 8, 64)) > row["epsilon"]
    sweep_errors = [float(x.split(": ")[1]) for x in data["notes"][-1].split("units: ")[1].split(". Refined")[0]
                    .rstrip(".").split(", ")]
    assert all(b <= a for a, b in zip(sweep_errors, sweep_errors[1:]))  # best found never increases with N


def test_curse_bad_input():
    with pytest.raises(ValueError, match="beta"):
        expsum_l1_error([0.5], [1.0], 1.0)
    with pytest.raises(ValueError, match="beta"):
        rnn_best_found(0.5, 3)
    with pytest.raises(ValueError, match="units"):
        rnn_best_found(1.5, 0)
    with pytest.raises(ValueError, match="decays"):
        expsum_l1_error([1.0], [1.0], 1.5)
    with pytest.raises(ValueError, match="decays and coefficients"):
        expsum_l1_error([0.5, 0.2], [1.0], 1.5)
    with pytest.raises(ValueError, match="A must be"):
        hurwitz_tail(1.5, [10])
    import argparse

    from tfapprox.verify.checks_essential import CURSE

    def opts(*args):
        p = argparse.ArgumentParser()
        CURSE.add_arguments(p)
        return p.parse_args(list(args))

    for args, word in ((("--epsilons", "0"), "epsilon"), (("--epsilons=-1e-2",), "epsilon"),
                       (("--epsilons", "nan"), "epsilon"), (("--beta", "1"), "beta"), (("--beta", "abc"), "beta"),
                       (("--max-units", "0"), "max.units"), (("--max-evals", "0"), "max.evals")):
        with pytest.raises(ValueError, match=word):
            CURSE.run(opts(*args), lambda *a: None)
    r = _cli("verify", "curse-of-memory", "--beta", "0.9")
    assert r.returncode == 2 and "beta" in r.stderr, r.stderr


def test_rnn_refine_never_worse_and_certified():
    from tfapprox.verify.essential_error import rnn_refine

    fit = rnn_best_found(1.5, 4, starts=1, max_evals=6)
    ref = rnn_refine(fit, max_evals=60, per_efold=8, fit_end=1e9)
    assert ref.error <= fit.error and ref.units == 4 and len(ref.decays) == 4
    enc = expsum_l1_error(ref.decays, ref.coefficients, 1.5)  # recomputed from the weights
    assert enc.upper == ref.error
    with pytest.raises(TypeError, match="fit"):
        rnn_refine("not a fit")  # type: ignore[arg-type]
