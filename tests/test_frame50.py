"""AimCLR frame50 preprocessing (docs/methods.md §2.3): each step on constructed inputs."""

import numpy as np
import pytest

from skelcl_lib.data.frame50 import align_shoulders_y, resample_linear, to_frame50, valid_lengths
from skelcl_lib.skeleton import NTU25

C, LS, RS = NTU25.center_joint, NTU25.left_shoulder, NTU25.right_shoulder


def rot_y(points, angle):
    """Rotate (..., 3) points about y by ``angle`` radians (x -> z positive for small angles)."""
    c, s = np.cos(angle), np.sin(angle)
    r = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])
    return points @ r.T


def body(seed=0):
    """A plausible standing body (25, 3), centre at the origin, shoulders along +x."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 0.3, size=(25, 3))
    p[C] = 0
    p[LS] = [-0.2, 0.0, 0.0]
    p[RS] = [0.2, 0.0, 0.0]
    p[0] = [0.0, -0.5, 0.05]
    return p


def sample(frames, t_total=300, m=2):
    """frames: (L, 25, 3) for body 0 -> (1, 3, t_total, 25, m), zero padded, body 1 absent."""
    x = np.zeros((1, 3, t_total, 25, m), np.float32)
    x[0, :, :len(frames), :, 0] = np.transpose(frames, (2, 0, 1))
    return x


def test_valid_length_counts_joint0_body0_frames():
    x = np.zeros((2, 3, 300, 25, 2), np.float32)
    x[0, :, :37, 0, 0] = 1.0
    x[1, 0, :5, 0, 0] = -2.0           # one non-zero coordinate is enough
    x[1, :, 5:90, 3, 1] = 1.0          # other joints / bodies do not count
    assert valid_lengths(x).tolist() == [37, 5]


def test_identity_resampling_when_length_equals_t_length():
    rng = np.random.default_rng(0)
    frames = rng.normal(size=(50, 25, 3)) + 1.0
    out = to_frame50(sample(frames), y_rotation=False)
    want = frames - frames[:, C:C + 1, :]
    np.testing.assert_allclose(out[0, :, :, :, 0], np.transpose(want, (2, 0, 1)), atol=1e-5)


def test_centre_joint_becomes_zero_in_every_frame():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 3, 300, 25, 2)).astype(np.float32) + 5
    out = to_frame50(x)
    assert out.shape == (3, 3, 50, 25, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, :, :, C, :], 0.0, atol=1e-5)


@pytest.mark.parametrize("length", [20, 50, 137, 300])
def test_linear_ramp_resampled_with_half_pixel_centres(length):
    t = np.arange(length, dtype=np.float64)
    frames = np.zeros((length, 25, 3))
    frames[:, 0, 0] = 1.0 + t            # joint 0: a ramp in x (centre joint stays 0)
    frames[:, 0, 1] = 2.0
    out = to_frame50(sample(frames), y_rotation=False)[0, 0, :, 0, 0]
    pos = np.clip((np.arange(50) + 0.5) * length / 50 - 0.5, 0, length - 1)
    np.testing.assert_allclose(out, 1.0 + pos, atol=1e-4)
    # OpenCV INTER_LINEAR clamps at the edges: upsampling repeats the end frames
    if length < 50:
        assert out[0] == pytest.approx(1.0) and out[-1] == pytest.approx(float(length))


def test_resample_lengths_override_and_zero_length():
    x = np.ones((2, 3, 10, 25, 1))
    out = resample_linear(x, [0, 4], 5)
    assert np.all(out[0] == 0) and np.allclose(out[1], 1)


@pytest.mark.parametrize("angle_deg", [30.0, -50.0, 120.0, -160.0])
def test_y_rotation_aligns_shoulders_with_x(angle_deg):
    b = body()
    frames = np.stack([rot_y(b, np.deg2rad(angle_deg))] * 40) + np.array([0.3, 0.1, 3.0])
    out = to_frame50(sample(frames))[0, :, :, :, 0]         # (3, 50, 25)
    v = out[:, :, RS] - out[:, :, LS]
    assert np.all(v[0] > 0.39)                               # right - left along +x
    np.testing.assert_allclose(v[2], 0.0, atol=1e-3)         # 1e-4 in arccos leaves ~1e-4 rad
    # the whole body comes back to its unrotated pose
    np.testing.assert_allclose(out[:, 0], b.T, atol=2e-3)


def test_one_sign_per_clip_quirk_and_per_frame_switch():
    b = body(2)
    angles = np.deg2rad([40.0] * 30 + [-20.0] * 10)           # Σ v_z > 0: one negative sign
    frames = np.stack([rot_y(b, a) for a in angles])
    quirk = to_frame50(sample(frames, t_total=40), lengths=[40], t_length=40)[0, :, :, :, 0]
    exact = to_frame50(sample(frames, t_total=40), lengths=[40], t_length=40,
                       per_frame_sign=True)[0, :, :, :, 0]
    vq = quirk[:, :, RS] - quirk[:, :, LS]
    ve = exact[:, :, RS] - exact[:, :, LS]
    np.testing.assert_allclose(vq[2, :30], 0, atol=1e-3)      # majority-sign frames aligned
    assert np.all(np.abs(vq[2, 30:]) > 0.2)                  # the others turned the wrong way
    np.testing.assert_allclose(ve[2], 0, atol=1e-3)


def test_zero_body_stays_zero():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 300, 25, 2)).astype(np.float32)
    x[:, :, :, :, 1] = 0
    x[:, :, 120:] = 0
    out = to_frame50(x)
    assert np.all(out[:, :, :, :, 1] == 0)
    assert np.all(np.isfinite(out))


def reference_frame50(x):
    """Per-sample, per-body loops written independently of the vectorised code."""
    c_, t_, v_, m_ = x.shape
    length = int((np.abs(x[:, :, 0, 0]).sum(0) != 0).sum())
    x = x - x[:, :, C:C + 1, :]
    out = np.zeros((3, 50, v_, m_))
    src = np.arange(length)
    pos = np.clip((np.arange(50) + 0.5) * length / 50 - 0.5, 0, length - 1)
    for m in range(m_):
        for c in range(3):
            for v in range(v_):
                out[c, :, v, m] = np.interp(pos, src, x[c, :length, v, m])
        vec = out[:, :, RS, m] - out[:, :, LS, m]
        vec[1] = 0
        th = np.arccos(vec[0] / (np.sqrt((vec ** 2).sum(0)) + 1e-4))
        if vec[2].sum() >= 0:
            th = -th
        for t in range(50):
            r = np.array([[np.cos(th[t]), 0, -np.sin(th[t])], [0, 1, 0], [np.sin(th[t]), 0, np.cos(th[t])]])
            out[:, t, :, m] = r @ out[:, t, :, m]
    return out


def test_vectorised_matches_loop_reference():
    rng = np.random.default_rng(4)
    x = np.zeros((4, 3, 300, 25, 2), np.float32)
    for n, length in enumerate([1, 33, 50, 300]):
        x[n, :, :length] = rng.normal(size=(3, length, 25, 2))
    x[2, :, :, :, 1] = 0
    got = to_frame50(x)
    for n in range(4):
        np.testing.assert_allclose(got[n], reference_frame50(x[n]), atol=1e-5)


def test_single_sample_and_bad_shape():
    x = np.ones((3, 60, 25, 2), np.float32)
    assert to_frame50(x).shape == (3, 50, 25, 2)
    with pytest.raises(ValueError, match="25"):
        to_frame50(np.ones((1, 3, 60, 20, 2)))
    assert to_frame50(np.ones((1, 3, 60, 20, 1)), layout="kinect20").shape == (1, 3, 50, 20, 1)


def test_align_function_directly_keeps_y():
    x = np.zeros((1, 3, 2, 25, 1))
    x[0, :, :, LS, 0] = [[0, 0], [1, 1], [0, 0]]
    x[0, :, :, RS, 0] = [[0, 0], [1, 1], [1, 1]]       # v = +z: rotate by -90 degrees
    out = align_shoulders_y(x, RS, LS)
    np.testing.assert_allclose(out[0, 1], x[0, 1])
    np.testing.assert_allclose(out[0, :, :, RS, 0] - out[0, :, :, LS, 0],
                               [[1, 1], [0, 0], [0, 0]], atol=1e-3)
