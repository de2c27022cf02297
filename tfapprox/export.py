"""Export a :class:`~tfapprox.verify.model.Model` to PyTorch and to TransformerLens.

Two targets, both optional (``pip install 'tfapprox[torch]'`` / ``'tfapprox[lens]'``);
``torch`` and ``transformer_lens`` are imported only inside the functions below, so
``import tfapprox`` never imports them.

* :func:`to_torch` returns a plain ``torch.nn.Module`` that implements the paper's
  architecture (eqs. (2)-(4), (15); Differences from the paper, D17) exactly as
  :func:`tfapprox.verify.forward.forward` does: every RPE type (lin, log, T5, table,
  quadratic, and any registered type that supplies tables or a torch formula), normalised and
  normalization-free attention, TMX heads (Def. C.5), FFN precision (ties to even), the
  readout FFN without residual, and both past semantics.  For ``past="padded"`` the
  infinite padded past is one extra key position in front of the window (index 0 inside
  the module) whose log-weight for the query at window time ``t`` is the closed-form tail
  ``log sum_{s >= t+1} e^{p phi(s)}``: ``-p(t+1) - log(1 - e^{-p})`` (lin), ``log
  zeta(p, t+1)`` with ``torch.special.zeta`` (log; the Hurwitz zeta function, the same
  Cephes algorithm as ``scipy.special.zeta``), a suffix ``logcumsumexp`` over ``K`` lags
  past the window (quadratic; ``K`` fixed at export so the rest is below ``2^-64`` of each
  tail) and a suffix log-sum-exp table precomputed at export (T5 masked beyond its
  distance, table RPE).  The RPE type supplies these (``RPEType.torch_phi``,
  ``torch_log_tail``, ``export_tables``), so the export never switches on it.  The pad
  position's own state is updated by the same layers (it attends to the padded past
  only), as in the reference.  The tails are part of the module, computed for whatever window length is
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

Modules: :mod:`tfapprox.export_common` (formats, RPE log-weights, config),
:mod:`tfapprox.export_torch` (the torch module and ``.pt2`` files) and
:mod:`tfapprox.export_lens` (TransformerLens); this module is the public face.
:func:`load_snippet` returns these lines for ``tfapprox export`` to print.
"""

from __future__ import annotations

from pathlib import Path

from .export_common import (
    FLOAT32_DIGITS,
    FLOAT64_DIGITS,
    LENS_FORMAT,
    TORCH_FORMAT,
    UnsupportedExport,
    export_config,
    rpe_log_bias,
    rpe_tables,
)
from .export_lens import load_lens, save_lens, to_transformer_lens
from .export_torch import load_torch, save_torch, to_torch

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
    "rpe_log_bias",
    "rpe_tables",
    "TORCH_FORMAT",
    "LENS_FORMAT",
    "FLOAT64_DIGITS",
    "FLOAT32_DIGITS",
]


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
