"""Model files ``tfapprox.transformer/1`` (verify/model_file.py, docs/model-format.md).

Round trips keep every parameter exactly (the loaded spec compares equal field by field,
``parameters()`` equal as sympy values, float64 outputs bit-identical, mpmath outputs
at 50 digits identical); irrational parameters are lowered to the stated digits and
recorded; saving is atomic; malformed files raise ValueError or TypeError naming the
file and the JSON path, never another exception and never a silent result.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import transformer_specs
from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, FeedForward, TransformerSpec
from tfapprox.theory.rpe import LinRPE, LogRPE, QuadraticRPE, T5RPE, TableRPE
from tfapprox.verify import model_file as mf
from tfapprox.verify.model import Model
from tfapprox.verify.model_file import (
    FORMAT,
    format_number,
    load_spec,
    parse_number,
    save_spec,
    spec_from_dict,
    spec_to_dict,
)

R = sympy.Rational
RNG_SEED = 20240522


# ----------------------------------------------------------------------------- helpers
def _outcome(model: Model, X: np.ndarray, **kw: Any) -> tuple[str, Any]:
    """The outputs of a run as comparable data, or the arithmetic error it raised.

    float64 refuses some random models (PrecisionError: cancellation or overflow); the
    original and the reloaded model must then refuse identically.  Other ArithmeticErrors
    (e.g. an OverflowError of the forward pass) are compared the same way: this file
    tests the model file, not the forward pass.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = model.run(X, **kw)
    except ArithmeticError as exc:
        return (type(exc).__name__, str(exc))
    if kw.get("backend", "float64") == "float64":
        out = np.asarray(out, dtype=np.float64)
        return ("float64", (out.shape, out.tobytes()))  # bit-identical, NaN-safe
    return ("mpmath", (np.shape(out), [mpmath.mpf(v)._mpf_ for v in np.ravel(out)]))


def _inputs(spec: TransformerSpec, n: int = 5, seed: int = RNG_SEED) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(2, n, spec.input_dim))
    return x / np.maximum(1.0, np.linalg.norm(x, axis=-1, keepdims=True))  # ||x_t||_2 <= 1


def assert_same_model(a: TransformerSpec, b: TransformerSpec, *, mp: bool = True) -> None:
    """Identical exact parameters, structure, metadata; identical float64/mpmath outputs."""
    pa, pb = a.parameters(), b.parameters()
    assert [n for n, _ in pa] == [n for n, _ in pb]
    for (name, va), (_, vb) in zip(pa, pb):
        assert type(va) is type(vb) and va == vb and sympy.simplify(va - vb) == 0, name
    assert a == b  # frozen dataclasses: embedding, blocks (heads, RPE, flags), past, metadata
    X = _inputs(a)
    assert _outcome(Model(a), X) == _outcome(Model(b), X)
    if mp:
        assert _outcome(Model(a), X, backend="mpmath", dps=50) == _outcome(Model(b), X, backend="mpmath", dps=50)


def round_trip(spec: TransformerSpec, tmp_path: Path, name: str = "model.json", **kw: Any) -> TransformerSpec:
    path = tmp_path / name
    save_spec(spec, path, **kw)
    return load_spec(path)


# ------------------------------------------------------------------ hand-built specs
def _head(dp: bool, slope: Any) -> AttentionHead:
    value = [[R(1, 2), R(-3, 8)], [R(1, 3), R(7, 10)]]  # 1/3: fraction; 7/10: decimal
    if dp:
        return AttentionHead(value, slope, [[R(1, 4), R(-1, 7)]], [[R(5, 16), R(2)]])
    return AttentionHead(value, slope)


def hand_spec(rpe: Any, past: str, *, dp: bool, normalized: bool, precision: Any,
              residual: bool = True, slope: Any = R(3, 2)) -> TransformerSpec:
    att = AttentionLayer((_head(dp, slope), _head(not dp, slope + R(1, 4))),
                         [[R(1), R(-1, 2)], [R(1, 1024), R(1)]], rpe, normalized=normalized, residual=residual)
    mid = FeedForward([[R(1), R(-1)], [R(1, 2), R(1, 3)]], [[R(0)], [R(-1, 5)]],
                      [[R(1, 2), R(1)], [R(-1), R(1, 8)]], None)
    readout = FeedForward([[R(3, 2), R(-1, 4)], [R(1), R(1)], [R(-2, 3), R(1, 2)]],
                          [[R(1, 2)], [R(0)], [R(-1, 9)]], [[R(1), R(-1, 2), R(1, 4)]], precision)
    meta = {"construction": "hand", "target": {"kind": "delta", "T": 3}, "budget": {"H": 2, "m": 3, "L": 2},
            "precision_digits": 40, "notes": ["exact", 1.5, None, True]}
    return TransformerSpec([[R(1)], [R(-1, 2)]], [[R(1, 10)], [R(0)]],
                           (Block(att, mid), Block(None, readout)), past, meta)


HAND_CASES = {
    "lin-padded-DP-norm": dict(rpe=LinRPE(), past="padded", dp=True, normalized=True, precision=None),
    "lin-none-DPfree-NF-round": dict(rpe=LinRPE(), past="none", dp=False, normalized=False, precision="round"),
    "log-padded-DPfree-norm-loground": dict(rpe=LogRPE(), past="padded", dp=False, normalized=True,
                                            precision="log_round"),
    "log-none-DP-NF": dict(rpe=LogRPE(), past="none", dp=True, normalized=False, precision=None, slope=R(1, 2)),
    "t5-padded-masked-DP-norm-round": dict(rpe=T5RPE(2, 9, True), past="padded", dp=True, normalized=True,
                                           precision="round"),
    "t5-none-unmasked-NF": dict(rpe=T5RPE(3, 17, False), past="none", dp=False, normalized=False, precision=None),
    "table-padded-NF-noresidual": dict(rpe=TableRPE((R(0), None, R(-1, 3), R(-5, 2))), past="padded", dp=True,
                                       normalized=False, precision="log_round", residual=False),
    "table-none-norm": dict(rpe=TableRPE((R(1, 2), R(-1, 10))), past="none", dp=False, normalized=True,
                            precision=None),
    "quadratic-padded-DP-NF": dict(rpe=QuadraticRPE(), past="padded", dp=True, normalized=False, precision=None,
                                   slope=R(1, 7)),
}


@pytest.mark.parametrize("case", sorted(HAND_CASES))
def test_round_trip_hand_built(case: str, tmp_path: Path) -> None:
    spec = hand_spec(**HAND_CASES[case])
    loaded = round_trip(spec, tmp_path)
    assert_same_model(spec, loaded)
    # DP-free heads stay DP-free (None, not zero matrices); DP heads keep W_Q, W_K.
    for h_a, h_b in zip(spec.blocks[0].attention.heads, loaded.blocks[0].attention.heads):
        assert (h_a.query is None) == (h_b.query is None)
    raw = json.loads((tmp_path / "model.json").read_text())
    assert raw["format"] == FORMAT and raw["past"] == spec.past
    assert raw["lowered_parameters"] == {"count": 0, "digits": 40, "paths": []}
    # A second save of the loaded spec writes the same bytes.
    save_spec(loaded, tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "model.json").read_bytes()


def test_model_save_load(tmp_path: Path) -> None:
    spec = hand_spec(**HAND_CASES["lin-padded-DP-norm"])
    Model(spec).save(tmp_path / "m.json")
    assert_same_model(spec, Model.load(tmp_path / "m.json").spec, mp=False)


def test_json_layout_of_a_small_spec(tmp_path: Path) -> None:
    spec = hand_spec(**HAND_CASES["t5-padded-masked-DP-norm-round"])
    doc = spec_to_dict(spec)
    assert list(doc) == ["format", "past", "input_dim", "width", "output_dim", "lowered_parameters",
                         "embedding", "blocks", "metadata"]
    assert (doc["input_dim"], doc["width"], doc["output_dim"]) == (1, 2, 1)
    assert doc["embedding"] == {"W_E": [["1"], ["-0.5"]], "b_E": ["0.1", "0"]}
    att = doc["blocks"][0]["attention"]
    assert list(att) == ["rpe", "normalized", "residual", "W_O", "heads"]
    assert att["rpe"] == {"type": "t5", "num_exact": 2, "max_distance": 9, "mask_beyond": True}
    assert att["W_O"] == [["1", "-0.5"], ["0.0009765625", "1"]]
    assert att["heads"][0] == {"p": "1.5", "W_V": [["0.5", "-0.375"], ["1/3", "0.7"]],
                               "W_Q": [["0.25", "-1/7"]], "W_K": [["0.3125", "2"]]}
    assert att["heads"][1]["W_Q"] is None and att["heads"][1]["W_K"] is None
    assert doc["blocks"][1] == {"attention": None, "ffn": {
        "b": [["1.5", "-0.25"], ["1", "1"], ["-2/3", "0.5"]], "c": ["0.5", "0", "-1/9"],
        "a": [["1", "-0.5", "0.25"]], "precision": "round"}}
    assert doc["metadata"]["notes"] == ["exact", 1.5, None, True]
    # The file is exactly this document.
    save_spec(spec, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text()) == doc


def test_rpe_table_values_are_exact_not_rounded(tmp_path: Path) -> None:
    # TableRPE.to_dict rounds to 40 digits; the model file must not.
    rpe = TableRPE((R(-1, 3), None, R(1, 2 ** 70)))
    spec = hand_spec(rpe, "none", dp=False, normalized=True, precision=None)
    doc = spec_to_dict(spec)
    assert doc["blocks"][0]["attention"]["rpe"]["values"][:2] == ["-1/3", None]
    assert round_trip(spec, tmp_path).blocks[0].attention.rpe == rpe


# ----------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("value, text", [
    (sympy.Integer(-3), "-3"),
    (sympy.Integer(0), "0"),
    (R(1, 80), "0.0125"),
    (R(-3, 2000), "-0.0015"),
    (R(3, 2) / 10 ** 300, "1.5e-300"),
    (R(1, 3), "1/3"),
    (R(-22, 7), "-22/7"),
    (R(1, 2 ** 10), "0.0009765625"),
    (R(5, 10 ** 8), "5e-8"),
    (R(10 ** 25 + 1, 2), "5.0000000000000000000000005e24"),
    (R(0.1), "0.1000000000000000055511151231257827021181583404541015625"),  # the float's exact value
    (sympy.Float(0.1), "0.1000000000000000055511151231257827021181583404541015625"),
])
def test_format_number_exact(value: sympy.Expr, text: str) -> None:
    assert format_number(value) == text
    assert parse_number(text) == R(value)


@given(st.integers(-(10 ** 30), 10 ** 30), st.integers(0, 80), st.integers(0, 40))
def test_every_decimal_rational_is_written_exactly(p: int, a: int, b: int) -> None:
    value = R(p, 2 ** a * 5 ** b)
    text = format_number(value)
    assert "/" not in text  # a finite decimal, never a fraction
    assert parse_number(text) == value


@given(st.integers(-(10 ** 12), 10 ** 12), st.integers(1, 10 ** 12))
def test_every_rational_round_trips(p: int, q: int) -> None:
    value = R(p, q)
    assert parse_number(format_number(value)) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float64_is_written_exactly(x: float) -> None:
    text = format_number(R(x))
    assert "/" not in text and parse_number(text) == R(x)
    assert float(parse_number(text)) == x


def test_float64_extremes_and_long_integers() -> None:
    tiny = R(5e-324)  # 2^-1074: 751 significant digits, written in full
    text = format_number(tiny)
    assert text.startswith("4.940656458412465441765687928682213723650598026143247644255856825006755072702087")
    assert text.endswith("e-324") and parse_number(text) == tiny
    big = sympy.Integer(7) ** 9000 + 1  # beyond Python's 4300-digit int/str limit
    assert parse_number(format_number(big)) == big
    frac = R(1, 3 ** 9000)
    assert parse_number(format_number(frac)) == frac


@pytest.mark.parametrize("text", [
    "1e", "nan", "NaN", "inf", "-inf", "Infinity", "__import__('os')", "", " 1", "1 ", "+1", ".5", "5.",
    "1e-", "--1", "1,5", "sqrt(2)", "01", "-01.5", "1/-2", "1/0", "1/+2", "0x10", "1_000", "1.5.2", "1e5.5",
    "\uff11", "1/2/3", "2**3", "1e999999", "1e-100001", "1.0e1234567890", "-", "e5", "1E", "1/02",
])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="where|decimal|exponent"):
        parse_number(text, "where")


@pytest.mark.parametrize("value", [1, 1.5, None, True, [], {}])
def test_parse_number_rejects_non_strings(value: Any) -> None:
    with pytest.raises(TypeError, match="number string"):
        parse_number(value, "blocks[0].x")


@pytest.mark.parametrize("text, value", [
    ("1E5", 100000), ("1e+2", 100), ("0.50", R(1, 2)), ("-0", 0), ("0/7", 0), ("6/4", R(3, 2)),
    ("12.5e-1", R(5, 4)), ("1e-100000", R(1, 10 ** 100000)),
])
def test_parse_number_accepts(text: str, value: Any) -> None:
    assert parse_number(text) == value


# --------------------------------------------------------------- lowered parameters
def symbolic_spec(past: str = "padded") -> TransformerSpec:
    beta = R(1, 100)
    heads = (AttentionHead([[sympy.sqrt(2) / 2], [R(1, 3)]], beta * 50),
             AttentionHead([[1 / (1 - sympy.exp(-beta))], [R(-1, 7)]], sympy.Integer(1), [[sympy.pi]], [[R(1, 2)]]))
    att = AttentionLayer(heads, [[R(1, 100), sympy.exp(-beta)]], LinRPE())
    ffn = FeedForward([[1]], [[sympy.log(3)]], [[R(1, 3)]])
    return TransformerSpec([[1]], [[0]], (Block(att, ffn),), past, {"construction": "sym"})


LOWERED_PATHS = [
    "blocks[0].attention.heads[0].W_V[0][0]",
    "blocks[0].attention.heads[1].W_V[0][0]",
    "blocks[0].attention.heads[1].W_Q[0][0]",
    "blocks[0].attention.W_O[0][1]",
    "blocks[0].ffn.c[0]",
]


@pytest.mark.parametrize("digits", [None, 17, 80])
def test_lowered_parameters_are_recorded(digits: int | None, tmp_path: Path) -> None:
    spec = symbolic_spec()
    want = 50 if digits is None else digits
    doc = spec_to_dict(spec, digits=digits)
    record = doc["lowered_parameters"]
    assert record == {"count": 5, "digits": want, "paths": LOWERED_PATHS}
    assert doc["blocks"][0]["attention"]["heads"][0]["W_V"] == [[format_number(sympy.sqrt(2) / 2, digits=want)],
                                                                ["1/3"]]
    loaded = round_trip(spec, tmp_path, digits=digits)
    assert dict(loaded.metadata["lowered_parameters"]) == {"count": 5, "digits": want,
                                                           "paths": tuple(LOWERED_PATHS)}
    exact = dict(spec.parameters())
    for name, value in loaded.parameters():
        assert isinstance(value, sympy.Rational), name
        true = exact[name]
        if isinstance(true, sympy.Rational):
            assert value == true, name
        else:  # rounded to `want` significant digits
            err = abs(sympy.N(value - true, want + 20))
            assert err <= abs(sympy.N(true, 30)) * sympy.Float(10) ** (1 - want) / 2, name
            text = format_number(value)
            assert len(text.replace("-", "").replace(".", "").lstrip("0").split("e")[0]) <= want
    # Saving the loaded spec again is exact: nothing new is lowered, the record stays in metadata.
    again = round_trip(loaded, tmp_path, "again.json")
    assert json.loads((tmp_path / "again.json").read_text())["lowered_parameters"]["count"] == 0
    assert_same_model(loaded, again, mp=False)


def test_precision_digits_from_metadata() -> None:
    spec = symbolic_spec()
    from tfapprox.theory.digits import required_digits

    spec = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past, {"precision_digits": 12})
    # metadata that understates the digits cannot make a default save round below what the weights need
    need = required_digits(spec)
    assert need > 12
    assert spec_to_dict(spec)["lowered_parameters"]["digits"] == need
    generous = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past,
                               {"precision_digits": need + 7})
    assert spec_to_dict(generous)["lowered_parameters"]["digits"] == need + 7
    # an explicit digits argument is honoured (and recorded in the file)
    doc = spec_to_dict(spec, digits=12)
    assert doc["lowered_parameters"]["digits"] == 12
    assert doc["blocks"][0]["ffn"]["c"] == ["1.09861228867"]
    with pytest.raises(ValueError, match="digits"):
        spec_to_dict(spec, digits=0)
    bad = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past, {"precision_digits": "50"})
    with pytest.raises(TypeError, match="precision_digits"):
        spec_to_dict(bad)


def test_unsimplified_zero_and_free_symbols() -> None:
    zero = sympy.log(2) + sympy.log(3) - sympy.log(6)
    spec = TransformerSpec([[zero]], [[0]], (Block(None, FeedForward([[1]], [[0]], [[1]])),), "none")
    doc = spec_to_dict(spec)
    assert doc["embedding"]["W_E"] == [["0"]] and doc["lowered_parameters"]["count"] == 1
    x = sympy.Symbol("x")
    spec = TransformerSpec([[x]], [[0]], (Block(None, FeedForward([[1]], [[0]], [[1]])),), "none")
    with pytest.raises(ValueError, match=r"embedding\.W_E\[0\]\[0\].*free symbols"):
        spec_to_dict(spec)


# --------------------------------------------------------------------------- metadata
@pytest.mark.parametrize("meta, key", [
    ({"budget": {"H": sympy.Integer(3)}}, "metadata['budget']['H']"),
    ({"list": [1, {2, 3}]}, "metadata['list'][1]"),
    ({"arr": np.arange(3)}, "metadata['arr']"),
    ({"f": np.int64(3)}, "metadata['f']"),
])
def test_non_json_metadata_is_refused(meta: dict, key: str, tmp_path: Path) -> None:
    spec = hand_spec(**HAND_CASES["lin-padded-DP-norm"])
    spec = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past, meta)
    with pytest.raises(TypeError) as info:
        save_spec(spec, tmp_path / "m.json")
    assert key in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_nan_metadata_is_refused() -> None:
    spec = hand_spec(**HAND_CASES["lin-padded-DP-norm"])
    spec = TransformerSpec(spec.embedding, spec.embedding_bias, spec.blocks, spec.past, {"x": [float("nan")]})
    with pytest.raises(ValueError, match=r"metadata\['x'\]\[0\]"):
        spec_to_dict(spec)


# ------------------------------------------------------------------------- atomic save
def _old_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "model.json"
    save_spec(hand_spec(**HAND_CASES["lin-padded-DP-norm"]), path)
    return path, path.read_bytes()


def _fail_after(n: int, real: Any) -> Any:
    calls = {"n": 0}

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > n:
            raise OSError("simulated disk failure")
        return real(*args, **kwargs)
    return fake


@pytest.mark.parametrize("where", ["json.dumps-early", "json.dumps-mid", "fsync", "replace", "write"])
def test_save_is_atomic(where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, before = _old_file(tmp_path)
    new = hand_spec(**HAND_CASES["log-none-DP-NF"])
    if where == "json.dumps-early":
        monkeypatch.setattr(json, "dumps", _fail_after(0, json.dumps))
    elif where == "json.dumps-mid":  # part of the new text is already in the temporary file
        monkeypatch.setattr(json, "dumps", _fail_after(30, json.dumps))
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", _fail_after(0, os.fsync))
    elif where == "replace":
        monkeypatch.setattr(os, "replace", _fail_after(0, os.replace))
    else:  # the writer dies after some chunks reached the temporary file
        real_iter = mf._iter_json

        def dying(obj: Any, level: int = 0) -> Any:
            for i, chunk in enumerate(real_iter(obj, level)):
                if i == 40:
                    raise OSError("simulated disk failure")
                yield chunk
        monkeypatch.setattr(mf, "_iter_json", dying)
    with pytest.raises(OSError, match="simulated"):
        save_spec(new, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]  # no temporary file left
    assert load_spec(path) == hand_spec(**HAND_CASES["lin-padded-DP-norm"])


def test_failed_first_save_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json, "dumps", _fail_after(10, json.dumps))
    with pytest.raises(OSError):
        save_spec(hand_spec(**HAND_CASES["lin-padded-DP-norm"]), tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o277])
def test_save_replaces_with_a_private_file(umask: int, tmp_path: Path) -> None:
    # issue 12: every file written is 0600 minus the umask, also when it replaces a 0644 file
    path, _ = _old_file(tmp_path)
    os.chmod(path, 0o644)
    new = hand_spec(**HAND_CASES["log-none-DP-NF"])
    old_umask = os.umask(umask)
    try:
        save_spec(new, path)
        save_spec(new, tmp_path / "fresh.json")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 & ~umask
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.json").st_mode) == 0o600 & ~umask
    assert load_spec(tmp_path / "fresh.json") == new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.json", "model.json"]


def test_save_to_a_250_character_name(tmp_path: Path) -> None:
    path = tmp_path / ("m" * 245 + ".json")
    spec = hand_spec(**HAND_CASES["lin-padded-DP-norm"])
    save_spec(spec, path)
    assert load_spec(path) == spec
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("target, error, match", [
    ("", ValueError, "empty path"),
    ("DIR", ValueError, "is a directory"),
    ("DIR/", ValueError, "is a directory"),
    ("DIR/missing/m.json", FileNotFoundError, "does not exist"),
])
def test_save_refuses_bad_targets_clearly(target: str, error: type, match: str, tmp_path: Path) -> None:
    target = target.replace("DIR", str(tmp_path))
    with pytest.raises(error, match=match):
        save_spec(hand_spec(**HAND_CASES["lin-padded-DP-norm"]), target)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- hypothesis: round trip
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transformer_specs())
def test_round_trip_property(spec: TransformerSpec) -> None:
    """save_spec then load_spec: identical exact parameters, bit-identical float64 outputs."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.json"
        save_spec(spec, path)
        loaded = load_spec(path)
    assert_same_model(spec, loaded, mp=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transformer_specs())
def test_round_trip_property_mpmath(spec: TransformerSpec) -> None:
    loaded = spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))))
    X = _inputs(spec)
    assert _outcome(Model(spec), X, backend="mpmath", dps=50) == _outcome(Model(loaded), X, backend="mpmath", dps=50)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transformer_specs(symbolic=True), st.integers(5, 60))
def test_symbolic_round_trip_property(spec: TransformerSpec, digits: int) -> None:
    """Lowered values are recorded and within half a unit in the last digit; reloading
    and saving again is exact (the file's decimals are the model)."""
    doc = spec_to_dict(spec, digits=digits)
    params = dict(spec.parameters())
    loaded = spec_from_dict(doc)
    n_symbolic = sum(not mf.is_exact_number(v) for v in params.values())
    n_symbolic += sum(v is not None and not mf.is_exact_number(v)
                      for b in spec.blocks if b.attention and isinstance(b.attention.rpe, TableRPE)
                      for v in b.attention.rpe.values)
    assert doc["lowered_parameters"]["count"] == n_symbolic == len(doc["lowered_parameters"]["paths"])
    for name, value in loaded.parameters():
        true = params[name]
        if mf.is_exact_number(true):
            assert value == true
        else:
            assert abs(sympy.N(value - true, digits + 20)) <= abs(sympy.N(true, 20)) * sympy.Float(10) ** (1 - digits) / 2
    again = spec_from_dict(spec_to_dict(loaded))
    assert_same_model(loaded, again, mp=False)
