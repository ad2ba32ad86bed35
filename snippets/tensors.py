# %% [markdown] lang="zh"
# 张量：同一个网络、同样手写的反向传播，改用 PyTorch 实现。
#
# $$\frac{\partial L}{\partial w_2} = h_{\text{relu}}^\top \frac{\partial L}{\partial \hat{y}}, \qquad \frac{\partial L}{\partial w_1} = x^\top \frac{\partial L}{\partial h}$$

# %% [markdown] lang="en"
# Tensors: the same network and the same hand-written backpropagation, in PyTorch.
#
# $$\frac{\partial L}{\partial w_2} = h_{\text{relu}}^\top \frac{\partial L}{\partial \hat{y}}, \qquad \frac{\partial L}{\partial w_1} = x^\top \frac{\partial L}{\partial h}$$

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

# %% [markdown] lang="zh"
# 在上面选定的设备上训练 500 步：前向传播、损失、反向传播、更新 $w \leftarrow w - \eta \frac{\partial L}{\partial w}$。

# %% [markdown] lang="en"
# Train for 500 steps, on the device chosen above: forward pass, loss, backward pass, update $w \leftarrow w - \eta \frac{\partial L}{\partial w}$.

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
    loss = (y_pred - y).pow(2).sum().item()  # a Python float
    losses.append(loss)
    if t % 100 == 0 or t == 499:
        print(t, loss)
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    grad_y_pred = 2.0 * (y_pred - y)  # (N, D_out)
    grad_w2 = h_relu.T.mm(grad_y_pred)  # (H, D_out)
    grad_h_relu = grad_y_pred.mm(w2.T)  # (N, H)
    grad_h = grad_h_relu.clone()  # (N, H)
    grad_h[h < 0] = 0
    grad_w1 = x.T.mm(grad_h)  # (D_in, H)
    # --8<-- [end:backward]

    # --8<-- [start:update]
    w1 -= lr * grad_w1
    w2 -= lr * grad_w2
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
