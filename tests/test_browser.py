"""The built site in a real browser (headless Chromium), the way a reader sees it.

Every page in both languages (the pages and notebooks of the sources, checked
against the built site), served by `mkdocs serve` with every other host blocked (the
network is off): no console or page errors, every formula typeset once with no
MathJax error, every request to 127.0.0.1, fonts loaded, no serious or critical axe
violation, copy buttons that copy the snippet, and a full-page screenshot in
tests/output/screenshots/ (git-ignored). Then, on the static build: the dark
scheme's contrast, search in both languages, the language switcher, instant
navigation.

Uses the system Chromium (`apt-get install chromium`); where none is installed
these tests skip and say so. .ci/run sets REQUIRE_BROWSER, so in CI they run.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest

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

# Notebook markdown cells (.jp-RenderedMarkdown) hold $...$ math; a cell still has raw
# math while a "$" shows outside MathJax's output.
RAW_MATH = """const rawMath = cell => { const c = cell.cloneNode(true);
  c.querySelectorAll('mjx-container').forEach(m => m.remove()); return c.textContent.includes('$') };"""
# True once every formula is typeset.
MATH_DONE = (
    "() => { "
    + RAW_MATH
    + """
  return [...document.querySelectorAll('.arithmatex')].every(m => m.querySelector(':scope > mjx-container'))
    && ![...document.querySelectorAll('.jp-RenderedMarkdown')].some(rawMath) }"""
)
# MathJax nests a copy of each formula in its assistive markup, so count direct children.
MATH_STATS = (
    "() => { "
    + RAW_MATH
    + """ return {
  formulas: document.querySelectorAll('.arithmatex').length,
  typeset: document.querySelectorAll('.arithmatex > mjx-container').length,
  notebook_formulas:
    document.querySelectorAll('.jp-RenderedMarkdown mjx-container:not(mjx-container *)').length,
  notebook_raw: [...document.querySelectorAll('.jp-RenderedMarkdown')].filter(rawMath).length,
  nested: document.querySelectorAll('mjx-container mjx-container').length,
  errors: document.querySelectorAll('mjx-merror, .arithmatex merror').length,
} }"""
)


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


def new_page(browser, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: page.requests.append(r.url))
    return page


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


def open_page(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_function(MATH_DONE, timeout=15_000)
    page.wait_for_timeout(300)  # a second typesetting pass would show up here


def outside(requests):
    return [
        u
        for u in requests
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"
    ]


def check_math_once(page):
    stats = page.evaluate(MATH_STATS)
    assert stats["typeset"] == stats["formulas"] and stats["notebook_raw"] == 0, stats
    assert stats["nested"] == 0 and stats["errors"] == 0, stats
    return stats


def serious_axe_violations(page, rules=None, context=None) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"resultTypes": ["violations"]}  # skip collecting passes: twice as fast
    if rules:
        options["runOnly"] = rules
    result = Axe().run(page, context=context, options=options)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


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


def test_page_in_a_browser(page, mkdocs_serve, path):
    """Every page under `mkdocs serve` with every other host unreachable (the network is
    off): it renders fully, math and fonts included, with no error, nothing fetched from
    another host, no serious accessibility violation, and working copy buttons."""
    page.route(OTHER_HOSTS, lambda route: route.abort())
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_page(page, mkdocs_serve + path)
    stats = check_math_once(page)
    if "notebooks/" in path:  # the math in the snippet's markdown cells
        assert stats["notebook_formulas"] >= 1, stats
    assert not page.problems, page.problems
    assert not outside(page.requests), outside(page.requests)
    assert page.evaluate(FONT_ERRORS) == []
    assert not serious_axe_violations(page)
    check_copy_buttons(page, path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # JPEG: half the time of a PNG of these tall pages, and still easy to read
    name = path.strip("/").replace("/", "_") or "index"
    page.screenshot(path=SHOTS / f"{name}.jpg", full_page=True, type="jpeg", quality=85)
    assert (SHOTS / f"{name}.jpg").stat().st_size > 10_000  # (a page over 65,535 px tall gives none)


@pytest.mark.parametrize("print_path", PRINT_PAGES)
def test_print_page_in_a_browser(page, mkdocs_serve, print_path):
    """The whole course on one page, per language, offline: every formula typeset once,
    no error, nothing from another host, fonts loaded; no serious accessibility
    violation in what print-site adds (the table of contents; the lessons under it are
    checked page by page above); and it prints: its PDF, written next to the
    screenshots, has pages for every lesson."""
    page.set_default_timeout(60_000)  # ~770 formulas: MathJax takes seconds
    page.route(OTHER_HOSTS, lambda route: route.abort())
    page.goto(mkdocs_serve + print_path, wait_until="load")
    page.wait_for_function(MATH_DONE, timeout=60_000)
    assert check_math_once(page)["formulas"] > 500
    assert not page.problems, page.problems
    assert not outside(page.requests), outside(page.requests)
    assert page.evaluate(FONT_ERRORS) == []
    lessons = page.locator("section.print-page[id] > h1").count()
    assert page.locator("#print-page-toc a").count() >= lessons >= 10  # its table of contents
    assert not serious_axe_violations(page, context={"include": [["#print-page-toc"]]})
    page.emulate_media(media="print")
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=SHOTS / f"{print_path.strip('/').replace('/', '_')}.pdf", format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) > lessons  # PDF page objects


# Colours are set once for the whole site (palette and stylesheets/extra.css), so the
# dark scheme's contrast is checked on the two pages that show every kind of element
# (code with highlighted lines, tabs, admonitions, tables, links), not on all of them.
@pytest.mark.parametrize("dark_path", ["numpy_warmup/", "en/tensors/"])
def test_dark_scheme_contrast(browser, site_url, dark_path):
    page = new_page(browser, color_scheme="dark")
    try:
        open_page(page, site_url + dark_path)
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
        assert not serious_axe_violations(page, rules=["color-contrast", "link-in-text-block"])
    finally:
        page.context.close()


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
    block.closest('details')?.setAttribute('open', '');
    block.querySelector('button[data-md-type=copy]').click();
    copied.push(await navigator.clipboard.readText());
  }
  return copied;
}"""


def expected_copies(lesson_page) -> list[str]:
    """What each python block's copy button must copy: the embedded section or file, as shown."""
    import test_docs

    texts = []
    for lang, _, body in test_docs.blocks(lesson_page):
        if lang != "python":
            continue
        ((path, name, _),) = list(test_docs.embeds_in(body))
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


def check_copy_buttons(page, path):
    """Each python block's copy button copies exactly the snippet it shows: no line
    numbers, no annotation markers, just what the test suite runs. On a notebook page,
    each code cell's button copies that cell of the snippet."""
    name = path.removeprefix("en/").strip("/") or "index"
    if name.startswith("notebooks/"):
        lesson = name.removeprefix("notebooks/")
        cells = notebook_hook().as_notebook(snippet_path(lesson)).cells
        expected = [c.source for c in cells if c.cell_type == "code"]
        assert [c.rstrip("\n") for c in page.evaluate(COPY_CELLS)] == expected
        return
    source = ROOT / "docs" / (f"{name}.en.md" if path.startswith("en/") else f"{name}.md")
    expected = expected_copies(source)
    copied = page.evaluate(COPY_ALL)
    assert len(copied) == len(expected)
    for i, (got, want) in enumerate(zip(copied, expected, strict=True)):
        assert got.rstrip("\n") == want.rstrip("\n"), f"python block {i + 1} of {source.name}"


def test_instant_navigation_typesets_the_new_page(page, site_url):
    open_page(page, site_url)
    page.evaluate("window.__not_reloaded = true")
    page.click("a.md-nav__link[href$='numpy_warmup/']")
    page.wait_for_url("**/numpy_warmup/")
    page.wait_for_function(MATH_DONE, timeout=15_000)
    page.wait_for_timeout(300)
    check_math_once(page)
    assert page.evaluate("document.querySelectorAll('.arithmatex').length") > 10
    # It was instant navigation, not a full load: the first page's window is still there.
    assert page.evaluate("window.__not_reloaded === true")
    assert not page.problems, page.problems


def switch_language(page, lang):
    page.click(".md-header__option .md-select button")
    with page.expect_navigation():
        page.click(f".md-select__link[hreflang={lang}]")
    page.wait_for_function(MATH_DONE, timeout=15_000)


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
