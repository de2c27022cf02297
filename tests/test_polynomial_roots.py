"""Certified real-root isolation with python-flint (theory/numerics/polynomial_roots.py)."""

from __future__ import annotations

from fractions import Fraction

import flint
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.theory.numerics.polynomial_roots import RootEnclosure, real_root_enclosures, to_fmpz_poly


def _value(coeffs, x: Fraction) -> Fraction:
    return sum(Fraction(c) * x ** i for i, c in enumerate(coeffs))


def test_known_roots_and_multiplicities() -> None:
    # (y - 1/3)^2 (y + 1/2) (y^2 - 2): roots -sqrt2, -1/2, 1/3 (double), sqrt2
    y = sympy.Symbol("y")
    p = sympy.Poly(sympy.expand((3 * y - 1) ** 2 * (2 * y + 1) * (y ** 2 - 2)), y)
    coeffs = [int(c) for c in reversed(p.all_coeffs())]
    roots = real_root_enclosures(coeffs, -2, 2)
    assert [r.multiplicity for r in roots] == [1, 1, 2, 1]
    assert roots[1].lower == roots[1].upper == Fraction(-1, 2)
    assert roots[2].lower <= Fraction(1, 3) <= roots[2].upper
    assert roots[3].lower ** 2 < 2 < roots[3].upper ** 2 and roots[3].width <= Fraction(1, 10 ** 40)
    # the open interval (-1/2, 2) drops the end root, the closed one keeps it
    assert len(real_root_enclosures(coeffs, Fraction(-1, 2), 2)) == 2
    closed = real_root_enclosures(coeffs, Fraction(-1, 2), 2, closed=True)
    assert len(closed) == 3 and closed[0].lower == closed[0].upper == Fraction(-1, 2)


def test_roots_at_interval_ends_and_outside() -> None:
    assert real_root_enclosures([-1, 0, 1], -1, 1) == ()                          # y^2 - 1: both ends
    assert len(real_root_enclosures([-1, 0, 1], -1, 1, closed=True)) == 2
    assert real_root_enclosures([1, 0, 1], -10, 10) == ()                          # no real root
    assert real_root_enclosures([-5, 1], 0, 4) == ()                               # root 5 outside


def test_rational_and_flint_inputs_agree() -> None:
    a = real_root_enclosures(["1/2", 0, "-3/4"], -1, 1)
    b = real_root_enclosures(flint.fmpz_poly([2, 0, -3]), -1, 1)
    c = real_root_enclosures(flint.fmpq_poly([flint.fmpq(1, 2), 0, flint.fmpq(-3, 4)]), "-1", "1")
    assert a == b == c and len(a) == 2
    assert str(to_fmpz_poly([0, 4, 6])) == "3*x^2 + 2*x"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=2, max_size=9).filter(lambda c: any(c[1:])),
       st.integers(-3, 0), st.integers(1, 3))
def test_enclosures_are_certified_and_complete(coeffs, lo, hi) -> None:
    """Each enclosure holds a sign change (or an exact root) of the square-free part, the enclosures are
    disjoint and inside the interval, and their number matches sympy's exact count of distinct roots."""
    roots = real_root_enclosures(coeffs, lo, hi)
    y = sympy.Symbol("y")
    p = sympy.Poly(list(reversed(coeffs)), y)
    sqf = sympy.Poly(sympy.quo(p, sympy.gcd(p, p.diff(y))), y)
    assert len(roots) == sqf.count_roots(lo, hi) - sum(1 for e in (lo, hi) if sqf.eval(e) == 0)
    for r in roots:
        assert Fraction(lo) < r.lower <= r.upper < Fraction(hi) and r.width <= Fraction(1, 10 ** 40)
        va, vb = sqf.eval(sympy.Rational(r.lower)), sqf.eval(sympy.Rational(r.upper))
        assert va * vb < 0 or (r.lower == r.upper and va == 0)
    for r0, r1 in zip(roots, roots[1:]):
        assert r0.upper < r1.lower


def test_width_option() -> None:
    wide = real_root_enclosures([-2, 0, 1], 0, 2, width=Fraction(1, 10))
    narrow = real_root_enclosures([-2, 0, 1], 0, 2, width=Fraction(1, 10 ** 100))
    assert wide[0].width <= Fraction(1, 10) and narrow[0].width <= Fraction(1, 10 ** 100)
    assert isinstance(narrow[0], RootEnclosure) and narrow[0].lower ** 2 < 2 < narrow[0].upper ** 2


@pytest.mark.parametrize("call, exc, word", [
    (lambda: real_root_enclosures([0, 0], -1, 1), ValueError, "non-zero"),
    (lambda: real_root_enclosures([1, 1], 1, -1), ValueError, "lower"),
    (lambda: real_root_enclosures([1, 1], -1, 1, width=0), ValueError, "width"),
    (lambda: real_root_enclosures([1, 1.5], -1, 1), TypeError, "coefficients"),
    (lambda: real_root_enclosures("1, 1", -1, 1), TypeError, "coefficients"),
    (lambda: real_root_enclosures([1, 1], 0.5, 1), TypeError, "lower"),
    (lambda: real_root_enclosures([1, 1], -1, 1, closed=1), TypeError, "closed"),
])
def test_bad_input(call, exc, word) -> None:
    with pytest.raises(exc, match=word):
        call()
