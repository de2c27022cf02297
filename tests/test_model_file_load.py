"""Reading model files (verify/model_file_load.py): bounded, strict reads whose errors name
the file and the JSON path; malformed documents raise ValueError or TypeError, never
another exception and never a silent result (docs/model-format.md)."""

from __future__ import annotations

import builtins
import copy
import json
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strategies import transformer_specs
from test_model_file import HAND_CASES, hand_spec, symbolic_spec
from tfapprox.theory.rpe import table as rpe_table
from tfapprox.verify import model_file as mf
from tfapprox.verify import model_file_load as mf_load
from tfapprox.verify.model_file import (
    load_spec,
    save_spec,
    spec_from_dict,
    spec_to_dict,
)

R = sympy.Rational


# ------------------------------------------------------------------- loading: refusals
def _valid_doc() -> dict:
    return spec_to_dict(hand_spec(**HAND_CASES["lin-padded-DP-norm"]))


def _write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "bad.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_invalid_json_names_path_and_position(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"format": "tfapprox.transformer/1",\n "past": }')
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON: .* line 2 column 10"):
        load_spec(path)


@pytest.mark.parametrize("text, match", [
    ('{"format": NaN}', "NaN is not allowed"),
    ('{"format": Infinity}', "Infinity is not allowed"),
    ('{"format": "tfapprox.transformer/1", "format": "tfapprox.transformer/1"}', "duplicate key 'format'"),
    ("[" * 100000 + "]" * 100000, "nested 100000 levels deep"),
    ("", "not valid JSON"),
])
def test_non_standard_json_is_refused(text: str, match: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=match):
        load_spec(_write(tmp_path, text))


def test_deep_nesting_is_refused_before_parsing(tmp_path: Path) -> None:
    # issue 12: metadata nested 500 deep gave a RecursionError traceback
    doc = _valid_doc()
    deep: Any = 1
    for _ in range(500):
        deep = [deep]
    doc["metadata"]["deep"] = deep
    with pytest.raises(ValueError, match=r"nested 50\d levels deep, more than the limit MAX_METADATA_DEPTH"):
        load_spec(_write(tmp_path, doc))
    doc["metadata"]["deep"] = [[[["ok"]]]]
    assert "deep" in load_spec(_write(tmp_path, doc)).metadata


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert mf.json_depth('{"a": "[[[[{{{{", "b": ["\\"]]"]}') == 2
    assert mf.json_depth("[]") == 1 and mf.json_depth("3") == 0


@pytest.mark.parametrize("number", ["1e999999", "-1e400", "1.7976931348623159e308"])
def test_non_finite_json_number_is_refused_on_load(number: str, tmp_path: Path) -> None:
    # issue 12: metadata 1e999999 loaded as infinity, and the model could then not be saved
    text = json.dumps(_valid_doc())
    text = text.replace('"metadata": {', f'"metadata": {{"x": {number}, ', 1)
    with pytest.raises(ValueError, match="beyond the float64 range"):
        load_spec(_write(tmp_path, text))


def test_reads_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, _valid_doc())
    monkeypatch.setattr(mf_load, "MAX_MODEL_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="more than the limit of"):
        load_spec(path)
    if os.path.exists("/dev/zero"):  # an endless device: at most limit + 1 bytes are read
        monkeypatch.setattr(mf_load, "MAX_MODEL_FILE_BYTES", 1000)
        with pytest.raises(ValueError, match="more than the limit of 1000 bytes"):
            load_spec("/dev/zero")
    with pytest.raises(ValueError, match="is a directory"):
        load_spec(tmp_path)


@pytest.mark.parametrize("limit, value, match", [
    ("MAX_HEADS", 1, "the number of heads is 2, more than the limit MAX_HEADS = 1"),
    ("MAX_MODEL_DIM", 1, "width is 2, more than the limit MAX_MODEL_DIM = 1"),
    ("MAX_PARAMETERS", 5, "more than MAX_PARAMETERS = 5 numbers"),
    ("MAX_WIDTH", 2, "more than the limit MAX_WIDTH = 2"),
])
def test_size_fields_are_limited(limit: str, value: int, match: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, _valid_doc())
    monkeypatch.setattr(mf_load, limit, value)
    with pytest.raises(ValueError, match=match):
        load_spec(path)


def test_t5_and_table_sizes_are_limited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _valid_doc()
    doc["blocks"][0]["attention"]["rpe"] = {"type": "t5", "num_exact": 2, "max_distance": 10 ** 12,
                                            "mask_beyond": False}
    with pytest.raises(ValueError, match="max_distance is 1000000000000, more than the limit MAX_T5_DISTANCE"):
        load_spec(_write(tmp_path, doc))
    doc["blocks"][0]["attention"]["rpe"] = {"type": "table", "values": ["0", "-1", "-2"]}
    monkeypatch.setattr(rpe_table, "MAX_TABLE_RPE_ENTRIES", 2)  # the table type checks its size
    with pytest.raises(ValueError, match="table entries is 3, more than the limit MAX_TABLE_RPE_ENTRIES = 2"):
        load_spec(_write(tmp_path, doc))


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"format": "\xff"}')
    with pytest.raises(ValueError, match="not UTF-8"):
        load_spec(path)


def test_wrong_version_names_both(tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["format"] = "tfapprox.transformer/2"
    with pytest.raises(ValueError) as info:
        load_spec(_write(tmp_path, doc))
    msg = str(info.value)
    assert "bad.json" in msg and "'tfapprox.transformer/2'" in msg and "'tfapprox.transformer/1'" in msg
    del doc["format"]
    with pytest.raises(ValueError, match="missing the key 'format'"):
        spec_from_dict(doc)


def test_unknown_top_level_keys_are_listed(tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["weights"] = []
    doc["comment"] = "x"
    with pytest.raises(ValueError, match=r"bad\.json: unknown keys \['weights', 'comment'\]"):
        load_spec(_write(tmp_path, doc))


@pytest.mark.parametrize("bad", ["1e", "nan", "inf", "__import__('os')", "1/0", " 2"])
def test_bad_number_names_json_path(bad: str, tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["blocks"][0]["attention"]["heads"][1]["W_V"][0][1] = bad
    with pytest.raises(ValueError, match=r"bad\.json: blocks\[0\]\.attention\.heads\[1\]\.W_V\[0\]\[1\] must be"):
        load_spec(_write(tmp_path, doc))


def test_json_number_instead_of_string(tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["embedding"]["b_E"][1] = 0.5
    with pytest.raises(TypeError, match=r"embedding\.b_E\[1\] must be a number string"):
        load_spec(_write(tmp_path, doc))


def test_ragged_matrix(tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["blocks"][0]["attention"]["W_O"][1].append("1")
    with pytest.raises(ValueError, match=r"blocks\[0\]\.attention\.W_O: is ragged"):
        load_spec(_write(tmp_path, doc))


def test_spec_errors_name_the_file(tmp_path: Path) -> None:
    doc = _valid_doc()
    doc["blocks"][0]["attention"]["heads"][0]["p"] = "0"  # lin-RPE over the padded past: divergent
    with pytest.raises(ValueError, match=r"bad\.json: .*divergent attention sum"):
        load_spec(_write(tmp_path, doc))
    doc = _valid_doc()
    doc["width"] = 3
    with pytest.raises(ValueError, match=r"bad\.json: embedding\.W_E: must have shape"):
        load_spec(_write(tmp_path, doc))
    doc = _valid_doc()
    doc["blocks"][0]["ffn"]["c"].append("1")
    with pytest.raises(ValueError, match=r"bad\.json: blocks\[0\]\.ffn: FFN bias c must have shape"):
        load_spec(_write(tmp_path, doc))


def test_lowered_record_is_checked() -> None:
    doc = spec_to_dict(symbolic_spec())
    doc["lowered_parameters"]["paths"][0] = "blocks[9].W_O[0][0]"
    with pytest.raises(ValueError, match="not in the file"):
        spec_from_dict(doc)
    doc = spec_to_dict(symbolic_spec())
    doc["lowered_parameters"]["count"] = 4
    with pytest.raises(ValueError, match="count is 4 but paths lists 5"):
        spec_from_dict(doc)


def test_loading_never_evaluates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No string from the file reaches sympify/parse_expr; no eval, exec or pickle."""
    import sys

    import sympy.parsing.sympy_parser as parser

    path = tmp_path / "m.json"
    save_spec(symbolic_spec(), path)
    seen: list[str] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("model file loading must not evaluate anything")

    def no_strings(real: Any) -> Any:
        def wrapper(a: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(a, str):
                seen.append(a)
                raise AssertionError(f"a string reached sympify: {a!r}")
            return real(a, *args, **kwargs)
        return wrapper

    sympify_module = sys.modules["sympy.core.sympify"]
    monkeypatch.setattr(sympify_module, "sympify", no_strings(sympify_module.sympify))
    monkeypatch.setattr(sympy, "sympify", no_strings(sympy.sympify))
    for mod, name in [(sympy, "parse_expr"), (parser, "parse_expr"), (builtins, "eval"), (builtins, "exec"),
                      (pickle, "loads"), (pickle, "load")]:
        monkeypatch.setattr(mod, name, forbidden)
    spec = load_spec(path)
    monkeypatch.undo()
    assert seen == []
    assert spec.parameter_count() == symbolic_spec().parameter_count()


# --------------------------------------------------------------- hypothesis: malformed
_BAD_NUMBERS = ["1e", "nan", "inf", "-inf", "NaN", "Infinity", "__import__('os')", "", " 1", "+1", ".5",
                "5.", "1/0", "0x1p3", "sqrt(2)", "01", "1e999999", "exp(1)", "1 / 2"]
_ALWAYS_WRONG = [12.5, "", [[]]]  # invalid for every field of the schema (metadata excluded)


def _locations(doc: dict) -> tuple[list[dict], list[tuple[Any, Any]], list[list]]:
    """Schema objects (every key required, no extra keys), number-string slots and matrices."""
    objects: list[dict] = []
    numbers: list[tuple[Any, Any]] = []
    matrices: list[list] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            objects.append(node)
            for key, value in node.items():
                if node is doc and key == "metadata":
                    continue
                if key == "lowered_parameters":
                    objects.append(value)
                elif isinstance(value, str):
                    if key not in ("format", "past", "type", "precision"):
                        numbers.append((node, key))
                else:
                    walk(value)
        elif isinstance(node, list):
            if node and all(isinstance(row, list) for row in node):
                matrices.append(node)
            for i, value in enumerate(node):
                if isinstance(value, str):
                    numbers.append((node, i))
                elif value is not None:
                    walk(value)

    walk(doc)
    return objects, numbers, matrices


@st.composite
def malformed_documents(draw: st.DrawFn) -> Any:
    """A valid document with one mutation that must make it invalid."""
    doc = copy.deepcopy(spec_to_dict(draw(transformer_specs(max_layers=2, max_width=2))))
    objects, numbers, matrices = _locations(doc)
    kind = draw(st.sampled_from(["version", "delete", "extra", "bad_number", "number_type", "ragged",
                                 "wrong_type", "dims", "count", "top_type", "empty_matrix"]))
    if kind == "version":
        doc["format"] = draw(st.sampled_from(["tfapprox.transformer/2", "tfapprox.transformer/0", "",
                                              "tfapprox.transformer", "TFAPPROX.TRANSFORMER/1", 1, None]))
    elif kind == "delete":
        obj = draw(st.sampled_from(objects))
        del obj[draw(st.sampled_from(sorted(obj)))]
    elif kind == "extra":
        obj = draw(st.sampled_from(objects))
        key = draw(st.text(min_size=1, max_size=8).filter(lambda k: k not in obj))
        obj[key] = draw(st.sampled_from([None, 1, "x", []]))
    elif kind == "bad_number":
        parent, key = draw(st.sampled_from(numbers))
        parent[key] = draw(st.sampled_from(_BAD_NUMBERS))
    elif kind == "number_type":
        parent, key = draw(st.sampled_from(numbers))
        parent[key] = draw(st.sampled_from([1, 0.5, True, [], {}, ["1"]]))
    elif kind == "ragged":
        m = draw(st.sampled_from(matrices))
        m.append(["0"] * (len(m[0]) + 1))
    elif kind == "wrong_type":
        obj = draw(st.sampled_from(objects))
        keys = sorted(k for k in obj if not (obj is doc and k == "metadata"))
        obj[draw(st.sampled_from(keys))] = copy.deepcopy(draw(st.sampled_from(_ALWAYS_WRONG)))
    elif kind == "dims":
        key = draw(st.sampled_from(["input_dim", "width", "output_dim"]))
        doc[key] += draw(st.sampled_from([1, -1, 10]))
    elif kind == "count":
        doc["lowered_parameters"]["count"] += 1
    elif kind == "top_type":
        doc = draw(st.sampled_from([[doc], "tfapprox.transformer/1", 1, None]))
    else:
        m = draw(st.sampled_from(matrices))
        m.clear()
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(malformed_documents())
def test_malformed_documents_raise(doc: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        spec_from_dict(doc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(doc=malformed_documents(), data=st.data())
def test_malformed_files_raise_naming_the_file(doc: Any, data: st.DataObject, tmp_path: Path) -> None:
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(doc))
    with pytest.raises((ValueError, TypeError)) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    # Truncated text (an interrupted copy) is invalid JSON.
    text = json.dumps(_valid_doc(), indent=1)
    cut = data.draw(st.integers(0, len(text) - 1))
    path.write_text(text[:cut])
    with pytest.raises(ValueError, match="not valid JSON"):
        load_spec(path)
