"""PyTorch / TransformerLens export (tfapprox.export): parity with ``Model.run(backend="float64")``.

Parity is measured norm-wise: ``max |export - reference| <= 1e-10 * max |reference|``
over random windows, for outputs and for the hidden state after every sub-layer.
Tests needing torch or transformer_lens skip with a reason when the extra is absent.
"""

from __future__ import annotations

import ast
import json
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import sympy

from tfapprox.api import BUILDERS, build_model
from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import LinRPE, LogRPE, QuadraticRPE, T5RPE, TableRPE
from tfapprox.verify.model import Model, PrecisionError

R = sympy.Rational
REL = 1e-10

#: sizes whose weights fit float64 (Model.run(backend="float64") accepts them); a
#: construction registered later without an entry here is tried at its defaults and
#: then with fewer heads.
SMALL = {
    "thm3.1": [dict(lags="1,5,20", heads=20, rpe="lin"), dict(lags="1,3", heads=12, rpe="log")],
    "thm4.1": [dict(heads=8, rpe="lin"), dict(heads=8, rpe="log"), dict(heads=8, tmx=True)],
    "thm5.1": [dict(heads=4), dict(kernel="poly:2", heads=4)],
}


def _torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed: pip install 'tfapprox[torch]'")


def _lens():
    _torch()
    return pytest.importorskip("transformer_lens",
                               reason="TransformerLens is not installed: pip install 'tfapprox[lens]'")


def _windows(model: Model, seed: int, batch: int = 6, N: int = 14) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = model.spec.input_dim
    a = rng.choice([-1.0, 0.0, 1.0], (batch // 2, N, d))
    b = rng.uniform(-1.0, 1.0, (batch - batch // 2, N, d))
    return np.concatenate([a, b])


def _rel(a: np.ndarray, ref: np.ndarray) -> float:
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(np.asarray(a) - ref))) if ref.size else 0.0
    return diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def _fits_float64(model: Model, X: np.ndarray, pad: list[float]) -> bool:
    try:
        model.run(X, pad=pad)
    except PrecisionError:
        return False
    return True


def _registry_models(name: str) -> list[tuple[dict, Model]]:
    options = SMALL.get(name)
    if options is None:  # a construction registered after this test was written
        options = [{}] + [dict(heads=h) for h in (16, 8, 4, 2)]
        for opt in options:
            try:
                m = build_model(name, **opt)
            except (ValueError, TypeError):
                continue
            if _fits_float64(m, _windows(m, 0), [0.0] * m.spec.input_dim):
                return [(opt, m)]
        return []
    return [(opt, build_model(name, **opt)) for opt in options]


def _compare_torch(model: Model, X: np.ndarray, pad: list[float]) -> tuple[float, float]:
    torch = _torch()
    from tfapprox.export import to_torch

    ref = model.forward(X, pad=pad, keep_hidden=True)
    module = to_torch(model, pad=pad)
    states = module.hidden_states(torch.tensor(X))
    assert len(states) == len(ref.hidden)
    padded = model.past == "padded"
    worst_hidden = 0.0
    for i, (want, got) in enumerate(zip(ref.hidden, states)):
        got = got.numpy()
        window = got[:, 1:] if padded else got
        worst_hidden = max(worst_hidden, _rel(window, want))
        if padded:
            worst_hidden = max(worst_hidden, _rel(got[0, 0], ref.pad_states[i]))
    out = module(torch.tensor(X)).numpy()
    return _rel(out, model.run(X, pad=pad)), worst_hidden


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_torch_parity_every_registered_construction(name):
    _torch()
    cases = _registry_models(name)
    if not cases:
        pytest.skip(f"{name}: no size tried fits float64 (Model.run raises PrecisionError)")
    for opt, model in cases:
        for seed, pad in ((1, 0.0), (2, 1.0)):
            X = _windows(model, seed)
            padv = [pad] * model.spec.input_dim
            try:
                model.run(X, pad=padv)
            except ValueError as exc:  # e.g. TMX needs w^T x >= 0: the export must refuse too
                from tfapprox.export import to_torch

                torch = _torch()
                with pytest.raises(ValueError, match="TMX"):
                    to_torch(model, pad=padv)(torch.tensor(X))
                continue
            out, hidden = _compare_torch(model, X, padv)
            assert out <= REL and hidden <= REL, (name, opt, pad, out, hidden)


# ------------------------------------------------------------- hand-built feature cases
def _rand(rng, shape, scale=1.0):
    return [[R(int(v), 64) for v in row] for row in np.round(rng.uniform(-scale, scale, shape) * 64)]


def _spec(rpe, *, normalized=True, kinds=("free", "dp", "tmx"), precision=None, residual=True,
          past="padded", last_ffn=True, seed=0) -> TransformerSpec:
    """A small random 2-layer model.  Coordinate 2 of the residual stream is a constant 16
    (no layer writes to it) so that the TMX row w = (0, 0, 1/8) gives w^T x = 2 >= 1."""
    rng = np.random.default_rng(seed)
    D, d = 3, 2

    def writes(shape, scale=1.0):  # a matrix writing to the residual stream: row 2 zero
        m = _rand(rng, shape, scale)
        m[2] = [0] * len(m[2])
        return m

    def reads(shape, scale=1.0):  # query/key maps ignore the constant coordinate
        m = _rand(rng, shape, scale)
        return [row[:2] + [0] for row in m]

    slopes = [R(3, 2), R(5, 2), R(9, 4)] if rpe.kind == "log" else [R(1, 3), R(7, 10), R(6, 5)]
    qk = 0.5 if normalized else 0.2  # normalization-free weights exp(logit) stay moderate
    heads = []
    for i, k in enumerate(kinds):
        kw = {}
        if k == "dp":
            kw = dict(query=reads((2, D), qk), key=reads((2, D), qk))
        elif k == "tmx":
            kw = dict(tmx=[[0, 0, R(1, 8)]])
        value = _rand(rng, (D, D), 0.25) if normalized else reads((D, D), 0.1)
        heads.append(AttentionHead(value, slopes[i % 3], **kw))
    att = AttentionLayer(tuple(heads), writes((D, D)), rpe, normalized=normalized)
    ffn0 = FeedForward(_rand(rng, (4, D), 0.25), _rand(rng, (4, 1)), writes((D, 4)), precision=precision)
    att2 = AttentionLayer(tuple(heads[:2]), writes((D, D)), rpe, normalized=normalized, residual=residual)
    readout = FeedForward(_rand(rng, (5, D), 0.25), _rand(rng, (5, 1)), _rand(rng, (2, 5))) if last_ffn else None
    emb = writes((D, d))
    bias = [[0], [R(1, 2)], [16]]
    return TransformerSpec(emb, bias, (Block(att, ffn0), Block(att2, readout)), past, {"construction": "test"})


FEATURES = {
    "lin-normalised": dict(rpe=LinRPE()),
    "log-normalised": dict(rpe=LogRPE()),
    "lin-NF": dict(rpe=LinRPE(), normalized=False),
    "log-NF": dict(rpe=LogRPE(), normalized=False),
    "t5-masked": dict(rpe=T5RPE(2, 6, mask_beyond=True), kinds=("free", "dp")),
    "t5-unmasked-none": dict(rpe=T5RPE(2, 6), kinds=("free", "dp"), past="none"),
    "table": dict(rpe=TableRPE((0, None, R(-1, 2), -2)), kinds=("free", "dp")),
    "table-NF-none": dict(rpe=TableRPE((None, R(1, 3), -1)), kinds=("free", "dp"), normalized=False, past="none"),
    "log-none": dict(rpe=LogRPE(), past="none"),
    "lin-none": dict(rpe=LinRPE(), past="none"),
    "round": dict(rpe=LinRPE(), precision="round"),
    "log_round": dict(rpe=LinRPE(), precision="log_round"),
    "no-residual": dict(rpe=LinRPE(), residual=False),
    "no-readout": dict(rpe=LinRPE(), last_ffn=False),
    "quadratic-normalised": dict(rpe=QuadraticRPE()),
    "quadratic-NF": dict(rpe=QuadraticRPE(), normalized=False),
    "quadratic-none": dict(rpe=QuadraticRPE(), past="none"),
}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_torch_parity_every_feature(feature):
    _torch()
    model = Model(_spec(**FEATURES[feature]))
    for seed in (3, 4):
        X = np.random.default_rng(seed).uniform(-1, 1, (4, 11, 2))
        out, hidden = _compare_torch(model, X, [0.25, -0.5])
        assert out <= REL and hidden <= REL, (feature, out, hidden)


def test_torch_rounding_ties_go_to_even():
    torch = _torch()
    from tfapprox.export import to_torch

    ffn = FeedForward([[1]], [[0]], [[1]], precision="round")
    spec = TransformerSpec([[1]], [[0]], (Block(None, ffn),), "none", {})
    X = np.array([[[0.5], [1.5], [2.5], [3.5]]])
    got = to_torch(Model(spec))(torch.tensor(X)).numpy()[0, :, 0]
    # float64 Model.run refuses inputs on a rounding boundary; mpmath's nint is the reference
    want = [float(v) for v in Model(spec).run(X, backend="mpmath", dps=30)[0, :, 0]]
    assert got.tolist() == [0.0, 2.0, 2.0, 4.0] == want


def test_torch_tmx_outside_domain_is_refused_like_the_reference():
    torch = _torch()
    from tfapprox.export import to_torch

    model = Model(_spec(LogRPE()))
    X = np.full((1, 3, 2), -1.0)
    X[0, :, :] = [-1.0, -1.0]
    spec = model.spec
    bad = TransformerSpec(spec.embedding, [[0], [0], [4]], spec.blocks, spec.past, {})  # w^T x = 1/2 < 1
    with pytest.raises(ValueError, match="TMX"):
        Model(bad).run(X)
    with pytest.raises(ValueError, match="TMX"):
        to_torch(Model(bad))(torch.tensor(X))


def test_float32_export_warns_with_digits_needed():
    torch = _torch()
    from tfapprox.export import to_torch

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    with pytest.warns(RuntimeWarning, match=r"needs \d+ decimal digits"):
        module = to_torch(model, dtype=torch.float32)
    assert module.embed.W_E.dtype == torch.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_torch(model)  # fits float64: no warning


def test_float64_export_of_a_cancelling_construction_warns():
    _torch()
    from tfapprox.export import to_torch

    model = build_model("thm3.1", lags="1,5,20", heads=40)
    with pytest.raises(PrecisionError):
        model.run(np.ones((1, 4, 1)))
    with pytest.warns(RuntimeWarning, match=r"needs \d+ decimal digits.*mpmath"):
        to_torch(model)


def test_torch_module_layout():
    torch = _torch()
    from tfapprox.export import to_torch

    module = to_torch(Model(_spec(LinRPE())))
    names = dict(module.named_parameters())
    for key in ("embed.W_E", "embed.b_E", "blocks.0.attn.W_Q", "blocks.0.attn.W_K", "blocks.0.attn.W_V",
                "blocks.0.attn.p", "blocks.0.attn.W_O", "blocks.0.ffn.b", "blocks.1.attn.W_V", "readout.a"):
        assert key in names, key
    assert names["blocks.0.attn.W_V"].shape == (3, 3, 3)
    assert all(p.dtype == torch.float64 and not p.requires_grad for p in names.values())


# -------------------------------------------------------------------- TransformerLens
def _compare_lens(model: Model, X: np.ndarray, pad: list[float]) -> tuple[float, float]:
    torch = _torch()
    from tfapprox.export import to_transformer_lens

    hooked, embed = to_transformer_lens(model, pad=pad)
    logits, cache = hooked.run_with_cache(embed(torch.tensor(X)), start_at_layer=0)
    padded = model.past == "padded"
    cut = (lambda t: t[:, 1:]) if padded else (lambda t: t)
    out = _rel(cut(logits).detach().numpy(), model.run(X, pad=pad))
    ref = model.forward(X, pad=pad, keep_hidden=True)
    D = model.spec.width
    names = []
    for l, block in enumerate(model.spec.blocks):
        if block.attention is not None:
            names.append(f"blocks.{l}.hook_resid_mid")
        if block.ffn is not None and l < len(model.spec.blocks) - 1:
            names.append(f"blocks.{l}.hook_resid_post")
    hidden = max(_rel(cut(cache[n])[..., :D].numpy(), want) for n, want in zip(names, ref.hidden[1:]))
    return out, hidden


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_lens_parity_or_clear_refusal_every_registered_construction(name):
    _lens()
    from tfapprox.export import UnsupportedExport, to_transformer_lens

    cases = _registry_models(name)
    if not cases:
        pytest.skip(f"{name}: no size tried fits float64")
    for opt, model in cases:
        spec = model.spec
        unsupported = [b for b in spec.blocks if (b.ffn is not None and b.ffn.precision is not None)
                       or (b.attention is not None and (not b.attention.residual
                                                        or any(h.is_tmx for h in b.attention.heads)))]
        if unsupported:
            with pytest.raises(UnsupportedExport, match="use to_torch"):
                to_transformer_lens(model)
            continue
        X = _windows(model, 5)
        out, hidden = _compare_lens(model, X, [0.0] * spec.input_dim)
        assert out <= REL and hidden <= REL, (name, opt, out, hidden)


@pytest.mark.parametrize("feature", ["lin-normalised", "log-NF", "t5-masked", "table-NF-none", "log-none",
                                     "no-readout", "quadratic-normalised", "quadratic-NF", "quadratic-none"])
def test_lens_parity_features(feature):
    _lens()
    kw = dict(FEATURES[feature])
    kw["kinds"] = tuple(k for k in kw.get("kinds", ("free", "dp", "tmx")) if k != "tmx")
    model = Model(_spec(**kw))
    X = np.random.default_rng(7).uniform(-1, 1, (3, 9, 2))
    out, hidden = _compare_lens(model, X, [0.25, -0.5])
    assert out <= REL and hidden <= REL, (feature, out, hidden)


@pytest.mark.parametrize("feature,match", [("round", "precision"), ("no-residual", "residual"),
                                           ("lin-normalised", "TMX")])
def test_lens_refuses_what_it_cannot_express(feature, match):
    _lens()
    from tfapprox.export import UnsupportedExport, to_transformer_lens

    kw = dict(FEATURES[feature])
    if match != "TMX":
        kw["kinds"] = ("free", "dp")  # the refusal names the feature under test, not the TMX head
    with pytest.raises(UnsupportedExport, match=match):
        to_transformer_lens(Model(_spec(**kw)))


def test_lens_attention_pattern_is_the_models_attention():
    torch = _torch()
    _lens()
    from tfapprox.export import to_transformer_lens

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    hooked, embed = to_transformer_lens(model)
    _, cache = hooked.run_with_cache(embed(torch.zeros((1, 5, 1), dtype=torch.float64)), start_at_layer=0)
    pattern = cache["blocks.0.attn.hook_pattern"][0]  # (heads, 6, 6), position 0 = padded past
    p = float(model.spec.blocks[0].attention.heads[0].slope)
    # a DP-free lin head: weight of lag s is e^{-p s} (1 - e^{-p}); the pad column holds the tail e^{-p(t+1)}
    t = 4
    want = [np.exp(-p * (t + 1))] + [np.exp(-p * (t - j)) * (1 - np.exp(-p)) for j in range(t + 1)]
    assert np.allclose(pattern[0, t + 1].numpy(), want, rtol=1e-12, atol=0)


# ------------------------------------------------------------------- files and CLI
_BLOCK_TFAPPROX = "import sys; sys.modules['tfapprox'] = None\n"


def _fresh_python(code: str, cwd) -> subprocess.CompletedProcess:
    """Run ``code`` with ``python -I`` (no PYTHONPATH, no cwd on sys.path) after making
    ``import tfapprox`` impossible: the file must load with torch (and TransformerLens) only."""
    return subprocess.run([sys.executable, "-I", "-c", _BLOCK_TFAPPROX + textwrap.dedent(code)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_export_torch_loads_in_fresh_python_without_tfapprox(tmp_path):
    _torch()
    from tfapprox.cli import main

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    model.save(tmp_path / "m.json")
    assert main(["export", str(tmp_path / "m.json"), "--to", "torch", "--out", str(tmp_path / "m.pt2")]) == 0
    X = np.random.default_rng(9).uniform(-1, 1, (2, 17, 1))
    np.save(tmp_path / "x.npy", X)
    res = _fresh_python("""
        import numpy as np
        try:
            import tfapprox
            raise SystemExit("tfapprox importable")
        except ImportError:
            pass
        import torch
        model = torch.export.load("m.pt2").module()
        y = model(torch.tensor(np.load("x.npy")))
        np.save("y.npy", y.numpy())
        """, tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _rel(np.load(tmp_path / "y.npy"), model.run(X)) <= REL


def test_cli_export_lens_loads_with_the_package_loader_which_executes_nothing(tmp_path):
    """The lens file is loaded by tfapprox.export.load_lens in a fresh ``python -I``
    while exec, eval and compile are disabled (after a first load of another file has
    imported torch's lazily loaded modules): loading runs no text from the file."""
    _lens()
    from tfapprox.cli import main

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    model.save(tmp_path / "m.json")
    assert main(["export", str(tmp_path / "m.json"), "--to", "lens", "--out", str(tmp_path / "m.lens.pt")]) == 0
    X = np.random.default_rng(10).uniform(-1, 1, (2, 12, 1))
    np.save(tmp_path / "x.npy", X)
    from tfapprox.export import save_lens

    save_lens(build_model("thm3.1", lags="1,3", heads=8, rpe="log"), tmp_path / "warm.lens.pt")
    res = subprocess.run([sys.executable, "-I", "-c", textwrap.dedent("""
        import builtins
        import numpy as np
        import torch, transformer_lens, tfapprox.export
        from tfapprox.export import load_lens

        load_lens("warm.lens.pt")  # first use: torch and typing import and compile their own lazy parts

        def forbidden(*args, **kwargs):
            raise AssertionError("exec/eval/compile called while loading")

        saved = builtins.exec, builtins.eval, builtins.compile
        builtins.exec = builtins.eval = builtins.compile = forbidden
        try:
            model, embed = load_lens("m.lens.pt")
        finally:
            builtins.exec, builtins.eval, builtins.compile = saved
        logits = model(embed(torch.tensor(np.load("x.npy"))), start_at_layer=0)
        np.save("y.npy", logits[:, 1:].detach().numpy())
        """)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _rel(np.load(tmp_path / "y.npy"), model.run(X)) <= REL


def _walk(obj, path="ck"):
    """Yield (path, leaf) for every leaf of a nested dict/list/tuple."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert type(k) is str, (path, k)
            yield from _walk(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, obj


_CODE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Import, ast.ImportFrom,
               ast.Call, ast.Assign)


def _python_code_in(text: str) -> list[str]:
    """The code-bearing syntax nodes of ``text`` read as Python (none if it does not parse)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [type(n).__name__ for n in ast.walk(tree) if isinstance(n, _CODE_NODES)]


def test_python_code_detector_flags_loader_source_and_passes_plain_data():
    assert _python_code_in("import torch\ndef load(ck):\n    return ck\n")
    assert _python_code_in("__import__('os').system('true')")
    for text in ("lin", "padded", "float64", "tfapprox.lens-export/1", '{"a": [1, null, true]}', "relu"):
        assert not _python_code_in(text), text


@pytest.mark.parametrize("feature", ["lin-normalised", "log-NF", "t5-masked", "table-NF-none",
                                     "quadratic-normalised"])
def test_lens_file_is_data_only_and_load_lens_reproduces_the_model(feature, tmp_path):
    torch = _torch()
    _lens()
    from tfapprox.export import load_lens, save_lens

    kw = dict(FEATURES[feature])
    kw["kinds"] = tuple(k for k in kw.get("kinds", ("free", "dp", "tmx")) if k != "tmx")
    model = Model(_spec(**kw))
    pad = [0.25, -0.5]
    path = save_lens(model, tmp_path / "m.lens.pt", pad=pad)
    ck = torch.load(str(path), weights_only=True)  # the restricted unpickler: no callables
    assert "loader" not in ck
    strings = 0
    for where, leaf in _walk(ck):
        assert leaf is None or type(leaf) in (str, int, float, bool, torch.Tensor), (where, type(leaf))
        if isinstance(leaf, str):
            strings += 1
            assert not _python_code_in(leaf), (where, leaf[:80])  # no string is Python code
    assert strings >= 5
    hooked, embed = load_lens(path)
    X = np.random.default_rng(11).uniform(-1, 1, (3, 9, 2))
    logits = hooked(embed(torch.tensor(X)), start_at_layer=0).detach().numpy()
    got = logits[:, 1:] if model.past == "padded" else logits
    assert _rel(got, model.run(X, pad=pad)) <= REL


class _Marker:
    """Unpickling this would create a file (it must never happen)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _tamper(ck, key, value):
    ck = dict(ck)
    ck[key] = value
    return ck


def test_load_lens_never_runs_code_from_the_file_and_refuses_what_is_not_data(tmp_path):
    torch = _torch()
    _lens()
    from tfapprox.export import load_lens, save_lens

    model = build_model("thm3.1", lags="1,3", heads=12, rpe="log")
    path = save_lens(model, tmp_path / "m.lens.pt")
    ck = torch.load(str(path), weights_only=True)
    marker = tmp_path / "MARKER"
    # loader text as earlier versions stored it: tolerated, never read
    code = f"open({str(marker)!r}, 'w').close()\ndef load(ck):\n    open({str(marker)!r}, 'w').close()\n"
    torch.save(_tamper(ck, "loader", code), tmp_path / "old.pt")
    load_lens(tmp_path / "old.pt")
    assert not marker.exists()
    # a pickled callable: the restricted unpickler refuses it before anything runs
    torch.save(_tamper(ck, "pad", _Marker(marker)), tmp_path / "pickle.pt")
    with pytest.raises(ValueError, match="weights_only=True"):
        load_lens(tmp_path / "pickle.pt")
    assert not marker.exists()
    # configuration a TransformerLens would act on (tokenizer download, remote code) is refused
    cases = {
        "tokenizer": (_tamper(ck, "config", dict(ck["config"], tokenizer_name="gpt2", trust_remote_code=True)),
                      "config fields"),
        "dtype": (_tamper(ck, "config", dict(ck["config"], dtype="save")), r"config\['dtype'\]"),
        "size": (_tamper(ck, "config", dict(ck["config"], d_mlp=10 ** 12)), r"config\['d_mlp'\]"),
        "rpe": (_tamper(ck, "layers", [dict(ck["layers"][0], rpe_kind="__import__")]), "rpe_kind"),
        "past": (_tamper(ck, "past", "all"), "past"),
        "extra": (_tamper(ck, "hooks", "x"), "set of entries"),
        "format": (_tamper(ck, "format", "tfapprox.lens-export/0"), "format"),
        "shape": (_tamper(ck, "state_dict", dict(ck["state_dict"], **{"unembed.b_U": torch.zeros(7,
                                                                      dtype=torch.float64)})), "shape"),
        "nan": (_tamper(ck, "embed_b", torch.full_like(ck["embed_b"], math.nan)), "non-finite"),
        "not a dict": ([1, 2], "a dict"),
    }
    for name, (bad, match) in cases.items():
        torch.save(bad, tmp_path / f"{name}.pt")
        with pytest.raises(ValueError, match=match):
            load_lens(tmp_path / f"{name}.pt")
    for bad_path, match in ((tmp_path / "missing.pt", "cannot read"), (tmp_path, "not a regular file")):
        with pytest.raises(ValueError, match=match):
            load_lens(bad_path)
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="weights_only=True"):
        load_lens(tmp_path / "garbage.pt")


def _rewrite_pt2(src, dst, fn):
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info, fn(info.filename, zin.read(info.filename)))


def test_torch_export_load_runs_code_from_the_file_and_load_torch_refuses_it(tmp_path):
    """What docs/interop.md says about torch.export.load: a crafted .pt2's guards_code is
    Python that ``.module()`` compiles and every call runs.  load_torch refuses such
    archives (and pickled payloads, foreign entries, unknown call targets) before
    torch.export.load sees them, and loads what save_torch writes."""
    torch = _torch()
    from tfapprox.export import load_torch, save_torch

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    save_torch(model, tmp_path / "m.pt2")
    module, config = load_torch(tmp_path / "m.pt2")
    X = np.random.default_rng(12).uniform(-1, 1, (2, 7, 1))
    assert _rel(module(torch.tensor(X)).numpy(), model.run(X)) <= REL
    assert config["format"] == "tfapprox.torch-export/1" and config["past"] == "padded"

    marker = tmp_path / "MARKER"

    def guards(name, data):
        if name.endswith("models/model.json"):
            prog = json.loads(data)
            prog["guards_code"] = [f"__import__('pathlib').Path({str(marker)!r}).touch() is None"]
            return json.dumps(prog).encode()
        return data

    _rewrite_pt2(tmp_path / "m.pt2", tmp_path / "g.pt2", guards)
    with pytest.raises(ValueError, match="guards_code"):
        load_torch(tmp_path / "g.pt2")
    assert not marker.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.load(str(tmp_path / "g.pt2")).module()(torch.tensor(X))
    assert marker.exists()  # torch alone ran the file's Python: why load_torch checks first

    def pickled(name, data):
        if name.endswith("model_weights_config.json"):
            cfg = json.loads(data)
            next(iter(cfg["config"].values()))["use_pickle"] = True
            return json.dumps(cfg).encode()
        return data

    def target(name, data):
        if name.endswith("models/model.json"):
            return data.replace(b'"torch.ops.aten.relu.default"', b'"torch.os.system"')
        return data

    for fn, match in ((pickled, "pickled payload"), (target, "torch.os.system")):
        _rewrite_pt2(tmp_path / "m.pt2", tmp_path / "bad.pt2", fn)
        with pytest.raises(ValueError, match=match):
            load_torch(tmp_path / "bad.pt2")
    with zipfile_writer(tmp_path / "so.pt2", tmp_path / "m.pt2") as z:
        z.writestr("m/data/aotinductor/model/model.so", b"\x7fELF")
    with pytest.raises(ValueError, match="aotinductor"):
        load_torch(tmp_path / "so.pt2")
    (tmp_path / "x.pt2").write_bytes(b"PK not a zip")
    with pytest.raises(ValueError, match="not a .pt2 archive"):
        load_torch(tmp_path / "x.pt2")


@pytest.mark.parametrize("feature", ["log-normalised", "t5-unmasked-none", "log_round", "table-NF-none"])
def test_load_torch_accepts_every_file_save_torch_writes(feature, tmp_path):
    """load_torch's archive check is an allowlist: it must accept what save_torch writes
    for every feature (TMX, zeta tails, T5, FFN rounding, normalization-free, past none)."""
    torch = _torch()
    from tfapprox.export import load_torch, save_torch

    model = Model(_spec(**FEATURES[feature]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        save_torch(model, tmp_path / "m.pt2")
    module, config = load_torch(tmp_path / "m.pt2")
    X = np.random.default_rng(14).uniform(-1, 1, (2, 7, 2))
    assert _rel(module(torch.tensor(X)).numpy(), model.run(X)) <= REL
    assert config["past"] == model.past


def zipfile_writer(dst, src):
    """Copy the archive ``src`` to ``dst`` and return it open for appending."""
    import shutil
    import zipfile

    shutil.copyfile(src, dst)
    return zipfile.ZipFile(dst, "a")


@pytest.mark.parametrize("target", ["torch", "lens"])
def test_load_snippet_runs_and_reproduces_the_model(target, tmp_path):
    torch = _torch()
    if target == "lens":
        _lens()
    from tfapprox.export import load_snippet, save_lens, save_torch

    model = build_model("thm3.1", lags="1,5,20", heads=20)
    path = tmp_path / ("m.pt2" if target == "torch" else "m.lens.pt")
    (save_torch if target == "torch" else save_lens)(model, path)
    snippet = load_snippet(target, path)
    assert "exec" not in snippet and "weights_only=False" not in snippet
    ns = {}
    exec(snippet, ns)  # the snippet is this package's own text, as the CLI prints it
    X = np.random.default_rng(13).uniform(-1, 1, (2, 6, 1))
    if target == "torch":
        out = ns["model"](torch.tensor(X)).numpy()
    else:
        out = ns["model"](ns["embed"](torch.tensor(X)), start_at_layer=0)[:, 1:].detach().numpy()
    assert _rel(out, model.run(X)) <= REL
    with pytest.raises(ValueError, match="target must be"):
        load_snippet("onnx", path)


def test_cli_export_refusal_is_a_clear_error(tmp_path, capsys):
    _lens()
    from tfapprox.cli import main

    Model(_spec(LinRPE(), precision="round", kinds=("free", "dp"))).save(tmp_path / "m.json")
    assert main(["export", str(tmp_path / "m.json"), "--to", "lens", "--out", str(tmp_path / "x.pt")]) == 2
    assert "precision" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_core_and_other_commands_never_import_torch(tmp_path):
    code = """
        import sys
        import numpy as np
        import tfapprox
        from tfapprox.cli import main
        assert main(["build", "thm3.1", "--heads", "8", "--lags", "1,3", "--out", "m.json"]) == 0
        np.savetxt("x.csv", np.zeros((4, 1)), delimiter=",")
        assert main(["eval", "m.json", "--input", "x.csv"]) == 0
        assert main(["verify", "--list"]) == 0
        import tfapprox.export
        bad = [m for m in ("torch", "transformer_lens") if m in sys.modules]
        assert not bad, bad
        """
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
