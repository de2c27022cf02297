"""Theorem 5.1 (App. E.1): a one-layer DP-free Transformer for essentially sparse memories.

Target ``y_t = f((X * rho_1)(t), ..., (X * rho_M)(t))`` (eq. (13)).  The construction:

1. ``D = M d``, ``W_E = (I_d, 0)^T``, **no residual**: ``x^{(1/2)}_t = W_O sum_h Attn^{(1,h)}_t``.
2. **Equal allocation** ``H_k = H/M`` (largest remainder when ``M`` does not divide ``H``, at
   least one head each; ``H < M`` is refused), recorded in the metadata.
3. Group ``k`` realises the Lemma F.3 kernel (case (A), exponential decay, lin-RPE) or the
   Lemma F.6 kernel (case (B), polynomial decay, log-RPE) of ``rho_k`` and writes block ``k``:
   head ``h`` has ``p = beta_h`` and ``W_V = a_h Z(beta_h) delta_{(k,1)}``, where ``Z`` is the
   exact softmax normaliser (``1/(1 - e^{-beta})`` or ``zeta(beta)`` over an infinite past;
   over a finite sequence of ``L`` tokens, ``sum_{s=0}^{L-1} e^{-beta s}`` or
   ``sum_{s=1}^{L-1} s^{-beta}``).
4. The FFN is the readout ``f`` (as in Thm 3.1, :func:`~tfapprox.constructions.thm3_1.readout_ffn`).

**Erratum (Differences from the paper, D2): the lag-0 term with log-RPE.**  ``phi_log(0) = -inf``: no log-RPE head sees
``x_t``, and the construction has no residual, so ``rho_k(0) x_t`` is lost (worst-case error
``sum_k |rho_k(0)|``).  The fix implemented (``lag0="residual"``, default for log): the model
width becomes ``D = (M + 1) d``, the residual connection around attention is kept so block 0
carries ``x_t``, and the FFN's first layer reads ``z_k + rho_k(0) z_0`` (the linear map is
folded exactly into the FFN's inner weights).  ``lag0="none"`` is the paper's construction.
lin-RPE sees lag 0 and needs no fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
from tfapprox.theory.digits import with_precision_digits
from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.rpe import to_exact
from tfapprox.theory.targets import EssentiallySparseTarget
from tfapprox.theory.validation import require_choice, require_int

from .base import Construction
from .lemma_f3_f6 import EssentialKernel, essential_kernel, family_for_decay
from .thm3_1 import allocate_heads, readout_ffn

__all__ = ["Thm51Construction", "equal_allocation", "build_thm5_1", "family_for_decay", "finite_normaliser",
           "kernel_attention_layer"]


@dataclass(frozen=True, repr=False)
class Thm51Construction(Construction):
    """The Theorem 5.1 result: the per-memory kernels, the allocation, the lag-0 handling and (optionally) the spec.

    Fields beyond :class:`~tfapprox.constructions.base.Construction`'s ``spec`` (``None`` unless built
    ``with_spec=True``), ``target``, ``rpe``: the Lemma F.3/F.6 ``kernels``, ``heads_per_memory`` and
    ``lag0`` (``"residual"``: the fix of erratum D2, or ``"none"``).
    """

    kernels: tuple[EssentialKernel, ...]
    heads_per_memory: tuple[int, ...]
    lag0: str

    def _summary(self) -> dict[str, Any]:
        return {"rpe": self.rpe, "H": sum(self.heads_per_memory), "memories": len(self.kernels),
                "heads_per_memory": self.heads_per_memory, "lag0": self.lag0,
                "kernels": tuple(f"Lemma {k.lemma}, H={k.num_terms}" for k in self.kernels),
                "spec": "built" if self.spec is not None else "not built (with_spec=False)"}

    @property
    def lag0_error(self) -> float:
        """``sum_k |rho_k(0)|`` when the family cannot reach lag 0 (log-RPE) and runs without the fix (else 0)."""
        if self.family.first_lag == 0 or self.lag0 == "residual":
            return 0.0
        return float(sum(abs(float(k.kernel.values(0))) for k in self.kernels))


def equal_allocation(num_heads: Any, num_memories: int) -> tuple[int, ...]:
    """``H_k = H/M`` (largest remainder, at least one head each); ``H < M`` raises ``ValueError``.

    >>> equal_allocation(7, 3)
    (3, 2, 2)
    """
    H = require_int("H (number of heads)", num_heads, minimum=1)
    if H < num_memories:
        raise ValueError(f"H (number of heads) must be >= M = {num_memories} (one head group per memory), got {H}")
    return allocate_heads([1] * num_memories, H)[0]


def finite_normaliser(rpe: Any, beta: Any, length: int | None) -> sympy.Expr:
    """``Z(beta)``: the DP-free softmax denominator (exact), infinite past (``length=None``) or
    ``length`` tokens (``past="none"``, read at the last one): ``sum_t exp(-beta x(t))`` over the
    family's lags."""
    family = kernel_family(rpe)
    b = to_exact("beta", beta)
    if length is None:
        return family.normaliser(b)
    return sympy.Add(*[family.term(b, s) for s in family.lags(length)])


def kernel_attention_layer(rpe: Any, groups: list[tuple[list[Any], list[Any]]], width: int, *,
                           length: int | None = None, residual: bool = False, offset: int = 0) -> AttentionLayer:
    """DP-free heads realising ``sum_h a_h e^{-beta_h s}`` (or ``s^{-beta_h}``) into block ``k + offset``.

    ``groups[k] = (exponents, coefficients)``; ``W_V = a_h Z(beta_h) delta_{(k+offset, 1)}`` (d = 1).
    """
    heads = []
    for k, (exps, coefs) in enumerate(groups):
        for beta, a in zip(exps, coefs):
            W_V = sympy.zeros(width, width)
            W_V[k + offset, 0] = to_exact("a", a) * finite_normaliser(rpe, beta, length)
            heads.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), to_exact("beta", beta)))
    return AttentionLayer(tuple(heads), sympy.eye(width), kernel_family(rpe).rpe(),
                          residual=residual)


def build_thm5_1(target: EssentiallySparseTarget, num_heads: Any, *, rpe: Any = None,
                 lag0: str | None = None, with_spec: bool = False, **kernel_options: Any) -> Thm51Construction:
    """Build the Theorem 5.1 construction for ``target`` with ``num_heads`` heads.

    Parameters
    ----------
    target
        An :class:`~tfapprox.theory.targets.EssentiallySparseTarget`; every kernel must have the
        decay of the RPE (``"exp"`` for lin, ``"poly"`` with ``beta > 1`` for log).
    num_heads
        ``H >= M``.
    rpe
        ``"lin"`` or ``"log"`` (or a family); default: the family of the kernels' decay
        (:func:`family_for_decay`).
    lag0
        ``"residual"`` (the fix of erratum D2; default for log) or ``"none"`` (the paper).
    with_spec
        Also build the exact :class:`TransformerSpec` (exact rational head weights; feasible for
        moderate ``H``; needs ``d = 1`` and a linear readout).
    kernel_options
        Passed to :func:`~tfapprox.constructions.lemma_f3_f6.essential_kernel`.
    """
    if not isinstance(target, EssentiallySparseTarget):
        raise TypeError(f"target must be an EssentiallySparseTarget, got {type(target).__name__}")
    decays = {k.decay for k in target.kernels}
    if rpe is None:
        if len(decays) != 1:
            raise ValueError(f"kernels mix decays {sorted(decays)}; pass rpe='lin' or 'log'")
        family = family_for_decay(next(iter(decays)))
    else:
        family = kernel_family(rpe)
    # the lag-0 fix is the default where the family cannot reach lag 0 (log-RPE, erratum D2)
    lag0 = require_choice("lag0", lag0 if lag0 is not None else ("residual" if family.first_lag > 0 else "none"),
                          ("residual", "none"))
    alloc = equal_allocation(num_heads, len(target.kernels))
    kernels = tuple(essential_kernel(family, k, Hk, **kernel_options) for k, Hk in zip(target.kernels, alloc))
    spec = None
    if with_spec:
        spec = _spec(target, family, kernels, alloc, lag0)
    return Thm51Construction(spec=spec, target=target, rpe=family.name, kernels=kernels, heads_per_memory=alloc,
                             lag0=lag0)


def _spec(target: EssentiallySparseTarget, family: KernelFamily, kernels: tuple[EssentialKernel, ...], alloc: tuple[int, ...],
          lag0: str) -> TransformerSpec:
    if target.d != 1 or not isinstance(target.readout, LinearReadout):
        raise ValueError("with_spec=True supports d = 1 and a LinearReadout target")
    M = len(kernels)
    fix = family.first_lag > 0 and lag0 == "residual"
    D = M + 1 if fix else M
    off = 1 if fix else 0
    groups = [(list(k.exponents), list(k.monomial_coefficients())) for k in kernels]
    # the realised kernel is w(s) sum_j a_j u(s)^j = sum_j a_j e^{-(gamma + alpha j) s}: exponents match
    layer = kernel_attention_layer(family, groups, D, residual=fix, offset=off)
    # linear readout f(z) = w . z + b, with the lag-0 premap z_k + rho_k(0) z_0 folded in
    w = list(target.readout.weights)
    row = [0] * D
    for k in range(M):
        row[k + off] = w[k]
        if fix:
            row[0] += w[k] * sympy.Rational(str(float(kernels[k].kernel.values(0))))
    ffn, _exact, _ = readout_ffn(LinearReadout(row, target.readout.bias), 2 * D + 1, D)
    W_E = sympy.zeros(D, 1)
    W_E[0, 0] = 1
    meta = {"construction": "thm5.1", "paper": "Wang & E 2024, Theorem 5.1 / App. E.1", "rpe": family.name,
            "heads": sum(alloc), "head_allocation": list(alloc),
            "head_allocation_rule": "equal H/M, largest remainder, at least one head per memory",
            "lag0": lag0, "residual": fix, "alpha": str(kernels[0].alpha), "gamma": str(kernels[0].gamma)}
    zero = [f"the attention of memory k={k + 1} is identically zero at H={Hk} heads (every kernel coefficient "
            f"vanishes): that memory's l1 kernel error is ||rho_{k + 1}||_1; use more heads"
            for k, (kern, Hk) in enumerate(zip(kernels, alloc)) if all(c == 0 for c in groups[k][1])]
    if zero:
        meta["warnings"] = zero
    # precision_digits: the one digits policy (tfapprox.theory.digits); the value weights a_h Z(beta_h)
    # reach 1e70 at H = 96, so the file's lowered weights need that many digits more than the output
    return with_precision_digits(TransformerSpec(W_E, sympy.zeros(D, 1), (Block(layer, ffn),), "padded", meta))
