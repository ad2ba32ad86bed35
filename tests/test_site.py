"""The built site: strict build, both languages, math and fonts served locally,
nothing loaded from another host, the language switcher's links."""

import re
from urllib.parse import urljoin, urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import DOCS, LESSONS, ROOT, page_dir, pages, slug

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


def test_mathjax_and_its_fonts_are_served_by_the_site(site):
    assert (site / "assets/mathjax/tex-chtml.js").stat().st_size > 100_000
    fonts = list((site / "assets/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) > 10
    html = (site / "numpy_warmup/index.html").read_text(encoding="utf-8")
    scripts = [s.get("src") for s in BeautifulSoup(html, "html.parser").find_all("script") if s.get("src")]
    assert "../assets/mathjax/tex-chtml.js" in scripts
    # Our configuration comes first, so MathJax reads it when it loads.
    assert scripts.index("../javascripts/mathjax.js") < scripts.index("../assets/mathjax/tex-chtml.js")


def test_no_mathjax_copy_in_the_repository():
    """MathJax arrives through pip; the repository holds only our configuration of it."""
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    assert [f for f in tracked if "mathjax" in f.lower()] == [
        "docs/javascripts/mathjax.js",
        "hooks/mathjax_assets.py",
    ]
    assert not [f for f in tracked if f.endswith((".woff", ".woff2"))]


@pytest.mark.parametrize("slug_", [s for s in SLUGS if "$" in (DOCS / f"{s}.md").read_text(encoding="utf-8")])
def test_math_reaches_the_page_for_mathjax(site, slug_):
    for prefix in ("", "en/"):
        soup = BeautifulSoup(
            (site / prefix / page_dir(slug_) / "index.html").read_text(encoding="utf-8"), "html.parser"
        )
        math = soup.select(".arithmatex")
        assert math, f"{prefix}{slug_}: no math"
        assert all(m.get_text().startswith(("\\(", "\\[")) for m in math)


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
