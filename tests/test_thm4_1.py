"""Theorem 4.1 / Prop. 4.3 constructions: exact positions, error within the certified bound, width condition."""

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from tfapprox.constructions.thm4_1 import attention_parameter_count, build_thm4_1
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction
from tfapprox.verify.adaptive_error import measure_thm4_1
from tfapprox.verify.model import Model


def _target(vals1, vals2, alphabet, T):
    g1 = TableMemoryFunction(tuple(alphabet), dict(zip(alphabet, vals1)))
    g2 = TableMemoryFunction(tuple(alphabet), dict(zip(alphabet, vals2)))
    return AdaptiveMemoryTarget.warm_up((g1, g2), (T, T), LinearReadout([0, 1, 1]))


@st.composite
def small_adaptive_targets(draw):
    A = draw(st.integers(2, 3))
    alphabet = sorted(draw(st.sets(st.sampled_from([-1, sympy.Rational(-1, 2), 0, sympy.Rational(1, 2), 1]),
                                   min_size=A, max_size=A)))
    T = draw(st.integers(1, 2))
    v1 = draw(st.lists(st.integers(1, T), min_size=A, max_size=A))
    v2 = draw(st.lists(st.integers(1, T), min_size=A, max_size=A))
    return _target(v1, v2, alphabet, T)


@settings(max_examples=6, deadline=None)
@given(small_adaptive_targets(), st.sampled_from(["lin", "log"]), st.booleans())
def test_property_output_within_reported_error(target, rpe, tmx):
    cons = build_thm4_1(target, 4, rpe=rpe, tmx=tmx)
    meas = measure_thm4_1(cons)
    assert meas.positions_exact
    assert meas.enumerated_max <= meas.total_upper + 1e-12
    assert all(f.exact for f in cons.memory_ffns)


@settings(max_examples=5, deadline=None)
@given(small_adaptive_targets())
def test_property_too_small_width_refused(target):
    vals = [v for _, v in target.memory_functions[0].entries]
    if len(set(vals)) < 2 and len({v for _, v in target.memory_functions[1].entries}) < 2:
        return  # constant tables are exact with one neuron
    with pytest.raises(ValueError, match="m \\(FFN width\\)"):
        build_thm4_1(target, 4, width=1)


def test_width_condition_reports_accuracy_and_refuses():
    tgt = _target([1, 3, 2], [2, 1, 1], [-1, 0, 1], 3)
    ok = build_thm4_1(tgt, 4)
    assert [f.accuracy for f in ok.memory_ffns] == [0.0, 0.0]
    assert ok.spec.blocks[0].ffn.width == 5
    with pytest.raises(ValueError, match="m \\(FFN width\\) = 2"):
        build_thm4_1(tgt, 4, width=2)
    tgt_log = _target([1, 3, 2], [2, 1, 1], [-1, 0, 1], 3)
    with pytest.raises(ValueError, match="1/\\(4 T_k\\)"):
        build_thm4_1(tgt_log, 4, width=3, rpe="log")


def test_symbolic_identity_logit_plus_rpe():
    """Logit plus RPE = -beta (s - g(x_t)) (lin) / -beta log(s / g(x_t)) (log), symbolically."""
    tgt = _target([1, 3, 2], [2, 1, 1], [-1, 0, 1], 3)
    s, g = sympy.symbols("s g", positive=True)
    for rpe in ("lin", "log"):
        cons = build_thm4_1(tgt, 4, rpe=rpe)
        D = cons.layout["D"]
        gc, cc = cons.layout["position_coordinates"][0], cons.layout["constant_coordinate"]
        xq = sympy.zeros(D, 1)
        xk = sympy.zeros(D, 1)
        xq[gc] = g if rpe == "lin" else sympy.log(g)
        xk[cc] = 1 if rpe == "lin" else sympy.log(2)
        for head in cons.spec.blocks[1].attention.heads[:2]:
            beta = head.slope
            logit = (head.query * xq)[0] * (head.key * xk)[0]
            phi = -s if rpe == "lin" else -sympy.log(s)
            want = -beta * (s - g) if rpe == "lin" else -beta * sympy.log(s / g)
            assert sympy.simplify(sympy.expand_log(logit + beta * phi - want, force=True)) == 0


@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_tmx_equals_dp_with_fewer_parameters(rpe):
    tgt = _target([1, 3, 2], [2, 1, 1], [-1, 0, 1], 3)
    dp = build_thm4_1(tgt, 64, rpe=rpe)
    tm = build_thm4_1(tgt, 64, rpe=rpe, tmx=True)
    # the comparison must not be vacuous: at H = 64 the layer-2 value weights are non-zero
    assert any(h.value != sympy.zeros(*h.value.shape) for h in dp.spec.blocks[1].attention.heads)
    X = np.array([[1, -1, 0, 1], [0, 0, 1, -1]], dtype=float)[:, :, None]
    dps = 120
    a = Model(dp.spec).run(X, backend="mpmath", dps=dps, pad=[1.0])
    b = Model(tm.spec).run(X, backend="mpmath", dps=dps, pad=[1.0])
    assert all(abs(u - v) <= mpmath.mpf(10) ** -60 * max(1, abs(u)) for u, v in zip(a.ravel(), b.ravel()))
    zero_attention = build_thm4_1(tgt, 4, rpe=rpe)  # H = 4: no Chebyshev node in the bump, W_V = 0
    c = Model(zero_attention.spec).run(X, backend="mpmath", dps=dps, pad=[1.0])
    assert any(abs(u - w) > 1e-3 for u, w in zip(a.ravel(), c.ravel()))
    assert attention_parameter_count(tm.spec) < attention_parameter_count(dp.spec)
    assert tm.spec.metadata["ffn1_stores"] == "g_k"


def test_tmx_model_file_round_trip(tmp_path):
    tgt = _target([1, 3, 2], [2, 1, 1], [-1, 0, 1], 3)
    m = Model(build_thm4_1(tgt, 4, tmx=True).spec)
    m.save(tmp_path / "m.json")
    back = Model.load(tmp_path / "m.json")
    assert back.spec.blocks[1].attention.heads[0].tmx == m.spec.blocks[1].attention.heads[0].tmx


def test_tmx_undefined_phi_refused():
    from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
    from tfapprox.theory.rpe import LogRPE

    head = AttentionHead([[1]], 2, tmx=[[1]])
    spec = TransformerSpec([[1]], [[0]], (Block(AttentionLayer((head,), [[1]], LogRPE(), normalized=False)),),
                           "none")
    with pytest.raises(ValueError, match="phi_log"):
        Model(spec).run(np.array([0.5, 2.0]))
    with pytest.raises(ValueError, match="tmx"):
        AttentionHead([[1]], 2, [[1]], [[1]], tmx=[[1]])
