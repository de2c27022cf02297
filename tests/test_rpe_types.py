"""RPE types as objects (tfapprox.theory.rpe): the registry, JSON round trips, and the
quadratic RPE ``phi(s) = -s^2`` end to end (tails, forward pass in three backends, model
file, export), the type added to prove that a new RPE is one module plus its tests."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import (
    LinRPE,
    LogRPE,
    QuadraticRPE,
    RPEType,
    T5RPE,
    TableRPE,
    export_form,
    register_rpe,
    rpe_from_dict,
    rpe_type,
    rpe_type_names,
)
from tfapprox.theory.rpe.quadratic import MAX_QUADRATIC_TERMS, quadratic_terms
from tfapprox.verify.lowering import Backend
from tfapprox.verify.model import Model, PrecisionError
from tfapprox.verify.model_file import load_spec, save_spec, spec_from_dict, spec_to_dict
from tfapprox.verify.tails import log_tail_float64, rpe_weights_object, tail_object

R = sympy.Rational
ALL = [LinRPE(), LogRPE(), T5RPE(3, 9, mask_beyond=True), T5RPE(2, 5), TableRPE((0, None, R(-1, 3), -2)),
       QuadraticRPE()]


def _reference_tail(p: float, start: int, dps: int = 60) -> mpmath.mpf:
    """sum_{s >= start} e^{-p s^2} by brute force: terms until they are below 10^-(2 dps)."""
    with mpmath.workdps(dps):
        pm = mpmath.mpf(p)
        total, s = mpmath.mpf(0), max(start, 0)
        while True:
            term = mpmath.exp(-pm * s * s)
            total += term
            if s > start + 2 and term < total * mpmath.mpf(10) ** (-2 * dps):
                return total
            s += 1


# ------------------------------------------------------------------------------ registry
def test_registry_lists_every_type_in_order():
    assert rpe_type_names()[:5] == ("lin", "log", "t5", "table", "quadratic")
    for name in rpe_type_names():
        cls = rpe_type(name)
        assert issubclass(cls, RPEType) and cls.type_name == name
    with pytest.raises(ValueError, match=r"rpe.type must be one of \['lin', 'log', 't5', 'table', 'quadratic'"):
        rpe_type("cubic")


@pytest.mark.parametrize("rpe", ALL, ids=lambda r: r.kind)
def test_json_round_trip_through_the_registry(rpe):
    data = rpe.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert rpe_from_dict(data) == rpe
    assert set(data) == set(type(rpe).file_keys)


def test_rpe_from_dict_checks_keys_and_fields():
    with pytest.raises(ValueError, match=r"rpe.type: must be one of"):
        rpe_from_dict({"type": "cubic"})
    with pytest.raises(ValueError, match=r"unknown keys \['p'\]"):
        rpe_from_dict({"type": "quadratic", "p": "1"})
    with pytest.raises(ValueError, match=r"missing keys \['mask_beyond'\]"):
        rpe_from_dict({"type": "t5", "num_exact": 2, "max_distance": 5})
    with pytest.raises(ValueError, match="missing keys"):
        rpe_from_dict({})
    with pytest.raises(TypeError, match="JSON object"):
        rpe_from_dict("lin")
    with pytest.raises(TypeError, match="num_exact: must be an integer"):
        rpe_from_dict({"type": "t5", "num_exact": "2", "max_distance": 5, "mask_beyond": True})


def test_register_rpe_refuses_duplicates_and_non_types():
    @dataclass(frozen=True)
    class Other(RPEType):
        type_name = "lin"

    with pytest.raises(ValueError, match="already registered"):
        register_rpe(Other)
    with pytest.raises(TypeError, match="subclass of RPEType"):
        register_rpe(dict)
    assert register_rpe(LinRPE) is LinRPE  # registering the same class again is a no-op


def test_export_forms():
    assert export_form("lin") == LinRPE() and export_form("quadratic") == QuadraticRPE()
    assert export_form("table").type_name == "table-form"
    with pytest.raises(ValueError, match="rpe_kind must be one of"):
        export_form("t5")  # T5 exports as a table
    with pytest.raises(ValueError, match="rpe_kind must be one of"):
        export_form(3)


@pytest.mark.parametrize("rpe", ALL, ids=lambda r: r.kind)
def test_weights_agree_between_float64_mpmath_and_sympy(rpe):
    """phi, exp(p phi) in mpmath and sympy, and the tails of every type agree (summable ones)."""
    p = R(3, 2)
    lags = np.arange(12)
    phi = rpe.phi(lags)
    with mpmath.workdps(40):
        be = Backend("mpmath", 40)
        w_mp = rpe_weights_object(rpe, mpmath.mpf(1.5), lags, be)
        w_ex = rpe_weights_object(rpe, p, lags, Backend("sympy", None))
        for s in lags:
            want = 0.0 if phi[s] == -math.inf else math.exp(1.5 * phi[s])
            assert float(w_mp[s]) == pytest.approx(want, rel=1e-14, abs=0)
            assert float(sympy.N(w_ex[s], 30)) == pytest.approx(want, rel=1e-14, abs=0)
        if not rpe.summable(p):
            assert math.isinf(log_tail_float64(rpe, 1.5, np.array([0]))[0])
            with pytest.raises(ValueError, match="no finite tail"):
                tail_object(rpe, mpmath.mpf(1.5), 0, be)
            return
        for a in (0, 1, 4, 11):
            mp = tail_object(rpe, mpmath.mpf(1.5), a, be)
            ex = tail_object(rpe, p, a, Backend("sympy", None))
            assert abs(mpmath.mpf(str(sympy.N(ex, 35))) - mp) <= mpmath.mpf(10) ** -30 * max(1, mp)
            lt = log_tail_float64(rpe, 1.5, np.array([a]))[0]
            assert (lt == -math.inf and mp == 0) or lt == pytest.approx(float(mpmath.log(mp)), rel=1e-13, abs=1e-13)


def test_tails_refuse_objects_that_are_not_rpe_types():
    with pytest.raises(TypeError, match="RPEType"):
        log_tail_float64("lin", 1.0, np.arange(3))


# ----------------------------------------------------------------------- quadratic: numerics
def test_quadratic_phi_and_weights():
    q = QuadraticRPE()
    assert list(q.phi(np.arange(4))) == [0.0, -1.0, -4.0, -9.0]
    assert q.phi_exact(5) == -25 and q.weight_exact(R(1, 2), 3) == sympy.exp(R(-9, 2))
    assert q.summable(R(1, 100)) and not q.summable(0) and not q.summable(-1)
    assert q.support() is None and q.kind == "quadratic" and q.to_dict() == {"type": "quadratic"}
    assert q.tmx_neg_phi(3, math.log) == 9


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.02, 6.0), start=st.integers(0, 150), terms=st.integers(1, 12))
def test_quadratic_remainder_bound_encloses_the_tail(p, start, terms):
    """With any number of summed terms the geometric bound encloses the true tail."""
    q = QuadraticRPE()
    ref = _reference_tail(p, start)
    with mpmath.workdps(60):
        lo, hi = q.tail_enclosure_mp(p, start, terms=terms)
        slack = ref * mpmath.mpf(10) ** -50
        assert lo - slack <= ref <= hi + slack
        full = q.tail_mp(mpmath.mpf(p), start)  # default terms: the working precision
        assert abs(full - ref) <= ref * mpmath.mpf(10) ** -55


@settings(max_examples=40, deadline=None)
@given(p=st.floats(1e-4, 8.0), starts=st.lists(st.integers(0, 400), min_size=1, max_size=6))
def test_quadratic_float64_log_tail_is_accurate(p, starts):
    got = QuadraticRPE().log_tail_float64(p, np.array(starts))
    for a, g in zip(starts, got):
        want = float(mpmath.log(_reference_tail(p, a, dps=30)))
        assert g == pytest.approx(want, rel=4e-15, abs=4e-15 * abs(want) + 1e-300)


def test_quadratic_tail_exact_is_the_series():
    q = QuadraticRPE()
    e = q.tail_exact(R(1, 3), 4)
    assert isinstance(e, sympy.Sum)
    assert abs(float(e.evalf(25)) - float(_reference_tail(1 / 3, 4))) <= 1e-15 * float(e.evalf(25))


def test_quadratic_slopes_that_need_too_many_terms_are_refused():
    for p in (1e-9, 1e-4, 0.3, 1.0, 7.0):  # the rest after K terms is below 2^-64 of the first term
        k = quadratic_terms(p, 64)
        assert math.exp(-p * k * k) / -math.expm1(-p * (2 * k + 1)) <= 2.0 ** -64
        assert k >= 2
    with pytest.raises(ValueError, match="p must be > 0"):
        quadratic_terms(0.0, 64)
    tiny = 64 * math.log(2) / (2.0 * MAX_QUADRATIC_TERMS) ** 2
    with pytest.raises(ValueError, match="MAX_QUADRATIC_TERMS"):
        QuadraticRPE().log_tail_float64(tiny, np.arange(3))
    assert math.isinf(QuadraticRPE().log_tail_float64(0.0, np.arange(2))[0])  # divergent: +inf, as lin


# ------------------------------------------------------------------- quadratic: end to end
def quadratic_spec(slopes, past="padded", normalized=True, tmx=False):
    """Two layers over width 3 (constant coordinate 2 for the TMX row); DP-free, DP and TMX heads."""
    heads = [AttentionHead([[R(1, 2), 0, 0], [0, R(-1, 3), 0], [0, 0, 0]], slopes[0]),
             AttentionHead([[R(1, 4), R(1, 4), 0], [0, 0, 0], [0, 0, 0]], slopes[1],
                           query=[[R(1, 2), R(1, 3), 0]], key=[[R(-1, 3), R(1, 2), 0]])]
    if tmx:
        heads.append(AttentionHead([[0, R(1, 5), 0], [R(1, 5), 0, 0], [0, 0, 0]], slopes[2], tmx=[[0, 0, R(1, 4)]]))
    out = [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    att = AttentionLayer(tuple(heads), out, QuadraticRPE(), normalized=normalized)
    ffn = FeedForward([[1, R(1, 2), 0], [R(-1, 2), 1, 0]], [[R(1, 8)], [0]], [[1, 0], [0, 1], [0, 0]])
    att2 = AttentionLayer(tuple(heads[:2]), out, QuadraticRPE(), normalized=normalized)
    readout = FeedForward([[1, 1, 0], [1, -1, 0]], [[0], [R(1, 4)]], [[1, R(1, 2)]])
    emb = [[1, 0], [0, 1], [0, 0]]
    return TransformerSpec(emb, [[0], [0], [2]], (Block(att, ffn), Block(att2, readout)), past,
                           {"construction": "test-quadratic"})


def _brute_padded(spec, X, pad, far=60):
    """The padded past as `far` explicit pad tokens in front of the window, past='none'
    (the weights e^{-p s^2} beyond lag far are below e^{-p far^2})."""
    none = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, "none", spec.metadata)
    long = np.concatenate([np.tile(np.asarray(pad, dtype=float), (X.shape[0], far, 1)), X], axis=1)
    return Model(none).run(long, backend="mpmath", dps=40)[:, far:]


@pytest.mark.parametrize("normalized", [True, False], ids=["softmax", "nf"])
def test_quadratic_padded_past_equals_a_long_explicit_past(normalized):
    spec = quadratic_spec([R(1, 2), R(3, 4), R(1, 3)], normalized=normalized, tmx=True)
    X = np.random.default_rng(1).uniform(-1, 1, (2, 5, 2))
    pad = [0.25, -0.5]
    got = Model(spec).run(X, pad=pad, backend="mpmath", dps=40)
    want = _brute_padded(spec, X, pad)
    with mpmath.workdps(40):
        for g, w in zip(np.ravel(got), np.ravel(want)):
            assert abs(g - w) <= mpmath.mpf(10) ** -30 * max(1, abs(w))
    np.testing.assert_allclose(Model(spec).run(X, pad=pad), np.array(want, dtype=float), rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(a=st.integers(1, 40), b=st.integers(1, 40), seed=st.integers(0, 10**6),
       past=st.sampled_from(["padded", "none"]), normalized=st.booleans())
def test_quadratic_mpmath_equals_float64_within_its_error_bound(a, b, seed, past, normalized):
    """Property: the mpmath forward pass (the exact padded-past tails) lies within the
    float64 pass's own first-order rounding-error estimate of the float64 output."""
    spec = quadratic_spec([R(a, 16), R(b, 16), R(1, 2)], past=past, normalized=normalized, tmx=True)
    model = Model(spec)
    X = np.random.default_rng(seed).uniform(-1, 1, (2, 6, 2))
    pad = np.random.default_rng(seed + 1).uniform(-1, 1, 2) if past == "padded" else None
    try:
        fwd = model.forward(X, pad=pad, backend="float64")
    except PrecisionError:
        return
    exact = np.array(model.run(X, pad=pad, backend="mpmath", dps=40), dtype=float)
    bound = fwd.error_estimate + 8 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(exact))))
    assert float(np.max(np.abs(fwd.outputs - exact))) <= bound


@pytest.mark.parametrize("normalized", [True, False], ids=["softmax", "nf"])
def test_quadratic_symbolic_forward_matches_mpmath(normalized):
    """The sympy pass keeps the padded-past tails as exact series (no closed form) and
    agrees with mpmath to 35 digits (one layer: sympy's series evaluation is slow)."""
    heads = (AttentionHead([[R(1, 2)]], R(1, 2)),
             AttentionHead([[R(-1, 3)]], R(2, 3), query=[[R(1, 2)]], key=[[R(1, 3)]]))
    layer = AttentionLayer(heads, [[1]], QuadraticRPE(), normalized=normalized)
    model = Model(TransformerSpec([[1]], [[0]], (Block(layer, None),), "padded"))
    X = [[[R(1, 3)], [R(-1, 2)]]]
    exact = model.run(X, pad=[R(1, 4)], backend="sympy")
    numeric = model.run(X, pad=[R(1, 4)], backend="mpmath", dps=50)
    assert all(e.has(sympy.Sum) for e in np.ravel(exact))  # the tails stay exact series
    for e, n in zip(np.ravel(exact), np.ravel(numeric)):
        with mpmath.workdps(50):
            assert abs(mpmath.mpf(str(sympy.N(e, 45))) - n) <= mpmath.mpf(10) ** -35 * max(1, abs(n))


def test_quadratic_tmx_head_below_its_domain_is_refused():
    spec = quadratic_spec([R(1, 2), R(1, 2), R(1, 2)], tmx=True)
    bad = TransformerSpec(spec.embedding, [[0], [0], [-2]], spec.blocks, "none")
    with pytest.raises(ValueError, match=r"phi_quadratic\(w\^T x_t\) = -inf"):
        Model(bad).run(np.zeros((1, 3, 2)))


def test_no_tmx_for_types_without_a_real_phi():
    heads = (AttentionHead([[1]], 1, tmx=[[1]]),)
    spec = TransformerSpec([[1]], [[1]], (Block(AttentionLayer(heads, [[1]], TableRPE((0, -1))), None),), "none")
    with pytest.raises(ValueError, match="TMX heads .* not defined for table-RPE"):
        Model(spec).run(np.ones((1, 2, 1)))


@settings(max_examples=15, deadline=None)
@given(num=st.lists(st.integers(1, 10**6), min_size=3, max_size=3),
       den=st.lists(st.integers(1, 10**6), min_size=3, max_size=3), past=st.sampled_from(["padded", "none"]))
def test_quadratic_model_file_round_trip_is_exact(num, den, past, tmp_path_factory):
    spec = quadratic_spec([R(n, d) for n, d in zip(num, den)], past=past, tmx=True)
    doc = spec_to_dict(spec)
    assert doc["blocks"][0]["attention"]["rpe"] == {"type": "quadratic"}
    assert spec_from_dict(json.loads(json.dumps(doc))) == spec
    path = tmp_path_factory.mktemp("q") / "m.json"
    save_spec(spec, path)
    assert load_spec(path) == spec


def test_quadratic_strict_reader_refuses_extra_keys():
    doc = spec_to_dict(quadratic_spec([R(1, 2), R(1, 2), R(1, 2)]))
    doc["blocks"][0]["attention"]["rpe"]["p"] = "1"
    with pytest.raises(ValueError, match=r"model file: blocks\[0\].attention.rpe: unknown keys \['p'\]"):
        spec_from_dict(doc)
    doc["blocks"][0]["attention"]["rpe"] = {"type": "gauss"}
    with pytest.raises(ValueError, match=r"rpe.type: must be one of \['lin', 'log', 't5', 'table', 'quadratic'"):
        spec_from_dict(doc)


# ------------------------------------------------------------------------- quadratic: export
def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install 'tfapprox[torch]'")


@pytest.mark.parametrize("past", ["padded", "none"])
def test_quadratic_torch_export_and_file(past, tmp_path):
    torch = _torch()
    from tfapprox.export import load_torch, save_torch, to_torch

    model = Model(quadratic_spec([R(1, 20), R(3, 2), R(1, 2)], past=past, tmx=True))
    X = np.random.default_rng(3).uniform(-1, 1, (3, 9, 2))
    pad = [0.25, -0.5]
    want = model.run(X, pad=pad if past == "padded" else None)
    got = to_torch(model, pad=pad).forward(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)
    save_torch(model, tmp_path / "q.pt2")
    module, config = load_torch(tmp_path / "q.pt2")
    assert config["layers"][0]["attention"]["rpe"] == {"type": "quadratic"}
    for N in (4, 13):  # the window length is dynamic; the tails follow it
        Y = np.random.default_rng(N).uniform(-1, 1, (2, N, 2))
        np.testing.assert_allclose(module(torch.tensor(Y)).numpy(), model.run(Y), rtol=1e-11, atol=1e-11)


def test_quadratic_lens_file_round_trip(tmp_path):
    torch = _torch()
    pytest.importorskip("transformer_lens", reason="TransformerLens is not installed: pip install 'tfapprox[lens]'")
    from tfapprox.export import load_lens, save_lens

    model = Model(quadratic_spec([R(1, 20), R(3, 2), R(1, 2)]))
    path = save_lens(model, tmp_path / "q.lens.pt", pad=[0.25, -0.5])
    ck = torch.load(str(path), weights_only=True)
    assert [lay["rpe_kind"] for lay in ck["layers"]] == ["quadratic", "quadratic"]
    hooked, embed = load_lens(path)
    X = np.random.default_rng(5).uniform(-1, 1, (2, 8, 2))
    logits = hooked(embed(torch.tensor(X)), start_at_layer=0).detach().numpy()[:, 1:]
    np.testing.assert_allclose(logits, model.run(X, pad=[0.25, -0.5]), rtol=1e-11, atol=1e-11)
    ck["layers"][0]["rpe_kind"] = "gauss"
    torch.save(ck, tmp_path / "bad.pt")
    allowed = r"layers\[0\]\['rpe_kind'\] is 'gauss'; allowed: 'lin', 'log', 'quadratic', 'table'"
    with pytest.raises(ValueError, match=allowed):
        load_lens(tmp_path / "bad.pt")


# ------------------------------------------------------------------ a type of five methods
def test_a_new_finite_type_runs_end_to_end_from_the_base_class(monkeypatch, tmp_path):
    """A type that states only phi, phi_exact, summable and support (a window of W lags
    with phi(s) = -s/2) gets tails, the three backends, the model file and the export
    from RPEType; registered in a copy of the registry that the test then drops."""
    from tfapprox.theory.rpe import base

    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))

    @register_rpe
    @dataclass(frozen=True)
    class HalfWindow(RPEType):
        type_name = "half-window"
        summability = "always (W = 4 lags)"

        def phi(self, s):
            s = np.asarray(s, dtype=float)
            return np.where((s >= 0) & (s < 4), -s / 2, -np.inf)

        def phi_exact(self, s):
            return -R(s, 2) if 0 <= s < 4 else -sympy.oo

        def summable(self, p):
            return True

        def support(self):
            return 4

    rpe = rpe_from_dict({"type": "half-window"})
    head = AttentionHead([[1]], R(3, 2))
    layer = AttentionLayer((head,), [[1]], rpe, normalized=False)
    spec = TransformerSpec([[1]], [[0]], (Block(layer, None),), "padded")
    x = np.array([1.0, -0.5, 0.25])
    y = Model(spec).run(x, pad=[0.5])[:, 0]
    w = np.exp(-0.75 * np.arange(4))  # e^{p phi(s)}, p = 3/2
    seq = np.concatenate([np.full(4, 0.5), x])
    want = [x[t] + sum(w[s] * seq[4 + t - s] for s in range(4)) for t in range(3)]
    np.testing.assert_allclose(y, want, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(np.array(Model(spec).run(x, pad=[0.5], backend="mpmath", dps=30)[:, 0], float), want,
                               rtol=1e-15, atol=1e-15)
    exact = Model(spec).run([[[R(1)], [R(-1, 2)], [R(1, 4)]]], pad=[R(1, 2)], backend="sympy")
    np.testing.assert_allclose([float(v) for v in np.ravel(exact)], want, rtol=1e-15)
    save_spec(spec, tmp_path / "m.json")
    assert load_spec(tmp_path / "m.json") == spec
    torch = pytest.importorskip("torch")
    from tfapprox.export import to_torch

    got = to_torch(Model(spec), pad=[0.5]).forward(torch.tensor(x.reshape(1, 3, 1))).numpy().ravel()
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


def test_an_infinite_type_without_tails_says_what_to_override():
    @dataclass(frozen=True)
    class Bare(RPEType):  # not registered: only its numerics are used
        type_name = "bare"
        summability = "p > 0"

        def phi(self, s):
            return -np.asarray(s, dtype=float) ** 3

        def phi_exact(self, s):
            return -sympy.Integer(s) ** 3

        def summable(self, p):
            return bool(p > 0)

        def support(self):
            return None

    with pytest.raises(NotImplementedError, match="must override log_tail_float64"):
        Bare().log_tail_float64(1.0, np.arange(3))
    with pytest.raises(NotImplementedError, match="must override tail_mp"):
        Bare().tail_mp(mpmath.mpf(1), 0)
    assert math.isinf(Bare().log_tail_float64(-1.0, np.arange(2))[0])  # divergent: +inf
    with pytest.raises(NotImplementedError, match="override export_tables"):
        Bare().export_tables([1.0])
