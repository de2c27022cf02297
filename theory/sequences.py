"""Input sequences: a finite window plus what came before it (paper eq. (1), Sec. 2.1).

The paper's inputs are two-sided infinite sequences ``(x_t)_{t in Z}``.  tfapprox
represents an input as a finite *window* ``x_0, ..., x_{N-1}`` together with an
explicit statement of what precedes it, the *past* semantics, shared by models and
targets (Differences from the paper, D17):

``"padded"``
    Every time before the window holds the same padding token ``pad`` (a vector of
    dimension d, zero by default).  This is a genuine two-sided infinite sequence, and
    models sum their attention over the infinite padded past in closed form.  Targets
    read ``x_{t-s}`` for ``t - s < 0`` as ``pad``.
``"none"``
    The finite sequence of practice and of the paper's experiments (App. H): nothing
    exists before ``x_0``.  Softmax normalises over the tokens that exist.  Targets
    read an absent token as the zero vector, i.e. sums over the past stop at ``x_0``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .validation import require_choice, short_repr

__all__ = ["Past", "PAST_CHOICES", "check_past", "as_window_batch", "check_pad"]

Past = Literal["padded", "none"]
"""The past semantics of an input window: ``"padded"`` (the paper's two-sided infinite
sequence) or ``"none"`` (finite)."""
PAST_CHOICES: tuple[str, ...] = ("padded", "none")
"""The allowed values of :data:`Past`, in the order the CLI lists them."""


def check_past(past: Any) -> str:
    """Validate a past-semantics name (``"padded"`` or ``"none"``)."""
    return require_choice("past", past, PAST_CHOICES)


def as_window_batch(X: Any, d: int, *, name: str = "X", dtype: Any = float) -> tuple[np.ndarray, bool]:
    """Return ``X`` as an array of shape ``(batch, N, d)`` and whether a batch axis was added.

    Accepted shapes: ``(N,)`` when ``d == 1``, ``(N, d)``, ``(batch, N, d)``.
    ``dtype=object`` keeps exact (sympy) or mpmath entries as they are.
    """
    try:
        arr = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {short_repr(X)}") from exc
    added = False
    if arr.ndim == 1 and d == 1:
        arr = arr[None, :, None]
        added = True
    elif arr.ndim == 2:
        arr = arr[None]
        added = True
    if arr.ndim != 3 or arr.shape[2] != d:
        raise ValueError(f"{name} must have shape (N, {d}) or (batch, N, {d})"
                         + (" or (N,)" if d == 1 else "") + f", got {np.shape(X)}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must hold at least one time step, got an empty window")
    if dtype is float and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers, got NaN or inf")
    return arr, added


def check_pad(pad: Any, d: int, *, dtype: Any = float) -> np.ndarray:
    """Validate the padding token: ``None`` (zero vector) or a vector of dimension ``d``."""
    if pad is None:
        return np.zeros(d, dtype=dtype) if dtype is float else np.array([0] * d, dtype=object)
    arr = np.asarray(pad, dtype=dtype).reshape(-1) if np.ndim(pad) <= 1 else None
    if arr is None or arr.shape != (d,):
        raise ValueError(f"pad must be a vector of dimension {d}, got {short_repr(pad)}")
    if dtype is float and not np.all(np.isfinite(arr)):
        raise ValueError("pad must contain only finite numbers, got NaN or inf")
    return arr
