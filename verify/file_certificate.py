"""Does a model file reproduce its construction's certificate?  (issue 12)

A model file stores every rational weight exactly and every other weight (``a_h Z(beta_h)``
with ``Z = 1/(1 - e^{-beta})`` or ``zeta(beta)``, ``sqrt(beta)``, ``log 2``, ...) rounded to
``metadata["precision_digits"]`` significant digits (:mod:`tfapprox.theory.digits`).  The
model read back from the file is therefore *another* model, with exact rational weights
that differ from the construction's by the rounding.  :func:`certify_reloaded` proves an
enclosure of the reloaded model's worst-case error from the construction's certified
enclosure ``[lo, hi]`` and a rigorous bound ``P`` on how much the rounding can move the
realised output:

    ``sup_x |F_file(x) - F_construction(x)| <= P``, hence the reloaded model's worst-case
    error lies in ``[max(0, lo - P), hi + P]`` (triangle inequality).

How ``P`` is bounded (every step is an inequality on exact numbers, evaluated in mpmath
at the file's digits plus 40 guard digits, rounded outward by a relative ``1e-12``):

1. **Parameter deltas.**  Every parameter of the file is compared with the
   construction's: rational parameters must be equal (else ``ValueError``: the file is
   not this construction); for a non-rational one, ``delta = |file - exact|`` with
   ``exact`` evaluated by ``evalf`` at the working precision (its own error, below
   ``|exact| 10^{-(digits + 35)}``, is added).

2. **One-layer DP-free constructions** (Theorems 3.1 and 5.1): normalised DP-free heads
   over the padded past have non-negative attention weights of total mass exactly 1, so a
   value perturbation ``Delta W_V^h`` moves output coordinate ``i`` of the attention by at
   most ``dz_i = sum_h sum_j |(W_O Delta W_V^h)_ij| hb_j`` with
   ``hb_j = ||W_E[j,:]||_2 + |b_E[j]|`` bounding ``|h_j|`` at tokens of norm ``<= 1``.  The
   readout FFN (exact in the file) moves by at most ``sum_k |a_k| sum_i |b_ki| dz_i``.

3. **Adaptive constructions** (Theorem 4.1, Prop. 4.3, Theorem 4.4, Prop. 4.5):
   normalization-free heads ``sum_s W_V x_{t-s} e^{p phi(s) + l}`` whose logit ``l`` (or TMX
   shift) is read from an exactly rounded position coordinate ``g <= T_k``, so
   ``0 <= l <= l_max = p T_k`` (lin) or ``p log T_k`` (log).  The file's ``W_Q, W_K`` move
   ``l`` by a relative ``eta = e_Q + e_K + e_Q e_K`` (each has one nonzero entry), its
   ``W_V`` by ``Delta V``; the head's l1 mass (per unit token) moves by at most
   ``Z(p) e^{l_max} (|Delta V| e^{l_max eta} + |V| (e^{l_max eta} - 1))``.  Summed over a
   memory's heads and times the alphabet's largest ``|token|`` this is ``P_k``, the
   perturbation of memory block ``k``.  Positions stay *exactly* those of the
   construction when every rounding FFN keeps a positive slack:
   ``margin - accuracy - Lip r' - delta_FFN > 0`` (Thm 4.4; ``r'`` the read tokens' error
   ``sqrt(sum (E_j + P_j)^2)``, ``delta_FFN`` the file's FFN-weight perturbation at hidden
   states bounded by ``X_max``), resp. ``accuracy + delta_FFN < threshold`` (Thm 4.1,
   whose FFN 1 reads exact tokens), and the constant coordinate's ``log 2`` moves by less
   than ``log(5/4)``; otherwise the file is refused.  The readout FFN then moves by
   ``sum_k |a_k| sum_i |b_ki| P_i``.

What is proved: the enclosure returned is an enclosure of the reloaded model's
worst-case error over the construction's input class (tokens of norm ``<= 1`` for
Theorems 3.1/5.1; the target's alphabet with any padding token for 4.1/4.4), given the
construction's own certified enclosure.  ``relative_slack = P / hi`` is the price of the
file; :func:`certify_reloaded` refuses (``ValueError``) when it exceeds ``max_relative``
(default ``1e-15``).

Examples
--------
>>> from tfapprox.api import build_construction
>>> cons, model = build_construction("thm3.1", lags="1,5", heads=64)
>>> from tfapprox.verify.model_file import spec_from_dict, spec_to_dict
>>> cert = certify_reloaded(cons, spec_from_dict(spec_to_dict(model.spec)))
>>> cert.relative_slack < 1e-15 and cert.enclosure[1] >= cert.certified[1]
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from tfapprox.constructions.thm3_1 import Thm31Construction
from tfapprox.constructions.thm4_1 import Thm41Construction
from tfapprox.constructions.thm4_4 import Thm44Construction
from tfapprox.constructions.thm5_1 import Thm51Construction
from tfapprox.theory.architecture import TransformerSpec
from tfapprox.theory.digits import declared_digits, required_digits
from tfapprox.theory.families import kernel_family
from tfapprox.theory.validation import require_real

from .adaptive_error import measure_thm4_1, shifted_kernel_errors
from .essential_error import essential_l1_error
from .fixed_memory_error import measure_thm3_1
from .nested_error import measure_thm4_4, target_alphabet

__all__ = ["FileCertificate", "ConstructionNotCertified", "certify_reloaded", "construction_enclosure", "parameter_deltas"]

_OUT = 1 + 1e-12  # outward rounding of float results


class ConstructionNotCertified(ValueError):
    """The construction itself certifies no error at this size (a condition of its proof fails),
    so there is no certificate for a file to reproduce."""


@dataclass(frozen=True)
class FileCertificate:
    """The reloaded model's certified error (see the module docstring).

    ``certified``: the construction's enclosure ``(lo, hi)`` of its worst-case error;
    ``perturbation``: ``P``, a bound on ``sup |F_file - F_construction|``;
    ``enclosure``: ``(max(0, lo - P), hi + P)``, an enclosure of the reloaded model's error;
    ``lowered``: how many parameters differ from the construction's exact values;
    ``max_delta``: the largest such difference; ``max_weight``: the largest ``|weight|``.
    """

    construction: str
    certified: tuple[float, float]
    perturbation: float
    enclosure: tuple[float, float]
    lowered: int
    max_delta: float
    max_weight: float
    digits: int

    @property
    def relative_slack(self) -> float:
        """``P / hi`` (0 when ``P = 0``)."""
        hi = self.certified[1]
        if self.perturbation == 0:
            return 0.0
        return math.inf if hi == 0 else self.perturbation / hi


def _mp(v: Any) -> mpmath.mpf:
    if isinstance(v, sympy.Integer):
        return mpmath.mpf(int(v))
    if isinstance(v, sympy.Rational):
        return mpmath.mpf(int(v.p)) / int(v.q)
    value = sympy.Expr.evalf(v, mpmath.mp.dps + 10)
    if not isinstance(value, sympy.Float):
        raise ValueError(f"cannot evaluate the weight {v!r} as a real number")
    return mpmath.mpf(value._mpf_)


def parameter_deltas(exact: TransformerSpec, loaded: TransformerSpec, dps: int) -> tuple[dict[str, mpmath.mpf], float]:
    """``{name: |loaded - exact|}`` for the parameters that differ (non-rational exact values),
    and the largest ``|weight|``.  Call under ``mpmath.workdps(dps)``.

    Raises ``ValueError`` when the structures differ or a rational parameter differs.
    """
    pe, pl = exact.parameters(), loaded.parameters()
    if [n for n, _ in pe] != [n for n, _ in pl]:
        raise ValueError("the file's model does not have the construction's structure (parameter names differ)")
    if exact.past != loaded.past:
        raise ValueError(f"the file's past semantics {loaded.past!r} differ from the construction's {exact.past!r}")
    for be, bl in zip(exact.blocks, loaded.blocks):
        ae, al = be.attention, bl.attention
        if (ae is None) != (al is None) or (be.ffn is None) != (bl.ffn is None):
            raise ValueError("the file's model does not have the construction's blocks")
        if ae is not None and (ae.normalized != al.normalized or ae.residual != al.residual
                               or type(ae.rpe) is not type(al.rpe)):
            raise ValueError("the file's attention flags or RPE differ from the construction's")
        if be.ffn is not None and be.ffn.precision != bl.ffn.precision:
            raise ValueError("the file's FFN precision differs from the construction's")
    deltas: dict[str, mpmath.mpf] = {}
    biggest = mpmath.mpf(0)
    slack = mpmath.mpf(10) ** (-(dps - 5))
    for (name, ve), (_, vl) in zip(pe, pl):
        if ve == 0 and vl == 0:
            continue
        if isinstance(ve, sympy.Rational):
            if ve != vl:
                raise ValueError(f"{name}: the file holds {vl} but the construction's exact (rational) value is {ve}")
            biggest = max(biggest, abs(_mp(ve)))
            continue
        x = _mp(ve)
        d = abs(_mp(vl) - x) + abs(x) * slack
        biggest = max(biggest, abs(x))
        if d > 0:
            deltas[name] = d
    return deltas, float(biggest)


def _entry_deltas(deltas: dict[str, mpmath.mpf], prefix: str, rows: int, cols: int) -> list[list[mpmath.mpf]]:
    return [[deltas.get(f"{prefix}[{i},{j}]", mpmath.mpf(0)) for j in range(cols)] for i in range(rows)]


def _require_exact(deltas: dict[str, mpmath.mpf], prefix: str, why: str) -> None:
    bad = [n for n in deltas if n.startswith(prefix)]
    if bad:
        raise ValueError(f"{bad[0]} differs from the construction's value and {why}: this certificate does not "
                         f"cover it")


def _readout_shift(spec: TransformerSpec, deltas: dict[str, mpmath.mpf], dz: list[mpmath.mpf]) -> mpmath.mpf:
    """``max_out sum_k |a_ok| sum_i |b_ki| dz_i`` for the last block's FFN (exact in the file)."""
    last = len(spec.blocks) - 1
    ffn = spec.blocks[last].ffn
    if ffn is None:
        return max(dz) if dz else mpmath.mpf(0)
    _require_exact(deltas, f"blocks[{last}].ffn", "the readout FFN's weights must be exact")
    per_neuron = [mpmath.fsum(abs(_mp(ffn.inner[k, i])) * dz[i] for i in range(ffn.inner.cols) if dz[i])
                  for k in range(ffn.inner.rows)]
    return max(mpmath.fsum(abs(_mp(ffn.outer[o, k])) * per_neuron[k] for k in range(ffn.outer.cols))
               for o in range(ffn.outer.rows))


# ----------------------------------------------------------------------------- one layer
def _one_layer_shift(spec: TransformerSpec, deltas: dict[str, mpmath.mpf]) -> mpmath.mpf:
    if spec.past != "padded" or len(spec.blocks) != 1 or spec.blocks[0].attention is None:
        raise ValueError("the one-layer certificate needs one attention block over the padded past")
    att = spec.blocks[0].attention
    if not att.normalized or any(not h.dot_product_free or h.tmx is not None for h in att.heads):
        raise ValueError("the one-layer certificate needs normalised DP-free heads")
    _require_exact(deltas, "W_E", "the embedding must be exact")
    _require_exact(deltas, "b_E", "the embedding must be exact")
    _require_exact(deltas, "blocks[0].W_O", "W_O must be exact")
    for h in range(len(att.heads)):
        if f"blocks[0].heads[{h}].p" in deltas:
            raise ValueError(f"blocks[0].heads[{h}].p differs from the construction's: not covered")
    D = spec.width
    hb = [mpmath.sqrt(mpmath.fsum(_mp(spec.embedding[j, i]) ** 2 for i in range(spec.embedding.cols)))
          + abs(_mp(spec.embedding_bias[j, 0])) for j in range(D)]
    W_O = [[abs(_mp(att.output[i, j])) for j in range(att.output.cols)] for i in range(att.output.rows)]
    # |Delta W_V| summed over heads (the heads' attention weights are >= 0 with total mass 1)
    dv = [[mpmath.mpf(0)] * D for _ in range(D)]
    for h, head in enumerate(att.heads):
        e = _entry_deltas(deltas, f"blocks[0].heads[{h}].W_V", head.value.rows, head.value.cols)
        for i in range(head.value.rows):
            for j in range(head.value.cols):
                if e[i][j]:
                    dv[i][j] += e[i][j]
    dz = [mpmath.fsum(W_O[i][r] * dv[r][j] * hb[j] for r in range(D) for j in range(D) if dv[r][j])
          for i in range(att.output.rows)]
    return _readout_shift(spec, deltas, dz)


# ----------------------------------------------------------------------------- adaptive
def _nonzero(m: sympy.MatrixBase) -> list[tuple[int, int, Any]]:
    return [(i, j, m[i, j]) for i in range(m.rows) for j in range(m.cols) if m[i, j] != 0]


def _adaptive_shift(cons: Any, spec: TransformerSpec, deltas: dict[str, mpmath.mpf],
                    errors: list[float], slack_check: Any) -> mpmath.mpf:
    """``P`` for Thm 4.1/4.4-type constructions (module docstring, item 3)."""
    target = cons.target
    family = kernel_family(cons.rpe)
    scale = mpmath.mpf(max(1.0, max(abs(a) for a in target_alphabet(target))))
    gcoord = list(cons.layout["position_coordinates"])
    M = len(gcoord)
    lags = list(target.max_lags)
    _require_exact(deltas, "W_E", "the embedding must be exact")
    _require_exact(deltas, "b_E", "the embedding must be exact")
    P = [mpmath.mpf(0)] * M
    for b, block in enumerate(spec.blocks):
        att = block.attention
        if att is None:
            continue
        if att.normalized:
            raise ValueError(f"blocks[{b}]: the adaptive certificate covers normalization-free heads only")
        _require_exact(deltas, f"blocks[{b}].W_O", "W_O must be exact")
        for h, head in enumerate(att.heads):
            pre = f"blocks[{b}].heads[{h}]"
            if f"{pre}.p" in deltas or f"{pre}.w" in deltas.keys():
                raise ValueError(f"{pre}: the slope or TMX vector differs from the construction's: not covered")
            sel = head.tmx if head.tmx is not None else head.query
            nz = _nonzero(sel) if sel is not None else []
            if len(nz) != 1 or nz[0][1] not in gcoord:
                raise ValueError(f"{pre}: the head does not read one position coordinate; not an adaptive head")
            k = gcoord.index(nz[0][1])
            beta = _mp(head.slope)
            Tk = lags[k]
            lmax = beta * family.coordinate_mp(max(Tk, family.first_lag))
            Z = family.normaliser_mp(beta)
            eta = mpmath.mpf(0)
            if head.tmx is None:
                qs, ks = _nonzero(head.query), _nonzero(head.key)
                if len(qs) != 1 or len(ks) != 1:
                    raise ValueError(f"{pre}: W_Q and W_K must have one nonzero entry each")
                eq = deltas.get(f"{pre}.W_Q[{qs[0][0]},{qs[0][1]}]", mpmath.mpf(0)) / abs(_mp(qs[0][2]))
                ek = deltas.get(f"{pre}.W_K[{ks[0][0]},{ks[0][1]}]", mpmath.mpf(0)) / abs(_mp(ks[0][2]))
                others = [n for n in deltas if n.startswith(f"{pre}.W_Q") or n.startswith(f"{pre}.W_K")]
                if len(others) > (1 if eq else 0) + (1 if ek else 0):
                    raise ValueError(f"{pre}: a zero entry of W_Q or W_K differs from the construction's")
                eta = eq + ek + eq * ek
            vnz = _nonzero(head.value)
            token = cons.layout["token_block"]
            if len(vnz) > 1 or (vnz and not token[0] <= vnz[0][1] < token[1]):
                raise ValueError(f"{pre}: W_V must read the token block only (one nonzero entry)")
            V = abs(_mp(vnz[0][2])) if vnz else mpmath.mpf(0)
            dV = mpmath.fsum(v for n, v in deltas.items() if n.startswith(f"{pre}.W_V"))
            grow = mpmath.exp(lmax * eta)
            P[k] += Z * mpmath.exp(lmax) * (dV * grow + V * (grow - 1)) * scale
    # rounding FFNs: the file's FFN-weight perturbation at hidden states bounded by X_max
    xmax = scale + mpmath.mpf(max(errors, default=0.0)) + max(P, default=mpmath.mpf(0)) \
        + max(max(lags), 1) + 1
    last = len(spec.blocks) - 1
    ffn_delta: dict[int, mpmath.mpf] = {}
    for b, block in enumerate(spec.blocks):
        if block.ffn is None or b == last:
            continue
        ffn = block.ffn
        for part in ("b", "c"):
            _require_exact(deltas, f"blocks[{b}].ffn.{part}", "inner FFN weights must be exact")
        da = _entry_deltas(deltas, f"blocks[{b}].ffn.a", ffn.outer.rows, ffn.outer.cols)
        tot = mpmath.mpf(0)
        for kk in range(ffn.inner.rows):
            col = max(da[o][kk] for o in range(ffn.outer.rows))
            if col:
                reach = mpmath.fsum(abs(_mp(ffn.inner[kk, i])) for i in range(ffn.inner.cols)) * xmax \
                    + abs(_mp(ffn.bias[kk, 0]))
                tot += col * reach
        if tot and ffn.precision is None:
            raise ValueError(f"blocks[{b}].ffn: perturbed weights without rounding are not covered")
        if tot >= mpmath.log(mpmath.mpf(5) / 4):
            raise ValueError(f"blocks[{b}].ffn: the file's FFN weights move its output by {float(tot):.3g}, more "
                             f"than the rounding tolerates")
        ffn_delta[b + 1] = tot  # 1-based block
    slack_check(P, ffn_delta)
    D = spec.width
    dz = [mpmath.mpf(0)] * D
    for b, block in enumerate(spec.blocks):
        att = block.attention
        if att is None:
            continue
        for h, head in enumerate(att.heads):
            sel = head.tmx if head.tmx is not None else head.query
            k = gcoord.index(_nonzero(sel)[0][1])
            for i, _j, _v in _nonzero(head.value):  # memory k's heads write its block: it moves by P_k
                dz[i] = max(dz[i], P[k])
    return _readout_shift(spec, deltas, dz)


def construction_enclosure(cons: Any) -> tuple[float, float]:
    """The construction's certified enclosure ``(lo, hi)`` of its worst-case error (what
    ``tfapprox verify`` prints for it): Thm 3.1 via :func:`~tfapprox.verify.fixed_memory_error.measure_thm3_1`,
    Thm 5.1 via :func:`~tfapprox.verify.essential_error.essential_l1_error` (``sum_k |w_k| E_k`` plus the
    lag-0 error; lower end ``|w_1| E_1`` for one memory, else 0), Thm 4.1 / Prop. 4.3 via
    :func:`~tfapprox.verify.adaptive_error.measure_thm4_1` and Thm 4.4 / Prop. 4.5 via
    :func:`~tfapprox.verify.nested_error.measure_thm4_4` (upper bounds; lower end 0)."""

    if isinstance(cons, Thm31Construction):
        m = measure_thm3_1(cons)
        return float(m.total_lower), float(m.total_upper)
    if isinstance(cons, Thm51Construction):
        w = [abs(float(v)) for v in cons.target.readout.weights]
        encs = [essential_l1_error(k) for k in cons.kernels]
        hi = sum(wk * e.upper for wk, e in zip(w, encs)) + cons.lag0_error
        lo = w[0] * encs[0].lower + cons.lag0_error if len(encs) == 1 else 0.0
        return lo, hi * _OUT
    if isinstance(cons, Thm41Construction):
        return 0.0, float(measure_thm4_1(cons, run_model=False).total_upper)
    if isinstance(cons, Thm44Construction):
        m = measure_thm4_4(cons, run_model=False)
        if not m.positions_certified:
            raise ConstructionNotCertified("the construction's own positions are not certified at this size (a "
                                           "rounding slack of Theorem 4.4's FFNs with precision is <= 0)")
        return 0.0, float(m.total_upper)
    raise TypeError(f"no certificate for {type(cons).__name__}")


def certify_reloaded(cons: Any, spec: TransformerSpec, *, max_relative: float = 1e-15,
                     enclosure: tuple[float, float] | None = None) -> FileCertificate:
    """Certify the realised error of ``spec`` (a model read back from a file) against ``cons``.

    Parameters
    ----------
    cons
        The construction the file was built from (``Thm31Construction``, ``Thm41Construction``,
        ``Thm44Construction`` or ``Thm51Construction`` with its spec).
    spec
        The reloaded model (exact rationals, from :meth:`Model.load` / ``spec_from_dict``).
    max_relative
        Refuse (``ValueError``) when ``P > max_relative * hi`` (``inf``: report, never refuse).
    enclosure
        The construction's certified ``(lo, hi)`` if already computed (else
        :func:`construction_enclosure`).

    Returns
    -------
    FileCertificate
        ``enclosure = (max(0, lo - P), hi + P)`` encloses the reloaded model's worst-case error.
    """

    require_real("max_relative", max_relative, minimum=0.0, allow_inf=True)  # inf: never refuse
    exact = cons.spec
    if exact is None:
        raise ValueError("the construction has no spec (build Theorem 5.1 with with_spec=True)")
    if not isinstance(spec, TransformerSpec):
        raise TypeError(f"spec must be a TransformerSpec, got {type(spec).__name__}")
    lo, hi = construction_enclosure(cons) if enclosure is None else enclosure
    digits = max(required_digits(exact), declared_digits(exact) or 0, declared_digits(spec) or 0)
    dps = digits + 40
    with mpmath.workdps(dps):
        deltas, biggest = parameter_deltas(exact, spec, dps - 5)
        if not deltas:
            P = mpmath.mpf(0)
        elif isinstance(cons, (Thm31Construction, Thm51Construction)):
            P = _one_layer_shift(exact, deltas)
        elif isinstance(cons, Thm41Construction):
            P = _thm41_shift(cons, exact, deltas)
        elif isinstance(cons, Thm44Construction):
            P = _thm44_shift(cons, exact, deltas)
        else:
            raise TypeError(f"no certificate for {type(cons).__name__}")
        P_f = float(P * _OUT) if P else 0.0
        max_delta = float(max(deltas.values())) if deltas else 0.0
    cert = FileCertificate(exact.metadata.get("construction", type(cons).__name__), (float(lo), float(hi)), P_f,
                           (max(0.0, float(lo) - P_f), float(hi) + P_f), len(deltas), max_delta, biggest, digits)
    if P_f > max_relative * float(hi):
        raise ValueError(f"the model file does not reproduce the certificate: its rounding (at {digits} digits) "
                         f"moves the output by up to {P_f:.3g}, more than {max_relative:g} of the certified "
                         f"error {float(hi):.6g}")
    return cert


def _thm41_shift(cons: Any, spec: TransformerSpec, deltas: dict[str, mpmath.mpf]) -> mpmath.mpf:
    target = cons.target
    scale = max(1.0, max(abs(a) for a in target_alphabet(target)))
    # memory-token errors E_k |token|max (the kernel errors are per unit token): they bound X_max
    errors = [shifted_kernel_errors(k, range(0 if target.allow_zero_lag else 1, k.max_shift + 1)).upper * scale
              for k in cons.kernels]

    def check(P: list[mpmath.mpf], ffn_delta: dict[int, mpmath.mpf]) -> None:
        d = ffn_delta.get(1, mpmath.mpf(0))  # FFN 1 reads the exact token: no attention error reaches it
        for info in cons.memory_ffns:
            if not info.accuracy + d < info.threshold:
                raise ValueError(f"FFN 1 of memory {info.memory}: accuracy {info.accuracy:.3g} plus the file's "
                                 f"perturbation {float(d):.3g} reaches the rounding threshold {info.threshold:.3g}")

    return _adaptive_shift(cons, spec, deltas, errors, check)


def _thm44_shift(cons: Any, spec: TransformerSpec, deltas: dict[str, mpmath.mpf]) -> mpmath.mpf:
    m = measure_thm4_4(cons, run_model=False)
    E = list(m.block_error_upper)

    def check(P: list[mpmath.mpf], ffn_delta: dict[int, mpmath.mpf]) -> None:
        for p in cons.position_ffns:
            r = mpmath.sqrt(mpmath.fsum((mpmath.mpf(E[j - 1]) + P[j - 1]) ** 2 for j in p.reads_memories))
            s = p.margin - p.accuracy - p.lipschitz * r * _OUT - ffn_delta.get(p.block, mpmath.mpf(0))
            if not s > 0:
                raise ValueError(f"position FFN of memory {p.memory}: the file's perturbation leaves no rounding "
                                 f"slack ({float(s):.3g})")

    return _adaptive_shift(cons, spec, deltas, E, check)
