"""log-RPE (paper eq. (4)): ``phi_log(s) = -log s`` for ``s >= 1``, ``-inf`` at ``s = 0``
(KERPLE(log)-type), lag weight ``s^{-p}``; log-RPE heads never see the current token.

The padded-past tail is the Hurwitz zeta value ``sum_{s >= a} s^{-p} = zeta(p, max(a, 1))``,
finite for ``p > 1`` (Differences from the paper, D17).  TMX heads (Def. C.5) use
``phi_log(z) = -log z`` for real ``z >= 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import math

import mpmath
import numpy as np
import scipy.special
import sympy

from .base import RPEType, register_rpe

__all__ = ["LogRPE"]


@register_rpe
@dataclass(frozen=True)
class LogRPE(RPEType):
    """``phi_log(s) = -log s`` for ``s >= 1``, ``-inf`` at ``s = 0`` (paper eq. (4)); weight ``s^{-p}``."""

    type_name = "log"
    summability = "p > 1 (zeta series sum_{s>=1} s^{-p})"
    export_kind = "log"
    tmx_min = 1

    def phi(self, s: np.ndarray) -> np.ndarray:
        """``phi_log(s) = -log s`` for ``s >= 1`` and ``-inf`` at ``s = 0`` (eq. (4)), float64."""
        s = np.asarray(s, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(s >= 1, -np.log(np.maximum(s, 1.0)), -np.inf)

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi_log(s)`` exactly: ``-log s``, ``-oo`` at ``s = 0``."""
        return -sympy.log(sympy.Integer(s)) if s >= 1 else -sympy.oo

    def weight_exact(self, p: sympy.Expr, s: int) -> sympy.Expr:
        """``s^{-p}`` exactly, ``0`` at ``s = 0``."""
        return sympy.Integer(s) ** (-p) if s >= 1 else sympy.Integer(0)

    def weight_mp(self, p: Any, s: int) -> mpmath.mpf:
        """``s^{-p}`` at the current mpmath precision, ``0`` at ``s = 0``."""
        return mpmath.mpf(0) if s == 0 else mpmath.power(s, -p)

    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s>=1} s^{-p}`` converges: ``p > 1``."""
        return bool(p > 1)

    def support(self) -> None:
        """Infinite support."""
        return None

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """``sum_{s >= max(start, 1)} s^{-p} = zeta(p, max(start, 1))`` (Hurwitz zeta)."""
        return sympy.zeta(p, max(int(start), 1))

    def tail_mp(self, p: Any, start: int) -> mpmath.mpf:
        """``zeta(p, max(start, 1))`` at the current mpmath precision."""
        return mpmath.zeta(p, max(int(start), 1))

    def log_tail_float64(self, p: float, starts: np.ndarray) -> np.ndarray:
        """``log zeta(p, max(a, 1))`` (scipy; underflowing values in mpmath; ``+inf`` unless ``p > 1``)."""
        a = np.asarray(starts, dtype=float)
        if not p > 1:
            return np.full(a.shape, math.inf)
        q = np.maximum(a, 1.0)
        with np.errstate(divide="ignore", under="ignore"):
            z = scipy.special.zeta(p, q)
            out = np.log(z)
        bad = ~np.isfinite(out) | (z <= 0)
        if np.any(bad):  # underflow: evaluate those few in mpmath
            with mpmath.workdps(30):
                out[bad] = [float(mpmath.log(mpmath.zeta(p, int(v)))) for v in q[bad]]
        return out

    def tmx_neg_phi(self, z: Any, log: Any) -> Any:
        """``-phi_log(z) = log z``."""
        return log(z)

    def export_tables(self, ps: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """Unused placeholders: the export evaluates log natively (:meth:`torch_phi`)."""
        return np.zeros(1), np.zeros((len(ps), 1))

    def torch_phi(self, lag: Any, phi_table: Any) -> Any:
        """``-log lag`` for ``lag >= 1``, ``-inf`` at 0."""
        import torch

        lf = lag.to(phi_table.dtype)
        return torch.where(lag >= 1, -torch.log(lf.clamp(min=1.0)), torch.full_like(lf, -math.inf))

    def torch_log_tail(self, p: Any, starts: Any, logtail_table: Any) -> Any:
        """``log zeta(p, max(a, 1))`` with ``torch.special.zeta`` (Cephes, as scipy)."""
        import torch

        q = starts.clamp(min=1).to(p.dtype)
        n = starts.shape[0]
        return torch.log(torch.special.zeta(p[:, None].expand(-1, n), q[None].expand(p.shape[0], -1)))
