"""Theorem 3.1's construction for finite sequences (App. B.1 with finite softmax normalisers; App. H).

The paper's experiments H.2.2-H.2.5 read a window of ``L`` tokens at its last token.  Theorem 3.1's
one-layer DP-free Transformer (App. B.1: head groups realising the Lemma F.1 (lin) / F.4 (log)
kernels, allocation ``H_k ∝ e^{alpha T_k}`` / ``T_k^{1+alpha}``, residual, readout FFN) is adapted with
one change: the softmax normalises over the tokens that exist (``past="none"``), so head ``h`` gets
``W_V = a_h Z_L(beta_h)`` with the *finite* normaliser ``Z_L(beta) = sum_{s=0}^{L-1} e^{-beta s}`` (lin)
or ``sum_{s=1}^{L-1} s^{-beta}`` (log) instead of the infinite one.  At the last token group ``k`` then
outputs exactly ``z_k = sum_{s<L} P_k(s) x_{L-1-s}``.

* :func:`allocation`: the paper's head allocation (the family's allocation weight, largest remainder);
* :func:`build_finite_thm3_1`: the exact weights, as a
  :class:`~tfapprox.theory.architecture.TransformerSpec`.

The errors of this construction are measured in :mod:`tfapprox.verify.experiments`.
"""

from __future__ import annotations

from typing import Any, Sequence

import mpmath
import sympy

from tfapprox.theory.architecture import Block, FeedForward, TransformerSpec, AttentionHead, AttentionLayer
from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import FixedMemoryTarget
from tfapprox.theory.validation import require_int, short_repr

from .delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA, DeltaKernel, delta_kernel
from .realisation import decimal_rational
from .thm3_1 import allocate_heads, readout_ffn
from .thm5_1 import finite_normaliser

__all__ = ["REALISED_HEADS_MAX", "allocation", "window_input_radius", "build_finite_thm3_1"]

#: Largest number of heads per memory for which the realised weights are built (about ``0.77 H``
#: digits each); above it only the exact interpolant is evaluated
#: (:func:`tfapprox.verify.finite_kernels.interpolant_on_window`).
REALISED_HEADS_MAX = 4096


def allocation(rpe: str | KernelFamily, lags: Sequence[int], heads: int, alpha: Any = DEFAULT_ALPHA
               ) -> tuple[int, ...]:
    """The paper's head allocation ``H_k ∝ e^{alpha T_k}`` (lin) / ``T_k^{1+alpha}`` (log) (proof of Theorem 3.1),
    by largest remainder with at least one head per memory
    (:func:`tfapprox.constructions.thm3_1.allocate_heads`); the weight is the family's
    ``allocation_weight_mp`` (``tfapprox.theory.families``) at ``alpha`` rounded to float64.

    >>> allocation("lin", (901, 944, 952), 64)
    (15, 24, 25)
    """
    family = kernel_family(rpe)
    a = mpmath.mpf(float(sympy.Rational(str(alpha)) if not isinstance(alpha, sympy.Basic) else alpha))
    return allocate_heads([family.allocation_weight_mp(a, T) for T in lags], heads)[0]


def window_input_radius(kernel: DeltaKernel, length: int) -> mpmath.mpf:
    """Upper bound of ``|z| = |sum_{s<L} P(s) x_{L-1-s}|`` for the realised kernel ``P`` and tokens ``|x| <= 1``.

    ``P(s) = w(s) Q(u(s))`` with ``|Q| <= sum_j |c_j|`` on ``[0, 1]`` (Chebyshev basis) and the realised
    coefficients within ``2 coefficient_error_bound`` of it, so
    ``sum_{s<L} |P(s)| <= (sum_j |c_j| + 2 bound) sum_{s >= first_lag} w(s)`` (Lemma F.1/F.4 notation).

    >>> window_input_radius(delta_kernel("lin", 901, 64), 1000) < 1e-20   # the zero kernel (up to rounding)
    True
    """
    family = kernel_family(kernel.rpe)
    require_int("length", length, minimum=2)
    with mpmath.workdps(30):
        q = kernel.chebyshev_l1 + 2 * kernel.coefficient_error_bound
        if q == 0:
            return mpmath.mpf(0)
        g = mpmath.mpf(kernel.gamma.p) / kernel.gamma.q
        return +(q * family.weight_sum_mp(g) * (1 + mpmath.mpf(10) ** -9))


def build_finite_thm3_1(target: FixedMemoryTarget, heads: int, width: int, length: int, *, rpe: str = "lin",
                        alpha: Any = DEFAULT_ALPHA, gamma: Any = DEFAULT_GAMMA, seed: int = 0) -> TransformerSpec:
    """The Theorem 3.1 Transformer for finite sequences of ``length`` tokens (``past="none"``), read at
    the last token: head ``h`` of group ``k`` has slope ``beta_h`` and ``W_V = a_h Z_L(beta_h)`` with the
    finite normaliser :func:`tfapprox.constructions.thm5_1.finite_normaliser`; residual; FFN the readout
    (:func:`tfapprox.constructions.thm3_1.readout_ffn`: exact from the readout's own neuron count on, a
    seeded Maurey sampling below) or, for a linear readout ``w.z + b``, the exact two-neuron FFN
    ``relu(w.z + b + C) - relu(C)`` with the integer ``C = ceil(sum_k |w_k| R + |b|) + 1``, ``R`` bounding every ``|z_k|``
    (:func:`window_input_radius`, at least 1 for the residual ``z_0 = x_t``).  Returns a
    :class:`~tfapprox.theory.architecture.TransformerSpec` (``d = 1``).

    Raises ``ValueError`` for ``d != 1``, ``heads < M``, ``width < 2`` with a linear readout, or more
    than :data:`REALISED_HEADS_MAX` heads on one memory.

    >>> from tfapprox.theory.readouts import LinearReadout
    >>> spec = build_finite_thm3_1(FixedMemoryTarget((1, 3), LinearReadout([0, 1, 2])), 24, 4, 12)
    >>> spec.past, spec.metadata["head_allocation"]
    ('none', (12, 12))
    """
    if not isinstance(target, FixedMemoryTarget):
        raise TypeError(f"target must be a FixedMemoryTarget, got {short_repr(target)}")
    if target.d != 1:
        raise ValueError(f"build_finite_thm3_1 supports d = 1, got d = {target.d}")
    family = kernel_family(rpe)
    length = require_int("length", length, minimum=2)
    width = require_int("width", width, minimum=1)
    lags = tuple(target.lags)
    M = len(lags)
    D = M + 1
    H = require_int("H", heads, minimum=M)
    alloc = allocation(family, lags, H, alpha)
    heads_out = []
    radius = mpmath.mpf(1)
    for k, (T, Hk) in enumerate(zip(lags, alloc)):
        if Hk > REALISED_HEADS_MAX:
            raise ValueError(f"heads per memory must be <= {REALISED_HEADS_MAX} to realise the weights (about "
                             f"0.77 H digits each), got {Hk} for lag {T}")
        kern = delta_kernel(family.name, T, Hk, alpha=alpha, gamma=gamma)
        radius = max(radius, window_input_radius(kern, length))
        for beta, coeff in zip(kern.exponents, kern.coefficients):
            W_V = sympy.zeros(D, D)
            W_V[k + 1, 0] = decimal_rational(coeff, kern.coefficient_dps) * finite_normaliser(family.name, beta,
                                                                                                 length)
            heads_out.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), beta))
    layer = AttentionLayer(tuple(heads_out), sympy.eye(D), family.rpe())
    readout = target.readout
    if isinstance(readout, LinearReadout):
        if width < 2:
            raise ValueError(f"width (FFN width m) must be >= 2 for the exact linear readout FFN, got {width}")
        w = list(readout.weights)
        with mpmath.workdps(30):
            bound = (mpmath.fsum(abs(mpmath.mpf(float(v))) for v in w) * radius + abs(mpmath.mpf(float(readout.bias))))
            C = sympy.Integer(int(mpmath.ceil(bound * (1 + mpmath.mpf(10) ** -9)))) + 1
        rows = [w] + [[0] * D] * (width - 1)
        bias = [C + readout.bias, C] + [0] * (width - 2)
        outer = [1, -1] + [0] * (width - 2)
        ffn = FeedForward(rows, [[v] for v in bias], [outer])
        exact = True
    else:
        ffn, exact, _ = readout_ffn(readout, width, D, seed)
    W_E = sympy.zeros(D, 1)
    W_E[0, 0] = 1
    meta = {"construction": "thm3.1-finite", "paper": "Wang & E 2024, Theorem 3.1 / App. B.1, finite normalisers",
            "rpe": family.name, "lags": list(lags), "heads": H, "width": width, "head_allocation": list(alloc),
            "length": length, "normaliser": "finite: sum over the existing tokens (past='none')",
            "alpha": str(alpha), "gamma": str(gamma), "ffn_exact": exact}
    return TransformerSpec(W_E, sympy.zeros(D, 1), (Block(layer, ffn),), "none", meta)
