# %% [markdown]
# Exercises for docs/optim.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/optim.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

# %%
# --8<-- [start:setup]
import torch

torch.manual_seed(0)  # same numbers on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

# Data (float32, PyTorch's default)
x = torch.randn(N, D_in, device=device)  # (N, D_in)
y = torch.randn(N, D_out, device=device)  # (N, D_out)

# The same model and loss as in the nn lesson
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H),  # h = x w1 + b1
    torch.nn.ReLU(),  # h_relu = max(h, 0)
    torch.nn.Linear(H, D_out),  # y_pred = h_relu w2 + b2
).to(device)
loss_fn = torch.nn.MSELoss(reduction="sum")

lr = 1e-4
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: SGD with momentum written by hand, against torch.optim.SGD.

# %%
# --8<-- [start:ex1]
mu = 0.9  # momentum


def copy_of_model():
    """A new model of the same layers holding model's weights, in float64."""
    new = torch.nn.Sequential(torch.nn.Linear(D_in, H), torch.nn.ReLU(), torch.nn.Linear(H, D_out))
    new.load_state_dict(model.state_dict())
    return new.to(device, torch.float64)


# Two copies of the same model, one for each way of updating
by_hand, by_sgd = copy_of_model(), copy_of_model()
x64, y64 = x.double(), y.double()
sgd = torch.optim.SGD(by_sgd.parameters(), lr=lr, momentum=mu)
velocity = [torch.zeros_like(p) for p in by_hand.parameters()]

for _ in range(20):
    # by hand: v <- mu v + grad, w <- w - lr v
    by_hand.zero_grad()
    loss_fn(by_hand(x64), y64).backward()
    with torch.no_grad():
        for p, v in zip(by_hand.parameters(), velocity):
            v.mul_(mu).add_(p.grad)
            p -= lr * v
    # by the optimizer
    sgd.zero_grad()
    loss_fn(by_sgd(x64), y64).backward()
    sgd.step()

gap = max((a - b).abs().max().item() for a, b in zip(by_hand.parameters(), by_sgd.parameters()))
print(f"largest difference after 20 steps: {gap:.1e}")
# --8<-- [end:ex1]
