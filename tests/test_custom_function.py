"""Claims made on the Custom autograd Function page (docs/custom_function.md) about its own snippet."""

import inspect
import sys

import pytest
import torch

import lessons

MASK = "grad_input[input < 0] = 0"
# The exception gradcheck raises (torch.autograd.gradcheck names the function, not its module)
GradcheckError = sys.modules["torch.autograd.gradcheck"].GradcheckError


def my_relu(replace=None):
    """MyReLU from the page's `function` section, optionally with its mask line replaced."""
    assert lessons.section("custom_function", "function").count(MASK) == 1
    ns = {"torch": torch}
    lessons.run("custom_function", "function", ns=ns, edits=[(MASK, replace)] if replace is not None else ())
    return ns["MyReLU"]


def inputs(dtype):
    """Seeded inputs, none within 100 eps (1e-4) of the kink at 0: random ones and a slice
    of the lesson's h."""
    z = torch.randn(6, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ns = lessons.setup("custom_function")
    h = ns["x"][:4].mm(ns["w1"]).detach().to(torch.float64)
    for value in (z, h):
        assert value.abs().min() > 1e-4
        yield value.to(dtype).requires_grad_()


def gradcheck(fn, value):
    return torch.autograd.gradcheck(fn.apply, (value,), raise_exception=False)


def test_gradcheck_passes_in_float64():
    """The page: gradcheck(MyReLU.apply, ...) returns True on float64 inputs away from 0."""
    ns = lessons.setup("custom_function")
    for value in inputs(torch.float64):
        assert gradcheck(ns["MyReLU"], value)


@pytest.mark.parametrize(
    "replace",
    [
        "pass",  # no mask: the gradient passes everywhere
        "grad_input[input > 0] = 0",  # the mask the wrong way round
        "grad_input[input < 0] = 1",  # a wrong value
        MASK + "\n        grad_input *= 2",  # twice the gradient
    ],
)
def test_gradcheck_catches_a_broken_backward(replace):
    """The page: a wrong backward makes gradcheck fail."""
    broken = my_relu(replace)
    for value in inputs(torch.float64):
        assert not gradcheck(broken, value)


def test_gradcheck_cannot_see_the_choice_at_zero():
    """The page: `input <= 0` passes gradcheck too, since its inputs stay away from 0."""
    other = my_relu("grad_input[input <= 0] = 0")
    for value in inputs(torch.float64):
        assert gradcheck(other, value)


def test_gradcheck_fails_in_float32():
    """The page: the same check in float32 fails (the finite differences are off by percents)."""
    ns = lessons.setup("custom_function")
    with pytest.warns(UserWarning, match="not a double precision"):
        for value in inputs(torch.float32):
            assert not gradcheck(ns["MyReLU"], value)


def test_float32_gradcheck_raises_with_both_jacobians_by_default():
    """The page: without raise_exception=False, gradcheck raises an exception listing the two Jacobians."""
    ns = lessons.setup("custom_function")
    value = next(inputs(torch.float32))
    with pytest.warns(UserWarning), pytest.raises(GradcheckError) as info:
        torch.autograd.gradcheck(ns["MyReLU"].apply, (value,))
    assert "numerical:" in str(info.value) and "analytical:" in str(info.value)


def test_float32_spacing_explains_the_slopes():
    """The page: at the two z it names, z + 1e-6 and z - 1e-6 end up a multiple of float32's spacing
    apart, not 2e-6, and that gap over 2e-6 is the slope it states; float64's spacing is far smaller
    (the z, the spacings, the multiples and their ratio are read from the page and checked by
    tests/test_claims.py)."""
    stated = lessons.page_claims("custom_function")
    for which in ("large", "small"):
        claim = f"slope-{which}-z"
        v = torch.tensor(lessons.stated(stated[f"{which}-z"]), dtype=torch.float32)
        spacing = (torch.nextafter(v, torch.tensor(3.0)) - v).item()
        gap = ((v + 1e-6) - (v - 1e-6)).item()
        assert gap % spacing == 0 and gap != 2e-6
        assert lessons.as_stated(gap / 2e-6, stated[claim]), f"custom_function.en.md: {claim}"
        v64 = v.double()
        assert (torch.nextafter(v64, torch.tensor(3.0, dtype=torch.float64)) - v64).item() < 1e-6 * spacing


def test_gradcheck_defaults():
    """The page: gradcheck steps by eps = 1e-6 and allows atol = 1e-5, rtol = 1e-3."""
    params = inspect.signature(torch.autograd.gradcheck).parameters
    assert (params["eps"].default, params["atol"].default, params["rtol"].default) == (1e-6, 1e-5, 1e-3)


def test_instantiating_warns_and_calling_an_instance_raises():
    """The page: MyReLU() warns (DeprecationWarning); calling the instance raises RuntimeError."""
    ns = lessons.setup("custom_function")
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        instance = ns["MyReLU"]()
    with pytest.raises(RuntimeError, match="Legacy autograd function with non-static forward method"):
        instance(ns["x"])


def test_same_losses_as_the_autograd_lesson_digit_for_digit():
    """The page: on the CPU, all 500 losses equal the autograd lesson's, digit for digit."""
    ours, theirs = lessons.train("custom_function").losses, lessons.train("autograd").losses
    assert len(ours) == 500 and ours == theirs


def test_the_loop_uses_my_relu():
    """The page: the ReLU in the loop is MyReLU's, so breaking its backward changes training
    (from the first update on: the loss at step 1)."""
    ns = lessons.setup("custom_function")
    ns["MyReLU"] = my_relu("pass")
    lessons.run("custom_function", "train", ns=ns, steps=2)
    assert ns["losses"][1] != lessons.train("custom_function").losses[1]


def test_ctx_is_the_node_and_forward_runs_unrecorded():
    """The page: the ctx of a call is the output's grad_fn, and apply runs forward with recording off."""
    seen = {}
    MyReLU = lessons.setup("custom_function")["MyReLU"]

    class Spy(MyReLU):
        @staticmethod
        def forward(ctx, input):
            seen["ctx"], seen["grad_enabled"] = ctx, torch.is_grad_enabled()
            return MyReLU.forward(ctx, input)

    out = Spy.apply(torch.randn(3, 4, requires_grad=True))
    assert seen["ctx"] is out.grad_fn and seen["grad_enabled"] is False


def test_values_that_are_not_tensors_can_be_ctx_attributes():
    """The page: a non-tensor value can be stored as a plain attribute of ctx, e.g. ctx.n = 3."""

    class Scale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.n = 3
            return input * ctx.n

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.n

    a = torch.ones(2, requires_grad=True)
    Scale.apply(a).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_an_attribute_instead_of_save_for_backward_misses_the_in_place_change():
    """The page: saved with save_for_backward, an input changed in place makes backward raise;
    kept as ctx.input, backward runs and masks with the changed values."""
    src = lessons.section("custom_function", "function")
    assert "ctx.save_for_backward(input)" in src and "(input,) = ctx.saved_tensors" in src
    plain = src.replace("ctx.save_for_backward(input)", "ctx.input = input").replace(
        "(input,) = ctx.saved_tensors", "input = ctx.input"
    )
    results = {}
    for name, code in (("saved", src), ("attribute", plain)):
        ns = {"torch": torch}
        exec(compile(code, f"snippets/custom_function.py:function ({name})", "exec"), ns)
        a = torch.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        b = a * 1  # not a leaf, so it may be changed in place
        c = ns["MyReLU"].apply(b)
        with torch.no_grad():
            b -= 1  # now [-2, -0.5, 1]: the middle entry turns negative
        try:
            c.sum().backward()
            results[name] = a.grad.tolist()
        except RuntimeError as e:
            results[name] = str(e)
    assert results["saved"].startswith(
        "one of the variables needed for gradient computation has been modified"
    )
    assert "is at version 1; expected version 0 instead" in results["saved"]  # the version it recorded
    assert results["attribute"] == [0.0, 0.0, 1.0]  # the right gradient is [0, 1, 1]


def test_the_data_section_is_the_autograd_setup():
    """The page: the setup code is word for word the Autograd lesson's."""
    assert "import torch\n\n" + lessons.section("custom_function", "data") == lessons.section(
        "autograd", "setup"
    )
