"""Worst-case error of the Theorem 3.1 construction against its target (App. B.1).

With DP-free heads and ``||x_t||_2 <= 1``, the error of memory block ``k`` of
``x^{(1/2)}_t`` is ``e_k = sum_s (K_k(s) - 1{s = T_k}) x_{t-s}``: linear in the input, so
its supremum is *exactly* the l1 norm of the kernel error, ``E_k``, computed with a
rigorous enclosure by :func:`tfapprox.verify.kernel_error.delta_kernel_l1_error`.

For the whole stacked error ``z - z*`` (all blocks at once) the supremum of
``||z - z*||_2`` lies in ``[max_k E_k, sqrt(sum_k E_k^2)]``: the lower end is attained
by the sign pattern of one memory, the upper end is the triangle inequality.  The
total error ``|f(z*) - FFN(z)|`` is then sandwiched:

* lower bound: the worst input found (sign patterns of each kernel error, and of
  their readout-weighted sum; for a linear readout that sum's sign pattern attains
  the exact supremum, the l1 norm of the combined kernel error, up to the lags beyond
  the window, whose geometric tail bounds the gap for lin-RPE: the pair is then an
  enclosure of the exact value);
* upper bound (analytic): ``Lip(f) sqrt(sum_k E_k^2) + E_FFN`` where ``E_FFN = 0``
  when the FFN computes ``f`` exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tfapprox.constructions.thm3_1 import Thm31Construction
from tfapprox.theory.families import kernel_family
from tfapprox.theory.readouts import LinearReadout

from .kernel_error import L1Enclosure, delta_kernel_error_terms, delta_kernel_l1_error, delta_kernel_sign_pattern

__all__ = ["Thm31Measurement", "measure_thm3_1"]


@dataclass(frozen=True)
class Thm31Measurement:
    """Certified numbers for one construction (d = 1 or general d, ``||x_t||_2 <= 1``).

    ``per_memory``: exact l1 kernel errors (enclosures).  ``attention_lower/upper``:
    bounds on ``sup ||z - z*||_2``.  ``total_lower``: worst input found (a lower
    bound); ``total_upper``: analytic upper bound; ``total_exact``: whether the two
    coincide by structure (linear readout with exact FFN and d = 1).
    """

    per_memory: tuple[L1Enclosure, ...]
    attention_lower: float
    attention_upper: float
    total_lower: float
    total_upper: float
    total_exact: bool
    ffn_upper: float
    lipschitz: float
    digits_needed: int


def measure_thm3_1(construction: Thm31Construction, *, target_error: float = 1e-12,
                   search_length: int = 4000) -> Thm31Measurement:
    """Measure the construction's worst-case errors (see module docstring).

    ``search_length`` is the window length of the sign-pattern inputs used for the
    lower bound of the total error.
    """
    kernels = construction.kernels
    encl = tuple(delta_kernel_l1_error(k) for k in kernels)
    lower = max(e.lower for e in encl)
    upper = math.sqrt(sum(e.upper ** 2 for e in encl))
    readout = construction.target.readout
    lip = float(readout.lipschitz)
    ffn_upper = 0.0 if construction.ffn_exact else float(_sampled_ffn_upper(construction))
    total_upper = lip * upper + ffn_upper
    total_exact = False
    length = max(construction.target.max_lag + 1, search_length)
    if isinstance(readout, LinearReadout) and construction.ffn_exact and construction.target.d == 1:
        # f = w0 x_t + sum_k w_k x_{t-T_k} + c: the error is sum_k w_k e_k, linear in the input.
        # Its supremum is the l1 norm of the combined kernel error; the sign pattern of the
        # combined error over `length` lags attains the partial l1 sum (a lower bound), and
        # the triangle inequality sum_k |w_k| E_k is an upper bound.
        weights = [float(w) for w in readout.weights[1:]]
        combined = sum(w * delta_kernel_error_terms(k, length) for w, k in zip(weights, kernels))
        total_lower = float(np.sum(np.abs(combined)))
        total_upper = min(total_upper, sum(abs(w) * e.upper for w, e in zip(weights, encl)))
        family = kernel_family(construction.rpe)
        if family.coordinate_is_affine():
            # lags >= length: |P_k(s)| <= w(s) sum_j |c_j| (Clenshaw bound), a geometric tail (lin);
            # plus the rounding of the terms to float64 (relative 2^-52 each, counted generously).
            # (A power tail t^{-1-gamma} beyond the window is far too large to sharpen anything.)
            tail = 0.0
            for w, k in zip(weights, kernels):
                g = float(k.gamma)
                tail += abs(w) * float(k.chebyshev_l1) * family.tail_f64(g, length)
            rounding = 4 * length * np.finfo(float).eps * float(np.max(np.abs(combined)) + 1.0)
            total_upper = min(total_upper, total_lower * (1 + 4 * np.finfo(float).eps * length) + tail + rounding)
        total_exact = total_upper - total_lower <= 1e-9 * max(total_upper, 1e-300)
    else:
        total_lower = _worst_found(construction, length)
    digits = max(k.digits_needed(target_error) for k in kernels)
    return Thm31Measurement(encl, lower, upper, total_lower, total_upper, total_exact, ffn_upper, lip, digits)


def _sampled_ffn_upper(construction: Thm31Construction) -> float:
    """Deterministic bound on ``sup |f - f_m|`` over ``||z||_inf <= 2`` for the sampled FFN:
    both are ReLU sums over the same neurons, so the difference is bounded by
    ``sum_k |a_k - a'_k| (2 ||b_k||_1 + |c_k|)``."""
    readout = construction.target.readout
    ffn = construction.spec.blocks[-1].ffn
    realised = {k: float(ffn.outer[0, row]) for row, (k, _count) in enumerate(construction.ffn_neurons or ())}
    total = 0.0
    for k in range(readout.num_neurons):
        a = float(readout.outer[k])
        b1 = sum(abs(float(v)) for v in readout.inner[k])
        c = abs(float(readout.bias[k]))
        total += abs(a - realised.get(k, 0.0)) * (2 * b1 + c)
    return total


def _worst_found(construction: Thm31Construction, length: int) -> float:
    """Lower bound on the total error: target minus model at the sign-pattern inputs of each
    memory's kernel error (and their negatives), evaluated with the stable-basis kernels."""
    target = construction.target
    ffn = construction.spec.blocks[-1].ffn
    inner = np.array([[float(v) for v in ffn.inner.row(i)] for i in range(ffn.width)])
    bias = np.array([float(v) for v in ffn.bias])
    outer = np.array([float(v) for v in ffn.outer.row(0)])
    lags = np.arange(length)
    kernel_values = [k.evaluate(lags) for k in construction.kernels]
    best = 0.0
    for kern in construction.kernels:
        pattern = delta_kernel_sign_pattern(kern, length).astype(float)  # x_{t-s}, s = 0..length-1
        for sign in (1.0, -1.0):
            x = sign * pattern
            z_true = np.array([x[0]] + [x[T] for T in target.lags])
            z_model = np.array([x[0]] + [float(np.dot(v, x)) for v in kernel_values])
            f_true = float(target.readout.evaluate(z_true))
            f_model = float(outer @ np.maximum(inner @ z_model + bias, 0.0))
            best = max(best, abs(f_true - f_model))
    return best
