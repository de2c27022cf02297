"""How a value is quoted in an error message (docs/contributing.md, Style).

Every check of tfapprox raises ``ValueError``/``TypeError`` naming the parameter, the value
received and what is allowed; :func:`short_repr` is how the value is shown.  It lives in this
bottom module, which imports nothing of tfapprox, so that the exact-number rule
(:mod:`tfapprox.theory.rationals`), the validation helpers (:mod:`tfapprox.theory.validation`,
which re-exports it) and the number text (:mod:`tfapprox.theory.numbers`) can all use it
without importing each other in a cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["short_repr"]


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr`` of ``value`` cut to ``limit`` characters, for error messages.

    >>> short_repr("x" * 100, limit=10)
    "'xxxxxx..."
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
