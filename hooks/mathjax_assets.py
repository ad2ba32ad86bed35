"""Serve MathJax from the site itself: no CDN, works offline and in mainland China.

MathJax 3 comes from PyPI (the `django-static-mathjax` wheel, pinned in
pyproject.toml, which ships MathJax's es5 build and nothing else). This hook adds
the parts that `tex-chtml.js` loads to the site under `assets/mathjax/`, as if they
were files in `docs/`, so `mkdocs build` copies them and `mkdocs serve` serves them.
No copy of MathJax is committed to this repository.
"""

from pathlib import Path

import mathjax  # the django-static-mathjax wheel's package (this file must not be named mathjax.py)
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ES5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
DEST = "assets/mathjax"

# The component the pages load, and what it may fetch later from its own folder:
# fonts, TeX extensions (autoload), and the menu's accessibility tools.
PARTS = [
    "tex-chtml.js",
    "output/chtml/fonts/woff-v2",
    "input/tex/extensions",
    "ui",
    "a11y",
    "sre",
]


def mathjax_files() -> list[Path]:
    """Every MathJax file the site serves, as absolute paths."""
    found = []
    for part in PARTS:
        path = ES5 / part
        found += [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return found


# After mkdocs-static-i18n (priority 0), which rebuilds the file list per language
# and would drop files that do not come from docs/.
@event_priority(-100)
def on_files(files: Files, config) -> Files:
    for path in mathjax_files():
        uri = f"{DEST}/{path.relative_to(ES5).as_posix()}"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
