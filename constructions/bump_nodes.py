"""The bump ``Psi`` of App. F and the Chebyshev interpolation nodes (Lemmas F.1/F.4, steps 1 and 3).

Wang & E 2024, App. F: the delta ``1{t = T}`` is written as a bump
``Psi(y) = exp(-1/(1 - y^2))`` (``0`` outside ``(-1, 1)``) placed at the image ``mu_T`` of ``T``
under the family's change of variables (:func:`tfapprox.theory.bounds.bump_placement`), then
interpolated at ``H`` Chebyshev points of ``[0, 1]``.  This module holds the bump (float64 and
mpmath), the two node families (second kind, the extrema, default; first kind, the roots) and
the values of ``Psi_T`` at the few nodes inside its support: all the data of the interpolant.
"""

from __future__ import annotations

from typing import Any, Sequence

import mpmath
import numpy as np

from tfapprox.theory.bounds import BumpPlacement
from tfapprox.theory.validation import require_choice, require_int

__all__ = ["NODE_FAMILIES", "bump_function", "bump_function_mp", "chebyshev_nodes", "node_geometry",
           "bump_node_values"]

#: Interpolation point families: ``"chebyshev2"`` (extrema, default) and ``"chebyshev1"`` (roots).
NODE_FAMILIES: tuple[str, ...] = ("chebyshev2", "chebyshev1")


def bump_function(y: Any) -> np.ndarray:
    """``Psi(y) = exp(-1/(1-y^2))`` for ``|y| < 1``, else ``0`` (float64, vectorised).

    Examples
    --------
    >>> print(bump_function([0.0, 0.5, 1.0]).round(6))
    [0.367879 0.263597 0.      ]
    """
    y = np.asarray(y, dtype=float)
    out = np.zeros_like(y)
    inside = np.abs(y) < 1
    out[inside] = np.exp(-1.0 / (1.0 - y[inside] ** 2))
    return out


def bump_function_mp(y: Any) -> mpmath.mpf:
    """``Psi(y)`` in mpmath at the current precision."""
    y = mpmath.mpf(y)
    if abs(y) >= 1:
        return mpmath.mpf(0)
    return mpmath.exp(-1 / (1 - y * y))


def chebyshev_nodes(num_terms: Any, nodes: str = "chebyshev2") -> np.ndarray:
    """The ``H`` interpolation points mapped to ``[0, 1]``, ``u_k = (1 + x_k)/2`` (float64).

    ``"chebyshev2"``: ``x_k = cos(k pi/(H-1))``, ``k = 0..H-1`` (for ``H = 1`` the single
    point ``x = 0``, as Chebfun's ``chebpts(1)``).  ``"chebyshev1"``:
    ``x_k = cos((2k+1) pi/(2H))``.

    Examples
    --------
    >>> print(chebyshev_nodes(3))
    [1.  0.5 0. ]
    """
    H = require_int("num_terms", num_terms, minimum=1)
    nodes = require_choice("nodes", nodes, NODE_FAMILIES)
    if nodes == "chebyshev2":
        x = np.cos(np.pi * np.arange(H) / (H - 1)) if H > 1 else np.zeros(1)
    else:
        x = np.cos(np.pi * (2 * np.arange(H) + 1) / (2 * H))
    return (1 + x) / 2


def node_geometry(H: int, nodes: str) -> tuple[int, Sequence[int]]:
    """``(M, angle indices)``: node ``k`` is ``x_k = cos(a_k pi / M)``.

    The angle indices are a lazy ``range`` (O(1) memory and time for any ``H``; callers read
    a few entries, e.g. only the nodes inside the bump's support).
    """
    if H == 1:
        return 2, range(1, 2)  # x = cos(pi/2) = 0 for both families
    if nodes == "chebyshev2":
        return H - 1, range(H)
    return 2 * H, range(1, 2 * H, 2)


def bump_node_values(place: BumpPlacement, num_terms: Any, nodes: str = "chebyshev2",
                     dps: int = 30) -> list[tuple[int, mpmath.mpf, mpmath.mpf]]:
    """The interpolation nodes inside the bump's support and the values there: ``[(k, x_k, Psi_T(u_k))]``.

    Every other node value is exactly 0, so these are all the data of the interpolant ``Q``
    (Lemma F.1/F.4, step 3).  Node ``k`` is ``x_k = cos(a_k pi / M)`` (:func:`chebyshev_nodes`),
    ``u_k = (1 + x_k)/2 = cos^2(a_k pi / 2M)``; the candidates are the angles between those of
    ``mu_T + sigma_T`` and ``mu_T - sigma_T`` (cost independent of ``H``), each tested exactly
    (``|u_k - mu_T| < sigma_T``) and evaluated at ``dps`` digits.

    >>> from tfapprox.theory.bounds import bump_placement
    >>> tuple(k for k, _x, _f in bump_node_values(bump_placement("lin", 901), 143))
    (141,)
    """
    H = require_int("num_terms", num_terms, minimum=1)
    nodes = require_choice("nodes", nodes, NODE_FAMILIES)
    dps = require_int("dps", dps, minimum=15)
    M, angle = node_geometry(H, nodes)
    out = []
    with mpmath.workdps(dps):
        mu, sigma, height = place.numeric(dps)
        a_lo = mpmath.acos(mpmath.sqrt(min(mu + sigma, mpmath.mpf(1)))) * 2 * M / mpmath.pi
        a_hi = mpmath.acos(mpmath.sqrt(max(mu - sigma, mpmath.mpf(0)))) * 2 * M / mpmath.pi
        lo, hi = int(mpmath.floor(a_lo)) - 1, int(mpmath.ceil(a_hi)) + 1
        if H == 1 or nodes == "chebyshev2":
            ks = range(max(0, lo), min(H - 1, hi) + 1) if H > 1 else range(1)
        else:  # a_k = 2k + 1
            ks = range(max(0, (lo - 1) // 2), min(H - 1, (hi - 1) // 2 + 1) + 1)
        for k in ks:
            xk = mpmath.cospi(mpmath.mpf(angle[k]) / M)
            y = ((1 + xk) / 2 - mu) / sigma
            if abs(y) < 1:
                out.append((k, +xk, +(height * mpmath.exp(-1 / (1 - y * y)))))
    return out
