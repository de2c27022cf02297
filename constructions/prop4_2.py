"""Proposition 4.2(A) / C.4 (App. C.2): one-layer DP attention for the witness ``y_t = x_{t - g(x_t)}``.

``X in {-1, 0, 1}^Z``; the paper's ``g(x) = x + 1`` (``g(-1) = 0``, outside the class) or the
corrected ``g(x) = x + 2`` (:func:`tfapprox.theory.targets.prop42_witness`).  Construction
(App. C.2, with the embedding fixed to what must be meant): ``D = 2``, ``W_E = (1, 0)^T``,
``b_E = (0, 1)^T``, so ``x^{(0)}_t = (x_t, 1)``; lin-RPE, normalization-free, no residual;
head ``h``: ``p = beta_h``, ``W_Q = sqrt(beta_h) (1, c)`` with ``c`` the shift (1 paper, 2
corrected), ``W_K = sqrt(beta_h) (0, 1)``, ``W_V = alpha_h e_1 e_1^T``, ``W_O = (1, 0)``.  The logit
plus RPE is ``beta_h (x_t + c) - beta_h s = -beta_h (s - g(x_t))`` and the output is
``sum_s phi(s; g(x_t)) x_{t-s}`` with the Lemma F.2 kernel for ``T = max g`` (every ``H`` heads in
one group).  Error ``O(1/H)`` (Lemma F.2, ``n = 1``).

>>> c = build_prop4_2_dp(4, corrected=True)
>>> c.spec.num_heads, c.lag_of
((4,), {-1: 1, 0: 2, 1: 3})
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
from tfapprox.theory.digits import unnormalised_log10, with_precision_digits
from tfapprox.theory.families import LIN
from tfapprox.theory.targets import prop42_witness
from tfapprox.theory.validation import require_int

from .base import Construction
from .lemma_f2_f5 import ShiftedDeltaKernel, shifted_delta_kernel

__all__ = ["Prop42Construction", "build_prop4_2_dp"]


@dataclass(frozen=True, repr=False)
class Prop42Construction(Construction):
    """The Prop. 4.2(A) DP attention: its spec, the witness target, ``rpe = "lin"``, the Lemma F.2
    ``kernel`` and ``lag_of`` (head -> lag it reads)."""

    kernel: ShiftedDeltaKernel
    lag_of: dict

    def _summary(self) -> dict:
        meta = self.spec.metadata
        return {"H": self.kernel.num_terms, "max_lag": self.kernel.max_shift, "rpe": self.kernel.rpe,
                "witness": meta.get("witness"), "lag_of": dict(self.lag_of)}


def build_prop4_2_dp(num_heads: int, corrected: bool = True) -> Prop42Construction:
    """The Prop. 4.2(A) attention with ``H = num_heads`` heads for the (corrected or paper's) witness."""
    H = require_int("H (number of heads)", num_heads, minimum=1)
    target = prop42_witness(corrected, allow_zero_lag=not corrected)
    shift = 2 if corrected else 1
    T = target.max_lags[0]
    kern = shifted_delta_kernel(LIN, T, H)  # Prop. 4.2(A) is about lin-RPE
    heads = []
    for j, beta in enumerate(kern.exponents):
        r = sympy.sqrt(beta)
        heads.append(AttentionHead([[kern.exact_coefficient(j), 0], [0, 0]], beta,
                                   [[r, r * shift]], [[0, r]]))
    layer = AttentionLayer(tuple(heads), [[1, 0]], LIN.rpe(), normalized=False, residual=False)
    meta = {"construction": "prop4.2", "paper": "Wang & E 2024, Prop. 4.2(A) / C.4, App. C.2",
            "witness": "corrected g(x) = x + 2" if corrected else "paper g(x) = x + 1 (g(-1) = 0, outside the class)",
            "heads": H, "rpe": LIN.name, "max_lag": T}
    # precision_digits: the one digits policy (tfapprox.theory.digits), with the unnormalised mass e^{p T} Z(p)
    spec = with_precision_digits(TransformerSpec([[1], [0]], [[0], [1]], (Block(layer, None),), "padded", meta),
                                 unnormalised_log10(LIN.name, kern.exponents, T))
    return Prop42Construction(spec, target, LIN.name, kern, {x: x + shift for x in (-1, 0, 1)})
