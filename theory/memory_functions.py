"""Memory functions ``g_i`` of the adaptive class H^Adap_{(K,M)} (paper eqs. (7')-(10), Sec. 4.1).

The adaptive target finds its memories by

    t_1 = g_1(x_t),  t_i = g_i(x_t, x_{t-t_1}, ..., x_{t-t_{min(i-1, K)}}),   1 <= g_i <= T_i   (8), (10)

A memory function reads the tokens it is given (all eq. (8) allows, or the subset named by
``reads``) and returns a positive integer lag.  Thm 4.1 / 4.4 bound the approximation error
through ``||g_i||_B`` (Barron norm) and ``||g_i||_Lip``, reported here when known:

* :class:`TableMemoryFunction`: a complete table on a finite alphabet of token values (the
  paper's Sec. 4.1 examples, Prop. 4.2's witness); exact Lipschitz constant;
* :class:`ReluMemoryFunction`: a ReLU net rounded to the nearest integer, the "FFN with
  precision" of eq. (15); norms of the unrounded net;
* :class:`CallableMemoryFunction`: user code with *declared* norms (cannot be written to JSON).

``to_dict`` writes tables and ReLU nets exactly; :func:`memory_function_from_dict`
(:mod:`tfapprox.theory.target_json`) reads them back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy

from .messages import short_repr
from .numbers import rational_from_str, rational_to_str
from .rationals import exact_rational, to_float
from .readouts import ReluSumReadout, readout_from_dict
from .target_json import check_fields, json_int_list, memory_function_from_dict, register_memory_function_kind
from .validation import require_int

__all__ = [
    "MemoryFunction",
    "TableMemoryFunction",
    "ReluMemoryFunction",
    "CallableMemoryFunction",
    "MemoryFunctionRowError",
    "memory_function_from_dict",
]


class MemoryFunctionRowError(ValueError):
    """A memory function failed on one row of its input (the target names the time).

    Parameters
    ----------
    row : int
        Index of the failing row of the input of :meth:`MemoryFunction.row_values`.
    message : str
        What went wrong on that row.
    """

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _reads(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"reads must be None or a sequence of token indices, got {short_repr(value)}")
    out = tuple(require_int(f"reads[{i}]", v, minimum=0) for i, v in enumerate(value))
    if not out:
        raise ValueError("reads must name at least one token (0 = x_t, j = x_{t-t_j}), got an empty sequence")
    if len(set(out)) != len(out):
        raise ValueError(f"reads must not repeat a token index, got {out}")
    return out


class MemoryFunction(ABC):
    """A memory function ``g_i`` of eq. (8): tokens in, a positive integer lag out.

    ``g_i`` sees the concatenation of the tokens it reads: by default all tokens eq. (8)
    allows (``x_t, x_{t-t_1}, ..., x_{t-t_{i-1}}`` for ``i <= K``, up to ``x_{t-t_K}`` for
    ``i > K``); ``reads`` (indices, 0 = ``x_t``, ``j`` = ``x_{t-t_j}``) selects a subset
    in a given order.  ``n_in`` is the number of reals read (``None``: not fixed).
    ``barron_norm``/``lipschitz`` are upper bounds when known, else ``None``.
    """

    kind: str = ""
    norms_are_declared: bool = False
    reads: tuple[int, ...] | None

    @property
    def n_in(self) -> int | None:
        """Number of scalar inputs (None if unknown)."""
        return None

    barron_norm: Any = None
    lipschitz: Any = None

    @abstractmethod
    def row_values(self, Z: np.ndarray) -> np.ndarray:
        """Integer values on the rows of ``Z`` (shape ``(P, n)``, float64), as an int64 array of shape ``(P,)``.

        Raises :class:`MemoryFunctionRowError` naming the first bad row, so that the target
        can name the time (:meth:`tfapprox.theory.target_classes.AdaptiveMemoryTarget.evaluate`).
        """

    def evaluate(self, z: Any) -> Any:
        """``g`` on ``z`` of shape ``(..., n)``: integers of shape ``(...)`` (an ``int`` for one point)."""
        arr = np.asarray(z, dtype=float)
        if arr.ndim == 0:
            raise ValueError(f"z must have at least one axis, got shape {arr.shape}")
        if self.n_in is not None and arr.shape[-1] != self.n_in:
            raise ValueError(f"z must have last axis of size {self.n_in}, got shape {arr.shape}")
        out = self.row_values(arr.reshape(-1, arr.shape[-1])).reshape(arr.shape[:-1])
        return int(out) if arr.ndim == 1 else out

    @abstractmethod
    def to_dict(self) -> dict:
        """The JSON description of the memory function (``kind`` and exact parameters)."""


def _token(name: str, value: Any, d: int | None) -> tuple:
    """A token as a tuple of exact rationals (length d)."""
    if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
        tok = (exact_rational(name, value),)
    else:
        if np.ndim(value) != 1:
            raise ValueError(f"{name} must be a number or a flat sequence of numbers, got {short_repr(value)}")
        tok = tuple(exact_rational(f"{name}[{j}]", v) for j, v in enumerate(value))
    if d is not None and len(tok) != d:
        raise ValueError(f"{name} must be a token of dimension {d}, got {short_repr(value)}")
    if not tok:
        raise ValueError(f"{name} must not be empty")
    return tok


@dataclass(frozen=True, init=False)
class TableMemoryFunction(MemoryFunction):
    """``g`` given by a finite table on a finite alphabet of token values.

    Parameters
    ----------
    alphabet : sequence of tokens
        Distinct token values: numbers (``d = 1``) or sequences of ``d`` numbers.
    table : mapping
        Key: the tuple of tokens read (a bare number is accepted for one scalar
        token); value: an integer ``>= 0`` (the target checks ``1 <= g <= T_i``).  The
        table must be **complete**: every tuple in ``alphabet^k`` appears exactly once.
    reads : sequence of int, optional
        Which tokens ``g`` reads (see :class:`MemoryFunction`); ``k = len(reads)``.

    Notes
    -----
    A token outside the alphabet at evaluation raises ``ValueError`` naming the token
    (remember the padding token / absent zero token is read at early times).

    ``lipschitz`` is exact: ``max |g(a) - g(b)| / ||a - b||_2`` over distinct keys, the
    Lipschitz constant on ``alphabet^k`` (McShane's extension keeps it on ``R^{kd}``).
    ``barron_norm`` is ``None`` (not computed).

    Examples
    --------
    >>> g = TableMemoryFunction(alphabet=(-1, 1), table={1: 1, -1: 2})
    >>> g.evaluate([[1.0], [-1.0]]).tolist(), g.lipschitz
    ([1, 2], 1/2)
    """

    alphabet: tuple
    entries: tuple
    reads: tuple[int, ...] | None = None
    token_dim: int = field(init=False, compare=False)
    arity: int = field(init=False, compare=False)
    _alphabet_f: np.ndarray = field(init=False, repr=False, compare=False)
    _lookup: np.ndarray = field(init=False, repr=False, compare=False)

    kind = "table"

    def __init__(self, alphabet: Sequence[Any], table: Mapping[Any, Any], reads: Sequence[int] | None = None) -> None:
        if isinstance(alphabet, (str, bytes)) or not isinstance(alphabet, (list, tuple)) or not alphabet:
            raise ValueError(f"alphabet must be a non-empty sequence of token values, got {short_repr(alphabet)}")
        toks = [_token(f"alphabet[{i}]", a, None) for i, a in enumerate(alphabet)]
        d = len(toks[0])
        if any(len(t) != d for t in toks):
            raise ValueError(f"alphabet tokens must all have the same dimension, got {short_repr(alphabet)}")
        if len(set(toks)) != len(toks):
            raise ValueError(f"alphabet must not repeat a token, got {short_repr(alphabet)}")
        index = {t: i for i, t in enumerate(toks)}
        if not isinstance(table, Mapping) or not table:
            raise TypeError(f"table must be a non-empty mapping from token tuples to integers, got {short_repr(table)}")
        A = len(toks)
        arity = None
        codes: dict[int, int] = {}
        for key, value in table.items():
            key_t = self._key(key, d)
            if arity is None:
                arity = len(key_t)
            elif len(key_t) != arity:
                raise ValueError(f"table keys must all read the same number of tokens; key {short_repr(key)} "
                                 f"reads {len(key_t)}, others {arity}")
            code = 0
            for j, raw in enumerate(key_t):
                tok = _token(f"table key {short_repr(key)} token {j}", raw, d)
                if tok not in index:
                    raise ValueError(f"table key {short_repr(key)}: token {short_repr(raw)} is not in the alphabet "
                                     f"{short_repr(alphabet)}")
                code = code * A + index[tok]
            if code in codes:
                raise ValueError(f"table key {short_repr(key)} appears twice (after exact conversion)")
            codes[code] = require_int(f"table[{short_repr(key)}]", value, minimum=0)
        if len(codes) != A ** arity:
            raise ValueError(f"table must be complete: alphabet^{arity} has {A ** arity} keys, the table has "
                             f"{len(codes)}")
        r = _reads(reads)
        if r is not None and len(r) != arity:
            raise ValueError(f"reads names {len(r)} tokens but the table keys read {arity}")
        entries = []
        for code in range(A ** arity):
            digits, c = [], code
            for _ in range(arity):
                digits.append(c % A)
                c //= A
            entries.append((tuple(toks[i] for i in reversed(digits)), codes[code]))
        object.__setattr__(self, "alphabet", tuple(toks))
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "reads", r)
        object.__setattr__(self, "token_dim", d)
        object.__setattr__(self, "arity", arity)
        af = np.array([[to_float(v) for v in t] for t in toks], dtype=float)
        af.setflags(write=False)
        object.__setattr__(self, "_alphabet_f", af)
        lookup = np.array([v for _, v in entries], dtype=np.int64)
        lookup.setflags(write=False)
        object.__setattr__(self, "_lookup", lookup)

    @staticmethod
    def _key(key: Any, d: int) -> tuple:
        if d == 1:
            if isinstance(key, tuple):
                return key
            return (key,)
        # d > 1: a tuple of d scalars is one token; a tuple of tuples is several tokens
        if isinstance(key, tuple) and key and all(np.ndim(k) == 0 and not isinstance(k, tuple) for k in key):
            return (key,)
        if isinstance(key, tuple):
            return key
        raise TypeError(f"table key {short_repr(key)} must be a tuple of tokens")

    @property
    def n_in(self) -> int:
        return self.arity * self.token_dim

    @property
    def table(self) -> dict:
        """The table as a dict keyed by tuples of tokens (scalars for ``d = 1``)."""
        unwrap = (lambda t: t[0]) if self.token_dim == 1 else (lambda t: t)
        return {tuple(unwrap(t) for t in key): v for key, v in self.entries}

    @property
    def values_range(self) -> tuple[int, int]:
        """``(min, max)`` of the table's values."""
        return int(self._lookup.min()), int(self._lookup.max())

    def row_values(self, Z: np.ndarray) -> np.ndarray:
        P = Z.shape[0]
        k, d, A = self.arity, self.token_dim, len(self.alphabet)
        if Z.shape[1] != k * d:
            raise ValueError(f"a table memory function reads {k} tokens of dimension {d}, got {Z.shape[1]} numbers")
        toks = Z.reshape(P, k, d)
        code = np.zeros(P, dtype=np.int64)
        for j in range(k):
            eq = np.all(toks[:, j, None, :] == self._alphabet_f[None, :, :], axis=-1)  # (P, A)
            found = eq.any(axis=1)
            if not found.all():
                row = int(np.argmin(found))
                bad = toks[row, j].tolist()
                raise MemoryFunctionRowError(row, f"token {bad[0] if d == 1 else bad} (argument {j}) is not in the alphabet "
                                     f"{self._alphabet_f.reshape(-1).tolist() if d == 1 else self._alphabet_f.tolist()}"
                                     f"; under past='padded' the pad token and under past='none' the zero "
                                     f"vector is read before the window")
            code = code * A + np.argmax(eq, axis=1)
        return self._lookup[code]

    @cached_property
    def lipschitz(self) -> sympy.Expr:  # type: ignore[override]
        """Exact Lipschitz constant over the table (largest slope between two entries)."""
        keys = np.array([[to_float(v) for t in key for v in t] for key, _ in self.entries], dtype=float)
        vals = self._lookup.astype(float)
        n = len(keys)
        if n < 2:
            return sympy.Integer(0)
        best, cands = 0.0, []
        for i0 in range(0, n, 256):
            blk = keys[i0:i0 + 256]
            dist2 = np.sum((blk[:, None, :] - keys[None, :, :]) ** 2, axis=-1)
            dv2 = (vals[i0:i0 + 256, None] - vals[None, :]) ** 2
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(dist2 > 0, dv2 / np.where(dist2 > 0, dist2, 1.0), 0.0)
            m = float(ratio.max())
            if m > best * (1 + 1e-9):
                cands = [c for c in cands if c[2] >= m * (1 - 1e-9)]
            best = max(best, m)
            ii, jj = np.nonzero(ratio >= best * (1 - 1e-9)) if best > 0 else (np.array([], int), np.array([], int))
            cands += [(i0 + int(a), int(b), float(ratio[a, b])) for a, b in zip(ii, jj)]
        if best == 0:
            return sympy.Integer(0)
        exact_best = sympy.Integer(0)
        for a, b, r in cands:
            if r < best * (1 - 1e-9):
                continue
            ka = [v for t in self.entries[a][0] for v in t]
            kb = [v for t in self.entries[b][0] for v in t]
            q = sympy.Rational(self.entries[a][1] - self.entries[b][1]) ** 2 / sum((x - y) ** 2 for x, y in zip(ka, kb))
            exact_best = max(exact_best, q)
        return sympy.sqrt(exact_best)

    def to_dict(self) -> dict:
        def tok(t: tuple) -> Any:
            return rational_to_str(t[0]) if self.token_dim == 1 else [rational_to_str(v) for v in t]
        return {"kind": self.kind, "alphabet": [tok(t) for t in self.alphabet],
                "entries": [[[tok(t) for t in key], v] for key, v in self.entries],
                "reads": None if self.reads is None else list(self.reads)}


@dataclass(frozen=True)
class ReluMemoryFunction(MemoryFunction):
    """``g(z) = [f(z)]``: a ReLU net rounded to the nearest integer (``numpy.rint``: ties go
    to the even integer), the "FFN with precision" of eq. (15) in the lin case.

    ``barron_norm`` and ``lipschitz`` are those of the **unrounded** net ``f`` (the
    quantities Thm 4.1/4.4 use as ``||g_i||_B`` and ``||g_i||_Lip``; the rounded function
    itself is not continuous).

    Examples
    --------
    >>> from tfapprox.theory.readouts import ReluSumReadout
    >>> g = ReluMemoryFunction(ReluSumReadout([1], [[2]], [1.5]))
    >>> g.evaluate([[0.0], [0.5], [1.0]]).tolist()
    [2, 2, 4]
    """

    readout: ReluSumReadout
    reads: tuple[int, ...] | None = None

    kind = "relu"

    def __post_init__(self) -> None:
        if not isinstance(self.readout, ReluSumReadout):
            raise TypeError(f"readout must be a ReluSumReadout, got {type(self.readout).__name__}")
        object.__setattr__(self, "reads", _reads(self.reads))

    @property
    def n_in(self) -> int:
        return self.readout.n_in

    @property
    def barron_norm(self) -> sympy.Expr:  # type: ignore[override]
        """The readout's Barron norm."""
        return self.readout.barron_norm

    @property
    def lipschitz(self) -> sympy.Expr:  # type: ignore[override]
        """The readout's Lipschitz constant."""
        return self.readout.lipschitz

    def row_values(self, Z: np.ndarray) -> np.ndarray:
        v = np.asarray(self.readout.evaluate(Z), dtype=float).reshape(-1)
        return np.clip(np.rint(v), -2.0 ** 62, 2.0 ** 62).astype(np.int64)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "readout": self.readout.to_dict(),
                "reads": None if self.reads is None else list(self.reads)}


@dataclass(frozen=True, eq=False)
class CallableMemoryFunction(MemoryFunction):
    """A user memory function with optional **declared** norms (``norms_are_declared = True``).

    ``fn`` receives a float64 array of shape ``(P, n)`` (``vectorized=True``) or one
    point of shape ``(n,)`` at a time, and must return integer values (``2.0`` is
    accepted, ``2.5`` raises ``ValueError``).  ``n_in`` optionally fixes ``n``.
    Cannot be written to JSON.
    """

    fn: Callable[[np.ndarray], Any]
    lipschitz: Any = None
    barron_norm: Any = None
    reads: tuple[int, ...] | None = None
    num_inputs: int | None = None
    vectorized: bool = True

    kind = "callable"
    norms_are_declared = True

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"fn must be callable, got {short_repr(self.fn)}")
        for name in ("lipschitz", "barron_norm"):
            v = getattr(self, name)
            if v is not None:
                q = exact_rational(name, v)
                if not q > 0:
                    raise ValueError(f"{name} must be a positive finite number or None, got {short_repr(v)}")
                object.__setattr__(self, name, q)
        object.__setattr__(self, "reads", _reads(self.reads))
        if self.num_inputs is not None:
            object.__setattr__(self, "num_inputs", require_int("n_in", self.num_inputs, minimum=1))
        if not isinstance(self.vectorized, bool):
            raise TypeError(f"vectorized must be True or False, got {short_repr(self.vectorized)}")

    @property
    def n_in(self) -> int | None:
        return self.num_inputs

    def row_values(self, Z: np.ndarray) -> np.ndarray:
        if self.vectorized:
            out = np.asarray(self.fn(Z.copy()), dtype=float)
        else:
            out = np.array([float(self.fn(row.copy())) for row in Z], dtype=float)
        if out.shape != (Z.shape[0],):
            raise ValueError(f"fn returned shape {out.shape} for {Z.shape[0]} points; expected ({Z.shape[0]},)")
        bad = ~np.isfinite(out) | (out != np.rint(out))
        if bad.any():
            row = int(np.argmax(bad))
            raise MemoryFunctionRowError(row, f"value {out[row]!r} is not an integer lag")
        return np.clip(out, -2.0 ** 62, 2.0 ** 62).astype(np.int64)

    def to_dict(self) -> dict:
        raise TypeError("a CallableMemoryFunction holds Python code and cannot be written to JSON; "
                        "use TableMemoryFunction or ReluMemoryFunction to record a target")



# ---------------------------------------------------------------------------
# JSON readers (registered with tfapprox.theory.target_json)
# ---------------------------------------------------------------------------

def _table_from_dict(data: Mapping[str, Any]) -> TableMemoryFunction:
    check_fields(data, {"kind", "alphabet", "entries", "reads"}, "table memory function")
    alphabet, entries = data["alphabet"], data["entries"]
    if not isinstance(alphabet, list) or not isinstance(entries, list):
        raise TypeError("table memory function: alphabet and entries must be lists")

    def tok(name: str, t: Any) -> Any:
        if isinstance(t, list):
            return tuple(rational_from_str(f"{name}[{j}]", v) for j, v in enumerate(t))
        return rational_from_str(name, t)

    table = {}
    for i, e in enumerate(entries):
        if not (isinstance(e, list) and len(e) == 2 and isinstance(e[0], list)):
            raise ValueError(f"entries[{i}] must be [[token, ...], value], got {short_repr(e)}")
        key = tuple(tok(f"entries[{i}][0][{j}]", t) for j, t in enumerate(e[0]))
        if key in table:
            raise ValueError(f"entries[{i}] repeats the key {short_repr(e[0])}")
        table[key] = require_int(f"entries[{i}] value", e[1], minimum=0)
    reads = data["reads"]
    return TableMemoryFunction([tok(f"alphabet[{i}]", a) for i, a in enumerate(alphabet)], table,
                               None if reads is None else json_int_list("reads", reads))


def _relu_from_dict(data: Mapping[str, Any]) -> ReluMemoryFunction:
    check_fields(data, {"kind", "readout", "reads"}, "relu memory function")
    readout = readout_from_dict(data["readout"])
    reads = data["reads"]
    return ReluMemoryFunction(readout, None if reads is None else tuple(json_int_list("reads", reads)))


register_memory_function_kind("table", _table_from_dict)
register_memory_function_kind("relu", _relu_from_dict)
