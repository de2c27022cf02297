"""The Chebyshev interpolant of the placed bump ``Psi_T`` with a rigorous error bound (Lemmas F.1/F.4, step 3).

Wang & E 2024, App. F apply Jackson's theorem (Lemma G.5) to ``Psi_T`` on ``[0, 1]``; its
constructive substitute here is the Chebyshev interpolant of degree ``H - 1``.  Its coefficients
``c_j = C_j 2^{-p}`` are the discrete cosine transform of the node values
(:func:`tfapprox.constructions.bump_nodes.bump_node_values`), computed by one FFT in rigorous
ball arithmetic (python-flint's ``acb.dft``); every stored ``c_j`` is within a proven
``cheb_error_units 2^{-p}`` of the exact one (Differences from the paper, D18).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath

from tfapprox.theory.bounds import BumpPlacement
from tfapprox.theory.numerics.chebyshev import LOG2_10, round_div

from .bump_nodes import bump_node_values

__all__ = ["GUARD_BITS", "Interpolant", "chebyshev_precision", "interpolate", "chebyshev_dft"]


@dataclass(frozen=True)
class Interpolant:
    """Fixed-point result of interpolating ``Psi_T`` (reusable by Lemmas F.2/F.5)."""

    cheb_int: tuple[int, ...]      # C_j with c_j = C_j 2^{-p}
    precision: int                 # p
    cheb_error_units: mpmath.mpf   # |c_j(stored) - c_j(exact)| <= units * 2^{-p}
    nonzero_nodes: int


#: Bits kept beyond what the requested accuracy needs: the stored ``c_j`` then agree with the exact
#: ones far below the 106 bits of the double-double images the certificates use.
GUARD_BITS = 64


def chebyshev_precision(H: int, digits: int, log2_peak: float) -> int:
    """Bits ``p`` of the stored ``c_j``: ``(N + 1) * 2 * 2^{-p} <= 10^{-digits} peak / 4`` plus guard bits."""
    return max(64, math.ceil(math.log2(H) + 1 + digits * LOG2_10 + 2 - log2_peak) + 8 + GUARD_BITS)


def interpolate(place: BumpPlacement, H: int, nodes: str, digits: int) -> Interpolant:
    """The Chebyshev coefficients ``c_j = C_j 2^{-p}`` of the interpolant of ``Psi_T``, with a rigorous error bound.

    ``c_j = (kappa_j / den) sum_k w_k f_k cos(j a_k pi / M)`` (the discrete cosine transform of the
    node values ``f_k``, zero outside the bump's support) is computed as the real part of one
    discrete Fourier transform in ball arithmetic (python-flint ``acb.dft``, Arb's rigorous
    FFT): the node values enter as balls ``F_k 2^{-q} +- 2^{-q}`` (``F_k = round(f_k 2^q)`` from
    mpmath at ``q + 64`` bits), every output ball contains the exact ``c_j``, and rounding its
    midpoint to ``C_j`` adds at most ``2^{-p-1}``.  So ``|C_j 2^{-p} - c_j| <= (rad_j 2^p + 1/2) 2^{-p}``;
    the maximum over ``j`` is ``cheb_error_units``.  ``p`` depends only on the requested accuracy
    and ``log2 H`` (:func:`chebyshev_precision`): the cost is one FFT of length ``2M`` at about
    ``p + 100`` bits.
    """
    N = H - 1
    with mpmath.workdps(30):
        mu0, sigma0, height0 = place.numeric(30)
        peak0 = height0 / mpmath.e
    log2_peak = float(mpmath.log(peak0, 2))
    log2_height = float(mpmath.log(height0, 2))
    log2_sigma = float(mpmath.log(sigma0, 2))
    p = chebyshev_precision(H, digits, log2_peak)
    q = p + 32
    internal = q + 64 + max(0, math.ceil(-log2_sigma)) + max(0, math.ceil(log2_height))
    dps_internal = math.ceil(internal / LOG2_10) + 5
    with mpmath.workdps(dps_internal):
        scale = mpmath.mpf(2) ** q
        F = {k: int(mpmath.nint(f * scale)) for k, _x, f in bump_node_values(place, H, nodes, dps_internal)}
    K = len(F)
    if H == 1:
        C = [round_div(F.get(0, 0), 1 << (q - p))]
        return Interpolant(tuple(C), p, mpmath.mpf(1), K)
    if K == 0:
        return Interpolant(tuple([0] * H), p, mpmath.mpf(1) / 2, 0)
    C, err_units = chebyshev_dft(F, H, nodes, p, q)
    return Interpolant(tuple(C), p, err_units, K)


def chebyshev_dft(F: dict[int, int], H: int, nodes: str, p: int, q: int) -> tuple[list[int], mpmath.mpf]:
    """``C_j`` (``c_j`` in units of ``2^{-p}``) and the error bound in those units, from the node values
    ``F_k 2^{-q}`` (each within ``2^{-q}`` of ``f_k``), by one rigorous ball-arithmetic FFT.

    Second kind (``x_k = cos(k pi/N)``): ``c_j = (kappa_j / 2N) Re sum_k w_k f_k e^{2 pi i jk/(2N)}``,
    ``w_k = 1`` at ``k = 0, N`` else ``2``, ``kappa_j`` likewise.  First kind
    (``x_k = cos((2k+1) pi/2H)``): ``c_j = (kappa_j / H) Re(e^{i pi j/2H} sum_k f_k e^{2 pi i jk/(2H)})``,
    ``kappa_0 = 1``, else ``2``.  ``acb.dft`` computes ``D_j = sum_k v_k e^{-2 pi i jk/L}``; the inputs
    are real, so the sums above are ``conj(D_j)``.
    """
    from flint import acb, arb, ctx

    N = H - 1
    second = nodes == "chebyshev2"
    L = 2 * N if second else 2 * H
    den = 2 * N if second else H
    old_prec = ctx.prec
    try:
        ctx.prec = q + 64 + L.bit_length()
        unit = arb(2) ** (-q)
        zero = acb(0)
        vec = [zero] * L
        for k, Fk in F.items():
            w = 1 if (not second or k in (0, N)) else 2
            vec[k] = acb(arb(w * Fk, w) * unit)
        D = acb.dft(vec)
        C: list[int] = []
        worst = 0.0
        for j in range(N + 1):
            z = D[j]
            if second:
                acc = z.real
                kappa = 1 if j in (0, N) else 2
            else:
                phi = arb(j) / (2 * H)
                acc = phi.cos_pi() * z.real + phi.sin_pi() * z.imag  # Re(e^{i pi phi} conj(z))
                kappa = 1 if j == 0 else 2
            c = acc * kappa / den
            man, e = c.mid().man_exp()
            man, e = int(man), int(e) + p
            C.append(man << e if e >= 0 else round_div(man, 1 << -e))
            rman, rexp = c.rad().man_exp()
            if rman:
                worst = max(worst, math.ldexp(float(int(rman)) * (1 + 2.0 ** -50), int(rexp) + p))
    finally:
        ctx.prec = old_prec
    if not math.isfinite(worst):
        raise ArithmeticError(f"the Chebyshev coefficients lost all accuracy (radius 2^{p} x {worst})")
    with mpmath.workdps(30):
        err_units = (mpmath.mpf(worst) + mpmath.mpf(1) / 2) * (1 + mpmath.mpf(2) ** -40)
    return C, err_units
