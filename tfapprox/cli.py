"""The ``tfapprox`` command line: ``build``, ``eval``, ``verify`` and ``export``.

Exit status: 0 when everything asked for succeeded (for ``verify``: every check passed),
1 when a check ran and failed, 2 for bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main"]


class UsageError(ValueError):
    """Bad command-line input."""


def _progress_factory(enabled: bool):
    """A progress callback writing a one-line bar to stderr (only when enabled)."""

    def progress(done: int, total: int, label: str) -> None:
        if not enabled or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return progress


def _parse_int_list(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise UsageError(f"{name} must be a comma-separated list of integers, got {text!r}") from exc
    if not values:
        raise UsageError(f"{name} must not be empty")
    return values


def _read_window(path: str) -> Any:
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise UsageError(f"--input file {path!r} does not exist")
    if p.suffix == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            raise UsageError(f"--input {path!r} is not a valid .npy array without pickles: {exc}") from exc
    else:
        rows = []
        with open(p, newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                if not row or all(not c.strip() for c in row):
                    continue
                try:
                    rows.append([float(c) for c in row])
                except ValueError as exc:
                    raise UsageError(f"--input {path!r} line {i + 1}: not a number in {row!r}") from exc
        if not rows or len({len(r) for r in rows}) != 1:
            raise UsageError(f"--input {path!r} must be a CSV of equal-length rows (one time step per row)")
        arr = np.array(rows)
    return arr


# ----------------------------------------------------------------------------- build
def _cmd_build(args: argparse.Namespace) -> int:
    from tfapprox.api import build_model

    options = {k: v for k, v in vars(args).items() if k not in ("command", "func", "out", "construction", "quiet")}
    model = build_model(args.construction, **options)
    model.save(args.out)
    meta = model.metadata
    print(f"wrote {args.out}: {model!r}")
    if "precision_digits" in meta:
        print(f"digits needed by the weights: {meta['precision_digits']}")
    return 0


# ------------------------------------------------------------------------------ eval
def _cmd_eval(args: argparse.Namespace) -> int:
    import mpmath

    from tfapprox.verify.model import Model

    model = Model.load(args.model)
    X = _read_window(args.input)
    pad = None
    if args.pad is not None:
        try:
            pad = [float(v) for v in args.pad.split(",")]
        except ValueError as exc:
            raise UsageError(f"--pad must be comma-separated numbers, got {args.pad!r}") from exc
    if X.ndim == 1:
        X = X[:, None]
    out = model.run(X, backend=args.backend, dps=args.dps, past=args.past, pad=pad)
    lines = []
    for row in out:
        if args.backend == "float64":
            lines.append(",".join(repr(float(v)) for v in row))
        else:
            lines.append(",".join(mpmath.nstr(v, args.dps or 50, strip_zeros=False) for v in row))
    text = "\n".join(lines) + "\n"
    if args.out:
        from tfapprox.verify.registry import write_text_atomic

        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


# ---------------------------------------------------------------------------- export
def _cmd_export(args: argparse.Namespace) -> int:
    from tfapprox.verify.model import Model

    model = Model.load(args.model)
    try:
        from tfapprox import export
    except ImportError as exc:  # pragma: no cover
        raise UsageError(str(exc)) from exc
    try:
        if args.to == "torch":
            path = export.save_torch(model, args.out)
            snippet = f'import torch\nmodel = torch.export.load("{path}").module()'
        else:
            path = export.save_lens(model, args.out)
            snippet = (f'import torch; ck = torch.load("{path}", weights_only=True); ns = {{}}; '
                       f'exec(ck["loader"], ns)\nload = ns["load"]; model, embed = load(ck)')
    except ImportError as exc:
        raise UsageError(f"{exc} (export --to {args.to})") from exc
    print(f"wrote {path}: {model!r} as {args.to}; load it with:\n{snippet}")
    return 0


# ---------------------------------------------------------------------------- verify
def _cmd_verify(args: argparse.Namespace, extra: list[str]) -> int:
    from tfapprox.verify.registry import all_checks, get_check
    from tfapprox.verify.report import print_result, run_all

    show_progress = (not args.quiet) and sys.stderr.isatty()
    if args.list:
        for check in all_checks():
            print(f"{check.name:12s} {check.summary}")
        return 0
    if args.all:
        if args.check or extra:
            raise UsageError("verify --all takes no check name or check options")
        if args.jobs is not None and args.jobs < 1:
            raise UsageError(f"--jobs must be a positive integer (worker processes), got {args.jobs}")
        ok = run_all(Path(args.out), progress=_progress_factory(show_progress), quiet=args.quiet,
                     workers=args.jobs)
        return 0 if ok else 1
    if not args.check:
        raise UsageError("verify needs a check name (see `tfapprox verify --list`) or --all")
    check = get_check(args.check)
    parser = argparse.ArgumentParser(
        prog=f"tfapprox verify {check.name}", description=check.summary,
        epilog="Common options: --json FILE (write the result as JSON), --plot FILE (PNG of error vs size with "
               "the bound), --quiet (no progress bar). Exit status 0 only if every row is within its bound "
               "and the fitted rate matches; 1 if not; 2 for bad input.")
    check.add_arguments(parser)
    try:
        options = parser.parse_args(extra)
    except SystemExit as exc:  # argparse already printed the message
        return 0 if exc.code == 0 else 2
    result = check.run(options, _progress_factory(show_progress))
    print_result(result)
    if args.json:
        from tfapprox.verify.registry import write_json_atomic

        write_json_atomic(args.json, result.to_json())
    if args.plot:
        if result.plot is None:
            raise UsageError(f"check {check.name} has no plot")
        result.plot(args.plot)
    return 0 if result.passed else 1


def _build_parser() -> argparse.ArgumentParser:
    from tfapprox.api import add_build_arguments

    parser = argparse.ArgumentParser(
        prog="tfapprox",
        description="Constructive Transformer approximation (Wang & E, NeurIPS 2024): build the proofs' "
                    "weights, run them, and verify errors and rates without training.")
    parser.add_argument("--version", action="version", version=f"tfapprox {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p_build = sub.add_parser("build", help="build a construction and write a model file",
                             description="Build a construction's exact weights and save them "
                                         "(format tfapprox.transformer/1, docs/model-format.md).")
    add_build_arguments(p_build)

    p_eval = sub.add_parser("eval", help="run a saved model on an input window",
                            description="Run a saved model on one window (CSV: one time step per row, "
                                        "d columns; or .npy of shape (N,) or (N, d)). Prints one line per "
                                        "time step: the output coordinates, float64 as repr (round-trips).")
    p_eval.add_argument("model", help="model file (tfapprox.transformer/1)")
    p_eval.add_argument("--input", required=True, help="window file: .csv or .npy")
    p_eval.add_argument("--backend", choices=["float64", "mpmath"], default="float64")
    p_eval.add_argument("--dps", type=int, default=None, help="digits for --backend mpmath (default 50)")
    p_eval.add_argument("--past", choices=["padded", "none"], default=None,
                        help="sequence semantics (default: the model file's)")
    p_eval.add_argument("--pad", default=None, help="padding token for --past padded, comma-separated (default 0)")
    p_eval.add_argument("--out", default=None, help="write the outputs to this file instead of stdout")

    p_export = sub.add_parser(
        "export", help="export a saved model to PyTorch or TransformerLens",
        description="Write a model file as a torch.export program (--to torch, loads with torch alone) or a "
                    "TransformerLens checkpoint (--to lens); see docs/interop.md. Needs the extra "
                    "tfapprox[torch] or tfapprox[lens]. Features TransformerLens cannot express are refused.")
    p_export.add_argument("model", help="model file (tfapprox.transformer/1)")
    p_export.add_argument("--to", required=True, choices=["torch", "lens"], help="export target")
    p_export.add_argument("--out", required=True, help="file to write")

    p_verify = sub.add_parser(
        "verify", help="run a verification check, or all of them",
        description="Run a check of the registry (`--list` shows them; `tfapprox verify CHECK --help` shows a "
                    "check's options) or, with --all, every check at default sizes, writing a report folder. "
                    "Exit status 0 only if every check passed.")
    p_verify.add_argument("check", nargs="?", help="check name, e.g. thm3.1")
    p_verify.add_argument("--all", action="store_true", help="run every registered check; write --out")
    p_verify.add_argument("--list", action="store_true", help="list the registered checks")
    p_verify.add_argument("--out", default="reports", help="report folder for --all (default: reports)")
    p_verify.add_argument("--json", default=None, help="write the result as JSON to this file")
    p_verify.add_argument("--plot", default=None, help="write a PNG plot of the result to this file")
    p_verify.add_argument("--quiet", action="store_true", help="no progress output on stderr")
    p_verify.add_argument("--jobs", type=int, default=None,
                          help="worker processes for --all (default: the usable CPUs, at most 8, or TFAPPROX_WORKERS); "
                               "the report is the same for any number")
    return parser


def _version() -> str:
    from tfapprox import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tfapprox`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        if argv and argv[0] == "verify":
            # the check's own options (and its --help) are parsed by the check
            wants_help = any(a in ("-h", "--help") for a in argv[1:])
            names = [a for a in argv[1:] if not a.startswith("-")]
            if wants_help and names:
                argv = [a for a in argv if a not in ("-h", "--help")]
            args, extra = parser.parse_known_args(argv)
            if wants_help and names:
                extra = extra + ["--help"]
            return _cmd_verify(args, extra)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command == "build":
            return _cmd_build(args)
        if args.command == "eval":
            return _cmd_eval(args)
        if args.command == "export":
            return _cmd_export(args)
        parser.print_help()
        return 2
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"tfapprox: error: {exc}\n")
        return 2
    except ArithmeticError as exc:  # PrecisionError
        sys.stderr.write(f"tfapprox: error: {exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"tfapprox: error: {exc}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
