"""Theorem 4.1 (App. C.1) and Proposition 4.3 (App. C.3): two-layer Transformers for H^Adap_(1,M).

Target ``y_t = f(x_t, x_{t-g_1(x_t)}, ..., x_{t-g_M(x_t)})`` (eq. (9)), ``1 <= g_i <= T_i``.
The construction (App. C.1):

* **Embedding** ``D = (M+1) d + M + 1``: ``W_E = (I_d, 0)^T``, ``b_E = 0``.  Layout: the token
  block, ``M`` memory blocks, ``M`` memory-position coordinates, one constant coordinate.
* **Layer 1, attention off** (Step I; the paper's ``W_O^{(1)} = 0``: here no attention sub-layer).
* **FFN 1 with precision** (Step II, eq. (15)) writes ``g_k(x_t)`` (lin, ``precision="round"``)
  or ``log g_k(x_t)`` (log, ``"log_round"``) into coordinate ``(M+1)d + k`` and the constant
  ``1`` (lin) or ``log 2`` (log) into the last coordinate.  **Which FFN:** for a table
  ``g_k`` on a finite scalar alphabet ``a_1 < ... < a_A``, the piecewise-linear interpolant
  of ``g_k`` (or ``log g_k``) through the alphabet points written with ReLU ramps: one shared
  constant neuron ``relu(1)`` plus ``relu(x - a_j)``, ``j < A``, per memory.  With the full
  ``A - 1`` ramps it is *exact* on the alphabet (accuracy 0).  With fewer neurons, knots are
  removed greedily (smallest resulting error first) and the accuracy achieved on the
  alphabet is computed exactly; the construction refuses (``ValueError`` naming ``m``) a
  width whose accuracy does not beat the rounding threshold: ``1/2`` (lin, rounding
  ``[.]``) or ``1/(4 T_k)`` (log, the paper's condition; it gives ``|e^{FFN} - g| < 1/2``).
  A :class:`~tfapprox.theory.targets.ReluMemoryFunction` ``g_k`` (lin only) is copied neuron
  for neuron; its accuracy is ``max |net(a) - [net(a)]|`` over the supplied alphabet.
* **Layer 2, normalization-free attention** (Step III): head group ``k`` realises the
  Lemma F.2 / F.5 kernel for ``T_k`` (:mod:`tfapprox.constructions.lemma_f2_f5`):
  ``p = beta_h``, ``W_V = alpha_h`` copying the token block into memory block ``k``,
  ``W_Q = sqrt(beta_h) e_{g_k}^T``, ``W_K = sqrt(beta_h) e_{const}^T`` (lin) or
  ``sqrt(beta_h)/log 2 e_{const}^T`` (log), so the logit plus RPE is ``-beta_h (s - g_k(x_t))``
  or ``-beta_h log(s / g_k(x_t))``.  ``W_O = I``.  Heads are allocated as in Thm 3.1.
* **FFN 2** the readout ``f`` on the first ``(M+1) d`` coordinates (no residual).

**TMX (Prop. 4.3, Def. C.5)**, ``tmx=True``: each head has the row ``w = e_{g_k}^T`` instead of
``W_Q, W_K``; the logit is ``p (phi(s) - phi(w^T x_t))``.  *Fix of the paper's log case*
(Prop. C.6; Differences from the paper, D5): ``phi_log(w^T x_t) = -log(w^T x_t)`` needs ``w^T x_t = g_k``, but
App. C.1's log construction stores ``log g_k``.  The TMX log construction therefore stores
``g_k`` itself, with the lin rounding ``[.]`` (threshold ``1/2``), and needs no constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.digits import unnormalised_log10, with_precision_digits
from tfapprox.theory.families import kernel_family
from tfapprox.theory.readouts import ReluSumReadout
from tfapprox.theory.rpe import to_exact
from tfapprox.theory.targets import AdaptiveMemoryTarget, ReluMemoryFunction, TableMemoryFunction
from tfapprox.theory.validation import require_int

from .base import Construction
from .lemma_f2_f5 import ShiftedDeltaKernel, shifted_delta_kernel
from .thm3_1 import allocate_heads, readout_ffn, zero_attention_warnings

__all__ = ["Thm41Construction", "MemoryFFN", "build_thm4_1", "memory_ffn_pieces", "attention_parameter_count"]


@dataclass(frozen=True)
class MemoryFFN:
    """How FFN 1 computes one memory function ``g_k`` (the width condition of Thm 4.1)."""

    memory: int
    method: str            # "relu-interpolation" | "relu-network"
    neurons: int           # neurons used (without the shared constant neuron)
    accuracy: float        # max over the alphabet of |FFN output - g_k| (lin) or |.. - log g_k| (log)
    threshold: float       # 1/2 (round) or 1/(4 T_k) (log_round)
    exact: bool            # accuracy == 0 exactly
    knots: tuple[Any, ...]

    def __repr__(self) -> str:
        return (f"MemoryFFN(memory={self.memory}, method={self.method!r}, neurons={self.neurons}, "
                f"accuracy={float(self.accuracy):.3g}, threshold={float(self.threshold):.3g}, exact={self.exact}, "
                f"knots=<{len(self.knots)}>)")

    @property
    def meets_threshold(self) -> bool:
        """Whether ``accuracy < threshold`` (Thm 4.1's width condition holds)."""
        return self.accuracy < self.threshold


@dataclass(frozen=True, repr=False)
class Thm41Construction(Construction):
    """The Theorem 4.1 / Prop. 4.3 result: the spec plus what the proof used.

    Fields beyond :class:`~tfapprox.constructions.base.Construction`'s ``spec``, ``target``, ``rpe``:
    ``tmx`` (Prop. 4.3 heads), the Lemma F.2/F.5 ``kernels``, ``heads_per_memory``, the FFN 1
    ``memory_ffns``, ``readout_exact`` and the hidden-state ``layout``.
    """

    tmx: bool
    kernels: tuple[ShiftedDeltaKernel, ...]
    heads_per_memory: tuple[int, ...]
    memory_ffns: tuple[MemoryFFN, ...]
    readout_exact: bool
    layout: dict

    def _summary(self) -> dict[str, Any]:
        meta = self.spec.metadata
        return {"rpe": self.rpe, "tmx": self.tmx, "H": sum(self.heads_per_memory),
                "max_lags": tuple(self.target.max_lags), "heads_per_memory": self.heads_per_memory,
                "layers": self.spec.num_layers, "width": meta.get("width"),
                "memory_ffns_exact": all(f.exact for f in self.memory_ffns), "readout_exact": self.readout_exact,
                "digits": meta.get("precision_digits")}

    @property
    def stores_log(self) -> bool:
        """True when x^(1) holds ``x(g_k) = log g_k`` (DP log case); TMX log stores ``g_k`` (the fix)."""
        return not self.family.coordinate_is_lag() and not self.tmx


def _interp(knots: list[tuple[Any, Any]], x: Any) -> Any:
    """Piecewise-linear function through ``knots`` (sorted), constant left of the first,
    last slope continued right of the last."""
    x0, v0 = knots[0]
    out = v0
    prev_slope = 0
    for (xa, va), (xb, vb) in zip(knots, knots[1:]):
        slope = (vb - va) / (xb - xa)
        if x > xa:
            out += (slope - prev_slope) * (x - xa)
        prev_slope = slope
    return out


def memory_ffn_pieces(points: list[Any], values: list[Any], budget: int) -> tuple[list[tuple[Any, Any]], float]:
    """Knots of a piecewise-linear ReLU interpolant with ``<= budget`` ramps, and its accuracy.

    Starts from all ``len(points)`` knots (``len - 1`` ramps, exact on the points) and removes
    interior knots greedily, each time the one whose removal gives the smallest max error.
    The accuracy is ``max_j |interp(a_j) - v_j|`` (computed at 50 digits).
    """
    knots = list(zip(points, values))

    def err(ks: list[tuple[Any, Any]]) -> mpmath.mpf:
        with mpmath.workdps(50):
            return max(abs(mpmath.mpf(sympy.N(_interp(ks, a) - v, 60))) for a, v in zip(points, values))

    while len(knots) - 1 > budget and len(knots) > 1:
        cands = []
        for i in range(1, len(knots)):
            ks = knots[:i] + knots[i + 1:]
            cands.append((err(ks), i))
        best = min(cands, key=lambda c: c[0])
        knots = knots[:best[1]] + knots[best[1] + 1:]
    return knots, float(err(knots))


def attention_parameter_count(spec: TransformerSpec, layer: int = -1) -> int:
    """Parameters of one attention layer's query/key side: ``2 d_k D`` per DP head, ``D`` per TMX head
    (the ``O(D^2)`` against ``O(D)`` of Prop. 4.3); values, slopes and ``W_O`` are not counted."""
    att = spec.blocks[layer].attention
    total = 0
    for h in att.heads:
        if h.tmx is not None:
            total += h.tmx.cols
        elif h.query is not None:
            total += h.query.rows * h.query.cols + h.key.rows * h.key.cols
    return total


def readout_block_ffn(target: AdaptiveMemoryTarget, readout_width: Any, D: int, seed: int) -> tuple[FeedForward, bool]:
    """The readout FFN of Thms 4.1/4.4: ``f`` on the first ``(M+1) d`` coordinates of the width-``D``
    hidden state (:func:`~tfapprox.constructions.thm3_1.readout_ffn`, zero weights on the rest).
    ``readout_width`` defaults to the readout's own size (exact).  Returns (FFN, exact?)."""
    n_in = (len(target.max_lags) + 1) * target.d
    rw = readout_width
    if rw is None:
        rw = target.readout.num_neurons if isinstance(target.readout, ReluSumReadout) else 2 * n_in + 1
    ffn_r, exact, _ = readout_ffn(target.readout, rw, n_in, seed)
    inner = sympy.Matrix(ffn_r.inner).row_join(sympy.zeros(ffn_r.width, D - n_in))
    return FeedForward(inner, ffn_r.bias, ffn_r.outer), exact


def padded_ffn(rows: list, bias: list, outer_cols: list, width: int, D: int, precision: Any) -> FeedForward:
    """The FFN with neurons ``(rows[k], bias[k], outer_cols[k])``, padded with zero neurons to
    ``width`` (the budget ``m``); ``outer_cols[k]`` is neuron k's output vector in ``R^D``."""
    rows, bias, outer_cols = list(rows), list(bias), list(outer_cols)
    while len(rows) < width:
        rows.append([0] * D)
        bias.append(0)
        outer_cols.append([0] * D)
    outer = [[outer_cols[j][i] for j in range(width)] for i in range(D)]
    return FeedForward(rows, [[v] for v in bias], outer, precision)


def build_thm4_1(target: AdaptiveMemoryTarget, num_heads: Any, width: Any = None, *, rpe: Any = "lin",
                 tmx: bool = False, alpha: Any = sympy.Rational(1, 100), gamma: Any = sympy.Rational(1, 100),
                 readout_width: Any = None, alphabet: Any = None, seed: int = 0) -> Thm41Construction:
    """Build the Theorem 4.1 (or, with ``tmx=True``, Prop. 4.3) Transformer.

    Parameters
    ----------
    target
        A warm-up :class:`~tfapprox.theory.targets.AdaptiveMemoryTarget` (``nesting = 0``, eq. (9)),
        token dimension ``d = 1``; memory functions given as tables or (lin only) ReLU networks.
    num_heads
        ``H >= M``.
    width
        FFN 1 width ``m`` (default: exact interpolation, ``1 + sum_k (A_k - 1)`` neurons).
        A width whose best accuracy misses the rounding threshold raises ``ValueError``.
    rpe
        ``"lin"`` or ``"log"`` (or a :class:`~tfapprox.theory.families.KernelFamily`).
    tmx
        Use TMX heads (Def. C.5) instead of dot-product heads.
    readout_width
        FFN 2 width (default: exact readout).
    alphabet
        Token values for ReLU memory functions (tables carry their own).

    Examples
    --------
    >>> from tfapprox.theory.targets import prop42_witness
    >>> c = build_thm4_1(prop42_witness(corrected=True), 4)
    >>> c.spec.num_heads, c.memory_ffns[0].exact, c.layout["D"]
    ((0, 4), True, 4)
    """
    if not isinstance(target, AdaptiveMemoryTarget):
        raise TypeError(f"target must be an AdaptiveMemoryTarget, got {type(target).__name__}")
    if target.nesting != 0:
        raise ValueError(f"Theorem 4.1 covers the warm-up class (nesting = 0, eq. (9)); got nesting "
                         f"{target.nesting} (Thm 4.4 handles K >= 1)")
    if target.d != 1:
        raise ValueError(f"this construction supports token dimension d = 1 (scalar alphabets), got d = {target.d}")
    family = kernel_family(rpe)
    if not isinstance(tmx, bool):
        raise TypeError(f"tmx must be True or False, got {tmx!r}")
    M = target.memory_count
    H = require_int("H (number of heads)", num_heads, minimum=1)
    if H < M:
        raise ValueError(f"H (number of heads) must be >= M = {M} (one head group per memory), got {H}")
    if family.first_lag > 0 and target.allow_zero_lag:
        raise ValueError(f"{family.name}-RPE cannot address lag 0 (its first lag is {family.first_lag}: "
                         f"phi_{family.name}(0) = -inf); the target allows g = 0")
    alpha_e, gamma_e = to_exact("alpha", alpha), to_exact("gamma", gamma)
    d = 1
    D = (M + 1) * d + M + 1
    gcoord = [(M + 1) * d + k for k in range(M)]
    const = D - 1
    store_log = not family.coordinate_is_lag() and not tmx  # FFN 1 writes x(g_k) = log g_k
    precision = "log_round" if store_log else "round"

    # ---------------- FFN 1: memory positions
    per_memory: list[tuple[list[Any], list[Any], int, Any]] = []  # points, values, needed ramps, g
    for k, g in enumerate(target.memory_functions):
        T = target.max_lags[k]
        if isinstance(g, TableMemoryFunction):
            pts = sorted({key[0][0] for key, _ in g.entries})
            table = {key[0][0]: v for key, v in g.entries}
            vals = [family.coordinate(sympy.Integer(table[a])) if store_log else sympy.Integer(table[a]) for a in pts]
            per_memory.append((pts, vals, len(pts) - 1, g))
        elif isinstance(g, ReluMemoryFunction):
            if store_log:
                raise ValueError(f"g_{k + 1} is a ReLU network: the log construction needs log g_{k + 1}; give g as a "
                                 f"table on the alphabet, or use rpe='lin' / tmx=True")
            if not isinstance(g.readout, ReluSumReadout):
                raise ValueError(f"g_{k + 1}: only ReluSumReadout networks are copied into the FFN")
            per_memory.append(([], [], g.readout.num_neurons, g))
        else:
            raise ValueError(f"g_{k + 1} must be a TableMemoryFunction or ReluMemoryFunction to build an FFN, got "
                             f"{type(g).__name__}")
    need = 1 + sum(n for _, _, n, _ in per_memory)
    m = need if width is None else require_int("m (FFN width)", width, minimum=1)
    budget = m - 1
    fixed = sum(n for _, _, n, g in per_memory if isinstance(g, ReluMemoryFunction))
    table_needs = [n for _, _, n, g in per_memory if isinstance(g, TableMemoryFunction)]
    free = budget - fixed
    if free < 0:
        raise ValueError(f"m (FFN width) = {m} is too small: the ReLU memory networks need {fixed} neurons plus one")
    if table_needs and free < sum(table_needs):
        alloc_tab, _ = allocate_heads([max(n, 1) for n in table_needs], max(free, len(table_needs))) \
            if free >= len(table_needs) else (tuple([0] * len(table_needs)), None)
    else:
        alloc_tab = tuple(table_needs)
    rows: list[list[Any]] = [[0] * D]
    bias: list[Any] = [1]
    outer_cols: list[list[Any]] = [[0] * D]
    outer_cols[0][const] = sympy.log(2) if store_log else 1
    infos = []
    ti = 0
    for k, (pts, vals, n, g) in enumerate(per_memory):
        T = target.max_lags[k]
        thr = 1.0 / (4 * T) if store_log else 0.5
        if isinstance(g, TableMemoryFunction):
            knots, acc = memory_ffn_pieces(pts, vals, alloc_tab[ti])
            ti += 1
            outer_cols[0][gcoord[k]] = knots[0][1]
            prev = 0
            for (xa, va), (xb, vb) in zip(knots, knots[1:]):
                slope = (vb - va) / (xb - xa)
                r = [0] * D
                r[0] = 1
                rows.append(r)
                bias.append(-xa)
                col = [0] * D
                col[gcoord[k]] = slope - prev
                outer_cols.append(col)
                prev = slope
            info = MemoryFFN(k + 1, "relu-interpolation", len(knots) - 1, acc, thr, acc == 0.0,
                             tuple(str(a) for a, _ in knots))
        else:
            inner, b, a = g.readout.as_exact_matrices()
            for i in range(g.readout.num_neurons):
                r = [0] * D
                r[0] = inner[i, 0]
                rows.append(r)
                bias.append(b[i])
                col = [0] * D
                col[gcoord[k]] = a[i]
                outer_cols.append(col)
            pts = [to_exact("alphabet", v) for v in (alphabet or [])]
            if not pts:
                raise ValueError(f"g_{k + 1} is a ReLU network: pass alphabet=... (the token values) to check the "
                                 f"rounding accuracy")
            with mpmath.workdps(50):
                outs = [mpmath.mpf(g.readout.evaluate_mp([p], 50)) for p in pts]
                acc = float(max(abs(v - mpmath.nint(v)) for v in outs))
            info = MemoryFFN(k + 1, "relu-network", g.readout.num_neurons, acc, thr, acc == 0.0, ())
        if not info.meets_threshold:
            raise ValueError(
                f"m (FFN width) = {m} cannot meet the rounding threshold of Theorem 4.1's width condition: "
                f"g_{k + 1} gets {info.neurons} neurons with accuracy {info.accuracy:.4g} on the alphabet, "
                f"need < {thr:.4g} ({'1/(4 T_k)' if store_log else '1/2'}); exact interpolation needs "
                f"m >= {need}")
        infos.append(info)
    ffn1 = padded_ffn(rows, bias, outer_cols, m, D, precision)

    # ---------------- layer 2: adaptive delta kernels
    weights = [family.allocation_weight_mp(float(alpha_e), T) for T in target.max_lags]  # e^{alpha T} / T^{1+alpha}
    allocation, quotas = allocate_heads(weights, H)
    kernels = []
    heads = []
    for k, (T, Hk) in enumerate(zip(target.max_lags, allocation)):
        kern = shifted_delta_kernel(family, T, Hk, alpha=alpha_e, gamma=gamma_e)
        kernels.append(kern)
        for j, beta in enumerate(kern.exponents):
            W_V = sympy.zeros(D, D)
            W_V[(k + 1) * d, 0] = kern.exact_coefficient(j)
            e_g = sympy.zeros(1, D)
            e_g[0, gcoord[k]] = 1
            if tmx:
                heads.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), beta, tmx=e_g))
            else:
                e_c = sympy.zeros(1, D)
                e_c[0, const] = 1 / sympy.log(2) if store_log else 1  # the constant coordinate holds x(2) - x(1)
                heads.append(AttentionHead(sympy.ImmutableDenseMatrix(W_V), beta,
                                           sympy.sqrt(beta) * e_g, sympy.sqrt(beta) * e_c))
    layer2 = AttentionLayer(tuple(heads), sympy.eye(D), family.rpe(), normalized=False)

    # ---------------- FFN 2: readout on the first (M+1) d coordinates
    ffn2, r_exact = readout_block_ffn(target, readout_width, D, seed)

    W_E = sympy.zeros(D, d)
    W_E[0, 0] = 1
    layout = {"D": D, "token_block": [0, d], "memory_blocks": [[(k + 1) * d, (k + 2) * d] for k in range(M)],
              "position_coordinates": gcoord, "constant_coordinate": const}
    metadata = {
        "construction": "prop4.3" if tmx else "thm4.1",
        "paper": ("Wang & E 2024, Prop. 4.3 / C.6 (TMX, Def. C.5)" if tmx else
                  "Wang & E 2024, Theorem 4.1 / App. C.1"),
        "rpe": family.name, "tmx": tmx, "max_lags": list(target.max_lags), "d": d, "heads": H, "width": m,
        "alpha": str(alpha_e), "gamma": str(gamma_e),
        "head_allocation": list(allocation), "head_allocation_quotas": list(quotas),
        "head_allocation_rule": "proportional to e^{alpha T_k} (lin) / T_k^{1+alpha} (log), largest remainder, "
                                "at least one head per memory",
        "ffn1_precision": precision,
        "ffn1_stores": "log g_k" if store_log else "g_k",
        "ffn1_memory_functions": [{"memory": i.memory, "method": i.method, "neurons": i.neurons,
                                   "accuracy": i.accuracy, "threshold": i.threshold, "exact": i.exact}
                                  for i in infos],
        "readout_exact": r_exact,
        "layout": layout,
        "target": target.to_dict(),
    }
    warnings = zero_attention_warnings(target.max_lags, allocation, kernels, "memory with maximal lag T")
    if warnings:
        metadata["warnings"] = warnings
    # precision_digits (tfapprox.theory.digits): the weights plus the unnormalised weights' mass e^{p B} Z(p)
    extra = max(unnormalised_log10(family.name, k.exponents, k.max_shift) for k in kernels)
    spec = with_precision_digits(TransformerSpec(W_E, sympy.zeros(D, 1), (Block(None, ffn1), Block(layer2, ffn2)),
                                                 "padded", metadata), extra)
    return Thm41Construction(spec, target, family.name, tmx, tuple(kernels), allocation, tuple(infos), r_exact, layout)
