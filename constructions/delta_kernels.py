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
  ``cheb_error_units 2^{-p}`` of the exact coefficient (:func:`~tfapprox.constructions.delta_interpolation.interpolate`);
* the *realised* coefficients ``a_k`` (what the Transformer's weights are) are made on demand
  (:attr:`DeltaKernel.coefficients`, cached): the stored ``C_j`` converted **exactly** to the
  monomial basis of ``u`` (integer polynomials, divide and conquer,
  :func:`~tfapprox.theory.numerics.chebyshev.chebyshev_to_monomial`),
  then stored as mpf at ``coefficient_dps`` digits.

``coefficient_error_bound`` bounds, on ``[0, 1]``, the distance from the exact interpolant to the
stored Chebyshev form (``sum_j |dc_j|``) and to the realised ``sum_k a_k u^k`` (plus the rounding of
the ``a_k``, whose share is fixed in advance by the digits rule), so that
``coefficient_error_bound <= 10^{-coefficient_digits} * sup Psi_T / 2``; it is known before any
``a_k`` exists.  Building the stable form costs one FFT of length ``2H`` at about ``p + 100``
bits; the realised coefficients cost ``O(M(H) log H)`` on numbers of ``0.75 H`` digits.

Modules (one idea each): :mod:`~tfapprox.constructions.bump_nodes` (the bump and the nodes),
:mod:`~tfapprox.constructions.delta_interpolation` (the rigorous interpolant),
:mod:`~tfapprox.constructions.delta_kernel_type` (the :class:`DeltaKernel` type),
:mod:`~tfapprox.constructions.realisation` (the realised weights) and
:mod:`tfapprox.theory.numerics.chebyshev` (exact Chebyshev arithmetic); this module builds the
kernels (:func:`delta_kernel`, cached) and re-exports the public names of the first three.

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

from collections import OrderedDict
from typing import Any

import mpmath
import sympy

from tfapprox.theory.bounds import bump_placement
from tfapprox.theory.families import kernel_family
from tfapprox.theory.limits import MAX_KERNEL_RATE
from tfapprox.theory.numerics.chebyshev import clenshaw
from tfapprox.theory.validation import require_choice, require_int, require_positive_rational

from .bump_nodes import NODE_FAMILIES, bump_function, bump_function_mp, bump_node_values, chebyshev_nodes
from .delta_interpolation import interpolate
from .delta_kernel_type import DeltaKernel
from .realisation import ROUNDING_SHARE

__all__ = [
    "NODE_FAMILIES",
    "DEFAULT_ALPHA",
    "DEFAULT_GAMMA",
    "bump_function",
    "bump_function_mp",
    "chebyshev_nodes",
    "bump_node_values",
    "clenshaw",
    "DeltaKernel",
    "delta_kernel",
    "lemma_f1_kernel",
    "lemma_f4_kernel",
]

#: The paper's ``alpha = gamma = 0.01`` (App. F), exact.
DEFAULT_ALPHA = sympy.Rational(1, 100)
DEFAULT_GAMMA = sympy.Rational(1, 100)
"""The paper's ``gamma = 0.01`` of Lemmas F.1/F.4 (App. F), exact."""


def delta_kernel(rpe: Any, lag: Any, num_terms: Any, *, alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA,
                 coefficient_digits: Any = 30, nodes: str = "chebyshev2") -> DeltaKernel:
    """Build the Lemma F.1 (``rpe="lin"``) or F.4 (``rpe="log"``) kernel for lag ``T`` with ``H`` terms.

    Parameters
    ----------
    rpe : str or KernelFamily
        ``"lin"`` or ``"log"`` (or :data:`~tfapprox.theory.families.LIN` / ``LOG``).
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
    family = kernel_family(rpe)
    lag = require_int("lag", lag, minimum=1)
    H = require_int("num_terms", num_terms, minimum=1)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    for name, value in (("alpha", a), ("gamma", g)):
        if value > MAX_KERNEL_RATE:
            raise ValueError(f"{name} must be <= MAX_KERNEL_RATE = {MAX_KERNEL_RATE}, got {value}")
    digits = require_int("coefficient_digits", coefficient_digits, minimum=1, maximum=1000)
    nodes = require_choice("nodes", nodes, NODE_FAMILIES)
    key = (family.name, lag, H, a, g, digits, nodes)
    if key in _KERNEL_CACHE:  # the kernel is immutable and a function of these parameters alone
        _KERNEL_CACHE.move_to_end(key)
        return _KERNEL_CACHE[key]
    place = bump_placement(family.name, lag, alpha=a, gamma=g)
    interp = interpolate(place, H, nodes, digits)
    p = interp.precision
    with mpmath.workdps(30):
        peak = place.numeric(30)[2] / mpmath.e
        tol = mpmath.mpf(10) ** (-digits) * peak
        # |Q_exact - Q_cheb| <= sum_j |dc_j| (|T_j| <= 1), and the realised a_k (made on demand,
        # realise) are the exact conversion of the stored c_j rounded so that the move is <= tol *
        # ROUNDING_SHARE: the bound holds for both forms before any a_k exists
        stable_err = interp.cheb_error_units * mpmath.mpf(2) ** (-p) * H
        if stable_err > tol / 4:  # the precision rule assumed cheb_error_units <= 2
            raise ArithmeticError(f"the Chebyshev coefficients of the lag-{lag}, H = {H} kernel are only accurate "
                                  f"to {mpmath.nstr(stable_err, 3)} > 10^-{digits} sup Psi_T / 4")
        bound = mpmath.mpf(stable_err + tol * ROUNDING_SHARE) * (1 + mpmath.mpf(2) ** -40)
    cheb_bits = max(max((abs(v).bit_length() for v in interp.cheb_int), default=1) + 2, 53)
    with mpmath.workprec(cheb_bits):
        cheb = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in interp.cheb_int)
    exps = tuple(family.exponent(k, a, g) for k in range(H))  # beta_k = gamma + o + alpha k
    kernel = DeltaKernel(family.name, lag, H, a, g, exps, None, None, cheb, nodes, digits, bound, p)
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
