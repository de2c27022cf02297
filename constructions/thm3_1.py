"""Theorem 3.1 (App. B.1): a one-layer DP-free Transformer for fixed sparse memories.

Target ``y_t = f(x_t, x_{t-T_1}, ..., x_{t-T_M})`` (eq. (5)).  The construction:

1. Embedding ``D = (M+1) d``, ``W_E = (I_d, 0)^T``, ``b_E = 0``.
2. Heads split into groups, ``H = sum_k H_k``, with the paper's allocation
   ``H_k ∝ e^{0.01 T_k}`` (lin) or ``T_k^{1.01}`` (log) (0.01 is ``alpha``); when the
   proportional split is not an integer, largest remainder (every group gets at least
   one head), recorded in the metadata.
3. Group ``k`` realises the Lemma F.1 (lin) / F.4 (log) kernel for lag ``T_k``:
   head ``h`` has ``p = beta_h`` and ``W_V = a_h Z(beta_h) delta_{(k+1, 1)}`` where
   ``Z(beta) = sum_{s>=0} e^{-beta s} = 1/(1 - e^{-beta})`` (lin) or
   ``sum_{s>=1} s^{-beta} = zeta(beta)`` (log) cancels the softmax normaliser exactly.
   ``W_O = I_D``; with the residual, ``x^{(1/2)}_t ≈ (x_t, x_{t-T_1}, ..., x_{t-T_M})``.
4. The FFN is the readout ``f``: exact when ``f`` is a finite ReLU sum with at most
   ``m`` neurons (or linear, with ``2 n_in + 1`` neurons); otherwise a seeded
   Barron (Maurey) sampling of ``m`` neurons from the ReLU representation of ``f``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.digits import with_precision_digits
from tfapprox.theory.families import kernel_family
from tfapprox.theory.limits import MAX_KERNEL_RATE
from tfapprox.theory.readouts import LinearReadout, ReluSumReadout
from tfapprox.theory.rpe import to_exact
from tfapprox.theory.targets import FixedMemoryTarget
from tfapprox.theory.validation import require_int

from .base import Construction
from .delta_kernel_type import DeltaKernel
from .delta_kernels import delta_kernel
from .realisation import decimal_rational

__all__ = ["Thm31Construction", "build_thm3_1", "allocate_heads", "readout_ffn", "zero_attention_warnings",
           "decimal_rational"]


@dataclass(frozen=True, repr=False)
class Thm31Construction(Construction):
    """The Theorem 3.1 result: the spec plus what the proof used (per-memory kernels, head allocation).

    Fields beyond :class:`~tfapprox.constructions.base.Construction`'s ``spec``, ``target``, ``rpe``:
    the Lemma F.1/F.4 ``kernels`` (one per memory), ``heads_per_memory``, ``ffn_exact`` and, for a
    sampled FFN, ``ffn_neurons`` (``(index, multiplicity)`` pairs).
    """

    kernels: tuple[DeltaKernel, ...]
    heads_per_memory: tuple[int, ...]
    ffn_exact: bool
    ffn_neurons: tuple[tuple[Any, ...], ...] | None  # for sampled FFNs: (index, multiplicity)

    def _summary(self) -> dict[str, Any]:
        meta = self.spec.metadata
        return {"rpe": self.rpe, "H": sum(self.heads_per_memory), "lags": tuple(self.target.lags),
                "heads_per_memory": self.heads_per_memory, "width": meta.get("width"), "ffn_exact": self.ffn_exact,
                "digits": meta.get("precision_digits")}


def allocate_heads(weights: list[float] | list[Any], total: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Split ``total`` heads proportionally to ``weights`` by largest remainder, every
    group getting at least one head.  Returns (allocation, exact quotas as floats)."""
    M = len(weights)
    total = require_int("H", total, minimum=M)
    w = [mpmath.mpf(v) for v in weights]
    s = mpmath.fsum(w)
    quotas = [v / s * total for v in w]
    base = [max(1, int(mpmath.floor(q))) for q in quotas]
    while sum(base) > total:  # minimum-one rule overshot: take from the largest group
        i = max(range(M), key=lambda j: base[j])
        base[i] -= 1
    order = sorted(range(M), key=lambda j: -(quotas[j] - base[j]))
    i = 0
    while sum(base) < total:
        base[order[i % M]] += 1
        i += 1
    return tuple(base), tuple(float(q) for q in quotas)


def readout_ffn(readout: Any, width: int, input_width: int, seed: int = 0) -> tuple[FeedForward, bool, Any]:
    """The readout FFN (Step II of App. B.1).

    Exact when ``readout`` is a :class:`ReluSumReadout` with at most ``width`` neurons or a
    :class:`LinearReadout` and ``width >= 2 n_in + 1``; the FFN then computes ``f``
    exactly and ``E_FFN = 0``.  A ReLU sum with more neurons than ``width`` is replaced by
    a seeded Maurey sampling: ``width`` draws ``k_i`` with probability ``pi_k ∝
    |a_k| (||b_k||_1 + |c_k|)`` and ``f_m = (1/m) sum_i (a_{k_i}/pi_{k_i}) relu(b_{k_i} z + c_{k_i})``,
    whose expected L2 error is ``O(||f||_B / sqrt(m))`` (Lemma G.6).
    """
    width = require_int("m (FFN width)", width, minimum=1)
    n_in = readout.n_in
    if n_in != input_width:
        raise ValueError(f"readout reads {n_in} inputs but the construction provides {input_width}")
    if isinstance(readout, LinearReadout):
        need = 2 * n_in + 1
        if width < need:
            raise ValueError(f"m (FFN width) must be >= {need} to represent a linear readout exactly "
                             f"(2 n_in + 1), got {width}")
        w = list(readout.weights)
        rows = [[1 if j == i else 0 for j in range(n_in)] for i in range(n_in)]
        rows += [[-1 if j == i else 0 for j in range(n_in)] for i in range(n_in)]
        rows += [[0] * n_in]
        c = [0] * (2 * n_in) + [abs(readout.bias)]
        a = w + [-v for v in w] + [sympy.sign(readout.bias)]
        rows += [[0] * n_in] * (width - need)
        c += [0] * (width - need)
        a += [0] * (width - need)
        return FeedForward(rows, [[v] for v in c], [a]), True, None
    if not isinstance(readout, ReluSumReadout):
        raise ValueError(f"readout {type(readout).__name__} has no FFN construction here; use a "
                         f"ReluSumReadout or LinearReadout (got kind {getattr(readout, 'kind', '?')!r})")
    inner, bias, outer = readout.as_exact_matrices()
    m_f = readout.num_neurons
    if width >= m_f:
        pad = width - m_f
        rows = [list(inner.row(i)) for i in range(m_f)] + [[0] * n_in] * pad
        c = list(bias) + [0] * pad
        a = list(outer) + [0] * pad
        return FeedForward(rows, [[v] for v in c], [a]), True, None
    # Maurey / Barron sampling
    weights = [abs(a) * (sum(abs(b) for b in inner.row(i)) + abs(c))
               for i, (a, c) in enumerate(zip(outer, bias))]
    total = sum(weights)
    probs = np.array([float(v / total) for v in weights])
    rng = np.random.default_rng(require_int("seed", seed, minimum=0))
    draws = rng.choice(m_f, size=width, p=probs)
    counts = np.bincount(draws, minlength=m_f)
    used = [k for k in range(m_f) if counts[k] > 0]
    rows, c, a = [], [], []
    for k in used:
        rows.append(list(inner.row(k)))
        c.append(bias[k])
        # multiplicity * a_k / (m pi_k), pi_k = weights[k] / total (exact rationals)
        a.append(sympy.Integer(int(counts[k])) * outer[k] * total / (width * weights[k]))
    pad = width - len(used)
    rows += [[0] * n_in] * pad
    c += [0] * pad
    a += [0] * pad
    return FeedForward(rows, [[v] for v in c], [a]), False, tuple((k, int(counts[k])) for k in used)


def build_thm3_1(target: FixedMemoryTarget, num_heads: int, width: int | None = None, *, rpe: Any = "lin",
                 alpha: Any = sympy.Rational(1, 100), gamma: Any = sympy.Rational(1, 100),
                 seed: int = 0) -> Thm31Construction:
    """Build the Theorem 3.1 Transformer for ``target`` with ``num_heads`` heads and FFN width ``width``.

    Parameters
    ----------
    target
        A :class:`~tfapprox.theory.targets.FixedMemoryTarget` (eqs. (5)-(6)).
    num_heads
        ``H >= M`` (each memory needs at least one head).
    width
        FFN width ``m`` (default: the readout's own size, so the FFN is exact).
    rpe
        ``"lin"`` (Lemma F.1 kernels, geometric normalisers) or ``"log"`` (Lemma F.4, zeta), or a
        :class:`~tfapprox.theory.families.KernelFamily`.
    alpha, gamma
        The change-of-variables rate and the decay factor of Lemmas F.1/F.4 (paper: 0.01).
    seed
        Seed of the Barron sampling when the FFN cannot be exact.
    """
    if not isinstance(target, FixedMemoryTarget):
        raise TypeError(f"target must be a FixedMemoryTarget, got {type(target).__name__}")
    family = kernel_family(rpe)
    lags = tuple(target.lags)
    M = len(lags)
    d = target.d
    H = require_int("H (number of heads)", num_heads, minimum=1)
    if H < M:
        raise ValueError(f"H (number of heads) must be >= M = {M} (one head group per memory), got {H}")
    alpha_e = to_exact("alpha", alpha)
    gamma_e = to_exact("gamma", gamma)
    for name, value, given in (("alpha", alpha_e, alpha), ("gamma", gamma_e, gamma)):
        if not 0 < value <= MAX_KERNEL_RATE:
            raise ValueError(f"{name} must be > 0 and <= MAX_KERNEL_RATE = {MAX_KERNEL_RATE}, got {given}")
    weights = [family.allocation_weight_mp(float(alpha_e), T) for T in lags]  # e^{alpha T} / T^{1+alpha}
    allocation, quotas = allocate_heads(weights, H)
    D = (M + 1) * d
    kernels = []
    heads = []
    for k, (T, Hk) in enumerate(zip(lags, allocation)):
        kern = delta_kernel(family, T, Hk, alpha=alpha_e, gamma=gamma_e)
        kernels.append(kern)
        for beta, coeff in zip(kern.exponents, kern.coefficients):
            a = decimal_rational(coeff, kern.coefficient_dps)
            scale = a * family.normaliser(beta)  # Z(beta) cancels the softmax denominator
            W_V = sympy.zeros(D, D)
            for i in range(d):
                W_V[(k + 1) * d + i, i] = scale
            heads.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), beta))
    W_E = sympy.zeros(D, d)
    for i in range(d):
        W_E[i, i] = 1
    layer = AttentionLayer(tuple(heads), sympy.eye(D), family.rpe())
    m = target.readout.num_neurons if width is None and isinstance(target.readout, ReluSumReadout) else width
    if m is None:
        m = 2 * D + 1
    ffn, exact, neurons = readout_ffn(target.readout, m, D, seed)
    warnings = zero_attention_warnings(lags, allocation, kernels)
    metadata = {
        "construction": "thm3.1",
        "paper": "Wang & E 2024, Theorem 3.1 / App. B.1",
        "rpe": family.name,
        "lags": list(lags),
        "d": d,
        "heads": H,
        "width": m,
        "alpha": str(alpha_e),
        "gamma": str(gamma_e),
        "head_allocation": list(allocation),
        "head_allocation_quotas": list(quotas),
        "head_allocation_rule": "proportional to e^{alpha T_k} (lin) / T_k^{1+alpha} (log), "
                                "largest remainder, at least one head per memory",
        "ffn_exact": exact,
        "ffn_seed": None if exact else seed,
        "target": target.to_dict() if hasattr(target, "to_dict") else None,
    }
    if warnings:
        metadata["warnings"] = warnings
    # precision_digits: the one digits policy (tfapprox.theory.digits), from the weights' magnitudes
    spec = with_precision_digits(TransformerSpec(W_E, sympy.zeros(D, 1), (Block(layer, ffn),), "padded", metadata))
    return Thm31Construction(spec, target, family.name, tuple(kernels), allocation, exact, neurons)


def zero_attention_warnings(lags: Any, allocation: Any, kernels: Any, what: str = "memory T") -> list[str]:
    """One warning per memory whose realised kernel is identically zero (every coefficient
    ``a_h = 0``: at small ``H_k`` the Lemma F.1/F.4 interpolant of the bump vanishes at the
    nodes).  The attention then contributes nothing for that memory and its l1 kernel
    error ``||0 - delta_T||_1`` is exactly 1."""
    out = []
    for T, Hk, kern in zip(lags, allocation, kernels):
        coeffs = getattr(kern, "coefficients", None)
        if coeffs is None and hasattr(kern, "base"):
            coeffs = kern.base.coefficients
        if coeffs is not None and all(c == 0 for c in coeffs):
            out.append(f"the attention of {what}={T} is identically zero at H={Hk} heads "
                       f"(every kernel coefficient vanishes): the l1 kernel error is exactly 1 for that "
                       f"memory; use more heads")
    return out
