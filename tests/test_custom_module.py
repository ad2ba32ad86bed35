"""Claims made on the custom Module page (docs/custom_module.md) about its own snippet."""

import math

import torch

import lessons

SHAPES = [
    ("linear1.weight", (100, 1000)),
    ("linear1.bias", (100,)),
    ("linear2.weight", (10, 100)),
    ("linear2.bias", (10,)),
]


def train(lr: str | None = None, steps=lessons.STEPS) -> tuple[float, ...]:
    """The script's run on the CPU, with its line `lr = ...` set to `lr` (the optimizer it
    makes then uses that learning rate)."""
    return lessons.train("custom_module", change=(("lr", lr),) if lr else (), steps=steps).losses


def test_the_four_named_parameters_and_nothing_else():
    """The page: two nn.Linear layers, linear1 then linear2, register exactly four parameters
    with these shapes (weights stored as (out_features, in_features)), all handed to the
    optimizer; 101110 numbers in all."""
    ns = lessons.setup("custom_module")
    model, optimizer = ns["model"], ns["optimizer"]
    assert [(name, tuple(p.shape)) for name, p in model.named_parameters()] == SHAPES
    assert [m for m in model.modules() if isinstance(m, torch.nn.Linear)] == [model.linear1, model.linear2]
    assert [id(p) for group in optimizer.param_groups for p in group["params"]] == [
        id(p) for p in model.parameters()
    ]
    assert sum(p.numel() for p in model.parameters()) == 101110
    assert list(model.state_dict()) == [name for name, _ in SHAPES]


def test_default_init_is_uniform_within_one_over_sqrt_fan_in():
    """The page: nn.Linear draws weight and bias from [-1/sqrt(k), 1/sqrt(k)], k = in_features
    (1000 for linear1, 100 for linear2), and fills that range."""
    model = lessons.setup("custom_module")["model"]
    for layer, k in ((model.linear1, 1000), (model.linear2, 100)):
        assert layer.in_features == k
        for p in (layer.weight, layer.bias):
            assert p.abs().max() <= k**-0.5
        assert layer.weight.abs().max() > 0.99 * k**-0.5


def test_step_is_plain_gradient_descent():
    """The page: optimizer.step() does theta -= lr * theta.grad for each of the four parameters,
    and model.zero_grad() clears all their gradients."""
    ns = lessons.setup("custom_module")
    model, optimizer = ns["model"], ns["optimizer"]
    ns["loss_fn"](model(ns["x"]), ns["y"]).backward()
    expected = [(p - ns["lr"] * p.grad).detach() for p in model.parameters()]
    optimizer.step()
    for p, e in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), e, rtol=0, atol=1e-7)
    model.zero_grad()  # the page: model.zero_grad() reaches every parameter too
    assert all(p.grad is None for p in model.parameters())


def test_dropout_and_batchnorm_are_what_train_and_eval_change():
    """The page: Dropout drops elements in training and none in eval; BatchNorm uses the
    batch's statistics in training and its running ones in eval."""
    torch.manual_seed(0)
    ones = torch.ones(1000)
    drop = torch.nn.Dropout(0.5)
    assert (drop(ones) == 0).sum() > 300
    assert torch.equal(drop.eval()(ones), ones)
    bn = torch.nn.BatchNorm1d(3)
    z = torch.randn(16, 3) * 5 + 2
    torch.testing.assert_close(bn(z).mean(0), torch.zeros(3), rtol=0, atol=1e-5)  # batch mean
    bn.eval()
    expected = (z - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(bn(z), expected)


def test_nothing_that_train_or_eval_would_change():
    """The page: model.train()/eval() make no difference here: no dropout, no batch norm,
    only the two Linear layers inside the model, and the output in eval mode is the same."""
    ns = lessons.setup("custom_module")
    model = ns["model"]
    assert {type(m).__name__ for m in model.modules()} == {"TwoLayerNet", "Linear"}
    assert model.training
    in_training = model(ns["x"])
    assert torch.equal(model.eval()(ns["x"]), in_training)


def test_forward_is_the_formula_with_biases():
    """The page: model(x) = max(x w1 + b1, 0) w2 + b2 with w1 = linear1.weight.T,
    w2 = linear2.weight.T; computed here in float64 from the model's own parameters."""
    ns = lessons.setup("custom_module")
    model = ns["model"].double()
    x = torch.randn(7, ns["D_in"], dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    w1, b1 = model.linear1.weight.detach().T, model.linear1.bias.detach()
    w2, b2 = model.linear2.weight.detach().T, model.linear2.bias.detach()
    expected = torch.maximum(x @ w1 + b1, torch.zeros(())) @ w2 + b2
    torch.testing.assert_close(model(x), expected, rtol=1e-12, atol=1e-12)


def test_relu_gradient_at_zero_passes_as_with_clamp():
    """The page: forward uses clamp(min=0), whose gradient at h = 0 is 1 (as in the Autograd
    lesson), not torch.relu's 0. Hidden unit 0 is made exactly 0 for every sample."""
    ns = lessons.setup("custom_module")
    model = ns["model"].double()
    with torch.no_grad():
        model.linear1.weight[0] = 0.0
        model.linear1.bias[0] = 0.0
    x = torch.randn(5, ns["D_in"], dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    model(x).sum().backward()
    # dL/db1[0] = sum over samples of sum_k W2[k, 0] * 1[h >= 0] = 5 * sum_k W2[k, 0]
    expected = 5 * model.linear2.weight[:, 0].sum()
    assert expected.abs() > 1e-3
    torch.testing.assert_close(model.linear1.bias.grad[0], expected.detach(), rtol=1e-12, atol=0)


def test_without_biases_it_is_the_autograd_network():
    """The page: with the biases removed, linear1.weight = w1.T and linear2.weight = w2.T,
    the model trains exactly like the Autograd lesson (same start, float64, lr = 1e-6)."""
    ag = lessons.setup("autograd", dtype="float64")
    start = {k: ag[k].detach() for k in ("x", "y", "w1", "w2")}
    expected = lessons.train("autograd", dtype="float64").losses

    ns = lessons.setup("custom_module", change={"lr": repr(ag["lr"])})
    model = ns["model"].double()
    with torch.no_grad():
        model.linear1.weight.copy_(start["w1"].T)
        model.linear2.weight.copy_(start["w2"].T)
    model.linear1.bias = None
    model.linear2.bias = None
    ns["x"], ns["y"] = start["x"], start["y"]
    lessons.run("custom_module", "train", ns=ns)
    losses = ns["losses"]
    assert ag["lr"] == 1e-6
    assert len(losses) == 500
    torch.testing.assert_close(torch.tensor(losses), torch.tensor(expected), rtol=1e-9, atol=0)


def test_learning_rate_claims():
    """The page: with the lesson's lr the loss starts near sum(y^2), the loss of predicting 0
    (the model's first outputs are small), far below where the earlier lessons' randn weights
    start, and falls by more than the million-fold every lesson must reach; the previous lessons'
    lr hardly moves it; the diverging lr the page states gives nan. The numbers (the learning
    rates, the losses, sum(y^2), the fall) are read from the page and checked against the run
    by tests/test_claims.py."""
    ns = lessons.setup("custom_module")
    sum_y2 = ns["y"].pow(2).sum().item()
    losses = train()
    assert abs(losses[0] - sum_y2) < 0.05 * sum_y2
    assert losses[0] / losses[499] > 1e6  # tests/test_snippets.py's MIN_FALL
    stated = lessons.page_claims("custom_module")
    assert 0.5 * losses[0] < train(lr=str(lessons.stated(stated["previous-lr"])))[499] < losses[0]
    ag = lessons.setup("autograd")
    first = (ag["x"].mm(ag["w1"]).clamp(min=0).mm(ag["w2"]) - ag["y"]).pow(2).sum().item()
    assert first > 1e4 * losses[0]
    # the diverging lr: nan within a few steps. From the first nan on every loss is nan (a nan loss
    # gives nan gradients, which the update writes into the weights), so the first 50 steps
    # show what step 499 would: nan.
    diverged = train(lr=str(lessons.stated(stated["diverging-lr"])), steps=50)
    first_nan = next(t for t, v in enumerate(diverged) if math.isnan(v))
    assert all(math.isnan(v) for v in diverged[first_nan:])
