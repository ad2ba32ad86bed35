"""The performance lesson (docs/performance.md) says what bench/results.json holds.

No timing is a pass/fail threshold here: these tests check that the page and the
data agree (every number on the page is a number of the data, rounded as printed),
that the plots are drawn from the data, that the benchmark times the lessons' own
code, and that `bench/run.py --quick` runs and writes a valid file.
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import lessons
from lessons import DOCS, ROOT

RESULTS = ROOT / "bench" / "results.json"
PAGES = {"zh": DOCS / "performance.md", "en": DOCS / "performance.en.md"}


def module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    found = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(found)
    return found


sys.path.insert(0, str(ROOT / "bench"))  # bench's modules import each other by name
flops = module(ROOT / "bench" / "flops.py")
run = module(ROOT / "bench" / "run.py")
project = module(ROOT / "bench" / "project.py")
page_bench = module(ROOT / "bench" / "pages.py")
plots = module(ROOT / "hooks" / "bench_plots.py")

DATA = json.loads(RESULTS.read_text(encoding="utf-8"))
TEXT = {lang: page.read_text(encoding="utf-8") for lang, page in PAGES.items()}
CPU_LOOPS = [loop for loop in DATA["loops"] if loop["device"] == "cpu"]
CORE = ("numpy_warmup", "tensors", "autograd")  # the lessons timed in both dtypes, on 1 and all threads


# -- how the page rounds -------------------------------------------------------------------
def ms(seconds: float) -> str:
    v = seconds * 1e3
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def us(microseconds: float) -> str:
    return f"{microseconds:.0f}" if microseconds >= 10 else f"{microseconds:.1f}"


def ratio(r: float) -> str:
    return f"{r:.1f}"


def find(device="cpu", **match) -> dict:
    """The one loop of the data with these fields."""
    (found,) = [
        loop
        for loop in DATA["loops"]
        if loop["device"] == device and all(loop[k] == v for k, v in match.items())
    ]
    return found


def peak(dtype: str, threads: int, lib: str | None = None) -> float:
    rows = [
        p for p in DATA["peak"] if p["device"] == "cpu" and p["dtype"] == dtype and p["threads"] == threads
    ]
    return max(p["gflops"] for p in rows if lib in (None, p["lib"]))


# -- the data file ---------------------------------------------------------------------------
def check_results(data: dict) -> None:
    """What every results file holds, committed or --quick; its derived numbers add up."""
    machine = data["machine"]
    for key in ("cpu", "cores", "threads", "numpy", "numpy_blas", "torch", "torch_blas", "date"):
        assert machine[key], key
    assert "gpu" in machine and set(machine["load_average"]) >= {"start", "end"}
    assert all({"worker", "checks", "waited_s", "still_busy"} <= set(q) for q in machine["quiet"])
    f = data["flops"]
    shapes = {k: f[k] for k in ("N", "D_in", "H", "D_out")}
    assert f["per_step"] == flops.step_flops(**shapes) == sum(f["matmuls"].values())
    assert f["per_loop"] == f["per_step"] * data["settings"]["steps"]
    threads = sorted({loop["threads"] for loop in data["loops"] if loop["device"] == "cpu"})
    for lib in ("numpy", "torch"):
        for dtype in ("float32", "float64"):
            for n in threads:
                assert any(
                    p["lib"] == lib and p["dtype"] == dtype and p["threads"] == n for p in data["peak"]
                )
    for n in threads:  # every lesson, both dtypes, every thread count
        for lesson in ("numpy_warmup", "tensors", "autograd"):
            for dtype in ("float32", "float64"):
                assert any(
                    (loop["lesson"], loop["impl"], loop["dtype"], loop["threads"])
                    == (lesson, "lesson", dtype, n)
                    for loop in data["loops"]
                ), (lesson, dtype, n)
    for loop in data["loops"]:
        assert len(loop["times_s"]) == data["settings"]["repeats"]
        assert loop["min_s"] == min(loop["times_s"])
        peak_gflops = run.peak_of(data["peak"], loop["device"], loop["dtype"], loop["threads"])
        assert loop["floor_s"] == pytest.approx(f["per_step"] * loop["steps"] / (peak_gflops * 1e9))
        assert loop["ratio_min"] == pytest.approx(loop["min_s"] / loop["floor_s"])
    assert {p["lesson"] for p in data["profile"]} >= {"numpy_warmup", "autograd"}
    assert [p for p in data["sweep"] if "step_s" in p]
    devices = {p["device"] for p in data["sweep"]} | {loop["device"] for loop in data["loops"]}
    assert ("cuda" in devices) == bool(machine["gpu"])


def test_committed_results_are_complete_and_add_up():
    check_results(DATA)
    assert not DATA["settings"]["quick"] and DATA["settings"]["steps"] == 500


# Its output file is named at collection, when the run starts in the background (one per
# pytest process: two suites at once don't share it); the test removes it.
QUICK_OUT = Path(tempfile.gettempdir()) / f"bench-quick-{os.getpid()}.json"
QUICK_RUN = (sys.executable, "bench/run.py", "--quick", "--out", str(QUICK_OUT))


@pytest.mark.background(QUICK_RUN)
def test_quick_run_writes_a_valid_file():
    """`bench/run.py --quick` runs end to end (tiny sizes, one repeat, 1 thread)."""
    try:
        done = lessons.ran(QUICK_RUN)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "peak" in done.stderr and "min" in done.stderr  # progress while it runs
        data = json.loads(QUICK_OUT.read_text(encoding="utf-8"))
    finally:
        QUICK_OUT.unlink(missing_ok=True)
    check_results(data)
    assert data["settings"]["quick"]


# -- the project's own speed: bench/project.py, not the lesson's benchmark -------------------
def test_project_timing_is_a_script_of_its_own():
    """bench/run.py measures the lessons only; bench/project.py the tests and the build."""
    assert (
        "--project"
        not in subprocess.run(
            [sys.executable, "bench/run.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    )
    assert "project" not in DATA


def test_first_visit_weighs_the_page_and_what_it_loads(tmp_path):
    (tmp_path / "index.html").write_text(
        '<link rel="stylesheet" href="a.css"><script src="b.js"></script><img src="c.svg">'
        '<script src="https://elsewhere.example/x.js"></script>',
        encoding="utf-8",
    )
    (tmp_path / "a.css").write_text("@font-face { src: url(f.woff2) }", encoding="utf-8")
    for name in ("b.js", "c.svg", "f.woff2"):
        (tmp_path / name).write_text(name * 10, encoding="utf-8")
    visit = project.first_visit(tmp_path)
    assert visit["files"] == 5  # the page, its CSS, script, image and the CSS's font; not another host's
    assert visit["bytes"] == sum(f.stat().st_size for f in tmp_path.iterdir())


# -- bench/pages.py, the page benchmark (Lighthouse): what can run without a browser ---------
def test_page_benchmark_finds_npm_to_install_lighthouse():
    """bench/pages.py installs Lighthouse with PyPI's npm, on a machine with no other Node."""
    done = page_bench.npm("--version", capture_output=True, text=True)
    assert done.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\s*", done.stdout), done.stdout + done.stderr


def test_committed_page_results_cover_every_page_in_both_forms():
    data = json.loads((ROOT / "bench" / "pages.json").read_text(encoding="utf-8"))
    expected = {f"{page} {form}" for page in page_bench.PAGES for form in page_bench.FORMS}
    assert set(data["results"]) == expected
    assert data["machine"]["cores"] and "|" in page_bench.table(data["results"])


# -- the benchmark times the lessons' own code -----------------------------------------------
@pytest.mark.parametrize("lesson", ["numpy_warmup", "tensors", "autograd"])
def test_bench_reads_the_sections_the_pages_embed(lesson):
    """bench/ reads a lesson through lessons.py, the tests' reader, no copy of its own."""
    assert run.lessons is lessons and sys.modules["measure"].lessons is lessons
    # and run as a script (bench/ first on sys.path), nothing in bench/ stands in for it
    assert importlib.machinery.PathFinder.find_spec("lessons", [str(ROOT / "bench")]) is None
    assert lesson in lessons.lessons_with("train")


def test_flop_count_is_the_lessons_shapes():
    ns = lessons.setup("numpy_warmup")
    shapes = {k: ns[k] for k in ("N", "D_in", "H", "D_out")}
    assert {k: DATA["flops"][k] for k in shapes} == shapes
    assert DATA["flops"]["per_step"] == flops.step_flops(**shapes) == 25_984_000  # the count
    assert DATA["flops"]["elementwise_per_step"] == flops.elementwise_flops(**shapes)


STEPS = 50  # enough to compare; the suite need not train 500 steps again


@pytest.fixture
def one_thread():
    """Torch on one thread: NumPy's idle BLAS threads in this process make two crawl."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def page_formulas(text: str) -> list[str]:
    """The sides of the page's F_step equation, as Python: `2 N D_{in} H` -> `2*N*D_in*H`."""
    (math,) = re.findall(r"\$\$\s*\\begin\{aligned\}\s*F_\{\\text\{step\}\}(.*?)\\end\{aligned\}", text, re.S)
    math = re.sub(r"\\underbrace\{(.*?)\}_\{\\text\{[^}]*\}\}", r"(\1)", math)
    math = re.sub(r"\\left|\\right|\\\\", "", math)

    def value(token):  # a number or a symbol
        return token is not None and (token in ("N", "H") or token[0].isdigit() or token.startswith("D_"))

    sides = []
    for side in math.split("&=")[1:]:
        tokens = re.findall(r"D_\{in\}|D_\{out\}|[NH]|\d+|[-+()]|\S", side)
        python = ""
        for before, token in zip([None, *tokens], tokens):  # juxtaposition is a product
            if (value(before) or before == ")") and (value(token) or token == "("):
                python += "*"
            python += token.replace("{", "").replace("}", "")
        sides.append(python)
    return sides


@pytest.mark.parametrize("lang", PAGES)
def test_flop_formula_on_the_page_is_the_benchmarks(lang):
    """Both sides of F_step on the page, at the lessons' shapes and at others, are bench/flops.py's count."""
    sides = page_formulas(TEXT[lang])
    assert len(sides) == 2, sides
    for shapes in (
        {k: DATA["flops"][k] for k in ("N", "D_in", "H", "D_out")},
        dict(N=3, D_in=5, H=7, D_out=11),
    ):
        for side in sides:
            assert eval(side, {}, shapes) == flops.step_flops(**shapes), side


def losses(lesson, dtype=None):
    ns = lessons.namespace(lesson, device="cpu", dtype=dtype)
    return ns, lessons.quietly(lessons.train_code(lesson, steps=STEPS), ns)["losses"]


def test_swapped_dtype_and_sizes_reach_the_lesson():
    ns = lessons.namespace("tensors", device="cpu", dtype="float64")
    assert str(ns["w1"].dtype) == "torch.float64"
    ns = lessons.namespace("numpy_warmup", dtype="float32")
    assert ns["x"].dtype.name == "float32" and ns["w1"].dtype.name == "float32"
    ns = lessons.namespace("autograd", device="cpu", sizes=(16, 1000, 32, 10))
    assert tuple(ns["w1"].shape) == (1000, 32) and ns["w1"].requires_grad


def test_tuned_numpy_loop_trains_exactly_like_the_lesson():
    """Same arithmetic in the same order: the same losses, bit for bit."""
    tuned = module(ROOT / "bench" / "tuned_numpy.py")
    ns, expected = losses("numpy_warmup")
    fresh = lessons.namespace("numpy_warmup")
    with contextlib.redirect_stdout(io.StringIO()):
        got = tuned.train(fresh["x"], fresh["y"], fresh["w1"], fresh["w2"], fresh["lr"], steps=STEPS)
    assert got == expected


def test_tuned_torch_loop_trains_like_the_lesson(one_thread):
    """addmm_ rounds differently from `w1 -= lr * grad_w1`: close, not identical."""
    import numpy as np

    tuned = module(ROOT / "bench" / "tuned_torch.py")
    _, expected = losses("tensors")
    fresh = lessons.namespace("tensors", device="cpu")
    with contextlib.redirect_stdout(io.StringIO()):
        got = tuned.train(fresh["x"], fresh["y"], fresh["w1"], fresh["w2"], fresh["lr"], steps=STEPS)
    np.testing.assert_allclose(got, expected, rtol=1e-3)


def test_step_function_for_torch_compile_trains_exactly_like_the_lesson(one_thread):
    """The step torch.compile gets is the lesson's forward, backward and update sections."""
    _, expected = losses("tensors")
    ns = lessons.namespace("tensors", device="cpu")
    exec(lessons.step_source("tensors"), ns)
    assert lessons.quietly(lessons.step_loop_code("tensors", steps=STEPS), ns)["losses"] == expected


# -- the plots are drawn from the data ----------------------------------------------------------
def test_ratio_plot_has_a_bar_for_every_loop_and_nothing_else():
    svg = plots.ratios_svg(DATA)
    for loop in DATA["loops"]:
        assert f">{plots.label(loop)}<" in svg, plots.label(loop)
        assert f"{loop['ratio_min']:.1f}×" in svg
    fewer = {**DATA, "loops": DATA["loops"][1:]}
    assert f">{plots.label(DATA['loops'][0])}<" not in plots.ratios_svg(fewer)


def test_sweep_plot_shows_each_device_measured():
    svg = plots.sweep_svg(DATA)
    cpu_threads = next(p["threads"] for p in DATA["sweep"] if p["device"] == "cpu")
    assert f"cpu, threads={cpu_threads}" in svg
    assert (">cuda<" in svg) == any(p["device"] == "cuda" for p in DATA["sweep"])
    assert f"N={DATA['flops']['N']}, H={DATA['flops']['H']}" in svg  # the lesson's size, marked


def test_plots_are_reproducible_svg():
    assert plots.sweep_svg(DATA) == plots.sweep_svg(DATA)


def test_plots_are_cached_by_the_data(tmp_path, monkeypatch):
    """The build draws from the cache only what this data would draw: new data, new plots."""
    monkeypatch.setattr(plots, "CACHE", tmp_path)
    plots.svgs.cache_clear()
    drawn = plots.svgs(RESULTS.read_text(encoding="utf-8"))
    assert set(drawn) == set(plots.PLOTS) and drawn["ratios"] == plots.ratios_svg(DATA)
    fewer = {**DATA, "loops": DATA["loops"][1:]}
    plots.svgs.cache_clear()
    assert plots.svgs(json.dumps(fewer))["ratios"] == plots.ratios_svg(fewer) != drawn["ratios"]
    assert len(list(tmp_path.iterdir())) == 2  # one folder per data
    plots.svgs.cache_clear()


@pytest.mark.parametrize("lang", PAGES)
def test_page_shows_every_plot_with_alt_text(lang):
    shown = re.findall(r"!\[([^\]]*)\]\(assets/bench/(\w+)\.svg\)", TEXT[lang])
    assert sorted(name for _, name in shown) == sorted(plots.PLOTS)
    assert all(len(alt) > 20 for alt, _ in shown)


# -- every number the page states -----------------------------------------------------------------
def gflops(g: float) -> str:
    return f"{g:.0f}"


def profile(lesson: str, dtype: str) -> dict:
    (found,) = [p for p in DATA["profile"] if p["lesson"] == lesson and p["dtype"] == dtype]
    return {row["code"].splitlines()[0].split("  #")[0]: row for row in found["rows"]}


def facts() -> dict[str, str]:
    """Each number the page states, computed from the data and rounded as printed."""
    data = DATA
    m, f, s = data["machine"], data["flops"], data["settings"]
    every = s["all_threads"]
    loop = lambda **k: find(**k)  # noqa: E731
    out = {
        "cpu": m["cpu"],
        "cores": str(m["cores"]),
        "numpy": m["numpy"],
        "numpy_blas": m["numpy_blas"],
        "torch": m["torch"],
        "mkl": re.search(r"Version ([\d.]+)", m["torch_blas"]).group(1),
        "date": m["date"][:10],
        "wait_threshold": str(m["load_average"]["wait"]["threshold"]),
        "quiet_checks": str(sum(q["checks"] for q in m["quiet"])),
        "quiet_waited_s": f"{sum(q['waited_s'] for q in m['quiet']):.0f}",
        "quiet_busy": str(sum(q["still_busy"] for q in m["quiet"])),
        "load_start": f"{m['load_average']['start'][0]:.2f}",
        "load_end": f"{m['load_average']['end'][0]:.2f}",
        "repeats": str(s["repeats"]),
        "threads": str(every),
        "steps": str(s["steps"]),
        **{k: str(f[k]) for k in ("N", "D_in", "H")},
        # the FLOP count
        "flops_big": f"{f['matmuls']['h']:,}",
        "flops_small": f"{f['matmuls']['y_pred']:,}",
        "flops_step": f"{f['per_step']:,}",
        "gflop_loop": f"{f['per_loop'] / 1e9:.3f}",
        "elementwise": f"{f['elementwise_per_step']:,}",
        "elementwise_share": f"{100 * f['elementwise_per_step'] / f['per_step']:.2f}",
        "small_share": f"{100 * 3 * f['matmuls']['y_pred'] / f['per_step']:.1f}",
        "update_flops": f"{2 * f['D_in'] * f['H']:,}",  # w1 -= lr * grad_w1: a multiply and a subtract
        "peak_n": str(data["peak"][0]["n"]),
    }
    # the lessons as written (all threads; NumPy and tensors on 1 thread too), and the fastest loop
    for key, (lesson, dtype) in {
        "numpy": ("numpy_warmup", "float64"),
        "tensors": ("tensors", "float32"),
        "autograd": ("autograd", "float32"),
    }.items():
        row = loop(lesson=lesson, impl="lesson", dtype=dtype, threads=every)
        out[f"{key}_{every}_ms"], out[f"{key}_{every}_ratio"] = ms(row["min_s"]), ratio(row["ratio_min"])
        if key != "autograd":
            out[f"{key}_1_ms"] = ms(loop(lesson=lesson, impl="lesson", dtype=dtype, threads=1)["min_s"])
    for n in (1, every):
        out[f"numpy32_{n}_ms"] = ms(
            loop(lesson="numpy_warmup", impl="lesson", dtype="float32", threads=n)["min_s"]
        )
    # a second thread: how much faster each lesson's loop got, at least and at most
    gains = [
        loop(lesson=lesson, impl="lesson", dtype=dtype, threads=1)["min_s"]
        / loop(lesson=lesson, impl="lesson", dtype=dtype, threads=every)["min_s"]
        for lesson in CORE
        for dtype in ("float32", "float64")
    ]
    out["thread_gain_min"], out["thread_gain_max"] = ratio(min(gains)), ratio(max(gains))
    lessons_ = [
        r
        for r in CPU_LOOPS
        if r["impl"] == "lesson" and r["lesson"] in ("numpy_warmup", "tensors", "autograd")
    ]
    best = min(lessons_, key=lambda r: r["ratio_min"])
    out["best_ratio"], out["best_ms"] = ratio(best["ratio_min"]), ms(best["min_s"])
    out["worst_ratio"] = ratio(max(r["ratio_min"] for r in lessons_))
    for lesson, dtype, n in (
        ("tensors", "float32", 1),
        ("tensors", "float32", every),
        ("numpy_warmup", "float64", 1),
        ("numpy_warmup", "float32", every),
    ):
        out[f"tuned_{lesson}_{dtype}_{n}_ms"] = ms(
            loop(lesson=lesson, impl="tuned", dtype=dtype, threads=n)["min_s"]
        )
    # where the time goes
    numpy64, torch32 = profile("numpy_warmup", "float64"), profile("tensors", "float32")
    for key, rows in (("numpy", numpy64), ("tensors", torch32)):
        step = sum(r["us"] for r in rows.values())
        big = [r for r in rows.values() if r["flops"] == f["matmuls"]["h"]]
        small = [r for r in rows.values() if 0 < r["flops"] < f["matmuls"]["h"]]
        update = next(r for code, r in rows.items() if code.startswith("w1 -="))
        out[f"{key}_step_us"] = us(step)
        out[f"{key}_big_share"] = f"{100 * sum(r['us'] for r in big) / step:.0f}"
        out[f"{key}_big_gflops"] = gflops(sum(r["flops"] for r in big) / sum(r["us"] for r in big) / 1e3)
        out[f"{key}_small_gflops"] = gflops(
            sum(r["flops"] for r in small) / sum(r["us"] for r in small) / 1e3
        )
        out[f"{key}_update_us"] = us(update["us"])
        # how close the large products come to the peak of their own library, dtype, thread count
        lib, dtype = ("numpy", "float64") if key == "numpy" else ("torch", "float32")
        rate = sum(r["flops"] for r in big) / sum(r["us"] for r in big) / 1e3
        out[f"{key}_peak"] = gflops(peak(dtype, every, lib))
        out[f"{key}_big_share_of_peak"] = f"{100 * rate / peak(dtype, every, lib):.0f}"
    autograd = profile("autograd", "float32")
    out["backward_us"] = us(autograd["loss.backward()"]["us"])
    hand = [r for code, r in torch32.items() if code.startswith(("grad_", "grad_h["))]
    out["hand_backward_us"] = us(sum(r["us"] for r in hand))
    for label in ("numpy a + a", "torch a + a", "torch w + w (requires_grad)"):
        out["call " + label] = f"{data['overhead_us'][label]:.1f}"
    out["import_torch"] = f"{data['imports']['torch']['median_s']:.1f}"
    out["import_numpy"] = f"{data['imports']['numpy']['median_s']:.2f}"
    for lesson, run_ in data["scripts"].items():
        out[f"script_{lesson}"] = f"{run_['median_s']:.1f}"
    # what doesn't help
    compiled = loop(impl="compile")
    out["compile_s"] = f"{compiled['compile_s']:.0f}"
    out["recompile_s"] = f"{compiled['recompile_s']:.1f}"
    out["compiled_ms"], out["compiled_median_ms"] = ms(compiled["min_s"]), ms(compiled["median_s"])
    eager = loop(lesson="tensors", impl="lesson", dtype="float32", threads=every)
    out["tensors_median_ms"] = ms(eager["median_s"])
    saving = eager["min_s"] - compiled["min_s"]  # per 500-step run, at best
    out["compile_saving_ms"] = ms(saving)
    out["breakeven_runs"] = f"{compiled['compile_s'] / saving:.0f}" if saving > 0 else "never"
    for impl, lesson in (("lesson", "nn"), ("sgd", "optim"), ("lesson", "optim")):
        out[f"{lesson}_{impl}_ms"] = ms(loop(lesson=lesson, impl=impl, threads=every)["min_s"])
    # the sweep
    cpu = [p for p in data["sweep"] if p["device"] == "cpu" and "step_s" in p]
    here = next(p for p in cpu if (p["N"], p["H"]) == (f["N"], f["H"]))
    largest = max(cpu, key=lambda p: p["flops"])
    out["sweep_here_ms"] = ms(here["step_s"])
    out["sweep_here_steps"] = str(here["steps"])
    # the same step in the loop table: autograd, float32, all threads, per step
    same = loop(lesson="autograd", impl="lesson", dtype="float32", threads=every)
    out["loop_step_ms"] = ms(same["min_s"] / same["steps"])
    out["loop_median_step_ms"] = ms(same["median_s"] / same["steps"])
    out["sweep_here_gflops"] = gflops(here["flops"] / here["step_s"] / 1e9)
    out["sweep_largest_gflops"] = gflops(largest["flops"] / largest["step_s"] / 1e9)
    out["sweep_best_gflops"] = gflops(max(p["flops"] / p["step_s"] for p in cpu) / 1e9)
    out["sweep_largest_n"] = str(largest["N"])
    out["sweep_largest_h"] = str(largest["H"])
    return out


# -- the page's tables ----------------------------------------------------------------------------


def cells(*values: str) -> str:
    return "| " + " | ".join(values) + " |"


def first_line(code: str) -> str:
    return code.splitlines()[0].split("  #")[0]


def table_rows() -> dict[str, list[str]]:
    """The rows of the page's tables, the same in both languages, made from the data."""
    every, per_loop = DATA["settings"]["all_threads"], DATA["flops"]["per_loop"]
    rows = {"peak": [], "loops": [], "more": [], "profile": [], "autograd": []}
    for dtype in ("float32", "float64"):
        for n in (1, every):
            numpy_, torch_ = gflops(peak(dtype, n, "numpy")), gflops(peak(dtype, n, "torch"))
            rows["peak"].append(
                cells(f"`{dtype}`", str(n), numpy_, torch_, ms(per_loop / (peak(dtype, n) * 1e9)))
            )
    for loop in DATA["loops"]:
        name, dtype, where = plots.label(loop).split(" · ")
        times = (ms(loop["min_s"]), ms(loop["median_s"]), ratio(loop["ratio_min"]))
        row = cells(f"`{name}`", f"`{dtype}`", where.removeprefix("threads="), *times)
        rows["loops" if loop["impl"] == "lesson" and loop["lesson"] in CORE else "more"].append(row)
    numpy64, numpy32, torch32 = (
        list(profile(*key).items())
        for key in (("numpy_warmup", "float64"), ("numpy_warmup", "float32"), ("tensors", "float32"))
    )
    for (code, a), (_, b), (_, c) in zip(numpy64, numpy32, torch32, strict=True):  # line for line
        rows["profile"].append(cells(f"`{code}`", us(a["us"]), us(b["us"]), us(c["us"])))
    for code, row in profile("autograd", "float32").items():
        rows["autograd"].append(cells(f"`{code}`", us(row["us"])))
    return rows


ROWS = table_rows()
PLACEHOLDER = re.compile(r"<!-- bench-table: (\w+) -->")


def rendered(lang: str) -> str:
    """The page's Markdown as the build has it: each table placeholder replaced by the hook."""
    return plots.tables(TEXT[lang], lang, DATA)


def test_the_pages_hold_no_table_of_the_data_only_its_placeholders():
    """Both languages ask for the same tables in the same order; none is typed in by hand."""
    assert PLACEHOLDER.findall(TEXT["zh"]) == PLACEHOLDER.findall(TEXT["en"]) == list(ROWS)
    for lang, text in TEXT.items():
        typed = [line for line in text.splitlines() if line.strip().startswith("| `")]
        assert not typed, f"{lang}: a table row typed into the page:\n" + "\n".join(typed)


@pytest.mark.parametrize("lang", PAGES)
def test_tables_hold_the_data_row_for_row(lang):
    lines = [line.strip() for line in rendered(lang).splitlines()]
    for kind, rows in ROWS.items():
        missing = [row for row in rows if row not in lines]
        assert not missing, f"{kind} table: rows missing or different:\n" + "\n".join(missing)
    expected = {row for rows in ROWS.values() for row in rows}
    stale = [line for line in lines if line.startswith("| `") and line not in expected]
    assert not stale, "table rows not from the data:\n" + "\n".join(stale)


@pytest.mark.parametrize("lang", PAGES)
def test_table_headers_are_in_the_pages_language(lang):
    other = {"zh": "en", "en": "zh"}[lang]
    headers = [
        line for line in rendered(lang).splitlines() if line.strip().startswith("| ") and "---" not in line
    ]
    for name in ROWS:
        mine, theirs = plots.HEADERS[name][lang], plots.HEADERS[name][other]
        assert "| " + " | ".join(mine) + " |" in [h.strip() for h in headers], name
        assert len(mine) == len(theirs) and mine != theirs, name


@pytest.mark.parametrize("lang", PAGES)
def test_built_page_shows_the_tables_of_the_data(built_site, lang):
    """The built page's tables, cell for cell, are the data's: one table per placeholder,
    in order, each row as table_rows() makes it from bench/results.json."""
    from bs4 import BeautifulSoup

    site, done, _ = built_site
    assert done.returncode == 0, done.stderr[-3000:]
    html = (site / ("en/" if lang == "en" else "") / "performance" / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser").find("article")

    def text(cell) -> str:
        return (
            f"`{cell.get_text()}`"
            if cell.find("code") and cell.get_text() == cell.code.get_text()
            else cell.get_text()
        )

    shown = [
        [cells(*(text(td) for td in tr.find_all("td"))) for tr in table.tbody.find_all("tr")]
        for table in soup.find_all("table")
        if table.tbody and table.find("td").find("code")  # the FLOP table's rows start with math
    ]
    assert shown == list(ROWS.values())


# -- the page's prose ---------------------------------------------------------------------------------
# Numbers that are not measurements: a multiply-add counts 2 FLOPs; one thread; AVX2's
# 256-bit registers hold 8 float32 or 4 float64 numbers.
CONSTANTS = ["1", "2", "256", "8", "4"]
FACTS = facts()


def prose(text: str) -> str:
    """The page without code, math, link targets, ids, and the rows checked above."""
    text = re.sub(r"^([ \t]*)(```+).*?^\1\2[ \t]*$", "", text, flags=re.M | re.S)
    text = PLACEHOLDER.sub("", text)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    text = "\n".join(
        line for line in text.splitlines() if line.strip() not in {r for v in ROWS.values() for r in v}
    )
    text = re.sub(r"`[^`\n]+`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"\{ #[\w-]+ \}", "", text)
    return re.sub(r"float(32|64)", "", text)


@pytest.mark.parametrize("lang", PAGES)
def test_every_number_on_the_page_comes_from_the_data(lang):
    text = prose(TEXT[lang])
    for value in sorted([*FACTS.values(), *CONSTANTS], key=len, reverse=True):
        text = re.sub(rf"(?<![\w.,]){re.escape(value)}(?!\w|[.,]\d)", " ", text)
    left = [line for line in text.splitlines() if re.search(r"\d", line)]
    assert not left, "numbers not in bench/results.json (or rounded differently):\n" + "\n".join(left)


@pytest.mark.parametrize("lang", PAGES)
def test_the_page_states_each_fact(lang):
    text = prose(TEXT[lang])
    missing = {
        key: value
        for key, value in FACTS.items()
        if not re.search(rf"(?<![\w.,]){re.escape(value)}(?!\w|[.,]\d)", text)
    }
    assert not missing, missing


def test_no_gpu_data_no_gpu_numbers():
    """Without GPU rows, the page says that GPU numbers come with GPU data, and guesses none."""
    gpu = any(p["device"] == "cuda" for p in DATA["sweep"] + DATA["loops"])
    sentences = {
        "zh": "GPU 的数字要等到提交了在 GPU 上测得的数据之后才会出现在这里。",
        "en": "GPU numbers appear when data measured on a GPU is committed.",
    }
    for lang, sentence in sentences.items():
        assert (sentence in TEXT[lang]) == (not gpu), lang


def test_page_says_whether_the_machine_was_quiet():
    """The run waits for a load average below a threshold, 25 minutes at most; if it gave up,
    the page must say so."""
    wait = DATA["machine"]["load_average"]["wait"]
    gave_up = {"zh": "等了 25 分钟也没有降下来", "en": "did not fall below it within 25 minutes"}
    for lang, words in gave_up.items():
        assert (words in TEXT[lang]) == (not wait["quiet"]), lang
