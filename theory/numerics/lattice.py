"""The App. F lattice ``x = 2u(t) - 1``, ``w(t)`` of a kernel family in double-double, with a bounded cache.

A Lemma F.1 / F.4 kernel is ``P(t) = w(t) Q(u(t))`` with ``u(t) = exp(-alpha x(t))`` and
``w(t) = exp(-(gamma + o) x(t))`` (:mod:`tfapprox.theory.families`).  Its exact l1 error needs
these values at up to ``10^7`` lags to about 32 digits: they are computed in mpmath at 40 digits
by the family (:meth:`~tfapprox.theory.families.KernelFamily.lattice_mp`) and stored as
double-double arrays (:mod:`.double_double`).  The lattice depends only on
``(family, alpha, gamma)``, not on the lag ``T`` or on ``H``, so a sweep over ``H`` asks for
growing prefixes of the same lattice: :class:`LatticeCache` serves them.

Examples
--------
>>> import sympy
>>> xh, xl, wh, wl = lattice_range_dd("lin", sympy.Rational(1, 10), sympy.Rational(1, 10), 0, 3)
>>> [round(float(v), 6) for v in xh]
[1.0, 0.809675, 0.637462]
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import mpmath
import numpy as np

from tfapprox.theory.families import kernel_family

from .double_double import mp_to_dd

__all__ = ["lattice_compute", "LatticeCache", "LATTICES", "lattice_range_dd", "lattice_dd"]


def lattice_compute(rpe: Any, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """``(xh, xl, wh, wl)``: ``x = 2u - 1`` and ``w`` for the lags ``start..stop-1`` as double-double, afresh.

    ``rpe`` is a family or its name; ``alpha, gamma`` are exact rationals.  In mpmath at 40 digits
    (``u, w`` relative error below ``1e-38``); every value depends only on ``start`` and its lag
    (:meth:`~tfapprox.theory.families.KernelFamily.lattice_mp`).
    """
    family = kernel_family(rpe)
    with mpmath.workdps(40):
        a = mpmath.mpf(alpha.p) / alpha.q
        g = mpmath.mpf(gamma.p) / gamma.q
        us, ws = family.lattice_mp(a, g, start, stop)
        xs = [2 * u - 1 for u in us]
        return (*mp_to_dd(xs), *mp_to_dd(ws))


class LatticeCache:
    """Bounded cache of the double-double lattices, keyed by ``(family, alpha, gamma, start)``.

    One entry holds the lags ``start..stop-1`` for the largest ``stop`` asked so far; a shorter
    range is a read-only view of its prefix, a longer one extends it from the family's resume
    point (:meth:`~tfapprox.theory.families.KernelFamily.lattice_resume`), so every value is bit
    for bit the one a fresh computation of the asked range gives.  At most ``max_entries``
    entries and ``max_points`` lags in all (least recently used evicted first; 2^22 lags are
    128 MiB); a range longer than ``max_points`` is not kept.
    """

    def __init__(self, max_entries: int = 64, max_points: int = 1 << 22) -> None:
        self.max_entries = max_entries
        self.max_points = max_points
        self._store: "OrderedDict[tuple, tuple[int, tuple[np.ndarray, ...]]]" = OrderedDict()
        self.hits = self.misses = self.extensions = 0

    def clear(self) -> None:
        """Drop every entry and reset the counters."""
        self._store.clear()
        self.hits = self.misses = self.extensions = 0

    cache_clear = clear  # the name functools caches use (``run_all`` clears caches between jobs)

    def points(self) -> int:
        """Number of lags held in all entries."""
        return sum(len(arrays[0]) for _stop, arrays in self._store.values())

    def get(self, rpe: Any, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
        """``(xh, xl, wh, wl)`` for ``start..stop-1`` (read-only arrays), as :func:`lattice_compute`."""
        family = kernel_family(rpe)
        key = (family, alpha, gamma, start)
        entry = self._store.get(key)
        if entry is not None and entry[0] >= stop:
            self.hits += 1
            self._store.move_to_end(key)
            return tuple(arr[: max(stop - start, 0)] for arr in entry[1])
        if entry is None:
            self.misses += 1
            arrays = lattice_compute(family, alpha, gamma, start, stop)
        else:  # extend from the family's resume point at or before the cached stop
            self.extensions += 1
            old_stop, old = entry
            resume = family.lattice_resume(start, old_stop)
            new = lattice_compute(family, alpha, gamma, resume, stop)
            arrays = tuple(np.concatenate([o[: resume - start], n]) for o, n in zip(old, new))
        for arr in arrays:
            arr.setflags(write=False)
        if stop - start <= self.max_points:
            self._store[key] = (stop, arrays)
            self._store.move_to_end(key)
            while len(self._store) > self.max_entries or (len(self._store) > 1 and self.points() > self.max_points):
                self._store.popitem(last=False)
        else:
            self._store.pop(key, None)
        return arrays


#: The process-wide lattice cache (cleared between ``verify`` jobs through ``cache_clear``).
LATTICES = LatticeCache()


def lattice_range_dd(rpe: Any, alpha: Any, gamma: Any, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """``x = 2u - 1`` and ``w`` for the lags ``start..stop-1`` as double-double (read-only arrays).

    Cached in :data:`LATTICES` (bounded); :func:`lattice_compute` computes without the cache.
    """
    return LATTICES.get(rpe, alpha, gamma, start, stop)


def lattice_dd(rpe: Any, alpha: Any, gamma: Any, lags: Any) -> tuple[np.ndarray, ...]:
    """``(xh, xl, wh, wl)`` at arbitrary lags ``>= first_lag`` (contiguous ranges are cached)."""
    lags = np.asarray(lags, dtype=np.int64)
    if len(lags) and np.all(np.diff(lags) == 1):
        return lattice_range_dd(rpe, alpha, gamma, int(lags[0]), int(lags[-1]) + 1)
    parts = [lattice_compute(rpe, alpha, gamma, int(s), int(s) + 1) for s in lags.tolist()]
    if not parts:
        return tuple(np.zeros(0) for _ in range(4))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))
