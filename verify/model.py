"""``Model``: an exact :class:`~tfapprox.theory.architecture.TransformerSpec` that runs.

``Model.run(X, backend="float64" | "mpmath" | "sympy", dps=...)`` evaluates the
Transformer of eqs. (2)-(4) on windows ``X`` with the model's past semantics (or an
explicit override).  mpmath runs at the model's :attr:`Model.required_digits` unless a
larger ``dps`` is given; a smaller one raises :class:`PrecisionError`.  float64 results
come with a rounding-error estimate; if the weights cancel so badly that float64 would
return a meaningless number, ``run`` raises :class:`PrecisionError` stating the digits
needed, instead of returning it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from tfapprox.theory.display import spec_summary, summary_html
from tfapprox.theory.architecture import TransformerSpec
from tfapprox.theory.digits import declared_digits, required_digits
from tfapprox.theory.sequences import check_past
from tfapprox.theory.limits import MAX_DPS, MIN_DPS
from tfapprox.theory.validation import require_int, require_real

from .forward import ForwardResult, LoweredModel, forward, lower_model
from .lowering import PrecisionError, get_backend
from .model_file import load_spec, save_spec

__all__ = ["Model", "PrecisionError"]


class Model:
    """A runnable Transformer.  Build it from a spec, a construction, or a model file.

    Parameters
    ----------
    spec
        The exact weights and the past semantics (``spec.past``).
    """

    def __init__(self, spec: TransformerSpec) -> None:
        if not isinstance(spec, TransformerSpec):
            raise TypeError(f"spec must be a TransformerSpec, got {type(spec).__name__}")
        self._spec = spec
        self._lowered: dict[tuple[str, int | None], LoweredModel] = {}
        self._required_digits: int | None = None

    @property
    def spec(self) -> TransformerSpec:
        """The exact :class:`~tfapprox.theory.architecture.TransformerSpec` this model runs."""
        return self._spec

    @property
    def past(self) -> str:
        """The past semantics of the spec (``"padded"`` or ``"none"``)."""
        return self._spec.past

    @property
    def metadata(self) -> Any:
        """The construction's metadata (e.g. ``precision_digits``), as stored in the spec."""
        return self._spec.metadata

    def __repr__(self) -> str:
        s = self._spec
        return (f"Model(L={s.num_layers}, heads={s.num_heads}, D={s.width}, d={s.input_dim}, "
                f"past={s.past!r}, construction={s.metadata.get('construction', 'user')!r})")

    def _repr_html_(self) -> str:
        """Jupyter display: layers, heads, widths, past semantics, provenance and digits needed."""
        return summary_html("Model", spec_summary(self._spec),
                            "run: .run(X, backend=...); weights: .spec; provenance: .metadata")

    @property
    def required_digits(self) -> int:
        """Decimal digits the weights need (:mod:`tfapprox.theory.digits`): the larger of
        ``metadata["precision_digits"]`` and the digits computed from the weights, so that a
        file whose metadata understates them cannot make an mpmath run silently wrong."""
        if self._required_digits is None:
            computed = required_digits(self._spec)
            declared = declared_digits(self._spec)
            self._required_digits = max(computed, declared or 0)
        return self._required_digits

    def resolve_dps(self, backend: str, dps: int | None) -> int | None:
        """The working precision a run uses: for ``backend="mpmath"``, ``dps=None`` means
        :attr:`required_digits`; an explicit ``dps`` below it raises :class:`PrecisionError`
        naming both numbers.  Other backends: ``dps`` unchanged (validated by the backend)."""
        if backend != "mpmath":
            return dps
        need = self.required_digits
        if dps is None:
            return need
        dps = require_int("dps", dps, minimum=MIN_DPS, maximum=MAX_DPS)
        if dps < need:
            raise PrecisionError(f"dps={int(dps)} is below the {need} decimal digits this model's weights need "
                                 f"(metadata precision_digits and the weights' magnitudes; "
                                 f"see tfapprox.theory.digits); use dps >= {need}, or leave dps unset")
        return int(dps)

    def lowered(self, backend: str = "float64", dps: int | None = None) -> LoweredModel:
        """The weights lowered for ``backend`` (cached per backend and precision).

        With ``backend="mpmath"``, ``dps=None`` lowers at :attr:`required_digits` and a
        smaller ``dps`` raises :class:`PrecisionError`.
        """
        be = get_backend(backend, self.resolve_dps(backend, dps))
        key = (be.name, be.dps)
        if key not in self._lowered:
            self._lowered[key] = lower_model(self._spec, be, required_digits=self.required_digits)
        return self._lowered[key]

    def forward(self, X: Any, *, backend: str = "float64", dps: int | None = None,
                past: str | None = None, pad: Any = None, keep_hidden: bool = False,
                positions: Any = None) -> ForwardResult:
        """Full forward pass: outputs, hidden states, and the float64 error estimate."""
        past = self._spec.past if past is None else check_past(past)
        if past == "padded" and self._spec.past == "none":
            # validate summability for the padded semantics explicitly
            TransformerSpec(self._spec.embedding, self._spec.embedding_bias, self._spec.blocks,
                            "padded", {})
        return forward(self._spec, X, self.lowered(backend, dps), past=past, pad=pad,
                       keep_hidden=keep_hidden, positions=positions)

    def run(self, X: Any, *, backend: str = "float64", dps: int | None = None, past: str | None = None,
            pad: Any = None, float64_tol: float = 1e-8, positions: Any = None) -> np.ndarray:
        """Outputs at every time of the window: shape ``(batch, N, c)`` (``(N, c)`` for one window).

        Parameters
        ----------
        X
            Window(s) of tokens: ``(N,)`` if d = 1, ``(N, d)`` or ``(batch, N, d)``.
        backend
            ``"float64"`` (numpy), ``"mpmath"`` (object array of mpf at ``dps`` digits) or
            ``"sympy"`` (exact expressions; small models only).
        dps
            mpmath working precision.  ``None`` (default): the model's
            :attr:`required_digits`; a smaller value raises :class:`PrecisionError` stating
            the digits needed (never a silently wrong number).
        past, pad
            Sequence semantics (default: the model's own ``spec.past``) and the padding
            token for ``"padded"`` (default zero).
        positions
            Optional increasing window indices: return outputs at these times only
            (cheaper for long windows; the last layer's queries are restricted).
        float64_tol
            Largest acceptable estimated float64 rounding error; beyond it
            :class:`PrecisionError` is raised with the digits needed.
        """
        require_real("float64_tol", float64_tol, minimum=0.0, strict_minimum=True)
        result = self.forward(X, backend=backend, dps=dps, past=past, pad=pad, positions=positions)
        if backend == "float64":
            if not (np.all(np.isfinite(result.outputs)) and math.isfinite(result.error_estimate)):
                raise PrecisionError(
                    "float64 overflow: the model's output or an intermediate value exceeds the float64 "
                    "range (normalization-free attention can grow like exp(logit)); use backend='mpmath'")
            if not result.error_estimate <= float64_tol:
                digits = max(self.digits_needed(float64_tol, error_estimate=result.error_estimate),
                             self.required_digits)
                raise PrecisionError(
                    f"float64 cannot evaluate this model: the weights cancel, estimated rounding "
                    f"error {result.error_estimate:.3g} > float64_tol {float64_tol:.3g}; use "
                    f"backend='mpmath' with dps >= {digits}")
            if result.rounding_margin <= 2 * result.error_estimate:
                raise PrecisionError(
                    "float64 cannot evaluate this model: an FFN precision (rounding) input lies within "
                    f"{result.rounding_margin:.3g} of a rounding boundary, below twice the estimated "
                    f"error {result.error_estimate:.3g}; use backend='mpmath'")
        out = result.outputs
        if np.ndim(X) < 3 and not (np.ndim(X) == 1 and self._spec.input_dim != 1):
            out = out[0]
        return out

    def digits_needed(self, error: float = 1e-10, *, error_estimate: float | None = None) -> int:
        """Decimal digits for outputs accurate to ``error``: the float64 amplification of the
        weights (``error_estimate / eps``) in digits, plus ``-log10(error)``, plus 5 guard."""
        require_real("error", error, minimum=0.0, strict_minimum=True)
        if error_estimate is None:
            probe = np.zeros((1, 1, self._spec.input_dim))
            error_estimate = self.forward(probe, backend="float64").error_estimate
        amp = max(error_estimate / np.finfo(float).eps, 1.0)
        return int(math.ceil(math.log10(amp) - math.log10(error))) + 5

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> None:
        """Write the model file ``tfapprox.transformer/1`` atomically (docs/model-format.md)."""
        save_spec(self._spec, path)

    @classmethod
    def load(cls, path: str | Path) -> "Model":
        """Read and validate a model file (never evaluates code)."""
        return cls(load_spec(path))
