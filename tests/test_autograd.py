"""Claims made on the Autograd page (docs/autograd.md) about its own snippet."""

import math
import re
import warnings

import pytest

import lessons
from lessons import DOCS

# The loop's two `.grad.zero_()` lines, made no-ops
NO_ZEROING = (("w1.grad.zero_()", "pass"), ("w2.grad.zero_()", "pass"))


def test_forgetting_to_zero_the_gradients_diverges():
    """The page: without zero_() the loss never gets below a hundred thousand, jumps up and
    down, overflows to inf after 100-odd steps and turns into nan; the correct loop is far
    below that by step 100 (its loss there, the page's number: tests/test_claims.py). 200
    steps: the inf comes before step 200, and from the first nan on every loss is nan (nan
    gradients make nan weights), so the last step, 199 or 499, is nan."""
    right = lessons.train("autograd").losses
    wrong = lessons.train("autograd", edits=NO_ZEROING, steps=200).losses
    assert right[100] < 1e-2 * min(wrong[:100])
    first_bad = next(t for t, v in enumerate(wrong) if not math.isfinite(v))
    assert all(v > 1e5 for v in wrong[:first_bad])
    assert 100 < first_bad < 200 and math.isinf(wrong[first_bad]) and math.isnan(wrong[-1])


def test_same_losses_as_the_tensors_lesson_digit_for_digit():
    """The page: on the CPU, autograd.py prints exactly the losses tensors.py prints."""
    assert lessons.train("autograd").losses == lessons.train("tensors").losses


def reassign_failure(outside_no_grad, keep_zeroing):
    """Run the page's loop with `w = w - lr * w.grad` in place of `w -= lr * w.grad`:
    (the step it fails at, "ExceptionType: message")."""
    edits = [(f"{name} -= lr * {name}.grad", f"{name} = {name} - lr * {name}.grad") for name in ("w1", "w2")]
    if not keep_zeroing:
        edits += NO_ZEROING
    if outside_no_grad:
        edits.append(("with torch.no_grad():", "if True:"))
    ns = lessons.setup("autograd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns
        with pytest.raises(Exception) as info:
            lessons.run("autograd", "train", ns=ns, edits=edits)
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
