"""Exact Chebyshev arithmetic on integers: conversion to monomials, cosine tables, Clenshaw.

The Lemma F.1/F.4 kernels of Wang & E 2024 (App. F) store the interpolant of the bump in the
Chebyshev basis ``Q(u) = sum_j c_j T_j(2u - 1)`` with ``c_j = C_j 2^{-p}``; the Transformer's head
weights are its monomial coefficients (Differences from the paper, D18).  This module holds the
exact integer machinery behind that change of basis and the fixed-point helpers the
constructions share:

* :func:`chebyshev_to_monomial` (divide and conquer, python-flint) and its reference
  :func:`chebyshev_to_monomial_clenshaw` (integer Clenshaw);
* :func:`sum_chebyshev_at_3`: the l1 size of the monomial form of ``T_j(2u - 1)``;
* :func:`cos_table`: ``round(cos(m pi / M) 2^p)`` for ``m = 0..M``;
* :func:`round_div`, :func:`fixed_point`, :func:`fixed_round`: exact rounding of integers and
  binary mpf numbers to fixed point;
* :func:`clenshaw`: float64 evaluation of a Chebyshev sum (vectorised).

Examples
--------
>>> chebyshev_to_monomial([0, 0, 1])  # T_2(2u - 1) = 8u^2 - 8u + 1
[1, -8, 8]
>>> round_div(7, 2), round_div(-7, 2)
(4, -3)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import numpy as np

__all__ = ["LOG2_10", "CONVERSION_LEAF", "sum_chebyshev_at_3", "round_div", "cos_table", "fixed_point", "fixed_round",
           "chebyshev_to_monomial", "chebyshev_to_monomial_clenshaw", "clenshaw"]

#: ``log2(10)`` in float64: bits per decimal digit.
LOG2_10 = math.log2(10)


@lru_cache(maxsize=16)
def sum_chebyshev_at_3(N: int) -> int:
    """``sum_{j=0}^{N} T_j(3)``: bounds ``sum_k |[u^k] T_j(2u-1)|`` summed over ``j <= N``.

    ``T_j(2u-1)`` has all its roots in ``(0, 1)``, so its coefficients alternate in sign and
    their absolute values sum to ``|T_j(2(-1)-1)| = T_j(3)``.
    """
    total, a, b = 1, 1, 3
    for _ in range(N):
        total += b
        a, b = b, 6 * b - a
    return total


def round_div(num: int, den: int) -> int:
    """``num/den`` rounded to the nearest integer (ties up), ``den > 0``, exactly."""
    return (2 * num + den) // (2 * den)


def cos_table(M: int, p: int) -> list[int]:
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


def chebyshev_to_monomial_clenshaw(C: Sequence[int]) -> list[int]:
    """Exact monomial coefficients (in ``u``) of ``sum_j C_j T_j(2u - 1)``: the reference algorithm.

    Clenshaw's recurrence run on integer polynomials: ``b_j = C_j + (4u - 2) b_{j+1} - b_{j+2}``,
    result ``C_0 + (2u - 1) b_1 - b_2``.  Every operation is an exact integer operation; the
    result equals ``sum_j C_j * [integer coefficients of T_j(2u-1)]``.  ``O(N^2)`` big-integer
    operations on numbers of ``O(N)`` bits: about ``H^3``; :func:`chebyshev_to_monomial` computes
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


#: Below this degree :func:`chebyshev_to_monomial` sums ``C_j T*_j`` directly.
CONVERSION_LEAF = 32


def chebyshev_to_monomial(C: Sequence[int]) -> list[int]:
    """Exact monomial coefficients (in ``u``) of ``sum_j C_j T*_j(u)``, ``T*_j(u) = T_j(2u - 1)``, for integers ``C_j``.

    Divide and conquer on exact integer polynomials (python-flint ``fmpz_poly``, whose products
    are asymptotically fast): for a block ``C_0..C_n`` take ``m``, a power of two with
    ``n/2 <= m <= n``, and ``r = n - m``; the identity ``T*_{m+i} = 2 T*_m T*_i - T*_{m-i}``
    (``1 <= i <= r <= m``; it holds for ``T_j`` and survives the substitution ``x = 2u - 1``) gives

        ``sum_{j=0}^{n} C_j T*_j = sum_{j=0}^{m} C'_j T*_j + 2 T*_m sum_{i=1}^{r} C_{m+i} T*_i``,

    ``C'_j = C_j - C_{2m-j}`` for ``m - r <= j < m``, else ``C'_j = C_j``: two blocks of about half
    the length and one product with ``T*_m`` (``T*_{2m} = 2 T*_m^2 - 1``).  Every step is exact,
    so the result equals :func:`chebyshev_to_monomial_clenshaw` integer for integer, in
    ``O(M(N) log N)`` operations instead of ``O(N^3)`` (``M``: the cost of a product).
    """
    from flint import fmpz_poly

    N = len(C) - 1
    if N < 0:
        raise ValueError("C must hold at least one coefficient, got an empty sequence")
    small = [fmpz_poly([1]), fmpz_poly([-1, 2])]  # T*_0, T*_1
    x = small[1]
    for _ in range(2, min(N, CONVERSION_LEAF) + 1):
        small.append(2 * x * small[-1] - small[-2])
    powers = {1: small[1]}  # T*_{2^e}

    def t_pow2(m: int) -> Any:
        if m not in powers:
            h = t_pow2(m // 2)
            powers[m] = 2 * h * h - 1
        return powers[m]

    def conv(block: list[int]) -> Any:
        n = len(block) - 1
        if n <= CONVERSION_LEAF:
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




def clenshaw(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum_j c_j T_j(x)`` by Clenshaw's recurrence (float64, vectorised over ``x``).

    >>> float(clenshaw(np.array([0.0, 0.0, 1.0]), np.array(0.5)))  # T_2(1/2)
    -0.5
    """
    b1 = np.zeros_like(x)
    b2 = np.zeros_like(x)
    x2 = 2 * x
    for cj in c[:0:-1]:
        b1, b2 = cj + x2 * b1 - b2, b1
    return c[0] + x * b1 - b2


def fixed_point(v: mpmath.mpf, p: int) -> int:
    """``v 2^p`` for an mpf ``v`` that is an integer multiple of ``2^{-p}`` (exact).

    Raises ``ValueError`` when ``v`` is not such a multiple.

    >>> fixed_point(mpmath.mpf(0.75), 2)
    3
    """
    sign, man, exp, _bc = v._mpf_
    if not man:
        return 0
    e = exp + p
    if e < 0:
        raise ValueError(f"chebyshev coefficient {v} is not a multiple of 2^-{p}")
    return -(man << e) if sign else man << e


def fixed_round(v: mpmath.mpf, q: int) -> tuple[int, bool]:
    """``round(v 2^q)`` for a finite mpf ``v`` (exact integer arithmetic, ties up) and whether it is exact.

    >>> fixed_round(mpmath.mpf(0.75), 1)
    (2, False)
    """
    sign, man, exp, _ = v._mpf_
    if man == 0:
        return 0, True
    e = exp + q
    if e >= 0:
        out, exact = man << e, True
    else:
        out, exact = round_div(man, 1 << -e), (man % (1 << -e)) == 0
    return (-out if sign else out), exact
