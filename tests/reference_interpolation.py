"""Test-only reference: the delta kernels' interpolation as it was before issue 15 (about ``H^3``).

:func:`interpolate_reference` chooses the precision for the monomial coefficients and forms the
cosine sums node by node in fixed point; tests/test_kernel_scaling.py and bench/bench_scaling.py
compare the construction's FFT interpolation
(:func:`tfapprox.constructions.delta_interpolation.interpolate`) with it (Wang & E 2024, App. F,
Lemmas F.1/F.4).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from tfapprox.constructions.bump_nodes import bump_node_values, node_geometry
from tfapprox.constructions.delta_interpolation import Interpolant
from tfapprox.theory.bounds import BumpPlacement
from tfapprox.theory.numerics.chebyshev import LOG2_10, cos_table, round_div, sum_chebyshev_at_3

__all__ = ["interpolate_reference"]


def interpolate_reference(place: BumpPlacement, H: int, nodes: str, digits: int) -> Interpolant:
    """The construction's previous interpolation (reference for the tests and ``bench/bench_scaling.py``).

    The precision ``p`` is chosen for the *monomial* coefficients (``sum_j |dc_j| T_j(3) <= tol/4``,
    ``log2 T_j(3) ~ 2.54 j``: ``p`` grows like ``2.54 H`` bits) and the cosine sums are formed one node
    at a time in fixed point (``K H`` products of ``p``-bit integers): about ``H^3``.  The error
    bound ``cheb_error_units`` is derived analytically from the rounding of the node values and
    of :func:`cos_table`.
    """
    N = H - 1
    M, angle = node_geometry(H, nodes)
    s3 = sum_chebyshev_at_3(N)
    with mpmath.workdps(30):
        mu0, sigma0, height0 = place.numeric(30)
        peak0 = height0 / mpmath.e
    log2_peak = float(mpmath.log(peak0, 2))
    log2_height = float(mpmath.log(height0, 2))
    log2_sigma = float(mpmath.log(sigma0, 2))
    # a priori |dc_j| <= Dc 2^{-p}; need Dc 2^{-p} s3 <= 10^{-digits} peak / 4
    # the peak e^{gamma T}/e overflows float64 for lin lags T > ~70,000 (gamma = 1/100): then in mpmath
    if peak0 < mpmath.mpf(2) ** 1000:
        log2_Dc = math.log2(4 * (float(peak0) + 2) + 1)
    else:
        with mpmath.workdps(30):
            log2_Dc = float(mpmath.log(4 * (peak0 + 2) + 1, 2))
    p = math.ceil(math.log2(s3) + log2_Dc + digits * LOG2_10 + 2 - log2_peak) + 8
    p = max(p, 64)
    internal = p + 64 + max(0, math.ceil(-log2_sigma)) + max(0, math.ceil(log2_height))
    dps_internal = math.ceil(internal / LOG2_10) + 5
    with mpmath.workdps(dps_internal):
        scale = mpmath.mpf(2) ** p
        F = {k: int(mpmath.nint(f * scale)) for k, _x, f in bump_node_values(place, H, nodes, dps_internal)}
    K = len(F)
    if H == 1:
        C = [F.get(0, 0)]
        err_units = mpmath.mpf(1)
    else:
        cos = np.array(cos_table(M, p), dtype=object)
        period = 2 * M
        j = np.arange(N + 1, dtype=np.int64)
        acc = np.zeros(N + 1, dtype=object)
        acc[:] = 0
        for k, Fk in F.items():
            idx = (j * angle[k]) % period
            idx = np.where(idx > M, period - idx, idx)
            w = Fk if (nodes == "chebyshev1" or k in (0, N)) else 2 * Fk
            acc += w * cos[idx]
        if nodes == "chebyshev2":
            den = 2 * N
            kappa = [1 if jj in (0, N) else 2 for jj in range(N + 1)]
            weight_sum = 2 * K  # sum of node weights 2 omega_k
            nodes_den = N
        else:
            den = H
            kappa = [1 if jj == 0 else 2 for jj in range(N + 1)]
            weight_sum = K
            nodes_den = H
        C = [round_div(kappa[jj] * int(acc[jj]), den << p) for jj in range(N + 1)]
        # |dc_j| in units of 2^-p: kappa/den * (weight_sum * (2^p (peak+1) + 1)) / 2^p + 1/2
        with mpmath.workdps(30):
            err_units = (mpmath.mpf(2) * weight_sum / (2 * nodes_den if nodes == "chebyshev2" else nodes_den)
                         * (peak0 * (1 + mpmath.mpf(2) ** -40) + 1 + mpmath.mpf(2) ** -p) + mpmath.mpf(1) / 2)
    return Interpolant(tuple(C), p, err_units, K)
