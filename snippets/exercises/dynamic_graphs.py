# %% [markdown]
# Exercises for docs/dynamic_graphs.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/dynamic_graphs.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
# --8<-- [start:data]
import random

import torch

random.seed(0)  # the depth drawn in each forward pass
torch.manual_seed(0)  # same numbers on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

# Data (float32, PyTorch's default)
x = torch.randn(N, D_in, device=device)  # (N, D_in)
y = torch.randn(N, D_out, device=device)  # (N, D_out)
# --8<-- [end:data]


# --8<-- [start:module]
class DynamicNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        # Weights are stored as (out_features, in_features):
        # input_linear.weight (H, D_in), middle_linear.weight (H, H),
        # output_linear.weight (D_out, H)
        self.input_linear = torch.nn.Linear(D_in, H)
        self.middle_linear = torch.nn.Linear(H, H)  # created once
        self.output_linear = torch.nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.input_linear(x).clamp(min=0)  # (N, H)
        for _ in range(random.randint(0, 3)):  # drawn on every call
            h_relu = self.middle_linear(h_relu).clamp(min=0)  # (N, H)
        y_pred = self.output_linear(h_relu)  # (N, D_out)
        return y_pred


# --8<-- [end:module]


# --8<-- [start:model]
model = DynamicNet(D_in, H, D_out).to(device)
loss_fn = torch.nn.MSELoss(reduction="sum")  # sum of squared errors

lr = 1e-4
optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
# --8<-- [end:model]
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: depth 2, the shared middle weight against two separate copies of it.

# %%
# --8<-- [start:ex1]
W, b = model.middle_linear.weight, model.middle_linear.bias  # (H, H), (H,)


def forward_depth_2(W_first, W_second):
    """The model's forward pass with the middle layer run twice, once with each weight."""
    h_relu = model.input_linear(x).clamp(min=0)  # (N, H)
    h_relu = torch.nn.functional.linear(h_relu, W_first, b).clamp(min=0)
    h_relu = torch.nn.functional.linear(h_relu, W_second, b).clamp(min=0)
    return model.output_linear(h_relu)  # (N, D_out)


# Shared: the same W at both places
model.zero_grad()
loss_fn(forward_depth_2(W, W), y).backward()
shared = W.grad.clone()

# Two copies: one gradient for each use
copies = [W.detach().clone().requires_grad_() for _ in range(2)]
loss_fn(forward_depth_2(*copies), y).backward()
first, second = copies[0].grad, copies[1].grad
model.zero_grad()

scale = shared.abs().max().item()
print(f"the two uses differ: {(first - second).abs().max().item() / scale:.2f}")
print(f"shared vs their sum: {(shared - (first + second)).abs().max().item() / scale:.1e}")
# --8<-- [end:ex1]
