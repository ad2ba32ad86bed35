# %% [markdown] lang="zh"
# 自动求导：PyTorch 记下前向传播的每一步，`loss.backward()` 据此算出
# $\frac{\partial L}{\partial w_1}$ 和 $\frac{\partial L}{\partial w_2}$，存进 `w1.grad` 和 `w2.grad`。

# %% [markdown] lang="en"
# Autograd: PyTorch records the forward pass, and `loss.backward()` computes
# $\frac{\partial L}{\partial w_1}$ and $\frac{\partial L}{\partial w_2}$ into `w1.grad` and `w2.grad`.

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

# %% [markdown] lang="zh"
# 训练 500 步：`loss.backward()` 算出梯度，更新在 `torch.no_grad()` 下进行，然后把梯度清零。

# %% [markdown] lang="en"
# Train for 500 steps: `loss.backward()` fills the gradients, the update runs under `torch.no_grad()`, then the gradients are zeroed.

# %%
# --8<-- [start:train]
losses = []
for t in range(500):
    # --8<-- [start:forward]
    h = x.mm(w1)  # (N, H)
    h_relu = h.clamp(min=0)  # (N, H)
    y_pred = h_relu.mm(w2)  # (N, D_out)
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = (y_pred - y).pow(2).sum()  # a tensor of shape ()
    losses.append(loss.item())
    if t % 100 == 0 or t == 499:
        print(t, loss.item())
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    loss.backward()  # fills w1.grad and w2.grad
    # --8<-- [end:backward]

    # --8<-- [start:update]
    with torch.no_grad():  # the update is not part of the graph
        w1 -= lr * w1.grad
        w2 -= lr * w2.grad
        # backward() adds to .grad: reset before the next step
        w1.grad.zero_()
        w2.grad.zero_()
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
