"""Hypothesis strategies for tfapprox: exact specs, targets, kernels and malformed input.

Shipped so that users can test their own constructions, checks and RPE types the way the test suite
tests tfapprox (``from tfapprox.testing import strategies``).  Needs ``hypothesis``
(``pip install "tfapprox[test]"``).  One module per part of the toolkit:

* ``tfapprox.testing.strategies.specs``
* ``tfapprox.testing.strategies.targets``
* ``tfapprox.testing.strategies.architecture``
* ``tfapprox.testing.strategies.kernels``
* ``tfapprox.testing.strategies.fuzz``

Example
-------
>>> from hypothesis import given, settings
>>> from tfapprox.testing.strategies import transformer_specs
>>> @settings(max_examples=5, deadline=None)
... @given(spec=transformer_specs())
... def check(spec):
...     assert spec.past in ("padded", "none")
>>> check()
"""

from __future__ import annotations
from .specs import (
    SYMBOLIC_NUMBERS,
    exact_numbers,
    json_values,
    rpes,
    transformer_specs,
)
from .targets import (
    small_weights,
    readouts,
    memory_kernels,
    fixed_targets,
    ADAPTIVE_ALPHABET,
    adaptive_targets,
    essential_targets,
    targets_with_windows,
    malformed_lags,
    malformed_specs,
    failing_evaluations,
)
from .architecture import (
    malformed_architecture_specs,
)
from .kernels import (
    DELTA_KERNEL_PARAMETERS,
    delta_kernel_specs,
    rate_indices,
    malformed_delta_kernel_calls,
    nested_chains,
    NONINTEGER_LOG_PARAMETERS,
    noninteger_log_kernel_specs,
    trig_polynomials,
    kernel_coefficient_lists,
    exponent_sets,
    size_searches,
)
from .fuzz import (
    FUZZ_JSON_VALUES,
    FUZZ_NUMBER_LITERALS,
    mutated_model_texts,
    FUZZ_BAD_INTS,
    FUZZ_BAD_LAGS,
    FUZZ_BAD_REALS,
    malformed_cli_arguments,
)

__all__ = [
    "SYMBOLIC_NUMBERS",
    "exact_numbers",
    "json_values",
    "rpes",
    "transformer_specs",
    "small_weights",
    "readouts",
    "memory_kernels",
    "fixed_targets",
    "ADAPTIVE_ALPHABET",
    "adaptive_targets",
    "essential_targets",
    "targets_with_windows",
    "malformed_lags",
    "malformed_specs",
    "failing_evaluations",
    "malformed_architecture_specs",
    "DELTA_KERNEL_PARAMETERS",
    "delta_kernel_specs",
    "rate_indices",
    "malformed_delta_kernel_calls",
    "nested_chains",
    "NONINTEGER_LOG_PARAMETERS",
    "noninteger_log_kernel_specs",
    "trig_polynomials",
    "kernel_coefficient_lists",
    "exponent_sets",
    "size_searches",
    "FUZZ_JSON_VALUES",
    "FUZZ_NUMBER_LITERALS",
    "mutated_model_texts",
    "FUZZ_BAD_INTS",
    "FUZZ_BAD_LAGS",
    "FUZZ_BAD_REALS",
    "malformed_cli_arguments",
]
