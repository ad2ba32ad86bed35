"""How fast is it? Time every lesson's training loop against this machine's limit.

    python bench/run.py                  # 5 to 6 minutes on 2 cores; writes bench/results.json
    python bench/run.py --wait-quiet 0.6 # first wait for a 1-minute load average below 0.6
    python bench/run.py --quick          # 15 s: tiny sizes, one round, 1 thread (proves it runs)

(The project's own speed, its tests and site build, is bench/project.py's.)

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
import json
import os
import platform
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
    args = parser.parse_args(argv)
    started = time.perf_counter()
    waited = wait_until_quiet(args.wait_quiet, 25 * 60) if args.wait_quiet else None
    result = benchmark(args)
    if waited:
        result["machine"]["load_average"]["wait"] = waited
    result["settings"]["wall_s"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    load = result["machine"]["load_average"]
    say(f"\nwrote {args.out} in {result['settings']['wall_s']:.0f} s; load average {load}")


if __name__ == "__main__":
    main()
