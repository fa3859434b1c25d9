# %% [markdown]
# # 02 · Augmentations: what the representation learns to ignore
#
# **Learning objectives**
#
# - Explain why, in contrastive learning, the augmentations *define* the invariances of the
#   representation.
# - Know every augmentation of AS-CAL and AimCLR, its exact parameters and the official quirks
#   (unnormalised blur, non-negative rotation angles).
# - Tell AimCLR's *normal* view from its *extreme* view, and see what an extreme augmentation
#   destroys (left vs right, the direction of time).
# - Use `skelcl_lib.augment`: batched transforms on the model's device, reproducible with a
#   `torch.Generator`, with every drawn parameter visible.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML, display

from skelcl_lib import augment as A
from skelcl_lib import viz
from skelcl_lib.data import make_synthetic
from skelcl_lib.env import smoke_mode
from skelcl_lib.skeleton import NTU25, bone_lengths

SMOKE = smoke_mode()
FRAMES = 8 if SMOKE else 40          # frames drawn per animation (keeps the HTML small)
DRAWS = 64 if SMOKE else 512         # random draws for the statistics below
data = make_synthetic(seed=0, size="tiny")
print(data.x.shape, "classes:", data.class_names)

# %% [markdown]
# ## 1. Why augmentations decide everything
#
# A contrastive method never sees a label. It sees two *views* of one sequence, made by random
# augmentations, and learns an encoder that maps both views close together and far from other
# sequences. Whatever the augmentations change, the encoder is trained to **ignore**: rotate
# the views and it must become (partly) rotation-invariant; reverse time in one of them and it
# must stop caring about the direction of time. So choosing augmentations is choosing what an
# action *is*. Too weak, and the task is trivial (match two nearly identical copies); too
# strong, and two different actions become the same thing.
#
# We use one sequence of the embedded dataset as the running example: a right-hand wave seen
# by camera 2. `x` has the layout `(C=3, T, V=25, M=2)`; we cut it to its valid frames.

# %%
def pick(label_name, view=2, subject=None):
    """The first sample of a class (by name), cut to its valid length, as a float32 tensor."""
    label = data.class_names.index(label_name)
    ok = (data.y == label) & (data.view == view)
    if subject is not None:
        ok &= data.subject == subject
    i = int(np.flatnonzero(ok)[0])
    return torch.from_numpy(data.x[i, :, : data.lengths[i]].copy())


wave = pick("wave right hand")
print("one sample:", tuple(wave.shape))
display(HTML(viz.animation_html(viz.animate(wave, max_frames=FRAMES, title="wave right hand"))))

# %% [markdown]
# ## 2. One API for every transform
#
# Every transform is a callable object on a batch `(N, C, T, V, M)` (a single sample works too).
# Each sample of the batch draws its **own** parameters, all at once, from the generator you pass,
# so a seed reproduces a batch exactly. `return_params=True` shows what was drawn.

# %%
g = torch.Generator().manual_seed(0)
rot = A.Rotate(max_angle=30, other_angle=1)          # AimCLR's rotation
batch = wave[None].repeat(4, 1, 1, 1, 1)              # 4 copies of the same sequence
out, params = rot(batch, generator=g, return_params=True)
print("main axis per sample:", params["axis"].tolist())
with np.printoptions(precision=2, suppress=True):
    print("angles (deg) per sample (x, y, z):\n", params["angles"].numpy())
same = rot(batch, generator=torch.Generator().manual_seed(0))
print("same seed, same batch:", torch.equal(out, same))

# %% [markdown]
# ## 3. The transforms, one by one
#
# The table says what each one does (docs/methods.md §3 has the exact official definitions).
#
# | class | AS-CAL name | AimCLR | what it changes |
# |---|---|---|---|
# | `Center(joint=1)` | `subtract` | (frame50 centres in preprocessing) | position: every joint relative to the middle of the spine |
# | `Rotate` | `rotate`: one axis, U(0°, 30°) | always: main axis U(0°, 30°), others U(0°, 1°) | viewpoint |
# | `Shear` | `shear`: U(−1, 1) | normal view: U(−0.5, 0.5) | body shape and viewpoint, a general linear map |
# | `TimeReverse` | `randomFlip`, p = 0.5 | op 6 (not in the default) | the direction of time |
# | `TemporalCrop` | – | normal view: shift ±8 frames, mirrored borders | start time |
# | `SpatialFlip` | – | p = 0.5, swaps left/right joint labels | handedness |
# | `GaussianNoise` | σ = 0.05 | σ = 0.01, p = 0.5 | sensor jitter |
# | `GaussianBlur` | 15 taps, σ ~ U(0.1, 2), p = 0.5 | same | speed details (and, quirk, scale) |
# | `JointMask` | `zeroOutJoints`: 5–15 joints × 20–50 frames | – | occlusion |
# | `AxisMask` | `zeroOutAxis` | p = 0.5 | one coordinate axis |
#
# The figure shows the middle frame of the wave under each spatial transform (p = 1 so that
# each one fires).

# %%
spatial = {
    "original": None,
    "Center": A.Center(1),
    "Rotate 30°": A.Rotate(30, 1),
    "Shear ±1": A.Shear(1.0),
    "SpatialFlip": A.SpatialFlip(p=1.0),
    "GaussianNoise σ=0.05": A.GaussianNoise(0.05),
    "JointMask": A.JointMask(),
    "AxisMask": A.AxisMask(),
}
mid = wave.shape[1] // 2
fig = plt.figure(figsize=(13, 6))
for k, (name, t) in enumerate(spatial.items()):
    x = wave if t is None else t(wave, generator=torch.Generator().manual_seed(k))
    ax = fig.add_subplot(2, 4, k + 1, projection="3d")
    viz.plot_skeleton(x, mid, ax=ax, title=name)
fig.tight_layout()
plt.show()

# %% [markdown]
# Three things to notice. The noise is added everywhere, also to the absent second body, which
# appears as a grey cloud at the origin: that is what the official code does (the zeros of an
# absent body are data to it). The joint mask sets joints to (0, 0, 0), the camera's position,
# here in uncentred camera space; after AS-CAL's centring the same joints land on the spine.
# The axis mask squashes the body onto a plane. Two more facts worth checking numerically:
# a rotation keeps every bone length, a shear does not.

# %%
g = torch.Generator().manual_seed(1)
change = {}
for name, t in [("Rotate", A.Rotate(30, 1)), ("Shear", A.Shear(1.0))]:
    y = t(wave, generator=g)
    change[name] = np.abs(bone_lengths(y.numpy()) - bone_lengths(wave.numpy())).max()
    print(f"{name:7s} largest bone-length change: {change[name] * 100:.3f} cm")
assert change["Rotate"] < 1e-4 < change["Shear"], "a rotation keeps bone lengths, this shear does not"

# %% [markdown]
# ### Temporal transforms
#
# Three transforms act along time. We follow the height (y) of the right hand.
#
# - `TimeReverse` plays the sequence backwards.
# - `TemporalCrop` (AimCLR) pads T // 6 frames at each end with the edge frames mirrored
#   (numpy's `'symmetric'` padding, which repeats the edge frame) and takes T frames from a
#   random start: a random shift of up to ±T/6 frames. Nothing is resized.
# - `GaussianBlur` convolves each coordinate over time with a 15-tap Gaussian. **Official quirk:**
#   the kernel is not normalised. Its taps sum to 1 at σ = 0.1 and grow with σ (the printed
#   sums), so the "blur" also *scales* the sequence, and its zero padding pulls the first and
#   last frames towards 0. `GaussianBlur(normalize=True)` (option `blur_normalize`) fixes it;
#   the default reproduces the official code.

# %%
hand = NTU25.index("hand_right")
curves = {"original": wave}
curves["TimeReverse"] = A.TimeReverse(p=1.0)(wave)
curves["TemporalCrop"] = A.TemporalCrop(6)(wave, generator=torch.Generator().manual_seed(3))
blur = A.GaussianBlur(p=1.0, sigma_range=(2.0, 2.0))
curves["GaussianBlur σ=2 (official)"] = blur(wave)
curves["GaussianBlur σ=2, normalize=True"] = A.GaussianBlur(p=1.0, sigma_range=(2.0, 2.0), normalize=True)(wave)

fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
for name, x in curves.items():
    axes[0].plot(x[1, :, hand, 0], label=name)
axes[0].set(xlabel="frame", ylabel="right hand y (m)", title="temporal transforms")
axes[0].legend(fontsize=7)
sig = torch.linspace(0.1, 2.0, 40)
axes[1].plot(sig, A.blur_kernels(sig).sum(1), label="official (unnormalised)")
axes[1].plot(sig, A.blur_kernels(sig, normalize=True).sum(1), label="normalize=True")
axes[1].set(xlabel="σ", ylabel="sum of the 15 taps = gain", title="the blur's hidden scaling")
axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
gain = A.blur_kernels(torch.tensor([0.1, 2.0])).sum(1)
print(f"sum of the official taps: {gain[0]:.2f} at σ = 0.1, {gain[1]:.2f} at σ = 2")

# %% [markdown]
# ## 4. Normal vs extreme views (AimCLR)
#
# AimCLR's **normal** view is a temporal crop then a shear (U(−0.5, 0.5)), both always. Its
# **extreme** view starts from a normal view and then *tries* five more operations in a fixed
# order, each independently: spatial flip (p 0.5), rotation (always), noise (p 0.5), blur
# (p 0.5) and axis mask (p 0.5). On average about three of them fire. The animation shows the
# original, a normal view and an extreme view of the wave.

# %%
normal, extreme = A.aimclr_normal(), A.aimclr_extreme()
g = torch.Generator().manual_seed(5)
xn = normal(wave, generator=g)
xe, ext_params = extreme(wave, generator=g, return_params=True)
fired = [type(t).__name__ for t, p in zip(extreme, ext_params) if bool(p["applied"][0])]
print("extreme ops that fired:", fired)
anim = viz.animate_side_by_side([wave, xn, xe], titles=["original", "normal", "extreme"],
                                max_frames=FRAMES)
display(HTML(viz.animation_html(anim)))

# %% [markdown]
# How far is a view from its source? We measure the mean joint displacement over many random
# draws, in camera space (the body stands about 3 m from the camera, so a shear or a rotation
# also moves it). The spread of extreme views is wide: sometimes only the rotation fires,
# sometimes the unnormalised blur multiplies every coordinate.

# %%
batch = wave[None].repeat(DRAWS, 1, 1, 1, 1)
g = torch.Generator().manual_seed(6)
dist = {}
for name, t in [("normal", normal), ("extreme", extreme)]:
    v = t(batch, generator=g)
    dist[name] = (v - batch).norm(dim=1).mean(dim=(1, 2, 3)).numpy()
plt.figure(figsize=(6.5, 3.4))
bins = np.linspace(0, max(d.max() for d in dist.values()), 40)
for name, d in dist.items():
    plt.hist(d, bins=bins, alpha=0.6, label=f"{name} (median {np.median(d):.2f} m)")
plt.xlabel("mean joint displacement from the source (m)"), plt.ylabel("views")
plt.legend(), plt.title(f"{DRAWS} views of one sequence")
plt.show()
med = {k: float(np.median(d)) for k, d in dist.items()}
print(f"median displacement: normal {med['normal']:.2f} m, extreme {med['extreme']:.2f} m; an extreme "
      f"view is {med['extreme'] / med['normal']:.1f} times as far from its source as a normal one, and its "
      f"90th percentile is {np.percentile(dist['extreme'], 90):.2f} m")

# %% [markdown]
# ## 5. What an extreme augmentation destroys
#
# ### Left vs right: the spatial flip
#
# `SpatialFlip` swaps the labels of the left and right joints (arms, legs, hands). Faithful to
# the official code, it does **not** mirror the coordinates: the left arm's trajectory is now
# called the right arm. For a model that knows which joint is which (the ST-GCN graph does), a
# flipped "wave right hand" looks like a *left* arm waving. We summarise each sequence by one
# number: the highest the right hand gets minus the highest the left hand gets.

# %%
def hand_gap(x):
    """max height of the right hand minus max height of the left hand: x (N, 3, T, V, M) -> (N,)."""
    y = x[:, 1, :, :, 0]
    return (y[:, :, NTU25.index("hand_right")].amax(1) - y[:, :, NTU25.index("hand_left")].amax(1))


def class_batch(name):
    i = np.flatnonzero(data.y == data.class_names.index(name))
    return torch.from_numpy(data.x[i])


right, left = class_batch("wave right hand"), class_batch("wave left hand")
flipped = A.SpatialFlip(p=1.0)(right)
plt.figure(figsize=(6.5, 3.2))
for name, x in [("wave right hand", right), ("wave left hand", left), ("flipped right wave", flipped)]:
    plt.hist(hand_gap(x).numpy(), bins=15, alpha=0.6, label=name)
plt.xlabel("right-hand height − left-hand height (m)"), plt.legend(fontsize=8)
plt.title("right- and left-hand waves, and a flipped right wave")
plt.show()
gap = {name: float(hand_gap(x).median()) for name, x in
       [("right wave", right), ("left wave", left), ("flipped right wave", flipped)]}
print("median gap (m):", {k: round(v, 2) for k, v in gap.items()})
same_side = np.sign(gap["flipped right wave"]) == np.sign(gap["left wave"]) != np.sign(gap["right wave"])
print("The flipped right wave " + ("lies on the left wave's side: it reads as a left wave." if same_side else
                                   "does not land on the left wave's side here."))

# %% [markdown]
# With `SpatialFlip` in the extreme view, AimCLR asks its encoder to give a right wave and its
# flip the same embedding, so the encoder is pushed to ignore handedness. That is a good prior
# for most actions ("drink water" with either hand) and a bad one for the few whose label *is*
# the hand. AimCLR's answer is to keep extreme views out of the plain InfoNCE loss and only use
# them through D3M, a softer distribution-matching loss (notebook 08).
#
# ### The direction of time
#
# The released AS-CAL strategy is `subtract_randomFlip_shear`, with a temporal reverse at p = 0.5.
# "Sit down" played backwards is very close to "stand up". The figure follows the height of
# the base of the spine.

# %%
sit, stand = pick("sit down"), pick("stand up")
plt.figure(figsize=(6.5, 3.2))
spine = NTU25.index("spine_base")
plt.plot(sit[1, :, spine, 0], label="sit down")
plt.plot(stand[1, :, spine, 0], label="stand up")
plt.plot(A.TimeReverse(p=1.0)(sit)[1, :, spine, 0], "--", label="sit down, reversed")
plt.xlabel("frame"), plt.ylabel("pelvis height y (m)"), plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 6. The augmentation explorer
#
# Pick a sample (class, subject, view), a transform or a preset, move its sliders and press
# **new random draw**. The two skeletons play side by side and the table lists what was drawn.
# Single transforms start at p = 1 so each draw shows the effect; the presets keep the official
# probabilities. (The widget needs a live kernel; on a static page you only see its first draw.)
# `max_frames` sets how many frames each animation draws: more is smoother but slower to redraw.

# %%
from skelcl_lib.widgets import augmentation_explorer

augmentation_explorer(data, max_frames=min(FRAMES, 20))

# %% [markdown]
# ## 7. Batched, on the device
#
# The official code augments one sample at a time in numpy inside the DataLoader workers. Here a
# whole batch is augmented with a few tensor operations, on whatever device holds it (pass a
# `torch.Generator(device=x.device)`). A quick timing of the full AimCLR triple (one extreme and
# two normal views) on this machine; `benchmarks/bench_augment.py` compares it with a per-sample
# numpy version. (On a busy shared CPU, torch's thread pool can make this much slower;
# `torch.set_num_threads(1)` then helps.)

# %%
import time

x = torch.from_numpy(data.x[: (16 if SMOKE else 128), :, :50].copy())
g = torch.Generator(device=x.device).manual_seed(0)
times = []
for _ in range(3 if SMOKE else 10):
    t0 = time.perf_counter()
    views = [extreme(x, generator=g), normal(x, generator=g), normal(x, generator=g)]
    times.append(time.perf_counter() - t0)
dt = min(times)                      # the best run: least disturbed by other programs
print(f"{len(x)} samples, 3 views each: {dt * 1000:.1f} ms per batch, {len(x) / dt:,.0f} samples/s")

# %% [markdown]
# Motion and bone streams are derived *after* augmentation, on the device, from the joint views:

# %%
xe = extreme(x, generator=g)
motion, bone = A.to_motion(xe), A.to_bone(xe, NTU25)
print("joint", tuple(xe.shape), "motion", tuple(motion.shape), "bone", tuple(bone.shape))
print("the centre joint's bone is zero:", bool((bone[:, :, :, NTU25.center_joint] == 0).all()))

# %% [markdown]
# ## Exercises
#
# ### Exercise 1: the rotation matrix
#
# Write `rotation_matrix(axis, theta)` returning the official 3×3 matrix for a rotation by
# `theta` radians about axis 0 (x), 1 (y) or 2 (z), applied as p′ = R p. The official R_x is
# `[[1, 0, 0], [0, cos, sin], [0, -sin, cos]]`; work out R_y and R_z in the same convention
# (`R_y` has `-sin` in row 0, column 2). The checker also verifies that bone lengths are kept.

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb02 import (SOLUTIONS, check_crop_indices, check_indistinguishable,
                                       check_rotation_matrix)


def rotation_matrix(axis, theta):
    # YOUR CODE HERE
    return np.eye(3)


check_rotation_matrix(rotation_matrix)

# %%
show_solution(SOLUTIONS, "rotation_matrix")

# %% [markdown]
# ### Exercise 2: which augmentation makes two actions the same?
#
# With the released AS-CAL strategy (`subtract_randomFlip_shear`), which transform teaches the
# encoder that "sit down" and "stand up" are the same action? Answer with the class name from
# `skelcl_lib.augment`.

# %%
answer = "Shear"  # YOUR ANSWER HERE
check_indistinguishable(answer)

# %%
show_solution(SOLUTIONS, "indistinguishable")

# %% [markdown]
# ### Exercise 3: AimCLR's mirrored crop
#
# Write `crop_indices(T, pad, start)`: the list of the T source frames that the temporal crop
# copies. The padded sequence is the first `pad` frames reversed, then the T frames, then the
# last `pad` frames reversed (the edge frame *is* repeated), and the window starts at `start`.

# %%
def crop_indices(T, pad, start):
    # YOUR CODE HERE
    return list(range(T))


check_crop_indices(crop_indices)

# %%
show_solution(SOLUTIONS, "crop_indices")

# %% [markdown]
# ## Summary
#
# - Augmentations decide what a contrastive representation ignores: viewpoint (rotation, shear),
#   start time (crop), jitter (noise), and, for the extreme ones, handedness (spatial flip) or
#   even the direction of time (reverse).
# - AS-CAL composes a strategy string; its released default is centring, reverse and shear.
#   AimCLR's normal view is crop + shear; its extreme view adds flip, rotation, noise, blur and
#   axis mask, each tried independently.
# - Official quirks are reproduced by default and each has a named switch: the unnormalised blur
#   (`GaussianBlur(normalize=True)`) and non-negative rotation angles (`Rotate(symmetric=True)`).
# - `skelcl_lib.augment` draws every sample's parameters in one batched call from a
#   `torch.Generator`, on the device, and can return them.
#
# ## References
#
# - H. Rao et al., "Augmented Skeleton Based Contrastive Action Learning with Momentum LSTM for
#   Unsupervised Action Recognition", *Information Sciences* 569 (2021); code `LZU-SIAT/AS-CAL`.
# - T. Guo et al., "Contrastive Learning from Extremely Augmented Skeleton Sequences for
#   Self-supervised Action Recognition", AAAI 2022, arXiv 2112.03590; code `Levigty/AimCLR`.
# - T. Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations"
#   (SimCLR), ICML 2020: the study of which augmentations matter.
# - `docs/methods.md` of this course: §3 (exact augmentation definitions) and §9 (quirks and options).
