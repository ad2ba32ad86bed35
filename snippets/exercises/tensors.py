# %% [markdown]
# Exercises for docs/tensors.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/tensors.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
import torch

torch.manual_seed(0)  # same numbers on every run

# CUDA when a GPU is available, else the CPU
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
dtype = torch.float  # float32, PyTorch's default
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

x = torch.randn(N, D_in, device=device, dtype=dtype)
y = torch.randn(N, D_out, device=device, dtype=dtype)

w1 = torch.randn(D_in, H, device=device, dtype=dtype)
w2 = torch.randn(H, D_out, device=device, dtype=dtype)

lr = 1e-6
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: the ReLU mask as a multiplication by a 0/1 tensor.

# %%
# --8<-- [start:ex1]
h = x.mm(w1)  # (N, H)
h_relu = h.clamp(min=0)
grad_y_pred = 2.0 * (h_relu.mm(w2) - y)
grad_h_relu = grad_y_pred.mm(w2.T)  # (N, H)

# The lesson's way: copy, then zero where h < 0
grad_h = grad_h_relu.clone()
grad_h[h < 0] = 0

# The mask as a tensor: True/False, multiplied in as 1/0
mask = h >= 0
grad_h_mul = grad_h_relu * mask
print("mask:", mask.dtype, tuple(mask.shape), "product:", grad_h_mul.dtype)
print("the same, bit for bit:", torch.equal(grad_h_mul, grad_h))
# --8<-- [end:ex1]
