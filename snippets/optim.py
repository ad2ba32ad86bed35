# %% [markdown] lang="zh"
# `torch.optim`：优化器掌管模型的参数，在 `optimizer.step()` 中更新它们。
# 这个脚本用 Adam 训练，它依据梯度的滑动平均 $m_t$ 和梯度平方的滑动平均 $v_t$ 更新：
#
# $$w_t = w_{t-1} - \eta \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}, \qquad \hat{m}_t = \frac{m_t}{1 - \beta_1^t}, \qquad \hat{v}_t = \frac{v_t}{1 - \beta_2^t}$$

# %% [markdown] lang="en"
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

# %% [markdown] lang="zh"
# 把普通的梯度下降写成优化器：`step()` 对每个参数做 $w \leftarrow w - \eta \frac{\partial L}{\partial w}$。

# %% [markdown] lang="en"
# Plain gradient descent as an optimizer: `step()` does $w \leftarrow w - \eta \frac{\partial L}{\partial w}$ for every parameter.

# %%
# --8<-- [start:sgd]
optimizer = torch.optim.SGD(model.parameters(), lr=lr)
# --8<-- [end:sgd]

# %% [markdown] lang="zh"
# 这个脚本改用 Adam 训练：下一个单元格换掉 SGD 优化器（此时还一步都没有训练）。

# %% [markdown] lang="en"
# This script trains with Adam instead: the next cell replaces the SGD optimizer (nothing has been trained yet).

# %%
# --8<-- [start:adam]
# default betas=(0.9, 0.999), eps=1e-8
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
# --8<-- [end:adam]

# %% [markdown] lang="zh"
# 训练 500 步：梯度清零，反向传播，让优化器更新参数。

# %% [markdown] lang="en"
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
