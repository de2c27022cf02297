"""lin-RPE (paper eq. (4)): ``phi_lin(s) = -s`` (ALiBi-type), lag weight ``e^{-p s}``.

The padded-past tail is the geometric series ``sum_{s >= a} e^{-p s} = e^{-p a} / (1 - e^{-p})``,
finite for ``p > 0`` (Differences from the paper, D17).  TMX heads (Def. C.5) use
``phi_lin(z) = -z`` for real ``z >= 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from .base import RPEType, register_rpe

__all__ = ["LinRPE"]


@register_rpe
@dataclass(frozen=True)
class LinRPE(RPEType):
    """``phi_lin(s) = -s`` for ``s >= 0`` (paper eq. (4)); weight ``e^{-p s}``."""

    type_name = "lin"
    summability = "p > 0 (geometric series sum_s e^{-p s})"
    export_kind = "lin"
    tmx_min = 0

    def phi(self, s: np.ndarray) -> np.ndarray:
        """float64 values of ``phi`` at integer lags ``s >= 0``."""
        return -np.asarray(s, dtype=float)

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi_lin(s) = -s`` exactly (eq. (4))."""
        return -sympy.Integer(s)

    def weight_mp(self, p: Any, s: int) -> mpmath.mpf:
        """``e^{-p s}`` at the current mpmath precision."""
        return mpmath.exp(-p * s)

    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s>=0} e^{-p s}`` converges: ``p > 0``."""
        return bool(p > 0)

    def support(self) -> None:
        """Infinite support (every lag has a positive weight)."""
        return None

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """``sum_{s >= start} e^{-p s} = e^{-p start} / (1 - e^{-p})``."""
        start = max(int(start), 0)
        return sympy.exp(-p * start) / (1 - sympy.exp(-p))

    def tail_mp(self, p: Any, start: int) -> mpmath.mpf:
        """The geometric tail at the current mpmath precision."""
        start = max(int(start), 0)
        return mpmath.exp(-p * start) / (1 - mpmath.exp(-p))

    def log_tail_float64(self, p: float, starts: np.ndarray) -> np.ndarray:
        """``-p max(a, 0) - log(1 - e^{-p})`` (``+inf`` unless ``p > 0``)."""
        a = np.asarray(starts, dtype=float)
        if not p > 0:
            return np.full(a.shape, math.inf)
        return -p * np.maximum(a, 0.0) - math.log(-math.expm1(-p))

    def tmx_neg_phi(self, z: Any, log: Any) -> Any:
        """``-phi_lin(z) = z``."""
        return z

    def export_tables(self, ps: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """Unused placeholders: the export evaluates lin natively (:meth:`torch_phi`)."""
        return np.zeros(1), np.zeros((len(ps), 1))

    def torch_phi(self, lag: Any, phi_table: Any) -> Any:
        """``-lag`` in the table's dtype."""
        return -lag.to(phi_table.dtype)

    def torch_log_tail(self, p: Any, starts: Any, logtail_table: Any) -> Any:
        """``-p a - log(1 - e^{-p})`` with ``expm1`` (H, len(starts))."""
        import torch

        return -p[:, None] * starts[None].to(p.dtype) - torch.log(-torch.expm1(-p))[:, None]
