"""Shared input validation: every check raises ``ValueError`` or ``TypeError`` naming
the parameter, the value received and what is allowed (docs/contributing.md, Style).

These helpers are the one place where the wording of validation errors lives; every
spec, construction and CLI command uses them.  :func:`short_repr` (from
:mod:`tfapprox.theory.messages`) and :func:`require_positive_rational` (from
:mod:`tfapprox.theory.rationals`, the one rational-conversion rule: a float is its exact
binary value) are re-exported here; this module imports neither
:mod:`tfapprox.theory.numbers` nor anything above it.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any, Iterable, Sequence

import mpmath
import numpy as np
import sympy

from .messages import short_repr
from .rationals import require_positive_rational

__all__ = [
    "require_int",
    "require_real",
    "require_finite_entries",
    "require_sorted_distinct_lags",
    "require_choice",
    "require_positive_rational",
    "require_int_list",
    "parse_int_list",
    "require_bool",
    "short_repr",
]


def require_int(name: str, value: Any, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer in ``[minimum, maximum]``.

    Booleans are refused (``True`` is not a lag).  Integral floats such as ``3.0``
    are refused too: a lag or a head count is an integer, not a float.
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, sympy.Integer)):
        raise TypeError(f"{name} must be an integer, got {short_repr(value)} "
                        f"of type {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def require_real(name: str, value: Any, *, minimum: float | None = None,
                 maximum: float | None = None, strict_minimum: bool = False,
                 allow_inf: bool = False) -> Any:
    """Check that ``value`` is a real number (int, float, mpf, sympy real) in range.

    Returns the value unchanged, so exact sympy numbers stay exact.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got the boolean {value}")
    if isinstance(value, sympy.Basic):
        if not value.is_real or value.free_symbols:
            raise TypeError(f"{name} must be a real number, got {short_repr(value)}")
        numeric = float(value) if value.is_finite else (math.inf if value.is_positive else -math.inf)
    elif isinstance(value, (numbers.Real, mpmath.mpf, np.floating, np.integer)):
        numeric = float(value) if not isinstance(value, mpmath.mpf) else (
            float(value) if mpmath.isfinite(value) else (math.inf if value > 0 else -math.inf))
    else:
        raise TypeError(f"{name} must be a real number, got {short_repr(value)} "
                        f"of type {type(value).__name__}")
    if math.isnan(numeric):
        raise ValueError(f"{name} must be a real number, got NaN")
    if math.isinf(numeric) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {numeric}")
    if minimum is not None:
        if strict_minimum and not numeric > minimum:
            raise ValueError(f"{name} must be > {minimum}, got {short_repr(value)}")
        if not strict_minimum and not numeric >= minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {short_repr(value)}")
    if maximum is not None and not numeric <= maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {short_repr(value)}")
    return value


def _entry_is_finite(v: Any) -> bool | None:
    """True/False for a real number, None for something that is not a real number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (numbers.Integral, np.integer)):
        return True
    if isinstance(v, (float, np.floating)):
        return math.isfinite(float(v))
    if isinstance(v, mpmath.mpf):
        return bool(mpmath.isfinite(v))
    if isinstance(v, sympy.Basic):
        if v.free_symbols:
            return None
        if v is sympy.S.NaN or v.is_finite is False:
            return False
        if v.is_real is not True:  # e.g. sympy.I
            return None
        return v.is_finite is True
    if isinstance(v, numbers.Real):  # e.g. fractions.Fraction, decimal-like reals
        try:
            return math.isfinite(float(v))
        except (OverflowError, ValueError):
            return False
    return None


def require_finite_entries(name: str, value: Any) -> None:
    """Refuse an array (numeric or ``object``) holding NaN, an infinity, a complex number or
    a non-number, with a ``ValueError``/``TypeError`` naming ``name`` and the first bad index.

    Works for float arrays (vectorised) and for object arrays of Python numbers,
    ``mpmath.mpf`` and exact sympy numbers (``sympy.nan``, ``oo`` and ``zoo`` are
    refused), so that every backend of the forward pass refuses non-finite input alike.
    """
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must hold real numbers, got a complex array (dtype {arr.dtype}); "
                        f"the imaginary part would be lost")
    if arr.dtype.kind in "fiu":
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"{name} must contain only finite numbers, got {arr[index]} at index {index}")
        return
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must hold numbers, got a boolean array")
    if arr.dtype.kind != "O":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")
    for index, v in np.ndenumerate(arr):
        ok = _entry_is_finite(v)
        if ok is None:
            raise TypeError(f"{name} must hold real numbers, got {short_repr(v)} of type "
                            f"{type(v).__name__} at index {index}")
        if not ok:
            raise ValueError(f"{name} must contain only finite numbers, got {short_repr(v)} at index {index}")


def require_sorted_distinct_lags(name: str, lags: Iterable[Any], *, minimum: int = 1) -> tuple[int, ...]:
    """Check memory lags ``T_1 < T_2 < ... < T_M`` with ``T_1 >= minimum`` (paper eq. (5))."""
    if isinstance(lags, (str, bytes)) or not isinstance(lags, Iterable):
        raise TypeError(f"{name} must be a sequence of integers, got {short_repr(lags)}")
    values = tuple(require_int(f"{name}[{i}]", lag, minimum=minimum) for i, lag in enumerate(lags))
    if not values:
        raise ValueError(f"{name} must hold at least one lag, got an empty sequence")
    for i in range(1, len(values)):
        if values[i] <= values[i - 1]:
            raise ValueError(f"{name} must be strictly increasing (T_1 < ... < T_M, eq. (5)), "
                             f"got {values}")
    return values


def require_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {short_repr(value)}")
    return value


def require_int_list(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None,
                     max_items: int | None = None) -> list[int]:
    """A list of integers from a sequence or a comma-separated string (:func:`parse_int_list`).

    The one parser of heads/lags lists for the API, the CLI and the checks: at most
    ``max_items`` entries (the text is refused before it is split when it is far too long),
    each checked by :func:`require_int` against ``minimum``/``maximum``.

    >>> require_int_list("heads", "8, 16", minimum=1)
    [8, 16]
    >>> require_int_list("lags", [1, 0], minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: lags must be >= 1, got 0
    """
    if isinstance(value, (list, tuple)):
        values = list(value)
    else:
        if max_items is not None and str(value).count(",") + 1 > 2 * max_items + 1:
            raise ValueError(f"{name} may list at most {max_items} values, got a longer list")
        values = parse_int_list(value, name)
    if max_items is not None and len(values) > max_items:
        raise ValueError(f"{name} may list at most {max_items} values, got {len(values)}")
    return [require_int(name, v, minimum=minimum, maximum=maximum) for v in values]


def parse_int_list(text: Any, name: str) -> list[int]:
    """Comma-separated plain integers (``"1,5,20"``), strictly: ASCII digits with an optional
    sign and nothing else in each entry (``int()`` would also read ``"1_0"`` as 10 and
    non-ASCII digits); empty entries are skipped, an empty list is refused.

    >>> parse_int_list("1, 5,20", "lags")
    [1, 5, 20]
    >>> parse_int_list("1_0", "heads")
    Traceback (most recent call last):
    ...
    ValueError: heads must be comma-separated integers, got '1_0'
    """
    values = []
    for v in str(text).split(","):
        v = v.strip()
        if not v:
            continue
        if not re.fullmatch(r"[+-]?[0-9]{1,30}", v, re.ASCII):
            raise ValueError(f"{name} must be comma-separated integers, got {short_repr(text)}")
        values.append(int(v))
    if not values:
        raise ValueError(f"{name} must not be empty")
    return values


def require_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (``1``, ``0`` and strings are refused).

    >>> require_bool("tmx", False)
    False
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return value
