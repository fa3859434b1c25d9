"""Checkers for notebook 01 (skeleton data and visualization).

Each checker runs the learner's function on data it makes itself (or on the data passed in)
and compares with the library's answer.
"""

from __future__ import annotations

import numpy as np

from . import Solution, verdict
from ..data.synthetic import CAMERA_AZIMUTH_DEG, FACED_CAMERA
from ..skeleton import NTU25, bone_lengths, get_layout
from ..viz import valid_length


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


def _shoulder_turn(sample: np.ndarray, valid_only: bool = True) -> float:
    """Reference answer: the median angle (degrees, 0-180) of the left-to-right shoulder vector
    in the ground plane (x, z) over the valid frames of person 0 (``valid_only=False``: over all
    frames, padding included: a mistake the checker recognises)."""
    n = valid_length(sample) if valid_only else sample.shape[1]
    s = sample[:, :n, NTU25.right_shoulder, 0] - sample[:, :n, NTU25.left_shoulder, 0]
    return float(np.median(np.degrees(np.arctan2(np.abs(s[2]), s[0]))))


def _reference_camera(turn: float, replication: int) -> int:
    """Reference guess: the camera whose nominal angle (0, 45, 90) is nearest to ``turn``."""
    faced = FACED_CAMERA[replication % 2]
    nominal = {v: abs(CAMERA_AZIMUTH_DEG[v] - CAMERA_AZIMUTH_DEG[faced]) for v in CAMERA_AZIMUTH_DEG}
    return min(nominal, key=lambda v: abs(nominal[v] - turn))


def _one_person(data, limit: int) -> np.ndarray:
    """Indices of up to ``limit`` one-person samples, spread over the dataset."""
    idx = np.flatnonzero(~np.any(data.x[..., 1] != 0, axis=(1, 2, 3)))
    return idx[np.linspace(0, len(idx) - 1, min(limit, len(idx))).astype(int)]


def _padded(sample: np.ndarray) -> np.ndarray:
    """The valid frames of ``sample`` followed by twice as many all-zero frames."""
    n = valid_length(sample)
    out = np.zeros((sample.shape[0], 3 * n) + sample.shape[2:], sample.dtype)
    out[:, :n] = sample[:, :n]
    return out


def _angles(fn, samples):
    got = []
    for x in samples:
        out, err = _call(fn, x)
        if err:
            return None, err
        if out.size != 1:
            return None, f"Return one number (degrees), got an array of shape {out.shape}."
        got.append(float(out.ravel()[0]))
    return np.array(got), None


def check_facing_angle(fn, data, limit: int = 60, tol: float = 3.0) -> bool:
    """``fn(sample) -> degrees``: how far the performer is turned away from facing the camera.

    Checked on one-person samples of the embedded dataset (``data``), as given and with extra
    zero padding, against the median angle of the shoulder line in the ground plane over the
    valid frames; 90 % of the answers must be within ``tol`` degrees of it.
    """
    if data.dataset != "synthetic":
        return verdict(False, hint="Pass the embedded dataset (make_synthetic); its camera angles are known.")
    idx = _one_person(data, limit)
    truth = np.array([_shoulder_turn(data.x[i]) for i in idx])
    got, err = _angles(fn, [data.x[i] for i in idx])
    if err:
        return verdict(False, hint=err)
    ok = np.abs(got - truth) <= tol
    if ok.mean() < 0.9:
        if np.all(np.abs(got) <= np.pi + 1e-6) and np.abs(got).max() > 0.2:
            return verdict(False, hint="The numbers look like radians: convert with np.degrees.")
        if np.mean(got < -tol) > 0.1:
            return verdict(False, hint="Some angles are negative: the turn is a size, 0 to 180 degrees. "
                                       "Take the angle of (x, |z|), e.g. np.arctan2(np.abs(z), x).")
        with_padding = np.array([_shoulder_turn(data.x[i], valid_only=False) for i in idx])
        if np.mean(np.abs(got - with_padding) <= tol) >= 0.9:
            return verdict(False, hint="Your median counts the zero padding after the valid frames (an "
                                       "all-zero frame gives an angle of 0). Use only the valid frames "
                                       "(viz.valid_length(sample)).")
        if np.mean(np.abs(got - (180 - truth)) <= tol) >= 0.9:
            return verdict(False, hint="Your angles are 180 minus the expected ones: take the vector from "
                                       "the LEFT shoulder to the RIGHT shoulder (facing the camera it "
                                       "points along +x, i.e. 0 degrees).")
        return verdict(False, hint=f"Only {ok.mean():.0%} within {tol:.0f} degrees. Use the vector from the "
                                   "left to the right shoulder in the ground plane (x, z), not (x, y): "
                                   "facing the camera it points along +x (0 degrees), seen from the side "
                                   "along z (90). Take the median over the valid frames of person 0.")
    padded, err = _angles(fn, [_padded(data.x[i]) for i in idx])
    if err:
        return verdict(False, hint=f"On a sample with zero padding: {err}")
    if np.mean(np.abs(padded - truth) <= tol) < 0.9:
        return verdict(False, hint="Right on the samples as given, wrong once more zero frames are appended: "
                                   "the padding counts in your median. Use only the valid frames "
                                   "(viz.valid_length(sample)).")
    return verdict(True, f"{ok.mean():.0%} of {len(idx)} samples within {tol:.0f} degrees of the shoulder-line "
                         "angle, zero padding ignored.")


def check_guess_camera(fn, data, limit: int = 60, margin: float = 0.05) -> bool:
    """``fn(sample, replication) -> camera id (1, 2, 3)`` from the skeleton.

    Each performance is turned by up to +-30 degrees from the camera it faces, so a guess from
    the angle alone cannot always be right. The answer passes when it is right at least as often
    as the nearest-nominal-angle guess on the same samples (minus ``margin``).
    """
    if data.dataset != "synthetic":
        return verdict(False, hint="Pass the embedded dataset (make_synthetic).")
    idx = _one_person(data, limit)
    rep = _replication(data.names)
    got = []
    for i in idx:
        out, err = _call(fn, data.x[i], int(rep[i]))
        if err:
            return verdict(False, hint=err)
        got.append(int(out.ravel()[0]) if out.size == 1 else -1)
    got = np.array(got)
    truth = data.view[idx]
    reference = np.array([_reference_camera(_shoulder_turn(data.x[i]), int(rep[i])) for i in idx])
    acc, best = float(np.mean(got == truth)), float(np.mean(reference == truth))
    if acc >= best - margin:
        return verdict(True, f"{acc:.0%} of {len(idx)} cameras right; the nearest of 0, 45 and 90 degrees "
                             f"gets {best:.0%} here. The rest is the +-30 degree turn of each performance: "
                             "a camera at 45 degrees can then see 15 or 75.")
    parity = rep[idx] % 2
    by_rep = {r: float(np.mean(got[parity == r] == truth[parity == r])) for r in np.unique(parity)}
    if len(by_rep) == 2 and min(by_rep.values()) < best - 0.3 and max(by_rep.values()) >= best - margin:
        return verdict(False, hint=f"{acc:.0%} right: good for one replication parity, poor for the other. "
                                   "Replication 1 (odd) faces camera 2, replication 2 (even) faces camera 3.")
    return verdict(False, hint=f"{acc:.0%} right (the nearest-angle guess gets {best:.0%}). Replication 1 "
                               "faces camera 2 (so camera 1 sees 45 degrees, camera 3 sees 90); replication 2 "
                               "faces camera 3 (camera 1: 45, camera 2: 90).")


SOLUTIONS = {
    "to_sample": Solution(
        code="""\
def to_sample(frames):
    return frames.transpose(2, 0, 1)[..., None]   # (T, V, C) -> (C, T, V) -> (C, T, V, 1)
""",
        note="""`reshape(3, T, V, 1)` gives the right shape with scrambled values: reshape never moves data
between axes, transpose does."""),
    "facing_angle": Solution(
        code="""\
def facing_angle(sample):
    n = viz.valid_length(sample)
    s = sample[:, :n, NTU25.right_shoulder, 0] - sample[:, :n, NTU25.left_shoulder, 0]  # (3, n)
    return float(np.median(np.degrees(np.arctan2(np.abs(s[2]), s[0]))))

def guess_camera(sample, replication):
    turn = int(np.argmin(np.abs(facing_angle(sample) - np.array([0, 45, 90]))))  # 0, 1, 2
    faced = 2 if replication % 2 == 1 else 3           # the camera the performer faces
    side = 5 - faced                                   # the other +-45 degree camera
    return [faced, 1, side][turn]
""",
        note="""This works for one person; in the handshake the performer faces the partner, not a camera."""),
    "bone_lengths": Solution(
        code="""\
def my_bone_lengths(x, layout):
    parents = np.asarray(layout.parents)
    return np.linalg.norm(x - x[:, :, parents], axis=0)
""",
        note="""The library has the same function: `skelcl_lib.skeleton.bone_lengths(x, layout)`."""),
}
