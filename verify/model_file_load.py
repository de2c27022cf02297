"""Reading model files (format ``"tfapprox.transformer/1"``): bounded, strict, never executing.

:func:`load_spec` reads at most :data:`~tfapprox.theory.limits.MAX_MODEL_FILE_BYTES` bytes,
checks the nesting depth before parsing (:func:`json_depth`), parses plain JSON (no
``NaN``/``Infinity``, no number beyond the float64 range, no duplicate keys) and
:func:`spec_from_dict` validates every object against the schema
(:mod:`tfapprox.verify.model_file_schema`): exact keys, JSON types, the size limits of
:mod:`tfapprox.theory.limits` checked before anything is allocated, number strings parsed
by the grammar of :func:`~tfapprox.theory.numbers.parse_number` (never ``sympify``, ``eval``
or ``pickle``).  The RPE object is read by its type (:meth:`tfapprox.theory.rpe.RPEType.from_fields`
through the registry), with this reader supplying the limits and the error messages that
name the file and the JSON path.  The model is that of the paper's eqs. (2)-(4), (15).
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

import numpy as np
import sympy
from tfapprox.theory.architecture import (
    FFN_PRECISIONS,
    AttentionHead,
    AttentionLayer,
    Block,
    FeedForward,
    TransformerSpec,
)
from tfapprox.theory.limits import (
    MAX_HEADS,
    MAX_METADATA_DEPTH,
    MAX_MODEL_DIM,
    MAX_MODEL_FILE_BYTES,
    MAX_PARAMETERS,
    MAX_WIDTH,
)
from tfapprox.theory.numbers import parse_number
from tfapprox.theory.rpe import RPEType, rpe_from_dict
from tfapprox.theory.sequences import PAST_CHOICES
from tfapprox.theory.validation import short_repr

from .model_file_schema import (
    ATTENTION_KEYS,
    BLOCK_KEYS,
    EMBEDDING_KEYS,
    FFN_KEYS,
    FORMAT,
    HEAD_KEYS,
    LOWERED_KEYS,
    LOWERED_METADATA_KEY,
    TOP_KEYS,
    json_type,
)

__all__ = ["spec_from_dict", "load_spec", "json_depth", "read_bounded", "ModelFileReader"]


class ModelFileReader:
    """Validating reader of one document; every error names ``source`` and the JSON path.

    It is the :class:`~tfapprox.theory.rpe.FieldReader` handed to the RPE types.
    """

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
        """The exception ``kind`` with the file and JSON ``path`` in its message (raise it)."""
        where = f"{self.source}: {path}" if path else self.source
        return kind(f"{where}: {message}")

    def obj(self, value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
        """``value`` as a JSON object with exactly the ``keys`` (missing or unknown keys refused)."""
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a JSON object, got {json_type(value)} {short_repr(value)}",
                            TypeError)
        unknown = [k for k in value if k not in keys]
        if unknown:
            raise self.fail(path, f"unknown keys {unknown}; allowed keys are {list(keys)}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise self.fail(path, f"missing keys {missing}")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        """``value`` if it is a JSON boolean."""
        if not isinstance(value, bool):
            raise self.fail(path, f"must be true or false, got {json_type(value)} {short_repr(value)}",
                            TypeError)
        return value

    def integer(self, value: Any, path: str, minimum: int) -> int:
        """``value`` as a JSON integer ``>= minimum``."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be a JSON integer, got {json_type(value)} {short_repr(value)}",
                            TypeError)
        if value < minimum:
            raise self.fail(path, f"must be >= {minimum}, got {value}")
        return value

    def number(self, value: Any, path: str) -> sympy.Rational:
        """``value`` as an exact number (strict decimal or ``p/q`` string), counted against ``MAX_PARAMETERS``."""
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
        """``value`` as a list of exact numbers."""
        if not isinstance(value, list):
            raise self.fail(path, f"must be an array of number strings, got {json_type(value)} "
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
                                  f"{json_type(value)} {short_repr(value)}", TypeError)
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
                                                f"{json_type(row)} {short_repr(row)}", TypeError)
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
    def rpe(self, value: Any, path: str) -> RPEType:
        """The RPE object through the registry: the type's keys and field checks
        (:func:`tfapprox.theory.rpe.rpe_from_dict` with this reader's limits and messages)."""
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a JSON object, got {json_type(value)} {short_repr(value)}",
                            TypeError)
        return rpe_from_dict(value, reader=self, path=path)

    def head(self, value: Any, path: str) -> AttentionHead:
        """An :class:`~tfapprox.theory.architecture.AttentionHead` from its JSON object."""
        has_tmx = isinstance(value, dict) and "tmx" in value
        data = self.obj(value, path, HEAD_KEYS + (("tmx",) if has_tmx else ()))
        slope = self.number(data["p"], f"{path}.p")
        w_v = self.matrix(data["W_V"], f"{path}.W_V")
        w_q = None if data["W_Q"] is None else self.matrix(data["W_Q"], f"{path}.W_Q")
        w_k = None if data["W_K"] is None else self.matrix(data["W_K"], f"{path}.W_K")
        w_t = self.matrix(data["tmx"], f"{path}.tmx") if has_tmx else None
        return self.build(path, AttentionHead, w_v, slope, w_q, w_k, w_t)

    def attention(self, value: Any, path: str) -> AttentionLayer:
        """An :class:`~tfapprox.theory.architecture.AttentionLayer` from its JSON object."""
        data = self.obj(value, path, ATTENTION_KEYS)
        rpe = self.rpe(data["rpe"], f"{path}.rpe")
        normalized = self.boolean(data["normalized"], f"{path}.normalized")
        residual = self.boolean(data["residual"], f"{path}.residual")
        w_o = self.matrix(data["W_O"], f"{path}.W_O")
        heads_data = data["heads"]
        if not isinstance(heads_data, list):
            raise self.fail(f"{path}.heads", f"must be an array of heads, got {json_type(heads_data)} "
                                             f"{short_repr(heads_data)}", TypeError)
        if not heads_data:
            raise self.fail(f"{path}.heads", "must hold at least one head")
        self.limit(f"{path}.heads", "the number of heads", len(heads_data), MAX_HEADS, "MAX_HEADS")
        heads = tuple(self.head(h, f"{path}.heads[{i}]") for i, h in enumerate(heads_data))
        return self.build(path, AttentionLayer, heads, w_o, rpe, normalized, residual)

    def ffn(self, value: Any, path: str) -> FeedForward:
        """A :class:`~tfapprox.theory.architecture.FeedForward` from its JSON object."""
        data = self.obj(value, path, FFN_KEYS)
        inner = self.matrix(data["b"], f"{path}.b")
        bias = [[v] for v in self.vector(data["c"], f"{path}.c")]
        outer = self.matrix(data["a"], f"{path}.a")
        precision = data["precision"]
        if precision not in FFN_PRECISIONS or isinstance(precision, bool):
            raise self.fail(f"{path}.precision", f"must be one of {list(FFN_PRECISIONS)} (null, "
                                                 f"\"round\", \"log_round\"), got {short_repr(precision)}")
        return self.build(path, FeedForward, inner, bias, outer, precision)

    def lowered(self, value: Any, path: str) -> dict[str, Any]:
        """The optional ``lowered`` block (float64 copies of the weights) checked against the spec."""
        data = self.obj(value, path, LOWERED_KEYS)
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
        """The :class:`~tfapprox.theory.architecture.TransformerSpec` of a whole model-file document."""
        if not isinstance(data, dict):
            raise self.fail("", f"the document must be a JSON object, got {json_type(data)}", TypeError)
        if "format" not in data:
            raise self.fail("", f"missing the key 'format' (expected {FORMAT!r}); not a tfapprox model file")
        fmt = data["format"]
        if fmt != FORMAT:
            raise self.fail("format", f"this file has format {short_repr(fmt)}; this version of tfapprox "
                                      f"reads only {FORMAT!r}")
        self.obj(data, "", TOP_KEYS)
        past = data["past"]
        if past not in PAST_CHOICES or not isinstance(past, str):
            raise self.fail("past", f"must be one of {list(PAST_CHOICES)}, got {short_repr(past)}")
        input_dim = self.integer(data["input_dim"], "input_dim", 1)
        width = self.integer(data["width"], "width", 1)
        output_dim = self.integer(data["output_dim"], "output_dim", 1)
        for key, value in (("input_dim", input_dim), ("width", width), ("output_dim", output_dim)):
            self.limit(key, key, value, MAX_MODEL_DIM, "MAX_MODEL_DIM")
        lowered = self.lowered(data["lowered_parameters"], "lowered_parameters")
        emb = self.obj(data["embedding"], "embedding", EMBEDDING_KEYS)
        w_e = self.matrix(emb["W_E"], "embedding.W_E")
        if (len(w_e), len(w_e[0])) != (width, input_dim):
            raise self.fail("embedding.W_E", f"must have shape (width, input_dim) = ({width}, {input_dim}), "
                                             f"got ({len(w_e)}, {len(w_e[0])})")
        b_e = self.vector(emb["b_E"], "embedding.b_E")
        if len(b_e) != width:
            raise self.fail("embedding.b_E", f"must have width = {width} entries, got {len(b_e)}")
        blocks_data = data["blocks"]
        if not isinstance(blocks_data, list):
            raise self.fail("blocks", f"must be an array of blocks, got {json_type(blocks_data)}", TypeError)
        if not blocks_data:
            raise self.fail("blocks", "must hold at least one block (L >= 1)")
        blocks = []
        for l, b in enumerate(blocks_data):
            path = f"blocks[{l}]"
            bd = self.obj(b, path, BLOCK_KEYS)
            att = None if bd["attention"] is None else self.attention(bd["attention"], f"{path}.attention")
            ffn = None if bd["ffn"] is None else self.ffn(bd["ffn"], f"{path}.ffn")
            blocks.append(self.build(path, Block, att, ffn))
        metadata = data["metadata"]
        if not isinstance(metadata, dict):
            raise self.fail("metadata", f"must be a JSON object, got {json_type(metadata)}", TypeError)
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
    return ModelFileReader("model file").document(data)


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
    return ModelFileReader(source).document(data)
