"""Certified fast lowering of irrational weights (theory/numbers.py, issue 15 item 2).

``_lower`` first encloses the value in ball arithmetic (python-flint ``arb``) and accepts
the text only when every number within relative ``10^-(digits+guard-1)`` of the exact value
(the ball, widened to cover sympy's evalf result) gives the same ``to_str`` text; otherwise it
falls back to sympy's ``evalf(strict=True)``.  These tests compare the fast text with the
evalf text (``_lower_sympy``, the previous path) on random expressions and on the
constructions' actual weights, check that the fast path really answers where it should, and
that it hands every hard case (rounding boundary, power of two, exact zero, unsupported node,
non-real value, huge exponent) to evalf.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import SYMBOLIC_NUMBERS, exact_numbers
from tfapprox.theory import numbers
from tfapprox.theory.numbers import _GUARD_DIGITS, _format_rational, _lower, _lower_ball, _lower_sympy, parse_number

R = sympy.Rational


def _fast_text(expr: sympy.Expr, digits: int) -> str | None:
    """The fast path's final text (as ``_lower`` writes it), or None when it declines."""
    text = _lower_ball(expr, digits)
    return None if text is None else _format_rational(parse_number(text))


def _sympy_outcome(expr: sympy.Expr, digits: int) -> tuple[str, str]:
    try:
        return "ok", _lower_sympy(expr, digits, "w")
    except ValueError as exc:
        return "error", str(exc)


def _lower_outcome(expr: sympy.Expr, digits: int) -> tuple[str, str]:
    try:
        return "ok", _lower(expr, digits, "w")
    except ValueError as exc:
        return "error", str(exc)


# ------------------------------------------------------------------ random expressions
def _positive(x: sympy.Expr) -> sympy.Expr:
    return sympy.Abs(x) + R(1, 7)


def _expressions() -> st.SearchStrategy[sympy.Expr]:
    leaves = exact_numbers(symbolic=True)

    def extend(children: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda p: p[0] + p[1]),
            pairs.map(lambda p: p[0] - p[1]),
            pairs.map(lambda p: p[0] * p[1]),
            pairs.map(lambda p: p[0] / _positive(p[1])),
            st.tuples(children, st.integers(-3, 4)).map(lambda p: p[0] ** p[1] if p[0] != 0 else p[0]),
            st.tuples(children, st.sampled_from([R(1, 2), R(-1, 2), R(1, 3), R(5, 2), R(-7, 3)])).map(
                lambda p: _positive(p[0]) ** p[1]),
            children.map(lambda x: sympy.exp(-sympy.Abs(x))),
            children.map(lambda x: sympy.exp(x / 4)),
            children.map(lambda x: sympy.log(_positive(x))),
            children.map(lambda x: sympy.sqrt(_positive(x))),
            children.map(lambda x: 1 / (1 - sympy.exp(-_positive(x)))),  # the Lemma F.1 normaliser
            children.map(lambda x: sympy.zeta(1 + _positive(x))),  # the Lemma F.4 normaliser
            st.tuples(children, children).map(lambda p: sympy.zeta(2 + sympy.Abs(p[0]), _positive(p[1]))),
        )

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=_expressions(), digits=st.one_of(st.integers(1, 60), st.sampled_from([100, 250])))
def test_fast_text_equals_evalf_text(expr: sympy.Expr, digits: int) -> None:
    """Wherever the ball path answers, its text is the evalf path's text; ``_lower`` as a
    whole (ball or fallback) always gives the evalf path's outcome."""
    fast = _fast_text(expr, digits)
    slow = _sympy_outcome(expr, digits)
    if fast is not None:
        assert slow == ("ok", fast), (expr, digits)
    assert _lower_outcome(expr, digits) == slow


@pytest.mark.parametrize("digits", [1, 2, 5, 17, 50, 400, 3200])
@pytest.mark.parametrize("expr", SYMBOLIC_NUMBERS, ids=str)
def test_symbolic_numbers_take_the_fast_path(expr: sympy.Expr, digits: int) -> None:
    fast = _fast_text(expr, digits)
    assert fast is not None, "the ball path must answer for the constructions' kinds of numbers"
    assert fast == _lower_sympy(expr, digits, "w")


@pytest.mark.parametrize("expr", [
    R(7, 3) / (1 - sympy.exp(-R(1, 10 ** 6))),  # heavy cancellation in 1 - e^{-beta}: retried
    R(-12345, 17) / (1 - sympy.exp(-R(3, 2))),
    R(2, 9) * sympy.zeta(R(201, 100)),
    R(-5, 3) * sympy.zeta(R(3, 2), R(1, 4)),
    sympy.Add(*[sympy.exp(-R(1, 50) * s) for s in range(40)]),  # finite normaliser (Thm 5.1)
    sympy.exp(R(1, 3)) * sympy.pi ** 2 - sympy.log(7) * sympy.sqrt(5) / 11,
    sympy.E ** R(1, 5) + sympy.EulerGamma,
    R(10) ** -400 * sympy.sqrt(2),  # small magnitudes (binary exponent -1330)
    R(10) ** 500 * sympy.pi,
])
@pytest.mark.parametrize("digits", [3, 50, 700])
def test_fast_path_on_construction_like_values(expr: sympy.Expr, digits: int) -> None:
    fast = _fast_text(expr, digits)
    assert fast is not None
    assert fast == _lower_sympy(expr, digits, "w")


# -------------------------------------------------------- cases that must go to evalf
def test_rounding_boundary_goes_to_evalf() -> None:
    # 1.5 - 10^-40 sqrt(2): correctly rounded to 1 digit it is 1, but evalf at 1 + guard
    # digits returns 1.5, which to_str rounds to 2.  The ball (widened by the evalf
    # tolerance) straddles the boundary 1.5, so the fast path must decline and _lower
    # must write what evalf writes.
    expr = R(3, 2) - sympy.sqrt(2) / R(10) ** 40
    assert _lower_ball(expr, 1) is None
    assert _lower(expr, 1, "w") == _lower_sympy(expr, 1, "w") == "2"
    # relative 10^-3 from the boundary (beyond the 10^-(digits+4) allowance) the fast path answers
    expr = R(3, 2) - sympy.sqrt(2) / R(10) ** 3
    assert _fast_text(expr, 1) == _lower_sympy(expr, 1, "w") == "1"


def _to_str_threshold(boundary: Fraction, digits: int) -> Fraction:
    """The point where ``to_str(., digits)`` switches from rounding down to rounding up near
    the half-way ``boundary`` (found by bisection on exact binary numbers; mpmath's to_str
    truncates before it rounds, so its switch lies a few units of the 23rd digit away)."""
    from mpmath.libmp import from_rational, to_str

    def text(x: Fraction) -> str:
        return to_str(from_rational(x.numerator, x.denominator, 800), digits)

    lo, hi = boundary * (1 - Fraction(1, 10 ** (digits + 1))), boundary * (1 + Fraction(1, 10 ** (digits + 1)))
    down, up = text(lo), text(hi)
    assert down != up
    for _ in range(400):
        mid = (lo + hi) / 2
        if text(mid) == down:
            lo = mid
        else:
            hi = mid
    return hi


@pytest.mark.parametrize("side", [1, -1])
@pytest.mark.parametrize("digits, boundary", [
    (20, Fraction(123456789012345678905, 10 ** 20)),  # half-way between two 20-digit numbers
    (3, Fraction(-7775, 10 ** 7)),
])
def test_value_within_tolerance_of_rounding_switch_goes_to_evalf(digits: int, boundary: Fraction,
                                                                 side: int) -> None:
    """A value within relative 10^-(digits+guard+2) of the point where the evalf path's
    rounding switches: evalf's own error could put it on either side, so the fast path
    must decline and the text is evalf's."""
    t = _to_str_threshold(abs(boundary), digits) * (1 if boundary > 0 else -1)
    offset = side * sympy.exp(-R(1, 3)) * R(abs(t.numerator), t.denominator) / R(10) ** (digits + _GUARD_DIGITS + 2)
    expr = R(t.numerator, t.denominator) + offset
    assert _lower_ball(expr, digits) is None
    assert _lower(expr, digits, "w") == _lower_sympy(expr, digits, "w")
    # relative 10^-(digits+2) away (beyond the 10^-(digits+4) to_str allowance) the fast path answers
    far = R(t.numerator, t.denominator) + offset * R(10) ** (_GUARD_DIGITS + 1)
    assert _fast_text(far, digits) == _lower_sympy(far, digits, "w")


def test_power_of_two_straddle() -> None:
    # a ball around 2 (to_str's binary scaling changes there) is fine: 2 is no rounding boundary
    expr = 2 - sympy.sqrt(3) / R(10) ** 60
    assert _fast_text(expr, 5) == _lower_sympy(expr, 5, "w") == "2"


def test_exact_zero_goes_to_evalf() -> None:
    zero = sympy.sqrt(5 + 2 * sympy.sqrt(6)) - sympy.sqrt(2) - sympy.sqrt(3)  # not auto-simplified
    assert zero != 0
    assert _lower_ball(zero, 20) is None
    assert _lower(zero, 20, "w") == "0"


@pytest.mark.parametrize("expr", [
    sympy.sin(R(1, 3)),  # node the ball evaluator does not know
    sympy.gamma(R(1, 3)) / 7,
    sympy.exp(-sympy.exp(R(20))),  # decimal exponent about -2e8, beyond MAX_EXPONENT
])
def test_unsupported_or_out_of_range_goes_to_evalf(expr: sympy.Expr) -> None:
    assert _lower_ball(expr, 30) is None
    assert _lower_outcome(expr, 30) == _sympy_outcome(expr, 30)


@pytest.mark.parametrize("expr", [
    (-2) ** R(1, 3),  # complex
    sympy.log(-R(1, 2)),  # complex
    sympy.sqrt(-R(3)) + 1,  # complex
])
def test_non_real_values_still_raise(expr: sympy.Expr) -> None:
    assert _lower_ball(expr, 30) is None
    with pytest.raises(ValueError, match="w = "):
        _lower(expr, 30, "w")


def test_free_symbols_still_raise_before_any_evaluation() -> None:
    with pytest.raises(ValueError, match="free symbols"):
        _lower(sympy.Symbol("x") + sympy.sqrt(2), 30, "w")


def test_working_precision_is_restored() -> None:
    from flint import ctx

    before = ctx.prec
    _lower(sympy.sqrt(2), 3000, "w")
    _lower(sympy.sin(1), 30, "w")  # fallback path
    assert _lower_ball(sympy.log(-R(1, 2)), 30) is None  # declined inside the evaluation
    assert ctx.prec == before


def test_lowering_counts() -> None:
    before = dict(numbers.LOWERING_COUNTS)
    _lower(sympy.sqrt(2), 10, "w")
    _lower(sympy.sin(1), 10, "w")
    assert numbers.LOWERING_COUNTS["ball"] == before["ball"] + 1
    assert numbers.LOWERING_COUNTS["sympy"] == before["sympy"] + 1


# ------------------------------------------------------------- the constructions' weights
def _documents(construction: str, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict, int]:
    """Model documents with and without the ball path, and how many weights it lowered."""
    from tfapprox.api import build_construction
    from tfapprox.verify.model_file import spec_to_dict

    _, model = build_construction(construction, **options)
    before = numbers.LOWERING_COUNTS["ball"]
    fast = spec_to_dict(model.spec)
    used = numbers.LOWERING_COUNTS["ball"] - before
    with monkeypatch.context() as m:
        m.setattr(numbers, "_lower_ball", lambda expr, digits: None)
        slow = spec_to_dict(model.spec)
    return fast, slow, used


@pytest.mark.parametrize("construction, options, lowered", [
    ("thm3.1", {"lags": "20", "heads": 64}, 63),
    ("thm3.1", {"lags": "1,5,20", "heads": 64}, 20),
    ("thm3.1", {"lags": "20", "heads": 256}, 256),
    ("thm3.1", {"lags": "20", "heads": 128, "rpe": "log"}, 127),  # zeta normalisers (Lemma F.4)
    ("thm3.1", {"lags": "5", "heads": 32, "alpha": "0.5", "gamma": "0.25"}, 31),
    ("thm4.1", {"heads": 8}, 8),
    ("thm4.1", {"heads": 8, "rpe": "log"}, 22),
    ("thm4.4", {"heads": 8}, 36),
    ("thm4.4", {"heads": 8, "rpe": "log"}, 53),
    ("thm5.1", {"heads": 8}, 8),
    ("thm5.1", {"heads": 8, "kernel": "poly:2.5"}, 7),
])
def test_construction_files_identical(construction: str, options: dict, lowered: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The model document written with the ball path equals the evalf-only document
    (as JSON values, so byte for byte once dumped) at the constructions' own digits, and
    every lowered weight took the ball path."""
    fast, slow, used = _documents(construction, options, monkeypatch)
    assert fast == slow
    assert fast["lowered_parameters"]["count"] == lowered
    assert used == lowered
