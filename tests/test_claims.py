"""Numbers the pages state about a run are read from the pages and checked against the run.

A stated number is marked in the page's source as `<span data-claim="NAME">VALUE</span>`
(readers see only VALUE; the span has no style). VALUE is a number, `$2.6 \\times 10^{7}$`
or `$10^{-6}$` (read by `stated`), or a power of two, `$2^{-23}$` (read by `power_of_two`).
The 中文 and English page state the same claims with the same values, and each claim NAME
is checked by the function CHECKS[page][NAME] below, which runs the
lesson's own sections and compares the result with the number the page states: the test
never keeps its own copy of the number.
"""

import contextlib
import io
import math
import re

import numpy as np
import pytest
import torch
from torch.func import functional_call, grad, jvp

import lessons
from lessons import DOCS, as_stated, claims, stated


def power_of_two(text: str) -> int:
    """'$2^{-23}$' -> -23: the exponent of a power of two as a page writes it."""
    m = re.fullmatch(r"\$2\^\{?(-?\d+)\}?\$", text.strip())
    assert m, f"not a power of two: {text!r}"
    return int(m[1])


def leading_digits(value: float, n: int) -> str:
    """The first n digits of |value| (12867.899 -> '128' for n = 3)."""
    return f"{abs(value):.10f}".replace(".", "").lstrip("0")[:n]


# --- the runs behind the claims, one function per page ---------------------------------------------


def numpy_warmup(page: dict[str, str]) -> dict[str, bool]:
    setup = lessons.setup("numpy_warmup")
    lr = setup["lr"]
    h_relu = np.maximum(setup["x"].dot(setup["w1"]), 0)  # the page's bound, 2 / lambda_max at the start
    bound = 2 / np.linalg.eigvalsh(2 * h_relu.T.dot(h_relu)).max()

    def losses_with(rate: float) -> np.ndarray:
        """The losses of the lesson's own train section, with `lr = rate`."""
        ns = lessons.setup("numpy_warmup")
        ns["lr"] = rate
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(over="ignore", invalid="ignore"):
            lessons.run("numpy_warmup", "train", ns=ns)
        return np.array(ns["losses"])

    factor = stated(page["diverging-lr-factor"])
    losses = losses_with(lr * factor)
    inf_at = int(np.argmax(np.isinf(losses)))  # the first step whose loss is inf
    nan_from = int(np.argmax(np.isnan(losses)))

    # Above the bound: a few steps up, then lower than the lesson's lr ends
    lesson = losses_with(lr)
    over_lr = stated(page["overshoot-lr"])
    over = losses_with(over_lr)
    rising = [t for t in range(1, len(over)) if over[t] > over[t - 1]]
    peak = int(np.argmax(over))
    steps_up = stated(page["overshoot-rising-steps"])
    no_rise_lr = stated(page["no-rise-lr"])
    # Larger still: slow at one rate, stalled (finite, far from trained) at three
    slow = losses_with(stated(page["slow-lr"]))
    stall_lrs = [stated(page[f"stall-lr-{k}"]) for k in ("low", "mid", "high")]
    stalls = [losses_with(rate) for rate in stall_lrs]
    finals = [run[-1] for run in stalls]
    stalled = [np.isfinite(run).all() and run[-1] > 0.9 * run[-100] for run in stalls]  # < 10% in 100 steps
    return {
        "diverging-lr-factor": factor > 1,
        "diverging-lr": np.isclose(lr * factor, stated(page["diverging-lr"])),
        "loss-at-step-0": as_stated(losses[0], page["loss-at-step-0"]),
        "diverging-loss-at-step-1": as_stated(losses[1], page["diverging-loss-at-step-1"]),
        "diverging-inf-at-step": np.isfinite(losses[:inf_at]).all()
        and inf_at == stated(page["diverging-inf-at-step"]),
        "diverging-nan-from-step": np.isnan(losses[nan_from:]).all()
        and nan_from == stated(page["diverging-nan-from-step"]),
        "lesson-final-loss": lr < bound and as_stated(lesson[-1], page["lesson-final-loss"]),
        "overshoot-lr": over_lr > bound,
        "overshoot-rising-steps": over[1] < over[0]
        and rising == list(range(peak - int(steps_up) + 1, peak + 1)),
        "overshoot-peak-step": peak == stated(page["overshoot-peak-step"]),
        "overshoot-peak-loss": as_stated(over[peak], page["overshoot-peak-loss"]),
        "overshoot-final-loss": as_stated(over[-1], page["overshoot-final-loss"]) and over[-1] < lesson[-1],
        "no-rise-lr": bound < no_rise_lr and (np.diff(losses_with(no_rise_lr)) < 0).all(),
        "slow-lr": stated(page["slow-lr"]) > over_lr,
        "slow-final-loss": as_stated(slow[-1], page["slow-final-loss"]),
        **{
            f"stall-lr-{k}": rate > stated(page["slow-lr"]) and still
            for k, rate, still in zip(("low", "mid", "high"), stall_lrs, stalled, strict=True)
        },
        "stall-final-min": as_stated(min(finals), page["stall-final-min"]),
        "stall-final-max": as_stated(max(finals), page["stall-final-max"]),
    }


def hessian_lambda_max(lesson: str, steps: int = 20) -> float:
    """The largest eigenvalue of the Hessian of the lesson's loss with respect to all its model's
    parameters, at the initialisation its `setup` section makes, in float64: Lanczos iteration
    (with full reorthogonalisation) on Hessian-vector products from torch.func, so the
    101110 x 101110 Hessian is never formed. Here 20 steps give 1441.29, 30 or more 1441.39."""
    ns = lessons.setup(lesson)
    model = ns["model"].double()
    x, y = ns["x"].double(), ns["y"].double()
    named = dict(model.named_parameters())
    theta = torch.cat([p.detach().flatten() for p in named.values()])

    def loss(flat):
        chunks = flat.split([p.numel() for p in named.values()])
        params = {name: c.view(p.shape) for (name, p), c in zip(named.items(), chunks)}
        return ns["loss_fn"](functional_call(model, params, (x,)), y)

    gradient = grad(loss)
    q = torch.randn(theta.numel(), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    basis, alpha, beta = [q / q.norm()], [], []
    for _ in range(steps):
        w = jvp(gradient, (theta,), (basis[-1],))[1]  # H q
        alpha.append(w @ basis[-1])
        for b in basis:
            w = w - (w @ b) * b
        beta.append(w.norm())
        basis.append(w / beta[-1])
    off = torch.stack(beta[:-1])
    tridiagonal = torch.diag(torch.stack(alpha)) + torch.diag(off, 1) + torch.diag(off, -1)
    return torch.linalg.eigvalsh(tridiagonal)[-1].item()


def curvature_at_init(lesson: str, page: dict[str, str]) -> tuple[dict[str, bool], float]:
    """The claims nn and custom_module share: the std of the warm-up's h, and of h = x w1 + b1
    at nn.Linear's default initialisation, the Hessian's largest eigenvalue there and the step
    bound 2 / lambda_max (returned too)."""
    ns = lessons.setup(lesson)
    first = ns["model"][0] if lesson == "nn" else ns["model"].linear1
    lam = hessian_lambda_max(lesson)
    warmup = lessons.setup("numpy_warmup")  # the warm-up's h = x w1, for comparison
    return {
        "warmup-h-std": as_stated(warmup["x"].dot(warmup["w1"]).std(), page["warmup-h-std"]),
        "h-std-at-init": as_stated(first(ns["x"]).std().item(), page["h-std-at-init"]),
        "hessian-lambda-max": as_stated(lam, page["hessian-lambda-max"]),
        "stable-lr-bound": as_stated(2 / lam, page["stable-lr-bound"]),
    }, 2 / lam


def nn(page: dict[str, str]) -> dict[str, bool]:
    losses = lessons.train("nn").losses
    autograd = lessons.setup("autograd")  # its randn weights, this lesson's loss
    lessons.run("autograd", "forward", ns=autograd)
    autograd_loss = lessons.setup("nn")["loss_fn"](autograd["y_pred"], autograd["y"]).item()
    mean = lessons.train("nn", change=(("loss_fn", "torch.nn.MSELoss()"),)).losses  # lr kept
    stuck = lessons.train("nn", edits=(("model.zero_grad()", "pass"),)).losses
    return curvature_at_init("nn", page)[0] | {
        **{
            name: as_stated(losses[0], page[name])
            for name in ("loss-at-step-0", "lr-loss-at-step-0", "run-loss-at-step-0")
        },
        **{
            name: as_stated(losses[499], page[name])
            for name in ("loss-at-step-499", "correct-loss-at-step-499", "run-loss-at-step-499")
        },
        "autograd-loss-at-step-0": as_stated(autograd_loss, page["autograd-loss-at-step-0"]),
        "mean-loss-at-step-0": as_stated(mean[0], page["mean-loss-at-step-0"]),
        "mean-loss-at-step-499": as_stated(mean[499], page["mean-loss-at-step-499"]),
        # without zero_grad(): down at first, back up, stuck
        "no-zero-grad-loss-at-step-10": stuck[10] < stuck[0]
        and as_stated(stuck[10], page["no-zero-grad-loss-at-step-10"]),
        "no-zero-grad-loss-at-step-20": stuck[20] > stuck[10]
        and as_stated(stuck[20], page["no-zero-grad-loss-at-step-20"]),
        "no-zero-grad-loss-at-step-499": all(math.isfinite(v) for v in stuck)
        and as_stated(stuck[499], page["no-zero-grad-loss-at-step-499"]),
    }


def custom_module(page: dict[str, str]) -> dict[str, bool]:
    results, bound = curvature_at_init("custom_module", page)

    def final_loss(lr: float) -> float:
        ns = lessons.setup("custom_module")
        for group in ns["optimizer"].param_groups:
            group["lr"] = lr
        with contextlib.redirect_stdout(io.StringIO()):
            lessons.run("custom_module", "train", ns=ns)
        return ns["losses"][-1]

    # numpy_warmup's bound: w1 and b1 fixed, L is quadratic in w2 and b2 (the matrix [h_relu 1])
    ns = lessons.setup("custom_module")
    h_relu = ns["model"].linear1(ns["x"]).clamp(min=0).detach().double()
    a = torch.cat([h_relu, torch.ones(ns["N"], 1, dtype=torch.float64)], dim=1)
    second_layer = torch.linalg.eigvalsh(2 * a.T @ a).max().item()
    stable, diverging = stated(page["stable-lr"]), stated(page["diverging-lr"])
    losses = lessons.train("custom_module").losses
    previous = lessons.setup("autograd")  # the previous lessons' randn weights and lr
    randn_loss = (
        (previous["x"].mm(previous["w1"]).clamp(min=0).mm(previous["w2"]) - previous["y"]).pow(2).sum()
    )
    previous_lr = stated(page["previous-lr"])
    return results | {
        "lesson-lr": ns["lr"] == stated(page["lesson-lr"]) < bound,
        "loss-at-step-0": as_stated(losses[0], page["loss-at-step-0"]),
        "run-loss-at-step-0": as_stated(losses[0], page["run-loss-at-step-0"]),
        "sum-y-squared": as_stated(ns["y"].pow(2).sum().item(), page["sum-y-squared"]),  # predicting 0
        "loss-at-step-499": as_stated(losses[499], page["loss-at-step-499"]),
        "run-loss-at-step-499": as_stated(losses[499], page["run-loss-at-step-499"]),
        "fall-more-than": losses[0] / losses[499] > stated(page["fall-more-than"]),
        "randn-loss-at-step-0": as_stated(randn_loss.item(), page["randn-loss-at-step-0"]),
        "previous-lr": previous["lr"] == previous_lr,
        "previous-lr-loss-above": final_loss(previous_lr) > stated(page["previous-lr-loss-above"]),
        "second-layer-lr-bound": as_stated(2 / second_layer, page["second-layer-lr-bound"]),
        "stable-lr": stable < bound,
        "stable-lr-loss-at-step-499": as_stated(final_loss(stable), page["stable-lr-loss-at-step-499"]),
        "diverging-lr": diverging > 2 / second_layer > bound and math.isnan(final_loss(diverging)),
    }


def min_falls() -> dict:
    """MIN_FALL and MIN_FALL_EXCEPTIONS as tests/test_snippets.py writes them (the fall it asks
    of every lesson), read from its source, not imported."""
    import ast

    tree = ast.parse((lessons.ROOT / "tests" / "test_snippets.py").read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").startswith("MIN_FALL")
    }


def earlier(lesson: str) -> list[str]:
    """The lessons before `lesson` in the site's order (mkdocs.yml's nav): "every earlier lesson"."""
    nav = re.findall(r"^  - (\w+)\.md$", (lessons.ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    return [name for name in nav[: nav.index(lesson)] if name in lessons.LESSONS]


def dynamic_graphs(page: dict[str, str]) -> dict[str, bool]:
    import types

    def at_depth(ns: dict, k: int) -> None:  # every pass uses the middle layer k times
        ns["random"] = types.SimpleNamespace(randint=lambda a, b: k)

    ns = lessons.setup("dynamic_graphs")
    depths: list[int] = []  # the depth of every step, counted by hooks
    model = ns["model"]
    hooks = [
        model.register_forward_pre_hook(lambda mod, args: depths.append(0)),
        model.middle_linear.register_forward_hook(lambda mod, a, out: depths.__setitem__(-1, depths[-1] + 1)),
    ]
    printed = lessons.run("dynamic_graphs", "train", ns=ns)
    for hook in hooks:
        hook.remove()
    losses = ns["losses"]
    after = []  # the final parameters' loss at each depth
    for k in range(4):
        at_depth(ns, k)
        with torch.no_grad():
            after.append(ns["loss_fn"](model(ns["x"]), ns["y"]).item())
    fixed = []  # the same run with the depth fixed at k
    for k in range(4):
        run = lessons.setup("dynamic_graphs")
        at_depth(run, k)
        lessons.run("dynamic_graphs", "train", ns=run)
        fixed.append(run["losses"])
    falls = min_falls()
    last, depth = int(stated(page["last-step"])), int(stated(page["last-step-depth"]))
    last_line = printed.splitlines()[-1].split()
    fall = losses[0] / losses[-1]
    return {
        "loss-at-step-0": as_stated(losses[0], page["loss-at-step-0"]),
        "run-loss-at-step-0": as_stated(losses[0], page["run-loss-at-step-0"]),
        "loss-at-step-499": as_stated(losses[499], page["loss-at-step-499"]),
        "run-loss-at-step-499": as_stated(losses[499], page["run-loss-at-step-499"]),
        "fall": as_stated(fall, page["fall"]),
        "earlier-lessons-fall": all(
            run[0] / run[-1] > stated(page["earlier-lessons-fall"])
            for run in (lessons.train(lesson).losses for lesson in earlier("dynamic_graphs"))
        ),
        "min-fall-asked": falls["MIN_FALL"] == stated(page["min-fall-asked"]) > fall,
        "min-fall-asked-here": falls["MIN_FALL_EXCEPTIONS"]["dynamic_graphs"]
        == stated(page["min-fall-asked-here"])
        <= fall,
        "last-100-steps-min": as_stated(min(losses[400:]), page["last-100-steps-min"]),
        "last-100-steps-max": as_stated(max(losses[400:]), page["last-100-steps-max"]),
        **{f"depth-{k}-draws": depths.count(k) == stated(page[f"depth-{k}-draws"]) for k in range(4)},
        **{f"depth-{k}-loss": as_stated(after[k], page[f"depth-{k}-loss"]) for k in range(4)},
        "fixed-depth-loss-below": all(run[499] < stated(page["fixed-depth-loss-below"]) for run in fixed),
        "fixed-depth-fall": all(run[0] / run[499] > stated(page["fixed-depth-fall"]) for run in fixed),
        # the last step: the one printed last, of the depth the page says; its loss as printed
        # is the one before its update, higher than that depth's loss after it, the table's
        "last-step": last == len(losses) - 1 == int(last_line[0]),
        "last-step-depth": depths[last] == depth,
        "last-step-printed-loss": as_stated(float(last_line[1]), page["last-step-printed-loss"])
        and as_stated(losses[last], page["last-step-printed-loss"]),
        "last-step-loss-after": as_stated(after[depth], page["last-step-loss-after"])
        and page["last-step-loss-after"] == page[f"depth-{depth}-loss"]
        and after[depth] < losses[last],
    }


def optim(page: dict[str, str]) -> dict[str, bool]:
    """SGD (the Adam section skipped) and Adam, the script's optimizer. Adam's numbers are
    torch's on two threads, the count it takes on a 2-core machine (MKL's matrix products round
    differently on one: 6.655e-07 at step 499); so is SGD's without zero_grad(), whose growing
    gradient sums make the rounding show (25.8 on two threads, 26.6 on one)."""

    def losses(optimizer: str, dtype=None, edits=(), threads=None) -> tuple[float, ...]:
        skip, threads = {"sgd": (("adam",), threads), "adam": ((), 2)}[optimizer]
        return lessons.train("optim", dtype=dtype, skip=skip, edits=edits, threads=threads).losses

    def largest_difference(dtype=None) -> float:  # relative, over the steps, to the nn lesson's
        return max(
            abs(a - b) / b for a, b in zip(losses("sgd", dtype), lessons.train("nn", dtype=dtype).losses)
        )

    adam, sgd = losses("adam"), losses("sgd")
    drop = (("optimizer.zero_grad()", "pass"),)
    sgd_stuck, adam_stuck = losses("sgd", edits=drop, threads=2), losses("adam", edits=drop)
    lowest = min(adam_stuck)
    f32 = largest_difference()
    # the page's session after the lesson's setup: one SGD step, then Adam's first step; the
    # element of the first weight with the smallest gradient, and how far Adam moved it
    session = lessons.setup("optim")
    model, loss_fn, lr = session["model"], session["loss_fn"], session["lr"]
    for make in (torch.optim.SGD, torch.optim.Adam):
        optimizer = make(model.parameters(), lr=lr)
        before = model[0].weight.detach().clone()
        optimizer.zero_grad()
        loss_fn(model(session["x"]), session["y"]).backward()
        optimizer.step()
    smallest = model[0].weight.grad.abs().min().item()
    moved = (model[0].weight.detach() - before).abs().min().item()
    adam_eps = optimizer.defaults["eps"]
    return {
        "sgd-float64-difference-below": largest_difference("float64")
        < stated(page["sgd-float64-difference-below"]),
        "sgd-float32-difference-percent-below": 0
        < 100 * f32
        < stated(page["sgd-float32-difference-percent-below"]),
        "loss-at-step-0": adam[0] == sgd[0] and as_stated(adam[0], page["loss-at-step-0"]),
        "run-loss-at-step-0": as_stated(adam[0], page["run-loss-at-step-0"]),
        **{
            name: as_stated(adam[499], page[name])
            for name in ("adam-loss-at-step-499", "correct-adam-loss-at-step-499", "run-loss-at-step-499")
        },
        **{
            name: as_stated(sgd[499], page[name])
            for name in ("sgd-loss-at-step-499", "correct-sgd-loss-at-step-499")
        },
        # without zero_grad(): SGD swings and stays stuck; Adam falls to a lowest point, then climbs
        "sgd-no-zero-grad-loss-at-step-499": any(b > a for a, b in zip(sgd_stuck, sgd_stuck[1:]))
        and as_stated(sgd_stuck[499], page["sgd-no-zero-grad-loss-at-step-499"]),
        "adam-no-zero-grad-lowest-loss": as_stated(lowest, page["adam-no-zero-grad-lowest-loss"]),
        "adam-no-zero-grad-lowest-step": round(adam_stuck.index(lowest), -1)
        == stated(page["adam-no-zero-grad-lowest-step"]),  # "around step 80": to the nearest ten
        "adam-no-zero-grad-loss-at-step-499": adam_stuck[499] > lowest
        and as_stated(adam_stuck[499], page["adam-no-zero-grad-loss-at-step-499"]),
        "adam-smallest-grad": as_stated(smallest, page["adam-smallest-grad"]),
        # as moved, and as the formula lr |g| / (|g| + eps) gives
        "adam-smallest-grad-move": as_stated(moved, page["adam-smallest-grad-move"])
        and as_stated(lr * smallest / (smallest + adam_eps), page["adam-smallest-grad-move"]),
    }


def tensors(page: dict[str, str]) -> dict[str, bool]:
    watch = "bool((h == 0).any())"  # after each step's loss: does h hold an exact zero?
    f32 = lessons.train("tensors", watch=watch)
    f64 = lessons.train("tensors", dtype="float64", watch=watch)
    steps, digits = int(stated(page["float32-agrees-for-steps"])), stated(page["float32-agrees-to-digits"])
    agree = [abs(a - b) <= 10**-digits * b for a, b in zip(f32.losses, f64.losses)]
    by = int(stated(page["mask-differs-by-step"]))
    changed = lessons.train(
        "tensors", edits=(("grad_h[h < 0] = 0", "grad_h[h <= 0] = 0"),), steps=by + 1
    ).losses
    return {
        # they agree at every step up to the stated one, and not to one more digit there
        "float32-agrees-for-steps": all(agree[: steps + 1]) and not all(agree),
        "float32-agrees-to-digits": all(agree[: steps + 1])
        and not all(
            abs(a - b) <= 10 ** -(digits + 1) * b for a, b in zip(f32.losses[: steps + 1], f64.losses)
        ),
        "float32-lags-more-than": f32.losses[499] > stated(page["float32-lags-more-than"]) * f64.losses[499],
        "exact-zero-steps": sum(f32.watched) == stated(page["exact-zero-steps"]) and sum(f64.watched) == 0,
        "mask-differs-by-step": changed[by] != f32.losses[by],
    }


def autograd(page: dict[str, str]) -> dict[str, bool]:
    losses = lessons.train("autograd").losses
    # "about 400": to the nearest hundred, as the page writes it
    return {"loss-at-step-100": round(losses[100], -2) == stated(page["loss-at-step-100"])}


def custom_function(page: dict[str, str]) -> dict[str, bool]:
    """MyReLU's central-difference slope, with the page's eps = 1e-6, at two entries of the page's
    z (its session draws z = torch.randn(6, dtype=torch.float64) right after the lesson's setup),
    in float32: not 1, by float32's spacing near each."""
    ns = lessons.setup("custom_function")
    z = torch.randn(6, dtype=torch.float64).tolist()  # the page's session: the first draw after setup
    relu, eps = ns["MyReLU"].apply, 1e-6

    def entry(claim: str) -> torch.Tensor:  # the entry of z the page states, in float32 (nan: none)
        found = [v for v in z if as_stated(v, page[claim])]
        return torch.tensor(found[0] if len(found) == 1 else math.nan, dtype=torch.float32)

    def spacing(v: torch.Tensor) -> float:  # to the next number up, in v's precision
        return (torch.nextafter(v, torch.tensor(math.inf, dtype=v.dtype)) - v).item()

    def gap(v: torch.Tensor) -> float:  # (v + eps) - (v - eps), each rounded to v's precision
        return ((v + eps) - (v - eps)).item()

    def slope(v: torch.Tensor) -> float:
        return ((relu(v + eps) - relu(v - eps)) / (2 * eps)).item()

    large, small = entry("large-z"), entry("small-z")
    return {
        "large-z": 1 <= large.item() < 2,  # "between 1 and 2"
        "small-z": 0.25 <= small.item() < 0.5,  # "between 0.25 and 0.5"
        "spacing-large-z": spacing(large) == 2.0 ** power_of_two(page["spacing-large-z"]),
        "spacing-large-z-decimal": as_stated(spacing(large), page["spacing-large-z-decimal"]),
        "spacing-small-z": spacing(small) == 2.0 ** power_of_two(page["spacing-small-z"]),
        "large-z-gap-steps": gap(large) == stated(page["large-z-gap-steps"]) * spacing(large),
        "large-z-gap": as_stated(gap(large), page["large-z-gap"]),
        "small-z-gap-steps": gap(small) == stated(page["small-z-gap-steps"]) * spacing(small),
        "machine-epsilon-ratio": spacing(large) / spacing(large.double())
        == 2.0 ** power_of_two(page["machine-epsilon-ratio"]),
        "slope-small-z": as_stated(slope(small), page["slope-small-z"]),
        "slope-small-z-why": as_stated(gap(small) / (2 * eps), page["slope-small-z-why"]),
        "slope-large-z": as_stated(slope(large), page["slope-large-z"]),
        "slope-large-z-why": as_stated(gap(large) / (2 * eps), page["slope-large-z-why"]),
    }


def gradient_checking(page: dict[str, str]) -> dict[str, bool]:
    lesson = "gradient_checking"
    run = lessons.train(lesson)
    ns = lessons.setup(lesson)  # the forward and backward sections once: the gradients the check sees
    lessons.run(lesson, "forward", "backward", ns=ns)
    calls = []  # the entries the script's check compares, in its order (its rng state: after setup)
    rel_error = ns["rel_error"]
    ns["rel_error"] = lambda a, b: calls.append((a, b)) or rel_error(a, b)
    worst = ns["check_gradients"](ns["grad_w1"], ns["grad_w2"])
    by_hand, numerical = max(calls, key=lambda ab: rel_error(*ab))
    printed = {  # the script's error table: eps -> (float32, float64)
        eps: (float(a), float(b))
        for eps, a, b in re.findall(r"^(\de[+-]\d\d)   (\S+)  (\S+)$", run.printed, re.M)
    }
    x, y, w1, w2 = ns["x"], ns["y"], ns["w1"], ns["w2"]
    kink = (x.mm(w1)[:, 0].abs() / x[:, 0].abs()).min().item()  # nearest kink along (w1)00
    # along an entry of w2, L is quadratic: no error to speak of even at the page's eps = 100
    # (four entries, at eps = 1, 10 and 100)
    along_w2 = lambda w: ns["loss_at"](x, y, w1, w)  # noqa: E731
    w2_errors = [
        rel_error(ns["grad_w2"][i, j].item(), ns["numerical_grad"](along_w2, w2, i, j, eps))
        for i, j in ((0, 0), (5, 3), (42, 9), (99, 1))
        for eps in (1.0, 10.0, 100.0)
    ]
    # the round-off estimate eps_mach L / (eps |g|) for the entry (w1)00, at the table's
    # eps = 1e-2 (float32) and 1e-6 (float64), against the table's errors there
    L, g = ns["loss_at"](x, y, w1, w2), ns["grad_w1"][0, 0].item()
    estimates = {
        "float32": (torch.finfo(torch.float32).eps * L / (1e-2 * abs(g)), printed["1e-02"][0]),
        "float64": (torch.finfo(torch.float64).eps * L / (1e-6 * abs(g)), printed["1e-06"][1]),
    }
    # the page's session: L and the central difference at eps = 1e-2 in float32, and in float64
    x32, y32, w1_32, w2_32 = (t.float() for t in (x, y, w1, w2))
    L32 = torch.tensor(ns["loss_at"](x32, y32, w1_32, w2_32))
    spacing = (torch.nextafter(L32, torch.tensor(math.inf)) - L32).item()
    numerical32 = ns["numerical_grad"](lambda w: ns["loss_at"](x32, y32, w, w2_32), w1_32, 0, 0, 1e-2)
    numerical64 = ns["numerical_grad"](lambda w: ns["loss_at"](x, y, w, w2), w1, 0, 0, 1e-2)

    def right_digits(value: float, claim: str) -> bool:  # the first n digits of g, and not n + 1
        n = int(stated(page[claim]))
        return leading_digits(value, n) == leading_digits(g, n) and leading_digits(
            value, n + 1
        ) != leading_digits(g, n + 1)

    return {
        # "about 6500": to the nearest hundred, as the page writes it
        "grad-w1-mean": round(ns["grad_w1"].abs().mean().item(), -2) == stated(page["grad-w1-mean"]),
        "max-relative-error": as_stated(worst, page["max-relative-error"]),
        "max-relative-error-again": as_stated(worst, page["max-relative-error-again"]),
        # written with "…": the leading digits, cut off, not rounded
        "worst-entry-by-hand": str(by_hand).startswith(page["worst-entry-by-hand"]),
        "worst-entry-numerical": str(numerical).startswith(page["worst-entry-numerical"]),
        "worst-entry-difference": as_stated(abs(by_hand - numerical), page["worst-entry-difference"]),
        "round-off-L": as_stated(L, page["round-off-L"]),
        "round-off-g": as_stated(g, page["round-off-g"]),
        "round-off-L-over-g": as_stated(L / abs(g), page["round-off-L-over-g"]),
        # each estimate: as stated, and within a factor of 10 of the error measured ("the same order")
        **{
            f"round-off-{dtype}-estimate": as_stated(estimate, page[f"round-off-{dtype}-estimate"])
            and estimate / 10 < measured < estimate * 10
            for dtype, (estimate, measured) in estimates.items()
        },
        **{
            f"measured-{dtype}-error": as_stated(measured, page[f"measured-{dtype}-error"])
            for dtype, (_, measured) in estimates.items()
        },
        "eps-1-error": all(as_stated(v, page["eps-1-error"]) for v in printed["1e+00"]),
        "float64-error-eps-1e-1": as_stated(printed["1e-01"][1], page["float64-error-eps-1e-1"]),
        "float64-error-eps-1e-10": as_stated(printed["1e-10"][1], page["float64-error-eps-1e-10"]),
        "float32-best-error": as_stated(min(a for a, _ in printed.values()), page["float32-best-error"]),
        "kink-eps": as_stated(kink, page["kink-eps"]),
        "w2-error-below": max(w2_errors) < stated(page["w2-error-below"]),
        "float32-L-from": 2.0 ** power_of_two(page["float32-L-from"]) <= L32.item(),
        "float32-L-below": L32.item() < 2.0 ** power_of_two(page["float32-L-below"]),
        "float32-spacing": spacing == stated(page["float32-spacing"]),
        # the true difference of two losses, 2 eps g
        "true-difference-eps-1e-4": as_stated(2 * 1e-4 * abs(g), page["true-difference-eps-1e-4"]),
        "true-difference-eps-1e-2": as_stated(2 * 1e-2 * abs(g), page["true-difference-eps-1e-2"]),
        # float32's difference: its numerical gradient times 2 eps (written in $...$: "$-256$")
        "float32-difference-eps-1e-2": as_stated(
            numerical32 * 2 * 1e-2, page["float32-difference-eps-1e-2"].strip("$")
        ),
        "float32-right-digits": right_digits(numerical32, "float32-right-digits"),
        "float64-right-digits": right_digits(numerical64, "float64-right-digits"),
        "float64-numerical-grad-eps-1e-2": str(numerical64).startswith(
            page["float64-numerical-grad-eps-1e-2"].strip("$")
        ),
        "hand-grad-w1-00": str(g).startswith(page["hand-grad-w1-00"].strip("$")),
        "machine-epsilon-ratio": torch.finfo(torch.float32).eps / torch.finfo(torch.float64).eps
        == 2.0 ** power_of_two(page["machine-epsilon-ratio"]),
        "loss-at-step-0": as_stated(run.losses[0], page["loss-at-step-0"])
        and f"0 {page['loss-at-step-0']}" in run.printed.splitlines(),
        "loss-at-step-499": as_stated(run.losses[499], page["loss-at-step-499"]),
        "fall-more-than": run.losses[0] / run.losses[499] > stated(page["fall-more-than"]),
        "tensors-float32-loss-at-step-499": as_stated(
            lessons.train("tensors").losses[499], page["tensors-float32-loss-at-step-499"]
        ),
    }


def real_data(page: dict[str, str]) -> dict[str, bool]:
    import collections

    from conftest import run_section, setup_namespace

    def trained(lr=None) -> dict:
        """The lesson run as the page shows it, on one thread as its notebook page runs it."""
        ns = setup_namespace("real_data")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run_section("real_data", "model", ns)
                if lr is not None:
                    ns["optimizer"] = torch.optim.Adam(ns["model"].parameters(), lr=lr)
                run_section("real_data", "evaluate", ns)
                run_section("real_data", "train", ns)
        finally:
            torch.set_num_threads(threads)
        return ns

    ns = trained()
    model, evaluate = ns["model"], ns["evaluate"]
    train_loss, train_accuracy = evaluate(model, ns["x_train"], ns["y_train"])
    val_loss, val_accuracy = evaluate(model, ns["x_val"], ns["y_val"])
    with torch.no_grad():
        predicted = model(ns["x_val"]).argmax(dim=1)
    mistakes = collections.Counter(
        (int(a), int(b)) for a, b in zip(ns["y_val"], predicted) if a != b
    ).most_common()
    (true, wrong), count = mistakes[0]
    # three Adam steps on one batch, with the loss summed instead of averaged
    moves = {}
    for reduction in ("mean", "sum"):
        fresh = setup_namespace("real_data")
        run_section("real_data", "model", fresh)
        loss_fn = torch.nn.CrossEntropyLoss(reduction=reduction)
        x, y = fresh["x_train"][: fresh["N"]], fresh["y_train"][: fresh["N"]]
        before = [p.detach().clone() for p in fresh["model"].parameters()]
        for _ in range(3):
            fresh["optimizer"].zero_grad()
            loss_fn(fresh["model"](x), y).backward()
            fresh["optimizer"].step()
        moves[reduction] = torch.cat(
            [(p.detach() - b).flatten() for p, b in zip(fresh["model"].parameters(), before)]
        )
    difference = 100 * ((moves["sum"] - moves["mean"]).abs().max() / moves["mean"].abs().max()).item()
    default = torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults["lr"]
    slow = trained(lr=default)
    _, slow_accuracy = slow["evaluate"](slow["model"], slow["x_val"], slow["y_val"])
    return {
        "loss-at-step-0": as_stated(ns["losses"][0], page["loss-at-step-0"]),
        # the split and the batches: the page's sizes, as the lesson's setup makes them
        "images": len(ns["images"]) == stated(page["images"]),
        "training-images": len(ns["train_idx"]) == stated(page["training-images"]),
        "validation-images": len(ns["val_idx"])
        == stated(page["validation-images"])
        == len(ns["images"]) - len(ns["train_idx"]),
        "batches-per-epoch": len(ns["loader"]) == stated(page["batches-per-epoch"])
        and len(ns["train_idx"]) == len(ns["loader"]) * ns["N"],  # "exactly": every batch full
        "loss-at-step-499": as_stated(ns["losses"][499], page["loss-at-step-499"]),
        "train-loss": as_stated(train_loss, page["train-loss"]),
        "train-accuracy": as_stated(100 * train_accuracy, page["train-accuracy"]),
        "validation-loss": as_stated(val_loss, page["validation-loss"]),
        "validation-accuracy": as_stated(100 * val_accuracy, page["validation-accuracy"]),
        "validation-mistakes": len(predicted) - int((predicted == ns["y_val"]).sum())
        == stated(page["validation-mistakes"]),
        "most-confused-digit": true == stated(page["most-confused-digit"]),
        "most-confused-as": wrong == stated(page["most-confused-as"]),
        "most-confused-count": count == stated(page["most-confused-count"]) and mistakes[1][1] < count,
        "default-lr-validation-accuracy": as_stated(
            100 * slow_accuracy, page["default-lr-validation-accuracy"]
        ),
        # less than the stated percentage of the largest move, and not ten times less
        "sum-vs-mean-difference": stated(page["sum-vs-mean-difference"]) / 10
        < difference
        < stated(page["sum-vs-mean-difference"]),
        # at Adam's default rate, still improving at the end: the last epoch's is the lowest
        "default-lr-still-improving": stated(page["default-lr-still-improving"]) == len(slow["val_losses"])
        and min(slow["val_losses"]) == slow["val_losses"][-1],
    }


CHECKS = {
    "numpy_warmup": numpy_warmup,
    "tensors": tensors,
    "autograd": autograd,
    "custom_function": custom_function,
    "nn": nn,
    "optim": optim,
    "custom_module": custom_module,
    "gradient_checking": gradient_checking,
    "dynamic_graphs": dynamic_graphs,
    "real_data": real_data,
}

EN_PAGES = sorted(DOCS.glob("*.en.md"))


def slug(page) -> str:
    return page.name.removesuffix(".en.md")


@pytest.mark.parametrize("page", EN_PAGES, ids=slug)
def test_both_languages_state_the_same_numbers(page):
    zh = page.with_name(f"{slug(page)}.md")
    assert claims(zh) == claims(page), f"{zh.name} and {page.name} state different numbers"


@pytest.mark.parametrize("page", EN_PAGES, ids=slug)
def test_every_stated_number_is_checked_against_the_run(page):
    stated_here = claims(page)
    if not stated_here:
        assert slug(page) not in CHECKS, f"CHECKS has {slug(page)!r}, but {page.name} marks no claim"
        return
    assert slug(page) in CHECKS, f"{page.name} states {sorted(stated_here)}, and nothing checks them"
    results = CHECKS[slug(page)](stated_here)
    assert set(results) == set(stated_here), (
        f"{page.name}: claims on the page {sorted(stated_here)}, checked {sorted(results)}"
    )
    wrong = {name: stated_here[name] for name, ok in results.items() if not ok}
    assert not wrong, f"{page.name}: these numbers disagree with the run: {wrong}"


def test_stated_parses_what_pages_write():
    assert stated("10") == 10 and stated("$2.6 \\times 10^{7}$") == 2.6e7 and stated("$10^{-6}$") == 1e-6
    assert stated("$6.9 \\times 10^{-5}$") == 6.9e-5
    assert as_stated(2.63e7, "$2.6 \\times 10^{7}$") and not as_stated(2.7e7, "$2.6 \\times 10^{7}$")
    assert as_stated(1.4e-12, "$10^{-12}$") and as_stated(2.9e-12, "$10^{-12}$")
    assert not as_stated(3.3e-12, "$10^{-12}$") and not as_stated(1e-11, "$10^{-12}$")
    assert power_of_two("$2^{-23}$") == -23 and power_of_two("$2^{29}$") == 29
