"""A lesson's code, as the pages show it: read and run the sections of snippets/<lesson>.py.

The one reader of lessons for every consumer: the tests (tests/), the benchmark (bench/)
and the hooks (hooks/). A section is read by pymdownx.snippets itself, configured as in
mkdocs.yml, so it is exactly the text a page embeds (and the copy button copies); it runs
in a fresh namespace, on the CPU, in a chosen dtype, with named one-line changes
(`lr = ...`), its output captured:

    import lessons
    lessons.section("tensors", "backward")         # the text the page shows
    ns = lessons.setup("tensors", dtype="float64", change={"lr": "1e-5"})
    printed = lessons.run("tensors", "train", ns=ns, edits=[("h < 0", "h <= 0")])
    lessons.train("tensors").losses                # the script's 500 losses, once per process

`import lessons` works from the tests because pytest puts the repository root on sys.path
(`pythonpath` in pyproject.toml), so a test always reads this checkout's copy, even where
another checkout is the one installed (the processes the tests start inherit it through
PYTHONPATH, tests/conftest.py); scripts (bench/run.py) and hooks get it from the project's
install (`pip install -e .`, `py-modules` in pyproject.toml).
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import textwrap
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent
SNIPPETS = ROOT / "snippets"
DOCS = ROOT / "docs"

# Every lesson, found by globbing: adding snippets/<lesson>.py adds a lesson.
LESSONS = sorted(p.stem for p in SNIPPETS.glob("*.py"))
STEPS = 500  # every lesson's `for t in range(500)`
SIZES = "N, D_in, H, D_out"  # the line of every lesson's setup that sets the shapes


# -- reading: a section exactly as a page embeds it -------------------------------------------
def path(lesson: str) -> Path:
    return SNIPPETS / f"{lesson}.py"


def source(lesson: str) -> str:
    """The whole script, as a reader downloads it."""
    return path(lesson).read_text(encoding="utf-8")


@functools.cache
def snippets_config() -> dict:
    """pymdownx.snippets' options in mkdocs.yml (its base_path made absolute)."""
    import yaml

    class Loader(yaml.SafeLoader):  # mkdocs.yml's !!python/name and !ENV tags: not needed here
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    for extension in config["markdown_extensions"]:
        if isinstance(extension, dict) and "pymdownx.snippets" in extension:
            options = dict(extension["pymdownx.snippets"] or {})
            options["base_path"] = [str(ROOT / p) for p in options.get("base_path", ["."])]
            return options
    raise LookupError("mkdocs.yml has no pymdownx.snippets")


@functools.cache
def _embedder():
    """pymdownx.snippets' preprocessor, as mkdocs.yml configures it."""
    import markdown

    md = markdown.Markdown(
        extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": snippets_config()}
    )
    return md.preprocessors["snippet"]


def section_names(lesson: str) -> set[str]:
    """The names of the lesson's sections (`# --8<-- [start:name]`), nested ones included."""
    return {m["name"] for line in source(lesson).splitlines() if (m := _embedder().match_section(line))}


def top_sections(lesson: str) -> list[str]:
    """The outermost sections, in the script's order: running them in turn runs the script."""
    names, depth = [], 0
    for line in source(lesson).splitlines():
        if m := _embedder().match_section(line):
            start = m["type"].lower() == "start"
            if start and depth == 0:
                names.append(m["name"])
            depth += 1 if start else -1
    return names


def section(lesson: str, name: str) -> str:
    """The section `name` of snippets/<lesson>.py as the page shows it (other markers dropped,
    dedented): pymdownx.snippets' own output for `--8<-- "snippets/<lesson>.py:<name>"`."""
    if name not in section_names(lesson):
        raise KeyError(f"snippets/{lesson}.py has no section {name!r}")
    return "\n".join(_embedder().run([f'--8<-- "snippets/{lesson}.py:{name}"'])) + "\n"


def uses_torch(lesson: str) -> bool:
    return re.search(r"^\s*import torch", source(lesson), re.M) is not None


def lessons_with(*names: str) -> list[str]:
    """The lessons that have all these sections."""
    return [lesson for lesson in LESSONS if set(names) <= section_names(lesson)]


# -- changing a section's code: whole lines or exact strings, never silently nothing ----------
def change_line(code: str, name: str, value: str) -> str:
    """The one line `name = ...` of `code` (at any indent, its comment dropped) becomes
    `name = value`: `change_line(setup, "lr", "1e-5")`."""
    new, count = re.subn(rf"^([ \t]*){re.escape(name)} = .*$", rf"\g<1>{name} = {value}", code, flags=re.M)
    if count != 1:
        raise ValueError(f"expected one line `{name} = ...`, found {count}")
    return new


def replace(code: str, edits) -> str:
    """`code` with each (old, new) of `edits` replaced; each `old` must be there."""
    for old, new in edits:
        if old not in code:
            raise ValueError(f"{old!r} is not in the code")
        code = code.replace(old, new)
    return code


# -- running: a fresh namespace, on the CPU, in a chosen dtype ---------------------------------
def _execute(lesson: str, names, ns: dict, *, change=None, edits=(), steps=None, device="cpu") -> str:
    """Run the sections `names` of the lesson in `ns`; what they print is returned."""
    code = "".join(section(lesson, name) for name in names)
    for name, value in dict(change or {}).items():
        code = change_line(code, name, value)
    code = replace(code, edits)
    if steps is not None and steps != STEPS:
        code, count = re.subn(rf"\brange\({STEPS}\)", f"range({steps})", code)
        if count != 1:
            raise ValueError(f"snippets/{lesson}.py:{','.join(names)} has no single range({STEPS})")
    changed = bool(change or edits) or steps not in (None, STEPS)
    label = f"snippets/{lesson}.py:{','.join(names)}" + (" (changed)" if changed else "")
    out = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        if device == "cpu" and uses_torch(lesson):
            # The CPU even on a GPU machine: the pages' numbers are the CPU's (CUDA draws other
            # random numbers); the lesson's own `device = ...` line picks it, as a reader's would.
            from unittest import mock

            stack.enter_context(mock.patch("torch.cuda.is_available", return_value=False))
        exec(compile(code, label, "exec"), ns)
    return out.getvalue()


def cast(ns: dict, dtype: str) -> dict:
    """Every floating-point array, tensor and module of `ns` converted to `dtype` ("float32",
    "float64"), in place: the same starting numbers, in another precision. A tensor that
    requires grad stays a leaf that requires grad; a module is converted in place, so an
    optimizer made from its parameters still holds them."""
    import numpy as np

    torch = None
    if any(type(v).__module__.startswith("torch") for v in ns.values()):
        import torch
    for name, value in list(ns.items()):
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            ns[name] = value.astype(dtype)
        elif torch is not None and isinstance(value, torch.nn.Module):
            value.to(getattr(torch, dtype))
        elif torch is not None and isinstance(value, torch.Tensor) and value.is_floating_point():
            new = value.detach().to(getattr(torch, dtype))
            ns[name] = new.requires_grad_() if value.requires_grad and value.is_leaf else new
    return ns


def setup(
    lesson: str,
    *names: str,
    dtype: str | None = None,
    change: dict | None = None,
    device: str = "cpu",
    sizes: tuple[int, int, int, int] | None = None,
) -> dict:
    """A fresh namespace in which the lesson's `setup` section (or the sections `names`) ran,
    its prints swallowed: on the CPU (or `device`, through the lesson's `device = ...` line),
    with the lines `change` names changed ({"lr": "1e-5"}), the shapes set to `sizes`, and
    its numbers then cast to `dtype`."""
    change = dict(change or {})
    if device != "cpu" and uses_torch(lesson):
        change["device"] = f"torch.device({device!r})"
    if sizes is not None:
        change[SIZES] = ", ".join(str(s) for s in sizes)
    ns: dict = {"__name__": "__lesson__"}
    _execute(lesson, names or ("setup",), ns, change=change, device=device)
    return cast(ns, dtype) if dtype else ns


def before_train(lesson: str, skip: tuple[str, ...] = ()) -> list[str]:
    """The outermost sections the script runs before its training loop, minus `skip`:
    what `setup(lesson, *before_train(lesson))` runs is the script up to `train`."""
    names = top_sections(lesson)
    if "train" not in names:
        raise KeyError(f"snippets/{lesson}.py has no train section")
    return [name for name in names[: names.index("train")] if name not in skip]


def run(lesson: str, *names: str, ns: dict, edits=(), change=None, steps=None, device="cpu") -> str:
    """Run the sections `names` in `ns` (from `setup`), with the exact strings `edits`
    replaced ((old, new) pairs), lines changed, and `range(500)` made `range(steps)`.
    Returns what they printed."""
    return _execute(lesson, names, ns, change=change, edits=edits, steps=steps, device=device)


class Trained(NamedTuple):
    losses: tuple[float, ...]
    printed: str  # what the script prints (its setup, then its training), as a reader sees it
    watched: tuple = ()  # `watch` evaluated at each step, when asked for


class _Watching(list):
    """Stands in for the loop's `losses` list: evaluates `expression` in the loop's namespace
    each time a loss is appended (the `watch` of `train`)."""

    def __init__(self, ns: dict, expression: str):
        super().__init__()
        self.ns, self.code, self.seen = ns, compile(expression, "watch", "eval"), []

    def append(self, value):
        super().append(value)
        self.seen.append(eval(self.code, self.ns))


@functools.cache
def train(
    lesson: str,
    dtype: str | None = None,
    change: tuple[tuple[str, str], ...] = (),
    edits: tuple[tuple[str, str], ...] = (),
    steps: int = STEPS,
    skip: tuple[str, ...] = (),
    watch: str | None = None,
    threads: int | None = None,
) -> Trained:
    """The lesson's training run as the script runs it, on the CPU: the sections before
    `train` (minus `skip`: for optim, ("adam",) keeps SGD), its numbers cast to `dtype`, then
    `train` for `steps` steps; with the lines `change` names changed and the exact strings of
    `edits` replaced (tuples of pairs, so that runs can be cached); `watch`, an expression
    evaluated after each step's loss is appended ("bool((h == 0).any())"); `threads`, torch's
    thread count for the run (MKL's float32 results can differ in the last digits between
    one thread and two).

    Computed once per process for each set of arguments: every test that needs the lesson's
    plain 500 steps shares one run. What it returns holds nothing mutable."""
    if threads is None:
        return _train(lesson, dtype, change, edits, steps, skip, watch)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(lesson, dtype, change, edits, steps, skip, watch)
    finally:
        torch.set_num_threads(before)


def _train(lesson, dtype, change, edits, steps, skip, watch) -> Trained:
    ns: dict = {"__name__": "__lesson__"}
    printed = _execute(lesson, before_train(lesson, skip), ns, change=dict(change))
    if dtype:
        cast(ns, dtype)
    if watch:
        ns["_Watching"] = _Watching
        edits = (("losses = []", f"losses = _Watching(globals(), {watch!r})"), *edits)
    printed += _execute(lesson, ["train"], ns, edits=edits, steps=steps)
    losses = ns["losses"]
    return Trained(tuple(float(v) for v in losses), printed, tuple(losses.seen) if watch else ())


# -- the scripts themselves, as a reader runs them ----------------------------------------------
LOSS_LINE = re.compile(r"^(\d+) (\S+)$", re.M)  # what every script prints as it trains: `t loss`
CPU_ONLY = {"CUDA_VISIBLE_DEVICES": ""}  # a script's environment for a run on the CPU, GPU or not


def script_command(lesson: str) -> tuple[str, ...]:
    """`python snippets/<lesson>.py`, as a reader runs it (from the repository root)."""
    import sys

    return (sys.executable, str(path(lesson)))


def script(lesson: str, env: dict | None = None):
    """`python snippets/<lesson>.py` with `env` added to the environment: the finished
    subprocess (its returncode, stdout, stderr); if `start` started it, its result."""
    return ran(script_command(lesson), env)


# -- commands run in the background, one at a time ---------------------------------------------
# The quick lane's subprocesses (the scripts, the benchmark's quick run, the lane's own
# collections) are started when collection ends (tests/conftest.py: the `background` marker),
# in the order the tests run: on a 2-core machine they run on one core while the tests run on
# the other, and each test waits for its command's result.
_started: dict = {}
_pool: list = []  # the one background thread's executor, once made


def _key(command, env) -> tuple:
    return tuple(str(part) for part in command), tuple(sorted((env or {}).items()))


def _run(command: tuple[str, ...], env: tuple[tuple[str, str], ...]):
    import os
    import subprocess

    return subprocess.run(
        command, cwd=ROOT, env={**os.environ, **dict(env)}, capture_output=True, text=True, timeout=300
    )


def start(command, env: dict | None = None) -> None:
    """Start `command` (from the repository root, with `env` added to the environment) in the
    background, after the ones started before it; `ran` waits for its result."""
    from concurrent.futures import ThreadPoolExecutor

    key = _key(command, env)
    if key not in _started:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="background"))
        _started[key] = _pool[0].submit(_run, *key)


def ran(command, env: dict | None = None):
    """The finished `command`: its subprocess.CompletedProcess, from `start` if it started it
    (waiting for it), else run now."""
    key = _key(command, env)
    started = _started.pop(key, None)
    return started.result() if started else _run(*key)


def stop_started() -> None:
    """Drop the commands not begun yet (a run that ends early need not wait for them)."""
    for future in _started.values():
        future.cancel()
    _started.clear()


# -- the pages that show the lessons -----------------------------------------------------------
def pages() -> list[Path]:
    """Every page of docs/, both languages."""
    return sorted(DOCS.rglob("*.md"))


def slug(page: Path) -> str:
    """docs/autograd.en.md -> autograd: the lesson a page is about, when it is one."""
    return page.name.removesuffix(".md").removesuffix(".en")


# A page's fenced blocks (indent, fence, info string, body) and the `--8<--` embeds in them:
# the lines pymdownx.snippets replaces with a snippet's section.
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<info>[^\n]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
EMBED = re.compile(r'^\s*-{1,}8<-{1,}\s+"(?P<path>[^":]+)(?::(?P<section>[a-z][-_0-9a-z]*))?"\s*$', re.I)
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # Chinese text and its punctuation


def blocks(page: Path):
    """(language, info string, dedented body) of each fenced block of a page."""
    for m in FENCE.finditer(page.read_text(encoding="utf-8")):
        yield (m["info"].split() or [""])[0], m["info"], textwrap.dedent(m["body"])


def embeds_in(body: str, info: str = ""):
    """(snippet path, section or None, info string) of each embed line of a block's body."""
    for line in body.splitlines():
        if m := EMBED.match(line):
            yield m["path"], m["section"], info


def embeds(page: Path):
    for _, info, body in blocks(page):
        yield from embeds_in(body, info)


# The notation: the home page's table (symbol | code | shape), and each lesson page's own
NOTATION_ROW = re.compile(
    r"^\|\s*\$(?P<symbol>[^$]+)\$\s*\|\s*`(?P<code>[^`]+)`\s*\|\s*(?P<shape>[^|]+?)\s*\|\s*$", re.M
)


def notation(page: Path) -> list[tuple[str, str, str]]:
    """(symbol, code, shape) of each row of the page's notation table; 'h = x w_1' gives 'h'."""
    return [
        (m["symbol"].split("=")[0].strip(), m["code"].strip(), m["shape"].strip("$ "))
        for m in NOTATION_ROW.finditer(page.read_text(encoding="utf-8"))
    ]


# -- the benchmark's pieces (bench/measure.py) -------------------------------------------------
def namespace(lesson: str, *, device=None, dtype=None, sizes=None, skip=()) -> dict:
    """What the script defines before its training loop (minus the sections in `skip`), on
    `device` (default the CPU), with the shapes `sizes`, cast to `dtype`: where the benchmark
    starts timing."""
    return setup(lesson, *before_train(lesson, skip), device=device or "cpu", dtype=dtype, sizes=sizes)


def train_code(lesson: str, steps: int = STEPS):
    """The lesson's `train` section, compiled; `steps` replaces its `range(500)`."""
    code = section(lesson, "train")
    if steps != STEPS:
        code, count = re.subn(rf"\brange\({STEPS}\)", f"range({steps})", code)
        assert count == 1, f"snippets/{lesson}.py: train has no single range({STEPS})"
    return compile(code, f"snippets/{lesson}.py:train", "exec")


def quietly(code, ns: dict) -> dict:
    """Execute compiled lesson code in `ns`, its prints swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, ns)
    return ns


def _indent(code: str) -> str:
    return textwrap.indent(code, "    ")


def step_source(lesson: str) -> str:
    """One step of a hand-written lesson as a function, for torch.compile: its forward,
    backward and update sections; the loss (a Python float, printed) stays outside."""
    body = "".join(_indent(section(lesson, name)) for name in ("forward", "backward", "update"))
    return f"def step(x, y, w1, w2, lr):\n{body}    return y_pred\n"


def step_loop_code(lesson: str, steps: int = STEPS):
    """The training loop around `step`: the lesson's loss section, after each step."""
    head = f"losses = []\nfor t in range({steps}):\n    y_pred = step(x, y, w1, w2, lr)\n"
    return compile(head + _indent(section(lesson, "loss")), f"snippets/{lesson}.py:loss", "exec")


# -- the numbers a page states: `<span data-claim="NAME">VALUE</span>` --------------------------
# Read by tests/test_claims.py (every claim on every page, checked against the run), by
# tests/test_exercises.py (`exN-` claims) and by a lesson's own tests, so that no test keeps
# its own copy of a number a page states.
CLAIM = re.compile(r'<span data-claim="(?P<name>[-\w]+)">(?P<value>.*?)</span>')
EXERCISE_CLAIM = re.compile(r"ex\d+-")  # ex1-...: stated in an answer to exercise 1
NUMBER = re.compile(r"^\$?\s*(?:(?P<m>[-\d.]+)\s*\\times\s*)?(?:10\^\{?(?P<e>-?\d+)\}?)?\s*\$?$")


def stated(text: str) -> float:
    """'10' -> 10.0, '$2.6 \\times 10^{7}$' -> 2.6e7, '$10^{-6}$' -> 1e-6."""
    text = text.strip()
    if re.fullmatch(r"-?[\d.]+", text):
        return float(text)
    m = NUMBER.match(text)
    assert m and (m["m"] or m["e"]), f"not a number: {text!r}"
    return float(f"{m['m'] or 1}e{m['e'] or 0}")  # parsed, not multiplied: 6.9 * 10.0**-5 != 6.9e-5


def claims(page) -> dict[str, str]:
    found = {}
    for m in CLAIM.finditer(page.read_text(encoding="utf-8")):
        if EXERCISE_CLAIM.match(m["name"]):
            continue  # an exercise's answer: tests/test_exercises.py checks it
        assert m["name"] not in found, f"{page.name}: claim {m['name']!r} stated twice"
        found[m["name"]] = m["value"]
    return found


def as_stated(value: float, text: str) -> bool:
    """`value` rounds to the number as written: to as many significant digits as it shows.
    A bare power of ten, `$10^{-12}$` ("about 10⁻¹²"), states an order of magnitude."""
    if re.fullmatch(r"\$?\s*10\^\{?-?\d+\}?\s*\$?", text.strip()):
        return value > 0 and round(math.log10(value)) == round(math.log10(stated(text)))
    mantissa = re.sub(r"\\times.*|\$|\s", "", text) if "\\times" in text else re.sub(r"[$\s]", "", text)
    digits = len(re.sub(r"^[-0.]+|\.", "", mantissa)) if not mantissa.startswith("10^") else 1
    return float(f"{value:.{max(digits, 1)}g}") == stated(text)


def page_claims(lesson: str) -> dict[str, str]:
    """The claims docs/<lesson>.en.md states (tests/test_claims.py checks the 中文 page states
    the same)."""
    return claims(DOCS / f"{lesson}.en.md")
