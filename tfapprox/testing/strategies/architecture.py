"""Malformed architecture specs (theory/architecture.py, theory/rpe).

Part of :mod:`tfapprox.testing.strategies` (hypothesis strategies shipped for users and the test suite).
"""

from __future__ import annotations

import sympy
from hypothesis import strategies as st

from tfapprox.theory.architecture import (
    AttentionHead,
    AttentionLayer,
    Block,
    FeedForward,
    TransformerSpec,
)
from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, TableRPE

R = sympy.Rational




# =====================================================================================
# Section: malformed architecture specs (owner: theory/architecture.py, theory/rpe.py;
# tests/test_architecture.py).  malformed_architecture_specs draws (description, thunk)
# pairs whose call must raise ValueError or TypeError.
# =====================================================================================

_BAD_WEIGHTS = [float("nan"), float("inf"), -float("inf"), "abc", None, object(), True, 1 + 2j, "1/0"]


@st.composite
def malformed_architecture_specs(draw: st.DrawFn) -> tuple[str, object]:
    """``(description, thunk)``: calling ``thunk()`` must raise ``ValueError``/``TypeError``."""
    bad = draw(st.sampled_from(_BAD_WEIGHTS))
    D = draw(st.integers(1, 3))
    eye = [[1 if i == j else 0 for j in range(D)] for i in range(D)]
    good_head = AttentionHead(eye, R(1, 2))
    layer = AttentionLayer((good_head,), eye, LinRPE())
    case = draw(st.sampled_from([
        "bad_weight_value", "bad_weight_embedding", "negative_slope", "bad_slope", "shape_value",
        "shape_output", "query_without_key", "query_key_shapes", "no_heads", "no_blocks", "empty_block",
        "bad_rpe", "past", "padded_divergent_lin", "padded_divergent_log", "t5_params", "table_values",
        "ffn_shapes", "ffn_precision", "ffn_width_mismatch", "residual_width", "bias_shape", "metadata",
    ]))
    if case == "bad_weight_value":
        m = [row[:] for row in eye]
        m[0][0] = bad
        return f"W_V entry {bad!r}", lambda: AttentionHead(m, R(1, 2))
    if case == "bad_weight_embedding":
        return f"W_E entry {bad!r}", lambda: TransformerSpec([[bad]], [[0]], (Block(None, FeedForward([[1]], [[0]], [[1]])),), "none")
    if case == "negative_slope":
        p = draw(st.sampled_from([-1, R(-1, 3), -0.5]))
        return f"p={p}", lambda: AttentionHead(eye, p)
    if case == "bad_slope":
        return f"p={bad!r}", lambda: AttentionHead(eye, bad)
    if case == "shape_value":
        return "W_V wrong width", lambda: AttentionLayer((good_head, AttentionHead([[1] * (D + 1)], 1)), eye, LinRPE())
    if case == "shape_output":
        return "W_O wrong columns", lambda: AttentionLayer((good_head,), [[1] * (D + 2)], LinRPE())
    if case == "query_without_key":
        return "W_Q without W_K", lambda: AttentionHead(eye, 1, query=eye)
    if case == "query_key_shapes":
        return "W_Q, W_K shapes differ", lambda: AttentionHead(eye, 1, query=eye, key=[[1] * D] * (D + 1))
    if case == "no_heads":
        return "no heads", lambda: AttentionLayer((), eye, LinRPE())
    if case == "no_blocks":
        return "no blocks", lambda: TransformerSpec(eye, [[0]] * D, (), "none")
    if case == "empty_block":
        return "empty block", lambda: Block(None, None)
    if case == "bad_rpe":
        rpe = draw(st.sampled_from(["lin", None, 3]))
        return f"rpe={rpe!r}", lambda: AttentionLayer((good_head,), eye, rpe)
    if case == "past":
        past = draw(st.sampled_from(["infinite", "", None, "PADDED"]))
        return f"past={past!r}", lambda: TransformerSpec(eye, [[0]] * D, (Block(layer, None),), past)
    if case == "padded_divergent_lin":
        return "lin p=0 padded", lambda: TransformerSpec(
            eye, [[0]] * D, (Block(AttentionLayer((AttentionHead(eye, 0),), eye, LinRPE()), None),), "padded")
    if case == "padded_divergent_log":
        p = draw(st.sampled_from([0, R(1, 2), 1]))
        return f"log p={p} padded", lambda: TransformerSpec(
            eye, [[0]] * D, (Block(AttentionLayer((AttentionHead(eye, p),), eye, LogRPE()), None),), "padded")
    if case == "t5_params":
        b, dmax = draw(st.sampled_from([(0, 5), (3, 3), (2, 1), (1.5, 4), ("2", 8)]))
        return f"T5RPE({b!r}, {dmax!r})", lambda: T5RPE(b, dmax)
    if case == "table_values":
        vals = draw(st.sampled_from([(), "abc", (bad,), 5]))
        return f"TableRPE({vals!r})", lambda: TableRPE(vals)
    if case == "ffn_shapes":
        return "FFN bias length", lambda: FeedForward([[1] * D] * 2, [[0]] * 3, [[1, 1]])
    if case == "ffn_precision":
        prec = draw(st.sampled_from(["floor", "bf16", 1]))
        return f"precision={prec!r}", lambda: FeedForward([[1] * D], [[0]], [[1] * 1] * D, precision=prec)
    if case == "ffn_width_mismatch":
        return "FFN reads wrong width", lambda: TransformerSpec(
            eye, [[0]] * D, (Block(layer, FeedForward([[1] * (D + 1)], [[0]], [[1]])),), "none")
    if case == "residual_width":
        return "intermediate FFN changes width", lambda: TransformerSpec(
            eye, [[0]] * D, (Block(layer, FeedForward([[1] * D], [[0]], [[1]] * (D + 1))), Block(layer, None)), "none")
    if case == "bias_shape":
        return "b_E wrong length", lambda: TransformerSpec(eye, [[0]] * (D + 1), (Block(layer, None),), "none")
    return "metadata not a mapping", lambda: TransformerSpec(eye, [[0]] * D, (Block(layer, None),), "none", [1, 2])


