# %% [markdown] lang="zh"
# 热身：用 NumPy 写一个两层 ReLU 网络，反向传播全部手写。
#
# $$h = x w_1, \qquad h_{\text{relu}} = \max(h, 0), \qquad \hat{y} = h_{\text{relu}} w_2, \qquad L = \sum_{i,j} (\hat{y}_{ij} - y_{ij})^2$$

# %% [markdown] lang="en"
# Warm-up: a two-layer ReLU network in NumPy, with hand-written backpropagation.
#
# $$h = x w_1, \qquad h_{\text{relu}} = \max(h, 0), \qquad \hat{y} = h_{\text{relu}} w_2, \qquad L = \sum_{i,j} (\hat{y}_{ij} - y_{ij})^2$$

# %%
# --8<-- [start:setup]
import numpy as np

np.random.seed(0)  # same numbers on every run

# N: batch size; D_in: input size; H: hidden size; D_out: output size
N, D_in, H, D_out = 64, 1000, 100, 10

# Random input and target data
x = np.random.randn(N, D_in)
y = np.random.randn(N, D_out)

# Random initial weights
w1 = np.random.randn(D_in, H)
w2 = np.random.randn(H, D_out)

lr = 1e-6  # learning rate
# --8<-- [end:setup]

# %% [markdown] lang="zh"
# 训练 500 步：前向传播、损失、反向传播、更新 $w \leftarrow w - \eta \frac{\partial L}{\partial w}$。

# %% [markdown] lang="en"
# Train for 500 steps: forward pass, loss, backward pass, update $w \leftarrow w - \eta \frac{\partial L}{\partial w}$.

# %%
# --8<-- [start:train]
losses = []
for t in range(500):
    # --8<-- [start:forward]
    h = x.dot(w1)  # (N, H)
    h_relu = np.maximum(h, 0)  # (N, H)
    y_pred = h_relu.dot(w2)  # (N, D_out)
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = np.square(y_pred - y).sum()
    losses.append(loss)
    if t % 100 == 0 or t == 499:
        print(t, loss)
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    grad_y_pred = 2.0 * (y_pred - y)  # (N, D_out)
    grad_w2 = h_relu.T.dot(grad_y_pred)  # (H, D_out)
    grad_h_relu = grad_y_pred.dot(w2.T)  # (N, H)
    grad_h = grad_h_relu.copy()  # (N, H)
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)  # (D_in, H)
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
