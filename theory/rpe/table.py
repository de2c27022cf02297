"""Table RPE: a user-supplied ``phi`` given as a finite table ``phi(0), ..., phi(S-1)``, ``-inf``
beyond it (or where an entry is ``None``).  The finite support makes every padded-past tail
a finite sum (Differences from the paper, D17).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from ..limits import MAX_TABLE_RPE_ENTRIES
from ..numbers import format_number, to_exact
from ..validation import short_repr
from .base import FieldReader, RPEType, register_rpe

__all__ = ["TableRPE"]


@register_rpe
@dataclass(frozen=True)
class TableRPE(RPEType):
    """A user-supplied ``phi`` as a table ``phi(0), ..., phi(S-1)``; ``phi = -inf`` beyond.

    Entries are exact numbers (``to_exact``) or ``None`` for ``-inf`` (a masked lag).
    The finite support makes every tail sum finite, so the padded past is exact.
    """

    values: tuple

    type_name = "table"
    file_keys = ("type", "values")
    summability = "always (finite table)"

    def __post_init__(self) -> None:
        if isinstance(self.values, (str, bytes)) or not hasattr(self.values, "__iter__"):
            raise TypeError(f"values must be a sequence of numbers or None, got {short_repr(self.values)}")
        vals = tuple(None if v is None else to_exact(f"values[{i}]", v) for i, v in enumerate(self.values))
        if not vals or all(v is None for v in vals):
            raise ValueError(f"values must hold at least one unmasked lag (a number, not None), got "
                             f"{short_repr(self.values)}")
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

    def support(self) -> int:
        """The table length."""
        return len(self.values)

    def to_dict(self) -> dict:
        """The JSON description: entries as model-file number strings (exact for rationals,
        :func:`~tfapprox.theory.numbers.format_number`), ``None`` for masked lags."""
        return {"type": "table", "values": [None if v is None else format_number(v, where=f"values[{i}]")
                                            for i, v in enumerate(self.values)]}

    def to_fields(self, number) -> dict:
        """The model-file object: each entry written by ``number`` (exact or lowered), ``null`` if masked."""
        return {"type": "table",
                "values": [None if v is None else number(f"values[{i}]", v) for i, v in enumerate(self.values)]}

    @classmethod
    def from_fields(cls, data: dict, path: str, reader: FieldReader) -> "TableRPE":
        """A non-empty array (at most MAX_TABLE_RPE_ENTRIES) of number strings or ``null``."""
        values = data["values"]
        if not isinstance(values, list):
            raise reader.fail(f"{path}.values", f"must be an array of number strings or null, got "
                                                f"{short_repr(values)}", TypeError)
        if not values:
            raise reader.fail(f"{path}.values", "must not be empty")
        reader.limit(f"{path}.values", "the number of table entries", len(values), MAX_TABLE_RPE_ENTRIES,
                     "MAX_TABLE_RPE_ENTRIES")
        table = tuple(None if v is None else reader.number(v, f"{path}.values[{i}]") for i, v in enumerate(values))
        return reader.build(path, cls, table)
