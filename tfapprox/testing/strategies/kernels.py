"""Delta kernels (Lemmas F.1/F.4), nested memories (Thm 4.4), log-RPE kernels, tightness and size searches.

Part of :mod:`tfapprox.testing.strategies` (hypothesis strategies shipped for users and the test suite).
"""

from __future__ import annotations

import math as _math

import sympy
from hypothesis import strategies as st


R = sympy.Rational


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


