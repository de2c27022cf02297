"""Shared hypothesis strategies for tfapprox (one module for the whole test suite).

Each part of the toolkit appends its own section below, headed by a comment naming the
section and its owner module.  Import with ``from strategies import ...`` (pytest puts
``tests/`` on the path, see ``pyproject.toml``).  Re-read this file before editing it:
several people add to it.
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


# =====================================================================================
# Section: targets, readouts, memory kernels (owner: theory/targets.py,
# theory/readouts.py, theory/memory_kernels.py; tests/test_targets.py,
# tests/test_readouts.py, tests/test_memory_kernels.py).
# Valid specs: small_weights, readouts, memory_kernels, fixed_targets,
# adaptive_targets, essential_targets, targets_with_windows.
# Malformed specs (each draw is a (description, thunk) pair whose call must raise
# ValueError or TypeError): malformed_lags, malformed_specs, failing_evaluations.
# =====================================================================================

import math as _math

import numpy as _np

from tfapprox.theory.memory_kernels import (
    ArrayKernel,
    ExponentialKernel,
    MixtureKernel,
    PolynomialKernel,
    ShiftedBumpKernel,
)
from tfapprox.theory.readouts import (
    CallableReadout,
    LinearReadout,
    ProductReadout,
    ReluSumReadout,
)
from tfapprox.theory.targets import (
    AdaptiveMemoryTarget,
    CallableMemoryFunction,
    EssentiallySparseTarget,
    FixedMemoryTarget,
    ReluMemoryFunction,
    TableMemoryFunction,
)


def small_weights() -> st.SearchStrategy[object]:
    """Readout/kernel weights as users pass them: small ints, fractions, floats, decimal strings."""
    return st.one_of(
        st.integers(-3, 3),
        st.builds(R, st.integers(-9, 9), st.integers(1, 7)),
        st.floats(-2, 2, allow_nan=False, allow_infinity=False),
        st.sampled_from(["0.1", "-0.25", "1/3", "3"]),
    )


@st.composite
def readouts(draw: st.DrawFn, n_in: int, *, kinds: tuple[str, ...] = ("relu_sum", "linear", "product"),
             max_neurons: int = 4) -> object:
    """A readout with ``n_in`` inputs of one of ``kinds``."""
    kind = draw(st.sampled_from(kinds))
    w = small_weights()
    if kind == "relu_sum":
        m = draw(st.integers(1, max_neurons))
        return ReluSumReadout([draw(w) for _ in range(m)], [[draw(w) for _ in range(n_in)] for _ in range(m)],
                              [draw(w) for _ in range(m)])
    if kind == "linear":
        return LinearReadout([draw(w) for _ in range(n_in)], draw(w))
    return ProductReadout(n_in)


@st.composite
def memory_kernels(draw: st.DrawFn, *, known_tail: bool = False, depth: int = 1) -> object:
    """A summable memory kernel (exponential, polynomial beta > 1, mixture, bump, array).

    ``known_tail=True`` excludes ``ArrayKernel(tail="unknown")`` (usable with any pad
    and any window length).
    """
    choices = ["exp", "poly", "bump", "array"] + (["mixture"] if depth > 0 else [])
    kind = draw(st.sampled_from(choices))
    scale = draw(st.sampled_from([1, -1, R(1, 2), 2, "0.3", 0.75]))
    if kind == "exp":
        return ExponentialKernel(scale, draw(st.sampled_from([R(1, 10), R(1, 2), 1, 3, "0.05"])))
    if kind == "poly":
        offset = draw(st.sampled_from([0, 1]))
        at_zero = draw(st.sampled_from([None, 1, R(-1, 2)])) if offset == 0 else None
        return PolynomialKernel(scale, draw(st.sampled_from([R(3, 2), 2, R(11, 10), 3])), offset, at_zero)
    if kind == "bump":
        return ShiftedBumpKernel(draw(st.integers(0, 12)), draw(st.sampled_from([R(1, 2), 1, 3, R(9, 2)])), scale)
    if kind == "array":
        decay = draw(st.sampled_from(["exp", "poly"]))
        beta = draw(st.sampled_from([R(1, 2), 1, 2])) + (1 if decay == "poly" else 0)
        C = draw(st.sampled_from([1, 2, R(1, 2)]))
        n = draw(st.integers(1, 12))
        fr = draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=n, max_size=n))
        bound = [float(C) * (_math.exp(-float(beta) * t) if decay == "exp" else max(t, 1) ** -float(beta))
                 for t in range(n)]
        values = [f * b for f, b in zip(fr, bound)]
        tail = "zero" if known_tail else draw(st.sampled_from(["zero", "unknown"]))
        return ArrayKernel(values, decay, beta, C, tail=tail)
    comps = draw(st.lists(memory_kernels(known_tail=known_tail, depth=depth - 1), min_size=1, max_size=3))
    return MixtureKernel(comps, [draw(small_weights()) for _ in comps])


def _lag_lists(max_lag: int = 12, max_size: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(st.integers(1, max_lag), min_size=1, max_size=max_size, unique=True).map(
        lambda v: tuple(sorted(v)))


@st.composite
def fixed_targets(draw: st.DrawFn, *, max_lag: int = 12) -> object:
    """A FixedMemoryTarget (d in {1, 2}) with a small readout."""
    d = draw(st.integers(1, 2))
    lags = draw(_lag_lists(max_lag))
    return FixedMemoryTarget(lags, draw(readouts((len(lags) + 1) * d)), d)


#: Alphabet of adaptive targets drawn here; it contains 0, so a zero pad is legal.
ADAPTIVE_ALPHABET = (-1, 0, 1)


@st.composite
def adaptive_targets(draw: st.DrawFn, *, max_lag: int = 5) -> object:
    """An AdaptiveMemoryTarget (d = 1, alphabet {-1, 0, 1}) with table memory functions,
    random nesting ``K``, random ``reads`` and values inside ``1..T_i``."""
    import itertools

    M = draw(st.integers(1, 3))
    K = draw(st.integers(0, M))
    T = [draw(st.integers(1, max_lag)) for _ in range(M)]
    gs = []
    for i in range(1, M + 1):
        avail = min(i - 1, K) + 1
        if draw(st.booleans()):
            reads = None
            k = avail
        else:
            reads = tuple(draw(st.permutations(range(avail)))[: draw(st.integers(1, avail))])
            k = len(reads)
        table = {key: draw(st.integers(1, T[i - 1])) for key in itertools.product(ADAPTIVE_ALPHABET, repeat=k)}
        gs.append(TableMemoryFunction(ADAPTIVE_ALPHABET, table, reads))
    return AdaptiveMemoryTarget(gs, T, K, draw(readouts(M + 1)))


@st.composite
def essential_targets(draw: st.DrawFn, *, known_tail: bool = True) -> object:
    """An EssentiallySparseTarget (d in {1, 2}, 1-2 kernels)."""
    d = draw(st.integers(1, 2))
    ks = draw(st.lists(memory_kernels(known_tail=known_tail), min_size=1, max_size=2))
    return EssentiallySparseTarget(ks, draw(readouts(len(ks) * d)), d)


@st.composite
def targets_with_windows(draw: st.DrawFn, *, max_n: int = 12) -> tuple[object, _np.ndarray, _np.ndarray]:
    """``(target, X, pad)`` with ``X`` of shape ``(batch, N, d)`` and a pad legal for the target
    (tokens of adaptive targets come from :data:`ADAPTIVE_ALPHABET`)."""
    target = draw(st.one_of(fixed_targets(), adaptive_targets(), essential_targets()))
    d, B, N = target.d, draw(st.integers(1, 2)), draw(st.integers(1, max_n))
    if target.kind == "adaptive":
        tok = st.sampled_from([float(a) for a in ADAPTIVE_ALPHABET])
    else:
        tok = st.floats(-1, 1, allow_nan=False, allow_infinity=False)
    X = _np.array([[[draw(tok) for _ in range(d)] for _ in range(N)] for _ in range(B)], dtype=float)
    pad = _np.array([draw(tok) for _ in range(d)], dtype=float)
    return target, X, pad


# ---- malformed specs ------------------------------------------------------------------

def malformed_lags() -> st.SearchStrategy[object]:
    """Lag sequences eq. (5) forbids: unsorted, duplicate, zero, negative, non-integer, empty."""
    good = st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True).map(sorted)
    unsorted = st.lists(st.integers(1, 50), min_size=2, max_size=4, unique=True).filter(
        lambda v: v != sorted(v))
    duplicate = good.flatmap(lambda v: st.integers(0, len(v) - 1).map(lambda i: sorted(v + [v[i]])))
    nonpositive = good.flatmap(lambda v: st.integers(-5, 0).map(lambda z: sorted(set(v) | {z})))
    non_integer = good.flatmap(lambda v: st.sampled_from([0.5, 2.0, "3", True, None, R(1, 2), 1.5]).map(
        lambda bad: v + [bad]))
    other = st.sampled_from([[], (), "12", 5, None])
    return st.one_of(unsorted, duplicate, nonpositive, non_integer, other)


_BAD_NUMBERS = (_math.nan, _math.inf, -_math.inf, float("nan"), "nan", "abc", None, True, [1.0], object())


@st.composite
def malformed_specs(draw: st.DrawFn) -> tuple[str, object]:
    """``(description, thunk)``: calling ``thunk()`` must raise ``ValueError``/``TypeError``.

    Covers malformed lags, readout input-size mismatches, NaN/inf/non-numeric weights,
    shape errors, kernels that do not decay as declared or have an illegal ``beta``,
    memory-function tables out of range / incomplete / off-alphabet, bad nesting, and
    malformed target descriptions.
    """
    bad = st.sampled_from(_BAD_NUMBERS)
    case = draw(st.sampled_from([
        "lags", "fixed_readout_size", "relu_nan", "relu_shape", "linear_nan", "product_n",
        "callable_norms", "array_decay", "exp_beta", "poly_beta", "kernel_nan", "mixture",
        "table_range", "table_zero", "table_incomplete", "table_alphabet", "adaptive_nesting",
        "adaptive_lags", "adaptive_readout", "adaptive_reads", "essential_readout", "essential_empty",
        "from_dict",
    ]))
    w = small_weights()
    if case == "lags":
        lags = draw(malformed_lags())
        return f"lags={lags!r}", lambda: FixedMemoryTarget(lags, LinearReadout([1] * 3))
    if case == "fixed_readout_size":
        lags = draw(_lag_lists())
        d = draw(st.integers(1, 2))
        n = draw(st.integers(1, 8).filter(lambda n: n != (len(lags) + 1) * d))
        return f"readout n_in={n} for lags={lags}, d={d}", lambda: FixedMemoryTarget(lags, LinearReadout([1] * n), d)
    if case == "relu_nan":
        m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        outer = [draw(w) for _ in range(m)]
        inner = [[draw(w) for _ in range(n)] for _ in range(m)]
        bias = [draw(w) for _ in range(m)]
        where = draw(st.sampled_from(["outer", "inner", "bias"]))
        value = draw(bad)
        i = draw(st.integers(0, m - 1))
        if where == "outer":
            outer[i] = value
        elif where == "bias":
            bias[i] = value
        else:
            inner[i][draw(st.integers(0, n - 1))] = value
        return f"ReluSumReadout with {where}[{i}]={value!r}", lambda: ReluSumReadout(outer, inner, bias)
    if case == "relu_shape":
        m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        which = draw(st.sampled_from(["outer", "bias", "ragged", "empty"]))
        if which == "outer":
            return "outer length != m", lambda: ReluSumReadout([1] * (m + 1), [[1] * n] * m)
        if which == "bias":
            return "bias length != m", lambda: ReluSumReadout([1] * m, [[1] * n] * m, [0] * (m + 1))
        if which == "ragged":
            return "ragged inner", lambda: ReluSumReadout([1, 1], [[1] * n, [1] * (n + 1)])
        return "no neurons", lambda: ReluSumReadout([], [])
    if case == "linear_nan":
        n = draw(st.integers(1, 4))
        weights = [draw(w) for _ in range(n)]
        value = draw(bad)
        if draw(st.booleans()):
            weights[draw(st.integers(0, n - 1))] = value
            return f"LinearReadout weights with {value!r}", lambda: LinearReadout(weights)
        return f"LinearReadout bias {value!r}", lambda: LinearReadout(weights, value)
    if case == "product_n":
        n = draw(st.sampled_from([0, -1, 1.5, "2", None, True]))
        return f"ProductReadout({n!r})", lambda: ProductReadout(n)
    if case == "callable_norms":
        norm = draw(st.sampled_from([0, -1, _math.nan, _math.inf, "x", None]))
        if draw(st.booleans()):
            return f"declared barron_norm={norm!r}", lambda: CallableReadout(lambda z: z[:, 0], 1, norm, 1)
        return f"declared lipschitz={norm!r}", lambda: CallableReadout(lambda z: z[:, 0], 1, 1, norm)
    if case == "array_decay":
        decay = draw(st.sampled_from(["exp", "poly"]))
        beta = draw(st.sampled_from([R(1, 2), 1, 2])) + (1 if decay == "poly" else 0)
        C = draw(st.sampled_from([1, 2, R(1, 2)]))
        n = draw(st.integers(2, 10))
        bound = [float(C) * (_math.exp(-float(beta) * t) if decay == "exp" else max(t, 1) ** -float(beta))
                 for t in range(n)]
        values = [b * draw(st.floats(-1, 1)) for b in bound]
        lag = draw(st.integers(0 if decay == "exp" else 1, n - 1))
        excess = draw(st.floats(1e-6, 10))
        values[lag] = bound[lag] * (1 + excess) * draw(st.sampled_from([1, -1]))
        return (f"ArrayKernel violating decay={decay}, beta={beta}, C={C} at lag {lag}",
                lambda: ArrayKernel(values, decay, beta, C))
    if case == "exp_beta":
        beta = draw(st.sampled_from([0, -1, R(-1, 2), _math.nan, _math.inf, "x", None]))
        return f"ExponentialKernel(beta={beta!r})", lambda: ExponentialKernel(1, beta)
    if case == "poly_beta":
        beta = draw(st.sampled_from([1, R(1, 2), R(99, 100), 0, -2, _math.nan]))
        return f"PolynomialKernel(beta={beta!r}) without allow_non_summable", lambda: PolynomialKernel(1, beta)
    if case == "kernel_nan":
        value = draw(bad)
        which = draw(st.sampled_from(["exp", "poly", "bump", "array", "at_zero"]))
        if which == "exp":
            return f"ExponentialKernel(scale={value!r})", lambda: ExponentialKernel(value, 1)
        if which == "poly":
            return f"PolynomialKernel(scale={value!r})", lambda: PolynomialKernel(value, 2)
        if which == "bump":
            return f"ShiftedBumpKernel(center={value!r})", lambda: ShiftedBumpKernel(value, 1)
        if which == "at_zero":  # None is the documented default (rho(0) = 0), not a bad value
            value = value if value is not None else "nan"
            return f"PolynomialKernel(at_zero={value!r})", lambda: PolynomialKernel(1, 2, 0, value)
        return f"ArrayKernel([1, {value!r}])", lambda: ArrayKernel([1, value], "exp", 1, 1)
    if case == "mixture":
        which = draw(st.sampled_from(["empty", "weights", "not_kernel"]))
        k = ExponentialKernel(1, 1)
        if which == "empty":
            return "MixtureKernel([], [])", lambda: MixtureKernel([], [])
        if which == "weights":
            return "MixtureKernel weight count", lambda: MixtureKernel([k, k], [1])
        return "MixtureKernel component not a kernel", lambda: MixtureKernel([k, 3], [1, 1])
    if case in ("table_range", "table_zero"):
        T = draw(st.integers(1, 5))
        bad_value = draw(st.integers(T + 1, T + 5)) if case == "table_range" else 0
        table = {-1: draw(st.integers(1, T)), 1: bad_value}
        g = TableMemoryFunction((-1, 1), table)
        return (f"g_1 table value {bad_value} outside 1..{T}",
                lambda: AdaptiveMemoryTarget.warm_up([g], [T], LinearReadout([1, 1])))
    if case == "table_incomplete":
        return "incomplete table", lambda: TableMemoryFunction((-1, 0, 1), {-1: 1, 1: 2})
    if case == "table_alphabet":
        which = draw(st.sampled_from(["key", "repeat", "negative", "empty"]))
        if which == "key":
            return "key off the alphabet", lambda: TableMemoryFunction((-1, 1), {-1: 1, 1: 1, 2: 1})
        if which == "repeat":
            return "repeated alphabet token", lambda: TableMemoryFunction((1, 1.0), {1: 1})
        if which == "negative":
            return "negative lag in table", lambda: TableMemoryFunction((-1, 1), {-1: -1, 1: 1})
        return "empty alphabet", lambda: TableMemoryFunction((), {})
    if case in ("adaptive_nesting", "adaptive_lags", "adaptive_readout", "adaptive_reads"):
        g = TableMemoryFunction((-1, 0, 1), {-1: 1, 0: 1, 1: 2})
        M = draw(st.integers(1, 3))
        if case == "adaptive_nesting":
            K = draw(st.sampled_from([-1, M + 1, M + 3, 1.0, None]))
            return f"nesting={K!r}, M={M}", lambda: AdaptiveMemoryTarget([g] * M, [2] * M, K, LinearReadout([1] * (M + 1)))
        if case == "adaptive_lags":
            lags = draw(st.sampled_from([[2] * (M + 1), [0] * M, [1.5] * M, "2", [2] * max(M - 1, 0)]))
            return f"max_lags={lags!r}", lambda: AdaptiveMemoryTarget([g] * M, lags, 0, LinearReadout([1] * (M + 1)))
        if case == "adaptive_readout":
            n = draw(st.integers(1, 6).filter(lambda n: n != M + 1))
            return f"readout n_in={n}, M={M}", lambda: AdaptiveMemoryTarget([g] * M, [2] * M, 0, LinearReadout([1] * n))
        g2 = TableMemoryFunction((-1, 0, 1), {(-1,): 1, (0,): 1, (1,): 2}, reads=(1,))
        return "g_1 reads x_{t-t_1}", lambda: AdaptiveMemoryTarget([g2], [2], 1, LinearReadout([1, 1]))
    if case == "essential_readout":
        n = draw(st.integers(1, 5).filter(lambda n: n != 2))
        k = ExponentialKernel(1, 1)
        return f"readout n_in={n} for 2 kernels", lambda: EssentiallySparseTarget([k, k], LinearReadout([1] * n))
    if case == "essential_empty":
        return "no kernels", lambda: EssentiallySparseTarget([], LinearReadout([1]))
    # from_dict: a valid description with one field broken
    from tfapprox.theory.targets import target_from_dict

    base = FixedMemoryTarget((1, 3), LinearReadout([1, "1/3", 2])).to_dict()
    which = draw(st.sampled_from(["format", "weight", "extra", "missing", "lag", "kind"]))
    broken = {k: v for k, v in base.items()}
    if which == "format":
        broken["format"] = "tfapprox.target/0"
    elif which == "weight":
        broken["readout"] = {**base["readout"], "weights": ["1", "__import__('os')", "2"]}
    elif which == "extra":
        broken["code"] = "print(1)"
    elif which == "missing":
        del broken["lags"]
    elif which == "lag":
        broken["lags"] = [3, 1]
    else:
        broken["kind"] = "pickle"
    return f"target_from_dict with broken {which}", lambda: target_from_dict(broken)


@st.composite
def failing_evaluations(draw: st.DrawFn) -> tuple[str, object]:
    """``(description, thunk)``: a valid target evaluated where a memory function leaves
    its range (``g_i`` outside ``1..T_i``), returns a non-integer, or reads a token off
    its alphabet; ``thunk()`` must raise ``ValueError``."""
    T = draw(st.integers(1, 4))
    N = draw(st.integers(1, 6))
    X = _np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=N, max_size=N)))
    which = draw(st.sampled_from(["callable_high", "callable_zero", "callable_frac", "relu", "alphabet"]))
    readout = LinearReadout([1, 1])
    if which.startswith("callable"):
        value = {"callable_high": T + draw(st.integers(1, 3)), "callable_zero": 0,
                 "callable_frac": draw(st.sampled_from([0.5, 1.5, _math.nan]))}[which]
        g = CallableMemoryFunction(lambda Z: _np.full(Z.shape[0], value))
        H = AdaptiveMemoryTarget.warm_up([g], [T], readout)
        return f"g returns {value!r}, T={T}", lambda: H.evaluate(X)
    if which == "relu":
        c = draw(st.sampled_from([T + 1, T + 2.4, -0.6, 0.4]))
        g = ReluMemoryFunction(ReluSumReadout([1], [[0]], [c]))
        H = AdaptiveMemoryTarget.warm_up([g], [T], readout)
        return f"relu g = rint({c}) with T={T}", lambda: H.evaluate(X)
    g = TableMemoryFunction((-1, 1), {-1: 1, 1: 1})
    H = AdaptiveMemoryTarget.warm_up([g], [max(T, 1)], readout)
    Xbad = X.copy()
    Xbad[draw(st.integers(0, N - 1))] = draw(st.sampled_from([0.0, 0.5, 2.0]))
    return "token off the alphabet", lambda: H.evaluate(Xbad, pad=[1.0])


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


# =====================================================================================
# Section: delta kernels of Lemmas F.1 / F.4 and their bounds (owner:
# constructions/delta_kernels.py, theory/bounds.py, verify/kernel_error.py;
# tests/test_delta_kernels.py, tests/test_bounds.py, tests/test_kernel_error.py).
# delta_kernel_specs, rate_indices, malformed_delta_kernel_calls.
# =====================================================================================

#: Lemma parameters (alpha, gamma) drawn besides the paper's default 1/100; every pair has
#: an integer gamma/alpha, so the log-RPE l1 enclosure uses its exact path.
DELTA_KERNEL_PARAMETERS = ((R(1, 100), R(1, 100)), (R(1, 50), R(1, 50)), (R(1, 100), R(1, 50)),
                           (R(1, 20), R(1, 10)))


@st.composite
def delta_kernel_specs(draw: st.DrawFn, *, max_terms: int = 64, max_lag: int = 12,
                       rpes: tuple[str, ...] = ("lin", "log"), default_parameters: bool = False,
                       nodes: tuple[str, ...] = ("chebyshev2",)) -> dict:
    """Keyword arguments of :func:`tfapprox.constructions.delta_kernels.delta_kernel`:
    ``rpe``, ``lag`` (1..max_lag), ``num_terms`` (1..max_terms, small H = 1, 2, 3 often),
    ``alpha``/``gamma`` (the default 1/100 or a pair of :data:`DELTA_KERNEL_PARAMETERS`),
    ``nodes``."""
    H = draw(st.one_of(st.sampled_from([1, 2, 3]), st.integers(1, max_terms)))
    a, g = (R(1, 100), R(1, 100)) if default_parameters else draw(st.sampled_from(DELTA_KERNEL_PARAMETERS))
    return {"rpe": draw(st.sampled_from(rpes)), "lag": draw(st.integers(1, max_lag)), "num_terms": H,
            "alpha": a, "gamma": g, "nodes": draw(st.sampled_from(nodes))}


def rate_indices(max_rate: int = 4) -> st.SearchStrategy[int]:
    """Rate indices ``n`` of the lemmas (``1..max_rate``)."""
    return st.integers(1, max_rate)


@st.composite
def malformed_delta_kernel_calls(draw: st.DrawFn) -> tuple[str, object]:
    """``(description, thunk)``: ``thunk()`` must raise ``ValueError`` or ``TypeError``
    (bad lag, head count, alpha/gamma, rpe, nodes, digits, rate index ``n``)."""
    from tfapprox.constructions.delta_kernels import delta_kernel
    from tfapprox.theory.bounds import delta_kernel_bound, paper_constant

    case = draw(st.sampled_from(["lag", "terms", "alpha", "gamma", "rpe", "nodes", "digits", "rate",
                                 "rate_paper"]))
    if case == "lag":
        v = draw(st.sampled_from([0, -3, 1.5, "2", None, True]))
        return f"lag={v!r}", lambda: delta_kernel("lin", v, 4)
    if case == "terms":
        v = draw(st.sampled_from([0, -1, 2.0, "8", None, False]))
        return f"num_terms={v!r}", lambda: delta_kernel("log", 2, v)
    if case in ("alpha", "gamma"):
        v = draw(st.sampled_from([0, -1, R(-1, 100), "0", "-0.01", "abc", _math.nan, _math.inf, None, True,
                                  sympy.sqrt(2) / 100]))
        kw = {case: v}
        return f"{case}={v!r}", lambda: delta_kernel("lin", 2, 4, **kw)
    if case == "rpe":
        v = draw(st.sampled_from(["exp", "poly", "LIN", "", None]))
        return f"rpe={v!r}", lambda: delta_kernel(v, 2, 4)
    if case == "nodes":
        v = draw(st.sampled_from(["chebyshev3", "legendre", "", None]))
        return f"nodes={v!r}", lambda: delta_kernel("lin", 2, 4, nodes=v)
    if case == "digits":
        v = draw(st.sampled_from([0, -5, 2.5, None]))
        return f"coefficient_digits={v!r}", lambda: delta_kernel("lin", 2, 4, coefficient_digits=v)
    v = draw(st.sampled_from([0, -1, 1.5, "2", None, True, 10 ** 6]))
    if case == "rate":
        return f"n={v!r}", lambda: delta_kernel_bound("lin", 2, 8, v)
    return f"paper_constant n={v!r}", lambda: paper_constant("log", v)


# =====================================================================================
# Section: nested memories, Theorem 4.4 / Prop. 4.5 (owner: constructions/thm4_4.py,
# verify/nested_error.py, tests/test_thm4_4.py).  nested_chains.
# =====================================================================================

@st.composite
def nested_chains(draw: st.DrawFn, *, max_K: int = 2, max_lag: int = 2) -> object:
    """Random nested chains in H^Adap_(K,M) on ``{-1, 1}`` (``M in {K, K+1}``), each ``g_l`` reading a
    random non-empty subset of the tokens eq. (8) allows, random tables with values in ``1..T_l``,
    readout the mean of the memories."""
    import itertools

    from tfapprox.theory.readouts import LinearReadout
    from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction

    K = draw(st.integers(1, max_K))
    M = draw(st.integers(K, K + 1))
    lags, gs = [], []
    for l in range(1, M + 1):
        T = draw(st.integers(1, max_lag))
        allowed = list(range(min(l - 1, K) + 1))
        reads = tuple(sorted(draw(st.sets(st.sampled_from(allowed), min_size=1, max_size=min(2, len(allowed))))))
        keys = list(itertools.product((-1, 1), repeat=len(reads)))
        vals = draw(st.lists(st.integers(1, T), min_size=len(keys), max_size=len(keys)))
        gs.append(TableMemoryFunction((-1, 1), dict(zip(keys, vals)), reads=reads))
        lags.append(T)
    return AdaptiveMemoryTarget(gs, tuple(lags), K, LinearReadout([0] + [R(1, M)] * M))


# =====================================================================================
# Section: log-RPE delta kernels with a non-integer gamma/alpha and random trigonometric
# polynomials for the certified root isolation (owner: verify/kernel_error.py;
# tests/test_kernel_error.py).  noninteger_log_kernel_specs, trig_polynomials.
# =====================================================================================

#: ``(alpha, gamma)`` pairs with ``gamma/alpha`` not an integer (1/10, 3/4, 1/2, 7/20, 5/2).
NONINTEGER_LOG_PARAMETERS = ((R(3, 10), R(3, 100)), (R(1, 50), R(3, 200)), (R(1, 50), R(1, 100)),
                             (R(1, 50), R(7, 1000)), (R(1, 10), R(1, 4)))


@st.composite
def noninteger_log_kernel_specs(draw: st.DrawFn, *, max_terms: int = 48, max_lag: int = 6) -> dict:
    """Keyword arguments of ``delta_kernel("log", ...)`` with ``gamma/alpha`` not an integer
    (a pair of :data:`NONINTEGER_LOG_PARAMETERS`), ``lag`` 1..max_lag, ``num_terms`` 2..max_terms."""
    a, g = draw(st.sampled_from(NONINTEGER_LOG_PARAMETERS))
    return {"rpe": "log", "lag": draw(st.integers(1, max_lag)), "num_terms": draw(st.integers(2, max_terms)),
            "alpha": a, "gamma": g}


@st.composite
def trig_polynomials(draw: st.DrawFn, *, max_degree: int = 80) -> tuple:
    """``(c, theta_lo)``: Chebyshev coefficients ``c`` (float64, degree 1..max_degree, random
    decay and scale, sometimes a planted near-double root) of ``Q(theta) = sum_j c_j cos(j theta)``
    and a left end ``theta_lo in [0, 2.5]`` of the search interval ``(theta_lo, pi)``."""
    import numpy as _np

    n = draw(st.integers(1, max_degree))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    decay = draw(st.sampled_from([0.0, 0.02, 0.1]))
    scale = draw(st.sampled_from([1e-8, 1.0, 1e6]))
    rng = _np.random.default_rng(seed)
    c = rng.normal(size=n + 1) * _np.exp(-decay * _np.arange(n + 1)) * scale
    if n >= 2 and draw(st.booleans()):  # plant a near-double root: shift an extremum to +-1e-9
        crit = _np.polynomial.chebyshev.chebroots(_np.polynomial.chebyshev.chebder(c))
        crit = crit[(_np.abs(crit.imag) < 1e-12) & (_np.abs(crit.real) < 0.95)].real
        if len(crit):
            x0 = float(crit[0])
            c[0] -= float(_np.polynomial.chebyshev.chebval(x0, c)) + scale * 1e-9 * draw(st.sampled_from([-1, 1]))
    return c, draw(st.sampled_from([0.0, 0.3, 1.0, 2.5]))


# =====================================================================================
# Section: tightness of the proofs, best-found kernels (owner: verify/tightness.py,
# tests/test_tightness.py).  kernel_coefficient_lists, exponent_sets.
# =====================================================================================

def kernel_coefficient_lists(*, max_size: int = 8, magnitude: float = 1e6) -> st.SearchStrategy[list]:
    """Float coefficient lists ``c_h`` of an explicit kernel (1..max_size finite values in ``[-magnitude, magnitude]``)."""
    return st.lists(st.floats(min_value=-magnitude, max_value=magnitude, allow_nan=False), min_size=1,
                    max_size=max_size)


@st.composite
def exponent_sets(draw: st.DrawFn, *, max_size: int = 12) -> tuple:
    """``(exponents, floor, H)``: 1..max_size distinct exponents above ``floor`` (0 for lin, 1 for log;
    spread from ``floor + 1e-3`` to ``floor + 50``) and a head count ``H`` with ``len <= H <= 4 len + 3``."""
    floor = draw(st.sampled_from([0.0, 1.0]))
    raw = draw(st.lists(st.floats(min_value=-3.0, max_value=1.7), min_size=1, max_size=max_size, unique=True))
    exps = sorted({floor + 10.0 ** v for v in raw})
    H = draw(st.integers(len(exps), 4 * len(exps) + 3))
    return exps, floor, H


# =====================================================================================
# Section: size searches (owner: theory/search.py; tests/test_search.py).  size_searches.
# =====================================================================================

@st.composite
def size_searches(draw: st.DrawFn) -> dict:
    """Keyword arguments of :func:`tfapprox.theory.search.smallest_satisfying` plus the true
    ``threshold`` of a monotone predicate ``n >= threshold`` (``start <= threshold``; ``limit``
    sometimes below the threshold, sometimes absent)."""
    start = draw(st.integers(1, 50))
    threshold = draw(st.integers(start, 10 ** 7))
    limit = draw(st.one_of(st.none(), st.integers(start, 2 * 10 ** 7)))
    return {"start": start, "factor": draw(st.integers(2, 5)), "limit": limit, "threshold": threshold}


# =====================================================================================
# Section: fuzzing the user-facing surface (owner: tfapprox/cli.py, verify/model_file.py;
# tests/test_fuzz.py).  mutated_model_texts, malformed_cli_arguments, FUZZ_* pools.
# =====================================================================================

import copy as _copy  # noqa: E402
import json as _json  # noqa: E402

#: JSON values that are wrong almost anywhere in a model file (types, sizes, non-finite, code).
FUZZ_JSON_VALUES = (None, True, False, 0, -1, 1, 10 ** 9, 10 ** 400, 1.5, 1e308, -1e308, "", "x", "nan",
                    "inf", "1e999999", "-1e999999", "1_0", "0x10", "1/0", "1/3", "__import__('os')",
                    "sqrt(2)", "\u00e9", [], [[]], [["1"]], {}, {"type": "lin"}, ["1", "2"])
#: Bare JSON number literals spliced into the text (json.loads reads 1e999999 as infinity).
FUZZ_NUMBER_LITERALS = ("1e999999", "-1e999999", "1e-999999", "123456789012345678901234567890",
                        "0.0000000000000000000000000000001", "-0", "1E+308", "9" * 5000)


def _fuzz_paths(node, prefix=()):
    """Every (container, key) slot of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _fuzz_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield node, i
            yield from _fuzz_paths(value, prefix + (i,))


@st.composite
def mutated_model_texts(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """``(description, file bytes, must_fail)``: a valid small model file after one random mutation.

    ``must_fail`` is True for the mutations that can never leave a valid file (a spliced
    ``1e999999``, nesting beyond the depth limit, truncation, a duplicated key, a size field
    that no longer matches); the others may leave it valid (then loading it must succeed).
    Most make it invalid in a way the loader must refuse with one ``ValueError``/``TypeError``: a
    replaced, deleted or added node, a spliced number literal (``1e999999`` parses as
    infinity), deep nesting (metadata 500 deep), truncation, random bytes, a duplicated
    key, a huge size field.
    """
    from tfapprox.verify.model_file import spec_to_dict

    spec = draw(transformer_specs(max_layers=2, max_width=2))
    doc = _copy.deepcopy(spec_to_dict(spec))
    kind = draw(st.sampled_from(["replace", "delete", "add", "literal", "deep", "truncate", "bytes",
                                 "duplicate", "size", "metadata"]))
    if kind in ("replace", "delete", "add", "literal"):
        slots = list(_fuzz_paths(doc))
        parent, key = draw(st.sampled_from(slots))
        if kind == "replace":
            parent[key] = _copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES)))
        elif kind == "delete":
            del parent[key]
        elif kind == "add":
            if isinstance(parent, dict):
                parent[draw(st.text(max_size=6))] = _copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES)))
            else:
                parent.append(_copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES))))
        else:
            marker = "@@FUZZ@@"
            parent[key] = marker
            literal = draw(st.sampled_from(FUZZ_NUMBER_LITERALS))
            text = _json.dumps(doc).replace(_json.dumps(marker), literal)
            return f"literal {literal[:20]} at {key!r}", text.encode(), literal.startswith(("1e9", "-1e9"))
        return f"{kind} at {key!r}", _json.dumps(doc).encode(), False
    if kind == "deep":
        depth = draw(st.sampled_from([65, 100, 500, 5000, 100_000]))
        bracket = draw(st.sampled_from(["[", "{\"a\":"]))
        close = "]" if bracket == "[" else "}"
        text = _json.dumps(doc)
        nest = bracket * depth + "1" + close * depth
        where = draw(st.sampled_from(["metadata", "top"]))
        if where == "metadata":
            text = text.replace('"metadata": {', '"metadata": {"deep": ' + nest + ", ", 1)
        else:
            text = nest
        return f"nesting {depth} at {where}", text.encode(), True
    if kind == "truncate":
        text = _json.dumps(doc, indent=1)
        cut = draw(st.integers(0, len(text) - 1))
        return f"truncated at {cut}", text[:cut].encode(), True
    if kind == "bytes":
        raw = draw(st.binary(max_size=64))
        at = draw(st.integers(0, 200))
        text = _json.dumps(doc).encode()
        return f"bytes at {at}", text[:at] + raw + text[at:], False
    if kind == "duplicate":
        text = _json.dumps(doc)
        return "duplicate key", text.replace('"past":', '"past": "none", "past":', 1).encode(), True
    if kind == "size":
        field = draw(st.sampled_from(["input_dim", "width", "output_dim"]))
        doc[field] = draw(st.sampled_from([0, -5, 10 ** 9, 10 ** 30, 2 ** 63]))
        return f"{field} = {doc[field]}", _json.dumps(doc).encode(), True
    doc["metadata"] = draw(json_values(max_leaves=12))
    return "random metadata", _json.dumps(doc, allow_nan=False).encode(), False


#: Option values that no option of ``tfapprox build`` / ``eval`` / ``verify`` accepts where they are used.
FUZZ_BAD_INTS = ("0", "-1", "abc", "1.5", "1e9", "1000000000", "", "1_0", "nan", "inf", " ", "0x10",
                 "99999999999999999999999999")
FUZZ_BAD_LAGS = ("0", "-1", "1,1", "5,1", "abc", "", "1_0", "100000000", "1e3", "nan", "1,,x", ",")
FUZZ_BAD_REALS = ("0", "-1", "nan", "inf", "-inf", "1e999", "abc", "", "1_0", "0x1p3")


@st.composite
def malformed_cli_arguments(draw: st.DrawFn, paths: dict) -> tuple[str, list[str]]:
    """``(description, argv)`` for ``tfapprox``, each argv invalid in at least one place.

    ``paths`` holds files the argv may name: ``model`` (a valid model file), ``csv`` (a
    valid window), ``bad_inputs`` (a list of invalid window files), ``bad_models`` (invalid
    model files), ``out`` (a fresh path in a scratch folder), ``dir`` (the scratch folder).
    Every valid option value is small, so that even a late refusal is quick.
    """
    command = draw(st.sampled_from(["build", "eval", "verify", "export", "junk"]))
    if command == "junk":
        rest = draw(st.lists(st.sampled_from(["", "-", "--", "--x", "build", "eval", "-h=1", "\x00", "--heads",
                                               "thm3.1", "\u00e9"]), min_size=0, max_size=4))
        # no arguments at all, or an unknown option first: both must be refused
        return "junk", (["--no-such-option"] + rest) if rest else []
    if command == "build":
        name = draw(st.sampled_from(["thm3.1", "thm4.1", "thm4.4", "thm5.1"]))
        valid = {"thm3.1": {"--lags": "1,2", "--heads": "8", "--rpe": "lin", "--alpha": "0.01"},
                 "thm4.1": {"--heads": "8", "--rpe": "lin"},
                 "thm4.4": {"--heads": "8", "--K": "1", "--M": "2"},
                 "thm5.1": {"--kernel": "exp:0.5", "--heads": "4"}}[name]
        bad = {"--heads": FUZZ_BAD_INTS, "--lags": FUZZ_BAD_LAGS, "--rpe": ("", "LIN", "t5", "x"),
               "--alpha": FUZZ_BAD_REALS, "--K": FUZZ_BAD_INTS, "--M": FUZZ_BAD_INTS,
               "--kernel": ("", "exp", "exp:-1", "exp:nan", "poly:0.5", "gauss:1", "exp:0.5,", "exp:1e999")}
        options = dict(valid)
        broken = draw(st.sampled_from(sorted(options) + ["--out", "--unknown", "name"]))
        argv = ["build"]
        if broken == "name":
            argv.append(draw(st.sampled_from(["thm9.9", "", "THM3.1", "--heads"])))
        else:
            argv.append(name)
        out = paths["out"]
        if broken == "--out":
            out = draw(st.sampled_from(["", paths["dir"], paths["dir"] + "/missing/x.json", None]))
        elif broken == "--unknown":
            argv += ["--no-such-option", "1"]
        elif broken != "name":
            options[broken] = draw(st.sampled_from(bad[broken]))
        for key, value in options.items():
            argv += [key, value]
        if out is not None:
            argv += ["--out", out]
        return f"build {broken}", argv
    if command == "eval":
        broken = draw(st.sampled_from(["model", "input", "backend", "dps", "past", "pad", "out", "unknown"]))
        model, window = paths["model"], paths["csv"]
        extra: list[str] = []
        if broken == "model":
            model = draw(st.sampled_from(paths["bad_models"]))
        elif broken == "input":
            window = draw(st.sampled_from(paths["bad_inputs"]))
        elif broken == "backend":
            extra = ["--backend", draw(st.sampled_from(["", "float32", "sympy ", "MPMATH"]))]
        elif broken == "dps":
            extra = ["--backend", "mpmath", "--dps", draw(st.sampled_from(["0", "4", "-1", "abc", "1000000",
                                                                          "1e3", ""]))]
        elif broken == "past":
            extra = ["--past", draw(st.sampled_from(["", "infinite", "NONE"]))]
        elif broken == "pad":
            extra = draw(st.sampled_from([["--pad", "nan"], ["--pad", "inf"], ["--pad", "1e999"],
                                          ["--pad", "abc"], ["--pad", "1,2"], ["--pad", ""],
                                          ["--past", "none", "--pad", "0"]]))
        elif broken == "out":
            extra = ["--out", draw(st.sampled_from(["", paths["dir"], paths["model"], paths["csv"]]))]
        else:
            extra = ["--no-such-option"]
        return f"eval {broken}", ["eval", model, "--input", window] + extra
    if command == "export":
        broken = draw(st.sampled_from(["model", "to", "out"]))
        model, to, out = paths["model"], "torch", paths["out"]
        if broken == "model":
            model = draw(st.sampled_from(paths["bad_models"]))
        elif broken == "to":
            to = draw(st.sampled_from(["", "onnx", "TORCH"]))
        else:
            out = draw(st.sampled_from(["", paths["dir"]]))
        return f"export {broken}", ["export", model, "--to", to, "--out", out]
    check = draw(st.sampled_from(["thm3.1", "lemma-f1", "thm5.1", "no-such-check", ""]))
    option = draw(st.sampled_from([["--heads", v] for v in FUZZ_BAD_INTS[:6]] + [["--no-such-option"]]
                                  + [["--json", paths["dir"]]] * (check == "no-such-check")))
    return f"verify {check} {option[0]}", ["verify", check] + option
