"""MkDocs hook: render the site's TeX to MathML at build time (no script, no network).

``pymdownx.arithmatex`` (generic mode) wraps every ``$...$`` / ``$$...$$`` of the pages and
docstrings in ``<span class="arithmatex">\\(...\\)</span>`` or ``<div class="arithmatex">\\[...\\]</div>``.
This hook replaces each of them by the MathML that ``latex2mathml`` produces; browsers render
MathML natively (Chromium since version 109, Firefox and Safari for longer), so the built site
shows its formulas offline and without JavaScript.

Headings: Python-Markdown's ``toc`` extension copies a heading's text, TeX included, into the
page's table of contents, which the theme prints in the navigation; a page that the nav does not
name takes its title from its first heading.  The hook converts the TeX in every
table-of-contents title and in such a page title the same way, so no raw ``\\(`` reaches the
navigation either (the browser tab's title keeps the formula's text: the theme strips tags).

A formula that ``latex2mathml`` cannot convert stops the build (``PluginError``) naming the page
and the TeX: a formula shown raw would be a silent failure.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from mkdocs.exceptions import PluginError

_BLOCK = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.S)
_INLINE_TITLE = re.compile(r"\\\((.*?)\\\)", re.S)


#: Letters that Unicode's Mathematical Alphanumeric Symbols leave out (they live in Letterlike Symbols).
_HOLES = {
    ("SCRIPT", "B"): "\u212c", ("SCRIPT", "E"): "\u2130", ("SCRIPT", "F"): "\u2131", ("SCRIPT", "H"): "\u210b",
    ("SCRIPT", "I"): "\u2110", ("SCRIPT", "L"): "\u2112", ("SCRIPT", "M"): "\u2133", ("SCRIPT", "R"): "\u211b",
    ("SCRIPT", "e"): "\u212f", ("SCRIPT", "g"): "\u210a", ("SCRIPT", "o"): "\u2134",
    ("DOUBLE-STRUCK", "C"): "\u2102", ("DOUBLE-STRUCK", "H"): "\u210d", ("DOUBLE-STRUCK", "N"): "\u2115",
    ("DOUBLE-STRUCK", "P"): "\u2119", ("DOUBLE-STRUCK", "Q"): "\u211a", ("DOUBLE-STRUCK", "R"): "\u211d",
    ("DOUBLE-STRUCK", "Z"): "\u2124", ("FRAKTUR", "C"): "\u212d", ("FRAKTUR", "H"): "\u210c",
    ("FRAKTUR", "I"): "\u2111", ("FRAKTUR", "R"): "\u211c", ("FRAKTUR", "Z"): "\u2128", ("ITALIC", "h"): "\u210e",
}
_VARIANT_TOKEN = re.compile(r'<(mi|mn|mo|mtext) mathvariant="([a-z-]+)">([^<]*)</\1>')
_LETTER = re.compile(r"(?:LATIN|GREEK) (CAPITAL|SMALL) LETTER (\w+)")


def _styled_char(ch: str, style: str) -> str:
    if (style, ch) in _HOLES:
        return _HOLES[(style, ch)]
    name = unicodedata.name(ch, "")
    m = _LETTER.fullmatch(name)
    if m:
        target = f"MATHEMATICAL {style} {m.group(1)} {m.group(2)}"
    elif name.startswith("DIGIT "):
        target = f"MATHEMATICAL {style} {name}"
    else:
        return ch
    try:
        return unicodedata.lookup(target)
    except KeyError:
        return ch


def _apply_mathvariants(mathml: str) -> str:
    """Replace ``mathvariant`` (``\\mathbb``, ``\\mathcal``, ``\\mathbf``...) by the styled Unicode
    characters: MathML Core, which Chromium implements, ignores every ``mathvariant`` but ``normal``."""

    def one(m: re.Match[str]) -> str:
        tag, variant, text = m.groups()
        raw = html.unescape(text)
        if variant == "normal" or any(c in raw for c in "<>&"):
            return m.group(0)
        style = variant.upper().replace("BOLD-", "BOLD ")
        styled = "".join(_styled_char(ch, style) for ch in raw)
        if styled == raw:
            return m.group(0)
        return f"<{tag}>{styled}</{tag}>" if tag != "mi" or len(styled) == 1 else \
            f'<{tag} mathvariant="normal">{styled}</{tag}>'

    return _VARIANT_TOKEN.sub(one, mathml)


def tex_to_mathml(tex: str, display: bool, where: str) -> str:
    """MathML for one formula (``tex`` without delimiters); ``where`` names it in errors."""
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # latex2mathml raises several exception types
        raise PluginError(f"{where}: cannot convert TeX {tex!r} to MathML: {type(exc).__name__}: {exc}") from exc
    return _apply_mathvariants(mathml)


def _strip_delimiters(body: str) -> tuple[str, bool]:
    text = html.unescape(body).strip()
    for left, right, display in (("\\(", "\\)", False), ("\\[", "\\]", True), ("$$", "$$", True)):
        if text.startswith(left) and text.endswith(right):
            return text[len(left):-len(right)], display
    if text.startswith("\\begin{"):
        return text, True
    return text, False


def render_math(content: str, where: str) -> str:
    """Replace every arithmatex span/div of ``content`` (HTML) by MathML."""

    def one(m: re.Match[str]) -> str:
        tex, display = _strip_delimiters(m.group(2))
        mathml = tex_to_mathml(tex, display or m.group(1) == "div", where)
        return f'<div class="math-block">{mathml}</div>' if m.group(1) == "div" else mathml

    return _BLOCK.sub(one, content)


def _render_title(title: str, where: str) -> str:
    return _INLINE_TITLE.sub(lambda m: tex_to_mathml(html.unescape(m.group(1)), False, where), title)


def _fix_toc(items: Any, where: str) -> None:
    for item in items:
        if "\\(" in item.title:
            item.title = _render_title(item.title, where)
        _fix_toc(item.children, where)


def on_page_content(html_text: str, page: Any, config: Any, files: Any) -> str:
    """Render the page's formulas and those of its table of contents."""
    where = page.file.src_uri
    if page.title and "\\(" in page.title:  # a page titled by its first heading (not named in the nav)
        page.title = _render_title(page.title, where)
    _fix_toc(page.toc, where)
    return render_math(html_text, where)
