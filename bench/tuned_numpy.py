"""The loop of numpy_warmup.py, tuned: matrices allocated once, updates in place.

The lesson's arithmetic, step for step. `out=` writes each result into a
buffer made before the loop instead of a new array, and the update makes
no temporary `lr * grad_w1`.
"""

import numpy as np


def train(x, y, w1, w2, lr, steps=500):
    N, H, D_out = x.shape[0], w1.shape[1], w2.shape[1]
    h, h_relu, grad_h = (np.empty((N, H), x.dtype) for _ in range(3))
    y_pred, grad_y_pred = (np.empty((N, D_out), x.dtype) for _ in range(2))
    grad_w1, grad_w2 = np.empty_like(w1), np.empty_like(w2)
    negative = np.empty((N, H), bool)
    losses = []
    for t in range(steps):
        np.dot(x, w1, out=h)
        np.maximum(h, 0, out=h_relu)
        np.dot(h_relu, w2, out=y_pred)

        np.subtract(y_pred, y, out=grad_y_pred)  # y_pred - y, doubled below
        loss = np.square(grad_y_pred).sum()
        losses.append(loss)
        if t % 100 == 0 or t == steps - 1:
            print(t, loss)

        grad_y_pred *= 2.0
        np.dot(h_relu.T, grad_y_pred, out=grad_w2)
        np.dot(grad_y_pred, w2.T, out=grad_h)
        np.less(h, 0, out=negative)
        grad_h[negative] = 0
        np.dot(x.T, grad_h, out=grad_w1)

        grad_w1 *= lr  # in place: no temporary array
        w1 -= grad_w1
        grad_w2 *= lr
        w2 -= grad_w2
    return losses
