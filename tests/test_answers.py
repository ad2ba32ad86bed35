"""Answers the pages give to the questions readers ask, checked against a run, and the
house style of the Chinese pages (their quotation marks, the name of the notation table)."""

import re

import numpy as np
import pytest
import torch

from conftest import DOCS, run_section, section, setup_namespace

# --- numpy_warmup: why w2.T and not grad_w2.T ---------------------------------------------------

RIGHT, WRONG = "grad_y_pred.dot(w2.T)", "grad_y_pred.dot(grad_w2.T)"
GRADIENTS = ("grad_y_pred", "grad_w2", "grad_h_relu", "grad_h", "grad_w1")


def warmup_backward(change: tuple[str, str] | None = None) -> dict:
    """The warm-up's forward and backward sections on its own data in float64, with an optional
    one-line change (old, new) to the backward section."""
    ns = setup_namespace("numpy_warmup")
    for name in ("x", "y", "w1", "w2"):
        ns[name] = np.asarray(ns[name], dtype=np.float64)
    run_section("numpy_warmup", "forward", ns)
    code = section("numpy_warmup", "backward")
    if change:
        assert code.count(change[0]) == 1, f"the backward section has no single {change[0]!r}"
        code = code.replace(*change)
    exec(compile(code, "snippets/numpy_warmup.py:backward", "exec"), ns)
    return ns


def rel_err(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_grad_w2_T_passes_the_shape_check_but_fails_the_gradient_check():
    """numpy_warmup#grad-h-relu: grad_w2.T is D_out x H like w2.T, so with it every gradient
    keeps its shape; but only w2.T gives autograd's gradients."""
    right, wrong = warmup_backward(), warmup_backward((RIGHT, WRONG))
    assert right["grad_w2"].T.shape == right["w2"].T.shape
    for name in GRADIENTS:
        assert wrong[name].shape == right[name].shape, name

    x, y = (torch.from_numpy(right[k]) for k in ("x", "y"))
    w1, w2 = (torch.from_numpy(right[k].copy()).requires_grad_() for k in ("w1", "w2"))
    h_relu = x.mm(w1).clamp(min=0)
    h_relu.retain_grad()
    (h_relu.mm(w2) - y).pow(2).sum().backward()
    expected = {"grad_h_relu": h_relu.grad, "grad_w1": w1.grad, "grad_w2": w2.grad}
    for name, grad in expected.items():
        assert rel_err(right[name], grad.numpy()) < 1e-6, name
    assert rel_err(wrong["grad_w2"], w2.grad.numpy()) < 1e-6  # computed before the swapped line
    for name in ("grad_h_relu", "grad_w1"):
        assert rel_err(wrong[name], expected[name].numpy()) > 0.5, name


# --- the Chinese pages: one style of quotation marks, one name for the notation table -----------

ZH_PAGES = sorted(p for p in DOCS.glob("*.md") if not p.name.endswith(".en.md"))
EN_PAGES = sorted(DOCS.glob("*.en.md"))

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?:.*?)^(?P=indent)(?P=fence)[ \t]*$", re.M | re.S
)
NOT_PROSE = [
    FENCE,  # code blocks, also indented ones inside admonitions and tabs
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"(`+)(?:(?!\1).)+?\1"),  # code spans
    re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$"),  # inline math
    re.compile(r"<[^>\n]+>"),  # HTML tags and their attributes
    re.compile(r"^[ \t]*(?:!!!|\?\?\?\+?|===)[^\n]*$", re.M),  # admonition and tab titles: "..." is syntax
    re.compile(r"\{[^}\n]*\}"),  # attribute lists: { #id data-toc-label="..." }
]
WESTERN_QUOTES = re.compile(r"[\"“”]")


def prose(text: str) -> str:
    """The page's text with code, math, HTML and Markdown syntax blanked out, lines kept."""
    for pattern in NOT_PROSE:
        text = pattern.sub(lambda m: "\n" * m.group().count("\n"), text)
    return text


def test_prose_finds_quotes_only_outside_code_math_and_markup():
    page = (
        '!!! tip "标题"\n'
        '    见 `a = "x"`、$\\text{"a"}$、<span data-claim="n">1</span>，"错"。\n'
        '```py\n"b"\n```\n'
    )
    assert WESTERN_QUOTES.findall(prose(page)) == ['"', '"']


@pytest.mark.parametrize("page", ZH_PAGES, ids=lambda p: p.name)
def test_chinese_prose_quotes_with_corner_brackets(page):
    """Chinese prose quotes with 「」, never with straight "" or curly “” (code, math, HTML
    attributes and Markdown syntax keep their own)."""
    lines = prose(page.read_text(encoding="utf-8")).splitlines()
    wrong = [
        f"{page.name}:{n}: {line.strip()[:80]}"
        for n, line in enumerate(lines, 1)
        if WESTERN_QUOTES.search(line)
    ]
    assert not wrong, "use 「」 in Chinese prose:\n" + "\n".join(wrong)


NOTATION_HEADING = re.compile(r"^#+\s+(?P<name>.+?)\s*\{\s*#notation\s*\}", re.M)
NOTATION_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\(index\.md#notation\)")


@pytest.mark.parametrize(
    "home, pages, words", [("index.md", ZH_PAGES, "首页的"), ("index.en.md", EN_PAGES, " on the home page")]
)
def test_the_notation_table_has_one_name(home, pages, words):
    """The home page's notation table goes by one name: its heading's, in every link to it."""
    heading = NOTATION_HEADING.search((DOCS / home).read_text(encoding="utf-8"))["name"]
    names = {
        (page.name, m["text"].replace(words, "").strip())
        for page in pages
        for m in NOTATION_LINK.finditer(page.read_text(encoding="utf-8"))
    }
    assert len(names) >= 5, names
    wrong = sorted(f"{page}: {name}" for page, name in names if not name.lower().startswith(heading.lower()))
    assert not wrong, f"the table is called {heading!r} on {home}, but:\n" + "\n".join(wrong)
    assert len({name for _, name in names}) == 1, sorted(names)
