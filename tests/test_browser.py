"""The built site in a real browser (headless Chromium): math typeset once, no
request leaves the machine, search in both languages, the language switcher and
instant navigation.

Uses the system Chromium (`apt-get install chromium`); where none is installed
these tests skip and say so. .ci/run installs it, so in CI they run.
"""

import functools
import http.server
import os
import shutil
import threading
from urllib.parse import urlparse

import pytest

from conftest import ROOT, pages, slug

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = bool(os.environ.get("REQUIRE_BROWSER"))  # set by .ci/run
needs_chromium = pytest.mark.skipif(CHROMIUM is None and not REQUIRED,
                                    reason="no Chromium installed (apt-get install chromium)")
pytestmark = needs_chromium

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "tests" / "screenshots"  # git-ignored, for people to look at
SLUGS = sorted({slug(p) for p in pages()})
PATHS = [f"{prefix}{'' if s == 'index' else s + '/'}" for prefix in ("", "en/") for s in SLUGS]

# True once every formula is typeset and MathJax has settled.
MATH_DONE = """() => {
  const math = document.querySelectorAll('.arithmatex');
  return [...math].every(m => m.querySelector(':scope > mjx-container'));
}"""
MATH_STATS = """() => ({
  formulas: document.querySelectorAll('.arithmatex').length,
  typeset: document.querySelectorAll('.arithmatex > mjx-container').length,
  nested: document.querySelectorAll('mjx-container mjx-container').length,
  errors: document.querySelectorAll('mjx-merror, .arithmatex merror').length,
})"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(built_site):
    site, done, port = built_site
    assert done.returncode == 0, done.stderr
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_chromium_is_installed():
    assert CHROMIUM, "REQUIRE_BROWSER is set but no chromium is on PATH"


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "REQUIRE_BROWSER is set but no chromium is on PATH"
    from playwright import sync_api
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []
    page.requests = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: page.requests.append(r.url))
    yield page
    context.close()


def open_page(page, url):
    page.goto(url, wait_until="load")
    page.wait_for_function(MATH_DONE, timeout=15_000)
    page.wait_for_timeout(300)  # a second typesetting pass would show up here


def outside(requests):
    return [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname != "127.0.0.1"]


@pytest.mark.parametrize("path", PATHS)
def test_page_renders_math_once_and_stays_local(page, base_url, path):
    open_page(page, base_url + path)
    stats = page.evaluate(MATH_STATS)
    assert stats["typeset"] == stats["formulas"], stats
    assert stats["nested"] == 0 and stats["errors"] == 0, stats
    assert not page.problems, page.problems
    assert not outside(page.requests), outside(page.requests)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{path.strip('/').replace('/', '_') or 'index'}.png", full_page=True)


def test_instant_navigation_typesets_the_new_page(page, base_url):
    open_page(page, base_url)
    page.evaluate("window.__not_reloaded = true")
    page.click("a.md-nav__link[href$='numpy_warmup/']")
    page.wait_for_url("**/numpy_warmup/")
    page.wait_for_function(MATH_DONE, timeout=15_000)
    page.wait_for_timeout(300)
    stats = page.evaluate(MATH_STATS)
    assert stats["formulas"] > 10 and stats["typeset"] == stats["formulas"] and stats["nested"] == 0, stats
    # It was instant navigation, not a full load: the first page's window is still there.
    assert page.evaluate("window.__not_reloaded === true")
    assert not page.problems, page.problems


def switch_language(page, lang):
    page.click(".md-header__option .md-select button")
    with page.expect_navigation():
        page.click(f".md-select__link[hreflang={lang}]")
    page.wait_for_function(MATH_DONE, timeout=15_000)


def test_language_switch_keeps_the_lesson(page, base_url):
    open_page(page, base_url + "numpy_warmup/#relu-mask")
    switch_language(page, "en")
    assert page.url == base_url + "en/numpy_warmup/#relu-mask"
    assert page.evaluate("document.documentElement.lang") == "en"
    switch_language(page, "zh")
    assert page.url == base_url + "numpy_warmup/#relu-mask"


def test_language_switch_after_instant_navigation(page, base_url):
    open_page(page, base_url + "en/")
    page.click("a.md-nav__link[href$='autograd/']")
    page.wait_for_url("**/en/autograd/")
    switch_language(page, "zh")
    assert page.url == base_url + "autograd/"
    assert not page.problems, page.problems


@pytest.mark.parametrize("query,start,expected", [
    ("反向传播", "", "numpy_warmup/"),
    ("梯度", "", "numpy_warmup/"),
    ("backpropagation", "en/", "en/numpy_warmup/"),
    ("numpy", "en/", "en/numpy_warmup/"),
    ("backprop", "en/", "en/numpy_warmup/"),  # prefix search in English
])
def test_search_finds_the_lesson(page, base_url, query, start, expected):
    open_page(page, base_url + start)
    page.click("input.md-search__input")
    page.fill("input.md-search__input", query)
    page.keyboard.press("End")  # Material searches on key events; fill() sends none
    page.wait_for_selector(".md-search-result__item a", timeout=15_000)
    links = page.eval_on_selector_all(".md-search-result__item a", "els => els.map(a => a.href)")
    paths = [urlparse(link).path for link in links]  # without ?h=query and #anchor
    assert urlparse(base_url + expected).path in paths, links
    assert not page.problems, page.problems
