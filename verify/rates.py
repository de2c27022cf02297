"""Observed convergence rates.

Order-of-accuracy tests use two forms, and so do we: the least-squares slope of
``log error`` against ``log size`` over the last points of the sweep (the asymptotic
window), and every successive ratio with its local order
``log(e_i / e_{i+1}) / log(n_{i+1} / n_i)``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from tfapprox.theory.validation import require_int, require_real

__all__ = ["fit_rate", "local_orders"]


def local_orders(sizes: Sequence[float], errors: Sequence[float]) -> list[float]:
    """Local orders ``log(e_i / e_{i+1}) / log(n_{i+1} / n_i)`` between successive points."""
    out = []
    for (n0, e0), (n1, e1) in zip(zip(sizes, errors), zip(sizes[1:], errors[1:])):
        if e0 > 0 and e1 > 0 and n1 != n0:
            out.append(math.log(e0 / e1) / math.log(n1 / n0))
        else:
            out.append(math.nan)
    return out


def fit_rate(sizes: Sequence[float], errors: Sequence[float], *, parameter: str, predicted: str,
             min_order: float, window: int = 3) -> dict[str, Any]:
    """Fit ``error ~ C size^{-order}`` over the last ``window`` points and judge it.

    Parameters
    ----------
    sizes, errors
        The sweep (sizes increasing, errors > 0).
    parameter
        Name of the varied parameter (``"H"``, ``"m"``, ...), for the report.
    predicted
        The theorem's predicted form, e.g. ``"H^-n for every n (super-algebraic)"``.
    min_order
        The fitted order must be at least this (the tolerance of the check).
    window
        Number of trailing points forming the asymptotic window.
    """
    window = require_int("window", window, minimum=2)
    require_real("min_order", min_order)
    if len(sizes) != len(errors):
        raise ValueError(f"sizes and errors must have equal lengths, got {len(sizes)} and {len(errors)}")
    pairs = [(float(n), float(e)) for n, e in zip(sizes, errors)]
    result: dict[str, Any] = {"parameter": parameter, "predicted": predicted, "window": None,
                              "fitted_order": None, "min_order": min_order,
                              "local_orders": local_orders([p[0] for p in pairs], [p[1] for p in pairs]),
                              "successive_ratios": [e0 / e1 if e1 > 0 else math.inf
                                                    for (_, e0), (_, e1) in zip(pairs, pairs[1:])],
                              "passed": False, "verdict": ""}
    if len(pairs) < 2:
        result["verdict"] = "fewer than 2 points: no rate can be fitted"
        return result
    tail = pairs[-min(window, len(pairs)):]
    result["window"] = [tail[0][0], tail[-1][0]]
    if any(e <= 0 for _, e in tail):
        result["verdict"] = "an error in the window is 0 (exact): the rate is not measurable there"
        result["passed"] = all(e == 0 for _, e in tail)
        return result
    x = np.log([n for n, _ in tail])
    y = np.log([e for _, e in tail])
    slope = float(np.polyfit(x, y, 1)[0])
    order = -slope
    result["fitted_order"] = order
    result["passed"] = order >= min_order
    result["verdict"] = (f"fitted order {order:.2f} over {parameter} in [{tail[0][0]:g}, {tail[-1][0]:g}] "
                         f"{'>=' if result['passed'] else '<'} {min_order:g} required")
    return result
