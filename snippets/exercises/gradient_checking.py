# %% [markdown]
# Exercises for docs/gradient_checking.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/gradient_checking.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

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


# %% [markdown]
# Exercise 1: the lesson's backward pass at the initial weights with the ReLU mask forgotten,
# then the whole lesson's 500 steps trained with it.


# %%
# --8<-- [start:ex1]
def backward(x, y, w1, w2, mask=True):
    """The lesson's backward pass; mask=False forgets the ReLU mask in its last line."""
    h = x.mm(w1)
    h_relu = h.clamp(min=0)
    grad_y_pred = 2.0 * (h_relu.mm(w2) - y)
    grad_w2 = h_relu.T.mm(grad_y_pred)
    grad_h_relu = grad_y_pred.mm(w2.T)
    grad_h = grad_h_relu.clone()
    grad_h[h < 0] = 0
    grad_w1 = x.T.mm(grad_h if mask else grad_h_relu)
    return grad_w1, grad_w2


grad_w1, grad_w2 = backward(x, y, w1, w2, mask=False)
error = check_gradients(grad_w1, grad_w2)
print("max relative error:", error)
error_table(grad_w1)


def train(mask):
    """The lesson's 500 steps, from the same starting weights; the losses."""
    v1, v2, losses = w1.clone(), w2.clone(), []
    for _ in range(500):
        losses.append((x.mm(v1).clamp(min=0).mm(v2) - y).pow(2).sum().item())
        grad_v1, grad_v2 = backward(x, y, v1, v2, mask)
        v1 -= lr * grad_v1
        v2 -= lr * grad_v2
    return losses


right, forgot = train(mask=True), train(mask=False)
print("loss at step 499, mask applied:", f"{right[499]:.1e}", "forgotten:", f"{forgot[499]:.1e}")
print("fall from step 0 to 499, mask forgotten:", f"{forgot[0] / forgot[499]:.1e}")
# --8<-- [end:ex1]


# %% [markdown]
# Exercise 2: where do `h < 0` and `h <= 0` differ in the lesson's 500 steps (float64)?

# %%
# --8<-- [start:ex2]
v1, v2, zeros = w1.clone(), w2.clone(), 0  # the lesson's 500 steps, from its starting weights
for _ in range(500):
    h = x.mm(v1)
    h_relu = h.clamp(min=0)
    grad_y_pred = 2.0 * (h_relu.mm(v2) - y)
    grad_h = grad_y_pred.mm(v2.T)
    zeros += (h == 0).sum().item()  # the only entries where h < 0 and h <= 0 differ
    grad_h[h < 0] = 0
    v1 -= lr * x.T.mm(grad_h)
    v2 -= lr * h_relu.T.mm(grad_y_pred)
print("entries of h exactly 0 in 500 steps:", zeros)
# --8<-- [end:ex2]


# %% [markdown]
# Exercise 3: gradient checking checks any gradient: here autograd's, in float64.

# %%
# --8<-- [start:ex3]
w1_auto = w1.clone().requires_grad_()
w2_auto = w2.clone().requires_grad_()
loss = (x.mm(w1_auto).clamp(min=0).mm(w2_auto) - y).pow(2).sum()
loss.backward()
error = check_gradients(w1_auto.grad, w2_auto.grad)
print("autograd's gradients, max relative error:", f"{error:.1e}")
# --8<-- [end:ex3]
