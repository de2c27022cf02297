"""The one grow-then-bisect size search (tfapprox.theory.search)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import size_searches

from tfapprox.theory.search import smallest_satisfying


@settings(max_examples=200, deadline=None)
@given(size_searches())
def test_finds_the_threshold_of_a_monotone_predicate(spec: dict) -> None:
    T = spec["threshold"]
    calls: list[int] = []

    def ok(n: int) -> bool:
        calls.append(n)
        return n >= T

    got = smallest_satisfying(ok, spec["start"], factor=spec["factor"], limit=spec["limit"])
    if spec["limit"] is not None and spec["limit"] < T:
        assert got is None
    else:
        assert got == T
    assert all(n >= spec["start"] for n in calls)
    assert spec["limit"] is None or all(n <= spec["limit"] for n in calls)


def test_relative_tolerance_returns_a_passing_point_close_above() -> None:
    got = smallest_satisfying(lambda n: n >= 123_456_789, factor=4, rel_tol=1e-3)
    assert 123_456_789 <= got <= 123_456_789 * 1.001 + 1


@pytest.mark.parametrize("kwargs, name", [({"start": 0}, "start"), ({"factor": 1}, "factor"),
                                          ({"start": 8, "limit": 4}, "limit"), ({"rel_tol": -1.0}, "rel_tol"),
                                          ({"start": 2.5}, "start")])
def test_bad_input_names_the_parameter(kwargs: dict, name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        smallest_satisfying(lambda n: True, **kwargs)
