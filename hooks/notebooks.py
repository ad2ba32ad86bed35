"""Every snippet is also a notebook page, in each language: run at build time, with its outputs.

The snippets are jupytext "percent" scripts (`# %%` starts a cell), so the notebook is the
snippet itself. Its text cells come in pairs, `# %% [markdown] lang="zh"` and then the same
in English, `lang="en"`; the code cells are shared. A build, in the order of this file:

1. on_config: start running, in a thread, every snippet not yet in the cache (.cache/
   notebooks/, keyed on the snippet's content): all in one kernel, one after another, so
   `import torch` happens once. The kernel's 20 s (2 cores) overlap the whole build, both
   languages, instead of coming before it. (mkdocs-jupyter's `execute: true` starts a
   kernel per notebook and waits seconds for each to shut down: a cold build took a minute.)
2. on_files: add a page `notebooks/<lesson>.md` for every `snippets/<lesson>.py`, whose
   content is a placeholder for its cells.
3. on_page_content: put a header above it (the lesson page, the downloads, Colab), in the
   page's language; keep the page out of the search index (the lesson page has the same
   code, explained), which is what lets its content change after the index is written.
4. on_post_build, at the end of each language's build: wait for each notebook to have run,
   keep the text cells of the page's language, render it, put the cells into the written
   page in place of the placeholder, and the .ipynb and the .py next to it as downloads.

A cell that raises fails the build. NOTEBOOK_EXECUTE=false (for editing) shows the cells
without running them. Covered by tests/test_notebooks.py.
"""

import copy
import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

# Imported here, before the thread that runs the notebooks starts: if that thread imports
# IPython first, matplotlib (hooks/bench_plots.py, on the main thread) can find it half
# initialised in sys.modules and fail the build ("partially initialized module 'IPython'").
import IPython  # noqa: F401
import jupytext
import nbformat
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url
from mkdocs_jupyter.convert import nb2html

# What this hook relies on in the plugins around it (versions pinned in pyproject.toml):
# - mkdocs-static-i18n 1.3 builds the default language (中文) first; its on_post_build
#   (priority -100) then runs the English build, every event of this hook included, with
#   config.theme["language"] = "en" and page URLs that start with "en/". It keeps only the
#   pages whose source lies in docs/, and gives the English build the 中文 page where there
#   is no `.en.md`. So the pages are added before it, and given their content after it.
# - mkdocs-jupyter 0.26: its converter only (no plugin entry in mkdocs.yml). Its template
#   gives the cells the classes that stylesheets/notebook.css styles.
BEFORE_I18N, AFTER_I18N, AFTER_I18N_BUILDS = -50, -150, -200
RENDER = {"no_prompt": True, "highlight_extra_classes": "highlight"}  # no "In [1]:"; Material's colours

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
CACHE = ROOT / ".cache" / "notebooks"
DEST = "notebooks"  # snippets/<lesson>.py -> the page notebooks/<lesson>/

# The kernel computes on one CPU thread. These small networks run no slower for it, and it
# leaves the other core to the build (with torch's two threads on a 2-core machine, a cold
# build took 35 s instead of 25). And the pages show the same numbers however many cores
# the machine that builds them has: with more threads, torch's sums split differently.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def executing() -> bool:
    return os.environ.get("NOTEBOOK_EXECUTE", "true").lower() not in ("false", "0", "no")


def notebook_path(snippet: Path, execute: bool) -> Path:
    """Where the snippet's notebook is cached: keyed on its content and how it runs."""
    how = f"execute={execute} {ONE_THREAD}".encode()
    return CACHE / hashlib.sha256(snippet.read_bytes() + how).hexdigest()[:16] / f"{snippet.stem}.ipynb"


def as_notebook(snippet: Path):
    """The snippet as a notebook, without the `# --8<--` lines that mark the pages' sections."""
    notebook = jupytext.read(snippet)
    for cell in notebook.cells:
        cell.source = "\n".join(line for line in cell.source.split("\n") if "# --8<-- " not in line)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def in_language(notebook, lang: str):
    """The notebook for a reader of `lang`: the text cells in that language (or in none)."""
    notebook = copy.deepcopy(notebook)
    notebook.cells = [cell for cell in notebook.cells if cell.metadata.pop("lang", lang) == lang]
    return notebook


# 1. Running the snippets -------------------------------------------------------------------

# Before each snippet: delete every name the previous snippets defined, so each runs in the
# namespace a fresh `python snippets/<lesson>.py` has. What `%reset -f` does to the
# namespace, without its gc.collect() (0.5 s each time once torch is imported).
RESET = (
    "[get_ipython().user_ns.pop(name) for name in list(get_ipython().user_ns)"
    " if name not in get_ipython().user_ns_hidden];"  # ";": no output, nothing kept in Out
)


def run_notebooks(snippets: list[Path], targets: list[Path]) -> None:
    """Run each snippet as a notebook, one after another, in one kernel started in the
    repository root (as `python snippets/<lesson>.py` runs); write each once it has run."""
    import nbclient
    from jupyter_client import KernelManager

    kernel = KernelManager(kernel_name="python3")
    # The kernel's own log (e.g. ipykernel's warning that it talks TCP on 127.0.0.1) goes to
    # a file, not into the build's output; it is shown only if a notebook fails.
    with tempfile.TemporaryFile("w+") as log:
        kernel.start_kernel(cwd=str(ROOT), stderr=log, env={**os.environ, **ONE_THREAD})
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
                    raise RuntimeError(
                        f"snippets/{snippet.name}, run as a notebook, raised:\n{error}\n"
                        f"The kernel's log:\n{log.read()[-3000:]}"
                    ) from error
                del notebook.cells[0]
                write(notebook, target)
        finally:
            kernel.shutdown_kernel(now=True)


def write(notebook, target: Path) -> None:
    """Number the cells from 1, as if the notebook had run alone in its kernel, and write
    it in one step: the build may be waiting to read it."""
    count = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = count
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target.with_suffix(".partial"))
    target.with_suffix(".partial").replace(target)


class Run(threading.Thread):
    """run_notebooks while MkDocs builds. The thread mostly waits for the kernel (another
    process). A daemon: a build that fails does not wait for the rest of the snippets."""

    def __init__(self, snippets: list[Path]):
        super().__init__(daemon=True)
        self.snippets, self.targets = snippets, [notebook_path(s, True) for s in snippets]
        self.error, self.reported = None, False
        self.start()

    def run(self):
        try:
            run_notebooks(self.snippets, self.targets)
        except Exception as error:
            self.error = error

    def raise_error(self):
        if self.error is not None:
            self.reported = True
            raise PluginError(str(self.error))

    def wait_for(self, notebook: Path) -> None:
        while not notebook.exists() and self.is_alive():
            time.sleep(0.05)
        if not notebook.exists():
            self.raise_error()


running: Run | None = None


def on_config(config):
    """As early as the build allows. (i18n's English build, which runs inside the 中文 one,
    comes here too, and finds its snippets running.)"""
    global running
    missing = [s for s in sorted(SNIPPETS.glob("*.py")) if not notebook_path(s, True).exists()]
    ongoing = running is not None and (running.is_alive() or (running.error and not running.reported))
    if (
        executing()
        and missing
        and not (ongoing and {notebook_path(s, True) for s in missing} <= set(running.targets))
    ):
        if running is not None:
            running.join()  # mkdocs serve: an earlier build's run, ended or stale
        running = Run(missing)
    return config


def on_env(env, config, files):
    """Fail early: once each language's pages are read, rather than at the end."""
    if running is not None:
        running.raise_error()
    return env


# 2. The pages, with a placeholder for their cells --------------------------------------------

CELLS = "<!-- notebook cells -->"


def lesson_of(file) -> str | None:
    """The lesson's name if this file is a notebook page, else None."""
    m = re.fullmatch(rf"{DEST}/(\w+)\.md", file.src_uri)
    return m.group(1) if m else None


@event_priority(BEFORE_I18N)
def add_pages(files, config):
    for path in sorted(SNIPPETS.glob("*.py")):
        files.append(
            File(f"{DEST}/{path.stem}.md", config.docs_dir, config.site_dir, config.use_directory_urls)
        )
    return files


@event_priority(AFTER_I18N)
def with_placeholder(files, config):
    for file in files:
        if lesson_of(file):
            file.content_string = CELLS
    return files


on_files = CombinedEvent(add_pages, with_placeholder)


# 3. The header ------------------------------------------------------------------------------

# {lesson}: the lesson page's URL, relative to the notebook page; {name}: the lesson's name;
# {colab}: the Colab button.
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

pending: list = []  # (page, language) of the notebook pages of this build, and of the English


def on_page_content(html: str, page, config, files) -> str:
    name = lesson_of(page.file)
    if name is None:
        return html
    language = config.theme["language"]
    pending.append((page, language))
    page.meta["search"] = {"exclude": True}
    lesson = files.get_file_from_path(f"{name}.md")
    if lesson is None:
        raise PluginError(f"snippets/{name}.py has no lesson page docs/{name}.md")
    colab = ""
    github = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", config.repo_url or "")
    if github:
        # The notebooks branch (.github/workflows/pages.yml) holds the .ipynb files as the site
        # does: 中文 at its root, English in en/.
        path = page.url.removesuffix(f"{DEST}/{name}/") + f"{name}.ipynb"
        url = f"https://colab.research.google.com/github/{github.group(1)}/blob/{config.extra['colab_branch']}/{path}"
        colab = f' <a class="md-button" href="{url}">{COLAB[language]}</a>'
    if page.edit_url:  # edit the snippet, not docs/notebooks/<lesson>.md (which doesn't exist)
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/snippets/{name}.py"
    return (
        HEADER[language].format(name=name, lesson=get_relative_url(lesson.url, page.url), colab=colab) + CELLS
    )


# 4. The cells, once the notebooks have run ------------------------------------------------

# What nbconvert's template inlines: <style> blocks (JupyterLab's whole stylesheet, 590 KB a
# page; stylesheets/notebook.css styles the cells in both palettes instead) and <script>
# blocks (a copy-button element and a MathJax 2 loader); its copy button, and the hidden
# copy of each cell's source it copies from.
INLINED = re.compile(
    r"<(style|script)\b[^>]*>.*?</\1>"
    r'|<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>'
    r'|<div class="clipboard-copy-txt"[^>]*>.*?</div>',
    re.S,
)
# A code cell's <pre>: wrapped in <code> it is a code block to Material, which gives it its
# copy button (content.code.copy), as on every other page.
CODE_CELL = re.compile(r'(<div class="highlight-ipynb[^"]*"><pre>)<span></span>(.*?)</pre>', re.S)


def cells(notebook: Path) -> str:
    """The notebook's cells as our pages show them; cached next to it, keyed on this file."""
    cached = notebook.with_suffix(f".{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]}.html")
    if not cached.exists():
        html = INLINED.sub("", nb2html(str(notebook), **RENDER))
        # nbconvert's cell ids ("cell-id=1a2b") end up in the CSS selector of Material's copy
        # button, where "=" is invalid: the button would copy nothing.
        html = CODE_CELL.sub(r"\1<code>\2</code></pre>", html.replace('id="cell-id=', 'id="cell-'))
        cached.with_suffix(".partial").write_text(html, encoding="utf-8")
        cached.with_suffix(".partial").replace(cached)
    return cached.read_text(encoding="utf-8")


@event_priority(AFTER_I18N_BUILDS)
def on_post_build(config):
    while pending:
        page, language = pending.pop(0)
        snippet = SNIPPETS / f"{lesson_of(page.file)}.py"
        ran = notebook_path(snippet, executing())
        if executing() and running is not None:
            running.wait_for(ran)
        notebook = ran.parent / language / ran.name
        write(in_language(nbformat.read(ran, 4) if executing() else as_notebook(snippet), language), notebook)
        written = Path(page.file.abs_dest_path)
        written.write_text(
            written.read_text(encoding="utf-8").replace(CELLS, cells(notebook), 1), encoding="utf-8"
        )
        shutil.copyfile(notebook, written.parent / notebook.name)
        shutil.copyfile(snippet, written.parent / snippet.name)


def on_build_error(error):
    pending.clear()  # mkdocs serve: the next build starts afresh
