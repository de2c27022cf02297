"""Sweep specs: reading and validating the grid a sweep runs (``tfapprox sweep``, :mod:`tfapprox.verify.sweep`).

A spec names a registered check, options shared by every cell and a grid of option values (the keys are
documented in :mod:`tfapprox.verify.sweep`).  :func:`load_spec` validates it against the check's own
argument parser (:func:`check_parser`) before anything runs, so a bad value is reported by its spec key,
not by a worker; :class:`SweepSpec` lists the cells.  The sweeps run the paper's rate experiments
(Wang & E 2024, App. H) over grids.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .registry import get_check

__all__ = ["MAX_CELLS", "SpecParser", "SweepSpec", "check_parser", "load_spec"]

MAX_CELLS = 100_000
"""Largest number of cells a spec's grid may have."""

_TOP_KEYS = ("check", "output", "options", "grid", "scheduler", "keep_timings")


class SpecParser(argparse.ArgumentParser):
    """The check's argument parser, raising ValueError instead of printing and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Raise ValueError with argparse's message (a spec error is a validation error, not an exit)."""
        raise ValueError(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        """Raise ValueError instead of exiting the process."""
        raise ValueError(message or f"argument parser exited with status {status}")


def check_parser(check: Any) -> SpecParser:
    """The registered ``check``'s argument parser (a :class:`SpecParser`, no ``--help``)."""
    parser = SpecParser(prog=f"tfapprox verify {check.name}", add_help=False)
    check.add_arguments(parser)
    return parser


def _flag_for(parser: argparse.ArgumentParser, key: str) -> tuple[str, argparse.Action] | None:
    wanted = {"--" + key, "--" + key.replace("_", "-")}
    for action in parser._actions:
        for flag in action.option_strings:
            if flag in wanted:
                return flag, action
    return None


def _option_names(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(f[2:] for a in parser._actions for f in a.option_strings if f.startswith("--"))


def _scalar(value: Any, where: str) -> Any:
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value!r}")
        return value
    raise TypeError(f"{where} must be a string, integer, float or boolean, got {type(value).__name__} {value!r}")


def _argv_items(parser: argparse.ArgumentParser, key: str, value: Any, where: str, check: str) -> list[str]:
    found = _flag_for(parser, key)
    if found is None:
        raise ValueError(f"{where}: check {check!r} has no option --{key.replace('_', '-')}; its options: "
                         f"{', '.join('--' + n for n in _option_names(parser))}")
    flag, action = found
    if action.nargs == 0:  # store_true / store_false style flag
        if not isinstance(value, bool):
            raise TypeError(f"{where}: --{flag[2:]} is a flag and takes true or false, got {value!r}")
        return [flag] if value else []
    if isinstance(value, bool):
        raise TypeError(f"{where}: --{flag[2:]} takes a value, not the boolean {value!r}")
    return [f"{flag}={value}"]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec (see the module docstring for the keys).

    ``cells()`` lists the grid points as ``(parameters, argv)`` pairs in grid order.
    """

    check: str
    output: Path
    options: tuple[tuple[str, Any], ...] = ()
    grid: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    scheduler: str | None = None
    keep_timings: bool = False

    @property
    def size(self) -> int:
        """The number of cells (product of the grid's list lengths)."""
        return math.prod(len(v) for _, v in self.grid)

    def cells(self) -> list[tuple[dict[str, Any], list[str]]]:
        """Every cell as ``(grid parameters, argv of the check)``, in grid order (last key fastest)."""
        parser = check_parser(get_check(self.check))
        fixed: list[str] = []
        for k, v in self.options:
            fixed += _argv_items(parser, k, v, f"options.{k}", self.check)
        keys = [k for k, _ in self.grid]
        out = []
        for combo in itertools.product(*(v for _, v in self.grid)):
            argv = list(fixed)
            for k, v in zip(keys, combo):
                argv += _argv_items(parser, k, v, f"grid.{k}", self.check)
            out.append((dict(zip(keys, combo)), argv))
        return out


def load_spec(spec: str | os.PathLike[str] | Mapping[str, Any],
              output: str | os.PathLike[str] | None = None) -> SweepSpec:
    """Read and validate a sweep spec: a TOML file path or a mapping with the same keys.

    ``output``, if given, replaces the spec's ``output`` (which may then be left out).

    Raises ValueError (or TypeError for a value of the wrong type) naming the spec key for
    an unknown check, an unknown option, an empty grid or list, a grid over
    :data:`MAX_CELLS` cells, a cell whose options the check's parser rejects, or an
    output file that cannot be written.
    """
    if isinstance(spec, SweepSpec):
        if output is not None:
            _require_writable(Path(output), "output")
            spec = SweepSpec(spec.check, Path(output), spec.options, spec.grid, spec.scheduler, spec.keep_timings)
        return spec
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"sweep spec file {str(path)!r} does not exist")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"sweep spec {str(path)!r} is not valid TOML: {exc}") from exc
    elif isinstance(spec, Mapping):
        data = dict(spec)
    else:
        raise TypeError(f"spec must be a TOML file path or a mapping, got {type(spec).__name__}")

    if output is not None:
        if not isinstance(output, (str, os.PathLike)):
            raise TypeError(f"output must be a file path, got {output!r}")
        data["output"] = os.fspath(output)
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        raise ValueError(f"unknown sweep spec key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(_TOP_KEYS)}")
    for key in ("check", "output"):
        if key not in data:
            raise ValueError(f"sweep spec key {key!r} is missing")
        if not isinstance(data[key], str) or not data[key].strip():
            raise ValueError(f"sweep spec key {key!r} must be a non-empty string, got {data[key]!r}")

    try:
        check = get_check(data["check"])
    except ValueError as exc:
        raise ValueError(f"sweep spec key 'check': {exc}") from None

    options = data.get("options", {})
    if not isinstance(options, Mapping):
        raise TypeError(f"sweep spec key 'options' must be a table, got {options!r}")
    opts = tuple((str(k), _scalar(v, f"options.{k}")) for k, v in options.items())

    grid = data.get("grid")
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"sweep spec key 'grid' must be a non-empty table of option -> list of values, got {grid!r}")
    items = []
    for k, values in grid.items():
        if not isinstance(values, list):
            raise TypeError(f"grid.{k} must be a list of values (put a single fixed value under [options]), "
                            f"got {values!r}")
        if not values:
            raise ValueError(f"grid.{k} is an empty list: the grid would have no cells")
        vals = tuple(_scalar(v, f"grid.{k}[{i}]") for i, v in enumerate(values))
        if len(set(map(repr, vals))) != len(vals):
            raise ValueError(f"grid.{k} repeats a value: {list(vals)}")
        items.append((str(k), vals))
    parser = check_parser(check)
    seen: dict[str, str] = {}
    for where, k in [("options", k) for k, _ in opts] + [("grid", k) for k, _ in items]:
        found = _flag_for(parser, k)
        if found is None:
            _argv_items(parser, k, None, f"{where}.{k}", check.name)  # raises: unknown option
        flag = found[0]
        if flag in seen:
            raise ValueError(f"{where}.{k}: option {flag} is already given as {seen[flag]}")
        seen[flag] = f"{where}.{k}"
    size = math.prod(len(v) for _, v in items)
    if size > MAX_CELLS:
        raise ValueError(f"sweep spec key 'grid' has {size:,} cells, more than the {MAX_CELLS:,} allowed; "
                         f"split the sweep")

    scheduler = data.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise ValueError(f"sweep spec key 'scheduler' must be an address like 'tcp://HOST:PORT', got {scheduler!r}")
    keep = data.get("keep_timings", False)
    if not isinstance(keep, bool):
        raise TypeError(f"sweep spec key 'keep_timings' must be true or false, got {keep!r}")

    parsed = SweepSpec(check=check.name, output=Path(data["output"]), options=opts, grid=tuple(items),
                       scheduler=scheduler, keep_timings=keep)
    # Parse the options with the check's own parser now, not on a worker: the fixed options, then each grid
    # value with them (the checks' options are independent, so this covers every cell at the cost of
    # sum(len(list)) parses, not prod(len(list))).
    fixed: list[str] = []
    for k, v in opts:
        fixed += _argv_items(parser, k, v, f"options.{k}", check.name)
    try:
        parser.parse_args(fixed)
    except ValueError as exc:
        raise ValueError(f"sweep spec key 'options': check {check.name!r} rejects {fixed}: {exc}") from None
    for k, vals in items:
        for v in vals:
            argv = fixed + _argv_items(parser, k, v, f"grid.{k}", check.name)
            try:
                parser.parse_args(argv)
            except ValueError as exc:
                raise ValueError(f"sweep spec key grid.{k}={v!r}: check {check.name!r} rejects it: {exc}") from None
    _require_writable(parsed.output, "output")
    return parsed


def _require_writable(path: Path, key: str) -> None:
    if path.exists() and path.is_dir():
        raise ValueError(f"sweep spec key {key!r}: {str(path)!r} is a directory, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise ValueError(f"sweep spec key {key!r}: cannot write {str(path)!r} ({exc.strerror or exc})") from None
