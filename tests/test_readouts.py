"""Readouts f: R^n -> R (theory/readouts.py): exact norms, evaluation, the product
readout's Barron bound derivation, JSON round trips and validation."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies import readouts, small_weights
from tfapprox.theory.numbers import exact_rational, rational_from_str, rational_to_str
from tfapprox.theory.readouts import (
    CallableReadout,
    LinearReadout,
    ProductReadout,
    ReluSumReadout,
    readout_from_dict,
)

R = sympy.Rational


# ---- ReluSumReadout ---------------------------------------------------------------

def test_relu_sum_hand_example():
    f = ReluSumReadout(outer=[1, -2], inner=[[1, 0], [1, 1]], bias=[0, "1/2"])
    # Barron: |1| (1 + 0 + 0) + |-2| (1 + 1 + 1/2) = 6; Lipschitz: 1 * 1 + 2 * sqrt(2)
    assert f.barron_norm == 6
    assert sympy.simplify(f.lipschitz - (1 + 2 * sympy.sqrt(2))) == 0
    assert not f.lipschitz_is_exact
    assert f.num_neurons == 2 and f.n_in == 2 and f.kind == "relu_sum"
    # relu(1) - 2 relu(2.5) = -4 ; relu(-1) - 2 relu(-1 + 0.5) = 0
    assert f.evaluate([1.0, 1.0]) == -4.0
    assert f.evaluate([-1.0, 0.0]) == 0.0
    out = f.evaluate(np.array([[[1.0, 1.0], [-1.0, 0.0]]]))
    assert out.shape == (1, 2) and out.tolist() == [[-4.0, 0.0]]


def test_relu_sum_exact_storage_and_float_views():
    f = ReluSumReadout([0.1], [[R(1, 3)]], ["0.1"])
    assert f.outer[0] == R(0.1) and f.bias[0] == R(1, 10) and f.inner[0][0] == R(1, 3)
    assert f.inner_f[0, 0] == 1 / 3 and f.bias_f[0] == 0.1
    assert not f.inner_f.flags.writeable
    assert f.barron_norm == R(0.1) * (R(1, 3) + R(1, 10))


def test_single_neuron_lipschitz_is_exact_and_attained():
    f = ReluSumReadout([R(-3, 2)], [[3, -4]], [1])
    assert f.lipschitz_is_exact and f.lipschitz == R(15, 2)
    assert f.barron_norm == R(3, 2) * 8
    # on the active side, moving along b/|b| changes f by exactly |a| |b| eps
    z = np.array([1.0, 0.0])
    step = np.array([3.0, -4.0]) / 5.0 * 0.25
    assert abs(f.evaluate(z + step) - f.evaluate(z)) == pytest.approx(float(f.lipschitz) * 0.25, rel=1e-14)


def test_gaussian_constructor_reproducible_and_matches_definition():
    f = ReluSumReadout.gaussian(64, 3, seed=7)
    g = ReluSumReadout.gaussian(64, 3, seed=7)
    h = ReluSumReadout.gaussian(64, 3, seed=8)
    assert f == g and f != h
    assert f.num_neurons == 64 and f.n_in == 3
    assert all(a == 1 for a in f.outer) and all(c == 0 for c in f.bias)
    w = np.random.default_rng(7).standard_normal((64, 3))
    np.testing.assert_array_equal(f.inner_f, w)
    z = np.random.default_rng(0).choice([-1.0, 1.0], size=(5, 3))
    np.testing.assert_allclose(f.evaluate(z), np.maximum(z @ w.T, 0).sum(axis=1), rtol=1e-14)
    # Barron bound equals sum_k ||w_k||_1 exactly (outer 1, no bias)
    assert float(f.barron_norm) == pytest.approx(float(np.abs(w).sum()), rel=1e-15)


def test_as_exact_matrices_layout():
    f = ReluSumReadout([1, 2], [[1, 0, 3], [0, 1, 0]], [5, 6])
    inner, bias, outer = f.as_exact_matrices()
    assert inner.shape == (2, 3) and bias.shape == (2, 1) and outer.shape == (1, 2)
    assert inner[0, 2] == 3 and bias[1, 0] == 6 and outer[0, 1] == 2


# ---- LinearReadout ------------------------------------------------------------------

def test_linear_norms_and_evaluation():
    g = LinearReadout([3, -4], "1/2")
    assert g.barron_norm == 2 * 7 + R(1, 2)
    assert g.lipschitz == 5 and g.lipschitz_is_exact
    assert g.evaluate([1.0, 1.0]) == -0.5
    # the Barron representation of the docstring reproduces f
    z = np.random.default_rng(1).normal(size=(20, 2))
    w = np.array([3.0, -4.0])
    rep = np.maximum(z @ w, 0) - np.maximum(-(z @ w), 0) + 0.5 * np.maximum(0 * z[:, 0] + 1, 0)
    np.testing.assert_allclose(g.evaluate(z), rep, rtol=1e-14, atol=1e-14)


# ---- ProductReadout -----------------------------------------------------------------

@pytest.mark.parametrize("n, barron", [(1, 2), (2, 12), (3, 45), (4, R(448, 3))])
def test_product_norm_values(n, barron):
    p = ProductReadout(n)
    assert p.barron_norm == barron
    assert p.lipschitz == sympy.sqrt(n)
    assert p.domain_radius == 1


def test_product_radius():
    p = ProductReadout(2, radius=R(1, 2))
    # 2 n^n r^{n-1} (n + (n-1) r) / n! = 2 * 4 * 1/2 * (2 + 1/2) / 2 = 5
    assert p.barron_norm == 5
    assert p.lipschitz == sympy.sqrt(2) / 2


@pytest.mark.parametrize("n", [2, 3])
def test_product_barron_representation_reproduces_product(n):
    """Discretise the docstring's representation (polarization + Taylor integral of
    ReLUs) by the midpoint rule: it reproduces z_1...z_n on the cube and its Barron
    cost tends to the stated bound."""
    import itertools

    r = 1.0
    nodes = 4000
    u = (np.arange(nodes) + 0.5) * (n * r / nodes)
    du = n * r / nodes
    f2 = n * (n - 1) * u ** (n - 2)  # |f''(u)| for s^n, u >= 0
    z = np.random.default_rng(3).uniform(-r, r, size=(50, n))
    approx = np.zeros(len(z))
    cost = 0.0
    for eps in itertools.product((-1.0, 1.0), repeat=n):
        eps = np.array(eps)
        coef = np.prod(eps) / (2 ** n * math.factorial(n))
        s = z @ eps
        pos = (f2[None, :] * np.maximum(s[:, None] - u[None, :], 0)).sum(axis=1) * du
        neg = ((-1) ** n * f2[None, :] * np.maximum(-s[:, None] - u[None, :], 0)).sum(axis=1) * du
        approx += coef * (pos + neg)
        cost += abs(coef) * 2 * float((f2 * (n + u)).sum() * du)
    np.testing.assert_allclose(approx, np.prod(z, axis=1), atol=1e-5)
    assert cost == pytest.approx(float(ProductReadout(n).barron_norm), rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.data())
def test_product_lipschitz_on_cube(n, data):
    p = ProductReadout(n)
    pts = st.lists(st.floats(-1, 1, allow_nan=False), min_size=n, max_size=n)
    a, b = np.array(data.draw(pts)), np.array(data.draw(pts))
    assert abs(p.evaluate(a) - p.evaluate(b)) <= float(p.lipschitz) * np.linalg.norm(a - b) * (1 + 1e-12) + 1e-15
    corner = np.ones(n)
    grad = np.ones(n)  # gradient at the all-ones corner
    assert np.linalg.norm(grad) == pytest.approx(float(p.lipschitz))
    assert p.evaluate(corner) == 1.0


# ---- CallableReadout ---------------------------------------------------------------

def test_callable_readout_declared():
    c = CallableReadout(lambda z: np.sin(z).sum(axis=1), 2, barron_norm=4, lipschitz="1.5")
    assert c.norms_are_declared and c.barron_norm == 4 and c.lipschitz == R(3, 2)
    assert c.evaluate([0.0, 0.0]) == 0.0
    assert c.evaluate(np.zeros((3, 4, 2))).shape == (3, 4)
    with pytest.raises(TypeError, match="cannot be written to JSON"):
        c.to_dict()
    one = CallableReadout(lambda z: float(z[0] * z[1]), 2, 1, 1, vectorized=False)
    assert one.evaluate([[2.0, 3.0], [1.0, 1.0]]).tolist() == [6.0, 1.0]


def test_callable_readout_bad_outputs():
    wrong_shape = CallableReadout(lambda z: z, 2, 1, 1)
    with pytest.raises(ValueError, match="shape"):
        wrong_shape.evaluate([[1.0, 2.0]])
    nan = CallableReadout(lambda z: np.full(len(z), np.nan), 1, 1, 1)
    with pytest.raises(ValueError, match="NaN"):
        nan.evaluate([[1.0]])
    with pytest.raises(TypeError, match="fn must be callable"):
        CallableReadout(3, 1, 1, 1)


# ---- shared behaviour ----------------------------------------------------------------

def test_evaluate_validates_input():
    f = LinearReadout([1, 2])
    with pytest.raises(ValueError, match="n_in = 2"):
        f.evaluate([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite"):
        f.evaluate([1.0, np.nan])
    with pytest.raises(TypeError):
        f.evaluate([["a", "b"]])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.data())
def test_lipschitz_bound_holds(n, data):
    f = data.draw(readouts(n))
    pts = st.lists(st.floats(-1, 1, allow_nan=False), min_size=n, max_size=n)
    a, b = np.array(data.draw(pts)), np.array(data.draw(pts))
    L = float(f.lipschitz)
    assert abs(f.evaluate(a) - f.evaluate(b)) <= L * np.linalg.norm(a - b) * (1 + 1e-9) + 1e-12
    assert float(f.barron_norm) >= 0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.data())
def test_evaluate_mp_agrees(n, data):
    f = data.draw(readouts(n))
    z = data.draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=n, max_size=n))
    with mpmath.workdps(40):
        ref = f.evaluate_mp(z, 40)
    assert float(ref) == pytest.approx(f.evaluate(z), rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.data())
def test_readout_json_round_trip(n, data):
    f = data.draw(readouts(n))
    back = readout_from_dict(json.loads(json.dumps(f.to_dict())))
    assert back == f and type(back) is type(f)
    assert back.barron_norm == f.barron_norm


# ---- exact numbers --------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                 st.fractions().map(lambda q: R(q.numerator, q.denominator)),
                 st.integers(-10 ** 30, 10 ** 30)))
def test_rational_string_round_trip(x):
    q = exact_rational("x", x)
    text = rational_to_str(q)
    assert rational_from_str("x", text) == q
    if isinstance(x, float):
        assert float(text if "/" not in text else float(q)) == x


def test_exact_rational_inputs_and_refusals():
    assert exact_rational("w", Fraction(2, 6)) == R(1, 3)
    assert exact_rational("w", mpmath.mpf(0.5)) == R(1, 2)
    assert exact_rational("w", np.float64(0.25)) == R(1, 4)
    with pytest.raises(TypeError, match="rational"):
        exact_rational("w", sympy.sqrt(2))
    with pytest.raises(TypeError):
        exact_rational("w", True)
    with pytest.raises(ValueError, match="w"):
        exact_rational("w", math.nan)
    for bad in ("nan", "inf", "1+1", "__import__('os')", "1/0", ""):
        with pytest.raises((ValueError, TypeError)):
            rational_from_str("w", bad)
    with pytest.raises(TypeError):
        rational_from_str("w", 1.5)


def test_readout_from_dict_refuses_bad_descriptions():
    with pytest.raises(ValueError, match="callable readouts cannot be loaded"):
        readout_from_dict({"kind": "callable"})
    with pytest.raises(ValueError, match="exactly the fields"):
        readout_from_dict({"kind": "linear", "weights": ["1"], "bias": "0", "extra": 1})
    with pytest.raises(TypeError):
        readout_from_dict({"kind": "linear", "weights": "1", "bias": "0"})
    with pytest.raises(ValueError):
        readout_from_dict({"kind": "product", "n_in": 0, "radius": "1"})


@given(small_weights())
def test_small_weights_are_accepted(w):
    assert isinstance(exact_rational("w", w), sympy.Rational)
