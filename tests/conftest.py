"""Fixtures, and the site lane's marker. Reading and running a lesson is lessons.py's job
(`import lessons`, at the repository root): tests import it, not this file.

The names below from `LESSONS` to `slug` are lessons.py's, re-exported for tests written
before it (`from conftest import section, run_section, ...`); new tests use lessons.py.
"""

import os

# One thread for NumPy's BLAS and for torch, here and in the scripts the tests start (they
# inherit it): in one process their two thread pools spin against each other, and on a busy
# 2-core machine a lesson's 500 steps then take a minute instead of a second. Set before
# NumPy or torch is imported; the numbers the pages state are the same on one thread.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# The scripts, builds and benchmarks the tests start import this checkout's lessons.py (as
# pytest's `pythonpath` does here), whichever checkout `pip install -e .` installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.environ.get("PYTHONPATH")])
)

import pytest  # noqa: E402

import lessons  # noqa: E402
from lessons import (  # noqa: E402
    DOCS,
    LESSONS,
    ROOT,
    SNIPPETS,
    lessons_with,
    pages,
    section,
    section_names,
    slug,
    uses_torch,
)

snippet_path = lessons.path

__all__ = [
    "DOCS",
    "LESSONS",
    "ROOT",
    "SNIPPETS",
    "lessons_with",
    "pages",
    "section",
    "section_names",
    "slug",
    "snippet_path",
    "uses_torch",
]


def run_section(lesson: str, name: str, namespace: dict) -> dict:
    """Execute a section of a snippet in `namespace`; its output is not captured (old name:
    use `lessons.run`)."""
    print(lessons.run(lesson, name, ns=namespace), end="")
    return namespace


def setup_namespace(lesson: str) -> dict:
    """The lesson's `setup` section run on the CPU, prints swallowed (old name: `lessons.setup`)."""
    return lessons.setup(lesson)


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


def pytest_addoption(parser):
    parser.addoption(
        "--lesson",
        action="append",
        default=[],
        metavar="NAME",
        help="only the tests about this lesson (snippets/NAME.py, docs/NAME.md): tests/test_NAME.py "
        "and every test whose parameters name it; repeatable",
    )


def about_lesson(item, lesson: str) -> bool:
    """tests/test_<lesson>.py, or a test parametrized with the lesson: its name (`[nn]`), its pages
    (`[nn.en.md]`), its exercises or equations (`[nn-ex1]`, `[nn-3]`)."""
    if item.path.name == f"test_{lesson}.py":
        return True
    params = getattr(item, "callspec", None)
    ids = params.id.split("-") if params else []
    values = [str(v) for v in params.params.values()] if params else []
    return any(v.split(".")[0] == lesson or v.split("/")[-1].split(".")[0] == lesson for v in ids + values)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if needs_the_site(item):
            item.add_marker(pytest.mark.site)
    chosen = config.getoption("lesson")
    if chosen:
        unknown = sorted(set(chosen) - set(LESSONS))
        if unknown:
            raise pytest.UsageError(f"--lesson: no such lesson {unknown}; the lessons are {LESSONS}")
        keep = [item for item in items if any(about_lesson(item, lesson) for lesson in chosen)]
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


def pytest_collection_finish(session):
    """The commands that tests mark `background` (the scripts, the benchmark's quick run, the
    lane's collections) start now, in the order the tests run, one at a time: they run on one
    core while the other tests run on the other (lessons.start)."""
    if session.config.option.collectonly:
        return
    for item in session.items:
        for mark in item.iter_markers("background"):
            lessons.start(*mark.args)


def pytest_sessionfinish(session):
    lessons.stop_started()  # a run stopped early (-x, Ctrl-C) doesn't wait for the rest
