"""The loop of tensors.py, tuned: matrices allocated once, updates fused.

`out=` writes each result into a buffer made before the loop. `addmm_`
folds the update into the last product, w1 += (-lr) x^T grad_h in one
call: grad_w1 is never stored, and there is no `lr * grad_w1` temporary.
"""

import torch


def train(x, y, w1, w2, lr, steps=500):
    N, H, D_out = x.shape[0], w1.shape[1], w2.shape[1]
    h, h_relu, grad_h = (x.new_empty(N, H) for _ in range(3))
    y_pred, grad_y_pred = (x.new_empty(N, D_out) for _ in range(2))
    negative = torch.empty(N, H, dtype=torch.bool, device=x.device)
    losses = []
    for t in range(steps):
        torch.mm(x, w1, out=h)
        torch.clamp(h, min=0, out=h_relu)
        torch.mm(h_relu, w2, out=y_pred)

        torch.sub(y_pred, y, out=grad_y_pred)  # y_pred - y, doubled below
        loss = grad_y_pred.pow(2).sum().item()
        losses.append(loss)
        if t % 100 == 0 or t == steps - 1:
            print(t, loss)

        grad_y_pred.mul_(2.0)
        torch.mm(grad_y_pred, w2.T, out=grad_h)  # before w2 changes
        w2.addmm_(h_relu.T, grad_y_pred, alpha=-lr)  # w2 -= lr * grad_w2
        torch.lt(h, 0, out=negative)
        grad_h.masked_fill_(negative, 0)
        w1.addmm_(x.T, grad_h, alpha=-lr)  # w1 -= lr * grad_w1
    return losses
