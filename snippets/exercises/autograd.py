# %% [markdown]
# Exercises for docs/autograd.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/autograd.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
import torch

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
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: two backward passes without zeroing the gradients in between.

# %%
# --8<-- [start:ex1]
grads = []
for _ in range(2):
    loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
    loss.backward()  # adds this pass's gradient to w1.grad
    grads.append(w1.grad.clone())
print("after two passes, w1.grad == 2 * (after one):", torch.equal(grads[1], 2 * grads[0]))
w1.grad = None  # back to the state of a fresh setup
w2.grad = None
# --8<-- [end:ex1]
