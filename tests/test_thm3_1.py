"""Theorem 3.1 (App. B.1): the construction, its exact errors and its bound."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.api import fixed_memory_target
from tfapprox.cli import main
from tfapprox.constructions.thm3_1 import allocate_heads, build_thm3_1
from tfapprox.theory.bounds import thm3_1_attention_bound
from tfapprox.theory.readouts import ReluSumReadout
from tfapprox.theory.targets import FixedMemoryTarget
from tfapprox.verify.fixed_memory_error import measure_thm3_1
from tfapprox.verify.kernel_error import delta_kernel_l1_error, delta_kernel_sign_pattern
from tfapprox.verify.model import Model


def test_construction_has_the_paper_shape():
    target = fixed_memory_target([1, 5, 20])
    cons = build_thm3_1(target, 64, rpe="lin")
    spec = cons.spec
    assert spec.width == 4 and spec.input_dim == 1 and spec.num_heads == (64,)
    assert list(spec.embedding) == [1, 0, 0, 0]  # W_E = (I, 0)^T
    layer = spec.blocks[0].attention
    assert layer.normalized and layer.residual and layer.output == sympy.eye(4)  # W_O = I
    assert all(h.dot_product_free for h in layer.heads)
    # group k writes only into block k+1, reading block 1 (x_t)
    start = 0
    for k, Hk in enumerate(cons.heads_per_memory):
        for head in layer.heads[start:start + Hk]:
            nonzero = [(i, j) for i in range(4) for j in range(4) if head.value[i, j] != 0]
            assert all(ij == (k + 1, 0) for ij in nonzero)
        start += Hk
    # slopes are the exact exponents gamma + alpha k of Lemma F.1
    assert layer.heads[0].slope == sympy.Rational(1, 100) and layer.heads[1].slope == sympy.Rational(2, 100)
    assert tuple(spec.metadata["head_allocation"]) == cons.heads_per_memory


def test_value_weights_cancel_the_softmax_normaliser_exactly():
    cons = build_thm3_1(fixed_memory_target([2]), 6, rpe="lin")
    head = cons.spec.blocks[0].attention.heads[3]
    beta = head.slope
    a = head.value[1, 0] * (1 - sympy.exp(-beta))  # W_V = a Z(beta), Z = 1/(1 - e^{-beta})
    assert sympy.simplify(a - sympy.Rational(a)) == 0  # the rest is the exact decimal coefficient
    log = build_thm3_1(fixed_memory_target([2]), 40, rpe="log")
    first, second = log.spec.blocks[0].attention.heads[:2]
    assert first.value[1, 0] == 0  # a_0 = Q(0) = Psi_T(0) = 0: u = 0 is a Chebyshev node
    assert second.value[1, 0].has(sympy.zeta) and second.slope == sympy.Rational(102, 100)
    small = build_thm3_1(fixed_memory_target([2]), 6, rpe="log")  # no Chebyshev node in the bump
    assert all(h.value[1, 0] == 0 for h in small.spec.blocks[0].attention.heads)


@pytest.mark.parametrize("weights,total,expected", [
    ([1, 1, 1], 7, (3, 2, 2)), ([1, 1, 8], 3, (1, 1, 1)), ([1, 2, 3], 12, (2, 4, 6)), ([1, 100], 4, (1, 3)),
])
def test_largest_remainder_allocation(weights, total, expected):
    alloc, quotas = allocate_heads(weights, total)
    assert alloc == expected and sum(alloc) == total and min(alloc) >= 1


def test_bad_input_names_the_parameter():
    target = fixed_memory_target([1, 5, 20])
    with pytest.raises(ValueError, match=r"H \(number of heads\) must be >= M = 3"):
        build_thm3_1(target, 2)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        build_thm3_1(target, 8, alpha=0)
    with pytest.raises(ValueError, match="rpe must be one of"):
        build_thm3_1(target, 8, rpe="exp")
    with pytest.raises(ValueError, match="rate index|n must be"):
        thm3_1_attention_bound("lin", [1], [8], 0)
    with pytest.raises(ValueError, match=r"lags\[0\] must be >= 1"):
        fixed_memory_target([0, 3])


def test_built_model_error_is_within_the_reported_bound_on_random_windows(tmp_path):
    """Done-when: a model from `tfapprox build thm3.1`, run on random windows with
    ||x_t|| <= 1, has error <= the reported upper bound."""
    out = tmp_path / "m.json"
    assert main(["build", "thm3.1", "--lags", "1,4", "--heads", "96", "--out", str(out)]) == 0
    model = Model.load(out)
    target = fixed_memory_target([1, 4])
    cons = build_thm3_1(target, 96)
    meas = measure_thm3_1(cons)
    dps = int(model.metadata["precision_digits"]) + 20
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.uniform(-1, 1, 60)
        y = model.run(x, backend="mpmath", dps=dps)[:, 0]
        err = np.max(np.abs(np.array(y, float) - target.evaluate(x)))
        assert err <= meas.total_upper
        assert err > 0  # the construction is not exact at this H: the check measures something


def test_sign_pattern_reaches_the_exact_attention_error():
    """Done-when: the sign-pattern input realises each memory's exact l1 attention error
    (to 1e-9 relative), read from the model's hidden state x^{(1/2)} in mpmath."""
    cons = build_thm3_1(fixed_memory_target([1, 3]), 64, rpe="lin")
    model = Model(cons.spec)
    length = 3000  # gamma = 0.01: the omitted tail is below e^{-30} relative
    dps = cons.kernels[0].digits_needed(1e-30)
    for k, kern in enumerate(cons.kernels):
        exact = delta_kernel_l1_error(kern)
        pattern = delta_kernel_sign_pattern(kern, length).astype(float)  # x_{t-s}
        window = pattern[::-1]
        res = model.forward(window, backend="mpmath", dps=dps, keep_hidden=True, positions=[length - 1])
        half = res.hidden[1]  # after the attention sub-layer
        realised = half[0, 0, k + 1] - window[length - 1 - cons.target.lags[k]]
        assert abs(float(realised) - exact.upper) <= 1e-9 * exact.upper


@settings(max_examples=12, deadline=None)
@given(lags=st.lists(st.integers(1, 12), min_size=1, max_size=3, unique=True).map(sorted),
       heads=st.integers(3, 160), rpe=st.sampled_from(["lin", "log"]),
       alpha=st.sampled_from(["0.01", "0.02", "0.005"]))
def test_measured_error_within_bound_and_adding_heads_keeps_it(lags, heads, rpe, alpha):
    target = fixed_memory_target(lags)
    heads = max(heads, len(lags))
    for H in (heads, heads + 1):
        cons = build_thm3_1(target, H, rpe=rpe, alpha=alpha, gamma=alpha)
        meas = measure_thm3_1(cons)
        for n in (1, 2, 3):
            bound = float(thm3_1_attention_bound(rpe, lags, cons.heads_per_memory, n, alpha=alpha, gamma=alpha))
            assert meas.attention_upper <= bound
        assert meas.total_lower <= meas.total_upper * (1 + 1e-12)


def test_relu_readout_exact_ffn_and_sampled_ffn():
    readout = ReluSumReadout.gaussian(16, 3, seed=1)
    target = FixedMemoryTarget([2, 6], readout)
    exact = build_thm3_1(target, 48)
    assert exact.ffn_exact and exact.spec.blocks[0].ffn.width == 16
    sampled = build_thm3_1(target, 48, width=8, seed=3)
    assert not sampled.ffn_exact and sampled.spec.blocks[0].ffn.width == 8
    meas = measure_thm3_1(sampled)
    assert meas.ffn_upper > 0 and meas.total_lower <= meas.total_upper


def test_verify_cli_json_has_the_design_keys(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["verify", "thm3.1", "--lags", "1,2", "--heads", "16,32,64", "--min-order", "-100",
                 "--json", str(out), "--plot", str(tmp_path / "p.png")])
    capsys.readouterr()
    data = json.loads(out.read_text())
    assert code == 0 and data["check"] == "thm3.1" and data["passed"] is True
    assert set(data) >= {"check", "passed", "rows", "fit"}
    for row in data["rows"]:
        assert {"error", "bound", "H", "digits", "seconds"} <= set(row)
        assert row["error"] <= row["bound"]
    assert (tmp_path / "p.png").stat().st_size > 1000
