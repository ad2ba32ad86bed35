"""Started from the same weights, every lesson follows the same loss curve.

Each lesson's own `setup` section runs first (so its library, device and
requires_grad settings are its own); then x, y, w1, w2 are replaced by the same
float64 numbers, and the lesson's `train` section, as the page shows it, runs.
"""

import contextlib
import io

import numpy as np
import torch

from conftest import lessons_with, run_section, setup_namespace

LESSONS = lessons_with("setup", "train")


def train_from(lesson: str, start: dict[str, np.ndarray]) -> list[float]:
    ns = setup_namespace(lesson)
    with contextlib.redirect_stdout(io.StringIO()):
        for name, value in start.items():
            old = ns[name]
            if isinstance(old, torch.Tensor):
                new = torch.tensor(value, dtype=torch.float64, device="cpu")
                ns[name] = new.requires_grad_(old.requires_grad)
            else:
                ns[name] = value.copy()
        run_section(lesson, "train", ns)
    return [float(v) for v in ns["losses"]]


def test_all_lessons_follow_the_same_loss_curve():
    assert len(LESSONS) >= 3, LESSONS
    rng = np.random.default_rng(1)
    ns = setup_namespace(LESSONS[0])  # only for the sizes
    shapes = {
        "x": (ns["N"], ns["D_in"]),
        "y": (ns["N"], ns["D_out"]),
        "w1": (ns["D_in"], ns["H"]),
        "w2": (ns["H"], ns["D_out"]),
    }
    start = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    curves = {lesson: train_from(lesson, start) for lesson in LESSONS}
    reference_lesson, reference = next(iter(curves.items()))
    assert len(reference) == 500 and reference[0] / reference[-1] > 1e6
    for lesson, curve in curves.items():
        np.testing.assert_allclose(curve, reference, rtol=1e-6, err_msg=f"{lesson} vs {reference_lesson}")
