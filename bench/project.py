"""The project's own speed: the test suite, the site build, the pages' sizes.

    python bench/project.py              # minutes: the whole test suite, then a cold and a warm build
    python bench/project.py --no-suite   # the builds and the page sizes only

Not the lesson's benchmark (bench/run.py, whose results docs/performance.md shows):
this measures what a contributor waits for. It times `python -m pytest`, then
`mkdocs build --strict` twice in a copy of the working tree (cold: no .cache/, so
every notebook is executed; warm: with the cold build's cache), and weighs the largest
page and the first visit to the home page. It prints as it goes and writes
bench/project.json (--out to write it elsewhere), with the machine and its load.
"""

import argparse
import datetime
import gzip
import html.parser
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def say(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


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


def cpu() -> str:
    info = Path("/proc/cpuinfo")
    names = (
        [
            line.split(":", 1)[1].strip()
            for line in info.read_text().splitlines()
            if line.startswith("model name")
        ]
        if info.exists()
        else []
    )
    return names[0] if names else platform.processor() or platform.machine()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-suite", action="store_true", help="skip the test suite")
    parser.add_argument("--out", type=Path, default=BENCH / "project.json", help="where to write the results")
    args = parser.parse_args(argv)
    load = [round(x, 2) for x in os.getloadavg()]
    result = {
        "machine": {
            "cpu": cpu(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "load_average": {"start": load},
        },
        **project(args.no_suite),
    }
    result["machine"]["load_average"]["end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"wrote {args.out}; load average {result['machine']['load_average']}")


if __name__ == "__main__":
    main()
