"""Worst-case errors for adaptive memories (Thm 4.1, Prop. 4.2, Prop. 4.3).

* :func:`shifted_kernel_errors`: the exact (enclosed) l1 error of a Lemma F.2 / F.5 kernel for
  every shift ``B``, and their max (the Lemma's quantity).  Each shift is a
  :class:`~tfapprox.constructions.delta_kernels.DeltaKernel` for the lag ``B``
  (:meth:`~tfapprox.constructions.lemma_f2_f5.ShiftedDeltaKernel.at_shift`), enclosed by
  :func:`~tfapprox.verify.kernel_error.delta_kernel_l1_error`.
* :func:`enumerate_windows`: every window over a finite alphabet.  For a warm-up adaptive
  target the output at time ``t`` depends on ``x_{t-T}, ..., x_t`` only (``T = max T_i``), so the
  windows of length ``T + 1`` (preceded by a constant padding token from the alphabet) are
  every input that can influence the target; the model's output also depends on the padded
  past, which is why the *certified* error is the analytic sum of exact kernel errors and the
  enumeration gives the exact max over those inputs (a lower bound of the sup).
* :func:`measure_thm4_1`: runs a Theorem 4.1 / Prop. 4.3 construction on every enumerated input
  (mpmath at the digits its weights need), checks from the hidden states after FFN 1 that every
  memory position ``g_k(x_t)`` is recovered exactly, and returns the enumerated max error next to
  the certified upper bound ``Lip(f) sqrt(sum_k E_k^2) + E_FFN``.
* :func:`dp_free_lp`: Prop. 4.2(B) as a linear programme (HiGHS, :func:`tfapprox.theory.numerics.lp.minimax_fit`).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import mpmath
import numpy as np

from tfapprox.constructions.lemma_f2_f5 import ShiftedDeltaKernel
from tfapprox.theory.families import kernel_family
from tfapprox.theory.numerics.lp import minimax_fit
from tfapprox.theory.validation import require_int

from .kernel_error import L1Enclosure, delta_kernel_error_terms, delta_kernel_l1_error
from .model import Model

__all__ = ["ShiftErrors", "shifted_kernel_errors", "enumerate_windows", "AdaptiveMeasurement",
           "measure_thm4_1", "dp_free_lp", "witness_dp_error"]


@dataclass(frozen=True)
class ShiftErrors:
    """Per-shift l1 error enclosures of a Lemma F.2 / F.5 kernel."""

    shifts: tuple[int, ...]
    enclosures: tuple[L1Enclosure, ...]

    @property
    def upper(self) -> float:
        """``max_B`` of the upper ends: a certified upper bound of the Lemma's error."""
        return max(e.upper for e in self.enclosures)

    @property
    def lower(self) -> float:
        """``max_B`` of the lower ends: a certified lower bound of the Lemma's error."""
        return max(e.lower for e in self.enclosures)

    def at(self, B: int) -> L1Enclosure:
        """The enclosure at shift ``B``."""
        return self.enclosures[self.shifts.index(B)]


def shifted_kernel_errors(kernel: ShiftedDeltaKernel, shifts: Sequence[int] | None = None) -> ShiftErrors:
    """Enclosures of ``||1{. = B} - phi(.; B)||_{l1}`` for each shift (default ``1..T``).

    Examples
    --------
    >>> from tfapprox.constructions.lemma_f2_f5 import shifted_delta_kernel
    >>> e = shifted_kernel_errors(shifted_delta_kernel("lin", 2, 64))
    >>> print(f"{e.at(1).upper:.4f} {e.at(2).upper:.4f}")
    0.4112 0.4112
    """
    if not isinstance(kernel, ShiftedDeltaKernel):
        raise TypeError(f"kernel must be a ShiftedDeltaKernel, got {type(kernel).__name__}")
    if shifts is None:
        shifts = range(1, kernel.max_shift + 1)
    shifts = tuple(int(B) for B in shifts)
    if kernel_family(kernel.rpe).coordinate_is_affine():  # Lemma F.2: shifts are tails of the base kernel
        return ShiftErrors(shifts, tuple(_lin_shift_enclosure(kernel, B) for B in shifts))
    return ShiftErrors(shifts, tuple(delta_kernel_l1_error(kernel.at_shift(B)) for B in shifts))


def _lin_shift_enclosure(kernel: ShiftedDeltaKernel, B: int) -> L1Enclosure:
    """Lemma F.2: the shift-``B`` error is the F.1 error minus its first ``T - B`` terms (exact identity)."""
    kernel._check_shift(B)
    full = delta_kernel_l1_error(kernel.base)
    T = kernel.max_shift
    if B == T:
        return full
    head = np.abs(delta_kernel_error_terms(kernel.base, T - B + 1)[: T - B])
    h = math.fsum(head.tolist())
    slack = h * 1e-12 + 1e-300
    return dataclasses.replace(full, lower=max(0.0, full.lower - h - slack), upper=full.upper - h + slack,
                               method=full.method + f"; minus the first {T - B} terms (shift B = {B})")


def witness_dp_error(kernel: ShiftedDeltaKernel, lag_of: dict[Any, int]) -> tuple[float, float]:
    """Exact worst case of the Prop. 4.2(A) attention on the witness ``y_t = x_{t - g(x_t)}``, inputs in ``{-1,0,1}``.

    The output error at ``t`` is ``sum_s e_B(s) x_{t-s}`` with ``B = g(x_t)`` and ``x_t`` fixed; all
    other tokens are free in ``{-1, 0, 1}``, so the sup is ``|e_B(0)| |x_t| + sum_{s>=1} |e_B(s)|``
    = ``l1_B - |e_B(0)| (1 - |x_t|)``.  Returns the enclosure ``(lower, upper)`` of its max over tokens.
    """
    lo = hi = 0.0
    errs = shifted_kernel_errors(kernel, sorted(set(lag_of.values())))
    T = kernel.max_shift
    family = kernel_family(kernel.rpe)
    # lag s of shift B is lag s + T - B of the base kernel when the family is translation invariant
    terms = delta_kernel_error_terms(kernel.base, T + 1) if family.coordinate_is_affine() else None
    for tok, B in lag_of.items():
        enc = errs.at(B)
        if family.first_lag > 0:  # lag 0 (the current token) is never seen
            e0 = 0.0
        elif terms is not None:
            e0 = abs(float(terms[T - B]))
        else:
            e0 = abs(float(delta_kernel_error_terms(kernel.at_shift(B), 1)[0]))
        cut = e0 * (1 - abs(float(tok)))
        lo, hi = max(lo, enc.lower - cut * (1 + 1e-12)), max(hi, enc.upper - cut * (1 - 1e-12))
    return lo, hi


def enumerate_windows(alphabet: Sequence[Any], length: Any) -> np.ndarray:
    """All ``len(alphabet)^length`` windows, shape ``(count, length, 1)`` (float64 tokens).

    >>> enumerate_windows([-1, 1], 2)[:, :, 0].tolist()
    [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    """
    length = require_int("length", length, minimum=1, maximum=12)
    vals = [float(a) for a in alphabet]
    if len(vals) ** length > 200_000:
        raise ValueError(f"enumeration of {len(vals)}^{length} windows is too large (limit 200000)")
    return np.array(list(itertools.product(vals, repeat=length)), dtype=float)[:, :, None]


@dataclass(frozen=True)
class AdaptiveMeasurement:
    """Result of :func:`measure_thm4_1`."""

    enumerated_max: float          # exact max |H_t - TF_t| over the enumerated inputs (lower bound of the sup)
    windows: int
    pads: tuple[float, ...]
    positions_exact: bool          # every g_k(x_t) recovered exactly in x^(1)
    position_mismatches: int
    kernel_errors: tuple[ShiftErrors, ...]
    attention_upper: float         # sqrt(sum_k E_k^2), E_k = max_B l1 error (certified)
    lipschitz: float
    ffn_upper: float               # 0 when the readout FFN is exact
    total_upper: float             # certified: Lip(f) * attention_upper + ffn_upper
    dps: int


def _alphabet(target: Any) -> list[Any]:
    toks = sorted({key[0][0] for g in target.memory_functions for key, _ in g.entries})
    return toks


def measure_thm4_1(cons: Any, *, run_model: bool = True, dps: int | None = None) -> AdaptiveMeasurement:
    """Certified and enumerated errors of a :class:`~tfapprox.constructions.thm4_1.Thm41Construction`."""
    target = cons.target
    kerr = tuple(shifted_kernel_errors(k, range(0 if target.allow_zero_lag else 1, k.max_shift + 1))
                 for k in cons.kernels)
    att = math.sqrt(sum(e.upper ** 2 for e in kerr)) * (1 + 1e-12)
    lip = float(target.readout.lipschitz)
    ffn = 0.0 if cons.readout_exact else math.inf
    total = lip * att + ffn
    alphabet = _alphabet(target)
    L = target.max_lag + 1
    X = enumerate_windows(alphabet, L)
    if dps is None:
        with mpmath.workdps(30):
            big = max(float(mpmath.log10(mpmath.fsum(abs(a) for a in k.coefficients) + 1)) for k in cons.kernels)
        dps = max(30, int(big) + 30, Model(cons.spec).required_digits)  # the digits policy (theory/digits.py)
    enum_max = math.nan
    mismatches = 0
    if run_model:
        model = Model(cons.spec)
        enum_max = 0.0
        gcoord = cons.layout["position_coordinates"]
        for pad in alphabet:
            res = model.forward(X, backend="mpmath", dps=dps, pad=[float(pad)], keep_hidden=True)
            y = target.evaluate(X, pad=[float(pad)])
            out = np.array(res.outputs[..., 0], dtype=float)
            with mpmath.workdps(dps):
                diff = max(abs(float(o) - float(v)) for o, v in zip(res.outputs[..., 0].reshape(-1), y.reshape(-1)))
            enum_max = max(enum_max, diff)
            x1 = res.hidden[1]  # after FFN 1 (layer 1 has no attention)
            for k, g in enumerate(target.memory_functions):
                want = np.asarray(g.evaluate(X.reshape(-1, 1)), dtype=np.int64).reshape(X.shape[0], L)
                got = x1[:, :, gcoord[k]]
                with mpmath.workdps(dps):
                    if cons.stores_log:
                        rec = np.array([[int(mpmath.nint(mpmath.exp(v))) if abs(mpmath.exp(v) - mpmath.nint(mpmath.exp(v)))
                                         < mpmath.mpf(10) ** (-dps // 2) else -1 for v in row] for row in got])
                    else:
                        rec = np.array([[int(v) if v == mpmath.nint(v) else -1 for v in row] for row in got])
                mismatches += int(np.sum(rec != want))
            del out
    return AdaptiveMeasurement(enum_max, int(X.shape[0]), tuple(float(a) for a in alphabet), mismatches == 0,
                               mismatches, kerr, att, lip, ffn, total, dps)


def dp_free_lp(target: Any, window: Any | None = None) -> dict[str, Any]:
    """Prop. 4.2(B): the best DP-free one-layer attention on the witness, as a linear programme.

    A DP-free attention (normalised or not) has input-independent weights ``rho_s``; with
    ``x^{(0)} = W_E x + b_E`` its output at ``t = 0`` is **affine** in the tokens:
    ``c + sum_s a_s x_{-s}``.  Restrict to inputs with ``x_{-s} = 0`` for ``s >= S``
    (``S = window``, default ``T + 1``; ``0`` is in the alphabet): then
    ``min_{c, a} max_x |y_0(x) - c - sum_{s<S} a_s x_{-s}|`` over all ``3^S`` windows is a
    lower bound of ``|||H - Attn^DPF|||`` for every DP-free attention, whatever ``H``.
    Solved exactly (HiGHS, variables ``c, a_0..a_{S-1}, eps``; ``2 * 3^S`` constraints) by
    :func:`~tfapprox.theory.numerics.lp.minimax_fit`, which raises
    :class:`~tfapprox.theory.numerics.lp.LPError` if the solver reports no optimum.

    Returns ``{"optimum", "status", "message", "coefficients", "window", "constraints"}``.
    """
    S = target.max_lag + 1 if window is None else require_int("window", window, minimum=1, maximum=9)
    alphabet = _alphabet(target)
    X = enumerate_windows(alphabet, S)  # time order x_{-(S-1)}, ..., x_0
    y = target.evaluate(X, pad=[0.0])[:, -1]
    Z = X[:, ::-1, 0]  # column s = x_{-s}
    fit = minimax_fit(Z, y)  # variables c, a_0..a_{S-1}, eps; minimise eps
    return {"optimum": fit.optimum, "status": fit.status, "message": fit.message,
            "coefficients": list(fit.coefficients), "window": S, "constraints": fit.constraints}
