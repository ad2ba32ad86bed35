# %% [markdown] lang="zh"
# 梯度检查：在 float64 下，把手写的梯度与中心有限差分相比较，
#
# $$\frac{\partial L}{\partial w} \approx \frac{L(w + \epsilon) - L(w - \epsilon)}{2\epsilon},$$
#
# 然后用检查过的梯度训练。

# %% [markdown] lang="en"
# Gradient checking: compare the hand-written gradients with central finite differences, in float64,
#
# $$\frac{\partial L}{\partial w} \approx \frac{L(w + \epsilon) - L(w - \epsilon)}{2\epsilon},$$
#
# then train with the checked gradients.

# %%
# --8<-- [start:setup]
# --8<-- [start:data]
import torch

torch.manual_seed(0)  # same numbers on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
dtype = torch.float64  # double precision: finite differences need it
print("device:", device)

N, D_in, H, D_out = 64, 1000, 100, 10

# Drawn in float32 as in the tensors lesson, then held in float64
x = torch.randn(N, D_in, device=device).to(dtype)
y = torch.randn(N, D_out, device=device).to(dtype)

w1 = torch.randn(D_in, H, device=device).to(dtype)
w2 = torch.randn(H, D_out, device=device).to(dtype)

lr = 1e-6
# --8<-- [end:data]

# %% [markdown] lang="zh"
# 有限差分只要求能在任意权重处算出损失，别的都不需要：用不着反向传播。

# %% [markdown] lang="en"
# Finite differences need the loss at any weights, nothing else: no backward pass.


# %%
# --8<-- [start:numerical]
def loss_at(x, y, w1, w2):
    """L at these weights: forward pass and loss, as a Python float."""
    return (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum().item()


def numerical_grad(f, w, i, j, eps):
    """(f(w + eps) - f(w - eps)) / (2 eps), moving only w[i, j]."""
    w_plus, w_minus = w.clone(), w.clone()
    w_plus[i, j] += eps
    w_minus[i, j] -= eps
    return (f(w_plus) - f(w_minus)) / (2 * eps)


def rel_error(a, b):
    """|a - b| / max(|a|, |b|)"""
    return abs(a - b) / max(abs(a), abs(b))
    # --8<-- [end:numerical]


# %% [markdown] lang="zh"
# 检查：从每个梯度里随机取几个元素，与有限差分比较。

# %% [markdown] lang="en"
# The check: a few random entries of each gradient against finite differences.


# %%
# --8<-- [start:check]
def check_gradients(grad_w1, grad_w2, eps=1e-6, k=5):
    """Max relative error at k random entries of each gradient."""
    errors = []
    # L as a function of w1 alone, then of w2 alone
    cases = [
        (w1, grad_w1, lambda w: loss_at(x, y, w, w2)),
        (w2, grad_w2, lambda w: loss_at(x, y, w1, w)),
    ]
    for w, grad, f in cases:
        rows = torch.randint(w.shape[0], (k,)).tolist()
        cols = torch.randint(w.shape[1], (k,)).tolist()
        for i, j in zip(rows, cols):
            num = numerical_grad(f, w, i, j, eps)
            errors.append(rel_error(grad[i, j].item(), num))
    return max(errors)
    # --8<-- [end:check]


# %% [markdown] lang="zh"
# 误差怎样随步长 $\epsilon$ 和精度变化，以 $w_1$ 的一个元素为例。

# %% [markdown] lang="en"
# How the error depends on the step $\epsilon$ and on the precision, for one entry of $w_1$.


# %%
# --8<-- [start:table]
def error_table(grad_w1, i=0, j=0):
    """Relative error of numerical_grad for grad_w1[i, j], by precision."""
    print("eps     float32  float64")
    for k in range(11):
        eps = 10.0**-k
        errors = []
        for dt in (torch.float32, torch.float64):
            xd, yd, w1d, w2d = (v.to(dt) for v in (x, y, w1, w2))
            num = numerical_grad(lambda w: loss_at(xd, yd, w, w2d), w1d, i, j, eps)
            errors.append(rel_error(grad_w1[i, j].item(), num))
        print(f"{eps:.0e}   {errors[0]:.1e}  {errors[1]:.1e}")
        # --8<-- [end:table]
        # --8<-- [end:setup]


# %% [markdown] lang="zh"
# 用「张量」一课手写的反向传播训练 500 步。第一次更新之前，先检查梯度并打印表格。

# %% [markdown] lang="en"
# Train for 500 steps with the hand-written backward pass of the tensors lesson.
# Before the first update, the gradients are checked and the table printed.

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

    # --8<-- [start:run_check]
    if t == 0:  # at the initial weights, before the first update
        print("max relative error:", check_gradients(grad_w1, grad_w2))
        error_table(grad_w1)
    # --8<-- [end:run_check]

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
