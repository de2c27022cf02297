"""Constructions by name, for the Python API and ``tfapprox build``.

``build_model("thm3.1", lags=[1, 5, 20], heads=64, rpe="lin")`` returns a
:class:`~tfapprox.verify.model.Model`; :func:`build_construction` returns the construction
object as well (what :func:`tfapprox.verify.file_certificate.certify_reloaded` needs to
certify a model file).  Each construction declares its CLI options in
:func:`add_build_arguments`; later results add theirs to :data:`BUILDERS`.

Sizes are checked against :mod:`tfapprox.theory.limits` before anything is allocated
(``heads <= MAX_HEADS``, every lag ``<= MAX_LAG``, ``M <= MAX_MEMORIES``,
``width <= MAX_WIDTH``, ``readout_neurons <= MAX_READOUT_NEURONS``).  Every model records
``metadata["precision_digits"]`` (:mod:`tfapprox.theory.digits`) and, when its attention
for a memory vanishes identically, ``metadata["warnings"]``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # imported where used: `tfapprox --help` stays fast (no numpy/sympy)
    from tfapprox.verify.model import Model

__all__ = ["build_model", "build_construction", "builder_options", "add_build_arguments", "fixed_memory_target",
           "BUILDERS"]


def _limit(name: str, value: Any, maximum: int, minimum: int = 1) -> Any:
    """``value`` checked against a size limit of :mod:`tfapprox.theory.limits` (``None`` passes)."""
    from tfapprox.theory.validation import require_int

    return None if value is None else require_int(name, value, minimum=minimum, maximum=maximum)


def fixed_memory_target(*args: Any, **kwargs: Any) -> Any:
    """:func:`tfapprox.theory.targets.fixed_memory_target` (re-exported for the API)."""
    from tfapprox.theory.targets import fixed_memory_target as build

    return build(*args, **kwargs)


def _build_thm3_1(*, lags: Any = "1,5,20", heads: int = 64, width: int | None = None, rpe: str = "lin",
                  alpha: Any = "0.01", gamma: Any = "0.01", readout: str = "sum", readout_neurons: int = 64,
                  seed: int = 0) -> Any:
    from tfapprox.constructions.thm3_1 import build_thm3_1
    from tfapprox.theory.limits import MAX_HEADS, MAX_WIDTH

    heads = _limit("heads", heads, MAX_HEADS)
    width = _limit("width", width, MAX_WIDTH)
    target = fixed_memory_target(lags, readout, readout_neurons, seed)
    return build_thm3_1(target, heads, width, rpe=rpe, alpha=alpha, gamma=gamma, seed=seed)


def _args_thm3_1(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rpe", choices=["lin", "log"], default="lin", help="RPE type (Lemma F.1 or F.4 kernels)")
    p.add_argument("--lags", default="1,5,20", help="memory lags T_1 < ... < T_M, comma-separated")
    p.add_argument("--heads", type=int, default=64, help="total number of heads H (>= M)")
    p.add_argument("--width", type=int, default=None, help="FFN width m (default: exact readout)")
    p.add_argument("--alpha", default="0.01", help="change-of-variables rate alpha of Lemma F.1/F.4")
    p.add_argument("--gamma", default="0.01", help="decay factor gamma of Lemma F.1/F.4")
    p.add_argument("--readout", choices=["sum", "gaussian"], default="sum",
                   help="target readout f: sum of the memories, or a sum of Gaussian ReLUs")
    p.add_argument("--readout-neurons", type=int, default=64, help="neurons of the gaussian readout")
    p.add_argument("--seed", type=int, default=0, help="seed of the gaussian readout and FFN sampling")


def _build_thm4_1(*, heads: int = 64, width: int | None = None, rpe: str = "lin", tmx: bool = False) -> Any:
    from tfapprox.constructions.thm4_1 import build_thm4_1
    from tfapprox.theory.limits import MAX_HEADS, MAX_WIDTH
    from tfapprox.verify.checks_adaptive import two_memory_target

    heads = _limit("heads", heads, MAX_HEADS)
    width = _limit("width", width, MAX_WIDTH)
    return build_thm4_1(two_memory_target(), heads, width, rpe=rpe, tmx=bool(tmx))


def _args_thm4_1(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rpe", choices=["lin", "log"], default="lin", help="RPE type (Lemma F.2 or F.5 kernels)")
    p.add_argument("--heads", type=int, default=64, help="total number of heads H (>= 2)")
    p.add_argument("--width", type=int, default=None, help="FFN 1 width m (default: exact interpolation)")
    p.add_argument("--tmx", action="store_true", help="TMX heads (Prop. 4.3, Def. C.5) instead of dot products")


def _build_thm5_1(*, kernel: str = "exp:0.5", heads: int = 16, rpe: str | None = None,
                  lag0: str | None = None) -> Any:
    from tfapprox.constructions.thm5_1 import build_thm5_1
    from tfapprox.theory.limits import MAX_HEADS, MAX_MEMORIES
    from tfapprox.theory.readouts import LinearReadout
    from tfapprox.theory.targets import EssentiallySparseTarget
    from tfapprox.verify.checks_essential import parse_kernel

    heads = _limit("heads", heads, MAX_HEADS)
    texts = str(kernel).split(",")
    if any(not t.strip() for t in texts):
        raise ValueError(f"kernel must be comma-separated exp:BETA / poly:BETA entries without empty ones, "
                         f"got {kernel!r}")
    if len(texts) > MAX_MEMORIES:
        raise ValueError(f"kernel may list at most MAX_MEMORIES = {MAX_MEMORIES} kernels, got {len(texts)}")
    kernels = [parse_kernel(t) for t in texts]
    target = EssentiallySparseTarget(kernels, LinearReadout([1] * len(kernels)))
    return build_thm5_1(target, heads, rpe=rpe, lag0=lag0, with_spec=True)


def _args_thm5_1(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kernel", default="exp:0.5", help="exp:BETA or poly:BETA, comma-separated for M > 1")
    p.add_argument("--heads", type=int, default=16, help="total number of heads H (>= M)")
    p.add_argument("--rpe", choices=["lin", "log"], default=None, help="RPE type (default from the decay)")
    p.add_argument("--lag0", choices=["residual", "none"], default=None, help="lag-0 handling for log-RPE")


def _build_thm4_4(*, heads: int = 64, K: int = 2, M: int = 3, rpe: str = "lin", seed: int = 0,
                  prop45: bool = False) -> Any:
    from tfapprox.constructions.thm4_4 import build_prop4_5, build_thm4_4
    from tfapprox.theory.limits import MAX_HEADS, MAX_MEMORIES
    from tfapprox.verify.checks_nested import nested_chain, prop45_target

    heads = _limit("heads", heads, MAX_HEADS)
    K = _limit("K", K, MAX_MEMORIES)
    M = _limit("M", M, MAX_MEMORIES)
    if prop45:
        return build_prop4_5(prop45_target(), heads, rpe=rpe)
    return build_thm4_4(nested_chain(K, M, seed=seed), heads, rpe=rpe)


def _args_thm4_4(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rpe", choices=["lin", "log"], default="lin", help="RPE type (Lemma F.2 or F.5 kernels)")
    p.add_argument("--heads", type=int, default=64, help="heads per attention layer H")
    p.add_argument("--K", type=int, default=2, help="nesting K of the default chain target")
    p.add_argument("--M", type=int, default=3, help="memories M of the default chain target")
    p.add_argument("--seed", type=int, default=0, help="seed of the chain's tables")
    p.add_argument("--prop45", action="store_true", help="Prop. 4.5: (M+1) layers for the 3-memory warm-up target")


#: construction name -> (summary, builder returning the construction object, argument declarer)
BUILDERS: dict[str, tuple[str, Callable[..., Any], Callable[[argparse.ArgumentParser], None]]] = {
    "thm3.1": ("Theorem 3.1: one-layer DP-free Transformer for fixed sparse memories (App. B.1)",
               _build_thm3_1, _args_thm3_1),
    "thm4.1": ("Theorem 4.1 / Prop. 4.3: two-layer normalization-free Transformer for the default 2-memory "
               "adaptive target (App. C.1; --tmx for TMX heads)", _build_thm4_1, _args_thm4_1),
    "thm4.4": ("Theorem 4.4 / Prop. 4.5: (K+1+1{M>=K+1})-layer Transformer for nested memories (App. D.1); "
               "default chain target, --prop45 for the (M+1)-layer warm-up construction", _build_thm4_4, _args_thm4_4),
    "thm5.1": ("Theorem 5.1: one-layer DP-free Transformer for essentially sparse memories (App. E.1), "
               "y = sum_k (X * rho_k)", _build_thm5_1, _args_thm5_1),
}


def builder_options(construction: str) -> tuple[str, ...]:
    """The options :func:`build_model` accepts for ``construction`` (the builder's keyword parameters).

    >>> builder_options("thm4.1")
    ('heads', 'width', 'rpe', 'tmx')
    """
    import inspect

    if construction not in BUILDERS:
        raise ValueError(f"construction must be one of {', '.join(BUILDERS)}; got {construction!r}")
    params = inspect.signature(BUILDERS[construction][1]).parameters.values()
    return tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)


def build_construction(construction: str, **options: Any) -> tuple[Any, Model]:
    """Build a named construction (see :data:`BUILDERS`): ``(construction object, model)``.

    The construction object (a :class:`~tfapprox.constructions.base.Construction`:
    ``Thm31Construction``, ``Thm41Construction``, ``Thm44Construction``, ``Prop45Construction``
    or ``Thm51Construction``) carries what the certificate uses (kernels, allocation, FFN
    accuracies); pass it with a reloaded spec to
    :func:`tfapprox.verify.file_certificate.certify_reloaded`.  Options are the builder's own
    (:func:`builder_options`, spelled with ``_`` or ``-``; ``None`` means the default); any other
    raises ``TypeError`` naming it and listing the allowed ones.
    """
    allowed = builder_options(construction)
    options = {k.replace("-", "_"): v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} for "
                        f"construction {construction!r}; allowed: {', '.join(allowed)}")
    cons = BUILDERS[construction][1](**options)
    from tfapprox.verify.model import Model

    return cons, Model(cons.spec)


def build_model(construction: str, **options: Any) -> Model:
    """Build a named construction (see :data:`BUILDERS`) and return the runnable model.

    Unknown options raise ``TypeError`` (:func:`build_construction`):

    >>> build_model("thm3.1", head=8)
    Traceback (most recent call last):
    ...
    TypeError: unknown option 'head' for construction 'thm3.1'; allowed: lags, heads, width, rpe, alpha, gamma, readout, readout_neurons, seed
    """
    return build_construction(construction, **options)[1]


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``tfapprox build CONSTRUCTION ... --out FILE``."""
    sub = parser.add_subparsers(dest="construction", metavar="CONSTRUCTION", required=True)
    for name, (summary, _, declare) in BUILDERS.items():
        p = sub.add_parser(name, help=summary, description=summary)
        declare(p)
        p.add_argument("--out", required=True, help="model file to write (atomically)")
