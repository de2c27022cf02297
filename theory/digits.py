"""The digits policy: how many decimal digits a model's weights need (issue 12).

One number per model, ``required_digits(spec)``, serves two purposes:

(a) a model file stores every non-rational (lowered) weight at this many significant
    decimal digits (``metadata["precision_digits"]``, written by every builder), and
(b) the mpmath backend evaluates at this working precision by default; an explicit
    ``dps`` below it is refused (:class:`~tfapprox.verify.model.PrecisionError`).

The policy.  The constructions' weights cancel: a Lemma F.1 kernel is
``sum_h a_h e^{-p_h s}`` with ``|a_h|`` up to about ``10^{0.75 H}`` summing to a number of
size one.  Arithmetic at ``dps`` digits then carries an absolute error of about
``S 10^{-dps}``, where ``S`` bounds the magnitudes that are summed.  For one block,

* attention: ``A_att = [residual] + ||W_O||_inf sum_h ||W_V^h||_inf`` (``||.||_inf``: the
  largest absolute row sum), the largest value an output coordinate can reach from
  hidden states of sup norm one when every attention weight is at most one (normalised
  heads: the softmax weights are at most one);
* FFN: ``A_ffn = [residual] + sum_j max_i |a_ij| (||b_j||_1 + |c_j|)``;
* embedding: ``A_emb = max(1, ||W_E||_inf + ||b_E||_inf)``;

and ``S = prod_blocks max(1, A_att) max(1, A_ffn) * A_emb`` bounds the magnitude of every
intermediate sum at inputs of sup norm ``<= 1`` (errors made in one block are amplified
by at most the later blocks' factors).  The policy is

    ``digits = max(MIN_DPS, ceil(log10 S) + OUTPUT_DIGITS + GUARD_DIGITS)``

with ``OUTPUT_DIGITS = 20`` and ``GUARD_DIGITS = 5``.

What this guarantees.  (a) Rounding each lowered weight ``w`` to ``digits`` significant
digits moves it by at most ``|w| 10^{1 - digits} / 2``; summed over the weights that enter
one output this is at most ``S 10^{1 - digits} / 2 <= 10^{-(OUTPUT_DIGITS + GUARD_DIGITS - 1)}
/ 2 = 5e-25`` at inputs of sup norm ``<= 1`` (for DP-free normalised heads over the padded
past exactly so; :mod:`tfapprox.verify.file_certificate` certifies the reloaded file's error
rigorously for every construction).  (b) mpmath evaluation at ``digits`` carries a relative
error ``10^{-digits}`` per operation on numbers of size at most ``S``, i.e. an absolute
output error of about ``n_ops 10^{-(OUTPUT_DIGITS + GUARD_DIGITS)}``, below ``1e-15`` for
every model of fewer than ``10^{10}`` operations per output, at inputs of sup norm
``<= 1`` (scale linearly for larger inputs).  This is a first-order rounding estimate,
not an interval enclosure.  Normalization-free heads (Thm 4.1, 4.4) multiply by
``e^{logit}``, which no static bound on the weights sees; their builders add the
logit range they know (``extra_log10``), and the float64 path keeps its run-time
estimate.

Examples
--------
>>> import sympy
>>> from tfapprox.theory.architecture import Block, FeedForward, TransformerSpec
>>> ffn = FeedForward([[1]], [[0]], [[sympy.Integer(10) ** 40]])
>>> spec = TransformerSpec(sympy.Matrix([[1]]), sympy.Matrix([[0]]), (Block(None, ffn),), "padded", {})
>>> required_digits(spec)
65
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import mpmath
import sympy

from tfapprox.theory.architecture import TransformerSpec
from tfapprox.theory.families import kernel_family
from tfapprox.theory.limits import MAX_DPS, MIN_DPS

__all__ = ["OUTPUT_DIGITS", "GUARD_DIGITS", "weights_log10", "required_digits", "digits_from_log10",
           "declared_digits", "unnormalised_log10", "with_precision_digits"]

#: Decimal digits of the outputs the policy aims for (absolute, at inputs of sup norm <= 1).
OUTPUT_DIGITS = 20
#: Guard digits on top (operation counts, the tails' closed forms, the rounding of inputs).
GUARD_DIGITS = 5


def _abs_log10(v: Any) -> float:
    """``log10 |v|`` of one exact weight (``-inf`` for zero), without float overflow."""
    if v == 0:
        return -math.inf
    if isinstance(v, (int, sympy.Integer)):
        n = abs(int(v))
        return math.log10(n) if n.bit_length() < 1000 else (n.bit_length() - 1) * math.log10(2)
    if isinstance(v, sympy.Rational):
        return _abs_log10(v.p) - _abs_log10(v.q)
    if isinstance(v, (float, mpmath.mpf)):
        with mpmath.workdps(15):
            return float(mpmath.log10(abs(mpmath.mpf(v))))
    value = sympy.Expr.evalf(sympy.Abs(v), 15)
    if not isinstance(value, sympy.Float):
        raise ValueError(f"cannot size the weight {v!r}: not a real number")
    with mpmath.workdps(15):
        m = mpmath.mpf(value._mpf_)
        return -math.inf if m == 0 else float(mpmath.log10(m))


def _log10_sum(logs: list[float]) -> float:
    """``log10 sum_i 10^{logs_i}`` without overflow (``-inf`` for an empty or all-zero list)."""
    finite = [x for x in logs if x != -math.inf]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log10(sum(10.0 ** (x - top) for x in finite))


def _row_sums_log10(m: sympy.MatrixBase) -> list[float]:
    return [_log10_sum([_abs_log10(m[i, j]) for j in range(m.cols) if m[i, j] != 0]) for i in range(m.rows)]


def _inf_norm_log10(m: sympy.MatrixBase) -> float:
    rows = _row_sums_log10(m)
    return max(rows) if rows else -math.inf


_CACHE: dict[int, float] = {}


def weights_log10(spec: TransformerSpec) -> float:
    """``log10 S``: the amplification bound of the module docstring (``>= 0``).

    Cached per spec object (specs are immutable): a builder's value is reused by
    :attr:`Model.required_digits <tfapprox.verify.model.Model.required_digits>`.
    """
    if not isinstance(spec, TransformerSpec):
        raise TypeError(f"spec must be a TransformerSpec, got {type(spec).__name__}")
    key = id(spec)
    if key in _CACHE:
        return _CACHE[key]
    value = _weights_log10(spec)
    _CACHE[key] = value
    weakref.finalize(spec, _CACHE.pop, key, None)
    return value


def _weights_log10(spec: TransformerSpec) -> float:
    emb = _log10_sum([_inf_norm_log10(spec.embedding), _inf_norm_log10(spec.embedding_bias)])
    total = max(0.0, emb)
    for block in spec.blocks:
        att = block.attention
        if att is not None:
            heads = _log10_sum([_inf_norm_log10(h.value) for h in att.heads])
            a = _inf_norm_log10(att.output) + heads if heads != -math.inf else -math.inf
            if att.residual:
                a = _log10_sum([a, 0.0])
            total += max(0.0, a)
        ffn = block.ffn
        if ffn is not None:
            terms = []
            for j in range(ffn.inner.rows):
                col = max((_abs_log10(ffn.outer[i, j]) for i in range(ffn.outer.rows)), default=-math.inf)
                if col == -math.inf:
                    continue
                row = _log10_sum([_abs_log10(ffn.inner[j, k]) for k in range(ffn.inner.cols)]
                                 + [_abs_log10(ffn.bias[j, 0])])
                if row != -math.inf:
                    terms.append(col + row)
            a = _log10_sum(terms + [0.0])  # FFN blocks keep the residual connection (eq. (2))
            total += max(0.0, a)
    return total


def digits_from_log10(log10_magnitude: float) -> int:
    """``max(MIN_DPS, ceil(log10 S) + OUTPUT_DIGITS + GUARD_DIGITS)``, capped at ``MAX_DPS``
    (a model needing more is refused with ``ValueError``)."""
    if not (log10_magnitude == log10_magnitude) or log10_magnitude == math.inf:
        raise ValueError(f"log10 of the weights' magnitude must be finite, got {log10_magnitude!r}")
    digits = max(MIN_DPS, math.ceil(max(log10_magnitude, 0.0)) + OUTPUT_DIGITS + GUARD_DIGITS)
    if digits > MAX_DPS:
        raise ValueError(f"the model's weights need {digits} decimal digits, above the limit MAX_DPS = {MAX_DPS}")
    return digits


def required_digits(spec: TransformerSpec, extra_log10: float = 0.0) -> int:
    """The digits the weights of ``spec`` need (the policy of the module docstring).

    ``extra_log10`` adds a known amplification the weights do not show (for
    normalization-free heads: the largest ``log10 e^{logit}`` of the construction).
    """
    return digits_from_log10(weights_log10(spec) + max(0.0, float(extra_log10)))


def declared_digits(spec: TransformerSpec) -> int | None:
    """``metadata["precision_digits"]`` when it is a positive int, else ``None``."""
    v = spec.metadata.get("precision_digits") if hasattr(spec.metadata, "get") else None
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return v
    return None


def unnormalised_log10(rpe: Any, exponents: Any, max_shift: int) -> float:
    """``max_h log10(e^{p_h B} Z(p_h))`` over shifts ``B <= max_shift``: the l1 mass of the
    attention weights ``e^{-p (s - B)}`` (lin) or ``(s / B)^{-p}`` (log) of a normalization-free
    Lemma F.2/F.5 head, which :func:`weights_log10` cannot see (it assumes weights <= 1).
    ``Z(p) = 1/(1 - e^{-p})`` (lin) or ``zeta(p)`` (log): the family's normaliser.

    ``rpe`` is a kernel family or its name (``"lin"``, ``"log"``; :func:`~tfapprox.theory.families.kernel_family`).
    """
    family = kernel_family(rpe)
    shift = max(int(max_shift), family.first_lag)
    best = 0.0
    with mpmath.workdps(20):
        for p in exponents:
            b = mpmath.mpf(sympy.Rational(p).p) / sympy.Rational(p).q
            v = b * family.coordinate_mp(shift) / mpmath.log(10) + mpmath.log10(family.normaliser_mp(b))
            best = max(best, float(v))
    return best


def with_precision_digits(spec: TransformerSpec, extra_log10: float = 0.0) -> TransformerSpec:
    """``spec`` with ``metadata["precision_digits"] = required_digits(spec, extra_log10)``
    (what every builder records; the model file stores lowered weights at these digits)."""
    digits = required_digits(spec, extra_log10)
    meta = dict(spec.metadata)
    meta["precision_digits"] = digits
    out = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past, meta)
    if id(out) not in _CACHE:  # same weights: reuse the computed magnitude
        _CACHE[id(out)] = weights_log10(spec)
        weakref.finalize(out, _CACHE.pop, id(out), None)
    return out
