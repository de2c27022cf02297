"""The paper's experiments H.2.2-H.2.5 by construction, without training (App. H).

Targets (:func:`tfapprox.theory.targets.paper_experiment`): windows of ``L = 1000`` tokens in
``{+1,-1}``, output read at the last token, memories ``x_48, x_56, x_99`` at lags 952, 944, 901
(our inference, documented in :mod:`tfapprox.theory.targets`):

* H.2.2 (and H.2.5, same target): ``sum_{k=1}^{64} relu(<w_k, (x_48, x_56, x_99)>)``;
* H.2.3: ``sum_{k=1}^{64} relu(w_k x_99)``;
* H.2.4: ``x_48 + x_56 + x_99``.

**The construction, adapted to finite sequences.**  Theorem 3.1's one-layer DP-free Transformer
(App. B.1: head groups realising the Lemma F.1 (lin) / F.4 (log) kernels, allocation
``H_k ∝ e^{alpha T_k}`` / ``T_k^{1+alpha}``, residual, readout FFN) with one change: the softmax
normalises over the tokens that exist (``past="none"``), so head ``h`` gets
``W_V = a_h Z_L(beta_h)`` with the *finite* normaliser ``Z_L(beta) = sum_{s=0}^{L-1} e^{-beta s}``
(lin) or ``sum_{s=1}^{L-1} s^{-beta}`` (log) instead of the infinite one.  At the last token the
group's output is then exactly ``z_k = sum_{s=0}^{L-1} P_k(s) x_{L-1-s}``
(:func:`tfapprox.constructions.finite_window.build_finite_thm3_1` builds the weights; the tests run them).  The FFN is the readout:
exact when ``m >= 64`` (the readout's own neurons), a seeded Maurey sampling of ``m`` neurons
otherwise (:func:`tfapprox.constructions.thm3_1.readout_ffn`); for the linear readout of H.2.4 an
exact two-neuron FFN ``relu(w.z + C) - relu(C)`` valid on every reachable ``z`` (``C`` from the
kernels' l1 norms), so every ``m >= 2`` is exact.

**What is computed, and how exact it is** (:func:`tfapprox.verify.experiment_cells.experiment_cell`).  Let ``R = {0, T_1, ..., T_M}``
be the lags the target reads and ``O`` the other ``L - M - 1`` lags.  Then
``z_k = z_k^R(x_R) + r_k(x_O)`` with ``r_k = sum_{s in O} P_k(s) x_{L-1-s}``.

* Linear readout (H.2.4): the error ``sum_s c(s) x_{L-1-s}`` with ``c = sum_k w_k (P_k - 1{T_k})`` is
  linear, so the worst case over ``{+-1}^L`` is *exactly* ``sum_s |c(s)|`` and the mean square over
  uniform signs *exactly* ``sum_s c(s)^2`` (double-double kernel values with rigorous per-lag
  rounding bounds).
* ReLU readouts: ``G(x_R) = f(z*) - F(z^R)`` is enumerated exactly over the ``2^{M+1}``
  assignments of ``x_R``.  The rest moves ``F`` by at most
  ``Delta = sum_k |a_k| sum_j |b_kj| sum_{s in O} |P_j(s)|``.  Worst case: ``max |G| + Delta``
  (analytic upper bound; also the paper's ``Lip(f) sqrt(sum_k E_k^2) + E_FFN``, the smaller is
  reported) and the worst input found (search over sign patterns of the kernels on ``O``, a
  lower bound); both coincide when ``Delta = 0``, e.g. when every kernel is identically zero.
  Mean square: Minkowski gives ``|sqrt(MSE) - sqrt(E G^2)| <= sum_k |a_k| sqrt(b_k^T C b_k)`` with
  ``C_jl = sum_{s in O} P_j(s) P_l(s)`` (exact second moments of uniform signs): a rigorous
  enclosure, exact when ``Delta = 0``.  No Monte Carlo.

**Why the construction fails at lag ~900.**  The Lemma F.1 bump sits at ``u = e^{-alpha T}``
(``1.2e-4`` for ``T = 901``) with half-width ``sigma = e^{-alpha T}(1 - e^{-alpha})`` (``1.2e-6``);
the degree-``(H-1)`` Chebyshev interpolant sees the bump only if a node falls inside it.  Near
``u = 0`` the nodes are ``cos^2(j pi / 2(H-1)) ~ (j pi / 2(H-1))^2``: the ``j``-th node sweeps past the bump
only in a narrow window of ``H`` near ``142 j + 1`` (first at ``H = 143``; the windows merge only for ``H``
in the thousands).  Outside them the interpolant is the zero polynomial and the attention error is
*exactly* 1 per memory (:func:`tfapprox.verify.finite_kernels.first_node_heads`); inside them the interpolant of a bump of height
``e^{9.01}`` pinned at one node is far worse (error 5734 at ``H = 143``).  The same holds for log-RPE
(bump at ``901^{-0.01} = 0.934``, half-width ``1e-5``; first node at ``H = 322``).

**Where the code lives** (this module gathers the public names):

* :mod:`tfapprox.constructions.finite_window`: the construction (:func:`build_finite_thm3_1`, :func:`allocation`);
* :mod:`tfapprox.verify.finite_kernels`: the kernels on the window (:func:`finite_kernel`,
  :func:`interpolant_on_window`, :func:`first_node_heads`);
* :mod:`tfapprox.verify.experiment_cells`: one ``(H, m)`` cell (:func:`experiment_cell`, :func:`width_needed`);
* :mod:`tfapprox.verify.heads_needed`: heads needed by bound and by measurement, best-found window kernels;
* :mod:`tfapprox.verify.experiment_trends`: the paper's trends and the verdicts;
* :mod:`tfapprox.verify.affine_lower`: certified lower bounds for models affine in the attention output.
"""

from __future__ import annotations

from tfapprox.constructions.finite_window import REALISED_HEADS_MAX, allocation, build_finite_thm3_1

from .affine_lower import AFFINE_LOWER_INDEX, affine_mse_lower_bound
from .experiment_cells import EXPERIMENTS, experiment_cell, width_needed
from .experiment_trends import PAPER_TRENDS, trend_verdicts
from .finite_kernels import FiniteKernel, finite_kernel, first_node_heads, interpolant_on_window
from .heads_needed import finite_best_found, heads_needed_bound, heads_needed_measured

__all__ = ["EXPERIMENTS", "PAPER_TRENDS", "REALISED_HEADS_MAX", "FiniteKernel", "finite_kernel",
           "interpolant_on_window", "first_node_heads", "allocation", "experiment_cell", "heads_needed_bound",
           "heads_needed_measured", "width_needed", "finite_best_found",
           "build_finite_thm3_1", "trend_verdicts", "AFFINE_LOWER_INDEX", "affine_mse_lower_bound"]
