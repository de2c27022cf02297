"""The API reference documents every public name and reads as prose, not as markup.

* Every name in the ``__all__`` of every module of the package has a docstring, and so
  has every public method and property of every public class (as griffe, the analyser
  behind mkdocstrings, sees them: an object without a docstring is not rendered at all).
* Every module is rendered by a ``:::`` directive of ``docs/api/*.md``, and the built
  API pages mention every ``__all__`` name; the ``tfapprox`` page lists the top-level names.
* The rendered docstrings contain no Sphinx role (``:class:`` ...) and no ``::`` literal
  marker: ``docs/_hooks/api_roles.py`` turns them into links and code blocks, and the
  pages do link (autorefs anchors) to the objects.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

griffe = pytest.importorskip("griffe")

REPO = Path(__file__).resolve().parents[1]
API_DIR = REPO / "docs" / "api"
PACKAGES = ["tfapprox", "tfapprox.theory", "tfapprox.constructions", "tfapprox.verify"]
ROLE_RE = re.compile(r":(?:py:)?(class|func|meth|data|mod|attr|exc|obj|const):`")


def _all_modules() -> list[str]:
    names = list(PACKAGES)
    for package in PACKAGES[1:]:
        mod = importlib.import_module(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(mod.__path__)
                  if not info.name.startswith("_")]
    names += [f"tfapprox.{info.name}" for info in pkgutil.iter_modules(importlib.import_module("tfapprox").__path__)
              if not info.name.startswith("_") and f"tfapprox.{info.name}" not in names]
    return sorted(set(names))


MODULES = _all_modules()


def _load_hook(name: str):
    spec = importlib.util.spec_from_file_location(f"_tfapprox_docs_{name}", REPO / "docs" / "_hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def griffe_package():
    """The package as griffe loads it for the API reference (the same symlinked tree)."""
    tree = _load_hook("package_tree")
    with tempfile.TemporaryDirectory(prefix="tfapprox-api-test-") as dest:
        tree.build_tree(tree.package_dirs(REPO), Path(dest))
        roles = _load_hook("api_roles")
        # The same extension the build uses: overrides inherit their base's docstring, as in inspect.getdoc.
        loader = griffe.GriffeLoader(search_paths=[dest], docstring_parser=griffe.Parser.numpy,
                                     extensions=griffe.load_extensions(roles.SphinxRolesToAutorefs()))
        package = loader.load("tfapprox", try_relative_path=False)
        loader.resolve_aliases(implicit=False, external=False)
        yield package


def _target(obj):
    return obj.final_target if isinstance(obj, griffe.Alias) else obj


def _has_doc(obj) -> bool:
    return obj.docstring is not None and bool(obj.docstring.value.strip())


def _public_members(cls):
    """Public methods and properties defined in ``cls`` (dunders other than __init__ excluded)."""
    for name, member in cls.members.items():
        if name.startswith("_") or isinstance(member, griffe.Alias):
            continue
        if member.is_function or (member.is_attribute and "property" in member.labels):
            yield name, member


def missing_docstrings(package) -> tuple[list[str], list[str], int, int]:
    """(public names without docstring, methods/properties without docstring, #names, #methods)."""
    names_missing: list[str] = []
    members_missing: list[str] = []
    n_names = n_members = 0
    seen: set[str] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        gmod = package.modules_collection[module_name]
        if not _has_doc(gmod):
            names_missing.append(f"{module_name} (module)")
        for name in getattr(module, "__all__", []):
            n_names += 1
            try:
                obj = gmod[name] if name == "__version__" else _target(gmod[name])
            except (KeyError, griffe.AliasResolutionError):
                names_missing.append(f"{module_name}.{name} (not seen by griffe)")
                continue
            if not _has_doc(obj):
                names_missing.append(f"{module_name}.{name}")
            if obj.is_class and obj.path not in seen:
                seen.add(obj.path)
                for member_name, member in _public_members(obj):
                    n_members += 1
                    if not _has_doc(member):
                        members_missing.append(f"{obj.path}.{member_name}")
    return names_missing, members_missing, n_names, n_members


def test_every_public_name_and_method_has_a_docstring(griffe_package) -> None:
    names, members, n_names, n_members = missing_docstrings(griffe_package)
    assert n_names > 300 and n_members > 50  # the walk really saw the package
    assert not names, f"{len(names)} of {n_names} public names have no docstring: {names}"
    assert not members, f"{len(members)} of {n_members} public methods/properties have no docstring: {members}"


def test_every_module_has_an_api_directive() -> None:
    directives = set()
    for page in API_DIR.glob("*.md"):
        directives |= set(re.findall(r"^::: *([\w.]+)", page.read_text(encoding="utf-8"), flags=re.M))
    missing = [m for m in MODULES if m not in directives]
    assert not missing, f"modules without a ':::' directive in docs/api/*.md: {missing}"


class _RenderedText(HTMLParser):
    """Text of a page outside the source-code listings (``<details class="mkdocstrings-source">``)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.chunks: list[str] = []
        self.anchors: set[str] = set()
        self.links: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "details":
            self.stack.append("mkdocstrings-source" in (a.get("class") or ""))
        if a.get("id"):
            self.anchors.add(a["id"])
        if tag == "a" and "autorefs" in (a.get("class") or "") and a.get("href"):
            self.links.add(a["href"])

    def handle_endtag(self, tag) -> None:
        if tag == "details" and self.stack:
            self.stack.pop()

    def handle_data(self, data) -> None:
        if not any(self.stack):
            self.chunks.append(data)


@pytest.fixture(scope="module")
def built_api(tmp_path_factory) -> dict[str, _RenderedText]:
    site = tmp_path_factory.mktemp("api-site") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(REPO / "mkdocs.yml"), "-d", str(site)],
        cwd=site.parent, env=env, capture_output=True, text=True, timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}", pytrace=False)
    pages = {}
    for page in sorted((site / "api").glob("*/index.html")):
        parser = _RenderedText()
        parser.feed(page.read_text(encoding="utf-8"))
        pages[page.parent.name] = parser
    assert set(pages) >= {"tfapprox", "theory", "constructions", "verify"}, sorted(pages)
    return pages


def test_rendered_api_shows_no_sphinx_markup(built_api) -> None:
    for name, page in built_api.items():
        text = "".join(page.chunks)
        roles = ROLE_RE.findall(text)
        assert not roles, f"api/{name}: {len(roles)} Sphinx roles shown literally"
        assert "::" not in re.sub(r"https?://", "", text).replace("::: ", ""), f"api/{name}: a '::' block shows"
    links = set().union(*(page.links for page in built_api.values()))
    assert len(links) > 100, f"only {len(links)} cross-reference links in the API pages"


def test_rendered_api_mentions_every_public_name(built_api) -> None:
    anchors = set().union(*(page.anchors for page in built_api.values()))
    top_text = "".join(built_api["tfapprox"].chunks)
    missing = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            home = getattr(obj, "__module__", None) if (inspect.isclass(obj) or inspect.isfunction(obj)) else None
            path = f"{home}.{name}" if home and home.startswith("tfapprox") else f"{module_name}.{name}"
            if module_name == "tfapprox" and name == "__version__":
                if "tfapprox.__version__" not in top_text:
                    missing.append("tfapprox.__version__")
                continue
            if path not in anchors and f"{module_name}.{name}" not in anchors:
                missing.append(path)
    assert not missing, f"{len(missing)} public names have no anchor in the API reference: {missing}"


def test_tfapprox_page_lists_the_top_level_names(built_api) -> None:
    import tfapprox

    text = "".join(built_api["tfapprox"].chunks)
    missing = [name for name in tfapprox.__all__ if name not in text]
    assert not missing, f"the tfapprox API page does not list {missing}"


def test_rendered_api_shows_every_public_method_and_property(griffe_package, built_api) -> None:
    anchors = set().union(*(page.anchors for page in built_api.values()))
    missing, seen = [], set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        gmod = griffe_package.modules_collection[module_name]
        for name in getattr(module, "__all__", []):
            if name == "__version__":
                continue
            obj = _target(gmod[name])
            if not obj.is_class or obj.path in seen:
                continue
            seen.add(obj.path)
            missing += [f"{obj.path}.{m}" for m, _ in _public_members(obj) if f"{obj.path}.{m}" not in anchors]
    assert len(seen) > 50
    assert not missing, f"{len(missing)} public methods/properties are not in the API reference: {missing}"


def test_literal_blocks_become_fenced_code() -> None:
    roles = _load_hook("api_roles")
    text = "The API in one import::\n\n    import tfapprox as tf\n    tf.Model\n\nAfter.\n\nA bare block:\n\n::\n\n    x = 1\n"
    assert roles.convert_literal_blocks(text) == (
        "The API in one import:\n\n```python\nimport tfapprox as tf\ntf.Model\n```\n\nAfter.\n\n"
        "A bare block:\n\n```python\nx = 1\n```\n")
    assert roles.convert_literal_blocks(">>> f(a::b)\n\n    y\n") == ">>> f(a::b)\n\n    y\n"
