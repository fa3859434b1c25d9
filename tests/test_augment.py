"""Batched augmentations (skelcl_lib.augment): properties, ranges, and agreement with numpy
re-statements of the official per-sample definitions (docs/methods.md §3)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from skelcl_lib import augment as A
from skelcl_lib.skeleton import NTU25

FAST = settings(max_examples=20, deadline=None)


def batch(seed=0, n=4, t=20, v=25, m=2):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, t, v, m, generator=g)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def all_transforms():
    return [
        A.Center(), A.Rotate(), A.Rotate(30, 1, symmetric=True), A.Shear(), A.Shear(0.5),
        A.TimeReverse(), A.TemporalCrop(), A.SpatialFlip(), A.GaussianNoise(),
        A.GaussianNoise(0.01, p=0.5), A.GaussianBlur(), A.GaussianBlur(normalize=True),
        A.JointMask(), A.AxisMask(), A.AxisMask(p=0.5), A.ResizedTemporalCrop(), A.ResizedTemporalCrop(p=0.5),
        A.ascal_view(), A.aimclr_normal(), A.aimclr_extreme(), A.aimclr_extreme(aug_method="123456"),
    ]


ALL = all_transforms()
IDS = [repr(t).split("(")[0] + str(i) for i, t in enumerate(ALL)]


# --------------------------------------------------------------------------- generic properties

@pytest.mark.parametrize("t", ALL, ids=IDS)
@FAST
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 5), T=st.integers(2, 40),
       m=st.integers(1, 2))
def test_shape_dtype_finite(t, seed, n, T, m):
    x = batch(seed, n, T, 25, m)
    out = t(x, generator=gen(seed))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("t", ALL, ids=IDS)
def test_fixed_seed_reproduces_batch(t):
    x = batch(1, n=8)
    a = t(x, generator=gen(123))
    b = t(x, generator=gen(123))
    c = t(x, generator=gen(124))
    assert torch.equal(a, b)
    if not isinstance(t, A.Center):
        assert not torch.equal(a, c)


@pytest.mark.parametrize("t", ALL, ids=IDS)
def test_sample_then_apply_equals_call(t):
    x = batch(2, n=6)
    out, params = t(x, generator=gen(5), return_params=True)
    assert torch.equal(t.apply(x, params), out)
    assert torch.equal(t(x, generator=gen(5)), out)


def test_global_rng_when_no_generator():
    x = batch(3)
    t = A.aimclr_extreme()
    torch.manual_seed(7)
    a = t(x)
    torch.manual_seed(7)
    assert torch.equal(a, t(x))


def test_float64_kept_and_single_sample():
    x = batch(0).double()
    assert A.aimclr_extreme()(x, generator=gen()).dtype == torch.float64
    one = A.Rotate()(x[0], generator=gen())
    assert one.shape == x[0].shape


def test_input_errors():
    with pytest.raises(ValueError, match=r"\(N, C, T, V, M\)"):
        A.Shear()(torch.zeros(3, 4))
    with pytest.raises(TypeError, match="floating"):
        A.Shear()(torch.zeros(2, 3, 4, 25, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="unknown transform 'spin'"):
        A.ascal_view("subtract_spin")
    with pytest.raises(ValueError, match="unknown ops"):
        A.aimclr_extreme(aug_method="127")
    with pytest.raises(ValueError, match="odd"):
        A.GaussianBlur(kernel_size=14)
    with pytest.raises(ValueError, match="joints"):
        A.SpatialFlip(p=1.0)(torch.zeros(2, 3, 4, 20, 1))


# --------------------------------------------------------------------------- per-transform facts

@FAST
@given(seed=st.integers(0, 2**31 - 1), symmetric=st.booleans(), other=st.sampled_from([0.0, 1.0]))
def test_rotation_keeps_bone_lengths(seed, symmetric, other):
    x = batch(seed, n=3, t=6)
    out = A.Rotate(30, other, symmetric=symmetric)(x, generator=gen(seed))
    before = A.to_bone(x, NTU25).norm(dim=1)
    after = A.to_bone(out, NTU25).norm(dim=1)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_rotation_matches_official_sequential_rotations():
    # Official AimCLR: rotate about x, then y, then z, each p' = R_axis p with the §3.1 matrices.
    def R(axis, a):
        c, s = math.cos(a), math.sin(a)
        return [np.array([[1, 0, 0], [0, c, s], [0, -s, c]]),
                np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]]),
                np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])][axis]

    x = batch(4, n=3, t=5)
    out, p = A.Rotate(30, 1)(x, generator=gen(9), return_params=True)
    for i in range(3):
        seq = x[i].double().numpy().transpose(1, 2, 3, 0)          # (T, V, M, C)
        for axis in range(3):
            seq = seq @ R(axis, math.radians(float(p["angles"][i, axis]))).T
        np.testing.assert_allclose(out[i].numpy(), seq.transpose(3, 0, 1, 2), atol=1e-5)


def test_rotation_and_shear_parameter_ranges():
    x = torch.zeros(4000, 3, 2, 25, 1)
    p = A.Rotate(30, 1).sample_params(x, gen(1))
    main = p["angles"].gather(1, p["axis"][:, None])[:, 0]
    others = p["angles"][F_mask(p["axis"])]
    assert 0 <= main.min() and main.max() <= 30 and main.max() > 29
    assert 0 <= others.min() and others.max() <= 1
    assert set(p["axis"].tolist()) == {0, 1, 2}
    ps = A.Rotate(30, 1, symmetric=True).sample_params(x, gen(1))
    assert ps["angles"].min() < -29 and ps["angles"].max() > 29 and ps["angles"].abs().max() <= 30
    pa = A.Rotate(30, 0).sample_params(x, gen(1))    # AS-CAL: one axis only
    assert (pa["angles"] != 0).sum(1).max() <= 1

    for r in (1.0, 0.5):
        S = A.Shear(r).sample_params(x, gen(2))["matrix"]
        eye = torch.eye(3, dtype=torch.bool)
        assert (S[:, eye] == 1).all()
        off = S[:, ~eye]
        assert off.abs().max() <= r and off.min() < -0.95 * r and off.max() > 0.95 * r


def F_mask(axis):
    return ~torch.nn.functional.one_hot(axis, 3).bool()


def test_shear_is_S_times_p():
    x = batch(5, n=2, t=3)
    out, p = A.Shear(0.5)(x, generator=gen(), return_params=True)
    ref = torch.einsum("nij,njtvm->nitvm", p["matrix"], x)
    torch.testing.assert_close(out, ref)


def test_spatial_flip_twice_is_identity_and_permutes_labels_only():
    x = batch(6)
    f = A.SpatialFlip(p=1.0)
    once = f(x, generator=gen())
    assert torch.equal(f(once, generator=gen()), x)
    perm = list(NTU25.flip_permutation)
    assert torch.equal(once, x[:, :, :, perm])           # coordinates not negated
    lh, rh = NTU25.index("hand_left"), NTU25.index("hand_right")
    assert torch.equal(once[:, :, :, rh], x[:, :, :, lh])


@pytest.mark.parametrize("dtype, m", [(torch.float32, 2), (torch.float32, 1), (torch.float64, 2)])
def test_spatial_flip_equals_the_permutation(dtype, m):
    """The flip gathers joints (two float32 bodies as one 8-byte word): the same as indexing with
    the permutation, for every dtype and body count; p 0.5 keeps the rest."""
    x = batch(7, n=9, m=m).to(dtype)
    out, params = A.SpatialFlip(p=0.5)(x, generator=gen(3), return_params=True)
    flipped = x[:, :, :, list(NTU25.flip_permutation)]
    assert torch.equal(out, torch.where(params["applied"][:, None, None, None, None], flipped, x))
    odd = torch.empty(x.numel() + 1, dtype=dtype)[1:].view(x.shape).copy_(x)   # odd storage offset
    assert torch.equal(A.SpatialFlip(p=0.5).apply(odd, params), out)
    assert params["applied"].any() and not params["applied"].all()


@pytest.mark.parametrize("t", [A.aimclr_extreme(), A.aimclr_extreme(aug_method="123456"), A.aimclr_normal(),
                               A.ascal_view(), A.ascal_view("_".join(A.ASCAL_TRANSFORMS))],
                         ids=["extreme", "extreme6", "normal", "ascal", "ascal_all"])
def test_compose_fusion_equals_the_transforms_one_by_one(t):
    """Compose multiplies the coordinate maps (shear, rotation) into one product across the
    transforms that commute with them, and overwrites its own intermediates: in float64 the view
    equals applying each transform in turn, and the caller's batch is left untouched."""
    x = batch(3, n=16).double()
    x0 = x.clone()
    params = t.sample_params(x, gen(11))
    fused = t.apply(x, params)
    ref = x
    for tr, p in zip(t, params):
        ref = tr.apply(ref, p)
    torch.testing.assert_close(fused, ref, rtol=1e-12, atol=1e-12)
    assert torch.equal(x, x0)
    nested = A.Compose([A.Compose(t.transforms[:2]), *t.transforms[2:]])       # a Compose inside
    params = nested.sample_params(x, gen(11))
    torch.testing.assert_close(nested.apply(x, params), fused, rtol=1e-12, atol=1e-12)


def test_time_reverse_twice_is_identity_and_moves_padding():
    x = batch(7, n=3, t=10)
    x[:, :, 7:] = 0                                        # trailing zero padding
    r = A.TimeReverse(p=1.0)
    once = r(x, generator=gen())
    assert torch.equal(r(once, generator=gen()), x)
    assert (once[:, :, :3] == 0).all() and torch.equal(once[:, :, 3], x[:, :, 6])


@pytest.mark.parametrize("T", [50, 13, 6, 5])
def test_temporal_crop_matches_numpy_symmetric_pad(T):
    x = batch(8, n=16, t=T)
    out, p = A.TemporalCrop(6)(x, generator=gen(3), return_params=True)
    pad = T // 6
    assert p["pad"] == pad
    assert p["start"].min() >= 0 and p["start"].max() <= 2 * pad
    for i in range(16):
        xi = x[i].numpy()
        padded = np.pad(xi, ((0, 0), (pad, pad), (0, 0), (0, 0)), mode="symmetric")
        s = int(p["start"][i])
        np.testing.assert_array_equal(out[i].numpy(), padded[:, s:s + T])


def test_temporal_crop_start_covers_range():
    p = A.TemporalCrop(6).sample_params(torch.zeros(2000, 3, 50, 1, 1), gen(4))
    assert set(p["start"].tolist()) == set(range(17))


def test_blur_matches_numpy_convolution_and_kernel_sums():
    x = batch(9, n=5, t=30, m=1)
    out, p = A.GaussianBlur(p=1.0)(x, generator=gen(2), return_params=True)
    r = np.arange(-7, 8)
    for i in range(5):
        w = np.exp(-r ** 2 / (2 * float(p["sigma"][i]) ** 2))
        ref = np.apply_along_axis(lambda s: np.convolve(s, w, mode="same"), 1, x[i].double().numpy())
        np.testing.assert_allclose(out[i].numpy(), ref, atol=1e-4, rtol=1e-4)
    sums = A.blur_kernels(torch.tensor([0.1, 1.0, 2.0])).sum(1)
    torch.testing.assert_close(sums, torch.tensor([1.0, 2.5066, 5.0128]), atol=2e-3, rtol=0)
    norm = A.blur_kernels(torch.tensor([0.1, 2.0]), normalize=True).sum(1)
    torch.testing.assert_close(norm, torch.ones(2))


def test_blur_sigma_range_and_probability():
    x = torch.zeros(4000, 3, 4, 1, 1)
    p = A.GaussianBlur().sample_params(x, gen(5))
    assert p["sigma"].min() >= 0.1 and p["sigma"].max() <= 2.0
    assert 0.45 < p["applied"].float().mean() < 0.55


def test_noise_std_and_padding():
    x = torch.zeros(64, 3, 20, 25, 2)                      # all padding: noise lands on it
    out = A.GaussianNoise(0.05)(x, generator=gen())
    assert abs(out.std().item() - 0.05) < 0.002 and (out != 0).all()
    p = A.GaussianNoise(0.01, p=0.5).sample_params(torch.zeros(4000, 3, 1, 1, 1), gen(1))
    assert 0.45 < p["applied"].float().mean() < 0.55


@FAST
@given(seed=st.integers(0, 2**31 - 1), T=st.integers(1, 120))
def test_joint_mask_zeroes_exactly_what_it_says(seed, T):
    x = batch(seed, n=4, t=T).abs() + 1.0                  # no zeros before masking
    out, p = A.JointMask()(x, generator=gen(seed), return_params=True)
    hit = p["frames"][:, None, :, None, None] & p["joints"][:, None, None, :, None]
    hit = hit.expand_as(x)
    assert (out[hit] == 0).all()
    assert torch.equal(out[~hit], x[~hit])
    assert torch.equal(p["joints"].sum(1), p["k"]) and torch.equal(p["frames"].sum(1), p["n"])
    lo, hi = (20, 50) if T < 100 else (50, 100)
    assert (p["n"] >= min(lo, T)).all() and (p["n"] <= min(hi, T)).all()    # clamped n <= T


def test_joint_mask_ranges_over_many_draws():
    p = A.JointMask().sample_params(torch.zeros(3000, 3, 60, 25, 1), gen(6))
    assert set(p["k"].tolist()) == set(range(5, 16))
    assert set(p["n"].tolist()) == set(range(20, 51))
    p = A.JointMask().sample_params(torch.zeros(3000, 3, 150, 25, 1), gen(6))
    assert set(p["n"].tolist()) == set(range(50, 101))


def test_axis_mask_zeroes_one_axis():
    x = batch(10, n=300).abs() + 1.0
    out, p = A.AxisMask()(x, generator=gen(), return_params=True)
    for i in range(300):
        a = int(p["axis"][i])
        assert (out[i, a] == 0).all()
        keep = [c for c in range(3) if c != a]
        assert torch.equal(out[i, keep], x[i, keep])
    assert set(p["axis"].tolist()) == {0, 1, 2}


def test_probability_gates_each_sample():
    x = batch(11, n=400)
    out, p = A.AxisMask(p=0.5)(x, generator=gen(), return_params=True)
    changed = (out != x).flatten(1).any(1)
    assert torch.equal(changed, p["applied"])
    assert 0.4 < p["applied"].float().mean() < 0.6


def test_per_sample_parameters_differ_within_batch():
    x = torch.zeros(32, 3, 50, 25, 2)
    t = A.aimclr_extreme(aug_method="123456")
    _, params = t(x, generator=gen(), return_params=True)
    crop, shear, flip, rot, noise, blur, mask, rev = params
    assert crop["start"].unique().numel() > 1
    assert shear["matrix"].flatten(1).unique(dim=0).shape[0] == 32
    assert rot["angles"].unique(dim=0).shape[0] == 32
    assert blur["sigma"].unique().numel() == 32
    for p in (flip, noise, blur, mask, rev):
        assert 0 < p["applied"].sum() < 32
    assert not torch.equal(noise["noise"][0], noise["noise"][1])


def test_center_on_spine():
    x = batch(12)
    out = A.Center(1)(x)
    assert (out[:, :, :, 1] == 0).all()
    torch.testing.assert_close(out[:, :, :, 3], x[:, :, :, 3] - x[:, :, :, 1])
    x[:, :, 5:] = 0
    assert (A.Center(1)(x)[:, :, 5:] == 0).all()           # padding stays zero


def test_zero_padding_stays_zero_under_linear_ops():
    x = batch(13)
    x[:, :, 12:] = 0
    x[:, :, :, :, 1] = 0                                   # absent second body
    for t in (A.Rotate(30, 1), A.Shear(), A.SpatialFlip(p=1), A.AxisMask()):
        out = t(x, generator=gen())
        assert (out[:, :, 12:] == 0).all() and (out[..., 1] == 0).all()


# --------------------------------------------------------------------------- presets and streams

def test_presets_compose_the_official_ops():
    kinds = lambda c: [type(t).__name__ for t in c]
    assert kinds(A.ascal_view()) == ["Center", "TimeReverse", "Shear"]
    assert A.ascal_view()[2].amplitude == 1.0 and A.ascal_view()[1].p == 0.5
    assert kinds(A.ascal_view("subtract1_rotate")) == ["Center", "Rotate"]
    assert kinds(A.aimclr_normal()) == ["TemporalCrop", "Shear"]
    assert A.aimclr_normal()[1].amplitude == 0.5 and A.aimclr_normal()[0].padding_ratio == 6
    ext = A.aimclr_extreme()
    assert kinds(ext) == ["TemporalCrop", "Shear", "SpatialFlip", "Rotate", "GaussianNoise",
                          "GaussianBlur", "AxisMask"]
    assert [t.p for t in ext] == [1.0, 1.0, 0.5, 1.0, 0.5, 0.5, 0.5]
    assert ext[3].other_angle == 1.0 and ext[4].sigma == 0.01 and not ext[5].normalize
    assert kinds(A.aimclr_extreme(aug_method="123456"))[-1] == "TimeReverse"
    fixed = A.aimclr_extreme(blur_normalize=True, rotate_symmetric=True)
    assert fixed[5].normalize and fixed[3].symmetric
    every = A.ascal_view("_".join(A.ASCAL_TRANSFORMS))
    assert len(every) == 10 and len(A.OFFICIAL_ASCAL_TRANSFORMS) == 8
    mild = A.ascal_view("subtract_shear", shear_amplitude=0.3)
    assert mild[1].amplitude == 0.3
    _, params = mild(batch(14), generator=gen(0), return_params=True)
    coeffs = params[1]["matrix"] - torch.eye(3)
    assert coeffs.abs().max() <= 0.3 and coeffs.abs().max() > 0.1
    with pytest.raises(ValueError, match="shear_amplitude"):
        A.ascal_view(shear_amplitude=0)


def test_compose_params_list_and_replay():
    x = batch(14)
    t = A.aimclr_extreme()
    out, params = t(x, generator=gen(3), return_params=True)
    assert isinstance(params, list) and len(params) == len(t)
    assert torch.equal(t.apply(x, params), out)


def test_streams():
    x = batch(15, t=6)
    m = A.to_motion(x)
    torch.testing.assert_close(m[:, :, 2], x[:, :, 3] - x[:, :, 2])
    assert (m[:, :, -1] == 0).all()
    b = A.to_bone(x, "ntu25")
    assert (b[:, :, :, NTU25.center_joint] == 0).all()
    torch.testing.assert_close(b[:, :, :, 3], x[:, :, :, 3] - x[:, :, :, 2])    # head - neck
    assert torch.equal(A.to_stream(x, "joint"), x)
    assert torch.equal(A.to_stream(x, "bone", NTU25), b)
    with pytest.raises(ValueError, match="unknown stream"):
        A.to_stream(x, "velocity")


def test_generator_on_other_device_is_explained():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    with pytest.raises(ValueError, match="generator"):
        A.Shear()(batch(0).cuda(), generator=gen())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_batches_reproduce():
    x = batch(16, n=32).cuda()
    t = A.aimclr_extreme(aug_method="123456")
    g1 = torch.Generator(device="cuda").manual_seed(0)
    g2 = torch.Generator(device="cuda").manual_seed(0)
    a, b = t(x, generator=g1), t(x, generator=g2)
    assert a.device.type == "cuda" and torch.equal(a, b)
    j = A.JointMask()(x, generator=g1)
    assert torch.isfinite(j).all()


# --------------------------------------------------------------------------- explorer logic (pure functions)

def tiny_data():
    from skelcl_lib.data import SkeletonData
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 30, 25, 2)).astype(np.float32)
    x[:, :, 20:] = 0                                       # padding after 20 frames
    return SkeletonData(x=x, y=[0, 0, 1, 1, 2, 2], layout="ntu25", subject=[1, 2, 1, 2, 1, 2],
                        view=[1, 2, 2, 1, 1, 2], lengths=[20] * 6,
                        class_names=["wave right hand", "wave left hand", "clap"])


def test_explorer_pure_functions():
    from skelcl_lib.widgets import augmentation as W
    data = tiny_data()
    opts = W.sample_options(data)
    assert [v for _, v in opts["class"]] == [0, 1, 2]
    assert opts["view"][0] == ("any", None) and [v for _, v in opts["view"][1:]] == [1, 2]
    assert W.find_sample(data, 1, subject=2) == 3
    assert W.find_sample(data, 2, view=2) == 5
    assert W.find_sample(data, 2, subject=3) is None
    for name in W.transform_names():
        x, x_aug, rows = W.explore(data, 0, name, None, seed=1)
        assert x.shape == (3, 20, 25, 2) and x_aug.shape == x.shape     # cut to the valid part
        assert np.isfinite(x_aug).all() and rows and all(len(r) == 3 for r in rows)
    # the sliders reach the transform, and the same seed gives the same draw
    t = W.build_transform("Rotate", {"max_angle": 10.0, "symmetric": True})
    assert isinstance(t, A.Rotate) and t.max_angle == 10.0 and t.symmetric and t.p == 1.0
    a, pa = W.augment_sample(data.x[0], t, seed=4)
    b, _ = W.augment_sample(data.x[0], t, seed=4)
    assert np.array_equal(a, b)
    rows = dict(((r[0], r[1]), r[2]) for r in W.describe_params(t, pa))
    assert rows[("Rotate", "axis")] in "xyz" and "°" in rows[("Rotate", "angles")]
    assert "<table" in W.params_html(W.describe_params(t, pa))
    with pytest.raises(ValueError, match="unknown transform"):
        W.controls("Spin")


def test_explorer_widget_builds(monkeypatch):
    pytest.importorskip("ipywidgets")
    from skelcl_lib import viz
    from skelcl_lib.widgets import augmentation as W
    monkeypatch.setattr(viz, "animation_html", lambda anim: "<div>animation</div>")
    monkeypatch.setattr(viz, "animate_side_by_side", lambda xs, **kw: None)
    box = W.augmentation_explorer(tiny_data(), max_frames=2)
    assert box.children and hasattr(box, "children")


def test_exercise_checkers_accept_solutions_and_reject_mistakes(capsys):
    from skelcl_lib.exercises import nb02

    def rot(axis, theta):
        c, s = np.cos(theta), np.sin(theta)
        return [np.array([[1, 0, 0], [0, c, s], [0, -s, c]]), np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]]),
                np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])][axis]

    def crop(T, pad, start):
        out = []
        for j in range(start, start + T):
            i = j - pad
            out.append(-i - 1 if i < 0 else 2 * T - 1 - i if i >= T else i)
        return out

    assert nb02.check_rotation_matrix(rot)
    assert not nb02.check_rotation_matrix(lambda a, t: rot(a, t).T)
    assert not nb02.check_rotation_matrix(lambda a, t: np.eye(3))
    assert nb02.check_indistinguishable("TimeReverse")
    assert not nb02.check_indistinguishable("Shear")
    assert nb02.check_crop_indices(crop)
    assert not nb02.check_crop_indices(lambda T, pad, start: list(range(T)))
    assert "transpose" in capsys.readouterr().out


def test_resized_temporal_crop_is_a_window_resampled_to_t():
    t = 20
    ramp = torch.arange(t, dtype=torch.float32).view(1, 1, t, 1, 1).expand(6, 3, t, 25, 2).contiguous()
    crop = A.ResizedTemporalCrop((0.5, 0.8))
    out, p = crop(ramp, generator=gen(1), return_params=True)
    assert out.shape == ramp.shape
    frames = out[:, 0, :, 0, 0]                            # the source position of each output frame
    span = frames[:, -1] - frames[:, 0]
    assert torch.allclose(span, p["ratio"] * (t - 1), atol=1e-4)
    assert ((p["ratio"] >= 0.5) & (p["ratio"] <= 0.8)).all()
    assert (frames[:, 0] >= 0).all() and (frames[:, -1] <= t - 1 + 1e-4).all()
    steps = frames[:, 1:] - frames[:, :-1]                 # evenly spaced: a linear resampling
    assert torch.allclose(steps, (span / (t - 1))[:, None].expand_as(steps), atol=1e-4)
    # p = 0 and ratio 1 are the identity
    assert torch.equal(A.ResizedTemporalCrop(p=0.0)(ramp, generator=gen(2)), ramp)
    assert torch.allclose(A.ResizedTemporalCrop((1.0, 1.0))(ramp, generator=gen(2)), ramp)
    with pytest.raises(ValueError, match="scale"):
        A.ResizedTemporalCrop((0.0, 1.0))
    assert "ResizedTemporalCrop" in repr(A.ascal_view("subtract_resizeCrop"))


@pytest.mark.parametrize("t", ALL, ids=IDS)
def test_sync_free_path_equals_the_subset_path(t, monkeypatch):
    """The accelerator path (transform all, select with the coin) gives the same views as the CPU
    path (transform only the samples that fire), from the same parameters."""
    x = batch(5, n=12)
    params = t.sample_params(x, gen(7))
    want = t.apply(x, params)
    monkeypatch.setattr(A, "SUBSET_ON_CPU", False)
    got = t.apply(x, params)
    assert torch.allclose(got, want, atol=1e-6)


def test_proper_shear_never_mirrors_and_matches_the_official_range():
    x = batch(3, n=4000, t=2, v=3, m=1)
    official = A.Shear(1.0).sample_params(x, gen(5))["matrix"]
    assert (torch.linalg.det(official) < 0).float().mean() > 0.02      # the official one mirrors
    out, params = A.ProperShear(1.0)(x, generator=gen(5), return_params=True)
    m = params["matrix"]
    assert torch.all(torch.linalg.det(m) > 0)
    assert params["redraws"].sum() > 0
    off = m - torch.eye(3)
    assert off.abs().max() <= 1.0 and off.abs().max() > 0.9 and torch.all(torch.diagonal(m, dim1=1, dim2=2) == 1)
    assert torch.allclose(out, torch.einsum("nij,njtvm->nitvm", m, x), atol=1e-5)


def test_views_without_randomflip_keep_the_time_direction():
    x = batch(4, n=64, t=12)
    centred = x - x[:, :, :, 1:2]
    for strategy in ("subtract_shear", "subtract_properShear"):
        out, params = A.ascal_view(strategy)(x, generator=gen(6), return_params=True)
        m = params[1]["matrix"]
        assert torch.allclose(out, torch.einsum("nij,njtvm->nitvm", m, centred), atol=1e-5), strategy
    out, params = A.ascal_view("subtract_randomFlip_properShear")(x, generator=gen(6), return_params=True)
    flipped = params[1]["applied"]
    assert 0 < int(flipped.sum()) < len(x)
    expect = torch.einsum("nij,njtvm->nitvm", params[2]["matrix"], centred)
    expect = torch.where(flipped[:, None, None, None, None], expect.flip(2), expect)
    assert torch.allclose(out, expect, atol=1e-5)
