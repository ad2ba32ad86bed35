"""Pages and snippets stay tied together: every embed resolves, every snippet is
shown in both languages, no page carries its own copy of code, highlighted lines
exist, and the doctest sessions on the pages print what they claim."""

import doctest
import io
import re

import pytest
import yaml

import lessons
from lessons import (
    DOCS,
    EMBED,
    LESSONS,
    ROOT,
    blocks,
    embeds,
    pages,
    section,
    section_names,
    slug,
)

PAGES = pages()
ZH = [p for p in PAGES if not p.name.endswith(".en.md")]
EN = [p for p in PAGES if p.name.endswith(".en.md")]


def ids(paths):
    return [p.relative_to(DOCS).as_posix() for p in paths]


@pytest.mark.parametrize("page", ZH, ids=ids(ZH))
def test_every_page_exists_in_both_languages(page):
    assert page.with_name(page.name.removesuffix(".md") + ".en.md").exists()


@pytest.mark.parametrize("page", EN, ids=ids(EN))
def test_every_english_page_has_a_chinese_one(page):
    assert page.with_name(page.name.removesuffix(".en.md") + ".md").exists()


def nav_pages(nav):
    for item in nav:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from nav_pages(value) if isinstance(value, list) else [value]


def test_every_page_is_in_the_nav():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # !!python/name etc.
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    # docs/ pages, and each lesson's notebook page (added by hooks/notebooks.py)
    expected = [p.relative_to(DOCS).as_posix() for p in ZH] + [f"notebooks/{lesson}.md" for lesson in LESSONS]
    assert sorted(nav_pages(config["nav"])) == sorted(expected)


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_embed_resolves(page):
    for path, name, _ in embeds(page):
        assert (ROOT / path).is_file(), f"{page.name}: {path} does not exist"
        if name:
            assert name in section_names(path.removeprefix("snippets/").removesuffix(".py")), (
                f"{page.name}: {path} has no section {name!r}"
            )


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_snippet_is_embedded_in_each_language(lesson, language):
    shown = [
        p
        for p in (ZH if language == "zh" else EN)
        if any(path == f"snippets/{lesson}.py" for path, _, _ in embeds(p))
    ]
    assert shown, f"no {language} page embeds snippets/{lesson}.py"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_code_on_pages_comes_from_snippets(page):
    """A python block holds embeds and nothing else; runnable examples are pycon sessions."""
    for lang, _, body in blocks(page):
        if lang in ("python", "py"):
            lines = [line for line in body.splitlines() if line.strip()]
            assert lines and all(EMBED.match(line) for line in lines), (
                f"{page.name}: a python block that is not an embed:\n{body}"
            )


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_highlighted_lines_exist(page):
    for path, name, info in embeds(page):
        m = re.search(r'hl_lines="([^"]+)"', info)
        if not m:
            continue
        shown = (
            section(path.removeprefix("snippets/").removesuffix(".py"), name)
            if name
            else lessons.source(path.removeprefix("snippets/").removesuffix(".py"))
        )
        lines = shown.splitlines()
        for part in m.group(1).split():
            lo, _, hi = part.partition("-")
            for n in range(int(lo), int(hi or lo) + 1):
                assert 1 <= n <= len(lines), f"{page.name}: hl_lines {n} is past the end of {path}:{name}"
                assert lines[n - 1].strip() and not lines[n - 1].strip().startswith("#"), (
                    f"{page.name}: hl_lines {n} of {path}:{name} is blank or a comment"
                )


DOCTEST_PAGES = [p for p in PAGES if any(lang == "pycon" for lang, _, _ in blocks(p))]


@pytest.mark.parametrize("page", DOCTEST_PAGES, ids=ids(DOCTEST_PAGES))
def test_doctest_sessions_on_pages(page):
    """pycon sessions run in order, in the namespace of the lesson's setup section."""
    lesson = slug(page)
    globs = lessons.setup(lesson) if lesson in LESSONS and "setup" in section_names(lesson) else {}
    globs["__name__"] = "__page__"
    text = "\n".join(body for lang, _, body in blocks(page) if lang == "pycon")
    test = doctest.DocTestParser().get_doctest(text, globs, page.name, str(page), 0)
    assert test.examples, f"{page.name}: pycon blocks without >>> examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    result = runner.run(test, out=out.write)
    assert result.failed == 0, out.getvalue()
