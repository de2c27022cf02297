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

Where the code lives
--------------------
This module is the front door and holds the JSON reader :func:`kernel_from_dict`; the
kernels live in :mod:`tfapprox.theory.kernel_base` (:class:`MemoryKernel`, :data:`DECAYS`),
:mod:`tfapprox.theory.named_kernels` (exponential, polynomial, mixture, shifted bump),
:mod:`tfapprox.theory.array_kernel` (user values, declared decay checked) and
:mod:`tfapprox.theory.kernel_enclosures` (outward rounding of the ``l^1`` enclosures).

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
>>> import math
>>> k = ExponentialKernel(1, 5)
>>> round(k.values(1), 12), k.decay, k.beta, k.decay_constant
(0.006737946999, 'exp', 5, 1)
>>> lo, hi = k.l1_norm()
>>> lo <= 1 / (1 - math.exp(-5)) <= hi
True
"""

from __future__ import annotations

from typing import Any, Mapping

import sympy

from .array_kernel import ArrayKernel
from .kernel_base import DECAYS, MemoryKernel
from .messages import short_repr
from .named_kernels import ExponentialKernel, MixtureKernel, PolynomialKernel, ShiftedBumpKernel
from .numbers import rational_from_str

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
