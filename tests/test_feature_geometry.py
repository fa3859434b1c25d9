"""skelcl_lib.evaluate.geometry, benchmarks/stgcn_feature_geometry.py and evaluate.metrics.accuracy_noise."""

import numpy as np
import pytest
import torch

from datapaths import load_script
from skelcl_lib.evaluate.geometry import feature_geometry, top_direction

geometry = load_script("benchmarks/stgcn_feature_geometry.py")


def test_one_direction_has_effective_rank_one_and_all_the_variance():
    rng = np.random.default_rng(0)
    f = np.outer(rng.standard_normal(50), rng.standard_normal(8)) + 10.0    # rank 1 + a common offset
    g = feature_geometry(f)
    assert g["effective_rank"] == pytest.approx(1.0, abs=1e-6)
    assert g["top_share"] == pytest.approx(1.0, abs=1e-9)
    assert g["mean_cosine"] > 0.9                      # the offset makes every row point one way


def test_isotropic_features_spread_over_every_direction():
    f = torch.randn(4000, 6, generator=torch.Generator().manual_seed(0))
    g = feature_geometry(f)
    assert 5.9 < g["effective_rank"] <= 6.0
    assert g["top_share"] < 0.2
    assert abs(g["mean_cosine"]) < 0.02


def test_mean_cosine_is_the_off_diagonal_mean():
    f = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    e = f / np.linalg.norm(f, axis=1, keepdims=True)
    sim = e @ e.T
    assert feature_geometry(f)["mean_cosine"] == pytest.approx(sim[~np.eye(3, dtype=bool)].mean())


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"expected features of shape \(N, D\) with N >= 2, got \(1, 3\)"):
        feature_geometry(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"expected clips of shape \(N, C, T, V, M\)"):
        geometry.motion_energy(np.ones((2, 3, 4)))


def test_constant_features_have_no_direction():
    assert feature_geometry(np.ones((5, 3))) == {"mean_cosine": pytest.approx(1.0), "effective_rank": 0.0,
                                                 "top_share": 0.0}


def test_a_row_finds_the_direction_that_follows_motion():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3, 6, 5, 1)) * rng.uniform(0.1, 3, (40, 1, 1, 1, 1))   # clips that move more or less
    energy = geometry.motion_energy(x)
    assert energy.shape == (40,) and (energy > 0).all()
    y = np.arange(40) % 2
    f = np.outer(energy, rng.uniform(1, 2, 16)) + 0.01 * rng.standard_normal((40, 16))
    row = geometry.geometry_row(f, y, f, y, energy)
    assert row["top_vs_motion"] > 0.99 and row["top_share"] > 0.99
    # on one ray every clip looks the same to a cosine read-out: 1-NN is near chance (0.5)
    assert row["knn1"] < 0.8
    distinct = np.eye(40) + 0.1                        # every clip its own direction
    assert geometry.geometry_row(distinct, y, distinct, y, energy)["knn1"] == 1.0
    assert np.abs(top_direction(f)).max() > 0


def test_accuracy_noise_is_two_standard_errors_at_its_largest():
    from skelcl_lib.evaluate.metrics import accuracy_noise
    assert accuracy_noise(100) == pytest.approx(0.1)        # 2 * sqrt(0.25 / 100)
    assert accuracy_noise(1800) == pytest.approx(2 * np.sqrt(0.5 * 0.5 / 1800))
    with pytest.raises(ValueError, match="at least one test clip, got n = 0"):
        accuracy_noise(0)
