"""The kernel ``P(t) = w(t) Q(u(t))`` of Lemma F.1 (lin-RPE) or F.4 (log-RPE) for one lag ``T``.

Wang & E 2024, App. F: ``P`` is ``H`` exponentials ``e^{-beta_k t}`` or powers ``t^{-beta_k}``, i.e.
``H`` DP-free heads.  :class:`DeltaKernel` holds the stable Chebyshev form of ``Q`` (primary data),
the rigorous bound of its coefficients, the realised head weights ``a_k`` (made on demand,
:mod:`tfapprox.constructions.realisation`), evaluation in float64 and mpmath, and the kernel as a
one-layer Transformer.  Everything that differs between lin and log is asked of the kernel's
family (:mod:`tfapprox.theory.families`).  The constructor is
:func:`tfapprox.constructions.delta_kernels.delta_kernel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
from tfapprox.theory.bounds import BumpPlacement, bump_placement
from tfapprox.theory.families import KernelFamily, kernel_family
from tfapprox.theory.numerics.chebyshev import clenshaw
from tfapprox.theory.validation import require_int, short_repr

from .realisation import decimal_rational, realise

__all__ = ["DeltaKernel", "as_lags"]


def as_lags(s: Any, name: str = "s") -> tuple[np.ndarray, bool]:
    """``s`` as an int64 array of lags ``>= 0`` and whether it was a scalar (``TypeError``/``ValueError`` naming ``name``).

    >>> as_lags([0, 2])
    (array([0, 2]), False)
    """
    arr = np.asarray(s)
    scalar = arr.ndim == 0
    if arr.size == 0:
        return np.zeros(arr.shape, dtype=np.int64), scalar
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == object):
        raise TypeError(f"{name} must hold integer lags, got {short_repr(s)}")
    if arr.dtype == object:
        flat = [require_int(name, v, minimum=0) for v in arr.reshape(-1)]
        arr = np.array(flat, dtype=np.int64).reshape(arr.shape)
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold lags >= 0, got minimum {int(arr.min())}")
    return arr, scalar


@dataclass(frozen=True, repr=False)
class DeltaKernel:
    """The kernel ``P(t) = w(t) Q(u(t))`` of Lemma F.1 (lin) or F.4 (log) for one lag ``T``.

    Attributes
    ----------
    rpe : str
        ``"lin"`` (``P(t) = sum_k a_k e^{-beta_k t}``, ``t in N``) or ``"log"``
        (``P(t) = sum_k a_k t^{-beta_k}``, ``t in N_+``).
    lag : int
        ``T``: the position of the delta.
    num_terms : int
        ``H``: number of terms (heads); ``Q`` has degree ``H - 1``.
    alpha, gamma : sympy.Rational
        Lemma parameters (``u = e^{-alpha t}`` or ``t^{-alpha}``; weight decay ``gamma``).
    exponents : tuple of sympy.Rational
        ``beta_k = gamma + alpha k`` (lin) or ``1 + gamma + alpha k`` (log), ``k = 0..H-1``: the
        RPE slopes ``p^{(h)}`` of the heads.
    coefficients : tuple of mpmath.mpf
        The realised ``a_k`` (the heads' weights before the softmax normaliser), stored with
        at least ``coefficient_dps`` significant digits.  Computed on first access (then
        cached) from the Chebyshev coefficients: the construction's primary data is the
        stable basis, and ``H`` big numbers of about ``0.75 H`` digits each are only made when a
        model is written or run (:func:`~tfapprox.constructions.realisation.realise`).
    coefficient_dps : int
        Decimal digits carried by ``coefficients`` (computed with them).  Rounding every
        ``a_k`` to this many significant digits moves the kernel by at most
        ``coefficient_error_bound`` in sup norm over ``u``.
    chebyshev_coefficients : tuple of mpmath.mpf
        The stable basis: ``Q(u) = sum_j c_j T_j(2u - 1)`` (exact binary numbers; the
        realised ``a_k`` are their exact monomial conversion, rounded once).
    nodes : str
        ``"chebyshev2"`` or ``"chebyshev1"``.
    coefficient_digits : int
        Requested accuracy: ``coefficient_error_bound <= 10^{-coefficient_digits} sup Psi_T / 2``.
    coefficient_error_bound : mpmath.mpf
        Rigorous bound, valid for every ``u in [0, 1]``, of ``|Q_exact(u) - Q_cheb(u)|`` and
        ``|Q_exact(u) - sum_k a_k u^k|`` where ``Q_exact`` is the exact Chebyshev interpolant of
        ``Psi_T`` and ``Q_cheb`` uses the stored ``chebyshev_coefficients``.
    working_precision : int
        Bits of the fixed-point computation of the ``c_j``: ``c_j = C_j 2^{-p}``.
    """

    rpe: str
    lag: int
    num_terms: int
    alpha: sympy.Rational
    gamma: sympy.Rational
    exponents: tuple[sympy.Rational, ...]
    # the realised a_k and their digits when given eagerly; None: made from the stable basis on demand
    _coefficients: tuple[mpmath.mpf, ...] | None = field(compare=False)
    _coefficient_dps: int | None = field(compare=False)
    chebyshev_coefficients: tuple[mpmath.mpf, ...]
    nodes: str
    coefficient_digits: int
    coefficient_error_bound: mpmath.mpf
    working_precision: int

    def __repr__(self) -> str:
        return (f"DeltaKernel(rpe={self.rpe!r}, lag={self.lag}, num_terms={self.num_terms}, "
                f"alpha={self.alpha}, gamma={self.gamma}, nodes={self.nodes!r}, "
                f"coefficient_dps={self.coefficient_dps})")

    def _repr_latex_(self) -> str:
        """Jupyter display of the kernel as a formula: ``P(t) = sum_k a_k e^{-beta_k t}`` (lin) or
        ``sum_k a_k t^{-beta_k}`` (log) with the first and last terms written out (4 digits)."""
        def term(k: int) -> str:
            a = self.coefficients[k]
            beta = sympy.latex(self.exponents[k])
            base = self.family.term_latex.replace(r"\beta", beta)
            mant, _, exp = mpmath.nstr(abs(a), 4, min_fixed=-3, max_fixed=4).partition("e")
            num = mant + (rf"\cdot 10^{{{int(exp)}}}" if exp else "")
            return ("-" if a < 0 else "+") + rf" {num}\,{base}"

        H = self.num_terms
        shown = [term(k) for k in range(min(H, 2))]
        if H > 3:
            shown.append(r"+ \cdots")
        if H > 2:
            shown.append(term(H - 1))
        body = " ".join(shown).lstrip("+ ")
        kind = "a_k " + self.family.term_latex.replace(r"\beta", r"\beta_k")
        return (rf"$P_{{{self.lag}}}(t) = \sum_{{k=1}}^{{{H}}} {kind} = {body}$"
                rf" (Lemma {self.lemma}, $\alpha = {sympy.latex(self.alpha)}$, $\gamma = {sympy.latex(self.gamma)}$)")

    # ----- realised coefficients (lazy) -------------------------------------------------

    def _realised(self) -> tuple[tuple[mpmath.mpf, ...], int]:
        if self._coefficients is not None:
            return self._coefficients, int(self._coefficient_dps)
        cached = self.__dict__.get("_realised_cache")
        if cached is None:
            cached = realise(self)
            object.__setattr__(self, "_realised_cache", cached)  # frozen dataclass: cache only
        return cached

    @property
    def coefficients(self) -> tuple[mpmath.mpf, ...]:
        """The realised ``a_k`` (see the class docstring; computed on first access, then cached)."""
        return self._realised()[0]

    @property
    def coefficient_dps(self) -> int:
        """Decimal digits carried by :attr:`coefficients` (computed with them)."""
        return self._realised()[1]

    @property
    def coefficients_realised(self) -> bool:
        """Whether :attr:`coefficients` exist already (reading them costs nothing more)."""
        return self._coefficients is not None or "_realised_cache" in self.__dict__

    def transformer_spec(self) -> Any:
        """The realised kernel as a one-layer Transformer: ``H`` DP-free heads, no softmax denominator.

        Head ``k`` has slope ``p = beta_k`` and value weight ``a_k`` rounded to ``coefficient_dps``
        significant decimals (an exact decimal, as in the Theorem 3.1 model files), ``W_O = 1``,
        normalization-free attention (Sec. 4) without residual, embedding ``1``: the output at
        time ``t`` is ``sum_s P(s) x_{t-s}`` with the realised ``P`` (Lemma F.1: ``sum_k a_k e^{-beta_k s}``,
        Lemma F.4: ``sum_k a_k s^{-beta_k}``).  Every weight is an exact rational, so
        :meth:`tfapprox.verify.model.Model.save` writes it without any lowering.  Realises the
        coefficients (:attr:`coefficients`) if they are not yet.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
        >>> spec = lemma_f1_kernel(3, 8).transformer_spec()
        >>> len(spec.blocks[0].attention.heads), spec.metadata["lemma"]
        (8, 'F.1')
        """
        dps = self.coefficient_dps
        heads = tuple(AttentionHead([[decimal_rational(a, dps)]], beta)
                      for a, beta in zip(self.coefficients, self.exponents))
        layer = AttentionLayer(heads, [[1]], self.family.rpe(),
                               normalized=False, residual=False)
        metadata = {
            "construction": "delta-kernel",
            "paper": f"Wang & E 2024, Lemma {self.lemma} (App. F)",
            "lemma": self.lemma,
            "rpe": self.rpe,
            "lag": self.lag,
            "heads": self.num_terms,
            "alpha": str(self.alpha),
            "gamma": str(self.gamma),
            "nodes": self.nodes,
            "coefficient_digits": self.coefficient_digits,
            "precision_digits": dps,
        }
        return TransformerSpec([[1]], [[0]], (Block(layer, None),), "padded", metadata)

    # ----- derived data ---------------------------------------------------------------

    @property
    def placement(self) -> BumpPlacement:
        """The bump ``(mu_T, sigma_T, V_T)`` (exact sympy numbers)."""
        return bump_placement(self.rpe, self.lag, alpha=self.alpha, gamma=self.gamma)

    @property
    def family(self) -> KernelFamily:
        """The kernel family (:mod:`tfapprox.theory.families`) of :attr:`rpe`: ``LIN`` or ``LOG``."""
        return kernel_family(self.rpe)

    @property
    def lemma(self) -> str:
        """The family's delta lemma: ``"F.1"`` (lin) or ``"F.4"`` (log)."""
        return self.family.delta_lemma

    @property
    def coefficient_l1(self) -> mpmath.mpf:
        """``sum_k |a_k|`` (the l1 norm of the realised head weights)."""
        with mpmath.workdps(30):
            return mpmath.fsum(abs(a) for a in self.coefficients)

    @property
    def max_abs_coefficient(self) -> mpmath.mpf:
        """``max_k |a_k|``."""
        return max(abs(a) for a in self.coefficients)

    @property
    def chebyshev_l1(self) -> mpmath.mpf:
        """``sum_j |c_j|`` (bounds ``sup_{[0,1]} |Q|``)."""
        with mpmath.workdps(30):
            return mpmath.fsum(abs(c) for c in self.chebyshev_coefficients)

    def digits_needed(self, error: Any, *, guard: int = 3) -> int:
        """Decimal digits for ``sum_k a_k e^{-beta_k s}`` (or ``s^{-beta_k}``) to be accurate to ``error``.

        ``log10(sum_k |a_k| * max_s basis) - log10(error) + guard``; the basis functions are
        at most ``1`` (at ``s = 0`` for lin, ``s = 1`` for log).  Arithmetic at fewer digits
        can lose everything to cancellation (Differences from the paper, D18).  Never below 15.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f1_kernel
        >>> lemma_f1_kernel(1, 64).digits_needed(1e-20) > 60
        True
        """
        err = mpmath.mpf(error) if not isinstance(error, mpmath.mpf) else error
        if not (mpmath.isfinite(err) and err > 0):
            raise ValueError(f"error must be a finite positive number, got {short_repr(error)}")
        guard = require_int("guard", guard, minimum=0)
        with mpmath.workdps(30):
            l1 = self.coefficient_l1
            if l1 == 0:  # the zero kernel: any precision computes it exactly
                return 15
            return max(15, math.ceil(float(mpmath.log10(l1) - mpmath.log10(err))) + guard)

    # ----- evaluation -------------------------------------------------------------------

    def _float_params(self) -> tuple[float, float]:
        return float(self.alpha), float(self.gamma)

    def evaluate(self, s: Any) -> Any:
        """``P(s)`` in float64 at integer lags ``s >= 0``, in the stable basis (Clenshaw on ``c_j``).

        For log-RPE ``P(0) = 0`` (``phi_log(0) = -inf``: the current token gets no weight).
        Returns a float for scalar input, else an array of the input's shape.

        Examples
        --------
        >>> from tfapprox.constructions.delta_kernels import lemma_f4_kernel
        >>> k = lemma_f4_kernel(1, 16)
        >>> print(k.evaluate([0, 1, 2]).round(4))
        [0.     1.     0.1194]
        """
        lags, scalar = as_lags(s)
        a, g = self._float_params()
        c = np.array([float(v) for v in self.chebyshev_coefficients])
        fam = self.family
        t = lags.astype(float)
        valid = t >= fam.first_lag  # below the first lag (log: s = 0) the kernel is 0
        xt = fam.coordinate_np(np.where(valid, t, float(fam.first_lag)))
        w = np.exp(-fam.weight_rate(g) * xt)
        x = 1 + 2 * np.expm1(-a * xt)
        out = np.where(valid, w * clenshaw(c, x), 0.0)
        return float(out) if scalar else out

    def _lattice_mp(self, s: int) -> tuple[mpmath.mpf, mpmath.mpf]:
        """``(u(s), w(s))`` at the current mpmath precision (``s >= first_lag``)."""
        a = mpmath.mpf(self.alpha.p) / self.alpha.q
        g = mpmath.mpf(self.gamma.p) / self.gamma.q
        fam = self.family
        xs = fam.coordinate_mp(s)
        return mpmath.exp(-a * xs), mpmath.exp(-fam.weight_rate(g) * xs)

    def _each_lag_mp(self, s: Any, dps: Any, q_of_u: Any) -> Any:
        """``w(s) q_of_u(u(s))`` at ``dps`` digits for each lag (``0`` below the family's first lag: ``s = 0`` for log-RPE)."""
        dps = require_int("dps", dps, minimum=15)
        lags, scalar = as_lags(s)
        first = self.family.first_lag
        vals = []
        with mpmath.workdps(dps):
            for v in lags.reshape(-1).tolist():
                if v < first:
                    vals.append(mpmath.mpf(0))
                    continue
                u, w = self._lattice_mp(int(v))
                vals.append(+(w * q_of_u(u)))
        return vals[0] if scalar else vals

    def evaluate_stable_mp(self, s: Any, dps: Any) -> Any:
        """``P(s)`` in mpmath at ``dps`` digits from the Chebyshev coefficients (Clenshaw).

        Returns an mpf for a scalar lag, else a list of mpf (flattened input order).
        """
        c = self.chebyshev_coefficients

        def q(u: mpmath.mpf) -> mpmath.mpf:
            x = 2 * u - 1
            b1 = b2 = mpmath.mpf(0)
            for cj in c[:0:-1]:
                b1, b2 = cj + 2 * x * b1 - b2, b1
            return c[0] + x * b1 - b2

        return self._each_lag_mp(s, dps, q)

    def evaluate_realised(self, s: Any, dps: Any) -> Any:
        """``sum_k a_k e^{-beta_k s}`` (lin) or ``sum_k a_k s^{-beta_k}`` (log) in mpmath at ``dps`` digits.

        This is what the Transformer's weights compute: the realised coefficients ``a_k``
        times the exact basis values, summed (in Horner form ``w(s) sum_k a_k u(s)^k``).  Use
        ``dps >= digits_needed(error)``; fewer digits lose the result to cancellation.
        Returns an mpf for a scalar lag, else a list of mpf.
        """
        def q(u: mpmath.mpf) -> mpmath.mpf:
            acc = mpmath.mpf(0)
            for ak in reversed(self.coefficients):
                acc = acc * u + ak
            return acc

        return self._each_lag_mp(s, dps, q)
