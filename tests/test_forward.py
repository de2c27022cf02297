"""Forward pass of eqs. (2)-(4): hand-computed examples, backend agreement, exact
padded tails against brute force, the symbolic pass, and time-shift equivariance."""

from __future__ import annotations


import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import LinRPE, LogRPE, QuadraticRPE, T5RPE, TableRPE
from tfapprox.verify.model import Model, PrecisionError

R = sympy.Rational


def two_head_spec(rpe, normalized, past, dp=False):
    """1 layer, 2 heads, d = D = 1, W_E = 1, output = x_t + W_O sum_h W_V^h (attention)."""
    heads = (
        AttentionHead([[R(3, 2)]], R(3, 2), query=[[R(1, 2)]] if dp else None, key=[[R(1, 3)]] if dp else None),
        AttentionHead([[R(-1, 4)]], R(5, 2)),
    )
    layer = AttentionLayer(heads, [[R(2)]], rpe, normalized=normalized)
    return TransformerSpec([[1]], [[0]], (Block(layer, None),), past)


def reference_two_head(x, pad, rpe_kind, normalized, past, dp=False, far=2000):
    """Independent evaluation with explicit loops; the padded past is summed to lag `far`
    plus the exact remainder computed by mpmath.nsum (not the library's closed form)."""
    heads = [(1.5, 1.5, (0.5, 1 / 3) if dp else None), (-0.25, 2.5, None)]
    N = len(x)
    out = []
    for t in range(N):
        total = mpmath.mpf(0)
        for v, p, qk in heads:
            def w(s):
                if rpe_kind == "lin":
                    return mpmath.exp(-p * s)
                if rpe_kind == "quadratic":
                    return mpmath.exp(-p * s * s)
                return mpmath.mpf(0) if s == 0 else mpmath.power(s, -p)

            def tok(j):
                return x[j] if j >= 0 else pad

            def content(j):
                return mpmath.exp(qk[0] * x[t] * qk[1] * tok(j)) if qk else mpmath.mpf(1)

            num = mpmath.fsum(w(s) * content(t - s) * x[t - s] for s in range(t + 1))
            den = mpmath.fsum(w(s) * content(t - s) for s in range(t + 1))
            if past == "padded":
                if rpe_kind == "quadratic":  # e^{-p s^2} < 1e-300 long before lag t + 40
                    tail = mpmath.fsum(w(s) for s in range(t + 1, t + 40))
                else:
                    tail = mpmath.nsum(w, [t + 1, mpmath.inf], method='euler-maclaurin')
                num += tail * content(-1) * pad
                den += tail * content(-1)
            if normalized:
                total += v * (num / den if den != 0 else 0)
            else:
                total += v * num
        out.append(float(x[t] + 2 * total))
    return np.array(out)


@pytest.mark.parametrize("rpe", [LinRPE(), LogRPE(), QuadraticRPE()], ids=["lin", "log", "quadratic"])
@pytest.mark.parametrize("normalized", [True, False], ids=["softmax", "nf"])
@pytest.mark.parametrize("past", ["padded", "none"])
@pytest.mark.parametrize("dp", [False, True], ids=["dpfree", "dp"])
def test_two_head_example_matches_hand_computation(rpe, normalized, past, dp):
    x = [0.5, -1.0, 0.25, 0.75]
    pad = 0.3
    model = Model(two_head_spec(rpe, normalized, past, dp))
    got = model.run(np.array(x), pad=[pad] if past == "padded" else None)[:, 0]
    want = reference_two_head(x, pad, rpe.kind, normalized, past, dp)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_lin_softmax_padded_numbers_by_hand():
    # one head, p = log 2 -> weights 2^{-s}, total 2; pad 0; x = (1, 0, 0):
    # output at t: x_t + W_O W_V * (sum_s 2^{-s} x_{t-s}) / 2
    spec = TransformerSpec([[1]], [[0]], (Block(AttentionLayer(
        (AttentionHead([[1]], sympy.log(2)),), [[1]], LinRPE()), None),), "padded")
    out = Model(spec).run(np.array([1.0, 0.0, 0.0]))[:, 0]
    np.testing.assert_allclose(out, [1 + 0.5, 0.25, 0.125], atol=1e-15)


def random_spec(seed: int, past: str, rpe_kind: str, layers: int = 2, normalized: bool = True,
                dp: bool = True) -> TransformerSpec:
    rng = np.random.default_rng(seed)
    D, d = 3, 2

    def mat(r, c, scale=4):
        return [[R(int(rng.integers(-scale, scale + 1)), 8) for _ in range(c)] for _ in range(r)]

    rpe = {"lin": LinRPE(), "log": LogRPE(), "t5": T5RPE(2, 6, mask_beyond=True),
           "table": TableRPE((R(0), R(-1, 2), None, R(-2))), "quadratic": QuadraticRPE()}[rpe_kind]
    blocks = []
    for l in range(layers):
        heads = []
        for h in range(2):
            slope = R(int(rng.integers(5, 30)), 8) + (1 if rpe_kind == "log" else 0)
            use_dp = dp and h == 0
            heads.append(AttentionHead(mat(D, D), slope, query=mat(2, D) if use_dp else None,
                                       key=mat(2, D) if use_dp else None))
        last = l == layers - 1
        ffn = FeedForward(mat(4, D), mat(4, 1), mat(1 if last else D, 4))
        blocks.append(Block(AttentionLayer(tuple(heads), mat(D, D), rpe, normalized=normalized), ffn))
    return TransformerSpec(mat(D, d), mat(D, 1), tuple(blocks), past)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), past=st.sampled_from(["padded", "none"]),
       rpe=st.sampled_from(["lin", "log", "t5", "table", "quadratic"]), normalized=st.booleans())
def test_float64_and_mpmath_agree(seed, past, rpe, normalized):
    model = Model(random_spec(seed, past, rpe, normalized=normalized))
    X = np.random.default_rng(seed + 1).uniform(-1, 1, (2, 6, 2))
    try:
        a = model.run(X)
    except PrecisionError:
        return  # float64 refused honestly (overflow or cancellation); nothing to compare
    b = model.run(X, backend="mpmath", dps=50)
    np.testing.assert_allclose(a, np.array(b, dtype=float), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rpe,slope", [("lin", R(1, 2)), ("log", R(5, 2))])
def test_padded_tail_matches_brute_force_window(rpe, slope):
    """Normalization-free DP-free head: the padded model equals the finite model on a
    window with K explicit pad tokens in front, plus exactly the remainder beyond K."""
    rpe_obj = LinRPE() if rpe == "lin" else LogRPE()
    head = AttentionHead([[1]], slope)
    layer_pad = AttentionLayer((head,), [[1]], rpe_obj, normalized=False, residual=False)
    spec_pad = TransformerSpec([[1]], [[0]], (Block(layer_pad, None),), "padded")
    spec_none = TransformerSpec([[1]], [[0]], (Block(layer_pad, None),), "none")
    x = np.array([0.5, -0.25, 1.0])
    pad = 0.75
    K = 3000
    padded = Model(spec_pad).run(x, pad=[pad], backend="mpmath", dps=40)[:, 0]
    brute = Model(spec_none).run(np.concatenate([np.full(K, pad), x]), backend="float64")[K:, 0]
    p = float(slope)
    for t in range(len(x)):
        def w(s):
            return mpmath.exp(-p * s) if rpe == "lin" else mpmath.power(s, -p)
        remainder = pad * mpmath.nsum(w, [t + K + 1, mpmath.inf], method='euler-maclaurin')
        assert abs(float(padded[t]) - (brute[t] + float(remainder))) <= 1e-12 * max(1.0, abs(brute[t]))
        if rpe == "log":
            assert remainder > 1e-9  # the remainder is real: a truncated window is not the model


def test_symbolic_forward_matches_mpmath_to_40_digits():
    spec = random_spec(7, "padded", "lin", layers=1, dp=True)
    X = [[[R(1, 3), R(-1, 2)], [R(2, 5), R(1, 7)], [R(-3, 4), R(0)]]]
    model = Model(spec)
    exact = model.run(X, backend="sympy")
    numeric = model.run(X, backend="mpmath", dps=60)
    for e, n in zip(np.ravel(exact), np.ravel(numeric)):
        with mpmath.workdps(60):
            value = mpmath.mpf(sympy.N(e, 55)._mpf_)
            assert abs(value - n) <= mpmath.mpf(10) ** -40 * max(1, abs(n))


def test_symbolic_forward_log_rpe_with_zeta_tail():
    spec = random_spec(11, "padded", "log", layers=1, dp=False)
    X = [[[R(1, 2), R(1, 3)], [R(-1, 5), R(1)]]]
    model = Model(spec)
    exact = model.run(X, backend="sympy")
    numeric = model.run(X, backend="mpmath", dps=60)
    for e, n in zip(np.ravel(exact), np.ravel(numeric)):
        with mpmath.workdps(60):
            assert abs(mpmath.mpf(sympy.N(e, 55)._mpf_) - n) <= mpmath.mpf(10) ** -40 * max(1, abs(n))


def test_symbolic_identity_logit_plus_rpe():
    """The query-key logit plus RPE of a head can be checked symbolically (App. C.1 style):
    with W_Q = sqrt(beta) e_g, W_K = sqrt(beta) e_1 and lin-RPE slope beta, the weight of
    lag s is exp(-beta (s - g))."""
    beta, g, s = sympy.symbols("beta g s", positive=True)
    q = sympy.Matrix([[sympy.sqrt(beta), 0]]) * sympy.Matrix([g, 1])
    k = sympy.Matrix([[0, sympy.sqrt(beta)]]) * sympy.Matrix([7, 1])
    logit = (q.T * k)[0] + beta * LinRPE().phi_exact(0) - beta * s
    assert sympy.simplify(logit - (-beta * (s - g))) == 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), rpe=st.sampled_from(["lin", "log", "t5", "quadratic"]),
       shift=st.integers(1, 4), normalized=st.booleans())
def test_time_shift_equivariance_on_padded_inputs(seed, rpe, shift, normalized):
    """Prepending pad tokens to a padded window only shifts the outputs (the model is
    causal and shift invariant on two-sided sequences)."""
    model = Model(random_spec(seed, "padded", rpe, normalized=normalized))
    rng = np.random.default_rng(seed)
    pad = rng.uniform(-1, 1, 2)
    X = rng.uniform(-1, 1, (1, 5, 2))
    longer = np.concatenate([np.tile(pad, (1, shift, 1)), X], axis=1)
    a = model.run(X, pad=pad, backend="mpmath", dps=30)
    b = model.run(longer, pad=pad, backend="mpmath", dps=30)
    np.testing.assert_allclose(np.array(a, float), np.array(b[:, shift:], float), rtol=1e-20, atol=1e-20)


def test_float64_refuses_cancelling_weights():
    """Heads whose coefficients cancel (1e20 - 1e20 ...) must not give a float64 number."""
    big = R(10) ** 20
    heads = (AttentionHead([[big]], R(1, 100)), AttentionHead([[-big]], R(2, 100)))
    spec = TransformerSpec([[1]], [[0]], (Block(AttentionLayer(heads, [[1]], LinRPE()), None),), "padded")
    model = Model(spec)
    with pytest.raises(PrecisionError, match="dps >="):
        model.run(np.ones(4))
    exact = model.run(np.ones(4), backend="mpmath", dps=60)
    assert all(mpmath.isfinite(v) for v in np.ravel(exact))


def test_log_rpe_first_token_has_zero_attention_without_past():
    spec = TransformerSpec([[1]], [[0]], (Block(AttentionLayer(
        (AttentionHead([[5]], R(2)),), [[1]], LogRPE(), residual=False), None),), "none")
    out = Model(spec).run(np.array([1.0, 2.0]))[:, 0]
    assert out[0] == 0.0 and out[1] == pytest.approx(5.0)


@pytest.mark.parametrize("rpe,p", [(LinRPE(), 0), (LogRPE(), 1), (T5RPE(2, 8), 1), (QuadraticRPE(), 0)])
def test_divergent_padded_tail_is_refused(rpe, p):
    with pytest.raises(ValueError, match="divergent"):
        TransformerSpec([[1]], [[0]], (Block(AttentionLayer((AttentionHead([[1]], p),), [[1]], rpe), None),),
                        "padded")


def test_ffn_precision_rounds_half_to_even():
    ffn = FeedForward([[1]], [[0]], [[1]], precision="round")
    spec = TransformerSpec([[1]], [[0]], (Block(None, FeedForward([[1]], [[0]], [[1]])), Block(None, ffn)), "none")
    model = Model(spec)  # x + relu(x) = 2x, then round(2x)
    np.testing.assert_array_equal(model.run(np.array([0.3, 0.9, 1.1]))[:, 0], [1.0, 2.0, 2.0])
    exact_ties = model.run(np.array([0.25, 0.75, 1.25]), backend="mpmath", dps=30)[:, 0]
    assert [int(v) for v in exact_ties] == [0, 2, 2]  # ties to even
    with pytest.raises(PrecisionError, match="rounding boundary"):
        model.run(np.array([0.25, 0.75, 1.25]))  # float64 cannot certify which side of a tie it is on


@pytest.mark.parametrize("backend", ["float64", "mpmath"])
@pytest.mark.parametrize("past", ["padded", "none"])
def test_positions_select_the_same_outputs(backend, past):
    model = Model(random_spec(3, past, "lin", layers=2, dp=True))
    X = np.random.default_rng(0).uniform(-1, 1, (2, 7, 2))
    kw = {"dps": 30} if backend == "mpmath" else {}
    full = model.run(X, backend=backend, **kw)
    some = model.run(X, backend=backend, positions=[2, 6], **kw)
    np.testing.assert_array_equal(np.array(full[:, [2, 6]], float), np.array(some, float))
    dpfree = Model(random_spec(4, past, "log", layers=1, dp=False))
    full = dpfree.run(X, backend=backend, **kw)
    some = dpfree.run(X, backend=backend, positions=[0, 5], **kw)
    np.testing.assert_allclose(np.array(full[:, [0, 5]], float), np.array(some, float), rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match="positions"):
        model.run(X, positions=[3, 1])
