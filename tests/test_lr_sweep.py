"""The warm-up's plot of the loss against the learning rate (hooks/lr_sweep.py).

The hook trains the lesson's own `train` section with other learning rates and draws the
last losses. These tests check that it runs the lesson's code (the same losses as the
section run by conftest's reader), that its bound is the one the page computes, that each
language gets its own labels, and that the built site shows each language its plot. The
page's numbers about single runs are checked in tests/test_claims.py.
"""

import contextlib
import importlib.util
import io
import math
import re

import numpy as np
import pytest

from conftest import DOCS, ROOT, run_section, setup_namespace

PAGES = {"zh": DOCS / "numpy_warmup.md", "en": DOCS / "numpy_warmup.en.md"}
TEXT = {lang: page.read_text(encoding="utf-8") for lang, page in PAGES.items()}


def hook():
    spec = importlib.util.spec_from_file_location("lr_sweep", ROOT / "hooks" / "lr_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sweep = hook()


@pytest.fixture(scope="module")
def small():
    """The hook's sweep at two rates only: the lesson's and 5x the bound."""
    return sweep.sweep(factors=[5])


def test_sweep_trains_the_lessons_own_loop(small):
    ns = setup_namespace("numpy_warmup")
    with contextlib.redirect_stdout(io.StringIO()):
        run_section("numpy_warmup", "train", ns)
    lesson = next(r for r in small["runs"] if r["lr"] == ns["lr"])
    assert small["lesson_lr"] == ns["lr"] and lesson["final_loss"] == ns["losses"][-1]
    (fast,) = [r for r in small["runs"] if r["lr"] != ns["lr"]]
    assert fast["lr"] == pytest.approx(5 * small["bound"]) and not math.isfinite(fast["final_loss"])


@pytest.mark.parametrize("lang", PAGES)
def test_bound_is_the_one_the_page_computes(small, lang):
    (shown,) = re.findall(r"2 / lambda_max = ([\d.e+-]+)", TEXT[lang])
    assert f"{small['bound']:.3e}" == shown


def test_rates_span_half_to_five_times_the_bound_evenly_on_a_log_axis():
    factors = sweep.FACTORS
    assert factors[0] == pytest.approx(0.5) and factors[-1] == pytest.approx(5)
    np.testing.assert_allclose(np.diff(np.log(factors)), np.log(10) / (len(factors) - 1))
    low, high = f"{factors[0]:g}", f"{factors[-1]:g}"
    assert f"{low} 倍到 {high} 倍" in TEXT["zh"] and f"from {low} to {high} times the limit" in TEXT["en"]


@pytest.mark.parametrize("lang", PAGES)
def test_plot_is_labelled_in_each_language(small, lang):
    svg = sweep.svg(small, lang)
    other = {"zh": "en", "en": "zh"}[lang]
    assert svg == sweep.svg(small, lang)  # reproducible
    for key, words in sweep.LABELS[lang].items():
        if key == "factor":  # a formula: the same in both
            continue
        assert bool(re.search(r"[\u4e00-\u9fff]", words)) == (lang == "zh"), f"{lang} label {key!r}: {words}"
        if "{" not in words:
            assert words in svg and sweep.LABELS[other][key] not in svg, key
    assert sweep.sci(small["bound"], 3) in svg  # the bound, marked
    assert sweep.LABELS[lang]["diverged"] in svg  # 5x the bound diverges: marked as such


@pytest.mark.parametrize("lang", PAGES)
def test_page_shows_its_languages_plot_with_alt_text(lang):
    (alt,) = re.findall(rf"!\[([^\]]+)\]\(assets/plots/lr_sweep-{lang}\.svg\)", TEXT[lang])
    assert len(alt) > 60


def test_cache_is_keyed_on_the_snippet(tmp_path, monkeypatch):
    copy = tmp_path / "numpy_warmup.py"
    copy.write_bytes(sweep.SNIPPET.read_bytes())
    monkeypatch.setattr(sweep, "SNIPPET", copy)
    before = sweep.cached()
    copy.write_text(copy.read_text(encoding="utf-8").replace("lr = 1e-6", "lr = 2e-6"), encoding="utf-8")
    assert sweep.cached() != before


@pytest.mark.parametrize("lang", PAGES)
def test_built_site_shows_each_language_its_plot(built_site, lang):
    site, done, _ = built_site
    assert done.returncode == 0, done.stderr[-3000:]
    page = site / ("en/" if lang == "en" else "") / "numpy_warmup" / "index.html"
    (src,) = re.findall(r'<img[^>]*src="([^"]*lr_sweep[^"]*)"', page.read_text(encoding="utf-8"))
    svg = (page.parent / src).resolve().read_text(encoding="utf-8")
    assert sweep.LABELS[lang]["x"] in svg and sweep.LABELS[lang]["y"] in svg  # the plot, not the stand-in
