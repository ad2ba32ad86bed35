"""Notebook pages: every snippet, executed at build time, in both languages, with its
outputs, its loss curve and its downloads (hooks/notebooks.py, mkdocs-jupyter)."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import jupytext
import nbformat
import pytest
from bs4 import BeautifulSoup

import lessons
from conftest import LESSONS, ROOT, notebook_dir, notebook_hook, snippet_path
from lessons import LOSS_LINE

LANGS = [("zh", ""), ("en", "en/")]
MAX_PAGE_BYTES = 150_000


@pytest.fixture(scope="module")
def site(built_site):
    site, done, _ = built_site
    assert done.returncode == 0, done.stdout + done.stderr
    return site


def notebook_page(site, prefix, lesson):
    return site / prefix / notebook_dir(lesson) / "index.html"


@pytest.mark.parametrize("lesson", LESSONS)
def test_snippet_is_a_percent_notebook_whose_plot_runs_only_as_a_notebook(lesson):
    notebook = jupytext.read(snippet_path(lesson))
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("code") >= 2 and "markdown" in kinds, kinds
    # The plot cell is commented out in the script (jupytext's active="ipynb"), so the
    # script, and the tests that run it, never import matplotlib.
    plots = [c for c in notebook.cells if c.cell_type == "code" and "matplotlib" in c.source]
    assert len(plots) == 1 and plots[0].metadata.get("active") == "ipynb"
    assert "semilogy(losses)" in plots[0].source
    assert not re.search(
        r"^\s*(import|from) matplotlib", snippet_path(lesson).read_text(encoding="utf-8"), re.M
    )


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_text_cell_comes_in_both_languages(lesson):
    """`# %% [markdown] lang="zh"`, then the same cell in English, `lang="en"`: the notebook
    page of each language keeps its own (hooks/notebooks.py)."""
    cells = jupytext.read(snippet_path(lesson)).cells
    langs = [cell.metadata.get("lang") for cell in cells if cell.cell_type == "markdown"]
    assert langs and langs == ["zh", "en"] * (len(langs) // 2), langs
    for i, cell in enumerate(cells):
        if cell.metadata.get("lang") == "zh":
            assert cells[i + 1].metadata.get("lang") == "en", f"cell {i}: no English cell right after it"


@pytest.fixture(scope="module")
def script_output():
    """What each snippet prints when run as a plain script on the CPU, on one thread as
    the notebooks run (hooks/notebooks.py: ONE_THREAD)."""
    env = {**lessons.CPU_ONLY, **notebook_hook().ONE_THREAD}
    runs = {lesson: lessons.script(lesson, env) for lesson in LESSONS}
    for lesson, done in runs.items():
        assert done.returncode == 0, f"snippets/{lesson}.py: {done.stderr}"
    return {lesson: done.stdout for lesson, done in runs.items()}


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("lang,prefix", LANGS)
def test_notebook_page_shows_this_runs_outputs_and_plot(site, script_output, lesson, lang, prefix):
    soup = BeautifulSoup(notebook_page(site, prefix, lesson).read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == lang
    printed = "\n".join(pre.get_text() for pre in soup.select(".jp-RenderedText pre"))
    # Every loss line the script prints, identical: the page shows what the code computes.
    expected = LOSS_LINE.findall(script_output[lesson])
    assert ("499", expected[-1][1]) in expected
    assert LOSS_LINE.findall(printed) == expected, printed
    if "device:" in script_output[lesson]:
        assert "device: cpu" in printed
    plots = soup.select(".jp-RenderedImage img[src^='data:image/png;base64,']")
    assert len(plots) == 1 and len(plots[0]["src"]) > 5_000
    # The code cells are the snippet's, without the section markers.
    code = "\n".join(c.get_text() for c in soup.select("div.highlight-ipynb pre code"))
    assert "losses.append" in code and "--8<--" not in code


CJK = re.compile(r"[\u3400-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
MATH = re.compile(r"\$\$.*?\$\$|\$.*?\$", re.S)


def check_language(texts: list[str], lang: str, where: str):
    """Prose in the page's language: with code and math taken out, at least half the
    letters of a 中文 text cell are CJK characters (some names stay Latin: NumPy, ReLU,
    autograd); an English one has none."""
    assert texts, f"{where}: no text cells"
    for text in texts:
        prose = MATH.sub("", text)
        cjk, latin = len(CJK.findall(prose)), len(LATIN.findall(prose))
        if lang == "zh":
            assert cjk >= latin and cjk >= 5, f"{where}: not Chinese: {text!r}"
        else:
            assert cjk == 0 and latin >= 10, f"{where}: not English: {text!r}"


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("lang,prefix", LANGS)
def test_text_cells_and_download_are_in_the_pages_language(site, lesson, lang, prefix):
    folder = site / prefix / notebook_dir(lesson)
    soup = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    for code in soup.select(".jp-MarkdownCell code"):
        code.decompose()
    for math in soup.select(".jp-MarkdownCell .arithmatex"):  # typeset at build time: not prose
        math.decompose()
    shown = [cell.get_text() for cell in soup.select(".jp-MarkdownCell")]
    check_language(shown, lang, f"{prefix}{notebook_dir(lesson)}")
    # As many text cells as the snippet has in that language, and the .ipynb has the same
    ours = [c for c in jupytext.read(snippet_path(lesson)).cells if c.metadata.get("lang") == lang]
    assert len(shown) == len(ours)
    notebook = json.loads((folder / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    texts = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown"]
    assert texts == [c.source for c in ours]
    check_language([re.sub(r"`[^`]*`", "", text) for text in texts], lang, f"{prefix}{lesson}.ipynb")


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("lang,prefix", LANGS)
def test_notebook_page_is_light_and_links_back(site, lesson, lang, prefix):
    path = notebook_page(site, prefix, lesson)
    size = path.stat().st_size
    assert size < MAX_PAGE_BYTES, f"{path.relative_to(site)} is {size} bytes"
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article")
    assert not article.select("style, script"), "nbconvert's inlined CSS or scripts are back"
    assert not article.select("clipboard-copy, .clipboard-copy-txt")
    # Back to the lesson page of the same language
    header = article.select_one(".notebook-header")
    lesson_link = [a for a in header.select("a") if not a.has_attr("download") and "colab" not in a["href"]]
    assert len(lesson_link) == 1
    target = (path.parent / lesson_link[0]["href"] / "index.html").resolve()
    assert target == (site / prefix / lesson / "index.html").resolve()
    # ... and the lesson page links here.
    lesson_soup = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    hrefs = {
        (target.parent / a["href"]).resolve()
        for a in lesson_soup.select("article a[href]")
        if not a["href"].startswith(("#", "http"))
    }
    assert path.parent.resolve() in hrefs


@pytest.mark.parametrize("lesson", LESSONS)
@pytest.mark.parametrize("lang,prefix", LANGS)
def test_downloads(site, lesson, lang, prefix):
    folder = site / prefix / notebook_dir(lesson)
    soup = BeautifulSoup((folder / "index.html").read_text(encoding="utf-8"), "html.parser")
    downloads = {a["href"] for a in soup.select(".notebook-header a[download]")}
    assert downloads == {f"{lesson}.ipynb", f"{lesson}.py"}
    assert (folder / f"{lesson}.py").read_bytes() == snippet_path(lesson).read_bytes()
    notebook = json.loads((folder / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert any(o.get("name") == "stdout" and "499 " in "".join(o["text"]) for o in outputs)
    assert any("image/png" in o.get("data", {}) for o in outputs)


@pytest.mark.parametrize("lang,prefix", LANGS)
def test_colab_link_opens_the_notebook_from_github(site, lang, prefix):
    """Colab opens .ipynb files from GitHub only: the link names the branch the Pages
    workflow publishes the built notebooks to, and the repository in repo_url; and the
    workflow publishes each language's (.github/workflows/pages.yml)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor(
        "",
        lambda loader, suffix, node: (
            loader.construct_sequence(node)[-1] if isinstance(node, yaml.SequenceNode) else None
        ),
    )
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    repo = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", config["repo_url"]).group(1)
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert f"site/{prefix}notebooks/*/*.ipynb" in workflow
    assert f"cp notebooks/{prefix}notebooks/*/*.ipynb branch/{prefix}\n" in workflow
    for lesson in LESSONS:
        soup = BeautifulSoup(notebook_page(site, prefix, lesson).read_text(encoding="utf-8"), "html.parser")
        colab = [a["href"] for a in soup.select(".notebook-header a") if "colab" in a["href"]]
        branch = config["extra"]["colab_branch"]
        # The branch holds the notebooks as the site does: 中文 at its root, English in en/
        assert colab == [
            f"https://colab.research.google.com/github/{repo}/blob/{branch}/{prefix}{lesson}.ipynb"
        ]


def copy_project(tmp_path):
    """The files a build needs, in a temporary folder (no .cache: notebooks run afresh)."""
    for name in ("docs", "snippets", "hooks", "overrides", "bench"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path)
    return tmp_path


def build(folder, **env):
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
    )


def test_a_cell_that_raises_fails_the_build_unless_execution_is_off(tmp_path):
    project = copy_project(tmp_path)
    lesson = LESSONS[0]  # run first, so the build fails early
    snippet = project / "snippets" / f"{lesson}.py"
    text = snippet.read_text(encoding="utf-8")
    broken = text.replace(
        "# --8<-- [start:train]\n", "# --8<-- [start:train]\nraise ValueError('broken on purpose')\n", 1
    )
    assert broken != text
    snippet.write_text(broken, encoding="utf-8")

    # Execution off (NOTEBOOK_EXECUTE=false, for editing): it builds, code without outputs.
    done = build(project, NOTEBOOK_EXECUTE="false")
    assert done.returncode == 0, done.stderr
    page = BeautifulSoup(
        (project / "site" / notebook_dir(lesson) / "index.html").read_text(encoding="utf-8"), "html.parser"
    )
    assert page.select("div.highlight-ipynb") and not page.select(".jp-RenderedText, .jp-RenderedImage")

    # Execution on (the default): the error stops the build and says where it is.
    done = build(project)
    assert done.returncode != 0
    assert "broken on purpose" in done.stderr and "ValueError" in done.stderr
    assert f"snippets/{lesson}.py, run as a notebook, raised" in done.stderr


def test_each_snippet_runs_in_an_empty_namespace_and_is_numbered_alone(tmp_path):
    """One kernel runs them all, but a snippet can't use what an earlier one defined
    (as a fresh `python snippets/<lesson>.py` couldn't), and each notebook counts from 1."""
    hook = notebook_hook()
    first, second, third = (tmp_path / f"{name}.py" for name in ("first", "second", "third"))
    first.write_text("# %%\nleaked = 1\n\n# %%\nprint(leaked)\n", encoding="utf-8")
    second.write_text("# %%\nimport math\n\n# %%\nprint(math.pi)\n", encoding="utf-8")
    third.write_text("# %%\nprint(leaked)\n", encoding="utf-8")
    targets = [tmp_path / "out" / f"{path.stem}.ipynb" for path in (first, second, third)]
    with pytest.raises(RuntimeError, match=r"snippets/third\.py, run as a notebook, raised(.|\n)*NameError"):
        hook.run_notebooks([first, second, third], targets)
    ran = nbformat.read(targets[1], as_version=4)
    assert [cell.execution_count for cell in ran.cells] == [1, 2]
    assert ran.cells[1].outputs[0].text == "3.141592653589793\n"
    assert not targets[2].exists()


def test_templates_are_compiled_once_per_build(tmp_path, monkeypatch):
    """hooks/compiled_templates.py: nbconvert's templates are compiled for the first
    notebook page only, and the page is the same as without it."""
    import jinja2
    from mkdocs_jupyter.convert import nb2html
    from nbconvert.exporters.templateexporter import TemplateExporter

    spec = importlib.util.spec_from_file_location("compiled", ROOT / "hooks" / "compiled_templates.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)  # patches nbconvert, as mkdocs does when it loads the hook
    notebook = tmp_path / "n.ipynb"
    nbformat.write(notebook_hook().as_notebook(snippet_path(LESSONS[0])), notebook)
    options = notebook_hook().RENDER

    compiled = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(
        jinja2.Environment, "compile", lambda *a, **k: compiled.append(1) or compile_(*a, **k)
    )
    hook.COMPILED.code.clear()
    first = nb2html(str(notebook), **options)
    assert compiled and hook.COMPILED.code
    compiled.clear()
    assert nb2html(str(notebook), **options) == first and not compiled
    monkeypatch.setattr(
        TemplateExporter, "_create_environment", TemplateExporter._create_environment_uncached
    )
    assert nb2html(str(notebook), **options) == first and compiled


def test_executed_notebooks_are_cached_by_content(tmp_path, monkeypatch):
    hook = notebook_hook()
    monkeypatch.setattr(hook, "CACHE", tmp_path)
    snippet = snippet_path(LESSONS[0])
    first = hook.notebook_path(snippet, True)
    assert first == hook.notebook_path(snippet, True)
    assert first != hook.notebook_path(snippet, False)
    changed = tmp_path / snippet.name
    changed.write_bytes(snippet.read_bytes() + b"\n# changed\n")
    assert hook.notebook_path(changed, True) != first
