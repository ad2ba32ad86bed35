# %% [markdown]
# `torch.optim`: an optimizer holds the model's parameters and updates them in `optimizer.step()`.
# This script trains with Adam, from the moving averages $m_t$ of the gradient and $v_t$ of its square:
#
# $$w_t = w_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}, \qquad \hat{m}_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat{v}_t = \frac{v_t}{1 - \beta_2^t}$$

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
# Plain gradient descent as an optimizer: `step()` does $w \leftarrow w - \eta \frac{\partial L}{\partial w}$ for every parameter.

# %%
# --8<-- [start:sgd]
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
# --8<-- [end:sgd]

# %% [markdown]
# This script trains with Adam instead: the next cell replaces the SGD optimizer (nothing has been trained yet).

# %%
# --8<-- [start:adam]
# default betas=(0.9, 0.999), eps=1e-8
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
# --8<-- [end:adam]

# %% [markdown]
# Train for 500 steps: zero the gradients, backpropagate, let the optimizer update the parameters.

# %%
# --8<-- [start:train]
losses = []
for t in range(500):
    # --8<-- [start:forward]
    y_pred = model(x)  # (N, D_out)
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = loss_fn(y_pred, y)  # a tensor of shape ()
    losses.append(loss.item())
    if t % 100 == 0 or t == 499:
        print(t, loss.item())
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    optimizer.zero_grad()  # .grad of every parameter back to None
    loss.backward()  # fills .grad of every parameter
    # --8<-- [end:backward]

    # --8<-- [start:update]
    optimizer.step()  # updates every parameter from its .grad
    # --8<-- [end:update]
# --8<-- [end:train]

# %% [markdown]
# The loss at every step of this run, on a log scale.

# %% active="ipynb"
# import matplotlib.pyplot as plt
# plt.figure(figsize=(6, 3.5))
# plt.semilogy(losses)
# plt.xlabel("step t")
# plt.ylabel("loss L")
# plt.show()
