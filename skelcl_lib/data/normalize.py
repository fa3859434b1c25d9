"""Body-size normalisation: scale every clip so that its performer's torso has a fixed length.

Neither official code does this (AS-CAL feeds metres as recorded, AimCLR's frame50 centres and
rotates but never scales). It is a named, opt-in preprocessing step (config ``data.normalize_scale``,
the target torso length in metres), used by the ``ascal_synthetic`` recipe: without it the AS-CAL
CAE sorts clips by the performer's height before their action (docs/results/ascal_synthetic.md).

The torso is the segment from joint 0 (NTU-25 spine base, Kinect-20 hip centre) to the layout's
``center_joint`` (NTU-25 spine shoulder, Kinect-20 shoulder centre). Its length is the median over
the frames where body 0 is present, so a few glitched frames do not move it. Every body of a clip
gets the same factor (two performers keep their relative sizes); zeros stay zero.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import get_layout


def torso_lengths(x: np.ndarray, layout) -> np.ndarray:
    """Median torso length of body 0 per clip: x (N, 3, T, V, M) -> (N,) float64.

    Frames where body 0 has no joint are skipped; a clip without any such frame gets NaN.
    """
    x = np.asarray(x)
    if x.ndim != 5 or x.shape[1] != 3:
        raise ValueError(f"torso_lengths: expected x of shape (N, 3, T, V, M), got {x.shape}")
    layout = get_layout(layout)
    if x.shape[3] != layout.num_joints:
        raise ValueError(f"torso_lengths: layout {layout.name} has {layout.num_joints} joints, "
                         f"x has {x.shape[3]}")
    body = x[..., 0].astype(np.float64)                                  # (N, 3, T, V)
    d = np.linalg.norm(body[:, :, :, layout.center_joint] - body[:, :, :, 0], axis=1)   # (N, T)
    present = np.abs(body).sum(axis=(1, 3)) > 0                          # (N, T)
    out = np.full(x.shape[0], np.nan)
    for i in np.nonzero(present.any(axis=1))[0]:
        out[i] = np.median(d[i, present[i]])
    return out


def normalize_scale(x: np.ndarray, layout, torso: float = 0.45) -> np.ndarray:
    """Scale each clip so that its median torso length (``torso_lengths``) becomes ``torso``.

    x: (N, 3, T, V, M) -> float32 array of the same shape. Clips whose torso length is not a
    positive number (no body 0, or joint 0 on top of the centre joint) are returned unchanged;
    nothing else is ever modified, and no clip is dropped.
    """
    if not (isinstance(torso, (int, float)) and not isinstance(torso, bool) and torso > 0):
        raise ValueError(f"normalize_scale: torso must be a positive length in metres, got {torso!r}")
    lengths = torso_lengths(x, layout)
    ok = np.isfinite(lengths) & (lengths > 1e-6)
    factor = np.ones(len(lengths))
    factor[ok] = float(torso) / lengths[ok]
    return (np.asarray(x, dtype=np.float32) * factor.astype(np.float32)[:, None, None, None, None])
