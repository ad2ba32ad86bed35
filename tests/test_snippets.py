"""Every lesson's snippet runs as a script, repeats, and trains: the loss falls 10^6-fold.

"Repeats": the script's output is printed again, digit for digit, by a second run in this
process of the sections the pages show (lessons.train, which the per-page tests share).
"""

import math

import pytest

import lessons
from lessons import LESSONS, uses_torch

LOSS_LINE = lessons.LOSS_LINE
CPU_ONLY = lessons.CPU_ONLY


def run_script(lesson: str, env_extra: dict | None = None) -> str:
    """What `python snippets/<lesson>.py` prints (the CPU runs start early: the `background` marker)."""
    done = lessons.script(lesson, env_extra)
    assert done.returncode == 0, done.stderr
    return done.stdout


# Every lesson's loss falls at least a million-fold in 500 steps, but two: dynamic_graphs'
# network has a random depth each step, and one set of shared weights can't fit all four
# depths exactly (docs/dynamic_graphs.md shows the measurements); real_data prints the mean
# cross-entropy of one mini-batch of real digits, which is the point to stop well before
# zero (docs/real_data.md: the validation set, not the training loss, says how good it is).
MIN_FALL = 1e6
MIN_FALL_EXCEPTIONS = {"dynamic_graphs": 1e3, "real_data": 1e2}


def check_training(stdout: str, lesson: str = "") -> dict[int, float]:
    losses = {int(t): float(v) for t, v in LOSS_LINE.findall(stdout)}
    assert 0 in losses and 499 in losses, f"expected the loss at steps 0 and 499 in:\n{stdout}"
    assert all(math.isfinite(v) for v in losses.values()), losses
    target = MIN_FALL_EXCEPTIONS.get(lesson, MIN_FALL)
    assert losses[0] / losses[499] >= target, f"loss fell only {losses[0] / losses[499]:.3g}-fold"
    return losses


@pytest.mark.parametrize(
    "lesson",
    [pytest.param(x, marks=pytest.mark.background(lessons.script_command(x), CPU_ONLY)) for x in LESSONS],
)
def test_snippet_runs_trains_and_repeats(lesson):
    first = run_script(lesson, CPU_ONLY)
    check_training(first, lesson)
    if uses_torch(lesson):
        assert "device: cpu" in first.splitlines()
    # the sections the pages show, run in turn, print what the script printed: seeded
    assert lessons.train(lesson).printed == first, "the snippet is not seeded"


@pytest.mark.cuda
@pytest.mark.parametrize("lesson", [lesson for lesson in LESSONS if uses_torch(lesson)])
def test_snippet_runs_on_cuda(lesson):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    out = run_script(lesson)
    assert "device: cuda" in out.splitlines()
    check_training(out, lesson)
