"""The named memory kernels of H^Ess (paper eqs. (13)-(14), Thm 5.1, experiments H.2.7 / H.2.8).

* :class:`ExponentialKernel`: ``rho(t) = scale e^{-beta t}``, Thm 5.1 (A) (H.2.8: ``scale = 1, beta = 5``);
* :class:`PolynomialKernel`: ``scale (1 + t)^{-beta}`` or ``scale t^{-beta}`` with ``rho(0) = at_zero``,
  Thm 5.1 (B) (H.2.7: ``beta = 0.5``, not summable, finite sequences only);
* :class:`MixtureKernel`: ``sum_i w_i rho_i`` (multi-scale kernels, Sec. 5.1);
* :class:`ShiftedBumpKernel`: a C-infinity bump around a lag (an essentially sparse memory).

Each states its decay exactly (``decay``, ``beta``, ``decay_constant``), sums its tails in
closed form (geometric series, Hurwitz zeta, finite sums) and encloses ``||rho||_1`` outward
(:mod:`tfapprox.theory.kernel_enclosures`).  The conventions (``rho(0)`` of ``t^{-beta}``,
summability) are in :mod:`tfapprox.theory.memory_kernels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import scipy.special
import sympy

from .kernel_base import MemoryKernel, kernel_lags, lag_output, rational_sign, require_decay_rate
from .kernel_enclosures import enclose_outward
from .messages import short_repr
from .numbers import rational_to_str
from .rationals import exact_rational, to_float, to_mpf
from .validation import require_bool, require_choice, require_int

__all__ = ["ExponentialKernel", "PolynomialKernel", "MixtureKernel", "ShiftedBumpKernel"]


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
        object.__setattr__(self, "beta", require_decay_rate(self.beta, "exp", False))

    @property
    def decay_constant(self) -> sympy.Rational:
        return abs(self.scale)

    @property
    def sign(self) -> int:
        return rational_sign(self.scale)

    def values(self, s: Any) -> Any:
        arr, scalar = kernel_lags(s)
        return lag_output(to_float(self.scale) * np.exp(-to_float(self.beta) * arr.astype(float)), scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = kernel_lags(s)
        with mpmath.workdps(dps):
            a, b = to_mpf(self.scale), to_mpf(self.beta)
            out = np.array([a * mpmath.exp(-b * int(v)) for v in arr.reshape(-1)], dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = kernel_lags(t0, "t0")
        b = to_float(self.beta)
        return lag_output(to_float(self.scale) * np.exp(-b * arr.astype(float)) / (-math.expm1(-b)), scalar)

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
            return enclose_outward(v, v, dps)

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
        require_bool("allow_non_summable", self.allow_non_summable)
        object.__setattr__(self, "scale", exact_rational("scale", self.scale))
        object.__setattr__(self, "beta", require_decay_rate(self.beta, "poly", self.allow_non_summable))
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
        signs = {rational_sign(self.scale), rational_sign(self.rho0)} - {0}
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def values(self, s: Any) -> Any:
        arr, scalar = kernel_lags(s)
        t = arr.astype(float) + self.offset
        with np.errstate(divide="ignore"):
            v = to_float(self.scale) * np.power(np.where(t > 0, t, 1.0), -to_float(self.beta))
        if self.offset == 0:
            v = np.where(arr == 0, to_float(self.at_zero), v)
        return lag_output(v, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = kernel_lags(s)
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
        arr, scalar = kernel_lags(t0, "t0")
        self._check_summable()
        b = to_float(self.beta)
        start = np.maximum(arr, 1).astype(float) + self.offset if self.offset == 0 else arr.astype(float) + 1.0
        v = to_float(self.scale) * scipy.special.zeta(b, start) if self.scale != 0 else np.zeros(arr.shape)
        if self.offset == 0:
            v = v + np.where(arr == 0, to_float(self.at_zero), 0.0)
        return lag_output(np.asarray(v, dtype=float), scalar)

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
            return enclose_outward(v, v, dps)

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
            signs.add(rational_sign(w) * c.sign)
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def values(self, s: Any) -> Any:
        arr, scalar = kernel_lags(s)
        total = np.zeros(arr.shape)
        for w, c in zip(self.weights, self.components):
            if w != 0:
                total = total + to_float(w) * np.asarray(c.values(arr), dtype=float)
        return lag_output(total, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = kernel_lags(s)
        with mpmath.workdps(dps):
            parts = [(to_mpf(w), np.asarray(c.values_mp(arr.reshape(-1), dps), dtype=object))
                     for w, c in zip(self.weights, self.components)]
            vals = [mpmath.fsum([w * p[j] for w, p in parts]) for j in range(arr.size)]
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = kernel_lags(t0, "t0")
        total = np.zeros(arr.shape)
        for w, c in zip(self.weights, self.components):
            if w != 0:
                total = total + to_float(w) * np.asarray(c.tail_sum(arr), dtype=float)
        return lag_output(total, scalar)

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
                return enclose_outward(lo, hi, dps)
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
        object.__setattr__(self, "beta", require_decay_rate(self.beta, "exp", False))

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
        return rational_sign(self.scale) if lo <= hi else 0

    def values(self, s: Any) -> Any:
        arr, scalar = kernel_lags(s)
        u = (arr.astype(float) - to_float(self.center)) / to_float(self.width)
        lo, hi = self.support
        inside = (arr >= lo) & (arr <= hi)  # exact integer test, no float edge effects
        q = np.where(inside, 1.0 - u * u, 1.0)
        v = np.where(inside, to_float(self.scale) * np.exp(1.0 - 1.0 / q), 0.0)
        return lag_output(v, scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = kernel_lags(s)
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
        arr, scalar = kernel_lags(t0, "t0")
        lo, hi = self.support
        if hi < lo:
            return lag_output(np.zeros(arr.shape), scalar)
        vals = np.asarray(self.values(np.arange(lo, hi + 1)), dtype=float)
        suffix = np.concatenate([np.cumsum(vals[::-1])[::-1], [0.0]])  # suffix[j] = sum vals[j:]
        idx = np.clip(arr - lo, 0, hi - lo + 1)
        return lag_output(suffix[idx], scalar)

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
            return enclose_outward(v, v, dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "center": rational_to_str(self.center), "width": rational_to_str(self.width),
                "scale": rational_to_str(self.scale), "beta": rational_to_str(self.beta)}

