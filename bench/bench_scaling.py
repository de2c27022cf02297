"""Scaling benchmark of the Lemma F.1/F.4 construction (issue 15, items 2 and 5), as ratios in one run.

(a) Kernel build + certified l1 error (``delta_kernel`` + ``delta_kernel_l1_error``) at
    ``H = 1024, 4096, 16384, 65536`` (``T = 20``, paper's ``alpha = gamma = 1/100``), against the
    previous exact-conversion path where it finishes (:func:`legacy_kernel`: the Chebyshev
    coefficients at the monomial-driven precision ``p ~ 2.54 H`` bits by ``K H`` fixed-point products,
    then the ``H^3`` integer Clenshaw conversion to the realised ``a_k``, built eagerly as before).
    Both kernels are certified by the same code; the enclosures must agree (identical, or at
    least overlapping: both contain the exact interpolant's l1 error).  The new path builds
    only the stable (Chebyshev) form; the realised ``a_k`` are not needed by the certificate.
(b) Model file at ``H = 4096``: the kernel's realised weights (exact monomial conversion,
    :meth:`DeltaKernel.transformer_spec`) written through ``Model.save``; ``--thm31`` also times the
    Theorem 3.1 model with one memory (whose save lowers ``H`` irrational normalisers at the
    weights' ~3,200 digits in sympy, outside this construction).

Times are CPU seconds of this process (``time.process_time``: the machine may be shared; the
load average is printed).  Run: ``python bench/bench_scaling.py`` (about 2-3 minutes; the
legacy path alone takes about a minute at ``H = 4096`` and is skipped above ``--legacy-max``).
Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import mpmath

from tfapprox.constructions import delta_kernels as dk
from tfapprox.theory.numerics.chebyshev import chebyshev_to_monomial_clenshaw, sum_chebyshev_at_3
from tfapprox.constructions.delta_kernels import DeltaKernel, delta_kernel
from tfapprox.theory.bounds import bump_placement
from tfapprox.verify.kernel_error import delta_kernel_l1_error
from tfapprox.verify.model import Model

# the pre-issue-15 interpolation is a test-only reference (tests/reference_interpolation.py)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference_interpolation import interpolate_reference  # noqa: E402


def legacy_kernel(rpe: str, lag: int, H: int, *, digits: int = 30, nodes: str = "chebyshev2") -> DeltaKernel:
    """The construction as it was before issue 15 (eager, exact ``H^3`` conversion), for comparison.

    Same rounding rules as then: precision ``p`` from ``sum_j T_j(3)``, node sums in fixed point
    (``tests/reference_interpolation.py``), the integer Clenshaw
    conversion, the realised ``a_k`` rounded at ``coefficient_dps`` chosen from their l1 norm, and
    the bound ``conv_err + round_err`` with ``conv_err = err * 2^-p * sum_j T_j(3)``.
    """
    alpha, gamma = dk.DEFAULT_ALPHA, dk.DEFAULT_GAMMA
    place = bump_placement(rpe, lag, alpha=alpha, gamma=gamma)
    interp = interpolate_reference(place, H, nodes, digits)
    p = interp.precision
    A = chebyshev_to_monomial_clenshaw(list(interp.cheb_int))
    s3 = sum_chebyshev_at_3(H - 1)
    with mpmath.workdps(30):
        peak = place.numeric(30)[2] / mpmath.e
        l1_a = mpmath.mpf(sum(abs(v) for v in A)) * mpmath.mpf(2) ** (-p)
        tol = mpmath.mpf(10) ** (-digits) * peak
        ratio = max(mpmath.mpf(1), l1_a / tol)
        coef_dps = math.ceil(float(mpmath.log10(ratio * 40))) + 1
        coef_bits = max(math.ceil(coef_dps * math.log2(10)) + 8, 53)
        conv_err = interp.cheb_error_units * mpmath.mpf(2) ** (-p) * s3
        round_err = l1_a * (mpmath.mpf(2) ** (-coef_bits) + mpmath.mpf(10) ** (1 - coef_dps) / 2)
        bound = mpmath.mpf(conv_err + round_err) * (1 + mpmath.mpf(2) ** -40)
    with mpmath.workprec(coef_bits):
        coeffs = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in A)
    cheb_bits = max(max((abs(v).bit_length() for v in interp.cheb_int), default=1) + 2, 53)
    with mpmath.workprec(cheb_bits):
        cheb = tuple(mpmath.ldexp(mpmath.mpf(v), -p) for v in interp.cheb_int)
    base = gamma if rpe == "lin" else 1 + gamma
    exps = tuple(base + alpha * k for k in range(H))
    return DeltaKernel(rpe, lag, H, alpha, gamma, exps, coeffs, coef_dps, cheb, nodes, digits, bound, p)


def _cpu(fn, *args, **kwargs):
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t0


def bench_kernel(H: int, *, rpe: str = "lin", lag: int = 20, legacy: bool = True) -> dict:
    """Build + certify at ``H`` (new path), and the legacy path when ``legacy``."""
    kern, t_build = _cpu(delta_kernel, rpe, lag, H)
    enc, t_cert = _cpu(delta_kernel_l1_error, kern)
    row = {"rpe": rpe, "H": H, "T": lag, "build": t_build, "certify": t_cert, "total": t_build + t_cert,
           "lower": enc.lower, "upper": enc.upper, "bound": float(kern.coefficient_error_bound),
           "precision": kern.working_precision}
    if legacy:
        # both certificates timed with the lattice cache warm (the first certification above filled it)
        enc, t_cert = _cpu(delta_kernel_l1_error, kern)
        row.update({"certify_warm": t_cert})
        old, t_obuild = _cpu(legacy_kernel, rpe, lag, H)
        old_enc, t_ocert = _cpu(delta_kernel_l1_error, old)
        row.update({"legacy_build": t_obuild, "legacy_certify": t_ocert, "legacy_total": t_obuild + t_ocert,
                    "legacy_lower": old_enc.lower, "legacy_upper": old_enc.upper,
                    "legacy_precision": old.working_precision,
                    "ratio": (t_obuild + t_ocert) / (t_build + t_cert), "build_ratio": t_obuild / max(t_build, 1e-9),
                    "identical": (enc.lower, enc.upper) == (old_enc.lower, old_enc.upper),
                    "overlap": max(enc.lower, old_enc.lower) <= min(enc.upper, old_enc.upper)})
        # the realised weights: same digits rule, both within their bounds of the same interpolant
        (coeffs, dps), t_real = _cpu(lambda: (kern.coefficients, kern.coefficient_dps))
        row.update({"realise": t_real, "dps": dps, "legacy_dps": old.coefficient_dps})
    return row


def bench_model_file(H: int = 4096, *, rpe: str = "lin", lag: int = 20, thm31: bool = False) -> dict:
    """CPU seconds to build the kernel, realise its weights and write the model file."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kernel.json"
        t0 = time.process_time()
        kern = delta_kernel(rpe, lag, H)
        spec = kern.transformer_spec()
        Model(spec).save(target)
        t_kernel = time.process_time() - t0
        size = target.stat().st_size
        loaded = Model.load(target).spec
        heads = loaded.blocks[0].attention.heads
        same = all(h.value[0, 0] == g.value[0, 0] and h.slope == g.slope
                   for h, g in zip(heads, spec.blocks[0].attention.heads))
        row = {"H": H, "kernel_file": t_kernel, "bytes": size, "round_trip": same and len(heads) == H}
        if thm31:
            from tfapprox.api import fixed_memory_target
            from tfapprox.constructions.thm3_1 import build_thm3_1

            t0 = time.process_time()
            cons = build_thm3_1(fixed_memory_target([lag]), H, rpe=rpe)
            t_b = time.process_time() - t0
            Model(cons.spec).save(Path(tmp) / "thm31.json")
            row.update({"thm31_build": t_b, "thm31_total": time.process_time() - t0})
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1024,4096,16384,65536", help="comma-separated H values")
    ap.add_argument("--rpe", default="lin", choices=("lin", "log"))
    ap.add_argument("--legacy-max", type=int, default=4096,
                    help="run the legacy exact-conversion path up to this H (16384 takes ~20 min)")
    ap.add_argument("--model-heads", type=int, default=4096)
    ap.add_argument("--thm31", action="store_true", help="also time the Theorem 3.1 model file")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} (CPU seconds below)")
    print(f"(a) Lemma {'F.1' if args.rpe == 'lin' else 'F.4'} kernel, T = 20: build + certified l1 error")
    for H in (int(v) for v in args.sizes.split(",")):
        r = bench_kernel(H, rpe=args.rpe, legacy=H <= args.legacy_max)
        line = (f"  H = {H:6d}: build {r['build']:6.2f} s + certify {r['certify']:6.2f} s = {r['total']:6.2f} s "
                f"(p = {r['precision']} bits); E in [{r['lower']:.15e}, {r['upper']:.15e}]")
        if "legacy_total" in r:
            line += (f"\n             legacy build {r['legacy_build']:6.2f} s + certify {r['legacy_certify']:.2f} s "
                     f"= {r['legacy_total']:.2f} s (p = {r['legacy_precision']} bits) -> build ratio "
                     f"{r['build_ratio']:.0f}x, build + certify ratio {r['ratio']:.1f}x (certify with the lattice "
                     f"cache warm: new {r['certify_warm']:.2f} s); "
                     f"legacy E in [{r['legacy_lower']:.15e}, {r['legacy_upper']:.15e}]; identical: "
                     f"{r['identical']}, overlap: {r['overlap']}; realised a_k on demand {r['realise']:.2f} s, "
                     f"digits {r['dps']} (legacy {r['legacy_dps']})")
        else:
            line += "\n             legacy path not run (about H^3: ~20 min at 16384)"
        print(line, flush=True)
    m = bench_model_file(args.model_heads, rpe=args.rpe, thm31=args.thm31)
    line = (f"(b) model file H = {m['H']}: kernel build + realised weights + Model.save {m['kernel_file']:.2f} s "
            f"({m['bytes'] / 1e6:.1f} MB), reloads identically: {m['round_trip']}")
    if args.thm31:
        line += f"; thm3.1 one memory: build {m['thm31_build']:.2f} s, build + save {m['thm31_total']:.2f} s"
    print(line)


if __name__ == "__main__":
    main()
