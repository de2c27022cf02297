"""Validation of the exact architecture spec (theory/architecture.py, theory/rpe.py)."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from strategies import malformed_architecture_specs

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, to_exact


@settings(max_examples=300, deadline=None)
@given(case=malformed_architecture_specs())
def test_every_malformed_spec_raises_value_or_type_error(case):
    description, thunk = case
    with pytest.raises((ValueError, TypeError)):
        thunk()


def test_error_messages_name_the_parameter_and_value():
    with pytest.raises(ValueError, match=r"p \(RPE slope\) must be >= 0.*-1/2"):
        AttentionHead([[1]], sympy.Rational(-1, 2))
    with pytest.raises(ValueError, match=r"W_V\[0,0\] must be finite, got nan"):
        AttentionHead([[float("nan")]], 1)
    with pytest.raises(ValueError, match=r"blocks\[0\].heads\[0\]: p = 1 .*log-RPE; need p > 1"):
        TransformerSpec([[1]], [[0]], (Block(AttentionLayer((AttentionHead([[1]], 1),), [[1]], LogRPE()), None),),
                        "padded")
    with pytest.raises(ValueError, match="past must be one of 'padded', 'none'"):
        TransformerSpec([[1]], [[0]], (Block(None, FeedForward([[1]], [[0]], [[1]])),), "infinite")


def test_floats_become_exact_binary_rationals_and_strings_exact_decimals():
    assert to_exact("w", 0.1) == sympy.Rational(3602879701896397, 36028797018963968)
    assert to_exact("w", "0.1") == sympy.Rational(1, 10)
    assert to_exact("w", "1e-3") == sympy.Rational(1, 1000)


def test_dot_product_free_is_detected_from_zero_matrices():
    assert AttentionHead([[1]], 1).dot_product_free
    assert AttentionHead([[1]], 1, query=[[0]], key=[[3]]).dot_product_free
    assert not AttentionHead([[1]], 1, query=[[1]], key=[[3]]).dot_product_free


def test_t5_buckets_follow_the_paper_formula():
    rpe = T5RPE(num_exact=4, max_distance=32)
    # s < B: s; B <= s < D: B + floor(B log(s/B) / log(D/B)); s >= D: 2B - 1
    assert [rpe.bucket(s) for s in (0, 3, 4, 8, 16, 31, 32, 1000)] == [0, 3, 4, 5, 6, 7, 7, 7]
    masked = T5RPE(4, 32, mask_beyond=True)
    assert masked.phi_exact(40) == -sympy.oo and masked.summable(1)


def test_parameters_are_listed_in_a_stable_order():
    head = AttentionHead([[2]], sympy.Rational(1, 3), query=[[1]], key=[[5]])
    spec = TransformerSpec([[1]], [[0]], (Block(AttentionLayer((head,), [[1]], LinRPE()), None),), "none")
    names = [n for n, _ in spec.parameters()]
    assert names == ["W_E[0,0]", "b_E[0,0]", "blocks[0].heads[0].p", "blocks[0].heads[0].W_V[0,0]",
                     "blocks[0].heads[0].W_Q[0,0]", "blocks[0].heads[0].W_K[0,0]", "blocks[0].W_O[0,0]"]
