"""The bounded caches behind ``verify --all`` (issue 15): same values as a fresh computation.

The double-double lattice cache (:class:`tfapprox.theory.numerics.lattice.LatticeCache`) serves a
shorter range as a view of a longer one and extends a range from the last restart of the
product chain; every value must be bit for bit what a fresh computation gives, and the memory
stays bounded.  ``_node_geometry`` returns lazy ranges (no list of ``H`` entries).
"""

from __future__ import annotations


import numpy as np
import pytest
import sympy

from tfapprox.constructions.bump_nodes import node_geometry as _node_geometry
from tfapprox.theory.numerics.lattice import LatticeCache as _LatticeCache, lattice_compute as _lattice_compute


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("rpe, alpha, gamma, start", [
    ("lin", sympy.Rational(1, 100), sympy.Rational(1, 100), 0),
    ("lin", sympy.Rational(3, 100), sympy.Rational(3, 10), 5),
    ("log", sympy.Rational(1, 2), sympy.Rational(1, 2), 1),
    ("log", sympy.Rational(1, 10), sympy.Rational(1, 100), 7),
])
def test_lattice_cache_prefix_and_extension_are_bitwise_fresh(rpe, alpha, gamma, start) -> None:
    cache = _LatticeCache()
    for stop in (start + 10, start + 200, start + 70, start + 333, start + 129, start + 333):
        got = cache.get(rpe, alpha, gamma, start, stop)
        assert _same(got, _lattice_compute(rpe, alpha, gamma, start, stop)), stop
        assert all(not arr.flags.writeable for arr in got)
    assert cache.misses == 1 and cache.extensions == 2 and cache.hits == 3
    # another start is another chain (lin restarts at start): its own entry
    other = cache.get(rpe, alpha, gamma, start + 1, start + 50)
    assert _same(other, _lattice_compute(rpe, alpha, gamma, start + 1, start + 50))
    assert cache.misses == 2


def test_lattice_cache_is_bounded() -> None:
    a = sympy.Rational(1, 10)
    cache = _LatticeCache(max_entries=3, max_points=250)
    for i in range(6):
        cache.get("lin", a, sympy.Rational(i + 1, 10), 0, 100)
        assert len(cache._store) <= 3 and cache.points() <= 250
    # a range longer than max_points is returned but not kept
    big = cache.get("lin", a, a, 0, 400)
    assert len(big[0]) == 400 and cache.points() <= 250
    assert _same(big, _lattice_compute("lin", a, a, 0, 400))


def test_node_geometry_is_lazy_and_matches_the_node_families() -> None:
    for H in (1, 2, 3, 17, 1 << 24):
        for nodes in ("chebyshev1", "chebyshev2"):
            M, angle = _node_geometry(H, nodes)
            assert isinstance(angle, range) and len(angle) == H
            if H == 1:
                assert (M, list(angle)) == (2, [1])
            elif nodes == "chebyshev2":
                assert M == H - 1 and angle[0] == 0 and angle[H - 1] == H - 1
            else:
                assert M == 2 * H and angle[0] == 1 and angle[H - 1] == 2 * H - 1
    assert list(_node_geometry(5, "chebyshev1")[1]) == [1, 3, 5, 7, 9]
    assert list(_node_geometry(5, "chebyshev2")[1]) == [0, 1, 2, 3, 4]


def test_delta_kernel_cache_returns_the_same_kernel_for_equal_parameters() -> None:
    from tfapprox.constructions import delta_kernels as dk

    dk._KERNEL_CACHE.clear()
    a = dk.delta_kernel("lin", 5, 16, alpha="0.01", gamma=sympy.Rational(1, 100))
    b = dk.delta_kernel("lin", 5, 16, alpha=sympy.Rational(1, 100), gamma="1/100")
    assert a is b
    c = dk.delta_kernel("lin", 5, 16, alpha="0.01", gamma="0.02")
    assert c is not a and c.gamma == sympy.Rational(1, 50)
    assert dk.delta_kernel("lin", 5, 16, alpha=0.01) is not a  # a float is its binary value, not 1/100
    # equal to a fresh build (the cache bypassed)
    dk._KERNEL_CACHE.clear()
    fresh = dk.delta_kernel("lin", 5, 16)
    assert fresh is not a and fresh.coefficients == a.coefficients
    assert fresh.chebyshev_coefficients == a.chebyshev_coefficients
    assert fresh.coefficient_error_bound == a.coefficient_error_bound
    for H in range(1, dk._KERNEL_CACHE_SIZE + 10):
        dk.delta_kernel("log", 2, H)
    assert len(dk._KERNEL_CACHE) == dk._KERNEL_CACHE_SIZE


def test_enclosure_cache_returns_the_fresh_enclosure() -> None:
    from tfapprox.constructions.delta_kernels import delta_kernel
    from tfapprox.verify import kernel_error as ke

    kern = delta_kernel("log", 3, 24)
    first = ke.delta_kernel_l1_error(kern)
    assert ke.delta_kernel_l1_error(kern) is first
    assert ke._delta_kernel_l1_error(kern, 1e-13, None) == first
    other = ke.delta_kernel_l1_error(kern, direct_terms=64)
    assert other is not first and other == ke._delta_kernel_l1_error(kern, 1e-13, 64)
    with pytest.raises(TypeError, match="kernel must be a DeltaKernel"):
        ke.delta_kernel_l1_error("kernel")


def test_bound_caches_answer_per_precision() -> None:
    """A norm cached at one mpmath precision never answers a call at another (issue 15: the
    digits of verify --all depended on which check ran first)."""
    import mpmath

    from tfapprox.theory import bounds as B

    B.bump_derivative_norms.cache_clear()
    with mpmath.workprec(300):
        high = B.bump_derivative_norms(2)
    low = B.bump_derivative_norms(2)
    B.bump_derivative_norms.cache_clear()
    fresh_low = B.bump_derivative_norms(2)
    assert low == fresh_low
    assert B.bump_derivative_norms.__doc__.startswith("Rigorous enclosures")
    assert high.sup_upper >= high.sup_lower > 0


def test_run_all_jobs_start_from_empty_caches(tmp_path) -> None:
    from tfapprox.constructions import delta_kernels as dk
    from tfapprox.theory.numerics.lattice import LATTICES
    from tfapprox.verify import kernel_error as ke
    from tfapprox.verify import report as report_mod

    dk.delta_kernel("lin", 2, 8)
    ke.delta_kernel_l1_error(dk.delta_kernel("lin", 2, 8))
    assert dk._KERNEL_CACHE and ke._ENCLOSURE_CACHE
    report_mod._clear_caches()
    assert not dk._KERNEL_CACHE and not ke._ENCLOSURE_CACHE and not LATTICES._store
