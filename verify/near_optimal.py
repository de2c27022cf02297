"""Recorded near-optimal kernels: certified, monotone best found for the curse of memory and H.2.7 / H.2.8.

The searches that find good exponential sums (:mod:`tfapprox.constructions.exponential_sums`: AAK /
Prony and quadrature starting points, sequential-LP refinement in l1; high-precision Gauss-Newton
and IRLS for the finite windows) take minutes.  Their results are **recorded** in
:mod:`tfapprox.verify.near_optimal_records` as exact decimal strings, and this module re-certifies a
record in well under a second:

* :func:`certify_rnn` -- a diagonal linear RNN kernel ``K(s) = sum_k c_k lambda_k^s`` against
  ``rho(s) = s^-beta`` (``rho(0) = 0``) over **all** lags: the rigorous enclosure of
  :func:`tfapprox.verify.essential_error.expsum_l1_error` (the record's decimals are float64 numbers,
  kept exactly; decays in ``(0, 1)``), Sec. 5 of Wang & E 2024.
* :func:`certify_heads` -- a finite-window kernel (``past="none"``, output at the last of ``L`` tokens)
  of ``H`` DP-free heads, ``sum_h c_h e^{-p_h s}`` (lin-RPE) or ``sum_h c_h s^{-p_h}`` (log-RPE,
  lags ``s >= 1``; lag 0 is the residual's), against the H.2.7 / H.2.8 targets (App. H.2): worst
  case ``sum_s |e(s)|`` and mean square ``sum_s e(s)^2`` enclosed in ball arithmetic (python-flint
  ``arb``) with the record's decimals as exact numbers.

**Monotone by construction**: :func:`best_found_rnn` ``(beta, N)`` and :func:`best_found_heads`
``(experiment, rpe, H)`` return the best certified record with *at most* ``N`` units / ``H`` heads
(a smaller kernel, zero-padded, is a candidate for every larger budget), so the value never increases
with the budget.  A record is a search result: an upper bound on the optimum, never "the minimum".

Examples
--------
>>> r = best_found_rnn(1.5, 17)                  # certified in well under a second
>>> r.units_used <= 17 and r.lower <= r.upper < 9.73e-4 and all(0 < float(v) < 1 for v in r.decays)
True
>>> units_found(1.5, 1e-3) <= 17
True
>>> h = best_found_heads("h2.7", "lin", 64)       # lin-RPE heads on t^-1/2, 1000 tokens
>>> h.lower <= h.upper < 2.0e-8 / 2000 and h.mse_lower <= h.mse_upper
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

from tfapprox.theory.families import family_for_decay, kernel_family
from tfapprox.theory.target_examples import paper_experiment
from tfapprox.theory.validation import require_choice, require_int, require_real, short_repr

from . import near_optimal_records as _rec

__all__ = ["Certified", "certify_rnn", "certify_heads", "best_found_rnn", "best_found_heads", "units_found",
           "rnn_budgets", "heads_budgets", "finite_target", "rnn_fit", "heads_candidate"]

#: The finite-window experiments with recorded kernels: target name and length ``L``.
EXPERIMENTS = ("h2.7", "h2.8")


@dataclass(frozen=True)
class Certified:
    """A recorded kernel with its certified error.

    ``lower <= error <= upper`` (worst case = l1 norm of the kernel error); ``mse_lower <= mean square
    <= mse_upper`` for the finite windows (``None`` for the infinite RNN kernels).  ``budget`` is the
    number of units / heads asked for, ``units_used`` the size of the recorded kernel that answers it
    (``<= budget``: a smaller kernel zero-padded).  ``decays`` (RNN, ``lambda_k``) or ``exponents``
    (heads, ``p_h``) and ``coefficients`` are the exact decimal strings of the record; ``source`` says
    how the record was found.
    """

    kind: str
    budget: int
    units_used: int
    lower: float
    upper: float
    decays: tuple[str, ...]
    exponents: tuple[str, ...]
    coefficients: tuple[str, ...]
    source: str
    mse_lower: float | None = None
    mse_upper: float | None = None

    @property
    def weight_l1(self) -> float:
        """``sum_k |c_k|``, the weight budget the kernel uses (the lower bounds allow any weights)."""
        return float(sum(abs(Fraction(c)) for c in self.coefficients))

    @property
    def value(self) -> float:
        """The certified upper end: what "best found" reports."""
        return self.upper

    @property
    def zero_padded(self) -> bool:
        """True when a smaller recorded kernel answers this budget."""
        return self.units_used < self.budget


def _float_exact(name: str, text: str) -> float:
    """The float64 a decimal string denotes, refusing strings that are not the shortest repr of a float64
    (so the certified kernel is exactly the recorded one)."""
    try:
        v = float(text) if isinstance(text, str) else math.nan
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or repr(v) != text:
        raise ValueError(f"{name} must be the repr of a finite float64, got {short_repr(text)}")
    return v


def _decimal_exact(name: str, text: Any) -> Fraction:
    """The exact rational a decimal string denotes; ValueError naming ``name`` for anything else."""
    try:
        value = Fraction(text) if isinstance(text, str) else None
    except (ValueError, ZeroDivisionError):
        value = None
    if value is None:
        raise ValueError(f"{name} must be a decimal string, got {short_repr(text)}")
    return value


def certify_rnn(beta: Any, decays: Sequence[str], coefficients: Sequence[str]) -> tuple[float, float]:
    """``(lower, upper)``: rigorous enclosure of ``sum_{s >= 0} |s^-beta - sum_k c_k lambda_k^s|``
    (``rho(0) = 0``) for recorded float64 decimal strings (:func:`expsum_l1_error`)."""
    from .essential_error import expsum_l1_error

    lam = [_float_exact(f"decays[{i}]", t) for i, t in enumerate(decays)]
    c = [_float_exact(f"coefficients[{i}]", t) for i, t in enumerate(coefficients)]
    enc = expsum_l1_error(lam, c, beta)
    return enc.lower, enc.upper


def finite_target(experiment: str) -> tuple[Any, str]:
    """``(rho, description)``: the H.2.7 / H.2.8 target as a function ``s -> arb`` (``s >= 0``), read from
    the App. H catalogue (:func:`tfapprox.theory.target_examples.paper_experiment`): ``rho(s) =
    scale * exp(-beta x(s))`` in the coordinate ``x`` of the family of the kernel's decay (``s^-beta`` or
    ``e^{-beta s}``), below the family's first lag the kernel's declared ``rho(0)``.
    """
    experiment = require_choice("experiment", experiment, EXPERIMENTS)
    import flint

    paper = paper_experiment("H." + experiment[1:])  # "h2.7" -> "H.2.7"
    (kernel,) = paper.target.kernels
    family = family_for_decay(kernel.decay)
    if getattr(kernel, "offset", 0) != 0:
        raise ValueError(f"experiment {experiment!r}: a shifted power kernel is not supported here")
    beta, scale = Fraction(str(kernel.beta)), Fraction(str(kernel.scale))
    rho_at_first = (lambda s: flint.arb(scale.numerator) / scale.denominator
                    * (-(flint.arb(beta.numerator) / beta.denominator) * family.coordinate_arb(s)).exp())
    # below the family's first lag (log: lag 0) the kernel's declared rho(0); lin starts at lag 0
    at_zero = Fraction(str(getattr(kernel, "rho0", 0)))

    def rho(s: int) -> Any:
        if s < family.first_lag:
            return flint.arb(at_zero.numerator) / at_zero.denominator
        return rho_at_first(s)

    return rho, paper.description


def certify_heads(experiment: str, rpe: str, exponents: Sequence[str], coefficients: Sequence[str], *,
                  length: int = 1000) -> tuple[float, float, float, float]:
    """``(lower, upper, mse_lower, mse_upper)`` of the worst case ``sum_s |e(s)|`` and the mean square
    ``sum_s e(s)^2`` of ``e = rho - kernel`` on the lags of an ``length``-token window (lin: ``0..L-1``;
    log: ``1..L-1``, lag 0 being the residual's), in ``arb`` ball arithmetic with the decimal strings
    taken exactly (precision raised until the enclosure is relatively tighter than ``1e-6``).
    """
    import flint

    family = kernel_family(rpe)
    L = require_int("length", length, minimum=2)
    if len(exponents) != len(coefficients) or not exponents:
        raise ValueError(f"exponents and coefficients need the same length >= 1, got {len(exponents)} and "
                         f"{len(coefficients)}")
    ex = [_decimal_exact(f"exponents[{i}]", t) for i, t in enumerate(exponents)]  # exact decimals
    cf = [_decimal_exact(f"coefficients[{i}]", t) for i, t in enumerate(coefficients)]
    if any(p <= 0 for p in ex):
        raise ValueError(f"exponents must be > 0, got {short_repr(list(exponents))}")
    rho, _ = finite_target(experiment)
    lags = family.lags(L)
    big = max(1.0, max(abs(float(c)) for c in cf))
    prec = 128 + int(math.log2(big)) + 16
    old = flint.ctx.prec
    try:
        for _ in range(4):
            flint.ctx.prec = prec
            P = [flint.arb(p.numerator) / p.denominator for p in ex]
            C = [flint.arb(c.numerator) / c.denominator for c in cf]
            l1 = flint.arb(0)
            sq = flint.arb(0)
            for s in lags:
                x = family.coordinate_arb(s)
                k = flint.arb(0)
                for p, c in zip(P, C):
                    k += c * (-(p * x)).exp()
                e = rho(s) - k
                l1 += abs(e)
                sq += e * e
            lo, hi = float(l1.lower()), float(l1.upper())
            if hi == 0 or (hi - lo) <= 1e-6 * hi:
                break
            prec *= 2
    finally:
        flint.ctx.prec = old
    # outward to float64 (arb.lower()/upper() round outward already; one more ulp for the float conversion)
    return (max(math.nextafter(lo, -math.inf), 0.0), math.nextafter(hi, math.inf),
            max(math.nextafter(float(sq.lower()), -math.inf), 0.0), math.nextafter(float(sq.upper()), math.inf))


def _rnn_table(beta: float) -> dict[int, dict[str, Any]]:
    return _rec.RNN.get(f"power:{beta!r}", {})


def rnn_budgets(beta: Any) -> tuple[int, ...]:
    """The unit counts with a recorded kernel for ``s^-beta`` (empty when none is recorded)."""
    return tuple(sorted(_rnn_table(float(beta))))


def heads_budgets(experiment: str, rpe: str, length: int = 1000) -> tuple[int, ...]:
    """The head counts with a recorded kernel for ``(experiment, rpe, length)``."""
    return tuple(sorted(_rec.HEADS.get((experiment, rpe, length), {})))


@lru_cache(maxsize=None)
def _certified_rnn(beta: float, n: int) -> Certified:
    r = _rnn_table(beta)[n]
    lo, hi = certify_rnn(beta, r["decays"], r["coefficients"])
    return Certified("rnn", n, n, lo, hi, tuple(r["decays"]), (), tuple(r["coefficients"]), r["source"])


@lru_cache(maxsize=None)
def _certified_heads(experiment: str, rpe: str, length: int, n: int) -> Certified:
    r = _rec.HEADS[(experiment, rpe, length)][n]
    lo, hi, mlo, mhi = certify_heads(experiment, rpe, r["exponents"], r["coefficients"], length=length)
    return Certified(f"{experiment}:{rpe}", n, n, lo, hi, (), tuple(r["exponents"]), tuple(r["coefficients"]),
                     r["source"], mlo, mhi)


def _best(cands: list[Certified], budget: int) -> Certified | None:
    if not cands:
        return None
    b = min(cands, key=lambda c: (c.upper, c.units_used))
    return Certified(b.kind, budget, b.units_used, b.lower, b.upper, b.decays, b.exponents, b.coefficients,
                     b.source, b.mse_lower, b.mse_upper)


def best_found_rnn(beta: Any, units: int) -> Certified | None:
    """The best recorded ``<= units``-unit diagonal linear RNN kernel for ``s^-beta`` with its certified
    l1 error over all lags (``None`` if no record with at most ``units`` units exists for this ``beta``).

    Monotone by construction: every record with fewer units is a candidate (zero-padded)."""
    beta = float(require_real("beta", beta, minimum=1.0, strict_minimum=True))
    units = require_int("units", units, minimum=1)
    return _best([_certified_rnn(beta, n) for n in rnn_budgets(beta) if n <= units], units)


def best_found_heads(experiment: str, rpe: str, heads: int, *, length: int = 1000) -> Certified | None:
    """The best recorded ``<= heads``-head kernel for the H.2.7 / H.2.8 target of ``experiment`` and
    RPE ``rpe`` on a ``length``-token window, with certified worst case and mean square (``None`` if none
    is recorded).  Monotone in ``heads`` by construction."""
    experiment = require_choice("experiment", experiment, EXPERIMENTS)
    rpe = kernel_family(rpe).name
    heads = require_int("heads", heads, minimum=1)
    length = require_int("length", length, minimum=2)
    return _best([_certified_heads(experiment, rpe, length, n) for n in heads_budgets(experiment, rpe, length)
                  if n <= heads], heads)


def units_found(beta: Any, epsilon: Any, *, max_units: int = 64) -> int | None:
    """Smallest recorded unit count whose certified l1 error (upper end) is ``<= epsilon`` (a search result:
    an upper bound on the units needed), ``None`` if no record up to ``max_units`` reaches it."""
    eps = float(require_real("epsilon", epsilon, minimum=0.0, strict_minimum=True))
    for n in rnn_budgets(beta):
        if n > max_units:
            break
        if _certified_rnn(float(beta), n).upper <= eps:
            return n
    return None


def rnn_fit(beta: Any, units: int) -> Any:
    """:func:`best_found_rnn` as an :class:`~tfapprox.verify.essential_error.RNNFit` (the type the
    curse-of-memory check keeps per unit count), or ``None`` when nothing is recorded.

    ``units`` is the budget; the fit's ``units`` is the recorded kernel's size (``<= budget``), its
    ``enclosure`` the rigorous :func:`~tfapprox.verify.essential_error.expsum_l1_error` of the record,
    ``params`` empty (no family parameters: not a warm start for the family search), ``lp_objective`` the
    certified upper end (no LP ran) and ``evaluations`` 0."""
    from .essential_error import RNNFit, expsum_l1_error

    best = best_found_rnn(beta, units)
    if best is None:
        return None
    lam = tuple(float(v) for v in best.decays)
    c = tuple(float(v) for v in best.coefficients)
    enc = expsum_l1_error(lam, c, float(beta))
    return RNNFit(float(beta), best.units_used, lam, c, (), enc.upper, enc, 0)


def heads_candidate(experiment: str, rpe: str, heads: int, *, length: int = 1000) -> dict[str, Any] | None:
    """:func:`best_found_heads` as the candidate dict of the H.2.7 / H.2.8 check: ``err`` and ``wc`` (the
    certified upper end of the worst case), ``mse`` (upper end of the mean square), ``exponents`` and
    ``coefficients`` (floats, for warm starts and JSON; the exact decimals are in ``exponents_exact`` /
    ``coefficients_exact``), ``source`` and ``H`` (the recorded kernel's size); ``None`` if nothing is
    recorded."""
    best = best_found_heads(experiment, rpe, heads, length=length)
    if best is None:
        return None
    return {"err": best.upper, "wc": best.upper, "mse": best.mse_upper,
            "exponents": [float(v) for v in best.exponents], "coefficients": [float(v) for v in best.coefficients],
            "exponents_exact": list(best.exponents), "coefficients_exact": list(best.coefficients),
            "source": f"record ({best.source}; {best.units_used} heads)", "H": best.units_used}
