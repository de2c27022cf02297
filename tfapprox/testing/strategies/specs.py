"""Exact numbers, JSON values, RPEs and exact Transformer specs (model files, theory/architecture.py).

Part of :mod:`tfapprox.testing.strategies` (hypothesis strategies shipped for users and the test suite).
"""

from __future__ import annotations

import sympy
from hypothesis import strategies as st

from tfapprox.theory.architecture import (
    FFN_PRECISIONS,
    AttentionHead,
    AttentionLayer,
    Block,
    FeedForward,
    TransformerSpec,
)
from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, TableRPE

R = sympy.Rational



# =====================================================================================
# Section: exact specs and model files (owner: verify/model_file.py,
# tests/test_model_file.py).  exact_numbers, json_values, rpes, transformer_specs.
# =====================================================================================

#: Irrational/symbolic numbers as constructions produce them (sqrt, exp, log, pi).
SYMBOLIC_NUMBERS = (
    sympy.sqrt(2) / 3,
    sympy.exp(-R(1, 100)),
    -sympy.sqrt(3) / 4,
    sympy.log(3) / 5,
    sympy.pi / 7,
    1 - sympy.exp(-R(1, 100)),
)


def exact_numbers(*, symbolic: bool = False, bound: int = 2) -> st.SearchStrategy[sympy.Expr]:
    """Exact sympy numbers of magnitude <= ``bound`` (about): integers, small fractions
    ``p/q`` (including non-decimal ones like 1/3), dyadic rationals ``p/2^k`` up to
    k = 60, decimals ``p/10^k``, and the exact binary values of float64 numbers.  With
    ``symbolic=True`` also irrational expressions from :data:`SYMBOLIC_NUMBERS`.
    """
    options = [
        st.integers(-bound, bound).map(sympy.Integer),
        st.builds(R, st.integers(-12 * bound, 12 * bound), st.integers(1, 12)),
        st.builds(lambda p, k: R(p, 2 ** k), st.integers(-(2 ** 20), 2 ** 20), st.integers(19, 60)),
        st.builds(lambda p, k: R(p, 10 ** k), st.integers(-999, 999), st.integers(3, 9)),
        st.floats(-bound, bound, allow_nan=False, allow_infinity=False).map(R),
    ]
    if symbolic:
        options.append(st.sampled_from(SYMBOLIC_NUMBERS))
    return st.one_of(*options)


def json_values(max_leaves: int = 6) -> st.SearchStrategy[object]:
    """Arbitrary JSON values (finite floats only), as metadata holds them."""
    scalars = (st.none() | st.booleans() | st.integers(-10 ** 20, 10 ** 20)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=max_leaves)


def rpes(past: str = "none", *, symbolic: bool = False) -> st.SearchStrategy[object]:
    """RPE objects usable with ``past`` (T5 is masked beyond its distance when padded)."""
    t5 = st.integers(1, 4).flatmap(lambda b: st.builds(
        T5RPE, st.just(b), st.integers(b + 1, b + 12),
        st.just(True) if past == "padded" else st.booleans()))
    table_entry = st.none() | exact_numbers(symbolic=symbolic).map(lambda v: -abs(v))
    table = st.lists(table_entry, min_size=1, max_size=5).filter(
        lambda v: any(x is not None for x in v)).map(lambda v: TableRPE(tuple(v)))  # >= 1 unmasked lag
    return st.one_of(st.just(LinRPE()), st.just(LogRPE()), t5, table)


def _slopes(rpe: object, past: str, symbolic: bool) -> st.SearchStrategy[sympy.Expr]:
    """RPE slopes p >= 0 that keep the padded-past sums finite and moderate."""
    base = exact_numbers(symbolic=symbolic, bound=1).map(abs)
    if past == "padded" and isinstance(rpe, LinRPE):
        return base.map(lambda v: v + R(1, 4))
    if past == "padded" and isinstance(rpe, LogRPE):
        return base.map(lambda v: v + R(3, 2))
    return base


@st.composite
def transformer_specs(draw: st.DrawFn, *, symbolic: bool = False, pasts: tuple[str, ...] = ("padded", "none"),
                      max_layers: int = 2, max_width: int = 3, max_heads: int = 2,
                      max_ffn_width: int = 3, metadata: bool = True) -> TransformerSpec:
    """Small random :class:`TransformerSpec` objects covering every structural option.

    Covers: input dim 1-2, width ``D`` 1-``max_width``, 1-``max_layers`` blocks each with
    attention, FFN or both; lin/log/T5/table RPE; DP-free (``W_Q = W_K = None``) and
    dot-product heads; normalised and normalization-free attention; with and without the
    attention residual; FFN precision ``None``/``"round"``/``"log_round"``; a readout FFN
    that changes the output dimension; ``past`` from ``pasts``; JSON metadata.  Weights
    come from :func:`exact_numbers` (exact rationals; also irrational expressions when
    ``symbolic=True``).  Padded-past specs get summable slopes (lin ``p >= 1/4``,
    log ``p >= 3/2``, masked T5).
    """
    num = exact_numbers(symbolic=symbolic)
    past = draw(st.sampled_from(pasts))
    d = draw(st.integers(1, 2))
    D = draw(st.integers(1, max_width))
    L = draw(st.integers(1, max_layers))

    def mat(rows: int, cols: int) -> list[list[sympy.Expr]]:
        return [[draw(num) for _ in range(cols)] for _ in range(rows)]

    blocks = []
    for layer in range(L):
        last = layer == L - 1
        kind = draw(st.sampled_from(("attention", "ffn", "both")))
        att = ffn = None
        if kind != "ffn":
            rpe = draw(rpes(past, symbolic=symbolic))
            dv = draw(st.integers(1, max_width))
            heads = []
            for _ in range(draw(st.integers(1, max_heads))):
                slope = draw(_slopes(rpe, past, symbolic))
                if draw(st.booleans()):
                    dk = draw(st.integers(1, 2))
                    heads.append(AttentionHead(mat(dv, D), slope, mat(dk, D), mat(dk, D)))
                else:
                    heads.append(AttentionHead(mat(dv, D), slope))
            att = AttentionLayer(tuple(heads), mat(D, dv), rpe, normalized=draw(st.booleans()),
                                 residual=draw(st.booleans()))
        if kind != "attention":
            m = draw(st.integers(1, max_ffn_width))
            out = draw(st.integers(1, 2)) if last else D
            ffn = FeedForward(mat(m, D), mat(m, 1), mat(out, m), draw(st.sampled_from(FFN_PRECISIONS)))
        blocks.append(Block(att, ffn))
    meta = draw(st.dictionaries(st.text(max_size=6), json_values(), max_size=3)) if metadata else {}
    return TransformerSpec(mat(D, d), mat(D, 1), tuple(blocks), past, meta)


