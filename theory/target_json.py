"""The JSON form of targets and memory functions (``format: "tfapprox.target/1"``).

A target of the paper's three classes (H^Fix, eqs. (5)-(6); H^Adap, eqs. (7')-(10); H^Ess,
eqs. (13)-(14)) is written by its ``to_dict`` method as a JSON object: integers (``d``, lags,
``nesting``) are JSON integers, real numbers exact strings
(:func:`tfapprox.theory.numbers.rational_to_str`), readouts, memory functions and kernels
nested objects with a ``kind`` field.  Reading it back evaluates nothing (no pickle, no
sympify); unknown or missing fields raise ``ValueError``.

This module holds the format tag, the field checks shared by every reader, and the two
readers :func:`target_from_dict` and :func:`memory_function_from_dict`, which dispatch on
``kind`` to the loader registered by the module defining that kind
(:mod:`tfapprox.theory.target_classes` registers ``"fixed"``, ``"adaptive"``,
``"essential"``; :mod:`tfapprox.theory.memory_functions` registers ``"table"``,
``"relu"``).  Import targets through :mod:`tfapprox.theory.targets`, which loads every
kind; a new kind is one class with ``to_dict`` plus one :func:`register_target_kind` call.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .messages import short_repr
from .validation import require_int

__all__ = [
    "TARGET_FORMAT",
    "target_from_dict",
    "memory_function_from_dict",
    "register_target_kind",
    "register_memory_function_kind",
    "check_target_description",
    "check_fields",
    "json_int_list",
]

#: The ``format`` tag of a target's JSON description.
TARGET_FORMAT = "tfapprox.target/1"

_TARGET_LOADERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {}
_MEMORY_FUNCTION_LOADERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {}


def _register(registry: dict, what: str, kind: str, loader: Callable[[Mapping[str, Any]], Any]) -> None:
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a non-empty string, got {short_repr(kind)}")
    if not callable(loader):
        raise TypeError(f"loader must be callable, got {short_repr(loader)}")
    if registry.get(kind, loader) is not loader:
        raise ValueError(f"a {what} kind {kind!r} is already registered")
    registry[kind] = loader


def register_target_kind(kind: str, loader: Callable[[Mapping[str, Any]], Any]) -> None:
    """Let :func:`target_from_dict` read descriptions with ``"kind": kind`` through ``loader``.

    ``loader(data)`` receives the whole description and returns the target; it should call
    :func:`check_target_description` and :func:`check_fields` first.  Registering another
    loader under a known kind raises ``ValueError``.
    """
    _register(_TARGET_LOADERS, "target", kind, loader)


def register_memory_function_kind(kind: str, loader: Callable[[Mapping[str, Any]], Any]) -> None:
    """Let :func:`memory_function_from_dict` read ``"kind": kind`` through ``loader``."""
    _register(_MEMORY_FUNCTION_LOADERS, "memory function", kind, loader)


def _kinds(registry: dict) -> str:
    """``'a', 'b' or 'c'``: the registered kinds, for error messages."""
    names = [repr(k) for k in registry]
    if not names:
        return "one of the registered kinds (none loaded: import tfapprox.theory.targets)"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def check_target_description(data: Any, kind: str) -> Mapping[str, Any]:
    """Check that ``data`` is a target description of this ``format`` and ``kind``; return it."""
    if not isinstance(data, Mapping):
        raise TypeError(f"a target description must be a JSON object, got {short_repr(data)}")
    if data.get("format") != TARGET_FORMAT:
        raise ValueError(f"target format must be {TARGET_FORMAT!r}, got {short_repr(data.get('format'))}")
    if data.get("kind") != kind:
        raise ValueError(f"target kind must be {kind!r} here, got {short_repr(data.get('kind'))}")
    return data


def check_fields(data: Mapping[str, Any], fields: set[str], what: str) -> None:
    """Refuse a description whose fields are not exactly ``fields`` (``what`` names the object)."""
    if set(data) != fields:
        raise ValueError(f"a {what} needs exactly the fields {sorted(fields)}, got {sorted(data)}")


def json_int_list(name: str, value: Any) -> list[int]:
    """A JSON list of integers (``TypeError`` for anything else, naming ``name``)."""
    if not isinstance(value, list):
        raise TypeError(f"{name} must be a list of integers, got {short_repr(value)}")
    return [require_int(f"{name}[{i}]", v) for i, v in enumerate(value)]


def target_from_dict(data: Mapping[str, Any]) -> Any:
    """Rebuild any target from its ``to_dict`` description.

    Integers (``d``, lags, nesting) are JSON integers; real numbers are exact strings
    (:func:`tfapprox.theory.numbers.rational_to_str`).  Nothing is evaluated: no pickle,
    no sympify; unknown or missing fields raise ``ValueError``.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"a target description must be a JSON object, got {short_repr(data)}")
    kind = data.get("kind")
    loader = _TARGET_LOADERS.get(kind) if isinstance(kind, str) else None
    if loader is None:
        raise ValueError(f"target kind must be {_kinds(_TARGET_LOADERS)}; got {short_repr(kind)}")
    return loader(data)


def memory_function_from_dict(data: Mapping[str, Any]) -> Any:
    """Rebuild a memory function from ``to_dict`` output (nothing is evaluated)."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ValueError(f"memory function must be an object with a 'kind' field, got {short_repr(data)}")
    kind = data["kind"]
    loader = _MEMORY_FUNCTION_LOADERS.get(kind) if isinstance(kind, str) else None
    if loader is None:
        raise ValueError(f"memory function kind must be {_kinds(_MEMORY_FUNCTION_LOADERS)}; got {short_repr(kind)} "
                         f"(callable memory functions cannot be loaded)")
    return loader(data)
