"""One ``mkdocs build --strict`` per test run, shared by the tests that need the built site.

``tests/test_docs_build.py`` checks that the build passes; ``tests/test_site_browser.py`` opens
the built pages in headless Chromium.  Both call :func:`build_site`, which builds once per
process (the result is cached) into a temporary folder removed at exit.  The build reads
``mkdocs.yml`` of the checkout this file belongs to; its figures come from the cache of
``docs/_hooks/figures.py`` (outside the repository), so a warm build takes seconds.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "mkdocs.yml"


@dataclass(frozen=True)
class SiteBuild:
    """Outcome of the build: the site folder, the exit status, the output and the wall time."""

    site: Path
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and (self.site / "index.html").is_file()


@functools.lru_cache(maxsize=1)
def build_site() -> SiteBuild:
    """Build the site once (``mkdocs build --strict``) and return the outcome."""
    if not CONFIG.is_file():
        raise FileNotFoundError(f"no mkdocs.yml at {CONFIG}")
    work = Path(tempfile.mkdtemp(prefix="tfapprox-site-"))
    atexit.register(shutil.rmtree, work, True)
    site = work / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    t0 = time.perf_counter()
    # Run from the temporary folder: `python -m` puts the working directory on sys.path, and the
    # repository root must not be there (its tfapprox/ folder would shadow the package).
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(CONFIG), "-d", str(site)],
        cwd=work, env=env, capture_output=True, text=True, timeout=900,
    )
    output = f"exit status {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    return SiteBuild(site, proc.returncode, output, time.perf_counter() - t0)
