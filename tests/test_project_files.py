"""LICENSE, CITATION.cff and CHANGELOG.md exist and agree with pyproject.toml and the package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import tfapprox

yaml = pytest.importorskip("yaml")  # PyYAML comes with mkdocs (the docs/test extras)

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_license_is_the_mit_license_pyproject_declares() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert _pyproject()["license"] == {"text": "MIT"}
    assert text.startswith("MIT License")
    assert "the tfapprox developers" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_citation_cites_the_software_and_the_paper() -> None:
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software" and cff["license"] == "MIT"
    assert str(cff["version"]) == tfapprox.__version__ == _pyproject()["version"]
    paper = cff["preferred-citation"]
    assert paper["title"] == "Understanding the Expressive Power and Mechanisms of Transformer for Sequence Modeling"
    assert [(a["given-names"], a["family-names"]) for a in paper["authors"]] == [("Mingze", "Wang"), ("Weinan", "E")]
    assert paper["year"] == 2024 and "NeurIPS 2024" in paper["collection-title"]
    assert any(i["value"] == "arXiv:2402.00522" for i in paper["identifiers"])
    bibtex = cff["references"][0]["notes"]
    assert re.search(r"@inproceedings\{wang2024understanding,", bibtex)
    assert "eprint    = {2402.00522}" in bibtex


def test_changelog_has_unreleased_and_the_current_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[0] == "Unreleased"
    assert any(h.startswith(tfapprox.__version__ + " - ") for h in headings), headings
    assert "issue 12" in text and "issue 16" in text
