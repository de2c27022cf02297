"""Memory kernels rho: N -> R (theory/memory_kernels.py, kernel_base, named_kernels, array_kernel,
kernel_enclosures): closed forms, declared decay,
rigorous l1 enclosures, tails, the ArrayKernel decay check, JSON round trips."""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings

from strategies import memory_kernels
from tfapprox.theory.memory_kernels import (
    ArrayKernel,
    ExponentialKernel,
    MixtureKernel,
    PolynomialKernel,
    ShiftedBumpKernel,
    kernel_from_dict,
)

R = sympy.Rational


# ---- exponential ----------------------------------------------------------------------

def test_exponential_closed_forms():
    k = ExponentialKernel(R(1, 2), R(1, 10))
    s = np.arange(6)
    np.testing.assert_allclose(k.values(s), 0.5 * np.exp(-0.1 * s), rtol=1e-15)
    assert k.values(3) == pytest.approx(0.5 * math.exp(-0.3), rel=1e-15)
    assert k.decay == "exp" and k.beta == R(1, 10) and k.decay_constant == R(1, 2) and k.sign == 1
    with mpmath.workdps(50):
        exact = mpmath.mpf(1) / 2 / (1 - mpmath.exp(-mpmath.mpf(1) / 10))
        lo, hi = k.l1_norm()
        assert mpmath.mpf(lo) <= exact <= mpmath.mpf(hi)
        assert (hi - lo) / float(exact) < 1e-15
        tail = mpmath.nsum(lambda j: mpmath.mpf(1) / 2 * mpmath.exp(-j / mpmath.mpf(10)), [7, mpmath.inf])
        assert k.tail_sum(7) == pytest.approx(float(tail), rel=1e-14)
        assert abs(k.tail_sum_mp(7, 50) - tail) < mpmath.mpf(10) ** -45


def test_exponential_h28_kernel():
    k = ExponentialKernel(1, 5)
    assert k.values(0) == 1.0 and k.values(1) == pytest.approx(math.exp(-5), rel=1e-15)


# ---- polynomial -----------------------------------------------------------------------

def test_polynomial_offset_zero_default_rho0_is_zero():
    k = PolynomialKernel(2, 3, offset=0)
    assert k.at_zero == 0 and k.rho0 == 0
    assert k.values([0, 1, 2]).tolist() == [0.0, 2.0, 0.25]
    with mpmath.workdps(40):
        lo, hi = k.l1_norm()
        assert mpmath.mpf(lo) <= 2 * mpmath.zeta(3) <= mpmath.mpf(hi)
        assert k.tail_sum(3) == pytest.approx(float(2 * mpmath.zeta(3, 3)), rel=1e-14)
        assert k.tail_sum(0) == pytest.approx(float(2 * mpmath.zeta(3)), rel=1e-14)


def test_polynomial_offset_zero_explicit_rho0():
    k = PolynomialKernel(1, 2, offset=0, at_zero=-5)
    assert k.values(0) == -5.0 and k.sign is None
    lo, hi = k.l1_norm()
    assert lo <= 5 + math.pi ** 2 / 6 <= hi
    assert k.tail_sum(0) == pytest.approx(-5 + math.pi ** 2 / 6, rel=1e-14)


def test_polynomial_offset_one():
    k = PolynomialKernel(1, R(3, 2))
    assert k.values([0, 3]).tolist() == [1.0, 0.125]
    assert k.decay == "poly" and k.decay_constant == 1
    with mpmath.workdps(40):
        assert k.tail_sum(0) == pytest.approx(float(mpmath.zeta(1.5)), rel=1e-14)
        lo, hi = k.l1_norm()
        assert mpmath.mpf(lo) <= mpmath.zeta(mpmath.mpf(3) / 2) <= mpmath.mpf(hi)
    with pytest.raises(ValueError, match="at_zero applies only to offset=0"):
        PolynomialKernel(1, 2, offset=1, at_zero=0)
    with pytest.raises(ValueError, match="offset"):
        PolynomialKernel(1, 2, offset=2)


def test_non_summable_polynomial_needs_flag():
    with pytest.raises(ValueError, match="allow_non_summable"):
        PolynomialKernel(1, R(1, 2), offset=0)
    k = PolynomialKernel(1, R(1, 2), offset=0, allow_non_summable=True)
    assert not k.summable
    assert k.l1_norm() == (math.inf, math.inf)
    assert k.values(4) == 0.5
    with pytest.raises(ValueError, match="diverges"):
        k.tail_sum(1)
    with pytest.raises(ValueError):
        PolynomialKernel(1, 0, allow_non_summable=True)


# ---- mixture --------------------------------------------------------------------------

def test_mixture_decay_exp_and_poly():
    e1, e2 = ExponentialKernel(1, 1), ExponentialKernel(-2, R(1, 2))
    m = MixtureKernel([e1, e2], [3, 1])
    assert m.decay == "exp" and m.beta == R(1, 2) and m.decay_constant == 5
    p = PolynomialKernel(2, 3)
    mp_ = MixtureKernel([e1, p], [1, -1])
    # exp component with beta_i = 1 under t^-3: sup_{t>=1} t^3 e^{-t} = 27 e^{-3}
    assert mp_.decay == "poly" and mp_.beta == 3
    assert sympy.simplify(mp_.decay_constant - (27 * sympy.exp(-3) + 2)) == 0
    assert mp_.sign is None
    # not sign-definite: default enclosure (direct sum + tail bound) contains the value
    with mpmath.workdps(40):
        ref = mpmath.nsum(lambda j: abs(mpmath.exp(-j) - 2 * (1 + j) ** -3), [0, mpmath.inf])
    lo, hi = mp_.l1_norm()
    assert lo <= float(ref) <= hi and hi - lo < 1e-6


def test_mixture_sign_definite_l1_adds():
    m = MixtureKernel([ExponentialKernel(1, 1), PolynomialKernel(2, 3)], [1, 1])
    assert m.sign == 1
    lo, hi = m.l1_norm()
    ref = 1 / (1 - math.exp(-1)) + 2 * 1.2020569031595942
    assert lo <= ref <= hi and hi - lo < 1e-14


# ---- shifted bump ---------------------------------------------------------------------

def test_shifted_bump():
    k = ShiftedBumpKernel(10, 3, scale=2)
    assert k.support == (8, 12)
    v = k.values(np.arange(20))
    assert v[10] == 2.0 and v[7] == 0.0 and v[13] == 0.0
    assert v[9] == pytest.approx(v[11], rel=1e-15) and v[9] == pytest.approx(2 * math.exp(1 - 1 / (1 - 1 / 9)))
    lo, hi = k.l1_norm()
    assert lo <= v.sum() <= hi
    assert k.tail_sum(11) == pytest.approx(v[11:].sum(), rel=1e-14)
    assert k.tail_sum(50) == 0.0
    assert sympy.simplify(k.decay_constant - 2 * sympy.exp(13)) == 0
    edge = ShiftedBumpKernel(R(1, 2), R(1, 2))
    assert edge.support == (1, 0) and edge.sign == 0 and edge.values(0) == 0.0


# ---- array ----------------------------------------------------------------------------

def test_array_kernel_checks_declared_decay_and_names_the_lag():
    vals = [1.0, 0.3, 0.1, 0.2, 0.0]
    with pytest.raises(ValueError, match=r"first failure at lag 3"):
        ArrayKernel(vals, "exp", 1, 1)
    with pytest.raises(ValueError, match=r"first failure at lag 2"):
        ArrayKernel([5.0, 1.0, 0.3], "poly", 2, 1)  # lag 0 is unconstrained for poly
    ArrayKernel([5.0, 1.0, 0.25], "poly", 2, 1)


def test_array_kernel_accepts_values_computed_from_the_bound():
    t = np.arange(200)
    for beta in (0.1, 0.7, 1.3, 3.0):
        ArrayKernel(np.exp(-beta * t), "exp", beta, 1)
        ArrayKernel(3.0 * np.maximum(t, 1.0) ** -(beta + 1), "poly", beta + 1, 3)
    k = ArrayKernel([1.0], "exp", 1, 2)
    assert k.decay_constant == 2 * (1 + R(2, 2 ** 48))
    k = ArrayKernel([1.0, 0.1, 0.01], "exp", R(1, 2), 2)
    assert k.decay_constant == 2 * (1 + R(2, 2 ** 48) * 2)


def test_array_kernel_tails():
    k = ArrayKernel([1, R(1, 2), R(1, 4)], "exp", R(1, 2), 1)
    assert k.tail == "unknown" and not k.tail_known
    with pytest.raises(ValueError, match="unknown"):
        k.values(3)
    with pytest.raises(ValueError, match="unknown"):
        k.tail_sum(1)
    lo, hi = k.l1_norm()
    assert lo <= 1.75 and hi >= 1.75 + math.exp(-1.5) / (1 - math.exp(-0.5))
    z = ArrayKernel([1, R(1, 2), R(1, 4)], "exp", R(1, 2), 1, tail="zero")
    assert z.values([2, 3, 10]).tolist() == [0.25, 0.0, 0.0]
    assert z.tail_sum([0, 1, 3, 7]).tolist() == [1.75, 0.75, 0.0, 0.0]
    assert z.l1_norm()[0] <= 1.75 <= z.l1_norm()[1] and z.sign == 1


# ---- all kernels --------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(memory_kernels())
def test_declared_decay_bound_holds(k):
    t = np.arange(1, 300)
    C = float(k.decay_constant) if float(k.decay_constant) < 1e300 else math.inf
    b = float(k.beta)
    bound = C * (np.exp(-b * t) if k.decay == "exp" else t ** -b)
    known = t if k.known_length is None else t[t < k.known_length]
    vals = np.abs(np.asarray(k.values(known), dtype=float))
    assert np.all(vals <= bound[: len(known)] * (1 + 1e-12) + 1e-300)


@settings(max_examples=60, deadline=None)
@given(memory_kernels(known_tail=True))
def test_l1_enclosure_and_tail_consistency(k):
    n = 3000
    direct = float(np.abs(np.asarray(k.values(np.arange(n)), dtype=float)).sum())
    lo, hi = k.l1_norm(terms=512)
    remainder = float(k.abs_tail_bound(n))
    assert direct <= hi * (1 + 1e-12) + 1e-15
    assert lo <= (direct + remainder) * (1 + 1e-12) + 1e-15
    # tail_sum(t0) - tail_sum(t0 + 1) = rho(t0)
    t0 = np.arange(0, 40)
    diff = np.asarray(k.tail_sum(t0)) - np.asarray(k.tail_sum(t0 + 1))
    np.testing.assert_allclose(diff, k.values(t0), rtol=1e-9, atol=1e-12 * (1 + abs(float(k.tail_sum(0)))))


@settings(max_examples=40, deadline=None)
@given(memory_kernels(known_tail=True))
def test_values_mp_agree(k):
    s = np.arange(0, 30)
    with mpmath.workdps(30):
        mp_vals = k.values_mp(s, 30)
    np.testing.assert_allclose([float(v) for v in mp_vals], k.values(s), rtol=1e-13, atol=1e-300)
    assert isinstance(k.values_mp(3, 20), mpmath.mpf)


@settings(max_examples=60, deadline=None)
@given(memory_kernels())
def test_kernel_json_round_trip(k):
    back = kernel_from_dict(json.loads(json.dumps(k.to_dict())))
    assert back == k and type(back) is type(k)


def test_lags_are_validated():
    k = ExponentialKernel(1, 1)
    with pytest.raises(ValueError, match=">= 0"):
        k.values([-1, 2])
    with pytest.raises(TypeError, match="integer lags"):
        k.values([0.5])
    with pytest.raises(TypeError):
        k.values(True)
    assert k.values(np.array([], dtype=int)).shape == (0,)


def test_kernel_from_dict_refuses_bad_descriptions():
    with pytest.raises(ValueError, match="kind"):
        kernel_from_dict({"kind": "lambda"})
    with pytest.raises(ValueError, match="exactly the fields"):
        kernel_from_dict({"kind": "exponential", "scale": "1"})
    with pytest.raises(ValueError):
        kernel_from_dict({"kind": "exponential", "scale": "1", "beta": "exp(1)"})
    with pytest.raises(ValueError, match="decay"):
        kernel_from_dict({"kind": "array", "values": ["1", "2"], "decay": "exp", "beta": "1", "scale": "1",
                          "tail": "zero", "allow_non_summable": False})


def test_old_import_path_re_exports_the_split_modules():
    """Issue 14: memory_kernels.py is split by idea; the old path keeps every public name."""
    from tfapprox.theory import array_kernel, kernel_base, memory_kernels, named_kernels

    for module in (kernel_base, named_kernels, array_kernel):
        for name in module.__all__:
            if name in memory_kernels.__all__:
                assert getattr(memory_kernels, name) is getattr(module, name), name
    assert memory_kernels.ArrayKernel.__module__.endswith("array_kernel")
    assert memory_kernels.ExponentialKernel.__module__.endswith("named_kernels")


def test_kernel_enclosures_round_outward():
    from tfapprox.theory.kernel_enclosures import enclose_outward, mp_upper_bound, round_down_float, round_up_float

    with mpmath.workdps(40):
        third = mpmath.mpf(1) / 3
        assert round_down_float(third) <= third <= round_up_float(third)
        assert round_down_float(third) < round_up_float(third)
        lo, hi = enclose_outward(third, third, 30)
        assert lo < third < hi
        assert mp_upper_bound(sympy.sqrt(2), 30) >= mpmath.sqrt(2)
        assert mp_upper_bound(sympy.Rational(1, 4), 30) == mpmath.mpf(0.25)
    assert round_up_float(mpmath.inf) == math.inf


def test_allow_non_summable_must_be_a_bool():
    with pytest.raises(TypeError, match="allow_non_summable must be True or False"):
        PolynomialKernel(1, 2, allow_non_summable=1)
