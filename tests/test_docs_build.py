"""The documentation site builds with ``mkdocs build --strict``.

Strict mode turns every warning into a failure: a nav entry or link to a missing
page, a ``::: module`` directive that mkdocstrings cannot resolve, a docstring it
cannot parse.  The build reads ``mkdocs.yml`` from the checkout this test file
belongs to and writes the site into a temporary directory, so nothing lands in the
repository.  It needs no network (MathJax is only a script URL in the HTML).

mkdocstrings finds the package through ``docs/_hooks/package_tree.py``, which lays
out the tree from ``pyproject.toml``'s package-dir mapping; the build therefore
works the same after ``pip install .`` and ``pip install -e .``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "mkdocs.yml"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if not CONFIG.is_file():
        pytest.fail(f"no mkdocs.yml at {CONFIG}")
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    # Run from tmp_path: `python -m` puts the working directory on sys.path, and the
    # repository root must not be there (its tfapprox/ folder would shadow the package).
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(site)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    output = f"exit status {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    if proc.returncode != 0:
        pytest.fail("mkdocs build --strict failed:\n" + output, pytrace=False)
    # The build really produced the site, including the generated API pages.
    assert (site / "index.html").is_file(), output
    theory = (site / "api" / "theory" / "index.html").read_text(encoding="utf-8")
    assert "tfapprox.theory.validation" in theory and "require_int" in theory, (
        "the API page of tfapprox.theory does not show tfapprox.theory.validation")
