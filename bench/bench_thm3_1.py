"""Benchmarks for the Theorem 3.1 pipeline, reported as speed ratios against a baseline
run in the same process (timings are machine-dependent; ratios much less so).

(a) Exact l1 attention error of the Lemma F.1 kernel (H = 1024, T = 20): the stable
    Chebyshev basis in double-double float64 (``delta_kernel_l1_error``) against a plain
    mpmath summation of the *realised* weights, sum_s |sum_k a_k e^{-beta_k s} - 1{s=T}|,
    at the digits those weights need, over the same lags.  The answers must agree.
(b) One float64 forward pass of a constructed Thm 3.1 model over a batch of 256 windows of
    length 2048 (vectorised: merged head kernel + causal convolution) against a naive loop
    over positions and heads.  The answers must agree to the pass's own error estimate.
    H = 24 (lags 1, 5, 20) is the largest budget whose weights float64 can still evaluate
    (estimated rounding error ~3e-8); from H ~ 32 on the construction's coefficients cancel
    beyond float64 and ``Model.run`` refuses float64 (see docs/theorems/thm-3-1.md).

Run: ``python bench/bench_thm3_1.py`` (about a minute).  Results: bench/README.md.
"""

from __future__ import annotations

import math
import platform
import time

import mpmath
import numpy as np

from tfapprox.api import fixed_memory_target
from tfapprox.constructions.delta_kernels import lemma_f1_kernel
from tfapprox.constructions.thm3_1 import build_thm3_1
from tfapprox.verify.kernel_error import delta_kernel_l1_error
from tfapprox.verify.model import Model


def bench_l1(H: int = 1024, T: int = 20, lags: int = 3000) -> dict:
    kern = lemma_f1_kernel(T, H)
    t0 = time.perf_counter()
    enc = delta_kernel_l1_error(kern)
    fast = time.perf_counter() - t0

    dps = kern.digits_needed(1e-20)
    t0 = time.perf_counter()
    with mpmath.workdps(dps):
        a = [mpmath.mpf(c) for c in kern.coefficients]
        alpha, gamma = mpmath.mpf(kern.alpha.p) / kern.alpha.q, mpmath.mpf(kern.gamma.p) / kern.gamma.q
        total = mpmath.mpf(0)
        for s in range(lags):  # Horner in u = e^{-alpha s}: P(s) = e^{-gamma s} sum_k a_k u^k
            u = mpmath.exp(-alpha * s)
            acc = mpmath.mpf(0)
            for c in reversed(a):
                acc = acc * u + c
            value = mpmath.exp(-gamma * s) * acc - (1 if s == T else 0)
            total += abs(value)
        # lags >= `lags`: the realised and stable kernels are the same function; its tail
        # e^{-gamma s} |Q(u)| is below e^{-gamma lags} sum_j |c_j| / (1 - e^{-gamma})
        slow_value = float(total)
    slow = time.perf_counter() - t0
    tail = float(kern.chebyshev_l1) * math.exp(-float(kern.gamma) * lags) / -math.expm1(-float(kern.gamma))
    agree = enc.lower - tail - 1e-12 <= slow_value <= enc.upper + 1e-12
    return {"H": H, "T": T, "stable_seconds": fast, "mpmath_seconds": slow, "ratio": slow / fast,
            "digits": dps, "stable_value": enc.upper, "mpmath_value": slow_value, "agree": agree}


def bench_forward(batch: int = 256, length: int = 2048, heads: int = 24) -> dict:
    cons = build_thm3_1(fixed_memory_target([1, 5, 20]), heads, rpe="lin")
    model = Model(cons.spec)
    X = np.random.default_rng(0).uniform(-1, 1, (batch, length, 1))
    model.forward(X[:1, :8])  # lower the weights once (not timed)
    t0 = time.perf_counter()
    res = model.forward(X)
    fast = time.perf_counter() - t0

    low = model.lowered()
    att = low.layers[0]["attention"]
    W_V, ps = att["W_V"], att["p"]
    ffn = low.layers[0]["ffn"]
    t0 = time.perf_counter()
    naive = np.zeros((batch, length))
    weights = [np.exp(-p * np.arange(length)) * -math.expm1(-p) for p in ps]  # e^{-p s} / Z(p)
    for t in range(length):
        hist = X[:, t::-1, 0]  # (batch, t+1): lag s -> x_{t-s}
        z = np.zeros((batch, 4))
        z[:, 0] = X[:, t, 0]
        for h in range(len(ps)):
            z += np.outer(hist @ weights[h][: t + 1], W_V[h][:, 0])  # zero pad: no tail term
        naive[:, t] = np.maximum(z @ ffn["b"].T + ffn["c"], 0) @ ffn["a"][0]
    slow = time.perf_counter() - t0
    diff = float(np.max(np.abs(naive - res.outputs[..., 0])))
    return {"batch": batch, "length": length, "heads": heads, "vectorised_seconds": fast, "naive_seconds": slow,
            "ratio": slow / fast, "max_difference": diff, "error_estimate": res.error_estimate,
            "agree": diff <= 2 * res.error_estimate}


if __name__ == "__main__":
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
          f"numpy {np.__version__}")
    a = bench_l1()
    print(f"(a) l1 error H={a['H']} T={a['T']}: stable {a['stable_seconds']:.2f} s, mpmath at {a['digits']} digits "
          f"{a['mpmath_seconds']:.1f} s -> ratio {a['ratio']:.0f}x; values {a['stable_value']:.12e} vs "
          f"{a['mpmath_value']:.12e}, agree: {a['agree']}")
    b = bench_forward()
    print(f"(b) forward {b['batch']}x{b['length']} H={b['heads']}: vectorised {b['vectorised_seconds']:.2f} s, "
          f"naive loop {b['naive_seconds']:.1f} s -> ratio {b['ratio']:.0f}x; max difference "
          f"{b['max_difference']:.2e} (float64 error estimate {b['error_estimate']:.2e}), agree: {b['agree']}")
