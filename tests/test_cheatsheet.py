"""The NumPy <-> PyTorch cheat sheet (docs/cheatsheet.md, docs/cheatsheet.en.md) stays
true: every piece of code in it is found, verbatim, in the snippet of a lesson its row
links to, and the two languages list the same rows."""

import re

import pytest

import lessons
from lessons import DOCS, LESSONS

PAGES = [DOCS / "cheatsheet.md", DOCS / "cheatsheet.en.md"]
CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\]\((\w+)\.md(?:#[\w-]+)?\)")


def rows(page):
    """(NumPy code, PyTorch code, linked lessons) for each row of the page's tables."""
    found = []
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 4 or set(cells[1]) <= set("-: "):
            continue
        if not CODE.search(cells[1] + cells[2]):  # the header row
            continue
        found.append((CODE.findall(cells[1]), CODE.findall(cells[2]), LINK.findall(cells[3])))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_code_cell_is_in_a_linked_lesson(page):
    table = rows(page)
    assert len(table) >= 20, f"only {len(table)} rows found in {page.name}"
    for numpy_code, torch_code, linked in table:
        assert linked, f"a row links to no lesson: {numpy_code} {torch_code}"
        assert all(lesson in LESSONS for lesson in linked), linked
        sources = "\n".join(lessons.source(lesson) for lesson in linked)
        numpy_source = lessons.source("numpy_warmup") + sources
        for code in torch_code:
            assert code in sources, f"{page.name}: `{code}` is not in {linked}"
        for code in numpy_code:
            assert code in numpy_source, f"{page.name}: `{code}` is not in numpy_warmup or {linked}"


def test_both_languages_list_the_same_rows():
    zh, en = (rows(page) for page in PAGES)
    assert zh == en


def test_every_lesson_is_in_the_cheat_sheet():
    linked = {lesson for _, _, row_lessons in rows(PAGES[0]) for lesson in row_lessons}
    assert linked == set(LESSONS), set(LESSONS) ^ linked
