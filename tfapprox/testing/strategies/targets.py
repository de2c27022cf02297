"""Targets, readouts and memory kernels, and malformed specs/evaluations (theory/targets.py and friends).

Part of :mod:`tfapprox.testing.strategies` (hypothesis strategies shipped for users and the test suite).
"""

from __future__ import annotations

import sympy
from hypothesis import strategies as st


R = sympy.Rational


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


