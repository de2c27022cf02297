"""PyTorch export (:mod:`tfapprox.export`): the ``torch.nn.Module`` of the paper's Transformer
(eqs. (2)-(4), (15); Def. C.5 TMX heads; Differences from the paper, D17/D18) and its
``torch.export`` file, with the loader that refuses archives ``torch.export.load`` would
execute code from.  ``torch`` is imported only inside the functions.
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tfapprox.theory.limits import MAX_MODEL_FILE_BYTES
from tfapprox.theory.rpe import export_form

from .export_common import (
    TORCH_FORMAT,
    UnsupportedExport,
    as_model,
    digits_check,
    export_config,
    require_export_file,
    require_torch,
    rpe_log_bias,
    rpe_tables,
)

__all__ = ["to_torch", "save_torch", "load_torch", "check_pt2_archive"]


# ------------------------------------------------------------------------ torch module
def _torch_classes() -> dict[str, Any]:
    torch = require_torch()
    nn = torch.nn

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
            kind, phi, tails = rpe_tables(spec.rpe, [float(v) for v in low["p"]])
            self.register_buffer("phi_table", torch.tensor(phi, dtype=dtype))
            self.register_buffer("logtail_table", torch.tensor(tails, dtype=dtype))
            self.register_buffer("head_kind", torch.tensor(kinds, dtype=torch.long))
            self.rpe_kind = kind
            self.rpe_form = export_form(kind)  # what a lens file's loader evaluates too
            self.tmx_rpe = spec.rpe
            if 2 in kinds and spec.rpe.tmx_min is None:
                raise UnsupportedExport(f"TMX heads (Def. C.5) are not defined for {spec.rpe.kind}-RPE")
            self.has_dp = 1 in kinds
            self.has_tmx = 2 in kinds
            self.normalized = bool(spec.normalized)
            self.residual = bool(spec.residual)

        def scores(self, h: Any, padded: bool) -> Any:
            """Attention logits (B, H, n', n'): content + RPE log-weights (-inf where masked)."""
            n = h.shape[1] - (1 if padded else 0)
            bias = rpe_log_bias(self.rpe_form, self.p, self.phi_table, self.logtail_table, n, padded)
            s = bias[None].expand(h.shape[0], -1, -1, -1)
            if self.has_dp:
                q = torch.einsum("bnd,hkd->bhnk", h, self.W_Q)
                k = torch.einsum("bnd,hkd->bhnk", h, self.W_K)
                s = s + q @ k.transpose(-1, -2)
            if self.has_tmx:
                z = torch.einsum("bnd,hd->bhn", h, self.w)
                rpe = self.tmx_rpe
                lo = float(rpe.tmx_min)
                if not torch.compiler.is_compiling() and bool((z[:, self.head_kind == 2] < lo).any()):
                    raise ValueError(f"TMX head: w^T x_t < {lo} gives phi_{rpe.kind}(w^T x_t) = -inf; "
                                     f"the logit p (phi(s) - phi(w^T x_t)) of Def. C.5 is undefined")
                qlog = self.p[None, :, None] * rpe.tmx_neg_phi(z.clamp(min=lo), torch.log)
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
    torch = require_torch()
    model = as_model(model)
    dtype = torch.float64 if dtype is None else dtype
    if dtype not in (torch.float64, torch.float32):
        raise TypeError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
    digits_check(model, dtype)
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
    torch = require_torch()
    model = as_model(model)
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


def check_pt2_archive(path: Path) -> None:
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
    torch = require_torch()

    where = f"path {str(path)!r}"
    require_export_file(path, "a .pt2 torch export")

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


def load_torch(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """``(module, config)`` from a file written by :func:`save_torch`, executing nothing from it.

    ``torch.export.load`` alone can execute code from a crafted ``.pt2`` (pickled
    payloads, shared libraries, guard source, arbitrary call targets; see
    :func:`check_pt2_archive` and docs/interop.md).  This function first checks that
    the archive has exactly the data-only layout :func:`save_torch` writes, then calls
    ``torch.export.load``.  For a loader that reads data only by construction, keep the
    model file and use ``to_torch("model.json")``.

    Raises
    ------
    ValueError
        The file is not a regular ``.pt2`` archive of bounded size, or it contains
        anything ``torch.export.load`` would execute or import (the message names it).
    """
    torch = require_torch()
    path = Path(path)
    check_pt2_archive(path)
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
