"""Every snippet is also a notebook page: executed at build time, rendered by mkdocs-jupyter.

The snippets are jupytext "percent" scripts (`# %%` starts a cell), so the notebook is
the snippet file itself. Around mkdocs-jupyter and mkdocs-static-i18n this hook does:

1. on_files, before i18n: add a page `notebooks/<lesson>.md` for every
   `snippets/<lesson>.py`. A `.md` name under docs/ makes it a page to mkdocs and to
   i18n, so it exists in both languages (the English build falls back to it); i18n
   treats `.py` files as assets and drops pages from outside docs/.
2. on_config: start executing, in a process of its own, every snippet not in the cache
   (.cache/notebooks/, keyed on the snippet's content): all of them in one kernel, one
   after another, so `import torch` happens once. MkDocs meanwhile builds the whole
   site in both languages, notebook pages included, which it first renders from the
   snippet's cells without outputs (the "draft", what NOTEBOOK_EXECUTE=false shows).
   on_post_build, at the end of each language's build: wait for each notebook, have
   mkdocs-jupyter render it again, executed, and put that in the written page in place
   of the draft's cells (between two comments), and its `.ipynb` next to it as the
   download. A cell that raises fails the build. So the kernel's 20 s on a 2-core
   machine overlap the rest of the build instead of coming before it.
3. on_page_content: drop the ~590 KB of CSS and the scripts nbconvert inlines into each
   page (stylesheets/notebook.css styles cells in both palettes instead), and put a
   header above the notebook: the lesson page, the downloads, Colab; its "edit this
   page" link leads to the snippet. Notebook pages stay out of the search index (the
   lesson pages hold the same code), which is what lets their content change after
   the index is written. on_post_page copies the snippet next to the page as the
   `.py` download; mkdocs-jupyter's `include_source` copies the `.ipynb`.

We execute here rather than with mkdocs-jupyter's `execute: true`, which starts a
kernel per notebook and waits seconds for each to shut down: with `import torch` in
each (3.5 s on a 2-core machine), a cold build took a minute.

Covered by tests/test_notebooks.py. Relies on mkdocs-jupyter 0.26 and
mkdocs-static-i18n 1.3 (pinned in pyproject.toml).
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from mkdocs.exceptions import PluginError
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
        "<p>下面每个单元格的输出，都是构建本站时把这个文件当作 notebook 运行一遍得到的"
        "（用一个 CPU 线程；在你的机器上，损失的最后几位数字可能不同）。"
        '代码的讲解见<a href="{lesson}">课程页面</a>。</p>'
        '<p><a class="md-button" href="{name}.ipynb" download>下载 .ipynb</a> '
        '<a class="md-button" href="{name}.py" download>下载 .py</a>{colab}</p>'
        "</div>"
    ),
    "en": (
        '<div class="admonition info notebook-header">'
        '<p class="admonition-title">This is <code>snippets/{name}.py</code>, run</p>'
        "<p>Every output below comes from running this file as a notebook when the site was built "
        "(on one CPU thread: on your machine, the last digits of the losses may differ). "
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
# Around the cells in a written page: where on_post_build puts the executed ones.
CELLS_START, CELLS_END = "<!-- notebook cells -->", "<!-- end of notebook cells -->"


def lesson_of(file) -> str | None:
    """The lesson's name if this file is a notebook page, else None."""
    m = re.fullmatch(rf"{DEST}/(\w+)\.md", file.src_uri)
    return m.group(1) if m else None


# The kernel computes on one CPU thread. These small networks run no slower for it, and
# it leaves the other cores to the build: with torch's two threads on a 2-core machine,
# each waited for a core the build had taken, and a cold build took 35 s instead of 25.
# And the pages show the same numbers however many cores the machine that builds them
# has: with more threads, torch's sums split differently, and losses differ in their
# last digits.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def notebook_path(snippet: Path, execute: bool) -> Path:
    """Where the snippet's .ipynb is cached: keyed on its content and how it runs."""
    how = f"execute={execute} {ONE_THREAD}".encode()
    key = hashlib.sha256(snippet.read_bytes() + how).hexdigest()[:16]
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


def run_notebooks(snippets: list[Path], targets: list[Path]) -> None:
    """Run each snippet as a notebook, one after another, in one kernel started in the
    repository root (as `python snippets/<lesson>.py` runs), and write each as soon as
    it has run. A first cell empties the namespace; sharing the kernel saves its start
    and `import torch` per notebook."""
    import nbclient  # here: only Background's process runs notebooks
    from jupyter_client import KernelManager

    kernel = KernelManager(kernel_name="python3")
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
    write it in one step: the build may be waiting to read it (on_post_build)."""
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


class Background:
    """run_notebooks in a process of its own, started now: the kernel runs the snippets
    while MkDocs builds the site. (Not a thread of the build's process, where the
    messages to and from the kernel would wait for the build's own Python work to let
    go of the interpreter.) join() fails the build with what the run printed."""

    def __init__(self, snippets: list[Path], targets: list[Path]):
        self.snippets, self.reported = snippets, False
        self.output = tempfile.TemporaryFile("w+")
        pairs = [str(path) for pair in zip(snippets, targets, strict=True) for path in pair]
        self.process = subprocess.Popen(
            [sys.executable, __file__, *pairs],
            cwd=ROOT,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **ONE_THREAD},  # the kernel's environment too
        )

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def failed(self) -> bool:
        return self.process.poll() not in (None, 0)

    def join(self, reraise=True):
        self.process.wait()
        if reraise and self.failed():
            self.reported = True
            self.output.seek(0)
            raise PluginError(self.output.read()[-6000:])

    def covers(self, snippets: list[Path]) -> bool:
        """Still running these (or ended with an error not yet reported by a build)."""
        ongoing = self.is_alive() or (self.failed() and not self.reported)
        return ongoing and set(snippets) <= set(self.snippets)

    def wait_for(self, target: Path) -> None:
        """Until this notebook is written (or the run has ended, with its error)."""
        while not target.exists() and self.is_alive():
            time.sleep(0.05)
        if not target.exists():
            self.join()


running: Background | None = None


def on_config(config):
    """As early as the build allows: start running the snippets not yet in the cache.
    (i18n's English build, which runs inside the Chinese one, finds them running.)"""
    global running
    snippets = sorted(SNIPPETS.glob("*.py"))
    missing = [s for s in snippets if not notebook_path(s, executing()).exists()]
    if running is not None and running.covers(missing):
        return config
    if running is not None:  # mkdocs serve: an earlier build's run, ended or stale
        running.join(reraise=False)
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
    """Point each notebook page at its draft: the snippet's cells, without outputs."""
    for file in files:
        name = lesson_of(file)
        if name is None:
            continue
        draft = notebook_path(SNIPPETS / f"{name}.py", execute=False)
        if not draft.exists():
            write(as_notebook(SNIPPETS / f"{name}.py"), draft)
        file.abs_src_path = str(draft)
    return files


on_files = CombinedEvent(add_notebook_pages, notebooks_for_pages)


def on_env(env, config, files):
    """Fail early: a notebook that failed stops the build once each language's pages are
    read (rather than at the end), with the run's message."""
    if running is not None and running.failed():
        running.join()
    return env


# The notebook pages written as drafts in this build, with the build's files (the
# Chinese ones too, when the English build ends first: it runs inside the Chinese one)
pending: list = []


def cells(html: str) -> str:
    """mkdocs-jupyter's HTML of a notebook, as our pages show it."""
    html = COPY_WIDGET.sub("", INLINED.sub("", html))
    # nbconvert's cell ids ("cell-id=1a2b") end up in the CSS selector of Material's copy
    # button, where "=" is invalid: the button would copy nothing.
    html = html.replace('id="cell-id=', 'id="cell-')
    return CELLS_START + CODE_CELL.sub(r"\1<code>\2</code></pre>", html) + CELLS_END


def on_page_content(html: str, page, config, files) -> str:
    name = lesson_of(page.file)
    if name is None:
        return html
    if executing():
        pending.append((page, files))
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
    return header + cells(html)


def on_post_page(output: str, page, config) -> str:
    name = lesson_of(page.file)
    if name:  # the .py download, next to the page (mkdocs-jupyter copied the .ipynb there)
        shutil.copyfile(SNIPPETS / f"{name}.py", Path(page.file.abs_dest_path).parent / f"{name}.py")
    return output


@event_priority(-200)  # after i18n (-100): its on_post_build runs the English build
def on_post_build(config):
    """Each draft written in this build, with its notebook's outputs: wait for the
    notebook to have run, have mkdocs-jupyter render it, put its cells in the written
    page in place of the draft's, and the executed .ipynb next to it as the download."""
    jupyter = config.plugins["mkdocs-jupyter"]
    options = hashlib.sha256(repr(sorted(jupyter.config.items())).encode()).hexdigest()[:16]
    while pending:
        page, files = pending.pop(0)
        notebook = notebook_path(SNIPPETS / f"{lesson_of(page.file)}.py", execute=True)
        if running is not None:
            running.wait_for(notebook)
        page.file.abs_src_path = str(notebook)
        # Its cells' HTML, cached next to it (mkdocs-jupyter's own cache drops, at the end
        # of each build, what the build's pages did not use before this hook's turn)
        html = notebook.with_name(f"{notebook.stem}.{options}.html")
        if not html.exists():
            jupyter.on_pre_page(page, config=config, files=files)
            page.render(config, files)  # mkdocs-jupyter's render of the notebook
            html.with_suffix(".partial").write_text(cells(page.content), encoding="utf-8")
            html.with_suffix(".partial").replace(html)
        written = Path(page.file.abs_dest_path)
        before, rest = written.read_text(encoding="utf-8").split(CELLS_START, 1)
        after = rest.split(CELLS_END, 1)[1]
        written.write_text(before + html.read_text(encoding="utf-8") + after, encoding="utf-8")
        jupyter.on_post_page("", page=page, config=config)  # copies page.file's .ipynb


def on_build_error(error):
    pending.clear()  # mkdocs serve: the next build starts afresh


def on_shutdown():
    if running is not None:  # mkdocs serve stopped, or a build failed: stop the kernel too
        running.process.kill()  # (ipykernel exits when the process that started it is gone)


if __name__ == "__main__":  # Background's process: snippet and target paths, in pairs
    paths = [Path(arg) for arg in sys.argv[1:]]
    try:
        run_notebooks(paths[0::2], paths[1::2])
    except RuntimeError as error:
        sys.exit(str(error))  # to stderr, exit status 1
