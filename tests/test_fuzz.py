"""Fuzzing the user-facing surface: model files and command lines (issue 12).

Two hypothesis properties, run on generated malformed input:

* **Model files** (:func:`strategies.mutated_model_texts`): a valid small model file after
  one random mutation (replaced, deleted or added nodes, spliced number literals such as
  ``1e999999``, nesting 65 to 100,000 deep, truncation, random bytes, duplicate keys,
  huge size fields, random metadata).  :meth:`Model.load` either loads it or raises a
  ``ValueError``/``TypeError`` whose message is one line; nothing else escapes.
* **Command lines** (:func:`strategies.malformed_cli_arguments`): argument lists for
  ``build``, ``eval``, ``export``, ``verify`` and junk, each invalid in at least one place.
  ``tfapprox`` exits 2 with exactly one line on stderr, prints no traceback, and leaves no
  file behind in the output folder.

Every example must also finish in bounded time (:data:`EXAMPLE_SECONDS`).

The default run draws a few hundred examples per property.  The ``fuzz`` profile
(``TFAPPROX_FUZZ_EXAMPLES=10000 pytest -m fuzz``, run by ``.ci/run``) draws 10,000 per
property.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import malformed_cli_arguments, mutated_model_texts

from tfapprox.cli import main
from tfapprox.verify.model import Model

pytestmark = pytest.mark.fuzz

#: Examples per property: a few hundred by default, 10,000 in the fuzz profile of .ci/run.
EXAMPLES = int(os.environ.get("TFAPPROX_FUZZ_EXAMPLES", "200"))
#: Wall-clock bound of one example (a refusal must be quick; generous for a loaded 2-core machine).
EXAMPLE_SECONDS = 20.0

_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.filter_too_much, HealthCheck.large_base_example])


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def fuzz_files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A valid model and window, invalid ones, and an empty scratch folder for outputs."""
    root = tmp_path_factory.mktemp("fuzz")
    inputs = root / "inputs"
    inputs.mkdir()
    model_path = inputs / "model.json"
    assert main(["build", "thm3.1", "--lags", "1,2", "--heads", "8", "--out", str(model_path)]) == 0
    csv_path = inputs / "window.csv"
    csv_path.write_text("0.5\n-0.25\n1\n")
    bad_inputs = {
        "nan.csv": "0.5\nnan\n", "inf.csv": "inf\n", "huge.csv": "1e999\n", "under.csv": "1_0\n",
        "empty.csv": "", "ragged.csv": "1,2\n3\n", "text.csv": "a\n", "hex.csv": "0x10\n",
        "blank.csv": "\n\n", "dims.csv": "1,2\n3,4\n",
    }
    paths = []
    for name, text in bad_inputs.items():
        (inputs / name).write_text(text)
        paths.append(str(inputs / name))
    for name, arr in {"empty.npy": np.zeros(0), "cube.npy": np.zeros((2, 2, 2, 2)),
                      "complex.npy": np.array([1 + 2j, 3]), "nan.npy": np.array([1.0, np.nan]),
                      "strings.npy": np.array(["a", "b"]), "bool.npy": np.array([True, False])}.items():
        np.save(inputs / name, arr)
        paths.append(str(inputs / name))
    (inputs / "truncated.npy").write_bytes((inputs / "nan.npy").read_bytes()[:40])
    paths += [str(inputs / "truncated.npy"), str(inputs / "missing.csv"), str(inputs), "/dev/zero", ""]
    bad_models = []
    for name, text in {"empty.json": "", "list.json": "[]", "trunc.json": model_path.read_text()[:100],
                       "inf.json": model_path.read_text().replace('"metadata": {', '"metadata": {"x": 1e999999, ', 1),
                       "deep.json": "[" * 100_000 + "]" * 100_000}.items():
        (inputs / name).write_text(text)
        bad_models.append(str(inputs / name))
    bad_models += [str(inputs / "missing.json"), str(inputs), "/dev/zero", "", str(csv_path)]
    scratch = root / "scratch"
    scratch.mkdir()
    return {"model": str(model_path), "csv": str(csv_path), "bad_inputs": paths, "bad_models": bad_models,
            "dir": str(scratch), "out": str(scratch / "out.json"), "inputs": inputs}


@_SETTINGS
@given(case=mutated_model_texts())
def test_mutated_model_files_load_or_raise_one_line(case: tuple[str, bytes, bool], tmp_path_factory) -> None:
    description, data, must_fail = case
    path = tmp_path_factory.getbasetemp() / "mutated-model.json"
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        Model.load(path)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert message and "\n" not in message, (description, message)
    else:
        assert not must_fail, f"{description}: a file that can never be valid was loaded"
    assert time.perf_counter() - start < EXAMPLE_SECONDS, description


@_SETTINGS
@given(data=st.data())
def test_malformed_command_lines_exit_2_with_one_line(fuzz_files: dict, data: st.DataObject) -> None:
    description, argv = data.draw(malformed_cli_arguments(fuzz_files), label="argv")
    scratch = Path(fuzz_files["dir"])
    for leftover in scratch.iterdir():  # one failing example must not fail the next ones
        leftover.unlink()
    inputs = fuzz_files["inputs"]
    before_inputs = sorted(p.name for p in inputs.iterdir())
    model_bytes = Path(fuzz_files["model"]).read_bytes()
    start = time.perf_counter()
    code, _out, err = _run_cli(argv)
    elapsed = time.perf_counter() - start
    lines = err.splitlines()
    assert code == 2, (description, argv, code, err)
    assert len(lines) == 1 and lines[0].strip(), (description, argv, err)
    assert "Traceback" not in err, (description, argv, err)
    assert list(scratch.iterdir()) == [], (description, argv, sorted(p.name for p in scratch.iterdir()))
    assert sorted(p.name for p in inputs.iterdir()) == before_inputs, (description, argv)
    assert Path(fuzz_files["model"]).read_bytes() == model_bytes, (description, argv)
    assert elapsed < EXAMPLE_SECONDS, (description, argv, elapsed)


def test_the_fuzz_files_are_what_they_claim(fuzz_files: dict) -> None:
    """The valid model and window of the fixture run (so every refusal above is about the mutation)."""
    code, out, err = _run_cli(["eval", fuzz_files["model"], "--input", fuzz_files["csv"], "--backend", "mpmath"])
    assert code == 0, err
    assert len(out.splitlines()) == 3
    json.loads(Path(fuzz_files["model"]).read_text())
