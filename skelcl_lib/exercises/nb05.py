"""Checkers for notebook 05 (the queue: enqueue/dequeue, size, stale keys)."""

from __future__ import annotations

import torch

from . import Solution, verdict


def check_enqueue(fn) -> bool:
    """``fn(queue (K, D), ptr int, keys (B, D)) -> new ptr``: writes rows (ptr … ptr + B − 1) mod K in place."""
    if not callable(fn):
        return verdict(False, hint=f"Pass your function itself; got {type(fn).__name__}.")
    queue = torch.zeros(5, 2)
    keys = torch.arange(1, 7, dtype=torch.float32).reshape(3, 2)       # rows [1,2], [3,4], [5,6]
    try:
        ptr = fn(queue, 3, keys)
    except NotImplementedError:
        return verdict(False, hint="Fill in the function first.")
    except Exception as e:
        return verdict(False, hint=f"Your function raised {type(e).__name__}: {e}")
    want = torch.tensor([[5.0, 6.0], [0, 0], [0, 0], [1, 2], [3, 4]])
    try:
        ptr = int(ptr)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Return the new pointer as an int; got {ptr!r}.")
    if torch.equal(queue, want) and ptr == 1:
        return verdict(True, "Correct: rows 3 and 4 take the first two keys, the third wraps to row 0; ptr = 1.")
    if torch.equal(queue, want) and ptr == 6:
        return verdict(False, hint="The rows are right, but the pointer must wrap too: (ptr + B) % K.")
    if queue.abs().sum() == 0:
        return verdict(False, hint="The queue is unchanged: write into it in place (queue[rows] = keys).")
    return verdict(False, hint="K = 5, ptr = 3, B = 3: the rows to write are (3, 4, 0), i.e. (ptr + arange(B)) % K.")


def check_key_lifetime(answer, K: int = 16384, B: int = 32) -> bool:
    """Steps a key stays in a queue of K keys when B new keys arrive per step: K / B."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one number of steps; got {answer!r}.")
    want = K / B
    if abs(value - want) < 0.5:
        return verdict(True, f"Correct: {K} / {B} = {want:.0f} steps. Meanwhile, at α = 0.999, the key encoder "
                             f"has moved a share 1 − 0.999^{want:.0f} ≈ {1 - 0.999 ** want:.2f} towards the query.")
    if abs(value - K) < 0.5:
        return verdict(False, hint="That many *keys*; each step replaces B of them.")
    return verdict(False, hint="Each step the B oldest keys leave: how many steps to replace all K?")


def check_queue_fraction(answer, K: int = 16384, n_train: int = 40091) -> bool:
    """Share of the training set whose (stale) keys the queue holds: K / N."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one number between 0 and 1; got {answer!r}.")
    want = K / n_train
    if abs(value - want) < 5e-3:
        return verdict(True, f"Correct: {want:.3f}, about 41% of NTU-60 xsub is in the queue at any time.")
    if abs(value - 100 * want) < 0.5:
        return verdict(False, hint="Give a fraction, not a percentage.")
    return verdict(False, hint="Divide the queue size by the number of training clips (40,091).")


SOLUTIONS = {
    "enqueue": Solution(
        code="""\
def my_enqueue(queue, ptr, keys):
    K, B = len(queue), len(keys)
    rows = (ptr + torch.arange(B)) % K
    queue[rows] = keys
    return (ptr + B) % K
"""),
    "key_lifetime": Solution(
        code="""\
answer = 16384 / 32      # 512 steps
"""),
    "queue_fraction": Solution(
        code="""\
answer = 16384 / 40091   # ≈ 0.409
"""),
}
