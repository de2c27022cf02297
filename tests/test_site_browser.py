"""The built site, opened in a real headless browser, offline.

Builds the site once (``mkdocs build --strict``, shared with tests/test_docs_build.py through
tests/docs_site.py), then opens every page over ``file://`` in the system's headless Chromium,
driven by Selenium through the system's chromedriver, with name resolution disabled (every host
resolves to nothing: the site must not need the network).  On each page it fails on

- raw TeX in the rendered text (``$...$``, ``$$``, ``\\(``, ``\\[``, ``\\begin{``), code blocks
  excluded, the navigation and table of contents included;
- a formula that the browser does not lay out (MathML without a box);
- an ``<img>`` that does not load (the generated figures included);
- a broken internal link: a local page, file or ``#anchor`` that does not exist;
- a request for anything that is not a local file;
- a code block whose lines are clipped (wider than its box: long lines must wrap).

Chromium and chromedriver come from the system packages (Debian: ``apt-get install chromium
chromium-driver``; .ci/run installs them).  Without them the test is skipped, unless the
environment variable ``CI`` is set: then it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from docs_site import build_site

#: Raw TeX that must never reach a reader (the rendered text, code excluded).
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\\begin\{|\$\$|\$[^\s$][^$\n]{0,200}?\$")

_PAGE_REPORT = """
const body = document.body.cloneNode(true);
body.querySelectorAll('pre, code, script, style, math, .md-search, .md-clipboard').forEach(e => e.remove());
const maths = [...document.querySelectorAll('main math, article math')];
const laidOut = maths.filter(m => { const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; });
const codes = [...document.querySelectorAll('article pre > code')];
return {
  text: body.textContent,
  mathml: typeof MathMLElement !== 'undefined',
  maths: maths.length,
  mathsLaidOut: laidOut.length,
  badImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  images: document.images.length,
  links: [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]),
  ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name')),
  clipped: codes.filter(c => c.scrollWidth > c.clientWidth + 2)
                .map(c => c.textContent.split('\\n').reduce((a, b) => a.length >= b.length ? a : b, '')),
  remote: performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('file:')),
};
"""


def _tools() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or the reason they are unusable."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is not installed (pip install -e '.[test]')"
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        return ("headless Chromium is not installed (Debian: apt-get install -y chromium chromium-driver); "
                f"found chromium={browser}, chromedriver={driver}")
    return browser, driver


@pytest.fixture(scope="module")
def browser():
    tools = _tools()
    if isinstance(tools, str):
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set and the browser test cannot run: {tools}", pytrace=False)
        pytest.skip(tools)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = tools[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--allow-file-access-from-files", "--disable-extensions", "--no-first-run"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(executable_path=tools[1]), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html" and "assets" not in p.parts)


def _ids_of(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        text = path.read_text(encoding="utf-8", errors="replace")
        cache[path] = set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", text))
    return cache[path]


def test_site_in_headless_chromium(browser) -> None:
    build = build_site()
    if build.returncode != 0:
        pytest.fail("mkdocs build --strict failed:\n" + build.output, pytrace=False)
    site = build.site.resolve()
    pages = _pages(site)
    assert len(pages) > 10, f"only {len(pages)} pages built"
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    links: list[tuple[Path, str, str]] = []
    t0 = time.perf_counter()
    images = 0
    for page in pages:
        rel = page.relative_to(site)
        browser.get(page.as_uri())
        rep = browser.execute_script(_PAGE_REPORT)
        if not rep["mathml"]:
            pytest.fail("this Chromium has no MathML support (needs version >= 109)", pytrace=False)
        for m in RAW_TEX.finditer(rep["text"]):
            ctx = rep["text"][max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
            problems.append(f"{rel}: raw TeX {m.group(0)!r} in the rendered text: ...{ctx}...")
        if rep["maths"] and not rep["mathsLaidOut"]:
            problems.append(f"{rel}: {rep['maths']} formulas, none laid out by the browser")
        for src in rep["badImages"]:
            problems.append(f"{rel}: image does not load: {src}")
        for line in rep["clipped"]:
            problems.append(f"{rel}: clipped code line: {line[:100]!r}")
        for url in rep["remote"]:
            problems.append(f"{rel}: requested a non-local resource: {url}")
        images += rep["images"]
        ids[page] = set(rep["ids"])
        links += [(page, raw, resolved) for raw, resolved in rep["links"]]
    # internal links: every local target exists, every #anchor is an id of its page
    for page, raw, resolved in links:
        parts = urlsplit(resolved)
        if parts.scheme in ("http", "https", "mailto", "javascript", "data"):
            continue
        rel = page.relative_to(site)
        if parts.scheme != "file":
            problems.append(f"{rel}: link {raw!r} has an unexpected scheme")
            continue
        target = Path(unquote(parts.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"{rel}: broken link {raw!r} (no {target})")
            continue
        if parts.fragment and target.suffix == ".html":
            anchors = ids[target] if target in ids else _ids_of(target, ids)
            if unquote(parts.fragment) not in anchors:
                problems.append(f"{rel}: broken anchor {raw!r} (no id {parts.fragment!r} in "
                                f"{target.relative_to(site) if target.is_relative_to(site) else target})")
    seconds = time.perf_counter() - t0
    assert images > 0, "no image on the whole site"
    assert not problems, (f"{len(problems)} problems on {len(pages)} pages ({seconds:.1f} s):\n"
                          + "\n".join(problems[:200]))
