"""tfapprox: constructive Transformer approximation theory (Wang & E, NeurIPS 2024).

The public API in one import::

    import tfapprox as tf
    target = tf.FixedMemoryTarget([1, 5, 20], tf.LinearReadout([0, 1, 1, 1]))
    cons = tf.build_thm3_1(target, num_heads=64, rpe="lin")
    model = tf.Model(cons.spec)
    y = model.run(x, backend="mpmath", dps=model.metadata["precision_digits"])

Subpackages: :mod:`tfapprox.theory` (targets, architecture spec, bounds),
:mod:`tfapprox.constructions` (the proofs' weights) and :mod:`tfapprox.verify`
(forward pass, error measurement, rates, checks).
"""

from __future__ import annotations

__version__ = "0.1.0"

from tfapprox.api import build_model, fixed_memory_target
from tfapprox.constructions.delta_kernels import DeltaKernel, delta_kernel, lemma_f1_kernel, lemma_f4_kernel
from tfapprox.constructions.thm3_1 import Thm31Construction, build_thm3_1
from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.readouts import CallableReadout, LinearReadout, ProductReadout, ReluSumReadout
from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, TableRPE
from tfapprox.theory.targets import AdaptiveMemoryTarget, EssentiallySparseTarget, FixedMemoryTarget
from tfapprox.verify.kernel_error import delta_kernel_l1_error
from tfapprox.verify.model import Model, PrecisionError

__all__ = [
    "__version__",
    "AdaptiveMemoryTarget",
    "AttentionHead",
    "AttentionLayer",
    "Block",
    "CallableReadout",
    "DeltaKernel",
    "EssentiallySparseTarget",
    "FeedForward",
    "FixedMemoryTarget",
    "LinRPE",
    "LinearReadout",
    "LogRPE",
    "Model",
    "PrecisionError",
    "ProductReadout",
    "ReluSumReadout",
    "T5RPE",
    "TableRPE",
    "Thm31Construction",
    "TransformerSpec",
    "build_model",
    "build_thm3_1",
    "delta_kernel",
    "delta_kernel_l1_error",
    "fixed_memory_target",
    "lemma_f1_kernel",
    "lemma_f4_kernel",
]
