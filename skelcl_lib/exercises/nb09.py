"""Checkers for notebook 09 (inspecting representations: kNN votes, honest model selection,
label budgets of the semi-supervised protocol)."""

from __future__ import annotations

import numpy as np

from . import Solution, verdict


def _call(fn, *args):
    """(result, None) or (None, verdict-False) for a learner's function."""
    if not callable(fn):
        return None, verdict(False, hint=f"Pass your function itself; got {type(fn).__name__}.")
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, verdict(False, hint="Fill in the function first.")
    except Exception as e:                                     # a hint, never a traceback
        return None, verdict(False, hint=f"Your function raised {type(e).__name__}: {e}")


# ----------------------------------------------------------------------------- kNN vote

_VOTE_CASE = np.array([
    [2, 2, 1, 1, 0],      # tie 2 vs 1 (2 each): class 2 holds the nearest neighbour -> 2
    [1, 0, 0, 1, 3],      # tie 1 vs 0: class 1 is nearest -> 1
    [3, 3, 3, 0, 0],      # clear majority -> 3
    [0, 1, 2, 3, 1],      # 1 has two votes -> 1
    [4, 0, 1, 2, 3],      # all different: the nearest wins -> 4
])
_VOTE_WANT = np.array([2, 1, 3, 1, 4])


def _vote_lowest_label(labels, c):
    return np.array([np.bincount(r, minlength=c).argmax() for r in labels])


def check_knn_vote(fn) -> bool:
    """``fn(neighbor_labels (Q, k) int, num_classes) -> (Q,)``: majority vote, a tie going to the
    tied class whose member is nearest (column 0 is the nearest neighbour)."""
    got, bad = _call(fn, _VOTE_CASE.copy(), 5)
    if bad is not None:
        return bad
    try:
        got = np.asarray(got).astype(np.int64).reshape(-1)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Return one predicted class per row; got {type(got).__name__}.")
    if got.shape != _VOTE_WANT.shape:
        return verdict(False, hint=f"Expected {len(_VOTE_WANT)} predictions (one per query row), got {got.shape}.")
    if np.array_equal(got, _VOTE_WANT):
        return verdict(True, "Correct: counts first, and on a tie the class of the nearer neighbour.")
    if np.array_equal(got, _vote_lowest_label(_VOTE_CASE, 5)):
        return verdict(False, hint="np.bincount(...).argmax() breaks ties towards the smallest class "
                                   "index; break them by the rank of each class's nearest neighbour.")
    if np.array_equal(got, _VOTE_CASE[:, 0]):
        return verdict(False, hint="That is 1-NN (the nearest label); count all k votes first.")
    return verdict(False, hint="Count the votes per class; among the classes with the most votes, "
                               "take the one that appears earliest in the row.")


# ----------------------------------------------------------------------------- honest selection

_VAL = [0.30, 0.52, 0.61, 0.66, 0.66, 0.64, 0.63]
_TEST = [0.28, 0.49, 0.57, 0.60, 0.63, 0.65, 0.59]


def check_honest_number(fn) -> bool:
    """``fn(val_curve, test_curve) -> (reported_top1, epoch)``: the test accuracy at the epoch with
    the best *validation* accuracy (epochs count from 1; earliest on ties)."""
    got, bad = _call(fn, list(_VAL), list(_TEST))
    if bad is not None:
        return bad
    try:
        top1, epoch = float(got[0]), int(got[1])
    except (TypeError, ValueError, IndexError):
        return verdict(False, hint=f"Return a pair (top1, epoch); got {got!r}.")
    if abs(top1 - 0.65) < 1e-9:
        return verdict(False, hint="0.65 is the best *test* epoch (the optimistic official number); "
                                   "choose the epoch on the validation curve.")
    if epoch == 5 or abs(top1 - 0.63) < 1e-9:
        return verdict(False, hint="Validation ties at epochs 4 and 5 (0.66): take the earliest.")
    if epoch == 3 and abs(top1 - 0.60) < 1e-9:
        return verdict(False, hint="Epochs count from 1: index 3 of the list is epoch 4.")
    if epoch != 4 or abs(top1 - 0.60) > 1e-9:
        return verdict(False, hint="Find the first epoch where val_curve is largest, then report test_curve there.")
    return verdict(True, "Correct: 60% at epoch 4. The best test epoch would say 65%: a 5-point "
                         "optimism that comes only from looking at the test set.")


# ----------------------------------------------------------------------------- label budget

_Y = np.repeat(np.arange(4), [40, 25, 7, 120])


def check_label_budget(fn) -> bool:
    """``fn(y, fraction) -> {class: n_labelled}``: per class round(fraction · n_c), at least 1
    (the class-balanced subsets of the semi-supervised protocol)."""
    got, bad = _call(fn, _Y.copy(), 0.1)
    if bad is not None:
        return bad
    want = {0: 4, 1: 2, 2: 1, 3: 12}
    try:
        got = {int(k): int(v) for k, v in dict(got).items()}
    except (TypeError, ValueError):
        return verdict(False, hint=f"Return a dict {{class: count}}; got {type(got).__name__}.")
    if got == want:
        return verdict(True, "Correct: 19 labels in all; a rare class still gets one.")
    if got.get(2) == 0 or got.get(2) == 0.7:
        return verdict(False, hint="Class 2 has 7 samples: 10% rounds to 1 (and never below 1).")
    if got.get(1) == 3:
        return verdict(False, hint="round(2.5) is 2 in Python (banker's rounding), as in the library.")
    return verdict(False, hint="For each class c: max(1, round(fraction * number of samples of c)).")


SOLUTIONS = {
    "knn_vote": Solution(
        code="""\
def knn_vote(neighbor_labels, num_classes):
    out = []
    for row in neighbor_labels:
        counts = np.bincount(row, minlength=num_classes)
        tied = np.flatnonzero(counts == counts.max())
        first = {c: list(row).index(c) for c in tied}      # rank of each tied class's nearest
        out.append(min(tied, key=first.get))
    return np.array(out)
"""),
    "honest_number": Solution(
        code="""\
def honest_number(val_curve, test_curve):
    i = int(np.argmax(val_curve))          # argmax returns the first maximum
    return test_curve[i], i + 1
"""),
    "label_budget": Solution(
        code="""\
def label_budget(y, fraction):
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): max(1, int(round(fraction * n))) for c, n in zip(classes, counts)}
"""),
}
