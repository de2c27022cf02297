"""Size limits: the one place where every size the toolkit accepts is bounded.

Every size option of the command line, every size argument of a builder and every size
field of a model file is checked against one of these limits *before* anything is
allocated, so that an absurd request (``--heads 1000000000``) is refused at once with a
``ValueError`` naming the parameter, the value and the limit, instead of running out of
memory.  The limits are generous for the paper's constructions (its largest
experiments use windows of 1000 tokens and lags below 1000; the rates show at H in the
hundreds to thousands) and are documented in ``docs/guarantees.md``.

Change a limit here and nowhere else.
"""

from __future__ import annotations

__all__ = [
    "MAX_HEADS",
    "MAX_WIDTH",
    "MAX_MODEL_DIM",
    "MAX_PARAMETERS",
    "MAX_LAG",
    "MAX_MEMORIES",
    "MAX_READOUT_NEURONS",
    "MAX_DPS",
    "MIN_DPS",
    "MAX_WINDOW_ROWS",
    "MAX_WINDOW_ENTRIES",
    "MAX_QUADRATIC_ENTRIES",
    "MAX_T5_DISTANCE",
    "MAX_TABLE_RPE_ENTRIES",
    "MAX_METADATA_DEPTH",
    "MAX_MODEL_FILE_BYTES",
    "MAX_INPUT_FILE_BYTES",
    "MAX_KERNEL_RATE",
    "MAX_DECAY_RATE",
]

#: Heads of one attention layer (a builder's ``heads`` / ``--heads``, a model file's ``heads`` array).
MAX_HEADS = 65_536
#: FFN width ``m`` (``--width``): hidden neurons of one feed-forward block.
MAX_WIDTH = 1_048_576
#: Model width ``D`` and input/output dimensions of a model file.
MAX_MODEL_DIM = 4_096
#: Total number of weight entries of one model (all matrices of all blocks together).
MAX_PARAMETERS = 2 ** 24
#: A memory lag ``T`` (``--lags``): the paper's experiments use lags below 1000.
MAX_LAG = 100_000
#: Number of memories ``M`` of one target.
MAX_MEMORIES = 1_024
#: Neurons of a sampled readout (``--readout-neurons``).
MAX_READOUT_NEURONS = 1_048_576
#: mpmath working precision (``--dps``), decimal digits.
MAX_DPS = 100_000
#: The smallest mpmath working precision accepted (below it mpmath's own guard digits dominate).
MIN_DPS = 5
#: Time steps of one input window (``eval --input``).
MAX_WINDOW_ROWS = 1_048_576
#: Entries of one input array (batch x rows x d).
MAX_WINDOW_ENTRIES = 2 ** 24
#: Entries of a quadratic intermediate (e.g. ``past="none"`` attention weights, N x N per head group).
MAX_QUADRATIC_ENTRIES = 2 ** 26
#: T5 ``max_distance`` (the bucket table grows with it).
MAX_T5_DISTANCE = 1_048_576
#: Entries of a user table RPE.
MAX_TABLE_RPE_ENTRIES = 1_048_576
#: Nesting depth of a model file's JSON document (the schema itself needs 8 levels).
MAX_METADATA_DEPTH = 64
#: Bytes of one model file read by ``Model.load`` / ``tfapprox eval|export``.
MAX_MODEL_FILE_BYTES = 512 * 2 ** 20
#: Bytes of one input window file (``--input``, CSV or ``.npy``).
MAX_INPUT_FILE_BYTES = 256 * 2 ** 20
#: Largest change-of-variables rate alpha and decay gamma of Lemmas F.1-F.6 (the paper's are 0.01;
#: beyond this the weights e^{alpha T} and the exponents gamma + alpha k leave every float range).
MAX_KERNEL_RATE = 100
#: Largest decay rate beta of a memory kernel e^{-beta t} or t^{-beta} (Thm 5.1): e^{-1000} is below
#: every float range, so larger rates describe nothing a model could represent differently.
MAX_DECAY_RATE = 1000
