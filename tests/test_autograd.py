"""Claims made on the Autograd page (docs/autograd.md) about its own snippet."""

import contextlib
import io
import math
import re
import warnings

import pytest

from conftest import DOCS, run_section, section, setup_namespace


def train(drop_zeroing=False):
    ns = setup_namespace("autograd")
    with contextlib.redirect_stdout(io.StringIO()):
        for name in ("x", "y"):
            ns[name] = ns[name].to("cpu")
        for name in ("w1", "w2"):
            ns[name] = ns[name].detach().to("cpu").requires_grad_()
        src = section("autograd", "train")
        if drop_zeroing:
            lines = [line for line in src.splitlines() if not line.strip().endswith(".grad.zero_()")]
            assert len(lines) == len(src.splitlines()) - 2
            src = "\n".join(lines)
        exec(compile(src, "snippets/autograd.py:train", "exec"), ns)
    return ns["losses"]


def test_forgetting_to_zero_the_gradients_diverges():
    """The page: without zero_() the loss never gets below a hundred thousand, jumps up and
    down, overflows to inf after 100-odd steps and turns into nan; the correct loop is near
    400 by step 100."""
    right, wrong = train(), train(drop_zeroing=True)
    assert 300 < right[100] < 500
    first_bad = next(t for t, v in enumerate(wrong) if not math.isfinite(v))
    assert all(v > 1e5 for v in wrong[:first_bad])
    assert 100 < first_bad < 200 and math.isinf(wrong[first_bad]) and math.isnan(wrong[-1])


def test_same_losses_as_the_tensors_lesson_digit_for_digit():
    """The page: on the CPU, autograd.py prints exactly the losses tensors.py prints."""
    ns = setup_namespace("tensors")
    with contextlib.redirect_stdout(io.StringIO()):
        for name in ("x", "y", "w1", "w2"):
            ns[name] = ns[name].to("cpu")
        run_section("tensors", "train", ns)
    assert train() == ns["losses"]


def reassign_failure(outside_no_grad, keep_zeroing):
    """Run the page's loop with `w = w - lr * w.grad` in place of `w -= lr * w.grad`:
    (the step it fails at, "ExceptionType: message")."""
    ns = setup_namespace("autograd")
    src = section("autograd", "train")
    for name in ("w1", "w2"):
        old = f"{name} -= lr * {name}.grad"
        assert old in src
        src = src.replace(old, f"{name} = {name} - lr * {name}.grad")
        if not keep_zeroing:
            assert f"{name}.grad.zero_()" in src
            src = src.replace(f"{name}.grad.zero_()", "pass")
    if outside_no_grad:
        assert "with torch.no_grad():" in src
        src = src.replace("with torch.no_grad():", "if True:")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns
        with pytest.raises(Exception) as info:
            exec(compile(src, "snippets/autograd.py:train", "exec"), ns)
    return ns["t"], f"{info.type.__name__}: {info.value}"


def reassign_claims(page):
    """The errors the page's #reassign section quotes in its prose, each with the step
    ("step N" / "第 N 步") named last before it."""
    text = page.read_text(encoding="utf-8")
    text = text[text.index("{ #reassign }") :]
    text = text[: text.index("\n## ")]
    claims, step = set(), None
    for m in re.finditer(r"step (\d+)|第 (\d+) 步|`(\w+Error: [^`\n]+)`", text):
        if m.group(3):
            claims.add((step, m.group(3)))
        else:
            step = int(m.group(1) or m.group(2))
    return claims


@pytest.mark.parametrize("page", ["autograd.md", "autograd.en.md"])
def test_reassigning_the_weights_fails_with_the_errors_the_page_quotes(page):
    """The page: with the loop's zero_() lines, both `w = w - lr * w.grad` variants fail at
    step 0 with an AttributeError; without them, outside no_grad gives a TypeError and
    inside a RuntimeError from backward(), at step 1. Messages and steps are the page's."""
    runs = {reassign_failure(outside, keep) for outside in (True, False) for keep in (True, False)}
    assert reassign_claims(DOCS / page) == runs
