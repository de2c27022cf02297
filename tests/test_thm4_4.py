"""Theorem 4.4 / Prop. 4.5 constructions: exact positions through the layers, per-layer errors
within the certified bounds, the layer schedule, refusals, the checks and the depth evidence."""

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from strategies import nested_chains

from tfapprox.constructions.thm4_1 import build_thm4_1
from tfapprox.constructions.thm4_4 import build_prop4_5, build_thm4_4, layer_count, position_encoding
from tfapprox.theory.bounds import (app_d2_head_ratio, thm4_4_attention_bound, thm4_4_head_condition,
                                    thm4_4_min_heads_paper, thm4_4_paper_form)
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction, pointer_chasing
from tfapprox.verify.adaptive_error import measure_thm4_1
from tfapprox.verify.checks_nested import nested_chain, prop45_target
from tfapprox.verify.nested_error import measure_thm4_4, shallow_family_optimum, target_memories


@settings(max_examples=3, deadline=None)
@given(nested_chains())
def test_property_model_matches_target_within_reported_error(target):
    """On every enumerated input: positions exact (E1), blocks untouched later (E2), every block's
    measured token error <= its certified error (E3), output error <= the reported error."""
    cons = build_thm4_4(target, 96)
    assert cons.num_layers == layer_count(target.nesting, target.memory_count)
    meas = measure_thm4_4(cons)
    assert meas.positions_certified  # alphabet {-1,1}, T <= 2, <= 2 reads, H = 96: E_l <= 0.28, Lip <= sqrt(5)/2
    assert meas.positions_exact and meas.position_mismatches == 0
    assert meas.untouched_violations == 0
    for got, cert in zip(meas.block_error_measured, meas.block_error_upper):
        assert got <= cert
    assert meas.enumerated_max <= meas.total_upper


def test_layer_schedule_and_heads():
    t = nested_chain(2, 3)
    c = build_thm4_4(t, 16)
    assert c.num_layers == 4 and c.spec.num_heads == (0, 16, 16, 16)
    assert c.attention_block == (2, 3, 4)
    t2 = nested_chain(1, 3)
    c2 = build_thm4_4(t2, 16)
    # K = 1: memory 1 alone in block 2, memories 2 and 3 concurrently in block 3 (heads split)
    assert c2.num_layers == 3 and c2.attention_block == (2, 3, 3)
    assert sum(c2.heads_per_memory[1:]) == 16 and c2.heads_per_memory[0] == 16
    assert [p.block for p in c2.position_ffns] == [1, 2, 2]


def test_log_positions_exact_small_case():
    """log-RPE at H = 64: the certified slack is negative (premise not certified), yet the
    enumerated run recovers every log t_l exactly; (E2) holds."""
    cons = build_thm4_4(pointer_chasing(2, 2), 64, rpe="log")
    assert cons.spec.blocks[0].ffn.precision == "log_round"
    meas = measure_thm4_4(cons)
    assert not meas.positions_certified
    assert meas.positions_exact and meas.untouched_violations == 0


def test_prop45_equals_thm41_kernels_per_memory():
    """Prop. 4.5 with H per layer has the same per-memory kernels as Thm 4.1 with M H heads (equal T)."""
    t = prop45_target()
    deep = measure_thm4_4(build_prop4_5(t, 32), run_model=False)
    two = measure_thm4_1(build_thm4_1(t, 96), run_model=False)
    assert build_prop4_5(t, 32).num_layers == 4
    assert deep.attention_upper == pytest.approx(two.attention_upper, rel=1e-9)


def test_encoding_separates_keys_and_lipschitz():
    c = position_encoding([-1, 0, 1], 2)
    assert c == (3, 1)
    vals = {3 * a + b for a in (-1, 0, 1) for b in (-1, 0, 1)}
    assert len(vals) == 9
    g = TableMemoryFunction((-1, 1), {(-1, -1): 1, (-1, 1): 2, (1, -1): 2, (1, 1): 1}, reads=(0, 1))
    g1 = TableMemoryFunction((-1, 1), {-1: 1, 1: 2})
    t = AdaptiveMemoryTarget((g1, g), (2, 2), 1, LinearReadout([0, 1, 1]))
    cons = build_thm4_4(t, 8)
    p = cons.position_ffns[1]
    # u = 2 x_t + x_{t-t_1} in {-3,-1,1,3}; slopes 1/2; Lip = 1/2 * sqrt(5)
    assert p.lipschitz == pytest.approx(0.5 * math.sqrt(5))
    assert p.exact and p.threshold == 0.25


def test_refusals():
    t = nested_chain(2, 3)
    with pytest.raises(TypeError):
        build_thm4_4("x", 8)
    with pytest.raises(ValueError, match="layers_K"):
        build_thm4_4(t, 8, layers_K=1)
    with pytest.raises(ValueError, match="rpe"):
        build_thm4_4(t, 8, rpe="exp")
    with pytest.raises(ValueError, match="H"):
        build_thm4_4(t, 0)
    with pytest.raises(ValueError, match="width"):
        build_thm4_4(prop45_target(), 8, 2)
    with pytest.raises(ValueError, match="warm-up"):
        build_prop4_5(t, 8)


def test_bounds_structure():
    b2 = float(thm4_4_attention_bound("lin", (2, 2, 2), (256, 256, 256), 2, 2))
    b1 = float(thm4_4_attention_bound("lin", (2, 2, 2), (256, 128, 128), 1, 2))
    assert b2 > 0 and b1 > 0
    assert float(thm4_4_paper_form("lin", (2, 2, 2), 512, 3, 2)) < float(thm4_4_paper_form("lin", (2, 2, 2), 256, 3, 2))
    cond = thm4_4_head_condition("lin", (2, 2), (64, 64), 2, [(0,), (1,)], [0.5, 0.5], 1)
    assert cond[0]["met"] and not cond[1]["met"]
    assert thm4_4_min_heads_paper("lin", (2,), 1, 1, 2) == 1  # M = K = 1: empty sum
    assert float(app_d2_head_ratio("lin", (2, 2), 1)) == pytest.approx(math.sqrt(0.5))


def test_target_memories_are_the_targets():
    t = nested_chain(2, 3, seed=3)
    X = np.array([[[1.0], [-1.0], [1.0]], [[-1.0], [-1.0], [1.0]]])
    toks, pos = target_memories(t, X, [1.0])
    y = t.evaluate(X, pad=[1.0])
    assert np.allclose(y, sum(toks) / 3)
    assert all(((p >= 1) & (p <= 2)).all() for p in pos)


def test_depth_evidence_lp():
    r = shallow_family_optimum(pointer_chasing(2, 2))
    assert r["exact"] and r["method"] == "lp"
    assert r["optimum"] == pytest.approx(0.125, abs=1e-9)
    # the 3-layer construction gets below the 2-layer family's optimum
    m = measure_thm4_4(build_thm4_4(pointer_chasing(2, 2), 256), run_model=False)
    assert m.total_upper < r["optimum"]


def test_checks_registered_and_bad_input():
    from tfapprox.verify.registry import get_check

    assert get_check("thm4.4") is not None and get_check("prop4.5") is not None
    with pytest.raises(ValueError):
        nested_chain(3, 2)
    with pytest.raises(ValueError):
        nested_chain(0, 2)


def test_cli_prop45_json(tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "p.json"
    proc = subprocess.run([sys.executable, "-m", "tfapprox", "verify", "prop4.5", "--eps", "0.05", "--json", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["passed"] is True
    two, deep = data["rows"]
    assert deep["heads_needed_measured"] < two["heads_needed_measured"]
    assert deep["heads_needed_bound"] < two["heads_needed_bound"]
    bad = subprocess.run([sys.executable, "-m", "tfapprox", "verify", "thm4.4", "--heads", "8,4"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 2
