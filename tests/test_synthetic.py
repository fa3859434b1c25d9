"""The embedded procedural dataset: determinism, layout, protocols, kinematics, padding, CLI."""

import importlib.util

import numpy as np
import pytest

from skelcl_lib.data import synthetic as syn
from skelcl_lib.data.synthetic import make_synthetic
from skelcl_lib.skeleton import NTU25, bone_lengths


@pytest.fixture(scope="module")
def tiny():
    return make_synthetic(seed=3, num_subjects=4, repetitions=1, cache=False)


@pytest.fixture(scope="module")
def clean():
    return make_synthetic(seed=3, num_subjects=3, repetitions=1, noise=False, glitches=False,
                          cache=False)


def test_same_seed_is_bit_identical_and_other_seed_differs(tiny):
    again = make_synthetic(seed=3, num_subjects=4, repetitions=1, cache=False)
    assert again.x.tobytes() == tiny.x.tobytes()
    for k in ("y", "subject", "view", "lengths"):
        np.testing.assert_array_equal(getattr(again, k), getattr(tiny, k))
    assert again.names == tiny.names
    other = make_synthetic(seed=4, num_subjects=4, repetitions=1, cache=False)
    assert other.x.shape == tiny.x.shape and not np.array_equal(other.x, tiny.x)


def test_shapes_dtypes_and_metadata(tiny):
    n = 4 * 1 * len(syn.ACTIONS) * 3
    assert tiny.x.shape == (n, 3, 150, 25, 2) and tiny.x.dtype == np.float32
    assert np.isfinite(tiny.x).all()
    assert tiny.layout is NTU25 and tiny.dataset == "synthetic"
    assert tiny.class_names == syn.CLASS_NAMES and tiny.num_classes == len(syn.ACTIONS)
    assert set(tiny.view.tolist()) == {1, 2, 3} and (tiny.setup == 1).all()
    assert tiny.y.min() == 0 and tiny.y.max() == len(syn.ACTIONS) - 1
    assert ((tiny.lengths >= syn.MIN_FRAMES) & (tiny.lengths <= 150)).all()
    for name, s, v, y in zip(tiny.names, tiny.subject, tiny.view, tiny.y):
        assert len(name) == 20 and name.startswith("S001")
        assert name[4:8] == f"C{v:03d}" and name[8:12] == f"P{s:03d}" and name[16:] == f"A{y + 1:03d}"
    assert len(set(tiny.names)) == n


def test_splits_are_subject_and_view_disjoint(tiny):
    tr = tiny.splits["xsub"]
    assert tr.any() and (~tr).any()
    assert not set(tiny.subject[tr]) & set(tiny.subject[~tr])
    assert set(tiny.subject[tr]) <= syn.XSUB_TRAIN_SUBJECTS
    tr = tiny.splits["xview"]
    assert set(tiny.view[tr]) == {2, 3} and set(tiny.view[~tr]) == {1}


def test_xsub_is_half_of_forty_subjects():
    train = syn._xsub_train(np.arange(1, 41))
    assert train.sum() == 20


def test_subject_traits_in_range_and_independent_of_other_parameters():
    tr = syn.subject_traits(0, np.arange(1, 201))
    assert (tr["height"] >= 1.5).all() and (tr["height"] <= 1.95).all()
    assert tr["height"].std() > 0.08                   # really different bodies
    again = syn.subject_traits(0, [7])
    assert again["height"][0] == tr["height"][6] and (again["style"][0] == tr["style"][6]).all()


def test_measured_height_follows_the_traits(clean):
    # standing first frame, camera-independent: head joint ~0.94 H above the feet
    h = syn.subject_traits(3, clean.subject)["height"]
    x = clean.x[:, :, 0, :, 0]                                          # (N, 3, V)
    span = np.linalg.norm(x[:, :, 3] - (x[:, :, 15] + x[:, :, 19]) / 2, axis=1)
    standing = clean.y == syn.CLASS_NAMES.index("clap")
    ratio = span[standing] / h[standing]
    assert ((ratio > 0.8) & (ratio < 1.0)).all()


def test_bone_lengths_constant_without_noise(clean):
    for i in range(0, len(clean), 7):
        L = clean.lengths[i]
        b_all = bone_lengths(clean.x[i, :, :L], NTU25)                   # (L, V, M)
        for m in range(2):
            if not clean.x[i, ..., m].any():
                continue
            b = b_all[..., m]
            assert np.abs(b - b[:1]).max() < 2e-5, (clean.names[i], m)
            assert (b[:, [v for v in range(25) if v != NTU25.center_joint]] > 0.01).all()


def test_noise_changes_bone_lengths(tiny):
    b = bone_lengths(tiny.x[0, :, :tiny.lengths[0]], NTU25)[..., 0]
    assert b.std(axis=0).max() > 1e-3


def test_zero_padding_and_second_body(tiny):
    t = np.arange(tiny.x.shape[2])
    pad = t[None, :] >= tiny.lengths[:, None]                              # (N, T)
    assert not np.abs(tiny.x).transpose(0, 2, 1, 3, 4)[pad].any()
    two = np.array([syn.ACTIONS[c].persons == 2 for c in tiny.y])
    assert two.any()
    assert not tiny.x[~two, ..., 1].any()
    valid = ~pad[two]
    body2 = np.abs(tiny.x[two, ..., 1]).sum(axis=(1, 3))                  # (n, T)
    assert (body2[valid] > 0).all()
    body1 = np.abs(tiny.x[..., 0]).sum(axis=(1, 3))
    assert (body1[~pad] > 0).all()


def test_camera_space_is_plausible(tiny):
    # performers stand 2-5.5 m from the camera (two people: one a bit further); head above pelvis
    L = tiny.lengths
    z = np.array([tiny.x[i, 2, :L[i], 0, 0].mean() for i in range(len(tiny))])
    assert (z > 1.5).all() and (z < 5.5).all()
    up = tiny.x[:, 1, 0, 3, 0] - tiny.x[:, 1, 0, 0, 0]
    assert (up > 0.3).all()


def test_views_see_the_same_performance(clean):
    # the three cameras record one performance: same label and body, rigidly related poses; each
    # camera starts on its own and drops frames, so lengths and time axes may differ
    key = [n[8:] for n in clean.names]
    i = clean.names.index("S001C001" + key[0])
    j = clean.names.index("S001C002" + key[0])
    assert clean.y[i] == clean.y[j]
    bi = bone_lengths(clean.x[i, :, :clean.lengths[i]], NTU25).mean(axis=0)
    bj = bone_lengths(clean.x[j, :, :clean.lengths[j]], NTU25).mean(axis=0)
    np.testing.assert_allclose(bi, bj, atol=1e-5)
    assert not np.allclose(clean.x[i], clean.x[j], atol=1e-2)


def test_cameras_start_at_different_times(clean):
    # same performance, three cameras: the valid lengths are not all equal
    per = {}
    for n, L in zip(clean.names, clean.lengths):
        per.setdefault(n[8:], []).append(int(L))
    assert sum(len(set(v)) > 1 for v in per.values()) >= len(per) // 2


def _speed(x, lengths):
    """Mean joint speed (m / frame) of body 1 per frame: (N, T - 1), NaN past the valid length."""
    v = np.linalg.norm(np.diff(x[..., 0], axis=2), axis=1).mean(axis=-1)    # (N, T - 1)
    v[np.arange(v.shape[1])[None, :] >= lengths[:, None] - 1] = np.nan
    return v


def test_random_onset_idle_before_the_action(clean):
    # the performer idles for a random time first: in many clips the first 15 frames are near
    # static, and the frame where the motion starts spreads over the clip
    v = _speed(clean.x, clean.lengths)
    peak = np.nanmax(v, axis=1)
    start_still = np.nanmax(v[:, :15], axis=1) < 0.1 * peak
    assert start_still.mean() > 0.3
    onset = np.array([np.argmax(r > 0.3 * p) for r, p in zip(np.nan_to_num(v), peak)])
    assert np.std(onset) > 10 and onset.max() - onset.min() > 40


def test_default_config_metadata():
    assert len(syn.ACTIONS) >= 12 and any(a.persons == 2 for a in syn.ACTIONS)
    assert syn.SIZES["full"][0] >= 40
    rows = syn.describe()
    assert [r["name"] for r in rows] == syn.CLASS_NAMES and all(r["kinematics"] for r in rows)
    assert "handshake" in syn.describe(as_text=True)


def test_class_subset_keeps_global_labels():
    shake = syn.CLASS_NAMES.index("handshake")
    d = make_synthetic(seed=0, num_subjects=2, repetitions=1, classes=[shake, 2], cache=False)
    assert set(d.y.tolist()) == {2, shake} and d.num_classes == len(syn.ACTIONS)
    full = make_synthetic(seed=0, num_subjects=2, repetitions=1, classes=[2], cache=False)
    i = d.names.index(full.names[0])
    assert np.array_equal(d.x[i], full.x[0])          # a performance does not depend on the others


def test_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        make_synthetic(size="huge")
    with pytest.raises(ValueError, match="num_subjects"):
        make_synthetic(num_subjects=0, cache=False)


def test_cache_write_uses_a_private_temporary_file(tmp_path, monkeypatch):
    # two processes writing the same cache entry must not share a temporary file
    import os
    seen = []
    real = np.savez
    monkeypatch.setattr(syn.np, "savez", lambda f, **kw: (seen.append(str(f)), real(f, **kw)))
    d = make_synthetic(seed=1, num_subjects=1, repetitions=1, classes=[0], cache=False)
    syn._to_npz(tmp_path / "synthetic_x.npz", d, {"seed": 1})
    assert len(seen) == 1 and str(os.getpid()) in seen[0]
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic_x.npz"]
    np.testing.assert_array_equal(syn._from_npz(tmp_path / "synthetic_x.npz").x, d.x)


def test_cache_equals_regeneration(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path))
    kw = dict(seed=1, num_subjects=2, repetitions=1, classes=[0, len(syn.ACTIONS) - 1])
    fresh = make_synthetic(**kw, cache=False)
    first = make_synthetic(**kw, cache=True)
    assert len(list(tmp_path.glob("synthetic_*.npz"))) == 1
    cached = make_synthetic(**kw, cache=True)
    for d in (first, cached):
        assert d.x.tobytes() == fresh.x.tobytes() and d.names == fresh.names
        for k in ("y", "subject", "view", "lengths", "setup"):
            np.testing.assert_array_equal(getattr(d, k), getattr(fresh, k))
        for k in fresh.splits:
            np.testing.assert_array_equal(d.splits[k], fresh.splits[k])
        assert d.class_names == fresh.class_names and d.dataset == fresh.dataset


@pytest.mark.skipif(importlib.util.find_spec("skelcl_lib.data.formats") is None,
                    reason="skelcl_lib.data.formats (save_stgcn/load_stgcn) is not written yet")
def test_cli_writes_stgcn_files_that_round_trip(tmp_path, capsys):
    from skelcl_lib.data.formats import load_stgcn

    rc = syn.cli(["--out", str(tmp_path), "--seed", "2", "--subjects", "2", "--size", "tiny"])
    assert rc == 0
    assert "synthetic" in capsys.readouterr().out
    ref = make_synthetic(seed=2, num_subjects=2, size="tiny", cache=False)
    for p in ("xsub", "xview"):
        for part, mask in (("train", ref.splits[p]), ("val", ~ref.splits[p])):
            if not mask.any():   # an empty part is written, but a reader refuses N = 0
                with pytest.raises(ValueError, match="no empty dimension"):
                    load_stgcn(tmp_path / p / f"{part}_data.npy", tmp_path / p / f"{part}_label.pkl")
                continue
            d = load_stgcn(tmp_path / p / f"{part}_data.npy", tmp_path / p / f"{part}_label.pkl",
                           mmap=False)
            assert d.x.dtype == np.float32 and d.x.shape == (int(mask.sum()), 3, 150, 25, 2)
            np.testing.assert_array_equal(d.x, ref.x[mask])
            np.testing.assert_array_equal(d.y, ref.y[mask])
            assert d.names == [n for n, k in zip(ref.names, mask) if k]
            np.testing.assert_array_equal(d.subject, ref.subject[mask])
            np.testing.assert_array_equal(d.view, ref.view[mask])


def test_euler_matrix_is_ry_rz_rx_and_a_rotation():
    a = np.random.default_rng(0).normal(size=(50, 3)) * 2
    r = syn.euler_to_matrix(a)
    ref = syn._rot("y", a[:, 1]) @ syn._rot("z", a[:, 2]) @ syn._rot("x", a[:, 0])
    np.testing.assert_allclose(r, ref, atol=1e-12)
    np.testing.assert_allclose(r @ r.transpose(0, 2, 1), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
