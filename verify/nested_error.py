"""Errors of the Theorem 4.4 / Proposition 4.5 constructions, layer by layer, and the depth evidence.

* :func:`measure_thm4_4`: the proof's induction (App. D.1, (E1)-(E3)) made numerical.

  - **Certified** (upper bounds, from exact kernel errors): memory ``l``'s block error is at most
    ``E_l = max_B ||1{. = B} - phi_l(.; B)||_{l1} * max|a|`` (Lemma F.2/F.5 kernel of its layer,
    enclosed by :func:`~tfapprox.verify.adaptive_error.shifted_kernel_errors`), *provided every
    position it uses is exact*; the cumulative token error after layer ``l`` of the chain is
    ``sqrt(sum_{j <= l} E_j^2)`` ((E3)); the rounding of ``t_l`` is exact when
    ``accuracy_l + Lip_l * sqrt(sum_{j read by g_l} E_j^2) < margin_l`` (the certified form of the
    proof's head-count condition, checked in order along the chain); then the output error is at most
    ``Lip(f) sqrt(sum_l E_l^2) + E_FFN``.
  - **Enumerated** (exact maxima over the inputs that can matter): the model runs in mpmath on
    every window of length ``max T + 1`` over the alphabet after each constant padding token; from
    the hidden states it checks (E1) every ``t_l`` (or ``log t_l``) written by the FFNs equals the
    target's position exactly, (E2) later layers leave earlier blocks and positions unchanged
    (exact equality), and (E3) measures each block's token error ``|x^{(l+1/2)}_block l - x_{t-t_l}|``.

* :func:`shallow_family_optimum`: "depth is needed" evidence.  The 2-layer construction family
  of Theorem 4.1 (FFN 1 computes anything from ``x_t``; layer-2 heads have keys on constant
  coordinates, so their weights depend on ``x_t`` and the lag only) produces memory blocks
  ``m_k = c_k(x_t) + sum_s a_{k,s}(x_t) x_{t-s}``, read by the target's readout ``f``.  For a linear
  ``f`` the output is affine in the past tokens for each value of ``x_t``: the best sup error over
  all windows is a linear programme (HiGHS), an **exact** optimum over the enumerated inputs and
  therefore a **lower bound** for every member of the family at every ``H``.  For a nonlinear ``f``
  it is a ``scipy.optimize`` search: the **best found**, an upper bound on the family's optimum only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from tfapprox.theory.numerics.lp import LPError, minimax_fit
from tfapprox.theory.readouts import LinearReadout
from tfapprox.theory.targets import AdaptiveMemoryTarget

from .adaptive_error import ShiftErrors, enumerate_windows, shifted_kernel_errors
from .model import Model

__all__ = ["NestedMeasurement", "measure_thm4_4", "target_memories", "shallow_family_optimum", "target_alphabet"]


def target_alphabet(target: AdaptiveMemoryTarget) -> list[Any]:
    """The scalar token values of the target's table memory functions (sorted)."""
    return sorted({float(t[0]) for g in target.memory_functions for t in g.alphabet})


def target_memories(target: AdaptiveMemoryTarget, X: np.ndarray, pad: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Exact memory tokens ``x_{t-t_l}`` and positions ``t_l`` of the target on windows ``X`` (B, N, 1).

    Tokens come from the target itself (its readout replaced by the selector of block ``l``), the
    positions from ``g_l`` on the tokens it reads: no second implementation of eq. (8).
    """
    M = target.memory_count
    toks = [X[:, :, 0]]
    for l in range(1, M + 1):
        sel = AdaptiveMemoryTarget(target.memory_functions, target.max_lags, target.nesting,
                                   LinearReadout([0] * l + [1] + [0] * (M - l)), target.d)
        toks.append(np.asarray(sel.evaluate(X, pad=pad), dtype=float))
    pos = []
    for l, g in enumerate(target.memory_functions, start=1):
        reads = g.reads if g.reads is not None else tuple(range(min(l - 1, target.nesting) + 1))
        Z = np.stack([toks[j] for j in reads], axis=-1)
        pos.append(np.asarray(g.evaluate(Z.reshape(-1, len(reads))), dtype=np.int64).reshape(X.shape[0], X.shape[1]))
    return toks[1:], pos


@dataclass(frozen=True)
class NestedMeasurement:
    """Result of :func:`measure_thm4_4` (per memory ``l = 1..M`` unless said otherwise)."""

    kernel_errors: tuple[ShiftErrors, ...]
    block_error_upper: tuple[float, ...]        # E_l (certified, valid when positions exact)
    cumulative_upper: tuple[float, ...]         # (E3): sqrt(sum_{j<=l} E_j^2)
    read_error_upper: tuple[float, ...]         # token error g_l sees: sqrt(sum_{j read} E_j^2)
    rounding_slack: tuple[float, ...]           # margin - accuracy - Lip * read error (> 0: exact, certified)
    positions_certified: bool                   # every rounding slack > 0
    attention_upper: float                      # sqrt(sum_l E_l^2)
    lipschitz: float
    ffn_upper: float
    total_upper: float                          # Lip(f) attention_upper + E_FFN (certified if positions_certified)
    dps: int
    ran_model: bool
    enumerated_max: float = math.nan            # exact max |H_t - TF_t| over enumerated inputs
    block_error_measured: tuple[float, ...] = ()  # max over enumerated inputs of block l's token error
    windows: int = 0
    pads: tuple[float, ...] = ()
    positions_exact: bool | None = None         # (E1) on every enumerated input
    position_mismatches: int = 0
    untouched_violations: int = 0               # (E2) violations
    per_layer: tuple[dict, ...] = field(default_factory=tuple)


def _hidden_index(spec: Any) -> tuple[dict[int, int], dict[int, int]]:
    """Index into ``ForwardResult.hidden`` after the attention / FFN of each 1-based block."""
    att, ffn, i = {}, {}, 0
    for b, block in enumerate(spec.blocks, start=1):
        if block.attention is not None:
            i += 1
            att[b] = i
        if block.ffn is not None:
            i += 1
            ffn[b] = i
    return att, ffn


def measure_thm4_4(cons: Any, *, run_model: bool = True, dps: int | None = None) -> NestedMeasurement:
    """Certified per-layer errors of a :class:`~tfapprox.constructions.thm4_4.Thm44Construction`, and
    (``run_model``) the exact enumerated checks of (E1)-(E3) and the output error.

    Examples
    --------
    >>> from tfapprox.theory.targets import pointer_chasing
    >>> from tfapprox.constructions.thm4_4 import build_thm4_4
    >>> m = measure_thm4_4(build_thm4_4(pointer_chasing(2, 2), 128))
    >>> m.positions_certified, m.positions_exact, m.untouched_violations
    (True, True, 0)
    >>> m.enumerated_max <= m.total_upper
    True
    """
    target = cons.target
    M = target.memory_count
    alphabet = target_alphabet(target)
    scale = max(abs(a) for a in alphabet)
    cache: dict[int, ShiftErrors] = {}
    kerr = []
    for k in cons.kernels:
        if id(k) not in cache:
            cache[id(k)] = shifted_kernel_errors(k)
        kerr.append(cache[id(k)])
    E = [e.upper * scale * (1 + 1e-12) for e in kerr]
    K = cons.layers_K
    cum = tuple(math.sqrt(sum(E[j] ** 2 for j in range(min(l, K)))) * (1 + 1e-12) if l <= K else math.nan
                for l in range(1, M + 1))
    read_err, slack = [], []
    for p in cons.position_ffns:
        r = math.sqrt(sum(E[j - 1] ** 2 for j in p.reads_memories)) * (1 + 1e-12)
        read_err.append(r)
        slack.append(p.margin - p.accuracy - p.lipschitz * r)
    certified = all(s > 0 for s in slack)
    att = math.sqrt(sum(e ** 2 for e in E)) * (1 + 1e-12)
    lip = float(target.readout.lipschitz)
    ffn = 0.0 if cons.readout_exact else math.inf
    total = lip * att + ffn
    if dps is None:
        with mpmath.workdps(30):
            big = max(float(mpmath.log10(mpmath.fsum(abs(a) for a in k.coefficients) + 1)) for k in cons.kernels)
        dps = max(30, int(big) + 30, Model(cons.spec).required_digits)  # the digits policy (theory/digits.py)
    base = dict(kernel_errors=tuple(kerr), block_error_upper=tuple(E), cumulative_upper=cum,
                read_error_upper=tuple(read_err), rounding_slack=tuple(slack), positions_certified=certified,
                attention_upper=att, lipschitz=lip, ffn_upper=ffn, total_upper=total, dps=dps)
    if not run_model:
        return NestedMeasurement(**base, ran_model=False)

    model = Model(cons.spec)
    L = target.max_lag + 1
    X = enumerate_windows(alphabet, L)
    att_idx, ffn_idx = _hidden_index(cons.spec)
    ffn_block = {p.memory: p.block for p in cons.position_ffns}
    gco = cons.layout["position_coordinates"]
    last_att = max(att_idx)
    enum_max = 0.0
    measured = [0.0] * M
    mismatches = untouched = 0
    tol = mpmath.mpf(10) ** (-(dps // 2))
    for pad in alphabet:
        res = model.forward(X, backend="mpmath", dps=dps, pad=[pad], keep_hidden=True)
        y = target.evaluate(X, pad=[pad])
        toks, pos = target_memories(target, X, [pad])
        with mpmath.workdps(dps):
            out = res.outputs[..., 0]
            enum_max = max(enum_max, max(abs(float(o - v)) for o, v in zip(out.reshape(-1), y.reshape(-1))))
            final = res.hidden[att_idx[last_att]]
            for l in range(1, M + 1):
                blk = cons.layout["memory_blocks"][l - 1][0]
                h = res.hidden[att_idx[cons.attention_block[l - 1]]][:, :, blk]
                measured[l - 1] = max(measured[l - 1], max(abs(float(a - b)) for a, b in
                                                           zip(h.reshape(-1), toks[l - 1].reshape(-1))))
                untouched += int(sum(1 for a, b in zip(h.reshape(-1), final[:, :, blk].reshape(-1)) if a != b))
                got = res.hidden[ffn_idx[ffn_block[l]]][:, :, gco[l - 1]]
                untouched += int(sum(1 for a, b in zip(got.reshape(-1), final[:, :, gco[l - 1]].reshape(-1))
                                     if a != b))
                want = pos[l - 1].reshape(-1)
                for v, w in zip(got.reshape(-1), want):
                    if cons.stores_log:
                        ev = mpmath.exp(v)
                        ok = abs(ev - w) < tol
                    else:
                        ok = v == w
                    mismatches += 0 if ok else 1
    per_layer = []
    for l in range(1, M + 1):
        per_layer.append({"memory": l, "attention_block": cons.attention_block[l - 1],
                          "ffn_block": ffn_block[l], "heads": cons.heads_per_memory[l - 1],
                          "block_error_upper": E[l - 1], "block_error_measured": measured[l - 1],
                          "cumulative_upper": cum[l - 1], "read_error_upper": read_err[l - 1],
                          "rounding_slack": slack[l - 1]})
    return NestedMeasurement(**base, ran_model=True, enumerated_max=enum_max, block_error_measured=tuple(measured),
                             windows=int(X.shape[0]), pads=tuple(alphabet), positions_exact=mismatches == 0,
                             position_mismatches=mismatches, untouched_violations=untouched,
                             per_layer=tuple(per_layer))


def shallow_family_optimum(target: AdaptiveMemoryTarget, *, seed: int = 0, restarts: int = 4) -> dict[str, Any]:
    """Best sup error of the 2-layer (Thm 4.1) construction family on ``target`` over the enumerated inputs.

    Inputs: every window of length ``S = max T + 1`` over the alphabet (the output at the last
    time depends on nothing else; earlier tokens are a constant padding symbol, whose contribution
    is absorbed in the constants).  For each current token value ``v``, the family's block ``k`` is
    ``c_k(v) + sum_{s=1}^{S-1} a_{k,s}(v) x_{t-s}``.

    * Linear readout ``f(z) = w . z``: the output is ``c(v) + sum_s a_s(v) x_{t-s}`` (any ``c, a``),
      and ``min max |y - output|`` is solved exactly per ``v`` by HiGHS (``method="lp"``,
      ``exact=True``; :func:`~tfapprox.theory.numerics.lp.minimax_fit`, raising
      :class:`~tfapprox.theory.numerics.lp.LPError` if the solver reports no optimum); the result
      is the max over ``v``.
    * Other readouts: ``scipy.optimize.minimize`` (Nelder-Mead then Powell, ``restarts`` seeded
      starts) of the max error over the same inputs (``method="search"``, ``exact=False``).

    Returns ``{"optimum", "exact", "method", "per_token", "windows", "window_length"}``.

    >>> from tfapprox.theory.targets import pointer_chasing
    >>> r = shallow_family_optimum(pointer_chasing(2, 2))
    >>> r["method"], round(r["optimum"], 6), r["exact"]
    ('lp', 0.125, True)
    """
    from scipy.optimize import minimize  # lazily: scipy.optimize is slow to import

    if not isinstance(target, AdaptiveMemoryTarget):
        raise TypeError(f"target must be an AdaptiveMemoryTarget, got {type(target).__name__}")
    alphabet = target_alphabet(target)
    S = target.max_lag + 1
    X = enumerate_windows(alphabet, S)
    y = np.asarray(target.evaluate(X, pad=[alphabet[0]]), dtype=float)[:, -1]
    Z = X[:, ::-1, 0]               # column s = x_{t-s}
    per_token = {}
    rng = np.random.default_rng(seed)
    linear = isinstance(target.readout, LinearReadout)
    M = target.memory_count
    for v in alphabet:
        rows = Z[:, 0] == v
        P, yv = Z[rows, 1:], y[rows]
        n = P.shape[0]
        if linear:
            try:
                per_token[v] = minimax_fit(P, yv).optimum
            except LPError as exc:
                raise LPError(f"the shallow family's LP for x_t = {v}: {exc}") from exc
        else:
            w_in = np.full((n, 1), v)

            def err(theta: np.ndarray) -> float:
                th = theta.reshape(M, S)
                blocks = th[:, :1].T + P @ th[:, 1:].T       # (n, M)
                out = np.asarray(target.readout.evaluate(np.hstack([w_in, blocks])), dtype=float)
                return float(np.max(np.abs(out - yv)))

            best = math.inf
            for _ in range(restarts):
                x0 = rng.normal(scale=0.5, size=M * S)
                r1 = minimize(err, x0, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-9, "fatol": 1e-12})
                r2 = minimize(err, r1.x, method="Powell", options={"maxiter": 4000, "xtol": 1e-9, "ftol": 1e-12})
                best = min(best, err(r1.x), err(r2.x))
            per_token[v] = best
    return {"optimum": max(per_token.values()), "exact": linear, "method": "lp" if linear else "search",
            "per_token": per_token, "windows": int(X.shape[0]), "window_length": S}
