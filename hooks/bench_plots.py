"""The performance lesson's plots and tables, made at build time from bench/results.json.

bench/run.py measures and writes the results; this hook turns them into
- SVG files under `assets/bench/` (ratios.svg: every loop against its floor; sweep.svg:
  one step as the matrices grow), added to the site as if they were in docs/. Labels
  are code names, symbols and units, so one SVG serves both languages;
- the page's tables: a line `<!-- bench-table: NAME -->` in docs/performance*.md is
  replaced by the Markdown table NAME (see TABLES), its header in the page's language.
Only the data is committed, never a picture or a table of it: a new run updates the
page. Covered by tests/test_performance.py.
"""

import functools
import hashlib
import io
import json
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
CACHE = ROOT / ".cache" / "bench_plots"
DEST = "assets/bench"

# Reproducible SVG: no date, fixed ids; text stays text (small, crisp, selectable).
STYLE = {
    "svg.hashsalt": "bench",
    "svg.fonttype": "none",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = {"cpu": "#3f51b5", "cuda": "#2e7d32", "floor": "#b71c1c"}


def label(loop: dict) -> str:
    """One loop, in code names: `autograd.py · float32 · threads=2`."""
    name = {
        "lesson": f"{loop['lesson']}.py",
        "tuned": f"tuned_{loop['lib']}.py",
        "compile": f"torch.compile({loop['lesson']} step)",
        "sgd": f"{loop['lesson']}.py (SGD)",
    }[loop["impl"]]
    where = "cuda" if loop["device"] == "cuda" else f"threads={loop['threads']}"
    return f"{name} · {loop['dtype']} · {where}"


def _svg(fig) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return out.getvalue()


def ratios_svg(data: dict) -> str:
    """Each loop's time over its floor: a dark bar for the fastest run, a pale one for the median."""
    import matplotlib
    from matplotlib.figure import Figure

    loops = data["loops"]
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.5, 0.8 + 0.26 * len(loops)))
        ax = fig.add_subplot()
        rows = range(len(loops))[::-1]  # first loop on top
        colors = [COLORS[loop["device"]] for loop in loops]
        ax.barh(rows, [loop["ratio_median"] for loop in loops], color=colors, alpha=0.3, height=0.75)
        ax.barh(rows, [loop["ratio_min"] for loop in loops], color=colors, height=0.75)
        for row, loop in zip(rows, loops, strict=True):
            end = max(loop["ratio_min"], loop["ratio_median"])
            ax.text(end, row, f" {loop['ratio_min']:.1f}×", va="center")
        ax.axvline(1, color=COLORS["floor"], linewidth=1.2)
        ax.set_yticks(list(rows), [label(loop) for loop in loops])
        ax.set_ylim(-0.6, len(loops) - 0.4)
        ax.set_xlim(0, max(loop["ratio_median"] for loop in loops) * 1.12)
        ax.set_xlabel(
            "t / t_floor   (dark: fastest run; pale: median;  t_floor = 500 · FLOP/step ÷ peak FLOP/s)"
        )
        return _svg(fig)


def sweep_svg(data: dict) -> str:
    """One autograd training step as N and H grow: time, and the FLOP/s it reaches."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter

    points = [p for p in data["sweep"] if "step_s" in p]
    lesson = (data["flops"]["N"], data["flops"]["H"])
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.5, 3.6))
        ax_time, ax_rate = fig.subplots(1, 2)
        for device in ("cpu", "cuda"):
            mine = sorted((p for p in points if p["device"] == device), key=lambda p: p["flops"])
            if not mine:
                continue
            x = [p["flops"] for p in mine]
            name = device if device == "cuda" else f"cpu, threads={mine[0]['threads']}"
            ax_time.plot(x, [p["step_s"] * 1e3 for p in mine], "o", color=COLORS[device], label=name, ms=4)
            ax_rate.plot(x, [p["flops"] / p["step_s"] / 1e9 for p in mine], "o", color=COLORS[device], ms=4)
            peak = max(p["gflops"] for p in data["peak"] if p["device"] == device and p["dtype"] == "float32")
            span = [min(x), max(x)]
            ax_time.plot(
                span,
                [f / peak / 1e6 for f in span],
                "--",
                color=COLORS[device],
                linewidth=1,
                label=f"{name}: FLOP ÷ peak",
            )
            ax_rate.axhline(peak, linestyle="--", color=COLORS[device], linewidth=1)
            for p in mine:
                if (p["N"], p["H"]) == lesson:
                    ax_time.annotate(
                        f"N={lesson[0]}, H={lesson[1]}",
                        (p["flops"], p["step_s"] * 1e3),
                        xytext=(8, -12),
                        textcoords="offset points",
                        fontsize=8,
                    )
        for ax in (ax_time, ax_rate):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # decades only
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("FLOP / step")
            ax.grid(True, which="major", linewidth=0.3)
        ax_time.set_ylabel("ms / step")
        ax_rate.set_ylabel("GFLOP/s   (dashed: float32 peak)")
        ax_time.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        return _svg(fig)


PLOTS = {"ratios": ratios_svg, "sweep": sweep_svg}


@functools.cache
def svgs(text: str) -> dict[str, str]:
    """Every plot of the results in `text`; drawn once per build, not once per language,
    and cached under .cache/bench_plots/ (3 s with matplotlib's import), keyed on the
    data and on this file, so a warm build or `mkdocs serve` draws them only when
    either changes."""
    key = hashlib.sha256(text.encode() + Path(__file__).read_bytes()).hexdigest()[:16]
    cached = CACHE / key
    if not all((cached / f"{name}.svg").exists() for name in PLOTS):
        data = json.loads(text)
        drawn = {name: draw(data) for name, draw in PLOTS.items()}
        cached.mkdir(parents=True, exist_ok=True)
        for name, svg in drawn.items():
            (cached / f"{name}.svg").write_text(svg, encoding="utf-8")
    return {name: (cached / f"{name}.svg").read_text(encoding="utf-8") for name in PLOTS}


# After mkdocs-static-i18n (priority 0), which rebuilds the file list per language
# and would drop files that do not come from docs/.
@event_priority(-100)
def on_files(files: Files, config) -> Files:
    for name, svg in svgs(RESULTS.read_text(encoding="utf-8")).items():
        uri = f"{DEST}/{name}.svg"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=svg))
    return files


# -- tables -------------------------------------------------------------------------------------
# The lessons timed in both dtypes and on 1 and all threads: the first loop table; the rest
# of the loops go in the second.
CORE = ("numpy_warmup", "tensors", "autograd")

# Each table's header, per language.
HEADERS = {
    "peak": {
        "zh": ["dtype", "线程", "NumPy (GFLOP/s)", "PyTorch (GFLOP/s)", "500 步的下限 (ms)"],
        "en": ["dtype", "threads", "NumPy (GFLOP/s)", "PyTorch (GFLOP/s)", "floor for 500 steps (ms)"],
    },
    "loops": {
        "zh": ["代码", "dtype", "线程", "最快 (ms)", "中位数 (ms)", "最快 ÷ 下限"],
        "en": ["code", "dtype", "threads", "fastest (ms)", "median (ms)", "fastest ÷ floor"],
    },
    "profile": {
        "zh": ["NumPy 的代码", "NumPy float64 (µs)", "NumPy float32 (µs)", "张量 float32 (µs)"],
        "en": ["NumPy code", "NumPy float64 (µs)", "NumPy float32 (µs)", "Tensors float32 (µs)"],
    },
    "autograd": {"zh": ["代码", "float32 (µs)"], "en": ["code", "float32 (µs)"]},
}
HEADERS["more"] = HEADERS["loops"]


# How the page rounds: 3 significant digits, at least the units.
def ms(seconds: float) -> str:
    v = seconds * 1e3
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def us(microseconds: float) -> str:
    return f"{microseconds:.0f}" if microseconds >= 10 else f"{microseconds:.1f}"


def code(text: str) -> str:
    """A line of code as a table cell: its first line, without its comment, as `code`."""
    return f"`{text.splitlines()[0].split('  #')[0]}`"


def peak_rows(data: dict) -> list[list[str]]:
    """Per dtype and thread count: each library's peak, and the floor from the faster one."""
    every, per_loop = data["settings"]["all_threads"], data["flops"]["per_loop"]
    rows = []
    for dtype in ("float32", "float64"):
        for n in sorted({1, every}):
            found = {
                p["lib"]: p["gflops"]
                for p in data["peak"]
                if p["device"] == "cpu" and p["dtype"] == dtype and p["threads"] == n
            }
            floor = per_loop / (max(found.values()) * 1e9)
            rows.append([f"`{dtype}`", str(n), f"{found['numpy']:.0f}", f"{found['torch']:.0f}", ms(floor)])
    return rows


def loop_rows(data: dict, core: bool) -> list[list[str]]:
    """The loops, in the data's order: the core lessons' own loops, or all the others."""
    rows = []
    for loop in data["loops"]:
        if (loop["impl"] == "lesson" and loop["lesson"] in CORE) != core:
            continue
        name, dtype, where = label(loop).split(" · ")
        times = [ms(loop["min_s"]), ms(loop["median_s"]), f"{loop['ratio_min']:.1f}"]
        rows.append([f"`{name}`", f"`{dtype}`", where.removeprefix("threads="), *times])
    return rows


def profile_of(data: dict, lesson: str, dtype: str) -> list[dict]:
    (found,) = [p for p in data["profile"] if p["lesson"] == lesson and p["dtype"] == dtype]
    return found["rows"]


def profile_rows(data: dict) -> list[list[str]]:
    """The hand-written loops line for line: NumPy float64 and float32, tensors float32."""
    columns = [profile_of(data, *key) for key in (("numpy_warmup", "float64"), ("numpy_warmup", "float32"))]
    columns.append(profile_of(data, "tensors", "float32"))
    return [
        [code(a["code"]), us(a["us"]), us(b["us"]), us(c["us"])] for a, b, c in zip(*columns, strict=True)
    ]


def autograd_rows(data: dict) -> list[list[str]]:
    return [[code(row["code"]), us(row["us"])] for row in profile_of(data, "autograd", "float32")]


TABLES = {
    "peak": peak_rows,
    "loops": lambda data: loop_rows(data, core=True),
    "more": lambda data: loop_rows(data, core=False),
    "profile": profile_rows,
    "autograd": autograd_rows,
}


def table(name: str, lang: str, data: dict) -> list[str]:
    """Table `name` of the data as lines of Markdown, its header in `lang`."""
    header = HEADERS[name][lang]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in TABLES[name](data)]


PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)<!-- bench-table: (?P<name>\w+) -->[ \t]*$", re.M)


def tables(markdown: str, lang: str, data: dict) -> str:
    """The page's Markdown with each placeholder replaced by its table, indented as it is."""

    def replace(m: re.Match) -> str:
        if m["name"] not in TABLES:
            raise PluginError(f"bench_plots: no table {m['name']!r}; there are {sorted(TABLES)}")
        return "\n".join(m["indent"] + line for line in table(m["name"], lang, data))

    return PLACEHOLDER.sub(replace, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if not PLACEHOLDER.search(markdown):
        return markdown
    lang = config.plugins["i18n"].current_language
    return tables(markdown, lang, json.loads(RESULTS.read_text(encoding="utf-8")))
