"""The RPE type protocol and its registry (paper eq. (4), App. G.1; Differences from the paper, D17).

An RPE type gives the additive attention logit ``p * phi(s)`` at lag ``s = t - j >= 0``
(causal: lags ``s < 0`` are masked), so the un-normalised weight of lag ``s`` is
``exp(p * phi(s))``.  :class:`RPEType` is the base class every type derives from; it holds
everything the rest of tfapprox asks of an RPE, so no caller switches on the type:

* numerics: ``phi`` (float64 and exact), the weights ``exp(p phi(s))`` (exact and mpmath),
  summability of the weights over an infinite padded past and the tail sums
  ``S(p, a) = sum_{s >= a} exp(p phi(s))`` exactly (sympy), in float64 (``log S``) and in
  mpmath (``S``);
* TMX heads (Def. C.5): ``-phi(z)`` at a real argument ``z`` where the type defines it;
* serialisation: the JSON object ``{"type": ..., ...}`` of the model file and of
  :func:`rpe_from_dict`, read through the registry (:func:`register_rpe`), with the
  type's own keys and field checks (:meth:`RPEType.from_fields`);
* export: a phi table and a log-tail table, or a native torch formula
  (:meth:`RPEType.torch_phi`, :meth:`RPEType.torch_log_tail`).

The defaults implement a type of *finite support* (weights zero beyond :meth:`RPEType.support`
lags, e.g. a masked T5 or a table): tails are finite suffix sums, export uses tables.  A
type with infinite support overrides the tail methods (closed forms or certified bounds).
"""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar, Protocol

import mpmath
import numpy as np
import sympy

from ..numbers import to_exact
from ..validation import short_repr

__all__ = ["RPEType", "FieldReader", "PlainFieldReader", "register_rpe", "rpe_type", "rpe_type_names",
           "rpe_from_dict", "export_form", "export_kinds", "lower_exact_mp"]


class FieldReader(Protocol):
    """What :meth:`RPEType.from_fields` needs from a reader of the JSON fields.

    The model-file reader (``tfapprox.verify.model_file_load``) implements it with size
    limits and error messages naming the file and JSON path; :class:`PlainFieldReader` is
    the plain version used by :func:`rpe_from_dict`.
    """

    def fail(self, path: str, message: str, kind: type[Exception] = ValueError) -> Exception:
        """The exception ``kind`` whose message names ``path`` (raise it)."""

    def integer(self, value: Any, path: str, minimum: int) -> int:
        """``value`` as an int ``>= minimum``; a ValueError/TypeError naming ``path`` otherwise."""

    def boolean(self, value: Any, path: str) -> bool:
        """``value`` if it is a bool; a TypeError naming ``path`` otherwise."""

    def number(self, value: Any, path: str) -> sympy.Rational:
        """``value`` as an exact number; an error naming ``path`` otherwise."""

    def limit(self, path: str, what: str, value: int, maximum: int, name: str) -> None:
        """Refuse ``value > maximum`` (an error naming ``path`` and the limit ``name``)."""

    def build(self, path: str, factory: Any, *args: Any, **kwargs: Any) -> Any:
        """``factory(*args, **kwargs)``, its ValueError/TypeError re-raised naming ``path``."""


class PlainFieldReader:
    """A :class:`FieldReader` without file context: errors name the JSON path only.

    Numbers are converted by :func:`tfapprox.theory.numbers.to_exact` (number strings and
    Python numbers); there are no size limits beyond the types' own checks.
    """

    def fail(self, path: str, message: str, kind: type[Exception] = ValueError) -> Exception:
        """The exception ``kind`` with ``"path: message"``."""
        return kind(f"{path}: {message}")

    def integer(self, value: Any, path: str, minimum: int) -> int:
        """``value`` as an int ``>= minimum`` (bools refused)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be an integer, got {short_repr(value)}", TypeError)
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        """``value`` if it is a bool."""
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {short_repr(value)}", TypeError)
        return value

    def number(self, value: Any, path: str) -> Any:
        """``value`` as an exact number (:func:`~tfapprox.theory.numbers.to_exact`)."""
        return to_exact(path, value)

    def limit(self, path: str, what: str, value: int, maximum: int, name: str) -> None:
        """Refuse ``value > maximum``."""
        if value > maximum:
            raise self.fail(path, f"{what} is {value}, more than the limit {name} = {maximum}")

    def build(self, path: str, factory: Any, *args: Any, **kwargs: Any) -> Any:
        """``factory(*args, **kwargs)``; its ValueError/TypeError re-raised naming ``path``."""
        try:
            return factory(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{path}: {exc}") from None


def lower_exact_mp(value: sympy.Expr) -> mpmath.mpf:
    """An exact number at the current mpmath precision (integers and rationals exactly rounded once)."""
    if value is sympy.S.NegativeInfinity:
        return mpmath.ninf
    if isinstance(value, sympy.Integer):
        return mpmath.mpf(int(value))
    if isinstance(value, sympy.Rational):
        return mpmath.mpf(int(value.p)) / int(value.q)
    if isinstance(value, sympy.Float):
        return mpmath.mpf(value._mpf_)
    out = sympy.Expr.evalf(value, mpmath.mp.dps + 10)
    if not isinstance(out, sympy.Float):
        raise ValueError(f"cannot lower {short_repr(value)} to a real number")
    return mpmath.mpf(out._mpf_)


class RPEType:
    """Base class of a relative positional encoding (eq. (4)).

    Subclasses are frozen dataclasses that set :attr:`type_name` and :attr:`summability`
    and implement :meth:`phi`, :meth:`phi_exact`, :meth:`summable` and :meth:`support`
    (or, for infinite support, the tail methods); register them with :func:`register_rpe`.
    """

    #: The ``"type"`` field of the JSON object (``"lin"``, ``"log"``, ``"t5"``, ...).
    type_name: ClassVar[str]
    #: The keys of the JSON object (``"type"`` included); all are required.
    file_keys: ClassVar[tuple[str, ...]] = ("type",)
    #: When the padded-past tail sums converge, in words (error messages, docs).
    summability: ClassVar[str]
    #: Export form: ``"table"`` (phi and log-tail tables, :meth:`export_tables`) or
    #: :attr:`type_name` for a type with a native torch formula that :func:`export_form`
    #: rebuilds from its name alone (a type without JSON parameters).
    export_kind: ClassVar[str] = "table"
    #: Smallest real ``z`` with finite ``phi(z)`` for TMX heads (Def. C.5); ``None``: no TMX heads.
    tmx_min: ClassVar[int | None] = None

    @property
    def kind(self) -> str:
        """The type name (``type_name``), as in messages such as ``"log-RPE"``."""
        return self.type_name

    # -- phi and the weights --------------------------------------------------------------------
    def phi(self, s: np.ndarray) -> np.ndarray:
        """float64 values of ``phi`` at integer lags ``s >= 0`` (``-inf`` where masked)."""
        raise NotImplementedError

    def phi_exact(self, s: int) -> sympy.Expr:
        """``phi(s)`` exactly (``-oo`` where masked)."""
        raise NotImplementedError

    def weight_exact(self, p: sympy.Expr, s: int) -> sympy.Expr:
        """``exp(p phi(s))`` exactly, ``0`` where masked."""
        phi = self.phi_exact(s)
        return sympy.Integer(0) if phi == -sympy.oo else sympy.exp(p * phi)

    def weight_mp(self, p: Any, s: int) -> mpmath.mpf:
        """``exp(p phi(s))`` at the current mpmath precision, ``0`` where masked."""
        phi = self.phi_exact(s)
        return mpmath.mpf(0) if phi == -sympy.oo else mpmath.exp(p * lower_exact_mp(phi))

    # -- sums over the lags ------------------------------------------------------------------------
    def summable(self, p: sympy.Expr) -> bool:
        """Whether ``sum_{s >= 0} exp(p phi(s))`` converges (padded past allowed)."""
        raise NotImplementedError

    def support(self) -> int | None:
        """Number of lags ``0..S-1`` outside which every weight is 0, or ``None`` (infinite support)."""
        raise NotImplementedError

    def _finite_support(self, p: Any, what: str) -> int:
        """The support size; ValueError for a divergent tail, NotImplementedError for a
        summable type of infinite support that does not override ``what``."""
        size = self.support()
        if size is None:
            if self.summable(p):
                raise NotImplementedError(f"{type(self).__name__} has infinite support: it must override {what}")
            raise ValueError(f"{self.type_name}-RPE has no finite tail sum over an infinite padded past "
                             f"({what}); need {self.summability}")
        return size

    def tail_exact(self, p: sympy.Expr, start: int) -> sympy.Expr:
        """Exact ``sum_{s >= start} exp(p phi(s))`` (finite support: a finite sum)."""
        size = self._finite_support(p, "tail_exact")
        return sum((self.weight_exact(p, s) for s in range(max(int(start), 0), size)), sympy.Integer(0))

    def tail_mp(self, p: Any, start: int) -> mpmath.mpf:
        """``sum_{s >= start} exp(p phi(s))`` at the current mpmath precision."""
        size = self._finite_support(p, "tail_mp")
        lags = range(max(int(start), 0), size)
        return mpmath.fsum(self.weight_mp(p, s) for s in lags) if len(lags) else mpmath.mpf(0)

    def log_tail_float64(self, p: float, starts: np.ndarray) -> np.ndarray:
        """``log sum_{s >= a} exp(p phi(s))`` for each start ``a`` (float64; ``+inf`` if divergent)."""
        a = np.asarray(starts, dtype=float)
        if self.support() is None and not self.summable(p):
            return np.full(a.shape, math.inf)
        size = self._finite_support(p, "log_tail_float64")
        phi = self.phi(np.arange(size))
        logw = p * phi if p != 0 else np.where(np.isfinite(phi), 0.0, -np.inf)
        suffix = np.full(size + 1, -np.inf)
        for i in range(size - 1, -1, -1):  # suffix log-sum-exp
            suffix[i] = np.logaddexp(suffix[i + 1], logw[i])
        return suffix[np.clip(a.astype(int), 0, size)]

    # -- TMX heads (Def. C.5) ----------------------------------------------------------------------
    def tmx_neg_phi(self, z: Any, log: Any) -> Any:
        """``-phi(z)`` at real ``z >= tmx_min`` (elementwise; ``log`` is the backend's logarithm)."""
        raise ValueError(f"TMX heads (Def. C.5) are not defined for {self.type_name}-RPE")

    # -- serialisation -----------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The JSON description ``{"type": type_name, ...}`` (model file format)."""
        return {"type": self.type_name}

    def to_fields(self, number: Any) -> dict:
        """The model-file object; ``number(subpath, value)`` writes a parameter number."""
        return self.to_dict()

    @classmethod
    def from_fields(cls, data: dict, path: str, reader: FieldReader) -> "RPEType":
        """Build from a JSON object whose keys are exactly :attr:`file_keys` (checked by the caller)."""
        return reader.build(path, cls)

    # -- export (PyTorch / TransformerLens) -------------------------------------------------------
    def export_tables(self, ps: list[float]) -> tuple[np.ndarray, np.ndarray]:
        """``(phi table (S+1,), log-tail table (H, S+1))``: ``phi(0..S-1)`` and the value beyond
        at index ``S``; ``log sum_{s >= a} e^{p phi(s)}`` for ``a = 0..S`` and each slope.  A
        type without finite support and without a native formula must override this."""
        size = self.support()
        if size is None:
            raise NotImplementedError(f"{self.type_name}-RPE has infinite support and no export tables or "
                                      f"native torch formula (override export_tables, torch_phi, torch_log_tail)")
        phi = np.concatenate([self.phi(np.arange(size)), [-math.inf]])
        tails = np.stack([self.log_tail_float64(p, np.arange(size + 1)) for p in ps])
        return phi, tails

    def torch_phi(self, lag: Any, phi_table: Any) -> Any:
        """``phi`` at the integer lag tensor ``lag >= 0``: ``phi_table[min(lag, S)]``."""
        return phi_table[lag.clamp(max=phi_table.shape[0] - 1)]

    def torch_log_tail(self, p: Any, starts: Any, logtail_table: Any) -> Any:
        """``log sum_{s >= a} e^{p_h phi(s)}``, tensor (H, len(starts)): the log-tail table."""
        return logtail_table[:, starts.clamp(max=logtail_table.shape[1] - 1)]


_REGISTRY: dict[str, type[RPEType]] = {}


def register_rpe(cls: type[RPEType]) -> type[RPEType]:
    """Add the RPE class ``cls`` to the registry read by :func:`rpe_from_dict` and the model
    file reader (its ``type_name`` must be new); usable as a class decorator."""
    if not (isinstance(cls, type) and issubclass(cls, RPEType)):
        raise TypeError(f"cls must be a subclass of RPEType, got {short_repr(cls)}")
    name = getattr(cls, "type_name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__}.type_name must be a non-empty string, got {short_repr(name)}")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        old = _REGISTRY[name]
        if old.__qualname__ == cls.__qualname__ and inspect.getfile(old) == inspect.getfile(cls):
            return old  # the same module imported under a second name (e.g. a doctest run by path)
        raise ValueError(f"an RPE type named {name!r} is already registered ({_REGISTRY[name].__name__})")
    if "type" not in cls.file_keys:
        raise ValueError(f"{cls.__name__}.file_keys must contain 'type', got {cls.file_keys!r}")
    _REGISTRY[name] = cls
    return cls


def rpe_type_names() -> tuple[str, ...]:
    """Names of the registered RPE types, in registration order."""
    return tuple(_REGISTRY)


def rpe_type(name: Any, path: str = "rpe.type") -> type[RPEType]:
    """The registered class named ``name``; ValueError naming ``path`` and the allowed names."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"{path} must be one of {list(_REGISTRY)}, got {short_repr(name)}")
    return _REGISTRY[name]


def rpe_from_dict(data: Any, reader: FieldReader | None = None, path: str = "rpe") -> RPEType:
    """Inverse of ``to_dict`` for every registered RPE type: checks the keys
    (:attr:`RPEType.file_keys`, all required, no others) and the fields.

    >>> from tfapprox.theory.rpe import rpe_from_dict   # the package registers the types
    >>> rpe_from_dict({"type": "t5", "num_exact": 4, "max_distance": 16, "mask_beyond": True})
    T5RPE(num_exact=4, max_distance=16, mask_beyond=True)
    """
    reader = PlainFieldReader() if reader is None else reader
    if not isinstance(data, dict):
        raise reader.fail(path, f"must be a JSON object with a 'type' field, got {short_repr(data)}", TypeError)
    if "type" not in data:
        raise reader.fail(path, "missing keys ['type']")
    name = data["type"]
    if not isinstance(name, str) or name not in _REGISTRY:
        raise reader.fail(f"{path}.type", f"must be one of {list(_REGISTRY)}, got {short_repr(name)}")
    cls = _REGISTRY[name]
    unknown = [k for k in data if k not in cls.file_keys]
    if unknown:
        raise reader.fail(path, f"unknown keys {unknown}; allowed keys are {list(cls.file_keys)}")
    missing = [k for k in cls.file_keys if k not in data]
    if missing:
        raise reader.fail(path, f"missing keys {missing}")
    return cls.from_fields(data, path, reader)


def export_form(kind: Any) -> RPEType:
    """The object whose ``torch_phi``/``torch_log_tail`` evaluate an exported layer of ``kind``:
    ``"table"`` (tables) or the name of a registered type with a native formula
    (``export_kind == type_name``).  ValueError for anything else (export file readers)."""
    if not isinstance(kind, str) or kind not in export_kinds():
        raise ValueError(f"rpe_kind must be one of {list(export_kinds())}, got {short_repr(kind)}")
    return _TABLE_FORM if kind == "table" else _REGISTRY[kind]()


def export_kinds() -> tuple[str, ...]:
    """The export forms an export file may name: the registered types with a native torch
    formula (``export_kind == type_name``), then ``"table"``."""
    natives = tuple(n for n, c in _REGISTRY.items() if c.export_kind == n and n != "table")
    return natives + ("table",)


class _TableForm(RPEType):
    """The export form of every ``"table"`` layer: lookups in the stored tables only."""

    type_name = "table-form"


_TABLE_FORM = _TableForm()
