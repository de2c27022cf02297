"""Linear RNN / diagonal state-space model: the curse-of-memory comparison (Sec. 5, App. H.1).

``h_t = diag(lambda) h_{t-1} + b x_t``, ``y_t = c . h_t`` with ``0 < lambda_k < 1`` realises the
convolution kernel ``k(s) = sum_k c_k b_k lambda_k^s`` (``s >= 0``): exactly the lin-RPE family
``sum_k a_k e^{-p_k s}`` with ``p_k = -log lambda_k``.  So the best ``N``-unit RNN approximation of
a kernel is the best ``N``-term exponential sum, computed by the same LP machinery
(:mod:`tfapprox.verify.essential_error`).  Li et al. (2021, 2022): such sums need
exponentially many terms for polynomially decaying (heavy-tailed) kernels -- the curse of
memory -- while one log-RPE head realises ``s^{-beta}`` exactly.

Examples
--------
>>> m = DiagonalLinearRNN((0.5, 0.25), (1.0, 1.0), (1.0, -1.0))
>>> m.kernel([0, 1, 2]).tolist()
[0.0, 0.25, 0.1875]
>>> m.run([1.0, 0.0, 0.0]).tolist()
[0.0, 0.25, 0.1875]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

__all__ = ["DiagonalLinearRNN"]


@dataclass(frozen=True)
class DiagonalLinearRNN:
    """A diagonal linear RNN with ``N`` hidden units (decays ``lambda``, input ``b``, readout ``c``)."""

    decays: tuple[float, ...]
    input_weights: tuple[float, ...]
    output_weights: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.decays)
        if n < 1 or len(self.input_weights) != n or len(self.output_weights) != n:
            raise ValueError(f"decays, input_weights and output_weights need the same length >= 1, got "
                             f"{len(self.decays)}, {len(self.input_weights)}, {len(self.output_weights)}")
        for i, lam in enumerate(self.decays):
            if not (0 < float(lam) < 1):
                raise ValueError(f"decays[{i}] must be in (0, 1) (a stable unit), got {lam}")

    @property
    def hidden_units(self) -> int:
        """Number of hidden units (one per decay)."""
        return len(self.decays)

    def __repr__(self) -> str:
        lam = [float(v) for v in self.decays]
        return (f"DiagonalLinearRNN(hidden_units={len(lam)}, decay_range=({min(lam):.4g}, {max(lam):.4g}), "
                f"output_l1={sum(abs(float(c)) for c in self.output_weights):.4g})")

    @classmethod
    def from_exponential_sum(cls, exponents: Sequence[float], coefficients: Sequence[float]) -> "DiagonalLinearRNN":
        """The RNN with kernel ``sum_k a_k e^{-p_k s}``: ``lambda_k = e^{-p_k}``, ``b_k = 1``, ``c_k = a_k``."""
        return cls(tuple(math.exp(-float(p)) for p in exponents), tuple(1.0 for _ in exponents),
                   tuple(float(a) for a in coefficients))

    @classmethod
    def from_kernel(cls, decays: Sequence[float], coefficients: Sequence[float]) -> "DiagonalLinearRNN":
        """The RNN with kernel ``sum_k c_k lambda_k^s`` for given decays: ``b_k = 1``, ``c_k`` as given
        (the float64 ``lambda_k`` are kept exactly, so the kernel is the one whose error was enclosed)."""
        return cls(tuple(float(v) for v in decays), tuple(1.0 for _ in decays), tuple(float(a) for a in coefficients))

    def kernel(self, s: Any) -> np.ndarray:
        """``k(s) = sum_k c_k b_k lambda_k^s``."""
        s = np.asarray(s, dtype=float)
        lam = np.asarray(self.decays, dtype=float)
        w = np.asarray(self.input_weights, dtype=float) * np.asarray(self.output_weights, dtype=float)
        return (np.power(lam[None, :], s.reshape(-1, 1)) @ w).reshape(s.shape)

    def run(self, x: Any) -> np.ndarray:
        """The recurrence on a finite sequence (zero initial state)."""
        x = np.asarray(x, dtype=float)
        lam = np.asarray(self.decays, dtype=float)
        b = np.asarray(self.input_weights, dtype=float)
        c = np.asarray(self.output_weights, dtype=float)
        h = np.zeros_like(lam)
        out = []
        for xt in x:
            h = lam * h + b * xt
            out.append(float(c @ h))
        return np.array(out)
