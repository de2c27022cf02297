"""Issue 12 reproductions as must-fail cases: bad input is exit 2 with one stderr line.

Every row of :data:`REPRODUCTIONS` is a command of issue 12 (sections "Crashes and
hangs", lenient reads, "Files and safety" and item 3) that used to crash, hang, or
succeed silently with a wrong reading.  Each must now exit 2 quickly with exactly one
line on stderr (``tfapprox: error: ...``), no traceback, and leave no file behind.
The table is mirrored in ``docs/guarantees.md``.  Further tests: internal errors exit
1 and say so; every written file is 0600 minus the umask; SIGTERM/SIGINT during a write
leave no temporary file; non-finite input is refused by every backend of the API.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import sympy

from tfapprox.cli import main
from tfapprox.verify.atomic import TEMP_PREFIX, write_atomic
from tfapprox.verify.model import Model

R = sympy.Rational


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A model file and the malformed inputs of the issue, written once."""
    d = tmp_path_factory.mktemp("issue12")
    model = str(d / "m.json")
    assert main(["build", "thm3.1", "--lags", "1,5,20", "--heads", "64", "--out", model]) == 0
    doc = json.loads(Path(model).read_text())
    deep: object = 1
    for _ in range(500):
        deep = [deep]
    doc["metadata"]["deep"] = deep
    (d / "deep.json").write_text(json.dumps(doc))
    text = Path(model).read_text().replace('"metadata": {', '"metadata": {"x": 1e999999, ', 1)
    (d / "inf.json").write_text(text)
    (d / "x.csv").write_text("0.5\n-0.25\n1\n")
    (d / "underscore.csv").write_text("0.5\n1_0\n")
    for name, cell in (("nan", "nan"), ("inf", "inf"), ("big", "1e999"), ("minf", "-Infinity")):
        (d / f"{name}.csv").write_text(f"0.5\n{cell}\n")
    np.save(d / "empty.npy", np.zeros(0))
    np.save(d / "cube.npy", np.zeros((2, 3, 1)))
    np.save(d / "complex.npy", np.array([0.5, 1 + 2j]))
    np.save(d / "object.npy", np.array([0.5, None], dtype=object), allow_pickle=True)
    np.save(d / "nan.npy", np.array([0.5, np.nan]))
    (d / "zero_bytes.npy").write_bytes(b"")
    from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
    from tfapprox.theory.rpe import LinRPE

    Model(TransformerSpec([[1]], [[0]], (Block(AttentionLayer((AttentionHead([[R(1, 3)]], R(1, 2)),), [[1]],
                                                              LinRPE()), None),), "padded", {})).save(d / "small.json")
    (d / "quote.csv").write_text('0.5\n"1\n')
    (d / "two.csv").write_text("0.5,1\n0.25,2\n")
    (d / "long.csv").write_text("\n".join(["0.5"] * 30_000) + "\n")
    return {"dir": str(d), "model": model, **{p.stem: str(p) for p in d.iterdir() if p.stem != "m"}}


#: (issue wording, argv with placeholders, a fragment of the one-line message)
REPRODUCTIONS = [
    ("no arguments", [], "a command is required"),
    ("--heads abc", ["build", "thm3.1", "--heads", "abc", "--out", "OUT"], "invalid int value: 'abc'"),
    ("--heads 1000000000", ["build", "thm3.1", "--heads", "1000000000", "--out", "OUT"],
     "more than the limit MAX_HEADS"),
    ("--width 1e9", ["build", "thm3.1", "--width", "1e9", "--out", "OUT"], "invalid int value: '1e9'"),
    ("--width 1000000000", ["build", "thm3.1", "--width", "1000000000", "--out", "OUT"],
     "more than the limit MAX_WIDTH"),
    ("--readout-neurons 1000000000", ["build", "thm3.1", "--readout", "gaussian", "--readout-neurons",
                                      "1000000000", "--out", "OUT"], "more than the limit MAX_READOUT_NEURONS"),
    ("--lags 100000000", ["build", "thm3.1", "--lags", "100000000", "--out", "OUT"], "more than the limit MAX_LAG"),
    ("--K 100000 (thm4.4)", ["build", "thm4.4", "--K", "100000", "--out", "OUT"], "limit MAX_MEMORIES"),
    ("--dps 10**6", ["eval", "MODEL", "--input", "x", "--backend", "mpmath", "--dps", "1000000"],
     "limit MAX_DPS"),
    ("verify --heads 1e8", ["verify", "thm3.1", "--heads", "100000000"], "limit MAX_HEADS"),
    ("eval /dev/zero", ["eval", "/dev/zero", "--input", "x"], "more than the limit of"),
    ("--input /dev/zero", ["eval", "MODEL", "--input", "/dev/zero"], "more than the limit of"),
    ("empty .npy array", ["eval", "MODEL", "--input", "empty"], "empty array of shape (0,)"),
    ("zero-byte .npy file", ["eval", "MODEL", "--input", "zero_bytes"], "is empty"),
    ("3-D .npy", ["eval", "MODEL", "--input", "cube"], "has shape (2, 3, 1); a window is (N,) or (N, d)"),
    ("complex .npy", ["eval", "MODEL", "--input", "complex"], "imaginary part would be lost"),
    ("object .npy", ["eval", "MODEL", "--input", "object"], "Python objects"),
    ("NaN in a .npy", ["eval", "MODEL", "--input", "nan.npy", "--backend", "mpmath"], "non-finite value nan"),
    ("metadata nested 500 deep", ["eval", "deep", "--input", "x"], "more than the limit MAX_METADATA_DEPTH"),
    ("metadata 1e999999", ["eval", "inf", "--input", "x"], "beyond the float64 range"),
    ("1_0 in a CSV", ["eval", "MODEL", "--input", "underscore"], "'1_0' is not a decimal number"),
    ("NaN in a CSV (mpmath)", ["eval", "MODEL", "--input", "nan.csv", "--backend", "mpmath"],
     "'nan' is not a decimal number"),
    ("inf in a CSV (mpmath)", ["eval", "MODEL", "--input", "inf.csv", "--backend", "mpmath"],
     "'inf' is not a decimal number"),
    ("1e999 in a CSV (mpmath)", ["eval", "MODEL", "--input", "big", "--backend", "mpmath"], "is not finite"),
    ("1e999 in a CSV (float64)", ["eval", "MODEL", "--input", "big"], "is not finite"),
    ("-Infinity in a CSV", ["eval", "MODEL", "--input", "minf"], "not a decimal number"),
    ("--pad nan", ["eval", "MODEL", "--input", "x", "--pad", "nan", "--backend", "mpmath"],
     "'nan' is not a decimal number"),
    ("--pad 1e999", ["eval", "MODEL", "--input", "x", "--pad", "1e999"], "is not finite"),
    ("--pad inf (mpmath)", ["eval", "MODEL", "--input", "x", "--pad", "inf", "--backend", "mpmath"],
     "not a decimal number"),
    ("--pad with --past none", ["eval", "MODEL", "--input", "x", "--pad", "1", "--past", "none"],
     "--pad is meaningless with past 'none'"),
    ("--past none on 30,000 rows", ["eval", "MODEL", "--input", "long", "--past", "none"],
     "more than the limit MAX_QUADRATIC_ENTRIES"),
    ("mpmath on 30,000 rows", ["eval", "MODEL", "--input", "long", "--backend", "mpmath"],
     "more than the limit MAX_QUADRATIC_ENTRIES"),
    ("eval m.json --out m.json", ["eval", "MODEL", "--input", "x", "--out", "MODEL"],
     "is the model file; refusing to overwrite it"),
    ("eval --out the input", ["eval", "MODEL", "--input", "x", "--out", "x"], "is the --input file"),
    ("eval --out ''", ["eval", "MODEL", "--input", "x", "--out", ""], "--out must name a file"),
    ("build --out ''", ["build", "thm3.1", "--out", ""], "--out must name a file"),
    ("eval --out DIR", ["eval", "MODEL", "--input", "x", "--out", "DIR"], "is a directory"),
    ("verify --json ''", ["verify", "thm3.1", "--json", ""], "--json must name a file"),
    ("build --out missing/dir", ["build", "thm3.1", "--out", "DIR/missing/m.json"], "does not exist"),
]


#: Further refusals of the same kind (not in the issue's text).
EXTRA_REFUSALS = [
    ("--dps with float64", ["eval", "MODEL", "--input", "x", "--backend", "float64", "--dps", "30"],
     "--dps applies to the mpmath backend only"),
    ("--dps below MIN_DPS", ["eval", "MODEL", "--input", "x", "--backend", "mpmath", "--dps", "2"],
     "--dps must be >= 5"),
    ("verify --all --out ''", ["verify", "--all", "--out", ""], "must name the report folder"),
    ("--lags with 30 digits", ["build", "thm3.1", "--lags", "1" * 30, "--out", "OUT"], "limit MAX_LAG"),
    ("model file is a directory", ["eval", "DIR", "--input", "x"], "is a directory"),
    ("CSV with an unterminated quote", ["eval", "MODEL", "--input", "quote"], "not a CSV file"),
    ("CSV with two columns for d = 1", ["eval", "MODEL", "--input", "two"], "tokens of dimension d = 1"),
    ("export --out the model", ["export", "MODEL", "--to", "torch", "--out", "MODEL"], "is the model file"),
]


def _resolve(argv: list[str], files: dict[str, str], out: str) -> list[str]:
    names = {"MODEL": files["model"], "OUT": out, "x": files["x"], "long": files["long"],
             "empty": files["empty"], "zero_bytes": files["zero_bytes"], "cube": files["cube"],
             "complex": files["complex"], "object": files["object"], "nan.npy": files["dir"] + "/nan.npy",
             "nan.csv": files["dir"] + "/nan.csv", "inf.csv": files["dir"] + "/inf.csv", "big": files["big"],
             "minf": files["minf"], "deep": files["deep"], "inf": files["inf"],
             "underscore": files["underscore"], "small": files["small"], "quote": files["quote"], "two": files["two"]}
    result = []
    for a in argv:
        a = names.get(a, a)
        result.append(a.replace("DIR", files["dir"]))
    return result


@pytest.mark.parametrize("case, argv, message", REPRODUCTIONS + EXTRA_REFUSALS,
                         ids=[r[0] for r in REPRODUCTIONS + EXTRA_REFUSALS])
def test_issue12_reproduction_is_one_line_exit_2(case: str, argv: list[str], message: str,
                                                  files: dict[str, str], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    if "/dev/zero" in argv and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    before = sorted(os.listdir(files["dir"]))
    model_bytes = Path(files["model"]).read_bytes()
    out = str(tmp_path / "out.json")
    start = time.monotonic()
    assert main(_resolve(argv, files, out)) == 2, case
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("tfapprox: error: "), (case, err)
    assert message in err, (case, err)
    assert "Traceback" not in err and captured.out == ""
    assert elapsed < 20, (case, elapsed)
    assert sorted(os.listdir(files["dir"])) == before  # nothing created, no temporary file
    assert list(tmp_path.iterdir()) == []
    assert Path(files["model"]).read_bytes() == model_bytes


def test_no_arguments_as_a_subprocess(tmp_path: Path) -> None:
    # cwd outside the repository: from its root `-m tfapprox` would import the source folder tfapprox/
    proc = subprocess.run([sys.executable, "-m", "tfapprox"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "a command is required" in proc.stderr


def test_argparse_errors_are_one_line_in_a_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tfapprox", "build", "thm3.1", "--heads", "abc", "--out",
                           str(tmp_path / "m.json")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "usage:" not in proc.stderr


# ----------------------------------------------------------- exact and strict windows
def test_csv_decimals_are_exact_for_mpmath_and_rounded_for_float64(files: dict[str, str], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    model = Model.load(files["model"])
    csv = tmp_path / "w.csv"
    csv.write_text("0.1\n0.7\n-0.3\n")
    assert main(["eval", files["model"], "--input", str(csv), "--backend", "mpmath", "--dps", "60"]) == 0
    printed = capsys.readouterr().out.split()
    exact = model.run(np.array([[R(1, 10)], [R(7, 10)], [R(-3, 10)]], dtype=object), backend="mpmath", dps=60)
    import mpmath

    accuracy = 1e-15 * 10.0 ** -(60 - model.required_digits)  # what eval --help states
    via_double = model.run(np.array([0.1, 0.7, -0.3]), backend="mpmath", dps=60)
    with mpmath.workdps(100):  # parse the printed decimals without rounding them to 53 bits
        assert all(abs(mpmath.mpf(p) - v) <= accuracy for p, v in zip(printed, exact[:, 0]))
        assert any(abs(mpmath.mpf(p) - v) > accuracy for p, v in zip(printed, via_double[:, 0]))
    # float64 reads the correctly rounded double (a model float64 can evaluate)
    from tfapprox.theory.architecture import AttentionHead, AttentionLayer, Block, TransformerSpec
    from tfapprox.theory.rpe import LinRPE

    small = Model(TransformerSpec([[1]], [[0]], (Block(AttentionLayer(
        (AttentionHead([[R(1, 3)]], R(1, 2)),), [[1]], LinRPE()), None),), "padded", {}))
    small.save(tmp_path / "small.json")
    assert main(["eval", str(tmp_path / "small.json"), "--input", str(csv)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [repr(float(v)) for v in small.run(np.array([0.1, 0.7, -0.3]))[:, 0]]


@pytest.mark.parametrize("cell", ["1_0", "0x10", "nan", "NaN", "inf", "+inf", "1e", "1.2.3", "١", "1 0", "--1",
                                  "1e+", "infinity", "1e999", "-1e999", ""])
def test_csv_cells_are_strict(cell: str, files: dict[str, str], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "w.csv"
    csv.write_text(f"0.5,{cell}\n", encoding="utf-8")
    for backend in ("float64", "mpmath"):
        assert main(["eval", files["model"], "--input", str(csv), "--backend", backend]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "line 1 column 2" in err, err


@pytest.mark.parametrize("cell, value", [("3", 3.0), ("-0.25", -0.25), ("+1.5e-3", 1.5e-3), (".5", 0.5),
                                         ("5.", 5.0), ("007", 7.0), (" 2 ", 2.0), ("1E2", 100.0), ("1e-400", 0.0)])
def test_csv_cells_accepted(cell: str, value: float) -> None:
    from tfapprox.theory.numbers import parse_decimal

    assert parse_decimal(cell, "cell", exact=False) == value
    exact = parse_decimal(cell, "cell", exact=True)
    assert isinstance(exact, sympy.Rational) and (exact == sympy.Rational(cell.strip()) or value == 0.0)


def test_long_csv_cells_are_exact_or_refused() -> None:
    from tfapprox.theory.numbers import parse_decimal

    cell = "0." + "3" * 10_000  # beyond Python's 4300-digit int() limit
    assert parse_decimal(cell, "cell", exact=True) == sympy.Rational((10 ** 10_000 - 1) // 3, 10 ** 10_000)
    assert parse_decimal(cell, "cell", exact=False) == 0.3333333333333333
    with pytest.raises(ValueError, match="more than the 200000 allowed"):
        parse_decimal("1" * 200_001, "cell", exact=True)


# ------------------------------------------------------- internal errors are not bad input
def test_internal_errors_exit_1_and_say_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import tfapprox.api

    def numpy_fails(*args: object, **kwargs: object) -> None:
        np.linalg.inv(np.zeros((2, 2)))  # LinAlgError (a ValueError) raised inside numpy

    monkeypatch.setattr(tfapprox.api, "build_construction", numpy_fails)
    assert main(["build", "thm3.1", "--out", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err
    assert err == "tfapprox: internal error (a bug, please report): LinAlgError: Singular matrix\n"

    def divides_by_zero(*args: object, **kwargs: object) -> None:
        return 1 // 0

    monkeypatch.setattr(tfapprox.api, "build_construction", divides_by_zero)
    assert main(["build", "thm3.1", "--out", str(tmp_path / "m.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tfapprox: internal error (a bug, please report): ZeroDivisionError") and \
        err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_validation_errors_of_tfapprox_exit_2_with_multiline_messages_collapsed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import tfapprox.api
    from tfapprox.theory.validation import require_int

    def bad(*args: object, **kwargs: object) -> None:
        require_int("heads", "many\nlines")

    monkeypatch.setattr(tfapprox.api, "build_construction", bad)
    assert main(["build", "thm3.1", "--out", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfapprox: error: heads must be an integer") and err.count("\n") == 1


# --------------------------------------------------------------------------- files
def _mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_cli_output_is_private(files: dict[str, str], tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(0o022)
    try:
        model = tmp_path / "m.json"
        model.write_text("old")
        os.chmod(model, 0o644)
        assert main(["build", "thm3.1", "--lags", "1,5", "--heads", "16", "--out", str(model)]) == 0
        out = tmp_path / "y.txt"
        out.write_text("old")
        os.chmod(out, 0o644)
        assert main(["eval", str(model), "--input", files["x"], "--out", str(out)]) == 0
        fresh = tmp_path / ("y" * 250)
        assert main(["eval", str(model), "--input", files["x"], "--out", str(fresh)]) == 0
        report = tmp_path / "r.json"
        assert main(["verify", "lemma-f1", "--heads", "4,8", "--json", str(report), "--quiet"]) in (0, 1)
    finally:
        os.umask(old)
    capsys.readouterr()
    for path in (model, out, fresh, report):
        assert _mode(path) == 0o600, path
    assert fresh.read_text() == out.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_umask_is_honoured(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        write_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "a.txt") == 0o400


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import tfapprox.verify.model_file as mf
    from tfapprox.cli import main

    target, marker, how = sys.argv[1], sys.argv[2], sys.argv[3]
    real = mf._iter_json

    def slow(obj, level=0):
        for i, chunk in enumerate(real(obj, level)):
            yield chunk
            if level == 0 and i == 3:
                Path(marker).write_text("writing")
                while True:  # the write never finishes: only the signal ends it
                    time.sleep(0.05)

    mf._iter_json = slow
    if how == "cli":
        sys.exit(main(["build", "thm3.1", "--lags", "1,5,20", "--heads", "64", "--out", target]))
    from tfapprox.verify.atomic import write_atomic

    def chunks():
        yield "x" * 100_000
        Path(marker).write_text("writing")
        while True:
            time.sleep(0.05)
            yield "y"

    write_atomic(target, chunks())
""")


@pytest.mark.parametrize("how", ["cli", "writer"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_write_leaves_no_temporary_file(how: str, signum: int, tmp_path: Path) -> None:
    work = tmp_path / "out"
    work.mkdir()
    target = work / "model.json"
    target.write_text("previous content")
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(target), str(marker), how],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.02)
        temps = [p.name for p in work.iterdir() if p.name.startswith(TEMP_PREFIX)]
        assert len(temps) == 1  # the write is in progress
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sorted(p.name for p in work.iterdir()) == ["model.json"]
    assert target.read_text() == "previous content"
    if signum == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM
    elif how == "cli":
        assert proc.returncode == 130 and err == "tfapprox: interrupted\n"
    else:
        assert "KeyboardInterrupt" in err


def test_signal_handlers_are_restored_after_a_write(tmp_path: Path) -> None:
    before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    write_atomic(tmp_path / "a", b"1")
    with pytest.raises(RuntimeError):
        write_atomic(tmp_path / "b", (_ for _ in ()).throw(RuntimeError("producer failed")))
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


# ------------------------------------------------------------ every backend, the API
@pytest.mark.parametrize("backend", ["float64", "mpmath", "sympy"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_input_is_refused_by_every_backend(backend: str, bad: float, files: dict[str, str]) -> None:
    import mpmath

    model = Model(Model.load(files["model"]).spec)
    for X in (np.array([0.5, bad]), np.array([0.5, mpmath.mpf(bad)], dtype=object)):
        with pytest.raises(ValueError, match="finite"):
            model.run(X, backend=backend, dps=None)
    with pytest.raises(ValueError, match="finite"):
        model.run(np.array([0.5, 0.25]), backend=backend, pad=[bad], dps=None)
    if backend != "float64":
        for exact_bad in (sympy.oo, sympy.nan, sympy.zoo):
            with pytest.raises(ValueError, match="finite"):
                model.run(np.array([R(1, 2), exact_bad], dtype=object), backend=backend, dps=None)
    with pytest.raises(TypeError, match="complex"):
        model.run(np.array([0.5, 1j]), backend=backend, dps=None)


# ------------------------------------------------------------------ small fuzz (default run)
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CSV_ALPHABET = st.sampled_from(list("0123456789.,-+eE \n_nainfINF\"x/") + ["\x00", "\r\n", "é", "1e999", "1_0"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(_CSV_ALPHABET, max_size=40).map("".join), backend=st.sampled_from(["float64", "mpmath"]))
def test_fuzz_csv_windows(text: str, backend: str, files: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    csv = folder / "w.csv"
    csv.write_text(text, encoding="utf-8")
    status = main(["eval", files["small"], "--input", str(csv), "--backend", backend, "--out", str(folder / "y")])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    if status == 0:
        assert captured.err == ""
        rows = [r for r in text.replace("\r\n", "\n").split("\n") if r.strip()]
        assert len((folder / "y").read_text().splitlines()) == len(rows)
    else:
        assert status == 2 and captured.err.count("\n") == 1 and captured.err.startswith("tfapprox: error: ")
        assert not (folder / "y").exists()
    assert sorted(p.name for p in folder.iterdir()) in (["w.csv"], ["w.csv", "y"])


_ARG_TOKENS = st.sampled_from(["eval", "MODEL", "SMALL", "--input", "x", "nan.npy", "big", "--backend", "mpmath",
                               "float64", "sympy", "--dps", "0", "30", "abc", "--past", "none", "padded",
                               "--pad", "1", "nan", "1,2", "--out", "", "OUT", "DIR", "-h", "--nosuch"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(_ARG_TOKENS, max_size=9))
def test_fuzz_eval_arguments(argv: list[str], files: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzzargs")
    out = str(folder / "out.txt")
    argv = [files["small"] if a == "SMALL" else a for a in argv]
    status = main(_resolve(argv, files, out))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if status == 2:
        assert captured.err.count("\n") == 1 and captured.err.startswith("tfapprox: error: ")
    else:
        assert status == 0 and captured.err == ""
    assert [p.name for p in folder.iterdir()] in ([], ["out.txt"])
    assert not [p for p in Path(files["dir"]).iterdir() if p.name.startswith(TEMP_PREFIX)]
