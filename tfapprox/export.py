"""Export a :class:`~tfapprox.verify.model.Model` to PyTorch and to TransformerLens.

Two targets, both optional (``pip install 'tfapprox[torch]'`` / ``'tfapprox[lens]'``);
``torch`` and ``transformer_lens`` are imported only inside the functions below, so
``import tfapprox`` never imports them.

* :func:`to_torch` returns a plain ``torch.nn.Module`` that implements the paper's
  architecture (eqs. (2)-(4), (15); Differences from the paper, D17) exactly as
  :func:`tfapprox.verify.forward.forward` does: lin/log/T5/table RPE, normalised and
  normalization-free attention, TMX heads (Def. C.5), FFN precision (ties to even), the
  readout FFN without residual, and both past semantics.  For ``past="padded"`` the
  infinite padded past is one extra key position in front of the window (index 0 inside
  the module) whose log-weight for the query at window time ``t`` is the closed-form tail
  ``log sum_{s >= t+1} e^{p phi(s)}``: ``-p(t+1) - log(1 - e^{-p})`` (lin), ``log
  zeta(p, t+1)`` with ``torch.special.zeta`` (log; the Hurwitz zeta function, the same
  Cephes algorithm as ``scipy.special.zeta``) and a suffix log-sum-exp table precomputed
  at export (T5 masked beyond its distance, table RPE).  The pad position's own state
  is updated by the same layers (it attends to the padded past only), as in the
  reference.  The tails are part of the module, computed for whatever window length is
  passed.
* :func:`to_transformer_lens` returns a ``transformer_lens.HookedTransformer``
  (TransformerLens 3.x, the last series with ``HookedTransformer``; pinned by the
  ``lens`` extra) with no layer norm, ``act_fn="relu"``, attention scale 1 and the
  RPE supplied through permanent hooks on ``blocks.{l}.attn.hook_attn_scores``.
  Things it cannot express faithfully are refused with :class:`UnsupportedExport`.

Files (``tfapprox export MODEL.json --to torch|lens --out FILE``).  Loading a model
never executes code from a file (issue 12): every loader is code in this package, and
the files hold data.

* ``--to torch`` writes a ``torch.export`` program (``.pt2``: graph, state dict, config
  JSON as the extra file ``tfapprox_config.json``).  Load it with :func:`load_torch`,
  which first checks that the archive holds only what :func:`save_torch` writes (no
  pickled payloads, no shared libraries, no guard source, only ATen and arithmetic call
  targets), because ``torch.export.load`` itself can execute code from a crafted file::

      from tfapprox.export import load_torch
      model, config = load_torch("model.pt2")   # y = model(x), x (batch, N, d) float64

  The data-only alternative is the model file itself: ``to_torch("model.json")``.
* ``--to lens`` writes ``torch.save`` of a dict of tensors, numbers, strings and
  booleans (the sizes of the ``HookedTransformerConfig``, the state dict, the RPE
  tables); :func:`load_lens` reads it with ``weights_only=True``, validates every entry
  and builds the model and its RPE hooks with this package's code::

      from tfapprox.export import load_lens
      model, embed = load_lens("model.lens.pt")   # logits = model(embed(x), start_at_layer=0)

:func:`load_snippet` returns these lines for ``tfapprox export`` to print.
"""

from __future__ import annotations

import io
import json
import math
import re
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tfapprox.theory.limits import MAX_HEADS, MAX_MODEL_DIM, MAX_MODEL_FILE_BYTES, MAX_WIDTH

__all__ = [
    "UnsupportedExport",
    "to_torch",
    "to_transformer_lens",
    "export_config",
    "save_torch",
    "save_lens",
    "load_torch",
    "load_lens",
    "load_snippet",
]

TORCH_FORMAT = "tfapprox.torch-export/1"
LENS_FORMAT = "tfapprox.lens-export/1"
#: decimal digits float64 can certify (Differences from the paper, D18); beyond, exports warn
FLOAT64_DIGITS = 15
FLOAT32_DIGITS = 6


class UnsupportedExport(ValueError):
    """The model uses a feature the export target cannot express faithfully."""


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError("tfapprox.export needs PyTorch: pip install 'tfapprox[torch]' "
                          "(torch==2.13.0, the CPU build)") from exc
    return torch


# ------------------------------------------------------------------------------ RPE
# Shared by the torch module and the TransformerLens hooks.  Plain package code: no
# export file carries code, and loading one never executes anything read from it.
def _rpe_log_bias(kind: str, p: Any, phi_table: Any, logtail_table: Any, n: int, padded: bool) -> Any:
    """Log-weights (H, n', n') added to the attention logits (eq. (4)).

    ``n' = n + 1`` with a pad position 0 for the padded past, else ``n``.  Window query
    ``i``, key ``j <= i``: ``p phi(i - j)``; pad key for window query ``t``:
    ``log sum_{s >= t+1} e^{p phi(s)}``; pad query: its own total mass
    ``log sum_{s >= 0} e^{p phi(s)}``; keys after the query: ``-inf``.

    Parameters
    ----------
    kind
        ``"lin"`` (``phi(s) = -s``), ``"log"`` (``phi(s) = -log s``) or ``"table"``
        (``phi_table[min(s, S)]``, T5 and table RPE).
    p
        Slopes, tensor (H,).
    phi_table, logtail_table
        Tensors (S+1,) and (H, S+1) from :func:`_rpe_tables` (unused for lin/log).
    n
        Window length.
    padded
        Whether to add the padded-past position 0 (closed-form tails).
    """
    torch = _torch()
    dt = p.dtype
    t = torch.arange(n, device=p.device)
    lag = t[:, None] - t[None, :]
    lagc = lag.clamp(min=0)
    if kind == "lin":
        phi = -lagc.to(dt)
    elif kind == "log":
        lf = lagc.to(dt)
        phi = torch.where(lagc >= 1, -torch.log(lf.clamp(min=1.0)), torch.full_like(lf, -math.inf))
    else:
        s = phi_table.shape[0] - 1
        phi = phi_table[lagc.clamp(max=s)]
    phi = torch.where(lag >= 0, phi, torch.full_like(phi, -math.inf))
    finite = torch.isfinite(phi)
    safe = torch.where(finite, phi, torch.zeros_like(phi))
    logw = torch.where(finite[None], p[:, None, None] * safe[None], torch.full_like(safe[None], -math.inf))
    if not padded:
        return logw
    starts = torch.arange(n + 1, device=p.device)  # a = 0 (pad row), 1..n (window rows)
    if kind == "lin":
        tail = -p[:, None] * starts[None].to(dt) - torch.log(-torch.expm1(-p))[:, None]
    elif kind == "log":
        q = starts.clamp(min=1).to(dt)
        tail = torch.log(torch.special.zeta(p[:, None].expand(-1, n + 1), q[None].expand(p.shape[0], -1)))
    else:
        s = logtail_table.shape[1] - 1
        tail = logtail_table[:, starts.clamp(max=s)]
    H = p.shape[0]
    out = torch.full((H, n + 1, n + 1), -math.inf, dtype=dt, device=p.device)
    out[:, 1:, 1:] = logw
    out[:, :, 0] = tail
    return out


def _rpe_tables(rpe: Any, ps: list[float]) -> tuple[str, np.ndarray, np.ndarray]:
    """(kind, phi table (S+1,) with phi beyond at index S, log-tail table (H, S+1))."""
    from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE
    from tfapprox.verify.tails import log_tail_float64

    if isinstance(rpe, LinRPE):
        return "lin", np.zeros(1), np.zeros((len(ps), 1))
    if isinstance(rpe, LogRPE):
        return "log", np.zeros(1), np.zeros((len(ps), 1))
    if isinstance(rpe, T5RPE):
        S = rpe.max_distance
        beyond = -math.inf if rpe.mask_beyond else -float(2 * rpe.num_exact - 1)
    else:
        S = len(rpe.values)
        beyond = -math.inf
    phi = np.concatenate([rpe.phi(np.arange(S)), [beyond]])
    if isinstance(rpe, T5RPE) and not rpe.mask_beyond:
        tails = np.full((len(ps), S + 1), math.inf)  # divergent: only usable with past="none"
    else:
        tails = np.stack([log_tail_float64(rpe, p, np.arange(S + 1)) for p in ps])
    return "table", phi, tails


def export_config(model: Any) -> dict[str, Any]:
    """JSON-safe description stored beside the weights (format, sizes, semantics)."""
    spec = model.spec
    layers = []
    for block in spec.blocks:
        att = block.attention
        layers.append({
            "attention": None if att is None else {
                "heads": len(att.heads), "rpe": att.rpe.to_dict(), "normalized": att.normalized,
                "residual": att.residual,
                "head_kinds": ["tmx" if h.is_tmx else ("dp_free" if h.dot_product_free else "dot_product")
                               for h in att.heads]},
            "ffn": None if block.ffn is None else {"width": block.ffn.width, "precision": block.ffn.precision},
        })
    meta = dict(spec.metadata)
    return {"input_dim": spec.input_dim, "width": spec.width, "output_dim": spec.output_dim,
            "num_layers": spec.num_layers, "past": spec.past, "layers": layers,
            "construction": str(meta.get("construction", "user")),
            "input_layout": "x: (batch, N, d) float tensor; output (batch, N, c)"}


def _digits_check(model: Any, dtype: Any, tol: float = 1e-8) -> int:
    """Warn when ``dtype`` cannot evaluate ``model``'s weights; return the digits needed.

    The criterion is ``Model.run``'s own (Differences from the paper, D18): the float64 forward pass's
    first-order rounding-error estimate on a probe window of unit-norm tokens, scaled to ``dtype``'s machine
    epsilon, against ``tol`` (``Model.run``'s default ``float64_tol``).  float32 always
    warns and states the digits needed (``Model.digits_needed(tol)``).
    """
    torch = _torch()
    d = model.spec.input_dim
    probe = np.full((1, 4, d), 1.0 / math.sqrt(d))  # unit-norm tokens (the paper's ||x_t|| <= 1)
    est = model.forward(probe, backend="float64").error_estimate
    digits = model.digits_needed(tol, error_estimate=est)
    if dtype == torch.float32:
        warnings.warn(
            f"float32 export: this construction needs {digits} decimal digits for outputs accurate to "
            f"{tol:g} (Model.digits_needed); float32 carries about {FLOAT32_DIGITS}, so outputs may be off "
            f"by about {est * 2.0 ** 29:.3g} (the float64 error estimate scaled to float32).",
            RuntimeWarning, stacklevel=3)
    elif not est <= tol:
        warnings.warn(
            f"this construction needs {digits} decimal digits for outputs accurate to {tol:g} "
            f"(Model.digits_needed); float64 carries about {FLOAT64_DIGITS} (estimated rounding error "
            f"{est:.3g}): the exported module's outputs can be wrong by more than {tol:g}. Model.run("
            f"backend='mpmath', dps={digits}) evaluates it; export a smaller budget for float64.",
            RuntimeWarning, stacklevel=3)
    return digits


# ------------------------------------------------------------------------ torch module
def _torch_classes() -> dict[str, Any]:
    torch = _torch()
    nn = torch.nn
    rpe_log_bias = _rpe_log_bias

    class Embedding(nn.Module):
        """``x_t^{(0)} = W_E x_t + b_E`` (eq. (2))."""

        def __init__(self, W_E: Any, b_E: Any) -> None:
            super().__init__()
            self.W_E = nn.Parameter(W_E, requires_grad=False)
            self.b_E = nn.Parameter(b_E, requires_grad=False)

        def forward(self, x: Any) -> Any:
            return x @ self.W_E.T + self.b_E

    class Attention(nn.Module):
        """Multi-head attention of eq. (3) with RPE (4); per-head ``W_Q, W_K`` (zero for
        DP-free and TMX heads), ``W_V``, slope ``p``, TMX row ``w``; one ``W_O``."""

        def __init__(self, low: dict[str, Any], spec: Any, dtype: Any) -> None:
            super().__init__()
            H = len(spec.heads)
            Dv, D = low["W_V"].shape[1:]
            dk = max([q.shape[0] for q in low["W_Q"] if q is not None] or [1])
            W_Q = np.zeros((H, dk, D))
            W_K = np.zeros((H, dk, D))
            w = np.zeros((H, D))
            kinds = []
            for i, head in enumerate(spec.heads):
                if low["tmx"][i] is not None:
                    w[i] = low["tmx"][i]
                    kinds.append(2)
                elif low["W_Q"][i] is not None:
                    W_Q[i, : low["W_Q"][i].shape[0]] = low["W_Q"][i]
                    W_K[i, : low["W_K"][i].shape[0]] = low["W_K"][i]
                    kinds.append(1)
                else:
                    kinds.append(0)
            t = lambda a: nn.Parameter(torch.tensor(np.asarray(a, dtype=float), dtype=dtype), requires_grad=False)
            self.W_Q, self.W_K, self.W_V = t(W_Q), t(W_K), t(low["W_V"])
            self.p = t(np.array(low["p"], dtype=float))
            self.w = t(w)
            self.W_O = t(low["W_O"])
            kind, phi, tails = _rpe_tables(spec.rpe, [float(v) for v in low["p"]])
            self.register_buffer("phi_table", torch.tensor(phi, dtype=dtype))
            self.register_buffer("logtail_table", torch.tensor(tails, dtype=dtype))
            self.register_buffer("head_kind", torch.tensor(kinds, dtype=torch.long))
            self.rpe_kind = kind
            self.tmx_kind = spec.rpe.kind
            self.has_dp = 1 in kinds
            self.has_tmx = 2 in kinds
            self.normalized = bool(spec.normalized)
            self.residual = bool(spec.residual)

        def scores(self, h: Any, padded: bool) -> Any:
            """Attention logits (B, H, n', n'): content + RPE log-weights (-inf where masked)."""
            n = h.shape[1] - (1 if padded else 0)
            bias = rpe_log_bias(self.rpe_kind, self.p, self.phi_table, self.logtail_table, n, padded)
            s = bias[None].expand(h.shape[0], -1, -1, -1)
            if self.has_dp:
                q = torch.einsum("bnd,hkd->bhnk", h, self.W_Q)
                k = torch.einsum("bnd,hkd->bhnk", h, self.W_K)
                s = s + q @ k.transpose(-1, -2)
            if self.has_tmx:
                z = torch.einsum("bnd,hd->bhn", h, self.w)
                lo = 0.0 if self.tmx_kind == "lin" else 1.0
                if not torch.compiler.is_compiling() and bool((z[:, self.head_kind == 2] < lo).any()):
                    raise ValueError(f"TMX head: w^T x_t < {lo} gives phi_{self.tmx_kind}(w^T x_t) = -inf; "
                                     f"the logit p (phi(s) - phi(w^T x_t)) of Def. C.5 is undefined")
                zc = z.clamp(min=lo) if self.tmx_kind == "log" else z
                qlog = self.p[None, :, None] * (zc if self.tmx_kind == "lin" else torch.log(zc))
                qlog = torch.where(z >= lo, qlog, torch.full_like(qlog, math.nan))
                is_tmx = (self.head_kind == 2)[None, :, None]
                s = s + torch.where(is_tmx, qlog, torch.zeros_like(qlog))[..., None]
            return s

        def weights(self, h: Any, padded: bool) -> Any:
            """Attention weights (B, H, n', n'): softmax rows (0 for all-masked rows) or,
            normalization-free, ``exp(logit)``."""
            s = self.scores(h, padded)
            if not self.normalized:
                return torch.exp(s)
            m = s.amax(dim=-1, keepdim=True)
            finite = torch.isfinite(m)
            e = torch.exp(s - torch.where(finite, m, torch.zeros_like(m)))
            den = e.sum(dim=-1, keepdim=True)
            return torch.where(finite, e / den, torch.zeros_like(e))

        def forward(self, h: Any, padded: bool = False) -> Any:
            a = self.weights(h, padded)
            v = torch.einsum("bnd,hvd->bhnv", h, self.W_V)
            z = (a @ v).sum(dim=1)  # (B, n', Dv): sum over heads
            return z @ self.W_O.T

    class FFN(nn.Module):
        """``sum_k a_k relu(b_k . x + c_k)`` with optional precision (15), ties to even."""

        def __init__(self, low: dict[str, Any], precision: str | None, dtype: Any) -> None:
            super().__init__()
            t = lambda a: nn.Parameter(torch.tensor(np.asarray(a, dtype=float), dtype=dtype), requires_grad=False)
            self.b, self.c, self.a = t(low["b"]), t(low["c"]), t(low["a"])
            self.precision = precision or "none"

        def forward(self, h: Any) -> Any:
            f = torch.relu(h @ self.b.T + self.c) @ self.a.T
            if self.precision == "round":
                f = torch.round(f)  # round half to even
            elif self.precision == "log_round":
                f = torch.log(torch.round(torch.exp(f)))
            return f

    class Block(nn.Module):
        """One layer of eq. (2): ``h + Attn(h)`` then ``h + FFN(h)`` (either may be absent)."""

        def __init__(self, attn: Any, ffn: Any) -> None:
            super().__init__()
            self.attn = attn
            self.ffn = ffn

    class TfapproxTransformer(nn.Module):
        """The paper's Transformer (eqs. (2)-(4)) exported by :func:`tfapprox.export.to_torch`.

        ``forward(x)``: ``x`` of shape (batch, N, d) -> outputs (batch, N, c), the same
        numbers as ``Model.run(x, backend="float64")`` with the model's past semantics
        and padding token ``pad`` (a buffer, zero by default).
        """

        def __init__(self, model: Any, dtype: Any, pad: Any) -> None:
            super().__init__()
            spec = model.spec
            low = model.lowered("float64")
            T = lambda a: torch.tensor(np.asarray(a, dtype=float), dtype=dtype)
            self.embed = Embedding(T(low.embedding), T(low.embedding_bias))
            blocks = []
            readout = None
            L = len(spec.blocks)
            for l, (b, lw) in enumerate(zip(spec.blocks, low.layers)):
                attn = Attention(lw["attention"], b.attention, dtype) if b.attention is not None else None
                ffn = FFN(lw["ffn"], b.ffn.precision, dtype) if b.ffn is not None else None
                if l == L - 1:
                    readout, ffn = ffn, None
                blocks.append(Block(attn, ffn))
            self.blocks = nn.ModuleList(blocks)
            self.readout = readout
            self.padded = spec.past == "padded"
            padv = np.zeros(spec.input_dim) if pad is None else np.asarray(pad, dtype=float).reshape(-1)
            if padv.shape != (spec.input_dim,):
                raise ValueError(f"pad must have {spec.input_dim} entries (token dimension d), got {padv.shape}")
            self.register_buffer("pad", T(padv))
            self.past = spec.past

        def hidden_states(self, x: Any) -> list:
            """Hidden states after the embedding and after every sub-layer, like
            ``Model.forward(keep_hidden=True).hidden`` (window positions; with the
            padded past, index 0 of each tensor's time axis is the pad state)."""
            h = self.embed(x)
            if self.padded:
                hp = self.embed(self.pad)[None, None, :].expand(h.shape[0], 1, -1)
                h = torch.cat([hp, h], dim=1)
            states = [h]
            L = len(self.blocks)
            for l, block in enumerate(self.blocks):
                if block.attn is not None:
                    a = block.attn(h, self.padded)
                    h = h + a if block.attn.residual else a
                    states.append(h)
                if block.ffn is not None:
                    h = h + block.ffn(h)
                    states.append(h)
                if l == L - 1 and self.readout is not None:
                    h = self.readout(h)
                    states.append(h)
            return states

        def forward(self, x: Any) -> Any:
            h = self.hidden_states(x)[-1]
            return h[:, 1:] if self.padded else h

    return {"TfapproxTransformer": TfapproxTransformer}


def _as_model(model: Any) -> Any:
    from tfapprox.verify.model import Model

    if isinstance(model, (str, Path)):
        return Model.load(model)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a tfapprox Model or a model file path, got {type(model).__name__}")
    return model


def to_torch(model: Any, dtype: Any = None, *, pad: Any = None) -> Any:
    """A ``torch.nn.Module`` computing ``model`` (a :class:`~tfapprox.verify.model.Model`).

    Submodules: ``embed`` (``W_E``, ``b_E``), ``blocks[l].attn`` (per-head ``W_Q, W_K,
    W_V`` stacked on a head axis, slopes ``p``, TMX rows ``w``, ``W_O``, RPE tables as
    buffers), ``blocks[l].ffn`` and ``readout`` (the last block's FFN, no residual).
    Parameters are frozen (``requires_grad=False``) copies of the float64-lowered exact
    weights.  ``forward(x)`` takes ``x`` (batch, N, d) and returns (batch, N, c); see the
    module docstring for how the infinite padded past is summed in closed form.

    Parameters
    ----------
    model
        The model (or a model file path).
    dtype
        ``torch.float64`` (default) or ``torch.float32``.  A ``RuntimeWarning`` states the
        digits the construction needs (``Model.digits_needed(1e-10)``) when they exceed
        what ``dtype`` carries (15 / 6 digits).
    pad
        Padding token for ``past="padded"`` (default zero, as ``Model.run``).
    """
    torch = _torch()
    model = _as_model(model)
    dtype = torch.float64 if dtype is None else dtype
    if dtype not in (torch.float64, torch.float32):
        raise TypeError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
    _digits_check(model, dtype)
    module = _torch_classes()["TfapproxTransformer"](model, dtype, pad)
    module.eval()
    return module


def save_torch(model: Any, path: str | Path, *, example_length: int = 8) -> Path:
    """Write ``model`` as a ``torch.export`` program (``.pt2``) loadable with torch alone.

    The batch size and the window length are dynamic.  The file holds the graph, the
    state dict and ``tfapprox_config.json`` (:func:`export_config`).  Load with::

        import torch
        model = torch.export.load(path).module()
    """
    torch = _torch()
    model = _as_model(model)
    module = to_torch(model)
    d = model.spec.input_dim
    x = torch.zeros((2, max(int(example_length), 3), d), dtype=torch.float64)
    Dim = torch.export.Dim
    dyn = {"x": {0: Dim("batch", min=1, max=1 << 16), 1: Dim("N", min=1, max=1 << 16)}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ep = torch.export.export(module, (x,), dynamic_shapes=dyn, strict=False)
    cfg = dict(export_config(model), format=TORCH_FORMAT)
    path = Path(path)
    torch.export.save(ep, str(path), extra_files={"tfapprox_config.json": json.dumps(cfg, indent=1)})
    return path


#: ``_operator`` call targets a graph may use (Python int arithmetic on symbolic sizes).
_PT2_OPERATORS = {"_operator." + n for n in ("add", "sub", "mul", "floordiv", "truediv", "mod", "neg", "pow",
                                              "getitem", "eq", "ne", "lt", "le", "gt", "ge")}
_PT2_ATEN = re.compile(r"torch\.ops\.aten\.(?!__)[A-Za-z_][A-Za-z0-9_]*\.(?!__)[A-Za-z_][A-Za-z0-9_]*")
_PT2_FILES = re.compile(r"(data/weights/weight_[0-9]+|data/weights/model_weights_config\.json"
                        r"|data/constants/model_constants_config\.json|data/constants/tensor_[0-9]+"
                        r"|models/model\.json|data/sample_inputs/model\.pt|extra/tfapprox_config\.json"
                        r"|archive_format|archive_version|\.data/version|byteorder|\.data/serialization_id)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_pt2_archive(path: Path) -> None:
    """Refuse a ``.pt2`` archive unless ``torch.export.load`` reads it as data only.

    ``torch.export.load`` (torch 2.13) executes code from the archive in several ways
    (docs/interop.md, "Files: what loading executes"): payloads marked ``use_pickle``
    and opaque constants are unpickled without restriction, the sample inputs fall back
    to ``torch.load(weights_only=False)``, ``data/aotinductor/`` holds shared libraries
    that are loaded, ``guards_code`` strings are compiled into Python by ``.module()``,
    and a call target is any attribute path under ``torch``, ``operator`` or ``math``
    (``torch.os.system`` among them).  This check accepts exactly the layout
    :func:`save_torch` writes: the listed file names, no pickled payloads, sample
    inputs that load with ``weights_only=True``, no guards code, no subgraphs, node
    names that are identifiers, and call targets that are ATen operators or Python
    arithmetic/comparison/indexing.  Raises ``ValueError`` otherwise.
    """
    torch = _torch()

    where = f"path {str(path)!r}"
    _require_export_file(path, "a .pt2 torch export")

    def refuse(what: str) -> ValueError:
        return ValueError(f"{where}: {what}; tfapprox.export.load_torch accepts only the data-only layout "
                          f"save_torch writes (torch.export.load would execute or import code for this)")

    try:
        zf = zipfile.ZipFile(str(path))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{where} is not a .pt2 archive (a zip file): {exc}") from exc
    with zf:
        names = zf.namelist()
        if not names or any(n.count("/") < 1 for n in names):
            raise refuse("it is not a single-directory PT2 archive")
        root = names[0].split("/", 1)[0]
        for n in names:
            head, rest = n.split("/", 1)
            if head != root or not _PT2_FILES.fullmatch(rest):
                raise refuse(f"it contains the entry {n[:120]!r}")
        if sum(zf.getinfo(n).file_size for n in names) > MAX_MODEL_FILE_BYTES:
            raise refuse("its entries unpack to more than MAX_MODEL_FILE_BYTES")

        def read_json(rest: str) -> Any:
            try:
                return json.loads(zf.read(f"{root}/{rest}"))
            except KeyError as exc:
                raise refuse(f"it has no {rest}") from exc
            except ValueError as exc:
                raise refuse(f"{rest} is not JSON") from exc

        for rest in ("data/weights/model_weights_config.json", "data/constants/model_constants_config.json"):
            cfg = read_json(rest)
            entries = cfg.get("config") if isinstance(cfg, dict) else None
            if not isinstance(entries, dict):
                raise refuse(f"{rest} has no config mapping")
            for key, meta in entries.items():
                if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
                    raise refuse(f"{rest} entry {str(key)[:60]!r} is a pickled payload")
                pn = meta.get("path_name")
                if not isinstance(pn, str) or not re.fullmatch(r"(weight|tensor)_[0-9]+", pn):
                    raise refuse(f"{rest} entry {str(key)[:60]!r} has path {str(pn)[:60]!r}")
        try:
            torch.load(io.BytesIO(zf.read(f"{root}/data/sample_inputs/model.pt")), weights_only=True)
        except KeyError as exc:
            raise refuse("it has no data/sample_inputs/model.pt") from exc
        except Exception as exc:  # torch.export.load would retry with weights_only=False
            raise refuse("its sample inputs do not load with weights_only=True") from exc
        prog = read_json("models/model.json")
        if not isinstance(prog, dict) or prog.get("guards_code") not in ([], None):
            raise refuse("its program carries guards_code (Python source compiled by .module())")
        gm = prog.get("graph_module")
        graph = gm.get("graph") if isinstance(gm, dict) else None
        nodes = graph.get("nodes") if isinstance(graph, dict) else None
        if not isinstance(nodes, list):
            raise refuse("its program has no graph")
        for node in nodes:
            target = node.get("target") if isinstance(node, dict) else None
            if not isinstance(target, str) or not (_PT2_ATEN.fullmatch(target) or target in _PT2_OPERATORS):
                raise refuse(f"a graph node calls {str(target)[:80]!r} (allowed: ATen operators, Python arithmetic)")
            if not _IDENT.fullmatch(str(node.get("name", ""))):
                raise refuse(f"a graph node is named {str(node.get('name'))[:60]!r}")
        if '"as_graph"' in zf.read(f"{root}/models/model.json").decode("utf-8", "replace"):
            raise refuse("its program contains subgraphs")


def _require_export_file(path: Path, what: str) -> None:
    """Refuse (``ValueError``) a path that is not a readable regular file of at most
    :data:`~tfapprox.theory.limits.MAX_MODEL_FILE_BYTES` bytes, before anything reads it."""
    where = f"path {str(path)!r}"
    try:
        st = path.stat()
    except OSError as exc:
        raise ValueError(f"{where}: cannot read {what} ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{where} is not a regular file; {what} is expected")
    if st.st_size > MAX_MODEL_FILE_BYTES:
        raise ValueError(f"{where} has {st.st_size} bytes; {what} may have at most {MAX_MODEL_FILE_BYTES} "
                         f"(tfapprox.theory.limits.MAX_MODEL_FILE_BYTES)")


def load_torch(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """``(module, config)`` from a file written by :func:`save_torch`, executing nothing from it.

    ``torch.export.load`` alone can execute code from a crafted ``.pt2`` (pickled
    payloads, shared libraries, guard source, arbitrary call targets; see
    :func:`_check_pt2_archive` and docs/interop.md).  This function first checks that
    the archive has exactly the data-only layout :func:`save_torch` writes, then calls
    ``torch.export.load``.  For a loader that reads data only by construction, keep the
    model file and use ``to_torch("model.json")``.

    Raises
    ------
    ValueError
        The file is not a regular ``.pt2`` archive of bounded size, or it contains
        anything ``torch.export.load`` would execute or import (the message names it).
    """
    torch = _torch()
    path = Path(path)
    _check_pt2_archive(path)
    extra = {"tfapprox_config.json": ""}
    ep = torch.export.load(str(path), extra_files=extra)
    try:
        config = json.loads(extra["tfapprox_config.json"])
    except ValueError as exc:
        raise ValueError(f"path {str(path)!r}: extra/tfapprox_config.json is not JSON") from exc
    if not isinstance(config, dict) or config.get("format") != TORCH_FORMAT:
        raise ValueError(f"path {str(path)!r} is not a tfapprox torch export (format "
                         f"{config.get('format') if isinstance(config, dict) else None!r}, expected {TORCH_FORMAT!r})")
    return ep.module(), config


# --------------------------------------------------------------------- TransformerLens
#: ``HookedTransformerConfig`` fields a lens export file stores.  The loader builds the
#: configuration from these alone: the sizes are read (and bounded), every other field
#: must equal the value written here, and no other field is accepted (a field such as
#: ``tokenizer_name`` or ``trust_remote_code`` would make TransformerLens fetch and run
#: code at construction).
_LENS_SIZE_FIELDS = ("n_layers", "d_model", "n_ctx", "d_head", "n_heads", "d_mlp", "d_vocab")
_LENS_FIXED_CONFIG: dict[str, Any] = {
    "act_fn": "relu", "normalization_type": None, "attn_only": False,
    "positional_embedding_type": "standard", "use_attn_scale": False, "default_prepend_bos": False,
    "original_architecture": "tfapprox", "dtype": "float64", "device": "cpu", "init_weights": False}
_LENS_N_CTX = 4096
_LENS_KEYS = {"format", "config", "state_dict", "layers", "past", "embed_W", "embed_b", "pad", "tfapprox_config"}
_LENS_LAYER_KEYS = {"rpe_kind", "p", "phi_table", "logtail_table", "normalized"}


def _lens_state_shapes(cfg: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """The state dict entries (name -> shape) a lens export file must hold for ``cfg``."""
    L, D, H, dh = cfg["n_layers"], cfg["d_model"], cfg["n_heads"], cfg["d_head"]
    m, V, n_ctx = cfg["d_mlp"], cfg["d_vocab"], cfg["n_ctx"]
    shapes: dict[str, tuple[int, ...]] = {"embed.W_E": (V, D), "pos_embed.W_pos": (n_ctx, D),
                                          "unembed.W_U": (D, V), "unembed.b_U": (V,)}
    for l in range(L):
        pre = f"blocks.{l}."
        for nm in ("W_Q", "W_K", "W_V"):
            shapes[pre + "attn." + nm] = (H, D, dh)
        shapes[pre + "attn.W_O"] = (H, dh, D)
        for nm in ("b_Q", "b_K", "b_V"):
            shapes[pre + "attn." + nm] = (H, dh)
        shapes[pre + "attn.b_O"] = (D,)
        shapes[pre + "mlp.W_in"], shapes[pre + "mlp.b_in"] = (D, m), (m,)
        shapes[pre + "mlp.W_out"], shapes[pre + "mlp.b_out"] = (m, D), (D,)
    return shapes


def _check_lens_checkpoint(ck: Any, where: str) -> dict[str, Any]:
    """Validate a lens export dict read from ``where``; return the sizes of its config.

    Everything is checked before TransformerLens allocates anything: the keys, the
    config (sizes are positive integers, the other fields exactly the exported values),
    every tensor's dtype (float64), shape and finiteness, the RPE kinds and the past
    semantics.  Raises ``ValueError`` naming the entry, the value and what is allowed.
    """
    torch = _torch()

    def bad(what: str, value: Any, allowed: str) -> ValueError:
        text = repr(value)
        text = text if len(text) <= 80 else text[:77] + "..."
        return ValueError(f"{where}: {what} is {text}; allowed: {allowed}")

    def tensor(what: str, value: Any, shape: tuple[int, ...] | None, ndim: int | None = None) -> Any:
        if type(value) is not torch.Tensor:
            raise bad(what, type(value).__name__, "a torch.Tensor")
        if value.dtype != torch.float64:
            raise bad(what + " dtype", value.dtype, "torch.float64")
        if shape is not None and tuple(value.shape) != shape:
            raise bad(what + " shape", tuple(value.shape), str(shape))
        if ndim is not None and value.dim() != ndim:
            raise bad(what + " shape", tuple(value.shape), f"{ndim} dimensions")
        return value

    if not isinstance(ck, dict):
        raise bad("the file's content", type(ck).__name__, "a dict (a tfapprox lens export)")
    if ck.get("format") != LENS_FORMAT:
        raise bad("format", ck.get("format"), repr(LENS_FORMAT))
    keys = set(ck) - {"loader"}  # earlier versions stored loader text here: it is never read
    if keys != _LENS_KEYS:
        raise bad("the set of entries", sorted(map(str, keys)), str(sorted(_LENS_KEYS)))
    cfg = ck["config"]
    if not isinstance(cfg, dict) or set(cfg) != set(_LENS_SIZE_FIELDS) | set(_LENS_FIXED_CONFIG):
        got = sorted(map(str, cfg)) if isinstance(cfg, dict) else type(cfg).__name__
        raise bad("config fields", got, str(sorted(set(_LENS_SIZE_FIELDS) | set(_LENS_FIXED_CONFIG))))
    for key, want in _LENS_FIXED_CONFIG.items():
        if type(cfg[key]) is not type(want) or cfg[key] != want:
            raise bad(f"config[{key!r}]", cfg[key], repr(want))
    limits = {"n_layers": 1024, "d_model": 2 * MAX_MODEL_DIM, "n_ctx": _LENS_N_CTX, "d_head": 2 * MAX_MODEL_DIM,
              "n_heads": MAX_HEADS, "d_mlp": MAX_WIDTH, "d_vocab": MAX_MODEL_DIM}
    sizes: dict[str, int] = {}
    for key in _LENS_SIZE_FIELDS:
        v = cfg[key]
        lo = _LENS_N_CTX if key == "n_ctx" else 1
        if type(v) is not int or not lo <= v <= limits[key]:
            raise bad(f"config[{key!r}]", v, f"an integer in [{lo}, {limits[key]}]")
        sizes[key] = v
    sd = ck["state_dict"]
    shapes = _lens_state_shapes(sizes)
    if not isinstance(sd, dict) or set(sd) != set(shapes):
        got = sorted(map(str, sd))[:6] if isinstance(sd, dict) else type(sd).__name__
        raise bad("state_dict keys", got, f"exactly the {len(shapes)} parameters of the config")
    for key, shape in shapes.items():
        if not bool(torch.isfinite(tensor(f"state_dict[{key!r}]", sd[key], shape)).all()):
            raise bad(f"state_dict[{key!r}]", "non-finite entries", "finite float64 weights")
    if ck["past"] not in ("padded", "none"):
        raise bad("past", ck["past"], "'padded' or 'none'")
    E = tensor("embed_W", ck["embed_W"], None, 2)
    if E.shape[0] != sizes["d_model"] or not 1 <= E.shape[1] <= MAX_MODEL_DIM:
        raise bad("embed_W shape", tuple(E.shape), f"(d_model={sizes['d_model']}, d) with 1 <= d <= {MAX_MODEL_DIM}")
    tensor("embed_b", ck["embed_b"], (sizes["d_model"],))
    tensor("pad", ck["pad"], (E.shape[1],))
    for name in ("embed_W", "embed_b", "pad"):
        if not bool(torch.isfinite(ck[name]).all()):
            raise bad(name, "non-finite entries", "finite float64 values")
    layers = ck["layers"]
    if not isinstance(layers, list) or len(layers) != sizes["n_layers"]:
        raise bad("layers", type(layers).__name__ if not isinstance(layers, list) else f"{len(layers)} entries",
                  f"a list of n_layers={sizes['n_layers']} dicts")
    H = sizes["n_heads"]
    for l, lay in enumerate(layers):
        if not isinstance(lay, dict) or set(lay) != _LENS_LAYER_KEYS:
            got = sorted(map(str, lay)) if isinstance(lay, dict) else type(lay).__name__
            raise bad(f"layers[{l}]", got, f"a dict with keys {sorted(_LENS_LAYER_KEYS)}")
        if lay["rpe_kind"] not in ("lin", "log", "table"):
            raise bad(f"layers[{l}]['rpe_kind']", lay["rpe_kind"], "'lin', 'log' or 'table'")
        if type(lay["normalized"]) is not bool:
            raise bad(f"layers[{l}]['normalized']", lay["normalized"], "True or False")
        p = tensor(f"layers[{l}]['p']", lay["p"], (H,))
        if not bool((p > 0).all()) or not bool(torch.isfinite(p).all()):
            raise bad(f"layers[{l}]['p']", "a non-positive or non-finite slope", "finite slopes p > 0")
        phi = tensor(f"layers[{l}]['phi_table']", lay["phi_table"], None, 1)
        if not 1 <= phi.shape[0] <= MAX_WIDTH:
            raise bad(f"layers[{l}]['phi_table'] length", phi.shape[0], f"1 to {MAX_WIDTH}")
        tensor(f"layers[{l}]['logtail_table']", lay["logtail_table"], (H, phi.shape[0]))
    if not isinstance(ck["tfapprox_config"], str):
        raise bad("tfapprox_config", type(ck["tfapprox_config"]).__name__, "a JSON string")
    return sizes


def _install_rpe_hooks(model: Any, layers: list[dict[str, Any]], padded: bool) -> Any:
    """Add the RPE (and, for normalization-free layers, the unnormalised weights) as
    permanent hooks: ``hook_attn_scores += log-weights``; ``hook_pattern = exp(scores)``
    for normalization-free layers (Sec. 4)."""
    torch = _torch()
    last_scores: dict[int, Any] = {}
    for l, lay in enumerate(layers):
        def add_bias(scores: Any, hook: Any, lay: dict[str, Any] = lay, l: int = l) -> Any:
            n = scores.shape[-1] - (1 if padded else 0)
            bias = _rpe_log_bias(lay["rpe_kind"], lay["p"].to(scores.dtype), lay["phi_table"].to(scores.dtype),
                                 lay["logtail_table"].to(scores.dtype), n, padded)
            out = scores + bias[None]
            last_scores[l] = out
            return out

        model.add_perma_hook(f"blocks.{l}.attn.hook_attn_scores", add_bias)
        if not lay["normalized"]:
            def unnormalised(pattern: Any, hook: Any, l: int = l) -> Any:
                return torch.exp(last_scores[l])

            model.add_perma_hook(f"blocks.{l}.attn.hook_pattern", unnormalised)
    return model


def _build_lens(ck: dict[str, Any], where: str = "lens export") -> tuple[Any, Any]:
    """``(HookedTransformer, embed)`` from a lens export dict (validated first).

    Pure package code: the dict supplies tensors, sizes and a few names checked against
    fixed sets; nothing in it is executed or looked up as code.
    """
    torch = _torch()
    sizes = _check_lens_checkpoint(ck, where)
    try:
        import transformer_lens as tl
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("loading a lens export needs TransformerLens: pip install 'tfapprox[lens]' "
                          "(transformer-lens==3.9.0)") from exc
    cfg = dict(sizes, **_LENS_FIXED_CONFIG)
    cfg["dtype"] = torch.float64
    with warnings.catch_warnings():  # 3.x marks HookedTransformer deprecated; the lens extra pins 3.9.0
        warnings.filterwarnings("ignore", message="HookedTransformer is deprecated", category=DeprecationWarning)
        model = tl.HookedTransformer(tl.HookedTransformerConfig(**cfg))
    full = model.state_dict()  # buffers (causal mask, IGNORE) keep their own values
    for key, value in ck["state_dict"].items():
        if key not in full or full[key].shape != value.shape:
            raise ValueError(f"{where}: state dict key {key} {tuple(value.shape)} does not fit this "
                             f"TransformerLens (transformer-lens==3.9.0 is the tested version)")
        full[key] = value
    model.load_state_dict(full, strict=True)
    model.requires_grad_(False)  # exact weights from a proof, not trainable parameters
    model.eval()
    padded = ck["past"] == "padded"
    _install_rpe_hooks(model, ck["layers"], padded)
    W, b, pad = ck["embed_W"], ck["embed_b"], ck["pad"]

    def embed(x: Any) -> Any:
        """Residual stream input ``W_E x + b_E`` for windows ``x`` (batch, N, d), with
        the padded-past position in front for ``past="padded"``."""
        x = torch.as_tensor(x, dtype=W.dtype)
        h = x @ W.T + b
        if padded:
            hp = (pad @ W.T + b)[None, None, :].expand(h.shape[0], 1, -1)
            h = torch.cat([hp, h], dim=1)
        return h

    return model, embed


def _lens_parts(model: Any, pad: Any = None) -> dict[str, Any]:
    """Everything a lens export file holds (tensors, numbers, strings)."""
    torch = _torch()
    model = _as_model(model)
    spec = model.spec
    L = spec.num_layers
    for l, b in enumerate(spec.blocks):
        att = b.attention
        if att is not None:
            if not att.residual:
                raise UnsupportedExport(
                    f"blocks[{l}].attention has no residual connection (Thm 5.1, App. E.1); TransformerLens "
                    f"blocks always add the attention output to the residual stream: use to_torch")
            if any(h.is_tmx for h in att.heads):
                raise UnsupportedExport(
                    f"blocks[{l}] has TMX heads (Def. C.5): their logit -p phi(w^T x_t) reads the query's "
                    f"residual state, which an attention-score hook does not see; use to_torch")
        if b.ffn is not None and b.ffn.precision is not None:
            raise UnsupportedExport(
                f"blocks[{l}].ffn has precision {b.ffn.precision!r} (eq. (15)); a TransformerLens MLP has no "
                f"rounding step: use to_torch")
        if l < L - 1 and b.ffn is not None and b.attention is None:
            pass  # an absent attention becomes a zero attention (adds exactly 0)
    _digits_check(model, torch.float64)
    low = model.lowered("float64")
    D = spec.width
    last = spec.blocks[-1]
    c = spec.output_dim
    extra = c if last.ffn is not None else 0
    d_model = D + extra
    heads = [len(b.attention.heads) if b.attention is not None else 0 for b in spec.blocks]
    n_heads = max(max(heads), 1)
    dks = [q.shape[0] for lw in low.layers if lw["attention"] is not None for q in lw["attention"]["W_Q"]
           if q is not None]
    dvs = [lw["attention"]["W_V"].shape[1] for lw in low.layers if lw["attention"] is not None]
    d_head = max(dks + dvs + [1])
    d_mlp = max([b.ffn.width for b in spec.blocks if b.ffn is not None] + [1])
    sd: dict[str, Any] = {}
    T = lambda a: torch.tensor(np.asarray(a, dtype=float), dtype=torch.float64)
    layers = []
    for l, (b, lw) in enumerate(zip(spec.blocks, low.layers)):
        W_Q = np.zeros((n_heads, d_model, d_head))
        W_K = np.zeros((n_heads, d_model, d_head))
        W_V = np.zeros((n_heads, d_model, d_head))
        W_O = np.zeros((n_heads, d_head, d_model))
        p = np.ones(n_heads)
        kind, phi, tails = "lin", np.zeros(1), np.zeros((n_heads, 1))
        normalized = True
        if b.attention is not None:
            a = lw["attention"]
            H = len(b.attention.heads)
            Dv = a["W_V"].shape[1]
            for h in range(H):
                W_V[h, :D, :Dv] = a["W_V"][h].T
                W_O[h, :Dv, :D] = a["W_O"].T
                if a["W_Q"][h] is not None:
                    k = a["W_Q"][h].shape[0]
                    W_Q[h, :D, :k] = a["W_Q"][h].T
                    W_K[h, :D, :k] = a["W_K"][h].T
            p[:H] = a["p"]
            kind, phi, tails = _rpe_tables(b.attention.rpe, [float(v) for v in p])
            normalized = b.attention.normalized
        layers.append({"rpe_kind": kind, "p": T(p), "phi_table": T(phi), "logtail_table": T(tails),
                       "normalized": bool(normalized)})
        pre = f"blocks.{l}."
        sd[pre + "attn.W_Q"], sd[pre + "attn.W_K"], sd[pre + "attn.W_V"] = T(W_Q), T(W_K), T(W_V)
        sd[pre + "attn.W_O"] = T(W_O)
        for nm, shape in (("b_Q", (n_heads, d_head)), ("b_K", (n_heads, d_head)), ("b_V", (n_heads, d_head)),
                          ("b_O", (d_model,))):
            sd[pre + "attn." + nm] = T(np.zeros(shape))
        W_in = np.zeros((d_model, d_mlp))
        b_in = np.zeros(d_mlp)
        W_out = np.zeros((d_mlp, d_model))
        if b.ffn is not None:
            f = lw["ffn"]
            m = f["b"].shape[0]
            W_in[:D, :m] = f["b"].T
            b_in[:m] = f["c"]
            if l == L - 1:
                W_out[:m, D:D + c] = f["a"].T  # the readout writes to fresh dims (no residual)
            else:
                W_out[:m, :D] = f["a"].T
        sd[pre + "mlp.W_in"], sd[pre + "mlp.b_in"] = T(W_in), T(b_in)
        sd[pre + "mlp.W_out"], sd[pre + "mlp.b_out"] = T(W_out), T(np.zeros(d_model))
    d_vocab = c if extra else D
    W_U = np.zeros((d_model, d_vocab))
    W_U[D:D + c, :] = np.eye(c) if extra else 0.0
    if not extra:
        W_U[:D, :] = np.eye(D)
    n_ctx = _LENS_N_CTX
    sd["embed.W_E"] = T(np.zeros((d_vocab, d_model)))
    sd["pos_embed.W_pos"] = T(np.zeros((n_ctx, d_model)))
    sd["unembed.W_U"], sd["unembed.b_U"] = T(W_U), T(np.zeros(d_vocab))
    config = dict({"n_layers": L, "d_model": d_model, "n_ctx": n_ctx, "d_head": d_head, "n_heads": n_heads,
                   "d_mlp": d_mlp, "d_vocab": d_vocab}, **_LENS_FIXED_CONFIG)
    padv = np.zeros(spec.input_dim) if pad is None else np.asarray(pad, dtype=float).reshape(-1)
    if padv.shape != (spec.input_dim,) or not np.all(np.isfinite(padv)):
        raise ValueError(f"pad must be {spec.input_dim} finite numbers (token dimension d), got {pad!r}")
    W_E = np.zeros((d_model, spec.input_dim))
    W_E[:D] = low.embedding
    b_E = np.zeros(d_model)
    b_E[:D] = low.embedding_bias
    return {"format": LENS_FORMAT, "config": config, "state_dict": sd, "layers": layers, "past": spec.past,
            "embed_W": T(W_E), "embed_b": T(b_E), "pad": T(padv),
            "tfapprox_config": json.dumps(export_config(model))}


def to_transformer_lens(model: Any, *, pad: Any = None) -> tuple[Any, Any]:
    """A ``transformer_lens.HookedTransformer`` computing ``model``, and its input map.

    Returns ``(hooked, embed)``: run ``hooked(embed(x), start_at_layer=0)`` on windows
    ``x`` (batch, N, d); with ``past="padded"`` position 0 of the residual stream is the
    padded past and the outputs are ``logits[:, 1:]``.

    How the paper's model maps onto TransformerLens:

    * no layer norm (``normalization_type=None``), ``act_fn="relu"``, attention scale 1
      (``use_attn_scale=False``), zero biases and zero (unused) token/position embeddings;
      the input embedding ``W_E x + b_E`` is continuous, so it is applied by ``embed``
      and the model is entered with ``start_at_layer=0``;
    * TransformerLens has no general relative-position bias: the RPE log-weights
      ``p phi(i - j)`` are added through permanent hooks on
      ``blocks.{l}.attn.hook_attn_scores`` (so ``run_with_cache`` shows the biased
      scores and the true attention pattern).  For ``past="padded"`` the infinite padded
      past is key position 0 with the closed-form tail ``log sum_{s>t} e^{p phi(s)}``;
    * normalization-free layers (Sec. 4): a permanent hook on ``hook_pattern`` replaces
      the softmax by ``exp(scores)``, the unnormalised weights (what the cache shows);
    * heads are zero-padded to a common ``d_head = max(d_k, D_v)``, layers to a common
      head count and MLP width (zero heads and neurons add exactly 0);
    * the readout FFN (no residual) writes into ``c`` extra residual dimensions that no
      other layer touches, and ``W_U`` selects them: ``logits`` are the readout.

    Refused with :class:`UnsupportedExport` (use :func:`to_torch`): FFN precision
    (eq. (15)), attention without residual (Thm 5.1), TMX heads (Def. C.5).
    """
    _torch()
    return _build_lens(_lens_parts(model, pad))


def save_lens(model: Any, path: str | Path, *, pad: Any = None) -> Path:
    """Write the TransformerLens export file: data only, loaded by :func:`load_lens`.

    The file is ``torch.save`` of a dict of tensors, numbers, strings, booleans and
    ``None`` (it loads with ``torch.load(path, weights_only=True)``): the sizes of the
    ``HookedTransformerConfig``, the state dict, the RPE tables (kind, slopes, phi and
    log-tail tables, normalised or not per layer), the past semantics, the input
    embedding and pad token, and :func:`export_config` as JSON text.  It holds no code:
    the loader is :func:`load_lens`, in this package.
    """
    torch = _torch()
    ck = _lens_parts(model, pad)
    path = Path(path)
    torch.save(ck, str(path))
    return path


def load_lens(path: str | Path) -> tuple[Any, Any]:
    """``(hooked, embed)`` from a file written by :func:`save_lens`, executing nothing from it.

    The file is read with ``torch.load(path, weights_only=True)`` (PyTorch's restricted
    unpickler: tensors and plain containers only, no callables), then validated entry by
    entry before anything is built: the format tag, the exact set of entries, the config
    (integer sizes within the limits of ``tfapprox.theory.limits``; every other
    ``HookedTransformerConfig`` field must equal the exported value and no other field
    is accepted, so a file cannot name a tokenizer or ask for remote code), float64
    finite tensors of the shapes the config implies, RPE kinds in ``lin``/``log``/
    ``table`` and ``past`` in ``padded``/``none``.  The model and its hooks are then
    built by this package's code (:func:`to_transformer_lens` uses the same builder).

    Parameters
    ----------
    path
        A lens export file (``tfapprox export MODEL --to lens``); at most
        ``tfapprox.theory.limits.MAX_MODEL_FILE_BYTES`` bytes.

    Returns
    -------
    (hooked, embed)
        Run ``hooked(embed(x), start_at_layer=0)`` on windows ``x`` (batch, N, d); with
        ``past="padded"`` the outputs are ``logits[:, 1:]``.

    Raises
    ------
    ValueError
        The file is not a regular file of bounded size, not loadable with
        ``weights_only=True``, or not a well-formed lens export (the message names the
        entry, its value and what is allowed).
    """
    torch = _torch()

    path = Path(path)
    _require_export_file(path, "a lens export file")
    try:
        ck = torch.load(str(path), weights_only=True, map_location="cpu")
    except Exception as exc:  # the restricted unpickler refuses anything but data
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"path {str(path)!r} does not load with torch.load(weights_only=True), so it is not a "
                         f"data-only tfapprox lens export: {first[:200]}") from exc
    return _build_lens(ck, f"lens export {str(path)!r}")


def load_snippet(target: str, path: str | Path) -> str:
    """The Python lines that load a file written by ``tfapprox export --to TARGET``.

    ``tfapprox export`` prints them.  Neither executes code stored in the file beyond
    what the text below says: see docs/interop.md, "Files: what loading executes".

    Parameters
    ----------
    target
        ``"torch"`` or ``"lens"``.
    path
        The written file (inserted as a Python string literal).
    """
    if target not in ("torch", "lens"):
        raise ValueError(f"target must be 'torch' or 'lens', got {target!r}")
    p = repr(str(path))
    if target == "lens":
        return (f"from tfapprox.export import load_lens\n"
                f"model, embed = load_lens({p})   # logits = model(embed(x), start_at_layer=0)")
    return (f"from tfapprox.export import load_torch\n"
            f"model, config = load_torch({p})   # y = model(x); refuses archives torch.export.load would "
            f"run code from")
