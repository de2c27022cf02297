"""One-head models that realise a memory kernel exactly (experiments H.2.7 / H.2.8 of Wang & E 2024).

A single DP-free head with slope ``p = beta`` and RPE ``phi`` gives lag ``s`` the weight
``exp(beta phi(s)) / Z``; with the value weight ``W_V = Z`` (the finite normaliser over the
tokens of the sequence, past ``'none'``) the head's output is ``sum_s exp(-beta x(s)) x_{t-s}``
exactly: ``e^{-beta s}`` for lin-RPE, ``s^{-beta}`` for log-RPE (eq. (4), App. H.2.7/H.2.8).
"""

from __future__ import annotations

from typing import Any

import sympy

from tfapprox.theory.architecture import Block, TransformerSpec
from tfapprox.theory.families import kernel_family
from tfapprox.theory.validation import require_int

from .thm5_1 import kernel_attention_layer

__all__ = ["one_head_kernel_spec"]


def one_head_kernel_spec(rpe: Any, beta: Any, length: int) -> TransformerSpec:
    """The one-layer, one-head model whose output at the last of ``length`` tokens is
    ``sum_s exp(-beta x(s)) x_{t-s}`` (past ``'none'``, finite normaliser in ``W_V``, no residual).

    Parameters
    ----------
    rpe
        Kernel family (``"lin"``, ``"log"`` or a :class:`~tfapprox.theory.families.KernelFamily`).
    beta
        The rate (a decimal number or string; used exactly as the decimal it denotes).
    length
        Sequence length ``L >= 2`` the normaliser sums over.

    Examples
    --------
    >>> spec = one_head_kernel_spec("log", "0.5", 8)
    >>> spec.metadata["construction"], len(spec.blocks)
    ('h2 one head log', 1)
    """
    family = kernel_family(rpe)
    L = require_int("length", length, minimum=2)
    b = sympy.Rational(str(beta))
    layer = kernel_attention_layer(family.name, [([b], [1])], 1, length=L, residual=False)
    return TransformerSpec(sympy.Matrix([[1]]), sympy.Matrix([[0]]), (Block(layer, None),), "none",
                           {"construction": f"h2 one head {family.name}"})
