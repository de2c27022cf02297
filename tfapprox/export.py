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

Files (``tfapprox export MODEL.json --to torch|lens --out FILE``):

* ``--to torch`` writes a ``torch.export`` program (``.pt2``, code and state dict,
  config JSON as the extra file ``tfapprox_config.json``); it loads with torch alone::

      import torch
      model = torch.export.load("model.pt2").module()   # y = model(x), x (batch, N, d) float64

* ``--to lens`` writes ``torch.save`` of a dict of tensors and strings (loadable with
  ``weights_only=True``): the ``HookedTransformerConfig`` fields, the state dict, the
  RPE tables and the loader's Python source (needs only torch and transformer_lens)::

      import torch; ck = torch.load("model.lens.pt", weights_only=True); ns = {}; exec(ck["loader"], ns)
      load = ns["load"]; model, embed = load(ck)   # logits = model(embed(x), start_at_layer=0)

  ``exec`` runs the file's ``loader`` text: read it first (``print(ck["loader"])``) if
  the file is not your own, as with any pickle.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "UnsupportedExport",
    "to_torch",
    "to_transformer_lens",
    "export_config",
    "save_torch",
    "save_lens",
    "load_torch",
    "load_lens",
    "LENS_LOADER_SOURCE",
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


# --------------------------------------------------------------------------- RPE source
# Shared by the torch module and the TransformerLens loader (which is shipped as text
# inside lens export files, so that loading needs neither tfapprox nor its source).
_RPE_SOURCE = r'''
import math
import torch

def rpe_log_bias(kind, p, phi_table, logtail_table, n, padded):
    """Log-weights (H, n', n') added to the attention logits (n' = n + 1 with a pad
    position 0 for the padded past, else n).  Window query i, key j <= i: p phi(i - j);
    pad key for window query t: log sum_{s >= t+1} e^{p phi(s)}; pad query: its own
    total mass log sum_{s >= 0} e^{p phi(s)}; keys after the query: -inf."""
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
'''


def _exec_source(source: str) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    exec(compile(source, "<tfapprox export source>", "exec"), ns)  # our own constant text
    return ns


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
    rpe_log_bias = _exec_source(_RPE_SOURCE)["rpe_log_bias"]

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


def load_torch(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """(module, config) from a file written by :func:`save_torch` (torch only)."""
    torch = _torch()
    extra = {"tfapprox_config.json": ""}
    ep = torch.export.load(str(path), extra_files=extra)
    return ep.module(), json.loads(extra["tfapprox_config.json"])


# --------------------------------------------------------------------- TransformerLens
LENS_LOADER_SOURCE = _RPE_SOURCE + r'''

def install_rpe_hooks(model, ck):
    """Add the RPE (and, for normalization-free layers, the unnormalised weights) as
    permanent hooks: hook_attn_scores += log-weights; hook_pattern = exp(scores) if NF."""
    padded = ck["past"] == "padded"
    last_scores = {}
    for l, lay in enumerate(ck["layers"]):
        def add_bias(scores, hook, lay=lay, l=l):
            n = scores.shape[-1] - (1 if padded else 0)
            bias = rpe_log_bias(lay["rpe_kind"], lay["p"].to(scores.dtype), lay["phi_table"].to(scores.dtype),
                                lay["logtail_table"].to(scores.dtype), n, padded)
            out = scores + bias[None]
            last_scores[l] = out
            return out
        model.add_perma_hook(f"blocks.{l}.attn.hook_attn_scores", add_bias)
        if not lay["normalized"]:
            def unnormalised(pattern, hook, l=l):
                return torch.exp(last_scores[l])
            model.add_perma_hook(f"blocks.{l}.attn.hook_pattern", unnormalised)
    return model


def load(ck):
    """(HookedTransformer, embed) from a tfapprox lens export dict.  ``embed(x)`` maps
    windows x (batch, N, d) to the residual stream input (with the pad position in front
    for past='padded'); run ``model(embed(x), start_at_layer=0)``.  Outputs at window
    times are ``logits[:, 1:]`` for past='padded' (position 0 is the padded past), else
    ``logits``."""
    import transformer_lens as tl
    cfg = dict(ck["config"])
    cfg["dtype"] = getattr(torch, cfg["dtype"])
    import warnings
    with warnings.catch_warnings():  # 3.x marks HookedTransformer deprecated; the lens extra pins 3.9.0
        warnings.filterwarnings("ignore", message="HookedTransformer is deprecated", category=DeprecationWarning)
        model = tl.HookedTransformer(tl.HookedTransformerConfig(**cfg))
    full = model.state_dict()  # buffers (causal mask, IGNORE) keep their own values
    for key, value in ck["state_dict"].items():
        if key not in full or full[key].shape != value.shape:
            raise ValueError(f"state dict key {key} {tuple(value.shape)} does not fit this TransformerLens")
        full[key] = value
    model.load_state_dict(full, strict=True)
    model.requires_grad_(False)  # exact weights from a proof, not trainable parameters
    model.eval()
    install_rpe_hooks(model, ck)
    W, b, pad = ck["embed_W"], ck["embed_b"], ck["pad"]
    padded = ck["past"] == "padded"

    def embed(x):
        x = torch.as_tensor(x, dtype=W.dtype)
        h = x @ W.T + b
        if padded:
            hp = (pad @ W.T + b)[None, None, :].expand(h.shape[0], 1, -1)
            h = torch.cat([hp, h], dim=1)
        return h

    return model, embed
'''
"""Python source shipped with a TransformerLens export: the RPE and normalization-free attention
hooks (needs only torch and transformer_lens)."""


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
    n_ctx = 4096
    sd["embed.W_E"] = T(np.zeros((d_vocab, d_model)))
    sd["pos_embed.W_pos"] = T(np.zeros((n_ctx, d_model)))
    sd["unembed.W_U"], sd["unembed.b_U"] = T(W_U), T(np.zeros(d_vocab))
    config = {"n_layers": L, "d_model": d_model, "n_ctx": n_ctx, "d_head": d_head, "n_heads": n_heads,
              "d_mlp": d_mlp, "d_vocab": d_vocab, "act_fn": "relu", "normalization_type": None,
              "attn_only": False, "positional_embedding_type": "standard", "use_attn_scale": False,
              "default_prepend_bos": False, "original_architecture": "tfapprox", "dtype": "float64",
              "device": "cpu", "init_weights": False}
    padv = np.zeros(spec.input_dim) if pad is None else np.asarray(pad, dtype=float).reshape(-1)
    W_E = np.zeros((d_model, spec.input_dim))
    W_E[:D] = low.embedding
    b_E = np.zeros(d_model)
    b_E[:D] = low.embedding_bias
    return {"format": LENS_FORMAT, "config": config, "state_dict": sd, "layers": layers, "past": spec.past,
            "embed_W": T(W_E), "embed_b": T(b_E), "pad": T(padv), "loader": LENS_LOADER_SOURCE,
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
    ck = _lens_parts(model, pad)
    ns = _exec_source(LENS_LOADER_SOURCE)
    return ns["load"](ck)


def save_lens(model: Any, path: str | Path, *, pad: Any = None) -> Path:
    """Write the TransformerLens export file (see the module docstring for loading)."""
    torch = _torch()
    ck = _lens_parts(model, pad)
    path = Path(path)
    torch.save(ck, str(path))
    return path


def load_lens(path: str | Path) -> tuple[Any, Any]:
    """``(hooked, embed)`` from a lens export file, exactly as the documented snippet does."""
    torch = _torch()
    ck = torch.load(str(path), weights_only=True)
    if ck.get("format") != LENS_FORMAT:
        raise ValueError(f"{path} is not a tfapprox lens export (format {ck.get('format')!r})")
    return _exec_source(ck["loader"])["load"](ck)
