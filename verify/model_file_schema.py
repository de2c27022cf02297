"""The ``"tfapprox.transformer/1"`` model file schema: the format tag and the keys of each object.

Shared by the writer (:mod:`tfapprox.verify.model_file`) and the strict reader
(:mod:`tfapprox.verify.model_file_load`); the RPE object's keys come from the RPE type
(:attr:`tfapprox.theory.rpe.RPEType.file_keys`).  The schema is documented field by field in
``docs/model-format.md`` (the model of eqs. (2)-(4), (15) of the paper).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMAT", "TOP_KEYS", "LOWERED_KEYS", "EMBEDDING_KEYS", "BLOCK_KEYS", "ATTENTION_KEYS", "HEAD_KEYS",
           "FFN_KEYS", "LOWERED_METADATA_KEY", "json_type"]

#: The format tag of this version; files with any other tag are refused.
FORMAT = "tfapprox.transformer/1"

#: Keys of the top-level object, in the order the writer emits them.
TOP_KEYS = ("format", "past", "input_dim", "width", "output_dim", "lowered_parameters",
            "embedding", "blocks", "metadata")
#: Keys of ``lowered_parameters``.
LOWERED_KEYS = ("count", "digits", "paths")
#: Keys of ``embedding`` (eq. (2)).
EMBEDDING_KEYS = ("W_E", "b_E")
#: Keys of a block (``null`` for an absent sub-layer).
BLOCK_KEYS = ("attention", "ffn")
#: Keys of an attention layer (eq. (3)); the ``rpe`` object's keys come from its type.
ATTENTION_KEYS = ("rpe", "normalized", "residual", "W_O", "heads")
#: Keys of a head (plus the optional ``tmx`` row of a TMX head, Def. C.5).
HEAD_KEYS = ("p", "W_V", "W_Q", "W_K")
#: Keys of an FFN (eq. (15) precision included).
FFN_KEYS = ("b", "c", "a", "precision")

#: Metadata key under which :func:`~tfapprox.verify.model_file_load.load_spec` records the file's lowered parameters.
LOWERED_METADATA_KEY = "lowered_parameters"


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value (``"null"``, ``"boolean"``, ``"number"``, ...)."""
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
