"""The backward-pass diagram (docs/assets/backward.svg) says what the notation says.

Each box of the diagram is a rect followed by its texts: the symbol, then the shape. Every
gradient of the home page's notation table has a box, and each box's shape is the one the
table gives (tests/test_math.py checks the table against the arrays of a real step). The
pages that show the diagram give it an alt text in their language.
"""

import re
import xml.etree.ElementTree as ET

import pytest

import lessons
from lessons import CJK, DOCS

NOTATION = lessons.notation(DOCS / "index.en.md")  # the home page's table

SVG = DOCS / "assets" / "backward.svg"
NS = "{http://www.w3.org/2000/svg}"


def plain(tex: str) -> str:
    """The notation's LaTeX as the diagram writes it: '\\frac{\\partial L}{\\partial h_{\\text{relu}}}'
    -> '∂L/∂hrelu', 'N \\times D_{out}' -> 'N×Dout'."""
    tex = re.sub(r"\\frac\{\\partial L\}\{\\partial (.+)\}", r"∂L/∂\1", tex)
    tex = tex.replace(r"\hat{y}", "ŷ").replace(r"\times", "×")
    tex = re.sub(r"\\text\{(\w+)\}", r"\1", tex)
    return re.sub(r"[_{}\s]", "", tex)


def boxes() -> dict[str, str]:
    """{symbol: shape} for every box holding two texts."""
    found, texts = {}, None
    for el in ET.parse(SVG).getroot().iter():
        if el.tag == NS + "rect":
            texts = []
        elif el.tag == NS + "text" and texts is not None:
            texts.append("".join(el.itertext()).strip())
            if len(texts) == 2:
                found[texts[0]] = texts[1]
    return found


def test_every_gradient_has_a_box_with_its_shape():
    drawn = boxes()
    gradients = [symbol for symbol, code, _ in NOTATION if code.startswith("grad_")]
    assert len(gradients) == 5
    for symbol in gradients:
        assert plain(symbol) in drawn, f"no box for ${symbol}$ in {SVG.name}: {sorted(drawn)}"
    for symbol, _, shape in NOTATION:
        if plain(symbol) in drawn:
            assert drawn[plain(symbol)] == plain(shape), (
                f"{SVG.name}: ${symbol}$ is drawn {drawn[plain(symbol)]}"
            )


def test_the_diagram_loads_nothing():
    text = SVG.read_text(encoding="utf-8")
    assert not re.search(r"(?:href|src)\s*=", text) and "@import" not in text and "url(http" not in text


@pytest.mark.parametrize("slug", ["numpy_warmup", "autograd"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_pages_show_it_with_an_alt_text_in_their_language(slug, language):
    page = DOCS / (f"{slug}.md" if language == "zh" else f"{slug}.en.md")
    alts = re.findall(r"!\[(.*?)\]\(assets/backward\.svg\)", page.read_text(encoding="utf-8"))
    assert len(alts) == 1 and len(alts[0]) > 100, f"{page.name}: {alts}"
    assert bool(CJK.search(alts[0])) == (language == "zh"), (
        f"{page.name}: the alt text is not in its language"
    )
