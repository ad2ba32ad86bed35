"""Claims made on the Tensors page (docs/tensors.md) about its own snippet, in float32 on the CPU."""

import re

import pytest

import lessons
from lessons import DOCS

# Evaluated after each step's loss: does h hold an exact zero? (the page's count)
ZEROS_IN_H = "bool((h == 0).any())"


def train(dtype=None, mask="h < 0", steps=lessons.STEPS):
    """The page's loop on the CPU (float32, or its numbers cast to `dtype`), with `mask` in
    `grad_h[h < 0] = 0`; it records, at each step, whether h holds an exact zero (`.watched`)."""
    edits = (("grad_h[h < 0] = 0", f"grad_h[{mask}] = 0"),) if mask != "h < 0" else ()
    return lessons.train("tensors", dtype=dtype, edits=edits, steps=steps, watch=ZEROS_IN_H)


def test_float32_and_float64_agree_early_then_float32_lags():
    """The page: from the same start, float32 and float64 agree for the first 200 steps
    (4 significant digits), then float32's loss falls more slowly (>10x higher at step 499)."""
    f32, f64 = train().losses, train("float64").losses
    for t in range(0, 201):
        assert abs(f32[t] - f64[t]) <= 1e-4 * f64[t], t
    assert f32[499] > 10 * f64[499]


EXACT_ZEROS_CLAIM = {
    "tensors.en.md": r"\$h\$ contains elements exactly equal to 0"
    r" on (?P<steps>\d+) of the (?P<total>\d+) steps",
    "tensors.md": r"(?P<total>\d+) 步里有 (?P<steps>\d+) 步的 \$h\$ 中出现恰好等于 0 的元素",
}


@pytest.mark.parametrize("page", sorted(EXACT_ZEROS_CLAIM))
def test_exact_zeros_in_h_happen_in_float32_not_float64(page):
    """The page: in float32, h holds exact zeros on 122 of the 500 steps (the count read from the
    page); in float64, on none."""
    claim = re.search(EXACT_ZEROS_CLAIM[page], (DOCS / page).read_text(encoding="utf-8"))
    f32 = train()
    assert (sum(f32.watched), len(f32.losses)) == (int(claim["steps"]), int(claim["total"]))
    assert sum(train("float64").watched) == 0


def test_the_choice_at_zero_changes_float32_training():
    """The page: with `h <= 0` instead of `h < 0` the float32 loss differs by step 200."""
    a, b = train(mask="h < 0").losses, train(mask="h <= 0", steps=201).losses
    assert a[200] != b[200]
