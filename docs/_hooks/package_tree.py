"""MkDocs hook: let mkdocstrings see ``tfapprox`` as one package tree.

``pyproject.toml`` maps four source folders into one import package
(``theory/`` -> ``tfapprox.theory`` and so on).  The import system follows that
mapping in both kinds of install (``pip install .`` copies the files into one
tree; ``pip install -e .`` installs a finder), but griffe, the static analyser
behind mkdocstrings, reads source files from disk and expects the folder layout
to equal the package layout.  Left alone it finds the repository's ``tfapprox/``
folder, which holds neither ``theory`` nor ``constructions`` nor ``verify``.

This hook reads the mapping from ``pyproject.toml`` (the one source of truth),
builds the package tree out of symbolic links in a temporary directory and puts
that directory first on mkdocstrings' Python search path.  The API pages are
therefore rendered from the source files of the checkout, whatever the install
mode, and nothing is written into the repository.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import tomllib
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

_SKIP = {"__pycache__"}


def package_dirs(project_root: Path) -> dict[str, Path]:
    """Return ``{package name: source folder}`` for every package in pyproject.toml."""
    data = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    tool = data.get("tool", {}).get("setuptools", {})
    packages = tool.get("packages")
    mapping = tool.get("package-dir", {})
    if not isinstance(packages, list) or not packages:
        raise PluginError("pyproject.toml: [tool.setuptools] packages must be an explicit list")
    result: dict[str, Path] = {}
    for name in packages:
        if name in mapping:
            folder = project_root / mapping[name]
        else:
            parent, _, leaf = name.rpartition(".")
            if not parent or parent not in result:
                raise PluginError(f"pyproject.toml: cannot locate the folder of package {name!r}")
            folder = result[parent] / leaf
        if not (folder / "__init__.py").is_file():
            raise PluginError(f"package {name!r} maps to {folder}, which has no __init__.py")
        result[name] = folder
    return result


def build_tree(dirs: dict[str, Path], dest: Path) -> list[tuple[str, str]]:
    """Lay out the packages under ``dest`` as symlinks, following ``dirs``.

    Returns ``(path in the tree, source folder)`` pairs, longest first.
    """
    pairs: list[tuple[str, str]] = []
    names = sorted(dirs, key=lambda n: n.count("."))
    # A package whose folder is not the natural child of its parent's folder must be
    # placed by hand; its parent then needs a real directory (not one symlink).
    placed = {n for n in names if "." in n and dirs[n] != dirs[n.rpartition(".")[0]] / n.rpartition(".")[2]}
    needs_real_dir = {n.rpartition(".")[0] for n in placed}
    for name in names:
        parent = name.rpartition(".")[0]
        if "." in name and name not in placed:
            continue  # already inside its parent's folder
        if parent and parent not in needs_real_dir:
            raise PluginError(f"cannot place {name!r}: its parent is a plain symlink")
        target = dest.joinpath(*name.split("."))
        pairs.append((str(target), str(dirs[name].resolve())))
        if name in needs_real_dir:
            target.mkdir(parents=True, exist_ok=True)
            for entry in dirs[name].iterdir():
                if entry.name not in _SKIP:
                    (target / entry.name).symlink_to(entry.resolve())
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(dirs[name].resolve(), target_is_directory=True)
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


class _SourcePaths(logging.Filter):
    """Rewrite paths inside the symlink tree to the source files in griffe's messages.

    A docstring warning then names ``theory/foo.py`` of the checkout, the file to edit.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for tree, source in self.pairs:
            message = message.replace(tree + "/", source + "/")
        record.msg, record.args = message, ()
        return True


_GRIFFE_LOGGER = logging.getLogger("mkdocs.plugins.griffe")
_SOURCE_PATHS = next((f for f in _GRIFFE_LOGGER.filters if type(f).__name__ == "_SourcePaths"), None)
if _SOURCE_PATHS is None:
    _SOURCE_PATHS = _SourcePaths()
    _GRIFFE_LOGGER.addFilter(_SOURCE_PATHS)


@event_priority(100)  # before mkdocstrings reads its handler options
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    project_root = Path(config.config_file_path).resolve().parent
    dest = Path(tempfile.mkdtemp(prefix="tfapprox-docs-tree-"))
    atexit.register(shutil.rmtree, dest, ignore_errors=True)
    _SOURCE_PATHS.pairs = build_tree(package_dirs(project_root), dest)
    plugin = config.plugins.get("mkdocstrings")
    if plugin is None:
        raise PluginError("the package_tree hook needs the mkdocstrings plugin")
    python = plugin.config.handlers.setdefault("python", {})
    python["paths"] = [str(dest)]
    return config
