# %% [markdown]
# # 01 · Skeleton data and visualization
#
# Before we train anything we look hard at the data. Everything later in the course (the
# augmentations, the encoders, the losses) works on the arrays you meet here.
#
# **Learning objectives.** After this notebook you can
#
# 1. name the 25 NTU joints and say what a *bone* is in our code (`layout.parents`);
# 2. read and index the `(N, C, T, V, M)` tensor, including zero padding and absent persons;
# 3. describe the course's embedded dataset: classes, subjects, cameras, lengths and splits;
# 4. see why cross-subject and cross-view evaluation are hard, from pictures;
# 5. load N-UCLA (Kinect v1, 20 joints) and read an NTU `.skeleton` file;
# 6. compute bone lengths and a performer's angle to the camera from raw coordinates;
# 7. preview the *bone* and *motion* streams that AimCLR trains on.

# %%
import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch

from skelcl_lib import augment, viz
from skelcl_lib.data import make_synthetic
from skelcl_lib.env import smoke_mode
from skelcl_lib.skeleton import KINECT20, NTU25, bone_lengths

SMOKE = smoke_mode()
MAX_FRAMES = 4 if SMOKE else 24       # frames per animation: longer clips are sub-sampled, which
                                      # keeps each embedded animation near half a megabyte
print("smoke mode:", SMOKE)

# %% [markdown]
# ## 1. Joints and bones
#
# A Kinect v2 camera (used for NTU RGB+D, PKU-MMD and our embedded dataset) tracks **25 joints**
# per person. Each has an index (0–24 in Python; papers count 1–25) and a name. Our code stores the
# skeleton as a tree: `NTU25.parents[v]` is the joint that *bone v* starts from, so the bone vector
# is `x[v] - x[parents[v]]`. The **centre joint** (20, the spine between the shoulders) is its own
# parent: its bone is always zero. That is the convention of the AimCLR and ST-GCN code.
#
# To draw all joints without overlap we pose one synthetic person with the arms held away from
# the body. The generator builds bodies by forward kinematics, bone by bone from `spine_base`,
# so we can ask it for a rest pose.

# %%
from skelcl_lib.data.synthetic import forward_kinematics, rest_offsets, subject_traits


def rest_pose(arm_deg: float = 40.0, leg_deg: float = 8.0) -> np.ndarray:
    """One person of the embedded dataset standing with the arms out: x (3, T=1, V=25, M=1)."""
    off = rest_offsets(subject_traits(seed=0, subjects=[1]))           # (1, 25, 3) bone offsets
    ang = np.zeros((1, 1, 25, 3))
    ang[0, 0, [9, 17], 2] = np.radians([arm_deg, leg_deg])             # right upper arm, thigh
    ang[0, 0, [5, 13], 2] = -np.radians([arm_deg, leg_deg])            # left upper arm, thigh
    pos = forward_kinematics(off, ang, root=np.array([[[0.0, 0.0, 3.0]]]), yaw=np.zeros((1, 1)))
    return pos[0, 0].T[:, None, :, None].astype(np.float32)


viz.plot_layout(rest_pose(), title="NTU-25 joints (a person facing the camera)")
plt.show()

print("bones (child <- parent):")
print(", ".join(f"{v}<-{p}" for v, p in enumerate(NTU25.parents)))

# %% [markdown]
# Notice two things. The person's **right** side is on the **left** of the picture: we draw
# what the camera sees of a person facing it (Kinect's x axis points to the camera's left).
# And the hand tip hangs from the thumb (bones `21<-22<-7`), as in the official bone list,
# although anatomically both hang from the hand.
#
# ## 2. The `(N, C, T, V, M)` tensor
#
# A dataset is one float32 array:
#
# | axis | size (NTU) | meaning |
# |---|---|---|
# | N | number of sequences | one action clip each |
# | C | 3 | x, y, z in metres, in the camera's frame (y up, z away from the camera) |
# | T | 300 for NTU (150 here) | frames at 30 fps; shorter clips are **zero-padded** at the end |
# | V | 25 | joints |
# | M | 2 | persons; an absent second person is **all zeros** |
#
# We generate the embedded dataset (the full size takes longest; every size is generated once and
# cached afterwards).

# %%
data = make_synthetic(seed=0, size="tiny" if SMOKE else "full")
print(data.summary())
print("x:", data.x.shape, data.x.dtype, f"{data.x.nbytes / 2**20:.0f} MiB")

# %% [markdown]
# Indexing reads like the axis names. The height (y) of the head (joint 3) of the first person in
# sequence 0 over its first five frames:

# %%
i = 0
print(data.names[i], "-", data.class_names[data.y[i]])
print("head y, frames 0-4:", data.x[i, 1, :5, 3, 0].round(3))
print("second person present:", bool(np.any(data.x[i, :, :, :, 1])))
print("valid length:", data.lengths[i], "of T =", data.x.shape[2])

# %% [markdown]
# Zero padding is easy to see: here is, for the first 40 sequences, which frames hold a skeleton.

# %%
present = np.any(data.x[:40] != 0, axis=(1, 3, 4))                  # (40, T)
fig, ax = plt.subplots(figsize=(9, 3.2))
ax.imshow(present, aspect="auto", cmap="Greys", interpolation="nearest")
ax.set_xlabel("frame t"), ax.set_ylabel("sequence n")
ax.set_title("frames with a skeleton (black) and zero padding (white)")
plt.show()

# %% [markdown]
# **Exercise 1 (the tensor layout).** N-UCLA's JSON files store one person's clip as a list of
# frames, each a list of 20 joints, each `[x, y, z]`: an array of shape `(T, V, C)`. Write
# `to_sample(frames)` returning our layout for one sample, `(C, T, V, M=1)`.

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb01 import (SOLUTIONS, check_bone_lengths, check_facing_angle,
                                       check_guess_camera, check_to_sample)


def to_sample(frames: np.ndarray) -> np.ndarray:
    """frames: (T, V, 3) -> (3, T, V, 1)."""
    return frames   # your code here


check_to_sample(to_sample)

# %%
show_solution(SOLUTIONS, "to_sample")

# %% [markdown]
# Coordinates over time are the raw signal the encoders read. Here are both hands of a
# "wave right hand" clip seen from the front (camera 2), and how far each hand travels sideways
# (x) and per frame, measured on this clip:

# %%
wave = int(np.flatnonzero((data.y == data.class_names.index("wave right hand")) & (data.view == 2))[0])
viz.plot_trajectories(data.x[wave], ["hand_right", "hand_left"], title=data.names[wave])
plt.show()
n_wave = int(data.lengths[wave])
travel = {}
for hand in ("hand_right", "hand_left"):
    p = data.x[wave, :, :n_wave, NTU25.index(hand), 0]                      # (3, n)
    step = np.linalg.norm(np.diff(p, axis=1), axis=0)                       # metres per frame
    sideways = np.percentile(p[0], 95) - np.percentile(p[0], 5)             # ignores rare spikes
    travel[hand] = sideways
    print(f"{hand}: sideways range {100 * sideways:.0f} cm (5th-95th percentile), median step "
          f"{100 * np.median(step):.1f} cm/frame, largest step {100 * step.max():.0f} cm at frame "
          f"{int(step.argmax()) + 1}")
ratio = travel["hand_right"] / travel["hand_left"]
print(f"The right hand sweeps {ratio:.1f} times as far sideways as the left one"
      if ratio >= 1.5 else
      f"Here the left hand travels about as far as the right one ({ratio:.1f}x): the performer "
      "also moves the other arm, or the sensor swapped the hands for some frames")
print("A step of 10 cm or more in one frame (1/30 s) is not a movement but a tracking glitch "
      "(section 5)." if max(np.linalg.norm(np.diff(data.x[wave, :, :n_wave, NTU25.index(h), 0], axis=1),
                                           axis=0).max() for h in travel) >= 0.1 else
      "No hand jumps by 10 cm or more in one frame here: no tracking glitch on the hands.")

# %% [markdown]
# ## 3. The embedded dataset
#
# Real skeleton datasets sit behind request forms, so the course ships a generator. It simulates
# people of different heights, proportions, tempo and style performing 15 actions (one of them,
# the handshake, by two people), recorded by three cameras like NTU's, with sensor jitter and
# occasional tracking glitches. Each class and the motion behind it:

# %%
from skelcl_lib.data.synthetic import describe

assert len(data.class_names) == 15
print(describe(as_text=True))

# %% [markdown]
# The design is balanced: every subject performs every action, and every performance is recorded
# by all three cameras. The two protocols, as in NTU RGB+D:
#
# - **cross-subject (xsub)**: train on some performers, test on the others;
# - **cross-view (xview)**: train on cameras 2 and 3, test on camera 1.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
ax = axes[0]
subjects = np.unique(data.subject)
train_sub = [data.splits["xsub"][data.subject == s][0] for s in subjects]
ax.bar(subjects, [np.sum(data.subject == s) for s in subjects],
       color=["tab:green" if t else "tab:gray" for t in train_sub])
ax.set_title("sequences per subject (green: xsub train)"), ax.set_xlabel("subject")
ax = axes[1]
views = np.unique(data.view)
ax.bar(views, [np.sum(data.view == v) for v in views],
       color=["tab:green" if v != 1 else "tab:gray" for v in views])
ax.set_title("sequences per camera (green: xview train)"), ax.set_xlabel("camera")
ax.set_xticks(views)
ax = axes[2]
ax.hist(data.lengths, bins=20, color="tab:blue")
ax.set_title("valid length (frames at 30 fps)"), ax.set_xlabel("frames")
fig.tight_layout()
plt.show()

# %% [markdown]
# One clip per class, as still frames. Names follow NTU's pattern `SsssCcccPpppRrrrAaaa`:
# setup, camera, performer, replication, action.

# %%
classes = [0, 2, 4, 13] if SMOKE else [0, 2, 4, 6, 9, 13]
fig = plt.figure(figsize=(2.6 * len(classes), 2.9))
for k, c in enumerate(classes):
    j = int(np.flatnonzero((data.y == c) & (data.view == 2))[0])
    ax = fig.add_subplot(1, len(classes), k + 1, projection="3d")
    viz.plot_skeleton(data.x[j], t=int(data.lengths[j]) // 2, ax=ax, title=data.class_names[c])
fig.tight_layout()
plt.show()

# %% [markdown]
# Still frames hide most of an action. Animations show it (press ▶; the loop button repeats).
# The handshake is the one two-person class: the second person has its own colours.

# %%
picks = [int(np.flatnonzero((data.y == c) & (data.view == 2))[0]) for c in (0, 5, 13)]
viz.show_animation([data.x[j] for j in picks], titles=[data.class_names[data.y[j]] for j in picks],
                   max_frames=MAX_FRAMES)

# %% [markdown]
# For a closer look, the interactive plotly version: rotate with the mouse, play or drag the slider.

# %%
viz.plotly_skeleton(data.x[picks[2]], title=data.names[picks[2]], max_frames=MAX_FRAMES)

# %% [markdown]
# ## 4. Why cross-subject and cross-view are hard
#
# **Different people.** The same action by the tallest and the shortest performer, seen by the
# same camera. Heights, proportions, speed and style all differ, and the encoder must still map
# both to "wave right hand".

# %%
head, feet = NTU25.index("head"), [NTU25.index("foot_left"), NTU25.index("foot_right")]
same = np.flatnonzero((data.y == 0) & (data.view == 2))
height = np.array([data.x[j, 1, 0, head, 0] - data.x[j, 1, 0, feet, 0].min() for j in same])
short, tall = same[np.argmin(height)], same[np.argmax(height)]
print(f"subject {data.subject[tall]}: {height.max():.2f} m head to feet, {data.lengths[tall]} frames; "
      f"subject {data.subject[short]}: {height.min():.2f} m, {data.lengths[short]} frames")
viz.show_animation([data.x[tall], data.x[short]], max_frames=MAX_FRAMES,
                   titles=[f"subject {data.subject[tall]}", f"subject {data.subject[short]}"])

# %% [markdown]
# **Different cameras.** One performance, recorded by the three cameras at once. The skeleton is
# the same; its coordinates are not. The cameras stand 45° apart: in replication 1 the performer
# faces camera 2, so camera 1 sees a 45° view and camera 3 a side view (in replication 2 the
# performer faces camera 3). "Faces" is loose: every performance is turned by up to ±30° from
# that camera, and the body sways. We pick, among all punch performances, the one whose
# measured angles (of the shoulder line in the middle frame, as drawn below) come nearest to 0°,
# 45° and 90°, and print them; other performances are turned further.

# %%
def frame_turn(sample: np.ndarray) -> float:
    """Angle (degrees) of the left-to-right shoulder line in the ground plane, in the middle valid
    frame: 0 when the person faces the camera, 90 from the side."""
    f = int(viz.valid_length(sample)) // 2
    s = sample[:, f, NTU25.right_shoulder, 0] - sample[:, f, NTU25.left_shoulder, 0]
    return float(np.degrees(np.arctan2(abs(s[2]), s[0])))


punches = np.array(data.names)[(data.y == data.class_names.index("punch")) & (data.view == 1)]
trios = [[data.names.index(nm.replace("C001", f"C{c:03d}")) for c in (1, 2, 3)] for nm in punches]
nominal = {1: [45, 0, 90], 0: [45, 90, 0]}                        # replication parity -> cameras 1, 2, 3
trio = min(trios, key=lambda tr: max(abs(frame_turn(data.x[j]) - a)
                                     for j, a in zip(tr, nominal[int(data.names[tr[0]][13:16]) % 2])))
name = data.names[trio[0]]
turns = {int(data.view[j]): frame_turn(data.x[j]) for j in trio}
print(name[:16], "seen by cameras 1, 2, 3: the shoulder line is turned by",
      ", ".join(f"{turns[c]:.0f}°" for c in (1, 2, 3)))
viz.show_animation([data.x[j] for j in trio], titles=[f"camera {data.view[j]}" for j in trio],
                   max_frames=MAX_FRAMES)

# %% [markdown]
# Looking from above (the x–z ground plane) shows what changes between cameras: the direction of
# the **shoulder line** (left shoulder → right shoulder, drawn thick). Facing the camera it runs
# along x; seen from the side it runs along z, away from the camera.

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), sharex=True, sharey=True)
ls, rs = NTU25.left_shoulder, NTU25.right_shoulder
for ax, j in zip(axes, trio):
    f = int(viz.valid_length(data.x[j])) // 2                        # the frame frame_turn measures
    p = data.x[j, :, f, :, 0]                                         # (3, V)
    centre = p[:, NTU25.center_joint]
    ax.scatter(p[0] - centre[0], p[2] - centre[2], s=10, color="0.5")
    ax.plot(*(np.stack([p[[0, 2], ls], p[[0, 2], rs]]) - centre[[0, 2]]).T, lw=4, color="tab:purple")
    ax.plot(p[0, rs] - centre[0], p[2, rs] - centre[2], "o", color="tab:red", label="right shoulder")
    ax.set_title(f"camera {data.view[j]}: turned {turns[int(data.view[j])]:.0f}°"), ax.set_xlabel("x (m)")
    ax.set_aspect("equal")
axes[0].set_ylabel("z: away from the camera (m)")
axes[0].legend(fontsize=8)
for ax in axes:
    ax.set_xlim(0.35, -0.35), ax.set_ylim(-0.35, 0.35)
fig.suptitle("top view of one frame, centred on the spine at the shoulders (camera at the bottom)")
fig.tight_layout()
plt.show()

# %% [markdown]
# **Exercise 2 (a camera from a skeleton).** (a) Write `facing_angle(sample)`: how many degrees
# the performer is turned away from facing the camera (0 = facing it, 90 = side view), from the
# shoulder line of person 0, as the median over the valid frames (one frame, as in `frame_turn`
# above, is at the mercy of sway and glitches). (b) Use it to guess which camera recorded a sample,
# given its replication number (the `R` field of the name). The ±30° turn of each performance
# means no rule on the angle alone is always right: the checker compares you with the best
# simple rule, the nearest of the nominal 0°, 45° and 90°.

# %%
def facing_angle(sample: np.ndarray) -> float:
    """sample: (3, T, V, M) -> degrees in [0, 180]."""
    return 0.0   # your code here


def guess_camera(sample: np.ndarray, replication: int) -> int:
    """The camera (1, 2 or 3) that recorded the sample."""
    return 1   # your code here


check_facing_angle(facing_angle, data)
check_guess_camera(guess_camera, data)

# %%
show_solution(SOLUTIONS, "facing_angle")

# %% [markdown]
# A linear classifier on raw coordinates sees very different numbers for the three recordings of
# one performance. Augmentations that rotate and shear the skeleton (notebook 02) teach the
# encoder to ignore exactly this.
#
# ## 5. Bones have fixed lengths
#
# A body's bones do not stretch. The camera measures joints, not bones, so lengths computed from
# joints wobble with sensor noise.
#
# **Exercise 3.** Write `my_bone_lengths(x, layout)` for one sample `x: (3, T, V, M)`: the length
# of bone v (joint `layout.parents[v]` to joint v) for every frame and person, shape `(T, V, M)`.

# %%
def my_bone_lengths(x: np.ndarray, layout) -> np.ndarray:
    """x: (3, T, V, M) -> (T, V, M)."""
    return np.zeros(x.shape[1:])   # your code here


check_bone_lengths(my_bone_lengths)

# %%
show_solution(SOLUTIONS, "bone_lengths")

# %% [markdown]
# The generator can switch the sensor simulation off (`noise=False, glitches=False`). Without it,
# the bone lengths are constant to float32 precision (asserted below); with it they jitter (the
# printed line names the bones that jitter most), and a tracking glitch, where a joint jumps away
# for a few frames, shows up as a spike.

# %%
kw = dict(seed=0, num_subjects=1, repetitions=1, classes=[data.class_names.index("punch")])
clean, noisy = make_synthetic(noise=False, glitches=False, **kw), make_synthetic(**kw)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True)
show = ["elbow_right", "wrist_right", "knee_left", "spine_mid"]
sds = {}
for ax, d, name in zip(axes, (clean, noisy), ("without sensor noise", "with sensor noise")):
    n = int(d.lengths[1])
    b = bone_lengths(d.x[1, :, :n], NTU25)                               # (n, V, M)
    for joint in show:
        ax.plot(b[:, NTU25.index(joint), 0], label=f"bone to {joint}")
    sd = sds[name] = 1000 * np.delete(b.std(axis=0), NTU25.center_joint, axis=0)[:, 0]   # mm, per bone
    ax.set_title(f"{name}: std over time per bone, median {np.median(sd):.1f} mm, "
                 f"largest {sd.max():.1f} mm", fontsize=10)
    ax.set_xlabel("frame")
axes[0].set_ylabel("length (m)"), axes[1].legend(fontsize=8)
fig.tight_layout()
plt.show()
bone_ends = np.delete(np.array(NTU25.joint_names), NTU25.center_joint)
assert sds["without sensor noise"].max() < 0.01, "without sensor noise a bone keeps its length"
print(f"without sensor noise the largest std of a bone length is {sds['without sensor noise'].max():.1e} mm; "
      f"with it, the bones that jitter most end at "
      + ", ".join(bone_ends[np.argsort(sds["with sensor noise"])[::-1][:5]]) + ".")

# %% [markdown]
# ## 6. N-UCLA: real Kinect v1 recordings, 20 joints
#
# Northwestern-UCLA (N-UCLA) has 1,484 clips of 10 actions by 10 people, each recorded by three
# Kinect v1 cameras. Kinect v1 tracks **20 joints**: no neck, hand tips or thumbs, and its centre
# joint is `shoulder_center`. The course reads the CTR-GCN `all_sqe` JSON files; the data is for
# research use only, so it is not part of the repository. Set the environment variable
# `SKELCL_NUCLA` to your `all_sqe` folder; otherwise this section is skipped.

# %%
from skelcl_lib.data import load_nucla

nucla_root = pathlib.Path(os.environ.get("SKELCL_NUCLA", "all_sqe"))
nucla = None
if nucla_root.is_dir() and any(nucla_root.glob("*.json")):
    nucla = load_nucla(nucla_root)
    print(nucla.summary())
    print(f"median valid length: {np.median(nucla.lengths):.0f} frames")
else:
    print(f"N-UCLA not found at {nucla_root.resolve()}: skipping this section "
          "(set SKELCL_NUCLA to the all_sqe folder to run it)")

# %%
if nucla is not None:
    k = int(np.flatnonzero((nucla.view == 1) & (nucla.lengths > 20))[0])
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    viz.plot_layout(rest_pose(), ax=axes[0], title="NTU-25 (Kinect v2)")
    viz.plot_layout(nucla.x[k], t=0, layout=KINECT20, ax=axes[1],
                    title=f"Kinect v1, 20 joints: {nucla.names[k]}")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# Real recordings are short (the median length is printed above), one person each, and noisier
# than the generator. One clip per camera of the same action:

# %%
if nucla is not None:
    a = nucla.class_names.index("pick up with one hand")
    clips = [int(np.flatnonzero((nucla.y == a) & (nucla.view == v) & (nucla.subject == 1))[0])
             for v in (1, 2, 3)]
    fig, ax = plt.subplots(figsize=(6, 2.6))
    ax.hist(nucla.lengths, bins=40, color="tab:blue")
    ax.set_xlabel("frames"), ax.set_title("N-UCLA valid lengths")
    plt.show()
    display(viz.show_animation([nucla.x[j] for j in clips], layout=KINECT20, max_frames=MAX_FRAMES,
                               titles=[nucla.names[j] for j in clips]))

# %% [markdown]
# ## 7. The NTU `.skeleton` file format
#
# NTU RGB+D distributes one text file per clip, named like the synthetic clips
# (`S001C002P003R002A013.skeleton`). The grammar, one record per line:
#
# ```
# numFrames
# for each frame:
#     numBodies                       (may be 0)
#     for each body:
#         bodyID clippedEdges handLeftConfidence handLeftState handRightConfidence
#             handRightState isRestricted leanX leanY trackingState      (10 fields)
#         numJoints                   (25)
#         for each joint:
#             x y z depthX depthY colorX colorY orientationW orientationX orientationY
#                 orientationZ trackingState                          (12 fields)
# ```
#
# `x y z` are the camera-space metres we use; `depthX depthY` and `colorX colorY` are pixel
# positions in the depth and colour images; the orientation is a quaternion; the joint
# `trackingState` is 0 (not tracked), 1 (inferred) or 2 (tracked). The readers keep only x, y, z.
#
# Let us write a tiny file by hand: the first frames of a handshake (two bodies), then one frame
# in which the camera lost everyone.

# %%
def write_ntu_skeleton(path, x: np.ndarray, empty_frames: int = 1) -> None:
    """x: (3, T, 25, M) -> a .skeleton file; pixel positions, orientations and states are fillers."""
    lines = [str(x.shape[1] + empty_frames)]
    for t in range(x.shape[1]):
        bodies = [m for m in range(x.shape[3]) if np.any(x[:, t, :, m])]
        lines.append(str(len(bodies)))
        for m in bodies:
            lines.append(f"{72057594037928000 + m} 0 1 1 1 1 0 0.01 0.05 2")
            lines.append(str(x.shape[2]))
            for v in range(x.shape[2]):
                px, py, pz = (float(c) for c in x[:, t, v, m])
                lines.append(f"{px:.7f} {py:.7f} {pz:.7f} 250.0 200.0 1000.0 500.0 1 0 0 0 2")
    lines += ["0"] * empty_frames
    pathlib.Path(path).write_text("\n".join(lines) + "\n")


from skelcl_lib.data import read_ntu_skeleton

shake = int(np.flatnonzero(data.y == data.class_names.index("handshake"))[0])
tiny = data.x[shake, :, :3]                                     # (3, T=3, 25, 2)
with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / (data.names[shake] + ".skeleton")
    write_ntu_skeleton(path, tiny)
    text = path.read_text().splitlines()
    print(f"{path.name}: {len(text)} lines; the first 5:")
    print("\n".join(text[:5]))
    parsed = read_ntu_skeleton(path)

print("parsed:", parsed.shape, "(C, T, V, M)")
print("frames 0-2 equal to what we wrote:", np.allclose(parsed[:, :3], tiny, atol=1e-6))
print("frame 3 (no body) is a zero frame:", not parsed[:, 3].any())
viz.plot_skeleton(parsed, t=1, title="parsed back from the .skeleton file")
plt.show()

# %% [markdown]
# A real NTU file has up to 300 frames and sometimes more than two "bodies" (the sensor mistakes
# chairs or tables for people); `skelcl prepare-ntu` (notebook 10) turns a folder of such files
# into the arrays we use.
#
# ## 8. Preview: joint, motion and bone streams
#
# AimCLR trains three separate models on three views of the same data and adds their scores
# (notebook 08):
#
# - **joint**: the coordinates themselves;
# - **motion**: the frame-to-frame difference `x[t+1] - x[t]` (velocity);
# - **bone**: `x[v] - x[parents[v]]`, the vector along each bone.
#
# `skelcl_lib.augment` computes them on batches `(N, C, T, V, M)` on any device.

# %%
j = wave
n = int(data.lengths[j])
xb = torch.from_numpy(data.x[j:j + 1, :, :n])                           # (1, 3, n, V, M)
motion = augment.to_motion(xb)[0, :, :-1, :, 0].numpy()                 # drop the last (zero) frame
bone = augment.to_bone(xb, NTU25)[0, :, :, :, 0].numpy()
fig, axes = plt.subplots(1, 3, figsize=(14, 4), sharey=True)
panels = [(np.linalg.norm(data.x[j, :, :n, :, 0] - data.x[j, :, :n, NTU25.spine_joint:NTU25.spine_joint + 1, 0],
                          axis=0), "joint: distance to the spine (m)"),
          (np.linalg.norm(motion, axis=0) * 30, "motion: speed (m/s)"),
          (np.linalg.norm(bone, axis=0), "bone: length (m)")]
for ax, (img, name) in zip(axes, panels):
    # colour scale up to the 99th percentile, so a rare tracking glitch does not wash it out
    im = ax.imshow(img.T, aspect="auto", cmap="viridis", interpolation="nearest",
                   vmax=np.percentile(img, 99))
    ax.set_title(name, fontsize=10), ax.set_xlabel("frame")
    fig.colorbar(im, ax=ax, fraction=0.046)
axes[0].set_yticks(range(NTU25.num_joints))
axes[0].set_yticklabels([f"{v} {nm}" for v, nm in enumerate(NTU25.joint_names)], fontsize=6)
fig.suptitle(f"{data.names[j]} ({data.class_names[data.y[j]]}), person 0")
fig.tight_layout()
plt.show()
speed = np.linalg.norm(motion, axis=0) * 30                             # (n - 1, V), m/s
peak, typical = np.percentile(speed, 90, axis=0), np.median(speed, axis=0)   # (V,) each
fast = np.argsort(peak)[::-1][:4]
print("joints with the fastest moments (90th percentile of the speed): "
      + ", ".join(f"{NTU25.joint_names[v]} {peak[v]:.2f} m/s" for v in fast))
top = int(np.argmax(typical))
print(f"highest typical (median) speed: {NTU25.joint_names[top]}, {typical[top]:.2f} m/s"
      + (": one of the fast joints." if top in fast else
         f", not one of the fast joints: on {NTU25.joint_names[top]} the sensor jitter outruns the action."))

# %% [markdown]
# The motion stream is brightest where something moves (the first printed line names the
# joints with the fastest moments in this wave); elsewhere it shows the sensor jitter, which
# taking differences amplifies (the second line says whether the jitter of some joint outruns
# the action). The bone stream is nearly constant over time (section 5), except for the bones
# that the sensor jitters most.
# The motion is taken inside the valid frames only: the difference between the last real frame
# and the zero padding after it would be a meaningless jump.
#
# ## Summary
#
# - Skeletons are `(C, T, V, M)` arrays in camera space (metres, y up, z away from the camera),
#   zero-padded in time, with all-zero absent persons; batches add N in front.
# - A layout (`NTU25`, `KINECT20`) names the joints and defines bones by `parents`; the centre
#   joint's bone is zero.
# - The embedded dataset has 15 actions, many subjects and three NTU-like cameras, with
#   cross-subject and cross-view splits; one performance seen by three cameras gives three very
#   different coordinate arrays.
# - N-UCLA (Kinect v1, 20 joints) and NTU `.skeleton` files read into the same arrays.
# - Bone lengths are constant for a real body; sensor noise makes them wobble. Motion and bone
#   streams are simple differences of the joint array.
#
# Next: notebook 02 makes new views of a sequence with augmentations.
#
# ## References
#
# - A. Shahroudy, J. Liu, T.-T. Ng, G. Wang. *NTU RGB+D: A Large Scale Dataset for 3D Human
#   Activity Analysis.* CVPR 2016.
# - J. Liu, A. Shahroudy, M. Perez, G. Wang, L.-Y. Duan, A. C. Kot. *NTU RGB+D 120: A
#   Large-Scale Benchmark for 3D Human Activity Understanding.* TPAMI 2020.
# - J. Wang, X. Nie, Y. Xia, Y. Wu, S.-C. Zhu. *Cross-view Action Modeling, Learning and
#   Recognition* (Northwestern-UCLA Multiview Action 3D). CVPR 2014.
# - S. Yan, Y. Xiong, D. Lin. *Spatial Temporal Graph Convolutional Networks for Skeleton-Based
#   Action Recognition.* AAAI 2018 (the joint graph and bone list).
# - T. Guo et al. *Contrastive Learning from Extremely Augmented Skeleton Sequences for
#   Self-supervised Action Recognition.* AAAI 2022 (joint, motion and bone streams).
