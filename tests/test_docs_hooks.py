"""Unit tests of the documentation build hooks: docs/_hooks/mathml.py and docs/_hooks/figures.py.

The hooks are loaded from their files (MkDocs loads them the same way); the full build and the
browser test are in tests/test_docs_build.py and tests/test_site_browser.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

HOOKS = Path(__file__).resolve().parents[1] / "docs" / "_hooks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"tfapprox_docs_hook_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


mathml = _load("mathml")
figures = _load("figures")


# ---------------------------------------------------------------------------------- mathml
def test_arithmatex_spans_become_mathml() -> None:
    html = ('<p>Let <span class="arithmatex">\\(x_t &lt; 1\\)</span> and</p>\n'
            '<div class="arithmatex">\\[\\sum_k a_k\\]</div>')
    out = mathml.render_math(html, "page.md")
    assert "arithmatex" not in out and "\\(" not in out and "\\[" not in out
    assert out.count("<math") == 2
    assert 'display="inline"' in out and 'display="block"' in out
    assert "<mo>&lt;</mo>" in out or "&#x0003C;" in out  # the escaped '<' stays an operator


def test_mathvariants_become_styled_letters() -> None:
    # MathML Core (Chromium) ignores mathvariant: the letters themselves must carry the style
    out = mathml.tex_to_mathml(r"\mathbb R^D \ni \mathcal B, \mathbf H, \mathbb 1", False, "page.md")
    for letter in ("\u211d", "\u212c", "\U0001d407", "\U0001d7d9"):  # R double-struck, script B, bold H, double-struck 1
        assert letter in out, (letter, out)
    assert 'mathvariant="double-struck"' not in out and 'mathvariant="script"' not in out


def test_toc_titles_and_page_title_are_rendered() -> None:
    child = SimpleNamespace(title="Readouts \\(f\\in\\mathcal B\\)", children=[])
    top = SimpleNamespace(title="Plain", children=[child])
    page = SimpleNamespace(file=SimpleNamespace(src_uri="t.md"), title="Bound \\(O(D)\\)", toc=[top])
    mathml.on_page_content("<p>x</p>", page, None, None)
    assert top.title == "Plain"
    assert child.title.startswith("Readouts <math") and "\\(" not in child.title
    assert page.title.startswith("Bound <math")


def test_unconvertible_tex_stops_the_build() -> None:
    with pytest.raises(PluginError, match="page.md"):
        mathml.tex_to_mathml("\\frac{1}{", False, "page.md")


# --------------------------------------------------------------------------------- figures
def test_figures_are_drawn_by_the_check_then_reused(tmp_path: Path, monkeypatch) -> None:
    run = figures.Run("prop4.2", ("--heads", "1,2,4"), (("p.png", figures.PLOT),))
    monkeypatch.setattr(figures, "RUNS", (run,))
    found = figures.build_figures(root=tmp_path, workers=1)
    png = found["p.png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stamp = png.stat().st_mtime_ns
    again = figures.build_figures(root=tmp_path, workers=1)
    assert again["p.png"] == png and png.stat().st_mtime_ns == stamp  # from the cache
    # another option set is another cache entry
    other = figures.Run("prop4.2", ("--heads", "1,2"), (("p.png", figures.PLOT),))
    monkeypatch.setattr(figures, "RUNS", (other,))
    assert figures.build_figures(root=tmp_path, workers=1)["p.png"] != png


def test_figures_fail_loudly(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(figures, "RUNS", (figures.Run("prop4.2", ("--heads", "2,1"), (("p.png", figures.PLOT),)),))
    with pytest.raises(PluginError, match="strictly increasing"):
        figures.build_figures(root=tmp_path, workers=1)
    monkeypatch.setattr(figures, "RUNS", (figures.Run("prop4.2", ("--heads", "1,2"), (("p.png", "none.png"),)),))
    with pytest.raises(PluginError, match="contributes no file 'none.png'"):
        figures.build_figures(root=tmp_path, workers=1)
    assert not any(p.suffix == ".png" for p in tmp_path.rglob("*"))  # nothing half-written is cached


def test_worker_processes_give_the_same_figures(tmp_path: Path, monkeypatch) -> None:
    runs = (figures.Run("prop4.2", ("--heads", "1,2"), (("a.png", figures.PLOT),)),
            figures.Run("thm3.1", ("--lags", "1,2", "--heads", "8,16"), (("b.png", figures.PLOT),)))
    monkeypatch.setattr(figures, "RUNS", runs)
    found = figures.build_figures(root=tmp_path, workers=2)
    assert sorted(found) == ["a.png", "b.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in found.values())


def test_every_figure_name_is_unique_and_png() -> None:
    names = figures.figure_names()
    assert len(names) == len(set(names)) and all(n.endswith(".png") for n in names)
