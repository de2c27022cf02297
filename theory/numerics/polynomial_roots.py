"""Certified isolation of the real roots of an integer or rational polynomial (python-flint).

The explicit bounds of Lemmas F.1-F.6 (Wang & E 2024, App. F) need the extrema of the bump
derivatives ``Psi^{(k)}``, i.e. the real roots of integer polynomials ``p_{k+1}`` in ``(-1, 1)``
(:mod:`tfapprox.theory.bump`).  This module isolates such roots rigorously:

1. the polynomial is made primitive over the integers and split into square-free factors
   (``fmpz_poly.factor_squarefree``: exact integer arithmetic);
2. each factor's roots are isolated by FLINT's ``arb_fmpz_poly_complex_roots``
   (``fmpz_poly.complex_roots``): disjoint complex balls, each holding exactly one root, the
   real roots returned first with an imaginary part that is exactly zero;
3. every real root enclosure is turned into an exact rational interval ``[a, b]`` and
   *certified independently* by a sign change of the square-free factor, evaluated exactly
   in rational arithmetic (``f(a) f(b) < 0``; a root at a rational point is certified by
   ``f(a) = 0`` with ``a = b``);
4. the working precision is doubled until every enclosure is narrower than ``width`` and
   decides whether its root lies inside the requested interval.

Measured (issue 14) for ``p_{k+1}`` of the bump: sympy's exact isolation took 1.8 / 14.3 /
48 s at ``k = 8 / 14 / 21``, this path takes milliseconds (see
:func:`real_root_enclosures`).

Examples
--------
>>> from fractions import Fraction
>>> roots = real_root_enclosures([-2, 0, 1], -2, 2)          # y^2 - 2
>>> [(float(r.lower), float(r.upper)) for r in roots]         # doctest: +ELLIPSIS
[(-1.41421356237309..., -1.41421356237309...), (1.41421356237309..., 1.41421356237309...)]
>>> real_root_enclosures([0, -2], -1, 1)[0].lower               # -2 y: the root 0, exactly
Fraction(0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import flint

from ..validation import short_repr

__all__ = ["RootEnclosure", "real_root_enclosures", "to_fmpz_poly"]

#: Working precision (bits) of the first isolation attempt; it doubles up to :data:`MAX_PREC`.
START_PREC = 128
#: Largest working precision tried before giving up (``ArithmeticError``).
MAX_PREC = 1 << 16


@dataclass(frozen=True)
class RootEnclosure:
    """An exact rational interval ``[lower, upper]`` holding exactly one real root of a polynomial.

    Attributes
    ----------
    lower, upper : fractions.Fraction
        The enclosure (``lower == upper`` for a root known exactly, e.g. a rational root).
    multiplicity : int
        The root's multiplicity in the input polynomial.
    """

    lower: Fraction
    upper: Fraction
    multiplicity: int

    @property
    def midpoint(self) -> Fraction:
        """``(lower + upper) / 2``."""
        return (self.lower + self.upper) / 2

    @property
    def width(self) -> Fraction:
        """``upper - lower``."""
        return self.upper - self.lower


def _fraction(name: str, value: Any) -> Fraction:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a rational number, got {short_repr(value)}")
    if isinstance(value, flint.fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, flint.fmpz):
        return Fraction(int(value))
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if hasattr(value, "p") and hasattr(value, "q"):  # sympy.Rational / Integer
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, str):
        try:
            return Fraction(value)
        except (ValueError, ZeroDivisionError):
            pass
    raise TypeError(f"{name} must be an exact rational (int, Fraction, sympy.Rational or a string such as '1/3'),"
                    f" got {short_repr(value)}")


def to_fmpz_poly(coefficients: Any) -> flint.fmpz_poly:
    """The primitive integer polynomial with the same roots as ``coefficients``.

    ``coefficients`` is an ``fmpz_poly``, an ``fmpq_poly`` or a sequence of exact rationals in
    *ascending* degree (constant term first).  Denominators are cleared and the content divided
    out; the sign is normalised to a positive leading coefficient.

    >>> to_fmpz_poly(["1/2", 0, "-3/4"])
    3*x^2 + (-2)
    """
    if isinstance(coefficients, flint.fmpz_poly):
        p = coefficients
    else:
        if isinstance(coefficients, flint.fmpq_poly):
            q = coefficients
        else:
            if isinstance(coefficients, (str, bytes)) or not isinstance(coefficients, Sequence):
                raise TypeError("coefficients must be an fmpz_poly, an fmpq_poly or a sequence of exact rationals "
                                f"(constant term first), got {short_repr(coefficients)}")
            fr = [_fraction(f"coefficients[{i}]", c) for i, c in enumerate(coefficients)]
            q = flint.fmpq_poly([flint.fmpq(c.numerator, c.denominator) for c in fr])
        den = q.denom()
        p = flint.fmpz_poly([int((c * den).p) for c in q.coeffs()])
    if p.is_zero():
        raise ValueError("coefficients must describe a non-zero polynomial (every point is a root of 0)")
    content = p.content()
    if p.leading_coefficient() < 0:
        content = -content
    return flint.fmpz_poly([int(c) // int(content) for c in p.coeffs()])


def _exact(x: flint.arb) -> Fraction:
    """An exact (radius-0) ``arb`` as a Fraction (``mid()`` / ``rad()`` of a ball are exact)."""
    if not x.is_exact():
        raise ArithmeticError(f"expected an exact arb, got {x}")
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


def _sign_at(poly: flint.fmpz_poly, x: Fraction) -> int:
    """Certified sign of ``poly(x)``: a ball evaluation (``arb``) when it excludes 0, else exact rational arithmetic."""
    q = flint.fmpq(x.numerator, x.denominator)
    old = flint.ctx.prec
    try:
        for prec in (256, 2048):
            flint.ctx.prec = prec
            value = flint.arb_poly(poly)(flint.arb(q))  # a ball holding the exact value
            if value > 0:
                return 1
            if value < 0:
                return -1
    finally:
        flint.ctx.prec = old
    exact = flint.fmpq_poly(poly)(q)
    return (exact > 0) - (exact < 0)


def _isolate(factor: flint.fmpz_poly, prec: int) -> list[tuple[Fraction, Fraction]] | None:
    """Rational enclosures of the real roots of a square-free ``factor`` at ``prec`` bits, each certified
    by an exact sign change (or an exact zero); ``None`` if a certificate fails at this precision."""
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        balls = [z for z, _m in factor.complex_roots() if z.imag.is_zero()]
    finally:
        flint.ctx.prec = old
    out = []
    for z in balls:
        mid, rad = _exact(z.real.mid()), _exact(z.real.rad())  # both exact: no rounding at ctx.prec
        lo, hi = mid - rad, mid + rad
        s_lo, s_hi = _sign_at(factor, lo), _sign_at(factor, hi)
        if lo == hi and s_lo == 0:
            out.append((lo, hi))
        elif s_lo == 0 or s_hi == 0:  # a rational root on the edge of a wider ball: pin it down
            out.append((lo, lo) if s_lo == 0 else (hi, hi))
        elif s_lo * s_hi < 0:
            out.append((lo, hi))
        else:
            return None
    return out


def real_root_enclosures(coefficients: Any, lower: Any, upper: Any, *, width: Any = Fraction(1, 10 ** 40),
                         closed: bool = False) -> tuple[RootEnclosure, ...]:
    """Certified enclosures of the real roots of a polynomial in ``(lower, upper)`` (``[lower, upper]`` if ``closed``).

    Parameters
    ----------
    coefficients : fmpz_poly, fmpq_poly or sequence of rationals
        The polynomial, constant term first (see :func:`to_fmpz_poly`); must not be zero.
    lower, upper : rational
        The interval (exact: ints, Fractions, sympy Rationals or strings such as ``"-1"``), ``lower < upper``.
    width : rational, optional
        Largest width ``upper - lower`` of a returned enclosure (default ``1e-40``).
    closed : bool, optional
        Whether roots at ``lower`` / ``upper`` themselves count.

    Returns
    -------
    tuple of RootEnclosure
        Sorted by position; each holds exactly one root (with its multiplicity), distinct
        roots have disjoint enclosures, and every enclosure lies inside the interval.

    Raises
    ------
    ValueError
        For ``lower >= upper``, ``width <= 0`` or the zero polynomial.
    ArithmeticError
        If the roots cannot be separated from the interval ends at :data:`MAX_PREC` bits.

    Examples
    --------
    >>> [float(r.midpoint) for r in real_root_enclosures([0, 0, 1], -1, 1)]   # y^2: 0, double
    [0.0]
    >>> real_root_enclosures([0, 0, 1], -1, 1)[0].multiplicity
    2
    """
    lo, hi = _fraction("lower", lower), _fraction("upper", upper)
    if not lo < hi:
        raise ValueError(f"lower must be < upper, got lower={short_repr(lower)}, upper={short_repr(upper)}")
    w = _fraction("width", width)
    if w <= 0:
        raise ValueError(f"width must be > 0, got {short_repr(width)}")
    if not isinstance(closed, bool):
        raise TypeError(f"closed must be a bool, got {short_repr(closed)}")
    poly = to_fmpz_poly(coefficients)
    _content, factors = poly.factor_squarefree()
    found: list[RootEnclosure] = []
    for factor, mult in factors:
        if factor.degree() < 1:
            continue
        # complex_roots aims at `prec` relative bits: ask for enough to reach `width` at once
        prec = max(START_PREC, w.denominator.bit_length() - w.numerator.bit_length() + 16)
        while True:
            if prec > MAX_PREC:
                raise ArithmeticError(f"real_root_enclosures: roots of {factor} not resolved at {MAX_PREC} bits")
            enclosures = _isolate(factor, prec)
            prec *= 2
            if enclosures is None:
                continue
            decided = []
            for a, b in enclosures:
                if b - a > w:
                    break
                if b < lo or a > hi:
                    continue  # outside
                if lo < a and b < hi:
                    decided.append((a, b))
                elif _sign_at(factor, lo if a <= lo else hi) == 0:
                    # the enclosure touches an end that is a root: that end is its only root
                    if closed:
                        end = lo if a <= lo else hi
                        decided.append((end, end))
                else:
                    break  # undecided: refine at a higher precision
            else:
                found += [RootEnclosure(a, b, int(mult)) for a, b in decided]
                break
    return tuple(sorted(found, key=lambda r: r.lower))
