# %% [markdown]
# Exercises for docs/nn.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/nn.py`. Each answer starts from the lesson's setup,
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

# Layers applied in order; each Linear owns a weight and a bias
model = torch.nn.Sequential(
    torch.nn.Linear(D_in, H),  # h = x w1 + b1
    torch.nn.ReLU(),  # h_relu = max(h, 0)
    torch.nn.Linear(H, D_out),  # y_pred = h_relu w2 + b2
).to(device)

# L = sum of the squared errors
loss_fn = torch.nn.MSELoss(reduction="sum")

lr = 1e-4
# --8<-- [end:setup]

# %% [markdown]
# Exercise 1: the largest stable step at nn's initialisation, 2 / lambda_max, and two
# learning rates on either side of it.

# %%
# --8<-- [start:ex1]
# With the first layer fixed, L is quadratic in the second layer's weight and bias.
# Its curvature: 2 [h_relu, 1]^T [h_relu, 1], (H + 1) x (H + 1), in float64
with torch.no_grad():
    h_relu = model[1](model[0](x)).double()  # (N, H)
ones = torch.ones(N, 1, dtype=torch.float64, device=device)
A = torch.cat([h_relu, ones], dim=1)  # (N, H + 1)
lam = torch.linalg.eigvalsh(2 * A.T @ A).max().item()
print(f"h: std {model[0](x).std().item():.2f}; 2 / lambda_max = {2 / lam:.3e}")

# Train 100 steps at each rate, each time from the initial weights
initial = {k: v.clone() for k, v in model.state_dict().items()}
final = {}
for rate in (1e-3, 3e-3):
    model.load_state_dict(initial)
    for _ in range(100):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= rate * param.grad
    final[rate] = loss.item()
    print(f"lr {rate:.0e}: loss at step 99 = {final[rate]:.2e}")
model.load_state_dict(initial)  # back to the initial weights
model.zero_grad()
# --8<-- [end:ex1]
