"""tfapprox.constructions: the proofs of Wang & E 2024 as exact weights (target + budget -> weights).

One idea per module: the result base type (:mod:`~tfapprox.constructions.base`); the App. F kernels
(:mod:`~tfapprox.constructions.delta_kernels` with :mod:`~tfapprox.constructions.bump_nodes`,
:mod:`~tfapprox.constructions.delta_interpolation`, :mod:`~tfapprox.constructions.delta_kernel_type`,
:mod:`~tfapprox.constructions.realisation`; :mod:`~tfapprox.constructions.lemma_f2_f5`,
:mod:`~tfapprox.constructions.lemma_f3_f6`); the theorems (:mod:`~tfapprox.constructions.thm3_1`,
:mod:`~tfapprox.constructions.thm4_1`, :mod:`~tfapprox.constructions.prop4_2`,
:mod:`~tfapprox.constructions.thm4_4`, :mod:`~tfapprox.constructions.thm5_1`) and the RNN of the
curse-of-memory comparison (:mod:`~tfapprox.constructions.rnn`).  Imports only :mod:`tfapprox.theory`.
"""
