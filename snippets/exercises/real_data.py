# %% [markdown]
# Exercises for docs/real_data.md ("Exercises"). Run from the repository root:
# `python snippets/exercises/real_data.py`. Each answer starts from the lesson's setup and model,
# copied here unchanged (tests/test_exercises.py checks that they are the lesson's).
# ruff: noqa: F401 (the setup imports what the lesson's save section needs; the exercises don't)

# %%
# --8<-- [start:setup]
import tempfile
from pathlib import Path

import torch

# --8<-- [start:data]
from sklearn.datasets import load_digits  # the data set ships inside scikit-learn

digits = load_digits()
images = torch.tensor(digits.data, dtype=torch.float32) / 16  # (1797, 64), pixels 0..16 -> 0..1
labels = torch.tensor(digits.target)  # (1797,), the digit 0..9 of each image, int64
# --8<-- [end:data]

torch.manual_seed(0)  # the same split, initial weights and batches on every run

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("device:", device)

# --8<-- [start:split]
# A random split: 1280 images to train on, the other 517 to validate
perm = torch.randperm(len(images))
train_idx, val_idx = perm[:1280], perm[1280:]
x_train, y_train = images[train_idx], labels[train_idx]
x_val, y_val = images[val_idx].to(device), labels[val_idx].to(device)
# --8<-- [end:split]

# N: the batch size; D_in: 64 pixels; H: hidden units; D_out: 10 classes
N, D_in, H, D_out = 64, 64, 100, 10

# --8<-- [start:batches]
# Mini-batches: each epoch, a new random order, cut into 1280 / 64 = 20 batches
train_set = torch.utils.data.TensorDataset(x_train, y_train)
loader = torch.utils.data.DataLoader(train_set, batch_size=N, shuffle=True)
# --8<-- [end:batches]
# --8<-- [end:setup]


# %%
# --8<-- [start:model]
def make_model():
    return torch.nn.Sequential(
        torch.nn.Linear(D_in, H),  # h = x w1 + b1
        torch.nn.ReLU(),  # h_relu = max(h, 0)
        torch.nn.Linear(H, D_out),  # y_pred = h_relu w2 + b2: one score per class
    ).to(device)


model = make_model()
loss_fn = torch.nn.CrossEntropyLoss()  # reduction="mean": the average over the batch

lr = 1e-2  # ten times Adam's default: 500 steps are few
optimizer = torch.optim.Adam(model.parameters(), lr=lr)
# --8<-- [end:model]


# %% [markdown]
# Exercise 1: the course's squared error instead of cross-entropy, on one-hot targets.

# %%
# --8<-- [start:ex1]
mse_model = make_model()
mse_model.load_state_dict(model.state_dict())  # the lesson's initial weights
mse_fn = torch.nn.MSELoss()  # the mean over all N x D_out entries
mse_optimizer = torch.optim.Adam(mse_model.parameters(), lr=lr)
for _ in range(25):
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        target = torch.nn.functional.one_hot(y, D_out).float()  # (N, D_out): 1 at the right digit
        loss = mse_fn(mse_model(x), target)
        mse_optimizer.zero_grad()
        loss.backward()
        mse_optimizer.step()

with torch.no_grad():
    mse_accuracy = (mse_model(x_val).argmax(dim=1) == y_val).float().mean().item()
print(f"validation accuracy with the squared error: {mse_accuracy:.3f}")
# --8<-- [end:ex1]

# %% [markdown]
# Exercise 2: the training set sorted by digit, and no shuffling.

# %%
# --8<-- [start:ex2]
order = torch.argsort(y_train, stable=True)  # all the 0s, then all the 1s, ...
sorted_set = torch.utils.data.TensorDataset(x_train[order], y_train[order])
sorted_loader = torch.utils.data.DataLoader(sorted_set, batch_size=N, shuffle=False)

sorted_model = make_model()
sorted_model.load_state_dict(model.state_dict())  # the lesson's initial weights
sorted_optimizer = torch.optim.Adam(sorted_model.parameters(), lr=lr)
for _ in range(25):
    for x, y in sorted_loader:
        x, y = x.to(device), y.to(device)
        loss = loss_fn(sorted_model(x), y)
        sorted_optimizer.zero_grad()
        loss.backward()
        sorted_optimizer.step()

with torch.no_grad():
    predicted = sorted_model(x_val).argmax(dim=1)
sorted_accuracy = (predicted == y_val).float().mean().item()
print(f"validation accuracy, sorted and not shuffled: {sorted_accuracy:.3f}")
# --8<-- [end:ex2]
