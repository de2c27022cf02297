"""Fuzzing the user-facing surface: mutated model files and malformed command lines.

Part of :mod:`tfapprox.testing.strategies` (hypothesis strategies shipped for users and the test suite).
"""

from __future__ import annotations

import sympy
from hypothesis import strategies as st


from .specs import json_values, transformer_specs

R = sympy.Rational


# =====================================================================================
# Section: fuzzing the user-facing surface (owner: tfapprox/cli.py, verify/model_file.py;
# tests/test_fuzz.py).  mutated_model_texts, malformed_cli_arguments, FUZZ_* pools.
# =====================================================================================

import copy as _copy  # noqa: E402
import json as _json  # noqa: E402

#: JSON values that are wrong almost anywhere in a model file (types, sizes, non-finite, code).
FUZZ_JSON_VALUES = (None, True, False, 0, -1, 1, 10 ** 9, 10 ** 400, 1.5, 1e308, -1e308, "", "x", "nan",
                    "inf", "1e999999", "-1e999999", "1_0", "0x10", "1/0", "1/3", "__import__('os')",
                    "sqrt(2)", "\u00e9", [], [[]], [["1"]], {}, {"type": "lin"}, ["1", "2"])
#: Bare JSON number literals spliced into the text (json.loads reads 1e999999 as infinity).
FUZZ_NUMBER_LITERALS = ("1e999999", "-1e999999", "1e-999999", "123456789012345678901234567890",
                        "0.0000000000000000000000000000001", "-0", "1E+308", "9" * 5000)


def _fuzz_paths(node, prefix=()):
    """Every (container, key) slot of a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _fuzz_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield node, i
            yield from _fuzz_paths(value, prefix + (i,))


@st.composite
def mutated_model_texts(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """``(description, file bytes, must_fail)``: a valid small model file after one random mutation.

    ``must_fail`` is True for the mutations that can never leave a valid file (a spliced
    ``1e999999``, nesting beyond the depth limit, truncation, a duplicated key, a size field
    that no longer matches); the others may leave it valid (then loading it must succeed).
    Most make it invalid in a way the loader must refuse with one ``ValueError``/``TypeError``: a
    replaced, deleted or added node, a spliced number literal (``1e999999`` parses as
    infinity), deep nesting (metadata 500 deep), truncation, random bytes, a duplicated
    key, a huge size field.
    """
    from tfapprox.verify.model_file import spec_to_dict

    spec = draw(transformer_specs(max_layers=2, max_width=2))
    doc = _copy.deepcopy(spec_to_dict(spec))
    kind = draw(st.sampled_from(["replace", "delete", "add", "literal", "deep", "truncate", "bytes",
                                 "duplicate", "size", "metadata"]))
    if kind in ("replace", "delete", "add", "literal"):
        slots = list(_fuzz_paths(doc))
        parent, key = draw(st.sampled_from(slots))
        if kind == "replace":
            parent[key] = _copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES)))
        elif kind == "delete":
            del parent[key]
        elif kind == "add":
            if isinstance(parent, dict):
                parent[draw(st.text(max_size=6))] = _copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES)))
            else:
                parent.append(_copy.deepcopy(draw(st.sampled_from(FUZZ_JSON_VALUES))))
        else:
            marker = "@@FUZZ@@"
            parent[key] = marker
            literal = draw(st.sampled_from(FUZZ_NUMBER_LITERALS))
            text = _json.dumps(doc).replace(_json.dumps(marker), literal)
            return f"literal {literal[:20]} at {key!r}", text.encode(), literal.startswith(("1e9", "-1e9"))
        return f"{kind} at {key!r}", _json.dumps(doc).encode(), False
    if kind == "deep":
        depth = draw(st.sampled_from([65, 100, 500, 5000, 100_000]))
        bracket = draw(st.sampled_from(["[", "{\"a\":"]))
        close = "]" if bracket == "[" else "}"
        text = _json.dumps(doc)
        nest = bracket * depth + "1" + close * depth
        where = draw(st.sampled_from(["metadata", "top"]))
        if where == "metadata":
            text = text.replace('"metadata": {', '"metadata": {"deep": ' + nest + ", ", 1)
        else:
            text = nest
        return f"nesting {depth} at {where}", text.encode(), True
    if kind == "truncate":
        text = _json.dumps(doc, indent=1)
        cut = draw(st.integers(0, len(text) - 1))
        return f"truncated at {cut}", text[:cut].encode(), True
    if kind == "bytes":
        raw = draw(st.binary(max_size=64))
        at = draw(st.integers(0, 200))
        text = _json.dumps(doc).encode()
        return f"bytes at {at}", text[:at] + raw + text[at:], False
    if kind == "duplicate":
        text = _json.dumps(doc)
        return "duplicate key", text.replace('"past":', '"past": "none", "past":', 1).encode(), True
    if kind == "size":
        field = draw(st.sampled_from(["input_dim", "width", "output_dim"]))
        doc[field] = draw(st.sampled_from([0, -5, 10 ** 9, 10 ** 30, 2 ** 63]))
        return f"{field} = {doc[field]}", _json.dumps(doc).encode(), True
    doc["metadata"] = draw(json_values(max_leaves=12))
    return "random metadata", _json.dumps(doc, allow_nan=False).encode(), False


#: Option values that no option of ``tfapprox build`` / ``eval`` / ``verify`` accepts where they are used.
FUZZ_BAD_INTS = ("0", "-1", "abc", "1.5", "1e9", "1000000000", "", "1_0", "nan", "inf", " ", "0x10",
                 "99999999999999999999999999")
FUZZ_BAD_LAGS = ("0", "-1", "1,1", "5,1", "abc", "", "1_0", "100000000", "1e3", "nan", "1,,x", ",")
FUZZ_BAD_REALS = ("0", "-1", "nan", "inf", "-inf", "1e999", "abc", "", "1_0", "0x1p3")


@st.composite
def malformed_cli_arguments(draw: st.DrawFn, paths: dict) -> tuple[str, list[str]]:
    """``(description, argv)`` for ``tfapprox``, each argv invalid in at least one place.

    ``paths`` holds files the argv may name: ``model`` (a valid model file), ``csv`` (a
    valid window), ``bad_inputs`` (a list of invalid window files), ``bad_models`` (invalid
    model files), ``out`` (a fresh path in a scratch folder), ``dir`` (the scratch folder).
    Every valid option value is small, so that even a late refusal is quick.
    """
    command = draw(st.sampled_from(["build", "eval", "verify", "export", "junk"]))
    if command == "junk":
        rest = draw(st.lists(st.sampled_from(["", "-", "--", "--x", "build", "eval", "-h=1", "\x00", "--heads",
                                               "thm3.1", "\u00e9"]), min_size=0, max_size=4))
        # no arguments at all, or an unknown option first: both must be refused
        return "junk", (["--no-such-option"] + rest) if rest else []
    if command == "build":
        name = draw(st.sampled_from(["thm3.1", "thm4.1", "thm4.4", "thm5.1"]))
        valid = {"thm3.1": {"--lags": "1,2", "--heads": "8", "--rpe": "lin", "--alpha": "0.01"},
                 "thm4.1": {"--heads": "8", "--rpe": "lin"},
                 "thm4.4": {"--heads": "8", "--K": "1", "--M": "2"},
                 "thm5.1": {"--kernel": "exp:0.5", "--heads": "4"}}[name]
        bad = {"--heads": FUZZ_BAD_INTS, "--lags": FUZZ_BAD_LAGS, "--rpe": ("", "LIN", "t5", "x"),
               "--alpha": FUZZ_BAD_REALS, "--K": FUZZ_BAD_INTS, "--M": FUZZ_BAD_INTS,
               "--kernel": ("", "exp", "exp:-1", "exp:nan", "poly:0.5", "gauss:1", "exp:0.5,", "exp:1e999")}
        options = dict(valid)
        broken = draw(st.sampled_from(sorted(options) + ["--out", "--unknown", "name"]))
        argv = ["build"]
        if broken == "name":
            argv.append(draw(st.sampled_from(["thm9.9", "", "THM3.1", "--heads"])))
        else:
            argv.append(name)
        out = paths["out"]
        if broken == "--out":
            out = draw(st.sampled_from(["", paths["dir"], paths["dir"] + "/missing/x.json", None]))
        elif broken == "--unknown":
            argv += ["--no-such-option", "1"]
        elif broken != "name":
            options[broken] = draw(st.sampled_from(bad[broken]))
        for key, value in options.items():
            argv += [key, value]
        if out is not None:
            argv += ["--out", out]
        return f"build {broken}", argv
    if command == "eval":
        broken = draw(st.sampled_from(["model", "input", "backend", "dps", "past", "pad", "out", "unknown"]))
        model, window = paths["model"], paths["csv"]
        extra: list[str] = []
        if broken == "model":
            model = draw(st.sampled_from(paths["bad_models"]))
        elif broken == "input":
            window = draw(st.sampled_from(paths["bad_inputs"]))
        elif broken == "backend":
            extra = ["--backend", draw(st.sampled_from(["", "float32", "sympy ", "MPMATH"]))]
        elif broken == "dps":
            extra = ["--backend", "mpmath", "--dps", draw(st.sampled_from(["0", "4", "-1", "abc", "1000000",
                                                                          "1e3", ""]))]
        elif broken == "past":
            extra = ["--past", draw(st.sampled_from(["", "infinite", "NONE"]))]
        elif broken == "pad":
            extra = draw(st.sampled_from([["--pad", "nan"], ["--pad", "inf"], ["--pad", "1e999"],
                                          ["--pad", "abc"], ["--pad", "1,2"], ["--pad", ""],
                                          ["--past", "none", "--pad", "0"]]))
        elif broken == "out":
            extra = ["--out", draw(st.sampled_from(["", paths["dir"], paths["model"], paths["csv"]]))]
        else:
            extra = ["--no-such-option"]
        return f"eval {broken}", ["eval", model, "--input", window] + extra
    if command == "export":
        broken = draw(st.sampled_from(["model", "to", "out"]))
        model, to, out = paths["model"], "torch", paths["out"]
        if broken == "model":
            model = draw(st.sampled_from(paths["bad_models"]))
        elif broken == "to":
            to = draw(st.sampled_from(["", "onnx", "TORCH"]))
        else:
            out = draw(st.sampled_from(["", paths["dir"]]))
        return f"export {broken}", ["export", model, "--to", to, "--out", out]
    check = draw(st.sampled_from(["thm3.1", "lemma-f1", "thm5.1", "no-such-check", ""]))
    option = draw(st.sampled_from([["--heads", v] for v in FUZZ_BAD_INTS[:6]] + [["--no-such-option"]]
                                  + [["--json", paths["dir"]]] * (check == "no-such-check")))
    return f"verify {check} {option[0]}", ["verify", check] + option
