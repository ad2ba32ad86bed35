"""The built site: strict build, both languages, math and fonts served locally,
nothing loaded from another host, the language switcher's links."""

import re
from urllib.parse import urljoin, urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import page_dir
from lessons import DOCS, LESSONS, ROOT, pages, slug

SLUGS = sorted({slug(p) for p in pages()})


@pytest.fixture(scope="module")
def site(built_site):
    site, done, _ = built_site
    assert done.returncode == 0, done.stdout + done.stderr
    return site


def test_build_is_strict_and_warning_free(built_site):
    _, done, _ = built_site
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr + done.stdout, done.stderr


def html_pages(site):
    return sorted(p for p in site.rglob("*.html"))


@pytest.mark.parametrize("slug_", SLUGS)
@pytest.mark.parametrize("lang,prefix", [("zh", ""), ("en", "en/")])
def test_every_page_is_built_in_each_language(site, slug_, lang, prefix):
    html = (site / prefix / page_dir(slug_) / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == lang
    # The switcher offers both languages; each link leads to that language's root.
    links = {a["hreflang"]: a["href"] for a in soup.select("a.md-select__link[hreflang]")}
    assert set(links) == {"zh", "en"}
    here = f"http://site/{prefix}{page_dir(slug_)}"
    assert urljoin(here, links["zh"]) == "http://site/"
    assert urljoin(here, links["en"]) == "http://site/en/"


def test_nothing_is_loaded_from_another_host(site):
    """Scripts, styles, images, fonts and iframes all come from the site itself."""
    outside = []
    for path in html_pages(site):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(["script", "link", "img", "iframe", "source", "audio", "video"]):
            if tag.name == "link" and not set(tag.get("rel", [])) & {
                "stylesheet",
                "preload",
                "icon",
                "modulepreload",
                "preconnect",
                "dns-prefetch",
            }:
                continue
            url = tag.get("src") or tag.get("href")
            if url and urlparse(url).netloc:
                outside.append(f"{path.relative_to(site)}: <{tag.name}> {url}")
    for path in site.rglob("*.css"):
        for url in re.findall(r"url\(([^)]+)\)", path.read_text(encoding="utf-8", errors="replace")):
            if urlparse(url.strip("'\" ")).netloc:
                outside.append(f"{path.relative_to(site)}: {url}")
    assert not outside, "\n".join(outside)


def test_pages_load_no_mathjax_and_its_fonts_are_served(site):
    """Math is typeset at build time (hooks/math_render.py): no page loads MathJax's
    runtime; each links the stylesheet the formulas need, whose fonts the site serves."""
    assert not [p for p in (site / "assets/mathjax").rglob("*.js")], "MathJax's runtime is in the site"
    css = (site / "assets/mathjax/mathjax.css").read_text(encoding="utf-8")
    fonts = re.findall(r'url\("([^"]+\.woff)"\)', css)
    assert len(fonts) > 10 and all((site / "assets/mathjax" / f).is_file() for f in fonts), fonts
    for path in sorted(site.rglob("index.html")):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        scripts = [s.get("src") or s.get_text() for s in soup.find_all("script")]
        assert not [s for s in scripts if "mathjax" in s.lower()], f"{path.relative_to(site)} loads MathJax"
        if soup.select(".arithmatex"):
            links = [link["href"] for link in soup.select("link[rel=stylesheet]")]
            assert any(href.endswith("assets/mathjax/mathjax.css") for href in links), path


def test_no_mathjax_copy_in_the_repository():
    """MathJax arrives through pip; the repository holds only the hook that runs it."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert [f for f in tracked if "mathjax" in f.lower()] == []
    assert not [f for f in tracked if f.endswith((".woff", ".woff2"))]


@pytest.mark.parametrize("slug_", [s for s in SLUGS if "$" in (DOCS / f"{s}.md").read_text(encoding="utf-8")])
def test_math_arrives_rendered(site, slug_):
    """Every formula of the page is MathJax's output, with assistive MathML for screen
    readers, and keeps its TeX (data-tex, for copying); no TeX is left for a browser."""
    for prefix in ("", "en/"):
        soup = BeautifulSoup(
            (site / prefix / page_dir(slug_) / "index.html").read_text(encoding="utf-8"), "html.parser"
        )
        math = soup.select(".arithmatex")
        assert math, f"{prefix}{slug_}: no math"
        for m in math:
            assert m["data-tex"].startswith(("\\(", "\\[")), m["data-tex"]
            containers = m.select("mjx-container")
            assert containers and all(c.select_one("mjx-assistive-mml > math") for c in containers), m
            assert "\\(" not in m.get_text() and "\\[" not in m.get_text(), m


def test_search_index_holds_both_languages_segmented(site):
    import json

    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    config = index["config"]
    assert set(config["lang"]) >= {"zh", "en"}
    assert "stemmer" not in config["pipeline"]
    assert "\\u200b" in config["separator"] or "\u200b" in config["separator"]
    text = " ".join(doc["text"] + doc["title"] for doc in index["docs"])
    # jieba split the Chinese text into words, joined by U+200B
    assert "\u200b反向\u200b传播" in text or "反向传播\u200b" in text or "\u200b反向传播" in text
    assert "backpropagation" in text.lower()
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert any(loc.startswith("en/") for loc in locations) and any(
        not loc.startswith("en/") for loc in locations
    )


@pytest.mark.parametrize("slug_", SLUGS)
def test_both_languages_have_the_same_sections(site, slug_):
    """Same headings, same anchors: the pages say the same thing in the same order,
    and switching language keeps the reader's #anchor."""

    def anchors(prefix):
        soup = BeautifulSoup(
            (site / prefix / page_dir(slug_) / "index.html").read_text(encoding="utf-8"), "html.parser"
        )
        return [h.get("id") for h in soup.select("article h2, article h3")]

    assert anchors("") == anchors("en/")


def test_each_language_root_has_a_sitemap(site):
    """hooks/language_sitemaps.py: Material's language selector fetches <root>/sitemap.xml."""
    assert (site / "sitemap.xml").read_bytes() == (site / "en" / "sitemap.xml").read_bytes()


@pytest.mark.parametrize("lang,prefix,suffix", [("zh", "", ".md"), ("en", "en/", ".en.md")])
def test_repository_links_edit_links_and_social_links(site, lang, prefix, suffix):
    """The header links the repository, the footer too (social), and every page has an
    "edit this page" link to its own source: docs/<page> or, on a notebook page, the snippet."""
    for slug_ in SLUGS:
        soup = BeautifulSoup(
            (site / prefix / page_dir(slug_) / "index.html").read_text(encoding="utf-8"), "html.parser"
        )
        repo = soup.select_one("a.md-source")["href"].rstrip("/")
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo)
        assert [a["href"].rstrip("/") for a in soup.select("a.md-social__link")] == [repo]
        edit = soup.select_one("a.md-content__button[href*='/edit/']")["href"]
        assert edit == f"{repo}/edit/main/docs/{slug_}{suffix}"
    for lesson in LESSONS:
        html = (site / prefix / "notebooks" / lesson / "index.html").read_text(encoding="utf-8")
        edit = BeautifulSoup(html, "html.parser").select_one("a.md-content__button[href*='/edit/']")["href"]
        assert edit.endswith(f"/edit/main/snippets/{lesson}.py")


def title_of(page) -> str:
    """The page's title: its first line, `# Title`."""
    return page.read_text(encoding="utf-8").splitlines()[0].removeprefix("# ")


@pytest.mark.parametrize("lang,prefix,suffix", [("zh", "", ".md"), ("en", "en/", ".en.md")])
def test_print_page_holds_the_whole_course_in_its_language(site, lang, prefix, suffix):
    """print-site with hooks/print_page.py: one page per language (print_page/,
    en/print_page/) holding every page of the navigation in order, notebooks left out,
    with all their math; linked from every page's navigation."""
    soup = BeautifulSoup((site / prefix / "print_page/index.html").read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == lang
    home = BeautifulSoup((site / prefix / "index.html").read_text(encoding="utf-8"), "html.parser")
    in_nav = [
        a["href"].strip("./") or "index"
        for a in home.select("nav.md-nav--primary a.md-nav__link[href]")
        if "notebooks/" not in a["href"] and "print_page" not in a["href"] and not a["href"].startswith("#")
    ]
    in_nav = list(dict.fromkeys(in_nav))  # the current page is listed twice (with its toc)
    assert set(in_nav) == set(SLUGS)
    sections = soup.select("section.print-page[id]")
    assert [s["id"].removeprefix("en").strip("-") or "index" for s in sections] == in_nav
    titles = [s.select_one("h1").get_text(strip=True).removesuffix("¶") for s in sections]
    assert titles == [title_of(DOCS / f"{name}{suffix}") for name in in_nav]
    assert not soup.select(".jp-Notebook, .highlight-ipynb")
    math = sum(
        len(
            BeautifulSoup((site / prefix / page_dir(name) / "index.html").read_bytes(), "html.parser").select(
                ".arithmatex"
            )
        )
        for name in SLUGS
    )
    assert len(soup.select("section.print-page .arithmatex")) == math > 100
    for name in SLUGS:
        page = BeautifulSoup((site / prefix / page_dir(name) / "index.html").read_bytes(), "html.parser")
        (link,) = page.select("nav.md-nav--primary a.md-nav__link[href$='print_page/']")
        here = f"http://site/{prefix}{page_dir(name)}"
        assert urljoin(here, link["href"]) == f"http://site/{prefix}print_page/"
        assert len(page.select("script[src$='print-site.js']")) == 1  # once, in each build


@pytest.mark.parametrize("prefix", ["", "en/"])
def test_print_page_links_lead_to_its_own_anchors(site, prefix):
    """print-site turns links between pages into links to anchors of the print page:
    each one has its target; links to the notebook pages, which it leaves out, lead to
    them (LinkChecker does not crawl the print pages, see test_links)."""
    here = site / prefix / "print_page"
    soup = BeautifulSoup((here / "index.html").read_text(encoding="utf-8"), "html.parser")
    ids = {tag["id"] for tag in soup.select("[id]")}
    links = [a["href"] for a in soup.select("#print-site-page a[href]")]
    internal = [href for href in links if not urlparse(href).scheme]
    anchors = [href for href in internal if href.startswith("#")]
    pages_ = {href.split("#")[0] for href in internal if not href.startswith("#")}
    assert len(anchors) > 50 and pages_
    assert [href for href in anchors if href[1:] not in ids] == []
    assert [p for p in pages_ if not (here / p / "index.html").resolve().is_file()] == []


def test_print_page_hook_prefixes_anchors_as_print_site_does(site):
    """hooks/print_page.py replaces print-site's slow update_anchor_ids: on every page of
    the site, the one-pass version gives the same HTML as print-site's own."""
    import importlib.util

    from mkdocs_print_site_plugin import urls

    def load(name, path):
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    original = load("print_site_urls", urls.__file__).update_anchor_ids
    ours = load("print_page_hook", ROOT / "hooks" / "print_page.py").update_anchor_ids
    for prefix in ("", "en/"):
        for name in SLUGS:
            html = (site / prefix / page_dir(name) / "index.html").read_text(encoding="utf-8")
            # print-site's version takes minutes on the typeset formulas (thousands of
            # tags), which hold no anchors; the hook sees pages before they are typeset.
            html = re.sub(r"<mjx-container.*?</mjx-container>", "", html, flags=re.S)
            assert ours(html, "key") == original(html, "key"), f"{prefix}{name}"
            assert 'id="key-' in ours(html, "key")
