"""Target classes H^Fix, H^Adap, H^Ess (theory/targets.py and the modules it re-exports:
target_classes, memory_functions, target_examples, target_json): hand-computed examples under
both past semantics, the paper's examples and experiments, time-shift equivariance,
malformed specs, out-of-range memory functions and JSON round trips."""

from __future__ import annotations

import itertools
import json

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import (
    adaptive_targets,
    essential_targets,
    failing_evaluations,
    fixed_targets,
    malformed_specs,
    targets_with_windows,
)
from tfapprox.theory.memory_kernels import ArrayKernel, ExponentialKernel, PolynomialKernel, ShiftedBumpKernel
from tfapprox.theory.readouts import CallableReadout, LinearReadout, ProductReadout, ReluSumReadout
from tfapprox.theory.targets import (
    PAPER_EXPERIMENTS,
    AdaptiveMemoryTarget,
    CallableMemoryFunction,
    EssentiallySparseTarget,
    FixedMemoryTarget,
    ReluMemoryFunction,
    TableMemoryFunction,
    Target,
    adaptive_sparse_boolean,
    paper_experiment,
    paper_experiment_target,
    pointer_chasing,
    prop42_witness,
    target_from_dict,
)

R = sympy.Rational


# ---- H^Fix ------------------------------------------------------------------------------

def test_fixed_hand_example_both_pasts():
    # y_t = x_t + 10 x_{t-1} + 100 x_{t-3}
    H = FixedMemoryTarget((1, 3), LinearReadout([1, 10, 100]))
    X = [1.0, 2.0, 3.0, 4.0]
    assert H.evaluate(X).tolist() == [1.0, 12.0, 23.0, 134.0]
    assert H.evaluate(X, past="none").tolist() == [1.0, 12.0, 23.0, 134.0]
    # pad 5: x_{-1} = x_{-2} = x_{-3} = 5
    assert H.evaluate(X, pad=[5.0]).tolist() == [1.0 + 50 + 500, 2 + 10 + 500, 3 + 20 + 500, 134.0]
    assert H.kind == "fixed" and H.output_dim == 1 and H.memory_count == 2 and H.max_lag == 3


def test_fixed_d2_block_order():
    # d = 2: readout input (x_t, x_{t-2}) = (a_t, b_t, a_{t-2}, b_{t-2})
    H = FixedMemoryTarget((2,), LinearReadout([1, 0, 0, 1000]), d=2)
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert H.evaluate(X).tolist() == [1.0, 3.0, 5.0 + 2000.0]
    assert H.evaluate(X, pad=[7.0, 8.0]).tolist() == [8001.0, 8003.0, 2005.0]
    Xb = np.stack([X, -X])
    assert H.evaluate(Xb).shape == (2, 3)
    np.testing.assert_array_equal(H.evaluate(Xb)[1], -H.evaluate(X))


def test_fixed_sparse_boolean_product():
    # y_t = x_t x_{t-1}, the n-gram / sparse Boolean example of Sec. 3.1
    H = FixedMemoryTarget((1,), ProductReadout(2))
    X = np.array([1.0, -1.0, -1.0, 1.0])
    assert (H.evaluate(X, pad=[1.0]) + 0.0).tolist() == [1.0, -1.0, 1.0, -1.0]
    assert (H.evaluate(X, past="none") + 0.0).tolist() == [0.0, -1.0, 1.0, -1.0]


def test_lag_beyond_window():
    H = FixedMemoryTarget((10,), LinearReadout([0, 1]))
    assert H.evaluate([1.0, 2.0], pad=[3.0]).tolist() == [3.0, 3.0]
    assert H.evaluate([1.0, 2.0], past="none").tolist() == [0.0, 0.0]


def test_evaluate_semantics_are_explicit():
    H = FixedMemoryTarget((1,), LinearReadout([1, 1]))
    with pytest.raises(ValueError, match="past"):
        H.evaluate([1.0], past="zero")
    with pytest.raises(ValueError, match="pad applies only to past='padded'"):
        H.evaluate([1.0], past="none", pad=[0.0])
    with pytest.raises(ValueError, match="pad"):
        H.evaluate([1.0], pad=[0.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        H.evaluate([np.nan])
    with pytest.raises(ValueError):
        H.evaluate(np.zeros((2, 3, 2)))


# ---- H^Adap -----------------------------------------------------------------------------

def _adaptive_boolean_reference(x: list[float], pad: float) -> list[float]:
    """y_t = x_t x_{t-g(x_t)} x_{t-g(x_{t-g(x_t)})}, g(1) = 1, g(-1) = 2 (Sec. 4.1 (I))."""
    g = {1.0: 1, -1.0: 2}

    def at(i: int) -> float:
        return x[i] if i >= 0 else pad

    out = []
    for t in range(len(x)):
        t1 = g[x[t]]
        t2 = g[at(t - t1)]
        out.append(x[t] * at(t - t1) * at(t - t2))
    return out


def test_adaptive_sparse_boolean_exhaustive():
    H = adaptive_sparse_boolean()
    assert H.nesting == 2 and H.memory_count == 2 and H.max_lags == (2, 2)
    assert H.paper_class == "H^Adap_(2,2)" and H.in_paper_class
    for bits in itertools.product((-1.0, 1.0), repeat=6):
        for pad in (-1.0, 1.0):
            assert H.evaluate(list(bits), pad=[pad]).tolist() == _adaptive_boolean_reference(list(bits), pad)
    X = np.array(list(itertools.product((-1.0, 1.0), repeat=6)))[:, :, None]
    ref = np.array([_adaptive_boolean_reference(list(row[:, 0]), 1.0) for row in X])
    np.testing.assert_array_equal(H.evaluate(X, pad=[1.0]), ref)


def test_adaptive_sparse_boolean_zero_token():
    H = adaptive_sparse_boolean()
    with pytest.raises(ValueError, match=r"g_1 failed at time t=0.*not in the alphabet"):
        H.evaluate([0.0, 1.0], pad=[1.0])
    with pytest.raises(ValueError, match=r"g_2 failed at time t=0.*not in the alphabet"):
        H.evaluate([1.0, 1.0])  # zero pad read by g_2
    with pytest.raises(ValueError, match=r"g_2 failed at time t=0"):
        H.evaluate([1.0, 1.0], past="none")
    Hz = adaptive_sparse_boolean(g_at_zero=1)
    # t = 0: x_0 = 1, t_1 = 1 -> absent (0), t_2 = g(0) = 1 -> absent: y = 0
    # t = 1: x_1 = -1, t_1 = 2 -> absent (0): y = 0
    # t = 2: x_2 = 1, t_1 = 1 -> x_1 = -1, t_2 = g(-1) = 2 -> x_0 = 1: y = -1
    assert (Hz.evaluate([1.0, -1.0, 1.0], past="none") + 0.0).tolist() == [0.0, 0.0, -1.0]


def test_warm_up_convention_and_prop42():
    with pytest.raises(ValueError, match="allow_zero_lag=True"):
        prop42_witness(corrected=False)
    paper = prop42_witness(corrected=False, allow_zero_lag=True)
    fixed = prop42_witness(corrected=True)
    for H in (paper, fixed):
        assert H.nesting == 0 and H.paper_index == (1, 1) and H.paper_class == "H^Adap_(1,1)"
    assert paper.allow_zero_lag and not paper.in_paper_class and paper.max_lags == (2,)
    assert fixed.in_paper_class and fixed.max_lags == (3,)
    assert paper.memory_functions[0].table == {(-1,): 0, (0,): 1, (1,): 2}
    assert fixed.memory_functions[0].table == {(-1,): 1, (0,): 2, (1,): 3}
    X = [1.0, -1.0, 0.0, 1.0, 1.0]
    # paper g(x) = x + 1: t=0 lag 2 -> pad; t=1 lag 0 -> x_1; t=2 lag 1 -> x_1; t=3 lag 2 -> x_1; t=4 lag 2 -> x_2
    assert paper.evaluate(X, pad=[1.0]).tolist() == [1.0, -1.0, -1.0, -1.0, 0.0]
    assert paper.evaluate(X, past="none").tolist() == [0.0, -1.0, -1.0, -1.0, 0.0]
    # corrected g(x) = x + 2: t=0 lag 3; t=1 lag 1 -> x_0; t=2 lag 2 -> x_0; t=3 lag 3 -> x_0; t=4 lag 3 -> x_1
    assert fixed.evaluate(X, pad=[-1.0]).tolist() == [-1.0, 1.0, 1.0, 1.0, -1.0]
    # the paper's g needs the explicit flag
    g = paper.memory_functions[0]
    with pytest.raises(ValueError, match=r"g_1\(-1,\) = 0 is outside 1..T_1"):
        AdaptiveMemoryTarget.warm_up([g], [2], LinearReadout([0, 1]))
    with pytest.raises(TypeError):
        prop42_witness(corrected=1)


def test_nesting_reads_follow_eq8():
    # g_i returns i + (sum of what it reads) encoded so we can see which tokens it got;
    # CallableMemoryFunction records the width of its input.
    widths = {}

    def make(i):
        def fn(Z):
            widths[i] = Z.shape[1]
            return np.ones(Z.shape[0])
        return CallableMemoryFunction(fn)

    for K, expected in [(0, [1, 1, 1]), (1, [1, 2, 2]), (2, [1, 2, 3]), (3, [1, 2, 3])]:
        widths.clear()
        H = AdaptiveMemoryTarget([make(1), make(2), make(3)], [1, 1, 1], K, LinearReadout([1] * 4))
        H.evaluate([1.0, 2.0, 3.0])
        assert [widths[i] for i in (1, 2, 3)] == expected, K


def test_reads_select_tokens_in_order():
    # g_2 reads (x_{t-t_1}, x_t) in that order: value 1 if x_{t-t_1} > x_t else 2
    g1 = CallableMemoryFunction(lambda Z: np.ones(len(Z)))
    g2 = CallableMemoryFunction(lambda Z: np.where(Z[:, 0] > Z[:, 1], 1.0, 2.0), reads=(1, 0))
    H = AdaptiveMemoryTarget([g1, g2], [1, 2], 1, LinearReadout([0, 0, 1]))
    # t=1: x_1 = 2, x_0 = 1: 1 > 2 false -> t_2 = 2 -> x_{-1} = pad 9
    # t=2: x_2 = 0, x_1 = 2: 2 > 0 true -> t_2 = 1 -> x_1 = 2
    assert H.evaluate([1.0, 2.0, 0.0], pad=[9.0]).tolist()[1:] == [9.0, 2.0]


def test_pointer_chasing():
    H = pointer_chasing(3, 4)
    assert H.nesting == 3 and H.max_lags == (4, 4, 4) and H.paper_class == "H^Adap_(3,3)"
    rng = np.random.default_rng(0)
    X = rng.integers(1, 5, size=30) / 4.0
    pad = 0.75

    def at(i):
        return X[i] if i >= 0 else pad

    ref = []
    for t in range(len(X)):
        tok = X[t]
        for _ in range(3):
            tok = at(t - int(round(4 * tok)))
        ref.append(tok)
    assert H.evaluate(X, pad=[pad]).tolist() == ref
    with pytest.raises(ValueError, match="not in the alphabet"):
        H.evaluate(X)  # zero pad
    Hz = pointer_chasing(2, 4, g_at_zero=1)
    assert Hz.evaluate(X, past="none").shape == (30,)


def test_out_of_range_error_names_g_time_value():
    g = CallableMemoryFunction(lambda Z: np.where(Z[:, 0] > 0, 5.0, 1.0))
    H = AdaptiveMemoryTarget.warm_up([g], [4], LinearReadout([1, 1]))
    with pytest.raises(ValueError, match=r"g_1 = 5 at time t=2 is outside 1..T_1 = 1..4"):
        H.evaluate([-1.0, -1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"g_1 = 5 at time t=1 \(batch 1\)"):
        H.evaluate(np.array([[[-1.0], [-1.0]], [[-1.0], [1.0]]]))
    relu = ReluMemoryFunction(ReluSumReadout([1], [[1]], ["0.5"]))  # rint(x + 0.5), ties to even
    H2 = AdaptiveMemoryTarget.warm_up([relu], [1], LinearReadout([1, 1]))
    with pytest.raises(ValueError, match=r"g_1 = 0 at time t=0"):
        H2.evaluate([0.0])  # rint(0.5) = 0
    with pytest.raises(ValueError, match=r"g_1 = 2 at time t=0"):
        H2.evaluate([1.0])  # rint(1.5) = 2 > T_1 = 1
    assert H2.evaluate([0.6], pad=[2.0]).tolist() == [2.6]  # rint(1.1) = 1 -> the pad

def test_relu_memory_function_ties_to_even():
    g = ReluMemoryFunction(ReluSumReadout([1], [[1]], [0]))
    assert g.evaluate([[0.5], [1.5], [2.5], [2.6]]).tolist() == [0, 2, 2, 3]
    assert g.barron_norm == 1 and g.lipschitz == 1


def test_table_memory_function_d2_and_lipschitz():
    alphabet = [(0, 0), (1, 0), (0, 1)]
    table = {((0, 0),): 1, ((1, 0),): 2, ((0, 1),): 4}
    g = TableMemoryFunction(alphabet, table)
    assert g.token_dim == 2 and g.arity == 1 and g.n_in == 2
    assert g.evaluate([[1.0, 0.0], [0.0, 1.0]]).tolist() == [2, 4]
    # max |dg| / |dx|: (0,0)->(0,1): 3/1 ; (1,0)->(0,1): 2/sqrt(2) ; (0,0)->(1,0): 1
    assert g.lipschitz == 3
    H = AdaptiveMemoryTarget.warm_up([g], [4], LinearReadout([0, 0, 1, 1]), d=2)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # memory block summed: t=0 g=2 -> pad; t=1 g=4 -> pad; t=2 g=1 -> x_1; t=3 g=4 -> pad;
    # t=4 g=2 -> x_2 = (0,0).  The pad is only read, never fed to g (warm-up: g reads x_t).
    assert H.evaluate(X, pad=[0.5, 0.5]).tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]


def test_table_memory_function_validation():
    with pytest.raises(ValueError, match="complete"):
        TableMemoryFunction((-1, 1), {(-1, 1): 1})
    with pytest.raises(ValueError, match="same number of tokens"):
        TableMemoryFunction((-1, 1), {(-1,): 1, (1, 1): 1})
    with pytest.raises(ValueError, match="twice"):
        TableMemoryFunction((R(1, 2), 1), {R(1, 2): 1, 0.5: 2, 1: 1})
    with pytest.raises(ValueError, match="reads names 2 tokens"):
        TableMemoryFunction((-1, 1), {-1: 1, 1: 1}, reads=(0, 1))
    with pytest.raises(ValueError, match="repeat"):
        TableMemoryFunction((-1, 1), {(-1, -1): 1, (-1, 1): 1, (1, -1): 1, (1, 1): 1}, reads=(0, 0))


# ---- H^Ess ----------------------------------------------------------------------------

def test_essential_exponential_hand_example():
    k = ExponentialKernel(1, 1)
    H = EssentiallySparseTarget([k], LinearReadout([1]))
    X = np.array([1.0, -1.0, 2.0])
    e = np.exp(-1.0)
    ref = [1.0, -1.0 + e, 2.0 - e + e * e]
    np.testing.assert_allclose(H.evaluate(X, past="none"), ref, rtol=1e-15)
    np.testing.assert_allclose(H.evaluate(X), ref, rtol=1e-15)
    # pad 3: + 3 sum_{s > t} e^{-s} = 3 e^{-(t+1)} / (1 - e^{-1})
    tails = [3 * e ** (t + 1) / (1 - e) for t in range(3)]
    np.testing.assert_allclose(H.evaluate(X, pad=[3.0]), np.add(ref, tails), rtol=1e-14)


def test_essential_padded_tail_matches_long_prefix():
    """The closed-form padded tail equals the direct sum over a long explicit pad prefix
    (plus the remainder beyond it in mpmath)."""
    for k in (ExponentialKernel(R(1, 2), R(1, 5)), PolynomialKernel(1, 3, offset=0, at_zero=2),
              PolynomialKernel(-1, R(3, 2)), ShiftedBumpKernel(6, 4)):
        H = EssentiallySparseTarget([k], LinearReadout([1]))
        X = np.array([0.5, -1.0, 0.25, 1.0])
        pad = -0.7
        closed = H.evaluate(X, pad=[pad])
        P = 3000
        long = np.concatenate([np.full(P, pad), X])
        direct = H.evaluate(long, past="none")[P:]
        with mpmath.workdps(30):
            rem = [float(pad * k.tail_sum_mp(P + t + 1, 30)) for t in range(len(X))]
        np.testing.assert_allclose(closed, direct + np.array(rem), rtol=1e-12, atol=1e-13)


def test_essential_d2_and_two_kernels_block_order():
    k1, k2 = ExponentialKernel(1, 100), ArrayKernel([0, 1], "exp", R(1, 2), 2, tail="zero")
    # (X * k1)(t) ~ x_t ; (X * k2)(t) = x_{t-1}; readout picks block 2 coordinate 1 (b_{t-1})
    H = EssentiallySparseTarget([k1, k2], LinearReadout([0, 0, 0, 1]), d=2)
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert H.evaluate(X).tolist() == [0.0, 2.0]
    Z = H.convolutions(X)
    assert Z.shape == (2, 4)
    np.testing.assert_allclose(Z[1], [3.0 + np.exp(-100), 4.0 + 2 * np.exp(-100), 1.0, 2.0], rtol=1e-15)


def test_essential_refuses_unknown_or_divergent_tails_with_nonzero_pad():
    arr = ArrayKernel([1, R(1, 2)], "exp", R(1, 2), 1)
    H = EssentiallySparseTarget([arr], LinearReadout([1]))
    assert H.evaluate([1.0, 1.0]).tolist() == [1.0, 1.5]  # zero pad is fine
    with pytest.raises(ValueError, match="nonzero padding token.*unknown"):
        H.evaluate([1.0, 1.0], pad=[1.0])
    with pytest.raises(ValueError, match=r"kernels\[0\]: rho\(2\) is unknown"):
        H.evaluate([1.0, 1.0, 1.0])
    slow = PolynomialKernel(1, R(1, 2), offset=0, allow_non_summable=True)
    H2 = EssentiallySparseTarget([slow], LinearReadout([1]))
    with pytest.raises(ValueError, match="diverges"):
        H2.evaluate([1.0], pad=[1.0])
    assert H2.evaluate([1.0, 1.0], past="none").tolist() == [0.0, 1.0]


def test_essential_long_window_direct_convolution():
    k = ExponentialKernel(1, R(1, 100))
    H = EssentiallySparseTarget([k], LinearReadout([1]))
    X = np.random.default_rng(2).choice([-1.0, 1.0], size=(2, 2100, 1))
    y = H.evaluate(X, pad=[1.0])
    rho = np.exp(-0.01 * np.arange(2100))
    for t in (0, 1500, 2099):
        tail = np.exp(-0.01 * (t + 1)) / (1 - np.exp(-0.01))
        assert y[1, t] == pytest.approx(np.dot(X[1, t::-1, 0], rho[: t + 1]) + tail, rel=1e-12)


# ---- the paper's experiments ----------------------------------------------------------

def test_paper_experiments():
    rng = np.random.default_rng(5)
    X = rng.choice([-1.0, 1.0], size=(3, 1000, 1))
    x = X[..., 0]
    ex = paper_experiment("H.2.4")
    assert ex.window_length == 1000 and ex.read_at == 999 and ex.past == "none"
    assert ex.target.lags == (901, 944, 952)
    np.testing.assert_array_equal(ex.evaluate(X), x[:, 47] + x[:, 55] + x[:, 98])
    ex2 = paper_experiment("H.2.2", seed=3)
    w = np.random.default_rng(3).standard_normal((64, 3))
    ref = np.maximum(np.stack([x[:, 47], x[:, 55], x[:, 98]], axis=1) @ w.T, 0).sum(axis=1)
    np.testing.assert_allclose(ex2.evaluate(X), ref, rtol=1e-13)
    assert paper_experiment("H.2.5", seed=3).target == ex2.target
    ex3 = paper_experiment("H.2.3", seed=1)
    w1 = np.random.default_rng(1).standard_normal(64)
    np.testing.assert_allclose(ex3.evaluate(X), np.maximum(np.outer(x[:, 98], w1), 0).sum(axis=1), rtol=1e-13)
    s = np.arange(1, 1001)
    ex7 = paper_experiment("H.2.7")
    rho7 = np.where(1000 - s > 0, np.maximum(1000 - s, 1) ** -0.5, 0.0)
    np.testing.assert_allclose(ex7.evaluate(X), x @ rho7, rtol=1e-12)
    ex8 = paper_experiment("H.2.8")
    np.testing.assert_allclose(ex8.evaluate(X), x @ np.exp(-5.0 * (1000 - s)), rtol=1e-13)
    assert isinstance(ex8.evaluate(X[0]), float)
    with pytest.raises(ValueError, match="1000 tokens"):
        ex8.evaluate(X[:, :10])
    with pytest.raises(ValueError, match="H.2.1"):
        paper_experiment("H.2.1")
    assert set(PAPER_EXPERIMENTS) >= {"H.2.2", "H.2.3", "H.2.4", "H.2.7", "H.2.8"}
    assert paper_experiment_target("H.2.8") == ex8.target


# ---- properties -------------------------------------------------------------------------

@settings(max_examples=120, deadline=None)
@given(targets_with_windows(), st.integers(1, 6))
def test_time_shift_equivariance(twp, k):
    """Prepending k pad tokens to a padded window shifts the output by k."""
    target, X, pad = twp
    y = target.evaluate(X, past="padded", pad=pad)
    prefix = np.broadcast_to(pad, (X.shape[0], k, X.shape[2]))
    y2 = target.evaluate(np.concatenate([prefix, X], axis=1), past="padded", pad=pad)
    assert y.shape == (X.shape[0], X.shape[1]) and y2.shape == (X.shape[0], X.shape[1] + k)
    scale = 1 + np.max(np.abs(y))
    np.testing.assert_allclose(y2[:, k:], y, rtol=1e-10, atol=1e-10 * scale)


@settings(max_examples=60, deadline=None)
@given(targets_with_windows())
def test_none_equals_zero_pad_and_batch_independence(twp):
    target, X, _ = twp
    if target.kind == "adaptive" or target.kind == "fixed":
        np.testing.assert_array_equal(target.evaluate(X, past="none"), target.evaluate(X))
    else:
        np.testing.assert_allclose(target.evaluate(X, past="none"), target.evaluate(X), rtol=1e-13, atol=1e-13)
    single = np.stack([target.evaluate(X[b]) for b in range(X.shape[0])])
    np.testing.assert_allclose(target.evaluate(X), single, rtol=1e-12, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(malformed_specs())
def test_malformed_specs_raise(spec):
    description, thunk = spec
    with pytest.raises((ValueError, TypeError)):
        thunk()


@settings(max_examples=100, deadline=None)
@given(failing_evaluations())
def test_out_of_range_memory_functions_raise(spec):
    description, thunk = spec
    with pytest.raises(ValueError, match=r"g_1"):
        thunk()


@settings(max_examples=60, deadline=None)
@given(st.one_of(fixed_targets(), adaptive_targets(), essential_targets(known_tail=False)))
def test_json_round_trip(target):
    text = json.dumps(target.to_dict())
    back = target_from_dict(json.loads(text))
    assert back == target and type(back) is type(target)
    assert type(target).from_dict(json.loads(text)) == target
    assert Target.from_dict(json.loads(text)) == target


def test_to_dict_refuses_callables_and_from_dict_checks_class():
    H = FixedMemoryTarget((1,), CallableReadout(lambda z: z[:, 0], 2, 1, 1))
    with pytest.raises(TypeError, match="cannot be written to JSON"):
        H.to_dict()
    g = CallableMemoryFunction(lambda Z: np.ones(len(Z)))
    with pytest.raises(TypeError, match="cannot be written to JSON"):
        AdaptiveMemoryTarget.warm_up([g], [1], LinearReadout([1, 1])).to_dict()
    fixed = FixedMemoryTarget((1,), LinearReadout([1, 1])).to_dict()
    with pytest.raises(ValueError, match="not a EssentiallySparseTarget"):
        EssentiallySparseTarget.from_dict(fixed)


def test_paper_targets_round_trip_exactly():
    for name in PAPER_EXPERIMENTS:
        t = paper_experiment_target(name)
        assert target_from_dict(json.loads(json.dumps(t.to_dict()))) == t
    for t in (adaptive_sparse_boolean(), prop42_witness(corrected=False, allow_zero_lag=True), pointer_chasing(2, 3)):
        assert target_from_dict(json.loads(json.dumps(t.to_dict()))) == t


# ---- module split (issue 14): one idea per module, old paths re-export ---------------------

def test_old_import_path_re_exports_the_split_modules():
    from tfapprox.theory import memory_functions, target_classes, target_examples, target_json, targets

    for module in (target_classes, memory_functions, target_examples, target_json):
        for name in module.__all__:
            if name in targets.__all__:
                assert getattr(targets, name) is getattr(module, name), name
    assert set(targets.__all__) >= {"Target", "FixedMemoryTarget", "AdaptiveMemoryTarget", "EssentiallySparseTarget",
                                    "TableMemoryFunction", "paper_experiment", "fixed_memory_target",
                                    "target_from_dict", "memory_function_from_dict", "TARGET_FORMAT"}


def test_json_readers_dispatch_on_registered_kinds():
    from tfapprox.theory import target_json

    with pytest.raises(ValueError, match=r"'fixed', 'adaptive' or 'essential'; got 'nested'"):
        target_from_dict({"format": target_json.TARGET_FORMAT, "kind": "nested"})
    with pytest.raises(ValueError, match=r"'table' or 'relu'; got 'callable'"):
        target_json.memory_function_from_dict({"kind": "callable"})
    with pytest.raises(TypeError, match="JSON object"):
        target_from_dict(["fixed"])
    # a kind is registered once; the same loader again is a no-op, another loader is refused
    loader = target_json._TARGET_LOADERS["fixed"]
    target_json.register_target_kind("fixed", loader)
    with pytest.raises(ValueError, match="already registered"):
        target_json.register_target_kind("fixed", lambda data: None)
    with pytest.raises(TypeError, match="kind"):
        target_json.register_memory_function_kind("", loader)
    with pytest.raises(TypeError, match="loader"):
        target_json.register_memory_function_kind("new", "not callable")


def test_memory_function_row_error_names_the_row_and_the_target_names_the_time():
    from tfapprox.theory.memory_functions import MemoryFunctionRowError

    g = TableMemoryFunction(alphabet=(-1, 1), table={1: 1, -1: 2})
    with pytest.raises(MemoryFunctionRowError) as err:
        g.row_values(np.array([[1.0], [0.5]]))
    assert err.value.row == 1 and "0.5" in err.value.message
    H = AdaptiveMemoryTarget.warm_up([g], [2], LinearReadout([0, 1]))
    with pytest.raises(ValueError, match=r"g_1 failed at time t=1: token 0.5"):
        H.evaluate([1.0, 0.5], pad=[1.0])
