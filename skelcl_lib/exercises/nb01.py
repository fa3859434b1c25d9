"""Checkers for notebook 01 (skeleton data and visualization).

Each checker runs the learner's function on data it makes itself (or on the data passed in)
and compares with the library's answer.
"""

from __future__ import annotations

import numpy as np

from ..data.synthetic import CAMERA_AZIMUTH_DEG, FACED_CAMERA
from ..skeleton import bone_lengths, get_layout
from . import verdict


def _call(fn, *args):
    """Run the learner's function; a crash becomes a hint instead of a traceback."""
    try:
        out = fn(*args)
        if hasattr(out, "detach"):
            out = out.detach().cpu().numpy()
        return np.asarray(out), None
    except Exception as e:  # the learner's code, any error
        return None, f"your function raised {type(e).__name__}: {e}"


def check_to_sample(fn) -> bool:
    """``fn(frames)`` turns N-UCLA frames ``(T, V, 3)`` into one sample ``(3, T, V, M=1)``."""
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(7, 20, 3)).astype(np.float32)
    expected = frames.transpose(2, 0, 1)[..., None]
    out, err = _call(fn, frames.copy())
    if err:
        return verdict(False, hint=err)
    if out.shape != expected.shape:
        return verdict(False, hint=f"For frames of shape (T=7, V=20, 3) expected shape {expected.shape} "
                                   f"(C, T, V, M), got {out.shape}.")
    if not np.allclose(out, expected):
        if np.allclose(out.ravel(), frames.ravel()):
            return verdict(False, hint="The shape is right but the values are scrambled: reshape keeps "
                                       "memory order; move axes with transpose instead.")
        return verdict(False, hint="The shape is right but the values are not: out[c, t, v, 0] must be frames[t, v, c].")
    return verdict(True, "Correct: (T, V, C) -> transpose(2, 0, 1) -> add the person axis.")


def check_bone_lengths(fn) -> bool:
    """``fn(x, layout)`` returns bone lengths ``(T, V, M)`` of one sample ``x: (3, T, V, M)``."""
    rng = np.random.default_rng(1)
    for name in ("ntu25", "kinect20"):
        lay = get_layout(name)
        x = rng.normal(size=(3, 5, lay.num_joints, 2)).astype(np.float32)
        expected = bone_lengths(x, lay)
        out, err = _call(fn, x.copy(), lay)
        if err:
            return verdict(False, hint=err)
        if out.shape != expected.shape:
            return verdict(False, hint=f"For x of shape {x.shape} ({lay.name}) expected lengths of shape "
                                       f"{expected.shape} (T, V, M), got {out.shape}.")
        if not np.allclose(out, expected, atol=1e-5):
            return verdict(False, hint=f"{lay.name}: values differ. Bone v goes from joint "
                                       "layout.parents[v] to joint v: subtract the parents "
                                       "(x - x[:, :, parents]) and take the norm over axis 0 (C).")
    return verdict(True, "Correct for both NTU-25 and Kinect-20 layouts.")


def _replication(names) -> np.ndarray:
    return np.array([int(n[13:16]) for n in names])  # SsssCcccPpppRrrrAaaa


def _expected_turn(data) -> np.ndarray:
    """How far (degrees) each synthetic performer is turned from facing the camera: 0, 45 or 90."""
    rep = _replication(data.names)
    return np.array([abs(CAMERA_AZIMUTH_DEG[v] - CAMERA_AZIMUTH_DEG[FACED_CAMERA[r % 2]])
                     for v, r in zip(data.view, rep)], dtype=float)


def _one_person(data, limit: int) -> np.ndarray:
    """Indices of up to ``limit`` one-person samples, spread over the dataset."""
    idx = np.flatnonzero(~np.any(data.x[..., 1] != 0, axis=(1, 2, 3)))
    return idx[np.linspace(0, len(idx) - 1, min(limit, len(idx))).astype(int)]


def check_facing_angle(fn, data, limit: int = 60, tol: float = 20.0) -> bool:
    """``fn(sample) -> degrees``: how far the performer is turned away from facing the camera.

    Checked on one-person samples of the embedded dataset (``data``): the truth is 0, 45 or 90
    degrees (plus a few degrees of jitter); 90 % of the answers must be within ``tol``.
    """
    if data.dataset != "synthetic":
        return verdict(False, hint="Pass the embedded dataset (make_synthetic); its camera angles are known.")
    idx = _one_person(data, limit)
    truth = _expected_turn(data)[idx]
    got = []
    for i in idx:
        out, err = _call(fn, data.x[i])
        if err:
            return verdict(False, hint=err)
        if out.size != 1:
            return verdict(False, hint=f"Return one number (degrees), got an array of shape {out.shape}.")
        got.append(float(out.ravel()[0]))
    got = np.array(got)
    ok = np.abs(got - truth) <= tol
    if ok.mean() >= 0.9:
        return verdict(True, f"{ok.mean():.0%} of {len(idx)} samples within {tol:.0f} degrees of the truth.")
    if np.all(np.abs(got) <= 2 * np.pi + 1e-6) and np.abs(got).max() > 0.2:
        return verdict(False, hint="The numbers look like radians: convert with np.degrees.")
    return verdict(False, hint=f"Only {ok.mean():.0%} within {tol:.0f} degrees. Use the vector from the left to "
                               "the right shoulder in the ground plane (x, z): facing the camera it points "
                               "along +x (0 degrees), seen from the side along z (90). Take the median over "
                               "the valid frames.")


def check_guess_camera(fn, data, limit: int = 60) -> bool:
    """``fn(sample, replication) -> camera id (1, 2, 3)`` from the skeleton; 90 % must be right."""
    if data.dataset != "synthetic":
        return verdict(False, hint="Pass the embedded dataset (make_synthetic).")
    idx = _one_person(data, limit)
    rep = _replication(data.names)
    got = []
    for i in idx:
        out, err = _call(fn, data.x[i], int(rep[i]))
        if err:
            return verdict(False, hint=err)
        got.append(int(out.ravel()[0]) if out.size else -1)
    acc = float(np.mean(np.array(got) == data.view[idx]))
    if acc >= 0.9:
        return verdict(True, f"{acc:.0%} of {len(idx)} cameras right.")
    return verdict(False, hint=f"{acc:.0%} right. Replication 1 faces camera 2 (so camera 1 sees 45 degrees, "
                               "camera 3 sees 90); replication 2 faces camera 3 (camera 1: 45, camera 2: 90).")
