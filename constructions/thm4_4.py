"""Theorem 4.4 (App. D.1) and Proposition 4.5: deep Transformers for nested memories H^Adap_(K,M).

Target (eq. (8), (10)): ``t_1 = g_1(x_t)``, ``t_l = g_l(x_t, x_{t-t_1}, ..., x_{t-t_{l-1}})`` for
``l <= K``, ``t_l = g_l(x_t, x_{t-t_1}, ..., x_{t-t_K})`` for ``l > K``,
``y_t = f(x_t, x_{t-t_1}, ..., x_{t-t_M})``, ``1 <= g_l <= T_l``.

The construction (App. D.1), ``L = K + 1 + 1{M >= K+1}`` blocks:

* **Embedding and layout** as in Thm 4.1 (:mod:`tfapprox.constructions.thm4_1`):
  ``D = (M+1) d + M + 1``: token block, ``M`` memory blocks, ``M`` position coordinates,
  one constant coordinate (``1`` lin, ``log 2`` log).
* **Block 1**: no attention (the paper's Step 1, ``W_O^{(1)} = 0``); FFN 1 with precision writes
  ``t_1`` (lin) or ``log t_1`` (log) and the constant.
* **Block l + 1, 1 <= l <= K**: attention with **all H heads** extracting memory ``l``: the
  Lemma F.2 / F.5 kernel for ``T_l`` (:func:`~tfapprox.constructions.lemma_f2_f5.shifted_delta_kernel`),
  query on the ``t_l`` coordinate, key on the constant, value copying the token block into
  memory block ``l`` (exactly App. D.1's ``W_Q^{(l+1,h)}, W_K^{(l+1,h)}, W_V^{(l+1,h)}``).  Its FFN
  (precision) writes ``t_{l+1}`` for ``l < K``; for ``l = K`` it writes ``t_{K+1}, ..., t_M`` together
  (when ``M > K``) or is the readout (``M = K``).
* **Block K + 2** (only if ``M >= K + 1``): attention extracting memories ``K+1..M`` concurrently,
  heads split as in Thm 3.1 / 4.1 (:func:`~tfapprox.constructions.thm3_1.allocate_heads`); FFN the
  readout ``f`` (no residual).

**Which FFN computes g_l.**  ``g_l`` is a table on a finite scalar alphabet reading ``k`` tokens
(``x_t`` and memory blocks).  The FFN first encodes the ``k`` read coordinates as one number
``u = sum_i c_i z_i`` with mixed-radix weights ``c = (B^{k-1}, ..., B, 1)``, ``B = R/delta + 1``
(``R`` the alphabet's span, ``delta`` its smallest gap), so distinct keys get values of ``u`` at
least ``delta`` apart; then it writes the ReLU piecewise-linear interpolant of ``g_l`` (or
``log g_l``) through the keys' ``u`` values (:func:`~tfapprox.constructions.thm4_1.memory_ffn_pieces`,
one ramp ``relu(u - u_j)`` per knot but the last, one shared constant neuron).  It is exact on
the alphabet (accuracy 0) and Lipschitz with the exact constant ``max |slope| * ||c||_2``
(:attr:`PositionFFN.lipschitz`), the ``||g_l||_Lip`` of the proof's rounding condition
``accuracy + Lip * (token error) < 1/2`` (lin) or ``< log(1 + 1/(2 T_l))`` (log).  The paper's
sufficient split is ``accuracy < 1/4`` and ``Lip * error <= 1/4`` (lin), ``1/(8 T_l)`` each (log).
With a width budget knots are removed greedily as in Thm 4.1 and a width whose accuracy misses
the paper's accuracy threshold (``1/2`` / ``1/(4 T_l)`` for a ``g_l`` reading ``x_t`` only, as in
Thm 4.1; ``1/4`` / ``1/(8 T_l)`` for one reading memory blocks) is refused with ``ValueError``.

The token-error half of the condition depends on the attention errors, which are measured in
:mod:`tfapprox.verify.nested_error` (certified from exact kernel errors); this module records
what the condition needs (``lipschitz``, ``accuracy``, ``margin``) and does not run anything.

**Proposition 4.5** is the case ``K = M`` of this construction applied to a warm-up target
H^Adap_(1,M) (``nesting = 0``): pass ``layers_K=M`` (:func:`build_prop4_5`), ``M + 1`` blocks,
one memory per attention layer.  The 2-layer comparison network is Thm 4.1
(:func:`~tfapprox.constructions.thm4_1.build_thm4_1`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import mpmath
import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.digits import unnormalised_log10, with_precision_digits
from tfapprox.theory.families import kernel_family
from tfapprox.theory.rpe import to_exact
from tfapprox.theory.targets import AdaptiveMemoryTarget, TableMemoryFunction
from tfapprox.theory.validation import require_int

from .base import Construction
from .lemma_f2_f5 import ShiftedDeltaKernel, shifted_delta_kernel
from .thm3_1 import allocate_heads, zero_attention_warnings
from .thm4_1 import memory_ffn_pieces, padded_ffn, readout_block_ffn

__all__ = ["PositionFFN", "Thm44Construction", "Prop45Construction", "build_thm4_4", "build_prop4_5", "layer_count",
           "memory_reads", "position_encoding"]


def layer_count(K: int, M: int) -> int:
    """``L = K + 1 + 1{M >= K + 1}`` (Theorem 4.4).

    >>> layer_count(2, 2), layer_count(2, 3), layer_count(3, 3)
    (3, 4, 4)
    """
    return K + 1 + (1 if M >= K + 1 else 0)


def memory_reads(target: AdaptiveMemoryTarget, i: int) -> tuple[int, ...]:
    """Token indices ``g_i`` reads (0 = ``x_t``, ``j`` = ``x_{t-t_j}``), ``i`` 1-based (eq. (8))."""
    g = target.memory_functions[i - 1]
    return tuple(g.reads) if g.reads is not None else tuple(range(min(i - 1, target.nesting) + 1))


def position_encoding(alphabet: list[Any], k: int) -> tuple[sympy.Rational, ...]:
    """Mixed-radix weights ``c = (B^{k-1}, ..., B, 1)``, ``B = R/delta + 1``, for ``k`` read tokens.

    Distinct keys in ``alphabet^k`` get ``u = sum_i c_i z_i`` at least ``delta`` apart.

    >>> position_encoding([-1, 1], 2)
    (2, 1)
    """
    pts = sorted(sympy.nsimplify(a) for a in alphabet)
    if len(pts) == 1:
        return tuple(sympy.Integer(1) for _ in range(k))
    R = pts[-1] - pts[0]
    delta = min(b - a for a, b in zip(pts, pts[1:]))
    B = sympy.nsimplify(R / delta) + 1
    return tuple(B ** (k - 1 - i) for i in range(k))


@dataclass(frozen=True)
class PositionFFN:
    """How an FFN with precision computes ``t_l = g_l(...)`` (the width/rounding conditions of Thm 4.4).

    ``lipschitz`` is the exact Lipschitz constant (l2 norm of the read tokens) of the ReLU
    function before rounding; ``accuracy`` its max error on the alphabet; ``threshold`` the
    paper's accuracy threshold; ``margin`` what rounding tolerates in total
    (``1/2`` lin, ``log(1 + 1/(2 T_l))`` log): exact positions need
    ``accuracy + lipschitz * token_error < margin``.
    """

    memory: int
    block: int              # 1-based block whose FFN writes t_l
    reads: tuple[int, ...]
    encoding: tuple[str, ...]
    neurons: int
    accuracy: float
    threshold: float
    margin: float
    lipschitz: float
    exact: bool

    @property
    def meets_threshold(self) -> bool:
        """Whether ``accuracy < threshold`` (Thm 4.4's condition holds)."""
        return self.accuracy < self.threshold

    @property
    def reads_memories(self) -> tuple[int, ...]:
        """The memories (``j > 0``) among the tokens this FFN reads."""
        return tuple(j for j in self.reads if j > 0)

    def tolerated_token_error(self) -> float:
        """Largest token error (l2 over the memory blocks read) that keeps rounding exact: ``(margin - accuracy) / Lip``."""
        if not self.reads_memories or self.lipschitz == 0:
            return math.inf
        return (self.margin - self.accuracy) / self.lipschitz


@dataclass(frozen=True, repr=False)
class Thm44Construction(Construction):
    """The Theorem 4.4 result: the spec plus what the proof used.

    Fields beyond :class:`~tfapprox.constructions.base.Construction`'s ``spec``, ``target``, ``rpe``:
    ``layers_K``, the Lemma F.2/F.5 ``kernels`` (one per memory), ``heads_per_memory``,
    ``attention_block`` (the block extracting each memory), the ``position_ffns``,
    ``readout_exact`` and the hidden-state ``layout``.
    """

    layers_K: int
    kernels: tuple[ShiftedDeltaKernel, ...]        # one per memory
    heads_per_memory: tuple[int, ...]
    attention_block: tuple[int, ...]               # 1-based block whose attention extracts memory l
    position_ffns: tuple[PositionFFN, ...]
    readout_exact: bool
    layout: dict

    def _summary(self) -> dict[str, Any]:
        meta = self.spec.metadata
        return {"rpe": self.rpe, "K": self.layers_K, "layers": self.num_layers,
                "heads_per_layer": self.heads_per_layer, "max_lags": tuple(self.target.max_lags),
                "heads_per_memory": self.heads_per_memory, "attention_block": self.attention_block,
                "position_ffn_neurons": tuple(f.neurons for f in self.position_ffns),
                "readout_exact": self.readout_exact, "digits": meta.get("precision_digits")}

    @property
    def stores_log(self) -> bool:
        """Whether positions are stored as ``x(t_l) = log t_l`` (log-RPE) rather than as they are."""
        return not self.family.coordinate_is_lag()

    @property
    def num_layers(self) -> int:
        """Number of blocks of the construction."""
        return len(self.spec.blocks)

    @property
    def heads_per_layer(self) -> int:
        """The largest number of heads of one layer."""
        return max(len(b.attention.heads) for b in self.spec.blocks if b.attention is not None)


def _table_points(g: TableMemoryFunction, c: tuple[Any, ...], store_log: bool) -> tuple[list[Any], list[Any]]:
    pairs = {}
    for key, v in g.entries:
        u = sum(ci * tok[0] for ci, tok in zip(c, key))
        pairs[u] = sympy.log(sympy.Integer(v)) if store_log else sympy.Integer(v)
    pts = sorted(pairs)
    return pts, [pairs[p] for p in pts]


def _position_ffn(target: AdaptiveMemoryTarget, memories: list[int], width: int | None, D: int,
                  read_coord: dict[int, int], gcoord: list[int], const: int | None, store_log: bool,
                  block: int) -> tuple[FeedForward, list[PositionFFN], int]:
    """One FFN with precision writing ``t_l`` (or ``log t_l``) for each ``l`` in ``memories``."""
    pieces = []
    for l in memories:
        g = target.memory_functions[l - 1]
        if not isinstance(g, TableMemoryFunction):
            raise ValueError(f"g_{l} must be a TableMemoryFunction on a finite alphabet for the Theorem 4.4 "
                             f"construction, got {type(g).__name__}")
        reads = memory_reads(target, l)
        c = position_encoding([t[0] for t in g.alphabet], len(reads))
        pts, vals = _table_points(g, c, store_log)
        pieces.append((l, reads, c, pts, vals))
    need = 1 + sum(len(p[3]) - 1 for p in pieces)
    m = need if width is None else require_int("m (FFN width)", width, minimum=1)
    free = m - 1
    needs = [max(len(p[3]) - 1, 0) for p in pieces]
    if free < sum(needs):
        if free < len(pieces):
            raise ValueError(f"m (FFN width) = {m} is too small for block {block}: {len(pieces)} memory functions "
                             f"need at least one neuron each plus one constant neuron")
        alloc, _ = allocate_heads([max(n, 1) for n in needs], free)
    else:
        alloc = tuple(needs)
    rows: list[list[Any]] = [[0] * D]
    bias: list[Any] = [1]
    col0 = [0] * D
    if const is not None:
        col0[const] = sympy.log(2) if store_log else 1
    outer_cols: list[list[Any]] = [col0]
    infos = []
    for (l, reads, c, pts, vals), budget in zip(pieces, alloc):
        T = target.max_lags[l - 1]
        nested = any(j > 0 for j in reads)
        if store_log:
            thr = 1.0 / (8 * T) if nested else 1.0 / (4 * T)
            margin = float(mpmath.log(1 + mpmath.mpf(1) / (2 * T)))
        else:
            thr = 0.25 if nested else 0.5
            margin = 0.5
        knots, acc = memory_ffn_pieces(pts, vals, budget)
        col0[gcoord[l - 1]] = knots[0][1]
        prev = 0
        max_slope = sympy.Integer(0)
        for (xa, va), (xb, vb) in zip(knots, knots[1:]):
            slope = (vb - va) / (xb - xa)
            max_slope = max(max_slope, abs(slope), key=lambda v: float(v))
            r = [0] * D
            for ci, j in zip(c, reads):
                r[read_coord[j]] = ci
            rows.append(r)
            bias.append(-xa)
            col = [0] * D
            col[gcoord[l - 1]] = slope - prev
            outer_cols.append(col)
            prev = slope
        cnorm = math.sqrt(sum(float(ci) ** 2 for ci in c))
        lip = float(sympy.N(max_slope, 30)) * cnorm
        info = PositionFFN(l, block, reads, tuple(str(ci) for ci in c), len(knots) - 1, acc, thr, margin,
                           lip, acc == 0.0)
        if not info.meets_threshold:
            raise ValueError(
                f"m (FFN width) = {m} cannot meet the rounding threshold of Theorem 4.4's width condition in "
                f"block {block}: g_{l} gets {info.neurons} neurons with accuracy {acc:.4g} on the alphabet, need "
                f"< {thr:.4g}; exact interpolation needs m >= {need}")
        infos.append(info)
    return padded_ffn(rows, bias, outer_cols, m, D, "log_round" if store_log else "round"), infos, m


def build_thm4_4(target: AdaptiveMemoryTarget, num_heads: Any, width: Any = None, *, rpe: Any = "lin",
                 layers_K: Any = None, alpha: Any = sympy.Rational(1, 100), gamma: Any = sympy.Rational(1, 100),
                 readout_width: Any = None, seed: int = 0) -> Thm44Construction:
    """Build the Theorem 4.4 Transformer (App. D.1).

    Parameters
    ----------
    target
        An :class:`~tfapprox.theory.targets.AdaptiveMemoryTarget`, token dimension ``d = 1``,
        memory functions as :class:`~tfapprox.theory.targets.TableMemoryFunction`.
    num_heads
        ``H``: heads in every attention layer (all of them on one memory in blocks ``2..K+1``;
        split over memories ``K+1..M`` in block ``K+2``, so ``H >= M - K``).
    width
        Width ``m`` of every position FFN (default: exact interpolation in each block).
    rpe
        ``"lin"`` (Lemma F.2, rounding ``[.]``) or ``"log"`` (Lemma F.5, ``log[exp(.)]``).
    layers_K
        The ``K`` of the layer schedule (default ``max(target.nesting, 1)``); any
        ``target.nesting <= K <= M`` works (the first ``K`` memories one per layer).
        ``K = M`` on a warm-up target is Proposition 4.5.
    readout_width
        Readout FFN width (default: exact readout).

    Examples
    --------
    >>> from tfapprox.theory.targets import pointer_chasing
    >>> c = build_thm4_4(pointer_chasing(2, 2), 8)
    >>> c.num_layers, c.spec.num_heads, c.attention_block
    (3, (0, 8, 8), (2, 3))
    >>> [(p.memory, p.block, p.reads, p.lipschitz) for p in c.position_ffns]
    [(1, 1, (0,), 2.0), (2, 2, (1,), 2.0)]
    """
    if not isinstance(target, AdaptiveMemoryTarget):
        raise TypeError(f"target must be an AdaptiveMemoryTarget, got {type(target).__name__}")
    if target.d != 1:
        raise ValueError(f"this construction supports token dimension d = 1 (scalar alphabets), got d = {target.d}")
    if target.allow_zero_lag:
        raise ValueError("Theorem 4.4 needs 1 <= g_i <= T_i (eq. (10)); the target allows g = 0")
    family = kernel_family(rpe)
    M = target.memory_count
    K = max(target.nesting, 1) if layers_K is None else require_int("layers_K", layers_K, minimum=1, maximum=M)
    for i in range(1, M + 1):
        avail = min(i - 1, K)
        if max(memory_reads(target, i)) > avail:
            raise ValueError(f"layers_K = {K} is too small: g_{i} reads memory {max(memory_reads(target, i))}, but with "
                             f"K = {K} only memories 1..{avail} are extracted before t_{i} is computed "
                             f"(need layers_K >= target.nesting = {target.nesting})")
    H = require_int("H (number of heads)", num_heads, minimum=1)
    if H < M - K:
        raise ValueError(f"H (number of heads) must be >= M - K = {M - K} (one head group per concurrent memory), "
                         f"got {H}")
    alpha_e, gamma_e = to_exact("alpha", alpha), to_exact("gamma", gamma)
    d = 1
    D = (M + 1) * d + M + 1
    gcoord = [(M + 1) * d + k for k in range(M)]
    const = D - 1
    read_coord = {j: j * d for j in range(M + 1)}
    store_log = not family.coordinate_is_lag()  # positions stored as x(t_l) = log t_l
    L = layer_count(K, M)

    # memories computed by each block's FFN (1-based blocks); block K+1 computes K+1..M
    ffn_memories: dict[int, list[int]] = {b: [b] for b in range(1, K + 1)}
    if M > K:
        ffn_memories[K + 1] = list(range(K + 1, M + 1))
    attention_block = tuple(l + 1 if l <= K else K + 2 for l in range(1, M + 1))

    # head allocation and kernels
    heads_per_memory = [0] * M
    for l in range(1, K + 1):
        heads_per_memory[l - 1] = H
    quotas: tuple = ()
    if M > K:
        lags = target.max_lags[K:]
        weights = [family.allocation_weight_mp(float(alpha_e), T) for T in lags]  # e^{alpha T} / T^{1+alpha}
        alloc, quotas = allocate_heads(weights, H)
        heads_per_memory[K:] = alloc
    cache: dict[tuple[int, int], ShiftedDeltaKernel] = {}
    kernels = []
    for T, Hk in zip(target.max_lags, heads_per_memory):
        if (T, Hk) not in cache:
            cache[(T, Hk)] = shifted_delta_kernel(family, T, Hk, alpha=alpha_e, gamma=gamma_e)
        kernels.append(cache[(T, Hk)])

    def heads_for(l: int) -> list[AttentionHead]:
        kern = kernels[l - 1]
        out = []
        for j, beta in enumerate(kern.exponents):
            W_V = sympy.zeros(D, D)
            W_V[l * d, 0] = kern.exact_coefficient(j)
            e_g = sympy.zeros(1, D)
            e_g[0, gcoord[l - 1]] = 1
            e_c = sympy.zeros(1, D)
            e_c[0, const] = 1 / sympy.log(2) if store_log else 1  # the constant coordinate holds x(2) - x(1)
            out.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), beta, sympy.sqrt(beta) * e_g,
                                     sympy.sqrt(beta) * e_c))
        return out

    rpe_obj = family.rpe()
    infos: list[PositionFFN] = []
    widths = []
    blocks = []
    for b in range(1, L + 1):
        if b == 1:
            att = None
        else:
            mems = [l for l in range(1, M + 1) if attention_block[l - 1] == b]
            att = AttentionLayer(tuple(h for l in mems for h in heads_for(l)), sympy.eye(D), rpe_obj,
                                 normalized=False)
        if b in ffn_memories:
            ffn, inf, mb = _position_ffn(target, ffn_memories[b], width, D, read_coord, gcoord,
                                         const if b == 1 else None, store_log, b)
            infos += inf
            widths.append(mb)
        else:
            ffn, r_exact = readout_block_ffn(target, readout_width, D, seed)
        blocks.append(Block(att, ffn))

    W_E = sympy.zeros(D, d)
    W_E[0, 0] = 1
    layout = {"D": D, "token_block": [0, d], "memory_blocks": [[(k + 1) * d, (k + 2) * d] for k in range(M)],
              "position_coordinates": gcoord, "constant_coordinate": const}
    prop45 = target.nesting == 0 and K == M
    metadata = {
        "construction": "prop4.5" if prop45 else "thm4.4",
        "paper": ("Wang & E 2024, Prop. 4.5 (App. D.2: Thm 4.4 with K = M on H^Adap_(1,M))" if prop45 else
                  "Wang & E 2024, Theorem 4.4 / App. D.1"),
        "rpe": family.name, "layers_K": K, "target_nesting": target.nesting, "num_layers": L,
        "max_lags": list(target.max_lags), "d": d, "heads": H, "position_ffn_widths": widths,
        "alpha": str(alpha_e), "gamma": str(gamma_e),
        "heads_per_memory": list(heads_per_memory),
        "attention_block_of_memory": list(attention_block),
        "head_allocation_quotas": [float(q) for q in quotas],
        "head_allocation_rule": "blocks 2..K+1: all H heads on one memory; block K+2: proportional to "
                                "e^{alpha T_k} (lin) / T_k^{1+alpha} (log), largest remainder, at least one head",
        "ffn_precision": "log_round" if store_log else "round",
        "ffn_stores": "log t_l" if store_log else "t_l",
        "position_ffns": [{"memory": i.memory, "block": i.block, "reads": list(i.reads), "neurons": i.neurons,
                           "accuracy": i.accuracy, "threshold": i.threshold, "margin": i.margin,
                           "lipschitz": i.lipschitz, "encoding": list(i.encoding)} for i in infos],
        "readout_exact": r_exact,
        "layout": layout,
        "target": target.to_dict(),
    }
    warnings = zero_attention_warnings(target.max_lags, heads_per_memory, kernels, "memory with maximal lag T")
    if warnings:
        metadata["warnings"] = warnings
    # precision_digits (tfapprox.theory.digits): the weights plus the unnormalised weights' mass e^{p B} Z(p),
    # once per attention layer (the layers' amplifications multiply)
    extra = sum(max(unnormalised_log10(family.name, kernels[l - 1].exponents, kernels[l - 1].max_shift)
                    for l in range(1, M + 1) if attention_block[l - 1] == b)
                for b in sorted(set(attention_block)))
    spec = with_precision_digits(TransformerSpec(W_E, sympy.zeros(D, 1), tuple(blocks), "padded", metadata), extra)
    return Thm44Construction(spec, target, family.name, K, tuple(kernels), tuple(heads_per_memory), attention_block,
                             tuple(sorted(infos, key=lambda i: i.memory)), r_exact, layout)


@dataclass(frozen=True, repr=False)
class Prop45Construction(Thm44Construction):
    """The Proposition 4.5 result: Theorem 4.4's fields with ``layers_K = M`` on a warm-up target."""


def build_prop4_5(target: AdaptiveMemoryTarget, num_heads: Any, width: Any = None, *, rpe: Any = "lin",
                  **kwargs: Any) -> Prop45Construction:
    """Proposition 4.5: the ``(M+1)``-layer construction for a warm-up target H^Adap_(1,M) (``nesting = 0``).

    Theorem 4.4 with ``K = M``: one memory per attention layer, ``H`` heads each.

    >>> from tfapprox.theory.targets import TableMemoryFunction, AdaptiveMemoryTarget
    >>> from tfapprox.theory.readouts import LinearReadout
    >>> g = TableMemoryFunction((-1, 1), {-1: 1, 1: 2})
    >>> t = AdaptiveMemoryTarget.warm_up((g, g, g), (2, 2, 2), LinearReadout([0, 1, 1, 1]))
    >>> build_prop4_5(t, 4).num_layers
    4
    """
    if not isinstance(target, AdaptiveMemoryTarget):
        raise TypeError(f"target must be an AdaptiveMemoryTarget, got {type(target).__name__}")
    if target.nesting != 0:
        raise ValueError(f"Proposition 4.5 is about the warm-up class H^Adap_(1,M) (nesting 0), got nesting "
                         f"{target.nesting}; use build_thm4_4")
    cons = build_thm4_4(target, num_heads, width, rpe=rpe, layers_K=target.memory_count, **kwargs)
    return Prop45Construction(**{f.name: getattr(cons, f.name) for f in fields(cons)})
