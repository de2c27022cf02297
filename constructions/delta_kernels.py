"""Lemmas F.1 and F.4: a delta ``1{t = T}`` as a sum of ``H`` exponentials or powers.

The paper's proofs (Wang & E 2024, App. F) build the kernel of one head
group of the Theorem 3.1 Transformer in four steps, reproduced here exactly:

1. **Bump.** ``Psi(y) = exp(-1/(1 - y^2))`` on ``(-1, 1)``, ``0`` elsewhere, placed at the
   image of ``T`` under a change of variables: ``Psi_T(u) = V_T Psi((u - mu_T)/sigma_T)``
   (:func:`tfapprox.theory.bounds.bump_placement`).
2. **Change of variables.** Lemma F.1 (lin-RPE): ``u = e^{-alpha t}``, ``t in N``,
   ``mu_T = e^{-alpha T}``, ``sigma_T = e^{-alpha T} - e^{-alpha (T+1)}``, ``V_T = e e^{gamma T}``.
   Lemma F.4 (log-RPE): ``u = t^{-alpha}``, ``t in N_+``, ``mu_T = T^{-alpha}``,
   ``sigma_T = T^{-alpha} - (T+1)^{-alpha}``, ``V_T = e T^{1+gamma}``.  Then
   ``Phi_T(t) = w(t) Psi_T(u(t))`` with ``w(t) = e^{-gamma t}`` (lin) or ``t^{-(1+gamma)}`` (log)
   equals ``1{t = T}`` *exactly* on the lattice: only ``t = T`` falls inside the bump's
   support, where ``Psi = e^{-1}``.
3. **Polynomial approximation.** The paper applies Jackson's theorem (Lemma G.5) to
   ``Psi_T`` on ``[0, 1]``.  Jackson's polynomial is not constructive; its constructive
   substitute here is the **Chebyshev interpolant** ``Q`` of degree ``H - 1`` at ``H``
   Chebyshev points mapped to ``[0, 1]`` (second kind, the extrema ``cos(k pi/(H-1))``, by
   default; ``nodes="chebyshev1"`` uses the roots ``cos((2k+1) pi/(2H))``).  Its error
   obeys the explicit bounds of :mod:`tfapprox.theory.bounds`.
4. **Back to the lattice.** ``P(t) = w(t) Q(u(t)) = sum_{k=0}^{H-1} a_k e^{-(gamma + alpha k) t}``
   (lin) or ``sum_k a_k t^{-(1 + gamma + alpha k)}`` (log): ``H`` exponentials / powers, i.e.
   ``H`` DP-free heads with ``p = beta_k`` and value weight ``a_k`` times the softmax normaliser.

Numerics (Differences from the paper, D18).  The monomial coefficients ``a_k`` are huge (about
``10^{0.75 H}``) and cancel, so the construction's primary data is the *stable basis*:

* the Chebyshev coefficients ``c_j`` of ``Q(u) = sum_j c_j T_j(2u - 1)``, evaluated by Clenshaw
  (float64 in :meth:`DeltaKernel.evaluate`; the certificates of :mod:`tfapprox.verify.kernel_error`
  use only them).  They are the discrete cosine transform of the node values, computed by one
  FFT in rigorous ball arithmetic (python-flint's ``acb.dft``) and stored as ``C_j 2^{-p}`` with
  ``p`` chosen from the requested accuracy and ``log2 H`` only, each within a proven
  ``cheb_error_units 2^{-p}`` of the exact coefficient (:func:`_interpolate`);
* the *realised* coefficients ``a_k`` (what the Transformer's weights are) are made on demand
  (:attr:`DeltaKernel.coefficients`, cached): the stored ``C_j`` converted **exactly** to the
  monomial basis of ``u`` (integer polynomials, divide and conquer, :func:`_chebyshev_to_monomial`),
  then stored as mpf at ``coefficient_dps`` digits.

``coefficient_error_bound`` bounds, on ``[0, 1]``, the distance from the exact interpolant to the
stored Chebyshev form (``sum_j |dc_j|``) and to the realised ``sum_k a_k u^k`` (plus the rounding of
the ``a_k``, whose share is fixed in advance by the digits rule), so that
``coefficient_error_bound <= 10^{-coefficient_digits} * sup Psi_T / 2``; it is known before any
``a_k`` exists.  Building the stable form costs one FFT of length ``2H`` at about ``p + 100``
bits; the realised coefficients cost ``O(M(H) log H)`` on numbers of ``0.75 H`` digits.

Examples
--------
>>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
>>> k = lemma_f1_kernel(5, 64)
>>> k.exponents[:3]
(1/100, 1/50, 3/100)
>>> print(f"{k.evaluate(5):.4f}")
0.9825
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import numpy as np
import sympy

from tfapprox.theory.limits import MAX_KERNEL_RATE
from tfapprox.theory.bounds import RPE_TYPES, BumpPlacement, bump_placement
from tfapprox.theory.validation import require_choice, require_int, require_positive_rational, short_repr

__all__ = [
    "NODE_FAMILIES",
    "DEFAULT_ALPHA",
    "DEFAULT_GAMMA",
    "bump_function",
    "bump_function_mp",
    "chebyshev_nodes",
    "bump_node_values",
    "DeltaKernel",
    "delta_kernel",
    "lemma_f1_kernel",
    "lemma_f4_kernel",
]

#: Interpolation point families: ``"chebyshev2"`` (extrema, default) and ``"chebyshev1"`` (roots).
NODE_FAMILIES: tuple[str, ...] = ("chebyshev2", "chebyshev1")

#: The paper's ``alpha = gamma = 0.01`` (App. F), exact.
DEFAULT_ALPHA = sympy.Rational(1, 100)
DEFAULT_GAMMA = sympy.Rational(1, 100)
"""The paper's ``gamma = 0.01`` of Lemmas F.1/F.4 (App. F), exact."""

_LOG2_10 = math.log2(10)


# ---------------------------------------------------------------------------------------
# The bump and the nodes
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# Exact integer machinery
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _sum_chebyshev_at_3(N: int) -> int:
    """``sum_{j=0}^{N} T_j(3)``: bounds ``sum_k |[u^k] T_j(2u-1)|`` summed over ``j <= N``.

    ``T_j(2u-1)`` has all its roots in ``(0, 1)``, so its coefficients alternate in sign and
    their absolute values sum to ``|T_j(2(-1)-1)| = T_j(3)``.
    """
    total, a, b = 1, 1, 3
    for _ in range(N):
        total += b
        a, b = b, 6 * b - a
    return total


def _round_div(num: int, den: int) -> int:
    """``num/den`` rounded to the nearest integer (ties up), ``den > 0``."""
    return (2 * num + den) // (2 * den)


def _cos_table(M: int, p: int) -> list[int]:
    """``round(cos(m pi / M) 2^p)`` for ``m = 0..M`` (error <= 1/2 + 2^-30 units of 2^-p).

    Complex rotation by ``e^{i pi/M}`` in fixed point with 64 guard bits: each step adds at
    most 3 units of ``2^{-(p+64)}``, so after ``M <= 2^30`` steps the drift is below
    ``2^{-30}`` units of ``2^{-p}`` before the final rounding.
    """
    g = 64
    q = p + g
    with mpmath.workprec(q + 32):
        c1 = int(mpmath.nint(mpmath.cospi(mpmath.mpf(1) / M) * mpmath.mpf(2) ** q))
        s1 = int(mpmath.nint(mpmath.sinpi(mpmath.mpf(1) / M) * mpmath.mpf(2) ** q))
    c, s = 1 << q, 0
    out = [1 << p]
    half = 1 << (g - 1)
    for _ in range(M):
        c, s = (c * c1 - s * s1) >> q, (s * c1 + c * s1) >> q
        out.append((c + half) >> g)
    return out


def _chebyshev_to_monomial_clenshaw(C: Sequence[int]) -> list[int]:
    """Exact monomial coefficients (in ``u``) of ``sum_j C_j T_j(2u - 1)``: the reference algorithm.

    Clenshaw's recurrence run on integer polynomials: ``b_j = C_j + (4u - 2) b_{j+1} - b_{j+2}``,
    result ``C_0 + (2u - 1) b_1 - b_2``.  Every operation is an exact integer operation; the
    result equals ``sum_j C_j * [integer coefficients of T_j(2u-1)]``.  ``O(N^2)`` big-integer
    operations on numbers of ``O(N)`` bits: about ``H^3``; :func:`_chebyshev_to_monomial` computes
    the same integers in ``O(M(N) log N)`` and is used instead (this one stays as the reference
    that the tests and ``bench/bench_scaling.py`` compare it with).
    """
    N = len(C) - 1
    if N == 0:
        return [int(C[0])]
    b1 = np.zeros(N + 1, dtype=object)
    b2 = np.zeros(N + 1, dtype=object)
    b1[:] = 0
    b2[:] = 0
    for j in range(N, 0, -1):
        m = N - j + 1  # b_j has degree N - j
        new = np.zeros(N + 1, dtype=object)
        new[:m] = -2 * b1[:m] - b2[:m]
        new[1:m] += 4 * b1[: m - 1]
        new[0] += C[j]
        b2, b1 = b1, new
    out = -b1 - b2
    out[1:] += 2 * b1[:-1]
    out[0] += C[0]
    return [int(v) for v in out]


#: Below this degree :func:`_chebyshev_to_monomial` sums ``C_j T*_j`` directly.
_CONVERSION_LEAF = 32


def _chebyshev_to_monomial(C: Sequence[int]) -> list[int]:
    """Exact monomial coefficients (in ``u``) of ``sum_j C_j T*_j(u)``, ``T*_j(u) = T_j(2u - 1)``, for integers ``C_j``.

    Divide and conquer on exact integer polynomials (python-flint ``fmpz_poly``, whose products
    are asymptotically fast): for a block ``C_0..C_n`` take ``m``, a power of two with
    ``n/2 <= m <= n``, and ``r = n - m``; the identity ``T*_{m+i} = 2 T*_m T*_i - T*_{m-i}``
    (``1 <= i <= r <= m``; it holds for ``T_j`` and survives the substitution ``x = 2u - 1``) gives

        ``sum_{j=0}^{n} C_j T*_j = sum_{j=0}^{m} C'_j T*_j + 2 T*_m sum_{i=1}^{r} C_{m+i} T*_i``,

    ``C'_j = C_j - C_{2m-j}`` for ``m - r <= j < m``, else ``C'_j = C_j``: two blocks of about half
    the length and one product with ``T*_m`` (``T*_{2m} = 2 T*_m^2 - 1``).  Every step is exact,
    so the result equals :func:`_chebyshev_to_monomial_clenshaw` integer for integer, in
    ``O(M(N) log N)`` operations instead of ``O(N^3)`` (``M``: the cost of a product).
    """
    from flint import fmpz_poly

    N = len(C) - 1
    if N < 0:
        raise ValueError("C must hold at least one coefficient, got an empty sequence")
    small = [fmpz_poly([1]), fmpz_poly([-1, 2])]  # T*_0, T*_1
    x = small[1]
    for _ in range(2, min(N, _CONVERSION_LEAF) + 1):
        small.append(2 * x * small[-1] - small[-2])
    powers = {1: small[1]}  # T*_{2^e}

    def t_pow2(m: int) -> Any:
        if m not in powers:
            h = t_pow2(m // 2)
            powers[m] = 2 * h * h - 1
        return powers[m]

    def conv(block: list[int]) -> Any:
        n = len(block) - 1
        if n <= _CONVERSION_LEAF:
            acc = fmpz_poly([])
            for j, cj in enumerate(block):
                if cj:
                    acc += cj * small[j]
            return acc
        m = 1 << ((n + 1) // 2 - 1).bit_length()  # smallest power of two >= n/2
        r = n - m
        lower = block[: m + 1]
        for i in range(1, r + 1):
            lower[m - i] -= block[m + i]
        upper = [0] + block[m + 1:]
        return conv(lower) + 2 * t_pow2(m) * conv(upper)

    poly = conv([int(v) for v in C])
    coeffs = [int(v) for v in poly.coeffs()]
    return coeffs + [0] * (N + 1 - len(coeffs))


# ---------------------------------------------------------------------------------------
# The interpolant
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Interpolant:
    """Fixed-point result of interpolating ``Psi_T`` (internal; reusable by Lemmas F.2/F.5)."""

    cheb_int: tuple[int, ...]      # C_j with c_j = C_j 2^{-p}
    precision: int                 # p
    cheb_error_units: mpmath.mpf   # |c_j(stored) - c_j(exact)| <= units * 2^{-p}
    nonzero_nodes: int


#: Bits kept beyond what the requested accuracy needs: the stored ``c_j`` then agree with the exact
#: ones far below the 106 bits of the double-double images the certificates use.
_GUARD_BITS = 64


def _node_geometry(H: int, nodes: str) -> tuple[int, Sequence[int]]:
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
    M, angle = _node_geometry(H, nodes)
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


def _chebyshev_precision(H: int, digits: int, log2_peak: float) -> int:
    """Bits ``p`` of the stored ``c_j``: ``(N + 1) * 2 * 2^{-p} <= 10^{-digits} peak / 4`` plus guard bits."""
    return max(64, math.ceil(math.log2(H) + 1 + digits * _LOG2_10 + 2 - log2_peak) + 8 + _GUARD_BITS)


def _interpolate(place: BumpPlacement, H: int, nodes: str, digits: int) -> _Interpolant:
    """The Chebyshev coefficients ``c_j = C_j 2^{-p}`` of the interpolant of ``Psi_T``, with a rigorous error bound.

    ``c_j = (kappa_j / den) sum_k w_k f_k cos(j a_k pi / M)`` (the discrete cosine transform of the
    node values ``f_k``, zero outside the bump's support) is computed as the real part of one
    discrete Fourier transform in ball arithmetic (python-flint ``acb.dft``, Arb's rigorous
    FFT): the node values enter as balls ``F_k 2^{-q} +- 2^{-q}`` (``F_k = round(f_k 2^q)`` from
    mpmath at ``q + 64`` bits), every output ball contains the exact ``c_j``, and rounding its
    midpoint to ``C_j`` adds at most ``2^{-p-1}``.  So ``|C_j 2^{-p} - c_j| <= (rad_j 2^p + 1/2) 2^{-p}``;
    the maximum over ``j`` is ``cheb_error_units``.  ``p`` depends only on the requested accuracy
    and ``log2 H`` (:func:`_chebyshev_precision`): the cost is one FFT of length ``2M`` at about
    ``p + 100`` bits.
    """
    N = H - 1
    with mpmath.workdps(30):
        mu0, sigma0, height0 = place.numeric(30)
        peak0 = height0 / mpmath.e
    log2_peak = float(mpmath.log(peak0, 2))
    log2_height = float(mpmath.log(height0, 2))
    log2_sigma = float(mpmath.log(sigma0, 2))
    p = _chebyshev_precision(H, digits, log2_peak)
    q = p + 32
    internal = q + 64 + max(0, math.ceil(-log2_sigma)) + max(0, math.ceil(log2_height))
    dps_internal = math.ceil(internal / _LOG2_10) + 5
    with mpmath.workdps(dps_internal):
        scale = mpmath.mpf(2) ** q
        F = {k: int(mpmath.nint(f * scale)) for k, _x, f in bump_node_values(place, H, nodes, dps_internal)}
    K = len(F)
    if H == 1:
        C = [_round_div(F.get(0, 0), 1 << (q - p))]
        return _Interpolant(tuple(C), p, mpmath.mpf(1), K)
    if K == 0:
        return _Interpolant(tuple([0] * H), p, mpmath.mpf(1) / 2, 0)
    C, err_units = _chebyshev_dft(F, H, nodes, p, q)
    return _Interpolant(tuple(C), p, err_units, K)


def _chebyshev_dft(F: dict[int, int], H: int, nodes: str, p: int, q: int) -> tuple[list[int], mpmath.mpf]:
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
            C.append(man << e if e >= 0 else _round_div(man, 1 << -e))
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


def _interpolate_reference(place: BumpPlacement, H: int, nodes: str, digits: int) -> _Interpolant:
    """The construction's previous interpolation (reference for the tests and ``bench/bench_scaling.py``).

    The precision ``p`` is chosen for the *monomial* coefficients (``sum_j |dc_j| T_j(3) <= tol/4``,
    ``log2 T_j(3) ~ 2.54 j``: ``p`` grows like ``2.54 H`` bits) and the cosine sums are formed one node
    at a time in fixed point (``K H`` products of ``p``-bit integers): about ``H^3``.  The error
    bound ``cheb_error_units`` is derived analytically from the rounding of the node values and
    of :func:`_cos_table`.
    """
    N = H - 1
    M, angle = _node_geometry(H, nodes)
    s3 = _sum_chebyshev_at_3(N)
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
    p = math.ceil(math.log2(s3) + log2_Dc + digits * _LOG2_10 + 2 - log2_peak) + 8
    p = max(p, 64)
    internal = p + 64 + max(0, math.ceil(-log2_sigma)) + max(0, math.ceil(log2_height))
    dps_internal = math.ceil(internal / _LOG2_10) + 5
    with mpmath.workdps(dps_internal):
        scale = mpmath.mpf(2) ** p
        F = {k: int(mpmath.nint(f * scale)) for k, _x, f in bump_node_values(place, H, nodes, dps_internal)}
    K = len(F)
    if H == 1:
        C = [F.get(0, 0)]
        err_units = mpmath.mpf(1)
    else:
        cos = np.array(_cos_table(M, p), dtype=object)
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
        C = [_round_div(kappa[jj] * int(acc[jj]), den << p) for jj in range(N + 1)]
        # |dc_j| in units of 2^-p: kappa/den * (weight_sum * (2^p (peak+1) + 1)) / 2^p + 1/2
        with mpmath.workdps(30):
            err_units = (mpmath.mpf(2) * weight_sum / (2 * nodes_den if nodes == "chebyshev2" else nodes_den)
                         * (peak0 * (1 + mpmath.mpf(2) ** -40) + 1 + mpmath.mpf(2) ** -p) + mpmath.mpf(1) / 2)
    return _Interpolant(tuple(C), p, err_units, K)


# ---------------------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------------------

def _as_lags(s: Any, name: str = "s") -> tuple[np.ndarray, bool]:
    """``s`` as an int64 array of lags ``>= 0`` and whether it was a scalar."""
    arr = np.asarray(s)
    scalar = arr.ndim == 0
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.int64), scalar
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == object):
        raise TypeError(f"{name} must hold integer lags, got {short_repr(s)}")
    if arr.dtype == object:
        flat = [require_int(name, v, minimum=0) for v in arr.reshape(-1)]
        arr = np.array(flat, dtype=np.int64).reshape(arr.shape)
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold lags >= 0, got minimum {int(arr.min())}")
    return arr, scalar


def clenshaw(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum_j c_j T_j(x)`` by Clenshaw's recurrence (float64, vectorised over ``x``)."""
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    x2 = 2 * x
    for cj in c[:0:-1]:
        b1, b2 = cj + x2 * b1 - b2, b1
    return c[0] + x * b1 - b2


@dataclass(frozen=True, repr=False)
class DeltaKernel:
    """The kernel ``P(t) = w(t) Q(u(t))`` of Lemma F.1 (lin) or F.4 (log) for one lag ``T``.

    Attributes
    ----------
    rpe : str
        ``"lin"`` (``P(t) = sum_k a_k e^{-beta_k t}``, ``t in N``) or ``"log"``
        (``P(t) = sum_k a_k t^{-beta_k}``, ``t in N_+``).
    lag : int
        ``T``: the position of the delta.
    num_terms : int
        ``H``: number of terms (heads); ``Q`` has degree ``H - 1``.
    alpha, gamma : sympy.Rational
        Lemma parameters (``u = e^{-alpha t}`` or ``t^{-alpha}``; weight decay ``gamma``).
    exponents : tuple of sympy.Rational
        ``beta_k = gamma + alpha k`` (lin) or ``1 + gamma + alpha k`` (log), ``k = 0..H-1``: the
        RPE slopes ``p^{(h)}`` of the heads.
    coefficients : tuple of mpmath.mpf
        The realised ``a_k`` (the heads' weights before the softmax normaliser), stored with
        at least ``coefficient_dps`` significant digits.  Computed on first access (then
        cached) from the Chebyshev coefficients: the construction's primary data is the
        stable basis, and ``H`` big numbers of about ``0.75 H`` digits each are only made when a
        model is written or run (:func:`_realise`).
    coefficient_dps : int
        Decimal digits carried by ``coefficients`` (computed with them).  Rounding every
        ``a_k`` to this many significant digits moves the kernel by at most
        ``coefficient_error_bound`` in sup norm over ``u``.
    chebyshev_coefficients : tuple of mpmath.mpf
        The stable basis: ``Q(u) = sum_j c_j T_j(2u - 1)`` (exact binary numbers; the
        realised ``a_k`` are their exact monomial conversion, rounded once).
    nodes : str
        ``"chebyshev2"`` or ``"chebyshev1"``.
    coefficient_digits : int
        Requested accuracy: ``coefficient_error_bound <= 10^{-coefficient_digits} sup Psi_T / 2``.
    coefficient_error_bound : mpmath.mpf
        Rigorous bound, valid for every ``u in [0, 1]``, of ``|Q_exact(u) - Q_cheb(u)|`` and
        ``|Q_exact(u) - sum_k a_k u^k|`` where ``Q_exact`` is the exact Chebyshev interpolant of
        ``Psi_T`` and ``Q_cheb`` uses the stored ``chebyshev_coefficients``.
    working_precision : int
        Bits of the fixed-point computation of the ``c_j``: ``c_j = C_j 2^{-p}``.
    """

    rpe: str
    lag: int
    num_terms: int
    alpha: sympy.Rational
    gamma: sympy.Rational
    exponents: tuple[sympy.Rational, ...]
    # the realised a_k and their digits when given eagerly; None: made from the stable basis on demand
    _coefficients: tuple[mpmath.mpf, ...] | None = field(compare=False)
    _coefficient_dps: int | None = field(compare=False)
    chebyshev_coefficients: tuple[mpmath.mpf, ...]
    nodes: str
    coefficient_digits: int
    coefficient_error_bound: mpmath.mpf
    working_precision: int

    def __repr__(self) -> str:
        return (f"DeltaKernel(rpe={self.rpe!r}, lag={self.lag}, num_terms={self.num_terms}, "
                f"alpha={self.alpha}, gamma={self.gamma}, nodes={self.nodes!r}, "
                f"coefficient_dps={self.coefficient_dps})")

    def _repr_latex_(self) -> str:
        """Jupyter display of the kernel as a formula: ``P(t) = sum_k a_k e^{-beta_k t}`` (lin) or
        ``sum_k a_k t^{-beta_k}`` (log) with the first and last terms written out (4 digits)."""
        def term(k: int) -> str:
            a = self.coefficients[k]
            beta = sympy.latex(self.exponents[k])
            base = rf"e^{{-{beta}\,t}}" if self.rpe == "lin" else rf"t^{{-{beta}}}"
            mant, _, exp = mpmath.nstr(abs(a), 4, min_fixed=-3, max_fixed=4).partition("e")
            num = mant + (rf"\cdot 10^{{{int(exp)}}}" if exp else "")
            return ("-" if a < 0 else "+") + rf" {num}\,{base}"

        H = self.num_terms
        shown = [term(k) for k in range(min(H, 2))]
        if H > 3:
            shown.append(r"+ \cdots")
        if H > 2:
            shown.append(term(H - 1))
        body = " ".join(shown).lstrip("+ ")
        kind = r"a_k e^{-\beta_k t}" if self.rpe == "lin" else r"a_k t^{-\beta_k}"
        return (rf"$P_{{{self.lag}}}(t) = \sum_{{k=1}}^{{{H}}} {kind} = {body}$"
                rf" (Lemma {self.lemma}, $\alpha = {sympy.latex(self.alpha)}$, $\gamma = {sympy.latex(self.gamma)}$)")

    # ----- realised coefficients (lazy) -------------------------------------------------

    def _realised(self) -> tuple[tuple[mpmath.mpf, ...], int]:
        if self._coefficients is not None:
            return self._coefficients, int(self._coefficient_dps)
        cached = self.__dict__.get("_realised_cache")
        if cached is None:
            cached = _realise(self)
            object.__setattr__(self, "_realised_cache", cached)  # frozen dataclass: cache only
        return cached

    @property
    def coefficients(self) -> tuple[mpmath.mpf, ...]:
        """The realised ``a_k`` (see the class docstring; computed on first access, then cached)."""
        return self._realised()[0]

    @property
    def coefficient_dps(self) -> int:
        """Decimal digits carried by :attr:`coefficients` (computed with them)."""
        return self._realised()[1]

    @property
    def coefficients_realised(self) -> bool:
        """Whether :attr:`coefficients` exist already (reading them costs nothing more)."""
        return self._coefficients is not None or "_realised_cache" in self.__dict__

    def transformer_spec(self) -> Any:
        """The realised kernel as a one-layer Transformer: ``H`` DP-free heads, no softmax denominator.

        Head ``k`` has slope ``p = beta_k`` and value weight ``a_k`` rounded to ``coefficient_dps``
        significant decimals (an exact decimal, as in the Theorem 3.1 model files), ``W_O = 1``,
        normalization-free attention (Sec. 4) without residual, embedding ``1``: the output at
        time ``t`` is ``sum_s P(s) x_{t-s}`` with the realised ``P`` (Lemma F.1: ``sum_k a_k e^{-beta_k s}``,
        Lemma F.4: ``sum_k a_k s^{-beta_k}``).  Every weight is an exact rational, so
        :meth:`tfapprox.verify.model.Model.save` writes it without any lowering.  Realises the
        coefficients (:attr:`coefficients`) if they are not yet.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
        >>> spec = lemma_f1_kernel(3, 8).transformer_spec()
        >>> len(spec.blocks[0].attention.heads), spec.metadata["lemma"]
        (8, 'F.1')
        """
        from tfapprox.constructions.thm3_1 import _decimal_rational
        from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
        from tfapprox.theory.rpe import LinRPE, LogRPE

        dps = self.coefficient_dps
        heads = tuple(AttentionHead([[_decimal_rational(a, dps)]], beta)
                      for a, beta in zip(self.coefficients, self.exponents))
        layer = AttentionLayer(heads, [[1]], LinRPE() if self.rpe == "lin" else LogRPE(),
                               normalized=False, residual=False)
        metadata = {
            "construction": "delta-kernel",
            "paper": f"Wang & E 2024, Lemma {self.lemma} (App. F)",
            "lemma": self.lemma,
            "rpe": self.rpe,
            "lag": self.lag,
            "heads": self.num_terms,
            "alpha": str(self.alpha),
            "gamma": str(self.gamma),
            "nodes": self.nodes,
            "coefficient_digits": self.coefficient_digits,
            "precision_digits": dps,
        }
        return TransformerSpec([[1]], [[0]], (Block(layer, None),), "padded", metadata)

    # ----- derived data ---------------------------------------------------------------

    @property
    def placement(self) -> BumpPlacement:
        """The bump ``(mu_T, sigma_T, V_T)`` (exact sympy numbers)."""
        return bump_placement(self.rpe, self.lag, alpha=self.alpha, gamma=self.gamma)

    @property
    def lemma(self) -> str:
        """``"F.1"`` (lin) or ``"F.4"`` (log)."""
        return "F.1" if self.rpe == "lin" else "F.4"

    @property
    def coefficient_l1(self) -> mpmath.mpf:
        """``sum_k |a_k|`` (the l1 norm of the realised head weights)."""
        with mpmath.workdps(30):
            return mpmath.fsum(abs(a) for a in self.coefficients)

    @property
    def max_abs_coefficient(self) -> mpmath.mpf:
        """``max_k |a_k|``."""
        return max(abs(a) for a in self.coefficients)

    @property
    def chebyshev_l1(self) -> mpmath.mpf:
        """``sum_j |c_j|`` (bounds ``sup_{[0,1]} |Q|``)."""
        with mpmath.workdps(30):
            return mpmath.fsum(abs(c) for c in self.chebyshev_coefficients)

    def digits_needed(self, error: Any, *, guard: int = 3) -> int:
        """Decimal digits for ``sum_k a_k e^{-beta_k s}`` (or ``s^{-beta_k}``) to be accurate to ``error``.

        ``log10(sum_k |a_k| * max_s basis) - log10(error) + guard``; the basis functions are
        at most ``1`` (at ``s = 0`` for lin, ``s = 1`` for log).  Arithmetic at fewer digits
        can lose everything to cancellation (Differences from the paper, D18).  Never below 15.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
        >>> lemma_f1_kernel(1, 64).digits_needed(1e-20) > 60
        True
        """
        err = mpmath.mpf(error) if not isinstance(error, mpmath.mpf) else error
        if not (mpmath.isfinite(err) and err > 0):
            raise ValueError(f"error must be a finite positive number, got {short_repr(error)}")
        guard = require_int("guard", guard, minimum=0)
        with mpmath.workdps(30):
            l1 = self.coefficient_l1
            if l1 == 0:  # the zero kernel: any precision computes it exactly
                return 15
            return max(15, math.ceil(float(mpmath.log10(l1) - mpmath.log10(err))) + guard)

    # ----- evaluation -------------------------------------------------------------------

    def _float_params(self) -> tuple[float, float]:
        return float(self.alpha), float(self.gamma)

    def evaluate(self, s: Any) -> Any:
        """``P(s)`` in float64 at integer lags ``s >= 0``, in the stable basis (Clenshaw on ``c_j``).

        For log-RPE ``P(0) = 0`` (``phi_log(0) = -inf``: the current token gets no weight).
        Returns a float for scalar input, else an array of the input's shape.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f4_kernel
        >>> k = lemma_f4_kernel(1, 16)
        >>> print(k.evaluate([0, 1, 2]).round(4))
        [0.     1.     0.1194]
        """
        lags, scalar = _as_lags(s)
        a, g = self._float_params()
        c = np.array([float(v) for v in self.chebyshev_coefficients])
        t = lags.astype(float)
        if self.rpe == "lin":
            w = np.exp(-g * t)
            x = 1 + 2 * np.expm1(-a * t)
            out = w * clenshaw(c, x)
        else:
            pos = t > 0
            lt = np.log(np.where(pos, t, 1.0))
            w = np.exp(-(1 + g) * lt)
            x = 1 + 2 * np.expm1(-a * lt)
            out = np.where(pos, w * clenshaw(c, x), 0.0)
        return float(out) if scalar else out

    def _lattice_mp(self, s: int) -> tuple[mpmath.mpf, mpmath.mpf]:
        """``(u(s), w(s))`` at the current mpmath precision (``s >= 1`` for log)."""
        a = mpmath.mpf(self.alpha.p) / self.alpha.q
        g = mpmath.mpf(self.gamma.p) / self.gamma.q
        if self.rpe == "lin":
            return mpmath.exp(-a * s), mpmath.exp(-g * s)
        ls = mpmath.log(s)
        return mpmath.exp(-a * ls), mpmath.exp(-(1 + g) * ls)

    def _each_lag_mp(self, s: Any, dps: Any, q_of_u: Any) -> Any:
        """``w(s) q_of_u(u(s))`` at ``dps`` digits for each lag (``0`` at ``s = 0`` for log-RPE)."""
        dps = require_int("dps", dps, minimum=15)
        lags, scalar = _as_lags(s)
        vals = []
        with mpmath.workdps(dps):
            for v in lags.reshape(-1).tolist():
                if self.rpe == "log" and v == 0:
                    vals.append(mpmath.mpf(0))
                    continue
                u, w = self._lattice_mp(int(v))
                vals.append(+(w * q_of_u(u)))
        return vals[0] if scalar else vals

    def evaluate_stable_mp(self, s: Any, dps: Any) -> Any:
        """``P(s)`` in mpmath at ``dps`` digits from the Chebyshev coefficients (Clenshaw).

        Returns an mpf for a scalar lag, else a list of mpf (flattened input order).
        """
        c = self.chebyshev_coefficients

        def q(u: mpmath.mpf) -> mpmath.mpf:
            x = 2 * u - 1
            b1 = b2 = mpmath.mpf(0)
            for cj in c[:0:-1]:
                b1, b2 = cj + 2 * x * b1 - b2, b1
            return c[0] + x * b1 - b2

        return self._each_lag_mp(s, dps, q)

    def evaluate_realised(self, s: Any, dps: Any) -> Any:
        """``sum_k a_k e^{-beta_k s}`` (lin) or ``sum_k a_k s^{-beta_k}`` (log) in mpmath at ``dps`` digits.

        This is what the Transformer's weights compute: the realised coefficients ``a_k``
        times the exact basis values, summed (in Horner form ``w(s) sum_k a_k u(s)^k``).  Use
        ``dps >= digits_needed(error)``; fewer digits lose the result to cancellation.
        Returns an mpf for a scalar lag, else a list of mpf.
        """
        def q(u: mpmath.mpf) -> mpmath.mpf:
            acc = mpmath.mpf(0)
            for ak in reversed(self.coefficients):
                acc = acc * u + ak
            return acc

        return self._each_lag_mp(s, dps, q)


# ---------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------

def delta_kernel(rpe: str, lag: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                 coefficient_digits: Any = 30, nodes: str = "chebyshev2") -> DeltaKernel:
    """Build the Lemma F.1 (``rpe="lin"``) or F.4 (``rpe="log"``) kernel for lag ``T`` with ``H`` terms.

    Parameters
    ----------
    rpe : str
        ``"lin"`` or ``"log"``.
    lag : int
        ``T >= 1``.
    num_terms : int
        ``H >= 1``.
    alpha, gamma : int, str, Fraction, sympy.Rational or float
        Positive; floats are read through their decimal representation (``0.01 -> 1/100``).
    coefficient_digits : int
        Accuracy of the stored coefficients relative to ``sup Psi_T`` (default 30).
    nodes : str
        ``"chebyshev2"`` (default) or ``"chebyshev1"``.

    Returns
    -------
    DeltaKernel
        The kernel.

    Raises
    ------
    ValueError
        ``T < 1``, ``H < 1``, ``alpha <= 0``, ``gamma <= 0``, an unknown ``rpe`` or ``nodes``.
    TypeError
        Non-integer ``T`` or ``H``, non-numeric ``alpha``/``gamma``.

    Examples
    --------
    >>> k = delta_kernel("log", 3, 8)
    >>> k.exponents[0], k.num_terms
    (101/100, 8)
    """
    rpe = require_choice("rpe", rpe, RPE_TYPES)
    lag = require_int("lag", lag, minimum=1)
    H = require_int("num_terms", num_terms, minimum=1)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    for name, value in (("alpha", a), ("gamma", g)):
        if value > MAX_KERNEL_RATE:
            raise ValueError(f"{name} must be <= MAX_KERNEL_RATE = {MAX_KERNEL_RATE}, got {value}")
    digits = require_int("coefficient_digits", coefficient_digits, minimum=1, maximum=1000)
    nodes = require_choice("nodes", nodes, NODE_FAMILIES)
    key = (rpe, lag, H, a, g, digits, nodes)
    if key in _KERNEL_CACHE:  # the kernel is immutable and a function of these parameters alone
        _KERNEL_CACHE.move_to_end(key)
        return _KERNEL_CACHE[key]
    place = bump_placement(rpe, lag, alpha=a, gamma=g)
    interp = _interpolate(place, H, nodes, digits)
    p = interp.precision
    with mpmath.workdps(30):
        peak = place.numeric(30)[2] / mpmath.e
        tol = mpmath.mpf(10) ** (-digits) * peak
        # |Q_exact - Q_cheb| <= sum_j |dc_j| (|T_j| <= 1), and the realised a_k (made on demand,
        # _realise) are the exact conversion of the stored c_j rounded so that the move is <= tol *
        # _ROUNDING_SHARE: the bound holds for both forms before any a_k exists
        stable_err = interp.cheb_error_units * mpmath.mpf(2) ** (-p) * H
        if stable_err > tol / 4:  # the precision rule assumed cheb_error_units <= 2
            raise ArithmeticError(f"the Chebyshev coefficients of the lag-{lag}, H = {H} kernel are only accurate "
                                  f"to {mpmath.nstr(stable_err, 3)} > 10^-{digits} sup Psi_T / 4")
        bound = mpmath.mpf(stable_err + tol * _ROUNDING_SHARE) * (1 + mpmath.mpf(2) ** -40)
    cheb_bits = max(max((abs(v).bit_length() for v in interp.cheb_int), default=1) + 2, 53)
    with mpmath.workprec(cheb_bits):
        cheb = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in interp.cheb_int)
    base = g if rpe == "lin" else 1 + g
    exps = tuple(base + a * k for k in range(H))
    kernel = DeltaKernel(rpe, lag, H, a, g, exps, None, None, cheb, nodes, digits, bound, p)
    if H <= _KERNEL_CACHE_MAX_HEADS:
        _KERNEL_CACHE[key] = kernel
        while len(_KERNEL_CACHE) > _KERNEL_CACHE_SIZE:
            _KERNEL_CACHE.popitem(last=False)
    return kernel

#: Built kernels by ``(rpe, T, H, alpha, gamma, digits, nodes)``, least recently used evicted first:
#: ``verify --all`` asks for the same kernel many times (issue 15: 607 builds, 453 distinct).
#: Bounded: at most ``_KERNEL_CACHE_SIZE`` kernels, each with ``H <= _KERNEL_CACHE_MAX_HEADS``.
_KERNEL_CACHE: "OrderedDict[tuple, DeltaKernel]" = OrderedDict()
_KERNEL_CACHE_SIZE = 64
_KERNEL_CACHE_MAX_HEADS = 2048


#: Upper bound of (the sup-norm move caused by rounding the realised ``a_k``) / ``tol`` (:func:`_realise`):
#: ``1/80`` for the decimal rounding to ``coefficient_dps`` digits, ``1/102400`` for the binary one, with a
#: margin for the float ``log10`` that chooses ``coefficient_dps``.
_ROUNDING_SHARE = (mpmath.mpf(1) / 80 + mpmath.mpf(1) / 102400) * (1 + mpmath.mpf(10) ** -10)


def _fixed_point(v: mpmath.mpf, p: int) -> int:
    """``v 2^p`` for an mpf ``v`` that is an integer multiple of ``2^{-p}`` (exact)."""
    sign, man, exp, _bc = v._mpf_
    if not man:
        return 0
    e = exp + p
    if e < 0:
        raise ValueError(f"chebyshev coefficient {v} is not a multiple of 2^-{p}")
    return -(man << e) if sign else man << e


def _realise(kernel: DeltaKernel) -> tuple[tuple[mpmath.mpf, ...], int]:
    """The realised ``a_k`` of a :func:`delta_kernel` and their digits ``coefficient_dps``.

    ``A_k``: the exact monomial conversion (:func:`_chebyshev_to_monomial`) of the stored
    ``C_j = c_j 2^p``, so ``sum_k A_k 2^{-p} u^k = Q_cheb(u)`` identically.  With
    ``l1 = sum_k |A_k| 2^{-p}``, ``tol = 10^{-digits} sup Psi_T`` and ``ratio = max(1, l1/tol)``:
    ``coefficient_dps = ceil(log10(40 ratio)) + 1`` and every ``a_k`` is ``A_k 2^{-p}`` rounded to
    ``bits >= coefficient_dps log2(10) + 8`` bits.  Rounding (binary, then to ``coefficient_dps``
    decimals as the model files do) moves ``sum_k a_k u^k`` on ``[0, 1]`` by at most
    ``l1 (2^{-bits} + 10^{1 - dps}/2) <= tol (1/102400 + 1/80)``: the ``_ROUNDING_SHARE`` already in
    :attr:`DeltaKernel.coefficient_error_bound`.
    """
    p = kernel.working_precision
    C = [_fixed_point(c, p) for c in kernel.chebyshev_coefficients]
    A = _chebyshev_to_monomial(C)
    with mpmath.workdps(30):
        peak = kernel.placement.numeric(30)[2] / mpmath.e
        tol = mpmath.mpf(10) ** (-kernel.coefficient_digits) * peak
        l1_a = mpmath.mpf(sum(abs(v) for v in A)) * mpmath.mpf(2) ** (-p)
        ratio = max(mpmath.mpf(1), l1_a / tol)
        coef_dps = math.ceil(float(mpmath.log10(ratio * 40))) + 1
    coef_bits = max(math.ceil(coef_dps * _LOG2_10) + 8, 53)
    with mpmath.workprec(coef_bits):
        coeffs = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in A)
    return coeffs, coef_dps


def lemma_f1_kernel(lag: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                    coefficient_digits: Any = 30, nodes: str = "chebyshev2") -> DeltaKernel:
    """Lemma F.1 (lin-RPE): ``1{t = T} ~ sum_{k=0}^{H-1} a_k e^{-(gamma + alpha k) t}`` on ``N``.

    See :func:`delta_kernel` for the parameters.
    """
    return delta_kernel("lin", lag, num_terms, alpha=alpha, gamma=gamma, coefficient_digits=coefficient_digits,
                        nodes=nodes)


def lemma_f4_kernel(lag: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                    coefficient_digits: Any = 30, nodes: str = "chebyshev2") -> DeltaKernel:
    """Lemma F.4 (log-RPE): ``1{t = T} ~ sum_{k=0}^{H-1} a_k t^{-(1 + gamma + alpha k)}`` on ``N_+``.

    See :func:`delta_kernel` for the parameters.
    """
    return delta_kernel("log", lag, num_terms, alpha=alpha, gamma=gamma, coefficient_digits=coefficient_digits,
                        nodes=nodes)
