"""Claims made on the Gradient checking page (docs/gradient_checking.md) about its own snippet,
on the CPU: the check's result, the error table, why float64, the training, the exercises."""

import contextlib
import io
import re

import pytest
import torch

import lessons
from lessons import DOCS, ROOT

LESSON = "gradient_checking"
PAGES = [DOCS / f"{LESSON}.md", DOCS / f"{LESSON}.en.md"]
TABLE_ROW = re.compile(r"^(\de[+-]\d\d)   (\S+)  (\S+)$", re.M)
ZEROS_IN_H = "bool((h == 0).any())"  # evaluated after each step's loss


@pytest.fixture(scope="module")
def run():
    """The script's run (CPU): its losses, and what it printed."""
    return lessons.train(LESSON)


@pytest.fixture(scope="module")
def step0():
    """The setup, then the forward and backward sections once: the gradients the check sees."""
    ns = lessons.setup(LESSON)
    lessons.run(LESSON, "forward", "backward", ns=ns)
    ns["rng_state"] = torch.get_rng_state()  # where the script's check starts drawing entries
    return ns


def table(printed: str) -> dict[str, tuple[float, float]]:
    rows = {eps: (float(a), float(b)) for eps, a, b in TABLE_ROW.findall(printed)}
    assert len(rows) == 11, printed
    return rows


def text_blocks(page):
    return re.findall(r"^```text\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_pages_show_what_the_script_prints(run, page):
    """The pages' output blocks (the check's line, the table) are lines the CPU run prints, in order."""
    printed = run.printed
    blocks = text_blocks(page)
    assert len(blocks) == 2 and "max relative error" in blocks[0] and "float32" in blocks[1]
    for block in blocks:
        assert block in printed, block


def test_check_result_and_the_entry_it_comes_from(step0):
    """The page: the check compares 10 entries; its largest relative error comes from an entry with
    a small gradient (the error, the two values and their difference: the page's numbers, checked
    by tests/test_claims.py)."""
    ns = step0
    calls = []
    rel_error = ns["rel_error"]
    ns["rel_error"] = lambda a, b: calls.append((a, b)) or rel_error(a, b)
    torch.set_rng_state(ns["rng_state"])
    try:
        worst = ns["check_gradients"](ns["grad_w1"], ns["grad_w2"])
    finally:
        ns["rel_error"] = rel_error
    assert len(calls) == 10 and 0 < worst < 1e-6
    a, b = max(calls, key=lambda ab: rel_error(*ab))
    assert rel_error(a, b) == worst and abs(a) < ns["grad_w1"].abs().mean()  # a small gradient
    assert all(a != 0 or b != 0 for a, b in calls)  # rel_error is defined for every sampled entry


def test_gradient_sizes(step0):
    """The page: entries of dL/dw2 average about 140,000 (dL/dw1's average, the page's number, is
    checked by tests/test_claims.py), far more than dL/dw1's; w1 has 100,000 entries."""
    assert step0["grad_w1"].abs().mean() < 0.1 * step0["grad_w2"].abs().mean()
    assert 135_000 < step0["grad_w2"].abs().mean() < 150_000
    assert step0["w1"].numel() == 100_000


def test_round_off_estimate_matches_the_table(step0, run):
    """The page: the round-off estimate eps_mach L / (eps |g|), for the entry (w1)00 whose gradient
    g is negative, is of the same order as the error the table measures, in float32 at eps 1e-2 and
    in float64 at eps 1e-6 (L, g, L/|g|, the estimates and the measured errors: the page's numbers,
    checked by tests/test_claims.py)."""
    L = step0["loss_at"](step0["x"], step0["y"], step0["w1"], step0["w2"])
    g = step0["grad_w1"][0, 0].item()
    assert L > 0 > g
    rows = table(run.printed)
    for dt, eps, col in ((torch.float32, "1e-02", 0), (torch.float64, "1e-06", 1)):
        estimate = torch.finfo(dt).eps * L / (float(eps) * abs(g))
        assert estimate / 10 < rows[eps][col] < estimate * 10


def test_table_shape(run):
    """The page: float64's error grows ~10x per row from eps 1e-1 to 1e-10; at eps = 1 both columns
    show the same error (a kink); float32 is never as good as float64's best (the errors the page
    states: tests/test_claims.py)."""
    rows = table(run.printed)
    f64 = [rows[f"{10.0**-k:.0e}"][1] for k in range(1, 11)]
    assert 1e8 < f64[-1] / f64[0] < 1e10
    assert rows["1e+00"][0] == rows["1e+00"][1]
    assert min(a for a, _ in rows.values()) > min(f64)


def test_float32_differences_are_exactly_zero_for_small_eps(step0):
    """The page: in float32, for eps <= 1e-4 the numerical gradient is exactly 0 (error exactly 1)."""
    ns = step0
    seen = []
    numerical_grad = ns["numerical_grad"]

    def recording(f, w, i, j, eps):
        value = numerical_grad(f, w, i, j, eps)
        seen.append((w.dtype, eps, value))
        return value

    ns["numerical_grad"] = recording
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ns["error_table"](ns["grad_w1"])
    finally:
        ns["numerical_grad"] = numerical_grad
    small32 = [v for dt, eps, v in seen if dt == torch.float32 and eps <= 1e-4]
    assert len(small32) == 7 and all(v == 0.0 for v in small32)
    assert all(v != 0.0 for dt, eps, v in seen if dt == torch.float32 and eps > 1e-4)


def test_float32_loss_spacing_and_digits(step0):
    """The page: in float32 the difference of two losses is a multiple of the spacing of float32
    numbers near L; at eps 1e-2 float32's central difference is right to fewer digits than
    float64's (the range of L, the spacing, the differences, the digits, the gradient and the
    ratio of machine epsilons: the page's numbers, checked by tests/test_claims.py)."""
    ns = step0
    x32, y32, w1_32, w2_32 = (ns[k].float() for k in ("x", "y", "w1", "w2"))
    L32 = torch.tensor(ns["loss_at"](x32, y32, w1_32, w2_32))
    spacing = (torch.nextafter(L32, torch.tensor(3e7)) - L32).item()
    f32 = ns["numerical_grad"](lambda w: ns["loss_at"](x32, y32, w, w2_32), w1_32, 0, 0, 1e-2)
    assert (f32 * 2 * 1e-2) % spacing == 0
    g = ns["grad_w1"][0, 0].item()
    f64 = ns["numerical_grad"](lambda w: ns["loss_at"](ns["x"], ns["y"], w, ns["w2"]), ns["w1"], 0, 0, 1e-2)
    assert abs(f64 - g) < abs(f32 - g)


def test_piecewise_quadratic_and_the_kink(step0):
    """The page: along (w1)00 the nearest kink is at the eps the page states (tests/test_claims.py checks
    it); below it the central difference is exact (up to round-off), above it not; along w2 entries L is
    quadratic, so even eps = 100 is exact up to round-off (as exact as below the kink; the bound the
    page states: tests/test_claims.py)."""
    ns = step0
    x, y, w1, w2 = ns["x"], ns["y"], ns["w1"], ns["w2"]
    h = x.mm(w1)
    kink = (h[:, 0].abs() / x[:, 0].abs()).min().item()
    g = ns["grad_w1"][0, 0].item()
    f1 = lambda w: ns["loss_at"](x, y, w, w2)  # noqa: E731
    assert ns["rel_error"](g, ns["numerical_grad"](f1, w1, 0, 0, 0.9 * kink)) < 1e-11
    assert ns["rel_error"](g, ns["numerical_grad"](f1, w1, 0, 0, 1.1 * kink)) > 1e-3
    f2 = lambda w: ns["loss_at"](x, y, w1, w)  # noqa: E731
    for i, j in ((0, 0), (5, 3), (42, 9), (99, 1)):
        for eps in (1.0, 10.0, 100.0):
            assert (
                ns["rel_error"](ns["grad_w2"][i, j].item(), ns["numerical_grad"](f2, w2, i, j, eps)) < 1e-11
            )


def test_training_is_the_tensors_lesson_in_float64(run):
    """The page: digit for digit the Tensors lesson trained in float64, which ends far below the
    Tensors lesson in float32 (the losses and the fall the page states: tests/test_claims.py)."""
    losses = run.losses
    # (the call tests/test_tensors.py makes: one run for both)
    assert lessons.train("tensors", dtype="float64", watch=ZEROS_IN_H).losses == losses
    assert lessons.train("tensors").losses[499] > 10 * losses[499]


@pytest.mark.parametrize("name", ["forward", "loss", "backward", "update"])
def test_the_loop_is_the_tensors_lessons_word_for_word(name):
    assert lessons.section(LESSON, name) == lessons.section("tensors", name)


def test_the_starting_numbers_are_the_tensors_lessons():
    """The page: drawn in float32 as in the Tensors lesson, then converted: the same starting values."""
    ours, theirs = lessons.setup(LESSON), lessons.setup("tensors")
    for name in ("x", "y", "w1", "w2"):
        assert ours[name].dtype == torch.float64
        assert torch.equal(ours[name], theirs[name].double())


def test_what_the_page_says_about_test_gradients():
    """The page describes tests/test_gradients.py: which lessons, which tests, which tolerances."""
    src = (ROOT / "tests" / "test_gradients.py").read_text(encoding="utf-8")
    # its selection, as the needles below find it written there: these three lessons today
    selected = [
        lesson
        for lesson in lessons.lessons_with("setup", "forward", "backward")
        if "grad_w1" in lessons.section(lesson, "backward")
    ]
    assert selected == ["gradient_checking", "numpy_warmup", "tensors"]
    for needle in (
        'lessons_with("setup", "forward", "backward")',
        '"grad_w1" in section(lesson, "backward")',
        "torch.float64",
        "def test_gradients_match_autograd",
        "np.linalg.norm(as_numpy(a) - as_numpy(b))",
        "/ np.linalg.norm(as_numpy(b))",
        "< 1e-6",
        "def test_gradients_match_finite_differences",
        "step = 1e-6",
        "size=20",
        "scale = np.abs(grad).max()",
        "/ scale < 1e-6",
        "step * x.abs().max() < 0.01 * h.abs().min()",
        "def test_relu_mask_choice_at_zero_matches_clamp",
        "[[-1.0, 0.0, 2.0]]",
        "clamp(min=0)",
        "the loss is ~1e7, so\n        # rounding puts ~1e-3 of absolute noise into each finite difference",
        'ns["grad_y_pred"]',
        'ns["grad_h_relu"]',
        'ns["grad_h"]',
    ):
        assert needle in src, needle


FORGET_MASK = ("grad_w1 = x.T.mm(grad_h)", "grad_w1 = x.T.mm(grad_h_relu)")


def test_exercise_forgotten_mask_flips_a_sign(step0):
    """The answer: an error above 1 means a hand-written and a numerical entry of opposite signs."""
    ns = dict(step0)
    lessons.run(LESSON, "backward", ns=ns, edits=(FORGET_MASK,))
    torch.set_rng_state(step0["rng_state"])
    calls = []
    ns["rel_error"] = lambda a, b: calls.append((a, b)) or step0["rel_error"](a, b)
    # check_gradients looks its helpers up in its own globals: give it this namespace
    check = type(step0["check_gradients"])(
        step0["check_gradients"].__code__, ns, None, step0["check_gradients"].__defaults__
    )
    assert check(ns["grad_w1"], ns["grad_w2"]) > 1
    assert any(a * b < 0 for a, b in calls)


def test_exercise_mask_at_zero(run):
    """Exercise 2's answer: `h <= 0` makes the script print exactly the same (the count of exact
    zeros behind it is read from the page by tests/test_exercises.py)."""
    at_zero = lessons.train(LESSON, edits=(("grad_h[h < 0] = 0", "grad_h[h <= 0] = 0"),))
    assert at_zero.printed == run.printed
