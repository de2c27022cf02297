"""The forward pass of eqs. (2)-(4) for float64, mpmath and sympy numbers.

One implementation serves the three backends of :mod:`tfapprox.verify.lowering`.
Inputs are windows ``x_0..x_{N-1}`` (batch, N, d) with the past semantics of
:mod:`tfapprox.theory.sequences`:

* ``past="padded"``: all earlier times hold the token ``pad``.  Every padded position has
  the same hidden state at each layer (the configuration is shift invariant), computed
  once per layer; the attention over the infinite padded past is summed in closed form
  (:mod:`tfapprox.verify.tails`).  Outputs equal the paper's infinite sums.
* ``past="none"``: nothing precedes ``x_0``; softmax normalises over existing tokens.
  A query whose every key is masked (log-RPE at ``t = 0``) receives a zero attention
  output (convention, documented in the docs).

float64 is vectorised over batch, time and heads: DP-free heads are merged into one
matrix-valued kernel ``K(s) = sum_h W_O W_V^h e^{p_h phi(s)} / Z_h`` whenever the
weights are Toeplitz (padded past or normalization-free), applied as a causal
convolution; other heads use dense causal attention matrices.  The float64 pass also
returns a first-order estimate of its own rounding error (``error_estimate``), large when
the weights cancel (Differences from the paper, D18); :class:`tfapprox.verify.model.Model` refuses to
return float64 numbers whose estimate exceeds the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from tfapprox.theory.architecture import AttentionLayer, FeedForward, TransformerSpec
from tfapprox.theory.digits import declared_digits
from tfapprox.theory.digits import required_digits as digits_policy
from tfapprox.theory.limits import MAX_QUADRATIC_ENTRIES, MAX_WINDOW_ENTRIES, MAX_WINDOW_ROWS
from tfapprox.theory.sequences import as_window_batch, check_pad, check_past
from tfapprox.theory.validation import require_finite_entries

from .lowering import Backend, LogRoundError, PrecisionError
from .tails import log_tail_float64, rpe_weights_object, tail_object

__all__ = ["ForwardResult", "forward", "LoweredModel", "lower_model"]

_EPS = np.finfo(float).eps


@dataclass
class LoweredModel:
    """A spec's matrices lowered once for one backend (cached by the Model)."""

    backend: Backend
    embedding: np.ndarray
    embedding_bias: np.ndarray
    layers: list[dict[str, Any]]


def lower_model(spec: TransformerSpec, backend: Backend, *, required_digits: int | None = None) -> LoweredModel:
    """Lower every parameter of ``spec`` with ``backend`` (numbers, not code).

    An mpmath backend below the digits the weights need (``required_digits``, default the
    larger of ``metadata["precision_digits"]`` and :func:`tfapprox.theory.digits.required_digits`)
    raises :class:`~tfapprox.verify.lowering.PrecisionError`: no public path lowers a model
    to too few digits.
    """
    if backend.name == "mpmath":
        if required_digits is None:
            required_digits = max(digits_policy(spec), declared_digits(spec) or 0)
        if backend.dps is None or backend.dps < required_digits:
            raise PrecisionError(f"dps={backend.dps} is below the {required_digits} decimal digits this model's "
                                 f"weights need (see tfapprox.theory.digits)")
    layers: list[dict[str, Any]] = []
    ctx = mpmath.workdps(backend.dps) if backend.name == "mpmath" else _null()
    with ctx:
        emb = backend.matrix(spec.embedding)
        bias = backend.matrix(spec.embedding_bias)[:, 0]
        for block in spec.blocks:
            entry: dict[str, Any] = {"attention": None, "ffn": None}
            att = block.attention
            if att is not None:
                entry["attention"] = {
                    "spec": att,
                    "W_V": np.stack([backend.matrix(h.value) for h in att.heads]),
                    "p": [backend.scalar(h.slope) for h in att.heads],
                    "W_Q": [None if (h.dot_product_free or h.query is None) else backend.matrix(h.query)
                            for h in att.heads],
                    "W_K": [None if (h.dot_product_free or h.key is None) else backend.matrix(h.key)
                            for h in att.heads],
                    "tmx": [None if h.tmx is None else backend.matrix(h.tmx)[0] for h in att.heads],
                    "W_O": backend.matrix(att.output),
                }
            if block.ffn is not None:
                entry["ffn"] = {
                    "spec": block.ffn,
                    "b": backend.matrix(block.ffn.inner),
                    "c": backend.matrix(block.ffn.bias)[:, 0],
                    "a": backend.matrix(block.ffn.outer),
                }
            layers.append(entry)
    return LoweredModel(backend, emb, bias, layers)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


@dataclass
class ForwardResult:
    """Outputs (batch, N, c), hidden states after every sub-layer, pad states, and the
    float64 rounding-error estimate (0 for exact/mpmath backends)."""

    outputs: np.ndarray
    hidden: list[np.ndarray]
    pad_states: list[np.ndarray] | None
    error_estimate: float
    rounding_margin: float


def forward(spec: TransformerSpec, X: Any, lowered: LoweredModel, *, past: str,
            pad: Any = None, keep_hidden: bool = False, positions: Any = None) -> ForwardResult:
    """Run ``spec`` on windows ``X`` (see module docstring).

    ``positions`` (optional, increasing window indices) restricts the *last* layer's
    queries, and so the outputs, to those times; earlier layers still compute every
    position since later keys need them.  This is what makes long windows affordable
    in mpmath (e.g. sign-pattern inputs thousands of steps long).
    """
    be = lowered.backend
    past = check_past(past)
    d = spec.input_dim
    _check_input("X", X)
    if pad is not None:
        _check_input("pad", pad)
    if be.is_float:
        x, _ = as_window_batch(X, d)
    else:
        x, _ = as_window_batch(X, d, dtype=object)
    _check_sizes(spec, x.shape, past, be, positions)
    ctx = mpmath.workdps(be.dps) if be.name == "mpmath" else _null()
    with ctx:
        if not be.is_float:
            x = be.array(x)
            padv = be.array(check_pad(pad, d, dtype=object)) if past == "padded" else None
        else:
            padv = check_pad(pad, d) if past == "padded" else None
        h = x @ lowered.embedding.T + lowered.embedding_bias
        hpad = (lowered.embedding @ padv + lowered.embedding_bias) if padv is not None else None
        hidden = [h] if keep_hidden else []
        pads = [hpad] if (keep_hidden and hpad is not None) else ([] if hpad is not None else None)
        err = 0.0
        margin = math.inf
        n_layers = len(spec.blocks)
        if positions is not None:
            positions = np.asarray(positions, dtype=int).reshape(-1)
            N = h.shape[1]
            if positions.size == 0 or np.any(positions < 0) or np.any(positions >= N) or np.any(np.diff(positions) <= 0):
                raise ValueError(f"positions must be increasing window indices in 0..{N - 1}, got {positions.tolist()}")
        for l, (block, low) in enumerate(zip(spec.blocks, lowered.layers)):
            last = l == n_layers - 1
            sel = positions if (last and positions is not None) else None
            if low["attention"] is not None:
                att: AttentionLayer = low["attention"]["spec"]
                a, apad, amp = _attention(att, low["attention"], h, hpad, past, be, sel)
                if sel is not None:
                    h = h[:, sel]
                scale = _maxabs(h, hpad) if be.is_float else 0.0
                if be.is_float:
                    n_terms = h.shape[1] + len(att.heads) + h.shape[2] + 2
                    err = err * (1.0 + amp) + _EPS * n_terms * amp * scale
                    err += _EPS * amp * scale  # summation into the output
                if att.residual:
                    h = h + a
                    hpad = hpad + apad if hpad is not None else None
                else:
                    h = a
                    hpad = apad
                if keep_hidden:
                    hidden.append(h)
                    if hpad is not None:
                        pads.append(hpad)
            elif sel is not None:
                h = h[:, sel]
            if low["ffn"] is not None:
                try:
                    f, fpad, lip, m_round = _ffn(low["ffn"], h, hpad, be, err)
                except LogRoundError as exc:
                    raise _log_round_error(exc, l) from None
                margin = min(margin, m_round)
                if be.is_float:
                    err = err * lip + _EPS * (h.shape[2] + low["ffn"]["b"].shape[0] + 2) * lip * (_maxabs(h, hpad) + 1.0)
                    if low["ffn"]["spec"].precision is not None and m_round > 2 * err:
                        err = 0.0  # rounding to a grid with margin > error restores exact values
                if last:
                    h, hpad = f, fpad
                else:
                    h = h + f
                    hpad = hpad + fpad if hpad is not None else None
                if keep_hidden:
                    hidden.append(h)
                    if hpad is not None:
                        pads.append(hpad)
    return ForwardResult(h, hidden, pads, float(err) if be.is_float else 0.0, margin)


def _check_input(name: str, value: Any) -> None:
    """Non-finite, complex or non-numeric input is bad input in every backend (issue 12):
    NaN, infinities (also ``mpmath.inf``, ``sympy.oo``/``zoo``/``nan``) raise ``ValueError``,
    complex numbers and non-numbers ``TypeError``, before anything is computed."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):
            arr = None
        if arr is None or arr.dtype.kind not in "fiuc":
            try:
                arr = np.asarray(value, dtype=object)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__}") from exc
    require_finite_entries(name, arr)


def quadratic_entries(spec: TransformerSpec, batch: int, N: int, past: str, backend: Any,
                      positions: Any = None) -> int:
    """Size of the largest quadratic-in-``N`` part of :func:`forward`, before it runs.

    float64: entries of the largest ``N x N`` intermediate.  Heads with a query-key dot
    product (or TMX heads) build ``batch x N x N`` logits; DP-free normalised heads with
    ``past="none"`` an ``N x N`` weight matrix per head (the padded and
    normalization-free cases are convolutions, linear in ``N``).  Object backends
    (mpmath, sympy) loop over lags instead: the count is their number of multiply-adds,
    ``batch * sum_t (t + 1) * D_v * D`` per layer (more for DP heads and for normalised
    heads without a padded past, which rebuild the kernel at every time), where the
    last layer's times are restricted to ``positions`` if given.  0 when nothing is
    quadratic.
    """
    worst = 0
    full = N * (N + 1) // 2
    if positions is not None:
        pos = np.asarray(positions).reshape(-1)
        last_sum = int(np.sum(np.clip(pos, 0, N - 1).astype(np.int64) + 1)) if pos.size else 0
    else:
        last_sum = full
    n_layers = len(spec.blocks)
    for l, block in enumerate(spec.blocks):
        att = block.attention
        if att is None:
            continue
        has_dp = any(not h.dot_product_free for h in att.heads)
        n_free = sum(1 for h in att.heads if h.dot_product_free)
        if backend.is_float:
            if has_dp:
                worst = max(worst, batch * N * N)
            elif att.normalized and past == "none":
                worst = max(worst, N * N)
            continue
        dv, d = att.heads[0].value.shape
        times = last_sum if l == n_layers - 1 else full
        work = 0
        if n_free:
            per = batch + (n_free if (att.normalized and past == "none") else 0)
            work += times * dv * d * per
        if has_dp:
            work += batch * N * N * max(dv, 1) * (len(att.heads) - n_free)
        worst = max(worst, work)
    return worst


def _check_sizes(spec: TransformerSpec, shape: tuple[int, ...], past: str, backend: Any,
                 positions: Any = None) -> None:
    """Refuse windows beyond the limits of :mod:`tfapprox.theory.limits` before computing."""
    batch, N, d = shape
    if N > MAX_WINDOW_ROWS:
        raise ValueError(f"X has {N} time steps, more than the limit MAX_WINDOW_ROWS = {MAX_WINDOW_ROWS}")
    if batch * N * d > MAX_WINDOW_ENTRIES:
        raise ValueError(f"X has {batch * N * d} entries, more than the limit MAX_WINDOW_ENTRIES = "
                         f"{MAX_WINDOW_ENTRIES}")
    entries = quadratic_entries(spec, batch, N, past, backend, positions)
    if entries <= MAX_QUADRATIC_ENTRIES:
        return
    if backend.is_float:
        raise ValueError(
            f"past={past!r} on a window of N = {N} time steps (batch {batch}) needs an N x N attention "
            f"intermediate of {entries} entries (about {entries * 8 / 2 ** 30:.1f} GiB per copy), more "
            f"than the limit MAX_QUADRATIC_ENTRIES = {MAX_QUADRATIC_ENTRIES}; use a shorter window"
            + (" or past='padded' (linear in N for DP-free heads)" if past == "none" else ""))
    raise ValueError(
        f"the {backend.name} backend on a window of N = {N} time steps (batch {batch}) needs about {entries} "
        f"multiply-adds (quadratic in N), more than the limit MAX_QUADRATIC_ENTRIES = {MAX_QUADRATIC_ENTRIES}; "
        f"use a shorter window, fewer output positions, or backend='float64'")

def _log_round_error(exc: LogRoundError, block: int) -> LogRoundError:
    """Name the block and the position of a ``log_round`` output that rounds to ``e^z -> 0``."""
    idx = exc.index
    if len(idx) == 1:
        where = f"the padded past, coordinate {idx[0]}"
    elif len(idx) == 3:
        where = f"window {idx[0]}, time {idx[1]}, coordinate {idx[2]}"
    else:
        where = f"index {idx}"
    return LogRoundError(exc.index, exc.value,
                         f"blocks[{block}].ffn (precision 'log_round'): at {where} the FFN output z = "
                         f"{_fmt(exc.value)} has e^z rounding to 0, and log 0 = -inf is not a representable "
                         f"hidden state (eq. (15)); the input is outside the model's domain")


def _fmt(v: Any) -> str:
    try:
        return f"{float(v):.6g}"
    except (TypeError, ValueError, OverflowError):
        return str(v)[:40]


def _maxabs(h: np.ndarray, hpad: np.ndarray | None) -> float:
    m = float(np.max(np.abs(h))) if h.size else 0.0
    if hpad is not None:
        m = max(m, float(np.max(np.abs(hpad))))
    return m


# ----------------------------------------------------------------------------- FFN
def _ffn(low: dict[str, Any], h: np.ndarray, hpad: np.ndarray | None, be: Backend,
         err: float) -> tuple[np.ndarray, np.ndarray | None, float, float]:
    spec: FeedForward = low["spec"]
    b, c, a = low["b"], low["c"], low["a"]

    def apply(z: np.ndarray) -> np.ndarray:
        pre = z @ b.T + c
        out = be.relu(pre) @ a.T
        return out

    f = apply(h)
    fpad = apply(hpad[None, :])[0] if hpad is not None else None
    margin = math.inf
    if spec.precision is not None:
        if be.is_float:
            vals = f if fpad is None else np.concatenate([f.reshape(-1), fpad.reshape(-1)])
            grid = vals if spec.precision == "round" else np.exp(vals)
            frac = np.abs(grid - np.floor(grid) - 0.5)
            margin = float(np.min(frac)) if frac.size else math.inf
        if spec.precision == "round":
            f = be.round_half_even(f)
            fpad = be.round_half_even(fpad) if fpad is not None else None
        else:
            f = be.log_round(f)
            fpad = be.log_round(fpad) if fpad is not None else None
    lip = 1.0
    if be.is_float:
        lip = float(np.max(np.sum(np.abs(a), axis=1))) * float(np.max(np.sum(np.abs(b), axis=1))) if b.size else 0.0
    return f, fpad, lip, margin


# ----------------------------------------------------------------------- attention
def _attention(att: AttentionLayer, low: dict[str, Any], h: np.ndarray, hpad: np.ndarray | None,
               past: str, be: Backend, sel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Return (Attn output before residual (B, N or len(sel), D_out), pad-state output, amplification)."""
    B, N, D = h.shape
    W_O = low["W_O"]
    W_V = low["W_V"]  # (H, Dv, D)
    H = len(att.heads)
    dp_free = [i for i, head in enumerate(att.heads) if head.dot_product_free]
    dp = [i for i, head in enumerate(att.heads) if not head.dot_product_free]
    Dv = W_V.shape[1]
    n_out = N if sel is None else len(sel)
    total = be.zeros((B, n_out, Dv))
    total_pad = be.zeros((Dv,)) if hpad is not None else None
    head_mass = np.ones(H)  # max total attention weight of each head (float64 diagnostics)

    if dp_free:
        if be.is_float:
            out, out_pad, mass = _dp_free_float(att, low, dp_free, h, hpad, past)
            out = out if sel is None else out[:, sel]
        else:
            out, out_pad = _dp_free_object(att, low, dp_free, h, hpad, past, be, sel)
            mass = np.ones(len(dp_free))
        total = total + out
        if total_pad is not None:
            total_pad = total_pad + out_pad
        head_mass[dp_free] = mass
    for i in dp:
        out, out_pad, mass = _dp_head(att, low, i, h, hpad, past, be)
        total = total + (out if sel is None else out[:, sel])
        if total_pad is not None:
            total_pad = total_pad + out_pad
        head_mass[i] = mass
    result = total @ W_O.T
    result_pad = (W_O @ total_pad) if total_pad is not None else None
    amp = 0.0
    if be.is_float:
        norms = np.array([np.max(np.sum(np.abs(W_O @ W_V[i]), axis=1)) for i in range(H)])
        amp = float(np.sum(norms * head_mass))
    return result, result_pad, amp


def _log_weights_float(att: AttentionLayer, p: float, N: int) -> np.ndarray:
    """``p * phi(s)`` for s = 0..N-1 with masked lags at -inf (and 0*(-inf) -> -inf)."""
    phi = att.rpe.phi(np.arange(N))
    with np.errstate(invalid="ignore"):
        lw = np.where(np.isfinite(phi), p * np.where(np.isfinite(phi), phi, 0.0), -np.inf)
    return lw


def _dp_free_float(att: AttentionLayer, low: dict[str, Any], idx: list[int], h: np.ndarray,
                   hpad: np.ndarray | None, past: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    B, N, D = h.shape
    W_V = low["W_V"][idx]  # (Hf, Dv, D)
    ps = [low["p"][i] for i in idx]
    Hf = len(idx)
    logw = np.stack([_log_weights_float(att, p, N) for p in ps])  # (Hf, N) over lags
    padded = hpad is not None
    if padded:
        starts = np.arange(1, N + 1)
        logtail = np.stack([log_tail_float64(att.rpe, p, starts) for p in ps])  # (Hf, N)
        logtail0 = np.array([log_tail_float64(att.rpe, p, np.array([0]))[0] for p in ps])
    mass = np.ones(Hf)
    if att.normalized:
        if padded:
            logZ = logtail0[:, None] * np.ones((1, N))  # total mass over all lags
        else:
            logZ = np.logaddexp.accumulate(logw, axis=1)  # sum over s <= t
    else:
        logZ = np.zeros((Hf, N))
        tot = logtail0 if padded else np.logaddexp.reduce(logw, axis=1)
        mass = np.exp(tot)
    toeplitz = padded or not att.normalized
    with np.errstate(invalid="ignore", over="ignore"):
        if toeplitz:
            coef = np.exp(logw - logZ[:, :1])  # (Hf, N): weight of lag s
            coef = np.where(np.isfinite(coef), coef, 0.0)
            kernel = np.einsum("hs,hvd->svd", coef, W_V)  # (N, Dv, D)
            out = _causal_conv_float(kernel, h)
        else:
            out = np.zeros((B, N, W_V.shape[1]))
            t_idx = np.arange(N)
            lag = t_idx[:, None] - t_idx[None, :]
            for k in range(Hf):
                lw = np.where(lag >= 0, logw[k][np.clip(lag, 0, N - 1)], -np.inf)
                w = np.exp(lw - logZ[k][:, None])
                w = np.where(np.isfinite(logZ[k])[:, None] & (lag >= 0), w, 0.0)  # all-masked rows -> 0
                out += np.einsum("tj,bjd,vd->btv", w, h, W_V[k], optimize=True)
    out_pad = None
    if padded:
        # lags beyond the window: pad state times tail mass
        tail_coef = np.exp(logtail - logZ)  # (Hf, N)
        vpad = np.einsum("hvd,d->hv", W_V, hpad)  # (Hf, Dv)
        out = out + np.einsum("ht,hv->tv", tail_coef, vpad)[None]
        pad_coef = np.exp(logtail0 - logZ[:, 0])  # (Hf,) = 1 when normalised
        out_pad = np.einsum("h,hv->v", pad_coef, vpad)
    return out, out_pad, mass


def _causal_conv_float(kernel: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``out[b, t] = sum_{s <= t} kernel[s] @ h[b, t - s]`` (kernel (N, Dv, D), h (B, N, D))."""
    B, N, D = h.shape
    Dv = kernel.shape[1]
    if N <= 256 and N * N * Dv * D <= MAX_QUADRATIC_ENTRIES:  # dense Toeplitz only while it is small
        t = np.arange(N)
        lag = t[:, None] - t[None, :]
        T = np.where((lag >= 0)[:, :, None, None], kernel[np.clip(lag, 0, N - 1)], 0.0)  # (N, N, Dv, D)
        return np.einsum("tjvd,bjd->btv", T, h, optimize=True)
    out = np.zeros((B, N, Dv))
    for v in range(Dv):
        for dd in range(D):
            k = kernel[:, v, dd]
            if not np.any(k):
                continue
            import scipy.signal  # lazy: scipy.signal costs seconds to import, used only here

            conv = scipy.signal.fftconvolve(h[:, :, dd], k[None, :], mode="full", axes=1)[:, :N]
            out[:, :, v] += conv
    return out


def _dp_free_object(att: AttentionLayer, low: dict[str, Any], idx: list[int], h: np.ndarray,
                    hpad: np.ndarray | None, past: str, be: Backend,
                    sel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    B, N, D = h.shape
    times = range(N) if sel is None else [int(t) for t in sel]
    W_V = low["W_V"][idx]
    Hf = len(idx)
    Dv = W_V.shape[1]
    ps = [low["p"][i] for i in idx]
    lags = np.arange(N)
    w = np.stack([rpe_weights_object(att.rpe, p, lags, be) for p in ps])  # (Hf, N)
    padded = hpad is not None
    if padded:
        tails = np.array([[tail_object(att.rpe, p, t + 1, be) for t in times] for p in ps], dtype=object)
        tail0 = np.array([tail_object(att.rpe, p, 0, be) for p in ps], dtype=object)
    Wflat = W_V.reshape(Hf, Dv * D)
    if att.normalized and not padded:
        Z = np.cumsum(w, axis=1)  # (Hf, N) over t
        out = be.zeros((B, len(times), Dv))
        for i_out, t in enumerate(times):
            inv = np.array([be.zero if _is_zero(Z[k, t]) else 1 / Z[k, t] for k in range(Hf)], dtype=object)
            coef = (w[:, : t + 1] * inv[:, None]).T  # (t+1, Hf), lag s
            K = (coef @ Wflat).reshape(t + 1, Dv, D)
            hist = h[:, t::-1, :]  # (B, t+1, D): lag s -> h[t - s]
            out[:, i_out, :] = _einsum_obj(K, hist)
        return out, None
    if att.normalized:
        inv = np.array([1 / z for z in tail0], dtype=object)
    else:
        inv = np.array([be.one] * Hf, dtype=object)
    coef = (w * inv[:, None]).T  # (N, Hf)
    K = (coef @ Wflat).reshape(N, Dv, D)
    if sel is None:
        out = be.zeros((B, N, Dv))
        for s in range(N):
            out[:, s:, :] = out[:, s:, :] + h[:, : N - s, :] @ K[s].T
    else:
        out = be.zeros((B, len(times), Dv))
        for i_out, t in enumerate(times):
            out[:, i_out, :] = _einsum_obj(K[: t + 1], h[:, t::-1, :])
    out_pad = None
    if padded:
        vpad = np.stack([W_V[k] @ hpad for k in range(Hf)])  # (Hf, Dv)
        tail_coef = tails * inv[:, None]  # (Hf, N)
        out = out + (tail_coef.T @ vpad)[None]
        out_pad = (tail0 * inv) @ vpad
    return out, out_pad


def _einsum_obj(K: np.ndarray, hist: np.ndarray) -> np.ndarray:
    # out[b, v] = sum_{s, d} K[s, v, d] hist[b, s, d]  (object-safe, no einsum)
    S, Dv, D = K.shape
    Kf = K.transpose(0, 2, 1).reshape(S * D, Dv)
    return hist.reshape(hist.shape[0], S * D) @ Kf


def _is_zero(v: Any) -> bool:
    try:
        return bool(v == 0)
    except TypeError:
        return False


def _dp_head(att: AttentionLayer, low: dict[str, Any], i: int, h: np.ndarray, hpad: np.ndarray | None,
             past: str, be: Backend) -> tuple[np.ndarray, np.ndarray | None, float]:
    """A head with a query-key dot product (eq. (3)) or a TMX head (Def. C.5): dense causal attention.

    A TMX head's content logit ``-p phi(w^T x_t)`` depends on the query only; it is
    handled as a dot product with a constant key (``qk[t, j] = -p phi(w^T h_t)``).
    """
    B, N, D = h.shape
    W_V, p = low["W_V"][i], low["p"][i]
    V = h @ W_V.T
    padded = hpad is not None
    w_tmx = low["tmx"][i] if "tmx" in low else None
    if w_tmx is not None:
        qlog = _tmx_query_logit(att, p, h @ w_tmx, be)  # (B, N)
        content = qlog[:, :, None] * np.ones((1, 1, N)) if be.is_float else \
            np.repeat(qlog[:, :, None], N, axis=2)
        if padded:
            vpad = W_V @ hpad
            qk_pad = qlog
            pad_self = _tmx_query_logit(att, p, np.array([hpad @ w_tmx], dtype=hpad.dtype), be)[0]
    else:
        W_Q, W_K = low["W_Q"][i], low["W_K"][i]
        Q = h @ W_Q.T
        Kk = h @ W_K.T
        content = Q @ np.swapaxes(Kk, 1, 2)  # (B, N, N): [b, t, j]
        if padded:
            kpad = W_K @ hpad
            vpad = W_V @ hpad
            qk_pad = Q @ kpad  # (B, N)
            pad_self = (W_Q @ hpad) @ kpad
    t_idx = np.arange(N)
    lag = t_idx[:, None] - t_idx[None, :]
    if be.is_float:
        lw = _log_weights_float(att, p, N)
        pos = np.where(lag >= 0, lw[np.clip(lag, 0, N - 1)], -np.inf)
        logits = content + pos[None]
        parts = [np.max(logits, axis=2)]
        if padded:
            logtail = log_tail_float64(att.rpe, p, np.arange(1, N + 1))
            lpad = qk_pad + logtail[None]
            parts.append(lpad)
        m = np.max(np.stack(parts), axis=0)  # (B, N)
        finite = np.isfinite(m)
        m_safe = np.where(finite, m, 0.0)
        w = np.exp(logits - m_safe[..., None])
        num = w @ V
        den = np.sum(w, axis=2)
        if padded:
            wp = np.exp(lpad - m_safe)
            num = num + wp[..., None] * vpad
            den = den + wp
        if att.normalized:
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(finite[..., None], num / den[..., None], 0.0)
            mass = 1.0
        else:
            out = np.where(finite[..., None], np.exp(m_safe)[..., None] * num, 0.0)
            mass = float(np.max(np.where(finite, np.exp(m_safe) * den, 0.0)))
        out_pad = None
        if padded:
            with np.errstate(over="ignore"):
                pad_weight = float(np.exp(float(pad_self) + log_tail_float64(att.rpe, p, np.array([0]))[0]))
            out_pad = vpad if att.normalized else pad_weight * vpad
            if not att.normalized:
                mass = max(mass, pad_weight)
        return out, out_pad, mass
    # object backends
    wpos = rpe_weights_object(att.rpe, p, np.clip(lag, 0, N - 1), be)
    wpos = np.where(lag >= 0, wpos, be.zero)
    w = be.exp(content) * wpos[None]
    num = w @ V
    den = w.sum(axis=2)
    if padded:
        tails = np.array([tail_object(att.rpe, p, t + 1, be) for t in range(N)], dtype=object)
        wp = be.exp(qk_pad) * tails[None]
        num = num + wp[..., None] * vpad[None, None, :]
        den = den + wp
    if att.normalized:
        out = be.zeros(num.shape)
        for b in range(B):
            for t in range(N):
                if not _is_zero(den[b, t]):
                    out[b, t] = num[b, t] / den[b, t]
    else:
        out = num
    out_pad = None
    if padded:
        tail0 = tail_object(att.rpe, p, 0, be)
        out_pad = vpad if att.normalized else be.exp(np.array([pad_self], dtype=object))[0] * tail0 * vpad
    return out, out_pad, 1.0


def _tmx_query_logit(att: AttentionLayer, p: Any, z: np.ndarray, be: Backend) -> np.ndarray:
    """``-p phi(z)`` for a TMX head (Def. C.5), ``z = w^T x_t``: ``p z`` (lin), ``p log z`` (log),
    as the RPE type says (:meth:`~tfapprox.theory.rpe.RPEType.tmx_neg_phi`).

    ``phi(z) = -inf`` (``z`` below the type's ``tmx_min``: lin ``z < 0``, log ``z < 1``) would
    make the logit ``+inf``: refused; so are types without TMX heads (``tmx_min is None``).
    """
    rpe = att.rpe
    lo = rpe.tmx_min
    if lo is None:
        raise ValueError(f"TMX heads (Def. C.5) are not defined for {rpe.kind}-RPE (only for types with a "
                         f"real-argument phi, such as lin and log)")
    flat = np.asarray(z).reshape(-1)
    for v in flat:
        if not bool(v >= lo):
            raise ValueError(f"TMX head: w^T x_t = {v} gives phi_{rpe.kind}(w^T x_t) = -inf (need w^T x_t >= {lo}); "
                             f"the logit p (phi(s) - phi(w^T x_t)) of Def. C.5 is undefined")
    if be.is_float:
        return p * rpe.tmx_neg_phi(np.asarray(z, dtype=float), np.log)
    log = sympy.log if be.name == "sympy" else mpmath.log
    return np.frompyfunc(lambda v: p * rpe.tmx_neg_phi(v, log), 1, 1)(np.asarray(z, dtype=object)).astype(object)
