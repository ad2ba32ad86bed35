"""Claims made on the real-data page (docs/real_data.md) about its own snippet, on the CPU.

The numbers the page states about the run (accuracies, losses) are read from the page by
tests/test_claims.py (CHECKS["real_data"]); this file checks what the page says the code
does: the split, the batches, the loss, evaluation, and saving and loading.
"""

import contextlib
import functools
import io
from unittest import mock

import pytest
import torch

from conftest import run_section, section, setup_namespace

LESSON = "real_data"


def namespace(edit=None) -> dict:
    """The lesson's setup, model and evaluate sections on the CPU; `edit(src)` may change the
    evaluate section first."""
    ns = setup_namespace(LESSON)
    run_section(LESSON, "model", ns)
    src = section(LESSON, "evaluate")
    if edit:
        edited = edit(src)
        assert edited != src, "the edit changed nothing"
        src = edited
    exec(compile(src, f"snippets/{LESSON}.py:evaluate", "exec"), ns)
    return ns


@contextlib.contextmanager
def one_thread():
    """torch on one thread, as the notebook page runs the lesson (hooks/notebooks.py): the same
    numbers as that page, and no threads spinning for a core on a busy machine (there 500 steps
    of these small matrices took 13 s of CPU on two threads, 1 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def run(ns: dict, name: str, edit=None) -> dict:
    """A section of the lesson in `ns`, on one thread, its prints swallowed; `edit(src)` may
    change it first."""
    src = section(LESSON, name)
    if edit:
        edited = edit(src)
        assert edited != src, "the edit changed nothing"
        src = edited
    with contextlib.redirect_stdout(io.StringIO()), one_thread():
        exec(compile(src, f"snippets/{LESSON}.py:{name}", "exec"), ns)
    return ns


@functools.cache
def trained() -> dict:
    return run(namespace(), "train")


def test_the_split_is_disjoint_and_covers_every_image():
    """The page: the split shares no image and together holds every image (how many go to each side:
    the page's numbers, checked by tests/test_claims.py)."""
    ns = setup_namespace(LESSON)
    train, val = ns["train_idx"].tolist(), ns["val_idx"].tolist()
    assert not set(train) & set(val)
    assert sorted(train + val) == list(range(len(ns["images"])))
    assert torch.equal(ns["x_train"], ns["images"][ns["train_idx"]])
    assert torch.equal(ns["y_val"], ns["labels"][ns["val_idx"]])
    # every digit is in both sets
    assert (torch.bincount(ns["y_train"], minlength=10) > 100).all()
    assert (torch.bincount(ns["y_val"], minlength=10) > 30).all()


def test_pixels_are_scaled_to_0_1():
    ns = setup_namespace(LESSON)
    assert ns["images"].shape == (len(ns["labels"]), ns["D_in"]) and ns["images"].dtype == torch.float32
    assert ns["images"].min() == 0 and ns["images"].max() == 1
    assert ns["labels"].dtype == torch.int64 and set(ns["labels"].tolist()) == set(range(ns["D_out"]))


def one_epoch(ns: dict):
    """The batches the loader yields in one epoch, and for each the indices of the training
    images the loader fetched from the dataset to make it."""
    fetched = []
    get = torch.utils.data.TensorDataset.__getitem__

    def recording(dataset, index):
        fetched.append(index)
        return get(dataset, index)

    batches, indices = [], []
    with mock.patch.object(torch.utils.data.TensorDataset, "__getitem__", recording):
        for batch in ns["loader"]:
            batches.append(batch)
            indices.append(fetched[:])
            fetched.clear()
    return indices, batches


def test_each_epoch_covers_the_training_set_once_in_full_batches():
    """The page: each epoch the DataLoader draws a new random order and cuts it into full
    batches of N = 64; together they hold every training image once (the number of images and of
    batches: the page's, checked by tests/test_claims.py)."""
    ns = setup_namespace(LESSON)
    orders = []
    for _ in range(2):
        indices, batches = one_epoch(ns)
        assert len(batches) == len(indices) == len(ns["loader"])
        assert [len(b) for b in indices] == [ns["N"]] * len(batches)
        flat = [i for b in indices for i in b]
        assert sorted(flat) == list(range(len(ns["train_idx"])))  # every image once, no overlap
        for idx, (x, y) in zip(indices, batches):
            assert x.shape == (ns["N"], ns["D_in"]) and y.shape == (ns["N"],)
            assert torch.equal(x, ns["x_train"][idx]) and torch.equal(y, ns["y_train"][idx])
        orders.append(flat)
    assert orders[0] != orders[1] and orders[0] != sorted(flat)  # shuffled, anew each epoch


def test_the_loss_is_the_mean_cross_entropy_and_its_gradient():
    """The page's equations: L = mean_i -log p_{i, y_i} with p = softmax(y_pred), which is the
    sum over the batch divided by N; dL/dy_pred = (p - onehot(y)) / N."""
    ns = namespace()
    x, y = next(iter(ns["loader"]))
    y_pred = ns["model"](x).detach().double().requires_grad_()
    loss = ns["loss_fn"](y_pred, y)
    p = y_pred.softmax(dim=1)
    by_hand = -torch.log(p[torch.arange(ns["N"]), y]).mean()
    assert torch.allclose(loss, by_hand, rtol=1e-12)
    total = torch.nn.CrossEntropyLoss(reduction="sum")(y_pred, y)
    assert torch.allclose(loss, total / ns["N"], rtol=1e-12)
    loss.backward()
    onehot = torch.nn.functional.one_hot(y, ns["D_out"])
    assert torch.allclose(y_pred.grad, (p - onehot).detach() / ns["N"], rtol=1e-10, atol=1e-15)


def test_the_mean_of_an_epochs_batch_gradients_is_the_full_gradient():
    """The page: with the mean loss and batches of one size, the 20 batch gradients of an epoch
    average to the gradient of the mean loss over the whole training set (at fixed weights)."""
    ns = namespace()
    model, loss_fn = ns["model"].double(), ns["loss_fn"]

    def gradient(x, y):
        model.zero_grad()
        loss_fn(model(x.double()), y).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    full = gradient(ns["x_train"], ns["y_train"])
    batches = [gradient(x, y) for x, y in ns["loader"]]
    mean = torch.stack(batches).mean(dim=0)
    assert torch.allclose(mean, full, rtol=1e-10, atol=1e-14)
    assert not torch.allclose(batches[0], full, rtol=0.05)  # one batch alone is only an estimate


def test_the_optimizer_is_adam_at_ten_times_its_default_rate():
    ns = namespace()
    optimizer = ns["optimizer"]
    assert type(optimizer) is torch.optim.Adam
    default = torch.optim.Adam([torch.zeros(1, requires_grad=True)]).defaults
    assert optimizer.defaults["lr"] == ns["lr"] == 10 * default["lr"]
    assert optimizer.defaults["betas"] == default["betas"] == (0.9, 0.999)
    assert [p is q for p, q in zip(optimizer.param_groups[0]["params"], ns["model"].parameters())] == [
        True
    ] * 4


def test_adam_takes_nearly_the_same_step_for_the_sum():
    """The page: multiplying the loss by N (reduction="sum") hardly changes Adam's steps, since
    it divides each gradient by its own running size: three steps differ little (by how much,
    the page states and tests/test_claims.py checks), most elements by far less (only where a
    gradient is not far above eps does eps make a difference)."""
    steps = {}
    for reduction in ("mean", "sum"):
        ns = namespace()
        ns["loss_fn"] = torch.nn.CrossEntropyLoss(reduction=reduction)
        x, y = ns["x_train"][: ns["N"]], ns["y_train"][: ns["N"]]
        before = [p.detach().clone() for p in ns["model"].parameters()]
        for _ in range(3):
            ns["optimizer"].zero_grad()
            ns["loss_fn"](ns["model"](x), y).backward()
            ns["optimizer"].step()
        steps[reduction] = torch.cat(
            [(p.detach() - b).flatten() for p, b in zip(ns["model"].parameters(), before)]
        )
    diff = (steps["sum"] - steps["mean"]).abs()
    moved = steps["mean"] != 0
    assert (diff[moved] / steps["mean"][moved].abs()).median() < 1e-4
    assert steps["mean"].abs().max() > 1e-3  # the steps are not trivially small


def forward_calls(model) -> list[tuple[bool, bool]]:
    """For each forward pass of `model` from now on: (model.training, output.requires_grad)."""
    calls = []
    model.register_forward_hook(lambda m, args, out: calls.append((m.training, out.requires_grad)))
    return calls


def test_evaluate_is_in_eval_mode_and_records_no_graph():
    ns = namespace()
    calls = forward_calls(ns["model"])
    loss, accuracy = ns["evaluate"](ns["model"], ns["x_val"], ns["y_val"])
    assert isinstance(loss, float) and 0 <= accuracy <= 1
    assert calls == [(False, False)]
    assert not ns["model"].training  # evaluate() leaves the model in evaluation mode


@pytest.mark.parametrize(
    "old, new",
    [("with torch.no_grad():", "with torch.enable_grad():"), ("model.eval()", "model.train()")],
)
def test_the_evaluation_checks_can_fail(old, new):
    ns = namespace(edit=lambda src: src.replace(old, new))
    calls = forward_calls(ns["model"])
    ns["evaluate"](ns["model"], ns["x_val"], ns["y_val"])
    assert calls != [(False, False)]


def test_eval_changes_nothing_for_this_model_but_would_for_dropout():
    """The page: our network has no Dropout or BatchNorm, so eval() doesn't change its outputs;
    it does change a Dropout layer's."""
    ns = namespace()
    model, x = ns["model"], ns["x_val"]
    with torch.no_grad():
        model.train()
        a = model(x)
        model.eval()
        b = model(x)
    assert torch.equal(a, b)
    assert not any(isinstance(m, torch.nn.Dropout | torch.nn.BatchNorm1d) for m in model.modules())
    drop = torch.nn.Dropout(p=0.5)
    ones = torch.ones(1000)
    assert not torch.equal(drop(ones), ones)
    drop.eval()
    assert torch.equal(drop(ones), ones)


def test_training_runs_in_training_mode_with_a_graph():
    """Every training step's forward pass is in training mode (the loop calls model.train()
    after evaluate() switched it off) and records the graph backward() needs."""
    ns = namespace()
    calls = forward_calls(ns["model"])
    run(ns, "train")
    steps = [c for c in calls if c[1]]
    assert len(steps) == 500 and all(training for training, _ in steps)
    assert len(calls) == 500 + ns["epochs"]  # and one evaluation per epoch
    ns = namespace()
    calls = forward_calls(ns["model"])
    run(ns, "train", edit=lambda src: src.replace("model.train()", "pass"))
    assert not all(training for training, grad in calls if grad)  # without it: eval mode from epoch 2


def test_500_steps_in_25_epochs():
    ns = trained()
    assert ns["epochs"] * len(ns["loader"]) == len(ns["losses"]) == 500
    assert len(ns["val_losses"]) == ns["epochs"] == 25


def test_the_loaded_model_gives_identical_validation_outputs():
    """The page: a new network, with other weights, gives the trained one's validation outputs
    bit for bit once the saved state_dict is loaded into it."""
    ns = trained()
    run(ns, "save")
    assert ns["same"] is True
    loaded, model = ns["loaded"], ns["model"]
    assert loaded is not model
    assert all(p is not q for p, q in zip(loaded.parameters(), model.parameters()))
    with torch.no_grad():
        assert torch.equal(loaded(ns["x_val"]), model(ns["x_val"]))
    assert not ns["path"].exists()  # the temporary folder is gone
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_without_loading_the_new_model_differs():
    ns = trained()
    with pytest.raises(AssertionError, match="the loaded model gives other outputs"):
        run(ns, "save", edit=lambda src: src.replace("loaded.load_state_dict(", "(lambda s: None)("))
    assert ns["same"] is False


EXERCISES = "exercises/real_data"


@pytest.mark.parametrize("ex, trained_model", [("ex1", "mse_model"), ("ex2", "sorted_model")])
def test_the_exercises_start_from_the_lessons_initial_weights(ex, trained_model):
    """The answers: the network starts from the lesson's initial weights (run with no epochs)."""
    ns = setup_namespace(EXERCISES)
    run_section(EXERCISES, "model", ns)
    src = section(EXERCISES, ex)
    assert src.count("for _ in range(25):") == 1
    with contextlib.redirect_stdout(io.StringIO()):
        exec(src.replace("for _ in range(25):", "for _ in range(0):"), ns)
    start = namespace()["model"]
    assert all(torch.equal(a, b) for a, b in zip(ns[trained_model].parameters(), start.parameters()))
