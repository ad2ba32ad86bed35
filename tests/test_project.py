"""The project's promises about itself: the README's two commands, CI runs the
test one, dependencies pinned as DESIGN.md asks."""

import re
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from conftest import ROOT


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
