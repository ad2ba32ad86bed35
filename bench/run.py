"""How fast is it? Time every lesson's training loop against this machine's limit.

    python bench/run.py                  # 5 to 6 minutes on 2 cores; writes bench/results.json
    python bench/run.py --wait-quiet 0.6 # first wait for a 1-minute load average below 0.6
    python bench/run.py --quick          # 15 s: tiny sizes, one round, 1 thread (proves it runs)
    python bench/run.py --project-only   # the project's own speed: tests, site build, page sizes

What it measures, all on this machine, in one run:

- the peak: one large float32 and float64 matrix product, NumPy and PyTorch, on
  1 thread and on all of them (and on the GPU, when there is one);
- the 500-step loop of each lesson, run from the lesson's own `train` section
  (lessons.py), in float32 and float64, on 1 thread and all of them, and on
  the GPU; tuned loops (bench/tuned_*.py); torch.compile of a step;
- every line of the loops, timed on its own; the cost of one tiny call;
- one training step as the matrices grow (autograd, float32), CPU and GPU;
- `import torch` and each lesson script, start to finish, in fresh processes.

Each loop is reported as a ratio to its floor: the step's FLOPs (bench/flops.py)
times 500, divided by the peak for the same dtype, thread count and device.
Measurements run in rounds, each waiting for idle CPUs first (bench/measure.py);
the machine, its load and those waits are recorded with the results.
docs/performance.md explains the results; hooks/bench_plots.py draws them.
"""

import argparse
import datetime
import gzip
import html.parser
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import flops  # noqa: E402  (bench/ on the path first)
from measure import Quiet  # noqa: E402

import lessons  # noqa: E402  (the repository root's lessons.py, installed by `pip install -e .`)

STEPS = 500  # as the lessons have it
QUICK_STEPS = 20
SWEEP = [(n, h) for n in (16, 64, 256, 1024, 4096) for h in (32, 100, 1024, 4096)]
QUICK_SWEEP = [(16, 32), (64, 100)]


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_until_quiet(threshold: float, give_up_s: float) -> dict:
    """Poll the 1-minute load average every 30 s until it is below `threshold`."""
    start = time.monotonic()
    while (avg := os.getloadavg()[0]) >= threshold and time.monotonic() - start < give_up_s:
        say(f"waiting for a quiet machine: load average {avg:.2f} >= {threshold}")
        time.sleep(30)
    return {"threshold": threshold, "waited_s": round(time.monotonic() - start), "quiet": avg < threshold}


# -- the machine ------------------------------------------------------------------------
def machine() -> dict:
    import numpy as np
    import torch

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    field = lambda name: next(  # noqa: E731
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith(name)), ""
    )
    flags = set(field("flags").split())
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        numpy_blas = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: no dicts
        numpy_blas = "unknown"
    config = torch.__config__.show()
    torch_blas = next((line.strip(" -") for line in config.splitlines() if "Math Kernel Library" in line), "")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": field("model name") or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "threads": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "simd": {flag: flag in flags for flag in ("avx2", "fma", "avx512f")},
        "virtual_machine": "hypervisor" in flags,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas,
        "torch": torch.__version__,
        "torch_blas": torch_blas,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_config": config,
        "gpu": gpu,
        "cuda": torch.version.cuda if gpu else None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# -- fresh processes: imports and whole scripts ---------------------------------------
def wall(command: list[str], repeats: int, quiet) -> dict:
    times = []
    for _ in range(repeats):
        quiet()
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return {"times_s": times, "min_s": min(times), "median_s": statistics.median(times)}


def imports(repeats: int, quiet) -> dict:
    out = {}
    for module in ("numpy", "torch"):
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        quiet()
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(repeats)
        ]
        out[module] = {"times_s": times, "min_s": min(times), "median_s": statistics.median(times)}
        say(f"import {module}: {out[module]['median_s']:.2f} s (median of {repeats}, fresh process)")
    out["python"] = wall([sys.executable, "-c", "pass"], repeats, quiet)
    return out


def scripts(repeats: int, quiet) -> dict:
    out = {}
    for lesson in ("numpy_warmup", "tensors", "autograd"):
        out[lesson] = wall([sys.executable, f"snippets/{lesson}.py"], repeats, quiet)
        say(f"python snippets/{lesson}.py: {out[lesson]['median_s']:.2f} s start to finish (median)")
    return out


# -- the workers --------------------------------------------------------------------------
def worker(spec: dict) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(spec["threads"])
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, out_path = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        spec_path.write_text(json.dumps(spec))
        subprocess.run([sys.executable, str(BENCH / "measure.py"), spec_path, out_path], env=env, check=True)
        return json.loads(out_path.read_text())


def spec_name(spec: dict) -> str:
    return f"{spec['lib']} {spec['device']} threads={spec['threads']}"


def peak_of(peaks: list[dict], device: str, dtype: str, threads: int) -> float:
    """The best matrix-product rate this machine reached for a dtype, thread count and device."""
    found = [p["gflops"] for p in peaks if p["device"] == device and p["dtype"] == dtype]
    if device == "cpu":
        found = [
            p["gflops"]
            for p in peaks
            if p["device"] == "cpu" and p["dtype"] == dtype and p["threads"] == threads
        ]
    return max(found)


def summarize(result: dict) -> None:
    """Add min, median, floor and ratio to every loop; print the table."""
    per_step = result["flops"]["per_step"]
    say(f"\n{'loop':<44} {'min ms':>9} {'median ms':>10} {'floor ms':>9} {'ratio':>6}")
    for loop in result["loops"]:
        times = loop["times_s"]
        loop["min_s"], loop["median_s"] = min(times), statistics.median(times)
        peak = peak_of(result["peak"], loop["device"], loop["dtype"], loop["threads"])
        loop["floor_s"] = per_step * loop["steps"] / (peak * 1e9)
        loop["ratio_min"] = loop["min_s"] / loop["floor_s"]
        loop["ratio_median"] = loop["median_s"] / loop["floor_s"]
        label = f"{loop['lesson']} ({loop['impl']}) {loop['dtype']} {loop['device']} {loop['threads']} thr"
        say(
            f"{label:<44} {loop['min_s'] * 1e3:9.1f} {loop['median_s'] * 1e3:10.1f} "
            f"{loop['floor_s'] * 1e3:9.1f} {loop['ratio_min']:6.2f}"
        )
    for point in result["sweep"]:
        if "step_s" in point:
            point["flops"] = flops.step_flops(point["N"], point["D_in"], point["H"], point["D_out"])


def benchmark(args) -> dict:
    import torch

    all_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quick = args.quick
    repeats = 1 if quick else args.repeats
    steps = QUICK_STEPS if quick else STEPS
    ns = lessons.namespace("numpy_warmup")
    shapes = {k: ns[k] for k in ("N", "D_in", "H", "D_out")}
    for lesson in ("tensors", "autograd"):  # one network: the same shapes in every lesson timed
        assert {k: lessons.namespace(lesson, device="cpu")[k] for k in shapes} == shapes, lesson
    per_step = flops.step_flops(**shapes)
    result = {
        "schema": 1,
        "machine": {**machine(), "load_average": {"start": load()}},  # 1, 5 and 15 minutes
        "settings": {"quick": quick, "repeats": repeats, "steps": steps, "all_threads": all_threads},
        "flops": {
            **shapes,
            "matmuls": flops.matmuls(**shapes),
            "per_step": per_step,
            "per_loop": per_step * steps,
            "elementwise_per_step": flops.elementwise_flops(**shapes),
        },
    }
    say(f"one step: {per_step:,} FLOPs; {steps} steps: {per_step * steps / 1e9:.3f} GFLOP")
    quiet = Quiet(0 if quick else args.idle_wait)
    result["imports"] = imports(repeats, quiet)
    result["scripts"] = {} if quick else scripts(repeats, quiet)
    base = {
        "repeats": repeats,
        "quick": quick,
        "steps": steps,
        "compile": not quick and not args.no_compile,
        "sweep": QUICK_SWEEP if quick else SWEEP,
        "sweep_budget_s": 5 if quick else 60,
        "idle_wait_s": 0 if quick else args.idle_wait,
    }
    thread_counts = [1] if quick else sorted({1, all_threads})  # quick: the extras too, on 1 thread
    specs = [
        {
            **base,
            "lib": lib,
            "device": "cpu",
            "threads": threads,
            "extras": threads == thread_counts[-1],
            "peak_n": 128 if quick else 2048,
        }
        for lib in ("numpy", "torch")
        for threads in thread_counts
    ]
    if torch.cuda.is_available():
        specs.append(
            {
                **base,
                "lib": "torch",
                "device": "cuda",
                "threads": all_threads,
                "extras": True,
                "peak_n": 1024 if quick else 8192,
            }
        )
    parts = [worker(spec) for spec in specs]
    for key in ("peak", "loops", "profile", "sweep"):
        result[key] = [row for part in parts for row in part[key]]
    result["overhead_us"] = {k: v for part in parts for k, v in part["overhead_us"].items()}
    # how long each worker waited for idle CPUs, and how often it measured while they were busy
    result["machine"]["quiet"] = [{"worker": "imports and scripts", **quiet.log}] + [
        {"worker": spec_name(spec), **part["quiet"]} for spec, part in zip(specs, parts, strict=True)
    ]
    summarize(result)
    result["machine"]["load_average"]["end"] = load()
    return result


# -- the project's own speed (--project) ------------------------------------------------
class Assets(html.parser.HTMLParser):
    """What a page loads: stylesheets, scripts, images, icons."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "img" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and {"stylesheet", "icon"} & set((attrs.get("rel") or "").split()):
            self.urls.append(attrs["href"])


def first_visit(site: Path) -> dict:
    """Bytes of the home page and every local file its HTML loads (raw and gzipped)."""
    import re

    page = site / "index.html"
    parser = Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    files = [page] + [site / url.split("?")[0].split("#")[0] for url in parser.urls if "://" not in url]
    for css in [f for f in files if f.suffix == ".css"]:  # fonts a stylesheet loads
        for url in re.findall(r"url\(['\"]?([^'\")]+\.woff2?)", css.read_text(encoding="utf-8")):
            files.append((css.parent / url).resolve())
    files = [f for f in dict.fromkeys(files) if f.is_file()]
    return {
        "files": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "gzip_bytes": sum(len(gzip.compress(f.read_bytes())) for f in files),
        "note": "MathJax's web fonts, fetched on demand by tex-chtml.js, are not counted",
    }


def project(skip_suite: bool) -> dict:
    out = {}
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if not skip_suite:
        say("project: the test suite (minutes)...")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        summary = (done.stdout.strip().splitlines() or [""])[-1]
        out["test_suite"] = {
            "s": time.perf_counter() - start,
            "returncode": done.returncode,
            "summary": summary,
        }
        say(f"project: test suite {out['test_suite']['s']:.0f} s: {summary}")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "repo"
        for name in filter(None, listed.split("\0")):
            if (ROOT / name).is_file():
                (copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, copy / name)
        # cold: no .cache/ (the notebooks are executed); warm: with the cache of the cold build
        for kind in ("cold", "warm"):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
                cwd=copy,
                env=env,
                check=True,
                capture_output=True,
            )
            out[f"build_{kind}_s"] = time.perf_counter() - start
            say(f"project: mkdocs build --strict, {kind}: {out[f'build_{kind}_s']:.1f} s")
        site = copy / "site"
        largest = max(site.rglob("*.html"), key=lambda p: p.stat().st_size)
        out["largest_page"] = {"path": largest.relative_to(site).as_posix(), "bytes": largest.stat().st_size}
        out["home_first_visit"] = first_visit(site)
    say(f"project: largest page {out['largest_page']['path']}: {out['largest_page']['bytes'] / 1024:.0f} KiB")
    visit = out["home_first_visit"]
    say(
        f"project: first visit to the home page: {visit['files']} files, {visit['bytes'] / 1024:.0f} KiB "
        f"({visit['gzip_bytes'] / 1024:.0f} KiB gzipped); {visit['note']}"
    )
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="tiny sizes, one repeat, 1 thread, no torch.compile")
    add("--repeats", type=int, default=7, help="timed rounds of every measurement (default 7)")
    add("--out", type=Path, default=BENCH / "results.json", help="where to write the results")
    add("--no-compile", action="store_true", help="skip torch.compile (it takes a while)")
    add(
        "--wait-quiet",
        type=float,
        metavar="LOAD",
        help="first wait (25 min at most) for a load average < LOAD",
    )
    add("--idle-wait", type=float, default=300, metavar="S", help="each worker: wait up to S s for idle CPUs")
    add("--project", action="store_true", help="also time the tests, the site build; page sizes")
    add("--project-only", action="store_true", help="only that, printed (no results file)")
    add("--no-suite", action="store_true", help="with --project: skip the test suite")
    args = parser.parse_args(argv)
    if args.project_only:
        project(args.no_suite)
        return
    started = time.perf_counter()
    waited = wait_until_quiet(args.wait_quiet, 25 * 60) if args.wait_quiet else None
    result = benchmark(args)
    if waited:
        result["machine"]["load_average"]["wait"] = waited
    if args.project:
        result["project"] = project(args.no_suite)
    result["settings"]["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    load = result["machine"]["load_average"]
    say(f"\nwrote {args.out} in {result['settings']['wall_s']:.0f} s; load average {load}")


if __name__ == "__main__":
    main()
