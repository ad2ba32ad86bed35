"""Every snippet is also a notebook page: executed at build time, rendered by mkdocs-jupyter.

The snippets are jupytext "percent" scripts (`# %%` starts a cell), so the notebook is
the snippet file itself. Around mkdocs-jupyter and mkdocs-static-i18n this hook does:

1. on_files, before i18n: add a page `notebooks/<lesson>.md` for every
   `snippets/<lesson>.py`. A `.md` name under docs/ makes it a page to mkdocs and to
   i18n, so it exists in both languages (the English build falls back to it); i18n
   treats `.py` files as assets and drops pages from outside docs/.
2. on_config: start executing, in a background thread, every snippet not in the cache
   (.cache/notebooks/, keyed on the snippet's content): all of them in one kernel, one
   after another, so `import torch` happens once; a cell that raises fails the build.
   MkDocs meanwhile reads and renders the other pages. on_files, after i18n: point each
   page at its executed `.ipynb`; on_pre_page of a notebook page waits for that one.
   mkdocs-jupyter renders pages whose source matches its `include` pattern; its
   `include_source` copies that `.ipynb` next to the page as the download.
   NOTEBOOK_EXECUTE=false skips running them (pages then show code without outputs).
3. on_page_content: drop the ~590 KB of CSS and the scripts nbconvert inlines into each
   page (stylesheets/notebook.css styles cells in both palettes instead), and put a
   header above the notebook: the lesson page, the downloads, Colab; its "edit this
   page" link leads to the snippet. Notebook pages stay out of the search index (the
   lesson pages hold the same code).
   on_post_page copies the snippet next to the page as the `.py` download.

We execute here rather than with mkdocs-jupyter's `execute: true`, which starts a
kernel per notebook and waits seconds for each to shut down: with `import torch` in
each (3.5 s on a 2-core machine), a cold build took a minute. Kernels in parallel did
not help on 2 cores, and with one thread each, torch's sums (so the printed losses)
differ in the last digits from the script's.

Covered by tests/test_notebooks.py. Relies on mkdocs-jupyter 0.26 and
mkdocs-static-i18n 1.3 (pinned in pyproject.toml).
"""

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import jupytext
import nbclient
import nbformat
from jupyter_client import KernelManager
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.utils import get_relative_url

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
CACHE = ROOT / ".cache" / "notebooks"
DEST = "notebooks"  # snippets/<lesson>.py -> the page notebooks/<lesson>/

# The header above each notebook, in the page's language. {lesson}: the lesson page's URL,
# relative to the notebook page; {name}: the lesson's name; {colab}: the Colab button.
HEADER = {
    "zh": (
        '<div class="admonition info notebook-header">'
        '<p class="admonition-title">这是 <code>snippets/{name}.py</code> 的运行结果</p>'
        "<p>下面每个单元格的输出，都是构建本站时把这个文件当作 notebook 运行一遍得到的。"
        '代码的讲解见<a href="{lesson}">课程页面</a>。</p>'
        '<p><a class="md-button" href="{name}.ipynb" download>下载 .ipynb</a> '
        '<a class="md-button" href="{name}.py" download>下载 .py</a>{colab}</p>'
        "</div>"
    ),
    "en": (
        '<div class="admonition info notebook-header">'
        '<p class="admonition-title">This is <code>snippets/{name}.py</code>, run</p>'
        "<p>Every output below comes from running this file as a notebook when the site was built. "
        'The <a href="{lesson}">lesson page</a> explains the code.</p>'
        '<p><a class="md-button" href="{name}.ipynb" download>Download .ipynb</a> '
        '<a class="md-button" href="{name}.py" download>Download .py</a>{colab}</p>'
        "</div>"
    ),
}
COLAB = {"zh": "在 Colab 中打开", "en": "Open in Colab"}

MARKER = re.compile(r"\s*# --8<-- ")

# What nbconvert's template inlines: <style> blocks (JupyterLab's whole stylesheet,
# Pygments) and <script> blocks (a copy-button element and a MathJax 2 loader).
INLINED = re.compile(r"<(style|script)\b[^>]*>.*?</\1>", re.S)
# Its copy button (a custom element whose script we drop) and the hidden copy of each
# cell's source it copies from, which search would index a second time.
COPY_WIDGET = re.compile(
    r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>'
    r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>',
    re.S,
)
# A code cell's <pre>: wrapped in <code> it is a code block to Material, which gives it
# its copy button (content.code.copy), as on every other page.
CODE_CELL = re.compile(r'(<div class="highlight-ipynb[^"]*"><pre>)<span></span>(.*?)</pre>', re.S)


def lesson_of(file) -> str | None:
    """The lesson's name if this file is a notebook page, else None."""
    m = re.fullmatch(rf"{DEST}/(\w+)\.md", file.src_uri)
    return m.group(1) if m else None


def notebook_path(snippet: Path, execute: bool) -> Path:
    """Where the snippet's .ipynb is cached: keyed on its content and on whether it runs."""
    key = hashlib.sha256(snippet.read_bytes() + f"execute={execute}".encode()).hexdigest()[:16]
    return CACHE / key / f"{snippet.stem}.ipynb"


def as_notebook(snippet: Path):
    """The snippet as a notebook, without the `# --8<--` lines that mark the pages' sections."""
    notebook = jupytext.read(snippet)
    for cell in notebook.cells:
        cell.source = "\n".join(line for line in cell.source.split("\n") if not MARKER.match(line))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


# Before each snippet: delete every name the previous snippets defined, so each runs in
# the namespace a fresh `python snippets/<lesson>.py` has. What `%reset -f` does to the
# namespace, without its gc.collect() (0.5 s each time once torch is imported).
RESET = (
    "[get_ipython().user_ns.pop(name) for name in list(get_ipython().user_ns)"
    " if name not in get_ipython().user_ns_hidden];"  # ";": no output, nothing kept in Out
)


def run_notebooks(snippets: list[Path], targets: list[Path], kernel: KernelManager | None = None) -> None:
    """Run each snippet as a notebook, one after another, in one kernel started in the
    repository root (as `python snippets/<lesson>.py` runs), and write each as soon as
    it has run. A first cell empties the namespace; sharing the kernel saves its start
    and `import torch` per notebook."""
    kernel = kernel or KernelManager(kernel_name="python3")
    # The kernel's own log (e.g. ipykernel's warning that it talks TCP on 127.0.0.1) goes
    # to a file, not into the build's output; it is shown only if running a notebook fails.
    with tempfile.TemporaryFile("w+") as log:
        kernel.start_kernel(cwd=str(ROOT), stderr=log)
        try:
            for snippet, target in zip(snippets, targets, strict=True):
                notebook = as_notebook(snippet)
                notebook.cells.insert(0, nbformat.v4.new_code_cell(RESET))
                try:
                    nbclient.NotebookClient(
                        notebook, km=kernel, timeout=600, allow_errors=False, coalesce_streams=True
                    ).execute()
                except Exception as error:
                    log.seek(0)
                    kernel_log = log.read()[-3000:]
                    raise RuntimeError(
                        f"snippets/{snippet.name}, run as a notebook, raised:\n{error}\n"
                        f"The kernel's log:\n{kernel_log}"
                    ) from error
                del notebook.cells[0]
                write(notebook, target)
        finally:
            kernel.shutdown_kernel(now=True)


def write(notebook, target: Path) -> None:
    """Number the cells from 1, as if the notebook had run alone in its kernel, and
    write it in one step: the build may be waiting to read it (on_pre_page)."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(target)


def executing() -> bool:
    return os.environ.get("NOTEBOOK_EXECUTE", "true").lower() not in ("false", "0", "no")


class Background(threading.Thread):
    """run_notebooks in a thread: the kernel runs the snippets while MkDocs reads and
    renders the other pages. join() re-raises, in the build, what the run raised."""

    def __init__(self, snippets: list[Path], targets: list[Path]):
        super().__init__(daemon=True)
        self.snippets, self.targets, self.error = snippets, targets, None
        # Looking up the kernel imports IPython: here, not in the thread, where the build
        # (matplotlib, in hooks/bench_plots.py) could meet it half-imported.
        self.kernel = KernelManager(kernel_name="python3")
        assert self.kernel.kernel_spec
        self.start()

    def run(self):
        try:
            run_notebooks(self.snippets, self.targets, self.kernel)
        except BaseException as error:  # re-raised by join(), in the build
            self.error = error

    def join(self, timeout=None, reraise=True):
        super().join(timeout)
        if reraise and self.error is not None:
            raise self.error

    def wait_for(self, target: Path) -> None:
        """Until this notebook is written (or the run has ended, with its error)."""
        while not target.exists() and self.is_alive():
            time.sleep(0.05)
        if not target.exists():
            self.join()


running: Background | None = None


def on_config(config):
    """As early as the build allows: start running the snippets not yet in the cache."""
    global running
    if running is not None:  # mkdocs serve: a build that failed before its notebook pages
        running.join(reraise=False)
    snippets = sorted(SNIPPETS.glob("*.py"))
    missing = [s for s in snippets if not notebook_path(s, executing()).exists()]
    running = (
        Background(missing, [notebook_path(s, True) for s in missing]) if executing() and missing else None
    )
    return config


@event_priority(-50)  # after mkdocs-jupyter (0), before mkdocs-static-i18n (-100)
def add_notebook_pages(files: Files, config) -> Files:
    for path in sorted(SNIPPETS.glob("*.py")):
        files.append(
            File(f"{DEST}/{path.stem}.md", config.docs_dir, config.site_dir, config.use_directory_urls)
        )
    return files


@event_priority(-150)  # after mkdocs-static-i18n (-100)
def notebooks_for_pages(files: Files, config) -> Files:
    """Point each notebook page at its executed notebook (which on_pre_page waits for)."""
    execute = executing()
    for file in files:
        name = lesson_of(file)
        if name is None:
            continue
        notebook = notebook_path(SNIPPETS / f"{name}.py", execute)
        if not execute and not notebook.exists():  # the snippet's cells, without outputs
            notebook.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(as_notebook(SNIPPETS / f"{name}.py"), notebook)
        file.abs_src_path = str(notebook)
    return files


on_files = CombinedEvent(add_notebook_pages, notebooks_for_pages)


@event_priority(100)  # before mkdocs-jupyter (0) reads the notebook
def on_pre_page(page, config, files):
    """A notebook page needs its notebook run: wait for it (and fail if running failed).
    The kernel meanwhile runs the next ones, while this page is rendered."""
    if running is not None and lesson_of(page.file):
        running.wait_for(Path(page.file.abs_src_path))
    return page


def on_page_content(html: str, page, config, files) -> str:
    name = lesson_of(page.file)
    if name is None:
        return html
    # Not in the search index: the lesson page holds the same code, explained; indexing
    # cell outputs would list every notebook again under each query (and it is the
    # slowest part of indexing: jieba segments every line of code).
    page.meta["search"] = {"exclude": True}
    language = config.theme["language"]
    lesson = files.get_file_from_path(f"{name}.md")
    if lesson is None:
        raise ValueError(f"snippets/{name}.py has no lesson page docs/{name}.md")
    colab = ""
    github = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", config.repo_url or "")
    if github:
        url = f"https://colab.research.google.com/github/{github.group(1)}/blob/{config.extra['colab_branch']}/{name}.ipynb"
        colab = f' <a class="md-button" href="{url}">{COLAB[language]}</a>'
    if page.edit_url:  # edit the snippet, not docs/notebooks/<lesson>.md (which doesn't exist)
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/snippets/{name}.py"
    header = HEADER[language].format(name=name, lesson=get_relative_url(lesson.url, page.url), colab=colab)
    html = COPY_WIDGET.sub("", INLINED.sub("", html))
    # nbconvert's cell ids ("cell-id=1a2b") end up in the CSS selector of Material's copy
    # button, where "=" is invalid: the button would copy nothing.
    html = html.replace('id="cell-id=', 'id="cell-')
    return header + CODE_CELL.sub(r"\1<code>\2</code></pre>", html)


def on_post_page(output: str, page, config) -> str:
    name = lesson_of(page.file)
    if name:  # the .py download, next to the page (mkdocs-jupyter copied the .ipynb there)
        shutil.copyfile(SNIPPETS / f"{name}.py", Path(page.file.abs_dest_path).parent / f"{name}.py")
    return output
