"""TransformerLens export (:mod:`tfapprox.export`): a ``HookedTransformer`` computing the
paper's Transformer (eqs. (2)-(4)) with the RPE of eq. (4) and the closed-form padded-past
tails (Differences from the paper, D17) added through permanent hooks, and its data-only
file: ``torch.save`` of tensors, numbers and strings, validated entry by entry by
:func:`load_lens` before this package's code builds the model.  ``torch`` and
``transformer_lens`` are imported only inside the functions.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from tfapprox.theory.limits import MAX_HEADS, MAX_MODEL_DIM, MAX_WIDTH
from tfapprox.theory.rpe import LinRPE, export_form, export_kinds

from .export_common import (
    LENS_FORMAT,
    UnsupportedExport,
    as_model,
    digits_check,
    export_config,
    require_export_file,
    require_torch,
    rpe_log_bias,
    rpe_tables,
)

__all__ = ["to_transformer_lens", "save_lens", "load_lens", "export_kinds_text"]


def export_kinds_text() -> str:
    """The ``rpe_kind`` values a lens file may hold (:func:`tfapprox.theory.rpe.export_kinds`)."""
    return ", ".join(repr(k) for k in export_kinds())


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
    torch = require_torch()

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
        try:
            export_form(lay["rpe_kind"])
        except ValueError:
            raise bad(f"layers[{l}]['rpe_kind']", lay["rpe_kind"], export_kinds_text()) from None
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
    torch = require_torch()
    last_scores: dict[int, Any] = {}
    for l, lay in enumerate(layers):
        def add_bias(scores: Any, hook: Any, lay: dict[str, Any] = lay, l: int = l,
                     form: Any = export_form(lay["rpe_kind"])) -> Any:
            n = scores.shape[-1] - (1 if padded else 0)
            bias = rpe_log_bias(form, lay["p"].to(scores.dtype), lay["phi_table"].to(scores.dtype),
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
    torch = require_torch()
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
    torch = require_torch()
    model = as_model(model)
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
    digits_check(model, torch.float64)
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
        kind, phi, tails = rpe_tables(LinRPE(), [1.0] * n_heads)  # an absent attention: zero heads
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
            kind, phi, tails = rpe_tables(b.attention.rpe, [float(v) for v in p])
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
    require_torch()
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
    torch = require_torch()
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
    torch = require_torch()

    path = Path(path)
    require_export_file(path, "a lens export file")
    try:
        ck = torch.load(str(path), weights_only=True, map_location="cpu")
    except Exception as exc:  # the restricted unpickler refuses anything but data
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"path {str(path)!r} does not load with torch.load(weights_only=True), so it is not a "
                         f"data-only tfapprox lens export: {first[:200]}") from exc
    return _build_lens(ck, f"lens export {str(path)!r}")
