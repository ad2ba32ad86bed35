"""Claims made on the Tensors page (docs/tensors.md) about its own snippet, in float32 on the CPU."""

import lessons

# Evaluated after each step's loss: does h hold an exact zero? (the page's count)
ZEROS_IN_H = "bool((h == 0).any())"


def train(dtype=None, mask="h < 0", steps=lessons.STEPS):
    """The page's loop on the CPU (float32, or its numbers cast to `dtype`), with `mask` in
    `grad_h[h < 0] = 0`; it records, at each step, whether h holds an exact zero (`.watched`)."""
    edits = (("grad_h[h < 0] = 0", f"grad_h[{mask}] = 0"),) if mask != "h < 0" else ()
    return lessons.train("tensors", dtype=dtype, edits=edits, steps=steps, watch=ZEROS_IN_H)


def test_float32_and_float64_agree_early_then_float32_lags():
    """The page: from the same start, float32 and float64 agree at first, then float32's loss
    falls more slowly. For how many steps, to how many digits and how much higher float32 ends:
    the page's numbers, checked against this run by tests/test_claims.py."""
    f32, f64 = train().losses, train("float64").losses
    assert abs(f32[0] - f64[0]) <= 1e-6 * f64[0]  # the same start
    assert f32[499] > f64[499]


def test_exact_zeros_in_h_happen_in_float32_not_float64():
    """The page: in float32, h holds exact zeros on some steps (how many: the page's number,
    checked by tests/test_claims.py); in float64, on none."""
    f32 = train()
    assert 0 < sum(f32.watched) < len(f32.losses)
    assert sum(train("float64").watched) == 0


def test_the_choice_at_zero_changes_float32_training():
    """The page: with `h <= 0` instead of `h < 0` the float32 loss differs by the step the page
    states (read from the page)."""
    by = int(lessons.stated(lessons.page_claims("tensors")["mask-differs-by-step"]))
    a, b = train(mask="h < 0").losses, train(mask="h <= 0", steps=by + 1).losses
    assert a[by] != b[by], "tensors.en.md: mask-differs-by-step"
