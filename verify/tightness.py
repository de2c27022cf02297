"""How tight are the proofs?  Best-found kernels against the paper's construction and its explicit bound.

For the delta kernels of Lemmas F.1 (lin) / F.4 (log) and the shifted kernels of Lemmas F.2 / F.5,
three numbers per ``(T, H)``:

* ``bound``: the explicit bound of :mod:`tfapprox.theory.bounds` (best rate index ``n``), an analytic
  upper bound on the construction's error;
* ``construction``: the exact l1 error of the paper's construction (upper end of the rigorous
  enclosure of :func:`tfapprox.verify.kernel_error.delta_kernel_l1_error`);
* ``best_found``: the smallest exact l1 error among the ``H``-term kernels found by optimisation:
  l1-optimal coefficients by linear programming for given exponents
  (:func:`tfapprox.verify.essential_error.lp_l1_fit`), exponents optimised by Nelder-Mead in a
  geometric family from several seeded starts (:func:`tfapprox.verify.essential_error.best_found`),
  one candidate being the construction's exponents with LP coefficients and one the construction
  itself.  ``previous`` (the row of the same lemma and ``T`` at a smaller ``H'``) adds two more: its
  best exponents plus ``H - H'`` extra ones (LP coefficients), and its best kernel itself,
  zero-padded; so ``best_found(H) <= best_found(H')`` in a run over increasing ``H``.  The LP sees
  truncated lags only; every candidate's error is recomputed exactly over *all* lags
  (:func:`tfapprox.verify.explicit_kernels.l1_error_all_lags`: direct float64 sum below ``2^14`` with an a-priori rounding allowance plus a
  closed-form tail bound, geometric for lin, ``zeta(p, N) <= (N - 1/2)^{1-p}/(p-1)`` for log).  So
  ``best_found <= construction`` by construction, and ``best_found`` is an upper bound on the
  optimal ``H``-term error.  The zero kernel (error exactly 1) is a candidate too, so ``best_found <= 1``;
* ``lower_bound``: a certified lower bound on the error of *every* ``H``-head kernel of the lemma's
  class (:func:`tfapprox.theory.lower_bounds.delta_l1_lower_bound`: Hankel rank, for log on a
  geometric subsequence of lags), with ``lower_bound_reason``; 0 where no bound applies.  Where
  ``best_found == lower_bound`` the answer is exact (``exact``), otherwise ``gap = best_found / lower_bound``.

Lemma F.2 (lin) needs no search of its own: with ``u = t - B + T`` its error for shift ``B`` is
the tail ``u >= T - B`` of a Lemma F.1 error, the maximum over ``B`` is the full F.1 error at
``B = T``, and every F.1 kernel gives an F.2 kernel with the same error (``alpha_k = a_k e^{-beta_k T}``).
So the F.2 numbers equal the F.1 numbers exactly; the construction's are recomputed through
:func:`tfapprox.verify.adaptive_error.shifted_kernel_errors` as a check.  Lemma F.5 (log) is a
genuine minimax problem over the shifts ``B = 1..T`` (same coefficients for ``(t/B)^{-beta_k}``):
its best-found search minimises, by LP, the largest l1 error over at most 6 shifts on a reduced
grid (:data:`F5_GRID`) and then recomputes the exact maximum over every shift.  Its explicit bound
is the Lemma F.4 bound (:func:`tfapprox.theory.bounds.lemma_f2_f5_bound`).  At ``T = 1`` the only
shift is ``B = 1`` and F.5 *is* F.4: the F.4 best kernel (``f4_row``) is a candidate, so
``best_found(F.5) <= best_found(F.4)`` there.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from tfapprox.constructions.delta_kernels import delta_kernel
from tfapprox.constructions.lemma_f2_f5 import shifted_delta_kernel
from tfapprox.theory.bounds import best_delta_kernel_bound
from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.lower_bounds import delta_l1_lower_bound
from tfapprox.theory.search import smallest_satisfying
from tfapprox.theory.validation import require_int

from .adaptive_error import shifted_kernel_errors
from .essential_error import basis_matrix, best_found
from .explicit_kernels import (DIRECT_LAGS, basis_columns, divided_difference_candidate, exact_error_fn,
                               expsum_delta_l1_upper, shifted_exact_error)
from .kernel_error import L1Enclosure, delta_kernel_l1_error

__all__ = ["DIRECT_LAGS", "ZERO_KERNEL", "TightnessRow", "delta_tightness", "shifted_tightness", "coefficient_digits",
           "alpha_gamma_sweep", "heads_for_epsilon",
           "expsum_delta_l1_upper", "divided_difference_candidate"]


#: The BLAS libraries loaded with numpy and scipy.  The search's matrix-vector products (``2^14 x H``) are
#: small: OpenBLAS threads cost more than they gain (on a loaded 2-core machine one ``2^14 x 256`` product took
#: 12 ms with 2 threads, 1.1 ms with 1, the same bits), so each row runs with one BLAS thread
#: (:func:`_one_blas_thread`).
_BLAS = ThreadpoolController()


def _one_blas_thread(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` with the BLAS libraries limited to one thread (restored afterwards)."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _BLAS.limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return run


#: ``best_found_source`` of the zero kernel (error exactly 1 for a delta target; a candidate in every row).
ZERO_KERNEL = "zero kernel"


@dataclass(frozen=True)
class TightnessRow:
    """One ``(lemma, T, H)`` comparison (all errors are exact l1 errors, upper ends).

    ``best_found_exponents`` / ``best_found_coefficients`` give the best-found kernel when it is an
    explicit float kernel (``sum_h c_h e^{-p_h s}`` or ``sum_h c_h (s/B)^{-p_h}``); the coefficients are
    empty when it is the paper's construction (weights in mpmath, see ``best_found_source``).  A kernel
    with fewer terms than ``H`` counts as an ``H``-term kernel (the other heads have weight 0:
    "zero-padded").  ``seeds`` lists ``(label, exact error)`` of the seeded candidates that were
    considered (previous ``H``, Lemma F.4 at ``T = 1``), for the record.
    """

    lemma: str
    rpe: str
    T: int
    H: int
    bound: float
    bound_n: int
    construction: float
    construction_lower: float
    best_found: float
    best_found_source: str
    construction_max_weight: float
    construction_digits: int
    best_found_max_weight: float
    best_found_digits: int
    best_found_exponents: tuple[float, ...]
    best_found_coefficients: tuple[float, ...] = ()
    seeds: tuple[tuple[str, float], ...] = ()
    lower_bound: float = 0.0
    lower_bound_reason: str = "not computed"

    @property
    def gap(self) -> float | None:
        """``best_found / lower_bound`` (``None`` where no positive lower bound applies)."""
        return self.best_found / self.lower_bound if self.lower_bound > 0 else None

    @property
    def exact(self) -> bool:
        """Both sides meet: the best found attains the certified lower bound, so it is the optimum."""
        return self.lower_bound > 0 and self.best_found <= self.lower_bound

    @property
    def slack_bound(self) -> float:
        """``bound / best_found`` (how far the proven bound is above what is achievable as found)."""
        return self.bound / self.best_found if self.best_found > 0 else math.inf

    @property
    def slack_construction(self) -> float:
        """``construction / best_found``."""
        return self.construction / self.best_found if self.best_found > 0 else math.inf

    @property
    def ordered(self) -> bool:
        """``lower_bound <= best_found <= construction <= bound`` (with a relative 1e-12 allowance above).

        ``lower_bound`` is certified and ``best_found`` the upper end of a certified error of an explicit
        kernel, so ``lower_bound > best_found`` would mean a bug in one of them: no allowance there.
        """
        return bool(self.bound * (1 + 1e-12) >= self.construction and
                    self.construction * (1 + 1e-12) >= self.best_found >= self.lower_bound >= 0)

    def as_row(self) -> dict[str, Any]:
        """The row as a dict for the check's table and JSON."""
        return {"lemma": self.lemma, "rpe": self.rpe, "T": self.T, "H": self.H, "bound": self.bound,
                "bound_n": self.bound_n, "construction": self.construction,
                "construction_lower": self.construction_lower, "best_found": self.best_found,
                "best_found_source": self.best_found_source, "error": self.construction,
                "slack_bound": self.slack_bound, "slack_construction": self.slack_construction,
                "construction_max_weight": self.construction_max_weight,
                "construction_digits": self.construction_digits,
                "best_found_max_weight": self.best_found_max_weight, "best_found_digits": self.best_found_digits,
                "best_found_exponents": list(self.best_found_exponents),
                "best_found_coefficients": list(self.best_found_coefficients),
                "seeds": [list(s) for s in self.seeds], "lower_bound": self.lower_bound,
                "lower_bound_reason": self.lower_bound_reason, "gap": self.gap, "exact": self.exact,
                "ordered": self.ordered}


def coefficient_digits(coefficients: Sequence[float], accuracy: float = 1e-12, guard: int = 3) -> int:
    """Decimal digits a kernel ``sum_h c_h b_h(s)`` (basis values ``<= 1``) needs to be evaluated to
    ``accuracy``: ``log10(sum |c_h|) - log10(accuracy) + guard``, at least 15 (as
    :meth:`~tfapprox.constructions.delta_kernels.DeltaKernel.digits_needed`).

    >>> coefficient_digits([1.0, -0.5]), coefficient_digits([1e6])
    (16, 21)
    """
    l1 = float(np.sum(np.abs(np.asarray(coefficients, dtype=float))))
    if l1 == 0 or not math.isfinite(l1):
        return 15 if l1 == 0 else 10 ** 6
    return max(15, math.ceil(math.log10(l1) - math.log10(accuracy)) + guard)


def _fit_grid(family: KernelFamily, T: int, *, dense_extra: int = 64, geometric: int = 300
              ) -> tuple[np.ndarray, np.ndarray]:
    """Lags the LP sees (dense from the family's first lag up to ``2T + dense_extra``, then ``geometric``
    log-spaced lags up to ``DIRECT_LAGS``) and their weights (the spacing: each lag stands for the lags up
    to the next)."""
    start = family.first_lag
    top = 2 * T + dense_extra
    dense = np.arange(start, top)
    geo = np.round(np.geomspace(top, DIRECT_LAGS - 1, geometric)).astype(int)
    grid = np.unique(np.concatenate([dense, geo]))
    w = np.diff(np.concatenate([grid, [DIRECT_LAGS]])).astype(float)
    return grid, w



def _construction_error(rpe: str, T: int, H: int, alpha: Any, gamma: Any) -> L1Enclosure:
    """``delta_kernel_l1_error(delta_kernel(rpe, T, H, alpha, gamma))``, remembered: the rows, the alpha/gamma
    sweep and :func:`heads_for_epsilon` meet the same kernels (a pure function: same numbers)."""
    try:
        return _construction_error_cached(rpe, T, H, alpha, gamma)
    except TypeError:  # unhashable alpha / gamma: compute without the cache
        return delta_kernel_l1_error(delta_kernel(rpe, T, H, alpha=alpha, gamma=gamma))


@lru_cache(maxsize=512)
def _construction_error_cached(rpe: str, T: int, H: int, alpha: Any, gamma: Any) -> L1Enclosure:
    return delta_kernel_l1_error(delta_kernel(rpe, T, H, alpha=alpha, gamma=gamma))


def _best_bound(rpe: str, T: int, H: int, max_rate: int, alpha: Any, gamma: Any) -> tuple[Any, int]:
    """:func:`tfapprox.theory.bounds.best_delta_kernel_bound`, remembered (as :func:`_construction_error`)."""
    try:
        return _best_bound_cached(rpe, T, H, max_rate, alpha, gamma)
    except TypeError:
        return best_delta_kernel_bound(rpe, T, H, max_rate=max_rate, alpha=alpha, gamma=gamma)


@lru_cache(maxsize=4096)
def _best_bound_cached(rpe: str, T: int, H: int, max_rate: int, alpha: Any, gamma: Any) -> tuple[Any, int]:
    return best_delta_kernel_bound(rpe, T, H, max_rate=max_rate, alpha=alpha, gamma=gamma)


def _extend_exponents(prev: Sequence[float], H: int, floor: float) -> np.ndarray | None:
    """``prev`` plus ``H - len(prev)`` extra exponents: geometric (in ``p - floor``) points inserted in the
    gaps between consecutive ``prev`` exponents and continued above the largest, spread evenly.
    ``None`` if ``prev`` has no exponent above ``floor`` or already ``H`` or more."""
    q = np.unique(np.asarray([v for v in prev if v > floor], dtype=float))
    m = len(q)
    need = H - m
    if m == 0 or need <= 0:
        return None
    z = np.log(q - floor)
    step = max(float(z[-1] - z[-2]), 0.05) if m > 1 else 0.5
    counts = [need // m + (1 if i < need % m else 0) for i in range(m)]
    extra = []
    for i in range(m - 1):
        k = counts[i]
        extra += [z[i] + (z[i + 1] - z[i]) * l / (k + 1) for l in range(1, k + 1)]
    extra += [z[-1] + step * l for l in range(1, counts[-1] + 1)]
    out = np.sort(np.concatenate([q, floor + np.exp(np.array(extra, dtype=float))]))
    return out if len(np.unique(out)) == H else None


def _check_previous(previous: TightnessRow | None, lemma: str, T: int, H: int, name: str = "previous") -> None:
    if previous is None:
        return
    if not isinstance(previous, TightnessRow):
        raise TypeError(f"{name} must be a TightnessRow, got {type(previous).__name__}")
    if previous.lemma != lemma or previous.T != T or previous.H > H:
        raise ValueError(f"{name} must be a {lemma} row for T={T} with H <= {H}, got "
                         f"{previous.lemma} T={previous.T} H={previous.H}")
    if previous.best_found_coefficients and not (
            len(previous.best_found_coefficients) == len(previous.best_found_exponents) <= previous.H):
        raise ValueError(f"{name}: a best-found kernel needs as many exponents as coefficients, at most "
                         f"H={previous.H}, got {len(previous.best_found_exponents)} and "
                         f"{len(previous.best_found_coefficients)}")


def _padded_label(row: TightnessRow, H: int, prefix: str = "") -> str:
    """Source label of a kernel taken from ``row`` into an ``H``-head row (zero-padded if ``row.H < H``)."""
    src = row.best_found_source
    if "zero-padded" in src or row.H >= H:
        return prefix + src
    return f"{prefix}{src} (H={row.H}, zero-padded)"


def _seed_from_row(row: TightnessRow, H: int, error_fn: Any, prefix: str = "") -> tuple[float, str]:
    """The exact error of ``row``'s best kernel used as is (zero-padded to the current ``H``).

    A float kernel is re-evaluated by ``error_fn``; its recorded ``best_found`` is an upper bound of
    the same kernel's error too, so the smaller of the two is kept (both are certified).  A
    construction kernel (no float coefficients) keeps its recorded certified error.
    """
    label = _padded_label(row, H, prefix)
    if row.best_found_coefficients:
        _, hi = error_fn(np.asarray(row.best_found_exponents, dtype=float),
                         np.asarray(row.best_found_coefficients, dtype=float))
        return min(hi, row.best_found), label
    return row.best_found, label



@_one_blas_thread
def delta_tightness(rpe: str, T: int, H: int, *, alpha: Any = "0.01", gamma: Any = "0.01", seed: int = 0,
                    starts: int = 2, max_evals: int = 8, max_rate: int = 8,
                    previous: TightnessRow | None = None) -> TightnessRow:
    """Bound, construction and best-found exact l1 errors for the Lemma F.1 (lin) / F.4 (log) delta at ``T``.

    ``previous``: the row of the same lemma and ``T`` at a smaller ``H'``; its best kernel seeds the
    search twice: its exponents plus ``H - H'`` extra ones (:func:`_extend_exponents`) get LP
    coefficients, and the kernel itself, zero-padded, is a candidate with its exact error.  So
    ``best_found(H) <= best_found(H')``.

    >>> r = delta_tightness("lin", 1, 4, starts=1, max_evals=2)
    >>> r.ordered, r.best_found <= r.construction <= r.bound
    (True, True)
    """
    family = kernel_family(rpe)
    rpe = family.name  # the row's string (reports); the logic asks the family
    T = require_int("T", T, minimum=1)
    H = require_int("H", H, minimum=1)
    lemma = family.delta_lemma
    _check_previous(previous, lemma, T, H)
    kern = delta_kernel(rpe, T, H, alpha=alpha, gamma=gamma)
    enc = _construction_error(rpe, T, H, alpha, gamma)
    b, n = _best_bound(rpe, T, H, max_rate, alpha, gamma)
    grid, w = _fit_grid(family, T)
    rho = (grid == T).astype(float)
    floor = float(family.rate_floor())
    error_fn = exact_error_fn(family, T)
    given = [np.array([float(e) for e in kern.exponents])]
    seeds: list[tuple[str, float]] = []
    if previous is not None and previous.best_found_coefficients:
        ext = _extend_exponents(previous.best_found_exponents, H, floor)
        if ext is not None:
            given.append(ext)
    bf = best_found(rpe, rho, grid, H, weights=w, given=given, seed=seed, starts=starts, max_evals=max_evals,
                    min_exponent=floor, error_fn=error_fn)
    cons_w = float(kern.max_abs_coefficient)
    cons_digits = kern.digits_needed(1e-12)
    if bf.error < enc.upper:
        best, src = bf.error, "search"
        bw, bd, be, bc = (float(np.max(np.abs(bf.coefficients))), coefficient_digits(bf.coefficients), bf.exponents,
                          bf.coefficients)
    else:
        best, src = enc.upper, "construction"
        bw, bd, be, bc = cons_w, cons_digits, tuple(float(e) for e in kern.exponents), ()
    if previous is not None:
        e_prev, label = _seed_from_row(previous, H, error_fn)
        seeds.append((label, e_prev))
        if e_prev < best:
            best, src = e_prev, label
            bw, bd, be, bc = (previous.best_found_max_weight, previous.best_found_digits,
                              previous.best_found_exponents, previous.best_found_coefficients)
    dd = divided_difference_candidate(T, H) if family.coordinate_is_lag() else None
    if dd is not None:
        seeds.append(("divided difference", dd[0]))
        if dd[0] < best:
            best, src = dd[0], "divided difference"
            bw, bd, be, bc = float(max(abs(v) for v in dd[2])), coefficient_digits(dd[2]), dd[1], dd[2]
    if best > 1.0:  # the zero kernel: error exactly ||1{. = T}||_1 = 1 (weights 0, no digits needed)
        best, src, bw, bd, be, bc = 1.0, ZERO_KERNEL, 0.0, 15, (), ()
    lb = delta_l1_lower_bound(rpe, T, H)
    return TightnessRow(lemma, rpe, T, H, float(b), int(n), enc.upper, enc.lower, best, src, cons_w, cons_digits,
                        bw, bd, tuple(float(v) for v in be), tuple(float(v) for v in bc), tuple(seeds),
                        lb.value, lb.reason)


# ---------------------------------------------------------------------------------------
# Lemmas F.2 / F.5
# ---------------------------------------------------------------------------------------

def _shift_set(T: int, count: int = 6) -> list[int]:
    return sorted({1, T} | {int(round(v)) for v in np.geomspace(1, T, count)})


def _minimax_lp(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], H: int) -> np.ndarray | None:
    """``min_c max_B sum_s w_s |rho_B(s) - (B_B c)(s)|`` by LP (HiGHS); ``rows`` = [(basis, rho, w)]."""
    blocks_A, blocks_b = [], []
    sizes = [len(r[1]) for r in rows]
    S = sum(sizes)
    nv = H + S + 1  # c, e, z
    scale = np.maximum(np.max(np.abs(np.vstack([r[0] for r in rows])), axis=0), 1e-300)
    off = 0
    cons_rows = []
    for (Bm, rho, w) in rows:
        k = len(rho)
        Bs = Bm / scale
        I = sp.identity(k, format="csr")
        left = sp.csr_matrix((k, off))
        right = sp.csr_matrix((k, S - off - k + 1))
        blocks_A.append(sp.hstack([sp.csr_matrix(Bs), left, -I, right]))
        blocks_b.append(rho)
        blocks_A.append(sp.hstack([sp.csr_matrix(-Bs), left, -I, right]))
        blocks_b.append(-rho)
        row = np.zeros(nv)
        row[H + off:H + off + k] = w
        row[-1] = -1.0
        cons_rows.append(row)
        off += k
    A = sp.vstack(blocks_A + [sp.csr_matrix(np.array(cons_rows))], format="csr")
    b = np.concatenate(blocks_b + [np.zeros(len(rows))])
    cost = np.zeros(nv)
    cost[-1] = 1.0
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=b, bounds=[(None, None)] * H + [(0, None)] * (S + 1),
                                 method="highs-ds")
    if res.x is None:
        return None
    return res.x[:H] / scale


#: LP grid of the F.5 search per shift: dense lags up to ``2B + 16``, then 80 log-spaced lags.
F5_GRID = {"dense_extra": 16, "geometric": 80}


@_one_blas_thread
def shifted_tightness(rpe: str, T: int, H: int, *, alpha: Any = "0.01", gamma: Any = "0.01", seed: int = 0,
                      starts: int = 2, max_evals: int = 8, max_rate: int = 8,
                      f1_row: TightnessRow | None = None, given: Sequence[Sequence[float]] = (),
                      previous: TightnessRow | None = None, f4_row: TightnessRow | None = None) -> TightnessRow:
    """Bound, construction and best-found errors for Lemma F.2 (lin) / F.5 (log), ``max`` over shifts ``B <= T``.

    lin reuses ``f1_row`` (the F.1 numbers, which are exactly the F.2 numbers) after recomputing the
    construction's F.2 error through the shifted kernel.  log: ``given`` exponent sets (e.g. the best
    found for Lemma F.4 at the same ``T, H``) are tried besides the construction's and the search's;
    ``previous`` (the F.5 row for ``T`` at a smaller ``H'``) seeds the search as in
    :func:`delta_tightness` (its exponents extended, and its kernel zero-padded); ``f4_row`` (Lemma
    F.4 at the same ``T`` and ``H`` or fewer heads) supplies the explicit bound (the F.5 bound is
    the F.4 bound) and, at ``T = 1`` where F.5 *is* F.4 (only the shift ``B = 1``), its best kernel,
    so that ``best_found(F.5) <= best_found(F.4)`` there.
    """
    family = kernel_family(rpe)
    rpe = family.name  # the row's string (reports); the logic asks the family
    T = require_int("T", T, minimum=1)
    H = require_int("H", H, minimum=1)
    lemma = family.shifted_lemma
    sk = shifted_delta_kernel(rpe, T, H, alpha=alpha, gamma=gamma)
    if family.coordinate_is_affine():  # translation identity: the shifted lemma's numbers are the delta lemma's
        row = f1_row or delta_tightness(family, T, H, alpha=alpha, gamma=gamma, seed=seed, starts=starts,
                                        max_evals=max_evals, max_rate=max_rate)
        errs = shifted_kernel_errors(sk, [T])  # the maximum over B is at B = T (module docstring)
        if not math.isclose(errs.upper, row.construction, rel_tol=1e-9, abs_tol=1e-15):
            raise ArithmeticError(f"{lemma} identity violated: {errs.upper} != {row.construction}")
        cw = float(max(abs(a) for a in sk.coefficients))
        lb = delta_l1_lower_bound(rpe, T, H, shifted=True)
        return TightnessRow(lemma, rpe, T, H, row.bound, row.bound_n, errs.upper, errs.lower, row.best_found,
                            row.best_found_source, cw, row.construction_digits, row.best_found_max_weight,
                            row.best_found_digits, row.best_found_exponents, row.best_found_coefficients, row.seeds,
                            lb.value, lb.reason)
    floor = float(family.rate_floor())
    _check_previous(previous, lemma, T, H)
    _check_previous(f4_row, family.delta_lemma, T, H, "f4_row")
    errs = shifted_kernel_errors(sk)
    cons = errs.upper
    cons_lo = errs.lower
    if f4_row is not None and f4_row.H == H:  # lemma_f2_f5_bound is delta_kernel_bound (theory.bounds)
        b, n = f4_row.bound, f4_row.bound_n
    else:
        bv, n = _best_bound(rpe, T, H, max_rate, alpha, gamma)
        b = float(bv)
    cexp = np.array([float(e) for e in sk.exponents])
    shifts = _shift_set(T)
    grids = {B: _fit_grid(family, B, **F5_GRID) for B in shifts}
    rng = np.random.default_rng(seed)

    fitted: dict[bytes, tuple[float, np.ndarray]] = {}  # the search meets the same exponents again (e.g. H = 1)

    def candidate(p: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(p, dtype=float).tobytes()
        if key in fitted:
            return fitted[key]
        rows = []
        for B in shifts:
            g, w = grids[B]
            Bm = basis_columns(basis_matrix(rpe, p, g)) * family.shift_factor_np(p, B)[None, :]
            rows.append((Bm, (g == B).astype(float), w))
        c = _minimax_lp(rows, len(p))
        fitted[key] = (math.inf, np.zeros(len(p))) if c is None else (shifted_exact_error(family, p, c, T, shifts), c)
        return fitted[key]

    best: list[Any] = [math.inf, cexp, np.zeros(H)]

    def consider(p: np.ndarray) -> float:
        e, c = candidate(p)
        if e < best[0]:
            best[:] = [e, p.copy(), c]
        return e if math.isfinite(e) else 1e300

    def geometric(q: np.ndarray) -> np.ndarray:
        return floor + math.exp(float(q[0])) * np.exp(math.exp(float(q[1])) * np.arange(H) / max(H - 1, 1))

    consider(np.maximum(cexp, floor + 1e-6))
    for gp in given:
        if len(gp) == H:
            consider(np.maximum(np.asarray(gp, dtype=float), floor + 1e-6))
    if previous is not None and previous.best_found_coefficients:
        ext = _extend_exponents(previous.best_found_exponents, H, floor)
        if ext is not None:
            consider(ext)
    inits = [np.array([math.log(0.3), math.log(1.5)])]
    inits += [np.array([rng.uniform(-3.0, 0.5), rng.uniform(-1.0, 1.5)]) for _ in range(max(starts - 1, 0))]
    for x0 in inits:
        scipy.optimize.minimize(lambda q: consider(geometric(q)), x0, method="Nelder-Mead",
                                options={"maxfev": max_evals, "xatol": 1e-3, "fatol": 1e-14})
    if math.isfinite(best[0]):  # the selection used the shift subset: recompute over every shift
        best = [shifted_exact_error(family, best[1], best[2], T), best[1], best[2]]
    cw = float(max(abs(a) for a in sk.coefficients))
    cd = sk.base.digits_needed(1e-12)
    if best[0] < cons:
        out = [best[0], "search", float(np.max(np.abs(best[2]))), coefficient_digits(best[2]),
               tuple(float(v) for v in best[1]), tuple(float(v) for v in best[2])]
    else:
        out = [cons, "construction", cw, cd, tuple(float(v) for v in cexp), ()]
    seeds: list[tuple[str, float]] = []
    err_all = lambda p, c: (0.0, shifted_exact_error(family, p, c, T))
    for row, prefix in ((previous, ""), (f4_row if T == 1 else None, f"{family.delta_lemma} ")):
        if row is None:
            continue
        e, label = _seed_from_row(row, H, err_all, prefix)
        seeds.append((label, e))
        if e < out[0]:
            out = [e, label, row.best_found_max_weight, row.best_found_digits, row.best_found_exponents,
                   row.best_found_coefficients]
    if out[0] > 1.0:  # the zero kernel: error exactly 1 at every shift
        out = [1.0, ZERO_KERNEL, 0.0, 15, (), ()]
    lb = delta_l1_lower_bound(rpe, T, H, shifted=True)
    return TightnessRow(lemma, rpe, T, H, b, int(n), cons, cons_lo, out[0], out[1], cw, cd, out[2], out[3],
                        tuple(float(v) for v in out[4]), tuple(float(v) for v in out[5]), tuple(seeds),
                        lb.value, lb.reason)


# ---------------------------------------------------------------------------------------
# Free parameters alpha, gamma
# ---------------------------------------------------------------------------------------

@_one_blas_thread
def heads_for_epsilon(rpe: str, T: int, epsilon: float, *, alpha: Any, gamma: Any, measured: bool,
                      max_heads: int = 512, max_rate: int = 8) -> int | None:
    """Smallest ``H`` with error ``<= epsilon``.

    ``measured=False``: the explicit bound, bisection in ``H`` up to ``10^15`` (assumes the bound
    decreases in ``H``; to 0.1 %).  ``measured=True``: the construction's exact error, doubling
    ``H = 1, 2, 4, ...`` up to ``max_heads`` then bisecting (assumes the measured error decreases in
    ``H`` between the last two points tried; ``None`` if ``max_heads`` does not reach ``epsilon``).
    Both by :func:`tfapprox.theory.search.smallest_satisfying`.
    """
    def ok(H: int) -> bool:
        if measured:
            return _construction_error(rpe, T, H, alpha, gamma).upper <= epsilon
        return float(_best_bound(rpe, T, H, max_rate, alpha, gamma)[0]) <= epsilon

    if measured:
        return smallest_satisfying(ok, 1, factor=2, limit=max_heads)
    return smallest_satisfying(ok, 1, factor=4, limit=10 ** 15, rel_tol=1e-3)


@_one_blas_thread
def alpha_gamma_sweep(rpe: str, T: int, H: int, choices: Sequence[tuple[str, str]], *, epsilon: float = 1e-3,
                      max_heads: int = 512, max_rate: int = 8) -> dict[str, Any]:
    """For each ``(alpha, gamma)``: the explicit bound and the construction's exact l1 error at ``H``
    (``error`` the upper end of its enclosure, ``error_lower`` the lower end, ``enclosure_tight``
    whether they agree to ``1e-6`` relative); the choice minimising each (the error by its certified
    upper end), and the heads each of those two choices (and the paper's 0.01, 0.01) needs for
    ``epsilon`` by the bound and by measurement (each distinct ``(alpha, gamma)`` computed once)."""
    rpe = kernel_family(rpe).name
    rows = []
    for a, g in choices:
        enc = _construction_error(rpe, T, H, a, g)
        b, n = _best_bound(rpe, T, H, max_rate, a, g)
        rows.append({"alpha": a, "gamma": g, "error": enc.upper, "error_lower": enc.lower, "bound": float(b),
                     "bound_n": int(n), "enclosure_tight": bool(enc.upper - enc.lower <= 1e-6 * max(enc.upper, 1e-300))})
    by_bound = min(rows, key=lambda r: r["bound"])
    by_error = min(rows, key=lambda r: r["error"])
    need = {}
    done: dict[tuple[str, str], dict[str, Any]] = {}
    for label, r in (("paper", {"alpha": "0.01", "gamma": "0.01"}), ("min_bound", by_bound), ("min_error", by_error)):
        key = (str(r["alpha"]), str(r["gamma"]))
        if key not in done:
            done[key] = {"alpha": r["alpha"], "gamma": r["gamma"],
                         "heads_by_bound": heads_for_epsilon(rpe, T, epsilon, alpha=r["alpha"], gamma=r["gamma"],
                                                             measured=False, max_rate=max_rate),
                         "heads_measured": heads_for_epsilon(rpe, T, epsilon, alpha=r["alpha"], gamma=r["gamma"],
                                                             measured=True, max_heads=max_heads, max_rate=max_rate)}
        need[label] = dict(done[key])
    return {"rpe": rpe, "T": T, "H": H, "epsilon": epsilon, "rows": rows, "min_bound": by_bound,
            "min_error": by_error, "heads_needed": need}

