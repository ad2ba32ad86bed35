"""Started from the same weights, every lesson follows the same loss curve: each lesson is
the same network trained with a new tool.

Each lesson's own `setup` section runs first (so its library, device, model and
requires_grad settings are its own); then the data and weights are replaced by the same
float64 numbers, and the lesson's `train` section, as the page shows it, runs.

- Lessons with raw weights (w1, w2): x, y, w1, w2 are replaced.
- Lessons with a `model` of two nn.Linear layers (nn, optim, custom_module): the layers'
  weights become w1.T and w2.T (nn.Linear stores (out, in)), their biases are removed
  (`bias = None`: the earlier lessons' network has none), the model is cast to float64
  and the learning rate set to the autograd lesson's. A lesson with an `sgd` section
  (optim) trains with the optimizer that section makes.
Lessons whose network differs (dynamic_graphs: three layers, a random depth) are left out
because they define neither.
"""

import functools

import numpy as np
import pytest
import torch

import lessons
from lessons import LESSONS, section_names


def kind(lesson: str) -> str | None:
    if not {"setup", "train"} <= section_names(lesson):
        return None
    ns = lessons.setup(lesson)
    if {"w1", "w2"} <= ns.keys():
        return "weights"
    model = ns.get("model")
    if isinstance(model, torch.nn.Module) and len(linears(model)) == 2 and "lr" in ns:
        return "model"
    return None


def linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    return [m for m in model.modules() if isinstance(m, torch.nn.Linear)]


# The lessons whose network is another one (named in the docstring above); any other lesson
# must be one of the two kinds. Which kind is decided by running the lesson's setup, so in
# the test, not at collection (collecting then runs no lesson).
OTHER_NETWORKS = {"dynamic_graphs", "real_data"}


@functools.cache
def kinds() -> dict[str, str | None]:
    return {lesson: kind(lesson) for lesson in LESSONS}


def train_from(lesson: str, start: dict[str, np.ndarray], lr: float) -> list[float]:
    ns = lessons.setup(lesson)
    as_tensor = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    if kinds()[lesson] == "weights":
        for name, value in start.items():
            old = ns[name]
            if isinstance(old, torch.Tensor):
                ns[name] = as_tensor(value).requires_grad_(old.requires_grad)
            else:
                ns[name] = value.copy()
    else:
        model = ns["model"].to("cpu", torch.float64)
        first, second = linears(model)
        with torch.no_grad():
            first.weight.copy_(as_tensor(start["w1"]).T)
            second.weight.copy_(as_tensor(start["w2"]).T)
        first.bias = second.bias = None
        ns["x"], ns["y"] = as_tensor(start["x"]), as_tensor(start["y"])
        ns["lr"] = lr
        if "sgd" in section_names(lesson):
            lessons.run(lesson, "sgd", ns=ns)
        for group in getattr(ns.get("optimizer"), "param_groups", []):
            group["lr"] = lr
    lessons.run(lesson, "train", ns=ns)
    return [float(v) for v in ns["losses"]]


def test_the_lessons_that_should_be_equivalent_are_found():
    expected = {"numpy_warmup", "tensors", "autograd", "nn", "optim", "custom_module"} & set(LESSONS)
    found = {lesson for lesson, k in kinds().items() if k}
    assert expected <= found, kinds()
    assert found == set(LESSONS) - OTHER_NETWORKS, kinds()


@pytest.mark.parametrize(
    "lesson", [lesson for lesson in LESSONS if lesson not in OTHER_NETWORKS | {"autograd"}]
)
def test_same_loss_curve_as_the_autograd_lesson(lesson, reference):
    assert kinds()[lesson], f"{lesson}: neither raw weights w1, w2 nor a model of two nn.Linear layers"
    start, lr, expected = reference
    curve = train_from(lesson, start, lr)
    np.testing.assert_allclose(curve, expected, rtol=1e-6, err_msg=f"{lesson} vs autograd")


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(1)
    ns = lessons.setup("autograd")
    shapes = {
        "x": (ns["N"], ns["D_in"]),
        "y": (ns["N"], ns["D_out"]),
        "w1": (ns["D_in"], ns["H"]),
        "w2": (ns["H"], ns["D_out"]),
    }
    start = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    curve = train_from("autograd", start, ns["lr"])
    assert len(curve) == 500 and curve[0] / curve[-1] > 1e6
    return start, ns["lr"], curve
