"""User-supplied memory kernels with a declared, checked decay (paper eqs. (13)-(14), Thm 5.1).

:class:`ArrayKernel` holds ``rho(0), ..., rho(n-1)`` exactly and a *declared* bound
``|rho(t)| <= C e^{-beta t}`` (``decay = "exp"``, Thm 5.1 (A)) or ``C t^{-beta}`` (``"poly"``,
Thm 5.1 (B)).  The bound is **checked** on the given values (exactly, in mpmath, wherever the
float64 screen is in doubt) with the float64 slack of evaluating it, and **declared** beyond
the array: ``tail="unknown"`` (values beyond the array are only bounded) or ``tail="zero"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy

from .kernel_base import DECAYS, MemoryKernel, kernel_lags, lag_output, rational_sign, require_decay_rate
from .kernel_enclosures import enclose_outward
from .messages import short_repr
from .numbers import rational_to_str
from .rationals import exact_rational, to_float, to_mpf
from .validation import require_bool, require_choice, require_int

__all__ = ["ArrayKernel"]

#: Relative slack unit with which ArrayKernel checks its declared decay on float64
#: values: at lag t the slack is ``ARRAY_TOL * (1 + beta t)`` (exp) or
#: ``ARRAY_TOL * (1 + beta log t)`` (poly), the float64 error of computing the bound.
ARRAY_TOL = sympy.Rational(1, 2 ** 48)


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
        object.__setattr__(self, "allow_non_summable", require_bool("allow_non_summable", allow_non_summable))
        require_choice("decay", decay, DECAYS)
        object.__setattr__(self, "decay", decay)
        object.__setattr__(self, "beta", require_decay_rate(beta, decay, allow_non_summable))
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
        object.__setattr__(self, "values_f", np.array([to_float(v) for v in vals], dtype=float))
        self.values_f.setflags(write=False)
        self._check_decay()

    def _check_decay(self) -> None:
        vals = self.values_f
        t = np.arange(len(vals), dtype=float)
        C, b = to_float(self.scale), to_float(self.beta)
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
                ok = v <= bnd * (1 + to_mpf(ARRAY_TOL) * self._slack_factor(lag))
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
        return self.scale * (1 + 2 * ARRAY_TOL * worst)

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
        signs = {rational_sign(v) for v in self.array} - {0}
        return signs.pop() if len(signs) == 1 else (0 if not signs else None)

    def _unknown(self, s: np.ndarray) -> None:
        if self.tail == "unknown" and s.size and int(s.max()) >= self.length:
            raise ValueError(f"rho({int(s.max())}) is unknown: this ArrayKernel holds lags 0..{self.length - 1} "
                             f"and its tail is only bounded (tail='unknown'); use a window of at most "
                             f"{self.length} tokens or tail='zero'")

    def values(self, s: Any) -> Any:
        arr, scalar = kernel_lags(s)
        self._unknown(arr)
        padded = np.concatenate([self.values_f, [0.0]])
        return lag_output(padded[np.minimum(arr, self.length)], scalar)

    def values_mp(self, s: Any, dps: int) -> Any:
        arr, scalar = kernel_lags(s)
        self._unknown(arr)
        with mpmath.workdps(dps):
            vals = [to_mpf(self.array[int(v)]) if int(v) < self.length else mpmath.mpf(0)
                    for v in arr.reshape(-1)]
            out = np.array(vals, dtype=object).reshape(arr.shape)
        return out.reshape(()).item() if scalar else out

    def tail_sum(self, t0: Any) -> Any:
        arr, scalar = kernel_lags(t0, "t0")
        if self.tail == "unknown":
            raise ValueError("the tail sum of an ArrayKernel with tail='unknown' is unknown (its values "
                             "beyond the array are only bounded); use tail='zero', a zero padding token "
                             "or past='none'")
        suffix = np.concatenate([np.cumsum(self.values_f[::-1])[::-1], [0.0]])
        return lag_output(suffix[np.minimum(arr, self.length)], scalar)

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
            return enclose_outward(head, self.abs_tail_bound(0, dps + 5), dps)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "values": [rational_to_str(v) for v in self.array],
                "decay": self.decay, "beta": rational_to_str(self.beta), "scale": rational_to_str(self.scale),
                "tail": self.tail, "allow_non_summable": self.allow_non_summable}

