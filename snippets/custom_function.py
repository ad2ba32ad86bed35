# %% [markdown] lang="zh"
# 自定义 autograd 函数：把 ReLU 写成一个 `torch.autograd.Function`，前向传播之外，
# 再手写它的反向传播，autograd 在 `loss.backward()` 时调用它：
#
# $$\frac{\partial L}{\partial h} = \frac{\partial L}{\partial h_{\text{relu}}} \odot \mathbb{1}[h \ge 0]$$

# %% [markdown] lang="en"
# Custom autograd Function: ReLU written as a `torch.autograd.Function`, with a forward pass
# and a hand-written backward pass that autograd calls during `loss.backward()`:
#
# $$\frac{\partial L}{\partial h} = \frac{\partial L}{\partial h_{\text{relu}}} \odot \mathbb{1}[h \ge 0]$$

# %%
# --8<-- [start:setup]
import torch


# --8<-- [start:function]
class MyReLU(torch.autograd.Function):
    """ReLU with its own forward and backward pass."""

    @staticmethod
    def forward(ctx, input):
        # keep the input: backward needs to know where it was negative
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0  # slope 1 at 0, as clamp(min=0)
        return grad_input
        # --8<-- [end:function]


# %% [markdown] lang="zh"
# 数据和权重，与「自动求导」一课完全相同。

# %% [markdown] lang="en"
# The data and the weights, exactly as in the autograd lesson.

# %%
# --8<-- [start:data]
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
# --8<-- [end:data]
# --8<-- [end:setup]

# %% [markdown] lang="zh"
# 训练 500 步：就是「自动求导」一课的循环，只是 ReLU 改由 `MyReLU.apply` 计算。

# %% [markdown] lang="en"
# Train for 500 steps: the autograd loop, with the ReLU computed by `MyReLU.apply`.

# %%
# --8<-- [start:train]
relu = MyReLU.apply  # a Function is called through apply
losses = []
for t in range(500):
    # --8<-- [start:forward]
    h = x.mm(w1)  # (N, H)
    h_relu = relu(h)  # (N, H), runs MyReLU.forward
    y_pred = h_relu.mm(w2)  # (N, D_out)
    # --8<-- [end:forward]

    # --8<-- [start:loss]
    loss = (y_pred - y).pow(2).sum()  # a tensor of shape ()
    losses.append(loss.item())
    if t % 100 == 0 or t == 499:
        print(t, loss.item())
    # --8<-- [end:loss]

    # --8<-- [start:backward]
    loss.backward()  # calls MyReLU.backward on the way to w1.grad
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
