# %% [markdown]
# Exercises for the warm-up (docs/numpy_warmup.md, "Exercises"). Run from the repository root:
# `python snippets/exercises/numpy_warmup.py`. Each answer starts from the lesson's setup,
# copied here unchanged (tests/test_exercises.py checks that it is the lesson's).

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

# %% [markdown]
# Exercise 1: `grad_w2.T` instead of `w2.T` in the backward pass. The shapes agree; the
# gradient check does not.


# %%
# --8<-- [start:ex1]
def loss_at(w1, w2):
    """L at these weights: the lesson's forward pass and loss."""
    return np.square(np.maximum(x.dot(w1), 0).dot(w2) - y).sum()


def max_rel_error(grad_w1, eps=1e-6, k=5):
    """Largest relative error of grad_w1 against central differences, at k random entries."""
    rng = np.random.default_rng(0)
    errors = []
    for i, j in zip(rng.integers(D_in, size=k), rng.integers(H, size=k)):
        w_plus, w_minus = w1.copy(), w1.copy()
        w_plus[i, j] += eps
        w_minus[i, j] -= eps
        num = (loss_at(w_plus, w2) - loss_at(w_minus, w2)) / (2 * eps)
        errors.append(abs(grad_w1[i, j] - num) / max(abs(grad_w1[i, j]), abs(num)))
    return max(errors)


# One forward pass, then the backward pass with the right and with the wrong matrix
h = x.dot(w1)
h_relu = np.maximum(h, 0)
y_pred = h_relu.dot(w2)
grad_y_pred = 2.0 * (y_pred - y)
grad_w2 = h_relu.T.dot(grad_y_pred)
shapes, errors = {}, {}
for name, B in [("w2", w2), ("grad_w2", grad_w2)]:
    grad_h_relu = grad_y_pred.dot(B.T)  # B.T is (D_out, H) either way
    grad_h = grad_h_relu.copy()
    grad_h[h < 0] = 0
    grad_w1 = x.T.dot(grad_h)
    shapes[name], errors[name] = grad_w1.shape, max_rel_error(grad_w1)
    print(f"{name}.T: grad_w1 {grad_w1.shape}, max relative error {errors[name]:.1e}")
# --8<-- [end:ex1]

# %% [markdown]
# Exercise 2: one sample at a time. Each sample's `grad_w2` is an outer product (rank 1);
# the batch's `grad_w2` is their sum.

# %%
# --8<-- [start:ex2]
h_relu = np.maximum(x.dot(w1), 0)  # (N, H)
grad_y_pred = 2.0 * (h_relu.dot(w2) - y)  # (N, D_out)
grad_w2 = h_relu.T.dot(grad_y_pred)  # (H, D_out), the whole batch

# Sample n alone: a column (H, 1) times a row (1, D_out)
outers = [np.outer(h_relu[n], grad_y_pred[n]) for n in range(N)]
print("rank of one sample's grad_w2:", np.linalg.matrix_rank(outers[0]))
print("rank of the batch's grad_w2:", np.linalg.matrix_rank(grad_w2))
gap = np.abs(sum(outers) - grad_w2).max() / np.abs(grad_w2).max()
print(f"sum of the {N} outer products vs grad_w2: {gap:.1e}")
# --8<-- [end:ex2]
