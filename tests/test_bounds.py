"""Tests of the explicit Lemma F.1 / F.4 and Theorem 3.1 bounds (theory/bounds.py)."""

from __future__ import annotations


import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import delta_kernel_specs, rate_indices

from tfapprox.constructions.delta_kernels import bump_function, chebyshev_nodes, delta_kernel
from tfapprox.constructions.delta_kernels import clenshaw as _clenshaw
from tfapprox.theory import bounds as B

R = sympy.Rational
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _fifty_digits():
    """Compare the 50-digit bounds at 50 digits (mpmath's default is 15)."""
    with mpmath.workdps(50):
        yield


def _sampled_sup_error(k) -> float:
    """A lower bound of sup_[0,1] |Psi_T - Q| (dense sampling, refined around the bump)."""
    mu, sigma, height = (float(v) for v in k.placement.numeric(30))
    u = np.concatenate([np.linspace(0, 1, 200001),
                        np.linspace(max(0.0, mu - sigma), min(1.0, mu + sigma), 100001)])
    c = np.array([float(v) for v in k.chebyshev_coefficients])
    return float(np.max(np.abs(_clenshaw(c, 2 * u - 1) - height * bump_function((u - mu) / sigma))))


# ---- the bump's derivatives -------------------------------------------------------------

@pytest.mark.parametrize("k", range(0, 6))
def test_derivative_polynomials_match_sympy(k: int) -> None:
    y = sympy.Symbol("y")
    psi = sympy.exp(-1 / (1 - y ** 2))
    p = B.bump_derivative_polynomial(k).as_expr().subs(sympy.Symbol("y", real=True), y)
    expr = p / (1 - y ** 2) ** (2 * k) * psi
    for point in (R(-7, 10), R(1, 3), R(9, 10)):
        exact = sympy.diff(psi, y, k).subs(y, point)
        assert abs(sympy.N(expr.subs(y, point) - exact, 40)) < 1e-30
    assert B.bump_derivative_polynomial(k).degree() == (3 * k - 2 if k else 0)


@pytest.mark.parametrize("k", range(0, 7))
def test_derivative_norms_enclose_dense_sampling(k: int) -> None:
    nrm = B.bump_derivative_norms(k)
    assert nrm.sup_lower <= nrm.sup_upper and nrm.variation_lower <= nrm.variation_upper
    assert nrm.sup_upper <= nrm.sup_lower * (1 + mpmath.mpf("1e-25"))
    y = sympy.Symbol("y")
    f = sympy.lambdify(y, sympy.diff(sympy.exp(-1 / (1 - y ** 2)), y, k), "numpy")
    ys = np.linspace(-1 + 1e-9, 1 - 1e-9, 400001)
    with np.errstate(all="ignore"):
        vals = np.nan_to_num(f(ys))
    sampled_sup = np.max(np.abs(vals))
    sampled_tv = np.sum(np.abs(np.diff(vals)))
    assert sampled_sup <= float(nrm.sup_upper) * (1 + 1e-12)
    assert sampled_sup >= float(nrm.sup_lower) * (1 - 1e-6)
    assert sampled_tv <= float(nrm.variation_upper) * (1 + 1e-12)
    assert sampled_tv >= float(nrm.variation_lower) * (1 - 1e-4)


def test_known_values_of_the_bump_norms() -> None:
    n0 = B.bump_derivative_norms(0)
    assert abs(n0.sup_upper - mpmath.exp(-1)) < 1e-25
    assert abs(n0.variation_upper - 2 * mpmath.exp(-1)) < 1e-25
    # Psi'' = (6 y^4 - 2) (1 - y^2)^{-4} Psi: the extrema of Psi' are at y = +-3^{-1/4}
    assert B.bump_derivative_norms(1).critical_points == pytest.approx((-3 ** -0.25, 3 ** -0.25), rel=1e-12)
    assert B.bump_derivative_polynomial(2).as_expr() == 6 * sympy.Symbol("y", real=True) ** 4 - 2


# ---- routes and the l1 bound --------------------------------------------------------------

def test_route_applicability() -> None:
    r = B.interpolation_error_routes("lin", 1, 3, 2)  # N = 2: 7.1-summed and Jackson apply, 7.2 not
    assert r["lebesgue"] is not None
    assert r["trefethen_7_2"] is None
    assert r["trefethen_7_1_summed"] is not None and r["jackson_rivlin"] is not None
    r1 = B.interpolation_error_routes("log", 4, 1, 1)
    assert [k for k, v in r1.items() if v is not None] == ["lebesgue"]
    big = B.interpolation_error_routes("lin", 5, 512, 3)
    assert big["trefethen_7_1_summed"] <= big["trefethen_7_2"]


def test_lebesgue_bound_exceeds_the_lebesgue_constant() -> None:
    """(2/pi) log H + 1 >= Lambda_{H-1} for both point families (dense Lebesgue function)."""
    x = np.linspace(-1, 1, 20001)
    for nodes in ("chebyshev2", "chebyshev1"):
        for H in (1, 2, 3, 5, 8, 13, 21):
            xn = 2 * chebyshev_nodes(H, nodes) - 1
            lam = np.zeros_like(x)
            for j in range(H):
                others = np.delete(xn, j)
                lam += np.abs(np.prod((x[:, None] - others) / (xn[j] - others), axis=1))
            assert lam.max() <= float(B.lebesgue_constant_bound(H)) + 1e-9


@given(delta_kernel_specs(max_terms=64, nodes=("chebyshev2", "chebyshev1")), rate_indices())
@SETTINGS
def test_sup_bound_dominates_the_sampled_interpolation_error(spec: dict, n: int) -> None:
    k = delta_kernel(**spec)
    bound = B.interpolation_error_bound(spec["rpe"], spec["lag"], spec["num_terms"], n,
                                        alpha=spec["alpha"], gamma=spec["gamma"])
    assert _sampled_sup_error(k) <= float(bound)


@pytest.mark.parametrize("rpe, lag", [("lin", 1), ("lin", 5), ("lin", 20), ("log", 1), ("log", 3), ("log", 8)])
@pytest.mark.parametrize("H", [128, 256])
def test_sup_bound_at_larger_h(rpe: str, lag: int, H: int) -> None:
    k = delta_kernel(rpe, lag, H)
    err = _sampled_sup_error(k)
    for n in range(1, 5):
        routes = B.interpolation_error_routes(rpe, lag, H, n)
        assert all(v is None or err <= float(v) for v in routes.values())


def test_weight_sums() -> None:
    assert abs(B.weight_sum("lin") - 1 / (1 - mpmath.exp(-mpmath.mpf(1) / 100))) < 1e-20
    assert abs(B.weight_sum("log", gamma=R(1, 2)) - mpmath.zeta(1.5)) < 1e-12
    assert B.weight_sum("log") > mpmath.zeta(mpmath.mpf("1.01"))


def test_bound_is_route_minimum_times_weight_sum() -> None:
    routes = B.delta_kernel_bound_routes("log", 3, 200, 2)
    sup = B.interpolation_error_bound("log", 3, 200, 2)
    assert abs(B.delta_kernel_bound("log", 3, 200, 2) - sup * B.weight_sum("log")) < 1e-20 * sup * 200
    assert B.delta_kernel_bound("log", 3, 200, 2) == min(v for v in routes.values() if v is not None)


def test_best_bound_picks_the_minimising_rate() -> None:
    value, n = B.best_delta_kernel_bound("lin", 1, 1024, max_rate=6)
    assert value == min(B.delta_kernel_bound("lin", 1, 1024, r) for r in range(1, 7))
    assert value == B.delta_kernel_bound("lin", 1, 1024, n)


# ---- the paper's form ------------------------------------------------------------------------

@given(st.sampled_from(["lin", "log"]), rate_indices(), st.integers(1, 2000), st.integers(1, 60),
       st.sampled_from([(R(1, 100), R(1, 100)), (R(1, 50), R(1, 100)), (R(1, 10), R(1, 5))]))
@SETTINGS
def test_paper_form_dominates_the_explicit_bound(rpe: str, n: int, H: int, lag: int, params: tuple) -> None:
    a, g = params
    C = B.paper_constant(rpe, n, alpha=a, gamma=g)
    am, gm = mpmath.mpf(a.p) / a.q, mpmath.mpf(g.p) / g.q
    E = mpmath.exp((gm + n * am) * lag) if rpe == "lin" else mpmath.power(lag, 1 + gm + n * (1 + am))
    assert B.delta_kernel_bound(rpe, lag, H, n, alpha=a, gamma=g) <= C * E / mpmath.mpf(H) ** n * (1 + 1e-20)


def test_log_scale_constant_is_the_sup_over_lags() -> None:
    """V_T sigma_T^{-n} <= e (1 - 2^{-alpha})^{-n} T^{1+gamma+n(1+alpha)}, equality at T = 1; the
    paper's 2^n e / alpha^n is also valid at alpha = 0.01."""
    a = R(1, 100)
    for n in (1, 2, 4):
        K = B.scale_constant("log", n, mpmath.mpf(a.p) / a.q)
        for T in (1, 2, 3, 10, 1000, 10 ** 6):
            mu, sigma, height = B.bump_placement("log", T).numeric(40)
            ratio = height * sigma ** (-n) / mpmath.power(T, 1 + mpmath.mpf("0.01") + n * mpmath.mpf("1.01"))
            assert ratio <= K * (1 + mpmath.mpf("1e-30"))
            assert ratio <= 2 ** n * mpmath.e / mpmath.mpf("0.01") ** n
        mu, sigma, height = B.bump_placement("log", 1).numeric(40)
        assert abs(height * sigma ** (-n) - K) < K * 1e-25


def test_sympy_expressions() -> None:
    e1 = B.lemma_f1_bound_expr(2)
    assert e1.free_symbols == {B.H, B.T}
    val = float(e1.subs({B.H: 100, B.T: 7}))
    ref = float(B.paper_constant("lin", 2) * mpmath.exp(mpmath.mpf("0.03") * 7) / 100 ** 2)
    assert val == pytest.approx(ref, rel=1e-12)
    assert val >= ref
    e4 = B.lemma_f4_bound_expr(1)
    assert float(e4.subs({B.H: 10, B.T: 3})) == pytest.approx(
        float(B.paper_constant("log", 1) * mpmath.power(3, mpmath.mpf("2.02")) / 10), rel=1e-12)
    sym = B.symbolic_paper_form("log")
    assert {B.H, B.T, B.n, B.alpha, B.gamma} <= sym.free_symbols | {B.n}
    ex = B.explicit_bound_expr("lin", 2)
    direct = B.delta_kernel_bound_routes("lin", 4, 300, 2)["trefethen_7_1_summed"]
    num = float(ex.subs({B.H: 300, B.T: 4, B.alpha: R(1, 100), B.gamma: R(1, 100)}))
    assert num == pytest.approx(float(direct), rel=1e-12)
    thm = B.thm3_1_bound_expr("log", 3, 2)
    assert {str(s) for s in thm.free_symbols} == {"H", "T_1", "T_2", "T_3"}


# ---- Theorem 3.1 --------------------------------------------------------------------------

def test_thm3_1_attention_bound_sums_the_kernel_bounds() -> None:
    lags, heads = (1, 5, 20), (300, 330, 394)
    total = B.thm3_1_attention_bound("lin", lags, heads, 2)
    parts = sum(B.delta_kernel_bound("lin", T, h, 2) for T, h in zip(lags, heads))
    assert abs(total - parts) <= parts * 1e-25
    assert B.thm3_1_attention_bound("log", (2, 7), (0, 5), 1) >= 1 + B.delta_kernel_bound("log", 7, 5, 1)
    with pytest.raises(ValueError, match="heads_per_memory"):
        B.thm3_1_attention_bound("lin", (1, 2), (3,), 1)


def test_thm3_1_paper_form_single_memory_matches_the_lemma() -> None:
    for rpe in ("lin", "log"):
        for n in (1, 3):
            form = B.thm3_1_paper_form(rpe, (6,), 500, n)
            lemma = B.paper_constant(rpe, n) * (mpmath.exp(mpmath.mpf("0.01") * (n + 1) * 6) if rpe == "lin"
                                                else mpmath.power(6, mpmath.mpf("1.01") * (n + 1))) / 500 ** n
            assert abs(form - lemma) <= lemma * 1e-25
            assert form >= B.delta_kernel_bound(rpe, 6, 500, n)


def test_thm3_1_paper_form_with_proportional_allocation() -> None:
    """Where the proportional allocation is an integer allocation, the paper's form bounds the sum."""
    lags = (3, 9)
    n = 1
    w = [mpmath.power(T, mpmath.mpf("1.01")) for T in lags]
    H = 2000
    alloc = [int(mpmath.nint(H * v / sum(w))) for v in w]
    assert sum(alloc) == H
    explicit = B.thm3_1_attention_bound("log", lags, alloc, n)
    paper = B.thm3_1_paper_form("log", lags, H, n)
    assert explicit <= paper * 1.001  # rounding of the allocation aside


# ---- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (B.MAX_RATE_INDEX + 1, ValueError),
                                      (1.0, TypeError), ("2", TypeError), (None, TypeError), (True, TypeError)])
def test_rate_index_validation(bad: object, exc: type) -> None:
    with pytest.raises(exc, match="n"):
        B.delta_kernel_bound("lin", 1, 8, bad)
    with pytest.raises(exc, match="n"):
        B.paper_constant("log", bad)
    with pytest.raises(exc, match="n"):
        B.thm3_1_paper_form("lin", (1, 2), 8, bad)


@pytest.mark.parametrize("kwargs, word", [
    (dict(rpe="exp"), "rpe"), (dict(lag=0), "lag"), (dict(num_terms=0), "num_terms"),
    (dict(alpha=0), "alpha"), (dict(gamma=-1), "gamma"), (dict(alpha="x"), "alpha"),
])
def test_other_validation(kwargs: dict, word: str) -> None:
    args = dict(rpe="lin", lag=2, num_terms=8, rate=1) | kwargs
    with pytest.raises((ValueError, TypeError), match=word):
        B.delta_kernel_bound(args.pop("rpe"), args.pop("lag"), args.pop("num_terms"), args.pop("rate"), **args)
    with pytest.raises((ValueError, TypeError)):
        B.thm3_1_attention_bound("lin", (2, 1), (1, 1), 1)


# ---- issue 14: flint root isolation, families, the split module --------------------------

def _sympy_norms(k: int) -> tuple[mpmath.mpf, mpmath.mpf, int]:
    """``(M_k, W_k, #critical points)`` the former way: sympy isolates the roots of p_{k+1} exactly,
    mpmath evaluates Psi^{(k)} at the interval midpoints (an independent check, not an enclosure)."""
    y = sympy.Symbol("y", real=True)
    poly = B.bump_derivative_polynomial(k + 1)
    mids = [(sympy.Rational(a) + sympy.Rational(b)) / 2
            for (a, b), _m in poly.intervals(eps=R(1, 10 ** 40), inf=-1, sup=1) if -1 < a and b < 1]
    p_k = sympy.lambdify(y, B.bump_derivative_polynomial(k).as_expr(), "mpmath")
    with mpmath.workdps(60):
        vals = [mpmath.mpf(0)]
        for m in sorted(mids):
            z = mpmath.mpf(m.p) / m.q
            vals.append(p_k(z) / (1 - z * z) ** (2 * k) * mpmath.exp(-1 / (1 - z * z)))
        vals.append(mpmath.mpf(0))
        return max(abs(v) for v in vals), mpmath.fsum(abs(b - a) for a, b in zip(vals, vals[1:])), len(mids)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, 8])
def test_flint_norms_match_the_sympy_isolation(k: int) -> None:
    sup, var, count = _sympy_norms(k)
    nrm = B.bump_derivative_norms(k)
    assert len(nrm.critical_points) == count
    assert nrm.sup_lower <= sup * (1 + mpmath.mpf("1e-35")) and sup <= nrm.sup_upper * (1 + mpmath.mpf("1e-35"))
    assert nrm.variation_lower <= var * (1 + mpmath.mpf("1e-35"))
    assert var <= nrm.variation_upper * (1 + mpmath.mpf("1e-35"))
    assert abs(nrm.sup_upper - sup) <= sup * mpmath.mpf("1e-29")


def test_norms_beyond_the_former_limit_of_20() -> None:
    """MAX_RATE_INDEX was 20 (sympy isolation); with flint k = 25 is fast, exactly as many critical points
    as p_{k+1} has real roots in (-1, 1) (Sturm count), and the enclosures stay 1e-29 tight."""
    assert B.MAX_RATE_INDEX > 20
    k = 25
    nrm = B.bump_derivative_norms(k)
    assert len(nrm.critical_points) == B.bump_derivative_polynomial(k + 1).count_roots(-1, 1)
    assert nrm.sup_upper <= nrm.sup_lower * (1 + mpmath.mpf("1e-29"))
    assert nrm.variation_upper <= nrm.variation_lower * (1 + mpmath.mpf("1e-29"))
    assert B.delta_kernel_bound("lin", 1, 4096, k) > 0


def test_enclosure_is_rigorous_on_a_ball() -> None:
    """Psi'' = (6 y^4 - 2) (1 - y^2)^{-4} Psi: the ball at y = 1/3 holds the 60-digit value, and a ball over an
    interval holds the values at its ends."""
    import flint

    def as_mpf(x) -> mpmath.mpf:
        return mpmath.mpf(x.str(50, radius=False))

    with mpmath.workdps(60):
        def psi2(z):
            return (6 * z ** 4 - 2) / (1 - z * z) ** 4 * mpmath.exp(-1 / (1 - z * z))

        ball = B.bump_derivative_enclosure(2, flint.arb(flint.fmpq(1, 3)))
        assert abs(as_mpf(ball.mid()) - psi2(mpmath.mpf(1) / 3)) <= as_mpf(ball.rad()) + mpmath.mpf("1e-45")
        wide = B.bump_derivative_enclosure(2, flint.arb(flint.fmpq(1, 5)).union(flint.arb(flint.fmpq(1, 4))))
        for z in (mpmath.mpf(1) / 5, mpmath.mpf(1) / 4):
            assert abs(as_mpf(wide.mid()) - psi2(z)) <= as_mpf(wide.rad())


def test_family_objects_are_accepted_wherever_names_are() -> None:
    from tfapprox.theory.families import LIN, LOG

    assert B.delta_kernel_bound(LIN, 3, 64, 2) == B.delta_kernel_bound("lin", 3, 64, 2)
    assert B.paper_constant(LOG, 2) == B.paper_constant("log", 2)
    assert B.bump_placement(LOG, 4) == B.bump_placement("log", 4)
    assert B.bump_placement("log", 4).family is LOG and B.bump_placement(LOG, 4).rpe == "log"
    assert B.thm3_1_bound_expr(LOG, 2, 1) == B.thm3_1_bound_expr("log", 2, 1)


def test_family_methods_added_for_the_bounds() -> None:
    from tfapprox.theory.families import LIN, LOG

    a = mpmath.mpf("0.01")
    assert LIN.bump_scale_floor_mp(a) == -mpmath.expm1(-a)
    for T_ in (1, 2, 7, 1000):  # log: inf_T T^{1+alpha} sigma_T is attained at T = 1
        mu, sigma, _height = B.bump_placement("log", T_).numeric(40)
        with mpmath.workdps(40):
            assert sigma * mpmath.power(T_, 1 + a) >= LOG.bump_scale_floor_mp(a) * (1 - mpmath.mpf("1e-35"))
    assert LIN.memory_rounding_tolerance(5) == R(1, 4) and LOG.memory_rounding_tolerance(5) == R(1, 40)


def test_all_lists_every_public_name() -> None:
    """bounds.__all__ lists every public function and class it holds, and everything the modules of the
    split export (issue 14: nine public functions were missing)."""
    import inspect

    from tfapprox.theory import (bound_common, bump, interpolation_bounds, nested_bounds, paper_form,
                                 theorem_bounds)

    public = {k for k, v in vars(B).items()
              if not k.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v)) and k != "annotations"}
    assert public <= set(B.__all__)
    for module in (bound_common, bump, interpolation_bounds, nested_bounds, paper_form, theorem_bounds):
        assert set(module.__all__) <= set(B.__all__), module.__name__
        assert all(getattr(B, name) is getattr(module, name) for name in module.__all__)
    assert len(B.__all__) == len(set(B.__all__))
