"""Model files: the versioned JSON format ``"tfapprox.transformer/1"``.

A model file holds one :class:`~tfapprox.theory.architecture.TransformerSpec`: the
embedding, the ``L`` blocks of eq. (2) (attention layers of eq. (3) with their RPE of
eq. (4), FFNs with the optional precision of eq. (15)), the past semantics
(``"padded"`` or ``"none"``, Differences from the paper, D17) and the construction's metadata.
The schema is documented field by field in ``docs/model-format.md``.

Numbers.  Every parameter is a JSON *string* in one of three forms (the grammar
:data:`NUMBER_PATTERN`):

* an integer, ``"-3"``;
* a finite decimal, ``"0.0125"``, ``"-2.5e-300"``;
* a fraction ``"p/q"`` of integers, ``"1/3"``.

Exactness rule.  Integers and rationals whose reduced denominator has no prime factor
other than 2 and 5 (every float64, every dyadic and every decimal number) are written
as their *exact* finite decimal; other rationals as an exact fraction ``"p/q"``.  Any
other value (``sqrt(2)``, ``exp(-1/100)``, ...) is *lowered* to ``digits`` significant
decimal digits by ``sympy`` ``evalf`` (``strict=True``, 10 guard digits) and listed,
by its JSON path, under the top-level ``"lowered_parameters"``; nothing is approximated
silently.  Reading a file converts each string to ``sympy.Integer`` / ``sympy.Rational``
from the digits matched by the grammar: files never go through ``sympify``, ``eval`` or
``pickle``, so loading never runs code.

Saving is atomic (:func:`tfapprox.verify.atomic.write_atomic`): the text is written to a
temporary file in the target's directory, flushed and ``fsync``-ed, then moved over the
target with ``os.replace``; on any error or on ``SIGINT``/``SIGTERM`` the old file is
left untouched and the temporary file is removed.  The file gets mode ``0o600`` minus
the umask (an existing file's wider mode is not kept).

Reading is bounded: at most :data:`~tfapprox.theory.limits.MAX_MODEL_FILE_BYTES` bytes,
a nesting depth of :data:`~tfapprox.theory.limits.MAX_METADATA_DEPTH` checked before the
JSON parser recurses, no non-finite JSON number anywhere (``1e999999`` would parse as
infinity), and the size limits of :mod:`tfapprox.theory.limits` on heads, widths,
dimensions, parameters, T5 ``max_distance`` and table RPE entries, checked before the
matrices are built.

Examples
--------
>>> import sympy
>>> from tfapprox.verify.model_file import format_number, parse_number
>>> format_number(sympy.Rational(1, 80)), format_number(sympy.Rational(1, 3))
('0.0125', '1/3')
>>> format_number(sympy.sqrt(2), digits=12)
'1.41421356237'
>>> parse_number("-1.5e-3")
-3/2000
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator, Mapping

import sympy
from tfapprox.theory.architecture import TransformerSpec
from tfapprox.theory.digits import required_digits
from tfapprox.theory.numbers import (
    DEFAULT_DIGITS,
    MAX_EXPONENT,
    MAX_NUMBER_LENGTH,
    NUMBER_PATTERN,
    format_number,
    is_exact_number,
    parse_number,
)
from tfapprox.theory.rpe import RPEType
from tfapprox.theory.validation import require_int, short_repr

from .atomic import write_atomic
from .model_file_load import json_depth, load_spec, read_bounded, spec_from_dict
from .model_file_schema import FORMAT, LOWERED_METADATA_KEY

__all__ = [
    "FORMAT",
    "DEFAULT_DIGITS",
    "NUMBER_PATTERN",
    "MAX_EXPONENT",
    "MAX_NUMBER_LENGTH",
    "LOWERED_METADATA_KEY",
    "format_number",
    "is_exact_number",
    "parse_number",
    "spec_to_dict",
    "spec_from_dict",
    "save_spec",
    "load_spec",
    "json_depth",
    "read_bounded",
]

# ------------------------------------------------------------------------------- save
class _Encoder:
    def __init__(self, digits: int) -> None:
        self.digits = digits
        self.lowered: list[str] = []

    def number(self, path: str, value: Any) -> str:
        text = format_number(value, digits=self.digits, where=path)
        if not is_exact_number(value):
            self.lowered.append(path)
        return text

    def matrix(self, path: str, m: sympy.MatrixBase) -> list[list[str]]:
        if m.rows == 0 or m.cols == 0:
            raise ValueError(f"{path} has shape {m.shape}; a model file cannot hold an empty matrix "
                             f"(its column count would be lost)")
        return [[self.number(f"{path}[{i}][{j}]", m[i, j]) for j in range(m.cols)] for i in range(m.rows)]

    def vector(self, path: str, m: sympy.MatrixBase) -> list[str]:
        if m.rows == 0:
            raise ValueError(f"{path} is empty; a model file cannot hold an empty vector")
        return [self.number(f"{path}[{i}]", m[i, 0]) for i in range(m.rows)]

    def rpe(self, path: str, rpe: Any) -> dict[str, Any]:
        """The RPE object as the type writes it (:meth:`~tfapprox.theory.rpe.RPEType.to_fields`)."""
        if not isinstance(rpe, RPEType):
            raise TypeError(f"{path} must be an RPEType (LinRPE, LogRPE, ...), got {short_repr(rpe)}")
        return rpe.to_fields(lambda sub, value: self.number(f"{path}.{sub}", value))


def _json_metadata(value: Any, where: str) -> Any:
    """A JSON copy of the (frozen) metadata; refuses anything that is not a JSON value."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if value.bit_length() > 13_000:  # beyond Python's 4300-digit int/str limit
            raise ValueError(f"{where} is an integer of about {value.bit_length() * 3 // 10} digits; "
                             f"store such a number in metadata as a string")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} = {value} is not finite; JSON has no NaN or infinity")
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has the key {short_repr(k)} of type {type(k).__name__}; "
                                f"JSON object keys are strings")
            out[k] = _json_metadata(v, f"{where}[{k!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [_json_metadata(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} = {short_repr(value)} of type {type(value).__name__} is not a JSON value "
                    f"(allowed: dict with str keys, list, tuple, str, int, float, bool, None)")


def _resolve_digits(spec: TransformerSpec, digits: int | None) -> int:
    """Digits of the lowered parameters: ``digits`` if given (recorded in the file), else the
    larger of ``metadata["precision_digits"]`` (:data:`DEFAULT_DIGITS` without it) and the
    digits the weights need (:func:`tfapprox.theory.digits.required_digits`), so that a file
    written by default is never rounded below what its weights need, whatever the metadata
    says."""
    if digits is not None:
        return require_int("digits", digits, minimum=1)
    meta = spec.metadata.get("precision_digits")
    declared = DEFAULT_DIGITS if meta is None else require_int("metadata['precision_digits']", meta, minimum=1)
    try:
        needed = required_digits(spec)
    except (ValueError, TypeError):  # e.g. a free symbol: the encoder below names the parameter
        needed = 0
    return max(declared, needed)


def spec_to_dict(spec: TransformerSpec, *, digits: int | None = None) -> dict[str, Any]:
    """The JSON document (a dict of JSON values) of ``spec`` in format ``tfapprox.transformer/1``.

    Parameters
    ----------
    spec
        The model.  Its metadata must hold JSON values only.
    digits
        Significant digits for parameters that are not rational (lowered parameters).
        Default: the larger of ``spec.metadata["precision_digits"]`` (:data:`DEFAULT_DIGITS`,
        50, without it) and the digits the weights need
        (:func:`tfapprox.theory.digits.required_digits`).

    Returns
    -------
    dict
        Keys in order ``format, past, input_dim, width, output_dim, lowered_parameters,
        embedding, blocks, metadata`` (see ``docs/model-format.md``).

    Raises
    ------
    TypeError
        ``spec`` is not a TransformerSpec, or its metadata holds a non-JSON value (the
        message names the key).
    ValueError
        A parameter has free symbols, is not a finite real number, or exceeds the size
        limits; an empty matrix.
    """
    if not isinstance(spec, TransformerSpec):
        raise TypeError(f"spec must be a TransformerSpec, got {short_repr(spec)} of type {type(spec).__name__}")
    digits = _resolve_digits(spec, digits)
    metadata = _json_metadata(spec.metadata, "metadata")
    enc = _Encoder(digits)
    embedding = {"W_E": enc.matrix("embedding.W_E", spec.embedding),
                 "b_E": enc.vector("embedding.b_E", spec.embedding_bias)}
    blocks: list[dict[str, Any]] = []
    for l, block in enumerate(spec.blocks):
        path = f"blocks[{l}]"
        entry: dict[str, Any] = {"attention": None, "ffn": None}
        att = block.attention
        if att is not None:
            apath = f"{path}.attention"
            heads = []
            for h, head in enumerate(att.heads):
                hpath = f"{apath}.heads[{h}]"
                heads.append({
                    "p": enc.number(f"{hpath}.p", head.slope),
                    "W_V": enc.matrix(f"{hpath}.W_V", head.value),
                    "W_Q": None if head.query is None else enc.matrix(f"{hpath}.W_Q", head.query),
                    "W_K": None if head.key is None else enc.matrix(f"{hpath}.W_K", head.key),
                })
                if head.tmx is not None:  # optional key: files without TMX heads are unchanged
                    heads[-1]["tmx"] = enc.matrix(f"{hpath}.tmx", head.tmx)
            entry["attention"] = {
                "rpe": enc.rpe(f"{apath}.rpe", att.rpe),
                "normalized": bool(att.normalized),
                "residual": bool(att.residual),
                "W_O": enc.matrix(f"{apath}.W_O", att.output),
                "heads": heads,
            }
        if block.ffn is not None:
            fpath = f"{path}.ffn"
            entry["ffn"] = {
                "b": enc.matrix(f"{fpath}.b", block.ffn.inner),
                "c": enc.vector(f"{fpath}.c", block.ffn.bias),
                "a": enc.matrix(f"{fpath}.a", block.ffn.outer),
                "precision": block.ffn.precision,
            }
        blocks.append(entry)
    return {
        "format": FORMAT,
        "past": spec.past,
        "input_dim": spec.input_dim,
        "width": spec.width,
        "output_dim": spec.output_dim,
        "lowered_parameters": {"count": len(enc.lowered), "digits": digits, "paths": list(enc.lowered)},
        "embedding": embedding,
        "blocks": blocks,
        "metadata": metadata,
    }


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _iter_json(obj: Any, level: int = 0) -> Iterator[str]:
    """JSON text in pieces: objects indented, arrays of scalars on one line (matrix rows)."""
    pad = "  " * level
    if isinstance(obj, dict):
        if not obj:
            yield "{}"
            return
        yield "{\n"
        last = len(obj) - 1
        for i, (key, value) in enumerate(obj.items()):
            yield f"{pad}  {json.dumps(key)}: "
            yield from _iter_json(value, level + 1)
            yield ",\n" if i < last else "\n"
        yield pad + "}"
    elif isinstance(obj, list):
        if all(_is_scalar(v) for v in obj):
            yield json.dumps(obj, allow_nan=False)
            return
        yield "[\n"
        last = len(obj) - 1
        for i, value in enumerate(obj):
            yield pad + "  "
            yield from _iter_json(value, level + 1)
            yield ",\n" if i < last else "\n"
        yield pad + "]"
    else:
        yield json.dumps(obj, allow_nan=False)


def save_spec(spec: TransformerSpec, path: str | os.PathLike[str], *, digits: int | None = None) -> None:
    """Write ``spec`` to ``path`` as a ``tfapprox.transformer/1`` model file, atomically.

    The document is built (and every value checked) before the disk is touched; it is
    then written by :func:`tfapprox.verify.atomic.write_atomic`: a new temporary file in
    the same directory, flushed and ``fsync``-ed, moved over ``path`` with ``os.replace``
    (the directory is ``fsync``-ed too where the platform allows).  If anything fails
    (or ``SIGINT``/``SIGTERM`` arrives), ``path`` keeps its old content and the
    temporary file is removed.  The file gets mode ``0o600`` minus the umask, also when
    it replaces an existing file with a wider mode.

    Parameters
    ----------
    spec
        The model to write.
    path
        Target file.
    digits
        Significant digits of lowered parameters (see :func:`spec_to_dict`).
    """
    data = spec_to_dict(spec, digits=digits)

    def text() -> Iterator[str]:
        yield from _iter_json(data)
        yield "\n"

    write_atomic(path, text(), name="model file")


