"""docs/differences.md is the one place for differences from the paper, and readers can follow every reference.

* Entries are numbered D1, D2, ... without gaps; each has an anchor ``<a id="dN">``, a
  heading ``### DN.`` and a row in the summary table.
* Every ``differences.md#dN`` link of every page points to an existing entry.
* No page and no docstring cites a document readers do not have (the project's design
  notes or the paper digest): they cite the paper or the Differences page instead.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGE = DOCS / "differences.md"
SOURCES = ["tfapprox", "theory", "constructions", "verify"]
UNPUBLISHED = re.compile(r"design\.md|design notes|\bdigest\b", re.IGNORECASE)


def _entries() -> list[int]:
    return [int(n) for n in re.findall(r'^<a id="d(\d+)"></a>$', PAGE.read_text(encoding="utf-8"), flags=re.M)]


def test_entries_are_numbered_without_gaps() -> None:
    text = PAGE.read_text(encoding="utf-8")
    numbers = _entries()
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert len(numbers) >= 20
    for n in numbers:
        assert re.search(rf'^<a id="d{n}"></a>\n### D{n}\. ', text, flags=re.M), f"D{n}: anchor not followed by its heading"
        assert f"| [D{n}](#d{n}) |" in text, f"D{n} has no row in the summary table"


def test_every_link_to_an_entry_resolves() -> None:
    numbers = set(_entries())
    links = 0
    for page in DOCS.rglob("*.md"):
        for n in re.findall(r"differences\.md#d(\d+)", page.read_text(encoding="utf-8")):
            links += 1
            assert int(n) in numbers, f"{page.relative_to(REPO)} links to D{n}, which does not exist"
    assert links >= 20, f"only {links} links to the Differences page"


def test_no_page_cites_unpublished_notes() -> None:
    hits = []
    for page in DOCS.rglob("*.md"):
        for i, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if UNPUBLISHED.search(line):
                hits.append(f"{page.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, "pages cite documents readers do not have:\n" + "\n".join(hits)


def test_no_docstring_cites_unpublished_notes() -> None:
    hits = []
    for folder in SOURCES:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node, clean=False) or ""
                    if UNPUBLISHED.search(doc):
                        name = getattr(node, "name", "<module>")
                        hits.append(f"{path.relative_to(REPO)}: {name}")
    assert not hits, "docstrings cite documents readers do not have: " + ", ".join(hits)
