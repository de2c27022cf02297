"""The interface of memory kernels ``rho: N -> R`` of H^Ess (paper eqs. (13)-(14), Thm 5.1).

:class:`MemoryKernel` is what a target (:class:`tfapprox.theory.target_classes.EssentiallySparseTarget`),
the constructions of Thm 5.1 / Lemmas F.3, F.6 and the checks ask of a kernel: values in float64
and mpmath, its declared decay ``|rho(t)| <= C e^{-beta t}`` (``decay = "exp"``, Thm 5.1 (A))
or ``C t^{-beta}`` (``decay = "poly"``, Thm 5.1 (B)), closed-form tail sums, and a rigorous
enclosure of ``||rho||_1``.  The shared helpers for lag arguments, signs and decay rates of the
kernel classes (:mod:`tfapprox.theory.named_kernels`, :mod:`tfapprox.theory.array_kernel`) live
here too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import mpmath
import numpy as np
import sympy

from .kernel_enclosures import enclose_outward, mp_upper_bound
from .limits import MAX_DECAY_RATE
from .messages import short_repr
from .rationals import exact_rational, to_mpf
from .validation import require_int

__all__ = ["MemoryKernel", "DECAYS", "kernel_lags", "lag_output", "rational_sign", "require_decay_rate"]

DECAYS: tuple[str, ...] = ("exp", "poly")
"""Decay types of a memory kernel: ``"exp"`` (``e^{-beta t}``, Thm 5.1 with lin-RPE) and
``"poly"`` (``t^{-beta}``, log-RPE)."""


def kernel_lags(s: Any, name: str = "s") -> tuple[np.ndarray, bool]:
    """Integer lags ``s >= 0`` as an int64 array, and whether the input was a scalar.

    Booleans and non-integer arrays raise ``TypeError``, negative lags ``ValueError``, naming ``name``.
    """
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


def lag_output(arr: np.ndarray, scalar: bool) -> Any:
    """``arr`` as a float when the lags were one scalar (see :func:`kernel_lags`), else as is."""
    return float(arr) if scalar else arr


def rational_sign(q: sympy.Rational) -> int:
    """``+1``, ``-1`` or ``0``: the sign of an exact rational."""
    return 1 if q > 0 else (-1 if q < 0 else 0)


def require_decay_rate(beta: Any, decay: str, allow_non_summable: bool) -> sympy.Rational:
    """The exact decay rate ``beta`` of a kernel of type ``decay`` (Thm 5.1 (A)/(B)).

    ``beta > 0`` for ``"exp"``; ``beta > 1`` for ``"poly"`` (an ``l^1`` kernel) unless
    ``allow_non_summable`` (then ``beta > 0``); ``|beta| <= MAX_DECAY_RATE``.  Raises
    ``ValueError`` naming ``beta``, the value and the rule.
    """
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
            C = mp_upper_bound(self.decay_constant, dps)
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
            return enclose_outward(head, head + tail, dps)

    @abstractmethod
    def to_dict(self) -> dict:
        """The JSON description of the kernel (``kind`` and exact parameters)."""

