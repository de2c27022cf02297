"""Proposition 4.2: DP attention for the witness, and the DP-free LP optimum."""

import numpy as np
import pytest

from tfapprox.constructions.prop4_2 import build_prop4_2_dp
from tfapprox.theory.targets import prop42_witness
from tfapprox.verify.adaptive_error import dp_free_lp, enumerate_windows, witness_dp_error
from tfapprox.verify.model import Model


@pytest.mark.parametrize("corrected", [True, False])
def test_dp_free_lp_optimum_is_one(corrected):
    w = prop42_witness(corrected, allow_zero_lag=not corrected)
    lp = dp_free_lp(w)
    assert lp["status"] == 0
    assert lp["optimum"] == pytest.approx(1.0, abs=1e-9)
    assert lp["optimum"] >= 2 / 3


@pytest.mark.parametrize("corrected", [True, False])
def test_dp_model_within_exact_error_on_enumerated_inputs(corrected):
    c = build_prop4_2_dp(32, corrected)
    lo, hi = witness_dp_error(c.kernel, c.lag_of)
    assert lo <= hi
    X = enumerate_windows([-1, 0, 1], c.target.max_lag + 1)
    model = Model(c.spec)
    for pad in (-1.0, 0.0, 1.0):
        out = np.array(model.run(X, backend="mpmath", dps=60, pad=[pad])[..., 0], dtype=float)
        y = c.target.evaluate(X, pad=[pad])
        assert np.max(np.abs(out - y)) <= hi + 1e-12


def test_dp_error_decays():
    errs = [witness_dp_error(build_prop4_2_dp(H, True).kernel, {-1: 1, 0: 2, 1: 3})[1] for H in (64, 256)]
    assert errs[1] < errs[0] / 4
