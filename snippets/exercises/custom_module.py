# %% [markdown]
# Exercises for docs/custom_module.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/custom_module.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
# --8<-- [start:data]
import torch

torch.manual_seed(0)  # same numbers on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

# Data (float32, PyTorch's default)
x = torch.randn(N, D_in, device=device)  # (N, D_in)
y = torch.randn(N, D_out, device=device)  # (N, D_out)
# --8<-- [end:data]


# --8<-- [start:module]
class TwoLayerNet(torch.nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        # Modules set as attributes are registered, with their parameters:
        # linear1.weight (H, D_in), linear1.bias (H,)
        # linear2.weight (D_out, H), linear2.bias (D_out,)
        self.linear1 = torch.nn.Linear(D_in, H)
        self.linear2 = torch.nn.Linear(H, D_out)

    def forward(self, x):
        h = self.linear1(x)  # (N, H)
        h_relu = h.clamp(min=0)  # (N, H)
        y_pred = self.linear2(h_relu)  # (N, D_out)
        return y_pred
        # --8<-- [end:module]


# --8<-- [start:model]
model = TwoLayerNet(D_in, H, D_out).to(device)  # create, then move
loss_fn = torch.nn.MSELoss(reduction="sum")  # sum of squared errors

lr = 1e-4
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
# --8<-- [end:model]
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: count the parameters that `model.parameters()` hands to the optimizer.

# %%
# --8<-- [start:ex1]
for param_name, p in model.named_parameters():
    print(f"{param_name:15} {tuple(p.shape)}")
count = sum(p.numel() for p in model.parameters())
print("parameters:", count, "=", D_in * H + H + H * D_out + D_out)
# --8<-- [end:ex1]

# %% [markdown]
# Exercise 2: the same network with `nn.Parameter`s of the lessons' shapes, w1 (D_in, H)
# and w2 (H, D_out), instead of `nn.Linear`.


# %%
# --8<-- [start:ex2]
class TwoLayerNetByHand(torch.nn.Module):
    def __init__(self, linear1, linear2):
        super().__init__()
        # nn.Linear stores w^T: copy the weights out, transposed
        self.w1 = torch.nn.Parameter(linear1.weight.detach().T.clone())  # (D_in, H)
        self.b1 = torch.nn.Parameter(linear1.bias.detach().clone())  # (H,)
        self.w2 = torch.nn.Parameter(linear2.weight.detach().T.clone())  # (H, D_out)
        self.b2 = torch.nn.Parameter(linear2.bias.detach().clone())  # (D_out,)

    def forward(self, x):
        h_relu = (x.mm(self.w1) + self.b1).clamp(min=0)  # (N, H)
        return h_relu.mm(self.w2) + self.b2  # (N, D_out)


by_hand = TwoLayerNetByHand(model.linear1, model.linear2)
print("registered:", [param_name for param_name, _ in by_hand.named_parameters()])
with torch.no_grad():
    gap = (by_hand(x) - model(x)).abs().max().item()
print(f"largest difference from model(x): {gap:.1e}")
# --8<-- [end:ex2]
