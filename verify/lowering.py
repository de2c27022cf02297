"""Lowering exact weights to numbers: float64, mpmath at a chosen precision, or sympy.

Exact sympy weights are lowered explicitly (Differences from the paper, D18): an ``Integer`` or
``Rational`` becomes ``mpf(p) / mpf(q)`` under the working precision, any other
expression is evaluated by ``evalf`` at the working precision plus guard digits and
converted from its mpf value, never through a printed string or a float.  float64
lowering uses the correctly rounded conversion of the same value.

A :class:`Backend` bundles the lowering with the elementwise functions the forward pass
needs, so that one implementation of eqs. (2)-(4) serves all three number systems:
``float64`` (numpy arrays of float), ``mpmath`` (numpy object arrays of ``mpf`` at
``dps`` digits) and ``sympy`` (object arrays of exact expressions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import mpmath
import numpy as np
import sympy

from tfapprox.theory.rpe import to_exact
from tfapprox.theory.validation import require_choice, require_int

__all__ = ["Backend", "get_backend", "lower_scalar", "BACKENDS", "LogRoundError", "PrecisionError"]

BACKENDS = ("float64", "mpmath", "sympy")
"""Number systems of the forward pass: ``"float64"``, ``"mpmath"`` (at ``dps`` digits) and ``"sympy"`` (exact)."""
_GUARD_DIGITS = 10


def lower_scalar(expr: Any, backend: str, dps: int | None = None) -> Any:
    """Lower one exact number to ``float``, ``mpf`` (at ``dps``) or keep it exact (sympy)."""
    if backend == "sympy":
        return expr if isinstance(expr, sympy.Basic) else to_exact("value", expr)
    if expr is None:
        raise TypeError("cannot lower None")
    if backend == "float64":
        if isinstance(expr, (int, float)):
            return float(expr)
        if expr is sympy.S.NegativeInfinity:
            return -math.inf
        return float(expr)
    # mpmath: the caller holds mpmath.workdps(dps)
    if isinstance(expr, (int,)):
        return mpmath.mpf(expr)
    if isinstance(expr, float):
        return mpmath.mpf(expr)
    if isinstance(expr, mpmath.mpf):
        return +expr
    if expr is sympy.S.NegativeInfinity:
        return mpmath.ninf
    if isinstance(expr, sympy.Integer):
        return mpmath.mpf(int(expr))
    if isinstance(expr, sympy.Rational):
        return mpmath.mpf(int(expr.p)) / int(expr.q)
    if isinstance(expr, sympy.Float):
        return mpmath.mpf(expr._mpf_)
    value = sympy.Expr.evalf(expr, (dps or mpmath.mp.dps) + _GUARD_DIGITS)
    if not isinstance(value, sympy.Float):
        raise ValueError(f"cannot lower {expr!r} to a real number")
    return mpmath.mpf(value._mpf_)


class PrecisionError(ArithmeticError):
    """The requested arithmetic cannot evaluate this model to the accuracy its weights need:
    float64 loses the output to cancellation or overflow, or an mpmath ``dps`` is below the
    model's required digits (:mod:`tfapprox.theory.digits`, :attr:`Model.required_digits
    <tfapprox.verify.model.Model.required_digits>`).  Also importable from
    :mod:`tfapprox.verify.model` and :mod:`tfapprox`."""


@dataclass(frozen=True)
class Backend:
    """Number system for the forward pass.  ``is_float`` selects float64 code paths
    (log-domain softmax with max-shift, FFT/dense matmuls); object backends use the
    same algebra elementwise."""

    name: str
    dps: int | None

    @property
    def is_float(self) -> bool:
        """Whether this is the float64 backend."""
        return self.name == "float64"

    @property
    def dtype(self) -> Any:
        """numpy dtype of the arrays: ``float`` or ``object``."""
        return float if self.is_float else object

    # --- conversion ---------------------------------------------------------------
    def scalar(self, expr: Any) -> Any:
        """Lower one exact number to this backend (:func:`lower_scalar`)."""
        return lower_scalar(expr, self.name, self.dps)

    def matrix(self, m: sympy.MatrixBase) -> np.ndarray:
        """Lower an exact matrix to an array (zeros are not evaluated)."""
        out = np.zeros(m.shape, dtype=float) if self.is_float else np.empty(m.shape, dtype=object)
        zero = self.zero
        for i in range(m.rows):
            for j in range(m.cols):
                v = m[i, j]
                out[i, j] = zero if v == 0 else self.scalar(v)
        return out

    def array(self, x: Any) -> np.ndarray:
        """Lower an input array (numbers, mpf, sympy) elementwise."""
        if self.is_float:
            arr = np.asarray(x, dtype=object)
            flat = [lower_scalar(v, "float64") if isinstance(v, sympy.Basic) else float(v)
                    for v in arr.reshape(-1)]
            return np.array(flat, dtype=float).reshape(arr.shape)
        arr = np.asarray(x, dtype=object)
        conv = np.frompyfunc(self._conv_input, 1, 1)
        return conv(arr).astype(object) if arr.size else arr

    def _conv_input(self, v: Any) -> Any:
        if self.name == "sympy":
            return v if isinstance(v, sympy.Basic) else to_exact("X entry", v)
        if isinstance(v, sympy.Basic):
            return lower_scalar(v, "mpmath", self.dps)
        return mpmath.mpf(v) if not isinstance(v, (np.floating, np.integer)) else mpmath.mpf(v.item())

    @property
    def zero(self) -> Any:
        """Zero in this backend's number type."""
        return 0.0 if self.is_float else (sympy.Integer(0) if self.name == "sympy" else mpmath.mpf(0))

    @property
    def one(self) -> Any:
        """One in this backend's number type."""
        return 1.0 if self.is_float else (sympy.Integer(1) if self.name == "sympy" else mpmath.mpf(1))

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        """An array of zeros of ``shape`` in this backend's number type."""
        if self.is_float:
            return np.zeros(shape)
        out = np.empty(shape, dtype=object)
        out.fill(self.zero)
        return out

    # --- elementwise functions ----------------------------------------------------
    def _map(self, fn: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=object)
        if x.size == 0:
            return x
        return np.frompyfunc(fn, 1, 1)(x).astype(object)

    def exp(self, x: np.ndarray) -> np.ndarray:
        """Elementwise ``exp`` in this backend."""
        if self.is_float:
            return np.exp(x)
        return self._map(sympy.exp if self.name == "sympy" else mpmath.exp, x)

    def relu(self, x: np.ndarray) -> np.ndarray:
        """Elementwise ``max(x, 0)`` in this backend."""
        if self.is_float:
            return np.maximum(x, 0.0)
        if self.name == "sympy":
            return self._map(lambda v: sympy.Max(v, 0), x)
        return self._map(lambda v: v if v > 0 else mpmath.mpf(0), x)

    def round_half_even(self, x: np.ndarray) -> np.ndarray:
        """Nearest integer, ties to even (numpy.rint / mpmath.nint)."""
        if self.is_float:
            return np.rint(x)
        if self.name == "sympy":
            return self._map(_sympy_round_half_even, x)
        return self._map(mpmath.nint, x)

    def log_round(self, x: np.ndarray) -> np.ndarray:
        """``log[exp(z)]`` of eq. (15): ``log`` of the nearest integer to ``e^z`` (ties to even).

        When ``e^z`` rounds to ``0`` (``z < -log 2``, or ``z = -log 2`` by ties to even) the
        result would be ``log 0 = -inf``, which is not a hidden state (the next layer would
        compute ``inf - inf``); every backend refuses it with :class:`LogRoundError`
        (a ``ValueError``) carrying the index of the first such entry.
        """
        if self.is_float:
            r = np.rint(np.exp(x))
            bad = np.argwhere(~(r > 0))
            if bad.size:
                raise LogRoundError(tuple(int(i) for i in bad[0]), float(np.asarray(x)[tuple(bad[0])]))
            return np.log(r)
        arr = np.asarray(x, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        for idx in np.ndindex(arr.shape):
            v = arr[idx]
            r = _sympy_round_half_even(sympy.exp(v)) if self.name == "sympy" else mpmath.nint(mpmath.exp(v))
            if not r > 0:
                raise LogRoundError(tuple(int(i) for i in idx), v)
            out[idx] = sympy.log(r) if self.name == "sympy" else mpmath.log(r)
        return out


class LogRoundError(ValueError, ArithmeticError):
    """A ``log_round`` FFN output whose ``e^z`` rounds to 0: ``log 0`` is not a hidden state.

    A ``ValueError`` (the input lies outside the model's domain: the CLI exits 2) and an
    ``ArithmeticError`` (like :class:`~tfapprox.verify.model.PrecisionError`, a run that
    cannot produce a number).  ``index`` is the entry's index in the array handed to
    :meth:`Backend.log_round`; :func:`tfapprox.verify.forward.forward` re-raises it naming
    the block and position.
    """

    def __init__(self, index: tuple[int, ...], value: Any, message: str | None = None) -> None:
        self.index = index
        self.value = value
        super().__init__(message or f"log_round: e^z with z = {_short(value)} rounds to 0 at index {index}; "
                                    f"log 0 = -inf is not a representable hidden state (eq. (15))")


def _short(v: Any) -> str:
    try:
        return f"{float(v):.6g}"
    except (TypeError, ValueError, OverflowError):
        return str(v)[:40]


def _sympy_round_half_even(v: sympy.Expr) -> sympy.Expr:
    if v.free_symbols:
        raise ValueError("FFN precision (rounding) needs numeric values; got a free symbol")
    floor = sympy.floor(v)
    frac = v - floor
    half = sympy.Rational(1, 2)
    if bool(frac > half):
        return floor + 1
    if bool(frac < half):
        return floor
    return floor if int(floor) % 2 == 0 else floor + 1


def get_backend(backend: str, dps: int | None = None) -> Backend:
    """Validate a backend name and precision and return the :class:`Backend`."""
    require_choice("backend", backend, BACKENDS)
    if backend == "mpmath":
        dps = require_int("dps", 50 if dps is None else dps, minimum=5, maximum=100000)
    elif dps is not None and backend == "float64":
        raise ValueError("dps applies to backend='mpmath' only; float64 has ~16 digits")
    return Backend(backend, dps)
