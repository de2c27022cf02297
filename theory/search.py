"""Smallest size meeting a target: the one search behind every "heads needed" number.

Used for the heads an explicit bound needs (:func:`tfapprox.verify.experiments.heads_needed_bound`,
:func:`tfapprox.verify.tightness.heads_for_epsilon`, Proposition 4.5's check), the heads a measured
error needs, and the last bump of a decaying memory kernel
(:func:`tfapprox.constructions.lemma_f3_f6.essential_kernel`).
"""

from __future__ import annotations

from typing import Callable

from .validation import require_int, require_real

__all__ = ["smallest_satisfying"]


def smallest_satisfying(ok: Callable[[int], bool], start: int = 1, *, factor: int = 2, limit: int | None = None,
                        rel_tol: float = 0.0) -> int | None:
    """Smallest integer ``n >= start`` with ``ok(n)``, for a predicate that is false then true.

    Grows ``n = start, start*factor, ...`` (capped at ``limit``) until ``ok(n)``, then bisects
    between the last failing and the first passing point until they are adjacent or within
    ``rel_tol`` relative (the passing end is returned).  ``None`` if ``ok(limit)`` is false.  If
    ``ok`` is not monotone the result is *a* passing point whose predecessor on the search path
    fails, not necessarily the smallest.

    >>> smallest_satisfying(lambda n: n * n >= 1000)
    32
    >>> smallest_satisfying(lambda n: n >= 10 ** 9, factor=4, rel_tol=1e-3) in range(10 ** 9, 10 ** 9 + 10 ** 6 + 1)
    True
    >>> smallest_satisfying(lambda n: False, limit=64) is None
    True
    """
    n = require_int("start", start, minimum=1)
    factor = require_int("factor", factor, minimum=2)
    if limit is not None:
        limit = require_int("limit", limit, minimum=n)
    rel_tol = float(require_real("rel_tol", rel_tol, minimum=0.0))
    failing = None
    while not ok(n):
        if limit is not None and n >= limit:
            return None
        failing = n
        n = n * factor if limit is None else min(n * factor, limit)
    if failing is None:
        return n
    lo, hi = failing, n
    while hi - lo > 1 and hi > lo * (1 + rel_tol):
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
