"""Claims made on the optim page (docs/optim.md) about its own snippet, on the CPU."""

import re

import pytest
import torch

import lessons
from lessons import DOCS

SKIP = {"sgd": ("adam",), "adam": ()}  # the script trains with Adam: its cell replaces SGD's


def namespace(optimizer=None, lesson="optim", dtype=None) -> dict:
    """The lesson's setup on the CPU in `dtype`, then its `optimizer` section ("sgd" or "adam")."""
    ns = lessons.setup(lesson, dtype=dtype)
    if optimizer:
        lessons.run(lesson, optimizer, ns=ns)
    return ns


def losses(optimizer: str, dtype=None, edits=(), threads=None) -> tuple[float, ...]:
    return lessons.train("optim", dtype=dtype, skip=SKIP[optimizer], edits=edits, threads=threads).losses


def nn_losses(dtype=None) -> tuple[float, ...]:
    return lessons.train("nn", dtype=dtype).losses


def one_backward(ns: dict) -> None:
    ns["optimizer"].zero_grad()
    ns["loss_fn"](ns["model"](ns["x"]), ns["y"]).backward()


def test_same_data_and_initial_parameters_as_the_nn_lesson():
    ours, theirs = namespace(), namespace(lesson="nn")
    assert ours["lr"] == theirs["lr"] == 1e-4
    assert torch.equal(ours["x"], theirs["x"]) and torch.equal(ours["y"], theirs["y"])
    pairs = list(zip(ours["model"].named_parameters(), theirs["model"].named_parameters()))
    assert len(pairs) == 4 and all(a == b and torch.equal(p, q) for (a, p), (b, q) in pairs)


def test_the_script_trains_with_adam():
    """Run top to bottom, the Adam cell replaces the SGD optimizer: training uses Adam, lr = 1e-4,
    with the default betas and eps the page gives."""
    full = lessons.source("optim")
    first_lines = [
        lessons.section("optim", name).strip().splitlines()[0] for name in ("setup", "sgd", "adam", "train")
    ]
    where = [full.index(line) for line in first_lines]
    assert where == sorted(where)
    ns = namespace("sgd")
    assert type(ns["optimizer"]) is torch.optim.SGD
    lessons.run("optim", "adam", ns=ns)
    optimizer = ns["optimizer"]
    assert type(optimizer) is torch.optim.Adam
    assert optimizer.defaults["lr"] == 1e-4
    assert optimizer.defaults["betas"] == (0.9, 0.999) and optimizer.defaults["eps"] == 1e-8
    assert [p is q for p, q in zip(optimizer.param_groups[0]["params"], ns["model"].parameters())] == [
        True
    ] * 4


def test_losses_with_adam_and_with_sgd():
    """The page: with lr = 1e-4 both start from the same loss and Adam ends lower than SGD at
    step 499. The losses the page states are read from it and checked by tests/test_claims.py
    (Adam's on two threads)."""
    adam, sgd = losses("adam", threads=2), losses("sgd")
    assert len(adam) == len(sgd) == lessons.STEPS
    assert adam[0] == sgd[0] and adam[499] < sgd[499] < 1e-6 * sgd[0]


def test_sgd_is_the_nn_lessons_update():
    """The page: SGD gives the nn lesson's losses, to the relative differences the page states
    in float64 and float32 (read from the page), where they differ because step() computes
    p.add_(grad, alpha=-lr), rounding once."""
    stated = lessons.page_claims("optim")
    f64 = losses("sgd", "float64")
    assert max(abs(a - b) / b for a, b in zip(f64, nn_losses("float64"))) < lessons.stated(
        stated["sgd-float64-difference-below"]
    ), "optim.en.md: sgd-float64-difference-below"
    f32 = losses("sgd")
    rel = [abs(a - b) / b for a, b in zip(f32, nn_losses())]
    percent = lessons.stated(stated["sgd-float32-difference-percent-below"])
    assert 0 < 100 * max(rel) < percent, (
        "optim.en.md: sgd-float32-difference-percent-below"
    )  # close, not identical

    ns = namespace("sgd")
    one_backward(ns)
    before = [(p.detach().clone(), p.grad.clone()) for p in ns["model"].parameters()]
    ns["optimizer"].step()
    after = list(ns["model"].parameters())
    assert all(torch.equal(p, w.add(g, alpha=-ns["lr"])) for p, (w, g) in zip(after, before))
    assert not all(torch.equal(p, w - ns["lr"] * g) for p, (w, g) in zip(after, before))


def test_step_updates_under_no_grad_by_itself():
    """The page: step() needs no `with torch.no_grad():` (in grad mode, an in-place update of a
    leaf that requires grad would raise)."""
    ns = namespace("sgd")
    one_backward(ns)
    before = ns["model"][0].weight.detach().clone()
    with torch.enable_grad():
        ns["optimizer"].step()
    weight = ns["model"][0].weight
    assert not torch.equal(before, weight) and weight.is_leaf and weight.grad_fn is None


def test_adam_steps_computed_by_hand_from_the_page_formulas():
    """Three Adam steps, computed here from the page's m_t, v_t, bias corrections and update,
    match optimizer.step() on the lesson's model in float64: m_t, v_t and the parameters."""
    ns = namespace("adam", dtype="float64")
    model, optimizer, lr = ns["model"], ns["optimizer"], ns["lr"]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    params = list(model.parameters())
    m = [torch.zeros_like(p) for p in params]
    v = [torch.zeros_like(p) for p in params]
    for t in (1, 2, 3):
        one_backward(ns)
        expected = []
        for i, p in enumerate(params):
            g = p.grad.detach()
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            expected.append(p.detach() - lr * m_hat / (torch.sqrt(v_hat) + eps))
        optimizer.step()
        for i, p in enumerate(params):
            state = optimizer.state[p]
            assert state["step"].item() == t
            assert torch.allclose(state["exp_avg"], m[i], rtol=1e-12, atol=0)
            assert torch.allclose(state["exp_avg_sq"], v[i], rtol=1e-12, atol=0)
            assert torch.allclose(p.detach(), expected[i], rtol=1e-12, atol=1e-15)
        # the step is not trivially small: the check above could tell a wrong update
        assert all((p.detach() - e).abs().max() < 1e-3 * lr for p, e in zip(params, expected))


def test_first_adam_step_moves_every_element_by_about_lr():
    """The page: at step 1 the update is lr * g / (|g| + eps): about lr wherever |g| >> eps."""
    ns = namespace("adam", dtype="float64")
    params = list(ns["model"].parameters())
    before = [p.detach().clone() for p in params]
    one_backward(ns)
    ns["optimizer"].step()
    for p, p0 in zip(params, before):
        g = p.grad
        change = (p.detach() - p0).abs()
        assert torch.allclose(change, ns["lr"] * g.abs() / (g.abs() + 1e-8), rtol=1e-9, atol=0)
        big = g.abs() > 1e-5
        assert big.float().mean() > 0.99 and (change[big] > 0.999 * ns["lr"]).all()


def test_zero_grad_sets_none_and_step_skips_none():
    """The page: zero_grad() sets .grad to None; step() then leaves parameters and Adam's step
    count alone; the next backward() puts a new tensor in .grad (with zeros instead, it adds
    into the same one); zeros move Adam's parameters but not SGD's."""
    ns = namespace("adam")
    model, optimizer = ns["model"], ns["optimizer"]
    one_backward(ns)
    optimizer.step()
    assert all(p.grad is not None for p in model.parameters())
    optimizer.zero_grad()
    assert [p.grad for p in model.parameters()] == [None] * 4
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    assert all(optimizer.state[p]["step"].item() == 1 for p in model.parameters())

    ns["loss_fn"](model(ns["x"]), ns["y"]).backward()
    optimizer.zero_grad(set_to_none=False)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and not g.any() for g in grads)
    ns["loss_fn"](model(ns["x"]), ns["y"]).backward()
    assert all(p.grad is g for p, g in zip(model.parameters(), grads))  # added in place
    optimizer.zero_grad()
    ns["loss_fn"](model(ns["x"]), ns["y"]).backward()
    assert all(p.grad is not g for p, g in zip(model.parameters(), grads))  # a new tensor

    optimizer.zero_grad(set_to_none=False)
    optimizer.step()
    assert all(not torch.equal(p, q) for p, q in zip(model.parameters(), before))

    ns = namespace("sgd")
    one_backward(ns)
    ns["optimizer"].zero_grad(set_to_none=False)
    before = [p.detach().clone() for p in ns["model"].parameters()]
    ns["optimizer"].step()
    assert all(torch.equal(p, q) for p, q in zip(ns["model"].parameters(), before))


def test_forgetting_zero_grad():
    """The page: without optimizer.zero_grad(), SGD goes down, swings and is stuck at step 499;
    Adam gets down to a lowest point, then climbs back (the losses and the step the page states
    are checked by tests/test_claims.py)."""
    drop = (("optimizer.zero_grad()", "pass"),)
    sgd = losses("sgd", edits=drop)
    assert sgd[10] < sgd[0] and sgd[499] > 1e3 * losses("sgd")[499]
    assert any(b > a for a, b in zip(sgd, sgd[1:]))  # it swings
    adam = losses("adam", edits=drop)
    lowest = min(adam)
    assert 0 < adam.index(lowest) < 499 and adam[499] > lowest


def test_optimizer_keeps_the_parameters_it_was_given():
    """The page: a parameter replaced after the optimizer was created gets gradients but never moves;
    the optimizer only knows the old one, which, out of the model, gets no gradient."""
    ns = namespace("sgd")
    model = ns["model"]
    old = model[2].bias
    old_values = old.detach().clone()
    model[2].bias = torch.nn.Parameter(torch.zeros(ns["D_out"]))
    one_backward(ns)
    ns["optimizer"].step()
    assert model[2].bias.grad is not None and not model[2].bias.any()
    assert old.grad is None and torch.equal(old, old_values)


def load_state_dict_claims(page: str) -> tuple[str, str]:
    """The call the page's "finish the model first" warning says breaks an optimizer made before it,
    as (method, keyword): `load_state_dict(..., assign=True)` -> ("load_state_dict", "assign")."""
    text = (DOCS / page).read_text(encoding="utf-8")
    calls = set(re.findall(r"`model\.(\w+)\(\.\.\.\)`.*`\1\(\.\.\., (\w+)=True\)`", text))
    assert len(calls) == 1, calls
    return calls.pop()


@pytest.mark.parametrize("page", ["optim.md", "optim.en.md"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_loading_weights_after_creating_the_optimizer(page, optimizer):
    """The page: load_state_dict copies into the model's own Parameters, so an optimizer created
    before it still updates the model; with the keyword the page names (assign=True) the model
    gets new Parameters, which the optimizer does not hold and never moves."""
    method, keyword = load_state_dict_claims(page)
    for assign in (False, True):
        ns = namespace(optimizer)  # the model, then the optimizer, as the lesson does
        model, opt = ns["model"], ns["optimizer"]
        saved = {k: v + 0.01 for k, v in model.state_dict().items()}  # other weights to load
        getattr(model, method)(saved, **({keyword: True} if assign else {}))
        assert all(torch.equal(p, saved[k]) for k, p in model.named_parameters())
        one_backward(ns)
        opt.step()
        held = [p for group in opt.param_groups for p in group["params"]]
        same = [p is q for p, q in zip(held, model.parameters())]
        moved = [not torch.equal(p, saved[k]) for k, p in model.named_parameters()]
        if assign:
            assert not any(same) and not any(moved)
        else:
            assert all(same) and all(moved)


def sgd_options_claimed(page: str) -> list[tuple[str, float]]:
    """The SGD keywords the `set_to_none=False` question says make a zero gradient move a
    parameter: `momentum=0.9` -> ("momentum", 0.9)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    block = text[text.index("set_to_none=False") :]
    block = block[: block.index("```")]
    options = re.findall(r"`(momentum|weight_decay)=([\d.e-]+)`", block)
    assert {name for name, _ in options} == {"momentum", "weight_decay"}, options
    return [(name, float(value)) for name, value in options]


@pytest.mark.parametrize("page", ["optim.md", "optim.en.md"])
def test_a_zero_gradient_moves_sgd_with_momentum_or_weight_decay(page):
    """The page: plain SGD doesn't move on a zero gradient; with the momentum or weight decay it
    names, it does; a .grad of None is still skipped."""
    for name, value in sgd_options_claimed(page):
        ns = namespace()
        model = ns["model"]
        ns["optimizer"] = optimizer = torch.optim.SGD(model.parameters(), lr=ns["lr"], **{name: value})
        one_backward(ns)
        optimizer.step()  # a first step: momentum now has a velocity
        optimizer.zero_grad(set_to_none=False)
        before = [p.detach().clone() for p in model.parameters()]
        optimizer.step()
        assert all(not torch.equal(p, q) for p, q in zip(model.parameters(), before)), name
        optimizer.zero_grad()  # None
        before = [p.detach().clone() for p in model.parameters()]
        optimizer.step()
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before)), name
