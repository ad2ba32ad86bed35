# %% [markdown] lang="zh"
# 真实数据：1797 张 8×8 像素的手写数字，随 scikit-learn 一起发布（不需要下载）。还是那个两层 ReLU 网络，在训练集上学着分辨十个数字：`DataLoader` 每次取一批 $N = 64$ 张图，损失是交叉熵的平均值，用 Adam 更新；网络从不在验证集上训练，验证集告诉我们它认没见过的数字认得怎么样。

# %% [markdown] lang="en"
# Real data: 1797 handwritten digits, 8×8 pixels each, which ship inside scikit-learn (nothing is downloaded).
# The same two-layer ReLU network learns to tell the ten digits apart from a training set,
# in mini-batches of $N = 64$ drawn by a `DataLoader`, with the mean cross-entropy loss and Adam;
# a validation set it never trains on tells how well it does on digits it has not seen.

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

# %% [markdown] lang="zh"
# nn 一课的网络，输入是 $D_{in} = 64$ 个像素，每个类别输出一个分数。损失是一批上交叉熵的平均值，$L = \frac{1}{N} \sum_i -\log \mathrm{softmax}(\hat{y}_i)_{y_i}$。

# %% [markdown] lang="en"
# The network of the nn lesson, with $D_{in} = 64$ inputs and one score per class.
# The loss is the mean cross-entropy over the batch, $L = \frac{1}{N} \sum_i -\log \mathrm{softmax}(\hat{y}_i)_{y_i}$.


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

# %% [markdown] lang="zh"
# 评估：`model.eval()` 把每一层切换到评估模式，`torch.no_grad()` 不记录计算图。

# %% [markdown] lang="en"
# Evaluation: `model.eval()` puts every layer in evaluation mode, and `torch.no_grad()` records no graph.


# %%
# --8<-- [start:evaluate]
def evaluate(model, x, y):
    """The mean loss and the accuracy of `model` on the images x with labels y."""
    model.eval()  # evaluation mode: Dropout and BatchNorm would change; ours has neither
    with torch.no_grad():  # no graph is recorded: nothing will be backpropagated
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        accuracy = (y_pred.argmax(dim=1) == y).float().mean()
    return loss.item(), accuracy.item()
    # --8<-- [end:evaluate]


# %% [markdown] lang="zh"
# 训练 25 个 epoch：把训练集过 25 遍，每遍 20 批，一共 500 步。每个 epoch 结束后，算一次验证集上的损失和准确率。

# %% [markdown] lang="en"
# Train for 25 epochs: 25 passes over the training set, 20 batches each, 500 steps in all.
# After every epoch, the loss and accuracy on the validation set.

# %%
# --8<-- [start:train]
epochs = 25
losses, val_losses = [], []
for epoch in range(epochs):
    model.train()  # training mode (evaluate() switched to evaluation mode)
    for i, (x, y) in enumerate(loader):
        t = epoch * len(loader) + i  # the step, 0 to 499
        x, y = x.to(device), y.to(device)  # (N, D_in) and (N,)

        # --8<-- [start:forward]
        y_pred = model(x)  # (N, D_out)
        # --8<-- [end:forward]

        # --8<-- [start:loss]
        loss = loss_fn(y_pred, y)  # the mean over the batch, shape ()
        losses.append(loss.item())
        if t % 100 == 0 or t == 499:
            print(t, loss.item())
        # --8<-- [end:loss]

        # --8<-- [start:backward]
        optimizer.zero_grad()
        loss.backward()
        # --8<-- [end:backward]

        # --8<-- [start:update]
        optimizer.step()
        # --8<-- [end:update]

    val_loss, val_accuracy = evaluate(model, x_val, y_val)
    val_losses.append(val_loss)
    if epoch % 5 == 4:
        print(f"epoch {epoch + 1}: validation loss {val_loss:.4f}, accuracy {val_accuracy:.4f}")
# --8<-- [end:train]

# %% [markdown] lang="zh"
# 保存训练好的参数（`state_dict`），加载到一个新网络里，检查它在验证集上给出相同的输出。

# %% [markdown] lang="en"
# Save the trained weights (the `state_dict`), load them into a new network, and check
# that it gives the same validation outputs.

# %%
# --8<-- [start:save]
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "digits.pt"
    torch.save(model.state_dict(), path)  # a dict: parameter name -> tensor
    # ... later, perhaps in another program:
    loaded = make_model()  # a new network, with other random weights
    loaded.load_state_dict(torch.load(path, weights_only=True))

loaded.eval()
with torch.no_grad():
    same = torch.equal(loaded(x_val), model(x_val))
assert same, "the loaded model gives other outputs"
# --8<-- [end:save]

# %% [markdown] lang="zh"
# 每一步 $t$ 的训练损失 $L$（每步一批）和每个 epoch 之后的验证损失，纵轴取对数坐标。

# %% [markdown] lang="en"
# The training loss $L$ of every step $t$ (one mini-batch each) and the validation loss after every epoch, on a log scale.

# %% active="ipynb"
# import matplotlib.pyplot as plt
# plt.figure(figsize=(6, 3.5))
# plt.semilogy(losses)
# plt.semilogy([len(loader) * (e + 1) - 1 for e in range(epochs)], val_losses, "o-")
# plt.xlabel("$t$")
# plt.ylabel("$L$")
# plt.legend(["training (one mini-batch)", "validation"])
# plt.show()
