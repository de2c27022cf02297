"""The paper's three target classes as validated specs (eqs. (5)-(14), Secs. 3.1, 4.1, 5.1).

* :class:`FixedMemoryTarget`: H^Fix, ``y_t = f(x_t, x_{t-T_1}, ..., x_{t-T_M})`` (eqs. (5)-(6));
* :class:`AdaptiveMemoryTarget`: H^Adap_{(K,M)}, memories at positions found by memory
  functions ``g_i`` (:mod:`tfapprox.theory.memory_functions`, eqs. (7')-(10));
* :class:`EssentiallySparseTarget`: H^Ess, ``y_t = f((X * rho_1)(t), ..., (X * rho_M)(t))``
  with memory kernels ``rho_k`` (:mod:`tfapprox.theory.memory_kernels`, eqs. (13)-(14)).

Inputs, outputs, the two past semantics and the conventions chosen (warm-up indexing, zero
lags) are described in :mod:`tfapprox.theory.targets` and docs/targets.md.  Each class
writes itself with ``to_dict`` and registers its reader with
:func:`tfapprox.theory.target_json.register_target_kind`, so that
:meth:`Target.from_dict` / :func:`tfapprox.theory.target_json.target_from_dict` read every
kind defined here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.linalg

from .memory_functions import MemoryFunction, MemoryFunctionRowError, TableMemoryFunction, memory_function_from_dict
from .memory_kernels import MemoryKernel, kernel_from_dict
from .messages import short_repr
from .readouts import Readout, readout_from_dict
from .sequences import as_window_batch, check_pad, check_past
from .target_json import (TARGET_FORMAT, check_fields, check_target_description, json_int_list,
                          register_target_kind, target_from_dict)
from .validation import require_int, require_sorted_distinct_lags

__all__ = ["Target", "FixedMemoryTarget", "AdaptiveMemoryTarget", "EssentiallySparseTarget"]


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
    >>> from tfapprox.theory.target_examples import adaptive_sparse_boolean
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
                vals = np.asarray(g.row_values(Z), dtype=np.int64).reshape(B, N)
            except MemoryFunctionRowError as err:
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
# JSON readers (registered with tfapprox.theory.target_json)
# ---------------------------------------------------------------------------

def _fixed_from_dict(data: Mapping[str, Any]) -> FixedMemoryTarget:
    check_target_description(data, "fixed")
    check_fields(data, {"format", "kind", "d", "lags", "readout"}, "fixed target")
    return FixedMemoryTarget(json_int_list("lags", data["lags"]), readout_from_dict(data["readout"]),
                             require_int("d", data["d"], minimum=1))


def _adaptive_from_dict(data: Mapping[str, Any]) -> AdaptiveMemoryTarget:
    check_target_description(data, "adaptive")
    check_fields(data, {"format", "kind", "d", "nesting", "max_lags", "allow_zero_lag",
                        "memory_functions", "readout"}, "adaptive target")
    mfs = data["memory_functions"]
    if not isinstance(mfs, list):
        raise TypeError(f"memory_functions must be a list, got {short_repr(mfs)}")
    return AdaptiveMemoryTarget([memory_function_from_dict(g) for g in mfs], json_int_list("max_lags", data["max_lags"]),
                                require_int("nesting", data["nesting"]), readout_from_dict(data["readout"]),
                                require_int("d", data["d"], minimum=1), data["allow_zero_lag"])


def _essential_from_dict(data: Mapping[str, Any]) -> EssentiallySparseTarget:
    check_target_description(data, "essential")
    check_fields(data, {"format", "kind", "d", "kernels", "readout"}, "essential target")
    ks = data["kernels"]
    if not isinstance(ks, list):
        raise TypeError(f"kernels must be a list, got {short_repr(ks)}")
    return EssentiallySparseTarget([kernel_from_dict(k) for k in ks], readout_from_dict(data["readout"]),
                                   require_int("d", data["d"], minimum=1))


register_target_kind("fixed", _fixed_from_dict)
register_target_kind("adaptive", _adaptive_from_dict)
register_target_kind("essential", _essential_from_dict)
