"""Readout functions ``f: R^{n_in} -> R`` of the target classes (paper eqs. (5), (7'), (13)).

Every target of the paper ends in a readout ``f`` that is assumed to lie in Barron
space and to be Lipschitz, ``f in B cap L`` (eqs. (6), (10), (14)); the theorems' error
bounds are ``E_FFN = O~(||f||_B / sqrt(m))`` plus ``||f||_Lip * E_Attn`` (Thm 3.1, 4.1,
4.4, 5.1).  The output dimension is ``c = 1`` as in the paper (Sec. 2.1).

The Barron norm (Def. G.1, Sec. 2.3) is

    ||f||_B = inf_rho E_rho[ |a| (||b||_1 + |c|) ],   f(z) = E_rho[ a relu(b . z + c) ],

an infimum over all representations.  tfapprox never claims the infimum: every
readout states an **upper bound**, the value of the Barron functional for one explicit
representation, and says which representation and on which domain.  Lipschitz
constants are with respect to the Euclidean norm; each readout says whether its value
is exact or an upper bound.

Families
--------
``ReluSumReadout``
    A finite two-layer ReLU net ``sum_k a_k relu(b_k . z + c_k)``; Barron bound
    ``sum_k |a_k| (||b_k||_1 + |c_k|)`` (exact value of the functional for this
    representation, valid on all of ``R^{n_in}``), Lipschitz bound
    ``sum_k |a_k| ||b_k||_2`` (exact for one neuron).
``LinearReadout``
    ``w . z + c``; Barron bound ``2 ||w||_1 + |c|``, Lipschitz constant ``||w||_2``.
``ProductReadout``
    ``z_1 z_2 ... z_n`` on the cube ``[-r, r]^n`` (sparse Boolean functions such as
    ``y_t = x_t x_{t-1}``); Barron bound ``2 n^n r^{n-1} (n + (n-1) r) / n!`` from the
    polarization identity, Lipschitz constant ``sqrt(n) r^{n-1}``.
``CallableReadout``
    A user function with *declared* norms: they are not checked.

Numbers
-------
Parameters are stored exactly as sympy ``Rational`` numbers: a Python ``float`` becomes
the exact binary rational it denotes, a decimal string such as ``"0.1"`` is exactly
1/10 (the one rule of :mod:`tfapprox.theory.rationals`).  Norms are exact sympy numbers computed
from these values; ``float64`` views are used for evaluation.  ``to_dict`` writes every
real number as a string that reads back to the same exact value
(:func:`rational_to_str`), so no code is ever evaluated on load.

Examples
--------
>>> f = ReluSumReadout(outer=[1, -2], inner=[[1, 0], [1, 1]], bias=[0, "1/2"])
>>> f.barron_norm, f.lipschitz
(6, 1 + 2*sqrt(2))
>>> float(f.evaluate([1.0, 1.0]))
-4.0
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy

from .numbers import rational_from_str, rational_to_str
from .rationals import exact_rational, to_float, to_mpf
from .validation import require_int, short_repr

__all__ = [
    "Readout",
    "ReluSumReadout",
    "LinearReadout",
    "ProductReadout",
    "CallableReadout",
    "readout_from_dict",
]


# ---------------------------------------------------------------------------
# exact vectors and matrices of readout parameters
# ---------------------------------------------------------------------------

def _exact_vector(name: str, value: Any, length: int | None = None) -> tuple[sympy.Rational, ...]:
    if isinstance(value, (str, bytes)) or np.ndim(value) != 1:
        raise ValueError(f"{name} must be a 1-d sequence of numbers, got shape "
                         f"{np.shape(value) if not isinstance(value, (str, bytes)) else 'a string'}")
    items = list(value)
    if length is not None and len(items) != length:
        raise ValueError(f"{name} must have length {length}, got {len(items)}")
    return tuple(exact_rational(f"{name}[{i}]", v) for i, v in enumerate(items))


def _exact_matrix(name: str, value: Any) -> tuple[tuple[sympy.Rational, ...], ...]:
    if isinstance(value, (str, bytes)) or np.ndim(value) != 2:
        raise ValueError(f"{name} must be a 2-d array of numbers, got shape "
                         f"{np.shape(value) if not isinstance(value, (str, bytes)) else 'a string'}")
    rows = [list(r) for r in value]
    return tuple(tuple(exact_rational(f"{name}[{i},{j}]", v) for j, v in enumerate(r))
                 for i, r in enumerate(rows))


def _frozen_array(values: Any) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.setflags(write=False)
    return arr


def _positive_declared(name: str, value: Any) -> sympy.Rational:
    q = exact_rational(name, value)
    if not q > 0:
        raise ValueError(f"{name} must be a positive finite number, got {short_repr(value)}")
    return q


# ---------------------------------------------------------------------------
# readouts
# ---------------------------------------------------------------------------

class Readout(ABC):
    """Common interface of readouts ``f: R^{n_in} -> R``.

    Attributes every readout has: ``n_in``, ``kind``, ``barron_norm`` (an upper bound
    on ``||f||_B``, exact sympy number), ``lipschitz`` (an upper bound on
    ``||f||_Lip`` in the 2-norm, exact sympy number), ``lipschitz_is_exact``,
    ``norms_are_declared`` (``True`` when the norms were given by the user and not
    checked) and ``domain_radius`` (``None`` when the norms hold on all of
    ``R^{n_in}``, else ``r`` for the cube ``[-r, r]^{n_in}``).
    """

    kind: str = ""
    norms_are_declared: bool = False
    n_in: int

    @property
    def domain_radius(self) -> sympy.Rational | None:
        """Radius of the input box the readout's constants hold on (None: everywhere)."""
        return None

    @abstractmethod
    def _evaluate_rows(self, z: np.ndarray) -> np.ndarray: ...

    def evaluate(self, z: Any) -> Any:
        """Evaluate ``f`` on ``z`` of shape ``(..., n_in)``; returns shape ``(...)``.

        A single point (shape ``(n_in,)``) gives a Python ``float``.
        """
        try:
            arr = np.asarray(z, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"z must be an array of real numbers, got {short_repr(z)}") from exc
        if arr.ndim == 0 or arr.shape[-1] != self.n_in:
            raise ValueError(f"z must have last axis of size n_in = {self.n_in}, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("z must contain only finite numbers, got NaN or inf")
        lead = arr.shape[:-1]
        out = np.asarray(self._evaluate_rows(arr.reshape(-1, self.n_in)), dtype=float).reshape(lead)
        return float(out) if arr.ndim == 1 else out

    @abstractmethod
    def to_dict(self) -> dict:
        """The JSON description of the readout (``kind`` and exact parameters)."""


@dataclass(frozen=True)
class ReluSumReadout(Readout):
    """A finite two-layer ReLU net ``f(z) = sum_{k=1}^m a_k relu(b_k . z + c_k)`` (Sec. 2.2).

    Parameters
    ----------
    outer : sequence of m numbers
        Output weights ``a_k``.
    inner : (m, n_in) array
        Inner weights, row ``k`` is ``b_k``.
    bias : sequence of m numbers, optional
        Biases ``c_k`` (zero by default).

    Notes
    -----
    ``barron_norm = sum_k |a_k| (||b_k||_1 + |c_k|)`` is the value of the paper's
    Barron functional (Def. G.1) for this very representation (the discrete measure
    with atoms ``(m a_k, b_k, c_k)``), hence an **upper bound** on the infimum
    ``||f||_B``, valid on all of ``R^{n_in}``.  ``lipschitz = sum_k |a_k| ||b_k||_2``
    is an upper bound on ``||f||_Lip`` over ``R^{n_in}``; it is exact for ``m = 1``
    (``lipschitz_is_exact``).  Both are exact sympy numbers computed from the exact
    weights (lazily: a 64-neuron net of float weights takes a fraction of a second).

    Examples
    --------
    >>> f = ReluSumReadout([2], [[3, -4]], [1])
    >>> f.barron_norm, f.lipschitz, f.lipschitz_is_exact
    (16, 10, True)
    """

    outer: Any
    inner: Any
    bias: Any = None
    outer_f: np.ndarray = field(init=False, repr=False, compare=False)
    inner_f: np.ndarray = field(init=False, repr=False, compare=False)
    bias_f: np.ndarray = field(init=False, repr=False, compare=False)

    kind = "relu_sum"

    def __post_init__(self) -> None:
        inner = _exact_matrix("inner", self.inner)
        m = len(inner)
        if m < 1:
            raise ValueError("inner must have at least one row (one neuron), got 0")
        n = len(inner[0])
        if n < 1 or any(len(r) != n for r in inner):
            raise ValueError(f"inner must be an (m, n_in) array with n_in >= 1, got rows of lengths "
                             f"{sorted({len(r) for r in inner})}")
        outer = _exact_vector("outer", self.outer, m)
        bias = (sympy.Integer(0),) * m if self.bias is None else _exact_vector("bias", self.bias, m)
        object.__setattr__(self, "inner", inner)
        object.__setattr__(self, "outer", outer)
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "outer_f", _frozen_array([to_float(v) for v in outer]))
        object.__setattr__(self, "inner_f", _frozen_array([[to_float(v) for v in r] for r in inner]))
        object.__setattr__(self, "bias_f", _frozen_array([to_float(v) for v in bias]))

    @classmethod
    def gaussian(cls, num_neurons: int, n_in: int, seed: int) -> "ReluSumReadout":
        """The readouts of the paper's experiments H.2.2/H.2.3 (App. H):
        ``f(z) = sum_k relu(<w_k, z>)`` with ``w_k ~ N(0, I_{n_in})`` i.i.d., outer weights
        1 and no bias.

        The draw is ``numpy.random.default_rng(seed).standard_normal((num_neurons, n_in))``;
        the paper's own draws are unknown.

        >>> f = ReluSumReadout.gaussian(64, 3, seed=0)
        >>> f.num_neurons, f.n_in
        (64, 3)
        """
        num_neurons = require_int("num_neurons", num_neurons, minimum=1)
        n_in = require_int("n_in", n_in, minimum=1)
        seed = require_int("seed", seed, minimum=0)
        w = np.random.default_rng(seed).standard_normal((num_neurons, n_in))
        return cls(outer=[1] * num_neurons, inner=w, bias=None)

    @property
    def n_in(self) -> int:
        """Number of inputs of the readout."""
        return len(self.inner[0])

    @property
    def num_neurons(self) -> int:
        """Number of ReLU neurons."""
        return len(self.outer)

    @cached_property
    def barron_norm(self) -> sympy.Rational:
        """``sum_k |a_k| (||b_k||_1 + |c_k|)``: exact, an upper bound on ``||f||_B``."""
        return sympy.Add(*[abs(a) * (sympy.Add(*[abs(x) for x in b]) + abs(c))
                           for a, b, c in zip(self.outer, self.inner, self.bias)])

    @cached_property
    def lipschitz(self) -> sympy.Expr:
        """``sum_k |a_k| ||b_k||_2``: exact sympy number, an upper bound on ``||f||_Lip``."""
        return sympy.Add(*[abs(a) * sympy.sqrt(sympy.Add(*[x * x for x in b]))
                           for a, b in zip(self.outer, self.inner)])

    @property
    def lipschitz_is_exact(self) -> bool:
        """Whether :attr:`lipschitz` is the exact constant (one neuron) rather than an upper bound."""
        return self.num_neurons == 1

    def _evaluate_rows(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z @ self.inner_f.T + self.bias_f, 0.0) @ self.outer_f

    def evaluate_mp(self, z: Sequence[Any], dps: int) -> mpmath.mpf:
        """``f(z)`` for one point in mpmath at ``dps`` digits (weights lowered exactly)."""
        z = _mp_point(z, self.n_in, dps)
        with mpmath.workdps(dps):
            total = mpmath.mpf(0)
            for a, b, c in zip(self.outer, self.inner, self.bias):
                pre = mpmath.fsum([to_mpf(bj) * zj for bj, zj in zip(b, z)]) + to_mpf(c)
                if pre > 0:
                    total += to_mpf(a) * pre
            return +total

    def as_exact_matrices(self) -> tuple[sympy.ImmutableDenseMatrix, ...]:
        """``(inner, bias, outer)`` as exact sympy matrices of shapes (m, n_in), (m, 1), (1, m),
        the layout of :class:`tfapprox.theory.architecture.FeedForward`."""
        m, n = self.num_neurons, self.n_in
        return (sympy.ImmutableDenseMatrix(m, n, [v for r in self.inner for v in r]),
                sympy.ImmutableDenseMatrix(m, 1, list(self.bias)),
                sympy.ImmutableDenseMatrix(1, m, list(self.outer)))

    def to_dict(self) -> dict:
        """The JSON description (model file format)."""
        return {"kind": self.kind,
                "outer": [rational_to_str(v) for v in self.outer],
                "inner": [[rational_to_str(v) for v in r] for r in self.inner],
                "bias": [rational_to_str(v) for v in self.bias]}


@dataclass(frozen=True)
class LinearReadout(Readout):
    """``f(z) = w . z + c``.

    Notes
    -----
    Claimed Barron bound: ``barron_norm = 2 ||w||_1 + |c|``, the functional's value for
    the representation ``w . z = relu(w . z) - relu(-w . z)`` (cost ``2 ||w||_1``) plus
    the constant ``c = c relu(0 . z + 1)`` (cost ``|c|``); valid on all of ``R^{n_in}``
    and an **upper bound** only: on a bounded domain a cheaper representation can
    exist.  ``lipschitz = ||w||_2`` is exact (``lipschitz_is_exact = True``).

    Examples
    --------
    >>> g = LinearReadout([0, 1, 1, 1])
    >>> g.barron_norm, g.lipschitz
    (6, sqrt(3))
    """

    weights: Any
    bias: Any = 0
    weights_f: np.ndarray = field(init=False, repr=False, compare=False)
    bias_f: float = field(init=False, repr=False, compare=False)

    kind = "linear"

    def __post_init__(self) -> None:
        w = _exact_vector("weights", self.weights)
        if len(w) < 1:
            raise ValueError("weights must hold at least one number (n_in >= 1), got none")
        c = exact_rational("bias", self.bias)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "bias", c)
        object.__setattr__(self, "weights_f", _frozen_array([to_float(v) for v in w]))
        object.__setattr__(self, "bias_f", to_float(c))

    @property
    def n_in(self) -> int:
        """Number of inputs of the readout."""
        return len(self.weights)

    @property
    def barron_norm(self) -> sympy.Rational:
        """Barron norm bound ``2 sum |w_i| + |b|`` (exact), for the FFN error of Thm 3.1."""
        return 2 * sympy.Add(*[abs(v) for v in self.weights]) + abs(self.bias)

    @property
    def lipschitz(self) -> sympy.Expr:
        """Exact Lipschitz constant ``||w||_2``."""
        return sympy.sqrt(sympy.Add(*[v * v for v in self.weights]))

    lipschitz_is_exact = True

    def _evaluate_rows(self, z: np.ndarray) -> np.ndarray:
        return z @ self.weights_f + self.bias_f

    def evaluate_mp(self, z: Sequence[Any], dps: int) -> mpmath.mpf:
        """``f(z)`` for one point in mpmath at ``dps`` digits."""
        z = _mp_point(z, self.n_in, dps)
        with mpmath.workdps(dps):
            return mpmath.fsum([to_mpf(w) * x for w, x in zip(self.weights, z)]) + to_mpf(self.bias)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "weights": [rational_to_str(v) for v in self.weights],
                "bias": rational_to_str(self.bias)}


@dataclass(frozen=True)
class ProductReadout(Readout):
    """``f(z) = z_1 z_2 ... z_n`` on the cube ``[-r, r]^n`` (sparse Boolean functions, Sec. 3.1
    example (I), Sec. 4.1 example (I)).

    Parameters
    ----------
    n_in : int
        Number of factors ``n >= 1``.
    radius : number, optional
        ``r > 0``; the norms hold on ``[-r, r]^n`` (default 1: tokens with
        ``||x_t||_2 <= 1``, the paper's assumption, give readout inputs in ``[-1, 1]^n``).

    Notes
    -----
    Lipschitz (exact on the cube, ``lipschitz_is_exact``): ``sqrt(n) r^{n-1}``, the
    maximum of ``||grad f||_2`` (attained at the corners; the cube is convex).

    Barron upper bound on the cube: ``2 n^n r^{n-1} (n + (n-1) r) / n!``.  Derivation:
    the polarization identity ``z_1...z_n = (2^n n!)^{-1} sum_{eps in {+-1}^n}
    (prod eps_j) (eps . z)^n`` and, for ``s = eps . z in [-nr, nr]`` and ``n >= 2``,
    Taylor's formula with integral remainder at 0,
    ``s^n = int_0^{nr} n(n-1) u^{n-2} [relu(s - u) + (-1)^n relu(-s - u)] du``,
    whose Barron cost with ``||b||_1 = ||eps||_1 = n`` and ``|c| = u`` is
    ``2 int_0^{nr} n(n-1) u^{n-2} (n + u) du = 2 n^n r^{n-1} (n + (n-1) r)``.  For
    ``n = 1`` the bound is 2, that of a linear function.  It is an upper bound, not
    the infimum (for ``n = 2, r = 1`` it gives 12).

    Examples
    --------
    >>> p = ProductReadout(3)
    >>> p.barron_norm, p.lipschitz, float(p.evaluate([1.0, -1.0, -1.0]))
    (45, sqrt(3), 1.0)
    """

    n_in: int
    radius: Any = 1

    kind = "product"
    lipschitz_is_exact = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_in", require_int("n_in", self.n_in, minimum=1))
        r = exact_rational("radius", self.radius)
        if not r > 0:
            raise ValueError(f"radius must be > 0, got {short_repr(self.radius)}")
        object.__setattr__(self, "radius", r)

    @property
    def domain_radius(self) -> sympy.Rational:
        """Radius of the input box on which the bounds hold."""
        return self.radius

    @property
    def barron_norm(self) -> sympy.Rational:
        """Barron norm bound of the product on its box (exact)."""
        n, r = self.n_in, self.radius
        return 2 * sympy.Integer(n) ** n * r ** (n - 1) * (n + (n - 1) * r) / sympy.factorial(n)

    @property
    def lipschitz(self) -> sympy.Expr:
        """Lipschitz constant ``sqrt(n) r^(n-1)`` on the box of radius ``r`` (exact)."""
        n = self.n_in
        return sympy.sqrt(n) * self.radius ** (n - 1)

    def _evaluate_rows(self, z: np.ndarray) -> np.ndarray:
        return np.prod(z, axis=-1)

    def evaluate_mp(self, z: Sequence[Any], dps: int) -> mpmath.mpf:
        """``f(z)`` for one point in mpmath at ``dps`` digits."""
        z = _mp_point(z, self.n_in, dps)
        with mpmath.workdps(dps):
            return mpmath.fprod(z)

    def to_dict(self) -> dict:
        """The JSON description (model file format)."""
        return {"kind": self.kind, "n_in": self.n_in, "radius": rational_to_str(self.radius)}


@dataclass(frozen=True, eq=False)
class CallableReadout(Readout):
    """A user function ``fn`` with **declared** norms (``norms_are_declared = True``).

    Parameters
    ----------
    fn : callable
        Called with a float64 array of shape ``(K, n_in)``; must return ``K`` finite
        numbers (``vectorized=True``), or called with one point of shape ``(n_in,)`` at
        a time and must return one number (``vectorized=False``).
    n_in : int
    barron_norm, lipschitz : positive finite numbers
        Declared upper bounds on ``||f||_B`` and ``||f||_Lip``.  They are validated
        (positive, finite) but **not checked** against ``fn``.
    vectorized : bool
        How ``fn`` is called (see ``fn``).

    Notes
    -----
    A callable readout cannot be written to JSON: ``to_dict`` raises ``TypeError``.
    """

    fn: Callable[[np.ndarray], Any]
    n_in: int
    barron_norm: Any
    lipschitz: Any
    vectorized: bool = True

    kind = "callable"
    norms_are_declared = True
    lipschitz_is_exact = False

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise TypeError(f"fn must be callable, got {short_repr(self.fn)}")
        object.__setattr__(self, "n_in", require_int("n_in", self.n_in, minimum=1))
        object.__setattr__(self, "barron_norm", _positive_declared("barron_norm", self.barron_norm))
        object.__setattr__(self, "lipschitz", _positive_declared("lipschitz", self.lipschitz))
        if not isinstance(self.vectorized, bool):
            raise TypeError(f"vectorized must be True or False, got {short_repr(self.vectorized)}")

    def _evaluate_rows(self, z: np.ndarray) -> np.ndarray:
        if self.vectorized:
            out = np.asarray(self.fn(z.copy()), dtype=float)
        else:
            out = np.array([float(self.fn(row.copy())) for row in z], dtype=float)
        if out.shape != (z.shape[0],):
            raise ValueError(f"fn returned shape {out.shape} for {z.shape[0]} points of size "
                             f"{self.n_in}; expected ({z.shape[0]},)")
        if not np.all(np.isfinite(out)):
            raise ValueError("fn returned NaN or inf")
        return out

    def to_dict(self) -> dict:
        raise TypeError("a CallableReadout holds Python code and cannot be written to JSON; "
                        "use ReluSumReadout, LinearReadout or ProductReadout to record a target")


def _mp_point(z: Sequence[Any], n: int, dps: int) -> list:
    dps = require_int("dps", dps, minimum=1)
    items = list(z)
    if len(items) != n:
        raise ValueError(f"z must have {n} coordinates, got {len(items)}")
    with mpmath.workdps(dps):
        out = []
        for i, v in enumerate(items):
            if isinstance(v, mpmath.mpf):
                out.append(+v)
            else:
                out.append(to_mpf(exact_rational(f"z[{i}]", v)))
        return out


def readout_from_dict(data: Mapping[str, Any]) -> Readout:
    """Rebuild a readout from :meth:`Readout.to_dict` output; numbers are parsed exactly
    (:func:`rational_from_str`), nothing is evaluated."""
    if not isinstance(data, Mapping) or "kind" not in data:
        raise ValueError(f"readout must be an object with a 'kind' field, got {short_repr(data)}")
    kind = data["kind"]
    fields = {"relu_sum": {"kind", "outer", "inner", "bias"},
              "linear": {"kind", "weights", "bias"},
              "product": {"kind", "n_in", "radius"}}
    if kind not in fields:
        raise ValueError(f"readout kind must be one of 'relu_sum', 'linear', 'product'; got "
                         f"{short_repr(kind)} (callable readouts cannot be loaded)")
    if set(data) != fields[kind]:
        raise ValueError(f"a {kind} readout needs exactly the fields {sorted(fields[kind])}, "
                         f"got {sorted(data)}")

    def vec(name: str, v: Any) -> list:
        if not isinstance(v, list):
            raise TypeError(f"readout.{name} must be a list of number strings, got {short_repr(v)}")
        return [rational_from_str(f"readout.{name}[{i}]", x) for i, x in enumerate(v)]

    if kind == "relu_sum":
        inner = data["inner"]
        if not isinstance(inner, list):
            raise TypeError(f"readout.inner must be a list of lists, got {short_repr(inner)}")
        return ReluSumReadout(vec("outer", data["outer"]), [vec(f"inner[{i}]", r) for i, r in enumerate(inner)],
                              vec("bias", data["bias"]))
    if kind == "linear":
        return LinearReadout(vec("weights", data["weights"]), rational_from_str("readout.bias", data["bias"]))
    return ProductReadout(require_int("readout.n_in", data["n_in"], minimum=1),
                          rational_from_str("readout.radius", data["radius"]))
