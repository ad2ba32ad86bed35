"""Numbers the pages state about a run are read from the pages and checked against the run.

A stated number is marked in the page's source as `<span data-claim="NAME">VALUE</span>`
(readers see only VALUE; the span has no style). VALUE is a number, `$2.6 \\times 10^{7}$`
or `$10^{-6}$`. The 中文 and English page state the same claims with the same values, and
each claim NAME is checked by the function CHECKS[page][NAME] below, which runs the
lesson's own sections and compares the result with the number the page states: the test
never keeps its own copy of the number.
"""

import re

import numpy as np
import pytest

import lessons
from lessons import DOCS

CLAIM = re.compile(r'<span data-claim="(?P<name>[-\w]+)">(?P<value>.*?)</span>')
NUMBER = re.compile(r"^\$?\s*(?:(?P<m>[-\d.]+)\s*\\times\s*)?(?:10\^\{?(?P<e>-?\d+)\}?)?\s*\$?$")


def stated(text: str) -> float:
    """'10' -> 10.0, '$2.6 \\times 10^{7}$' -> 2.6e7, '$10^{-6}$' -> 1e-6."""
    text = text.strip()
    if re.fullmatch(r"-?[\d.]+", text):
        return float(text)
    m = NUMBER.match(text)
    assert m and (m["m"] or m["e"]), f"not a number: {text!r}"
    return float(m["m"] or 1) * 10.0 ** int(m["e"] or 0)


def claims(page) -> dict[str, str]:
    found = {}
    for m in CLAIM.finditer(page.read_text(encoding="utf-8")):
        assert m["name"] not in found, f"{page.name}: claim {m['name']!r} stated twice"
        found[m["name"]] = m["value"]
    return found


def as_stated(value: float, text: str) -> bool:
    """`value` rounds to the number as written: to as many significant digits as it shows."""
    mantissa = re.sub(r"\\times.*|\$|\s", "", text) if "\\times" in text else re.sub(r"[$\s]", "", text)
    digits = len(re.sub(r"^[-0.]+|\.", "", mantissa)) if not mantissa.startswith("10^") else 1
    return float(f"{value:.{max(digits, 1)}g}") == stated(text)


# --- the runs behind the claims, one function per page ---------------------------------------------


def numpy_warmup(page: dict[str, str]) -> dict[str, bool]:
    factor = stated(page["diverging-lr-factor"])
    lr = lessons.setup("numpy_warmup")["lr"]
    with np.errstate(over="ignore", invalid="ignore"):
        run = lessons.train("numpy_warmup", change=(("lr", repr(lr * factor)),))
    losses = np.array(run.losses)
    inf_at = int(np.argmax(np.isinf(losses)))  # the first step whose loss is inf
    nan_from = int(np.argmax(np.isnan(losses)))
    return {
        "diverging-lr-factor": factor > 1,
        "diverging-lr": np.isclose(lr * factor, stated(page["diverging-lr"])),
        "loss-at-step-0": as_stated(losses[0], page["loss-at-step-0"]),
        "diverging-loss-at-step-1": as_stated(losses[1], page["diverging-loss-at-step-1"]),
        "diverging-inf-at-step": np.isfinite(losses[:inf_at]).all()
        and inf_at == stated(page["diverging-inf-at-step"]),
        "diverging-nan-from-step": np.isnan(losses[nan_from:]).all()
        and nan_from == stated(page["diverging-nan-from-step"]),
    }


CHECKS = {"numpy_warmup": numpy_warmup}

EN_PAGES = sorted(DOCS.glob("*.en.md"))


def slug(page) -> str:
    return page.name.removesuffix(".en.md")


@pytest.mark.parametrize("page", EN_PAGES, ids=slug)
def test_both_languages_state_the_same_numbers(page):
    zh = page.with_name(f"{slug(page)}.md")
    assert claims(zh) == claims(page), f"{zh.name} and {page.name} state different numbers"


@pytest.mark.parametrize("page", EN_PAGES, ids=slug)
def test_every_stated_number_is_checked_against_the_run(page):
    stated_here = claims(page)
    if not stated_here:
        assert slug(page) not in CHECKS, f"CHECKS has {slug(page)!r}, but {page.name} marks no claim"
        return
    assert slug(page) in CHECKS, f"{page.name} states {sorted(stated_here)}, and nothing checks them"
    results = CHECKS[slug(page)](stated_here)
    assert set(results) == set(stated_here), (
        f"{page.name}: claims on the page {sorted(stated_here)}, checked {sorted(results)}"
    )
    wrong = {name: stated_here[name] for name, ok in results.items() if not ok}
    assert not wrong, f"{page.name}: these numbers disagree with the run: {wrong}"


def test_stated_parses_what_pages_write():
    assert stated("10") == 10 and stated("$2.6 \\times 10^{7}$") == 2.6e7 and stated("$10^{-6}$") == 1e-6
    assert as_stated(2.63e7, "$2.6 \\times 10^{7}$") and not as_stated(2.7e7, "$2.6 \\times 10^{7}$")
