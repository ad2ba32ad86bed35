"""Floating-point operations of one training step, counted from the shapes.

We count the five matrix products, a multiply-add as 2 FLOPs: an (a x b) times
(b x c) product costs 2abc. The elementwise work (ReLU, loss, mask, update) is
counted separately and left out of the floor: it is under 1 % of the total.
"""


def matmuls(N: int, D_in: int, H: int, D_out: int) -> dict[str, int]:
    """FLOPs of each matrix product of a step, keyed by the variable it computes."""
    return {
        "h": 2 * N * D_in * H,  # x w1: (N, D_in) (D_in, H)
        "y_pred": 2 * N * H * D_out,  # h_relu w2: (N, H) (H, D_out)
        "grad_w2": 2 * H * N * D_out,  # h_relu^T grad_y_pred: (H, N) (N, D_out)
        "grad_h_relu": 2 * N * D_out * H,  # grad_y_pred w2^T: (N, D_out) (D_out, H)
        "grad_w1": 2 * D_in * N * H,  # x^T grad_h: (D_in, N) (N, H)
    }


def step_flops(N: int, D_in: int, H: int, D_out: int) -> int:
    """Matrix-product FLOPs of one step: the count the floor is computed from."""
    return sum(matmuls(N, D_in, H, D_out).values())


def elementwise_flops(N: int, D_in: int, H: int, D_out: int) -> int:
    """The rest of a step, one FLOP per elementwise operation, as numpy_warmup.py writes it."""
    relu = N * H  # max(h, 0)
    loss = 3 * N * D_out - 1  # subtract, square, sum
    grad_y_pred = 2 * N * D_out  # subtract again, times 2
    mask = N * H  # h < 0
    update = 2 * (D_in * H + H * D_out)  # lr * grad, then w - that
    return relu + loss + grad_y_pred + mask + update


# Which products a statement of a training loop computes (for the per-line profile).
BACKWARD = ("grad_w2", "grad_h_relu", "grad_w1")


def statement_flops(statement: str, shapes: tuple[int, int, int, int]) -> int:
    """Matrix-product FLOPs of one line of a lesson's loop: `h = x.dot(w1)` -> 2 N D_in H."""
    counts = matmuls(*shapes)
    target = statement.split("=", 1)[0].strip() if "=" in statement.split("(", 1)[0] else ""
    if target in counts and (".dot(" in statement or ".mm(" in statement):
        return counts[target]
    if statement.strip().startswith("loss.backward()"):
        return sum(counts[name] for name in BACKWARD)
    return 0
