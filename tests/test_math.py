"""The math on the pages is checked against the code, not only the code itself.

- The notation table on the home page (symbol <-> code variable <-> shape) is read from
  the page, in both languages, and its shapes are the shapes of the arrays a real step
  of each hand-written lesson makes.
- Every display equation ($$ ... $$) is the same LaTeX in 中文 and English; only words
  in \\text{...} are translated.
- A shape annotation written beside an equation, `(a \\times b)(c \\times d) \\to e \\times f`
  or a trailing `N \\times H`, agrees with the notation: its factors are the shapes of
  the equation's factors (a transpose swaps them), inner sizes match, and the result is
  the shape of the left side.
- When an equation is followed by an embedded section with `hl_lines`, the highlighted
  lines assign or update the variables that the equation's left sides name.

Equations whose symbols the notation does not define are counted and listed
(`pytest -s -k coverage`), not checked.
"""

import re

import numpy as np
import pytest

import lessons
from lessons import CJK, DOCS, LESSONS, notation, section, section_names

# A display equation: a line holding only $$, the LaTeX, a line holding only $$.
DISPLAY = re.compile(r"^[ \t]*\$\$[ \t]*\n(?P<tex>.*?)\n[ \t]*\$\$[ \t]*$", re.S | re.M)
# An embed with highlighted lines: ```python ... hl_lines="..." then --8<-- "path:section"
HL_EMBED = re.compile(
    r'^[ \t]*```[^\n]*hl_lines="(?P<hl>[^"]+)"[^\n]*\n'
    r'[ \t]*-{1,}8<-{1,}[ \t]+"snippets/(?P<lesson>\w+)\.py:(?P<sec>[-\w]+)"',
    re.M,
)
HEADING = re.compile(r"^#+ ", re.M)
TEXT = re.compile(r"\\text\{([^{}]*)\}")

LESSON_PAGES = sorted(p for p in DOCS.glob("*.en.md"))


def zh_of(en_page):
    return en_page.with_name(en_page.name.removesuffix(".en.md") + ".md")


def squash(tex: str) -> str:
    """LaTeX with spacing commands and white space dropped, for comparing."""
    return re.sub(r"\\[,;!]|\\q?quad|\s+", "", tex)


def displays(page) -> list[str]:
    return [m["tex"] for m in DISPLAY.finditer(page.read_text(encoding="utf-8"))]


# --- the notation ---------------------------------------------------------------------------------

NOTATION = notation(DOCS / "index.en.md")
SYMBOL = {squash(symbol): code for symbol, code, _ in NOTATION}  # squashed LaTeX -> variable
SHAPE = {squash(symbol): shape for symbol, _, shape in NOTATION}


def test_the_notation_table_is_read():
    assert len(NOTATION) >= 10 and {"x", "w1", "grad_w1", "loss", "lr"} <= {c for _, c, _ in NOTATION}


def test_the_notation_is_the_same_in_both_languages():
    zh = [(s, c, shape if "\\times" in shape else "scalar") for s, c, shape in notation(DOCS / "index.md")]
    en = [(s, c, shape if "\\times" in shape else "scalar") for s, c, shape in NOTATION]
    assert zh == en


def dims(shape: str) -> tuple[str, ...]:
    """'N \\times D_{out}' -> ('N', 'D_out'); a scalar -> ()."""
    if "\\times" not in shape:
        return ()
    return tuple(part.strip().replace("{", "").replace("}", "") for part in shape.split("\\times"))


# The lessons whose backward pass is written by hand (it assigns grad_w1 itself).
HAND_WRITTEN = [
    lesson
    for lesson in LESSONS
    if {"setup", "forward", "loss", "backward"} <= section_names(lesson)
    and re.search(r"^grad_w1 = ", section(lesson, "backward"), re.M)
]


@pytest.mark.parametrize("lesson", HAND_WRITTEN)
def test_notation_shapes_are_the_arrays_shapes(lesson):
    """One real step of the lesson (setup, forward, loss, backward as the pages show them)."""
    ns = lessons.setup(lesson)
    ns["t"] = 0
    ns["losses"] = []
    lessons.run(lesson, "forward", "loss", "backward", ns=ns)
    checked = 0
    for symbol, code, shape in NOTATION:
        if code not in ns:
            continue
        want = tuple(ns[d] for d in dims(shape))
        got = tuple(np.shape(ns[code])) if not hasattr(ns[code], "shape") else tuple(ns[code].shape)
        assert got == want, f"notation: ${symbol}$ (`{code}`) is written {shape}, but {lesson} makes {got}"
        checked += 1
    assert checked >= 12, f"{lesson}: only {checked} notation rows found in the run"


# --- both languages say the same math ---------------------------------------------------------------


def same_math(zh: str, en: str) -> str | None:
    """None if the two equations are the same LaTeX but for translated words in \\text{}."""
    zh_words, en_words = TEXT.findall(zh), TEXT.findall(en)
    if len(zh_words) != len(en_words):
        return "a different number of \\text{} parts"
    for a, b in zip(zh_words, en_words):
        if a != b and not CJK.search(a):
            return f"\\text{{{a}}} vs \\text{{{b}}}"
    if squash(TEXT.sub("", zh)) != squash(TEXT.sub("", en)):
        return "different LaTeX"
    return None


@pytest.mark.parametrize("page", LESSON_PAGES, ids=[p.name.removesuffix(".en.md") for p in LESSON_PAGES])
def test_display_equations_are_the_same_in_both_languages(page):
    zh, en = displays(zh_of(page)), displays(page)
    assert len(zh) == len(en), f"{zh_of(page).name} has {len(zh)} display equations, {page.name} {len(en)}"
    for i, (a, b) in enumerate(zip(zh, en), 1):
        why = same_math(a, b)
        assert why is None, f"{page.name}: display equation {i} differs from the 中文 one ({why}):\n{a}\n{b}"


# --- shapes written beside equations ----------------------------------------------------------------


def relations(tex: str) -> list[str]:
    """Each relation of a display equation: the lines of an aligned block, split at \\qquad
    separators that stand between two relations."""
    tex = re.sub(r"\\(begin|end)\{aligned\}", "", tex)
    found = []
    for line in re.split(r"\\\\", tex):
        found += [part for part in re.split(r",\s*\\qquad", line) if part.strip()]
    return found


# A relation: left side, = or \leftarrow, right side, and an optional shape annotation.
ANNOTATION = re.compile(
    r"(?:&&|\\qquad)\s*(?P<note>(?:\([^()]*\\times[^()]*\))+\s*\\to\s*[^&]+|[^&]*?\\times[^&]*?|\\text\{[^}]*\}[^&]*)$"
)
FACTOR = re.compile(r"\(([^()]*)\)")


def split_relation(rel: str):
    rel = rel.replace("&", " ").strip() if "&&" not in rel else rel.strip()
    note = None
    if m := ANNOTATION.search(rel):
        note = m["note"].strip()
        rel = rel[: m.start()]
    left, sep, right = (
        re.split(r"(=|\\leftarrow)", rel.replace("&", ""), maxsplit=1)
        if re.search(r"=|\\leftarrow", rel)
        else (rel, "", "")
    )
    return left.strip(), right.strip(), note


def factors(right: str) -> list[tuple[str, bool]] | None:
    """The right side as a product of notation symbols, each maybe transposed; None if it is not one."""
    rest, found = squash(right), []
    symbols = sorted(SYMBOL, key=len, reverse=True)
    while rest:
        for s in symbols:
            if rest.startswith(s):
                rest = rest[len(s) :]
                transposed = rest.startswith("^\\top")
                rest = rest.removeprefix("^\\top")
                found.append((s, transposed))
                break
        else:
            return None
    return found


def shape_of(symbol: str, transposed: bool) -> tuple[str, ...]:
    d = dims(SHAPE[symbol])
    return d[::-1] if transposed else d


def annotated_equations():
    for page in sorted(DOCS.glob("*.md")):
        for i, tex in enumerate(displays(page), 1):
            for rel in relations(tex):
                left, right, note = split_relation(rel)
                if note and "\\times" in note and squash(left) in SHAPE:
                    yield pytest.param(page, i, left, right, note, id=f"{page.name}-{i}-{squash(left)[:30]}")


@pytest.mark.parametrize("page, i, left, right, note", list(annotated_equations()))
def test_shape_annotations_agree_with_the_notation(page, i, left, right, note):
    where = f"{page.name}, display equation {i}: ${left} = {right}$ is annotated {note!r}"
    result = note.split("\\to")[-1]
    result = re.sub(r"\\text\{[^}]*\}\s*", "", result).strip(" ,，")
    assert dims(result) == dims(SHAPE[squash(left)]), f"{where}, but the notation says {SHAPE[squash(left)]}"
    product = [dims(f) for f in FACTOR.findall(note.split("\\to")[0])] if "\\to" in note else []
    if product:
        for a, b in zip(product, product[1:]):
            assert a[-1] == b[0], f"{where}: the inner sizes {a} and {b} don't match"
        assert (product[0][0], product[-1][-1]) == dims(result), f"{where}: the product is not {result}"
        parts = factors(right)
        if parts is not None and len(parts) == len(product):
            for (symbol, transposed), shape in zip(parts, product):
                written = f"${symbol}{'^T' if transposed else ''}$"
                assert shape_of(symbol, transposed) == shape, (
                    f"{where}: the factor {written} is {shape_of(symbol, transposed)}"
                )


def test_the_transposes_of_the_warm_up_are_checked():
    """The gradient equations of the warm-up are among the annotated ones, factors and all."""
    checked = {squash(p.values[2]) for p in annotated_equations() if p.values[0].name == "numpy_warmup.en.md"}
    assert {squash(r"\frac{\partial L}{\partial w_2}"), squash(r"\frac{\partial L}{\partial w_1}")} <= checked


# --- highlighted lines ------------------------------------------------------------------------------


def equations_then_highlights(page):
    """(equation number, LaTeX, hl_lines, lesson, section) for each equation that an embed with
    highlighted lines follows, with no heading and no other equation between them."""
    text = page.read_text(encoding="utf-8")
    events = [(m.start(), "eq", m) for m in DISPLAY.finditer(text)]
    events += [(m.start(), "hl", m) for m in HL_EMBED.finditer(text)]
    events += [(m.start(), "h", m) for m in HEADING.finditer(text)]
    last, number = None, 0
    for _, kind, m in sorted(events, key=lambda e: e[0]):
        if kind == "eq":
            number += 1
            last = (number, m["tex"])
        elif kind == "h":
            last = None
        elif last:
            yield (*last, m["hl"], m["lesson"], m["sec"])
            last = None


def left_variables(tex: str) -> list[str] | None:
    """The code variables the equation's left sides name; None if the notation lacks one."""
    names = []
    for rel in relations(tex):
        left, right, _ = split_relation(rel)
        if not right:
            continue
        code = SYMBOL.get(squash(left))
        if code is None:
            return None
        names.append(code)
    return names or None


def hl_numbers(spec: str) -> list[int]:
    out = []
    for part in spec.split():
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def pairs():
    for page in sorted(DOCS.glob("*.md")):
        for number, tex, hl, lesson, sec in equations_then_highlights(page):
            names = left_variables(tex)
            if names:
                yield pytest.param(page, number, tex, hl, lesson, sec, names, id=f"{page.name}-{number}")


PAIRS = list(pairs())


def assignment(name: str) -> re.Pattern:
    """A line that assigns or updates `name` (`name = `, `name -= `, `name[mask] = `)."""
    return re.compile(rf"^{name}\b(\[[^\]]*\])?\s*([-+*/]?=)(?!=)")


@pytest.mark.parametrize("page, number, tex, hl, lesson, sec, names", PAIRS)
def test_highlighted_lines_compute_the_equation(page, number, tex, hl, lesson, sec, names):
    """Each left side that the section computes is on a highlighted line, and no highlighted
    line computes another variable of the notation (the line of a different equation)."""
    lines = [line.strip() for line in section(lesson, sec).splitlines()]
    shown = {n: lines[n - 1] for n in hl_numbers(hl)}
    where = f"{page.name}, display equation {number} (${' '.join(tex.split())[:80]}$), {lesson}.py:{sec}"
    computed = [name for name in names if any(assignment(name).match(line) for line in lines)]
    assert computed, f"{where}: the section computes none of {names}"
    for name in computed:
        at = [n for n, line in enumerate(lines, 1) if assignment(name).match(line)]
        assert any(assignment(name).match(line) for line in shown.values()), (
            f"{where}: `{name}` is computed on line {at}, but the highlighted lines are {list(shown.items())}"
        )
    others = set(SYMBOL.values()) - set(names)
    for n, line in shown.items():
        wrong = [o for o in others if assignment(o).match(line)]
        assert not wrong, f"{where}: highlighted line {n} `{line}` computes {wrong}, not {names}"


def test_the_warm_ups_highlights_are_checked():
    assert sum(p.values[0].name == "numpy_warmup.en.md" for p in PAIRS) >= 5


def test_coverage(capsys):
    """Prints, per page, how many display equations each check reads (pytest -s -k coverage)."""
    annotated = {}
    for p in annotated_equations():
        annotated.setdefault(p.values[0].name, set()).add(p.values[1])
    highlighted = {}
    for p in PAIRS:
        highlighted.setdefault(p.values[0].name, set()).add(p.values[1])
    with capsys.disabled():
        print("\npage: display equations; with a checked shape annotation; with a checked highlight")
        for page in sorted(DOCS.glob("*.md")):
            n = len(displays(page))
            if n:
                a, h = len(annotated.get(page.name, ())), len(highlighted.get(page.name, ()))
                print(f"  {page.name}: {n}; {a}; {h}")
