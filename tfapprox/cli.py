"""The ``tfapprox`` command line: ``build``, ``eval``, ``verify``, ``export`` and ``sweep``.

Exit status: 0 when everything asked for succeeded (for ``verify``: every check passed),
1 when a check ran and failed, 2 for bad input, 1 for an internal error.  Every error is
exactly one line on stderr, ``tfapprox: error: ...``, never a traceback.

Bad input versus internal error.  The toolkit validates its input with ``ValueError``
and ``TypeError`` naming the parameter, the value and what is allowed.  The rule applied here to
tell such a validation error from a bug is pragmatic and explicit:

* exit 2 (bad input): :class:`UsageError` (argument errors, including argparse's),
  :class:`~tfapprox.verify.model.PrecisionError`, ``OSError`` (a user path that cannot be
  read or written), and ``ValueError``/``TypeError`` *raised by tfapprox's own code*:
  the innermost frame of the traceback is a file of the ``tfapprox`` package
  (``tfapprox/``, ``theory/``, ``constructions/``, ``verify/``);
* exit 1 (internal error, "a bug, please report"): anything else, including a
  ``ValueError`` raised inside numpy, sympy, mpmath or the standard library (it means
  the toolkit passed on input it had not validated), ``MemoryError``,
  ``RecursionError``, ``ZeroDivisionError`` and ``AssertionError``;
* exit 130 on ``SIGINT`` (``tfapprox: interrupted``); files being written are removed
  (:mod:`tfapprox.verify.atomic`).

Size options are checked against :mod:`tfapprox.theory.limits` before anything is built
(docs/guarantees.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn, Sequence

from tfapprox.verify.check_config import strict_int  # the one strict integer parser of the options

__all__ = ["main", "UsageError", "strict_int"]


class UsageError(ValueError):
    """Bad command-line input."""




class _Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors are one line (raised, not printed with the usage) and
    whose integer options are strict (:func:`strict_int`: no ``1_0``, no spaces)."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("type") is int:
            kwargs["type"] = strict_int
        return super().add_argument(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if isinstance(action, _CheckChoice) and value not in action.choices:
            from tfapprox.verify.registry import get_check

            get_check(value)  # ValueError: "unknown check 'x'; available: ..."
        super()._check_value(action, value)


def _parse_int_list(text: str, name: str) -> list[int]:
    from tfapprox.theory.validation import require_int_list

    try:
        return require_int_list(name, text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------------- size limits
def _size_limits() -> dict[str, tuple[str, int, int | None]]:
    """option (argparse dest) -> (limit name, maximum, minimum or None)."""
    from tfapprox.theory import limits as L

    return {
        "heads": ("MAX_HEADS", L.MAX_HEADS, None),
        "width": ("MAX_WIDTH", L.MAX_WIDTH, None),
        "widths": ("MAX_WIDTH", L.MAX_WIDTH, None),
        "readout_neurons": ("MAX_READOUT_NEURONS", L.MAX_READOUT_NEURONS, None),
        "lags": ("MAX_LAG", L.MAX_LAG, None),
        "K": ("MAX_MEMORIES", L.MAX_MEMORIES, None),
        "M": ("MAX_MEMORIES", L.MAX_MEMORIES, None),
        "dps": ("MAX_DPS", L.MAX_DPS, L.MIN_DPS),
        "length": ("MAX_WINDOW_ROWS", L.MAX_WINDOW_ROWS, None),
    }


def _check_size_options(options: argparse.Namespace) -> None:
    """Refuse a size option beyond its limit (theory/limits.py), before anything is built.

    Integer options are checked as given; comma-separated lists (``--lags 1,5,20``,
    ``--heads 8,64`` of ``verify``) entry by entry.  ``auto`` and other non-numeric
    values are left to the command's own validation.
    """
    from tfapprox.theory.limits import MAX_MEMORIES

    for dest, (limit, maximum, minimum) in _size_limits().items():
        value = getattr(options, dest, None)
        if value is None or isinstance(value, bool):
            continue
        flag = "--" + dest.replace("_", "-")
        if isinstance(value, str):
            if not re.fullmatch(r"[0-9+\-, ]+", value):
                continue  # "auto", or a list the command validates itself
            entries = _parse_int_list(value, flag)
        elif isinstance(value, int):
            entries = [value]
        elif isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
            entries = list(value)
        else:
            continue
        for v in entries:
            if v > maximum:
                raise UsageError(f"{flag} {v} is more than the limit {limit} = {maximum} (docs/guarantees.md)")
            if minimum is not None and v < minimum:
                raise UsageError(f"{flag} must be >= {minimum}, got {v}")
        if dest == "lags" and len(entries) > MAX_MEMORIES:
            raise UsageError(f"{flag} lists {len(entries)} lags, more than the limit MAX_MEMORIES = "
                             f"{MAX_MEMORIES} (docs/guarantees.md)")


# --------------------------------------------------------------------- input windows
def _read_window(path: str, exact: bool = False) -> Any:
    """Read ``--input``: a ``.npy`` array or a CSV, bounded and strictly validated.

    CSV cells are decimals (:func:`tfapprox.theory.numbers.parse_decimal`); with ``exact`` (the mpmath backend)
    each cell becomes the exact rational it denotes ("0.1" is 1/10), otherwise the
    correctly rounded float64.  A ``.npy`` file must hold a real (integer or float)
    array of shape ``(N,)`` or ``(N, d)``; its entries are float64 values and are used
    exactly as stored.
    """
    import numpy as np

    from tfapprox.theory.limits import MAX_INPUT_FILE_BYTES, MAX_WINDOW_ENTRIES, MAX_WINDOW_ROWS
    from tfapprox.theory.numbers import parse_decimal
    from tfapprox.verify.model_file import read_bounded

    if path == "":
        raise UsageError("--input must name a file, got ''")
    if not os.path.exists(path):
        raise UsageError(f"--input file {path!r} does not exist")
    raw = read_bounded(path, MAX_INPUT_FILE_BYTES, "--input file")
    if not raw:
        raise UsageError(f"--input {path!r} is empty")
    if path.endswith(".npy"):
        arr = _read_npy(raw, path)
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"--input {path!r} is not UTF-8 text: byte {exc.start} is invalid") from None
        if "\x00" in text:
            raise UsageError(f"--input {path!r} contains NUL bytes; not a CSV text file")
        rows: list[list[Any]] = []
        entries = 0
        try:
            for i, row in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True)):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(rows) >= MAX_WINDOW_ROWS:
                    raise UsageError(f"--input {path!r} has more than MAX_WINDOW_ROWS = {MAX_WINDOW_ROWS} rows")
                entries += len(row)
                if entries > MAX_WINDOW_ENTRIES:
                    raise UsageError(f"--input {path!r} has more than MAX_WINDOW_ENTRIES = "
                                     f"{MAX_WINDOW_ENTRIES} entries")
                rows.append([parse_decimal(c, f"--input {path!r} line {i + 1} column {j + 1}", exact)
                             for j, c in enumerate(row)])
        except csv.Error as exc:
            raise UsageError(f"--input {path!r}: not a CSV file ({exc})") from None
        if not rows:
            raise UsageError(f"--input {path!r} holds no numbers")
        if len({len(r) for r in rows}) != 1:
            raise UsageError(f"--input {path!r} must be a CSV of equal-length rows (one time step per row)")
        arr = np.array(rows, dtype=object if exact else float)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _read_npy(raw: bytes, path: str) -> Any:
    import numpy as np

    from tfapprox.theory.limits import MAX_WINDOW_ENTRIES, MAX_WINDOW_ROWS

    fh = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise UsageError(f"--input {path!r} is not a valid .npy file: {exc}") from None
    if dtype.kind not in "fiu" or dtype.hasobject:
        what = {"c": "complex numbers: the imaginary part would be lost", "O": "Python objects (pickles)",
                "b": "booleans", "U": "text", "S": "bytes", "V": "structured records"}.get(dtype.kind, "no reals")
        raise UsageError(f"--input {path!r} has dtype {dtype} ({what}); a window must be a real integer or "
                         f"float array")
    if len(shape) not in (1, 2):
        raise UsageError(f"--input {path!r} has shape {shape}; a window is (N,) or (N, d)")
    size = 1
    for n in shape:
        size *= n
    if size == 0:
        raise UsageError(f"--input {path!r} is an empty array of shape {shape}")
    if shape[0] > MAX_WINDOW_ROWS or size > MAX_WINDOW_ENTRIES:
        raise UsageError(f"--input {path!r} has shape {shape}, beyond MAX_WINDOW_ROWS = {MAX_WINDOW_ROWS} "
                         f"rows or MAX_WINDOW_ENTRIES = {MAX_WINDOW_ENTRIES} entries")
    if len(raw) - fh.tell() < size * dtype.itemsize:
        raise UsageError(f"--input {path!r} is truncated: shape {shape} needs {size * dtype.itemsize} data "
                         f"bytes, the file has {len(raw) - fh.tell()}")
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise UsageError(f"--input {path!r} is not a valid .npy array without pickles: {exc}") from None
    arr = np.asarray(arr, dtype=float)
    if not np.all(np.isfinite(arr)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise UsageError(f"--input {path!r} holds the non-finite value {arr[index]} at index {index}; "
                         f"non-finite input is refused in every backend")
    return arr


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_out(path: Any, flag: str, protected: Sequence[tuple[str, str]] = ()) -> None:
    """Validate an output path before any work: not empty, not a directory, its folder
    exists, and not one of the command's own input files."""
    from tfapprox.verify.atomic import check_target

    if path is None:
        return
    check_target(path, flag)
    for other, what in protected:
        if other and _same_file(path, other):
            raise UsageError(f"{flag} {path!r} is the {what}; refusing to overwrite it")


# ----------------------------------------------------------------------------- build
def _cmd_build(args: argparse.Namespace) -> int:
    import json

    from tfapprox.api import build_construction
    from tfapprox.verify.file_certificate import ConstructionNotCertified, certify_reloaded
    from tfapprox.verify.model_file import spec_from_dict, spec_to_dict

    _check_out(args.out, "--out")
    _check_size_options(args)
    options = {k: v for k, v in vars(args).items() if k not in ("command", "func", "out", "construction", "quiet")}
    cons, model = build_construction(args.construction, **options)
    # The file is certified before it is written: the model read back from the exact JSON
    # text must reproduce the construction's certificate (verify/file_certificate.py), or
    # nothing is written (ValueError -> exit 2).
    document = spec_to_dict(model.spec)
    try:
        cert = certify_reloaded(cons, spec_from_dict(json.loads(json.dumps(document))))
    except ConstructionNotCertified as exc:  # nothing to reproduce: write, and say so
        cert, uncertified = None, _one_line(str(exc))
    model.save(args.out)
    meta = model.metadata
    for warning in meta.get("warnings", ()) or ():
        sys.stderr.write(f"tfapprox: warning: {_one_line(str(warning))}\n")
    print(f"wrote {args.out}: {model!r}")
    print(f"digits needed by the weights: {model.required_digits} (lowered parameters written at "
          f"{document['lowered_parameters']['digits']} significant digits)")
    if cert is None:
        sys.stderr.write(f"tfapprox: warning: NOT CERTIFIED: {uncertified}; the file holds the construction's "
                         f"weights but no error bound holds for them (use more heads)\n")
        return 0
    lo, hi = cert.enclosure
    print(f"certified worst-case error of the file's model: [{lo:.6g}, {hi:.6g}] (the construction's "
          f"certificate [{cert.certified[0]:.6g}, {cert.certified[1]:.6g}]; the file's rounding moves the output "
          f"by at most {cert.perturbation:.3g})")
    return 0


# ------------------------------------------------------------------------------ eval
def _cmd_eval(args: argparse.Namespace) -> int:
    import numpy as np

    from tfapprox.verify.model import Model

    if args.model == "":
        raise UsageError("the model file must be named, got ''")
    _check_out(args.out, "--out", [(args.model, "model file"), (args.input, "--input file")])
    _check_size_options(args)
    if args.dps is not None and args.backend == "float64":
        raise UsageError("--dps applies to the mpmath backend only (got --backend float64)")
    backend = args.backend
    if backend == "auto" and args.dps is not None:
        backend = "mpmath"  # --dps asks for mpmath
    model = Model.load(args.model)
    exact = backend in ("mpmath", "auto")  # read CSV decimals exactly unless float64 was asked for
    past = args.past or model.past
    if args.pad is not None and past == "none":
        raise UsageError("--pad is meaningless with past 'none' (nothing precedes the window); "
                         "drop --pad or use --past padded")
    X = _read_window(args.input, exact=exact)
    if X.shape[1] != model.spec.input_dim:
        raise UsageError(f"--input {args.input!r} has {X.shape[1]} column(s) per time step; the model reads "
                         f"tokens of dimension d = {model.spec.input_dim}")
    pad = None
    if args.pad is not None:
        from tfapprox.theory.numbers import parse_decimal

        cells = args.pad.split(",")
        pad = [parse_decimal(c, f"--pad entry {i + 1}", exact) for i, c in enumerate(cells)]
    if backend == "auto":
        from tfapprox.verify.auto_backend import backend_choice

        X_float = np.array(X, dtype=float)
        pad_float = None if pad is None else [float(v) for v in pad]
        backend, why = backend_choice(model, X_float, past=args.past, pad=pad_float)
        if backend == "float64":
            X, pad = X_float, pad_float
        else:
            sys.stderr.write(f"tfapprox: eval: using mpmath at the model's digits ({_one_line(why)})\n")
    out = model.run(X, backend=backend, dps=args.dps, past=args.past, pad=pad)
    lines = []
    if backend == "float64":
        for row in out:
            lines.append(",".join(repr(float(v)) for v in row))
    else:
        # Print only the digits the run guarantees: at the model's required digits the digits policy
        # (tfapprox.theory.digits) makes mpmath outputs accurate to well below 1e-15 times the largest
        # input magnitude, and every digit of --dps above the required ones adds one; each value is
        # printed to that absolute accuracy (a value below it prints as 0).
        scale = max([1.0] + [abs(float(v)) for v in np.asarray(X, dtype=object).ravel()]
                    + [abs(float(v)) for v in (pad or [])])
        extra = (args.dps or model.required_digits) - model.required_digits
        accuracy = EVAL_MPMATH_ACCURACY * scale * 10.0 ** -extra
        lines = [",".join(_fixed_accuracy(v, accuracy) for v in row) for row in out]
    text = "\n".join(lines) + "\n"
    if args.out is not None:
        from tfapprox.verify.atomic import write_atomic

        write_atomic(args.out, text, name="--out")
    else:
        sys.stdout.write(text)
    return 0


#: Absolute accuracy, per unit of the largest input magnitude, to which ``eval`` prints mpmath
#: outputs (what the digits policy of :mod:`tfapprox.theory.digits` guarantees with margin).
EVAL_MPMATH_ACCURACY = 1e-15


def _fixed_accuracy(value: Any, accuracy: float) -> str:
    """``value`` printed with the significant digits above the absolute ``accuracy``; ``0`` when
    ``|value| < accuracy`` (the run cannot tell it from zero).

    >>> import mpmath
    >>> _fixed_accuracy(mpmath.mpf("0.27193141529599665123"), 1e-15), _fixed_accuracy(mpmath.mpf("-1.3e-28"), 1e-15)
    ('0.271931415295997', '0')
    """
    import math

    import mpmath

    magnitude = abs(value)
    if magnitude < accuracy:
        return "0"
    # the last printed digit sits at 10^floor(log10 accuracy) <= accuracy: rounding moves the value
    # by at most half of it
    digits = int(math.floor(float(mpmath.log10(magnitude))) - math.floor(math.log10(accuracy))) + 1
    return mpmath.nstr(value, max(1, digits), strip_zeros=False)


# ---------------------------------------------------------------------------- export
def _cmd_export(args: argparse.Namespace) -> int:
    from tfapprox.verify.model import Model

    _check_out(args.out, "--out", [(args.model, "model file")])
    model = Model.load(args.model)
    try:
        from tfapprox import export
    except ImportError as exc:  # pragma: no cover
        raise UsageError(str(exc)) from exc
    try:
        path = export.save_torch(model, args.out) if args.to == "torch" else export.save_lens(model, args.out)
        snippet = export.load_snippet(args.to, path)
    except ImportError as exc:
        raise UsageError(f"{exc} (export --to {args.to})") from exc
    print(f"wrote {path}: {model!r} as {args.to}; load it with:\n{snippet}")
    return 0


# ---------------------------------------------------------------------------- verify
def _cmd_verify(args: argparse.Namespace, command: list[str]) -> int:
    from tfapprox.verify.check_config import cli_names
    from tfapprox.verify.progress import ProgressReporter
    from tfapprox.verify.registry import all_checks, get_check
    from tfapprox.verify.report import print_result, run_all
    from tfapprox.verify.report_files import write_json_atomic

    # progress on stderr: a bar on a terminal, whole lines (with heartbeats) when piped
    show_progress = not args.quiet
    if args.list:
        checks = all_checks()
        width = max(len(c.name) for c in checks)
        for check in checks:
            print(f"{check.name:<{width}}  {check.summary}")
        return 0
    if args.all:
        if args.check:
            raise UsageError("verify --all takes no check name or check options")
        if not args.out.strip():
            raise UsageError("--out must name the report folder, got an empty path ''")
        if os.path.exists(args.out) and not os.path.isdir(args.out):
            raise UsageError(f"--out {args.out!r} is a file; --all writes a report folder")
        if args.jobs is not None and args.jobs < 1:
            raise UsageError(f"--jobs must be a positive integer (worker processes), got {args.jobs}")
        with ProgressReporter(sys.stderr, enabled=show_progress) as reporter:
            ok = run_all(Path(args.out), progress=reporter, quiet=args.quiet, command=command,
                         workers=args.jobs)
        return 0 if ok else 1
    if not args.check:
        raise UsageError("verify needs a check name (see `tfapprox verify --list`) or --all")
    check = get_check(args.check)
    _check_out(args.json, "--json")
    _check_out(args.plot, "--plot", [(args.json, "--json file")])
    if args.plot and check.has_plot is False:
        raise UsageError(f"check {check.name} draws no plot; drop --plot (checks with a plot: "
                         f"{', '.join(c.name for c in all_checks() if c.has_plot)})")
    options: Any = args
    if check.config is not None:
        try:
            with cli_names():  # errors name the options (--n-max), not the fields (n_max)
                options = check.config.from_namespace(args)
        except (ValueError, TypeError) as exc:
            raise UsageError(str(exc)) from None
    with ProgressReporter(sys.stderr, enabled=show_progress) as reporter:
        with reporter.stage(check.name, lazy=True):  # bad options: only the one-line error on stderr
            result = check.run(options, reporter)
    print_result(result)
    if args.json:
        write_json_atomic(args.json, result.to_json(command))
    if args.plot:
        if result.plot is None:
            raise UsageError(f"check {check.name} has no plot")
        result.plot(args.plot)
    return 0 if result.passed else 1


class _CheckChoice(argparse._SubParsersAction):  # type: ignore[misc]
    """The check-name action of ``verify``: an unknown name is refused with the registry's message
    (``unknown check 'x'; available: ...``, see :meth:`_Parser._check_value`)."""


#: Options of ``verify`` that may also follow the check name (``verify thm3.1 --json r.json``).
_VERIFY_COMMON = (
    ("--json", {"default": None, "help": "write the result as JSON to this file"}),
    ("--plot", {"default": None,
                "help": "write a PNG plot of the result to this file (refused for a check without a plot)"}),
    ("--quiet", {"action": "store_true",
                 "help": "no progress on stderr (otherwise: a bar on a terminal, a line per step and a "
                         "heartbeat at least once a minute when piped)"}),
)


def _add_check_parsers(p_verify: argparse.ArgumentParser) -> None:
    """One sub-command per registered check, its options generated from the check's configuration
    (:meth:`tfapprox.verify.check_config.CheckConfig.add_arguments`) with defaults shown in ``--help``."""
    from tfapprox.verify.registry import all_checks

    p_verify.register("action", "parsers", _CheckChoice)
    sub = p_verify.add_subparsers(dest="check", metavar="CHECK",
                                  help="check name, e.g. thm3.1 (`--list` shows them)")
    for check in all_checks():
        p = sub.add_parser(
            check.name, help=check.summary, description=check.summary, prog=f"tfapprox verify {check.name}",
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            epilog="Common options: --json FILE (write the result as JSON), "
                   + ("--plot FILE (PNG of error vs size with the bound), " if check.has_plot is not False else "")
                   + "--quiet (no progress on stderr). Exit status 0 only if what the check certifies holds (every "
                   "row within its bound, the fitted rate matches); 1 if not; 2 for bad input. Findings printed "
                   "after PASSED/FAILED ('found: ...') do not change the exit status.")
        check.add_arguments(p)
        group = p.add_argument_group("common options")
        for flag, kw in _VERIFY_COMMON:
            # SUPPRESS: a value given before the check name is not reset by the check's parser
            group.add_argument(flag, **dict(kw, default=argparse.SUPPRESS))


def _build_parser(with_checks: bool = False) -> argparse.ArgumentParser:
    """The ``tfapprox`` parser; ``with_checks`` adds the options of every check under ``verify``
    (imports the registry: done only for a ``verify`` command)."""
    from tfapprox.api import add_build_arguments

    parser = _Parser(
        prog="tfapprox",
        description="Constructive Transformer approximation (Wang & E, NeurIPS 2024): build the proofs' "
                    "weights, run them, and verify errors and rates without training.")
    parser.add_argument("--version", action="version", version=f"tfapprox {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_build = sub.add_parser("build", help="build a construction and write a model file",
                             description="Build a construction's exact weights and save them "
                                         "(format tfapprox.transformer/1, docs/model-format.md).")
    add_build_arguments(p_build)

    defaults = argparse.ArgumentDefaultsHelpFormatter
    p_eval = sub.add_parser("eval", help="run a saved model on an input window", formatter_class=defaults,
                            description="Run a saved model on one window (CSV: one time step per row, "
                                        "d columns; or .npy of shape (N,) or (N, d)). Prints one line per "
                                        "time step: the output coordinates, float64 as repr (round-trips; "
                                        "float64 is used only when its estimated rounding error is below 1e-8), "
                                        "mpmath to the absolute accuracy its digits guarantee (1e-15 times the "
                                        "largest input magnitude at the model's digits, ten times finer per extra "
                                        "--dps digit; smaller values print as 0). "
                                        "CSV cells are decimals (3, -0.25, 1.5e-3; no nan, inf or 1_0): "
                                        "the mpmath backend reads them exactly (0.1 is 1/10), float64 "
                                        "as the correctly rounded double. .npy entries are float64 values, "
                                        "used as stored. Non-finite input is refused (exit 2).")
    p_eval.add_argument("model", help="model file (tfapprox.transformer/1)")
    p_eval.add_argument("--input", required=True, help="window file: .csv or .npy")
    p_eval.add_argument("--backend", choices=["auto", "float64", "mpmath"], default="auto",
                        help="auto: float64 if its rounding-error estimate on this input passes, else mpmath "
                             "at the digits the model needs")
    p_eval.add_argument("--dps", type=int, default=None,
                        help="digits for mpmath (None: the model's required digits; given with --backend auto "
                             "it selects mpmath)")
    p_eval.add_argument("--past", choices=["padded", "none"], default=None,
                        help="sequence semantics (None: the model file's)")
    p_eval.add_argument("--pad", default=None,
                        help="padding token for --past padded, comma-separated decimals (None: 0); "
                             "refused with --past none")
    p_eval.add_argument("--out", default=None,
                        help="write the outputs to this file instead of stdout (atomically, mode 0600; "
                             "never the model or the input file)")

    p_export = sub.add_parser(
        "export", help="export a saved model to PyTorch or TransformerLens", formatter_class=defaults,
        description="Write a model file as a torch.export program (--to torch) or a data-only TransformerLens "
                    "checkpoint (--to lens); tfapprox.export.load_torch / load_lens load them without executing "
                    "code from the file; see docs/interop.md. Needs the extra "
                    "tfapprox[torch] or tfapprox[lens]. Features TransformerLens cannot express are refused.")
    p_export.add_argument("model", help="model file (tfapprox.transformer/1)")
    p_export.add_argument("--to", required=True, choices=["torch", "lens"], help="export target")
    p_export.add_argument("--out", required=True, help="file to write")

    p_verify = sub.add_parser(
        "verify", help="run a verification check, or all of them", formatter_class=defaults,
        description="Run a check of the registry (`--list` shows them; `tfapprox verify CHECK --help` shows a "
                    "check's options) or, with --all, every check at default sizes, writing a report folder. "
                    "Exit status 0 only if every check passed.")
    p_verify.add_argument("--all", action="store_true", help="run every registered check; write --out")
    p_verify.add_argument("--list", action="store_true", help="list the registered checks")
    p_verify.add_argument("--out", default="reports", help="report folder for --all")
    for flag, kw in _VERIFY_COMMON:
        p_verify.add_argument(flag, **kw)
    p_verify.add_argument("--jobs", type=int, default=None,
                          help="worker processes for --all (default: the usable CPUs, at most 8, or TFAPPROX_WORKERS); "
                               "the report is the same for any number")
    if with_checks:
        _add_check_parsers(p_verify)
    else:
        p_verify.set_defaults(check=None)
    from tfapprox.verify.sweep import add_sweep_parser

    add_sweep_parser(sub)
    return parser


def _version() -> str:
    from tfapprox.theory.version import __version__

    return __version__


def _one_line(message: str) -> str:
    """Collapse a message to one line (the CLI's errors and warnings are one line each)."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return text


def _package_dirs() -> tuple[str, ...]:
    import tfapprox
    import tfapprox.constructions
    import tfapprox.theory
    import tfapprox.verify

    dirs = []
    for mod in (tfapprox, tfapprox.theory, tfapprox.verify, tfapprox.constructions):
        dirs.append(os.path.dirname(os.path.abspath(mod.__file__)) + os.sep)
    return tuple(dirs)


def _raised_by_tfapprox(exc: BaseException) -> bool:
    """True if the innermost frame of ``exc``'s traceback is a file of the tfapprox package."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
    return filename.startswith(_package_dirs())


def is_validation_error(exc: BaseException) -> bool:
    """The module docstring's rule: bad input (exit 2) or a bug (exit 1)."""
    from tfapprox.verify.model import PrecisionError

    if isinstance(exc, (UsageError, PrecisionError, OSError)):
        return True
    if isinstance(exc, (ValueError, TypeError)):
        return _raised_by_tfapprox(exc)
    return False


def _dispatch(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    if not argv:
        raise UsageError("a command is required: build, eval, export, verify or sweep (see `tfapprox --help`)")
    args = parser.parse_args(argv)
    if args.command == "verify":
        return _cmd_verify(args, ["tfapprox", *argv])
    if args.command == "build":
        return _cmd_build(args)
    if args.command == "eval":
        return _cmd_eval(args)
    if args.command == "export":
        return _cmd_export(args)
    if args.command == "sweep":
        from tfapprox.verify.sweep import cmd_sweep

        return cmd_sweep(args)
    raise UsageError("a command is required: build, eval, export, verify or sweep (see `tfapprox --help`)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tfapprox`` command (exit statuses: see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with warnings.catch_warnings(record=True) as caught:  # the filters stay as configured
            status = _dispatch(_build_parser(with_checks=bool(argv) and argv[0] == "verify"), argv)
            # printed only when the command completed: a refusal stays exactly one line
            seen = set()
            for w in caught:
                line = _one_line(f"{w.category.__name__}: {w.message}")
                if line not in seen:
                    seen.add(line)
                    sys.stderr.write(f"tfapprox: warning: {line}\n")
            return status
    except SystemExit as exc:  # --help, --version
        return int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        sys.stderr.write("tfapprox: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - every exception becomes one line
        message = _one_line(str(exc))
        if is_validation_error(exc):
            sys.stderr.write(f"tfapprox: error: {message or type(exc).__name__}\n")
            return 2
        sys.stderr.write(f"tfapprox: internal error (a bug, please report): {type(exc).__name__}: {message}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
