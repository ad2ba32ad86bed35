"""hooks/math_render.py: formulas typeset by MathJax at build time, without building the site.

The built site's math is checked by tests/test_site.py (every formula arrives rendered, no
page loads MathJax) and tests/test_browser.py (each formula shows once, fits a phone, and
screen readers get MathML); here, the hook's own parts, quickly: a bad formula fails the
build naming the page and the formula, the cache, the stacked version of wide formulas.
"""

import importlib.util
import subprocess
import types

import pytest
from mkdocs.exceptions import PluginError

from conftest import ROOT


@pytest.fixture
def hook(tmp_path, monkeypatch):
    """The hook as MkDocs loads it, with its cache in a temporary folder."""
    spec = importlib.util.spec_from_file_location("math_render", ROOT / "hooks" / "math_render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE", tmp_path / "cache" / "formulas.json")
    return module


def build(hook, site, pages: dict[str, str]) -> dict[str, str]:
    """Write the pages into `site`, run the hook's on_post_build on them, read them back."""
    for name, body in pages.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    hook.on_post_build(types.SimpleNamespace(site_dir=str(site), plugins={}))
    return {name: (site / name).read_text(encoding="utf-8") for name in pages}


def test_formulas_become_mathjax_output_with_mathml(hook, tmp_path):
    page = (
        '<p>the input <span class="arithmatex">\\(x\\)</span> is</p>'
        '<div class="arithmatex">\\[h = x\\,w_1\\]</div>'
        '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">'
        "<p>$$L = \\sum_{i} y_i$$ and $a &lt; b$, but not <code>$HOME$</code></p></div>"
    )
    out = build(hook, tmp_path / "site", {"index.html": page})["index.html"]
    assert out.count("<mjx-container") == 4  # two on the lesson's part, two in the cell
    assert out.count("<mjx-assistive-mml") == 4 and "<math" in out
    assert 'data-tex="\\(x\\)"' in out and 'data-tex="\\(a &lt; b\\)"' in out
    assert "<code>$HOME$</code>" in out  # a dollar in code is not math
    css = (tmp_path / "site" / hook.STYLESHEET).read_text(encoding="utf-8")
    assert "MathJax_Main-Regular.woff" in css and "mjx-c.mjx-c1D465" in css  # the font, and x's glyph


@pytest.mark.parametrize("tex", ["\\frac{a", "\\undefinedmacro{x}"])
def test_a_bad_formula_fails_the_build_naming_page_and_formula(hook, tmp_path, tex):
    good = '<span class="arithmatex">\\(x\\)</span>'
    bad = f'<div class="arithmatex">\\[{tex}\\]</div>'
    with pytest.raises(PluginError) as error:
        build(hook, tmp_path / "site", {"ok/index.html": good, "lesson/index.html": bad})
    message = str(error.value)
    assert "lesson/index.html" in message and f"${tex}$" in message and "ok/index.html" not in message


def test_a_second_build_is_served_from_the_cache(hook, tmp_path, monkeypatch):
    page = {"index.html": '<span class="arithmatex">\\(y = x^2\\)</span>'}
    first = build(hook, tmp_path / "one", page)

    def no_node(*args, **kwargs):
        raise AssertionError("Node was started for a formula in the cache")

    monkeypatch.setattr(subprocess, "run", no_node)
    assert build(hook, tmp_path / "two", page) == first
    with pytest.raises(AssertionError, match="Node was started"):  # a new formula needs Node
        build(hook, tmp_path / "three", {"index.html": '<span class="arithmatex">\\(z\\)</span>'})


def test_building_twice_over_the_same_pages_changes_nothing(hook, tmp_path):
    tex = "\\begin{aligned} a &= b && (N \\times H)(H \\times N) \\to N \\times N \\end{aligned}"
    page = {"index.html": f'<div class="arithmatex">\\[{tex}\\]</div>'}
    once = build(hook, tmp_path / "site", page)
    hook.on_post_build(types.SimpleNamespace(site_dir=str(tmp_path / "site"), plugins={}))
    assert (tmp_path / "site" / "index.html").read_text(encoding="utf-8") == once["index.html"]


def test_a_formula_is_broken_into_lines_for_a_narrow_screen(hook):
    def lines(tex, level=1):
        broken = hook.stacked(tex, level)
        assert broken.startswith("\\begin{aligned}") and broken.endswith("\\end{aligned}"), broken
        return [
            row.strip()
            for row in broken.removeprefix("\\begin{aligned}").removesuffix("\\end{aligned}").split("\\\\")
        ]

    # a shape annotation beside each relation of an aligned block goes under it
    aligned = (
        "\\begin{aligned}\nh &= x\\,w_1 && (N \\times D_{in})(D_{in} \\times H) \\to N \\times H \\\\\n"
        "z &= h\n\\end{aligned}"
    )
    assert lines(aligned) == [
        "h &= x\\,w_1",
        "&\\quad  (N \\times D_{in})(D_{in} \\times H) \\to N \\times H",
        "z &= h",
    ]
    # what follows a \qquad, and each "=" of a chain, start a line; "i.e." goes with what follows
    assert lines("a = b \\qquad c = d = e") == ["a &= b", "c &= d", "&= e"]
    assert lines("a = b,\n\\qquad\\text{i.e.}\\qquad\nc = d") == ["a &= b,", "\\text{i.e.}\\ \nc &= d"]
    assert lines("G = h^\\top g \\qquad (H \\times N)(N \\times D) \\to H \\times D") == [
        "G &= h^\\top g",
        "& (H \\times N)(N \\times D) \\to H \\times D",
    ]
    # level 2 also breaks a long right side at its middle + or - (not at a sign, nor inside braces)
    assert hook.stacked("L = a + b + c + d") is None
    assert lines("L = a + b + c + d", 2) == ["L &= a + b", "&\\quad + c + d"]
    assert lines("L = -a + \\frac{b + c}{2}", 2) == ["L &= -a", "&\\quad + \\frac{b + c}{2}"]
    # nothing to break: no version
    assert hook.stacked("x_{a \\qquad b}") is None
    assert hook.stacked("\\begin{aligned} a &= b \\end{aligned}") is None


def test_a_wide_formula_gets_both_versions_and_its_container_query(hook, tmp_path):
    tex = (
        "\\frac{\\partial L}{\\partial w_2} = h_{\\text{relu}}^\\top G"
        " \\qquad (H \\times N)(N \\times D_{out}) \\to H \\times D_{out}"
    )
    out = build(hook, tmp_path / "site", {"index.html": f'<div class="arithmatex">\\[{tex}\\]</div>'})
    html = out["index.html"]
    assert html.count("<mjx-container") == 2 and "math-wide" in html and "math-narrow" in html
    (fits,) = __import__("re").findall(r"math-fits-(\d+)", html)
    css = (tmp_path / "site" / hook.STYLESHEET).read_text(encoding="utf-8")
    assert f"@container (max-width: {fits}em)" in css
    assert 15 < int(fits) < 40  # MathJax's width of it, in em of the text
