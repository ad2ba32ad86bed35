# %% [markdown] lang="zh"
# `torch.nn`：用层搭出同一个网络。每个 `nn.Linear` 存放一个权重和一个偏置，
# `loss.backward()` 算出全部四个参数的梯度。
#
# $$h = x w_1 + b_1, \qquad \hat{y} = \max(h, 0)\, w_2 + b_2, \qquad \frac{\partial L}{\partial b_2} = \sum_i \frac{\partial L}{\partial \hat{y}_{i\cdot}}$$

# %% [markdown] lang="en"
# `torch.nn`: the same network built from layers. Each `nn.Linear` holds a weight and a bias,
# and `loss.backward()` fills the gradients of all four parameters.
#
# $$h = x w_1 + b_1, \qquad \hat{y} = \max(h, 0)\, w_2 + b_2, \qquad \frac{\partial L}{\partial b_2} = \sum_i \frac{\partial L}{\partial \hat{y}_{i\cdot}}$$

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

# %% [markdown] lang="zh"
# 训练 500 步：模型计算前向传播，`loss_fn` 计算损失；`loss.backward()` 之后，每个参数按 $w \leftarrow w - \eta \frac{\partial L}{\partial w}$ 更新。

# %% [markdown] lang="en"
# Train for 500 steps: the model computes the forward pass, `loss_fn` the loss; after `loss.backward()` every parameter is updated by $w \leftarrow w - \eta \frac{\partial L}{\partial w}$.

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
    model.zero_grad()  # clear the gradients of the previous step
    loss.backward()  # fills .grad of every parameter
    # --8<-- [end:backward]

    # --8<-- [start:update]
    with torch.no_grad():  # the update is not part of the graph
        for param in model.parameters():  # weight and bias of both layers
            param -= lr * param.grad
    # --8<-- [end:update]
# --8<-- [end:train]

# %% [markdown] lang="zh"
# 这次运行中每一步 $t$ 的损失 $L$，纵轴为对数刻度。

# %% [markdown] lang="en"
# The loss $L$ at every step $t$ of this run, on a log scale.

# %% active="ipynb"
# import matplotlib.pyplot as plt
# plt.figure(figsize=(6, 3.5))
# plt.semilogy(losses)
# plt.xlabel("$t$")
# plt.ylabel("$L$")
# plt.show()
