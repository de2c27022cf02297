"""Relative positional encodings (paper eq. (4), App. G.1), one module per type plus a registry.

An RPE gives the additive attention logit ``p * phi(s)`` at lag ``s = t - j >= 0``
(causal: lags ``s < 0`` are masked).  The un-normalised weight of lag ``s`` is therefore
``exp(p * phi(s))``:

* :class:`LinRPE` (:mod:`.lin`): ``phi_lin(s) = -s`` (ALiBi-type), weight ``e^{-p s}``;
* :class:`LogRPE` (:mod:`.log`): ``phi_log(s) = -log s`` for ``s >= 1`` and ``-inf`` at ``s = 0``
  (KERPLE(log)-type), weight ``s^{-p}``; log-RPE heads never see the current token;
* :class:`T5RPE` (:mod:`.t5`): T5's bucketed encoding (App. G.1), ``phi(s) = -bucket(s)``;
* :class:`TableRPE` (:mod:`.table`): a user-supplied ``phi`` as a finite table, ``-inf`` beyond;
* :class:`QuadraticRPE` (:mod:`.quadratic`): ``phi(s) = -s^2``, weight ``e^{-p s^2}`` (not in
  the paper; the worked example of adding a type).

Each type is an :class:`~.base.RPEType`: it owns ``phi``, the tail sums
``sum_{s >= a} exp(p phi(s))`` that make attention over an infinite padded past exact
(Differences from the paper, D17) exactly, in float64 and in mpmath, its JSON form and
what the PyTorch/TransformerLens export needs.  A new type is one module defining a
subclass decorated with :func:`register_rpe`, imported here.
"""

from __future__ import annotations

from typing import Union

from ..numbers import to_exact
from .base import (
    FieldReader,
    PlainFieldReader,
    RPEType,
    export_form,
    export_kinds,
    register_rpe,
    rpe_from_dict,
    rpe_type,
    rpe_type_names,
)
# registration order = the order types are listed in messages: the paper's, T5, table, then new ones
from .lin import LinRPE
from .log import LogRPE
from .t5 import T5RPE
from .table import TableRPE
from .quadratic import QuadraticRPE  # noqa: I001

__all__ = ["LinRPE", "LogRPE", "T5RPE", "TableRPE", "QuadraticRPE", "RPE", "RPEType", "FieldReader",
           "PlainFieldReader", "register_rpe", "rpe_type", "rpe_type_names", "rpe_from_dict", "export_form",
           "export_kinds", "to_exact"]

RPE = Union[LinRPE, LogRPE, T5RPE, TableRPE, QuadraticRPE]
"""The built-in RPE types (type hints); any registered :class:`RPEType` subclass is accepted."""
