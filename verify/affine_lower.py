"""Certified lower bounds for every model affine in the attention output (experiments H.2.3, H.2.4; App. H).

Docs: "What is necessary?" in docs/experiments.md.  A one-layer model with ``H`` DP-free heads whose
output is affine in the attention output and the residual computes ``a_0 + sum_s g(s) x_{L-1-s}``
with ``g`` a sum of ``H`` of the family's terms; over uniform signs the Walsh-Fourier expansion of the
target and the Eckart-Young theorem on a Hankel section
(:func:`tfapprox.theory.lower_bounds.integer_section_sigmas`) bound its mean square from below
(:func:`affine_mse_lower_bound`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tfapprox.theory.families import kernel_family
from tfapprox.theory.lower_bounds import integer_section_sigmas, lag_multiplicity
from tfapprox.theory.targets import paper_experiment
from tfapprox.theory.validation import require_choice, require_int

from .experiment_cells import sign_assignments

__all__ = ["AFFINE_LOWER_INDEX", "affine_mse_lower_bound"]


#: Hankel index set of :func:`affine_mse_lower_bound`: lags ``i + j`` in ``802..998`` (inside the window,
#: away from lag 0 where the residual acts), containing the anti-diagonals of the lags 901, 944, 952.
AFFINE_LOWER_INDEX: tuple[int, ...] = tuple(range(401, 500))


def affine_mse_lower_bound(name: str, heads: int, *, rpe: str = "lin", seed: int = 0) -> dict[str, Any]:
    """Certified lower bound on the mean-square error (uniform signs, window ``L = 1000``, ``past="none"``) of
    **every** one-layer model with ``heads`` DP-free heads of ``rpe`` whose output is affine in the attention
    output and the residual (any slopes, weights, readout), for the target of ``name`` (H.2.3 or H.2.4).

    Such a model computes ``y = a_0 + sum_s g(s) x_{L-1-s}`` with ``g(s) = sum_h c_h lambda_h^s`` (lin: at the
    last position a head weighs lag ``s`` by ``e^{-p s} / Z_L(p)``, any real ``p``; the normaliser goes into
    ``c_h``) plus a residual term at lag 0.  Over uniform signs (Walsh-Fourier)
    ``MSE = (E f - a_0)^2 + N + sum_s (f_hat(s) - g(s))^2`` with ``f_hat(s)`` the target's degree-1
    coefficients and ``N`` its energy of degree ``>= 2``.  On the section ``AFFINE_LOWER_INDEX`` (lags
    802..998, no lag 0) ``[g(i+j)]`` has rank ``<= H``, so by Eckart-Young
    ``sum_s (f_hat - g)^2 >= sum_{k > H} sigma_k([f_hat(i+j)])^2 / 99`` (each lag occurs at most 99 times),
    the singular values certified from the exact integer section
    (:func:`tfapprox.theory.lower_bounds.integer_section_sigmas`) scaled by the common coefficient.

    log-RPE: no bound (0 with the reason): the lags 901, 944, 952 have no geometric subsequence of lags
    inside ``1..999`` long enough for the rank argument.  Not covered at all: a nonlinear FFN decoding the
    attention output, dot-product heads, other RPE types.

    >>> r = affine_mse_lower_bound("H.2.4", 1)
    >>> r["mse_lower_bound"] > 1.9, r["nonlinear_energy"]
    (True, 0.0)
    """
    name = require_choice("name", name, ("H.2.3", "H.2.4"))
    H = require_int("heads", heads, minimum=1)
    family = kernel_family(rpe)
    key = (name, seed)
    if key not in _AFFINE_CACHE:
        ex = paper_experiment(name, seed=seed)
        target = ex.target
        R = [0] + list(target.lags)
        X = sign_assignments(len(R))
        f = np.asarray(target.readout.evaluate(X), dtype=float)
        coef = {lag: float(np.mean(f * X[:, j])) for j, lag in enumerate(R)}
        energy = float(np.mean(f * f)) - float(np.mean(f)) ** 2 - sum(v * v for v in coef.values())
        energy -= 1e-12 * float(np.mean(f * f))  # float64 rounding of the Walsh sums: keep the lower end
        nz = {lag: v for lag, v in coef.items() if lag != 0 and abs(v) > 1e-14 * max(1.0, abs(v))}
        scale = max(abs(v) for v in nz.values())
        if any(abs(abs(v) / scale - 1) > 1e-12 for v in nz.values()):
            raise ValueError(f"{name}: the degree-1 coefficients differ in size ({nz}); only a common size is supported")
        sgn = {lag: 1 if v > 0 else -1 for lag, v in nz.items()}
        sig = integer_section_sigmas(lambda t: sgn.get(t, 0), AFFINE_LOWER_INDEX)
        _AFFINE_CACHE[key] = (coef, max(energy, 0.0), scale, sig, lag_multiplicity(AFFINE_LOWER_INDEX))
    coef, energy, scale, sig, mult = _AFFINE_CACHE[key]
    variance = energy + sum(v * v for v in coef.values())
    out = {"experiment": name, "rpe": family.name, "H": H, "nonlinear_energy": energy, "target_variance": variance,
           "linear_coefficients": {str(k): v for k, v in coef.items()}}
    if not family.coordinate_is_affine():  # the family's terms are not geometric in the lag: no rank bound
        out.update(mse_lower_bound=energy * (1 - 1e-12), reason=f"{family.name}-RPE: no geometric subsequence of "
                   "the memory lags inside the window long enough for the rank bound; only the nonlinear energy N")
        return out
    tail = math.fsum(v * v for v in sig[H:])
    lb = (energy + scale * scale * tail / mult) * (1 - 1e-12)
    out.update(mse_lower_bound=lb, fraction_of_variance=lb / variance if variance > 0 else None,
               reason=f"Eckart-Young on the Hankel section of lags 802..998 ({len(AFFINE_LOWER_INDEX)} indices, "
                      f"rank <= H = {H}), plus the nonlinear energy N")
    return out


_AFFINE_CACHE: dict[tuple[str, int], Any] = {}
