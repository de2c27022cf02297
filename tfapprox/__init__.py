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

from tfapprox.theory.version import __version__ as _package_version

__version__: str = _package_version
"""The package version (PEP 440), also printed by ``tfapprox --version``."""

from typing import TYPE_CHECKING, Any

# The public names are imported on first use (PEP 562 module ``__getattr__``): ``import tfapprox``
# and ``tfapprox --help`` then load no numpy, sympy, mpmath or scipy (well under a second); the
# first access to e.g. ``tfapprox.build_thm3_1`` imports its module.  Static tools (type
# checkers, mkdocstrings) read the same names from the ``TYPE_CHECKING`` block.
if TYPE_CHECKING:  # pragma: no cover
    from tfapprox.api import build_model, fixed_memory_target
    from tfapprox.checks import list_checks, run_check
    from tfapprox.constructions.base import Construction
    from tfapprox.constructions.delta_kernels import DeltaKernel, delta_kernel, lemma_f1_kernel, lemma_f4_kernel
    from tfapprox.constructions.lemma_f2_f5 import ShiftedDeltaKernel, lemma_f2_kernel, lemma_f5_kernel, shifted_delta_kernel
    from tfapprox.constructions.lemma_f3_f6 import EssentialKernel, essential_kernel, lemma_f3_kernel, lemma_f6_kernel
    from tfapprox.constructions.prop4_2 import Prop42Construction, build_prop4_2_dp
    from tfapprox.constructions.rnn import DiagonalLinearRNN
    from tfapprox.constructions.thm3_1 import Thm31Construction, build_thm3_1
    from tfapprox.constructions.thm4_1 import Thm41Construction, build_thm4_1
    from tfapprox.constructions.thm4_4 import Prop45Construction, Thm44Construction, build_prop4_5, build_thm4_4
    from tfapprox.constructions.thm5_1 import Thm51Construction, build_thm5_1
    from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
    from tfapprox.theory.readouts import CallableReadout, LinearReadout, ProductReadout, ReluSumReadout
    from tfapprox.theory.rpe import LinRPE, LogRPE, T5RPE, TableRPE
    from tfapprox.theory.targets import AdaptiveMemoryTarget, EssentiallySparseTarget, FixedMemoryTarget
    from tfapprox.verify.kernel_error import delta_kernel_l1_error
    from tfapprox.verify.model import Model, PrecisionError

_LAZY: dict[str, str] = {
    "build_model": "tfapprox.api",
    "run_check": "tfapprox.checks",
    "list_checks": "tfapprox.checks",
    "fixed_memory_target": "tfapprox.theory.targets",
    "Construction": "tfapprox.constructions.base",
    "delta_kernel": "tfapprox.constructions.delta_kernels",
    "DeltaKernel": "tfapprox.constructions.delta_kernels",
    "lemma_f1_kernel": "tfapprox.constructions.delta_kernels",
    "lemma_f4_kernel": "tfapprox.constructions.delta_kernels",
    "lemma_f2_kernel": "tfapprox.constructions.lemma_f2_f5",
    "lemma_f5_kernel": "tfapprox.constructions.lemma_f2_f5",
    "lemma_f3_kernel": "tfapprox.constructions.lemma_f3_f6",
    "lemma_f6_kernel": "tfapprox.constructions.lemma_f3_f6",
    "shifted_delta_kernel": "tfapprox.constructions.lemma_f2_f5",
    "ShiftedDeltaKernel": "tfapprox.constructions.lemma_f2_f5",
    "essential_kernel": "tfapprox.constructions.lemma_f3_f6",
    "EssentialKernel": "tfapprox.constructions.lemma_f3_f6",
    "build_prop4_2_dp": "tfapprox.constructions.prop4_2",
    "Prop42Construction": "tfapprox.constructions.prop4_2",
    "DiagonalLinearRNN": "tfapprox.constructions.rnn",
    "build_thm3_1": "tfapprox.constructions.thm3_1",
    "Thm31Construction": "tfapprox.constructions.thm3_1",
    "build_thm4_1": "tfapprox.constructions.thm4_1",
    "Thm41Construction": "tfapprox.constructions.thm4_1",
    "build_thm4_4": "tfapprox.constructions.thm4_4",
    "Thm44Construction": "tfapprox.constructions.thm4_4",
    "build_prop4_5": "tfapprox.constructions.thm4_4",
    "Prop45Construction": "tfapprox.constructions.thm4_4",
    "build_thm5_1": "tfapprox.constructions.thm5_1",
    "Thm51Construction": "tfapprox.constructions.thm5_1",
    "AttentionHead": "tfapprox.theory.architecture",
    "AttentionLayer": "tfapprox.theory.architecture",
    "Block": "tfapprox.theory.architecture",
    "FeedForward": "tfapprox.theory.architecture",
    "TransformerSpec": "tfapprox.theory.architecture",
    "CallableReadout": "tfapprox.theory.readouts",
    "LinearReadout": "tfapprox.theory.readouts",
    "ProductReadout": "tfapprox.theory.readouts",
    "ReluSumReadout": "tfapprox.theory.readouts",
    "LinRPE": "tfapprox.theory.rpe",
    "LogRPE": "tfapprox.theory.rpe",
    "T5RPE": "tfapprox.theory.rpe",
    "TableRPE": "tfapprox.theory.rpe",
    "AdaptiveMemoryTarget": "tfapprox.theory.targets",
    "EssentiallySparseTarget": "tfapprox.theory.targets",
    "FixedMemoryTarget": "tfapprox.theory.targets",
    "delta_kernel_l1_error": "tfapprox.verify.kernel_error",
    "Model": "tfapprox.verify.model",
    "PrecisionError": "tfapprox.verify.model",
}
"""Public name -> the module that defines it (imported on first access)."""


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562) and cache the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tfapprox' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


#: Each builder and the result type it returns (tests/test_public_api.py checks both are exported).
BUILDER_RESULTS: dict[str, str] = {
    "build_model": "Model",
    "build_thm3_1": "Thm31Construction",
    "build_thm4_1": "Thm41Construction",
    "build_thm4_4": "Thm44Construction",
    "build_prop4_5": "Prop45Construction",
    "build_thm5_1": "Thm51Construction",
    "build_prop4_2_dp": "Prop42Construction",
    "delta_kernel": "DeltaKernel",
    "lemma_f1_kernel": "DeltaKernel",
    "lemma_f4_kernel": "DeltaKernel",
    "shifted_delta_kernel": "ShiftedDeltaKernel",
    "lemma_f2_kernel": "ShiftedDeltaKernel",
    "lemma_f5_kernel": "ShiftedDeltaKernel",
    "essential_kernel": "EssentialKernel",
    "lemma_f3_kernel": "EssentialKernel",
    "lemma_f6_kernel": "EssentialKernel",
}

__all__ = [
    "__version__",
    "run_check",
    "list_checks",
    # builders, each beside its result type (BUILDER_RESULTS)
    "build_model",
    "Model",
    "build_thm3_1",
    "Thm31Construction",
    "build_thm4_1",
    "Thm41Construction",
    "build_thm4_4",
    "Thm44Construction",
    "build_prop4_5",
    "Prop45Construction",
    "build_thm5_1",
    "Thm51Construction",
    "build_prop4_2_dp",
    "Prop42Construction",
    "Construction",
    "delta_kernel",
    "lemma_f1_kernel",
    "lemma_f4_kernel",
    "DeltaKernel",
    "shifted_delta_kernel",
    "lemma_f2_kernel",
    "lemma_f5_kernel",
    "ShiftedDeltaKernel",
    "essential_kernel",
    "lemma_f3_kernel",
    "lemma_f6_kernel",
    "EssentialKernel",
    # targets, readouts, architecture, RPEs, models, errors
    "fixed_memory_target",
    "AdaptiveMemoryTarget",
    "EssentiallySparseTarget",
    "FixedMemoryTarget",
    "CallableReadout",
    "LinearReadout",
    "ProductReadout",
    "ReluSumReadout",
    "AttentionHead",
    "AttentionLayer",
    "Block",
    "FeedForward",
    "TransformerSpec",
    "LinRPE",
    "LogRPE",
    "T5RPE",
    "TableRPE",
    "DiagonalLinearRNN",
    "PrecisionError",
    "delta_kernel_l1_error",
]
