"""MkDocs hook: draw the checks' figures for the site at build time.

Every figure on the theorem, lemma, experiments and tightness pages is produced here by the
check's own code: the hook runs the registered check (``tfapprox.verify.registry``) through its
Python entry at the small sizes of :data:`RUNS` and saves what the check draws, either its
``CheckResult.plot(path)`` or a PNG that the check contributes to a report page
(``CheckResult.pages``).  The PNGs are added to the site as ``figures/NAME.png``; pages embed them
with ``![caption](../figures/NAME.png)``.  No figure is kept in git.

Cache: a run's figures are stored under ``$TFAPPROX_DOCS_CACHE`` (default
``$XDG_CACHE_HOME/tfapprox-docs`` or ``~/.cache/tfapprox-docs``), keyed by a hash of the check's
name and options, of every source file of the installed ``tfapprox`` package and of this file.
A build after a source change recomputes everything (about 26 s of CPU, shared by two worker
processes: about 15 s on two idle cores); an unchanged tree
reuses the figures (every test run builds the site).  The figures of the last
8 source versions are kept (checkouts may share the cache); deleting the folder is always safe.

A run that fails, or a figure a run does not produce, stops the build with ``PluginError``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.figures")

#: ``outputs`` value meaning "the figure drawn by ``CheckResult.plot``".
PLOT = "plot"

#: Folder of the figures inside the site.
SITE_FOLDER = "figures"


@dataclass(frozen=True)
class Run:
    """One check run and the figures taken from it.

    ``outputs`` maps a figure's site name (``NAME.png``) to its source: :data:`PLOT` for the
    result's ``plot``, else the name of a PNG in the result's ``pages``.
    """

    check: str
    options: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]
    #: rough CPU seconds on one core, to share the runs fairly between the worker processes
    cost: float = 1.0


#: The figures of the site, at sizes small enough for a build (all runs together: about 26 s of CPU).
RUNS: tuple[Run, ...] = (
    Run("lemma-f1", ("--heads", "16,32,64,128,256", "--lags", "1,5,20"), (("lemma-f1.png", PLOT),)),
    Run("lemma-f4", ("--heads", "16,32,64,128,256", "--lags", "1,3,8"), (("lemma-f4.png", PLOT),)),
    Run("thm3.1", ("--rpe", "lin", "--lags", "1,5,20", "--heads", "32,64,128,256"), (("thm3.1-lin.png", PLOT),)),
    Run("thm4.1", ("--rpe", "lin", "--heads", "8,32,128"), (("thm4.1-lin.png", PLOT),)),
    Run("prop4.2", ("--heads", "1,2,4,8,16,32,64,128"), (("prop4.2.png", PLOT),)),
    Run("prop4.3", ("--rpe", "lin", "--heads", "8,32"), (("prop4.3-lin.png", PLOT),), cost=2.0),
    Run("thm4.4", ("--K", "2", "--M", "3", "--rpe", "lin"), (("thm4.4-lin.png", PLOT),), cost=2.0),
    Run("prop4.5", (), (("prop4.5.png", PLOT),)),
    Run("thm5.1", ("--kernel", "exp:0.5", "--rpe", "lin", "--heads", "64,128,256"), (("thm5.1-lin.png", PLOT),)),
    Run("thm5.1", ("--kernel", "poly:3", "--rpe", "log", "--heads", "64,128,256"), (("thm5.1-log.png", PLOT),)),
    Run("h2.7", ("--heads", "1,2,4,8"), (("h2.7.png", PLOT),)),
    Run("h2.8", ("--heads", "1,2,4,8"), (("h2.8.png", PLOT),)),
    Run("tails", ("--heads", "1,2,4"), (("tails.png", PLOT),)),
    Run("curse-of-memory", ("--epsilons", "1e-1,1e-2", "--max-units", "16"), (("curse-of-memory.png", PLOT),)),
    Run("tightness", ("--lags", "1,5,20", "--heads", "4,16,64", "--shifted-heads", "4,16", "--starts", "1",
                      "--max-evals", "3", "--sweep", "0.01:0.01", "--sweep-rpe", "lin", "--max-heads", "64"),
        (("tightness-F1.png", "tightness-F1.png"), ("tightness-F4.png", "tightness-F4.png"),
         ("tightness-F2.png", "tightness-F2.png"), ("tightness-F5.png", "tightness-F5.png")), cost=5.0),
    Run("experiments", ("--experiments", "H.2.4", "--heads", "1,4,16,64", "--widths", "2,16,64",
                        "--lag-heads", "1,16,128", "--max-heads", "4194304", "--best-found-heads", "1"),
        (("experiments-heads-needed.png", "experiments-heads-needed.png"),), cost=3.0),
)


def figure_names() -> list[str]:
    """Every figure name the hook produces (site path ``figures/NAME``)."""
    return [name for run in RUNS for name, _ in run.outputs]


def cache_root() -> Path:
    """The figure cache folder (outside the repository)."""
    env = os.environ.get("TFAPPROX_DOCS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tfapprox-docs"


def _source_digest() -> str:
    """Hash of the installed package's source files and of this hook."""
    import tfapprox
    import tfapprox.constructions
    import tfapprox.theory
    import tfapprox.verify

    h = hashlib.sha256()
    folders = sorted({Path(m.__file__).resolve().parent
                      for m in (tfapprox, tfapprox.theory, tfapprox.constructions, tfapprox.verify)})
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            h.update(str(path.relative_to(folder.parent)).encode())
            h.update(path.read_bytes())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


def _run_key(run: Run, digest: str) -> str:
    text = "\0".join([digest, run.check, *run.options, *(f"{a}={b}" for a, b in run.outputs)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _produce(run: Run, folder: Path) -> None:
    """Run the check and write its figures into ``folder`` (created atomically)."""
    from tfapprox.verify.registry import get_check

    check = get_check(run.check)
    parser = argparse.ArgumentParser(prog=run.check)
    check.add_arguments(parser)
    options = parser.parse_args(list(run.options))
    result = check.run(options, lambda done, total, what: None)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for name, source in run.outputs:
            if source == PLOT:
                if result.plot is None:
                    raise PluginError(f"figures: check {run.check} draws no plot (wanted for {name})")
                result.plot(str(tmp / name))
            else:
                data = result.pages.get(source)
                if not isinstance(data, bytes):
                    raise PluginError(f"figures: check {run.check} {' '.join(run.options)} contributes no "
                                      f"file {source!r} (has {sorted(result.pages)})")
                (tmp / name).write_bytes(data)
            if not (tmp / name).is_file() or (tmp / name).stat().st_size == 0:
                raise PluginError(f"figures: check {run.check} wrote no {name}")
        try:
            tmp.rename(folder)
        except OSError:  # another build made it meanwhile
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _produce_or_error(run: Run, folder: Path) -> tuple[str | None, float]:
    """:func:`_produce` in a worker process: ``(error message or None, seconds)``."""
    t0 = time.perf_counter()
    try:
        _produce(run, folder)
    except Exception as exc:
        return (f"figures: check {run.check} {' '.join(run.options)} failed: {type(exc).__name__}: {exc}",
                time.perf_counter() - t0)
    return None, time.perf_counter() - t0


def _produce_in_subprocess(jobs: list[tuple[Run, Path]]) -> list[tuple[str | None, float]]:
    """:func:`_produce_or_error` for each job, in one fresh Python process running this file
    (see its end).  The process starts in the temporary directory, not in the repository, whose
    ``tfapprox/`` folder would otherwise shadow the installed package."""
    import json
    import subprocess
    import sys

    t0 = time.perf_counter()
    spec = json.dumps([[run.check, list(run.options), [list(o) for o in run.outputs], str(folder)]
                       for run, folder in jobs])
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=spec,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        return [(f"figures: worker exited {proc.returncode}: {tail}", time.perf_counter() - t0)] * len(jobs)
    return [tuple(o) for o in json.loads(lines[-1])]


def _prune(root: Path, keep: set[Path], generations: int = 8) -> None:
    """Delete the oldest cached runs beyond ``generations`` source versions (other checkouts may
    share the cache, so a few versions are kept, not only the current one)."""
    entries = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p not in keep),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[generations * len(RUNS):]:
        shutil.rmtree(old, ignore_errors=True)


def build_figures(root: Path | None = None, workers: int | None = None) -> dict[str, Path]:
    """Make (or reuse) every figure of :data:`RUNS`; return ``{name: cached file}``.

    Missing runs are shared by their ``cost`` between ``workers`` Python processes (default: 2, or
    1 on a one-core machine, which runs them in this process)."""
    root = cache_root() if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    digest = _source_digest()
    start = time.perf_counter()
    folders = [root / _run_key(run, digest) for run in RUNS]
    todo = [(run, folder) for run, folder in zip(RUNS, folders)
            if not all((folder / name).is_file() for name, _ in run.outputs)]
    workers = workers or min(2, os.cpu_count() or 1)
    if workers > 1 and len(todo) > 1:
        from concurrent.futures import ThreadPoolExecutor

        # longest first, each to the least loaded worker process
        shares: list[list[tuple[Run, Path]]] = [[] for _ in range(workers)]
        for job in sorted(todo, key=lambda job: -job[0].cost):
            min(shares, key=lambda share: sum(r.cost for r, _ in share)).append(job)
        shares = [share for share in shares if share]
        with ThreadPoolExecutor(max_workers=len(shares)) as pool:
            results = list(pool.map(_produce_in_subprocess, shares))
        todo = [job for share in shares for job in share]
        outcomes = [o for result in results for o in result]
    else:
        outcomes = [_produce_or_error(run, folder) for run, folder in todo]
    for (run, folder), (error, seconds) in zip(todo, outcomes):
        if error:
            raise PluginError(error)
        missing = [name for name, _ in run.outputs if not (folder / name).is_file()]
        if missing:
            raise PluginError(f"figures: check {run.check} {' '.join(run.options)} produced no {missing}")
        log.debug("figures: %s %s in %.1f s", run.check, " ".join(run.options), seconds)
    _prune(root, keep=set(folders))
    found: dict[str, Path] = {}
    for run, folder in zip(RUNS, folders):
        for name, _ in run.outputs:
            if name in found:
                raise PluginError(f"figures: two runs produce {name}")
            found[name] = folder / name
    log.info("figures: %d drawn, %d from the cache %s (%.1f s)", len(todo), len(RUNS) - len(todo), root,
             time.perf_counter() - start)
    return found


def on_files(files: Files, config: Any) -> Files:
    """Add every figure to the site as ``figures/NAME``."""
    for name, path in build_figures().items():
        files.append(File.generated(config, f"{SITE_FOLDER}/{name}", abs_src_path=str(path)))
    return files


if __name__ == "__main__":  # worker of _produce_in_subprocess: the jobs as JSON on stdin
    import json
    import sys

    _outcomes = []
    for _check, _options, _outputs, _folder in json.loads(sys.stdin.read()):
        _run = Run(_check, tuple(_options), tuple(tuple(o) for o in _outputs))
        _outcomes.append(_produce_or_error(_run, Path(_folder)))
    print(json.dumps(_outcomes))
