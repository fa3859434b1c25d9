"""Convert skeleton data between joint layouts and body counts, for transfer across datasets.

Kinect v1 (``kinect20``, N-UCLA) has a subset of Kinect v2's joints (``ntu25``, NTU RGB+D,
PKU-MMD): the sixteen limb joints are the same joints at the same indices, and the torso joints
correspond by name. Going from 25 to 20 joints keeps the 20 shared joints and leaves out
``neck``, the two hand tips and the two thumbs. Going from 20 to 25 joints has to make up those
five; the rule here (an approximation, say so when you report a number that used it):

- ``neck`` = the midpoint of ``shoulder_center`` and ``head``;
- ``hand_tip_*`` and ``thumb_*`` = the ``hand_*`` joint of the same side.

Zero padding stays zero (every made-up joint is a combination of joints that are zero in a
padded frame). Bodies: extra bodies are appended as zeros (an absent body, as in the datasets);
removing bodies is refused when a removed body holds any non-zero value, so nothing is dropped
without the caller asking for it (``drop_bodies=True``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..skeleton import get_layout

# target joint -> list of (source joint, weight), by name
_FROM_KINECT20 = {
    "spine_base": [("hip_center", 1.0)],
    "spine_mid": [("spine", 1.0)],
    "neck": [("shoulder_center", 0.5), ("head", 0.5)],
    "spine_shoulder": [("shoulder_center", 1.0)],
    "hand_tip_left": [("hand_left", 1.0)],
    "thumb_left": [("hand_left", 1.0)],
    "hand_tip_right": [("hand_right", 1.0)],
    "thumb_right": [("hand_right", 1.0)],
}
_FROM_NTU25 = {
    "hip_center": [("spine_base", 1.0)],
    "spine": [("spine_mid", 1.0)],
    "shoulder_center": [("spine_shoulder", 1.0)],
}
_RULES = {("kinect20", "ntu25"): _FROM_KINECT20, ("ntu25", "kinect20"): _FROM_NTU25}


def joint_map(source, target) -> np.ndarray:
    """The (V_target, V_source) matrix W with x_target[..., v, :] = Σ_u W[v, u] x_source[..., u, :]."""
    src, dst = get_layout(source), get_layout(target)
    if src.name == dst.name:
        return np.eye(src.num_joints, dtype=np.float32)
    rules = _RULES.get((src.name, dst.name))
    if rules is None:
        raise ValueError(f"convert_layout: no joint correspondence from {src.name} to {dst.name}; "
                         f"known: {sorted(_RULES)}")
    W = np.zeros((dst.num_joints, src.num_joints), dtype=np.float32)
    for v, name in enumerate(dst.joint_names):
        for u_name, w in rules.get(name, [(name, 1.0)]):      # same name: the same joint
            W[v, src.joint_names.index(u_name)] += w
    return W


def convert_layout(data, layout=None, bodies: int | None = None, drop_bodies: bool = False):
    """``data`` (SkeletonData) in joint ``layout`` (default: its own) with ``bodies`` bodies
    (default: its own). Labels, subjects, views, names, lengths and splits are kept."""
    src = data.layout
    dst = get_layout(layout or src)
    x = np.asarray(data.x)
    if dst.name != src.name:
        W = joint_map(src, dst)
        x = np.einsum("vu,nctum->nctvm", W, x, optimize=True).astype(np.float32)
    m = x.shape[-1]
    bodies = m if bodies is None else int(bodies)
    if bodies < 1:
        raise ValueError(f"convert_layout: bodies must be >= 1, got {bodies}")
    if bodies > m:
        pad = np.zeros(x.shape[:-1] + (bodies - m,), dtype=x.dtype)
        x = np.concatenate([x, pad], axis=-1)
    elif bodies < m:
        extra = x[..., bodies:]
        if not drop_bodies and np.any(extra != 0):
            who = np.flatnonzero(np.any(extra != 0, axis=(1, 2, 3, 4)))
            name = data.names[who[0]] if data.names else f"#{who[0]}"
            raise ValueError(f"convert_layout: {len(who)} sequences (first: {name}) have a body "
                             f"beyond M={bodies}; pass drop_bodies=True to remove it")
        x = np.ascontiguousarray(x[..., :bodies])
    elif dst.name == src.name:
        return data
    return replace(data, x=x, layout=dst)
