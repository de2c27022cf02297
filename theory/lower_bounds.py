"""Certified lower bounds on the error of any exponential-sum kernel (docs page "What is necessary?").

A DP-free lin-RPE head with the infinite padded past contributes ``c_h lambda_h^s`` to the memory
kernel (``lambda_h = e^{-p_h}``), a diagonal linear RNN with ``N`` units ``sum_k c_k lambda_k^s``
(complex ``lambda_k`` allowed), and on a geometric subsequence of lags ``s = s0 b^k`` a log-RPE
head's ``c_h s^{-p_h}`` is an exponential in ``k`` too (Wang & E 2024, Lemmas F.1-F.6 and
Theorem 5.1).  For every such kernel ``g`` with at most ``H`` terms and the
error ``e = rho - g``:

* **rank** (Kronecker): the Hankel matrix ``[g(i + j)]`` has rank ``<= H``;
* **Schur test**: every section ``[e(i + j)]_{i, j in I}`` has operator norm ``<= ||e||_1``;
* **Schmidt-Mirsky**: hence ``||e||_1 >= sigma_{H+1}([rho(i + j)]_{i, j in I})`` for every finite
  index set ``I`` (a principal compression of the infinite Hankel operator);
* **Eckart-Young** (mean square): ``sum_s e(s)^2 >= sum_{k > H} sigma_k^2 / |I|``.

The singular values are **certified**: the section is built in ball arithmetic (python-flint
``arb``), and the number of singular values above ``x`` is read off the signs of the pivots of
an ``L D L^T`` factorisation of ``S - x I`` and ``S + x I`` (Sylvester's law of inertia; a pivot
whose ball contains 0 leaves the count undecided and the precision is raised).  A float
eigenvalue estimate only proposes the ``x`` that is then certified.

Examples
--------
>>> from tfapprox.theory.lower_bounds import power_kernel, sigma_lower_bound, units_lower
>>> rho = power_kernel("3/2")                   # s^-1.5 for s >= 1, rho(0) = 0
>>> lb = sigma_lower_bound(rho, 2, range(8))    # sigma_2 of the 8 x 8 Hankel section
>>> print(f"{lb:.4f}")                           # so one unit has l1 error > 0.867
0.8675
>>> units_lower(rho, 1e-1, range(8))            # fewer than 3 units cannot reach l1 error 0.1
3
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Sequence

import flint
import numpy as np

from .families import LIN, LOG, KernelFamily, kernel_family
from .validation import require_int, require_real, short_repr

__all__ = ["LowerBound", "power_kernel", "exponential_kernel", "delta_kernel_values", "hankel_section",
           "singular_count_above", "sigma_lower_bound", "units_lower", "geometric_index", "delta_l1_lower_bound",
           "log_delta_depth", "register_delta_rank_argument", "divided_difference_kernel", "mean_square_lower_bound",
           "integer_section_sigmas", "lag_multiplicity", "polynomial_sup_01", "weight_budget_lower_bound"]

#: Working precision (bits) of the first attempt; doubled up to :data:`MAX_PREC` when a pivot is undecided.
START_PREC = 128
MAX_PREC = 4096


@dataclass(frozen=True)
class LowerBound:
    """A certified lower bound ``value`` on an error, with the argument that gives it.

    ``value`` is 0 when no bound applies (``reason`` says why); ``exact`` marks a value that some
    admissible kernel attains (so the optimum is known), ``section`` the Hankel index set size used.
    """

    value: float
    reason: str
    section: int = 0
    exact: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The bound as JSON row keys: ``lower_bound``, ``lower_bound_reason``,
        ``lower_bound_section``, ``lower_bound_exact``."""
        return {"lower_bound": self.value, "lower_bound_reason": self.reason, "lower_bound_section": self.section,
                "lower_bound_exact": self.exact}


# ---------------------------------------------------------------------------------------------- kernels
def power_kernel(beta: Any) -> Callable[[int], Any]:
    """``rho(s) = s^-beta`` (``s >= 1``), ``rho(0) = 0``, as certified ``arb`` balls.

    ``beta`` is taken as an exact rational (a string such as ``"3/2"`` or ``"1.5"``, an int, a
    ``Fraction``); a float is converted by its decimal ``repr``.

    >>> rho = power_kernel("1/2")
    >>> rho(0), float(rho(4).mid())
    (0, 0.5)
    """
    b = _rational("beta", beta)
    if b <= 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")

    def rho(s: int) -> Any:
        if s == 0:
            return 0
        return flint.arb(s) ** (-flint.arb(b.numerator) / b.denominator)

    return rho


def exponential_kernel(rate: Any) -> Callable[[int], Any]:
    """``rho(s) = e^{-rate s}`` (``s >= 0``) as certified ``arb`` balls (``rate`` an exact rational).

    >>> float(exponential_kernel(5)(1).mid()) == math.exp(-5)
    True
    """
    r = _rational("rate", rate)

    def rho(s: int) -> Any:
        return (-flint.arb(r.numerator) * s / r.denominator).exp()

    return rho


def delta_kernel_values(T: int) -> Callable[[int], int]:
    """``rho(s) = 1{s = T}`` (the Lemma F.1 target), exact integers."""
    T = require_int("T", T, minimum=0)
    return lambda s: 1 if s == T else 0


def _rational(name: str, value: Any) -> Fraction:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a rational number, got {value!r}")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError
            return Fraction(repr(value))
        return Fraction(str(value)) if not isinstance(value, (int, Fraction)) else Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{name} must be a finite rational number (e.g. '3/2'), got {short_repr(value)}") from None


def geometric_index(dense: int, top: int, count: int) -> tuple[int, ...]:
    """Index set ``{0, ..., dense - 1}`` plus ``count`` log-spaced integers up to ``top`` (sorted, distinct).

    A principal compression of the Hankel operator on such a set reaches far lags with a small
    matrix (slowly decaying kernels need it).

    >>> geometric_index(4, 100, 3)
    (0, 1, 2, 3, 4, 20, 100)
    """
    dense = require_int("dense", dense, minimum=1)
    top = require_int("top", top, minimum=dense)
    count = require_int("count", count, minimum=0)
    geo = np.round(np.geomspace(dense, top, count)).astype(int).tolist() if count else []
    return tuple(sorted(set(range(dense)) | {int(v) for v in geo}))


# ---------------------------------------------------------------------------------------------- inertia
def hankel_section(rho: Callable[[int], Any], index: Iterable[int]) -> list[list[Any]]:
    """The symmetric section ``[rho(i + j)]_{i, j in index}`` as nested lists of ``arb`` (computed once per sum)."""
    idx = [require_int("index", i, minimum=0) for i in index]
    if len(set(idx)) != len(idx) or not idx:
        raise ValueError(f"index must be a non-empty set of distinct lags >= 0, got {short_repr(idx)}")
    cache: dict[int, Any] = {}
    out = []
    for i in idx:
        row = []
        for j in idx:
            s = i + j
            if s not in cache:
                v = rho(s)
                cache[s] = flint.arb(v) if not isinstance(v, flint.arb) else v
            row.append(cache[s])
        out.append(row)
    return out


_SECTIONS: dict[tuple[int, tuple[int, ...], int], tuple[Any, list[list[Any]]]] = {}


def _cached_section(rho: Callable[[int], Any], idx: Sequence[int], prec: int) -> list[list[Any]]:
    """:func:`hankel_section` at the current precision, cached per ``(rho, index, prec)`` (the entry keeps
    ``rho`` alive, so its ``id`` cannot be reused while cached); at most 16 sections are kept."""
    key = (id(rho), tuple(idx), prec)
    hit = _SECTIONS.get(key)
    if hit is not None and hit[0] is rho:
        return hit[1]
    S = hankel_section(rho, idx)
    if len(_SECTIONS) >= 16:
        _SECTIONS.pop(next(iter(_SECTIONS)))
    _SECTIONS[key] = (rho, S)
    return S


def _pivot_signs(S: list[list[Any]], shift: Any) -> tuple[int, int] | None:
    """``(#positive, #negative)`` pivots of ``L D L^T`` of ``S - shift I`` (no pivoting), ``None`` if a
    pivot ball contains 0.  By Sylvester's law these are the numbers of eigenvalues ``> shift`` and
    ``< shift`` (every leading minor is then non-zero, so the factorisation exists)."""
    n = len(S)  # only the upper triangle A[i][j], j >= i, is read and updated
    A = [[S[i][j] - (shift if i == j else 0) for j in range(n)] for i in range(n)]
    pos = neg = 0
    for k in range(n):
        d = A[k][k]
        if d > 0:
            pos += 1
        elif d < 0:
            neg += 1
        else:
            return None
        rk = A[k]
        inv = 1 / d
        for i in range(k + 1, n):
            f = rk[i] * inv
            if f == 0:
                continue
            ri = A[i]
            for j in range(i, n):
                ri[j] -= f * rk[j]
    return pos, neg


def singular_count_above(rho: Callable[[int], Any], index: Iterable[int], x: float, *,
                         prec: int = START_PREC) -> int:
    """Certified number of singular values ``> x`` of the section ``[rho(i + j)]_{i, j in index}`` (``x > 0``).

    The section is symmetric, so its singular values are the moduli of its eigenvalues:
    ``#{sigma > x} = #{eig > x} + #{eig < -x}``, both read off pivot signs in ball arithmetic
    (:func:`_pivot_signs`).  The precision doubles from ``prec`` up to :data:`MAX_PREC` while a
    pivot is undecided (``ArithmeticError`` beyond; e.g. ``x`` is a singular value).

    >>> singular_count_above(delta_kernel_values(3), range(4), 0.999)  # exchange matrix: 4 ones
    4
    """
    x = float(require_real("x", x, minimum=0.0, strict_minimum=True))
    idx = list(index)
    p = require_int("prec", prec, minimum=16)
    while p <= MAX_PREC:
        old = flint.ctx.prec
        flint.ctx.prec = p
        try:
            S = _cached_section(rho, idx, p)
            up = _pivot_signs(S, flint.arb(x))
            down = _pivot_signs(S, -flint.arb(x)) if up is not None else None
        finally:
            flint.ctx.prec = old
        if up is not None and down is not None:
            return up[0] + down[1]
        p *= 2
    raise ArithmeticError(f"singular_count_above: pivots undecided at {MAX_PREC} bits for x={x!r}")


def _float_sigmas(rho: Callable[[int], Any], idx: Sequence[int]) -> np.ndarray:
    old = flint.ctx.prec
    flint.ctx.prec = 64
    try:
        vals = {s: float(flint.arb(rho(s)).mid()) for s in {i + j for i in idx for j in idx}}
    finally:
        flint.ctx.prec = old
    M = np.array([[vals[i + j] for j in idx] for i in idx])
    return np.sort(np.abs(np.linalg.eigvalsh(M)))[::-1]


def _bisect_sigma(rho: Callable[[int], Any], k: int, idx: Sequence[int], hi: float, lo: float) -> float:
    """Largest ``2^m`` (``m`` on a 1/8 grid in ``[lo, hi]``) certified ``< sigma_k`` by counts; 0 if none.
    The working precision grows with the depth below ``sigma_1 ~ 2^hi``."""
    def ok(m: float) -> bool:
        try:
            return singular_count_above(rho, idx, 2.0 ** m, prec=max(START_PREC, 32 * math.ceil((hi - m + 96) / 32))) >= k
        except ArithmeticError:
            return False

    if not ok(lo):
        return 0.0
    while hi - lo > 1 / 8:
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return 2.0 ** lo


def sigma_lower_bound(rho: Callable[[int], Any], k: int, index: Iterable[int], *, depth: int = 256) -> float:
    """Certified lower bound on the ``k``-th singular value (1-based) of the Hankel operator of ``rho``.

    The ``k``-th singular value of the section on ``index`` (a principal compression, so at most the
    operator's) is proposed by a float eigenvalue estimate ``t`` and certified at ``x = t (1 - 10^-6)``,
    then ``t/2, t/4, ...`` until the certified count of singular values ``> x`` reaches ``k``.
    When the estimate is below ``1e-13`` of the largest (float64 cannot resolve it) the bound comes
    from a certified bisection in ``log2 x`` down to ``2^-depth sigma_1`` instead (counts only, no float).
    Returns 0 when ``k`` exceeds the section size or nothing in that range is certified.

    >>> f = exponential_kernel(5)                          # e^{-5 s} on the lags 2^k: sigma_3 ~ 4e-18
    >>> 0 < sigma_lower_bound(lambda k: f(2 ** k), 3, range(4)) < 1e-15
    True
    """
    k = require_int("k", k, minimum=1)
    idx = list(index)
    if k > len(idx):
        return 0.0
    sig = _float_sigmas(rho, idx)
    t = float(sig[k - 1])
    if not t > 1e-13 * float(sig[0]):
        top = math.log2(float(sig[0])) + 1
        return _bisect_sigma(rho, k, idx, top, max(top - depth, -1070.0))
    x = t * (1 - 1e-6)
    for _ in range(12):
        try:
            if singular_count_above(rho, idx, x) >= k:
                return x
        except ArithmeticError:
            pass
        x /= 2
    return 0.0


def units_lower(rho: Callable[[int], Any], epsilon: float, index: Iterable[int]) -> int:
    """Certified: any exponential sum with fewer terms than the returned ``N`` has l1 error ``> epsilon``.

    ``N = #{sigma_k > epsilon}`` of the section on ``index``: a model with ``N' < N`` terms has error
    ``>= sigma_{N'+1} >= sigma_N > epsilon``.  (``N`` units may or may not suffice: this is one side.)
    """
    eps = float(require_real("epsilon", epsilon, minimum=0.0, strict_minimum=True))
    idx = list(index)
    x = eps
    for _ in range(8):  # epsilon itself may be a singular value (undecided pivot): step off it slightly
        try:
            return singular_count_above(rho, idx, x)
        except ArithmeticError:
            x *= 1 + 1e-9
    raise ArithmeticError(f"units_lower: count undecided near epsilon={eps!r}")


def mean_square_lower_bound(rho: Callable[[int], Any], terms: int, index: Iterable[int], *, extra: int = 4) -> float:
    """Certified lower bound on ``sum_s e(s)^2`` over the lags ``i + j`` (``i, j in index``) for any kernel with
    at most ``terms`` exponentials: ``||[e(i+j)]||_F^2 <= m sum_s e(s)^2`` (each lag occurs at most
    ``m = |index|`` times in the section) and Eckart-Young give ``sum_s e(s)^2 >= sum_{k > terms} sigma_k^2 / m``;
    the sum over ``k`` is bounded below by the certified ``sigma_k`` lower bounds of the first ``extra``
    ``k > terms`` (the later ones are dropped: they only add), stopping at the first ``k`` that gives 0."""
    terms = require_int("terms", terms, minimum=0)
    idx = list(index)
    m = len(idx)
    total = 0.0
    for k in range(terms + 1, min(m, terms + extra) + 1):  # dropping terms keeps the bound valid
        v = sigma_lower_bound(rho, k, idx)
        if v == 0.0:
            break
        total += v * v * (1 - 1e-15)
    return total / m


# ---------------------------------------------------------------------------------------------- deltas
def log_delta_depth(T: int) -> int:
    """``k0(T) = max_r v_r(T)``, the largest exponent of a prime in ``T``: the lags ``T d^j``,
    ``j = -k0 .. k0`` (``d`` that prime) are integers, a geometric subsequence centred on ``T``.

    >>> tuple(log_delta_depth(T) for T in (1, 5, 20, 64, 100))
    (0, 1, 2, 6, 2)
    """
    T = require_int("T", T, minimum=1)
    best, n, r = 0, T, 2
    while r * r <= n:
        v = 0
        while n % r == 0:
            n //= r
            v += 1
        best = max(best, v)
        r += 1
    return max(best, 1 if n > 1 else 0)


def _lin_delta_rank(T: int, H: int, shifted: bool) -> LowerBound:
    """Lemma F.1 (F.2 with ``shifted``; its worst shift is ``B = T``): the exchange matrix on lags ``0..T``."""
    if H <= T:
        return LowerBound(1.0, f"rank: Hankel section on lags 0..{T} is the exchange matrix "
                               f"(sigma_{H + 1} = 1); the zero kernel attains 1", T + 1, True)
    return LowerBound(0.0, f"H >= T+1 = {T + 1}: the infimum is 0 (divided-difference kernel with "
                           "T+1 heads, weights ~ eps^-T), not attained; no bound without a weight budget", 0)


def _log_delta_rank(T: int, H: int, shifted: bool) -> LowerBound:
    """Lemma F.4 (F.5 with ``shifted``: the best shift ``B <= T``): the exchange matrix on the geometric
    subsequence ``B d^j``, ``|j| <= k0(B)``."""
    if shifted:
        k0, B = max(((log_delta_depth(B), B) for B in range(1, T + 1)), key=lambda t: (t[0], -t[1]))
    else:
        k0, B = log_delta_depth(T), T
    if H <= k0:
        where = f"shift B={B}, " if shifted else ""
        return LowerBound(1.0, f"rank on the geometric subsequence ({where}lags {B} d^j, |j| <= {k0}): "
                               f"exchange matrix, sigma_{H + 1} = 1; the zero kernel attains 1", k0 + 1, True)
    return LowerBound(0.0, f"H > k0 = {k0}: the geometric-subsequence rank argument gives nothing (the "
                           "restricted delta has Hankel rank k0+1)", 0)


#: The rank argument of each kernel family for the delta ``1{s = T}`` (:func:`delta_l1_lower_bound`):
#: a function ``(T, H, shifted) -> LowerBound``.  A new family adds its own with
#: :func:`register_delta_rank_argument`; a family without one gets the trivial bound 0.
_DELTA_RANK_ARGUMENTS: dict[KernelFamily, Callable[[int, int, bool], LowerBound]] = {
    LIN: _lin_delta_rank,
    LOG: _log_delta_rank,
}


def register_delta_rank_argument(family: Any, argument: Callable[[int, int, bool], LowerBound]
                                 ) -> Callable[[int, int, bool], LowerBound] | None:
    """Register the rank argument ``argument(T, H, shifted) -> LowerBound`` of a kernel family for the delta
    ``1{s = T}`` (used by :func:`delta_l1_lower_bound`; ``family`` is a family or its name).

    A later registration for the same family replaces the earlier one, which is returned (``None`` if
    there was none), so a caller can restore it.
    """
    fam = kernel_family(family, "family")
    if not callable(argument):
        raise TypeError(f"argument must be callable (T, H, shifted) -> LowerBound, got {short_repr(argument)}")
    previous = _DELTA_RANK_ARGUMENTS.get(fam)
    _DELTA_RANK_ARGUMENTS[fam] = argument
    return previous


def delta_l1_lower_bound(rpe: Any, T: int, H: int, *, shifted: bool = False) -> LowerBound:
    """Certified lower bound on the l1 error of any ``H``-head kernel for the delta ``1{s = T}``.

    ``rpe`` is a kernel-family name or a ``KernelFamily``; the
    family's rank argument (:func:`register_delta_rank_argument`) gives the bound:

    lin (Lemma F.1; F.2 with ``shifted``): the Hankel section on ``{0..T}`` is the exchange matrix
    (all ``T + 1`` singular values 1), so ``H <= T`` heads have error ``>= 1`` -- attained by the
    zero kernel, the answer is exact.  For ``H >= T + 1`` the infimum is 0
    (:func:`divided_difference_kernel`), not attained: no positive bound exists without a weight budget.
    F.2 is the maximum over shifts ``B <= T`` of F.1 at ``B``; its worst shift is ``B = T``.

    log (Lemma F.4; F.5 with ``shifted``): on the lags ``T d^j``, ``|j| <= k0`` (:func:`log_delta_depth`),
    ``s^{-p}`` is the exponential ``(T^{-p}) (d^{-p})^j`` and the target a delta at the centre, so
    ``H <= k0(T)`` heads have error ``>= 1`` (zero kernel: exact).  F.5 takes the best shift ``B <= T``:
    ``H <= max_B k0(B) = floor(log2 T)``.

    >>> delta_l1_lower_bound("lin", 5, 4).value, delta_l1_lower_bound("lin", 5, 8).value
    (1.0, 0.0)
    >>> delta_l1_lower_bound("log", 100, 2).exact, delta_l1_lower_bound("log", 100, 4, shifted=True).value
    (True, 1.0)
    """
    family = kernel_family(rpe)
    T = require_int("T", T, minimum=1)
    H = require_int("H", H, minimum=1)
    argument = _DELTA_RANK_ARGUMENTS.get(family)
    if argument is None:
        return LowerBound(0.0, f"no rank argument is registered for the {family.name} family", 0)
    return argument(T, H, bool(shifted))


def divided_difference_kernel(T: int, epsilon: Any) -> tuple[list[Fraction], list[Fraction], Fraction]:
    """Exact ``T + 1``-head lin kernel for ``1{s = T}`` with l1 error ``prod_j 1/(1 - lambda_j) - 1``.

    ``lambda_j = (j + 1) epsilon`` (``j = 0..T``, all in ``(0, 1)``), ``c_j = 1 / prod_{i != j} (lambda_j - lambda_i)``:
    ``sum_j c_j lambda_j^s`` is the divided difference of ``lambda^s``, i.e. 0 for ``s < T``, 1 at
    ``s = T`` and the complete homogeneous polynomial ``h_{s-T}(lambda) > 0`` beyond, whose sum is
    ``prod 1/(1 - lambda_j) - 1``.  Returns ``(decays, coefficients, error)`` as exact fractions:
    the error tends to 0 with ``epsilon`` while ``max |c_j|`` grows like ``epsilon^-T``.

    >>> lam, c, err = divided_difference_kernel(1, "1/100")
    >>> tuple(c), err
    ((Fraction(-100, 1), Fraction(100, 1)), Fraction(149, 4851))
    """
    T = require_int("T", T, minimum=0)
    eps = _rational("epsilon", epsilon)
    if not 0 < eps * (T + 1) < 1:
        raise ValueError(f"epsilon must lie in (0, 1/(T+1)) = (0, 1/{T + 1}), got {epsilon!r}")
    lam = [(j + 1) * eps for j in range(T + 1)]
    c = []
    for j in range(T + 1):
        d = Fraction(1)
        for i in range(T + 1):
            if i != j:
                d *= lam[j] - lam[i]
        c.append(1 / d)
    prod = Fraction(1)
    for v in lam:
        prod /= 1 - v
    return lam, c, prod - 1


def integer_section_sigmas(values: Callable[[int], int], index: Iterable[int]) -> list[float]:
    """Certified lower ends of **all** singular values (descending) of an integer Hankel section.

    The section ``[values(i + j)]_{i, j in index}`` is an exact integer matrix (python-flint ``fmpz_mat``);
    its characteristic polynomial is computed exactly and its roots isolated with certified balls
    (``fmpz_poly.complex_roots``).  The section is symmetric, so ``sigma = |eigenvalue|``; each returned
    value is the lower end of ``|root|``, repeated by multiplicity, sorted descending (the ``k``-th of
    them is then ``<= sigma_k``).

    >>> tuple(integer_section_sigmas(delta_kernel_values(3), range(4)))  # the exchange matrix
    (1.0, 1.0, 1.0, 1.0)
    """
    idx = [require_int("index", i, minimum=0) for i in index]
    if len(set(idx)) != len(idx) or not idx:
        raise ValueError(f"index must be a non-empty set of distinct lags >= 0, got {short_repr(idx)}")
    vals = {s: values(s) for s in {i + j for i in idx for j in idx}}
    for s, v in vals.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"values({s}) must be an int, got {type(v).__name__} {v!r}")
    M = flint.fmpz_mat([[int(vals[i + j]) for j in idx] for i in idx])
    out: list[float] = []
    for z, mult in M.charpoly().complex_roots():
        out += [max(float(abs(z).lower()), 0.0)] * int(mult)
    return sorted(out, reverse=True)


def lag_multiplicity(index: Iterable[int]) -> int:
    """The largest number of pairs ``(i, j)`` in ``index x index`` with the same lag ``i + j``: then
    ``||[e(i+j)]||_F^2 <= lag_multiplicity * sum_s e(s)^2`` (used with Eckart-Young).

    >>> lag_multiplicity(range(401, 500))
    99
    """
    idx = list(index)
    counts: dict[int, int] = {}
    for i in idx:
        for j in idx:
            counts[i + j] = counts.get(i + j, 0) + 1
    return max(counts.values())


# ---------------------------------------------------------------------------------------------- budgets
def polynomial_sup_01(coefficients: Sequence[float], *, pieces: int = 256, max_pieces: int = 1 << 14,
                      target: float | None = None) -> float:
    """Certified upper bound of ``max_{lambda in [0, 1]} |sum_s y_s lambda^s|`` (float ``y_s`` taken exactly).

    ``[0, 1]`` is cut into ``pieces`` equal intervals, the polynomial evaluated on each as an ``arb`` ball
    (Horner in interval arithmetic, an enclosure of its range there); the number of pieces doubles while the
    bound exceeds ``1.01 target`` (e.g. a float grid maximum), up to ``max_pieces``.

    >>> polynomial_sup_01([0.0, 1.0, -1.0]) >= 0.25          # lambda - lambda^2 peaks at 1/4
    True
    """
    y = [flint.arb(float(v)) for v in coefficients]
    n = require_int("pieces", pieces, minimum=1)
    best = math.inf
    while True:
        sup = 0.0
        for k in range(n):
            ball = flint.arb(flint.arb(2 * k + 1) / (2 * n), flint.arb(1) / (2 * n))
            acc = flint.arb(0)
            for c in reversed(y):
                acc = acc * ball + c
            sup = max(sup, float(abs(acc).upper()))
        best = min(best, sup)
        if target is None or best <= 1.01 * target + 1e-300 or 2 * n > max_pieces:
            return best
        n *= 2


def weight_budget_lower_bound(T: int, W: float, *, extra: int = 40, grid: int = 2000) -> LowerBound:
    """Certified lower bound on ``||1{. = T} - g||_1`` for **every** lin kernel ``g(s) = sum_h c_h lambda_h^s``
    with ``lambda_h in (0, 1)`` and weight budget ``sum_h |c_h| <= W``, any number of heads.

    Weak LP duality: for any ``y`` with ``|y_s| <= 1`` (``s = 0..T + extra``),
    ``||e||_1 >= sum_s y_s e(s) = y_T - sum_h c_h P_y(lambda_h) >= y_T - W max_{[0, 1]} |P_y|`` with
    ``P_y(lambda) = sum_s y_s lambda^s``.  ``y`` is chosen by an LP on a ``lambda``-grid (HiGHS); the maximum
    of ``|P_y|`` over the whole interval is then certified (:func:`polynomial_sup_01`).  Without a budget
    (``W -> inf``) the bound vanishes for ``H >= T + 1`` (:func:`divided_difference_kernel`); with one it does not.

    >>> lb = weight_budget_lower_bound(1, 10.0)
    >>> 0.1 < lb.value < 1
    True
    """
    import scipy.optimize

    T = require_int("T", T, minimum=0)
    W = float(require_real("W", W, minimum=0.0))
    extra = require_int("extra", extra, minimum=0)
    S = T + extra
    lam = np.sort(np.concatenate([0.5 - 0.5 * np.cos(np.linspace(0, math.pi, grid)), np.linspace(0, 1, grid)]))
    V = lam[:, None] ** np.arange(S + 1)[None, :]
    # variables y_0..y_S, t: maximise y_T - W t  s.t.  -t <= V y <= t, |y| <= 1
    cost = np.zeros(S + 2)
    cost[T] = -1.0
    cost[-1] = W
    A = np.vstack([np.hstack([V, -np.ones((len(lam), 1))]), np.hstack([-V, -np.ones((len(lam), 1))])])
    res = scipy.optimize.linprog(cost, A_ub=A, b_ub=np.zeros(2 * len(lam)),
                                 bounds=[(-1, 1)] * (S + 1) + [(0, None)], method="highs")
    if res.x is None:
        return LowerBound(0.0, f"weight budget W={W:g}: the dual LP failed", 0)
    y = np.clip(res.x[:S + 1], -1.0, 1.0)
    sup = polynomial_sup_01(y.tolist(), target=float(np.max(np.abs(V @ y))))
    value = float(y[T]) - W * sup
    value = value * (1 - 1e-12) if value > 0 else 0.0  # float y_T, W * sup rounded: keep a margin
    return LowerBound(value, f"weight budget sum|c_h| <= {W:g}: LP duality, y on lags 0..{S}, "
                             f"certified max_[0,1] |P_y| = {sup:.3g}", S + 1)
