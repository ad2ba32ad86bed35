"""Every internal link and anchor of the built site resolves, checked by LinkChecker
(https://linkchecker.github.io/linkchecker/) crawling the site as a static host
serves it. External links are listed in tests/output/external-links.txt, never fetched."""

import csv
import importlib.util
import io
import subprocess
import sys

import pytest

from lessons import ROOT

# linkchecker, run as root (CI is), switches to the user "nobody", who can't read
# its plugins when Python lives under /root: AnchorCheck then silently never runs.
# Run its command-line entry point with that step turned off.
RUN_LINKCHECKER = """
import sys
import linkcheck.command.linkchecker as command
command.drop_privileges = lambda: None
sys.argv[0] = "linkchecker"
command.linkchecker()
"""
OUTPUT = ROOT / "tests" / "output"

CONFIG = """
[checking]
threads=8
# Our test server sends the "LinkChecker" header that allows more than 10 requests/s.
maxrequestspersecond=1000
[filtering]
# External links: syntax only, never fetched.
checkextern=0
# The print pages (the whole course on one page) are checked, not crawled: their
# thousand links to their own anchors took LinkChecker over ten minutes.
# tests/test_site.py checks those links.
nofollow=/print_page/
[AnchorCheck]
"""


@pytest.mark.skipif(
    importlib.util.find_spec("linkcheck") is None,
    reason="linkchecker is not installed (pip install -e '.[test]')",
)
def test_every_internal_link_and_anchor_resolves(site_url, tmp_path):
    config = tmp_path / "linkcheckerrc"
    config.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_LINKCHECKER,
            "--config",
            str(config),
            "--no-status",
            "--verbose",
            "--output",
            "csv",
            site_url,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                "\n".join(line for line in done.stdout.splitlines() if line and not line.startswith("#"))
            ),
            delimiter=";",
        )
    )
    assert len(rows) > 20, done.stdout + done.stderr
    broken = [
        f"{r['url']} (in {r['parentname']}): {r['result']} {r['warningstring']}"
        for r in rows
        if r["valid"] != "True" or r["warningstring"]
    ]
    external = sorted(
        {
            r["url"]
            for r in rows
            if "outside of the domain filter" in r["infostring"] and r["url"].startswith(("http:", "https:"))
        }
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "external-links.txt").write_text("\n".join(external) + "\n", encoding="utf-8")
    assert not broken, "\n".join(broken)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
