"""Best-found kernels against the paper's construction and its bound (tfapprox.verify.tightness)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.verify.tightness import (_f5_exact, alpha_gamma_sweep, coefficient_digits, delta_tightness,
                                       heads_for_epsilon, shifted_tightness)


@pytest.mark.parametrize("rpe", ["lin", "log"])
def test_ordering_and_search_beats_construction(rpe: str) -> None:
    r = delta_tightness(rpe, 1, 16, starts=1, max_evals=4)
    assert r.ordered
    assert r.bound >= r.construction >= r.best_found
    # at T = 1 the LP search finds kernels far better than the Chebyshev construction
    assert r.best_found_source == "search" and r.slack_construction > 10
    assert r.as_row()["slack_bound"] == r.bound / r.best_found


def test_f2_identity() -> None:
    f1 = delta_tightness("lin", 5, 16, starts=1, max_evals=2)
    f2 = shifted_tightness("lin", 5, 16, f1_row=f1)
    assert f2.lemma == "F.2" and f2.best_found == f1.best_found
    assert math.isclose(f2.construction, f1.construction, rel_tol=1e-9)


def test_f5_ordering() -> None:
    r = shifted_tightness("log", 2, 4, starts=1, max_evals=2)
    assert r.lemma == "F.5" and r.ordered


def test_f5_exact_against_direct_sum() -> None:
    """_f5_exact against an independent direct evaluation (mpmath zeta tails)."""
    import mpmath

    p = np.array([2.0, 3.5])
    c = np.array([0.7, -0.2])
    got = _f5_exact(p, c, 3)
    worst = 0.0
    for Bv in (1, 2, 3):
        terms = [abs(sum(ch * (t / Bv) ** -ph for ph, ch in zip(p, c)) - (1.0 if t == Bv else 0.0))
                 for t in range(1, 20000)]
        tail = sum(abs(ch) * Bv ** ph * float(mpmath.zeta(ph, 20000)) for ph, ch in zip(p, c))
        worst = max(worst, math.fsum(terms) + tail)
    assert got >= worst * (1 - 1e-9) and got <= worst * (1 + 1e-6) + 1e-9


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=8))
def test_coefficient_digits(coeffs: list[float]) -> None:
    d = coefficient_digits(coeffs)
    assert d >= 15
    l1 = sum(abs(v) for v in coeffs)
    if l1 > 0:
        assert 10 ** (d - 3) * 1e-12 >= l1 * 0.999


def test_alpha_gamma_sweep_and_heads() -> None:
    sw = alpha_gamma_sweep("lin", 1, 16, [("0.01", "0.01"), ("0.3", "0.3")], epsilon=1e-1, max_heads=64)
    assert sw["min_bound"]["bound"] == min(r["bound"] for r in sw["rows"])
    assert sw["min_error"]["error"] == min(r["error"] for r in sw["rows"])
    assert all(r["error"] <= r["bound"] for r in sw["rows"])
    h = heads_for_epsilon("lin", 1, 1e-1, alpha="0.3", gamma="0.3", measured=True, max_heads=64)
    assert h is None or h <= 64
    hb = heads_for_epsilon("lin", 1, 1e-1, alpha="0.3", gamma="0.3", measured=False)
    assert hb is not None and hb > 8


def test_tightness_check_json(tmp_path) -> None:
    import json

    from tfapprox.cli import main

    out = tmp_path / "t.json"
    rc = main(["verify", "tightness", "--lags", "1,5", "--heads", "4,8", "--shifted-heads", "4", "--starts", "1",
               "--max-evals", "2", "--sweep", "0.01:0.01,0.3:0.3", "--sweep-rpe", "lin", "--max-heads", "16",
               "--epsilon", "0.5", "--json", str(out)])
    data = json.loads(out.read_text())
    assert rc == 0 and data["passed"]
    lemmas = {r["lemma"] for r in data["rows"]}
    assert lemmas == {"F.1", "F.2", "F.4", "F.5"}
    for r in data["rows"]:
        assert r["bound"] >= r["construction"] >= r["best_found"]
        assert {"construction", "best_found", "bound"} <= set(r)
