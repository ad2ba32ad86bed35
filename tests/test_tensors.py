"""Claims made on the Tensors page (docs/tensors.md) about its own snippet, in float32 on the CPU."""

import contextlib
import io
import re

import pytest
import torch

from conftest import DOCS, section, setup_namespace


class StepRecorder(list):
    """Stands in for the loop's `losses` list and looks at h each time a loss is appended."""

    def __init__(self, ns):
        super().__init__()
        self.ns, self.steps_with_zeros = ns, 0

    def append(self, value):
        super().append(value)
        self.steps_with_zeros += bool((self.ns["h"] == 0).any())


def train(dtype=torch.float32, mask="h < 0"):
    ns = setup_namespace("tensors")
    with contextlib.redirect_stdout(io.StringIO()):
        for name in ("x", "y", "w1", "w2"):
            ns[name] = ns[name].to("cpu", dtype)
        src = section("tensors", "train")
        assert "losses = []" in src and "grad_h[h < 0] = 0" in src
        src = src.replace("losses = []", "losses = StepRecorder(globals())").replace(
            "grad_h[h < 0] = 0", f"grad_h[{mask}] = 0"
        )
        ns["StepRecorder"] = StepRecorder
        exec(compile(src, "snippets/tensors.py:train (instrumented)", "exec"), ns)
    return ns["losses"]


def test_float32_and_float64_agree_early_then_float32_lags():
    """The page: from the same start, float32 and float64 agree for the first 200 steps
    (4 significant digits), then float32's loss falls more slowly (>10x higher at step 499)."""
    f32, f64 = train(torch.float32), train(torch.float64)
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
    f32 = train(torch.float32)
    assert (f32.steps_with_zeros, len(f32)) == (int(claim["steps"]), int(claim["total"]))
    assert train(torch.float64).steps_with_zeros == 0


def test_the_choice_at_zero_changes_float32_training():
    """The page: with `h <= 0` instead of `h < 0` the float32 loss differs by step 200."""
    a, b = train(mask="h < 0"), train(mask="h <= 0")
    assert a[200] != b[200]
