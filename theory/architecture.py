"""The paper's Transformer as a typed, exact spec (paper eqs. (2)-(4), Sec. 2.2).

A model is an embedding ``x_t^{(0)} = W_E x_t + b_E`` followed by ``L`` blocks

    x^{(l-1/2)} = x^{(l-1)} + Attn^{(l)}(x^{(l-1)}),   x^{(l)} = x^{(l-1/2)} + FFN^{(l)}(x^{(l-1/2)})  (2)

with the residual dropped in the final FFN, which is the readout.  Each attention layer
has ``H`` heads with ``W_Q, W_K, W_V`` and an RPE slope ``p >= 0`` (eq. (4)) and one
``W_O`` per layer (eq. (3)).  Heads with ``W_Q = W_K = 0`` are *dot-product-free*
(DP-free, Remark 2.2); they are a first-class case (``query=None, key=None``).
Attention is either normalised softmax (eq. (3)) or normalization-free (Sec. 4:
the denominator is dropped).  An FFN is ``sum_k a_k relu(b_k . x + c_k)`` with vector
output weights, optionally with the "precision" of eq. (15).

Every weight is held exactly as a sympy expression (``Integer``, ``Rational``,
``sqrt(beta)``, ``1/(1 - exp(-beta))``, ...); numbers are lowered to float64 or to
mpmath at a chosen precision only by ``tfapprox.verify``.  Specs validate on creation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import sympy

from .rpe import RPE, RPEType, to_exact
from .sequences import check_past
from .validation import require_choice, short_repr

__all__ = [
    "ExactMatrix",
    "exact_matrix",
    "AttentionHead",
    "AttentionLayer",
    "FeedForward",
    "Block",
    "TransformerSpec",
    "FFN_PRECISIONS",
]

#: FFN "precision" of eq. (15): ``None`` (plain), ``"round"`` ([z], lin case) or
#: ``"log_round"`` (log[exp(z)], log case).  Ties round half to even in both.
FFN_PRECISIONS: tuple[Any, ...] = (None, "round", "log_round")

ExactMatrix = sympy.ImmutableDenseMatrix
"""The exact matrix type of every weight: ``sympy.ImmutableDenseMatrix``."""


def exact_matrix(name: str, value: Any, shape: tuple[int | None, int | None] | None = None) -> ExactMatrix:
    """Convert ``value`` (nested lists, numpy array, sympy matrix) to an exact sympy matrix.

    Entries go through :func:`tfapprox.theory.rpe.to_exact` (floats become the exact
    binary rationals they denote; strings are decimals).  ``shape`` entries that are
    ``None`` match any size.  NaN/inf and non-numbers raise with the parameter's name.
    """
    if isinstance(value, sympy.MatrixBase):
        rows = [[value[i, j] for j in range(value.cols)] for i in range(value.rows)]
    else:
        arr = np.asarray(value, dtype=object)
        if arr.ndim == 1 and shape is not None and shape[1] == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-d matrix, got shape {np.shape(value)}")
        rows = arr.tolist()
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if shape is not None:
        want_r, want_c = shape
        if (want_r is not None and n_rows != want_r) or (want_c is not None and n_cols != want_c):
            want = f"({'any' if want_r is None else want_r}, {'any' if want_c is None else want_c})"
            raise ValueError(f"{name} must have shape {want}, got ({n_rows}, {n_cols})")
    entries = [[to_exact(f"{name}[{i},{j}]", v) for j, v in enumerate(row)] for i, row in enumerate(rows)]
    return sympy.ImmutableDenseMatrix(n_rows, n_cols, [v for row in entries for v in row])


def _is_zero_matrix(m: ExactMatrix | None) -> bool:
    return m is None or all(v == 0 for v in m)


@dataclass(frozen=True)
class AttentionHead:
    """One head of eq. (3): value map ``W_V`` (D_v x D), RPE slope ``p``, and optionally
    query/key maps ``W_Q, W_K`` (d_k x D).  ``query = key = None`` means DP-free.

    ``tmx`` (optional, a 1 x D row ``w``) makes the head a TMX head (Def. C.5, Prop. 4.3):
    the logit ``<W_Q x_t, W_K x_{t-s}> + p phi(s)`` is replaced by
    ``p (phi(s) - phi(w^T x_t))``, ``D`` parameters instead of ``2 d_k D``.  It excludes
    ``query``/``key``.  ``phi(w^T x_t)`` must be finite (``w^T x_t >= 0`` for lin-RPE,
    ``>= 1`` for log-RPE); the forward pass raises ``ValueError`` otherwise.
    """

    value: ExactMatrix
    slope: sympy.Expr
    query: ExactMatrix | None = None
    key: ExactMatrix | None = None
    tmx: ExactMatrix | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", exact_matrix("W_V", self.value))
        slope = to_exact("p", self.slope)
        if slope.free_symbols:
            pass
        elif not bool(slope >= 0):
            raise ValueError(f"p (RPE slope) must be >= 0 (eq. (4): p in R_+), got {slope}")
        object.__setattr__(self, "slope", slope)
        if (self.query is None) != (self.key is None):
            raise ValueError("W_Q and W_K must be given together (or both None for a DP-free head)")
        if self.query is not None:
            q = exact_matrix("W_Q", self.query)
            k = exact_matrix("W_K", self.key)
            if q.shape != k.shape:
                raise ValueError(f"W_Q and W_K must have the same shape, got {q.shape} and {k.shape}")
            object.__setattr__(self, "query", q)
            object.__setattr__(self, "key", k)
        if self.tmx is not None:
            if self.query is not None:
                raise ValueError("a TMX head (tmx = w, Def. C.5) has no W_Q, W_K; give either tmx or "
                                 "query/key, not both")
            object.__setattr__(self, "tmx", exact_matrix("tmx w", self.tmx, (1, None)))

    @property
    def dot_product_free(self) -> bool:
        """True when the logit is ``p phi(s)`` only: no TMX row and ``W_Q`` or ``W_K`` zero."""
        return self.tmx is None and (_is_zero_matrix(self.query) or _is_zero_matrix(self.key))

    @property
    def is_tmx(self) -> bool:
        """True for a TMX head (Def. C.5)."""
        return self.tmx is not None


@dataclass(frozen=True)
class AttentionLayer:
    """Multi-head attention of eq. (3) with one ``W_O`` (D x D_v) per layer.

    ``normalized=True`` is softmax attention (eq. (3)); ``False`` drops the softmax
    denominator (normalization-free attention, Sec. 4).  ``residual=False`` drops the
    residual connection around this sub-layer (used by Thm 5.1, App. E.1).
    """

    heads: tuple[AttentionHead, ...]
    output: ExactMatrix
    rpe: RPE
    normalized: bool = True
    residual: bool = True

    def __post_init__(self) -> None:
        heads = tuple(self.heads) if not isinstance(self.heads, AttentionHead) else (self.heads,)
        if not heads:
            raise ValueError("heads must hold at least one AttentionHead, got none")
        for i, h in enumerate(heads):
            if not isinstance(h, AttentionHead):
                raise TypeError(f"heads[{i}] must be an AttentionHead, got {type(h).__name__}")
        object.__setattr__(self, "heads", heads)
        out = exact_matrix("W_O", self.output)
        object.__setattr__(self, "output", out)
        if not isinstance(self.rpe, RPEType):
            raise TypeError(f"rpe must be an RPE type (LinRPE, LogRPE, T5RPE, TableRPE, QuadraticRPE or another "
                            f"registered RPEType), got {short_repr(self.rpe)}")
        for flag in ("normalized", "residual"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be a bool, got {short_repr(getattr(self, flag))}")
        dv = heads[0].value.rows
        dim = heads[0].value.cols
        for i, h in enumerate(heads):
            if h.value.shape != (dv, dim):
                raise ValueError(f"heads[{i}].W_V must have shape ({dv}, {dim}) like heads[0], got {h.value.shape}")
            if h.query is not None and h.query.cols != dim:
                raise ValueError(f"heads[{i}].W_Q must have {dim} columns (model width D), got {h.query.cols}")
            if h.tmx is not None and h.tmx.cols != dim:
                raise ValueError(f"heads[{i}].tmx w must have {dim} columns (model width D), got {h.tmx.cols}")
        if out.cols != dv:
            raise ValueError(f"W_O must have {dv} columns (the heads' value dimension), got {out.cols}")

    @property
    def model_width(self) -> int:
        """D: the width of the hidden states this layer reads."""
        return self.heads[0].value.cols

    @property
    def output_width(self) -> int:
        """Rows of the output matrix: the width this layer adds to the residual stream."""
        return self.output.rows


@dataclass(frozen=True)
class FeedForward:
    """``FFN(x) = sum_k a_k relu(b_k . x + c_k)`` (Sec. 2.2), optionally with precision (15).

    ``inner`` is (m x D) with rows ``b_k``, ``bias`` is (m x 1) with ``c_k``, ``outer`` is
    (D_out x m) with columns ``a_k``.  ``precision``: ``None``, ``"round"`` (``[FFN(x)]``,
    nearest integer, ties to even) or ``"log_round"`` (``log[exp(FFN(x))]``, ties to even),
    applied to every output coordinate.  When ``[exp(z)] = 0`` (``z <= -log 2``), ``log 0`` is
    not a hidden state: every backend refuses the run (``LogRoundError``, a ``ValueError``
    naming the block and position) instead of returning ``-inf``.
    """

    inner: ExactMatrix
    bias: ExactMatrix
    outer: ExactMatrix
    precision: str | None = None

    def __post_init__(self) -> None:
        inner = exact_matrix("FFN inner weights b", self.inner)
        m = inner.rows
        bias = exact_matrix("FFN bias c", self.bias, (m, 1))
        outer = exact_matrix("FFN outer weights a", self.outer, (None, m))
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "outer", outer)
        require_choice("precision", self.precision, FFN_PRECISIONS)
        if m < 1:
            raise ValueError("FFN width m must be >= 1, got 0 neurons")

    @property
    def width(self) -> int:
        """The FFN width ``m`` (hidden neurons)."""
        return self.inner.rows

    @property
    def input_width(self) -> int:
        """Columns of the inner matrix: the width the FFN reads."""
        return self.inner.cols

    @property
    def output_width(self) -> int:
        """Rows of the outer matrix: the width the FFN writes."""
        return self.outer.rows


@dataclass(frozen=True)
class Block:
    """One layer ``l`` of eq. (2): attention (or ``None``) then FFN (or ``None``)."""

    attention: AttentionLayer | None = None
    ffn: FeedForward | None = None

    def __post_init__(self) -> None:
        if self.attention is not None and not isinstance(self.attention, AttentionLayer):
            raise TypeError(f"attention must be an AttentionLayer or None, got {type(self.attention).__name__}")
        if self.ffn is not None and not isinstance(self.ffn, FeedForward):
            raise TypeError(f"ffn must be a FeedForward or None, got {type(self.ffn).__name__}")
        if self.attention is None and self.ffn is None:
            raise ValueError("a block needs an attention layer, an FFN, or both; got neither")


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    return obj


@dataclass(frozen=True)
class TransformerSpec:
    """A Transformer of eqs. (2)-(4) with exact weights.

    Parameters
    ----------
    embedding, embedding_bias
        ``W_E`` (D x d) and ``b_E`` (D x 1).
    blocks
        The ``L`` layers.  The final block's FFN is the readout: it has no residual
        connection.  If the final block has no FFN, the output is ``x^{(L-1/2)}``.
    past
        ``"padded"`` or ``"none"``: the sequence semantics the model is meant for (see
        :mod:`tfapprox.theory.sequences`).  With ``"padded"`` every head must have a
        summable RPE tail (lin ``p > 0``, log ``p > 1``, T5 masked beyond its distance).
    metadata
        JSON-safe description of where the weights come from (construction, target,
        budget, precision).
    """

    embedding: ExactMatrix
    embedding_bias: ExactMatrix
    blocks: tuple[Block, ...]
    past: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        emb = exact_matrix("W_E", self.embedding)
        width = emb.rows
        object.__setattr__(self, "embedding", emb)
        object.__setattr__(self, "embedding_bias", exact_matrix("b_E", self.embedding_bias, (width, 1)))
        blocks = tuple(self.blocks) if not isinstance(self.blocks, Block) else (self.blocks,)
        if not blocks:
            raise ValueError("blocks must hold at least one Block (L >= 1), got none")
        for i, b in enumerate(blocks):
            if not isinstance(b, Block):
                raise TypeError(f"blocks[{i}] must be a Block, got {type(b).__name__}")
        object.__setattr__(self, "blocks", blocks)
        check_past(self.past)
        if not isinstance(self.metadata, Mapping):
            raise TypeError(f"metadata must be a mapping, got {short_repr(self.metadata)}")
        object.__setattr__(self, "metadata", _freeze(self.metadata))
        # widths: every residual stream has width D; the final FFN may change it.
        current = width
        for l, block in enumerate(blocks):
            last = l == len(blocks) - 1
            if block.attention is not None:
                att = block.attention
                if att.model_width != current:
                    raise ValueError(f"blocks[{l}].attention reads width {att.model_width}, "
                                     f"but the hidden state has width {current}")
                if att.residual and att.output_width != current:
                    raise ValueError(f"blocks[{l}].attention W_O must have {current} rows "
                                     f"(residual stream width), got {att.output_width}")
                current = att.output_width
                if self.past == "padded":
                    for h, head in enumerate(att.heads):
                        if not head.slope.free_symbols and not att.rpe.summable(head.slope):
                            raise ValueError(
                                f"blocks[{l}].heads[{h}]: p = {head.slope} gives a divergent attention sum "
                                f"over the infinite padded past for {att.rpe.kind}-RPE; need "
                                f"{att.rpe.summability}, or use past='none'")
            if block.ffn is not None:
                if block.ffn.input_width != current:
                    raise ValueError(f"blocks[{l}].ffn reads width {block.ffn.input_width}, "
                                     f"but the hidden state has width {current}")
                if not last and block.ffn.output_width != current:
                    raise ValueError(f"blocks[{l}].ffn must output width {current} (residual), "
                                     f"got {block.ffn.output_width}")
                if last:
                    current = block.ffn.output_width

    # ----------------------------------------------------------------- sizes
    @property
    def input_dim(self) -> int:
        """d: token dimension."""
        return self.embedding.cols

    @property
    def width(self) -> int:
        """D: residual stream width."""
        return self.embedding.rows

    @property
    def output_dim(self) -> int:
        """Dimension of the readout."""
        last = self.blocks[-1]
        if last.ffn is not None:
            return last.ffn.output_width
        return last.attention.output_width if last.attention is not None else self.width

    @property
    def num_layers(self) -> int:
        """Number of blocks ``L``."""
        return len(self.blocks)

    @property
    def num_heads(self) -> tuple[int, ...]:
        """Heads per block (0 for a block without attention)."""
        return tuple(len(b.attention.heads) if b.attention else 0 for b in self.blocks)

    def __repr__(self) -> str:
        # a summary: the field-by-field dataclass repr prints every exact weight (200 KB at H = 256)
        return (f"TransformerSpec(L={self.num_layers}, heads={self.num_heads}, D={self.width}, d={self.input_dim}, "
                f"past={self.past!r}, construction={self.metadata.get('construction', 'user')!r})")

    def parameters(self) -> list[tuple[str, sympy.Expr]]:
        """Every parameter with a stable name, in a fixed order (used for model files)."""
        out: list[tuple[str, sympy.Expr]] = []

        def add(prefix: str, m: ExactMatrix) -> None:
            out.extend((f"{prefix}[{i},{j}]", m[i, j]) for i in range(m.rows) for j in range(m.cols))

        add("W_E", self.embedding)
        add("b_E", self.embedding_bias)
        for l, b in enumerate(self.blocks):
            if b.attention is not None:
                for h, head in enumerate(b.attention.heads):
                    out.append((f"blocks[{l}].heads[{h}].p", head.slope))
                    add(f"blocks[{l}].heads[{h}].W_V", head.value)
                    if head.query is not None:
                        add(f"blocks[{l}].heads[{h}].W_Q", head.query)
                        add(f"blocks[{l}].heads[{h}].W_K", head.key)
                    if head.tmx is not None:
                        add(f"blocks[{l}].heads[{h}].w", head.tmx)
                add(f"blocks[{l}].W_O", b.attention.output)
            if b.ffn is not None:
                add(f"blocks[{l}].ffn.b", b.ffn.inner)
                add(f"blocks[{l}].ffn.c", b.ffn.bias)
                add(f"blocks[{l}].ffn.a", b.ffn.outer)
        return out

    def parameter_count(self) -> int:
        """Number of weight entries (``len(parameters())``)."""
        return len(self.parameters())
