"""docs/results-map.md stays true: every name, check, page and test file it cites exists.

The map's tables have the columns ``paper result | construction | explicit bound | error
measurement | check | page | tests``.  Every backticked ``tfapprox.`` name must import
(module, then attributes), every backticked check name must be registered, every linked
page must exist, every backticked test file must exist.  Conversely every registered
check and every theorem and lemma page must appear in the map, so a new result cannot be
added without its row.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tfapprox.verify.registry import all_checks

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
MAP = DOCS / "results-map.md"
COLUMNS = ["paper result", "construction", "explicit bound", "error measurement", "check", "page", "tests"]


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in MAP.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            assert header == COLUMNS, f"results map: unexpected columns {header}"
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        assert len(cells) == len(COLUMNS), f"results map: row with {len(cells)} cells: {line}"
        rows.append(dict(zip(COLUMNS, cells)))
    return rows


ROWS = _rows()


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)  # AttributeError: the name does not exist
        return obj
    raise ImportError(dotted)


def _code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def test_the_map_has_rows() -> None:
    assert len(ROWS) >= 15


@pytest.mark.parametrize("row", ROWS, ids=[r["paper result"][:40] for r in ROWS])
def test_every_cited_name_exists(row: dict[str, str]) -> None:
    for column in ("construction", "explicit bound", "error measurement"):
        for name in _code(row[column]):
            if name.startswith("tfapprox."):
                try:
                    _resolve(name)
                except (ImportError, AttributeError) as exc:
                    pytest.fail(f"results map, {row['paper result']!r}, {column}: {name} does not exist ({exc})")
    checks = {c.name for c in all_checks()}
    for name in _code(row["check"]):
        assert name in checks, f"results map, {row['paper result']!r}: no check named {name!r}"
    for target in re.findall(r"\]\(([^)#]+)", row["page"]):
        assert (DOCS / target).is_file(), f"results map, {row['paper result']!r}: no page docs/{target}"
    for path in _code(row["tests"]):
        assert (REPO / path).is_file(), f"results map, {row['paper result']!r}: no test file {path}"


def test_every_check_and_result_page_is_on_the_map() -> None:
    text = MAP.read_text(encoding="utf-8")
    mapped_checks = {name for row in ROWS for name in _code(row["check"])}
    missing = sorted({c.name for c in all_checks()} - mapped_checks)
    assert not missing, f"checks missing from docs/results-map.md: {missing}"
    pages = sorted(p.relative_to(DOCS).as_posix() for d in ("theorems", "lemmas") for p in (DOCS / d).glob("*.md"))
    unmapped = [p for p in pages if f"]({p})" not in text]
    assert not unmapped, f"theorem/lemma pages missing from docs/results-map.md: {unmapped}"
