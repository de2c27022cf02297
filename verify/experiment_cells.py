"""One ``(H, m)`` cell of the experiments H.2.2-H.2.5: exact errors of the finite-window Theorem 3.1 construction.

Targets (:func:`tfapprox.theory.targets.paper_experiment`, App. H): windows of ``L = 1000`` tokens in
``{+1,-1}``, output read at the last token.  The construction
(:func:`tfapprox.constructions.finite_window.build_finite_thm3_1`) outputs at the last token
``z_k = sum_{s<L} P_k(s) x_{L-1-s}`` per memory (:mod:`tfapprox.verify.finite_kernels`) and then its
readout FFN.  :func:`experiment_cell` computes the worst case over ``{+-1}^L`` and the mean square over
uniform signs, exactly for the linear readout (H.2.4) and as rigorous enclosures for ReLU readouts
(enumeration of the read tokens plus the analytic effect of the other tokens; no Monte Carlo), see
:mod:`tfapprox.verify.experiments`.  Also here: the FFN's float arrays (:func:`ffn_arrays`), the
width the readout needs (:func:`width_needed`, Maurey's argument of Lemma G.6).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any

import numpy as np

from tfapprox.constructions.delta_kernels import DEFAULT_ALPHA, DEFAULT_GAMMA
from tfapprox.constructions.finite_window import allocation
from tfapprox.constructions.thm3_1 import readout_ffn
from tfapprox.theory.bounds import delta_kernel_bound
from tfapprox.theory.families import kernel_family
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import FixedMemoryTarget, paper_experiment
from tfapprox.theory.validation import require_choice, require_int

from .finite_kernels import finite_kernel, interpolant_on_window
from tfapprox.theory.numerics.double_double import EPS as FLOAT64_EPS

__all__ = ["EXPERIMENTS", "experiment_cell", "kernel_bound", "sign_assignments", "ffn_arrays", "ffn_output",
           "width_needed"]

#: The experiments covered here (H.2.5 has H.2.2's target; its DP variant is not a construction).
EXPERIMENTS: tuple[str, ...] = ("H.2.2", "H.2.3", "H.2.4", "H.2.5")


# ---------------------------------------------------------------------------------------
# The FFN
# ---------------------------------------------------------------------------------------

def ffn_arrays(readout: Any, width: int, D: int, seed: int, radius: float) -> tuple[np.ndarray, ...]:
    """``(outer a, inner B, bias c, exact)`` of the construction's readout FFN in float64: the readout's
    (:func:`~tfapprox.constructions.thm3_1.readout_ffn`) or, for a linear readout, the exact two-neuron FFN
    ``relu(w.z + b + C) - relu(C)`` with ``C = sum |w| radius + |b| + 1`` (valid for ``||z||_inf <= radius``)."""
    if isinstance(readout, LinearReadout):
        if width < 2:
            raise ValueError(f"m (FFN width) must be >= 2 for the exact linear readout FFN, got {width}")
        w = np.array([float(v) for v in readout.weights])
        C = float(np.sum(np.abs(w))) * radius + abs(float(readout.bias)) + 1.0
        B = np.zeros((width, D))
        B[0] = w
        c = np.zeros(width)
        c[0] = C + float(readout.bias)
        c[1] = C
        a = np.zeros(width)
        a[0], a[1] = 1.0, -1.0
        return a, B, c, True
    return _relu_ffn_arrays(readout, width, D, seed)


@lru_cache(maxsize=1024)
def _relu_ffn_arrays(readout: Any, width: int, D: int, seed: int) -> tuple[np.ndarray, ...]:
    """Float arrays of :func:`~tfapprox.constructions.thm3_1.readout_ffn` (cached: the sympy build is slow)."""
    ffn, exact, _ = readout_ffn(readout, width, D, seed)
    B = np.array(ffn.inner.tolist(), dtype=float)
    c = np.array(ffn.bias.tolist(), dtype=float).reshape(-1)
    a = np.array(ffn.outer.tolist(), dtype=float).reshape(-1)
    for arr in (a, B, c):
        arr.setflags(write=False)
    return a, B, c, exact


def ffn_output(a: np.ndarray, B: np.ndarray, c: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``F(z) = sum_k a_k relu(b_k . z + c_k)`` for each row ``z`` of ``Z`` (float64)."""
    return np.maximum(Z @ B.T + c, 0.0) @ a


def _ffn_box_error(readout: Any, a: np.ndarray, B: np.ndarray, c: np.ndarray, radius: float) -> float:
    """Deterministic bound of ``sup |f - F|`` on ``||z||_inf <= radius`` (same neurons, different
    outer weights: ``sum_k |a_k - a'_k| (radius ||b_k||_1 + |c_k|)``); 0 for an exact FFN."""
    if isinstance(readout, LinearReadout):
        return 0.0
    fa, fB, fc = readout.outer_f, readout.inner_f, readout.bias_f
    total = 0.0
    used = np.zeros(len(a), dtype=bool)
    for k in range(len(fa)):
        match = [i for i in range(len(a)) if not used[i] and a[i] != 0 and np.array_equal(B[i], fB[k]) and c[i] == fc[k]]
        ak = 0.0
        if match:
            used[match[0]] = True
            ak = a[match[0]]
        total += abs(fa[k] - ak) * (radius * float(np.sum(np.abs(fB[k]))) + abs(fc[k]))
    for i in np.nonzero(~used & (a != 0))[0]:
        total += abs(a[i]) * (radius * float(np.sum(np.abs(B[i]))) + abs(c[i]))
    return total * (1 + 1e-12)


# ---------------------------------------------------------------------------------------
# One (H, m) cell
# ---------------------------------------------------------------------------------------

def sign_assignments(n: int) -> np.ndarray:
    """All ``2^n`` points of ``{-1, +1}^n`` as rows (float64), in ``itertools.product`` order."""
    return np.array(list(itertools.product((-1.0, 1.0), repeat=n)))


def experiment_cell(name: str, heads: int, width: int, *, rpe: str = "lin", alpha: Any = DEFAULT_ALPHA,
                    gamma: Any = DEFAULT_GAMMA, seed: int = 0, ffn_seed: int = 0, n_max: int = 4,
                    search_seed: int = 0, realised: bool = True) -> dict[str, Any]:
    """Exact errors of the finite-sequence Theorem 3.1 construction for one ``(H, m)`` cell.

    Returns a dict with ``H, m, heads_per_memory``, per-memory exact attention errors
    (``attention_errors``: upper ends of enclosures; ``zero_kernels``), ``worst_case_lower`` /
    ``worst_case_upper`` (equal, hence exact, for the linear readout and whenever the kernels
    vanish off the target's lags), ``mse_lower`` / ``mse_upper`` (exact enclosure),
    ``worst_case_exact``, ``bound`` (explicit: ``Lip(f)`` or ``|w|`` times the Lemma bounds plus the
    FFN's box error), ``ffn_error`` (exact sup over the target's inputs of ``|f - F|``), the target's
    mean square ``target_mean_square`` and ``consistent`` (every number within its bounds).

    ``realised=False`` uses the exact interpolants (:func:`interpolant_on_window`) instead of the
    realised kernels of :func:`finite_kernel` (same function up to the stored-coefficient allowance;
    no ``0.77 H``-digit weights are built).

    >>> row = experiment_cell("H.2.4", 32, 16)
    >>> row["worst_case_upper"], row["mse_upper"], row["zero_kernels"]
    (3.0, 3.0, [True, True, True])
    """
    ex = paper_experiment(require_choice("name", name, EXPERIMENTS), seed=seed)
    target = ex.target
    assert isinstance(target, FixedMemoryTarget)
    family = kernel_family(rpe)
    H = require_int("H", heads, minimum=1)
    m = require_int("m", width, minimum=1)
    if not isinstance(realised, bool):
        raise TypeError(f"realised must be a bool, got {type(realised).__name__} {realised!r}")
    L = ex.window_length
    lags = tuple(target.lags)
    M = len(lags)
    row: dict[str, Any] = {"experiment": name, "rpe": family.name, "H": H, "m": m}
    if H < M:
        row.update(status=f"H < M = {M}: the construction needs one head group per memory", consistent=True)
        return row
    alloc = allocation(family, lags, H, alpha)
    fks = [(finite_kernel if realised or Hk < 2 else interpolant_on_window)(family.name, T, Hk, L, alpha=alpha, gamma=gamma)
           for T, Hk in zip(lags, alloc)]
    encl = [fk.l1 for fk in fks]
    E = [e[1] for e in encl]
    bounds_by_n = {n: [kernel_bound(family.name, T, Hk, n, alpha, gamma) for T, Hk in zip(lags, alloc)]
                   for n in range(1, n_max + 1)}
    readout = target.readout
    D = M + 1
    radius = 1.0 + max(E)  # |z_k| <= |x| + E_k on every input
    a, B, c, exact = ffn_arrays(readout, m, D, ffn_seed, radius)
    R = [0] + list(lags)  # lags read by the target; x_t is carried exactly by the residual
    P = np.array([fk.values for fk in fks])  # (M, L): P_k(s)
    X_R = sign_assignments(M + 1)  # values of x at lags R
    Zstar = X_R  # target input (x_t, x_{t-T_1}, ...)
    ZR = np.column_stack([X_R[:, 0]] + [X_R @ P[k, R] for k in range(M)])
    f_true = np.asarray(readout.evaluate(Zstar), dtype=float)
    G = f_true - ffn_output(a, B, c, ZR)
    other = np.ones(L, dtype=bool)
    other[R] = False
    PO = P[:, other]
    rounding_R = max(float(np.sum(fk.rounding)) for fk in fks)
    ffn_error = float(np.max(np.abs(f_true - ffn_output(a, B, c, Zstar))))
    row.update(heads_per_memory="/".join(map(str, alloc)), attention_errors=E,
               attention_errors_lower=[e[0] for e in encl], zero_kernels=[fk.zero for fk in fks],
               kernel_at_lag=[float(fk.values[T]) for fk, T in zip(fks, lags)], ffn_exact=exact,
               ffn_error=ffn_error, target_mean_square=float(np.mean(f_true ** 2)))
    if isinstance(readout, LinearReadout):
        w = np.array([float(v) for v in readout.weights[1:]])
        comb = sum(wk * fk.error for wk, fk in zip(w, fks))
        rnd = sum(abs(wk) * fk.rounding for wk, fk in zip(w, fks))
        s1 = math.fsum(np.abs(comb).tolist())
        s2 = math.fsum((comb * comb).tolist())
        r1 = float(np.sum(rnd)) + s1 * 4 * FLOAT64_EPS
        r2 = float(np.sum(rnd * (2 * np.abs(comb) + rnd))) + s2 * 4 * FLOAT64_EPS
        if all(fk.zero for fk in fks):
            r1 = r2 = 0.0
        wc_lo, wc_hi, mse_lo, mse_hi = max(s1 - r1, 0.0), s1 + r1, max(s2 - r2, 0.0), s2 + r2
        lip_att = float(np.sum(np.abs(w) * np.array(E)))
        bound_n = {n: float(np.sum(np.abs(w) * np.array(b))) for n, b in bounds_by_n.items()}
        ffn_box = 0.0
    else:
        absB = np.abs(B[:, 1:])
        Delta = float(np.abs(a) @ (absB @ np.sum(np.abs(PO), axis=1))) * (1 + 1e-12) + \
            float(np.abs(a) @ (absB @ np.full(M, rounding_R)))
        wc_exactish = float(np.max(np.abs(G)))
        C = PO @ PO.T
        sdev = float(np.abs(a) @ np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", B[:, 1:], C, B[:, 1:]), 0.0)))
        sdev = sdev * (1 + 1e-9) + float(np.abs(a) @ (absB @ np.full(M, rounding_R)))
        rms_G = math.sqrt(float(np.mean(G ** 2)))
        mse_lo = max(rms_G - sdev, 0.0) ** 2
        mse_hi = (rms_G + sdev) ** 2
        lip = float(readout.lipschitz)
        ffn_box = _ffn_box_error(readout, a, B, c, radius)
        paper_style = lip * math.sqrt(sum(e * e for e in E)) + ffn_box
        wc_hi = min(wc_exactish + Delta, paper_style) if Delta > 0 else wc_exactish
        wc_lo = wc_exactish if Delta == 0 else _search_worst(a, B, c, f_true, ZR, PO, search_seed)
        wc_lo = min(wc_lo, wc_hi)
        lip_att = lip * math.sqrt(sum(e * e for e in E))
        bound_n = {n: lip * math.sqrt(sum(v * v for v in b)) + ffn_box for n, b in bounds_by_n.items()}
    best_n = min(bound_n, key=bound_n.get)
    consistent = (all(e <= b * (1 + 1e-12) for n in bounds_by_n for e, b in zip(E, bounds_by_n[n]))
                  and wc_lo <= wc_hi * (1 + 1e-12) and mse_lo <= mse_hi * (1 + 1e-12)
                  and wc_lo <= bound_n[best_n] * (1 + 1e-12) and all(math.isfinite(v) for v in (wc_hi, mse_hi)))
    row.update(worst_case_lower=wc_lo, worst_case_upper=wc_hi,
               worst_case_exact=bool(wc_hi - wc_lo <= 1e-9 * max(wc_hi, 1e-300)),
               mse_lower=mse_lo, mse_upper=mse_hi, mse_exact=bool(mse_hi - mse_lo <= 1e-9 * max(mse_hi, 1e-300)),
               attention_part=lip_att, ffn_box_error=ffn_box, bound=bound_n[best_n], bound_n=best_n,
               error=wc_hi, construction=wc_hi, best_found=None, consistent=bool(consistent))
    return row


@lru_cache(maxsize=4096)
def kernel_bound(rpe: str, T: int, H: int, n: int, alpha: Any, gamma: Any) -> float:
    """:func:`tfapprox.theory.bounds.delta_kernel_bound` as a float (cached: called for every cell and bisection step)."""
    return float(delta_kernel_bound(kernel_family(rpe).name, T, H, n, alpha=alpha, gamma=gamma))


def _search_worst(a: np.ndarray, B: np.ndarray, c: np.ndarray, f_true: np.ndarray, ZR: np.ndarray,
                  PO: np.ndarray, seed: int) -> float:
    """Worst input found (a lower bound): for each assignment of the read tokens, the free tokens set to
    the sign patterns of each kernel, of random combinations, and random signs."""
    rng = np.random.default_rng(seed)
    M = PO.shape[0]
    dirs = [np.sign(PO[k]) for k in range(M)]
    for _ in range(8):
        dirs.append(np.sign(rng.standard_normal(M) @ PO))
    dirs += [rng.choice([-1.0, 1.0], PO.shape[1]) for _ in range(4)]
    Y = np.array([d for v in dirs for d in (v, -v)])
    Y[Y == 0] = 1.0
    r = Y @ PO.T  # (candidates, M)
    best = 0.0
    for i in range(len(ZR)):
        Z = ZR[i][None, :].repeat(len(r), axis=0)
        Z[:, 1:] += r
        best = max(best, float(np.max(np.abs(f_true[i] - ffn_output(a, B, c, Z)))))
    return best

def width_needed(readout: Any, epsilon: float, *, seed: int = 0, max_width: int | None = None) -> dict[str, Any]:
    """Width the readout FFN needs for ``sup_{z in {+-1}^D} |f(z) - F_m(z)| <= epsilon``.

    ``measured``: smallest ``m`` (scanning ``1..max_width``, seeded Maurey sampling, exact FFN from the
    readout's own neuron count on) meeting it.  ``bound``: ``min(num_neurons, ceil((||f||_B/eps)^2))``
    from Maurey's argument (Lemma G.6 without its log factor: the *expected* squared pointwise error over
    the sampling is at most ``||f||_B^2 / m`` on ``||z||_inf <= 1``), the exact FFN needing ``num_neurons``.
    A linear readout needs 2 neurons (exact).
    """
    if isinstance(readout, LinearReadout):
        return {"measured": 2, "bound": 2}
    n = readout.num_neurons
    D = readout.n_in
    Z = sign_assignments(D)
    f = np.asarray(readout.evaluate(Z), dtype=float)
    top = max_width or n
    measured = None
    for m in range(1, top + 1):
        a, B, c, _ = ffn_arrays(readout, m, D, seed, 1.0)
        if float(np.max(np.abs(f - ffn_output(a, B, c, Z)))) <= epsilon:
            measured = m
            break
    bn = float(readout.barron_norm)
    return {"measured": measured, "bound": int(min(n, math.ceil((bn / epsilon) ** 2)))}
