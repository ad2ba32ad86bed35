"""Answers the pages give to the questions readers ask, checked against a run, and the
house style of the Chinese pages (their quotation marks, the name of the notation table)."""

import numpy as np
import torch

from conftest import run_section, section, setup_namespace

# --- numpy_warmup: why w2.T and not grad_w2.T ---------------------------------------------------

RIGHT, WRONG = "grad_y_pred.dot(w2.T)", "grad_y_pred.dot(grad_w2.T)"
GRADIENTS = ("grad_y_pred", "grad_w2", "grad_h_relu", "grad_h", "grad_w1")


def warmup_backward(change: tuple[str, str] | None = None) -> dict:
    """The warm-up's forward and backward sections on its own data in float64, with an optional
    one-line change (old, new) to the backward section."""
    ns = setup_namespace("numpy_warmup")
    for name in ("x", "y", "w1", "w2"):
        ns[name] = np.asarray(ns[name], dtype=np.float64)
    run_section("numpy_warmup", "forward", ns)
    code = section("numpy_warmup", "backward")
    if change:
        assert code.count(change[0]) == 1, f"the backward section has no single {change[0]!r}"
        code = code.replace(*change)
    exec(compile(code, "snippets/numpy_warmup.py:backward", "exec"), ns)
    return ns


def rel_err(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_grad_w2_T_passes_the_shape_check_but_fails_the_gradient_check():
    """numpy_warmup#grad-h-relu: grad_w2.T is D_out x H like w2.T, so with it every gradient
    keeps its shape; but only w2.T gives autograd's gradients."""
    right, wrong = warmup_backward(), warmup_backward((RIGHT, WRONG))
    assert right["grad_w2"].T.shape == right["w2"].T.shape
    for name in GRADIENTS:
        assert wrong[name].shape == right[name].shape, name

    x, y = (torch.from_numpy(right[k]) for k in ("x", "y"))
    w1, w2 = (torch.from_numpy(right[k].copy()).requires_grad_() for k in ("w1", "w2"))
    h_relu = x.mm(w1).clamp(min=0)
    h_relu.retain_grad()
    (h_relu.mm(w2) - y).pow(2).sum().backward()
    expected = {"grad_h_relu": h_relu.grad, "grad_w1": w1.grad, "grad_w2": w2.grad}
    for name, grad in expected.items():
        assert rel_err(right[name], grad.numpy()) < 1e-6, name
    assert rel_err(wrong["grad_w2"], w2.grad.numpy()) < 1e-6  # computed before the swapped line
    for name in ("grad_h_relu", "grad_w1"):
        assert rel_err(wrong[name], expected[name].numpy()) > 0.5, name
