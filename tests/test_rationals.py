"""The one rational-conversion rule (theory/rationals.py): a float is its exact binary value
everywhere, strings/ints/Fractions/Rationals are exact; every require_*rational and to_exact agree,
so the Thm 3.1 builder and the Lemma F.1 kernel builder read ``alpha=0.01`` as the same number."""

from __future__ import annotations

import fractions
import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.constructions.delta_kernels import delta_kernel, lemma_f1_kernel
from tfapprox.constructions.thm3_1 import build_thm3_1
from tfapprox.theory import numbers, rationals, validation
from tfapprox.theory.bounds import bump_placement
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import FixedMemoryTarget

R = sympy.Rational
CONVERTERS = (rationals.to_exact, rationals.exact_rational, rationals.require_positive_rational)


@given(st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False))
@settings(max_examples=200, deadline=None)
def test_a_float_is_its_binary_value_in_every_converter(x: float) -> None:
    exact = fractions.Fraction(x)
    for convert in CONVERTERS:
        got = convert("alpha", x)
        assert got == R(exact.numerator, exact.denominator), convert.__name__


@pytest.mark.parametrize("value, expected", [
    ("0.01", R(1, 100)), ("1/100", R(1, 100)), (R(1, 100), R(1, 100)), (fractions.Fraction(1, 100), R(1, 100)),
    (3, R(3)), (np.int64(3), R(3)), ("2.5e-3", R(1, 400)), (mpmath.mpf(0.25), R(1, 4)),
    (np.float64(0.01), R(0.01)), (0.01, R(0.01)), (sympy.Float(0.5), R(1, 2)),
])
def test_each_input_kind_means_one_number(value, expected) -> None:
    assert rationals.exact_rational("alpha", value) == expected
    assert rationals.require_positive_rational("alpha", value) == expected
    assert validation.require_positive_rational("alpha", value) == expected  # the re-export is the same rule
    assert numbers.exact_rational("alpha", value) == expected


def test_float_001_is_not_one_hundredth() -> None:
    assert rationals.require_positive_rational("alpha", 0.01) != R(1, 100)
    assert rationals.require_positive_rational("alpha", 0.01) == rationals.to_exact("alpha", 0.01) == R(0.01)


@pytest.mark.parametrize("value, error", [
    (True, TypeError), (None, TypeError), ([1], TypeError), (math.nan, ValueError), (math.inf, ValueError),
    ("abc", ValueError), ("1/0", ValueError), (0, ValueError), ("-0.01", ValueError), (-0.5, ValueError),
    (sympy.sqrt(2), TypeError), (sympy.Symbol("a"), TypeError), (mpmath.mpf("inf"), ValueError),
])
def test_require_positive_rational_refuses_naming_the_parameter(value, error) -> None:
    with pytest.raises(error, match="alpha"):
        rationals.require_positive_rational("alpha", value)


def test_thm3_1_builder_and_lemma_f1_kernel_agree_on_a_float_alpha() -> None:
    """Before the one rule, build_thm3_1(alpha=0.01) used the binary value (to_exact) while
    lemma_f1_kernel(alpha=0.01) used 1/100 (shortest decimal): two different kernels."""
    target = FixedMemoryTarget((1,), LinearReadout([0, 1]))
    built = build_thm3_1(target, 32, alpha=0.01, gamma=0.01)
    direct = lemma_f1_kernel(1, 32, alpha=0.01, gamma=0.01)
    (kern,) = built.kernels
    assert kern.alpha == direct.alpha == R(0.01) and kern.gamma == direct.gamma == R(0.01)
    assert kern.exponents == direct.exponents and kern.coefficients == direct.coefficients
    assert any(c != 0 for c in direct.coefficients)
    # the documented defaults are exactly 1/100, reached by strings or Rationals
    default = build_thm3_1(target, 32)
    assert default.kernels[0].alpha == R(1, 100)
    assert default.kernels[0].coefficients == lemma_f1_kernel(1, 32, alpha="0.01", gamma="1/100").coefficients
    assert default.kernels[0].exponents != direct.exponents


def test_bounds_and_kernels_read_a_float_alike() -> None:
    assert bump_placement("lin", 5, alpha=0.01).alpha == delta_kernel("lin", 5, 4, alpha=0.01).alpha == R(0.01)


def test_to_float_rounds_correctly() -> None:
    for q in (R(1, 3), R(-2, 7), R(10 ** 30 + 1, 3), R(0.1)):
        assert rationals.to_float(q) == float(fractions.Fraction(int(q.p), int(q.q)))
