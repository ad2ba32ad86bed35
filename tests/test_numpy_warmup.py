"""Claims made on the warm-up page (docs/numpy_warmup.md) about its own snippet."""

import contextlib
import io

import numpy as np

from conftest import run_section, setup_namespace


def train(lr_factor: float) -> np.ndarray:
    ns = setup_namespace("numpy_warmup")
    ns["lr"] *= lr_factor
    with contextlib.redirect_stdout(io.StringIO()), np.errstate(over="ignore", invalid="ignore"):
        run_section("numpy_warmup", "train", ns)
    return np.array(ns["losses"])


def test_lr_is_just_below_the_stability_limit():
    """The page: lr = 1e-6 sits just below 2 / lambda_max of 2 h_relu^T h_relu at the start."""
    ns = setup_namespace("numpy_warmup")
    h_relu = np.maximum(ns["x"].dot(ns["w1"]), 0)
    limit = 2 / np.linalg.eigvalsh(2 * h_relu.T.dot(h_relu)).max()
    assert 0.9 * limit < ns["lr"] < limit


def test_five_times_the_learning_rate_diverges():
    """The page: 5x lr grows the loss from the first step and overflows to inf, then nan, within 10 steps."""
    losses = train(5)
    assert losses[1] > 10 * losses[0]
    first_bad = int(np.argmax(~np.isfinite(losses)))
    assert 0 < first_bad < 10 and np.isinf(losses[first_bad]) and np.isnan(losses[-1])
