"""The paper's three target classes as validated specs (eqs. (5)-(14), Secs. 3.1, 4.1, 5.1).

* :class:`FixedMemoryTarget`: H^Fix, fixed, long but M-sparse memories (Sec. 3.1)

      y_t = f(x_t, x_{t-T_1}, ..., x_{t-T_M}),   1 <= T_1 < ... < T_M      (5)-(6)

* :class:`AdaptiveMemoryTarget`: H^Adap_{(K,M)}, K-adaptive, long but M-sparse
  memories (Sec. 4.1), memory positions found by memory functions ``g_i``:

      t_1 = g_1(x_t),  t_i = g_i(x_t, x_{t-t_1}, ..., x_{t-t_{i-1}})  (i <= K),
      t_i = g_i(x_t, x_{t-t_1}, ..., x_{t-t_K})  (i > K),
      y_t = f(x_t, x_{t-t_1}, ..., x_{t-t_M}),   1 <= g_i <= T_i           (7')-(10)

* :class:`EssentiallySparseTarget`: H^Ess, essentially M-sparse memories (Sec. 5.1)

      y_t = f((X * rho_1)(t), ..., (X * rho_M)(t)),  (X * rho)(t) = sum_{s>=0} x_{t-s} rho(s)   (13)-(14)

Inputs and outputs
------------------
``X`` has shape ``(N,)`` (``d == 1``), ``(N, d)`` or ``(batch, N, d)``
(:func:`tfapprox.theory.sequences.as_window_batch`).  ``evaluate(X, past=..., pad=...)``
returns ``y_t`` at **every** time ``t = 0..N-1`` of the window: shape ``(batch, N)``, or
``(N,)`` when ``X`` had no batch axis.  ``past="padded"``: ``x_{t-s}`` for ``t - s < 0``
is the padding token ``pad`` (zero vector by default), a genuine two-sided sequence;
infinite sums over the padded past are summed in closed form.  ``past="none"``: absent
tokens count as the zero vector, so sums over the past stop at ``x_0`` (the paper's
experiments); ``pad`` must then be left unset.

Readout inputs are the tokens (or convolutions) concatenated in the order of the
formulas: blocks of ``d`` numbers, ``x_t`` first.

Where the code lives
--------------------
This module is the front door: it re-exports every name of

* :mod:`tfapprox.theory.target_classes`: :class:`Target` and the three classes;
* :mod:`tfapprox.theory.memory_functions`: the memory functions ``g_i`` of H^Adap;
* :mod:`tfapprox.theory.target_examples`: the paper's named examples and the App. H catalogue;
* :mod:`tfapprox.theory.target_json`: the JSON form (:data:`TARGET_FORMAT`,
  :func:`target_from_dict`, :func:`memory_function_from_dict`),

and importing it loads every target kind the JSON readers know.

Conventions chosen here (documented in ``docs/targets.md``)
-----------------------------------------------------------
* **Warm-up indexing.**  ``nesting`` is the ``K`` of eq. (8).  The warm-up class of
  eq. (9), in which every ``g_i`` reads ``x_t`` only, is ``nesting = 0`` ("K = 0 in (8)"),
  which the paper nevertheless names H^Adap_{(1,M)} (Differences from the paper, D6);
  ``paper_class`` reports the paper's name.  This matches Thm 4.4's depth
  ``L = K + 1 + 1{M >= K+1}``, which is 2 at ``K = 0``, the two layers of Thm 4.1.
* **Zero lags.**  ``g_i`` values must lie in ``1..T_i`` (eq. (10)).  The paper's
  Prop. 4.2 witness has ``g(-1) = 0``, outside the class; it can be built only with
  ``allow_zero_lag=True`` (:func:`prop42_witness`).
* **Experiments** (App. H): windows of 1000 tokens in ``{+-1}``, output read at the last
  position ``t = 999`` (0-based), the paper's 1-based ``x_48, x_56, x_99`` being lags
  952, 944, 901 (an inference, not stated: Differences from the paper, D23).

Examples
--------
>>> from tfapprox.theory.readouts import ProductReadout
>>> H = FixedMemoryTarget(lags=(1, 3), readout=ProductReadout(3))
>>> (H.evaluate([1.0, -1.0, 1.0, 1.0, -1.0]) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
[0.0, 0.0, 0.0, 1.0, 1.0]
>>> H.evaluate([1.0, -1.0, 1.0, 1.0, -1.0], pad=[1.0]).tolist()
[1.0, -1.0, -1.0, 1.0, 1.0]
"""

from __future__ import annotations

from .memory_functions import (CallableMemoryFunction, MemoryFunction, MemoryFunctionRowError, ReluMemoryFunction,
                               TableMemoryFunction)
from .target_classes import AdaptiveMemoryTarget, EssentiallySparseTarget, FixedMemoryTarget, Target
from .target_examples import (PAPER_EXPERIMENTS, PaperExperiment, adaptive_sparse_boolean, fixed_memory_target,
                              paper_experiment, paper_experiment_target, pointer_chasing, prop42_witness)
from .target_json import TARGET_FORMAT, memory_function_from_dict, target_from_dict

__all__ = [
    "Target",
    "FixedMemoryTarget",
    "fixed_memory_target",
    "AdaptiveMemoryTarget",
    "EssentiallySparseTarget",
    "MemoryFunction",
    "MemoryFunctionRowError",
    "TableMemoryFunction",
    "ReluMemoryFunction",
    "CallableMemoryFunction",
    "adaptive_sparse_boolean",
    "prop42_witness",
    "pointer_chasing",
    "PaperExperiment",
    "PAPER_EXPERIMENTS",
    "paper_experiment",
    "paper_experiment_target",
    "target_from_dict",
    "memory_function_from_dict",
    "TARGET_FORMAT",
]
