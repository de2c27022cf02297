"""Shared parts of the PyTorch / TransformerLens export (:mod:`tfapprox.export`).

The format tags, :class:`UnsupportedExport`, the lazy ``torch`` import, the RPE log-weights
of eq. (4) with the closed-form padded-past tails (Differences from the paper, D17) that both
targets add to the attention logits, the JSON config stored beside the weights, the
digits check (D18) and the bounded file check used by both loaders.
"""

from __future__ import annotations

import math
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from tfapprox.theory.limits import MAX_MODEL_FILE_BYTES
from tfapprox.theory.rpe import RPEType
from tfapprox.verify.model import Model

__all__ = ["TORCH_FORMAT", "LENS_FORMAT", "FLOAT64_DIGITS", "FLOAT32_DIGITS", "UnsupportedExport",
           "require_torch", "rpe_log_bias", "rpe_tables", "export_config", "digits_check", "as_model",
           "require_export_file"]

#: Format tag of the ``tfapprox_config.json`` stored in a ``.pt2`` torch export.
TORCH_FORMAT = "tfapprox.torch-export/1"
#: Format tag of a TransformerLens export file (``save_lens``).
LENS_FORMAT = "tfapprox.lens-export/1"
#: decimal digits float64 can certify (Differences from the paper, D18); beyond, exports warn
FLOAT64_DIGITS = 15
#: decimal digits float32 carries (a float32 export always warns, stating the digits needed)
FLOAT32_DIGITS = 6


class UnsupportedExport(ValueError):
    """The model uses a feature the export target cannot express faithfully."""


def require_torch() -> Any:
    """``import torch``, or ImportError saying how to install it (the ``torch`` extra)."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError("tfapprox.export needs PyTorch: pip install 'tfapprox[torch]' "
                          "(torch==2.13.0, the CPU build)") from exc
    return torch


# ------------------------------------------------------------------------------ RPE
# Shared by the torch module and the TransformerLens hooks.  Plain package code: no
# export file carries code, and loading one never executes anything read from it.  The
# RPE type supplies the numbers (tfapprox.theory.rpe.RPEType.torch_phi / torch_log_tail):
# a native formula (lin, log, quadratic) or lookups in the tables of rpe_tables.
def rpe_log_bias(form: Any, p: Any, phi_table: Any, logtail_table: Any, n: int, padded: bool) -> Any:
    """Log-weights (H, n', n') added to the attention logits (eq. (4)).

    ``n' = n + 1`` with a pad position 0 for the padded past, else ``n``.  Window query
    ``i``, key ``j <= i``: ``p phi(i - j)``; pad key for window query ``t``:
    ``log sum_{s >= t+1} e^{p phi(s)}``; pad query: its own total mass
    ``log sum_{s >= 0} e^{p phi(s)}``; keys after the query: ``-inf``.

    Parameters
    ----------
    form
        The RPE object or export form (:func:`tfapprox.theory.rpe.export_form`) whose
        ``torch_phi`` and ``torch_log_tail`` give ``phi`` at the lags and the log tails.
    p
        Slopes, tensor (H,).
    phi_table, logtail_table
        Tensors (S+1,) and (H, S+1) from :func:`rpe_tables` (read by table forms; their
        dtype and length also serve native forms).
    n
        Window length.
    padded
        Whether to add the padded-past position 0 (closed-form tails).
    """
    torch = require_torch()
    dt = p.dtype
    t = torch.arange(n, device=p.device)
    lag = t[:, None] - t[None, :]
    lagc = lag.clamp(min=0)
    phi = form.torch_phi(lagc, phi_table.to(dt))
    phi = torch.where(lag >= 0, phi, torch.full_like(phi, -math.inf))
    finite = torch.isfinite(phi)
    safe = torch.where(finite, phi, torch.zeros_like(phi))
    logw = torch.where(finite[None], p[:, None, None] * safe[None], torch.full_like(safe[None], -math.inf))
    if not padded:
        return logw
    starts = torch.arange(n + 1, device=p.device)  # a = 0 (pad row), 1..n (window rows)
    tail = form.torch_log_tail(p, starts, logtail_table)
    H = p.shape[0]
    out = torch.full((H, n + 1, n + 1), -math.inf, dtype=dt, device=p.device)
    out[:, 1:, 1:] = logw
    out[:, :, 0] = tail
    return out


def rpe_tables(rpe: RPEType, ps: list[float]) -> tuple[str, np.ndarray, np.ndarray]:
    """``(kind, phi table (S+1,), log-tail table (H, S+1))`` of ``rpe`` at slopes ``ps``.

    ``kind`` is the RPE's ``export_kind`` (``"table"`` or the name of a type with a native
    torch formula), stored in export files and turned back into the evaluating object by
    :func:`tfapprox.theory.rpe.export_form`; the tables come from ``rpe.export_tables``.
    """
    if not isinstance(rpe, RPEType):
        raise TypeError(f"rpe must be an RPEType, got {type(rpe).__name__}")
    try:
        phi, tails = rpe.export_tables(ps)
    except NotImplementedError as exc:
        raise UnsupportedExport(str(exc)) from None
    return rpe.export_kind, np.asarray(phi, dtype=float), np.asarray(tails, dtype=float)


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


def digits_check(model: Any, dtype: Any, tol: float = 1e-8) -> int:
    """Warn when ``dtype`` cannot evaluate ``model``'s weights; return the digits needed.

    The criterion is ``Model.run``'s own (Differences from the paper, D18): the float64 forward pass's
    first-order rounding-error estimate on a probe window of unit-norm tokens, scaled to ``dtype``'s machine
    epsilon, against ``tol`` (``Model.run``'s default ``float64_tol``).  float32 always
    warns and states the digits needed (``Model.digits_needed(tol)``).
    """
    torch = require_torch()
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


def as_model(model: Any) -> Any:
    """The :class:`~tfapprox.verify.model.Model` itself, or the one stored in a model file path."""
    if isinstance(model, (str, Path)):
        return Model.load(model)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a tfapprox Model or a model file path, got {type(model).__name__}")
    return model


def require_export_file(path: Path, what: str) -> None:
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
