"""MkDocs hook + griffe extension: Sphinx markup in docstrings -> mkdocstrings cross-references.

The docstrings are numpy-style and, being read by Python programmers too, use the
Sphinx roles (``:class:`~tfapprox.verify.model.Model```, ``:func:`build_thm3_1```,
...) and reStructuredText literal blocks (``Load with::`` followed by an indented
block).  mkdocstrings renders docstrings as Markdown, where both show literally.

Rather than rewriting hundreds of docstrings, this file rewrites them while griffe
loads the package, before mkdocstrings parses them:

* ``:role:`~a.b.C``` becomes ``[`C`][a.b.C]`` and ``:role:`a.b.C``` becomes
  ``[`a.b.C`][a.b.C]``, a cross-reference that mkdocs-autorefs turns into a link.
  Short names (``:func:`helper```, ``:meth:`Model.run```) are resolved the way Sphinx
  does: in the enclosing class, then the enclosing module, then its parent packages,
  then ``tfapprox``.  A name that resolves to nothing the API reference shows (a private
  helper, an object without a docstring, an external library) becomes inline code, so the
  strict build never meets a dangling reference.
* ``text::`` + blank line + indented block becomes ``text:`` + a fenced code block.

The hook part registers the extension with the mkdocstrings Python handler in
``on_config``, so ``mkdocs.yml`` only lists this file under ``hooks``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from griffe import Alias, Docstring, Extension, GriffeLoader, Module, Object
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

ROOT_PACKAGE = "tfapprox"
_LOG = logging.getLogger("mkdocs.hooks.api_roles")

#: ``:role:`target``` or ``:py:role:`target``` (Sphinx Python-domain roles).
ROLE_RE = re.compile(r":(?:py:)?(?P<role>class|func|meth|data|mod|attr|exc|obj|const|type):`(?P<text>[^`]+)`")

_ROLE_COUNTS = {"converted": 0, "linked": 0, "code": 0, "literal_blocks": 0, "inherited": 0, "comments": 0}


def _is_public_path(path: str) -> bool:
    return all(not part.startswith("_") or (part.startswith("__") and part.endswith("__"))
               for part in path.split("."))


def _lookup(loader: GriffeLoader, path: str) -> Object | None:
    try:
        obj = loader.modules_collection[path]
    except Exception:  # noqa: BLE001 - KeyError, alias resolution errors: "not found"
        return None
    if isinstance(obj, Alias):
        try:
            obj = obj.final_target
        except Exception:  # noqa: BLE001
            return None
    return obj


def _rendered(obj: Object) -> bool:
    """Whether the API reference shows ``obj`` (public path, documented up to its module)."""
    if not _is_public_path(obj.path) or not obj.path.startswith(ROOT_PACKAGE):
        return False
    node: Object | None = obj
    while node is not None and not node.is_module:
        if not node.docstring or not node.docstring.value.strip():
            return False
        node = node.parent  # type: ignore[assignment]
    return True


def _candidates(text: str, context: Object) -> list[str]:
    text = text.strip().removesuffix("()")
    if text.startswith(ROOT_PACKAGE + ".") or text == ROOT_PACKAGE:
        return [text]
    out: list[str] = []
    node: Object | None = context
    while node is not None:
        if not node.is_function and not node.is_attribute:
            out.append(f"{node.path}.{text}")
        node = node.parent  # type: ignore[assignment]
    out.append(f"{ROOT_PACKAGE}.{text}")
    return out


def resolve(text: str, context: Object, loader: GriffeLoader) -> str | None:
    """The path of the documented object ``text`` names, seen from ``context``, or None."""
    for path in _candidates(text, context):
        obj = _lookup(loader, path)
        if obj is not None:
            return obj.path if _rendered(obj) else None
    return None


def convert_roles(value: str, context: Object, loader: GriffeLoader) -> str:
    """Replace every Sphinx role in ``value`` by a cross-reference or inline code."""

    def replace(match: re.Match[str]) -> str:
        text = match.group("text").strip()
        explicit = re.fullmatch(r"(?P<title>.+?)\s*<(?P<target>[^>]+)>", text)
        if explicit:
            title, target = explicit.group("title"), explicit.group("target")
        else:
            target = text.lstrip("~")
            title = target.rsplit(".", 1)[-1] if text.startswith("~") else target
        if match.group("role") in ("func", "meth") and not title.endswith(")"):
            title += "()"
        _ROLE_COUNTS["converted"] += 1
        path = resolve(target.lstrip("~"), context, loader)
        if path is None:
            _ROLE_COUNTS["code"] += 1
            _LOG.debug("api_roles: %s in %s -> inline code", text, context.path)
            return f"`{title}`"
        _ROLE_COUNTS["linked"] += 1
        return f"[`{title}`][{path}]"

    return ROLE_RE.sub(replace, value)


def convert_literal_blocks(value: str) -> str:
    """reST ``::`` literal blocks -> fenced Markdown code blocks."""
    lines = value.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.rstrip()
        if stripped.endswith("::") and not stripped.lstrip().startswith((">>>", "...")):
            indent = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block: list[str] = []
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
                block.append(lines[j])
                j += 1
            while block and not block[-1].strip():
                block.pop()
            if block:
                _ROLE_COUNTS["literal_blocks"] += 1
                head = stripped[:-1] if stripped.strip() != "::" else ""
                # "text::" reads "text:"; "text ::" and a bare "::" read nothing.
                if head.endswith(" :"):
                    head = head[:-2]
                if head.strip():
                    out.append(head)
                    out.append("")
                inner = min(len(b) - len(b.lstrip()) for b in block if b.strip())
                pad = " " * indent
                out.append(pad + "```python")
                out.extend(pad + b[inner:] if b.strip() else "" for b in block)
                out.append(pad + "```")
                out.append("")
                i = j
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


def inherit_docstrings(cls: Object) -> None:
    """Give an undocumented method or property the docstring of the member it overrides.

    Python's :func:`inspect.getdoc` does the same; without it the API reference would drop
    every override (``to_dict``, ``values``, ...) of a documented base-class member.
    """
    for name, member in cls.members.items():
        if isinstance(member, Alias) or (member.docstring and member.docstring.value.strip()):
            continue
        if not (member.is_function or member.is_attribute):
            continue
        try:
            bases = cls.mro()
        except Exception:  # noqa: BLE001 - unresolvable base (external): nothing to inherit
            continue
        for base in bases:
            inherited = base.members.get(name)
            if inherited is not None and not isinstance(inherited, Alias) and inherited.docstring \
                    and inherited.docstring.value.strip():
                member.docstring = Docstring(inherited.docstring.value, parent=member,
                                             parser=inherited.docstring.parser,
                                             parser_options=inherited.docstring.parser_options)
                _ROLE_COUNTS["inherited"] += 1
                break


def comment_docstring(attr: Object) -> str | None:
    """The Sphinx ``#:`` doc-comment of an attribute: the ``#:`` lines right above it, or one after it."""
    try:
        lines = attr.lines_collection[attr.filepath]  # type: ignore[index]
    except Exception:  # noqa: BLE001 - no source (compiled/inspected): no comment
        try:
            lines = Path(attr.filepath).read_text(encoding="utf-8").split("\n")  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001
            return None
    if not attr.lineno:
        return None
    row = attr.lineno - 1
    same_line = re.search(r"#:\s?(.*)$", lines[row]) if row < len(lines) else None
    if same_line:
        return same_line.group(1).strip() or None
    above: list[str] = []
    i = row - 1
    while i >= 0 and lines[i].lstrip().startswith("#:"):
        above.insert(0, lines[i].lstrip()[2:].strip())
        i -= 1
    return "\n".join(above).strip() or None


class SphinxRolesToAutorefs(Extension):
    """Rewrite Sphinx roles and ``::`` blocks in every docstring of the loaded package."""

    def on_package(self, *, pkg: Module, loader: GriffeLoader, **kwargs: Any) -> None:
        _LOG.debug("api_roles: on_package %s; loaded: %s", pkg.path, list(loader.modules_collection.members))
        if pkg.path != ROOT_PACKAGE:
            return
        seen: set[int] = set()

        def walk(obj: Object) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.is_class:
                inherit_docstrings(obj)
            if obj.is_attribute and not (obj.docstring and obj.docstring.value.strip()):
                text = comment_docstring(obj)
                if text:
                    obj.docstring = Docstring(text, parent=obj, parser=loader.docstring_parser,
                                              parser_options=loader.docstring_options)
                    _ROLE_COUNTS["comments"] += 1
            if obj.docstring is not None and obj.docstring.value:
                value = convert_literal_blocks(obj.docstring.value)
                obj.docstring.value = convert_roles(value, obj, loader)
            for member in obj.members.values():
                if not isinstance(member, Alias):
                    walk(member)

        walk(pkg)
        _LOG.info("api_roles: %(converted)d Sphinx roles converted (%(linked)d links, %(code)d inline code), "
                  "%(literal_blocks)d literal blocks fenced, %(inherited)d docstrings inherited, %(comments)d from #: comments", _ROLE_COUNTS)


@event_priority(90)  # after package_tree.py (100), before mkdocstrings reads its handler options
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    plugin = config.plugins.get("mkdocstrings")
    if plugin is None:
        raise PluginError("the api_roles hook needs the mkdocstrings plugin")
    python = plugin.config.handlers.setdefault("python", {})
    options = python.setdefault("options", {})
    extensions = options.setdefault("extensions", [])
    entry = f"{Path(__file__).resolve()}:SphinxRolesToAutorefs"
    if entry not in extensions:
        extensions.append(entry)
    return config
