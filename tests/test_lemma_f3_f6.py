"""Lemmas F.3 / F.6: admissible rates, construction, exact errors within the explicit bound."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tfapprox.constructions.lemma_f3_f6 import admissible_rates, check_rate, essential_kernel
from tfapprox.theory.bounds import essential_kernel_bound
from tfapprox.theory.memory_kernels import ArrayKernel, ExponentialKernel, PolynomialKernel
from tfapprox.verify.essential_error import essential_l1_error


def _bound(k, n=1):
    return float(essential_kernel_bound(k.rpe, k.kernel, k.num_terms, n, alpha=k.alpha, gamma=k.gamma,
                                        first_bump=k.first_bump, last_bump=k.last_bump,
                                        truncation_tail=k.truncation_tail, node_residual=k.node_residual))


def test_admissible_rates():
    assert admissible_rates("exp", "0.5") == range(1, 50)
    assert admissible_rates("poly", 3) == range(1, 2)
    assert len(admissible_rates("poly", "1.5")) == 0
    with pytest.raises(ValueError, match=r"floor\(99 beta\)"):
        check_rate("exp", "0.01", 1)
    with pytest.raises(ValueError, match="F.6"):
        check_rate("poly", 3, 2)


def test_lattice_identity_and_decay():
    # with enough heads the kernel approaches rho; the l1 error decreases
    rho = ExponentialKernel(1, "0.5")
    e1 = essential_l1_error(essential_kernel("lin", rho, 256))
    e2 = essential_l1_error(essential_kernel("lin", rho, 1024))
    assert e2.upper < e1.lower
    assert e1.lower <= e1.upper


def test_lag_zero_fix_erratum_6d():
    rho = ExponentialKernel(1, 2)
    with_fix = essential_kernel("lin", rho, 512)
    paper = essential_kernel("lin", rho, 512, include_zero=False)
    assert abs(with_fix.evaluate([0])[0] - 1.0) < 1e-3
    assert abs(paper.evaluate([0])[0]) < 1e-3  # the paper's bump sum misses rho(0) = 1
    assert essential_l1_error(paper).lower > 0.99


def test_wrong_decay_class_refused():
    with pytest.raises(ValueError, match="decay='exp'"):
        essential_kernel("lin", PolynomialKernel(1, 3, offset=0), 8)
    with pytest.raises(ValueError, match="tail='zero'"):
        essential_kernel("lin", ArrayKernel([1, 0.5], "exp", "0.5", 1), 8)


def test_violating_kernel_refused_first_lag():
    vals = [np.exp(-0.5 * t) for t in range(10)]
    vals[6] = 0.5
    with pytest.raises(ValueError, match="first failure at lag 6"):
        ArrayKernel(vals, "exp", "0.5", 1, tail="zero")


@settings(max_examples=6, deadline=None)
@given(beta=st.sampled_from(["0.5", "1", "2"]), scale=st.sampled_from(["1", "1/2", "-3/4"]),
       H=st.sampled_from([16, 64, 200]))
def test_random_exp_kernels_within_bound(beta, scale, H):
    k = essential_kernel("lin", ExponentialKernel(scale, beta), H)
    enc = essential_l1_error(k)
    assert enc.upper <= _bound(k)


@settings(max_examples=4, deadline=None)
@given(values=st.lists(st.floats(-1, 1), min_size=3, max_size=12), H=st.sampled_from([8, 64]))
def test_random_array_kernels_within_bound(values, H):
    vals = [v * float(np.exp(-1.0 * t)) for t, v in enumerate(values)]
    rho = ArrayKernel(vals, "exp", 1, 1, tail="zero")
    k = essential_kernel("lin", rho, H)
    assert essential_l1_error(k).upper <= _bound(k)
