# %% [markdown] lang="zh"
# 动态计算图：`forward` 就是普通的 Python 代码，所以每次前向传播把同一个中间层随机运行
# 若干次（0 到 3 次），autograd 记下实际运行了什么。一个权重在一次前向传播中用了 $k$ 次，
# 它的梯度就是这 $k$ 次使用各自的梯度之和：
#
# $$\frac{\partial L}{\partial W_m} = \sum_{j=1}^{k} \frac{\partial L}{\partial W_m^{(j)}}$$

# %% [markdown] lang="en"
# Dynamic graphs: `forward` is ordinary Python, so each pass runs the one middle layer a
# random number of times (0 to 3), and autograd records whatever ran. A weight used at $k$
# places in one pass gets the sum of the gradients of its $k$ uses:
#
# $$\frac{\partial L}{\partial W_m} = \sum_{j=1}^{k} \frac{\partial L}{\partial W_m^{(j)}}$$

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

# %% [markdown] lang="zh"
# 训练 500 步。每次调用 `model(x)` 都重新抽一个深度，建一张新的计算图；
# `loss.backward()` 只沿这一次调用的图往回算。

# %% [markdown] lang="en"
# Train for 500 steps. Each call `model(x)` draws a depth and builds a new graph;
# `loss.backward()` goes back through the graph of that call only.

# %%
# --8<-- [start:train]
losses = []
for t in range(500):
    # --8<-- [start:forward]
    y_pred = model(x)  # (N, D_out), a depth of 0 to 3 middle layers
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = loss_fn(y_pred, y)  # a tensor of shape ()
    losses.append(loss.item())
    if t % 100 == 0 or t == 499:
        print(t, loss.item())
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    optimizer.zero_grad()  # backward() adds to .grad: reset first
    loss.backward()  # shared layer: .grad sums its uses
    # --8<-- [end:backward]

    # --8<-- [start:update]
    optimizer.step()  # SGD with momentum 0.9
    # --8<-- [end:update]
# --8<-- [end:train]

# %% [markdown] lang="zh"
# 这次运行中每一步 $t$ 的损失 $L$，纵轴为对数刻度：每一步各抽各的深度，所以曲线一步一跳。

# %% [markdown] lang="en"
# The loss $L$ at every step $t$ of this run, on a log scale: it jumps from step to step, since
# each step draws its own depth.

# %% active="ipynb"
# import matplotlib.pyplot as plt
# plt.figure(figsize=(6, 3.5))
# plt.semilogy(losses)
# plt.xlabel("$t$")
# plt.ylabel("$L$")
# plt.show()
