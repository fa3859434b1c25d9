"""Checkers for notebook 02 (augmentations)."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import Solution, verdict
from .. import augment as A
from ..skeleton import NTU25, bone_lengths


def check_rotation_matrix(rotation_matrix) -> bool:
    """``rotation_matrix(axis, theta)`` -> 3x3 array: the official R_x / R_y / R_z (theta in radians,
    axis 0, 1, 2), applied as p' = R p. Also checks that it keeps every bone length."""
    rng = np.random.default_rng(0)
    try:
        for axis in range(3):
            for theta in (0.0, 0.3, math.radians(30), -1.1):
                R = np.asarray(rotation_matrix(axis, theta), dtype=np.float64)
                if R.shape != (3, 3):
                    return verdict(False, hint=f"expected a (3, 3) array, got shape {R.shape}")
                ref = A.axis_rotation(torch.tensor(theta, dtype=torch.float64), axis).numpy()
                if not np.allclose(R @ R.T, np.eye(3), atol=1e-6):
                    return verdict(False, hint=f"axis {axis}, theta {theta:.2f}: R is not orthogonal "
                                               "(R Rᵀ ≠ I), so it would change bone lengths")
                if np.allclose(R, ref.T, atol=1e-6) and theta != 0:
                    return verdict(False, hint=f"axis {axis}: you have the transpose (a rotation by "
                                               "-theta); the official R_x has +sin in row 1, column 2")
                if not np.allclose(R, ref, atol=1e-6):
                    return verdict(False, hint=f"axis {axis}, theta {theta:.2f}: expected\n{ref.round(3)}"
                                               f"\ngot\n{R.round(3)}")
    except Exception as e:  # learners see a hint, not a traceback
        return verdict(False, hint=f"rotation_matrix raised {type(e).__name__}: {e}")
    x = rng.normal(size=(3, 8, 25, 1))
    R = np.asarray(rotation_matrix(1, 0.4), dtype=np.float64)
    rotated = np.einsum("ij,jtvm->itvm", R, x)
    kept = np.allclose(bone_lengths(rotated, NTU25), bone_lengths(x, NTU25), atol=1e-9)
    return verdict(kept, "Correct: the official matrices, and every bone keeps its length.",
                   "The matrices match but bone lengths changed; apply R to the xyz axis.")


def check_indistinguishable(answer: str) -> bool:
    """Which transform of the default AS-CAL strategy makes 'sit down' and 'stand up' the same
    action to the encoder? Answer with a class name of ``skelcl_lib.augment``."""
    a = str(answer).strip().lower().replace(" ", "").replace("_", "")
    if a in ("timereverse", "randomflip", "temporalflip", "reverse", "timeflip"):
        return verdict(True, "Right: a reversed 'sit down' is a 'stand up'. With TimeReverse "
                             "(p = 0.5) in both views, the loss asks the encoder to map the two "
                             "directions of time to the same point.")
    if a in ("spatialflip", "flip"):
        return verdict(False, hint="SpatialFlip swaps left and right, not the direction of time "
                                   "(and it is not in the AS-CAL strategy).")
    if a in ("center", "subtract", "shear"):
        return verdict(False, hint="That one is in the strategy, but does it change what happens "
                                   "first and what happens last?")
    return verdict(False, hint="Think about what separates the two actions: the same poses, "
                               "visited in the opposite order.")


def check_crop_indices(crop_indices) -> bool:
    """``crop_indices(T, pad, start)`` -> list of T source frames of AimCLR's mirrored crop."""
    for T, pad, start in ((10, 3, 0), (10, 3, 6), (10, 3, 2), (50, 8, 16), (50, 8, 5), (7, 1, 1)):
        ref = A.crop_indices(T, pad, torch.tensor([start]))[0].tolist()
        try:
            got = [int(i) for i in crop_indices(T, pad, start)]
        except Exception as e:
            return verdict(False, hint=f"crop_indices raised {type(e).__name__}: {e}")
        if got != ref:
            hint = f"T={T}, pad={pad}, start={start}: expected {ref}, got {got}."
            if start == 0 and got[:pad] == list(range(pad, 0, -1)):
                hint += " numpy 'symmetric' padding repeats the edge frame (reflect would skip it)."
            return verdict(False, hint=hint)
    return verdict(True, "Correct: a mirrored shift that repeats the edge frame.")


SOLUTIONS = {
    "rotation_matrix": Solution(
        code="""\
def rotation_matrix(axis, theta):
    c, s = np.cos(theta), np.sin(theta)
    if axis == 0:
        return np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    if axis == 1:
        return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
"""),
    "indistinguishable": Solution(
        code="""\
answer = "TimeReverse"   # AS-CAL's randomFlip: a reversed sit-down is a stand-up
"""),
    "crop_indices": Solution(
        code="""\
def crop_indices(T, pad, start):
    out = []
    for j in range(start, start + T):
        i = j - pad
        if i < 0:
            i = -i - 1          # mirrored, edge frame repeated
        elif i >= T:
            i = 2 * T - 1 - i
        out.append(i)
    return out
"""),
}
