"""Joint layouts: joint names, bones, left/right flip permutation, centre joints.

Two layouts are built in:

- ``NTU25``: Kinect v2, 25 joints (NTU RGB+D 60/120, PKU-MMD, the embedded dataset).
- ``KINECT20``: Kinect v1, 20 joints (Northwestern-UCLA).

Indices are 0-based everywhere. ``bones[i] = (i, parent_i)`` so that the bone stream is
``x[..., i, :] - x[..., parent_i, :]``; the centre joint is its own parent (a zero bone), as in
the official AimCLR/CrosSCLR bone lists (docs/methods.md §1.2, docs/results/readers.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Layout:
    """A skeleton layout. Every function that takes a layout accepts this object or its name."""

    name: str
    joint_names: tuple[str, ...]
    parents: tuple[int, ...]            # parents[i]: the joint that bone i points from (0-based)
    flip_permutation: tuple[int, ...]   # new joint i takes old joint flip_permutation[i]
    center_joint: int                   # graph centre and AimCLR centring joint
    spine_joint: int                    # AS-CAL centring joint ("subtract", index 1)
    left_shoulder: int
    right_shoulder: int
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def bones(self) -> tuple[tuple[int, int], ...]:
        """The bone pairs (v1, v2), bone[v1] = x[v1] - x[v2]; one per joint, the centre's is zero."""
        return tuple((i, p) for i, p in enumerate(self.parents))

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """Undirected graph edges (child, parent): the bones without the centre's self pair."""
        return tuple((i, p) for i, p in enumerate(self.parents) if i != p)

    def adjacency(self, self_loops: bool = True) -> np.ndarray:
        """Symmetric 0/1 adjacency (V, V), with self-loops by default."""
        a = np.zeros((self.num_joints, self.num_joints), dtype=np.float32)
        for i, j in self.edges:
            a[i, j] = a[j, i] = 1.0
        if self_loops:
            a[np.arange(self.num_joints), np.arange(self.num_joints)] = 1.0
        return a

    def index(self, joint: str | int) -> int:
        if isinstance(joint, (int, np.integer)):
            return int(joint)
        return self.joint_names.index(joint)

    def __repr__(self) -> str:  # short, the dataclass repr is long
        return f"Layout({self.name!r}, V={self.num_joints})"


def _ntu25() -> Layout:
    names = (
        "spine_base", "spine_mid", "neck", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
        "spine_shoulder",
        "hand_tip_left", "thumb_left", "hand_tip_right", "thumb_right",
    )
    # 1-based (v1, v2) pairs of the official bone list, in joint order.
    pairs_1 = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21),
               (10, 9), (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1),
               (18, 17), (19, 18), (20, 19), (21, 21), (22, 23), (23, 8), (24, 25), (25, 12)]
    parents = tuple(v2 - 1 for _, v2 in pairs_1)
    flip = (0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13, 14, 15, 20, 23, 24, 21, 22)
    return Layout("ntu25", names, parents, flip, center_joint=20, spine_joint=1,
                  left_shoulder=4, right_shoulder=8,
                  description="Kinect v2, 25 joints (NTU RGB+D 60/120, PKU-MMD)")


def _kinect20() -> Layout:
    names = (
        "hip_center", "spine", "shoulder_center", "head",
        "shoulder_left", "elbow_left", "wrist_left", "hand_left",
        "shoulder_right", "elbow_right", "wrist_right", "hand_right",
        "hip_left", "knee_left", "ankle_left", "foot_left",
        "hip_right", "knee_right", "ankle_right", "foot_right",
    )
    # Centre = shoulder_center (index 2), as in the N-UCLA graph of CTR-GCN.
    parents = (1, 2, 2, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18)
    flip = (0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13, 14, 15)
    return Layout("kinect20", names, parents, flip, center_joint=2, spine_joint=1,
                  left_shoulder=4, right_shoulder=8,
                  description="Kinect v1, 20 joints (Northwestern-UCLA)")


NTU25 = _ntu25()
KINECT20 = _kinect20()
LAYOUTS = {NTU25.name: NTU25, KINECT20.name: KINECT20}


def get_layout(layout: Layout | str) -> Layout:
    """Return the layout object for a layout or its name (``"ntu25"``, ``"kinect20"``)."""
    if isinstance(layout, Layout):
        return layout
    try:
        return LAYOUTS[str(layout).lower()]
    except KeyError:
        raise ValueError(f"unknown layout {layout!r}; expected one of {sorted(LAYOUTS)}") from None


def bone_lengths(x: np.ndarray, layout: Layout | str = "ntu25") -> np.ndarray:
    """Bone lengths of joints ``x: (..., C, T, V, M)`` -> ``(..., T, V, M)`` (the centre's is 0)."""
    lay = get_layout(layout)
    parents = np.asarray(lay.parents)
    d = x - x[..., parents, :]
    return np.sqrt((d ** 2).sum(axis=-4))
