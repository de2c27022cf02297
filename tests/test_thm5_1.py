"""Theorem 5.1: equal allocation, exact normalisers, the lag-0 fix, the realised model."""

import numpy as np
import pytest

from tfapprox.constructions.rnn import DiagonalLinearRNN
from tfapprox.constructions.thm5_1 import build_thm5_1, equal_allocation, finite_normaliser
from tfapprox.theory.memory_kernels import ExponentialKernel, PolynomialKernel
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import EssentiallySparseTarget
from tfapprox.verify.model import Model


def test_equal_allocation():
    assert equal_allocation(6, 3) == (2, 2, 2)
    assert sum(equal_allocation(7, 3)) == 7
    with pytest.raises(ValueError, match="H \\(number of heads\\) must be >= M = 3"):
        equal_allocation(2, 3)


def test_model_realises_kernel_exactly():
    t = EssentiallySparseTarget([ExponentialKernel(1, 5)], LinearReadout([1]))
    c = build_thm5_1(t, 8, with_spec=True)
    assert c.spec.blocks[0].attention.residual is False
    X = np.sign(np.random.default_rng(1).standard_normal(25))
    y = np.asarray(Model(c.spec).run(X.reshape(-1, 1), backend="mpmath", dps=80), dtype=float).ravel()
    P = c.kernels[0].evaluate(np.arange(25))
    assert abs(y[-1] - np.dot(P, X[::-1])) < 1e-12


def test_log_lag0_fix_residual():
    rho = PolynomialKernel(1, 3)  # (1+t)^-3: rho(0) = 1
    t = EssentiallySparseTarget([rho], LinearReadout([1]))
    fixed = build_thm5_1(t, 4, with_spec=True)
    paper = build_thm5_1(t, 4, lag0="none", with_spec=True)
    assert fixed.lag0_error == 0 and paper.lag0_error == 1.0
    X = np.zeros(10)
    X[-1] = 1.0  # only x_t: the output is rho(0) with the fix, 0 without it
    yf = np.asarray(Model(fixed.spec).run(X.reshape(-1, 1), backend="mpmath", dps=60), dtype=float).ravel()
    yp = np.asarray(Model(paper.spec).run(X.reshape(-1, 1), backend="mpmath", dps=60), dtype=float).ravel()
    assert abs(yf[-1] - 1.0) < 1e-12 and abs(yp[-1]) < 1e-12


def test_finite_normaliser():
    assert float(finite_normaliser("log", 2, 3)) == pytest.approx(1 + 0.25)
    assert float(finite_normaliser("lin", 0, 4)) == 4


def test_rnn_is_lin_family():
    m = DiagonalLinearRNN.from_exponential_sum([0.1, 1.0], [2.0, -1.0])
    s = np.arange(6)
    assert np.allclose(m.kernel(s), 2 * np.exp(-0.1 * s) - np.exp(-s))
    x = np.zeros(6)
    x[0] = 1
    assert np.allclose(m.run(x), m.kernel(s))
    with pytest.raises(ValueError, match="decays"):
        DiagonalLinearRNN((1.5,), (1.0,), (1.0,))


def _run_thm51(*argv):
    import argparse

    from tfapprox.verify.checks_essential import THM51

    p = argparse.ArgumentParser()
    THM51.add_arguments(p)
    return THM51.run(p.parse_args(list(argv)), lambda *a: None)


def test_thm51_log_check_is_tight_and_honest():
    """poly:3 with log-RPE: 'error' is the certified upper end, the enclosure is tight (the former
    tail enclosure had an upper end of ~183 at every H), the error is within the bound, and the
    rate fit is informational by default but reported in the notes."""
    res = _run_thm51("--kernel", "poly:3", "--rpe", "log", "--heads", "64,128")
    assert res.passed
    for row in res.rows:
        assert row["error_lower"] <= row["error"] <= row["bound"]
        assert row["relative_width"] < 1e-6
    assert abs(res.rows[0]["error"] - 0.7551135189) < 1e-9
    assert res.fit["H"]["enforced"] is False
    assert any("fitted order" in n for n in res.notes)


def test_thm51_min_order_is_enforced_when_given():
    """An explicit --min-order that the data do not reach fails the check (and says so)."""
    res = _run_thm51("--kernel", "poly:3", "--rpe", "log", "--heads", "64,128", "--min-order", "5")
    assert not res.passed
    assert "< 5 required" in res.fit["H"]["verdict"]
    assert any("--min-order 5 is enforced" in n for n in res.notes)
