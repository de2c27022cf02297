"""The paper's three target classes as validated specs (eqs. (5)-(14), Secs. 3.1, 4.1, 5.1).

* :class:`FixedMemoryTarget`: H^Fix, fixed, long but M-sparse memories (Sec. 3.1)

      y_t = f(x_t, x_{t-T_1}, ..., x_{t-T_M}),   1 <= T_1 < ... < T_M      (5)-(6)

* :class:`AdaptiveMemoryTarget`: H^Adap_{(K,M)}, K-adaptive, long but M-sparse
  memories (Sec. 4.1), memory positions found by memory functions ``g_i``:

      t_1 = g_1(x_t),  t_i = g_i(x_t, x_{t-t_1}, ..., x_{t-t_{i-1}})  (i <= K),
      t_i = g_i(x_t, x_{t-t_1}, ..., x_{t-t_K})  (i > K),
      y_t = f(x_t, x_{t-t_1}, ..., x_{t-t_M}),   1 <= g_i <= T_i           (7')-(10)

* :class:`EssentiallySparseTarget`: H^Ess, essentially M-sparse memories (Sec. 5.1)

      y_t = f((X * rho_1)(t), ..., (X * rho_M)(t)),  (X * rho)(t) = sum_{s>=0} x_{t-s} rho(s)   (13)-(14)

Inputs and outputs
------------------
``X`` has shape ``(N,)`` (``d == 1``), ``(N, d)`` or ``(batch, N, d)``
(:func:`tfapprox.theory.sequences.as_window_batch`).  ``evaluate(X, past=..., pad=...)``
returns ``y_t`` at **every** time ``t = 0..N-1`` of the window: shape ``(batch, N)``, or
``(N,)`` when ``X`` had no batch axis.  ``past="padded"``: ``x_{t-s}`` for ``t - s < 0``
is the padding token ``pad`` (zero vector by default), a genuine two-sided sequence;
infinite sums over the padded past are summed in closed form.  ``past="none"``: absent
tokens count as the zero vector, so sums over the past stop at ``x_0`` (the paper's
experiments); ``pad`` must then be left unset.

Readout inputs are the tokens (or convolutions) concatenated in the order of the
formulas: blocks of ``d`` numbers, ``x_t`` first.

Conventions chosen here (documented in ``docs/targets.md``)
-----------------------------------------------------------
* **Warm-up indexing.**  ``nesting`` is the ``K`` of eq. (8).  The warm-up class of
  eq. (9), in which every ``g_i`` reads ``x_t`` only, is ``nesting = 0`` ("K = 0 in (8)"),
  which the paper nevertheless names H^Adap_{(1,M)} (Differences from the paper, D6);
  ``paper_class`` reports the paper's name.  This matches Thm 4.4's depth
  ``L = K + 1 + 1{M >= K+1}``, which is 2 at ``K = 0``, the two layers of Thm 4.1.
* **Zero lags.**  ``g_i`` values must lie in ``1..T_i`` (eq. (10)).  The paper's
  Prop. 4.2 witness has ``g(-1) = 0``, outside the class; it can be built only with
  ``allow_zero_lag=True`` (:func:`prop42_witness`).
* **Experiments** (App. H): windows of 1000 tokens in ``{+-1}``, output read at the last
  position ``t = 999`` (0-based), the paper's 1-based ``x_48, x_56, x_99`` being lags
  952, 944, 901 (an inference, not stated: Differences from the paper, D23).

Examples
--------
>>> from tfapprox.theory.readouts import ProductReadout
>>> H = FixedMemoryTarget(lags=(1, 3), readout=ProductReadout(3))
>>> (H.evaluate([1.0, -1.0, 1.0, 1.0, -1.0]) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
[0.0, 0.0, 0.0, 1.0, 1.0]
>>> H.evaluate([1.0, -1.0, 1.0, 1.0, -1.0], pad=[1.0]).tolist()
[1.0, -1.0, -1.0, 1.0, 1.0]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import scipy.linalg
import sympy

from .memory_kernels import MemoryKernel, ExponentialKernel, PolynomialKernel, kernel_from_dict
from .numbers import exact_rational, rational_from_str, rational_to_str
from .readouts import LinearReadout, ProductReadout, Readout, ReluSumReadout, _to_float, readout_from_dict
from .sequences import as_window_batch, check_pad, check_past
from .limits import MAX_LAG, MAX_MEMORIES, MAX_READOUT_NEURONS
from .validation import require_choice, require_int, require_int_list, require_sorted_distinct_lags, short_repr

__all__ = [
    "Target",
    "FixedMemoryTarget",
    "fixed_memory_target",
    "AdaptiveMemoryTarget",
    "EssentiallySparseTarget",
    "MemoryFunction",
    "TableMemoryFunction",
    "ReluMemoryFunction",
    "CallableMemoryFunction",
    "adaptive_sparse_boolean",
    "prop42_witness",
    "pointer_chasing",
    "PaperExperiment",
    "PAPER_EXPERIMENTS",
    "paper_experiment",
    "paper_experiment_target",
    "target_from_dict",
    "memory_function_from_dict",
    "TARGET_FORMAT",
]

#: The ``format`` tag of a target's JSON description.
TARGET_FORMAT = "tfapprox.target/1"


# ---------------------------------------------------------------------------
# shared helpers
# ---------------------------------------------------------------------------

def _prepare(X: Any, d: int, past: Any, pad: Any) -> tuple[np.ndarray, bool, str, np.ndarray]:
    """Window batch ``(B, N, d)``, whether a batch axis was added, past, and the fill token."""
    past = check_past(past)
    Xb, added = as_window_batch(X, d)
    if past == "none":
        if pad is not None:
            raise ValueError("pad applies only to past='padded'; with past='none' absent tokens are "
                             f"the zero vector, got pad={short_repr(pad)}")
        fill = np.zeros(d)
    else:
        fill = check_pad(pad, d)
    return Xb, added, past, fill


def _shift(Xb: np.ndarray, lag: int, fill: np.ndarray) -> np.ndarray:
    """``out[:, t] = X[:, t - lag]`` (``fill`` where ``t - lag < 0``)."""
    B, N, d = Xb.shape
    out = np.empty_like(Xb)
    k = min(lag, N)
    out[:, :k] = fill
    if k < N:
        out[:, k:] = Xb[:, : N - k]
    return out


def _finish(y: np.ndarray, added: bool) -> np.ndarray:
    return y[0] if added else y


def _check_readout(readout: Any, n_in: int, what: str) -> None:
    if not isinstance(readout, Readout):
        raise TypeError(f"readout must be a Readout (ReluSumReadout, LinearReadout, ProductReadout, "
                        f"CallableReadout), got {type(readout).__name__}")
    if readout.n_in != n_in:
        raise ValueError(f"readout.n_in must be {what} = {n_in}, got {readout.n_in}")


def _check_format(data: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(f"a target description must be a JSON object, got {short_repr(data)}")
    if data.get("format") != TARGET_FORMAT:
        raise ValueError(f"target format must be {TARGET_FORMAT!r}, got {short_repr(data.get('format'))}")
    if data.get("kind") != kind:
        raise ValueError(f"target kind must be {kind!r} here, got {short_repr(data.get('kind'))}")
    return data


def _check_fields(data: Mapping[str, Any], fields: set[str], what: str) -> None:
    if set(data) != fields:
        raise ValueError(f"a {what} needs exactly the fields {sorted(fields)}, got {sorted(data)}")


def _int_list(name: str, value: Any) -> list[int]:
    if not isinstance(value, list):
        raise TypeError(f"{name} must be a list of integers, got {short_repr(value)}")
    return [require_int(f"{name}[{i}]", v) for i, v in enumerate(value)]


class _RowError(ValueError):
    """A memory function failed on one row of its input (the target names the time)."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


# ---------------------------------------------------------------------------
# targets: base
# ---------------------------------------------------------------------------

class Target(ABC):
    """Common interface: ``evaluate``, ``d``, ``output_dim = 1``, ``kind``, ``to_dict``/``from_dict``."""

    kind: str = ""
    output_dim: int = 1
    d: int

    @abstractmethod
    def evaluate(self, X: Any, *, past: str = "padded", pad: Any = None) -> np.ndarray:
        """``y_t`` at every time of the window, shape ``(batch, N)`` or ``(N,)``."""

    @abstractmethod
    def to_dict(self) -> dict:
        """JSON-safe description (real numbers as exact strings; callables refused)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Target":
        """Rebuild a target of this class from :meth:`to_dict` output (no code is evaluated)."""
        target = target_from_dict(data)
        if cls is not Target and not isinstance(target, cls):
            raise ValueError(f"the description is a {target.kind!r} target, not a {cls.__name__}")
        return target


# ---------------------------------------------------------------------------
# H^Fix
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FixedMemoryTarget(Target):
    """H^Fix (eqs. (5)-(6)): ``y_t = f(x_t, x_{t-T_1}, ..., x_{t-T_M})``.

    Parameters
    ----------
    lags : sequence of int
        ``1 <= T_1 < ... < T_M``.
    readout : Readout
        ``f`` with ``n_in = (M + 1) d``; its input is ``(x_t, x_{t-T_1}, ..., x_{t-T_M})``.
    d : int
        Token dimension (default 1).

    Examples
    --------
    >>> from tfapprox.theory.readouts import LinearReadout
    >>> H = FixedMemoryTarget((2,), LinearReadout([1, 10]))
    >>> H.evaluate([1.0, 2.0, 3.0]).tolist(), H.evaluate([1.0, 2.0, 3.0], past="none").tolist()
    ([1.0, 2.0, 13.0], [1.0, 2.0, 13.0])
    >>> H.memory_count, H.max_lag
    (1, 2)
    """

    lags: Any
    readout: Readout
    d: int = 1

    kind = "fixed"

    def __post_init__(self) -> None:
        object.__setattr__(self, "lags", require_sorted_distinct_lags("lags", self.lags, minimum=1))
        object.__setattr__(self, "d", require_int("d", self.d, minimum=1))
        _check_readout(self.readout, (len(self.lags) + 1) * self.d, "(M + 1) * d")

    @property
    def memory_count(self) -> int:
        """``M``, the number of memories."""
        return len(self.lags)

    @property
    def max_lag(self) -> int:
        """``T_M``."""
        return self.lags[-1]

    def evaluate(self, X: Any, *, past: str = "padded", pad: Any = None) -> np.ndarray:
        Xb, added, _, fill = _prepare(X, self.d, past, pad)
        Z = np.concatenate([Xb] + [_shift(Xb, T, fill) for T in self.lags], axis=2)
        return _finish(np.asarray(self.readout.evaluate(Z)), added)

    def to_dict(self) -> dict:
        return {"format": TARGET_FORMAT, "kind": self.kind, "d": self.d, "lags": list(self.lags),
                "readout": self.readout.to_dict()}


# ---------------------------------------------------------------------------
# memory functions g_i of H^Adap
# ---------------------------------------------------------------------------

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
    def _values(self, Z: np.ndarray) -> np.ndarray:
        """Integer values on rows of ``Z`` (shape ``(P, n)``); raise ``_RowError`` on a bad row."""

    def evaluate(self, z: Any) -> Any:
        """``g`` on ``z`` of shape ``(..., n)``: integers of shape ``(...)`` (an ``int`` for one point)."""
        arr = np.asarray(z, dtype=float)
        if arr.ndim == 0:
            raise ValueError(f"z must have at least one axis, got shape {arr.shape}")
        if self.n_in is not None and arr.shape[-1] != self.n_in:
            raise ValueError(f"z must have last axis of size {self.n_in}, got shape {arr.shape}")
        out = self._values(arr.reshape(-1, arr.shape[-1])).reshape(arr.shape[:-1])
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
        af = np.array([[_to_float(v) for v in t] for t in toks], dtype=float)
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

    def _values(self, Z: np.ndarray) -> np.ndarray:
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
                raise _RowError(row, f"token {bad[0] if d == 1 else bad} (argument {j}) is not in the alphabet "
                                     f"{self._alphabet_f.reshape(-1).tolist() if d == 1 else self._alphabet_f.tolist()}"
                                     f"; under past='padded' the pad token and under past='none' the zero "
                                     f"vector is read before the window")
            code = code * A + np.argmax(eq, axis=1)
        return self._lookup[code]

    @cached_property
    def lipschitz(self) -> sympy.Expr:  # type: ignore[override]
        """Exact Lipschitz constant over the table (largest slope between two entries)."""
        keys = np.array([[_to_float(v) for t in key for v in t] for key, _ in self.entries], dtype=float)
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

    def _values(self, Z: np.ndarray) -> np.ndarray:
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

    def _values(self, Z: np.ndarray) -> np.ndarray:
        if self.vectorized:
            out = np.asarray(self.fn(Z.copy()), dtype=float)
        else:
            out = np.array([float(self.fn(row.copy())) for row in Z], dtype=float)
        if out.shape != (Z.shape[0],):
            raise ValueError(f"fn returned shape {out.shape} for {Z.shape[0]} points; expected ({Z.shape[0]},)")
        bad = ~np.isfinite(out) | (out != np.rint(out))
        if bad.any():
            row = int(np.argmax(bad))
            raise _RowError(row, f"value {out[row]!r} is not an integer lag")
        return np.clip(out, -2.0 ** 62, 2.0 ** 62).astype(np.int64)

    def to_dict(self) -> dict:
        raise TypeError("a CallableMemoryFunction holds Python code and cannot be written to JSON; "
                        "use TableMemoryFunction or ReluMemoryFunction to record a target")


def memory_function_from_dict(data: Mapping[str, Any]) -> MemoryFunction:
    """Rebuild a memory function from ``to_dict`` output (nothing is evaluated)."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ValueError(f"memory function must be an object with a 'kind' field, got {short_repr(data)}")
    kind = data["kind"]
    if kind == "table":
        _check_fields(data, {"kind", "alphabet", "entries", "reads"}, "table memory function")
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
                                   None if reads is None else _int_list("reads", reads))
    if kind == "relu":
        _check_fields(data, {"kind", "readout", "reads"}, "relu memory function")
        readout = readout_from_dict(data["readout"])
        reads = data["reads"]
        return ReluMemoryFunction(readout, None if reads is None else tuple(_int_list("reads", reads)))
    raise ValueError(f"memory function kind must be 'table' or 'relu'; got {short_repr(kind)} "
                     f"(callable memory functions cannot be loaded)")


# ---------------------------------------------------------------------------
# H^Adap
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AdaptiveMemoryTarget(Target):
    """H^Adap_{(K,M)} (eqs. (7')-(10)): memories at positions found by ``g_1, ..., g_M``.

    Parameters
    ----------
    memory_functions : sequence of MemoryFunction
        ``g_1, ..., g_M``.  ``g_i`` reads ``x_t, x_{t-t_1}, ..., x_{t-t_{min(i-1, K)}}``
        (eq. (8)), or the subset named by its ``reads``.
    max_lags : sequence of int
        ``T_1, ..., T_M >= 1``: every value of ``g_i`` must lie in ``1..T_i``.
    nesting : int
        ``K`` of eq. (8), ``0 <= K <= M``.  ``K = 0`` is the warm-up class of eq. (9)
        (every ``g_i`` reads ``x_t`` only), which the paper calls H^Adap_{(1,M)}
        (see :meth:`warm_up`, ``paper_class``).  ``K = M`` and ``K = M - 1`` give the
        same dependency structure (``g_M`` reads ``x_{t-t_1..t-t_{M-1}}`` in both).
    readout : Readout
        ``f`` with ``n_in = (M + 1) d``, reading ``(x_t, x_{t-t_1}, ..., x_{t-t_M})``.
    d : int
        Token dimension.
    allow_zero_lag : bool
        Accept ``g_i = 0`` (``x_{t-0} = x_t``), outside the paper's class; only for the
        paper's Prop. 4.2 witness as stated (``in_paper_class`` is then ``False``).

    Notes
    -----
    Evaluation is vectorised over batch and time; a ``g_i`` value outside its range
    raises ``ValueError`` naming ``g_i``, the time and the value.

    Examples
    --------
    >>> H = adaptive_sparse_boolean()
    >>> H.paper_class, H.nesting, H.memory_count
    ('H^Adap_(2,2)', 2, 2)
    >>> H.evaluate([1.0, -1.0, -1.0, 1.0, 1.0], pad=[1.0]).tolist()
    [1.0, -1.0, 1.0, 1.0, 1.0]
    """

    memory_functions: Any
    max_lags: Any
    nesting: int
    readout: Readout
    d: int = 1
    allow_zero_lag: bool = False

    kind = "adaptive"

    def __post_init__(self) -> None:
        mfs = self.memory_functions
        if isinstance(mfs, MemoryFunction) or not isinstance(mfs, (list, tuple)) or not mfs:
            raise ValueError(f"memory_functions must be a non-empty sequence of memory functions, got "
                             f"{short_repr(mfs)}")
        for i, g in enumerate(mfs, start=1):
            if not isinstance(g, MemoryFunction):
                raise TypeError(f"memory_functions[{i - 1}] (g_{i}) must be a MemoryFunction, got {type(g).__name__}")
        M = len(mfs)
        object.__setattr__(self, "memory_functions", tuple(mfs))
        if isinstance(self.max_lags, (str, bytes)) or not isinstance(self.max_lags, (list, tuple)):
            raise TypeError(f"max_lags must be a sequence of integers T_i >= 1, got {short_repr(self.max_lags)}")
        lags = tuple(require_int(f"max_lags[{i}]", T, minimum=1) for i, T in enumerate(self.max_lags))
        if len(lags) != M:
            raise ValueError(f"max_lags must have one entry per memory function ({M}), got {len(lags)}")
        object.__setattr__(self, "max_lags", lags)
        object.__setattr__(self, "nesting", require_int("nesting", self.nesting, minimum=0, maximum=M))
        object.__setattr__(self, "d", require_int("d", self.d, minimum=1))
        if not isinstance(self.allow_zero_lag, bool):
            raise TypeError(f"allow_zero_lag must be True or False, got {short_repr(self.allow_zero_lag)}")
        _check_readout(self.readout, (M + 1) * self.d, "(M + 1) * d")
        lo = 0 if self.allow_zero_lag else 1
        for i, g in enumerate(self.memory_functions, start=1):
            avail = self._available(i)
            reads = g.reads if g.reads is not None else tuple(range(avail))
            if max(reads) >= avail:
                raise ValueError(f"g_{i} reads token {max(reads)} but eq. (8) with K={self.nesting} gives it only "
                                 f"x_t and the first {avail - 1} memories (indices 0..{avail - 1})")
            if g.n_in is not None and g.n_in != len(reads) * self.d:
                raise ValueError(f"g_{i} takes {g.n_in} numbers but reads {len(reads)} tokens of dimension "
                                 f"{self.d} = {len(reads) * self.d}")
            if isinstance(g, TableMemoryFunction):
                if g.token_dim != self.d:
                    raise ValueError(f"g_{i}'s alphabet has tokens of dimension {g.token_dim}, the target has d={self.d}")
                for key, v in g.entries:
                    if not lo <= v <= self.max_lags[i - 1]:
                        raise ValueError(f"g_{i}{tuple(t[0] if self.d == 1 else t for t in key)} = {v} is outside "
                                         f"{lo}..T_{i} = {lo}..{self.max_lags[i - 1]}"
                                         + ("" if self.allow_zero_lag else
                                            " (eq. (10) requires 1 <= g_i <= T_i)"))

    def _available(self, i: int) -> int:
        """Number of tokens eq. (8) lets ``g_i`` read: ``x_t`` and ``min(i-1, K)`` memories."""
        return min(i - 1, self.nesting) + 1

    @classmethod
    def warm_up(cls, memory_functions: Sequence[MemoryFunction], max_lags: Sequence[int], readout: Readout,
                d: int = 1, allow_zero_lag: bool = False) -> "AdaptiveMemoryTarget":
        """The warm-up class of eq. (9), H^Adap_{(1,M)} in the paper: ``t_i = g_i(x_t)``.

        Built as ``nesting = 0`` ("K = 0 in (8)"; the paper's index 1 is kept only in
        ``paper_class``)."""
        return cls(memory_functions, max_lags, 0, readout, d, allow_zero_lag)

    @property
    def memory_count(self) -> int:
        """``M``."""
        return len(self.memory_functions)

    @property
    def max_lag(self) -> int:
        """``max_i T_i``."""
        return max(self.max_lags)

    @property
    def paper_index(self) -> tuple[int, int]:
        """The paper's ``(K, M)`` index: ``(1, M)`` for the warm-up class (nesting 0)."""
        return (self.nesting or 1, self.memory_count)

    @property
    def paper_class(self) -> str:
        """The paper's name of the class, ``H^Adap_(K,M)`` (see :attr:`paper_index`)."""
        K, M = self.paper_index
        return f"H^Adap_({K},{M})"

    @property
    def in_paper_class(self) -> bool:
        """``False`` when built with ``allow_zero_lag=True`` (outside eq. (10))."""
        return not self.allow_zero_lag

    def evaluate(self, X: Any, *, past: str = "padded", pad: Any = None) -> np.ndarray:
        Xb, added, _, fill = _prepare(X, self.d, past, pad)
        B, N, d = Xb.shape
        tokens = [Xb]
        tgrid = np.arange(N)[None, :]
        bidx = np.arange(B)[:, None]
        lo = 0 if self.allow_zero_lag else 1
        for i, g in enumerate(self.memory_functions, start=1):
            reads = g.reads if g.reads is not None else tuple(range(self._available(i)))
            Z = np.concatenate([tokens[j] for j in reads], axis=2).reshape(B * N, len(reads) * d)
            try:
                vals = np.asarray(g._values(Z), dtype=np.int64).reshape(B, N)
            except _RowError as err:
                b, t = divmod(err.row, N)
                raise ValueError(f"g_{i} failed at time t={t}" + (f" (batch {b})" if B > 1 else "")
                                 + f": {err.message}") from None
            T = self.max_lags[i - 1]
            bad = (vals < lo) | (vals > T)
            if bad.any():
                t = int(np.nonzero(bad.any(axis=0))[0][0])
                b = int(np.nonzero(bad[:, t])[0][0])
                raise ValueError(f"g_{i} = {int(vals[b, t])} at time t={t}" + (f" (batch {b})" if B > 1 else "")
                                 + f" is outside {lo}..T_{i} = {lo}..{T}")
            idx = tgrid - vals
            got = Xb[bidx, np.maximum(idx, 0)]
            tokens.append(np.where((idx >= 0)[..., None], got, fill))
        Z = np.concatenate(tokens, axis=2)
        return _finish(np.asarray(self.readout.evaluate(Z)), added)

    def to_dict(self) -> dict:
        return {"format": TARGET_FORMAT, "kind": self.kind, "d": self.d, "nesting": self.nesting,
                "max_lags": list(self.max_lags), "allow_zero_lag": self.allow_zero_lag,
                "memory_functions": [g.to_dict() for g in self.memory_functions],
                "readout": self.readout.to_dict()}


# ---------------------------------------------------------------------------
# paper examples of H^Adap
# ---------------------------------------------------------------------------

def _boolean_alphabet(g_at_zero: Any, lags: dict, T: int) -> tuple[tuple, dict]:
    if g_at_zero is None:
        return (-1, 1), lags
    z = require_int("g_at_zero", g_at_zero, minimum=1, maximum=T)
    return (-1, 0, 1), {**lags, 0: z}


def adaptive_sparse_boolean(*, g_at_zero: int | None = None) -> AdaptiveMemoryTarget:
    """Sec. 4.1 example (I): ``y_t = x_t * x_{t-g(x_t)} * x_{t-g(x_{t-g(x_t)})}`` with
    ``X in {+-1}^Z``, ``g(1) = 1``, ``g(-1) = 2``; ``K = M = 2``, ``T_1 = T_2 = 2``.

    ``g_1 = g`` reads ``x_t``; ``g_2 = g`` reads only ``x_{t-t_1}`` (``reads=(1,)``); the
    readout is :class:`ProductReadout` of the three tokens.

    ``g`` is defined on ``{+-1}`` only, so the zero padding token (or an absent token
    under ``past='none'``) is refused at evaluation; pass ``pad=[1.0]`` or ``[-1.0]``, or
    extend ``g`` to the token 0 with ``g_at_zero`` in ``{1, 2}`` (alphabet ``{-1, 0, 1}``).
    """
    alphabet, lag = _boolean_alphabet(g_at_zero, {1: 1, -1: 2}, 2)
    g1 = TableMemoryFunction(alphabet, lag)
    g2 = TableMemoryFunction(alphabet, lag, reads=(1,))
    return AdaptiveMemoryTarget((g1, g2), (2, 2), 2, ProductReadout(3))


def prop42_witness(corrected: bool, *, allow_zero_lag: bool = False) -> AdaptiveMemoryTarget:
    """The witness of Prop. 4.2 / C.4: ``X in {-1, 0, 1}^Z``, ``y_t = x_{t-g(x_t)}``, in
    H^Adap_{(1,1)} (warm-up, ``nesting = 0``).

    ``corrected=False``: the paper's ``g(x) = x + 1``, so ``g(-1) = 0``, **outside** the
    class (``g >= 1``, eq. (10)); it is built only when the caller also passes
    ``allow_zero_lag=True`` (``T_1 = 2``, ``in_paper_class = False``), and refused with
    a ``ValueError`` otherwise.  ``corrected=True``: ``g(x) = x + 2`` (values 1, 2, 3,
    ``T_1 = 3``), inside the class; the paper's argument (DP attention with logit
    ``-beta (s - g(x_t))`` succeeds, any DP-free attention has error bounded below) is
    unchanged by the shift.  The readout is ``f(x_t, x_{t-t_1}) = x_{t-t_1}``.

    >>> prop42_witness(corrected=True).evaluate([1.0, 0.0, -1.0, 1.0]).tolist()
    [0.0, 0.0, 0.0, 1.0]
    >>> prop42_witness(corrected=False, allow_zero_lag=True).in_paper_class
    False
    """
    if not isinstance(corrected, bool):
        raise TypeError(f"corrected must be True or False, got {short_repr(corrected)}")
    if not isinstance(allow_zero_lag, bool):
        raise TypeError(f"allow_zero_lag must be True or False, got {short_repr(allow_zero_lag)}")
    if not corrected and not allow_zero_lag:
        raise ValueError("the paper's Prop. 4.2 witness has g(-1) = 0, outside the class 1 <= g <= T "
                         "(eq. (10)); pass allow_zero_lag=True to build it as stated, or use corrected=True "
                         "(g(x) = x + 2)")
    shift, T = (2, 3) if corrected else (1, 2)
    g = TableMemoryFunction((-1, 0, 1), {x: x + shift for x in (-1, 0, 1)})
    return AdaptiveMemoryTarget.warm_up((g,), (T,), LinearReadout([0, 1]), allow_zero_lag=not corrected)


def pointer_chasing(K: int, max_lag: int = 4, *, g_at_zero: int | None = None) -> AdaptiveMemoryTarget:
    """Sec. 4.1 example (II), K-step reasoning: ``(...((x_t -> x_{t-t_1}) -> x_{t-t_2}) ...) -> x_{t-t_K}``.

    Tokens are pointers ``j / T`` (``j = 1..T``, ``T = max_lag``, so ``|x_t| <= 1``); each
    step follows the last token found: ``t_1 = g(x_t)``, ``t_i = g(x_{t-t_{i-1}})`` with
    ``g(j / T) = j``; ``y_t = x_{t-t_K}``.  ``nesting = M = K``, every ``T_i = T``.
    ``g_at_zero`` in ``1..T`` extends ``g`` to the token 0 (padding / absent tokens).

    >>> H = pointer_chasing(2, 2)
    >>> H.evaluate([0.5, 1.0, 0.5, 1.0], pad=[0.5]).tolist()
    [0.5, 0.5, 0.5, 1.0]
    """
    K = require_int("K", K, minimum=1)
    T = require_int("max_lag", max_lag, minimum=1)
    alphabet = [sympy.Rational(j, T) for j in range(1, T + 1)]
    table = {a: j for j, a in enumerate(alphabet, start=1)}
    if g_at_zero is not None:
        alphabet = [sympy.Integer(0)] + alphabet
        table[sympy.Integer(0)] = require_int("g_at_zero", g_at_zero, minimum=1, maximum=T)
    gs = [TableMemoryFunction(alphabet, table, reads=(i - 1,)) for i in range(1, K + 1)]
    return AdaptiveMemoryTarget(gs, (T,) * K, K, LinearReadout([0] * K + [1]))


# ---------------------------------------------------------------------------
# H^Ess
# ---------------------------------------------------------------------------

#: Windows up to this length use a dense Toeplitz product; longer ones direct convolution.
_TOEPLITZ_MAX = 2048


@dataclass(frozen=True)
class EssentiallySparseTarget(Target):
    """H^Ess (eqs. (13)-(14)): ``y_t = f((X * rho_1)(t), ..., (X * rho_M)(t))``.

    Parameters
    ----------
    kernels : sequence of MemoryKernel
        ``rho_1, ..., rho_M``.
    readout : Readout
        ``f`` with ``n_in = M d``; its input is the ``M`` blocks ``(X * rho_k)(t) in R^d``
        (the convolution acts per coordinate).
    d : int
        Token dimension.

    Notes
    -----
    Under ``past="padded"`` with a nonzero pad the infinite padded tail
    ``pad * sum_{s > t} rho(s)`` is added in closed form (``kernel.tail_sum``: geometric
    series, Hurwitz zeta, finite sums); kernels whose tail is unknown
    (``ArrayKernel(tail="unknown")``) or divergent (``beta <= 1``) refuse a nonzero pad.
    A zero pad contributes nothing, so any kernel works with it.

    Examples
    --------
    >>> from tfapprox.theory.memory_kernels import ExponentialKernel
    >>> from tfapprox.theory.readouts import LinearReadout
    >>> H = EssentiallySparseTarget([ExponentialKernel(1, "0.6931471805599453")], LinearReadout([1]))
    >>> H.evaluate([1.0, 1.0, 1.0]).round(6).tolist()
    [1.0, 1.5, 1.75]
    >>> H.evaluate([1.0, 1.0, 1.0], pad=[1.0]).round(6).tolist()
    [2.0, 2.0, 2.0]
    """

    kernels: Any
    readout: Readout
    d: int = 1

    kind = "essential"

    def __post_init__(self) -> None:
        ks = self.kernels
        if isinstance(ks, MemoryKernel) or not isinstance(ks, (list, tuple)) or not ks:
            raise ValueError(f"kernels must be a non-empty sequence of memory kernels, got {short_repr(ks)}")
        for i, k in enumerate(ks):
            if not isinstance(k, MemoryKernel):
                raise TypeError(f"kernels[{i}] must be a MemoryKernel, got {type(k).__name__}")
        object.__setattr__(self, "kernels", tuple(ks))
        object.__setattr__(self, "d", require_int("d", self.d, minimum=1))
        _check_readout(self.readout, len(self.kernels) * self.d, "M * d")

    @property
    def memory_count(self) -> int:
        """``M``, the number of kernels."""
        return len(self.kernels)

    def convolutions(self, X: Any, *, past: str = "padded", pad: Any = None) -> np.ndarray:
        """The readout's input ``((X * rho_1)(t), ..., (X * rho_M)(t))``: shape ``(batch, N, M d)``
        (or ``(N, M d)`` without a batch axis)."""
        Xb, added, past, fill = _prepare(X, self.d, past, pad)
        B, N, d = Xb.shape
        lags = np.arange(N)
        blocks = []
        for i, k in enumerate(self.kernels):
            try:
                rho = np.asarray(k.values(lags), dtype=float)
            except ValueError as err:
                raise ValueError(f"kernels[{i}]: {err}") from None
            if N <= _TOEPLITZ_MAX:
                Tm = scipy.linalg.toeplitz(rho, np.zeros(N))
                conv = np.matmul(Tm, Xb)
            else:
                conv = np.empty_like(Xb)
                for b in range(B):
                    for c in range(d):
                        conv[b, :, c] = np.convolve(Xb[b, :, c], rho)[:N]
            if past == "padded" and np.any(fill != 0):
                if not k.tail_known or not k.summable:
                    why = ("its values beyond the array are unknown (tail='unknown')" if not k.tail_known
                           else f"sum_s rho(s) diverges (beta = {k.beta} <= 1)")
                    raise ValueError(f"kernels[{i}] cannot be used with a nonzero padding token: the padded past "
                                     f"contributes pad * sum_(s>t) rho(s), and {why}; use pad=None (zero) or "
                                     f"past='none'")
                tails = np.asarray(k.tail_sum(np.arange(1, N + 1)), dtype=float)
                conv = conv + tails[None, :, None] * fill[None, None, :]
            blocks.append(conv)
        Z = np.concatenate(blocks, axis=2)
        return Z[0] if added else Z

    def evaluate(self, X: Any, *, past: str = "padded", pad: Any = None) -> np.ndarray:
        Z = self.convolutions(X, past=past, pad=pad)
        return np.asarray(self.readout.evaluate(Z))

    def to_dict(self) -> dict:
        return {"format": TARGET_FORMAT, "kind": self.kind, "d": self.d,
                "kernels": [k.to_dict() for k in self.kernels], "readout": self.readout.to_dict()}


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------

def target_from_dict(data: Mapping[str, Any]) -> Target:
    """Rebuild any target from its ``to_dict`` description.

    Integers (``d``, lags, nesting) are JSON integers; real numbers are exact strings
    (:func:`tfapprox.theory.readouts.rational_to_str`).  Nothing is evaluated: no pickle,
    no sympify; unknown or missing fields raise ``ValueError``.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"a target description must be a JSON object, got {short_repr(data)}")
    kind = data.get("kind")
    if kind == "fixed":
        _check_format(data, kind)
        _check_fields(data, {"format", "kind", "d", "lags", "readout"}, "fixed target")
        return FixedMemoryTarget(_int_list("lags", data["lags"]), readout_from_dict(data["readout"]),
                                 require_int("d", data["d"], minimum=1))
    if kind == "adaptive":
        _check_format(data, kind)
        _check_fields(data, {"format", "kind", "d", "nesting", "max_lags", "allow_zero_lag",
                             "memory_functions", "readout"}, "adaptive target")
        mfs = data["memory_functions"]
        if not isinstance(mfs, list):
            raise TypeError(f"memory_functions must be a list, got {short_repr(mfs)}")
        return AdaptiveMemoryTarget([memory_function_from_dict(g) for g in mfs], _int_list("max_lags", data["max_lags"]),
                                    require_int("nesting", data["nesting"]), readout_from_dict(data["readout"]),
                                    require_int("d", data["d"], minimum=1), data["allow_zero_lag"])
    if kind == "essential":
        _check_format(data, kind)
        _check_fields(data, {"format", "kind", "d", "kernels", "readout"}, "essential target")
        ks = data["kernels"]
        if not isinstance(ks, list):
            raise TypeError(f"kernels must be a list, got {short_repr(ks)}")
        return EssentiallySparseTarget([kernel_from_dict(k) for k in ks], readout_from_dict(data["readout"]),
                                       require_int("d", data["d"], minimum=1))
    raise ValueError(f"target kind must be 'fixed', 'adaptive' or 'essential'; got {short_repr(kind)}")


# ---------------------------------------------------------------------------
# the paper's experiments (App. H)
# ---------------------------------------------------------------------------

#: Experiments with a synthetic target (H.2.5 uses H.2.2's target).
PAPER_EXPERIMENTS: tuple[str, ...] = ("H.2.2", "H.2.3", "H.2.4", "H.2.5", "H.2.7", "H.2.8")

_WINDOW = 1000
_MEM = {48: _WINDOW - 48, 56: _WINDOW - 56, 99: _WINDOW - 99}  # 1-based position -> lag from t = 1000


@dataclass(frozen=True)
class PaperExperiment:
    """A synthetic experiment of App. H: its target and how the paper reads it.

    Windows of ``window_length = 1000`` tokens in ``{+-1}`` (presumably i.i.d. uniform),
    finite sequences (``past = "none"``), output read at the last position
    ``read_at = 999`` (0-based; the paper's 1-based ``t = 1000``).  The reading position
    and the lags are our inference (Differences from the paper, D23).
    """

    name: str
    target: Target
    description: str
    window_length: int = _WINDOW
    read_at: int = _WINDOW - 1
    past: str = "none"
    alphabet: tuple = (-1, 1)

    def evaluate(self, X: Any) -> Any:
        """``y`` at ``read_at`` for windows of exactly ``window_length`` tokens (shape ``(batch,)`` or a float)."""
        Xb, added = as_window_batch(X, self.target.d)
        if Xb.shape[1] != self.window_length:
            raise ValueError(f"experiment {self.name} uses windows of {self.window_length} tokens, got {Xb.shape[1]}")
        y = np.asarray(self.target.evaluate(Xb, past=self.past))[:, self.read_at]
        return float(y[0]) if added else y


def _gaussian_readout_on(positions: Sequence[int], seed: int) -> ReluSumReadout:
    """``sum_{k=1}^{64} relu(<w_k, (x_p)_{p in positions}>)``, ``w_k ~ N(0, I)``, laid out for a
    FixedMemoryTarget whose input is ``(x_t, memories by increasing lag)``."""
    w = ReluSumReadout.gaussian(64, len(positions), seed)
    lags = sorted(_MEM[p] for p in positions)
    col_of = {_MEM[p]: j for j, p in enumerate(positions)}
    inner = [[sympy.Integer(0)] + [row[col_of[T]] for T in lags] for row in w.inner]
    return ReluSumReadout(w.outer, inner, w.bias)


def paper_experiment(name: str, *, seed: int = 0) -> PaperExperiment:
    """The synthetic targets of App. H.2 (and Differences from the paper, D23).

    * ``"H.2.2"`` (and ``"H.2.5"``, same target): ``sum_{k=1}^{64} relu(<w_k, (x_48, x_56, x_99)>)``,
      ``w_k ~ N(0, I_3)`` drawn with ``seed`` (the paper's draw is unknown): a
      :class:`FixedMemoryTarget` with lags ``(901, 944, 952)`` whose readout gives ``x_t``
      weight 0.
    * ``"H.2.3"``: ``sum_{k=1}^{64} relu(w_k x_99)``, ``w_k ~ N(0, 1)``: lag ``(901,)``.
    * ``"H.2.4"``: ``x_48 + x_56 + x_99``: lags ``(901, 944, 952)``, linear readout.
    * ``"H.2.7"``: ``sum_{s=1}^{1000} x_s rho(1000 - s)`` with ``rho(t) = t^{-0.5}``
      (not summable; ``rho(0) = 0``, our choice, see :mod:`tfapprox.theory.memory_kernels`):
      an :class:`EssentiallySparseTarget`.
    * ``"H.2.8"``: the same with ``rho(t) = e^{-5t}``.

    Paper positions are 1-based over a window of 1000 with the output at ``t = 1000``;
    here ``x_p`` is at lag ``1000 - p`` from the last position ``t = 999``.

    >>> ex = paper_experiment("H.2.4")
    >>> ex.target.lags, ex.read_at
    ((901, 944, 952), 999)
    """
    seed = require_int("seed", seed, minimum=0)
    if name not in PAPER_EXPERIMENTS:
        raise ValueError(f"name must be one of {', '.join(PAPER_EXPERIMENTS)}; got {short_repr(name)}")
    lags3 = (_MEM[99], _MEM[56], _MEM[48])
    if name in ("H.2.2", "H.2.5"):
        target: Target = FixedMemoryTarget(lags3, _gaussian_readout_on((48, 56, 99), seed))
        desc = "f*(x) = sum_{k=1}^{64} ReLU(<w*_k, (x_48, x_56, x_99)>), w*_k ~ N(0, I_3)"
    elif name == "H.2.3":
        target = FixedMemoryTarget((_MEM[99],), _gaussian_readout_on((99,), seed))
        desc = "f*(x) = sum_{k=1}^{64} ReLU(w*_k x_99), w*_k ~ N(0, 1)"
    elif name == "H.2.4":
        target = FixedMemoryTarget(lags3, LinearReadout([0, 1, 1, 1]))
        desc = "f*(x) = x_48 + x_56 + x_99"
    elif name == "H.2.7":
        target = EssentiallySparseTarget([PolynomialKernel(1, sympy.Rational(1, 2), offset=0, at_zero=0,
                                                           allow_non_summable=True)], LinearReadout([1]))
        desc = "f*(x) = sum_{s=1}^{1000} x_s rho(1000 - s), rho(t) = t^{-0.5}, rho(0) = 0 (our choice)"
    else:
        target = EssentiallySparseTarget([ExponentialKernel(1, 5)], LinearReadout([1]))
        desc = "f*(x) = sum_{s=1}^{1000} x_s rho(1000 - s), rho(t) = e^{-5t}"
    return PaperExperiment(name, target, desc)


def paper_experiment_target(name: str, *, seed: int = 0) -> Target:
    """The target of :func:`paper_experiment` (read it at position 999 of a 1000-token window)."""
    return paper_experiment(name, seed=seed).target


def fixed_memory_target(lags: Any, readout: str = "sum", readout_neurons: int = 64, seed: int = 0,
                        d: int = 1) -> FixedMemoryTarget:
    """A :class:`FixedMemoryTarget` (eq. (1)) from simple options.

    ``readout="sum"``: ``f = x_{t-T_1} + ... + x_{t-T_M}`` (linear, as in experiment H.2.4);
    ``readout="gaussian"``: ``f = sum_k relu(<w_k, z>)`` with ``readout_neurons`` Gaussian
    ``w_k`` drawn with ``seed`` (experiments H.2.2/H.2.3).  Sizes are checked against
    :mod:`tfapprox.theory.limits` before anything is allocated.

    >>> fixed_memory_target("1,5,20").lags
    (1, 5, 20)
    """
    lags = require_sorted_distinct_lags("lags", require_int_list("lags", lags, maximum=MAX_LAG,
                                                                 max_items=MAX_MEMORIES))
    readout_neurons = require_int("readout_neurons", readout_neurons, minimum=1, maximum=MAX_READOUT_NEURONS)
    require_choice("readout", readout, ("sum", "gaussian"))
    n_in = (len(lags) + 1) * d
    if readout == "sum":
        f = LinearReadout([0] * d + [1] * (n_in - d), 0)
    else:
        f = ReluSumReadout.gaussian(readout_neurons, n_in, seed)
    return FixedMemoryTarget(lags, f, d=d)
