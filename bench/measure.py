"""One benchmark worker: `python bench/measure.py SPEC.json OUT.json`.

bench/run.py starts one worker per library and thread count, with the thread
count in the environment before NumPy or PyTorch load (OpenBLAS, MKL and OpenMP
read it once), and NumPy and PyTorch in separate processes so that one's idle
threads don't spin beside the other's. Progress goes to stderr as it runs.
"""

import ast
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flops import statement_flops  # noqa: E402  (bench/ on the path first)

import lessons  # noqa: E402  (the repository root's lessons.py, installed by `pip install -e .`)

CORE = {"numpy": ["numpy_warmup"], "torch": ["tensors", "autograd"]}
DTYPES = ("float32", "float64")


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def busy_fraction(seconds: float = 0.5) -> float:
    """The share of all CPUs' time spent busy during `seconds`, by anyone (Linux /proc/stat)."""

    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    (all0, idle0), _, (all1, idle1) = sample(), time.sleep(seconds), sample()
    return 1 - (idle1 - idle0) / max(all1 - all0, 1)


class Quiet:
    """Before each measurement, wait (within a budget) until the machine is idle: the
    benchmark is idle while it checks, so whatever keeps the CPUs busy is someone else."""

    def __init__(self, budget_s: float, threshold: float = 0.1):
        self.budget_s, self.threshold = budget_s, threshold
        self.log = {"checks": 0, "waited_s": 0.0, "still_busy": 0}

    def __call__(self) -> None:
        if self.budget_s <= 0 or not Path("/proc/stat").exists():
            return
        self.log["checks"] += 1
        start = time.monotonic()
        while busy_fraction() > self.threshold:
            if self.log["waited_s"] + time.monotonic() - start > self.budget_s:
                self.log["still_busy"] += 1  # out of patience: measure anyway, and say so
                break
        self.log["waited_s"] += time.monotonic() - start


class Worker:
    """Every measurement is queued, then all of them run once per round, round after round
    (round 0 a warm-up), so that a burst of load from elsewhere costs each of them a round
    or two rather than all the runs of one; the best round is kept."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.device = spec["device"]
        self.threads = spec["threads"]
        self.repeats = spec["repeats"]
        self.quick = spec["quick"]
        self.steps = spec["steps"]  # 500, as the lessons have it; fewer with --quick
        self.out = {"peak": [], "loops": [], "profile": [], "sweep": [], "overhead_us": {}}
        self.jobs = []  # (once, finish): once() measures, finish(samples) records
        self.quiet = Quiet(spec["idle_wait_s"])
        self.tag = f"[{spec['lib']} {self.device}{'' if self.device == 'cuda' else f' {self.threads} thr'}]"
        if spec["lib"] == "torch":
            import torch

            torch.set_num_threads(self.threads)
            self.torch = torch

    def sync(self) -> None:
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def timed(self, run) -> tuple[float, object]:
        self.sync()
        start = time.perf_counter()
        result = run()
        self.sync()
        return time.perf_counter() - start, result

    def measure(self) -> None:
        """Run the queued measurements in rounds."""
        rounds = self.repeats + (0 if self.quick else 1)
        samples = [[] for _ in self.jobs]
        start = time.perf_counter()
        for r in range(rounds):
            self.quiet()
            for (once, _), kept in zip(self.jobs, samples, strict=True):
                sample = once()
                if r or self.quick:
                    kept.append(sample)
            elapsed = time.perf_counter() - start
            say(f"{self.tag} round {r + 1}/{rounds}: {len(self.jobs)} measurements ({elapsed:.0f} s)")
        for (_, finish), kept in zip(self.jobs, samples, strict=True):
            finish(kept)
        self.jobs = []

    # -- the machine's limit: one large matrix product ----------------------------
    def peak(self, lib: str, dtype: str) -> None:
        n = self.spec["peak_n"]
        if lib == "numpy":
            import numpy as np

            a, b = (np.random.default_rng(i).standard_normal((n, n)).astype(dtype) for i in (0, 1))
            c = np.empty((n, n), dtype)

            def product():
                np.matmul(a, b, out=c)
        else:
            torch = self.torch
            a, b = (torch.randn(n, n, dtype=getattr(torch, dtype), device=self.device) for _ in range(2))
            c = torch.empty_like(a)

            def product():
                torch.mm(a, b, out=c)

        def finish(times):
            gflops = 2 * n**3 / min(times) / 1e9
            record = {"lib": lib, "device": self.device, "threads": self.threads, "dtype": dtype, "n": n}
            self.out["peak"].append({**record, "times_s": times, "gflops": gflops})
            say(f"{self.tag} peak {lib} {dtype} {n}x{n} matmul: {gflops:.0f} GFLOP/s")

        self.jobs.append((lambda: self.timed(product)[0], finish))

    # -- the 500-step loops ---------------------------------------------------------
    def loop(self, label: str, record: dict, fresh, run) -> None:
        """Queue a loop: `run(ns)` on a fresh namespace `fresh()`, made untimed before each run."""

        def once():
            ns = fresh()
            return self.timed(lambda: run(ns))

        def finish(samples):
            times = [t for t, _ in samples]
            record.update(device=self.device, threads=self.threads, steps=self.steps, times_s=times)
            record["final_loss"] = float(samples[-1][1][-1])
            self.out["loops"].append(record)
            low, mid = min(times) * 1e3, statistics.median(times) * 1e3
            say(f"{self.tag} {label:<36} min {low:8.1f} ms   median {mid:8.1f} ms")

        self.jobs.append((once, finish))

    def lesson(self, lesson: str, dtype: str | None = None, skip=(), impl="lesson") -> None:
        code = lessons.train_code(lesson, steps=self.steps)
        fresh = lambda: lessons.namespace(lesson, device=self.device, dtype=dtype, skip=skip)  # noqa: E731
        record = {"lesson": lesson, "impl": impl, "lib": self.spec["lib"], "dtype": dtype or "float32"}
        self.loop(
            f"{lesson} ({impl}) {record['dtype']}",
            record,
            fresh,
            lambda ns: lessons.quietly(code, ns)["losses"],
        )

    def try_lesson(self, lesson: str, **options) -> None:
        """Queue a lesson of the rest of the course, if one step of it runs (it may be in the making)."""
        try:
            ns = lessons.namespace(lesson, device=self.device, skip=options.get("skip", ()))
            lessons.quietly(lessons.train_code(lesson, steps=1), ns)
        except Exception as error:
            say(f"{self.tag} {lesson}: skipped ({error!r})")
            return
        self.lesson(lesson, **options)

    def tuned(self, lesson: str, dtype: str) -> None:
        module = __import__(f"tuned_{self.spec['lib']}")

        def run(ns):
            with contextlib.redirect_stdout(io.StringIO()):
                return module.train(ns["x"], ns["y"], ns["w1"], ns["w2"], ns["lr"], steps=self.steps)

        fresh = lambda: lessons.namespace(lesson, device=self.device, dtype=dtype)  # noqa: E731
        record = {"lesson": lesson, "impl": "tuned", "lib": self.spec["lib"], "dtype": dtype}
        self.loop(f"{lesson} (tuned) {dtype}", record, fresh, run)

    def compiled(self, lesson: str, dtype: str) -> None:
        """torch.compile of one step (forward, backward, update sections); compile time apart."""
        torch = self.torch
        record = {"lesson": lesson, "impl": "compile", "lib": "torch", "dtype": dtype}
        compile_s = []
        for _ in range(2):  # cold: empty cache directory; warm: again, after dynamo forgets it
            torch._dynamo.reset()
            ns = lessons.namespace(lesson, device=self.device, dtype=dtype)
            exec(lessons.step_source(lesson), ns)
            step = torch.compile(ns["step"])
            self.quiet()
            compile_s.append(self.timed(lambda: step(ns["x"], ns["y"], ns["w1"], ns["w2"], ns["lr"]))[0])  # noqa: B023
        record["compile_s"], record["recompile_s"] = compile_s
        say(
            f"{self.tag} torch.compile of a {lesson} step: {compile_s[0]:.1f} s (again: {compile_s[1]:.1f} s)"
        )
        loop = lessons.step_loop_code(lesson, steps=self.steps)

        def fresh():
            ns = lessons.namespace(lesson, device=self.device, dtype=dtype)
            ns["step"] = step
            return ns

        self.loop(
            f"{lesson} (compile) {dtype}", record, fresh, lambda ns: lessons.quietly(loop, ns)["losses"]
        )

    # -- where the time goes: every statement of the loop, timed -------------------
    def profile(self, lesson: str, dtype: str) -> None:
        code = lessons.section(lesson, "train")
        tree = ast.parse(code)
        (loop,) = [s for s in tree.body if isinstance(s, ast.For)]
        before = compile(ast.Module([s for s in tree.body if s is not loop], []), lesson, "exec")
        body = [
            (ast.get_source_segment(code, s), compile(ast.Module([s], []), lesson, "exec")) for s in loop.body
        ]
        shapes = tuple(lessons.namespace(lesson, dtype=dtype)[k] for k in ("N", "D_in", "H", "D_out"))

        def once():
            ns = lessons.namespace(lesson, device=self.device, dtype=dtype)
            exec(before, ns)
            spent = [0.0] * len(body)
            with contextlib.redirect_stdout(io.StringIO()):
                for t in range(self.steps):
                    ns[loop.target.id] = t
                    for i, (_, stmt) in enumerate(body):
                        start = time.perf_counter()
                        exec(stmt, ns)
                        spent[i] += time.perf_counter() - start
            return spent

        def finish(samples):
            best = [min(column) for column in zip(*samples, strict=True)]  # each line: its best round
            rows = [
                {"code": src, "us": s / self.steps * 1e6, "flops": statement_flops(src, shapes)}
                for (src, _), s in zip(body, best, strict=True)
            ]
            record = {
                "lesson": lesson,
                "lib": self.spec["lib"],
                "device": self.device,
                "threads": self.threads,
            }
            self.out["profile"].append({**record, "dtype": dtype, "steps": self.steps, "rows": rows})
            say(f"{self.tag} profile {lesson} {dtype}: {sum(r['us'] for r in rows):.0f} us per step")

        self.jobs.append((once, finish))

    def overhead(self) -> None:
        """Microseconds per call of an operation on a 1-element array: the cost of asking."""
        if self.spec["lib"] == "numpy":
            import numpy as np

            cases = {"numpy a + a": "a + a"}
            names = {"a": np.ones(1)}
        else:
            torch = self.torch
            cases = {
                "torch a + a": "a + a",
                "torch w + w (requires_grad)": "w + w",
                "torch a.item()": "a.item()",
            }
            names = {"a": torch.ones(1), "w": torch.ones(1, requires_grad=True)}
        timers = {label: timeit.Timer(stmt, globals=names) for label, stmt in cases.items()}
        number = 1000 if self.quick else 20000

        def finish(samples):
            for label in cases:
                best = min(sample[label] for sample in samples) * 1e6
                self.out["overhead_us"][label] = best
                say(f"{self.tag} one call of {label}: {best:.2f} us")

        self.jobs.append((lambda: {k: t.timeit(number) / number for k, t in timers.items()}, finish))

    # -- time per step as the matrices grow ------------------------------------------
    def sweep(self) -> None:
        budget, spent = self.spec["sweep_budget_s"], 0.0
        for N, H in self.spec["sweep"]:
            if spent > budget:
                self.out["sweep"].append({"N": N, "H": H, "device": self.device, "skipped": "time budget"})
                continue
            start = time.perf_counter()
            ns = lessons.namespace("autograd", device=self.device, dtype="float32", sizes=(N, 1000, H, 10))
            D_in, D_out = ns["D_in"], ns["D_out"]
            lessons.quietly(lessons.train_code("autograd", steps=1), dict(ns))  # warm-up
            one = time.perf_counter() - start
            steps = 2 if self.quick else max(3, min(200, int(0.2 / max(one, 1e-6))))
            code = lessons.train_code("autograd", steps=steps)
            per_step = []
            self.quiet()
            for _ in range(1 if self.quick else 3):
                run_ns = dict(ns)
                self.sync()
                t0 = time.perf_counter()
                lessons.quietly(code, run_ns)
                self.sync()
                per_step.append((time.perf_counter() - t0) / steps)
            self.out["sweep"].append(
                {
                    "N": N,
                    "D_in": D_in,
                    "H": H,
                    "D_out": D_out,
                    "device": self.device,
                    "threads": self.threads,
                    "steps": steps,
                    "step_s": min(per_step),
                }
            )
            spent += time.perf_counter() - start
            say(f"{self.tag} sweep N={N:<5} H={H:<5} {min(per_step) * 1e3:9.3f} ms per step")

    def run(self) -> dict:
        lib, spec = self.spec["lib"], self.spec
        for dtype in DTYPES:
            self.peak(lib, dtype)
        for lesson in CORE[lib]:
            for dtype in DTYPES:
                self.lesson(lesson, dtype)
        for dtype in DTYPES:
            self.tuned(CORE[lib][0], dtype)
        if spec["extras"]:  # the all-threads worker: the rest of the course, and the deeper looks
            if lib == "torch":
                for lesson in lessons.lessons_with("train"):
                    if lessons.uses_torch(lesson) and lesson not in CORE[lib]:
                        self.try_lesson(lesson)
                if "optim" in lessons.lessons_with("train") and "sgd" in lessons.section_names("optim"):
                    self.try_lesson("optim", skip=("adam",), impl="sgd")  # torch.optim.SGD, not Adam
                if spec["compile"]:
                    self.compiled("tensors", "float32")
            if self.device == "cpu":  # CUDA runs asynchronously: a line's time is not its cost
                for lesson in CORE[lib]:
                    self.profile(lesson, "float32")
                if lib == "numpy":
                    self.profile("numpy_warmup", "float64")
                self.overhead()
        self.measure()
        if spec["extras"] and lib == "torch":
            self.sweep()
        self.out["quiet"] = self.quiet.log
        return self.out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if spec["lib"] == "torch":
        # A fresh cache, so the compile time is that of a first compile
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")
    out = Worker(spec).run()
    Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
