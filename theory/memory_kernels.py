"""Memory kernels ``rho: N -> R`` of the essentially sparse class H^Ess (paper eqs. (13)-(14)).

A target of Task III reads its input through convolutions
``(X * rho_k)(t) = sum_{s >= 0} x_{t-s} rho_k(s)`` with ``rho_k in l^1(N)`` (eq. (13)).
Thm 5.1 distinguishes two decay assumptions:

* (A) exponential: ``|rho(t)| <= C e^{-beta t}`` with ``beta > 0`` (handled by lin-RPE);
* (B) polynomial: ``|rho(t)| <= C t^{-beta}`` for ``t >= 1`` with ``beta > 1``
  (handled by log-RPE).

Every kernel states its decay as ``decay`` (``"exp"`` or ``"poly"``), ``beta`` and a
``decay_constant`` ``C`` (exact sympy number where possible) such that
``|rho(t)| <= C e^{-beta t}`` resp. ``C t^{-beta}`` for every ``t >= 1`` (the exponential
kernels below satisfy it for ``t >= 0`` as well).  It evaluates at integer lags in
float64 (``values``) and in mpmath (``values_mp``), sums its tail
``sum_{s >= t0} rho(s)`` in closed form (``tail_sum``: geometric series, Hurwitz zeta),
which is what makes a target exact on a two-sided sequence with a constant padding
token, and encloses its ``l^1`` norm rigorously (``l1_norm`` returns ``(lower, upper)``
floats: a direct sum plus a tail bound, rounded outward).

Kernels
-------
``ExponentialKernel(scale, beta)``
    ``rho(t) = scale e^{-beta t}`` (H.2.8 uses ``scale = 1, beta = 5``).
``PolynomialKernel(scale, beta, offset=1, at_zero=None)``
    ``scale (1 + t)^{-beta}`` (``offset=1``) or ``scale t^{-beta}`` for ``t >= 1`` with
    ``rho(0) = at_zero`` (``offset=0``; ``at_zero`` defaults to 0, see below).
``MixtureKernel(components, weights)``
    ``sum_i w_i rho_i``.
``ShiftedBumpKernel(center, width, scale=1, beta=1)``
    A C-infinity bump supported on ``|t - center| < width``.
``ArrayKernel(values, decay, beta, scale, tail="unknown")``
    User values at ``t = 0..len-1`` with a **declared** tail bound that is **checked**
    on the given values.

Conventions
-----------
* ``t^{-beta}`` at ``t = 0``: ``PolynomialKernel(offset=0)`` defines ``rho(0) = at_zero``,
  by default 0.  This matches log-RPE, whose weight at lag 0 is ``e^{p phi_log(0)} = 0``
  (``phi_log(0) = -inf``, eq. (4)): a log-RPE head never sees the current token.  It is
  the choice used for the paper's experiment H.2.7, where ``rho(0) = 0^{-0.5}`` is
  undefined (Differences from the paper, D23).
* Summability: ``beta > 0`` for ``"exp"``; ``beta > 1`` for ``"poly"``.  A polynomial
  kernel with ``0 < beta <= 1`` (not in ``l^1``, outside Thm 5.1) is accepted only with
  ``allow_non_summable=True``, for the paper's H.2.7 experiment ``rho(t) = t^{-0.5}``
  on finite sequences; its ``l1_norm`` is ``(inf, inf)`` and its tail sums diverge.

Examples
--------
>>> k = ExponentialKernel(1, 5)
>>> round(k.values(1), 12), k.decay, k.beta, k.decay_constant
(0.006737946999, 'exp', 5, 1)
>>> lo, hi = k.l1_norm()
>>> lo <= 1 / (1 - math.exp(-5)) <= hi
True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping

import mpmath
import numpy as np
import scipy.special
import sympy

from .limits import MAX_DECAY_RATE
from .numbers import exact_rational, rational_from_str, rational_to_str, to_mpf
from .readouts import _to_float
from .validation import require_choice, require_int, short_repr

__all__ = [
    "MemoryKernel",
    "ExponentialKernel",
    "PolynomialKernel",
    "MixtureKernel",
    "ShiftedBumpKernel",
    "ArrayKernel",
    "kernel_from_dict",
    "DECAYS",
]

DECAYS: tuple[str, ...] = ("exp", "poly")
"""Decay types of a memory kernel: ``"exp"`` (``e^{-beta t}``, Thm 5.1 with lin-RPE) and
``"poly"`` (``t^{-beta}``, log-RPE)."""

#: Relative slack unit with which ArrayKernel checks its declared decay on float64
#: values: at lag t the slack is ``_ARRAY_TOL * (1 + beta t)`` (exp) or
#: ``_ARRAY_TOL * (1 + beta log t)`` (poly), the float64 error of computing the bound.
_ARRAY_TOL = sympy.Rational(1, 2 ** 48)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _lags(s: Any, name: str = "s") -> tuple[np.ndarray, bool]:
    """Integer lags ``s >= 0`` as an int64 array, and whether the input was a scalar."""
    if isinstance(s, bool):
        raise TypeError(f"{name} must be integer lags, got the boolean {s}")
    arr = np.asarray(s)
    if arr.size == 0:
        return arr.astype(np.int64), arr.ndim == 0
    if arr.dtype.kind not in "iu":
        if arr.dtype == object and all(isinstance(v, (int, np.integer, sympy.Integer)) and not isinstance(v, bool)
                                       for v in arr.reshape(-1)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must be integer lags, got {short_repr(s)} (dtype {arr.dtype})")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be lags >= 0, got {short_repr(s)}")
    return arr.astype(np.int64), arr.ndim == 0


def _out(arr: np.ndarray, scalar: bool) -> Any:
    return float(arr) if scalar else arr


def _round_down(x: mpmath.mpf) -> float:
    if mpmath.isinf(x):
        return float(x)
    f = float(x)
    return f if mpmath.mpf(f) <= x else math.nextafter(f, -math.inf)


def _round_up(x: mpmath.mpf) -> float:
    if mpmath.isinf(x):
        return float(x)
    f = float(x)
    return f if mpmath.mpf(f) >= x else math.nextafter(f, math.inf)


def _enclose(lo: mpmath.mpf, hi: mpmath.mpf, dps: int) -> tuple[float, float]:
    """Widen an mpmath enclosure by the working precision's rounding and round outward."""
    with mpmath.workdps(dps + 10):
        slack = mpmath.mpf(10) ** (-(dps - 5))
        lo = lo * (1 - slack) if lo >= 0 else lo * (1 + slack)
        hi = hi * (1 + slack) if hi >= 0 else hi * (1 - slack)
        return _round_down(lo), _round_up(hi)


def _mp_upper(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    """An mpf >= the exact sympy number ``expr >= 0`` (exact for rationals)."""
    if isinstance(expr, sympy.Rational):
        return to_mpf(expr)
    with mpmath.workdps(dps):
        v = mpmath.mpf(sympy.N(expr, dps + 10)._mpf_)
        return v * (1 + mpmath.mpf(10) ** (-dps))


def _sign(q: sympy.Rational) -> int:
    return 1 if q > 0 else (-1 if q < 0 else 0)


def _positive_beta(beta: Any, decay: str, allow_non_summable: bool) -> sympy.Rational:
    b = exact_rational("beta", beta)
    if abs(b) > MAX_DECAY_RATE:
        raise ValueError(f"beta must be <= MAX_DECAY_RATE = {MAX_DECAY_RATE} in absolute value (beyond it "
                         f"the kernel underflows every float range), got {short_repr(beta)}")
    if decay == "exp":
        if not b > 0:
            raise ValueError(f"beta must be > 0 for exponential decay (Thm 5.1(A)), got {short_repr(beta)}")
    else:
        if not b > 0:
            raise ValueError(f"beta must be > 0 for polynomial decay, got {short_repr(beta)}")
        if not b > 1 and not allow_non_summable:
            raise ValueError(f"beta must be > 1 for polynomial decay (l^1 kernel, Thm 5.1(B)), got "
                             f"{short_repr(beta)}; pass allow_non_summable=True for a non-summable "
                             f"kernel on finite sequences (the paper's H.2.7 uses beta = 0.5)")
    return b


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return value


# ---------------------------------------------------------------------------
# base class
# ---------------------------------------------------------------------------

class MemoryKernel(ABC):
    """Common interface of memory kernels ``rho: N -> R`` (eq. (13)).

    Subclasses provide ``values``, ``values_mp``, ``decay``, ``beta``,
    ``decay_constant``, ``summable``, ``tail_sum``, ``to_dict`` and ``kind``.
    """

    kind: str = ""

    @abstractmethod
    def values(self, s: Any) -> Any:
        """``rho(s)`` in float64 at integer lags ``s >= 0`` (array in, array out; scalar in, float out)."""

    @abstractmethod
    def values_mp(self, s: Any, dps: int) -> Any:
        """``rho(s)`` as ``mpmath.mpf`` at ``dps`` digits (object array, or one mpf for a scalar)."""

    #: ``"exp"`` or ``"poly"`` (set by every subclass).
    decay: str
    #: the decay rate (exact).
    beta: sympy.Rational

    @property
    def decay_constant(self) -> sympy.Expr:  # pragma: no cover - every subclass overrides
        """The constant ``C`` of the decay bound ``|rho(t)| <= C e^{-beta t}`` or ``C t^{-beta}`` (exact)."""
        raise NotImplementedError

    @property
    def summable(self) -> bool:
        """Whether ``rho in l^1(N)``."""
        return self.decay == "exp" or bool(self.beta > 1)

    @property
    def sign(self) -> int | None:
        """``+1``/``-1`` if ``rho >= 0`` resp. ``<= 0`` everywhere, ``0`` if ``rho = 0``, else ``None``."""
        return None

    @property
    def tail_known(self) -> bool:
        """Whether ``tail_sum`` can be computed (``False`` only for an ``ArrayKernel`` of unknown tail)."""
        return True

    @property
    def known_length(self) -> int | None:
        """``None`` if ``rho(s)`` is known at every lag, else the number of known lags ``0..n-1``."""
        return None

    @abstractmethod
    def tail_sum(self, t0: Any) -> Any:
        """``sum_{s >= t0} rho(s)`` in float64 (closed form), vectorised over ``t0``.

        Raises ``ValueError`` when the series diverges or the tail is unknown.
        """

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        """``sum_{s >= t0} rho(s)`` in mpmath (default: not available)."""
        raise NotImplementedError(f"{type(self).__name__} has no mpmath tail sum")

    def abs_tail_bound(self, t0: int, dps: int = 30) -> mpmath.mpf:
        """An upper bound on ``sum_{s >= t0} |rho(s)|`` from the decay bound (mpf; may be inf).

        ``exp``: ``C e^{-beta t0} / (1 - e^{-beta})``; ``poly``: ``C zeta(beta, t0)``
        (Hurwitz) for ``t0 >= 1``, plus ``|rho(0)|`` when ``t0 = 0``.
        """
        t0 = require_int("t0", t0, minimum=0)
        with mpmath.workdps(dps):
            C = _mp_upper(self.decay_constant, dps)
            b = to_mpf(self.beta)
            if self.decay == "exp":
                return C * mpmath.exp(-b * t0) / (-mpmath.expm1(-b))
            if b <= 1:
                return mpmath.inf
            head = abs(self.values_mp(0, dps)) if t0 == 0 else mpmath.mpf(0)
            return head + C * mpmath.zeta(b, max(t0, 1))

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        """Rigorous enclosure ``(lower, upper)`` of ``||rho||_{l^1(N)} = sum_{s >= 0} |rho(s)|``.

        Default method: the direct sum of the first ``terms`` values in mpmath at ``dps``
        digits (the lower end) plus :meth:`abs_tail_bound` (the upper end), rounded
        outward to float64.  Subclasses with a closed form override it.
        """
        dps = require_int("dps", dps, minimum=15)
        terms = require_int("terms", terms, minimum=1)
        with mpmath.workdps(dps + 5):
            vals = self.values_mp(np.arange(terms), dps + 5)
            head = mpmath.fsum([abs(v) for v in vals])
            tail = self.abs_tail_bound(terms, dps + 5)
            return _enclose(head, head + tail, dps)

    @abstractmethod
    def to_dict(self) -> dict:
        """The JSON description of the kernel (``kind`` and exact parameters)."""


# ---------------------------------------------------------------------------
# exponential
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ExponentialKernel(MemoryKernel):
    """``rho(t) = scale * e^{-beta t}``, ``beta > 0`` (Thm 5.1(A); experiment H.2.8).

    ``decay_constant = |scale|`` (exact; the bound holds for every ``t >= 0``),
    ``||rho||_1 = |scale| / (1 - e^{-beta})``, tails are geometric series.

    Examples
    --------
    >>> k = ExponentialKernel("1/2", "0.1")
    >>> round(k.tail_sum(3), 12) == round(0.5 * math.exp(-0.3) / (1 - math.exp(-0.1)), 12)
    True
    """

    scale: Any
    beta: Any

    kind = "exponential"
    decay = "exp"

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", exact_rational("scale", self.scale))
        object.__setattr__(self, "beta", _positive_beta(self.beta, "exp", False))

    @property
    def decay_constant(self) -> sympy.Rational:
        return abs(self.scale)

    @property
    def sign(self) -> int:
        return _sign(self.scale)

    def values(self, s: Any) -> Any:
        arr, scalar = _lags(s)
        return _out(_to_float(self.scale) * np.exp(-_to_float(self.beta) * arr.astype(float)), scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = _lags(s)
        with mpmath.workdps(dps):
            a, b = to_mpf(self.scale), to_mpf(self.beta)
            out = np.array([a * mpmath.exp(-b * int(v)) for v in arr.reshape(-1)], dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = _lags(t0, "t0")
        b = _to_float(self.beta)
        return _out(_to_float(self.scale) * np.exp(-b * arr.astype(float)) / (-math.expm1(-b)), scalar)

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        t0 = require_int("t0", t0, minimum=0)
        with mpmath.workdps(dps):
            b = to_mpf(self.beta)
            return to_mpf(self.scale) * mpmath.exp(-b * t0) / (-mpmath.expm1(-b))

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        """Closed form ``|scale| / (1 - e^{-beta})``, enclosed outward (``terms`` is unused)."""
        dps = require_int("dps", dps, minimum=15)
        with mpmath.workdps(dps + 5):
            v = abs(to_mpf(self.scale)) / (-mpmath.expm1(-to_mpf(self.beta)))
            return _enclose(v, v, dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "scale": rational_to_str(self.scale), "beta": rational_to_str(self.beta)}


# ---------------------------------------------------------------------------
# polynomial
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PolynomialKernel(MemoryKernel):
    """Power-law kernel (Thm 5.1(B); experiment H.2.7).

    ``offset=1``: ``rho(t) = scale (1 + t)^{-beta}`` for ``t >= 0`` (``at_zero`` must be
    ``None``).  ``offset=0``: ``rho(t) = scale t^{-beta}`` for ``t >= 1`` and
    ``rho(0) = at_zero``, 0 unless given (module docstring: this is log-RPE's convention
    and our reading of H.2.7).

    ``decay = "poly"``, ``decay_constant = |scale|`` (exact; ``(1+t)^{-beta} <= t^{-beta}``),
    valid for ``t >= 1``.  ``||rho||_1 = |rho(0)| + |scale| zeta(beta)`` (offset 0) or
    ``|scale| zeta(beta)`` (offset 1); tails are Hurwitz zeta values.  ``beta > 1`` unless
    ``allow_non_summable=True``.

    Examples
    --------
    >>> k = PolynomialKernel(1, 2, offset=0)
    >>> k.values(0), k.values(2)
    (0.0, 0.25)
    >>> round(k.tail_sum(1), 12) == round(math.pi ** 2 / 6, 12)
    True
    """

    scale: Any
    beta: Any
    offset: int = 1
    at_zero: Any = None
    allow_non_summable: bool = False

    kind = "polynomial"
    decay = "poly"

    def __post_init__(self) -> None:
        _bool("allow_non_summable", self.allow_non_summable)
        object.__setattr__(self, "scale", exact_rational("scale", self.scale))
        object.__setattr__(self, "beta", _positive_beta(self.beta, "poly", self.allow_non_summable))
        offset = require_int("offset", self.offset)
        require_choice("offset", offset, (0, 1))
        object.__setattr__(self, "offset", offset)
        if offset == 1:
            if self.at_zero is not None:
                raise ValueError(f"at_zero applies only to offset=0 (t^-beta); with offset=1 "
                                 f"rho(0) = scale, got at_zero={short_repr(self.at_zero)}")
        else:
            object.__setattr__(self, "at_zero", sympy.Integer(0) if self.at_zero is None
                               else exact_rational("at_zero", self.at_zero))

    @property
    def rho0(self) -> sympy.Rational:
        """``rho(0)``: ``at_zero`` (offset 0) or ``scale`` (offset 1)."""
        return self.scale if self.offset == 1 else self.at_zero

    @property
    def decay_constant(self) -> sympy.Rational:
        return abs(self.scale)

    @property
    def sign(self) -> int | None:
        signs = {_sign(self.scale), _sign(self.rho0)} - {0}
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def values(self, s: Any) -> Any:
        arr, scalar = _lags(s)
        t = arr.astype(float) + self.offset
        with np.errstate(divide="ignore"):
            v = _to_float(self.scale) * np.power(np.where(t > 0, t, 1.0), -_to_float(self.beta))
        if self.offset == 0:
            v = np.where(arr == 0, _to_float(self.at_zero), v)
        return _out(v, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = _lags(s)
        with mpmath.workdps(dps):
            a, b, r0 = to_mpf(self.scale), to_mpf(self.beta), to_mpf(self.rho0)
            vals = [r0 if int(v) == 0 else a * mpmath.power(int(v) + self.offset, -b) for v in arr.reshape(-1)]
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def _check_summable(self) -> None:
        if not self.summable and self.scale != 0:
            raise ValueError(f"the tail sum of rho(t) ~ t^-{self.beta} diverges (beta <= 1, not in l^1); "
                             f"it exists only on finite sequences")

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = _lags(t0, "t0")
        self._check_summable()
        b = _to_float(self.beta)
        start = np.maximum(arr, 1).astype(float) + self.offset if self.offset == 0 else arr.astype(float) + 1.0
        v = _to_float(self.scale) * scipy.special.zeta(b, start) if self.scale != 0 else np.zeros(arr.shape)
        if self.offset == 0:
            v = v + np.where(arr == 0, _to_float(self.at_zero), 0.0)
        return _out(np.asarray(v, dtype=float), scalar)

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        t0 = require_int("t0", t0, minimum=0)
        self._check_summable()
        with mpmath.workdps(dps):
            b = to_mpf(self.beta)
            if self.offset == 1:
                return to_mpf(self.scale) * mpmath.zeta(b, t0 + 1)
            head = to_mpf(self.at_zero) if t0 == 0 else mpmath.mpf(0)
            return head + to_mpf(self.scale) * mpmath.zeta(b, max(t0, 1))

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        """Closed form with the Riemann zeta function, enclosed outward; ``(inf, inf)`` when
        ``beta <= 1`` and ``scale != 0`` (``terms`` is unused)."""
        dps = require_int("dps", dps, minimum=15)
        if not self.summable and self.scale != 0:
            return (math.inf, math.inf)
        with mpmath.workdps(dps + 5):
            if self.scale == 0:
                v = abs(to_mpf(self.rho0))
            else:
                v = abs(to_mpf(self.scale)) * mpmath.zeta(to_mpf(self.beta))
                if self.offset == 0:
                    v += abs(to_mpf(self.at_zero))
            return _enclose(v, v, dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "scale": rational_to_str(self.scale), "beta": rational_to_str(self.beta),
                "offset": self.offset,
                "at_zero": None if self.at_zero is None else rational_to_str(self.at_zero),
                "allow_non_summable": self.allow_non_summable}


# ---------------------------------------------------------------------------
# mixture
# ---------------------------------------------------------------------------

def _exp_to_poly_factor(b_exp: sympy.Rational, b_poly: sympy.Rational) -> sympy.Expr:
    """``sup_{t >= 1} t^{b_poly} e^{-b_exp t}`` (exact): the maximiser is ``t* = b_poly / b_exp``."""
    t_star = b_poly / b_exp
    if t_star <= 1:
        return sympy.exp(-b_exp)
    return t_star ** b_poly * sympy.exp(-b_poly)


@dataclass(frozen=True)
class MixtureKernel(MemoryKernel):
    """``rho = sum_i w_i rho_i`` (e.g. wavelet-like or multi-scale kernels, Sec. 5.1).

    Decay: if every component decays exponentially, ``decay = "exp"`` with
    ``beta = min_i beta_i`` and ``C = sum_i |w_i| C_i``.  Otherwise ``decay = "poly"``
    with ``beta`` the smallest polynomial exponent and ``C = sum_i |w_i| C_i K_i``,
    where ``K_i = 1`` for polynomial components and, for an exponential component,
    ``K_i = sup_{t >= 1} t^beta e^{-beta_i t}`` (exact).

    ``l1_norm``: when all ``w_i rho_i`` have one sign, the sum of the components'
    enclosures; otherwise the default direct sum plus tail bound.
    """

    components: Any
    weights: Any

    kind = "mixture"

    def __post_init__(self) -> None:
        comps = tuple(self.components) if isinstance(self.components, (list, tuple)) else None
        if not comps:
            raise ValueError(f"components must be a non-empty list of memory kernels, got "
                             f"{short_repr(self.components)}")
        for i, c in enumerate(comps):
            if not isinstance(c, MemoryKernel):
                raise TypeError(f"components[{i}] must be a MemoryKernel, got {type(c).__name__}")
        if isinstance(self.weights, (str, bytes)) or np.ndim(self.weights) != 1 or len(self.weights) != len(comps):
            raise ValueError(f"weights must be a sequence of {len(comps)} numbers (one per component), "
                             f"got {short_repr(self.weights)}")
        w = tuple(exact_rational(f"weights[{i}]", v) for i, v in enumerate(self.weights))
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", w)

    @property
    def decay(self) -> str:
        return "exp" if all(c.decay == "exp" for c in self.components) else "poly"

    @property
    def beta(self) -> sympy.Rational:
        return min(c.beta for c in self.components if c.decay == self.decay)

    @property
    def decay_constant(self) -> sympy.Expr:
        if self.decay == "exp":
            return sympy.Add(*[abs(w) * c.decay_constant for w, c in zip(self.weights, self.components)])
        b = self.beta
        terms = []
        for w, c in zip(self.weights, self.components):
            k = sympy.Integer(1) if c.decay == "poly" else _exp_to_poly_factor(c.beta, b)
            terms.append(abs(w) * c.decay_constant * k)
        return sympy.Add(*terms)

    @property
    def summable(self) -> bool:
        return all(c.summable for c in self.components)

    @property
    def tail_known(self) -> bool:
        return all(c.tail_known for c in self.components)

    @property
    def known_length(self) -> int | None:
        lengths = [c.known_length for c in self.components if c.known_length is not None]
        return min(lengths) if lengths else None

    @property
    def sign(self) -> int | None:
        signs = set()
        for w, c in zip(self.weights, self.components):
            if w == 0 or c.sign == 0:
                continue
            if c.sign is None:
                return None
            signs.add(_sign(w) * c.sign)
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def values(self, s: Any) -> Any:
        arr, scalar = _lags(s)
        total = np.zeros(arr.shape)
        for w, c in zip(self.weights, self.components):
            if w != 0:
                total = total + _to_float(w) * np.asarray(c.values(arr), dtype=float)
        return _out(total, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = _lags(s)
        with mpmath.workdps(dps):
            parts = [(to_mpf(w), np.asarray(c.values_mp(arr.reshape(-1), dps), dtype=object))
                     for w, c in zip(self.weights, self.components)]
            vals = [mpmath.fsum([w * p[j] for w, p in parts]) for j in range(arr.size)]
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = _lags(t0, "t0")
        total = np.zeros(arr.shape)
        for w, c in zip(self.weights, self.components):
            if w != 0:
                total = total + _to_float(w) * np.asarray(c.tail_sum(arr), dtype=float)
        return _out(total, scalar)

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps):
            return mpmath.fsum([to_mpf(w) * c.tail_sum_mp(t0, dps)
                                for w, c in zip(self.weights, self.components) if w != 0])

    def abs_tail_bound(self, t0: int, dps: int = 30) -> mpmath.mpf:
        """``sum_i |w_i| * (component i's bound)``: tighter than the combined decay bound."""
        with mpmath.workdps(dps):
            return mpmath.fsum([abs(to_mpf(w)) * c.abs_tail_bound(t0, dps)
                                for w, c in zip(self.weights, self.components) if w != 0])

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        if self.sign is not None:
            lo = hi = mpmath.mpf(0)
            with mpmath.workdps(dps + 5):
                for w, c in zip(self.weights, self.components):
                    if w == 0:
                        continue
                    clo, chi = c.l1_norm(dps=dps, terms=terms)
                    lo += abs(to_mpf(w)) * mpmath.mpf(clo)
                    hi += abs(to_mpf(w)) * mpmath.mpf(chi)
                return _enclose(lo, hi, dps)
        return super().l1_norm(dps=dps, terms=terms)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "components": [c.to_dict() for c in self.components],
                "weights": [rational_to_str(w) for w in self.weights]}


# ---------------------------------------------------------------------------
# shifted bump
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ShiftedBumpKernel(MemoryKernel):
    """A smooth bump around lag ``center``: ``rho(t) = scale * exp(1 - 1/(1 - u^2))`` for
    ``u = (t - center)/width`` with ``|u| < 1``, and 0 otherwise (peak ``scale`` at
    ``t = center``).

    A compactly supported, "essentially sparse" memory around ``center`` (Sec. 5.1).
    Being finitely supported it decays faster than any exponential; it reports
    ``decay = "exp"`` with the given ``beta`` (default 1) and the exact constant
    ``C = |scale| e^{beta (center + width)}`` (``|rho| <= |scale|`` and ``rho = 0`` for
    ``t >= center + width``).  Tails and ``l^1`` norm are finite sums.

    Examples
    --------
    >>> k = ShiftedBumpKernel(10, 3)
    >>> k.values(10), k.values(13), k.support
    (1.0, 0.0, (8, 12))
    """

    center: Any
    width: Any
    scale: Any = 1
    beta: Any = 1

    kind = "shifted_bump"
    decay = "exp"

    def __post_init__(self) -> None:
        c = exact_rational("center", self.center)
        if c < 0:
            raise ValueError(f"center must be >= 0, got {short_repr(self.center)}")
        w = exact_rational("width", self.width)
        if not w > 0:
            raise ValueError(f"width must be > 0, got {short_repr(self.width)}")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "width", w)
        object.__setattr__(self, "scale", exact_rational("scale", self.scale))
        object.__setattr__(self, "beta", _positive_beta(self.beta, "exp", False))

    @property
    def support(self) -> tuple[int, int]:
        """``(first, last)`` integer lags where ``rho != 0`` (first > last if none)."""
        lo = max(0, int(sympy.floor(self.center - self.width)) + 1)
        hi = int(sympy.ceiling(self.center + self.width)) - 1
        return lo, hi

    @property
    def decay_constant(self) -> sympy.Expr:
        return abs(self.scale) * sympy.exp(self.beta * (self.center + self.width))

    @property
    def sign(self) -> int:
        lo, hi = self.support
        return _sign(self.scale) if lo <= hi else 0

    def values(self, s: Any) -> Any:
        arr, scalar = _lags(s)
        u = (arr.astype(float) - _to_float(self.center)) / _to_float(self.width)
        lo, hi = self.support
        inside = (arr >= lo) & (arr <= hi)  # exact integer test, no float edge effects
        q = np.where(inside, 1.0 - u * u, 1.0)
        v = np.where(inside, _to_float(self.scale) * np.exp(1.0 - 1.0 / q), 0.0)
        return _out(v, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = _lags(s)
        lo, hi = self.support
        with mpmath.workdps(dps):
            c, w, a = to_mpf(self.center), to_mpf(self.width), to_mpf(self.scale)
            vals = []
            for v in arr.reshape(-1):
                if lo <= int(v) <= hi:
                    u = (int(v) - c) / w
                    vals.append(a * mpmath.exp(1 - 1 / (1 - u * u)))
                else:
                    vals.append(mpmath.mpf(0))
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = _lags(t0, "t0")
        lo, hi = self.support
        if hi < lo:
            return _out(np.zeros(arr.shape), scalar)
        vals = np.asarray(self.values(np.arange(lo, hi + 1)), dtype=float)
        suffix = np.concatenate([np.cumsum(vals[::-1])[::-1], [0.0]])  # suffix[j] = sum vals[j:]
        idx = np.clip(arr - lo, 0, hi - lo + 1)
        return _out(suffix[idx], scalar)

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        t0 = require_int("t0", t0, minimum=0)
        lo, hi = self.support
        with mpmath.workdps(dps):
            if hi < max(lo, t0):
                return mpmath.mpf(0)
            return mpmath.fsum(self.values_mp(np.arange(max(lo, t0), hi + 1), dps))

    def abs_tail_bound(self, t0: int, dps: int = 30) -> mpmath.mpf:
        with mpmath.workdps(dps):
            return abs(self.tail_sum_mp(t0, dps))

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        """Finite sum over the support, enclosed outward (``terms`` is unused)."""
        dps = require_int("dps", dps, minimum=15)
        with mpmath.workdps(dps + 5):
            v = abs(self.tail_sum_mp(0, dps + 5))
            return _enclose(v, v, dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "center": rational_to_str(self.center), "width": rational_to_str(self.width),
                "scale": rational_to_str(self.scale), "beta": rational_to_str(self.beta)}


# ---------------------------------------------------------------------------
# array
# ---------------------------------------------------------------------------

@dataclass(frozen=True, init=False)
class ArrayKernel(MemoryKernel):
    """User values ``rho(0), ..., rho(n-1)`` with a declared, checked decay.

    Parameters
    ----------
    values : sequence of n >= 1 numbers
        ``rho(t)`` for ``t = 0..n-1`` (stored exactly).
    decay : ``"exp"`` or ``"poly"``
    beta : number
        ``> 0`` for ``"exp"``; ``> 1`` for ``"poly"`` unless ``allow_non_summable``.
    scale : number ``C >= 0``
        The declared bound ``|rho(t)| <= C e^{-beta t}`` (every ``t >= 0``) resp.
        ``C t^{-beta}`` (every ``t >= 1``).
    tail : ``"unknown"`` (default) or ``"zero"``
        ``"unknown"``: ``rho`` continues beyond the array with unknown values that obey
        the declared bound (``values`` beyond the array, ``tail_sum`` and a nonzero
        padding token are refused).  ``"zero"``: ``rho(t) = 0`` for ``t >= n``.
    allow_non_summable : bool
        Accept ``"poly"`` with ``0 < beta <= 1`` (see the module docstring).

    Notes
    -----
    The declared decay is **checked** on the given values: a violation raises
    ``ValueError`` naming the first failing lag.  The check allows the relative slack
    ``2^-48 (1 + beta t)`` (exp) resp. ``2^-48 (1 + beta log t)`` (poly), the float64
    error of evaluating the bound, so values computed in float64 from the bound itself
    pass; ``decay_constant`` is reported widened by twice the largest slack used, so it
    is a valid constant for the given values.  Beyond the array the bound is
    **declared**, not checked.

    Examples
    --------
    >>> ArrayKernel([1, 0.5, 0.25], decay="exp", beta="0.69", scale=1).values(2)
    0.25
    >>> ArrayKernel([1, 0.9], decay="exp", beta=1, scale=1)
    Traceback (most recent call last):
    ...
    ValueError: ArrayKernel values do not decay as declared: first failure at lag 1: |rho(1)| = 0.9 > C e^{-beta t} = 0.36787944117144233 (decay='exp', beta=1, C=1)
    """

    array: Any
    decay: str
    beta: Any
    scale: Any
    tail: str = "unknown"
    allow_non_summable: bool = False
    values_f: np.ndarray = field(init=False, repr=False, compare=False)

    kind = "array"

    def __init__(self, values: Any, decay: str, beta: Any, scale: Any, tail: str = "unknown",
                 allow_non_summable: bool = False) -> None:
        object.__setattr__(self, "allow_non_summable", _bool("allow_non_summable", allow_non_summable))
        require_choice("decay", decay, DECAYS)
        object.__setattr__(self, "decay", decay)
        object.__setattr__(self, "beta", _positive_beta(beta, decay, allow_non_summable))
        C = exact_rational("scale", scale)
        if C < 0:
            raise ValueError(f"scale (the decay constant C) must be >= 0, got {short_repr(scale)}")
        object.__setattr__(self, "scale", C)
        require_choice("tail", tail, ("unknown", "zero"))
        object.__setattr__(self, "tail", tail)
        if isinstance(values, (str, bytes)) or np.ndim(values) != 1 or len(values) == 0:
            raise ValueError(f"values must be a non-empty 1-d sequence of numbers, got {short_repr(values)}")
        vals = tuple(exact_rational(f"values[{i}]", v) for i, v in enumerate(values))
        object.__setattr__(self, "array", vals)
        object.__setattr__(self, "values_f", np.array([_to_float(v) for v in vals], dtype=float))
        self.values_f.setflags(write=False)
        self._check_decay()

    def _check_decay(self) -> None:
        vals = self.values_f
        t = np.arange(len(vals), dtype=float)
        C, b = _to_float(self.scale), _to_float(self.beta)
        with np.errstate(divide="ignore", over="ignore", under="ignore"):
            if self.decay == "exp":
                bound = C * np.exp(-b * t)
                first = 0
            else:
                bound = C * np.power(np.maximum(t, 1.0), -b)
                first = 1
        # float screen; every doubtful lag is decided exactly below
        doubtful = np.nonzero((np.abs(vals) > bound * (1 - 1e-9)) | (bound < 1e-290))[0]
        for lag in doubtful:
            lag = int(lag)
            if lag < first:
                continue
            with mpmath.workdps(40):
                v = abs(to_mpf(self.array[lag]))
                bnd = (to_mpf(self.scale) * (mpmath.exp(-to_mpf(self.beta) * lag) if self.decay == "exp"
                                             else mpmath.power(lag, -to_mpf(self.beta))))
                ok = v <= bnd * (1 + to_mpf(_ARRAY_TOL) * self._slack_factor(lag))
            if not ok:
                law = "C e^{-beta t}" if self.decay == "exp" else "C t^{-beta}"
                raise ValueError(
                    f"ArrayKernel values do not decay as declared: first failure at lag {lag}: "
                    f"|rho({lag})| = {float(v)!r} > {law} = {float(bnd)!r} "
                    f"(decay={self.decay!r}, beta={self.beta}, C={self.scale})")

    def _slack_factor(self, lag: int) -> mpmath.mpf:
        b = to_mpf(self.beta)
        return 1 + (b * lag if self.decay == "exp" else b * mpmath.log(max(lag, 1)))

    @property
    def length(self) -> int:
        """Number of stored values."""
        return len(self.array)

    @property
    def known_length(self) -> int | None:
        return self.length if self.tail == "unknown" else None

    @property
    def decay_constant(self) -> sympy.Rational:
        """``C (1 + 2^-47 (1 + beta (n - 1)))`` (exp) or with ``ceil(beta log(n - 1))`` (poly):
        the declared ``C`` widened by the slack of the check, an exact rational."""
        n = self.length - 1
        if self.decay == "exp":
            worst = 1 + sympy.ceiling(self.beta * n)
        else:
            worst = 1 + sympy.ceiling(self.beta * sympy.log(max(n, 1)))
        return self.scale * (1 + 2 * _ARRAY_TOL * worst)

    @property
    def summable(self) -> bool:
        return self.tail == "zero" or super().summable

    @property
    def tail_known(self) -> bool:
        return self.tail == "zero"

    @property
    def sign(self) -> int | None:
        if self.tail != "zero":
            return None
        signs = {_sign(v) for v in self.array} - {0}
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def _unknown(self, s: np.ndarray) -> None:
        if self.tail == "unknown" and s.size and int(s.max()) >= self.length:
            raise ValueError(f"rho({int(s.max())}) is unknown: this ArrayKernel holds lags 0..{self.length - 1} "
                             f"and its tail is only bounded (tail='unknown'); use a window of at most "
                             f"{self.length} tokens or tail='zero'")

    def values(self, s: Any) -> Any:
        arr, scalar = _lags(s)
        self._unknown(arr)
        padded = np.concatenate([self.values_f, [0.0]])
        return _out(padded[np.minimum(arr, self.length)], scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = _lags(s)
        self._unknown(arr)
        with mpmath.workdps(dps):
            vals = [to_mpf(self.array[int(v)]) if int(v) < self.length else mpmath.mpf(0)
                    for v in arr.reshape(-1)]
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = _lags(t0, "t0")
        if self.tail == "unknown":
            raise ValueError("the tail sum of an ArrayKernel with tail='unknown' is unknown (its values "
                             "beyond the array are only bounded); use tail='zero', a zero padding token "
                             "or past='none'")
        suffix = np.concatenate([np.cumsum(self.values_f[::-1])[::-1], [0.0]])
        return _out(suffix[np.minimum(arr, self.length)], scalar)

    def tail_sum_mp(self, t0: int, dps: int) -> mpmath.mpf:
        t0 = require_int("t0", t0, minimum=0)
        self.tail_sum(t0)  # raises for an unknown tail
        with mpmath.workdps(dps):
            return mpmath.fsum([to_mpf(v) for v in self.array[t0:]])

    def abs_tail_bound(self, t0: int, dps: int = 30) -> mpmath.mpf:
        """Direct sum of ``|rho(s)|`` over the array from ``t0``, plus the declared tail bound
        beyond it (``tail='unknown'``)."""
        t0 = require_int("t0", t0, minimum=0)
        with mpmath.workdps(dps):
            head = mpmath.fsum([abs(to_mpf(v)) for v in self.array[t0:]])
            if self.tail == "zero":
                return head
            n = max(t0, self.length)
            C, b = to_mpf(self.decay_constant), to_mpf(self.beta)
            if self.decay == "exp":
                return head + C * mpmath.exp(-b * n) / (-mpmath.expm1(-b))
            if b <= 1:
                return mpmath.inf
            return head + C * mpmath.zeta(b, max(n, 1))

    def l1_norm(self, *, dps: int = 30, terms: int = 4096) -> tuple[float, float]:
        """Direct sum over the array (the lower end) plus the declared tail bound (``terms`` unused)."""
        dps = require_int("dps", dps, minimum=15)
        with mpmath.workdps(dps + 5):
            head = mpmath.fsum([abs(to_mpf(v)) for v in self.array])
            return _enclose(head, self.abs_tail_bound(0, dps + 5), dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "values": [rational_to_str(v) for v in self.array],
                "decay": self.decay, "beta": rational_to_str(self.beta), "scale": rational_to_str(self.scale),
                "tail": self.tail, "allow_non_summable": self.allow_non_summable}


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

_KERNEL_FIELDS = {
    "exponential": {"kind", "scale", "beta"},
    "polynomial": {"kind", "scale", "beta", "offset", "at_zero", "allow_non_summable"},
    "mixture": {"kind", "components", "weights"},
    "shifted_bump": {"kind", "center", "width", "scale", "beta"},
    "array": {"kind", "values", "decay", "beta", "scale", "tail", "allow_non_summable"},
}


def kernel_from_dict(data: Mapping[str, Any]) -> MemoryKernel:
    """Rebuild a kernel from ``to_dict`` output (numbers parsed exactly, nothing evaluated)."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ValueError(f"kernel must be an object with a 'kind' field, got {short_repr(data)}")
    kind = data["kind"]
    if kind not in _KERNEL_FIELDS:
        raise ValueError(f"kernel kind must be one of {', '.join(map(repr, _KERNEL_FIELDS))}; got {short_repr(kind)}")
    if set(data) != _KERNEL_FIELDS[kind]:
        raise ValueError(f"a {kind} kernel needs exactly the fields {sorted(_KERNEL_FIELDS[kind])}, got {sorted(data)}")

    def num(name: str) -> sympy.Rational:
        return rational_from_str(f"kernel.{name}", data[name])

    def nums(name: str) -> list:
        v = data[name]
        if not isinstance(v, list):
            raise TypeError(f"kernel.{name} must be a list of number strings, got {short_repr(v)}")
        return [rational_from_str(f"kernel.{name}[{i}]", x) for i, x in enumerate(v)]

    if kind == "exponential":
        return ExponentialKernel(num("scale"), num("beta"))
    if kind == "polynomial":
        return PolynomialKernel(num("scale"), num("beta"), offset=data["offset"],
                                at_zero=None if data["at_zero"] is None else num("at_zero"),
                                allow_non_summable=data["allow_non_summable"])
    if kind == "mixture":
        comps = data["components"]
        if not isinstance(comps, list):
            raise TypeError(f"kernel.components must be a list, got {short_repr(comps)}")
        return MixtureKernel([kernel_from_dict(c) for c in comps], nums("weights"))
    if kind == "shifted_bump":
        return ShiftedBumpKernel(num("center"), num("width"), num("scale"), num("beta"))
    return ArrayKernel(nums("values"), data["decay"], num("beta"), num("scale"), tail=data["tail"],
                       allow_non_summable=data["allow_non_summable"])
