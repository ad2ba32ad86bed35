"""Run a lesson's own code: the sections of snippets/<lesson>.py, read by the same
pymdownx.snippets the pages embed them with, so the benchmark times what the page shows.

A few lines of a lesson's setup may be swapped (the device, the dtype, the sizes),
always a whole `name = value` line, and only where the lesson has exactly one.
"""

import contextlib
import functools
import io
import re
import textwrap
from pathlib import Path

import markdown

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "snippets"
SIZES = "N, D_in, H, D_out"  # the line of every lesson's setup that sets the shapes


@functools.cache
def _embedder():
    """pymdownx.snippets' preprocessor, configured as in mkdocs.yml."""
    config = {"base_path": [str(ROOT)], "check_paths": True, "dedent_subsections": True}
    md = markdown.Markdown(extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": config})
    return md.preprocessors["snippet"]


def section(lesson: str, name: str) -> str:
    """A named section of snippets/<lesson>.py, exactly as a page embeds it."""
    return "\n".join(_embedder().run([f'--8<-- "snippets/{lesson}.py:{name}"'])) + "\n"


def source(lesson: str) -> str:
    return (SNIPPETS / f"{lesson}.py").read_text(encoding="utf-8")


def lessons() -> list[str]:
    """Every lesson with a training loop (found by globbing, like the tests)."""
    return sorted(p.stem for p in SNIPPETS.glob("*.py") if "[start:train]" in p.read_text(encoding="utf-8"))


def section_names(lesson: str) -> set[str]:
    return {m["name"] for line in source(lesson).splitlines() if (m := _embedder().match_section(line))}


def uses_torch(lesson: str) -> bool:
    return re.search(r"^import torch", source(lesson), re.M) is not None


def prelude(lesson: str, skip: tuple[str, ...] = ()) -> str:
    """What the script runs before its training loop (setup and the like), minus sections in `skip`."""
    kept, skipping = [], False
    for line in source(lesson).splitlines():
        m = _embedder().match_section(line)
        if m and m["name"] == "train":
            return "\n".join(kept) + "\n"
        if m and m["name"] in skip:
            skipping = m["type"].lower() == "start"
        elif not skipping:
            kept.append(line)
    raise KeyError(f"snippets/{lesson}.py has no train section")


def assign(code: str, name: str, value: str) -> str:
    """Replace the one line `name = ...` of `code` by `name = value`."""
    new, count = re.subn(rf"^{re.escape(name)} = .*$", f"{name} = {value}", code, flags=re.M)
    if count != 1:
        raise ValueError(f"expected one line `{name} = ...`, found {count}")
    return new


def can_swap(lesson: str, name: str) -> bool:
    return len(re.findall(rf"^{re.escape(name)} = ", prelude(lesson), re.M)) == 1


def namespace(lesson, *, device=None, dtype=None, sizes=None, skip=()) -> dict:
    """The names the lesson defines before training, its prints swallowed.

    device: "cpu" / "cuda" for a torch lesson; dtype: "float32" / "float64" (torch
    lessons: their `dtype = ...` line; NumPy: the arrays are cast after setup);
    sizes: (N, D_in, H, D_out) instead of the lesson's.
    """
    code = prelude(lesson, skip)
    torch_lesson = uses_torch(lesson)
    if device is not None and torch_lesson:
        code = assign(code, "device", f"torch.device({device!r})")
    if sizes is not None:
        code = assign(code, SIZES, ", ".join(str(s) for s in sizes))
    if dtype is not None and torch_lesson:
        code = assign(code, "dtype", f"torch.{dtype}")
    ns = {"__name__": "__bench__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, f"snippets/{lesson}.py", "exec"), ns)
    if dtype is not None and not torch_lesson:
        import numpy as np

        for name, value in list(ns.items()):
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                ns[name] = value.astype(dtype)
    return ns


def train_code(lesson: str, steps: int = 500):
    """The lesson's `train` section, compiled; `steps` replaces its `range(500)`."""
    code = section(lesson, "train")
    if steps != 500:
        code, count = re.subn(r"\brange\(500\)", f"range({steps})", code)
        assert count == 1, f"snippets/{lesson}.py: train has no single range(500)"
    return compile(code, f"snippets/{lesson}.py:train", "exec")


def run(code, ns: dict) -> dict:
    """Execute compiled lesson code in `ns`, its prints swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        exec(code, ns)
    return ns


def indent(code: str) -> str:
    return textwrap.indent(code, "    ")


def step_source(lesson: str) -> str:
    """One step of a hand-written lesson as a function, for torch.compile: its forward,
    backward and update sections; the loss (a Python float, printed) stays outside."""
    body = "".join(indent(section(lesson, name)) for name in ("forward", "backward", "update"))
    return f"def step(x, y, w1, w2, lr):\n{body}    return y_pred\n"


def step_loop_code(lesson: str, steps: int = 500):
    """The training loop around `step`: the lesson's loss section, after each step."""
    head = f"losses = []\nfor t in range({steps}):\n    y_pred = step(x, y, w1, w2, lr)\n"
    loop = head + indent(section(lesson, "loss"))
    return compile(loop, f"snippets/{lesson}.py:loss", "exec")
