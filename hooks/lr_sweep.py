"""The warm-up's plot of the loss after 500 steps against the learning rate, made at build time.

docs/numpy_warmup.md explains the bound 2 / lambda_max on the step; this hook trains the
lesson's own `train` section (bench/lessons.py reads it as the page embeds it), with only
`lr` changed, at learning rates from 0.5x to 5x that bound, and draws the last loss of
each run: `assets/plots/lr_sweep-zh.svg` and `lr_sweep-en.svg`, labelled in each language,
on white (readable in both palettes). Text stays text in the SVG: no font to embed.

The sweep (11 runs of 500 steps, about 5 s on one CPU thread) runs in a process of its
own, started in on_config and niced, while MkDocs builds the site and the notebooks run:
on_files gives each language a stand-in SVG, and on_post_build writes the plot over it.
Results and plots are cached under .cache/lr_sweep/, keyed on the snippet and this file,
so a warm build or `mkdocs serve` sweeps again only when either changes. Covered by
tests/test_lr_sweep.py and tests/test_claims.py (the page's numbers about these runs).
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
LESSON = "numpy_warmup"
SNIPPET = ROOT / "snippets" / f"{LESSON}.py"
CACHE = ROOT / ".cache" / "lr_sweep"
LANGS = ("zh", "en")
# 0.5x to 5x the bound, evenly spaced on the log axis (10 runs), and the lesson's own lr
FACTORS = [0.5 * 10 ** (k / 9) for k in range(10)]
# One thread: no slower for these small arrays, and it leaves the other cores to the build
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

LABELS = {
    "zh": {
        "x": "学习率 η（对数坐标）",
        "y": "500 步后的损失 L（对数坐标）",
        "bound": "初始时的上限 2/λmax = {bound}",
        "lesson": "本课的 lr = {lr}",
        "factor": "η ÷ (2/λmax)",
        "diverged": "发散（inf 或 nan）",
    },
    "en": {
        "x": "learning rate η (log scale)",
        "y": "loss L after 500 steps (log scale)",
        "bound": "bound at initialisation, 2/λmax = {bound}",
        "lesson": "this lesson's lr = {lr}",
        "factor": "η ÷ (2/λmax)",
        "diverged": "diverged (inf or nan)",
    },
}
STYLE = {
    "svg.hashsalt": "lr_sweep",  # reproducible SVG: fixed ids
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
}
COLORS = {"runs": "#3f51b5", "lesson": "#e65100", "bound": "#b71c1c", "diverged": "#424242"}


# -- the sweep, in the process of its own ----------------------------------------------------------
def bound(ns: dict) -> float:
    """2 / lambda_max of 2 h_relu^T h_relu at the lesson's initial weights, as the page computes it."""
    import numpy as np

    h_relu = np.maximum(ns["x"].dot(ns["w1"]), 0)
    return float(2 / np.linalg.eigvalsh(2 * h_relu.T.dot(h_relu)).max())


def final_loss(lr: float) -> float:
    """The loss at the last step of the lesson's own training loop, with `lr` instead of its own."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "bench"))
    import lessons

    ns = lessons.namespace(LESSON)
    ns["lr"] = lr
    with np.errstate(over="ignore", invalid="ignore"):
        return float(lessons.run(lessons.train_code(LESSON), ns)["losses"][-1])


def sweep(factors=FACTORS) -> dict:
    sys.path.insert(0, str(ROOT / "bench"))
    import lessons

    ns = lessons.namespace(LESSON)
    limit = bound(ns)
    runs = [
        {"lr": lr, "final_loss": final_loss(lr)} for lr in sorted([ns["lr"], *(f * limit for f in factors)])
    ]
    return {"bound": limit, "lesson_lr": ns["lr"], "runs": runs}


def sci(value: float, digits: int) -> str:
    """1e-06 -> '1e-6', 1.0162e-06 -> '1.02e-6' (3 digits)."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def svg(data: dict, lang: str) -> str:
    """Final loss against learning rate, log-log; diverged runs marked along the top."""
    import io
    import math
    import warnings

    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    warnings.filterwarnings("ignore", message="Glyph .* missing from font")  # text stays text
    words = LABELS[lang]
    runs = data["runs"]
    finite = [r for r in runs if math.isfinite(r["final_loss"])]
    diverged = [r for r in runs if not math.isfinite(r["final_loss"])]
    lesson = next(r for r in runs if r["lr"] == data["lesson_lr"])
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(6.5, 3.6))
        ax = fig.add_subplot()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.plot(
            [r["lr"] for r in finite], [r["final_loss"] for r in finite], "o-", color=COLORS["runs"], ms=4
        )
        if math.isfinite(lesson["final_loss"]):
            ax.plot(
                [lesson["lr"]],
                [lesson["final_loss"]],
                "s",
                color=COLORS["lesson"],
                ms=7,
                label=words["lesson"].format(lr=sci(lesson["lr"], 3)),
            )
        ax.axvline(
            data["bound"],
            color=COLORS["bound"],
            linestyle="--",
            linewidth=1.2,
            label=words["bound"].format(bound=sci(data["bound"], 3)),
        )
        if diverged:  # at the top edge: no loss to plot
            ax.plot(
                [r["lr"] for r in diverged],
                [0.96] * len(diverged),
                "x",
                color=COLORS["diverged"],
                ms=7,
                mew=2,
                transform=ax.get_xaxis_transform(),
                label=words["diverged"],
            )
        b = data["bound"]  # the top axis: the same learning rates, as multiples of the bound
        top = ax.secondary_xaxis("top", functions=(lambda lr: lr / b, lambda f: f * b))
        top.set_xticks([0.5, 1, 2, 5], ["0.5", "1", "2", "5"])
        top.xaxis.set_minor_formatter(NullFormatter())
        top.set_xlabel(words["factor"])
        ax.set_xlabel(words["x"])
        ax.set_ylabel(words["y"])
        ax.grid(True, which="major", linewidth=0.3)
        ax.legend(fontsize=8, frameon=False, loc="lower right")
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
        return out.getvalue()


def compute(folder: Path) -> None:
    """Sweep, draw each language's plot, and write all of it to `folder` at once."""
    data = sweep()
    partial = Path(tempfile.mkdtemp(prefix="partial-", dir=folder.parent))
    (partial / "sweep.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    for lang in LANGS:
        (partial / f"{lang}.svg").write_text(svg(data, lang), encoding="utf-8")
    partial.replace(folder)


# -- the build ------------------------------------------------------------------------------------
def cached() -> Path:
    """The folder of this snippet's sweep: keyed on the snippet and on this file."""
    key = hashlib.sha256(SNIPPET.read_bytes() + Path(__file__).read_bytes()).hexdigest()[:16]
    return CACHE / key


running: tuple[Path, subprocess.Popen, object] | None = None  # the folder being made, its process, its output
pending: list[tuple[str, str]] = []  # (site_dir, lang) given the stand-in in this build


def on_config(config):
    """Start the sweep unless it is cached or already running (i18n's English build runs
    inside the Chinese one and finds it running)."""
    global running
    folder = cached()
    if folder.exists() or (running is not None and running[0] == folder and running[1].poll() in (None, 0)):
        return config
    if running is not None:  # mkdocs serve: the snippet changed while an older sweep ran
        running[1].kill()
    folder.parent.mkdir(parents=True, exist_ok=True)
    output = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        [sys.executable, __file__, str(folder)],
        cwd=ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, **ONE_THREAD},
    )
    running = (folder, process, output)
    return config


STAND_IN = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


def dest(lang: str) -> str:
    return f"assets/plots/lr_sweep-{lang}.svg"


@event_priority(-100)  # after mkdocs-static-i18n (0), which rebuilds the file list per language
def on_files(files: Files, config) -> Files:
    """One plot per language, each page showing its own (lr_sweep-zh.svg, lr_sweep-en.svg);
    i18n's English build shares the files of the Chinese one, so they are added once."""
    for lang in LANGS:
        if files.get_file_from_path(dest(lang)) is not None:
            continue
        plot = cached() / f"{lang}.svg"
        if plot.exists():
            files.append(File.generated(config, dest(lang), content=plot.read_text(encoding="utf-8")))
        else:
            files.append(File.generated(config, dest(lang), content=STAND_IN))
            pending.append((config.site_dir, lang))
    return files


@event_priority(-200)  # after i18n (-100), whose on_post_build runs the English build
def on_post_build(config):
    """Each stand-in written in this build, replaced by its plot once the sweep is done."""
    if not pending:
        return
    if running is None:
        raise PluginError("hooks/lr_sweep.py: no sweep ran, and none is cached")
    folder, process, output = running
    if process.wait() != 0:
        output.seek(0)
        raise PluginError(f"hooks/lr_sweep.py: the sweep failed:\n{output.read()[-6000:]}")
    while pending:
        site_dir, lang = pending.pop()
        plot = (folder / f"{lang}.svg").read_text(encoding="utf-8")
        (Path(site_dir) / dest(lang)).write_text(plot, encoding="utf-8")


def on_build_error(error):
    pending.clear()


def on_shutdown():
    if running is not None:
        running[1].kill()


if __name__ == "__main__":  # the sweep's process: the folder to write
    os.nice(10)  # the build and the notebooks' kernel first: the sweep takes the idle CPU
    compute(Path(sys.argv[1]))
