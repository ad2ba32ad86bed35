# %% [markdown]
# Exercises for docs/custom_function.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/custom_function.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
import torch


# --8<-- [start:function]
class MyReLU(torch.autograd.Function):
    """ReLU with its own forward and backward pass."""

    @staticmethod
    def forward(ctx, input):
        # keep the input: backward needs to know where it was negative
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0  # slope 1 at 0, as clamp(min=0)
        return grad_input
        # --8<-- [end:function]


# %% [markdown]
# The data and the weights, exactly as in the autograd lesson.

# %%
# --8<-- [start:data]
torch.manual_seed(0)  # same numbers on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
dtype = torch.float
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

# Data: no gradients needed
x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(N, D_out, device=device, dtype=dtype)

# Weights: requires_grad=True asks autograd to track them
w1 = torch.randn(D_in, H, device=device, dtype=dtype, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, dtype=dtype, requires_grad=True)

lr = 1e-6
# --8<-- [end:data]
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: a sigmoid Function, checked by gradcheck.


# %%
# --8<-- [start:ex1]
class MySigmoid(torch.autograd.Function):
    """sigmoid(x) = 1 / (1 + exp(-x)); its derivative is s (1 - s)."""

    @staticmethod
    def forward(ctx, input):
        s = 1 / (1 + torch.exp(-input))
        ctx.save_for_backward(s)  # backward needs only the output
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)


inputs = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
passed = torch.autograd.gradcheck(MySigmoid.apply, (inputs,))
print("gradcheck:", passed)
same = torch.allclose(MySigmoid.apply(inputs), torch.sigmoid(inputs))
print("same values as torch.sigmoid:", same)
# --8<-- [end:ex1]
