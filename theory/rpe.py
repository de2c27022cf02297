"""Relative positional encodings (paper eq. (4), App. G.1).

An RPE gives the additive attention logit ``p * phi(s)`` at lag ``s = t - j >= 0``
(causal: lags ``s < 0`` are masked).  The un-normalised weight of lag ``s`` is therefore
``exp(p * phi(s))``:

* ``LinRPE``: ``phi_lin(s) = -s`` (ALiBi-type), weight ``e^{-p s}``;
* ``LogRPE``: ``phi_log(s) = -log s`` for ``s >= 1`` and ``-inf`` at ``s = 0``
  (KERPLE(log)-type), weight ``s^{-p}``; log-RPE heads never see the current token;
* ``T5RPE``: T5's bucketed encoding (App. G.1), ``phi(s) = -bucket(s)``;
* ``TableRPE``: a user-supplied ``phi`` given as a finite table, ``-inf`` beyond it.

Each class also states the tail sums ``sum_{s >= a} exp(p phi(s))`` that make attention
over an infinite padded past exact (Differences from the paper, D17): a geometric series for lin,
the Hurwitz zeta function for log, finite piecewise sums for T5 (masked beyond its
maximal distance) and tables.  Numeric evaluation of these sums lives in
``tfapprox.verify.tails``; here they are exact sympy expressions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import sympy

from .numbers import to_exact
from .validation import require_int, short_repr

__all__ = ["LinRPE", "LogRPE", "T5RPE", "TableRPE", "RPE", "rpe_from_dict", "to_exact"]


@dataclass(frozen=True)
class LinRPE:
    """``phi_lin(s) = -s`` for ``s >= 0`` (paper eq. (4)); weight ``e^{-p s}``."""

    kind = "lin"

    def phi(self, s: np.ndarray) -> np.ndarray:
        """float64 values of ``phi`` at integer lags ``s >= 0``."""
        return -np.asarray(s, dtype=float)

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi_lin(s) = -s`` exactly (eq. (4))."""
        return -sympy.Integer(s)

    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s>=0} e^{-p s}`` converges: ``p > 0``."""
        return bool(p > 0)

    summability = "p > 0 (geometric series sum_s e^{-p s})"

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """``sum_{s >= start} e^{-p s} = e^{-p start} / (1 - e^{-p})``."""
        start = max(int(start), 0)
        return sympy.exp(-p * start) / (1 - sympy.exp(-p))

    def to_dict(self) -> dict:
        """The JSON description ``{"type": "lin"}`` (model file format)."""
        return {"type": "lin"}


@dataclass(frozen=True)
class LogRPE:
    """``phi_log(s) = -log s`` for ``s >= 1``, ``-inf`` at ``s = 0`` (paper eq. (4)); weight ``s^{-p}``."""

    kind = "log"

    def phi(self, s: np.ndarray) -> np.ndarray:
        """``phi_log(s) = -log s`` for ``s >= 1`` and ``-inf`` at ``s = 0`` (eq. (4)), float64."""
        s = np.asarray(s, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(s >= 1, -np.log(np.maximum(s, 1.0)), -np.inf)

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi_log(s)`` exactly: ``-log s``, ``-oo`` at ``s = 0``."""
        return -sympy.log(sympy.Integer(s)) if s >= 1 else -sympy.oo

    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s>=1} s^{-p}`` converges: ``p > 1``."""
        return bool(p > 1)

    summability = "p > 1 (zeta series sum_{s>=1} s^{-p})"

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """``sum_{s >= max(start, 1)} s^{-p} = zeta(p, max(start, 1))`` (Hurwitz zeta)."""
        return sympy.zeta(p, max(int(start), 1))

    def to_dict(self) -> dict:
        """The JSON description ``{"type": "log"}`` (model file format)."""
        return {"type": "log"}


@dataclass(frozen=True)
class T5RPE:
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
    kind = "t5"

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

    summability = "mask_beyond=True (the last T5 bucket holds infinitely many lags)"

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """Exact ``sum_{s >= start} e^{-p bucket(s)}`` (needs ``mask_beyond``; else ValueError)."""
        if not self.mask_beyond:
            raise ValueError("T5RPE without mask_beyond has no finite tail sum over an infinite padded past")
        return sum((sympy.exp(-p * self.bucket(s)) for s in range(max(int(start), 0), self.max_distance)),
                   sympy.Integer(0))

    def to_dict(self) -> dict:
        """The JSON description (model file format)."""
        return {"type": "t5", "num_exact": self.num_exact, "max_distance": self.max_distance,
                "mask_beyond": self.mask_beyond}


@dataclass(frozen=True)
class TableRPE:
    """A user-supplied ``phi`` as a table ``phi(0), ..., phi(S-1)``; ``phi = -inf`` beyond.

    Entries are exact numbers (``to_exact``) or ``None`` for ``-inf`` (a masked lag).
    The finite support makes every tail sum finite, so the padded past is exact.
    """

    values: tuple
    kind = "table"

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__iter__"):
            raise TypeError(f"values must be a sequence of numbers or None, got {short_repr(self.values)}")
        vals = tuple(None if v is None else to_exact(f"values[{i}]", v) for i, v in enumerate(self.values))
        if not vals or all(v is None for v in vals):
            raise ValueError(f"values must hold at least one unmasked lag (a number, not None), got {short_repr(self.values)}")
        object.__setattr__(self, "values", vals)

    def phi(self, s: np.ndarray) -> np.ndarray:
        """Table lookup (float64), ``-inf`` outside the table or where the entry is ``None``."""
        s = np.asarray(s)
        table = np.array([-math.inf if v is None else float(v) for v in self.values] + [-math.inf])
        idx = np.where((s >= 0) & (s < len(self.values)), s, len(self.values)).astype(int)
        return table[idx]

    def phi_exact(self, s: int) -> sympy.Expr:
        """Table lookup (exact), ``-oo`` outside the table or where the entry is ``None``."""
        if 0 <= s < len(self.values) and self.values[s] is not None:
            return self.values[s]
        return -sympy.oo

    def summable(self, p: sympy.Expr) -> bool:
        """Always True: a table is finite."""
        return True

    summability = "always (finite table)"

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """Exact ``sum_{s >= start} e^{p phi(s)}`` over the table."""
        return sum((sympy.exp(p * v) for v in self.values[max(int(start), 0):] if v is not None),
                   sympy.Integer(0))

    def to_dict(self) -> dict:
        """The JSON description (model file format)."""
        return {"type": "table", "values": [None if v is None else _decimal(v) for v in self.values]}


RPE = Union[LinRPE, LogRPE, T5RPE, TableRPE]
"""Any relative positional encoding: lin, log (eq. (4)), T5's bucketed RPE (App. G.1) or a user table."""


def _decimal(value: sympy.Expr, dps: int = 40) -> str:
    if isinstance(value, (sympy.Integer,)):
        return str(int(value))
    return sympy.Float(value, dps).__str__() if not isinstance(value, sympy.Float) else str(value)


def rpe_from_dict(data: Any) -> RPE:
    """Inverse of ``to_dict`` for every RPE type; validates the fields."""
    if not isinstance(data, dict) or "type" not in data:
        raise ValueError(f"rpe must be an object with a 'type' field, got {short_repr(data)}")
    kind = data["type"]
    if kind == "lin":
        return LinRPE()
    if kind == "log":
        return LogRPE()
    if kind == "t5":
        return T5RPE(data.get("num_exact"), data.get("max_distance"), data.get("mask_beyond", False))
    if kind == "table":
        return TableRPE(tuple(data.get("values", ())))
    raise ValueError(f"rpe type must be one of 'lin', 'log', 't5', 'table'; got {short_repr(kind)}")


def rpe_from_name(name: str) -> RPE:
    """``"lin"`` or ``"log"`` to the RPE object (the paper's two types)."""
    if name == "lin":
        return LinRPE()
    if name == "log":
        return LogRPE()
    raise ValueError(f"rpe must be 'lin' or 'log', got {short_repr(name)}")
