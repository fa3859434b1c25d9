"""Body-size normalisation (``data.normalize_scale``): exact torso lengths, zeros kept, no clip lost."""

import numpy as np
import pytest

from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data
from skelcl_lib.data.normalize import normalize_scale, torso_lengths
from skelcl_lib.skeleton import get_layout


def _clip(torso: float, frames: int = 6, bodies: int = 2, seed: int = 0) -> np.ndarray:
    """One (3, T, 25, M) clip: random joints, body 0's spine shoulder exactly ``torso`` above its
    spine base in every frame; body 1 (when present) twice as big."""
    rng = np.random.default_rng(seed)
    lay = get_layout("ntu25")
    x = rng.normal(size=(3, frames, 25, bodies)).astype(np.float32)
    x[:, :, lay.center_joint, 0] = x[:, :, 0, 0] + np.array([0.0, torso, 0.0], np.float32)[:, None]
    if bodies > 1:
        x[..., 1] = 2 * x[..., 0]
    return x


def test_torso_lengths_is_the_median_over_present_frames_and_nan_without_a_body():
    a = _clip(0.5)
    a[:, 2, :, 0] = 0.0                                   # an empty frame is skipped
    a[:, 3, 20, 0] = a[:, 3, 0, 0] + 5.0                  # one glitched frame does not move the median
    b = np.zeros_like(a)                                  # no body at all
    out = torso_lengths(np.stack([a, b]), "ntu25")
    assert out[0] == pytest.approx(0.5, abs=1e-6) and np.isnan(out[1])


def test_normalize_scale_sets_every_torso_and_keeps_zeros_bodies_and_clips():
    x = np.stack([_clip(0.3, seed=1), _clip(0.6, seed=2), np.zeros((3, 6, 25, 2), np.float32)])
    x[0, :, 4:] = 0.0                                     # trailing zero padding
    x[1, ..., 1] = 0.0                                    # an absent second body
    y = normalize_scale(x, "ntu25", torso=0.45)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(torso_lengths(y[:2], "ntu25"), [0.45, 0.45], rtol=1e-5)
    np.testing.assert_allclose(y[0], x[0] * (0.45 / 0.3), rtol=1e-5)      # one factor per clip
    assert (y[0, :, 4:] == 0).all() and (y[1, ..., 1] == 0).all()         # zeros stay zero
    np.testing.assert_array_equal(y[2], x[2])                             # nothing to scale: unchanged


def test_normalize_scale_refuses_bad_arguments():
    x = np.stack([_clip(0.5)])
    for bad in (0, -1.0, True, "0.45"):
        with pytest.raises(ValueError, match="torso"):
            normalize_scale(x, "ntu25", torso=bad)
    with pytest.raises(ValueError, match="layout ntu25"):
        torso_lengths(np.zeros((1, 3, 4, 20, 1)), "ntu25")
    with pytest.raises(ValueError, match=r"\(N, 3, T, V, M\)"):
        torso_lengths(np.zeros((3, 4, 25, 1)), "ntu25")


def test_build_data_applies_normalize_scale_after_frame50_and_names_a_bad_value():
    over = ["data.max_train=12", "data.max_test=6"]
    plain, _ = build_data(load_config("ascal_tiny", over + ["data.normalize_scale=null"]))
    scaled, test = build_data(load_config("ascal_tiny", over + ["data.normalize_scale=0.5"]))
    assert scaled.x.shape == plain.x.shape == (12, 3, 50, 25, 2)
    np.testing.assert_allclose(torso_lengths(scaled.x, scaled.layout), 0.5, rtol=1e-4)
    np.testing.assert_allclose(torso_lengths(test.x, test.layout), 0.5, rtol=1e-4)
    ratio = scaled.x[plain.x != 0] / plain.x[plain.x != 0]
    assert np.all(ratio > 0) and (scaled.x[plain.x == 0] == 0).all()
    with pytest.raises(ValueError, match="data.normalize_scale"):
        build_data(load_config("ascal_tiny", over + ["data.normalize_scale=big"]))
