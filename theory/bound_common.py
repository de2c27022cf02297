"""Shared conventions of the explicit bounds of App. F (Wang & E 2024): precision, outward rounding, symbols.

Every explicit bound of :mod:`tfapprox.theory.bounds` (Lemmas F.1-F.6, Theorems 3.1, 4.1, 4.4,
5.1) is computed at :data:`BOUND_DPS` decimal digits and rounded *up* by a relative ``1e-30``
(:func:`round_up`), which covers the rounding of the evaluation; the rate index ``n`` of the
bounds ``C(n) E(T) / H^n`` is checked against :data:`MAX_RATE_INDEX` (:func:`check_rate_index`).
The sympy symbols ``H, n, T, alpha, gamma`` are those of the symbolic bound expressions.
"""

from __future__ import annotations

import functools
from functools import lru_cache
from typing import Any, Callable

import mpmath
import sympy

from .families import family_names
from .validation import require_int

__all__ = ["RPE_TYPES", "MAX_RATE_INDEX", "BOUND_DPS", "DEFAULT_KERNEL_RATE", "H", "n", "T", "alpha", "gamma",
           "round_up", "check_rate_index", "cached_per_precision", "falling_factorial"]

#: The RPE types of the paper (eq. (4)): the names of the registered kernel families.
RPE_TYPES: tuple[str, ...] = family_names()

#: Largest rate index ``n`` accepted.  The critical points of ``Psi^{(n)}`` (the real roots of the
#: integer polynomial ``p_{n+1}`` of degree ``3n + 1``) are isolated with python-flint
#: (:mod:`tfapprox.theory.numerics.polynomial_roots`).  Measured on one core: at ``n = 60``
#: ``bump_derivative_norms`` takes about 4 s and ``paper_constant`` 7-10 s (each cached), and
#: ``C(60) ~ 6.5e301`` is near the top of the float64 range that reports print (at ``n = 20``:
#: 0.03 s and 0.6 s; the former sympy isolation needed 9 s for the norms alone).
MAX_RATE_INDEX = 60

#: Decimal digits at which the bounds are evaluated.
BOUND_DPS = 50

#: The paper's change-of-variables rate and decay ``alpha = gamma = 1/100`` (Lemmas F.1-F.6).
DEFAULT_KERNEL_RATE = sympy.Rational(1, 100)

#: Relative amount by which :func:`round_up` raises a value.
_ROUND_UP = mpmath.mpf("1e-30")

#: Sympy symbols used by the bound expressions.
H, n, T, alpha, gamma = sympy.symbols("H n T alpha gamma", positive=True)
# One docstring per symbol (griffe gives the names of a tuple assignment none).
H: sympy.Symbol
"""The number of heads ``H`` (positive sympy symbol) in the symbolic bounds."""
n: sympy.Symbol
"""The rate index ``n`` of Lemmas F.1/F.4 (bound ``C(n) H^{-n}``), positive sympy symbol."""
T: sympy.Symbol
"""The memory lag ``T`` (positive sympy symbol)."""
alpha: sympy.Symbol
"""The change-of-variables rate ``alpha`` of Lemmas F.1/F.4 (paper: 0.01), positive sympy symbol."""
gamma: sympy.Symbol
"""The decay factor ``gamma`` of Lemmas F.1/F.4 (paper: 0.01), positive sympy symbol."""


def round_up(x: Any) -> mpmath.mpf:
    """``x`` rounded up by a relative ``1e-30`` (covers the :data:`BOUND_DPS`-digit rounding of an evaluation).

    >>> with mpmath.workdps(BOUND_DPS):
    ...     print(round_up(1) > 1)
    True
    """
    x = mpmath.mpf(x)
    return x + abs(x) * _ROUND_UP


def check_rate_index(n_value: Any) -> int:
    """``n_value`` as an int in ``1..MAX_RATE_INDEX`` (``ValueError``/``TypeError`` naming ``n`` otherwise)."""
    return require_int("n", n_value, minimum=1, maximum=MAX_RATE_INDEX)


def falling_factorial(x: int, k: int) -> int:
    """``x (x-1) ... (x-k+1)`` (``k`` factors).

    >>> falling_factorial(5, 2)
    20
    """
    out = 1
    for i in range(k):
        out *= x - i
    return out


def cached_per_precision(maxsize: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``lru_cache`` whose key also holds mpmath's working precision (``mpmath.mp.prec``).

    The functions so cached compute part of their result at the caller's precision; a plain
    ``lru_cache`` let the first caller's precision decide the last digits every later caller
    got, so ``verify --all`` printed digits that depended on which check ran first (issue 15).
    The wrapper has ``cache_clear`` and ``cache_info`` like an ``lru_cache``.
    """
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @lru_cache(maxsize=maxsize)
        def at_precision(prec: int, *args: Any) -> Any:
            return fn(*args)

        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            return at_precision(mpmath.mp.prec, *args)

        wrapper.cache_clear = at_precision.cache_clear  # type: ignore[attr-defined]
        wrapper.cache_info = at_precision.cache_info  # type: ignore[attr-defined]
        return wrapper

    return decorate
