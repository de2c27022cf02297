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
import re
from typing import Any, Iterator, Mapping

import sympy
from tfapprox.theory.architecture import (
    FFN_PRECISIONS,
    AttentionHead,
    AttentionLayer,
    Block,
    FeedForward,
    TransformerSpec,
)
from tfapprox.theory.numbers import (
    DEFAULT_DIGITS,
    MAX_EXPONENT,
    MAX_NUMBER_LENGTH,
    NUMBER_PATTERN,
    format_number,
    is_exact_number,
    parse_number,
)
from tfapprox.theory.limits import (
    MAX_HEADS,
    MAX_METADATA_DEPTH,
    MAX_MODEL_DIM,
    MAX_MODEL_FILE_BYTES,
    MAX_PARAMETERS,
    MAX_T5_DISTANCE,
    MAX_TABLE_RPE_ENTRIES,
    MAX_WIDTH,
)
from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, TableRPE
from tfapprox.theory.sequences import PAST_CHOICES
from tfapprox.theory.validation import require_int, short_repr

from .atomic import write_atomic

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

#: The format tag of this version; files with any other tag are refused.
FORMAT = "tfapprox.transformer/1"

_TOP_KEYS = ("format", "past", "input_dim", "width", "output_dim", "lowered_parameters",
             "embedding", "blocks", "metadata")
_LOWERED_KEYS = ("count", "digits", "paths")
_EMBEDDING_KEYS = ("W_E", "b_E")
_BLOCK_KEYS = ("attention", "ffn")
_ATTENTION_KEYS = ("rpe", "normalized", "residual", "W_O", "heads")
_HEAD_KEYS = ("p", "W_V", "W_Q", "W_K")
_FFN_KEYS = ("b", "c", "a", "precision")
_RPE_KEYS = {"lin": ("type",), "log": ("type",),
             "t5": ("type", "num_exact", "max_distance", "mask_beyond"),
             "table": ("type", "values")}

#: Metadata key under which :func:`load_spec` records the file's lowered parameters.
LOWERED_METADATA_KEY = "lowered_parameters"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


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
        if isinstance(rpe, (LinRPE, LogRPE)):
            return {"type": rpe.kind}
        if isinstance(rpe, T5RPE):
            return {"type": "t5", "num_exact": int(rpe.num_exact), "max_distance": int(rpe.max_distance),
                    "mask_beyond": bool(rpe.mask_beyond)}
        if isinstance(rpe, TableRPE):
            return {"type": "table",
                    "values": [None if v is None else self.number(f"{path}.values[{i}]", v)
                               for i, v in enumerate(rpe.values)]}
        raise TypeError(f"{path} must be LinRPE, LogRPE, T5RPE or TableRPE, got {short_repr(rpe)}")


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
    from tfapprox.theory.digits import required_digits

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


# ------------------------------------------------------------------------------- load
class _Decoder:
    """Validating reader of one document; every error names ``source`` and the JSON path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.number_paths: set[str] = set()
        self.parameters = 0  # number strings read so far (bounded by MAX_PARAMETERS)

    def limit(self, path: str, what: str, value: int, maximum: int, name: str) -> None:
        """Refuse a size beyond a limit of :mod:`tfapprox.theory.limits` (before allocating)."""
        if value > maximum:
            raise self.fail(path, f"{what} is {value}, more than the limit {name} = {maximum} "
                                  f"(docs/guarantees.md)")

    def fail(self, path: str, message: str, kind: type[Exception] = ValueError) -> Exception:
        where = f"{self.source}: {path}" if path else self.source
        return kind(f"{where}: {message}")

    def obj(self, value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a JSON object, got {_json_type(value)} {short_repr(value)}",
                            TypeError)
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise self.fail(path, f"unknown keys {unknown}; allowed keys are {list(keys)}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise self.fail(path, f"missing keys {missing}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {_json_type(value)} {short_repr(value)}",
                            TypeError)
        return value

    def integer(self, value: Any, path: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be a JSON integer, got {_json_type(value)} {short_repr(value)}",
                            TypeError)
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def number(self, value: Any, path: str) -> sympy.Rational:
        self.parameters += 1
        if self.parameters > MAX_PARAMETERS:
            raise self.fail(path, f"the file holds more than MAX_PARAMETERS = {MAX_PARAMETERS} numbers "
                                  f"(docs/guarantees.md)")
        try:
            out = parse_number(value, path)
        except TypeError as exc:
            raise TypeError(f"{self.source}: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"{self.source}: {exc}") from None
        self.number_paths.add(path)
        return out

    def vector(self, value: Any, path: str) -> list[sympy.Rational]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array of number strings, got {_json_type(value)} "
                                  f"{short_repr(value)}", TypeError)
        if not value:
            raise self.fail(path, "must not be empty")
        self.limit(path, "the length", len(value), MAX_WIDTH, "MAX_WIDTH")
        return [self.number(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def matrix(self, value: Any, path: str) -> list[list[sympy.Rational]]:
        """A validated rectangular, non-empty matrix as rows of exact numbers (the spec
        classes turn it into a sympy matrix once)."""
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array of rows (arrays of number strings), got "
                                  f"{_json_type(value)} {short_repr(value)}", TypeError)
        if not value:
            raise self.fail(path, "must have at least one row")
        self.limit(path, "the number of rows", len(value), MAX_WIDTH, "MAX_WIDTH")
        if isinstance(value[0], list):
            self.limit(path, "the number of columns", len(value[0]), MAX_WIDTH, "MAX_WIDTH")
            self.limit(path, "the number of entries", len(value) * len(value[0]), MAX_PARAMETERS,
                       "MAX_PARAMETERS")
        rows = []
        for i, row in enumerate(value):
            if not isinstance(row, list):
                raise self.fail(f"{path}[{i}]", f"must be a row (array of number strings), got "
                                                f"{_json_type(row)} {short_repr(row)}", TypeError)
            if len(row) != len(value[0]):
                raise self.fail(path, f"is ragged: row 0 has {len(value[0])} entries, row {i} has {len(row)}")
            rows.append([self.number(v, f"{path}[{i}][{j}]") for j, v in enumerate(row)])
        if not rows[0]:
            raise self.fail(path, "rows must not be empty")
        return rows

    def build(self, path: str, factory: Any, *args: Any, **kwargs: Any) -> Any:
        """Call a spec constructor; its ValueError/TypeError is re-raised naming the path."""
        try:
            return factory(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{self.source}: {path}: {exc}") from None

    # -- sections ------------------------------------------------------------------
    def rpe(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a JSON object, got {_json_type(value)} {short_repr(value)}",
                            TypeError)
        kind = value.get("type")
        if not isinstance(kind, str) or kind not in _RPE_KEYS:
            if "type" not in value:
                raise self.fail(path, "missing keys ['type']")
            raise self.fail(f"{path}.type", f"must be one of {list(_RPE_KEYS)}, got {short_repr(kind)}")
        data = self.obj(value, path, _RPE_KEYS[kind])
        if kind == "lin":
            return LinRPE()
        if kind == "log":
            return LogRPE()
        if kind == "t5":
            b = self.integer(data["num_exact"], f"{path}.num_exact", 1)
            self.limit(f"{path}.num_exact", "num_exact", b, MAX_T5_DISTANCE, "MAX_T5_DISTANCE")
            dmax = self.integer(data["max_distance"], f"{path}.max_distance", b + 1)
            self.limit(f"{path}.max_distance", "max_distance", dmax, MAX_T5_DISTANCE, "MAX_T5_DISTANCE")
            mask = self.boolean(data["mask_beyond"], f"{path}.mask_beyond")
            return self.build(path, T5RPE, b, dmax, mask)
        values = data["values"]
        if not isinstance(values, list):
            raise self.fail(f"{path}.values", f"must be an array of number strings or null, got "
                                              f"{_json_type(values)} {short_repr(values)}", TypeError)
        if not values:
            raise self.fail(f"{path}.values", "must not be empty")
        self.limit(f"{path}.values", "the number of table entries", len(values), MAX_TABLE_RPE_ENTRIES,
                   "MAX_TABLE_RPE_ENTRIES")
        table = tuple(None if v is None else self.number(v, f"{path}.values[{i}]") for i, v in enumerate(values))
        return self.build(path, TableRPE, table)

    def head(self, value: Any, path: str) -> AttentionHead:
        has_tmx = isinstance(value, dict) and "tmx" in value
        data = self.obj(value, path, _HEAD_KEYS + (("tmx",) if has_tmx else ()))
        slope = self.number(data["p"], f"{path}.p")
        w_v = self.matrix(data["W_V"], f"{path}.W_V")
        w_q = None if data["W_Q"] is None else self.matrix(data["W_Q"], f"{path}.W_Q")
        w_k = None if data["W_K"] is None else self.matrix(data["W_K"], f"{path}.W_K")
        w_t = self.matrix(data["tmx"], f"{path}.tmx") if has_tmx else None
        return self.build(path, AttentionHead, w_v, slope, w_q, w_k, w_t)

    def attention(self, value: Any, path: str) -> AttentionLayer:
        data = self.obj(value, path, _ATTENTION_KEYS)
        rpe = self.rpe(data["rpe"], f"{path}.rpe")
        normalized = self.boolean(data["normalized"], f"{path}.normalized")
        residual = self.boolean(data["residual"], f"{path}.residual")
        w_o = self.matrix(data["W_O"], f"{path}.W_O")
        heads_data = data["heads"]
        if not isinstance(heads_data, list):
            raise self.fail(f"{path}.heads", f"must be an array of heads, got {_json_type(heads_data)} "
                                             f"{short_repr(heads_data)}", TypeError)
        if not heads_data:
            raise self.fail(f"{path}.heads", "must hold at least one head")
        self.limit(f"{path}.heads", "the number of heads", len(heads_data), MAX_HEADS, "MAX_HEADS")
        heads = tuple(self.head(h, f"{path}.heads[{i}]") for i, h in enumerate(heads_data))
        return self.build(path, AttentionLayer, heads, w_o, rpe, normalized, residual)

    def ffn(self, value: Any, path: str) -> FeedForward:
        data = self.obj(value, path, _FFN_KEYS)
        inner = self.matrix(data["b"], f"{path}.b")
        bias = [[v] for v in self.vector(data["c"], f"{path}.c")]
        outer = self.matrix(data["a"], f"{path}.a")
        precision = data["precision"]
        if precision not in FFN_PRECISIONS or isinstance(precision, bool):
            raise self.fail(f"{path}.precision", f"must be one of {list(FFN_PRECISIONS)} (null, "
                                                 f"\"round\", \"log_round\"), got {short_repr(precision)}")
        return self.build(path, FeedForward, inner, bias, outer, precision)

    def lowered(self, value: Any, path: str) -> dict[str, Any]:
        data = self.obj(value, path, _LOWERED_KEYS)
        count = self.integer(data["count"], f"{path}.count", 0)
        digits = self.integer(data["digits"], f"{path}.digits", 1)
        paths = data["paths"]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise self.fail(f"{path}.paths", f"must be an array of strings, got {short_repr(paths)}",
                            TypeError)
        if len(paths) != count:
            raise self.fail(path, f"count is {count} but paths lists {len(paths)} parameters")
        if len(set(paths)) != len(paths):
            raise self.fail(f"{path}.paths", "lists a parameter twice")
        return {"count": count, "digits": digits, "paths": list(paths)}

    def document(self, data: Any) -> TransformerSpec:
        if not isinstance(data, dict):
            raise self.fail("", f"the document must be a JSON object, got {_json_type(data)}", TypeError)
        if "format" not in data:
            raise self.fail("", f"missing the key 'format' (expected {FORMAT!r}); not a tfapprox model file")
        fmt = data["format"]
        if fmt != FORMAT:
            raise self.fail("format", f"this file has format {short_repr(fmt)}; this version of tfapprox "
                                      f"reads only {FORMAT!r}")
        self.obj(data, "", _TOP_KEYS)
        past = data["past"]
        if past not in PAST_CHOICES or not isinstance(past, str):
            raise self.fail("past", f"must be one of {list(PAST_CHOICES)}, got {short_repr(past)}")
        input_dim = self.integer(data["input_dim"], "input_dim", 1)
        width = self.integer(data["width"], "width", 1)
        output_dim = self.integer(data["output_dim"], "output_dim", 1)
        for key, value in (("input_dim", input_dim), ("width", width), ("output_dim", output_dim)):
            self.limit(key, key, value, MAX_MODEL_DIM, "MAX_MODEL_DIM")
        lowered = self.lowered(data["lowered_parameters"], "lowered_parameters")
        emb = self.obj(data["embedding"], "embedding", _EMBEDDING_KEYS)
        w_e = self.matrix(emb["W_E"], "embedding.W_E")
        if (len(w_e), len(w_e[0])) != (width, input_dim):
            raise self.fail("embedding.W_E", f"must have shape (width, input_dim) = ({width}, {input_dim}), "
                                             f"got ({len(w_e)}, {len(w_e[0])})")
        b_e = self.vector(emb["b_E"], "embedding.b_E")
        if len(b_e) != width:
            raise self.fail("embedding.b_E", f"must have width = {width} entries, got {len(b_e)}")
        blocks_data = data["blocks"]
        if not isinstance(blocks_data, list):
            raise self.fail("blocks", f"must be an array of blocks, got {_json_type(blocks_data)}", TypeError)
        if not blocks_data:
            raise self.fail("blocks", "must hold at least one block (L >= 1)")
        blocks = []
        for l, b in enumerate(blocks_data):
            path = f"blocks[{l}]"
            bd = self.obj(b, path, _BLOCK_KEYS)
            att = None if bd["attention"] is None else self.attention(bd["attention"], f"{path}.attention")
            ffn = None if bd["ffn"] is None else self.ffn(bd["ffn"], f"{path}.ffn")
            blocks.append(self.build(path, Block, att, ffn))
        metadata = data["metadata"]
        if not isinstance(metadata, dict):
            raise self.fail("metadata", f"must be a JSON object, got {_json_type(metadata)}", TypeError)
        unknown = [p for p in lowered["paths"] if p not in self.number_paths]
        if unknown:
            raise self.fail("lowered_parameters.paths", f"names parameters that are not in the file: "
                                                        f"{short_repr(unknown)}")
        if lowered["count"]:
            metadata = {**metadata, LOWERED_METADATA_KEY: lowered}
        spec = self.build("", TransformerSpec, w_e, [[v] for v in b_e],
                          tuple(blocks), past, metadata)
        if spec.output_dim != output_dim:
            raise self.fail("output_dim", f"is {output_dim} but the model's output width is {spec.output_dim}")
        return spec


def spec_from_dict(data: Any) -> TransformerSpec:
    """Validate a parsed model-file document and build the exact spec.

    Every parameter string becomes a ``sympy.Integer`` or ``sympy.Rational`` (exactly
    the value written).  If the document lowered any parameters
    (``lowered_parameters.count > 0``), the spec's metadata gains the key
    ``"lowered_parameters"`` with that record, so that a spec read from a file with
    rounded values says so (and keeps saying so when saved again).

    Raises
    ------
    ValueError
        Wrong or missing ``format`` (the message names the version found and the one
        supported), unknown or missing keys, bad number strings (named by JSON path,
        e.g. ``blocks[0].attention.heads[3].W_V[0][1]``), ragged matrices, inconsistent
        shapes or anything :class:`~tfapprox.theory.architecture.TransformerSpec` refuses.
    TypeError
        A field of the wrong JSON type.
    """
    return _Decoder("model file").document(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (not standard JSON; parameters are number strings)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


#: A JSON string token (escapes included); removed before counting bracket depth.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def json_depth(text: str) -> int:
    """Nesting depth of the arrays and objects of a JSON text, without parsing it.

    Strings are removed with one regular expression and the brackets of what remains
    are counted with a cumulative sum (numpy), so the cost is linear and nothing
    recurses: this runs *before* ``json.loads`` so that a document nested deeper than
    :data:`~tfapprox.theory.limits.MAX_METADATA_DEPTH` is refused before any
    recursive code (the parser, the metadata copy) sees it.

    >>> json_depth('{"a": [1, [2, "]]]"]], "b": {}}')
    3
    """
    import numpy as np

    stripped = _JSON_STRING.sub("", text).encode("ascii", "replace")
    codes = np.frombuffer(stripped, dtype=np.uint8)
    step = ((codes == ord("[")) | (codes == ord("{"))).astype(np.int64) - \
        ((codes == ord("]")) | (codes == ord("}"))).astype(np.int64)
    return int(np.cumsum(step).max()) if step.size else 0


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {short_repr(text, 40)} is beyond the float64 range (it would load "
                         f"as {value}); JSON numbers in a model file must be finite")
    return value


def read_bounded(path: str | os.PathLike[str], limit: int, what: str) -> bytes:
    """Read at most ``limit`` bytes of ``path``; refuse a larger file (or endless device).

    At most ``limit + 1`` bytes are read, so ``/dev/zero`` or a huge file costs no more
    than the limit.

    Raises
    ------
    ValueError
        The file has more than ``limit`` bytes, or ``path`` is a directory.
    OSError
        The file cannot be opened or read.
    """
    source = os.fspath(path)
    if os.path.isdir(source):
        raise ValueError(f"{what} {source!r} is a directory, not a file")
    with open(source, "rb") as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
        except OSError:  # pragma: no cover
            size = 0
        if size > limit:
            raise ValueError(f"{what} {source!r} has {size} bytes, more than the limit of {limit} bytes "
                             f"(docs/guarantees.md)")
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise ValueError(f"{what} {source!r} has more than the limit of {limit} bytes (docs/guarantees.md)")
    return raw


def load_spec(path: str | os.PathLike[str]) -> TransformerSpec:
    """Read, validate and build the spec stored in a ``tfapprox.transformer/1`` file.

    Reading is bounded (:data:`~tfapprox.theory.limits.MAX_MODEL_FILE_BYTES`), the
    nesting depth is checked before parsing
    (:data:`~tfapprox.theory.limits.MAX_METADATA_DEPTH`, see :func:`json_depth`), then
    parsing is plain JSON (``NaN``/``Infinity`` literals, numbers beyond the float64
    range such as ``1e999999`` and duplicate keys refused) followed by
    :func:`spec_from_dict`'s validation; every error message starts with the file's
    path.  Nothing in the file is evaluated.

    Raises
    ------
    OSError
        The file cannot be read.
    ValueError
        Too large, too deeply nested, invalid UTF-8 or JSON (the message gives line,
        column and character offset), a non-finite number, or any
        :func:`spec_from_dict` error.
    TypeError
        A field of the wrong JSON type.
    """
    source = os.fspath(path)
    raw = read_bounded(source, MAX_MODEL_FILE_BYTES, "model file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source}: not UTF-8 text: byte {exc.start} is invalid ({exc.reason})") from None
    depth = json_depth(text)
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"{source}: the JSON document is nested {depth} levels deep, more than the limit "
                         f"MAX_METADATA_DEPTH = {MAX_METADATA_DEPTH} (docs/guarantees.md)")
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float,
                          object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} "
                         f"(char {exc.pos})") from None
    except ValueError as exc:
        raise ValueError(f"{source}: not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{source}: not valid JSON: nested too deeply") from None
    return _Decoder(source).document(data)
