"""Every module of the installed package imports, and its docstring examples run.

``pytest --doctest-modules`` cannot be used: the source folders ``theory/``,
``constructions/`` and ``verify/`` are mapped into the package ``tfapprox`` by
``pyproject.toml``, so their files have no importable name of their own.  Instead
this file walks the *installed* package (either kind of install) with
``pkgutil.walk_packages`` and runs ``doctest`` on each module, one test per module.

The doctest option flags are the ones in ``[tool.pytest.ini_options]``
(``doctest_optionflags``), the same as for the Markdown pages in ``docs/``.

A second test checks that every public module has an entry ``::: module.name`` on
one of the API reference pages in ``docs/api/``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
API_DIR = REPO / "docs" / "api"

# The packages of pyproject.toml's package-dir mapping, and the API page of each.
ROOTS: dict[str, str] = {
    "tfapprox": "tfapprox.md",
    "tfapprox.theory": "theory.md",
    "tfapprox.constructions": "constructions.md",
    "tfapprox.verify": "verify.md",
}


def _module_names() -> list[str]:
    """Names of every module under ROOTS, found without importing leaf modules.

    A root or subpackage that fails to import is still listed, so its test fails
    with the import error instead of disappearing from the run.  ``__main__``
    modules are left out: importing one runs the program.
    """
    names: set[str] = set()
    for root in ROOTS:
        names.add(root)
        try:
            package = importlib.import_module(root)
        except Exception:
            continue
        for info in pkgutil.walk_packages(package.__path__, root + ".", onerror=names.add):
            names.add(info.name)
    return sorted(n for n in names if n.rpartition(".")[2] != "__main__")


MODULES = _module_names()


def _page_for(module: str) -> str:
    root = max((r for r in ROOTS if module == r or module.startswith(r + ".")), key=len)
    return ROOTS[root]


def _checker_and_flags(config: pytest.Config) -> tuple[doctest.OutputChecker, int]:
    """pytest's output checker and ini option flags (NUMBER needs pytest's checker)."""
    try:
        from _pytest.doctest import _get_checker, get_optionflags
    except ImportError:  # pragma: no cover - only if pytest moves its private helpers
        return doctest.OutputChecker(), doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return _get_checker(), get_optionflags(config)


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name: str, request: pytest.FixtureRequest) -> None:
    module = importlib.import_module(name)
    checker, flags = _checker_and_flags(request.config)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    runner = doctest.DocTestRunner(checker=checker, optionflags=flags, verbose=False)
    report: list[str] = []
    for test in sorted(tests, key=lambda t: t.name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    if result.failed:
        pytest.fail(f"{result.failed} of {result.attempted} docstring examples in {name} failed:\n"
                    + "".join(report), pytrace=False)


def _documented_modules() -> set[str]:
    directive = re.compile(r"^:::\s+([\w.]+)\s*$", re.MULTILINE)
    found: set[str] = set()
    for page in API_DIR.glob("*.md"):
        found.update(directive.findall(page.read_text(encoding="utf-8")))
    return found


def test_every_public_module_has_an_api_entry() -> None:
    documented = _documented_modules()
    public = [n for n in MODULES if not any(part.startswith("_") for part in n.split("."))]
    missing = [n for n in public if n not in documented]
    if missing:
        lines = "\n".join(f"  docs/api/{_page_for(n)}:  ::: {n}" for n in missing)
        pytest.fail("public modules without an API reference entry; add these lines "
                    "(see docs/contributing.md):\n" + lines, pytrace=False)
    stale = sorted(n for n in documented if n.startswith("tfapprox") and n not in MODULES)
    assert not stale, f"docs/api/ documents modules that do not exist: {stale}"
