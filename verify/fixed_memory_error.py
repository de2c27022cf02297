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
  the exact supremum, the l1 norm of the combined kernel error);
* upper bound (analytic): ``Lip(f) sqrt(sum_k E_k^2) + E_FFN`` where ``E_FFN = 0``
  when the FFN computes ``f`` exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tfapprox.constructions.thm3_1 import Thm31Construction
from tfapprox.theory.readouts import LinearReadout

from .kernel_error import L1Enclosure, delta_kernel_l1_error

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


def measure_thm3_1(construction: Thm31Construction, *, target_error: float = 1e-12) -> Thm31Measurement:
    """Measure the construction's worst-case errors (see module docstring)."""
    kernels = construction.kernels
    encl = tuple(delta_kernel_l1_error(k) for k in kernels)
    lower = max(e.lower for e in encl)
    upper = math.sqrt(sum(e.upper ** 2 for e in encl))
    readout = construction.target.readout
    lip = float(readout.lipschitz)
    if not construction.ffn_exact:
        ffn_upper = float(_sampled_ffn_upper(construction))
    else:
        ffn_upper = 0.0
    total_upper = lip * upper + ffn_upper
    total_exact = False
    if isinstance(readout, LinearReadout) and construction.ffn_exact and construction.target.d == 1:
        # f = w0 x_t + sum_k w_k x_{t-T_k} + c: the error is sum_k w_k e_k, linear in the input;
        # its supremum is the l1 norm of the combined kernel error sum_k w_k (K_k - delta_{T_k}).
        weights = [float(w) for w in readout.weights[1:]]
        combined = _combined_l1(kernels, weights)
        total_lower = combined.lower
        total_upper = min(total_upper, combined.upper)
        total_exact = True
    else:
        total_lower = lip * 0.0 if lip == 0 else _worst_found(construction, encl)
    digits = max(k.digits_needed(target_error) for k in kernels)
    return Thm31Measurement(encl, lower, upper, total_lower, total_upper, total_exact, ffn_upper, lip, digits)


def _combined_l1(kernels, weights) -> L1Enclosure:
    from .kernel_error import combined_delta_l1_error

    return combined_delta_l1_error(kernels, weights)


def _sampled_ffn_upper(construction: Thm31Construction) -> float:
    """Deterministic bound on ``sup |f - f_m|`` over ``||z||_inf <= 2`` for the sampled FFN:
    both are ReLU sums over the same neurons, so the difference is bounded by
    ``sum_k |a_k - a'_k| (2 ||b_k||_1 + |c_k|)``."""
    readout = construction.target.readout
    ffn = construction.spec.blocks[-1].ffn
    used = dict(construction.ffn_neurons or ())
    total = 0.0
    realised = {}
    row = 0
    for k, count in (construction.ffn_neurons or ()):
        realised[k] = float(ffn.outer[0, row])
        row += 1
    for k in range(readout.num_neurons):
        a = float(readout.outer[k])
        b1 = sum(abs(float(v)) for v in readout.inner[k])
        c = abs(float(readout.bias[k]))
        total += abs(a - realised.get(k, 0.0)) * (2 * b1 + c)
    return total


def _worst_found(construction: Thm31Construction, encl) -> float:
    """Lower bound on the total error: the readout evaluated at the sign-pattern inputs of
    each memory (the stable-basis kernels give z exactly to float64 accuracy)."""
    from .kernel_error import delta_kernel_sign_pattern

    target = construction.target
    best = 0.0
    for kern in construction.kernels:
        length = max(target.max_lag + 1, 2000)
        pattern = delta_kernel_sign_pattern(kern, length)  # x_{t-s} for s = 0..length-1
        for sign in (1.0, -1.0):
            window = (sign * pattern)[::-1].reshape(-1, 1)
            z_true = [window[-1, 0]] + [window[-1 - T, 0] for T in target.lags]
            z_model = [window[-1, 0]]
            s = np.arange(length)
            for other in construction.kernels:
                z_model.append(float(np.dot(other.evaluate(s), sign * pattern)))
            f_true = target.readout.evaluate(np.array(z_true))
            spec_ffn = construction.spec.blocks[-1].ffn
            pre = np.array([[float(v) for v in spec_ffn.inner.row(i)] for i in range(spec_ffn.width)]) @ np.array(z_model)
            pre = pre + np.array([float(v) for v in spec_ffn.bias])
            f_model = float(np.array([float(v) for v in spec_ffn.outer.row(0)]) @ np.maximum(pre, 0.0))
            best = max(best, abs(f_true - f_model))
    return best
