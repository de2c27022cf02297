"""The documentation site builds with ``mkdocs build --strict``.

Strict mode turns every warning into a failure: a nav entry or link to a missing
page, a ``::: module`` directive that mkdocstrings cannot resolve, a docstring it
cannot parse.  The build reads ``mkdocs.yml`` from the checkout this test file
belongs to and writes the site into a temporary directory, so nothing lands in the
repository (the build is shared with tests/test_site_browser.py: tests/docs_site.py).  It
needs no network, and neither does the site: formulas are MathML rendered at build time
(docs/_hooks/mathml.py), figures are drawn by the checks' own code during the build
(docs/_hooks/figures.py, cached outside the repository).

mkdocstrings finds the package through ``docs/_hooks/package_tree.py``, which lays
out the tree from ``pyproject.toml``'s package-dir mapping; the build therefore
works the same after ``pip install .`` and ``pip install -e .``.
"""

from __future__ import annotations

import re

import pytest
from docs_site import CONFIG, REPO, build_site


def _built():
    if not CONFIG.is_file():
        pytest.fail(f"no mkdocs.yml at {CONFIG}")
    build = build_site()
    if build.returncode != 0:
        pytest.fail("mkdocs build --strict failed:\n" + build.output, pytrace=False)
    return build


def test_mkdocs_build_strict() -> None:
    build = _built()
    site = build.site
    # The build really produced the site, including the generated API pages.
    assert (site / "index.html").is_file(), build.output
    theory = (site / "api" / "theory" / "index.html").read_text(encoding="utf-8")
    assert "tfapprox.theory.validation" in theory and "require_int" in theory, (
        "the API page of tfapprox.theory does not show tfapprox.theory.validation")


def test_site_needs_no_network() -> None:
    """No page loads a script, style sheet, font or image from another host (the site reads offline),
    and every formula was rendered to MathML at build time (docs/_hooks/mathml.py)."""
    site = _built().site
    remote = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=["']?(?:https?:)?//""", re.I)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    math_pages = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        hit = remote.search(text)
        assert hit is None, f"{page.relative_to(site)} loads a remote resource: {hit.group(0)!r}"
        assert 'class="arithmatex"' not in text, f"{page.relative_to(site)} has unrendered TeX (arithmatex)"
        math_pages += "<math" in text
    assert math_pages >= 10, f"only {math_pages} pages carry MathML"


def test_every_theorem_and_lemma_page_has_a_generated_figure() -> None:
    """docs/_hooks/figures.py draws the checks' figures; every theorem, lemma, experiments and
    tightness page shows at least one, and every figure the hook draws is used somewhere."""
    site = _built().site
    docs = REPO / "docs"
    pages = sorted(docs.glob("theorems/*.md")) + sorted(docs.glob("lemmas/*.md")) + [
        docs / "experiments.md", docs / "experiments-h27-h28.md", docs / "tightness.md"]
    used: set[str] = set()
    for md in pages:
        rel = md.relative_to(docs).with_suffix("")
        html = (site / rel / "index.html").read_text(encoding="utf-8")
        figs = set(re.findall(r'<img[^>]*src="(?:\.\./)+figures/([^"]+\.png)"', html))
        assert figs, f"{md.relative_to(REPO)} shows no generated figure"
        for name in figs:
            png = site / "figures" / name
            assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is not a PNG"
        used |= figs
    drawn = {p.name for p in (site / "figures").glob("*.png")}
    assert drawn - used == set(), f"figures drawn but shown on no page: {sorted(drawn - used)}"
    assert (docs / "figures").exists() is False, "figures must not be kept in docs/ (they are generated)"
