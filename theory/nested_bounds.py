"""Explicit bounds of Theorem 4.4 and Proposition 4.5: nested memories (Wang & E 2024, App. D.1 - D.2).

The first ``K`` memories are read by ``K`` successive attention layers (their token errors add in
l2, estimate (E3)); the concurrent memories ``K+1..M`` share one layer (their bounds add, as in
Theorem 4.1).  Each memory's kernel is a Lemma F.2 / F.5 shifted kernel
(:func:`tfapprox.theory.theorem_bounds.lemma_f2_f5_bound`).  The proof's implicit head-count
condition ("when H is large enough") asks every nested memory location to survive the rounding
of its FFN; the tolerance is the kernel family's
``KernelFamily.memory_rounding_tolerance()``.
"""

from __future__ import annotations

from typing import Any, Sequence

import mpmath

from .bound_common import BOUND_DPS, DEFAULT_KERNEL_RATE, check_rate_index, round_up
from .families import kernel_family
from .paper_form import paper_form_growths
from .theorem_bounds import lemma_f2_f5_bound, summed_group_bounds
from .validation import require_int, require_positive_rational

__all__ = ["thm4_4_attention_bound", "thm4_4_paper_form", "thm4_4_head_condition", "thm4_4_min_heads_paper",
           "app_d2_head_ratio"]


def _nested_split(lags: Sequence[int], layers_K: Any) -> tuple[tuple[int, ...], int]:
    lags = tuple(require_int(f"max_lags[{i}]", T, minimum=1) for i, T in enumerate(lags))
    K = require_int("layers_K", layers_K, minimum=1, maximum=len(lags))
    return lags, K


def thm4_4_attention_bound(rpe: Any, max_lags: Sequence[int], heads_per_memory: Sequence[int], layers_K: Any,
                           rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                           gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """Explicit bound of ``E_Attn`` in Theorem 4.4 (App. D.1, (E3)) for the allocation used.

    ``sqrt( sum_{l <= K} B(T_l, H_l)^2 + (sum_{l > K} B(T_l, H_l))^2 )`` with ``B`` the Lemma F.2/F.5
    bound :func:`lemma_f2_f5_bound`: the first ``K`` memories sit in separate blocks (their token
    errors add in l2), the concurrent memories ``K+1..M`` share layer ``K+2`` (their bounds add, as in
    Thm 4.1; a memory with no head contributes 1).  Valid when the positions are exact (the
    head-count condition :func:`thm4_4_head_condition`).  Times ``Lip(f)`` plus ``E_FFN`` bounds
    the total error.

    >>> print(f"{float(thm4_4_attention_bound('lin', (2, 2), (512, 512), 2, 2)):.3e}")
    9.021e+01
    """
    family = kernel_family(rpe)
    lags, K = _nested_split(max_lags, layers_K)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    if len(heads) != len(lags):
        raise ValueError(f"heads_per_memory must have one entry per memory ({len(lags)}), got {len(heads)}")
    rate = check_rate_index(rate)
    with mpmath.workdps(BOUND_DPS):
        sq = mpmath.mpf(0)
        for T_, h in zip(lags[:K], heads[:K]):
            b = 1 if h == 0 else lemma_f2_f5_bound(family, T_, h, rate, alpha=alpha, gamma=gamma)
            sq += mpmath.mpf(b) ** 2
        if len(lags) > K:
            sq += summed_group_bounds(lemma_f2_f5_bound, family, lags[K:], heads[K:], rate, alpha, gamma) ** 2
        return round_up(mpmath.sqrt(sq))


def thm4_4_paper_form(rpe: Any, max_lags: Sequence[int], num_heads: Any, layers_K: Any, rate: Any, *,
                      alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """Theorem 4.4's expression with the explicit ``C(n)`` (:func:`paper_constant`):

    ``C(n)/H^n sqrt( sum_{l<=K} E(T_l)^2 + (sum_{l>K} E(T_l)^{1/(n+1)})^{2n+2} )``, with
    ``E(T) = e^{0.01 (n+1) T}`` (lin) / ``T^{1.01 (n+1)}`` (log) at the default ``alpha = gamma``.
    For ``K = M`` (Proposition 4.5) the second sum is empty.  Real-valued head split as in the proof.
    """
    lags, K = _nested_split(max_lags, layers_K)
    family = kernel_family(rpe)
    Hn = require_int("num_heads", num_heads, minimum=1)
    C, E, rate = paper_form_growths(family, lags, rate, alpha, gamma)
    with mpmath.workdps(BOUND_DPS):
        s = mpmath.fsum(e ** 2 for e in E[:K])
        if len(lags) > K:
            s += mpmath.fsum(e ** (mpmath.mpf(1) / (rate + 1)) for e in E[K:]) ** (2 * rate + 2)
        return round_up(C * mpmath.sqrt(s) / mpmath.mpf(Hn) ** rate)


def thm4_4_head_condition(rpe: Any, max_lags: Sequence[int], heads_per_memory: Sequence[int], layers_K: Any,
                          reads: Sequence[Sequence[int]], lipschitz: Sequence[Any], rate: Any, *,
                          alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> list[dict[str, Any]]:
    """The implicit head-count conditions of the proof of Theorem 4.4 ("hold when H is large enough").

    For each memory ``l`` whose ``g_l`` reads memory blocks ``J_l`` (``reads[l-1]``, 0 = ``x_t``):
    the token error it sees is at most ``err_l = sqrt(sum_{j in J_l} B(T_j, H_j)^2)`` ((E3), explicit
    Lemma F.2/F.5 bounds), and the proof asks ``Lip(g_l) err_l <= 1/4`` (lin) or ``<= 1/(8 T_l)``
    (log; Thm 4.4), the family's ``memory_rounding_tolerance(T_l)``.  Returns one dict per memory
    with ``token_error_bound``, ``lipschitz``, ``product``, ``threshold`` and ``met`` (memories
    reading ``x_t`` only: always met).

    >>> c = thm4_4_head_condition("lin", (2, 2), (512, 512), 2, [(0,), (1,)], [2, 2], 2)
    >>> tuple(r.get("met") for r in c)
    (True, False)
    """
    family = kernel_family(rpe)
    lags, K = _nested_split(max_lags, layers_K)
    heads = tuple(require_int(f"heads_per_memory[{i}]", h, minimum=0) for i, h in enumerate(heads_per_memory))
    rate = check_rate_index(rate)
    if len(reads) != len(lags) or len(lipschitz) != len(lags):
        raise ValueError(f"reads and lipschitz must have one entry per memory ({len(lags)})")
    out = []
    with mpmath.workdps(BOUND_DPS):
        B = [1 if h == 0 else lemma_f2_f5_bound(family, T_, h, rate, alpha=alpha, gamma=gamma)
             for T_, h in zip(lags, heads)]
        for l, (T_, r, lip) in enumerate(zip(lags, reads, lipschitz), start=1):
            mem = [j for j in r if j > 0]
            err = mpmath.sqrt(mpmath.fsum(mpmath.mpf(B[j - 1]) ** 2 for j in mem)) if mem else mpmath.mpf(0)
            tol = family.memory_rounding_tolerance(T_)
            thr = mpmath.mpf(int(tol.p)) / int(tol.q)
            prod = round_up(mpmath.mpf(lip) * err)
            out.append({"memory": l, "token_error_bound": float(round_up(err)), "lipschitz": float(lip),
                        "product": float(prod), "threshold": float(thr), "met": bool(prod <= thr)})
    return out


def thm4_4_min_heads_paper(rpe: Any, max_lags: Sequence[int], layers_K: Any, max_lipschitz: Any, rate: Any, *,
                           alpha: Any = DEFAULT_KERNEL_RATE, gamma: Any = DEFAULT_KERNEL_RATE) -> int:
    """Smallest ``H`` meeting the paper's head-count condition with the explicit ``C(n)``:

    ``C(n)/H^n sqrt(sum_{l <= K'} E(T_l)^2) <= 1 / (4 max Lip(g_l))`` (lin) or ``1/(4 max Lip(log g_l))``
    (log), ``K' = K`` if ``M > K`` and ``K - 1`` if ``M = K`` (Thm 4.4).  Returns 1 when the sum
    is empty (``K' = 0``).

    >>> thm4_4_min_heads_paper("lin", (2, 2), 2, 2, 3) > 1000
    True
    """
    lags, K = _nested_split(max_lags, layers_K)
    family = kernel_family(rpe)
    Kp = K if len(lags) > K else K - 1
    C, E, rate = paper_form_growths(family, lags[:Kp], rate, alpha, gamma)
    if Kp == 0:
        return 1
    with mpmath.workdps(BOUND_DPS):
        s = mpmath.sqrt(mpmath.fsum(e ** 2 for e in E))
        Hreal = (4 * mpmath.mpf(max_lipschitz) * C * s) ** (mpmath.mpf(1) / rate)
        return max(1, int(mpmath.ceil(Hreal * (1 - mpmath.mpf("1e-40")))))


def app_d2_head_ratio(rpe: Any, max_lags: Sequence[int], rate: Any, *, alpha: Any = DEFAULT_KERNEL_RATE,
                      gamma: Any = DEFAULT_KERNEL_RATE) -> mpmath.mpf:
    """App. D.2 (corrected reading, Differences from the paper, D8): ``H^{(M+1)}_need / H^{(2)}_need``.

    ``(H^{(M+1)}/H^{(2)})^{2n} = sum_i b_i^2 / (sum_i b_i)^2`` with ``b_i = E(T_i)``
    (``e^{0.01 (n+1) T_i}`` lin, ``T_i^{1.01 (n+1)}`` log): the 2-layer network needs
    ``(sum_i e^{0.01 T_i})^{n+1}``, the ``(M+1)``-layer one ``sqrt(sum_i e^{0.02 (n+1) T_i})``.

    >>> print(f"{float(app_d2_head_ratio('lin', (2, 2, 2), 1)):.4f}")
    0.5774
    """
    family = kernel_family(rpe)
    lags = tuple(require_int(f"max_lags[{i}]", T_, minimum=1) for i, T_ in enumerate(max_lags))
    rate = check_rate_index(rate)
    a = require_positive_rational("alpha", alpha)
    g = require_positive_rational("gamma", gamma)
    with mpmath.workdps(BOUND_DPS):
        am, gm = mpmath.mpf(a.p) / a.q, mpmath.mpf(g.p) / g.q
        b = [family.growth_mp(rate, am, gm, T_) for T_ in lags]
        return (mpmath.fsum(v ** 2 for v in b) / mpmath.fsum(b) ** 2) ** (mpmath.mpf(1) / (2 * rate))
