"""The import graph holds the layers (docs/architecture.md, "Layers").

theory imports nothing of tfapprox outside theory; constructions import only theory; verify imports only
theory and constructions; the face (``tfapprox/*.py``, ``tfapprox.testing``) may import anything.  The test
walks every module's syntax tree (module-level imports and imports inside functions alike; imports under
``if TYPE_CHECKING:`` are annotations only and are skipped) and fails on

* an upward import (a lower layer importing a higher one),
* a cycle among modules (counting imports inside functions: an import moved into a function to dodge a
  cycle is still a cycle),
* a private name (``_x``, not a dunder) imported from, or read as an attribute of, another module, and a
  private module (``_display``) imported from outside its package,
* a module above :data:`MAX_MODULE_LINES` lines.

The analyser is checked on small synthetic trees first, so the checks can fail.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> dotted package (pyproject's package-dir mapping).
PACKAGES = {"theory": "tfapprox.theory", "constructions": "tfapprox.constructions", "verify": "tfapprox.verify",
            "tfapprox": "tfapprox"}
#: Layer order: a module may import only from its own layer or lower ones.
LAYERS = {"theory": 0, "constructions": 1, "verify": 2, "face": 3}
MAX_MODULE_LINES = 700


@dataclass
class Graph:
    """Modules (dotted name -> file) and their tfapprox imports."""

    files: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    function_edges: dict[str, set[str]] = field(default_factory=dict)
    private_uses: list[tuple[str, str]] = field(default_factory=list)


def module_name(folder: str, root: Path, path: Path) -> str:
    rel = path.relative_to(root / folder).with_suffix("")
    parts = [PACKAGES[folder], *rel.parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("theory", "constructions", "verify") else "face"


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package_of(module: str, files: dict[str, Path]) -> str:
    return module if files[module].name == "__init__.py" else module.rsplit(".", 1)[0]


def _private_module_outside(target: str, importer: str) -> bool:
    """``target`` has a private component and ``importer`` is outside the package that holds it."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if _is_private(part):
            owner = ".".join(parts[:i])
            return not (importer == owner or importer.startswith(owner + "."))
    return False


def build_graph(root: Path, folders: dict[str, str] | None = None) -> Graph:
    """Parse every ``.py`` file under the source folders of ``root``."""
    folders = folders or PACKAGES
    g = Graph()
    for folder in folders:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts):
                continue
            g.files[module_name(folder, root, path)] = path
    for module, path in g.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = _package_of(module, g.files)
        g.edges[module], g.function_edges[module] = set(), set()
        aliases: dict[str, str] = {}

        def add(target: str, in_function: bool) -> None:
            if target != module and target in g.files:
                (g.function_edges if in_function else g.edges)[module].add(target)

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    for sub in child.orelse:
                        visit(sub, in_function)
                    continue
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.ImportFrom):
                    if child.level:
                        stem = package.split(".")[: len(package.split(".")) - child.level + 1]
                        source = ".".join(stem + ([child.module] if child.module else []))
                    else:
                        source = child.module or ""
                    if source == "tfapprox" or source.startswith("tfapprox."):
                        for a in child.names:
                            full = f"{source}.{a.name}"
                            if full in g.files:  # a submodule
                                add(full, inner)
                                aliases[a.asname or a.name] = full
                                if _private_module_outside(full, module):
                                    g.private_uses.append((module, full))
                            else:
                                add(source, inner)
                                if _is_private(a.name):
                                    g.private_uses.append((module, full))
                                if _private_module_outside(source, module):
                                    g.private_uses.append((module, source))
                elif isinstance(child, ast.Import):
                    for a in child.names:
                        if a.name == "tfapprox" or a.name.startswith("tfapprox."):
                            add(a.name, inner)
                            if a.asname:
                                aliases[a.asname] = a.name
                            if _private_module_outside(a.name, module):
                                g.private_uses.append((module, a.name))
                elif isinstance(child, ast.Attribute) and _is_private(child.attr):
                    dotted = ast.unparse(child.value)
                    target = aliases.get(dotted, dotted)
                    if target in g.files and target != module:
                        g.private_uses.append((module, f"{target}.{child.attr}"))
                visit(child, inner)

        visit(tree, False)
    return g


def upward_imports(g: Graph) -> list[str]:
    out = []
    for module in sorted(g.files):
        for target in sorted(g.edges[module] | g.function_edges[module]):
            if LAYERS[layer(target)] > LAYERS[layer(module)]:
                out.append(f"{module} ({layer(module)}) imports {target} ({layer(target)})")
    return out


def cycles(g: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (module + function-level imports).

    A package's ``__init__`` importing its own submodules is not an edge back to the package, so
    ``pkg -> pkg.sub`` with ``pkg.sub -> pkg.other`` is no cycle; ``pkg.sub -> pkg`` (importing the
    package's re-exports) is an edge like any other.
    """
    graph = {m: (g.edges[m] | g.function_edges[m]) for m in g.files}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:  # iterative Tarjan (no recursion limit on large graphs)
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def long_modules(g: Graph) -> list[str]:
    out = []
    for module, path in sorted(g.files.items()):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            out.append(f"{module}: {n} lines")
    return out


# -- the analyser on synthetic trees (so that every check below can fail) -----------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Graph:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for folder in PACKAGES:
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "__init__.py").touch()
    return build_graph(tmp_path)


def test_analyser_finds_an_upward_import_even_inside_a_function(tmp_path):
    g = _tree(tmp_path, {"theory/a.py": "def f():\n    from tfapprox.verify import b\n", "verify/b.py": ""})
    assert upward_imports(g) == ["tfapprox.theory.a (theory) imports tfapprox.verify.b (verify)"]


def test_analyser_skips_type_checking_imports(tmp_path):
    g = _tree(tmp_path, {"theory/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                        "    from tfapprox.verify.b import X\n", "verify/b.py": "X = 1\n"})
    assert upward_imports(g) == []


def test_analyser_finds_a_cycle_dodged_by_a_function_level_import(tmp_path):
    g = _tree(tmp_path, {"theory/a.py": "from .b import x\n",
                         "theory/b.py": "x = 1\ndef f():\n    from .a import y\n"})
    assert cycles(g) == [["tfapprox.theory.a", "tfapprox.theory.b"]]


def test_analyser_finds_private_imports_and_private_attributes(tmp_path):
    g = _tree(tmp_path, {"theory/a.py": "_x = 1\n__all__ = []\n",
                         "theory/b.py": "from .a import _x, __all__\n",
                         "theory/c.py": "from . import a\ny = a._x\n",
                         "theory/_hidden.py": "", "verify/d.py": "from tfapprox.theory import _hidden\n",
                         "theory/e.py": "from . import _hidden\n"})
    assert sorted(g.private_uses) == [("tfapprox.theory.b", "tfapprox.theory.a._x"),
                                      ("tfapprox.theory.c", "tfapprox.theory.a._x"),
                                      ("tfapprox.verify.d", "tfapprox.theory._hidden")]


def test_analyser_finds_long_modules(tmp_path):
    g = _tree(tmp_path, {"theory/a.py": "x = 1\n" * (MAX_MODULE_LINES + 1)})
    assert long_modules(g) == [f"tfapprox.theory.a: {MAX_MODULE_LINES + 1} lines"]


# -- the real tree ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph() -> Graph:
    g = build_graph(ROOT)
    assert len(g.files) > 50, "the source folders were not found"
    return g


def test_no_upward_imports(graph):
    assert upward_imports(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_no_private_names_across_modules(graph):
    assert sorted(set(graph.private_uses)) == []


def test_no_module_above_the_size_limit(graph):
    assert long_modules(graph) == []


# -- families are objects, not strings ----------------------------------------------------------------------------

#: The kernel-family names that code must not switch on (theory/families.py is where they are defined).
FAMILY_NAMES = ("lin", "log")


def family_string_switches(root: Path, folders: tuple[str, ...] = ("theory", "constructions", "verify")) -> list[str]:
    """Comparisons against a family name (``rpe == "lin"``, ``kind in ("lin", "log")``, ...) outside
    theory/families.py: code asks the family object (:func:`tfapprox.theory.families.kernel_family`)."""
    out = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            if path.name == "families.py" and folder == "theory":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Compare):
                    continue
                for operand in [node.left, *node.comparators]:
                    values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
                    if any(isinstance(v, ast.Constant) and v.value in FAMILY_NAMES for v in values):
                        out.append((str(path.relative_to(root)), node.lineno, ast.unparse(node)))
                        break
    return [f"{p}:{line}: {text}" for p, line, text in sorted(out)]


def test_analyser_finds_family_string_switches(tmp_path):
    (tmp_path / "theory").mkdir()
    (tmp_path / "theory" / "a.py").write_text('def f(rpe):\n    return 0 if rpe == "lin" else 1\n'
                                              'def g(kind):\n    return kind not in ("lin", "log")\n'
                                              'TABLE = {"lin": 1}\n')
    assert family_string_switches(tmp_path, ("theory",)) == [
        "theory/a.py:2: rpe == 'lin'", "theory/a.py:4: kind not in ('lin', 'log')"]


def test_no_family_string_switches():
    assert family_string_switches(ROOT) == []


# -- the code map of docs/architecture.md stays true ----------------------------------------------------------------


def code_map_modules(text: str) -> list[str]:
    """Module names listed in the code map tables (first cell of each row, backticked)."""
    section = text.split("## Code map", 1)[1] if "## Code map" in text else ""
    return [line.split("`")[1] for line in section.splitlines() if line.startswith("| `tfapprox")]


def test_code_map_parser_reads_rows_only():
    text = "intro | `tfapprox.x` |\n## Code map: layers\n| module | holds |\n|---|---|\n| `tfapprox.a` | A |\n"
    assert code_map_modules(text) == ["tfapprox.a"]


def test_code_map_lists_every_module_exactly_once(graph):
    listed = code_map_modules((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    duplicates = sorted({m for m in listed if listed.count(m) > 1})
    assert duplicates == []
    assert sorted(set(graph.files) - set(listed)) == [], "modules missing from docs/architecture.md's code map"
    assert sorted(set(listed) - set(graph.files)) == [], "docs/architecture.md lists modules that do not exist"
