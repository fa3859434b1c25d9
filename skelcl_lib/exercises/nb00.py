"""Checkers for notebook 00 (setup and tour)."""

from __future__ import annotations

from ..skeleton import NTU25
from . import Solution, verdict


def _as_shape(answer) -> tuple | None:
    try:
        return tuple(int(v) for v in answer)
    except (TypeError, ValueError):
        return None


def check_batch_shape(answer) -> bool:
    """Shape of a batch of 8 NTU samples, 300 frames, two persons, in (N, C, T, V, M) order."""
    expected = (8, 3, 300, 25, 2)
    shape = _as_shape(answer)
    if shape is None:
        return verdict(False, hint=f"Give a tuple of 5 integers such as (N, C, T, V, M); got {answer!r}.")
    if shape == expected:
        return verdict(True, "Correct: (N=8, C=3 coordinates, T=300 frames, V=25 joints, M=2 persons).")
    if len(shape) != 5:
        return verdict(False, hint=f"A batch has 5 axes (N, C, T, V, M); your tuple has {len(shape)}.")
    if sorted(shape) == sorted(expected):
        return verdict(False, hint="The numbers are right but the order is not: the course uses (N, C, T, V, M).")
    if 75 in shape or 150 in shape:
        return verdict(False, hint="Keep coordinates, joints and persons on separate axes (C, V, M).")
    return verdict(False, hint="Count: how many samples, coordinates per joint, frames, NTU joints, persons?")


def check_frame_vector_size(answer) -> bool:
    """How many numbers AS-CAL's LSTM reads per NTU frame (C * V * M, docs/methods.md §1.1)."""
    try:
        n = int(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one integer; got {answer!r}.")
    if n == 150:
        return verdict(True, "Correct: 3 coordinates x 25 joints x 2 persons = 150 inputs per time step.")
    if n == 75:
        return verdict(False, hint="That is one person. NTU arrays keep M = 2 persons, and AS-CAL flattens both.")
    if n == 50:
        return verdict(False, hint="That is joints x persons; each joint has 3 coordinates.")
    return verdict(False, hint="Multiply the sizes of the C, V and M axes of an NTU sample.")


def check_center_joint(answer) -> bool:
    """0-based index of NTU-25's centre joint (spine at the shoulders, 'joint 21' in 1-based terms)."""
    try:
        v = int(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one integer (a 0-based joint index); got {answer!r}.")
    if v == NTU25.center_joint:
        return verdict(True, f"Correct: joint {v} is '{NTU25.joint_names[v]}'.")
    if v == NTU25.center_joint + 1:
        return verdict(False, hint="That is the 1-based number used in papers; Python indexes from 0.")
    return verdict(False, hint="Look it up: NTU25.center_joint, or search NTU25.joint_names for 'spine_shoulder'.")


SOLUTIONS = {
    "batch_shape": Solution(
        code="""\
batch_shape = (8, 3, 300, 25, 2)   # N samples, C = xyz, T frames, V = 25 joints, M = 2 persons
"""),
    "frame_vector_size": Solution(
        code="""\
frame_vector_size = 3 * 25 * 2   # C * V * M = 150
"""),
    "center_joint": Solution(
        code="""\
from skelcl_lib.skeleton import NTU25
center_index = NTU25.joint_names.index("spine_shoulder")   # 20: Python counts from 0
"""),
}
