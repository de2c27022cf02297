"""Exact numbers: conversion, exact text, and parsing (one source of truth).

Every weight, lag and parameter of tfapprox is an exact sympy number.  This module

* re-exports the one rule that converts user input to exact numbers
  (:func:`to_exact`, :func:`exact_rational`, defined in :mod:`tfapprox.theory.rationals`):
  **a Python float is the exact binary value it holds** (``0.01`` is not ``1/100``), an
  ``mpmath.mpf`` its exact dyadic value, and a string is parsed as the decimal or ``p/q`` it
  spells (``"0.01"`` is exactly ``1/100``) after a strict ASCII pattern check, so that
  sympy never sympifies (evaluates) text; ints, ``Fraction``s and sympy Rationals are
  themselves.  The same rule serves every ``require_*rational`` helper, so one value means
  one number everywhere (docs/guarantees.md, "Numbers you pass in");
* writes exact numbers as text (:func:`format_number`): integers, exact finite decimals
  (denominator ``2^a 5^b``, so every float64 is written in full), ``p/q`` otherwise, and
  other expressions rounded to a stated number of digits;
* reads that text back (:func:`parse_number`), with a strict grammar, without evaluating
  anything.

Model files (``tfapprox.verify.model_file``) and target descriptions
(``tfapprox.theory.targets``) use these functions.
"""

from __future__ import annotations

import math
import re
from typing import Any

import mpmath
import numpy as np
import sympy
from mpmath.libmp import to_str as _mpf_to_str

from .messages import short_repr
from .rationals import exact_rational, to_exact, to_float, to_mpf
from .validation import require_int

__all__ = [
    "DEFAULT_DIGITS",
    "NUMBER_PATTERN",
    "MAX_EXPONENT",
    "MAX_NUMBER_LENGTH",
    "to_exact",
    "exact_rational",
    "to_mpf",
    "to_float",
    "format_number",
    "is_exact_number",
    "parse_number",
    "parse_decimal",
    "PLAIN_DECIMAL",
    "rational_to_str",
    "rational_from_str",
]

#: Significant digits of lowered (irrational/symbolic) parameters when neither the
#: ``digits`` argument nor ``spec.metadata["precision_digits"]`` says otherwise.
DEFAULT_DIGITS = 50

#: Guard digits of the ``evalf`` that precedes rounding to ``digits`` digits.
_GUARD_DIGITS = 10

#: Largest decimal exponent written in a number string (``|e| <= MAX_EXPONENT`` in
#: ``"1.5e-300"``); with :data:`MAX_NUMBER_LENGTH` it bounds the work of reading one number.
MAX_EXPONENT = 100_000

#: Longest number string accepted (characters); the same bound applies when writing.
MAX_NUMBER_LENGTH = 200_000

#: The number grammar, matched against the whole string (``re.fullmatch``, ASCII only):
#: an optional ``-``, then either a fraction ``p/q`` (``q >= 1``, no leading zeros) or
#: a decimal ``int[.frac][e|E[+|-]exp]`` (no leading zeros in ``int``, at least one
#: digit after a ``.``).  ``nan``, ``inf``, ``+1``, ``.5``, ``5.``, ``1e``, spaces,
#: hexadecimal and expressions do not match.
NUMBER_PATTERN = (
    r"(?P<sign>-)?(?:"
    r"(?P<num>0|[1-9][0-9]*)/(?P<den>[1-9][0-9]*)"
    r"|(?P<int>0|[1-9][0-9]*)(?:\.(?P<frac>[0-9]+))?(?:[eE](?P<exp>[+-]?[0-9]{1,9}))?"
    r")"
)
_NUMBER_RE = re.compile(NUMBER_PATTERN, re.ASCII)


# --------------------------------------------------------------------------- integers
# Python >= 3.11 refuses int <-> str conversions beyond 4300 digits by default
# (sys.get_int_max_str_digits).  Exact weights can be longer, so convert by halves
# instead of changing that process-wide setting.
_CHUNK = 4000


def _int_to_str(n: int) -> str:
    if n < 0:
        return "-" + _int_to_str(-n)
    if n.bit_length() <= 3 * _CHUNK:  # < 10**(0.9 * 4000) digits
        return str(n)
    k = (n.bit_length() * 3) // 20  # about half the decimal digits
    hi, lo = divmod(n, 10 ** k)
    return _int_to_str(hi) + _int_to_str(lo).rjust(k, "0")


def _str_to_int(s: str) -> int:
    """Decimal digit string (ASCII, no sign) to int, for any length."""
    if len(s) <= _CHUNK:
        return int(s)
    k = len(s) // 2
    return _str_to_int(s[:-k]) * 10 ** k + _str_to_int(s[-k:])


# ---------------------------------------------------------------------------- numbers
def _exact_rational(value: Any) -> sympy.Rational | None:
    """The exact rational value of ``value`` if it is a sympy Rational or Float, else None."""
    if isinstance(value, sympy.Rational):
        return value
    if isinstance(value, sympy.Float):
        sign, man, exp, _ = value._mpf_
        if not man:
            if exp:  # mpmath encodes nan/inf as zero mantissa with a nonzero exponent
                raise ValueError(f"non-finite number {value}")
            return sympy.Integer(0)
        mag = sympy.Integer(man) * sympy.Integer(2) ** exp
        return -mag if sign else mag
    return None


def _format_rational(r: sympy.Rational) -> str:
    """Exact text of a rational: integer, finite decimal (denominator 2^a 5^b), or p/q."""
    p, q = int(r.p), int(r.q)
    if q == 1:
        return _int_to_str(p)
    a = (q & -q).bit_length() - 1  # power of 2 in q
    rest = q >> a
    b = 0
    while rest % 5 == 0:
        rest //= 5
        b += 1
    if rest != 1:
        return f"{_int_to_str(p)}/{_int_to_str(q)}"
    k = max(a, b)
    # p/q = N * 10^-k with N an integer; N has no trailing zero because p/q is reduced.
    n = abs(p) * 2 ** (k - a) * 5 ** (k - b)
    digits = _int_to_str(n)
    sign = "-" if p < 0 else ""
    adjusted = len(digits) - 1 - k  # exponent of the leading digit
    if -7 <= adjusted < 21:
        if k >= len(digits):
            return f"{sign}0.{'0' * (k - len(digits))}{digits}"
        return f"{sign}{digits[:-k]}.{digits[-k:]}"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{adjusted}"


# ------------------------------------------------------------- certified fast lowering
#: Extra working bits of the ball evaluation beyond ``(digits + guard) * log2(10)``.
_BALL_MARGIN_BITS = 64

#: Attempts of the ball evaluation; each retry adds the bits the previous one lost
#: (cancellation, as in ``1 - exp(-beta)`` for small ``beta``).
_BALL_ATTEMPTS = 3

#: Statistics of :func:`_lower` (``"ball"``: fast path accepted; ``"sympy"``: evalf path),
#: for tests and benchmarks.
LOWERING_COUNTS = {"ball": 0, "sympy": 0}


class _NotBallable(Exception):
    """The expression contains a node the ball evaluator does not handle."""


def _arb_eval(expr: sympy.Expr, cache: dict) -> Any:
    """Enclose the exact value of ``expr`` in a ball (python-flint ``arb``, current ``ctx.prec``).

    Every rule below maps a sympy node to the Arb operation that returns a ball containing
    the exact result whenever the input balls contain the exact inputs (Arb's containment
    guarantee), so the returned ball contains the exact value of ``expr``.  A node type
    not listed raises :class:`_NotBallable`; a result that Arb cannot enclose (a negative
    argument of ``log``/``sqrt``, a pole) comes back as a non-finite ball.
    """
    from flint import arb, fmpq, fmpz

    hit = cache.get(expr)
    if hit is not None:
        return hit
    if isinstance(expr, sympy.Rational):
        out = arb(fmpz(int(expr.p))) if expr.q == 1 else arb(fmpq(int(expr.p), int(expr.q)))
    elif isinstance(expr, sympy.Float):
        exact = _exact_rational(expr)
        out = arb(fmpq(int(exact.p), int(exact.q)))
    elif expr is sympy.pi:
        out = arb.pi()
    elif expr is sympy.E:
        out = arb.const_e()
    elif expr is sympy.EulerGamma:
        out = arb.const_euler()
    elif expr is sympy.Catalan:
        out = arb.const_catalan()
    elif isinstance(expr, sympy.Add):
        out = arb(0)
        for term in expr.args:
            out = out + _arb_eval(term, cache)
    elif isinstance(expr, sympy.Mul):
        out = arb(1)
        for factor in expr.args:
            out = out * _arb_eval(factor, cache)
    elif isinstance(expr, sympy.Pow):
        base, e = expr.args
        b = _arb_eval(base, cache)
        if isinstance(e, sympy.Integer):
            n = int(e)
            if n < 0:
                out = 1 / (b ** (-n)) if abs(n) <= 1 << 20 else _raise_not_ballable(expr)
            else:
                out = b ** n if n <= 1 << 20 else _raise_not_ballable(expr)
        elif isinstance(e, sympy.Rational) and e.q == 2:
            # x^(p/2) = sqrt(x)^p: real (and what evalf returns) only for x >= 0; Arb's
            # sqrt of a ball reaching below 0 is non-finite, which sends us to evalf.
            root = b.sqrt()
            n = int(e.p)
            out = root ** n if n > 0 else 1 / (root ** (-n))
        elif isinstance(e, sympy.Rational) or e.is_number:
            # General real power b^e = exp(e log b): defined (real) for b > 0 only; Arb's
            # pow returns a non-finite ball when b may be <= 0.
            if not b > 0:
                raise _NotBallable(expr)
            out = b ** _arb_eval(e, cache)
        else:
            raise _NotBallable(expr)
    elif isinstance(expr, sympy.Abs):
        out = abs(_arb_eval(expr.args[0], cache))
    elif isinstance(expr, sympy.exp):
        out = _arb_eval(expr.args[0], cache).exp()
    elif isinstance(expr, sympy.log) and len(expr.args) == 1:
        out = _arb_eval(expr.args[0], cache).log()
    elif isinstance(expr, sympy.zeta):
        s = _arb_eval(expr.args[0], cache)
        if len(expr.args) == 1:
            out = s.zeta()
        else:
            a = _arb_eval(expr.args[1], cache)
            if not a > 0:  # sympy/mpmath and Arb agree for a > 0; anything else goes to evalf
                raise _NotBallable(expr)
            out = s.zeta(a)
    else:
        raise _NotBallable(expr)
    if not out.is_finite():
        raise _NotBallable(expr)
    cache[expr] = out
    return out


def _raise_not_ballable(expr: sympy.Expr) -> Any:
    raise _NotBallable(expr)


def _fmpq_pow10(k: int) -> Any:
    """``10^k`` as an exact python-flint ``fmpq``."""
    from flint import fmpq

    return fmpq(10 ** k) if k >= 0 else fmpq(1, 10 ** (-k))


def _dyadic_of_exact_arb(x: Any) -> tuple[int, int]:
    """``(m, e)`` with ``m 2^e`` the exact value of an exact ``arb`` (zero radius)."""
    man, exp = x.man_exp()
    return int(man), int(exp)


def _round_half_up(m: int, e: int, digits: int) -> tuple[int, int]:
    """Round ``x = m 2^e > 0`` half up to ``digits`` significant decimal digits, exactly.

    Returns ``(N, k)`` with ``10^(digits-1) <= N < 10^digits`` and the rounded value
    ``N 10^(k - digits + 1)`` (``k`` is the decimal exponent of its leading digit).
    Integer arithmetic only.
    """
    def scaled(s: int) -> tuple[int, int]:  # x 10^s as num/den
        num, den = m, 1
        if e >= 0:
            num <<= e
        else:
            den <<= -e
        if s >= 0:
            num *= 10 ** s
        else:
            den *= 10 ** (-s)
        return num, den

    # k = floor(log10 x): estimate from the bit length, then correct exactly
    k = math.floor((m.bit_length() + e - 1) * math.log10(2))
    while True:
        num, den = scaled(-k)  # x 10^-k must lie in [1, 10)
        if num < den:
            k -= 1
        elif num >= 10 * den:
            k += 1
        else:
            break
    num, den = scaled(digits - 1 - k)
    N = (2 * num + den) // (2 * den)
    if N == 10 ** digits:
        N, k = 10 ** (digits - 1), k + 1
    return N, k


def _format_like_to_str(negative: bool, N: int, k: int, dps: int) -> str:
    """The text ``mpmath.libmp.to_str(x, dps)`` writes for an ``x`` whose digits it rounds to
    ``N`` (``dps`` digits) with leading-digit exponent ``k`` (mpmath's defaults: fixed
    notation for ``min(-(dps // 3), -5) < k < dps``, trailing zeros stripped)."""
    digits = _int_to_str(N)
    exponent = k
    min_fixed, max_fixed = min(-(dps // 3), -5), dps
    if min_fixed < exponent < max_fixed:
        if exponent < 0:
            digits = "0" * (-exponent) + digits
            split = 1
        else:
            split = exponent + 1
            if split > dps:
                digits += "0" * (split - dps)
        exponent = 0
    else:
        split = 1
    digits = (digits[:split] + "." + digits[split:]).rstrip("0")
    if digits[-1] == ".":
        digits += "0"
    sign = "-" if negative else ""
    if exponent == 0:
        return sign + digits
    return f"{sign}{digits}e+{exponent}" if exponent > 0 else f"{sign}{digits}e{exponent}"


def _lower_ball(expr: sympy.Expr, digits: int) -> str | None:
    """Fast certified lowering: the text the evalf path writes, or None when not certain.

    The evalf path (:func:`_lower_sympy`) writes ``to_str(v, digits)`` (mpmath) for the
    binary number ``v`` that ``evalf(digits + guard, strict=True)`` returns, ``v`` within
    relative ``10^-(digits+guard)`` of the exact value ``x``.  Here:

    1. ``x`` is enclosed in a ball :math:`B` by :func:`_arb_eval` (Arb's containment
       guarantee) at ``(digits + guard) * log2(10) + margin`` bits, retried with the bits
       lost to cancellation; the ball must have relative radius below
       ``2^-8 10^-(digits+guard)``, and must not contain 0.
    2. :math:`B` is widened by the relative amount ``t = 10^-(digits+guard-1)`` (ten times
       the evalf tolerance): the result :math:`V` contains every possible ``v``.
    3. ``to_str(v, d)`` truncates ``|v|`` to a decimal ``w`` (via a binary fixed-point
       number at ``(d+3) log2(10) + 10`` bits, and for binary exponents beyond 3500 after
       a division by a rounded power of ten) and rounds ``w``'s digit string half up to
       ``d`` digits.  Those steps change ``|v|`` by less than ``0.07 10^-(d+3)``
       relative (each of the truncations and round-down divisions costs at most
       ``2^-(p-1)``, ``p >= (d+3) log2(10) + 9``, and the decimal truncation at most 4.2
       units of a last place ``<= |v| 10^-(d+3)/80``), so ``w`` lies in :math:`W`, which is
       :math:`V` widened by ``eps = 10^-(d+4)`` relative.
    4. If exact half-up rounding (:func:`_round_half_up`, integer arithmetic) of both ends
       of :math:`|W|` gives the same ``d`` digits and exponent, every point of :math:`W`
       does (rounding is monotone), so ``to_str(v, d)`` is those digits, laid out as
       ``to_str`` lays them out (:func:`_format_like_to_str`).

    It therefore declines (returns None, the caller falls back to evalf) when the value
    lies within about ``10^-(d+4)`` relative of a half-way point of the ``d``-digit grid
    (probability about ``2 10^-4`` for a value in general position), for unknown nodes and
    for values Arb cannot enclose narrowly (zero, non-real, too much cancellation).
    """
    from flint import arb, ctx

    target_bits = int(math.ceil((digits + _GUARD_DIGITS) * math.log2(10)))
    old_prec = ctx.prec
    prec = target_bits + _BALL_MARGIN_BITS
    try:
        for _ in range(_BALL_ATTEMPTS):
            ctx.prec = prec
            try:
                ball = _arb_eval(expr, {})
            except _NotBallable:
                return None
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                return None
            if ball.is_zero() or ball.contains(0):
                return None
            accuracy = ball.rel_accuracy_bits()
            if accuracy >= target_bits + 8:
                break
            # Cancellation lost ``prec - accuracy`` bits; retry with that many more.
            prec += max(prec - accuracy, 32)
        else:
            return None
        evalf_tolerance = arb(1, arb(_fmpq_pow10(-(digits + _GUARD_DIGITS - 1))))
        to_str_tolerance = arb(1, arb(_fmpq_pow10(-(digits + 4))))
        wide = ball * evalf_tolerance * to_str_tolerance
        if wide.contains(0):
            return None
        negative = wide < 0
        if negative:
            wide = -wide
        lo, hi = _dyadic_of_exact_arb(wide.lower()), _dyadic_of_exact_arb(wide.upper())
    finally:
        ctx.prec = old_prec
    for m, e in (lo, hi):
        # beyond +-4 MAX_EXPONENT bits the text would be refused anyway (its decimal exponent
        # exceeds MAX_EXPONENT); leave such values, and their error message, to evalf
        if abs(m.bit_length() + e) > 4 * MAX_EXPONENT:
            return None
    rounded = _round_half_up(*lo, digits)
    if _round_half_up(*hi, digits) != rounded:
        return None
    return _format_like_to_str(negative, *rounded, digits)


def _lower(expr: sympy.Expr, digits: int, where: str) -> str:
    """``expr`` rounded to ``digits`` significant decimal digits, as number text.

    Tries the certified ball-arithmetic path (:func:`_lower_ball`) first and falls back
    to sympy's ``evalf(digits + guard, strict=True)`` when that path cannot certify the
    text; both give the same text whenever the ball path answers.
    """
    if expr.free_symbols:
        names = ", ".join(sorted(str(s) for s in expr.free_symbols))
        raise ValueError(f"{where} = {short_repr(expr)} has free symbols ({names}); a model file "
                         f"holds numbers only: substitute values before saving")
    text = _lower_ball(expr, digits)
    if text is not None:
        LOWERING_COUNTS["ball"] += 1
        return _format_rational(parse_number(text))
    LOWERING_COUNTS["sympy"] += 1
    return _lower_sympy(expr, digits, where)


def _lower_sympy(expr: sympy.Expr, digits: int, where: str) -> str:
    """The evalf path of :func:`_lower` (reference; also the fallback)."""
    try:
        value = sympy.Expr.evalf(expr, digits + _GUARD_DIGITS, strict=True)
    except sympy.core.evalf.PrecisionExhausted as exc:
        if expr.equals(0) is True:
            return "0"
        raise ValueError(f"{where} = {short_repr(expr)} cannot be evaluated to {digits} significant "
                         f"digits (sympy evalf: {exc}); simplify it before saving") from exc
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"{where} = {short_repr(expr)} cannot be evaluated to a number: {exc}") from exc
    if not isinstance(value, sympy.Float) or not mpmath.isfinite(mpmath.mpf(value._mpf_)):
        raise ValueError(f"{where} = {short_repr(expr)} is not a finite real number (evaluates to "
                         f"{short_repr(value)})")
    text = _mpf_to_str(value._mpf_, digits)
    return _format_rational(parse_number(text))


def format_number(value: Any, *, digits: int = DEFAULT_DIGITS, where: str = "value") -> str:
    """The model-file text of one exact number, following the exactness rule.

    Parameters
    ----------
    value
        A sympy number or expression (as held by a spec), or a Python ``int``.
    digits
        Significant digits for values that are not rational (lowered values).
    where
        Name of the parameter, for error messages.

    Returns
    -------
    str
        Exact text for integers, sympy ``Rational`` and ``Float`` values (decimal when the
        denominator is ``2^a 5^b``, else ``p/q``); otherwise the value rounded to ``digits``
        significant digits.  Use :func:`is_exact_number` to tell the two cases apart.

    Raises
    ------
    ValueError
        Free symbols, non-finite or non-real values, or text longer than
        :data:`MAX_NUMBER_LENGTH` / an exponent beyond :data:`MAX_EXPONENT`.
    """
    require_int("digits", digits, minimum=1)
    if isinstance(value, bool):
        raise TypeError(f"{where} must be a number, got the boolean {value}")
    if isinstance(value, int):
        value = sympy.Integer(value)
    if not isinstance(value, sympy.Expr):
        raise TypeError(f"{where} must be a sympy number or int, got {short_repr(value)} "
                        f"of type {type(value).__name__}")
    exact = _exact_rational(value)
    text = _format_rational(exact) if exact is not None else _lower(value, digits, where)
    _check_limits(text, where)
    return text


def is_exact_number(value: Any) -> bool:
    """True when :func:`format_number` writes ``value`` exactly (int, Rational, Float)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(
        value, (sympy.Rational, sympy.Float))


def _check_limits(text: str, where: str) -> None:
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(f"{where}: its exact text has {len(text)} characters, more than the "
                         f"{MAX_NUMBER_LENGTH} a model file allows")
    m = _NUMBER_RE.fullmatch(text)
    if m is None or (m["exp"] is not None and abs(int(m["exp"])) > MAX_EXPONENT):
        raise ValueError(f"{where}: {short_repr(text)} has a decimal exponent beyond "
                         f"+-{MAX_EXPONENT}, which a model file does not allow")


def parse_number(text: Any, where: str = "value") -> sympy.Rational:
    """Parse one number string of the model-file grammar to an exact sympy number.

    Only :data:`NUMBER_PATTERN` is accepted (``re.fullmatch``); the matched digit
    strings become Python ints and then ``sympy.Integer`` / ``sympy.Rational``.  Nothing
    is evaluated.

    Raises
    ------
    TypeError
        ``text`` is not a string.
    ValueError
        ``text`` does not match the grammar, is longer than :data:`MAX_NUMBER_LENGTH`
        or has an exponent beyond :data:`MAX_EXPONENT`; the message names ``where``.
    """
    if not isinstance(text, str):
        raise TypeError(f"{where} must be a number string (integer, decimal or p/q), got "
                        f"{short_repr(text)} of type {type(text).__name__}")
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(f"{where} is a number string of {len(text)} characters, more than the "
                         f"{MAX_NUMBER_LENGTH} allowed")
    m = _NUMBER_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"{where} must be an integer ('-3'), a decimal ('0.0125', '1.5e-300') or "
                         f"a fraction ('1/3'); got {short_repr(text)}")
    negative = m["sign"] is not None
    if m["num"] is not None:
        value = sympy.Rational(_str_to_int(m["num"]), _str_to_int(m["den"]))
    else:
        frac = m["frac"] or ""
        written_exp = int(m["exp"]) if m["exp"] is not None else 0
        if abs(written_exp) > MAX_EXPONENT:
            raise ValueError(f"{where}: {short_repr(text)} has a decimal exponent beyond "
                             f"+-{MAX_EXPONENT}, which a model file does not allow")
        exp10 = written_exp - len(frac)
        mantissa = _str_to_int(m["int"] + frac)
        if mantissa == 0:
            value = sympy.Integer(0)
        else:
            if exp10 >= 0:
                value = sympy.Integer(mantissa * 10 ** exp10)
            else:
                value = sympy.Rational(mantissa, 10 ** (-exp10))
    return -value if negative else value


def rational_to_str(value: Any) -> str:
    """Exact text of a rational number (:func:`format_number` of :func:`exact_rational`).

    >>> rational_to_str(sympy.Rational(1, 3)), rational_to_str(0.5), rational_to_str(-4)
    ('1/3', '0.5', '-4')
    """
    return format_number(exact_rational("value", value))


def rational_from_str(name: str, text: Any) -> sympy.Rational:
    """Inverse of :func:`rational_to_str`: :func:`parse_number` with the parameter name first."""
    return parse_number(text, name)


#: A plain decimal number as a CSV cell or an option value: ASCII digits, optional sign, optional
#: fraction and exponent.  Strict: no underscores (Python's ``float`` reads ``"1_0"`` as 10), no
#: nan/inf, no hexadecimal, no spaces inside.
PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,9})?", re.ASCII)


def parse_decimal(text: str, where: str, exact: bool) -> Any:
    """One plain decimal (:data:`PLAIN_DECIMAL`): the correctly rounded ``float``, or with
    ``exact`` the exact ``sympy.Rational`` it denotes (``"0.1"`` is 1/10).

    A value beyond the float64 range (``"1e999"``) is refused in both modes, so that a
    window means the same thing to every backend.

    >>> parse_decimal("0.1", "cell", exact=True), parse_decimal("-2.5e-1", "cell", exact=False)
    (1/10, -0.25)
    >>> parse_decimal("1_0", "cell", exact=False)
    Traceback (most recent call last):
    ...
    ValueError: cell: '1_0' is not a decimal number (allowed: e.g. 3, -0.25, 1.5e-3; not nan, inf, 1_0 or hexadecimal)
    """
    cell = str(text).strip()
    if len(cell) > MAX_NUMBER_LENGTH:
        raise ValueError(f"{where}: a number of {len(cell)} characters, more than the {MAX_NUMBER_LENGTH} allowed")
    if PLAIN_DECIMAL.fullmatch(cell) is None:
        raise ValueError(f"{where}: {cell[:40]!r} is not a decimal number (allowed: e.g. 3, -0.25, 1.5e-3; "
                         f"not nan, inf, 1_0 or hexadecimal)")
    mantissa, _, exponent = cell.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise ValueError(f"{where}: {cell[:40]!r} has an exponent beyond +-{MAX_EXPONENT}")
    value = float(cell)  # correctly rounded; the grammar excludes nan/inf/underscores
    if not math.isfinite(value):
        raise ValueError(f"{where}: {cell[:40]!r} is not finite in float64 (magnitude beyond "
                         f"{np.finfo(float).max:.6g}); non-finite input is refused in every backend")
    if not exact:
        return value
    sign = -1 if mantissa.startswith("-") else 1
    whole, _, frac = mantissa.lstrip("+-").partition(".")
    num = _str_to_int((whole or "0") + frac)  # any length (int() stops at 4300 digits)
    exp10 = (int(exponent) if exponent else 0) - len(frac)
    return sympy.Integer(sign * num * 10 ** exp10) if exp10 >= 0 else sympy.Rational(sign * num, 10 ** -exp10)
