"""Typed configurations of the checks of ``tfapprox verify`` (one frozen dataclass per check).

A check is a function of its configuration: :class:`CheckConfig` subclasses declare every
option of a check as a dataclass field with a type annotation and :func:`option` metadata
(help text, limits, choices).  The configuration is validated on construction: a bad value
raises ``ValueError``/``TypeError`` naming the field, the value and what is allowed; an
unknown keyword raises ``TypeError``.  From the same declaration come

* the ``tfapprox verify CHECK`` options (:meth:`CheckConfig.add_arguments`: one generic
  argparse builder; the option of field ``n_max`` is ``--n-max``, its default is shown in
  ``--help``), parsed with the project's strict parsers (plain integers, plain decimals,
  :func:`tfapprox.theory.validation.require_int_list` for integer lists);
* the argument list of a configuration (:meth:`CheckConfig.to_argv`), from which ``verify --all``
  names its report files (``thm3.1-rpe-lin-lags-1_5_20-heads-...json``).

Size options (heads, lags, widths, memories, sequence lengths) are checked against the limits
of :mod:`tfapprox.theory.limits` (docs/guarantees.md) by field name (:data:`SIZE_LIMITS`).
The checks themselves reproduce the paper's results (Wang & E 2024, arXiv 2402.00522).
"""

from __future__ import annotations

import argparse
import contextvars
import dataclasses
import re
import types
import typing
from typing import Any, Callable, Iterator, Mapping

from tfapprox.theory import limits as _limits
from tfapprox.theory.families import KernelFamily
from tfapprox.theory.numbers import parse_decimal
from tfapprox.theory.validation import require_int, require_int_list, require_real, short_repr

__all__ = ["CheckConfig", "option", "SIZE_LIMITS", "cli_names", "strict_int", "strict_float", "option_flag",
           "format_value"]

#: Field name -> (limit name in :mod:`tfapprox.theory.limits`, minimum or ``None``): the size
#: options every check refuses beyond their limit, before anything is built.
SIZE_LIMITS: dict[str, tuple[str, int | None]] = {
    "heads": ("MAX_HEADS", None),
    "width": ("MAX_WIDTH", None),
    "widths": ("MAX_WIDTH", None),
    "readout_neurons": ("MAX_READOUT_NEURONS", None),
    "lags": ("MAX_LAG", None),
    "K": ("MAX_MEMORIES", None),
    "M": ("MAX_MEMORIES", None),
    "length": ("MAX_WINDOW_ROWS", None),
}

_CLI_NAMES: contextvars.ContextVar[bool] = contextvars.ContextVar("tfapprox_check_cli_names", default=False)


class cli_names:
    """Context manager: configurations built inside name their fields as command-line options
    (``--n-max`` instead of ``n_max``) in error messages (used by the CLI)."""

    def __enter__(self) -> "cli_names":
        self._token = _CLI_NAMES.set(True)
        return self

    def __exit__(self, *exc: Any) -> None:
        _CLI_NAMES.reset(self._token)


def strict_int(text: str) -> int:
    """A command-line integer: ASCII digits with an optional sign, nothing else (no ``1_0``, no spaces)."""
    if not isinstance(text, str) or not re.fullmatch(r"[+-]?[0-9]{1,30}", text, re.ASCII):
        raise ValueError(f"not a plain integer: {text!r}")
    return int(text)


strict_int.__name__ = "int"  # argparse names the type in its message: "invalid int value"


def strict_float(text: str) -> float:
    """A command-line real: a plain decimal (:func:`tfapprox.theory.numbers.parse_decimal`: no nan,
    inf, ``1_0`` or hexadecimal), the correctly rounded float64."""
    return float(parse_decimal(text, "value", exact=False))


strict_float.__name__ = "float"


def option(default: Any, help: str, *, minimum: int | float | None = None, maximum: int | float | None = None,
           choices: Callable[[], tuple[str, ...]] | tuple[str, ...] | None = None, increasing: bool = False,
           max_items: int | None = None, auto: str | None = None, decimal: bool = False, positive: bool = False,
           allow_empty: bool = False, flag: str | None = None, check: Callable[[str, Any], Any] | None = None) -> Any:
    """A field of a :class:`CheckConfig` with its command-line metadata.

    Parameters
    ----------
    default
        The default value (typed: a tuple for a list option).
    help
        The help text of the option (``--help`` adds the default).
    minimum, maximum
        Limits of an integer or real (each entry of a list).
    choices
        Allowed strings (each entry of a list of strings), or a function returning them (read on
        validation, e.g. :func:`tfapprox.theory.families.family_names`).
    increasing
        A list must be strictly increasing.
    max_items
        Longest list accepted.
    auto
        Command-line word meaning ``None`` (e.g. ``"auto"``: chosen by the check).
    decimal
        A string holding a decimal number (kept as text: the exact value the constructions read).
    positive
        A real must be ``> 0``.
    allow_empty
        A list may be empty (the command line gives an empty string).
    flag
        The command-line option (default ``--`` plus the field name with ``_`` as ``-``).
    check
        A further check ``check(name, value)`` of the normalised value (raises ``ValueError``/``TypeError``).
    """
    meta = {"help": help, "minimum": minimum, "maximum": maximum, "choices": choices, "increasing": increasing,
            "max_items": max_items, "auto": auto, "decimal": decimal, "positive": positive,
            "allow_empty": allow_empty, "flag": flag, "check": check}
    if isinstance(default, list):
        default = tuple(default)
    return dataclasses.field(default=default, metadata=meta)


def option_flag(f: dataclasses.Field) -> str:
    """The command-line option of a field (``n_max`` -> ``--n-max``)."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def _kind(annotation: Any) -> tuple[str, bool]:
    """(``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"ints"``, ``"floats"``, ``"strs"``; whether ``None``
    is allowed)."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported option type {annotation!r}")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return {int: "ints", float: "floats"}.get(item, "strs"), optional
    for name, tp in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if annotation is tp:
            return name, optional
    raise TypeError(f"unsupported option type {annotation!r}")


def _choices(meta: Mapping[str, Any]) -> tuple[str, ...] | None:
    c = meta.get("choices")
    return tuple(c()) if callable(c) else (tuple(c) if c is not None else None)


def _check_limit(name: str, field: str, values: list[int]) -> None:
    if field not in SIZE_LIMITS:
        return
    limit, minimum = SIZE_LIMITS[field]
    maximum = getattr(_limits, limit)
    for v in values:
        if v > maximum:
            raise ValueError(f"{name} {v} is more than the limit {limit} = {maximum} (docs/guarantees.md)")
        if minimum is not None and v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {v}")
    if field == "lags" and len(values) > _limits.MAX_MEMORIES:
        raise ValueError(f"{name} lists {len(values)} lags, more than the limit MAX_MEMORIES = "
                         f"{_limits.MAX_MEMORIES} (docs/guarantees.md)")


def _validate(f: dataclasses.Field, kind: str, optional: bool, value: Any, name: str) -> Any:
    """``value`` checked (and normalised: lists as tuples) for field ``f``; errors name ``name``."""
    value = _validate_kind(f, kind, optional, value, name)
    if value is not None and f.metadata.get("check") is not None:
        f.metadata["check"](name, value)
    return value


def _real(meta: Mapping[str, Any], value: Any, name: str) -> float:
    if isinstance(value, str):
        value = parse_decimal(value, name, exact=False)
    positive = bool(meta.get("positive"))
    value = float(require_real(name, value, minimum=0.0 if positive else meta.get("minimum"),
                               strict_minimum=positive, maximum=meta.get("maximum")))
    if positive and meta.get("minimum") is not None:
        require_real(name, value, minimum=meta["minimum"])
    return value


def _validate_kind(f: dataclasses.Field, kind: str, optional: bool, value: Any, name: str) -> Any:
    meta = f.metadata
    if value is None or (meta.get("auto") is not None and value == meta["auto"]):
        if optional:
            return None
        raise TypeError(f"{name} must not be None")
    lo, hi = meta.get("minimum"), meta.get("maximum")
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
        return value
    if kind == "int":
        value = require_int(name, value)
        _check_limit(name, f.name, [value])
        return require_int(name, value, minimum=lo, maximum=hi)
    if kind == "float":
        return _real(meta, value, name)
    if kind == "floats":
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise TypeError(f"{name} must be a list of real numbers or a comma-separated string, got "
                            f"{short_repr(value)}")
        if not items:
            raise ValueError(f"{name} must list at least one value, got {short_repr(value)}")
        return tuple(_real(meta, v, name) for v in items)
    if kind == "str":
        if isinstance(value, KernelFamily):
            value = value.name
        if meta.get("decimal") and not isinstance(value, str):
            require_real(name, value)
            value = str(value)
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {short_repr(value)} of type {type(value).__name__}")
        if meta.get("decimal"):
            number = parse_decimal(value, name, exact=True)
            if meta.get("positive") and not number > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        allowed = _choices(meta)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in allowed)}; got {short_repr(value)}")
        return value
    if kind == "ints":
        if isinstance(value, str) and not value.strip() and meta.get("allow_empty"):
            return ()
        if isinstance(value, (list, tuple)) and not value and meta.get("allow_empty"):
            return ()
        if not isinstance(value, (str, list, tuple)):
            raise TypeError(f"{name} must be a list of integers or a comma-separated string, got "
                            f"{short_repr(value)} of type {type(value).__name__}")
        values = require_int_list(name, value, max_items=meta.get("max_items"))
        if not values:
            raise ValueError(f"{name} must not be empty")
        _check_limit(name, f.name, values)
        values = [require_int(name, v, minimum=lo, maximum=hi) for v in values]
        if meta.get("increasing") and any(b <= a for a, b in zip(values, values[1:])):
            raise ValueError(f"{name} must be strictly increasing, got {values}")
        return tuple(values)
    # strs: a comma-separated string or a sequence of strings (families as their names)
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = [v.name if isinstance(v, KernelFamily) else v for v in value]
        for v in items:
            if not isinstance(v, str):
                raise TypeError(f"{name} entries must be strings, got {short_repr(v)}")
        items = [v.strip() for v in items]
    else:
        raise TypeError(f"{name} must be a list of strings or a comma-separated string, got {short_repr(value)}")
    if not items and not meta.get("allow_empty"):
        raise ValueError(f"{name} must list at least one value, got {short_repr(value)}")
    allowed = _choices(meta)
    for v in items:
        if allowed is not None and v not in allowed:
            raise ValueError(f"{name} entries must be among {', '.join(repr(c) for c in allowed)}; got {v!r}")
    return tuple(items)


def format_value(value: Any) -> str:
    """A configuration value as command-line text (lists comma-separated)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclasses.dataclass(frozen=True)
class CheckConfig:
    """Base class of the typed check configurations (subclasses are frozen dataclasses whose fields
    are declared with :func:`option`).

    Construction validates every field (``ValueError``/``TypeError`` naming the field, the value
    and what is allowed) and normalises lists to tuples; fields typed ``str`` with
    ``choices=family_names`` also accept a :class:`~tfapprox.theory.families.KernelFamily`.
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        cli = _CLI_NAMES.get()
        for f in dataclasses.fields(self):
            kind, optional = _kind(hints[f.name])
            name = option_flag(f) if cli else f.name
            object.__setattr__(self, f.name, _validate(f, kind, optional, getattr(self, f.name), name))

    # ------------------------------------------------------------------ introspection
    @classmethod
    def options(cls) -> Iterator[tuple[dataclasses.Field, str, bool]]:
        """Every field with its kind (see :func:`_kind`) and whether it may be ``None``."""
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            kind, optional = _kind(hints[f.name])
            yield f, kind, optional

    @classmethod
    def create(cls, **options: Any) -> "CheckConfig":
        """The configuration from keyword options; an unknown one raises ``TypeError`` listing the known ones."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in options if k not in known]
        if unknown:
            raise TypeError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                            f"for {cls.__name__}; allowed: {', '.join(known)}")
        return cls(**options)

    # ------------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Declare one command-line option per field (the generic builder of ``verify CHECK``)."""
        for f, kind, optional in cls.options():
            meta = f.metadata
            flag = option_flag(f)
            if kind == "bool":
                parser.add_argument(flag, dest=f.name, action="store_true", help=meta["help"])
                continue
            if f.default is None:
                default = meta.get("auto")  # None, or the word meaning "chosen by the check"
            else:
                default = format_value(f.default)
            kw: dict[str, Any] = {"dest": f.name, "default": default, "help": meta["help"]}
            if kind == "int" and meta.get("auto") is None:
                kw["type"] = strict_int
            elif kind == "float":
                kw["type"] = strict_float
            elif kind == "str" and _choices(meta) is not None:
                kw["choices"] = list(_choices(meta))
            parser.add_argument(flag, **kw)

    @classmethod
    def from_namespace(cls, options: argparse.Namespace) -> "CheckConfig":
        """The configuration from parsed command-line options (errors name the options: ``--n-max``)."""
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if not hasattr(options, f.name):
                continue
            value = getattr(options, f.name)
            kind, _ = _kind(hints[f.name])
            auto = f.metadata.get("auto")
            if kind == "int" and isinstance(value, str) and value != auto:
                try:
                    value = strict_int(value)
                except ValueError:
                    name = option_flag(f) if _CLI_NAMES.get() else f.name
                    raise ValueError(f"{name} must be an integer"
                                     + (f" or {auto!r}" if auto else "") + f", got {value!r}") from None
            values[f.name] = value
        return cls(**values)

    def to_argv(self, names: Iterator[str] | None = None) -> list[str]:
        """The command-line arguments of this configuration: of the fields ``names`` in that order
        (default: every field)."""
        by_name = {f.name: f for f in dataclasses.fields(self)}
        argv: list[str] = []
        for name in (names if names is not None else by_name):
            f = by_name[name]
            value = getattr(self, name)
            if isinstance(value, bool):
                if value:
                    argv.append(option_flag(f))
                continue
            if value is None:
                if f.metadata.get("auto") is None:
                    continue
                value = f.metadata["auto"]
            argv += [option_flag(f), format_value(value)]
        return argv

    def as_dict(self) -> dict[str, Any]:
        """The options as a dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
