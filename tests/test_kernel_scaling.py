"""Scaling of the Lemma F.1/F.4 construction (issue 15, item 2).

The Chebyshev coefficients come from one rigorous ball-arithmetic FFT at an accuracy-driven
precision; the realised monomial weights are made on demand by an exact divide-and-conquer
conversion.  Checked here against the previous algorithms (kept as references): the
conversion equals the integer Clenshaw one integer for integer; the Chebyshev coefficients
agree with the previous fixed-point sums within the two proven error bounds; the certified l1
enclosures are those of the previous construction.
"""

from __future__ import annotations

import importlib.util
import pickle
import time
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import delta_kernel_specs

from reference_interpolation import interpolate_reference

from tfapprox.constructions import delta_kernels as dk
from tfapprox.constructions.delta_interpolation import interpolate
from tfapprox.constructions.thm3_1 import decimal_rational
from tfapprox.theory.numerics import chebyshev as cheb
from tfapprox.constructions.delta_kernels import delta_kernel
from tfapprox.theory.bounds import bump_placement
from tfapprox.verify.kernel_error import delta_kernel_l1_error

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bench():
    """bench/bench_scaling.py (holds the previous, eager construction: ``legacy_kernel``)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_scaling.py"
    spec = importlib.util.spec_from_file_location("bench_scaling", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the conversion ---------------------------------------------------------------------

@given(st.lists(st.integers(-(2 ** 300), 2 ** 300), min_size=1, max_size=160))
@SETTINGS
def test_fast_conversion_equals_the_clenshaw_one(C: list[int]) -> None:
    assert cheb.chebyshev_to_monomial(C) == cheb.chebyshev_to_monomial_clenshaw(C)


@pytest.mark.parametrize("n", [1, 2, 32, 33, 34, 63, 64, 65, 129, 700])
def test_fast_conversion_at_block_boundaries(n: int) -> None:
    rng = np.random.default_rng(n)
    C = [int(v) * (1 << 200) + int(w) for v, w in zip(rng.integers(-10 ** 9, 10 ** 9, n),
                                                       rng.integers(-10 ** 9, 10 ** 9, n))]
    assert cheb.chebyshev_to_monomial(C) == cheb.chebyshev_to_monomial_clenshaw(C)


def test_fast_conversion_rejects_an_empty_sequence() -> None:
    with pytest.raises(ValueError, match="at least one"):
        cheb.chebyshev_to_monomial([])


# ---- the Chebyshev coefficients against the previous fixed-point sums ---------------------

def _check_against_reference(spec: dict) -> None:
    place = bump_placement(spec["rpe"], spec["lag"], alpha=spec["alpha"], gamma=spec["gamma"])
    H, nodes = spec["num_terms"], spec["nodes"]
    new = interpolate(place, H, nodes, 30)
    ref = interpolate_reference(place, H, nodes, 30)
    assert new.nonzero_nodes == ref.nonzero_nodes
    p, q = new.precision, ref.precision
    # both stored vectors are within their proven bounds of the same exact c_j
    allowance = new.cheb_error_units * 2 ** (q - p) + ref.cheb_error_units
    for a, b in zip(new.cheb_int, ref.cheb_int):
        assert abs(a * 2 ** (q - p) - b) <= allowance
    # the new error bound is the a priori one the precision was chosen for
    assert new.cheb_error_units <= 1


@given(delta_kernel_specs(max_terms=200, max_lag=30, nodes=("chebyshev2", "chebyshev1")))
@SETTINGS
def test_chebyshev_coefficients_agree_with_the_reference(spec: dict) -> None:
    _check_against_reference(spec)


@pytest.mark.parametrize("rpe, lag, H, nodes", [("lin", 20, 1024, "chebyshev2"), ("log", 3, 1024, "chebyshev1"),
                                                ("lin", 5, 1500, "chebyshev1")])
def test_chebyshev_coefficients_agree_at_medium_size(rpe: str, lag: int, H: int, nodes: str) -> None:
    _check_against_reference({"rpe": rpe, "lag": lag, "num_terms": H, "nodes": nodes,
                              "alpha": dk.DEFAULT_ALPHA, "gamma": dk.DEFAULT_GAMMA})


# ---- realised coefficients on demand -------------------------------------------------------

def test_realised_coefficients_are_lazy_and_cached() -> None:
    k = delta_kernel("lin", 5, 200)
    assert not k.coefficients_realised
    enc = delta_kernel_l1_error(k)  # the certificate needs only the stable form
    assert enc.upper > 0 and not k.coefficients_realised
    a = k.coefficients
    assert k.coefficients_realised and k.coefficients is a and len(a) == 200
    fresh = delta_kernel("lin", 5, 200)
    assert fresh == k and hash(fresh) == hash(k)  # equality is about the construction, not the cache
    again = pickle.loads(pickle.dumps(k))
    assert again.coefficients == a and again.coefficient_dps == k.coefficient_dps


@given(delta_kernel_specs(max_terms=160, max_lag=20, nodes=("chebyshev2", "chebyshev1")))
@SETTINGS
def test_realised_coefficients_are_the_exact_conversion_rounded(spec: dict) -> None:
    """a_k = A_k 2^-p rounded to coefficient_dps digits, A = the exact (Clenshaw) conversion of C."""
    k = delta_kernel(**spec)
    p = k.working_precision
    C = [cheb.fixed_point(c, p) for c in k.chebyshev_coefficients]
    A = cheb.chebyshev_to_monomial_clenshaw(C)
    with mpmath.workdps(k.coefficient_dps + 30):
        for a, e in zip(k.coefficients, A):
            exact = mpmath.ldexp(mpmath.mpf(e), -p)
            assert abs(a - exact) <= abs(exact) * mpmath.mpf(10) ** (-k.coefficient_dps)


@given(delta_kernel_specs(max_terms=120, max_lag=12, nodes=("chebyshev2", "chebyshev1")))
@SETTINGS
def test_bound_covers_the_realised_kernel_model_file_rounding_included(spec: dict) -> None:
    """|sum_k dec(a_k) u^k - Q_cheb(u)| <= coefficient_error_bound on a grid (dec: the model files'
    rounding to coefficient_dps significant decimals)."""

    k = delta_kernel(**spec)
    dec = [decimal_rational(a, k.coefficient_dps) for a in k.coefficients]
    with mpmath.workdps(k.coefficient_dps + 30):
        coeffs = [mpmath.mpf(v.p) / v.q for v in dec]
        for u in [mpmath.mpf(i) / 16 for i in range(17)]:
            mono = mpmath.polyval(coeffs[::-1], u)
            x = 2 * u - 1
            cheb = mpmath.fsum(c * mpmath.chebyt(j, x) for j, c in enumerate(k.chebyshev_coefficients))
            assert abs(mono - cheb) <= k.coefficient_error_bound


# ---- certified numbers equal the previous construction's -----------------------------------

@pytest.mark.parametrize("rpe, lag, H", [("lin", 20, 256), ("log", 20, 256), ("lin", 1, 64), ("log", 3, 300),
                                         ("lin", 20, 1024)])
def test_enclosures_and_digits_equal_the_previous_construction(rpe: str, lag: int, H: int) -> None:
    legacy = _bench().legacy_kernel(rpe, lag, H)
    k = delta_kernel(rpe, lag, H)
    new, old = delta_kernel_l1_error(k), delta_kernel_l1_error(legacy)
    assert (new.lower, new.upper) == (old.lower, old.upper)
    assert k.coefficient_dps == legacy.coefficient_dps
    assert k.coefficient_error_bound <= mpmath.mpf(10) ** -30 * legacy.placement.numeric(30)[2] / mpmath.e / 2


# ---- model file of the realised kernel -----------------------------------------------------

@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_transformer_spec_runs_the_realised_kernel(rpe: str, tmp_path: Path) -> None:
    from tfapprox.verify.model import Model

    k = delta_kernel(rpe, 2, 24)
    Model(k.transformer_spec()).save(tmp_path / "k.json")
    model = Model.load(tmp_path / "k.json")
    X = np.zeros((12, 1))
    X[0, 0] = 1.0  # output at time t: P(t) x_0
    dps = k.coefficient_dps + 20
    out = model.run(X, backend="mpmath", dps=dps)
    ref = k.evaluate_realised(list(range(12)), dps)
    slack = k.coefficient_l1 * mpmath.mpf(10) ** (-k.coefficient_dps)
    with mpmath.workdps(dps):  # mpmath.mpf rounds to the working precision
        assert max(abs(mpmath.mpf(o[0]) - r) for o, r in zip(out, ref)) <= slack
    assert abs(float(ref[2]) - k.evaluate(2)) < 1e-12


# ---- speed ---------------------------------------------------------------------------------

def test_build_4096_terms_quickly() -> None:
    t0 = time.process_time()
    k = delta_kernel("lin", 20, 4096)
    assert time.process_time() - t0 < 10  # previously about 25-50 s
    assert not k.coefficients_realised


@pytest.mark.slow
def test_certified_error_at_65536_heads_within_a_minute() -> None:
    """The issue-15 target: Lemma F.1 at H = 65,536, T = 20, built and certified in < 60 CPU seconds."""
    t0 = time.process_time()
    enc = delta_kernel_l1_error(delta_kernel("lin", 20, 65536))
    assert time.process_time() - t0 < 60
    assert 0 < enc.lower <= enc.upper < 1e-15
