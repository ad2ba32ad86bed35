"""The built site in a real browser (headless Chromium), the way a reader sees it.

Every page in both languages (the pages and notebooks of the sources, checked
against the built site), served by `mkdocs serve` with every other host blocked (the
network is off): no console or page errors, every formula typeset once with no
MathJax error, every request to 127.0.0.1, fonts loaded, no serious or critical axe
violation, copy buttons that copy the snippet, and a full-page screenshot in
tests/output/screenshots/ (git-ignored); on a few pages, the colours of code and of
the dark scheme. The pages are opened two at a time, in one sweep (the `checked`
fixture), and each page's test reads what the sweep found. Then, on the static
build: search in both languages, the language switcher, instant navigation.

Uses the system Chromium (`apt-get install chromium`); where none is installed
these tests skip and say so. .ci/run sets REQUIRE_BROWSER, so in CI they run.
"""

import asyncio
import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import pytest

import lessons
from conftest import PRINT_PAGES, ROOT, free_port, notebook_hook, page_paths, section, snippet_path

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = bool(os.environ.get("REQUIRE_BROWSER"))  # set by .ci/run
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not REQUIRED, reason="no Chromium installed (apt-get install chromium)"
)

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "tests" / "output" / "screenshots"

# Math arrives typeset (hooks/math_render.py): each formula's element (.arithmatex, also
# in notebook cells) holds MathJax's output. A wide display formula holds two versions
# (side by side, and with its shapes stacked), of which the page shows one.
# A notebook cell still has raw math if a "$" shows outside MathJax's output.
RAW_MATH = """const rawMath = cell => { const c = cell.cloneNode(true);
  c.querySelectorAll('mjx-container').forEach(m => m.remove()); return c.textContent.includes('$') };
const shownVersion = c => { const v = c.closest('.math-wide, .math-narrow');
  return !v || getComputedStyle(v).display !== 'none' };
const shown = m =>
  [...m.querySelectorAll('mjx-container:not(mjx-container *)')].filter(shownVersion).length;"""
MATH_DONE = (
    "() => { "
    + RAW_MATH
    + """
  return [...document.querySelectorAll('.arithmatex')].every(m => shown(m) === 1)
    && ![...document.querySelectorAll('.jp-RenderedMarkdown')].some(rawMath) }"""
)
# MathJax nests a copy of each formula in its assistive markup, so count top-level ones.
MATH_STATS = (
    "() => { "
    + RAW_MATH
    + """ return {
  formulas: document.querySelectorAll('.arithmatex').length,
  typeset: [...document.querySelectorAll('.arithmatex')].filter(m => shown(m) === 1).length,
  notebook_formulas: document.querySelectorAll('.jp-RenderedMarkdown .arithmatex').length,
  notebook_raw: [...document.querySelectorAll('.jp-RenderedMarkdown')].filter(rawMath).length,
  nested: document.querySelectorAll('.arithmatex .arithmatex').length,
  errors: document.querySelectorAll('mjx-merror, .arithmatex merror').length,
  // what a screen reader reads: MathML in each shown formula (the visual part is aria-hidden)
  unreadable: [...document.querySelectorAll('mjx-container:not(mjx-container *)')]
    .filter(c => shownVersion(c) && !c.querySelector('mjx-assistive-mml > math')).length,
  runtime: typeof window.MathJax !== 'undefined',
  math_fonts: [...document.fonts].filter(f => f.family.startsWith('MJXTEX') && f.status === 'loaded').length,
} }"""
)
# Display formulas wider than their column (they would scroll sideways, cutting off
# the shapes written beside them), at the window's current width.
# (Laid out in full first: off screen, content-visibility: auto skips their layout.)
OVERFLOWING = """() => { document.head.insertAdjacentHTML('beforeend',
  '<style>.md-typeset div.arithmatex, mjx-assistive-mml { content-visibility: visible !important }</style>');
  return [...document.querySelectorAll('.arithmatex:has(mjx-container[display=true])')]
  .filter(m => m.checkVisibility() && m.scrollWidth > m.clientWidth + 1)
  .map(m => m.dataset.tex.slice(0, 80)) }"""
# Formulas that content-visibility: auto leaves unpainted right now (a screenshot would show
# blank boxes where they are): none, once OVERFLOWING has laid them all out.
SKIPPED = """() => [...document.querySelectorAll('.arithmatex')]
  .filter(m => [...m.querySelectorAll('mjx-container')]
    .some(c => c.checkVisibility() && !c.checkVisibility({contentVisibilityAuto: true})))
  .map(m => m.dataset.tex.slice(0, 80))"""
PHONE = {"width": 390, "height": 844}  # a phone held upright (CSS pixels)


OTHER_HOSTS = re.compile(r"^(?!http://127\.0\.0\.1[:/]).*")  # "the network is off"
FONT_ERRORS = """async () => { await document.fonts.ready;
  return [...document.fonts].filter(f => f.status === 'error').map(f => f.family) }"""


def built_pages(site) -> list[str]:
    """Every page of the built site, as a path below its root ('', 'autograd/', 'en/', ...)."""
    found = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        if rel.startswith(("assets", "search", "javascripts", "stylesheets")):
            continue
        found.append("" if rel == "." else rel + "/")
    return found


def pytest_generate_tests(metafunc):
    if "path" in metafunc.fixturenames:
        # Discovered from the sources here, checked against the built site below.
        metafunc.parametrize("path", page_paths())


def test_chromium_is_installed():
    assert CHROMIUM, "REQUIRE_BROWSER is set but no chromium is on PATH"


def test_every_built_page_is_covered(built_site):
    site, _, _ = built_site
    assert sorted(built_pages(site)) == sorted(page_paths() + PRINT_PAGES)


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "REQUIRE_BROWSER is set but no chromium is on PATH"
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def listen(page):
    """Record, on the page (sync or async API), its console errors, page errors and requests."""
    page.problems, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: page.requests.append(r.url))
    return page


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return listen(context.new_page())


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


def open_page(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_function(MATH_DONE, timeout=5_000)


def outside(requests):
    return [
        u
        for u in requests
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"
    ]


def mathjax_requests(requests) -> list[str]:
    """Requests for MathJax's code (its runtime, TeX extensions, a11y tools): none, as the
    math arrives typeset; only its fonts and stylesheet (assets/mathjax/) are fetched."""
    return [u for u in requests if re.search(r"mathjax\S*\.js|/(tex|mml)-\w+\.js", urlparse(u).path, re.I)]


def math_once(stats: dict) -> dict:
    """Every formula shown once, typeset with no MathJax error, readable by a screen
    reader, by the site's MathJax fonts, and no MathJax in the page (stats: MATH_STATS's)."""
    assert stats["typeset"] == stats["formulas"] and stats["notebook_raw"] == 0, stats
    assert stats["nested"] == 0 and stats["errors"] == 0 and stats["unreadable"] == 0, stats
    assert not stats["runtime"], "the page loaded MathJax"
    assert stats["formulas"] == 0 or stats["math_fonts"] > 0, stats
    return stats


def check_math_once(page):
    return math_once(page.evaluate(MATH_STATS))


def axe_options(rules=None) -> dict:
    options = {"resultTypes": ["violations"]}  # skip collecting passes: twice as fast
    if rules:
        options["runOnly"] = rules
    return options


def serious(result) -> list[str]:
    """axe's serious and critical violations: the rule, its first nodes, what axe says."""
    found = [v for v in result.response["violations"] if v["impact"] in ("serious", "critical")]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}, "
        + v["nodes"][0]["failureSummary"]
        for v in found
    ]


async def serious_axe_violations(page, rules=None, context=None) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    return serious(await Axe().run(page, context=context, options=axe_options(rules)))


@pytest.fixture(scope="module")
def mkdocs_serve():
    """`mkdocs serve`, the README's first command, on a free port: a full build of the
    site, served on 127.0.0.1 (with its live-reload script, as readers run it)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    url = f"http://127.0.0.1:{port}/"
    import urllib.request

    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"mkdocs serve did not start: {proc.stderr.read()[-2000:]}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


# Pages open at once in the sweep: the 2 cores of the machine CI runs on are busy with
# two (each page's own scripts, MathJax and axe take a core for a second or more).
WORKERS = 2
# Code blocks' text: its colours are checked on colour_pages only (see there).
CODE = ".highlight pre > code"


@pytest.fixture(scope="module")
def checked(mkdocs_serve, built_site) -> dict[str, dict]:
    """Every page and print page under `mkdocs serve`, opened and checked, WORKERS at a
    time: what each page's test then asserts, by path. (Playwright's async API, in a
    thread of its own: the tests below use the sync API, which runs its own loop.)"""
    found: dict[str, dict] = {}
    colours = colour_pages(built_site[0])
    sweep = threading.Thread(target=lambda: asyncio.run(check_all(mkdocs_serve, found, colours)))
    sweep.start()
    sweep.join()
    return found


async def check_all(url: str, found: dict, colours: list[str]) -> None:
    from playwright.async_api import async_playwright

    paths = PRINT_PAGES + page_paths()  # the longest first
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        viewport = {"width": 1280, "height": 900}
        context = await browser.new_context(viewport=viewport)
        dark = await browser.new_context(viewport=viewport, color_scheme="dark")
        await context.grant_permissions(["clipboard-read", "clipboard-write"])
        for each in (context, dark):
            await each.route(OTHER_HOSTS, lambda route: route.abort())  # the network is off
        clipboard = asyncio.Lock()  # one clipboard: one page copies at a time

        async def worker():
            while paths:
                path = paths.pop(0)
                found[path] = await check_page(context, url, path, clipboard, path in colours)
                if path in colours:  # the same page, as a reader whose system is dark sees it
                    found[path]["dark_axe"] = await check_dark(dark, url + path)

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
        await browser.close()


async def check_page(context, url: str, path: str, clipboard: asyncio.Lock, colours: bool = False) -> dict:
    """Open one page and record what its test checks; an exception is recorded too.
    On the pages that show every kind of element and of code (colour_pages), axe also
    checks the code blocks' colours."""
    page = listen(await context.new_page())
    page.set_default_timeout(60_000)  # a print page's ~770 formulas take seconds
    found = {"problems": page.problems, "requests": page.requests}
    name = path.strip("/").replace("/", "_") or "index"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        await page.goto(url + path, wait_until="load")
        # (it arrives typeset; one check of a print page's ~4000 formulas alone can take
        # more than 5 s on a busy 2-core machine: it failed so in CI, with two suites at once)
        await page.wait_for_function(MATH_DONE, timeout=60_000 if path in PRINT_PAGES else 5_000)
        found["font_errors"] = await page.evaluate(FONT_ERRORS)  # (waits for the fonts)
        found["math"] = await page.evaluate(MATH_STATS)
        if path in PRINT_PAGES:
            found["lessons"] = await page.locator("section.print-page[id] > h1").count()
            found["toc_links"] = await page.locator("#print-page-toc a").count()
            # what print-site adds (the lessons under it are checked page by page)
            found["axe"] = await serious_axe_violations(page, context={"include": [["#print-page-toc"]]})
            await page.emulate_media(media="print")
            pdf = await page.pdf(path=SHOTS / f"{name}.pdf", format="A4")
            found["pdf_pages"] = len(re.findall(rb"/Type\s*/Page\b", pdf))  # PDF page objects
        else:
            without_code = None if colours else {"exclude": [[CODE]]}
            found["axe"] = await serious_axe_violations(page, context=without_code)
            # every <details> open (the exercises' answers), so that the checks below, the
            # screenshot and the copy buttons clicked cover what is inside them
            await page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true })")
            # (first: it lays out every formula, so the screenshot shows the off-screen ones too,
            # which content-visibility: auto leaves as blank boxes until a reader scrolls to them)
            found["overflowing"] = await page.evaluate(OVERFLOWING)
            found["blank_in_screenshot"] = await page.evaluate(SKIPPED)
            # The page as it opens, before copying scrolls to the buttons it clicks: a full-page
            # screenshot of a scrolled page draws the sticky header, the sidebars and the
            # "copied" message over the content there.
            found["scrolled_at_screenshot"] = await page.evaluate("window.scrollY")
            # JPEG: half the time of a PNG of these tall pages, and still easy to read
            await page.screenshot(path=SHOTS / f"{name}.jpg", full_page=True, type="jpeg", quality=85)
            found["screenshot_bytes"] = (SHOTS / f"{name}.jpg").stat().st_size
            async with clipboard:
                await page.bring_to_front()  # reading the clipboard needs the focus
                found["copied"] = await page.evaluate(COPY_CELLS if "notebooks/" in path else COPY_ALL)
            await page.set_viewport_size(PHONE)  # the same page on a phone
            found["phone_overflowing"] = await page.evaluate(OVERFLOWING)
            found["phone_math"] = await page.evaluate(MATH_STATS)
    except Exception as error:  # the page's test reports it
        found["error"] = f"{type(error).__name__}: {error}"
    finally:
        await page.close()
    return found


async def check_dark(dark, url: str) -> list[str]:
    """The colour rules on a page in the dark scheme (Material's slate), code included."""
    page = await dark.new_page()
    try:
        await page.goto(url, wait_until="load")
        await page.wait_for_function(MATH_DONE, timeout=5_000)
        scheme = await page.evaluate("document.body.getAttribute('data-md-color-scheme')")
        assert scheme == "slate", scheme
        return await serious_axe_violations(page, rules=COLOUR_RULES)
    except Exception as error:  # the page's test reports it
        return [f"{type(error).__name__}: {error}"]
    finally:
        await page.close()


def test_page_in_a_browser(checked, path):
    """Every page under `mkdocs serve` with every other host unreachable (the network is
    off): it renders fully, math and fonts included, with no error, nothing fetched from
    another host, no serious accessibility violation, and working copy buttons."""
    found = checked[path]
    assert "error" not in found, found["error"]
    stats = math_once(found["math"])
    if "notebooks/" in path:  # the math in the snippet's markdown cells
        assert stats["notebook_formulas"] >= 1, stats
    assert not found["problems"], found["problems"]
    assert not outside(found["requests"]), outside(found["requests"])
    assert not mathjax_requests(found["requests"]), mathjax_requests(found["requests"])
    assert found["font_errors"] == []
    assert not found["axe"], found["axe"]
    assert not found.get("dark_axe"), f"dark scheme: {found['dark_axe']}"
    check_copies(found["copied"], path)
    assert found["screenshot_bytes"] > 10_000  # (a page over 65,535 px tall gives none)
    assert not found["blank_in_screenshot"], f"formulas left unpainted: {found['blank_in_screenshot']}"
    assert found["scrolled_at_screenshot"] == 0  # the header at the top, not over the content
    assert not found["overflowing"], f"formulas wider than the page: {found['overflowing']}"
    assert not found["phone_overflowing"], f"formulas wider than a phone: {found['phone_overflowing']}"
    math_once(found["phone_math"])  # on a phone too, each formula shows once


@pytest.mark.parametrize("print_path", PRINT_PAGES)
def test_print_page_in_a_browser(checked, print_path):
    """The whole course on one page, per language, offline: every formula typeset once,
    no error, nothing from another host, fonts loaded; no serious accessibility
    violation in what print-site adds (the table of contents; the lessons under it are
    checked page by page above); and it prints: its PDF, written next to the
    screenshots, has pages for every lesson."""
    found = checked[print_path]
    assert "error" not in found, found["error"]
    assert math_once(found["math"])["formulas"] > 500
    assert not found["problems"], found["problems"]
    assert not outside(found["requests"]), outside(found["requests"])
    assert not mathjax_requests(found["requests"]), mathjax_requests(found["requests"])
    assert found["font_errors"] == []
    assert found["toc_links"] >= found["lessons"] >= 10  # its table of contents
    assert not found["axe"], found["axe"]
    assert found["pdf_pages"] > found["lessons"]


@functools.cache
def code_kinds(html) -> frozenset[str]:
    """The kinds of text in a page's code blocks: each Pygments token class, in a
    highlighted line (another background) or not, and plain text."""
    from bs4 import BeautifulSoup

    pres = re.findall(r"<pre\b.*?</pre>", html.read_text(encoding="utf-8"), re.S)  # (parsing all is slow)
    blocks = BeautifulSoup("".join(pres), "html.parser")
    kinds = set()
    for code in blocks.select("pre > code"):  # (in this site every <pre><code> is in .highlight)
        for span in code.select("span[class]"):
            line = "highlighted " if span.find_parent(class_="hll") else ""
            kinds.update(line + kind for kind in span["class"])
        if code.find(string=True, recursive=False):
            kinds.add("text")
    return frozenset(kinds)


def pages_covering_code(site) -> list[str]:
    """The fewest pages (near enough: greedily) whose code blocks hold every kind of
    text that the code blocks of all pages hold."""
    kinds = {path: code_kinds(site / path / "index.html") for path in page_paths()}
    left, chosen = set().union(*kinds.values()), []
    while left:
        best = max(kinds, key=lambda path: len(kinds[path] & left))
        chosen.append(best)
        left -= kinds[best]
    return chosen


# Colours are set once for the whole site (palette, Pygments classes, Material's code
# colours, stylesheets/extra.css): what an element's contrast depends on is its kind and
# the scheme. So each page's axe check in the sweep leaves out the text of code blocks
# (thousands of tokens), and these pages get the whole check, code included, and then
# the colour rules again in the dark scheme: the fewest pages whose code holds every
# kind of token found on the site (discovered in the built site), and two pages that
# show every other kind of element (tabs, admonitions, tables, links, highlighted lines).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def colour_pages(site) -> list[str]:
    return sorted(set(pages_covering_code(site)) | {"numpy_warmup/", "en/tensors/"})


def test_colour_pages_show_every_kind_of_code(built_site):
    site = built_site[0]
    pages = colour_pages(site)
    assert len(pages) <= 8, pages  # a handful, not the whole site
    every = set().union(*(code_kinds(site / path / "index.html") for path in page_paths()))
    assert {"k", "highlighted n", "text"} <= every  # keywords, names in highlighted lines
    assert set().union(*(code_kinds(site / path / "index.html") for path in pages)) == every


# Reveal each python block (a block in a content tab is hidden until its tab is
# chosen), click its copy button, and read the clipboard.
COPY_ALL = """async () => {
  const copied = [];
  for (const block of document.querySelectorAll('div.language-python.highlight')) {
    const tab = block.closest('.tabbed-block');
    if (tab) {
      const index = [...tab.parentElement.children].indexOf(tab);
      tab.closest('.tabbed-set').querySelectorAll(':scope > .tabbed-labels > label')[index].click();
    }
    block.querySelector('button[data-md-type=copy]').click();
    copied.push(await navigator.clipboard.readText());
  }
  return copied;
}"""


def expected_copies(lesson_page) -> list[str]:
    """What each python block's copy button must copy: the embedded section or file, as shown."""

    texts = []
    for lang, _, body in lessons.blocks(lesson_page):
        if lang != "python":
            continue
        ((path, name, _),) = list(lessons.embeds_in(body))
        if name:
            texts.append(section(path.removeprefix("snippets/").removesuffix(".py"), name))
        else:  # a whole file: a snippet, or another file such as bench/tuned_torch.py
            whole = (ROOT / path).read_text(encoding="utf-8").splitlines()
            texts.append("\n".join(line for line in whole if "--8<--" not in line) + "\n")
    return texts


# A notebook page's code cells, each copied with its own copy button
COPY_CELLS = """async () => {
  const copied = [];
  for (const block of document.querySelectorAll('div.highlight-ipynb')) {
    block.querySelector('button[data-md-type=copy]').click();
    copied.push(await navigator.clipboard.readText());
  }
  return copied;
}"""


def check_copies(copied: list[str], path: str):
    """Each python block's copy button copies exactly the snippet it shows: no line
    numbers, no annotation markers, just what the test suite runs. On a notebook page,
    each code cell's button copies that cell of the snippet."""
    name = path.removeprefix("en/").strip("/") or "index"
    if name.startswith("notebooks/"):
        lesson = name.removeprefix("notebooks/")
        cells = notebook_hook().as_notebook(snippet_path(lesson)).cells
        expected = [c.source for c in cells if c.cell_type == "code"]
        assert [c.rstrip("\n") for c in copied] == expected
        return
    source = ROOT / "docs" / (f"{name}.en.md" if path.startswith("en/") else f"{name}.md")
    expected = expected_copies(source)
    assert len(copied) == len(expected)
    for i, (got, want) in enumerate(zip(copied, expected, strict=True)):
        assert got.rstrip("\n") == want.rstrip("\n"), f"python block {i + 1} of {source.name}"


def test_instant_navigation_shows_the_new_pages_math(page, site_url):
    open_page(page, site_url)
    page.evaluate("window.__not_reloaded = true")
    page.click("a.md-nav__link[href$='numpy_warmup/']")
    page.wait_for_url("**/numpy_warmup/")
    page.wait_for_function(MATH_DONE, timeout=5_000)
    check_math_once(page)
    assert page.evaluate("document.querySelectorAll('.arithmatex').length") > 10
    # It was instant navigation, not a full load: the first page's window is still there.
    assert page.evaluate("window.__not_reloaded === true")
    assert not page.problems, page.problems


def test_copying_a_formula_gives_its_tex(browser, site_url):
    """Formulas are drawn by CSS, which a browser copies as nothing: javascripts/math-copy.js
    puts each formula's TeX in the copied text instead."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = listen(context.new_page())
    try:
        open_page(page, site_url + "en/numpy_warmup/")
        page.bring_to_front()  # reading the clipboard needs the focus
        copy = """async (selector) => {
          const element = document.querySelector(selector);
          getSelection().selectAllChildren(element);
          document.execCommand('copy');
          return [element.textContent, await navigator.clipboard.readText()] }"""
        # a sentence with inline math ("The input \(x\) (\(N \times D_{in}\)) and ...")
        paragraph = "article p:has(> .arithmatex)"
        seen, copied = page.evaluate(copy, paragraph)
        first = f"{paragraph} >> nth=0 >> .arithmatex"
        tex = page.eval_on_selector_all(first, "ms => ms.map(m => m.dataset.tex)")
        assert tex and all(t in copied for t in tex), (copied, tex)
        assert "\\(x\\)" in copied and not re.search(r"mjx|<math", copied), copied
        # a display formula on its own: all of its TeX
        _, copied = page.evaluate(copy, "div.arithmatex")
        assert copied == page.eval_on_selector("div.arithmatex", "m => m.dataset.tex")
        assert not page.problems, page.problems
    finally:
        context.close()


def switch_language(page, lang):
    page.click(".md-header__option .md-select button")
    with page.expect_navigation():
        page.click(f".md-select__link[hreflang={lang}]")
    page.wait_for_function(MATH_DONE, timeout=5_000)


def test_language_switch_keeps_the_lesson(page, site_url):
    open_page(page, site_url + "numpy_warmup/#relu-mask")
    switch_language(page, "en")
    assert page.url == site_url + "en/numpy_warmup/#relu-mask"
    assert page.evaluate("document.documentElement.lang") == "en"
    switch_language(page, "zh")
    assert page.url == site_url + "numpy_warmup/#relu-mask"


def test_language_switch_after_instant_navigation(page, site_url):
    open_page(page, site_url + "en/")
    page.click("a.md-nav__link[href$='autograd/']")
    page.wait_for_url("**/en/autograd/")
    switch_language(page, "zh")
    assert page.url == site_url + "autograd/"
    assert not page.problems, page.problems


@pytest.mark.parametrize(
    "start,queries",
    [
        ("", {"反向传播": "numpy_warmup/", "梯度": "numpy_warmup/"}),
        # "backprop": prefix search in English, which a stemmer in the pipeline broke
        (
            "en/",
            {
                "backpropagation": "en/numpy_warmup/",
                "numpy": "en/numpy_warmup/",
                "backprop": "en/numpy_warmup/",
            },
        ),
    ],
)
def test_search_finds_the_lesson_in_its_language(page, site_url, start, queries):
    open_page(page, site_url + start)
    page.click("input.md-search__input")
    for query, expected in queries.items():
        # Clear first and wait for an empty list, so the results read are this query's.
        page.fill("input.md-search__input", "")
        page.keyboard.press("End")  # Material searches on key events; fill() sends none
        page.wait_for_selector(".md-search-result__item", state="detached")
        page.fill("input.md-search__input", query)
        page.keyboard.press("End")
        page.wait_for_selector(".md-search-result__item a", timeout=15_000)
        links = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(a => a.href)")
        paths = [urlparse(link).path for link in links]  # without ?h=query and #anchor
        assert urlparse(site_url + expected).path in paths, (query, links)
    assert not page.problems, page.problems
