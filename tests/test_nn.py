"""Claims made on the nn page (docs/nn.md) about its own snippet, on the CPU."""

import math
import warnings

import torch

import lessons


def namespace(dtype=None) -> dict:
    """The lesson's setup on the CPU, its data and model cast to `dtype`."""
    return lessons.setup("nn", dtype=dtype)


def float32_losses() -> tuple[float, ...]:
    return lessons.train("nn").losses


def float64_losses() -> tuple[float, ...]:
    return lessons.train("nn", dtype="float64").losses


def run_train(ns: dict) -> list[float]:
    """The page's training loop, run in `ns`."""
    lessons.run("nn", "train", ns=ns)
    return ns["losses"]


def test_source_learning_rate_and_the_fall():
    """The page: lr = 1e-4 as in the source tutorial; the loss falls by more than the
    million-fold every lesson must reach, from far below the Autograd lesson's loss at step 0
    (randn weights). The losses the page states (steps 0 and 499, the Autograd lesson's) are
    read from the page and checked by tests/test_claims.py."""
    assert namespace()["lr"] == 1e-4
    losses = float32_losses()
    assert len(losses) == lessons.STEPS
    assert losses[0] / losses[499] > 1e6  # tests/test_snippets.py's MIN_FALL
    ns = lessons.setup("autograd")
    lessons.run("autograd", "forward", ns=ns)
    assert namespace()["loss_fn"](ns["y_pred"], ns["y"]).item() > 1e4 * losses[0]


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    """The page: weight and bias of each Linear are uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)].
    Drawn here by that rule, after x and y from the same seed: the same numbers, bit for bit."""
    ns = namespace()
    torch.manual_seed(0)
    x, y = torch.randn(ns["N"], ns["D_in"]), torch.randn(ns["N"], ns["D_out"])
    assert torch.equal(x, ns["x"]) and torch.equal(y, ns["y"])
    layers = [ns["model"][0], ns["model"][2]]
    assert [layer.in_features for layer in layers] == [ns["D_in"], ns["H"]]
    for layer in layers:
        bound = 1 / math.sqrt(layer.in_features)
        weight = torch.empty(layer.out_features, layer.in_features).uniform_(-bound, bound)
        bias = torch.empty(layer.out_features).uniform_(-bound, bound)
        assert torch.equal(weight, layer.weight) and torch.equal(bias, layer.bias)
        # and the interval is filled: its edge is reached to within 1%
        assert layer.weight.abs().max() <= bound < 1.01 * layer.weight.abs().max()


def test_without_biases_it_is_the_autograd_lesson():
    """The page: biases removed, the Autograd lesson's w1^T and w2^T as the weights, float64,
    lr = 1e-6: this lesson's loop gives the Autograd lesson's 500 losses (rel. diff < 1e-10)."""
    ref = lessons.setup("autograd", dtype="float64")
    ns = lessons.setup("nn")
    model = ns["model"]
    model[0].weight = torch.nn.Parameter(ref["w1"].detach().T.clone())
    model[2].weight = torch.nn.Parameter(ref["w2"].detach().T.clone())
    model[0].bias = model[2].bias = None
    ns.update(x=ref["x"], y=ref["y"], lr=ref["lr"])
    assert ref["lr"] == 1e-6
    ours = run_train(ns)
    theirs = lessons.train("autograd", dtype="float64").losses
    assert len(ours) == len(theirs) == 500
    assert max(abs(a - b) / b for a, b in zip(ours, theirs)) < 1e-10


def test_bias_gradients_are_column_sums():
    """The page's gradient formulas, computed here in float64, are what autograd puts in .grad:
    the bias gradients are the column sums of dL/dy_pred and dL/dh; weight.grad is the transpose."""
    ns = namespace("float64")
    model, x, y = ns["model"], ns["x"], ns["y"]
    w1, b1 = model[0].weight.detach().T, model[0].bias.detach()
    w2, b2 = model[2].weight.detach().T, model[2].bias.detach()
    ns["loss_fn"](model(x), y).backward()
    h = x.mm(w1) + b1
    h_relu = h.clamp(min=0)
    grad_y_pred = 2.0 * (h_relu.mm(w2) + b2 - y)
    grad_h = grad_y_pred.mm(w2.T) * (h > 0)
    expected = {
        "0.weight": (x.T.mm(grad_h)).T,
        "0.bias": grad_h.sum(0),
        "2.weight": (h_relu.T.mm(grad_y_pred)).T,
        "2.bias": grad_y_pred.sum(0),
    }
    for name, p in model.named_parameters():
        assert p.grad.shape == expected[name].shape == p.shape, name
        assert torch.allclose(p.grad, expected[name], rtol=1e-10, atol=0), name

    # and against central finite differences, for a few entries of each bias
    step = 1e-7
    assert step < 0.01 * h.abs().min()  # a step in b1 flips no sign of h: no ReLU kink crossed
    for layer in (model[0], model[2]):
        scale = layer.bias.grad.abs().max()
        for j in range(0, layer.out_features, 7):
            with torch.no_grad():
                layer.bias[j] += step
                plus = ns["loss_fn"](model(x), y).item()
                layer.bias[j] -= 2 * step
                minus = ns["loss_fn"](model(x), y).item()
                layer.bias[j] += step
            assert abs((plus - minus) / (2 * step) - layer.bias.grad[j]) < 1e-6 * scale, (layer, j)


def test_sum_versus_mean_reduction():
    """The page: the default "mean" divides by N * D_out = 640; with "mean" and lr = 1e-4 the loss
    hardly falls in 500 steps (the two losses the page states: tests/test_claims.py); with
    lr = 0.064 it is the "sum" loss / 640."""
    ns = namespace()
    assert ns["loss_fn"].reduction == "sum" and torch.nn.MSELoss().reduction == "mean"
    y_pred = ns["model"](ns["x"])
    assert torch.equal(ns["loss_fn"](y_pred, ns["y"]), (y_pred - ns["y"]).pow(2).sum())
    assert torch.allclose(torch.nn.MSELoss()(y_pred, ns["y"]) * 640, ns["loss_fn"](y_pred, ns["y"]))
    assert ns["N"] * ns["D_out"] == 640

    mean_loss = {"loss_fn": "torch.nn.MSELoss()"}
    mean = lessons.train("nn", change=tuple(mean_loss.items())).losses
    assert 0.9 * mean[0] < mean[499] < mean[0]  # next to nothing learnt

    assert 640 * ns["lr"] == 0.064
    change = tuple({**mean_loss, "lr": "0.064"}.items())
    mean = lessons.train("nn", dtype="float64", change=change).losses
    assert max(abs(640 * a - b) / b for a, b in zip(mean, float64_losses())) < 1e-10


def test_size_average_false_is_the_deprecated_sum():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss_fn = torch.nn.MSELoss(size_average=False)
    assert loss_fn.reduction == "sum"
    assert any("deprecated" in str(w.message) for w in caught)


def test_forgetting_zero_grad():
    """The page: without model.zero_grad() the loss goes down at first, is back up at step 20,
    and is still stuck at step 499, far above the correct loop's (the losses the page states at
    steps 10, 20 and 499: tests/test_claims.py)."""
    losses = lessons.train("nn", edits=(("model.zero_grad()", "pass"),)).losses
    assert losses[10] < losses[0] and losses[20] > losses[10]
    assert all(math.isfinite(v) for v in losses) and losses[499] > 1e3 * float32_losses()[499]


def test_zeroing_after_the_update_is_the_same():
    """The page: zeroing before backward() (here) or after the update (Autograd lesson) is the same."""
    src = lessons.section("nn", "train")
    (zero,) = [line for line in src.splitlines(keepends=True) if "model.zero_grad()" in line]
    last = src.splitlines(keepends=True)[-1]  # the last line of the loop body
    moved = lessons.train("nn", edits=((zero, ""), (last, last + zero))).losses
    assert moved == float32_losses()
