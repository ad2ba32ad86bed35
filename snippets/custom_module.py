# %% [markdown] lang="zh"
# 自定义 `nn.Module`：把两层网络写成一个类。两个 `nn.Linear` 层存放权重和偏置，
# `forward` 计算
#
# $$\hat{y} = \max(x w_1 + b_1, 0)\, w_2 + b_2$$

# %% [markdown] lang="en"
# A custom `nn.Module`: the two-layer network as a class. Its two `nn.Linear` layers hold
# the weights and biases, and `forward` computes
#
# $$\hat{y} = \max(x w_1 + b_1, 0)\, w_2 + b_2$$

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

# %% [markdown] lang="zh"
# 训练 500 步：`model(x)` 运行 `forward`，`optimizer.zero_grad()` 清空梯度，
# `loss.backward()` 算出梯度，`optimizer.step()` 更新每一个参数。

# %% [markdown] lang="en"
# Train for 500 steps: `model(x)` runs `forward`, `optimizer.zero_grad()` clears the
# gradients, `loss.backward()` fills them, `optimizer.step()` updates every parameter.

# %%
# --8<-- [start:train]
losses = []
for t in range(500):
    # --8<-- [start:forward]
    y_pred = model(x)  # (N, D_out), runs model.forward(x)
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = loss_fn(y_pred, y)  # a tensor of shape ()
    losses.append(loss.item())
    if t % 100 == 0 or t == 499:
        print(t, loss.item())
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    optimizer.zero_grad()  # backward() adds to .grad: reset first
    loss.backward()  # fills .grad of all four parameters
    # --8<-- [end:backward]

    # --8<-- [start:update]
    optimizer.step()  # p -= lr * p.grad for every parameter p
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
