"""Shared helpers: find lessons, pages and snippet sections the way the site does.

Lessons are found by globbing snippets/*.py; pages by globbing docs/*.md. No test
keeps a list of lessons or a copy of a snippet's code.
"""

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
DOCS = ROOT / "docs"

LESSONS = sorted(p.stem for p in SNIPPETS.glob("*.py"))

# The section marker syntax of pymdownx.snippets: "--8<-- [start:name]" anywhere in a line.
MARKER = re.compile(r"-{1,}8<-{1,}[ \t]+\[[ \t]*(start|end)[ \t]*:[ \t]*([a-z][-_0-9a-z]*)[ \t]*\]", re.I)


def snippet_path(lesson: str) -> Path:
    return SNIPPETS / f"{lesson}.py"


def section_names(lesson: str) -> set[str]:
    return {m.group(2) for m in MARKER.finditer(snippet_path(lesson).read_text(encoding="utf-8"))}


def section(lesson: str, name: str) -> str:
    """The source of one named section, as the page shows it: other markers dropped, dedented."""
    lines, inside, found = [], False, False
    for line in snippet_path(lesson).read_text(encoding="utf-8").splitlines():
        m = MARKER.search(line)
        if m and m.group(2) == name:
            if m.group(1) == "start":
                inside = found = True
                continue
            break
        if m:
            continue
        if inside:
            lines.append(line)
    if not found:
        raise KeyError(f"snippets/{lesson}.py has no section {name!r}")
    return textwrap.dedent("\n".join(lines)) + "\n"


def run_section(lesson: str, name: str, namespace: dict) -> dict:
    """Execute a section of a snippet in `namespace` (the page's code, run as shown)."""
    code = compile(section(lesson, name), f"snippets/{lesson}.py:{name}", "exec")
    exec(code, namespace)
    return namespace


def setup_namespace(lesson: str) -> dict:
    """A namespace holding what the lesson's `setup` section defines (its prints swallowed).

    Always on the CPU, even on a GPU machine: the pages' doctest outputs are the CPU's
    (CUDA draws other random numbers), and the cuda-marked tests run the scripts themselves.
    """
    import contextlib
    import io
    from unittest import mock

    ns: dict = {}
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
        if uses_torch(lesson):
            stack.enter_context(mock.patch("torch.cuda.is_available", return_value=False))
        run_section(lesson, "setup", ns)
    return ns


def uses_torch(lesson: str) -> bool:
    return re.search(r"^\s*import torch", snippet_path(lesson).read_text(encoding="utf-8"), re.M) is not None


def lessons_with(*names: str) -> list[str]:
    return [lesson for lesson in LESSONS if set(names) <= section_names(lesson)]


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_dir(slug_: str) -> str:
    """Where a page lives below its language's root: '' for the home page, else '<slug>/'."""
    return "" if slug_ == "index" else f"{slug_}/"


def notebook_dir(lesson: str) -> str:
    """Where a lesson's notebook page lives below its language's root (hooks/notebooks.py)."""
    return f"notebooks/{lesson}/"


def page_paths() -> list[str]:
    """Every page of the site below its root, in both languages ('', 'autograd/', 'en/', ...):
    the pages in docs/ and each lesson's notebook page."""
    dirs = sorted({page_dir(slug(p)) for p in pages()} | {notebook_dir(lesson) for lesson in LESSONS})
    return [prefix + d for prefix in ("", "en/") for d in dirs]


# The whole course on one page, per language (mkdocs-print-site-plugin, hooks/print_page.py)
PRINT_PAGES = ["print_page/", "en/print_page/"]


def notebook_hook():
    """hooks/notebooks.py as a module, for the notebooks it makes of the snippets."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks_hook", ROOT / "hooks" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slug(page: Path) -> str:
    """docs/autograd.en.md -> autograd"""
    return page.name.removesuffix(".md").removesuffix(".en")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """`mkdocs build --strict` of the real site into a temporary folder, once per run.

    Built for http://127.0.0.1:<port>/ (SITE_URL, see mkdocs.yml), a free port the
    browser tests then serve it on: instant navigation needs the right site_url.
    """
    import os
    import subprocess
    import sys

    port = free_port()
    site = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "SITE_URL": f"http://127.0.0.1:{port}/"},
    )
    return site, done, port


@pytest.fixture(scope="session")
def site_url(built_site):
    """The built site served on 127.0.0.1 at the port it was built for, like a static host:
    no directory listings. It answers with a `LinkChecker` header, which lets linkchecker
    send more than 10 requests a second (its default limit for hosts that don't)."""
    import functools
    import http.server
    import threading

    site, done, port = built_site
    assert done.returncode == 0, done.stdout + done.stderr

    class Handler(http.server.SimpleHTTPRequestHandler):
        def list_directory(self, path):
            self.send_error(404)

        def end_headers(self):
            self.send_header("LinkChecker", "allowed")
            super().end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Handler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()


# The site lane (`python -m pytest -m site`): every test that builds the site or reads the
# built one. These files build it (the `built_site` fixture, or `mkdocs build` of their own);
# any other test that asks for `built_site` or `site_url` joins them. The rest is the quick
# lane (`python -m pytest -m "not site"`): snippets, gradients, docs <-> snippets, claims.
SITE_TEST_FILES = {"test_site.py", "test_browser.py", "test_links.py", "test_notebooks.py"}
SITE_FIXTURES = {"built_site", "site_url"}


def needs_the_site(item) -> bool:
    return item.path.name in SITE_TEST_FILES or bool(SITE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if needs_the_site(item):
            item.add_marker(pytest.mark.site)
