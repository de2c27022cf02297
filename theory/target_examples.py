"""Named targets of the paper: the Sec. 4.1 examples, Prop. 4.2's witness and the App. H catalogue.

* :func:`adaptive_sparse_boolean`: Sec. 4.1 example (I), ``y_t = x_t x_{t-g(x_t)} x_{t-g(x_{t-g(x_t)})}``;
* :func:`prop42_witness`: the witness of Prop. 4.2 / C.4, ``y_t = x_{t-g(x_t)}``;
* :func:`pointer_chasing`: Sec. 4.1 example (II), K-step reasoning;
* :func:`paper_experiment` / :data:`PAPER_EXPERIMENTS`: the synthetic targets of App. H.2
  (H.2.2-H.2.5, H.2.7, H.2.8) with how the paper reads them (:class:`PaperExperiment`);
* :func:`fixed_memory_target`: an H^Fix target (eq. (1)) from simple options, as the CLI builds it.

**Experiments** (App. H): windows of 1000 tokens in ``{+-1}``, output read at the last
position ``t = 999`` (0-based), the paper's 1-based ``x_48, x_56, x_99`` being lags 952,
944, 901 (an inference, not stated: Differences from the paper, D23).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import sympy

from .limits import MAX_LAG, MAX_MEMORIES, MAX_READOUT_NEURONS
from .memory_functions import TableMemoryFunction
from .memory_kernels import ExponentialKernel, PolynomialKernel
from .messages import short_repr
from .readouts import LinearReadout, ProductReadout, ReluSumReadout
from .sequences import as_window_batch
from .target_classes import AdaptiveMemoryTarget, EssentiallySparseTarget, FixedMemoryTarget, Target
from .validation import require_choice, require_int, require_int_list, require_sorted_distinct_lags

__all__ = [
    "adaptive_sparse_boolean",
    "prop42_witness",
    "pointer_chasing",
    "PaperExperiment",
    "PAPER_EXPERIMENTS",
    "paper_experiment",
    "paper_experiment_target",
    "fixed_memory_target",
]


# ---------------------------------------------------------------------------
# paper examples of H^Adap
# ---------------------------------------------------------------------------

def _boolean_alphabet(g_at_zero: Any, lags: dict, T: int) -> tuple[tuple, dict]:
    if g_at_zero is None:
        return (-1, 1), lags
    z = require_int("g_at_zero", g_at_zero, minimum=1, maximum=T)
    return (-1, 0, 1), {**lags, 0: z}


def adaptive_sparse_boolean(*, g_at_zero: int | None = None) -> AdaptiveMemoryTarget:
    """Sec. 4.1 example (I): ``y_t = x_t * x_{t-g(x_t)} * x_{t-g(x_{t-g(x_t)})}`` with
    ``X in {+-1}^Z``, ``g(1) = 1``, ``g(-1) = 2``; ``K = M = 2``, ``T_1 = T_2 = 2``.

    ``g_1 = g`` reads ``x_t``; ``g_2 = g`` reads only ``x_{t-t_1}`` (``reads=(1,)``); the
    readout is :class:`ProductReadout` of the three tokens.

    ``g`` is defined on ``{+-1}`` only, so the zero padding token (or an absent token
    under ``past='none'``) is refused at evaluation; pass ``pad=[1.0]`` or ``[-1.0]``, or
    extend ``g`` to the token 0 with ``g_at_zero`` in ``{1, 2}`` (alphabet ``{-1, 0, 1}``).
    """
    alphabet, lag = _boolean_alphabet(g_at_zero, {1: 1, -1: 2}, 2)
    g1 = TableMemoryFunction(alphabet, lag)
    g2 = TableMemoryFunction(alphabet, lag, reads=(1,))
    return AdaptiveMemoryTarget((g1, g2), (2, 2), 2, ProductReadout(3))


def prop42_witness(corrected: bool, *, allow_zero_lag: bool = False) -> AdaptiveMemoryTarget:
    """The witness of Prop. 4.2 / C.4: ``X in {-1, 0, 1}^Z``, ``y_t = x_{t-g(x_t)}``, in
    H^Adap_{(1,1)} (warm-up, ``nesting = 0``).

    ``corrected=False``: the paper's ``g(x) = x + 1``, so ``g(-1) = 0``, **outside** the
    class (``g >= 1``, eq. (10)); it is built only when the caller also passes
    ``allow_zero_lag=True`` (``T_1 = 2``, ``in_paper_class = False``), and refused with
    a ``ValueError`` otherwise.  ``corrected=True``: ``g(x) = x + 2`` (values 1, 2, 3,
    ``T_1 = 3``), inside the class; the paper's argument (DP attention with logit
    ``-beta (s - g(x_t))`` succeeds, any DP-free attention has error bounded below) is
    unchanged by the shift.  The readout is ``f(x_t, x_{t-t_1}) = x_{t-t_1}``.

    >>> prop42_witness(corrected=True).evaluate([1.0, 0.0, -1.0, 1.0]).tolist()
    [0.0, 0.0, 0.0, 1.0]
    >>> prop42_witness(corrected=False, allow_zero_lag=True).in_paper_class
    False
    """
    if not isinstance(corrected, bool):
        raise TypeError(f"corrected must be True or False, got {short_repr(corrected)}")
    if not isinstance(allow_zero_lag, bool):
        raise TypeError(f"allow_zero_lag must be True or False, got {short_repr(allow_zero_lag)}")
    if not corrected and not allow_zero_lag:
        raise ValueError("the paper's Prop. 4.2 witness has g(-1) = 0, outside the class 1 <= g <= T "
                         "(eq. (10)); pass allow_zero_lag=True to build it as stated, or use corrected=True "
                         "(g(x) = x + 2)")
    shift, T = (2, 3) if corrected else (1, 2)
    g = TableMemoryFunction((-1, 0, 1), {x: x + shift for x in (-1, 0, 1)})
    return AdaptiveMemoryTarget.warm_up((g,), (T,), LinearReadout([0, 1]), allow_zero_lag=not corrected)


def pointer_chasing(K: int, max_lag: int = 4, *, g_at_zero: int | None = None) -> AdaptiveMemoryTarget:
    """Sec. 4.1 example (II), K-step reasoning: ``(...((x_t -> x_{t-t_1}) -> x_{t-t_2}) ...) -> x_{t-t_K}``.

    Tokens are pointers ``j / T`` (``j = 1..T``, ``T = max_lag``, so ``|x_t| <= 1``); each
    step follows the last token found: ``t_1 = g(x_t)``, ``t_i = g(x_{t-t_{i-1}})`` with
    ``g(j / T) = j``; ``y_t = x_{t-t_K}``.  ``nesting = M = K``, every ``T_i = T``.
    ``g_at_zero`` in ``1..T`` extends ``g`` to the token 0 (padding / absent tokens).

    >>> H = pointer_chasing(2, 2)
    >>> H.evaluate([0.5, 1.0, 0.5, 1.0], pad=[0.5]).tolist()
    [0.5, 0.5, 0.5, 1.0]
    """
    K = require_int("K", K, minimum=1)
    T = require_int("max_lag", max_lag, minimum=1)
    alphabet = [sympy.Rational(j, T) for j in range(1, T + 1)]
    table = {a: j for j, a in enumerate(alphabet, start=1)}
    if g_at_zero is not None:
        alphabet = [sympy.Integer(0)] + alphabet
        table[sympy.Integer(0)] = require_int("g_at_zero", g_at_zero, minimum=1, maximum=T)
    gs = [TableMemoryFunction(alphabet, table, reads=(i - 1,)) for i in range(1, K + 1)]
    return AdaptiveMemoryTarget(gs, (T,) * K, K, LinearReadout([0] * K + [1]))


# ---------------------------------------------------------------------------
# the paper's experiments (App. H)
# ---------------------------------------------------------------------------

#: Experiments with a synthetic target (H.2.5 uses H.2.2's target).
PAPER_EXPERIMENTS: tuple[str, ...] = ("H.2.2", "H.2.3", "H.2.4", "H.2.5", "H.2.7", "H.2.8")

_WINDOW = 1000
_MEM = {48: _WINDOW - 48, 56: _WINDOW - 56, 99: _WINDOW - 99}  # 1-based position -> lag from t = 1000


@dataclass(frozen=True)
class PaperExperiment:
    """A synthetic experiment of App. H: its target and how the paper reads it.

    Windows of ``window_length = 1000`` tokens in ``{+-1}`` (presumably i.i.d. uniform),
    finite sequences (``past = "none"``), output read at the last position
    ``read_at = 999`` (0-based; the paper's 1-based ``t = 1000``).  The reading position
    and the lags are our inference (Differences from the paper, D23).
    """

    name: str
    target: Target
    description: str
    window_length: int = _WINDOW
    read_at: int = _WINDOW - 1
    past: str = "none"
    alphabet: tuple = (-1, 1)

    def evaluate(self, X: Any) -> Any:
        """``y`` at ``read_at`` for windows of exactly ``window_length`` tokens (shape ``(batch,)`` or a float)."""
        Xb, added = as_window_batch(X, self.target.d)
        if Xb.shape[1] != self.window_length:
            raise ValueError(f"experiment {self.name} uses windows of {self.window_length} tokens, got {Xb.shape[1]}")
        y = np.asarray(self.target.evaluate(Xb, past=self.past))[:, self.read_at]
        return float(y[0]) if added else y


def _gaussian_readout_on(positions: Sequence[int], seed: int) -> ReluSumReadout:
    """``sum_{k=1}^{64} relu(<w_k, (x_p)_{p in positions}>)``, ``w_k ~ N(0, I)``, laid out for a
    FixedMemoryTarget whose input is ``(x_t, memories by increasing lag)``."""
    w = ReluSumReadout.gaussian(64, len(positions), seed)
    lags = sorted(_MEM[p] for p in positions)
    col_of = {_MEM[p]: j for j, p in enumerate(positions)}
    inner = [[sympy.Integer(0)] + [row[col_of[T]] for T in lags] for row in w.inner]
    return ReluSumReadout(w.outer, inner, w.bias)


def paper_experiment(name: str, *, seed: int = 0) -> PaperExperiment:
    """The synthetic targets of App. H.2 (and Differences from the paper, D23).

    * ``"H.2.2"`` (and ``"H.2.5"``, same target): ``sum_{k=1}^{64} relu(<w_k, (x_48, x_56, x_99)>)``,
      ``w_k ~ N(0, I_3)`` drawn with ``seed`` (the paper's draw is unknown): a
      :class:`FixedMemoryTarget` with lags ``(901, 944, 952)`` whose readout gives ``x_t``
      weight 0.
    * ``"H.2.3"``: ``sum_{k=1}^{64} relu(w_k x_99)``, ``w_k ~ N(0, 1)``: lag ``(901,)``.
    * ``"H.2.4"``: ``x_48 + x_56 + x_99``: lags ``(901, 944, 952)``, linear readout.
    * ``"H.2.7"``: ``sum_{s=1}^{1000} x_s rho(1000 - s)`` with ``rho(t) = t^{-0.5}``
      (not summable; ``rho(0) = 0``, our choice, see :mod:`tfapprox.theory.memory_kernels`):
      an :class:`EssentiallySparseTarget`.
    * ``"H.2.8"``: the same with ``rho(t) = e^{-5t}``.

    Paper positions are 1-based over a window of 1000 with the output at ``t = 1000``;
    here ``x_p`` is at lag ``1000 - p`` from the last position ``t = 999``.

    >>> ex = paper_experiment("H.2.4")
    >>> ex.target.lags, ex.read_at
    ((901, 944, 952), 999)
    """
    seed = require_int("seed", seed, minimum=0)
    if name not in PAPER_EXPERIMENTS:
        raise ValueError(f"name must be one of {', '.join(PAPER_EXPERIMENTS)}; got {short_repr(name)}")
    lags3 = (_MEM[99], _MEM[56], _MEM[48])
    if name in ("H.2.2", "H.2.5"):
        target: Target = FixedMemoryTarget(lags3, _gaussian_readout_on((48, 56, 99), seed))
        desc = "f*(x) = sum_{k=1}^{64} ReLU(<w*_k, (x_48, x_56, x_99)>), w*_k ~ N(0, I_3)"
    elif name == "H.2.3":
        target = FixedMemoryTarget((_MEM[99],), _gaussian_readout_on((99,), seed))
        desc = "f*(x) = sum_{k=1}^{64} ReLU(w*_k x_99), w*_k ~ N(0, 1)"
    elif name == "H.2.4":
        target = FixedMemoryTarget(lags3, LinearReadout([0, 1, 1, 1]))
        desc = "f*(x) = x_48 + x_56 + x_99"
    elif name == "H.2.7":
        target = EssentiallySparseTarget([PolynomialKernel(1, sympy.Rational(1, 2), offset=0, at_zero=0,
                                                           allow_non_summable=True)], LinearReadout([1]))
        desc = "f*(x) = sum_{s=1}^{1000} x_s rho(1000 - s), rho(t) = t^{-0.5}, rho(0) = 0 (our choice)"
    else:
        target = EssentiallySparseTarget([ExponentialKernel(1, 5)], LinearReadout([1]))
        desc = "f*(x) = sum_{s=1}^{1000} x_s rho(1000 - s), rho(t) = e^{-5t}"
    return PaperExperiment(name, target, desc)


def paper_experiment_target(name: str, *, seed: int = 0) -> Target:
    """The target of :func:`paper_experiment` (read it at position 999 of a 1000-token window)."""
    return paper_experiment(name, seed=seed).target


def fixed_memory_target(lags: Any, readout: str = "sum", readout_neurons: int = 64, seed: int = 0,
                        d: int = 1) -> FixedMemoryTarget:
    """A :class:`FixedMemoryTarget` (eq. (1)) from simple options.

    ``readout="sum"``: ``f = x_{t-T_1} + ... + x_{t-T_M}`` (linear, as in experiment H.2.4);
    ``readout="gaussian"``: ``f = sum_k relu(<w_k, z>)`` with ``readout_neurons`` Gaussian
    ``w_k`` drawn with ``seed`` (experiments H.2.2/H.2.3).  Sizes are checked against
    :mod:`tfapprox.theory.limits` before anything is allocated.

    >>> fixed_memory_target("1,5,20").lags
    (1, 5, 20)
    """
    lags = require_sorted_distinct_lags("lags", require_int_list("lags", lags, maximum=MAX_LAG,
                                                                 max_items=MAX_MEMORIES))
    readout_neurons = require_int("readout_neurons", readout_neurons, minimum=1, maximum=MAX_READOUT_NEURONS)
    require_choice("readout", readout, ("sum", "gaussian"))
    n_in = (len(lags) + 1) * d
    if readout == "sum":
        f = LinearReadout([0] * d + [1] * (n_in - d), 0)
    else:
        f = ReluSumReadout.gaussian(readout_neurons, n_in, seed)
    return FixedMemoryTarget(lags, f, d=d)
