"""The one rational-conversion rule: how user input becomes an exact number (App. F parameters,
weights, kernel rates, token values).

Every exact number of tfapprox (``alpha``, ``gamma`` of Lemmas F.1-F.6, a kernel's ``beta``, a
readout weight, a token of a memory-function table) enters through :func:`to_exact`, and
every stricter helper (:func:`exact_rational`, :func:`require_positive_rational`) calls it, so
one value means one number everywhere:

* a Python ``int`` (or numpy integer) is that integer;
* a Python ``float`` (or numpy float) is **the exact binary value it holds**: ``0.01`` is
  ``5764607523034235/576460752303423488``, not ``1/100``.  That is the number the caller
  passed; a float never stands for the decimal that printed it;
* a ``str`` is read as the decimal or fraction it spells (``"0.01"`` is exactly ``1/100``,
  ``"1/3"`` is ``1/3``) after a strict ASCII pattern check, so that sympy never sympifies
  (evaluates) text;
* a ``fractions.Fraction`` (any ``numerator``/``denominator`` number) and a sympy ``Rational``
  are that rational; an ``mpmath.mpf`` is its exact dyadic value; a sympy ``Float`` is kept
  by :func:`to_exact` and becomes its exact binary rational in :func:`exact_rational`;
* booleans, NaN, infinities and complex values are refused naming the parameter.

So ``build_thm3_1(alpha=0.01)`` and ``lemma_f1_kernel(alpha=0.01)`` build the same kernel (the
one at the binary ``0.01``), and the documented defaults, exactly ``Rational(1, 100)``, are
reached by passing ``"0.01"``, ``"1/100"`` or ``sympy.Rational(1, 100)`` (the CLI passes its
option text, a string).  See docs/guarantees.md, "Numbers you pass in".

Converting back: :func:`to_float` (correctly rounded float64) and :func:`to_mpf` (mpmath at
the working precision).
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import mpmath
import numpy as np
import sympy

from .messages import short_repr

__all__ = ["to_exact", "exact_rational", "require_positive_rational", "to_float", "to_mpf"]

#: Strings accepted as exact numbers: a decimal with optional exponent, or a fraction of
#: integers.  Checked *before* sympy sees the text, which would otherwise sympify (eval)
#: anything that is not a plain number.
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+/[+-]?\d+", re.ASCII)


def _is_fraction_like(value: Any) -> bool:
    """A ``numerator``/``denominator`` number that is not an int, bool or sympy object."""
    return (isinstance(value, numbers.Rational) or (hasattr(value, "numerator") and hasattr(value, "denominator"))) \
        and not isinstance(value, (bool, int, sympy.Basic, np.integer))


def to_exact(name: str, value: Any) -> sympy.Expr:
    """Convert a number to an exact sympy number without a float detour (the one rule).

    Parameters
    ----------
    name : str
        The parameter's name, for error messages.
    value
        ``int``, ``float`` (its exact binary value), ``fractions.Fraction``-like numbers,
        ``mpmath.mpf`` (exact dyadic value), any sympy expression (passed unchanged, so
        ``sympy.Float`` stays a ``Float`` and free symbols are allowed for symbolic forward
        passes), or a decimal / ``p/q`` string (``"0.01"`` is exactly 1/100).

    Returns
    -------
    sympy.Expr
        The exact number.

    Raises
    ------
    TypeError
        Booleans and other types, naming ``name``.
    ValueError
        NaN, infinities, complex values and malformed strings, naming ``name``.

    Examples
    --------
    >>> to_exact("alpha", "0.01"), to_exact("alpha", 0.5), to_exact("alpha", 0.01) == sympy.Rational(1, 100)
    (1/100, 1/2, False)
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got the boolean {value}")
    if isinstance(value, sympy.Basic):
        expr = value
    elif isinstance(value, (int, np.integer)):
        expr = sympy.Integer(int(value))
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {float(value)}")
        expr = sympy.Rational(float(value))  # exact: sympy.Rational(float) is the binary value
    elif isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        man, exp = value.man_exp
        expr = sympy.Rational(int(man)) * sympy.Rational(2) ** int(exp) if man else sympy.Integer(0)
    elif isinstance(value, str):
        text = value.strip()
        if not _NUMBER_TEXT.fullmatch(text):
            raise ValueError(f"{name} must be a decimal number or a fraction p/q, got {short_repr(value)}")
        try:
            expr = sympy.Rational(text)
        except (TypeError, ValueError, SyntaxError, ZeroDivisionError) as exc:
            raise ValueError(f"{name} must be a decimal number or a fraction p/q with q != 0, "
                             f"got {short_repr(value)}") from exc
    elif _is_fraction_like(value):
        expr = sympy.Rational(int(value.numerator), int(value.denominator))
    else:
        raise TypeError(f"{name} must be a number, got {short_repr(value)} of type {type(value).__name__}")
    if expr.has(sympy.nan) or expr.has(sympy.zoo) or expr.has(sympy.oo) or expr.has(-sympy.oo):
        raise ValueError(f"{name} must be finite, got {expr}")
    if expr.is_real is False:
        raise ValueError(f"{name} must be real, got {expr}")
    return expr


def exact_rational(name: str, value: Any) -> sympy.Rational:
    """Return ``value`` as an exact sympy ``Rational`` (:func:`to_exact`, then a rational check).

    Accepted: ``int``, ``float`` (its exact binary value), ``fractions.Fraction``-like
    numbers, ``mpmath.mpf`` (exact binary value), sympy ``Integer``/``Rational``/``Float``
    and decimal or ``p/q`` strings.  NaN/inf raise ``ValueError``; booleans, exact
    irrationals (``sqrt(2)``) and symbols raise ``TypeError`` naming ``name``.

    >>> exact_rational("w", "0.1"), exact_rational("w", 0.5), exact_rational("w", "1/3")
    (1/10, 1/2, 1/3)
    """
    expr = to_exact(name, value)
    if isinstance(expr, sympy.Float):
        expr = sympy.Rational(expr)
    if not isinstance(expr, sympy.Rational):
        raise TypeError(f"{name} must be a rational number, a float or a decimal string, got "
                        f"{short_repr(value)} (exact irrationals and symbols are not supported "
                        f"here: pass a Rational or a float)")
    return expr


def require_positive_rational(name: str, value: Any) -> sympy.Rational:
    """Return ``value`` as an exact positive ``sympy.Rational`` (:func:`exact_rational`, then ``> 0``).

    The conversion is the module's one rule: a ``float`` is its exact binary value (``0.01`` is
    *not* ``1/100``; pass ``"0.01"`` or ``sympy.Rational(1, 100)`` for the decimal).  Booleans,
    NaN, infinities, irrational sympy numbers and other types are refused; zero and negative
    values raise ``ValueError`` naming the parameter.

    >>> require_positive_rational("alpha", "0.01"), require_positive_rational("alpha", 0.25)
    (1/100, 1/4)
    >>> require_positive_rational("alpha", 0.01) == exact_rational("alpha", 0.01)
    True
    """
    result = exact_rational(name, value)
    if not result > 0:
        raise ValueError(f"{name} must be > 0, got {result}")
    return result


def to_float(value: Any) -> float:
    """Correctly rounded float64 of an exact rational (Python's int division rounds correctly).

    >>> to_float(sympy.Rational(1, 3)) == 1 / 3
    True
    """
    return int(value.p) / int(value.q)


def to_mpf(value: Any) -> mpmath.mpf:
    """Lower an exact rational to ``mpmath.mpf`` at the current working precision."""
    value = sympy.Rational(value)
    return mpmath.mpf(int(value.p)) / int(value.q)
