"""AimCLR's "frame50" preprocessing (docs/methods.md §2.3), vectorised over the batch.

From 300-frame st-gcn arrays to what AimCLR trains on, per sample:

1. valid length L = number of frames where joint 0 of body 0 is non-zero (before centring);
3. centring: every body minus its own centre joint (NTU: 20, spine shoulder), every frame;
4. resampling: the first L frames linearly interpolated to ``t_length`` frames;
5. y-alignment: per body and frame, a rotation about y that makes right - left shoulder
   (y set to 0) parallel to +x.

Step 2 (the motion array) is unused by AimCLR and not computed here.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import get_layout


def valid_lengths(x: np.ndarray) -> np.ndarray:
    """Frames where joint 0 of body 0 is non-zero, per sample. x: (N, C, T, V, M) -> (N,) int64.

    This is AimCLR's count, not the last non-zero index: a frame without a body in the middle
    of a clip is not counted (pass ``lengths=`` to ``to_frame50`` to override).
    """
    return (np.abs(x[:, :, :, 0, 0]).sum(axis=1) != 0).sum(axis=1).astype(np.int64)


def resample_linear(x: np.ndarray, lengths: np.ndarray, t_length: int) -> np.ndarray:
    """Linearly resample the first ``lengths[n]`` frames of each sample to ``t_length`` frames.

    x: (N, C, T, V, M) -> (N, C, t_length, V, M) float64. Semantics of OpenCV's
    ``cv2.resize(..., INTER_LINEAR)`` along time (what AimCLR calls): output frame t samples the
    source at ``(t + 0.5) * L / t_length - 0.5`` (half-pixel centres), clamped to ``[0, L - 1]``
    (edge replication). Samples with L = 0 come back all zero (OpenCV would refuse them).
    """
    n = x.shape[0]
    lengths = np.asarray(lengths, dtype=np.int64).reshape(n)
    length = np.maximum(lengths, 1).astype(np.float64)[:, None]                   # (N, 1)
    pos = (np.arange(t_length, dtype=np.float64)[None, :] + 0.5) * length / t_length - 0.5
    pos = np.clip(pos, 0.0, length - 1.0)                                          # (N, t_length)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, length.astype(np.int64) - 1)
    w = (pos - lo)[:, None, :, None, None]
    take = lambda idx: np.take_along_axis(x, idx[:, None, :, None, None], axis=2)  # noqa: E731
    out = take(lo).astype(np.float64) * (1.0 - w) + take(hi).astype(np.float64) * w
    out[lengths <= 0] = 0.0
    return out


def align_shoulders_y(x: np.ndarray, right: int, left: int, per_frame_sign: bool = False) -> np.ndarray:
    """Rotate every body about y so that right - left shoulder (y := 0) points along +x.

    x: (N, C, T, V, M). θ_t = arccos(v_x / (‖v‖ + 1e-4)); quirk of AimCLR's
    ``parallel_skeleton``: one sign for the whole clip, negated when Σ_t v_z >= 0, so frames
    whose v_z has the other sign turn the wrong way (``per_frame_sign=True`` uses each frame's
    own sign instead). All-zero bodies/frames stay zero.
    """
    v = x[:, :, :, right, :] - x[:, :, :, left, :]                 # (N, C, T, M)
    vx, vz = v[:, 0], v[:, 2]                                       # (N, T, M)
    norm = np.sqrt(vx ** 2 + vz ** 2)
    theta = np.arccos(np.clip(vx / (norm + 1e-4), -1.0, 1.0))
    if per_frame_sign:
        sign = np.where(vz >= 0, -1.0, 1.0)
    else:
        sign = np.where(vz.sum(axis=1, keepdims=True) >= 0, -1.0, 1.0)  # (N, 1, M): one per clip
    theta = theta * sign
    c, s = np.cos(theta)[:, :, None, :], np.sin(theta)[:, :, None, :]  # (N, T, 1, M)
    px, py, pz = x[:, 0], x[:, 1], x[:, 2]                             # (N, T, V, M)
    return np.stack([c * px - s * pz, py, s * px + c * pz], axis=1)


def to_frame50(x: np.ndarray, lengths=None, layout="ntu25", t_length: int = 50,
               y_rotation: bool = True, per_frame_sign: bool = False) -> np.ndarray:
    """AimCLR frame50 of st-gcn samples. x: (N, 3, T, V, M) (or one (3, T, V, M)) -> float32
    (N, 3, t_length, V, M).

    ``lengths`` overrides the valid length of step 1; ``per_frame_sign`` see
    :func:`align_shoulders_y`.
    """
    lay = get_layout(layout)
    x = np.asarray(x)
    single = x.ndim == 4
    if single:
        x = x[None]
    if x.ndim != 5 or x.shape[1] != 3 or x.shape[3] != lay.num_joints:
        raise ValueError(f"to_frame50: expected x of shape (N, 3, T, {lay.num_joints}, M), got {x.shape}")
    lengths = valid_lengths(x) if lengths is None else np.asarray(lengths, dtype=np.int64)
    c = lay.center_joint
    centred = x - x[:, :, :, c:c + 1, :]                            # step 3, per body and frame
    out = resample_linear(centred, lengths, t_length)               # step 4
    if y_rotation:                                                  # step 5
        out = align_shoulders_y(out, lay.right_shoulder, lay.left_shoulder, per_frame_sign)
    out = out.astype(np.float32)
    return out[0] if single else out
