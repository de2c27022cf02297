"""T5's bucketed RPE (App. G.1): ``phi(s) = -bucket(s)``.

``bucket(s) = s`` for ``s < B``, ``B + floor(B log(s/B) / log(D/B))`` for ``B <= s < D`` and
``2B - 1`` for ``s >= D``.  With ``mask_beyond=True`` lags ``s >= D`` are masked, so the
padded-past tail is a finite sum; without it the last bucket holds infinitely many equal
weights and the padded-past attention diverges (refused; Differences from the paper, D17).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..limits import MAX_T5_DISTANCE
from ..validation import require_int, short_repr
from .base import FieldReader, RPEType, register_rpe

__all__ = ["T5RPE"]


@register_rpe
@dataclass(frozen=True)
class T5RPE(RPEType):
    """T5's bucketed RPE (App. G.1): ``phi(s) = -bucket(s)`` with

    ``bucket(s) = s`` for ``s < B``, ``B + floor(B log(s/B) / log(D/B))`` for
    ``B <= s < D`` and ``2B - 1`` for ``s >= D``.

    With ``mask_beyond=True`` lags ``s >= D`` are masked (``phi = -inf``), so attention
    over an infinite padded past is a finite sum; without it the last bucket holds
    infinitely many equal weights and the padded-past attention diverges (refused).
    """

    num_exact: int
    max_distance: int
    mask_beyond: bool = False

    type_name = "t5"
    file_keys = ("type", "num_exact", "max_distance", "mask_beyond")
    summability = "mask_beyond=True (the last T5 bucket holds infinitely many lags)"

    def __post_init__(self) -> None:
        b = require_int("num_exact", self.num_exact, minimum=1)
        require_int("max_distance", self.max_distance, minimum=b + 1)
        if not isinstance(self.mask_beyond, bool):
            raise TypeError(f"mask_beyond must be a bool, got {short_repr(self.mask_beyond)}")

    def bucket(self, s: int) -> int:
        """The T5 bucket index of lag ``s >= 0`` (exact integer arithmetic via sympy floor)."""
        B, D = self.num_exact, self.max_distance
        if s < B:
            return int(s)
        if s >= D:
            return 2 * B - 1
        value = sympy.floor(B * sympy.log(sympy.Rational(s, B)) / sympy.log(sympy.Rational(D, B)))
        return min(B + int(value), 2 * B - 1)

    def phi(self, s: np.ndarray) -> np.ndarray:
        """``phi(s) = -bucket(s)`` (float64; ``-inf`` beyond ``max_distance`` when masked)."""
        s = np.asarray(s)
        flat = np.array([self._phi_float(int(v)) for v in s.reshape(-1)], dtype=float)
        return flat.reshape(s.shape)

    def _phi_float(self, s: int) -> float:
        if s < 0 or (self.mask_beyond and s >= self.max_distance):
            return -math.inf
        return -float(self.bucket(s))

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi(s) = -bucket(s)`` exactly (``-oo`` beyond ``max_distance`` when masked)."""
        if self.mask_beyond and s >= self.max_distance:
            return -sympy.oo
        return -sympy.Integer(self.bucket(s))

    def summable(self, p: sympy.Expr) -> bool:
        """Whether the padded-past tail is finite: only with ``mask_beyond``."""
        return self.mask_beyond

    def support(self) -> int | None:
        """``max_distance`` when masked beyond it; ``None`` (infinitely many equal weights) otherwise."""
        return self.max_distance if self.mask_beyond else None

    def to_dict(self) -> dict:
        """The JSON description (model file format)."""
        return {"type": "t5", "num_exact": int(self.num_exact), "max_distance": int(self.max_distance),
                "mask_beyond": bool(self.mask_beyond)}

    @classmethod
    def from_fields(cls, data: dict, path: str, reader: FieldReader) -> "T5RPE":
        """Integers ``1 <= num_exact < max_distance <= MAX_T5_DISTANCE`` and a boolean ``mask_beyond``."""
        b = reader.integer(data["num_exact"], f"{path}.num_exact", 1)
        reader.limit(f"{path}.num_exact", "num_exact", b, MAX_T5_DISTANCE, "MAX_T5_DISTANCE")
        dmax = reader.integer(data["max_distance"], f"{path}.max_distance", b + 1)
        reader.limit(f"{path}.max_distance", "max_distance", dmax, MAX_T5_DISTANCE, "MAX_T5_DISTANCE")
        mask = reader.boolean(data["mask_beyond"], f"{path}.mask_beyond")
        return reader.build(path, cls, b, dmax, mask)

    def export_tables(self, ps: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """``phi(0..D-1)`` and the value beyond (``-inf`` masked, else ``-(2B-1)``); log tails
        (``+inf`` without ``mask_beyond``: divergent, only usable with ``past="none"``)."""
        S = self.max_distance
        beyond = -math.inf if self.mask_beyond else -float(2 * self.num_exact - 1)
        phi = np.concatenate([self.phi(np.arange(S)), [beyond]])
        if not self.mask_beyond:
            return phi, np.full((len(ps), S + 1), math.inf)
        return phi, np.stack([self.log_tail_float64(p, np.arange(S + 1)) for p in ps])
