"""Claims made on the Autograd page (docs/autograd.md) about its own snippet."""

import contextlib
import io
import math

from conftest import run_section, section, setup_namespace


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
