"""Claims made on the warm-up page (docs/numpy_warmup.md) about its own snippet."""

import re
import tracemalloc

import numpy as np
import pytest

import lessons
from lessons import DOCS


def test_lr_is_just_below_the_stability_limit():
    """The page: lr = 1e-6 sits just below 2 / lambda_max of 2 h_relu^T h_relu at the start."""
    ns = lessons.setup("numpy_warmup")
    h_relu = np.maximum(ns["x"].dot(ns["w1"]), 0)
    limit = 2 / np.linalg.eigvalsh(2 * h_relu.T.dot(h_relu)).max()
    assert 0.9 * limit < ns["lr"] < limit


def temporary_claim(page: str) -> str:
    """The expression the paragraph below the update code calls a temporary array."""
    text = (DOCS / page).read_text(encoding="utf-8")
    paragraph = re.search(r'snippets/numpy_warmup\.py:update"\n```\n\n(.+)\n', text).group(1)
    assert "-=" in paragraph
    named = [
        m.group(1)
        for m in re.finditer(r"`([^`]+)`", paragraph)
        if re.match(r"[^。.]*?(?:temporary|临时)", paragraph[m.end() :])
    ]
    return named[0]  # the first code span of the sentence that says "temporary"


@pytest.mark.parametrize("page", ["numpy_warmup.md", "numpy_warmup.en.md"])
def test_minus_equals_keeps_the_buffer_but_the_right_side_is_a_temporary(page):
    """The page: `-=` updates w1 and w2 in place (same arrays, same buffers), while the expression
    it names (lr * grad_w1) is a new temporary array as large as w1, made at every step."""
    expr = temporary_claim(page)
    ns = lessons.setup("numpy_warmup")
    ns["losses"], ns["t"] = [], 0
    lessons.run("numpy_warmup", "forward", "loss", "backward", ns=ns)
    w1, w2 = ns["w1"], ns["w2"]
    before = [(id(w), w.ctypes.data, w.copy()) for w in (w1, w2)]
    tracemalloc.start()
    lessons.run("numpy_warmup", "update", ns=ns)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    for (ident, data, old), name in zip(before, ("w1", "w2")):
        w = ns[name]
        assert id(w) == ident and w.ctypes.data == data and not np.array_equal(w, old)
    assert peak >= w1.nbytes  # the update line allocates a w1-sized array
    temporary = eval(expr, ns)
    assert temporary.shape == w1.shape and temporary.nbytes == w1.nbytes
    assert not any(np.shares_memory(temporary, ns[k]) for k in ("w1", "w2", "grad_w1", "grad_w2"))
