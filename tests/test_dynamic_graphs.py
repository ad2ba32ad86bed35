"""Claims made on the Dynamic graphs page (docs/dynamic_graphs.md) about its own snippet."""

import ast
import copy
import random
import types

import pytest
import torch

import lessons
from lessons import ROOT

LESSON = "dynamic_graphs"


def snippet_targets() -> dict:
    """MIN_FALL and MIN_FALL_EXCEPTIONS as tests/test_snippets.py writes them (the fall it
    asks of every lesson, which the page quotes), read from its source, not imported."""
    tree = ast.parse((ROOT / "tests" / "test_snippets.py").read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").startswith("MIN_FALL")
    }


def force_depth(ns: dict, k: int) -> None:
    """Make every forward pass of the namespace's DynamicNet use the middle layer k times:
    its `random.randint(0, 3)` returns k."""

    def randint(a, b):
        assert (a, b) == (0, 3)
        return k

    ns["random"] = types.SimpleNamespace(randint=randint)


def train(ns: dict, steps=lessons.STEPS) -> dict:
    """Run the page's `train` section in `ns` (what it prints kept in ns["printed"])."""
    ns["printed"] = lessons.run(LESSON, "train", ns=ns, steps=steps)
    return ns


def step(ns: dict) -> None:
    """One step of the training loop, section by section, as the page shows them."""
    ns.setdefault("losses", [])
    ns.setdefault("t", 1)
    lessons.run(LESSON, "forward", "loss", "backward", "update", ns=ns)


def count_calls(module: torch.nn.Module) -> tuple[list[int], object]:
    """A list that grows by one on each call of `module`, and the hook's handle."""
    calls: list[int] = []
    return calls, module.register_forward_hook(lambda mod, args, output: calls.append(1))


# --- weight sharing: the gradient is the sum over the uses ------------------------------


def unshared_copy(model: torch.nn.Module, k: int) -> torch.nn.Module:
    """The same network with the middle layer untied: k separate layers, each starting
    from the shared layer's values, each used once."""

    class Unshared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.input_linear = copy.deepcopy(model.input_linear)
            self.middles = torch.nn.ModuleList(copy.deepcopy(model.middle_linear) for _ in range(k))
            self.output_linear = copy.deepcopy(model.output_linear)

        def forward(self, x):
            h_relu = self.input_linear(x).clamp(min=0)
            for layer in self.middles:
                h_relu = layer(h_relu).clamp(min=0)
            return self.output_linear(h_relu)

    return Unshared()


def float64_pass(ns: dict, model: torch.nn.Module, k: int):
    """Forward and backward in float64 at depth k of `model` and of its unshared copy:
    (model, unshared copy, the two losses)."""
    force_depth(ns, k)
    model = model.double()
    x, y = ns["x"].double(), ns["y"].double()
    untied = unshared_copy(model, k)
    loss = ns["loss_fn"](model(x), y)
    loss.backward()
    untied_loss = ns["loss_fn"](untied(x), y)
    untied_loss.backward()
    return model, untied, (loss.item(), untied_loss.item())


def shared_grad_is_sum(ns: dict, model: torch.nn.Module, k: int) -> bool:
    """True when `model` and its unshared copy compute the same loss and the middle layer's
    gradient (weight and bias) is the sum of the k copies'."""
    model, untied, (loss, untied_loss) = float64_pass(ns, model, k)
    if abs(loss - untied_loss) > 1e-12 * abs(loss):
        return False
    for name in ("weight", "bias"):
        shared = getattr(model.middle_linear, name).grad
        copies = [getattr(layer, name).grad for layer in untied.middles]
        if shared is None or not torch.allclose(shared, sum(copies), rtol=1e-12, atol=1e-12):
            return False
    return True


@pytest.mark.parametrize("k", [2, 3])
def test_shared_gradient_is_the_sum_of_the_copies_gradients(k):
    """The page: dL/dW_m = sum over the k uses of the gradient each use would have as a
    separate copy; a sum, not the mean, not the last use's. float64, relative error 1e-12."""
    ns = lessons.setup(LESSON)
    model, untied, (loss, untied_loss) = float64_pass(ns, ns["model"], k)
    assert abs(loss - untied_loss) <= 1e-12 * loss  # the same function
    for name in ("weight", "bias"):
        shared = getattr(model.middle_linear, name).grad
        copies = [getattr(layer, name).grad for layer in untied.middles]
        torch.testing.assert_close(shared, sum(copies), rtol=1e-12, atol=1e-12)
        scale = shared.abs().max()
        assert scale > 0
        assert (shared - sum(copies) / k).abs().max() > 0.1 * scale  # not the mean
        assert (shared - copies[-1]).abs().max() > 0.1 * scale  # not the last use alone
        assert all((c - copies[0]).abs().max() > 1e-3 * scale for c in copies[1:])  # uses differ
    # The unshared layers around the middle get the same gradients as the shared model's.
    for a, b in ((model.input_linear, untied.input_linear), (model.output_linear, untied.output_linear)):
        torch.testing.assert_close(a.weight.grad, b.weight.grad, rtol=1e-12, atol=1e-12)


def test_shared_gradient_matches_a_central_difference():
    """The page: one entry of the shared gradient, checked by a central difference (float64,
    depth 3)."""
    ns = lessons.setup(LESSON)
    model, _, _ = float64_pass(ns, ns["model"], 3)
    weight = model.middle_linear.weight
    i, j = divmod(weight.grad.abs().argmax().item(), weight.shape[1])
    x, y, loss_fn = ns["x"].double(), ns["y"].double(), ns["loss_fn"]
    eps = 1e-6
    with torch.no_grad():
        original = weight[i, j].item()
        weight[i, j] = original + eps
        plus = loss_fn(model(x), y).item()
        weight[i, j] = original - eps
        minus = loss_fn(model(x), y).item()
        weight[i, j] = original
    numeric = (plus - minus) / (2 * eps)
    assert abs(weight.grad[i, j].item()) > 1e-2
    assert abs(numeric - weight.grad[i, j].item()) <= 1e-6 * abs(numeric)


def test_a_new_layer_on_each_use_is_not_weight_sharing():
    """The page's warning: creating the middle layer inside forward leaves the registered
    layer without a gradient. The sum check above tells the two apart."""
    ns = lessons.setup(LESSON)
    assert shared_grad_is_sum(ns, ns["model"], 3)

    class NewEachTime(ns["DynamicNet"]):
        def forward(self, x):
            h_relu = self.input_linear(x).clamp(min=0)
            for _ in range(ns["random"].randint(0, 3)):
                h_relu = torch.nn.Linear(ns["H"], ns["H"], dtype=x.dtype)(h_relu).clamp(min=0)
            return self.output_linear(h_relu)

    wrong = NewEachTime(ns["D_in"], ns["H"], ns["D_out"])
    assert not shared_grad_is_sum(ns, wrong, 3)
    assert wrong.middle_linear.weight.grad is None


def test_the_middle_layer_is_one_registered_module_called_k_times():
    """The page: six parameters (111210 numbers), the middle layer registered once as an
    (H, H) weight, and a forward pass of depth k calls that very module k times."""
    ns = lessons.setup(LESSON)
    model, H = ns["model"], ns["H"]
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == [
        ("input_linear.weight", (H, ns["D_in"])),
        ("input_linear.bias", (H,)),
        ("middle_linear.weight", (H, H)),
        ("middle_linear.bias", (H,)),
        ("output_linear.weight", (ns["D_out"], H)),
        ("output_linear.bias", (ns["D_out"],)),
    ]
    assert sum(p.numel() for p in model.parameters()) == 111210
    assert [type(m).__name__ for m in model.modules()] == ["DynamicNet", "Linear", "Linear", "Linear"]
    calls, handle = count_calls(model.middle_linear)
    for k in range(4):
        force_depth(ns, k)
        calls.clear()
        model(ns["x"])
        assert len(calls) == k
    handle.remove()


# --- a new graph on every pass ------------------------------------------------------------


def test_depth_is_drawn_anew_on_every_pass():
    """The page: different passes use different depths, drawn by Python's random after
    random.seed(0): the first eight are 3, 3, 0, 2, 3, 3, 2, 3."""
    ns = lessons.setup(LESSON)
    calls, handle = count_calls(ns["model"].middle_linear)
    depths = []
    for _ in range(40):
        calls.clear()
        ns["model"](ns["x"])
        depths.append(len(calls))
    handle.remove()
    assert set(depths) == {0, 1, 2, 3}
    assert depths[:8] == [3, 3, 0, 2, 3, 3, 2, 3]
    random.seed(0)
    assert depths == [random.randint(0, 3) for _ in range(40)]


@pytest.mark.parametrize("k", range(4))
def test_graph_has_k_plus_2_addmm_nodes_and_one_entry_per_parameter(k):
    """The page: a pass of depth k has k + 2 AddmmBackward0 nodes; AccumulateGrad nodes: one
    per parameter in the graph, 6, or 4 when k = 0 (the middle layer is not in the graph)."""
    ns = lessons.setup(LESSON)
    force_depth(ns, k)
    loss = ns["loss_fn"](ns["model"](ns["x"]), ns["y"])
    seen, todo = set(), [loss.grad_fn]
    while todo:
        fn = todo.pop()
        if fn is not None and fn not in seen:
            seen.add(fn)
            todo.extend(f for f, _ in fn.next_functions)
    names = [type(fn).__name__ for fn in seen]
    assert names.count("AddmmBackward0") == k + 2
    assert names.count("AccumulateGrad") == (6 if k else 4)
    params = {fn.variable for fn in seen if type(fn).__name__ == "AccumulateGrad"}
    middle = {ns["model"].middle_linear.weight, ns["model"].middle_linear.bias}
    assert (middle <= params) == (k > 0)


# --- the optimizer: SGD with momentum, and steps of depth 0 ------------------------------


def test_sgd_with_momentum():
    """The page: lr = 1e-4, momentum mu = 0.9; v = g on the first step, then v = mu v + g, and
    theta -= lr * v."""
    ns = lessons.setup(LESSON)
    group = ns["optimizer"].param_groups[0]
    assert ns["lr"] == group["lr"] == 1e-4
    assert (group["momentum"], group["dampening"], group["nesterov"]) == (0.9, 0, False)
    force_depth(ns, 2)
    params = list(ns["model"].parameters())
    grads, values = [], [[p.detach().clone() for p in params]]
    for _ in range(2):
        ns.update(losses=[], t=1)
        lessons.run(LESSON, "forward", "loss", "backward", ns=ns)
        grads.append([p.grad.clone() for p in params])
        lessons.run(LESSON, "update", ns=ns)
        values.append([p.detach().clone() for p in params])
    for p0, p1, p2, g1, g2 in zip(*values, *grads, strict=True):
        torch.testing.assert_close(p1, p0 - 1e-4 * g1, rtol=0, atol=1e-7)
        torch.testing.assert_close(p2, p1 - 1e-4 * (0.9 * g1 + g2), rtol=0, atol=1e-7)


def test_a_step_of_depth_zero_leaves_the_middle_layer_alone():
    """The page: with k = 0 the middle layer's .grad stays None after zero_grad() and
    backward(), and SGD skips it: W_m, b_m and their momentum buffers don't change, while
    the input and output layers are updated."""
    ns = lessons.setup(LESSON)
    model, optimizer = ns["model"], ns["optimizer"]
    force_depth(ns, 3)
    step(ns)
    middle = list(model.middle_linear.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    buffers = [optimizer.state[p]["momentum_buffer"].clone() for p in middle]
    assert all(b.abs().max() > 0 for b in buffers)  # momentum would move them
    force_depth(ns, 0)
    step(ns)
    assert all(p.grad is None for p in middle)
    for (name, p), b in zip(model.named_parameters(), before, strict=True):
        assert torch.equal(p, b) == name.startswith("middle_linear"), name
    for p, b in zip(middle, buffers, strict=True):
        assert torch.equal(optimizer.state[p]["momentum_buffer"], b)


# --- why the loss falls less than in the other lessons ---------------------------------------


@pytest.fixture(scope="module")
def trained():
    """The page's training run, with the depth of every step recorded by hooks."""
    ns = lessons.setup(LESSON)
    model = ns["model"]
    depths: list[int] = []
    pre = model.register_forward_pre_hook(lambda mod, args: depths.append(0))
    mid = model.middle_linear.register_forward_hook(
        lambda mod, args, output: depths.__setitem__(-1, depths[-1] + 1)
    )
    train(ns)
    pre.remove()
    mid.remove()
    return ns, depths


def test_training_falls_less_than_the_other_lessons(trained):
    """The page: the loss falls, by less than tests/test_snippets.py asks of the other lessons
    and at least what it asks of this one, jumping over the last 100 steps; the depths are the
    ones random.seed(0) draws. The numbers the page states (losses at steps 0 and 499, the fall,
    the range of the last 100 steps, how often each depth is drawn) are read from the page
    and checked against this run by tests/test_claims.py."""
    ns, depths = trained
    losses = ns["losses"]
    assert len(losses) == len(depths) == lessons.STEPS
    fall = losses[0] / losses[499]
    targets = snippet_targets()
    assert targets["MIN_FALL_EXCEPTIONS"][LESSON] <= fall < targets["MIN_FALL"]
    assert min(losses[400:]) < losses[499] < max(losses[400:])
    assert set(depths) == {0, 1, 2, 3}
    random.seed(0)
    assert depths == [random.randint(0, 3) for _ in range(500)]


def test_final_loss_at_each_depth(trained):
    """The page: after training, none of the four depths' losses is close to 0 (the fixed-depth
    runs below reach 1e-9); the page's table of them is checked by tests/test_claims.py."""
    ns, _ = trained
    results = []
    for k in range(4):
        force_depth(ns, k)
        with torch.no_grad():
            results.append(ns["loss_fn"](ns["model"](ns["x"]), ns["y"]).item())
    assert min(results) > 1e-3
    assert len(set(results)) == 4  # four different networks


@pytest.mark.parametrize("k", range(4))
def test_a_fixed_depth_trains_like_the_other_lessons(k):
    """The page: the same code with the depth fixed at k falls below a bound by step 499,
    more than a given factor: both read from the page."""
    stated = lessons.page_claims(LESSON)
    ns = lessons.setup(LESSON)
    force_depth(ns, k)
    losses = train(ns)["losses"]
    assert losses[499] < lessons.stated(stated["fixed-depth-loss-below"]), (LESSON, "fixed-depth-loss-below")
    assert losses[0] / losses[499] > lessons.stated(stated["fixed-depth-fall"]), (LESSON, "fixed-depth-fall")
