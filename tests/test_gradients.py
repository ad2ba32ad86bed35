"""The hand-written backward passes are the chain rule: checked against autograd
and central finite differences in float64.

The code checked is the very `forward` and `backward` sections the pages embed,
run on the lesson's own data cast to float64.
"""

import numpy as np
import pytest
import torch

import lessons
from lessons import lessons_with, section

# Lessons whose backward pass is written by hand (autograd's is one call).
HAND_WRITTEN = [
    lesson
    for lesson in lessons_with("setup", "forward", "backward")
    if "grad_w1" in section(lesson, "backward")
]


def as_numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def float64_namespace(lesson: str) -> dict:
    """The lesson's setup section, run quietly, with x, y, w1, w2 cast to float64 on the CPU."""
    ns = lessons.setup(lesson)
    for name in ("x", "y", "w1", "w2"):
        value = ns[name]
        if isinstance(value, torch.Tensor):
            ns[name] = value.detach().to("cpu", torch.float64)
        else:
            ns[name] = np.asarray(value, dtype=np.float64)
    return ns


def reference_loss(x, y, w1, w2) -> torch.Tensor:
    """L = sum((relu(x w1) w2 - y)^2), with clamp(min=0): its gradient at h = 0 is 1,
    the same choice as the lessons' mask `grad_h[h < 0] = 0`."""
    return (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()


def rel_err(a, b) -> float:
    return float(np.linalg.norm(as_numpy(a) - as_numpy(b)) / np.linalg.norm(as_numpy(b)))


@pytest.fixture(params=HAND_WRITTEN)
def hand_written(request):
    lesson = request.param
    ns = float64_namespace(lesson)
    lessons.run(lesson, "forward", "backward", ns=ns)
    data = {k: torch.from_numpy(as_numpy(ns[k]).copy()) for k in ("x", "y", "w1", "w2")}
    return ns, data


def test_there_are_hand_written_lessons():
    assert len(HAND_WRITTEN) >= 2, HAND_WRITTEN


def test_gradients_match_autograd(hand_written):
    ns, data = hand_written
    w1 = data["w1"].clone().requires_grad_()
    w2 = data["w2"].clone().requires_grad_()
    loss = reference_loss(data["x"], data["y"], w1, w2)
    loss.backward()
    assert as_numpy(ns["grad_w1"]).shape == tuple(w1.shape)
    assert as_numpy(ns["grad_w2"]).shape == tuple(w2.shape)
    assert rel_err(ns["grad_w1"], w1.grad) < 1e-6
    assert rel_err(ns["grad_w2"], w2.grad) < 1e-6
    # The intermediate gradients too, against autograd's view of the same graph.
    h = data["x"].mm(w1.detach()).requires_grad_()
    h_relu = h.clamp(min=0)
    h_relu.retain_grad()
    y_pred = h_relu.mm(w2.detach())
    y_pred.retain_grad()
    (y_pred - data["y"]).pow(2).sum().backward()
    assert rel_err(ns["grad_y_pred"], y_pred.grad) < 1e-6
    assert rel_err(ns["grad_h_relu"], h_relu.grad) < 1e-6
    assert rel_err(ns["grad_h"], h.grad) < 1e-6


def test_gradients_match_finite_differences(hand_written):
    ns, data = hand_written
    x, y, w1, w2 = data["x"], data["y"], data["w1"], data["w2"]
    step = 1e-6
    # Not flaky at the ReLU kink: a step moves h[:, j] by at most step * max|x|,
    # far less than the smallest |h|, so no entry of h changes sign. Checked, not hoped.
    h = x.mm(w1)
    assert step * x.abs().max() < 0.01 * h.abs().min()
    rng = np.random.default_rng(0)
    for name, weight in (("w1", w1), ("w2", w2)):
        grad = as_numpy(ns[f"grad_{name}"])
        # Relative to the gradient's scale (its largest entry): the loss is ~1e7, so
        # rounding puts ~1e-3 of absolute noise into each finite difference.
        scale = np.abs(grad).max()
        for flat in rng.choice(weight.numel(), size=20, replace=False):
            i, j = np.unravel_index(flat, weight.shape)
            plus, minus = weight.clone(), weight.clone()
            plus[i, j] += step
            minus[i, j] -= step
            args = {"w1": w1, "w2": w2}
            fd = (
                reference_loss(x, y, **{**args, name: plus}) - reference_loss(x, y, **{**args, name: minus})
            ).item() / (2 * step)
            assert abs(grad[i, j] - fd) / scale < 1e-6, (name, i, j, grad[i, j], fd)


@pytest.mark.parametrize("lesson", HAND_WRITTEN)
def test_relu_mask_choice_at_zero_matches_clamp(lesson):
    """At h == 0 the lessons let the gradient through (mask h < 0), as clamp(min=0) does."""
    h = torch.tensor([[-1.0, 0.0, 2.0]], dtype=torch.float64, requires_grad=True)
    h.clamp(min=0).sum().backward()
    assert h.grad.tolist() == [[0.0, 1.0, 1.0]]
    # One sample, one input, three hidden units with h = [-1, 0, 2], one output.
    ns = float64_namespace(lesson)
    lib = torch if isinstance(ns["x"], torch.Tensor) else np
    ns.update(
        x=lib.ones((1, 1)) * 1.0,
        w1=h.detach().clone() if lib is torch else h.detach().numpy().copy(),
        w2=lib.ones((3, 1)) * 1.0,
    )
    if lib is torch:
        ns["x"], ns["w2"] = ns["x"].double(), ns["w2"].double()
    lessons.run(lesson, "forward", ns=ns)
    ns["y"] = ns["y_pred"] + 0.5  # so grad_y_pred = -1, not 0
    lessons.run(lesson, "backward", ns=ns)
    assert (as_numpy(ns["grad_h"]) != 0).tolist() == [[False, True, True]]
