# %% [markdown]
# # 00 · Setup and tour
#
# Welcome to **skelcl**, a hands-on course on *self-supervised contrastive learning for
# skeleton-based action recognition*. We re-implement two papers, AS-CAL (momentum LSTM,
# queue, InfoNCE) and AimCLR (extreme augmentations on an ST-GCN encoder), and train them
# on your own machine.
#
# **Learning objectives.** After this notebook you can
#
# 1. say in two sentences what skeleton self-supervised learning is and why it is useful;
# 2. check your environment (versions, and whether PyTorch sees a GPU);
# 3. set the course up on Google Colab;
# 4. find your way through the eleven notebooks of the course;
# 5. load one skeleton sequence and look at it as a still, an animation and an interactive 3D plot.

# %% [markdown]
# ## 1. Setup
#
# **On your own machine** you installed the course with `pip install -e .` (see the README), and
# nothing more is needed. **On Google Colab** the cell at the very top of this notebook (and of
# every other one) clones the repository and installs the library, with its shipped encoders,
# into the running Python (no restart needed). Anywhere else it only prints one line. Every Colab
# notebook runs in its own fresh machine, which is why each notebook opens with that cell.
#
# On Colab, pick a GPU with *Runtime → Change runtime type* **before** running the set-up cell;
# changing the runtime later starts a fresh machine and you would install again. Which notebooks
# profit from a GPU, and what to run on one, is the last section of notebook 10.
#
# ## 2. Environment check
#
# `skelcl_lib.env.report()` lists the versions of the packages the course uses and the device
# that training will run on: a CUDA GPU if PyTorch sees one, else Apple's MPS, else the CPU.
# Every notebook runs on a CPU; a GPU only makes the longer trainings faster.
#
# The last line says whether *smoke mode* is on. Smoke mode (`SKELCL_SMOKE=1`) makes every
# notebook use tiny sizes; the automatic tests use it. As a learner, leave it off.

# %%
import numpy as np
import matplotlib.pyplot as plt

from skelcl_lib.env import report, smoke_mode, seed_everything

SMOKE = smoke_mode()
seed_everything(0)
print(report())

# %% [markdown]
# ## 3. What is skeleton self-supervised learning?
#
# A depth camera such as the Kinect, or a pose estimator on ordinary video, turns each video
# frame into a **skeleton**: the 3D positions of 20–25 body joints. An action ("drink water",
# "sit down", "wave") becomes a short sequence of skeletons. Skeletons are small, ignore clothes
# and background, and are easy to anonymise, which makes them attractive for action recognition.
#
# Labelling thousands of sequences by hand is slow. **Self-supervised learning** trains an encoder
# *without labels*. **Contrastive** methods do it like this:
#
# 1. take a sequence and make two randomly *augmented* versions of it (rotate, shear, crop in
#    time, add noise...). The two are a **positive pair**: they show the same action;
# 2. other sequences are **negatives**;
# 3. train the encoder so that the two versions of a sequence get similar feature vectors and
#    different sequences get different ones (the InfoNCE loss, notebook 03).
#
# If the augmentations change *how* an action is seen but not *what* it is, the encoder learns
# features that describe the action. We test this afterwards with a **linear evaluation**: freeze
# the encoder and train only a linear classifier on its features with the labels.
#
# Let us see a positive pair and a negative with the library. We generate the course's
# embedded dataset (a procedural NTU-style dataset, made in seconds from a seed; notebook 01
# explains it) and draw one sequence, an AimCLR-style augmented copy of it, and a different
# sequence.

# %%
import torch

from skelcl_lib.data import make_synthetic
from skelcl_lib import augment, viz

data = make_synthetic(seed=0, size="tiny" if SMOKE else "small")   # 180 or 450 sequences
print(data.summary())

# %%
from skelcl_lib.data.frame50 import to_frame50

# AimCLR's preprocessing: centre each body, resample to 50 frames, turn the shoulders parallel to x
x = torch.from_numpy(to_frame50(data.x[:2], data.lengths[:2]))   # x: (N=2, C=3, T=50, V=25, M=2)
g = torch.Generator().manual_seed(1)
x_aug = augment.aimclr_normal()(x, generator=g)   # AimCLR's "normal" view: crop in time, shear

fig = plt.figure(figsize=(11, 3.8))
panels = [(x[0], "sequence A"), (x_aug[0], "augmented A: positive"), (x[1], "sequence B: negative")]
for k, (sample, name) in enumerate(panels):
    ax = fig.add_subplot(1, 3, k + 1, projection="3d")
    n = viz.valid_length(sample)
    viz.plot_skeleton(sample, t=n // 2, ax=ax, title=name)
fig.suptitle("Contrastive learning pulls A and its augmented copy together, pushes B away")
plt.show()

# %% [markdown]
# The augmented copy is sheared (a random linear distortion) and cropped in time, yet it is
# still the same action. Notebook 02 shows every augmentation, including AimCLR's "extreme" ones.
#
# **The two methods of this course.**
#
# - **AS-CAL** (Rao et al., 2021) encodes the sequence with an LSTM and averages its hidden states
#   over time. A slowly moving copy of the encoder (the *momentum* encoder) encodes the second
#   view, and a *queue* of past features supplies many negatives (notebooks 04–06).
# - **AimCLR** (Guo et al., AAAI 2022) uses a graph convolutional encoder (ST-GCN) and adds
#   *extreme* augmentations, an attention-guided drop of features (EADM), a loss between the
#   similarity distributions of normal and extreme views (D3M) and nearest-neighbour mining of
#   extra positives (NNM) (notebooks 07–08).

# %% [markdown]
# ## 4. Map of the course
#
# | # | notebook | you leave knowing |
# |---|---|---|
# | 00 | setup and tour | what skeleton SSL is; your environment; Colab setup |
# | 01 | skeleton data and visualization | joints, bones, the (N, C, T, V, M) tensor, NTU and N-UCLA layouts, camera space, view and subject variation; animated 3D skeletons |
# | 02 | augmentations | every AS-CAL and AimCLR augmentation, normal vs extreme; an interactive augmentation explorer |
# | 03 | contrastive learning | positives and negatives, InfoNCE, temperature, collapse; a toy run |
# | 04 | momentum LSTM | the LSTM encoder, Contrastive Action Encoding, the EMA key encoder and why it must move slowly |
# | 05 | the queue | a dictionary of keys, enqueue/dequeue, queue size vs batch size, stale keys |
# | 06 | AS-CAL end to end | pretraining, linear and kNN evaluation, raw-input and supervised baselines |
# | 07 | AimCLR part 1 | the ST-GCN encoder, the SkeletonCLR baseline, extreme augmentations, EADM |
# | 08 | AimCLR part 2 | the D3M loss, nearest-neighbour mining, full training, joint/motion/bone streams and their ensemble |
# | 09 | inspecting representations | t-SNE and kNN explorers; linear vs kNN vs semi-supervised (1 %, 10 %) vs fine-tuning |
# | 10 | real datasets on a GPU | NTU RGB+D 60/120, PKU-MMD, N-UCLA: preparation, full configs, reproducing the paper tables |
#
# The notebooks call the library `skelcl_lib`; the code you see in a notebook is the code that
# trains the models. The command line `skelcl` runs the same code outside Jupyter
# (`skelcl --help`).
#
# A picture of the same map: which notebook builds on which.

# %%
fig, ax = plt.subplots(figsize=(11, 2.6))
stages = [("data", [0, 1, 2]), ("contrastive\nbasics", [3, 4, 5]), ("AS-CAL", [6]),
          ("AimCLR", [7, 8]), ("evaluation", [9]), ("real data", [10])]
colors = plt.cm.tab10(np.arange(len(stages)))
for (name, nbs), c in zip(stages, colors):
    for nb in nbs:
        ax.add_patch(plt.Rectangle((nb - 0.4, 0), 0.8, 1, color=c, alpha=0.8))
        ax.text(nb, 0.5, f"{nb:02d}", ha="center", va="center", fontsize=12, color="white", weight="bold")
    ax.text(np.mean(nbs), -0.35, name, ha="center", va="top", fontsize=9)
for nb in range(10):
    ax.annotate("", (nb + 0.6, 0.5), (nb + 0.4, 0.5), arrowprops=dict(arrowstyle="->"))
ax.set_xlim(-0.6, 10.6), ax.set_ylim(-1.1, 1.2)
ax.axis("off")
ax.set_title("The course in order")
plt.show()

# %% [markdown]
# ## 5. A first look at one skeleton
#
# A **sample** is an array of shape `(C, T, V, M)`: C = 3 coordinates (x, y, z in metres, in the
# camera's frame), T frames, V joints (25 for NTU), M persons (2; an absent second person is all
# zeros). Frames after the end of the action are zero padding.

# %%
i = int(np.flatnonzero(data.view == 2)[0])    # a clip from camera 2, which the performer faces
sample = data.x[i]                          # (C, T, V, M)
n = viz.valid_length(sample)
print("sample shape (C, T, V, M):", sample.shape)
print("action:", data.class_names[data.y[i]], "| valid frames:", n, "of", sample.shape[1])
fig = viz.plot_frames(sample, title=f"{data.names[i]}: {data.class_names[data.y[i]]}")
plt.show()

# %% [markdown]
# The blue limbs are the person's left arm and leg, the red ones the right; grey is the spine and
# head. The vertical axis is the camera's y (up), the depth axis is the camera's z (distance from
# the sensor).
#
# The same sequence as an animation (press ▶). `viz.show_animation` renders the frames into a
# small web page, so it works in JupyterLab, Colab and exported HTML.

# %%
viz.show_animation(sample, title=data.class_names[data.y[i]], max_frames=4 if SMOKE else 40)

# %% [markdown]
# And as an interactive plotly figure: drag to rotate, scroll to zoom, use the slider or ▶.

# %%
viz.plotly_skeleton(sample, title=data.class_names[data.y[i]], max_frames=4 if SMOKE else 40)

# %% [markdown]
# ## 6. Exercises
#
# **Exercise 1.** A data loader returns a batch of 8 NTU RGB+D samples, each padded to 300
# frames, with room for two persons. What is the shape of the batch, in the course's
# `(N, C, T, V, M)` order?

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb00 import (SOLUTIONS, check_batch_shape, check_center_joint,
                                       check_frame_vector_size)

batch_shape = (0, 0, 0, 0, 0)   # your answer
check_batch_shape(batch_shape)

# %%
show_solution(SOLUTIONS, "batch_shape")

# %% [markdown]
# **Exercise 2.** AS-CAL feeds an LSTM one vector per frame: it flattens the coordinates of all
# joints of both persons. How long is that vector for NTU data?

# %%
frame_vector_size = 0   # your answer
check_frame_vector_size(frame_vector_size)

# %%
show_solution(SOLUTIONS, "frame_vector_size")

# %% [markdown]
# **Exercise 3.** Papers number NTU joints from 1; the spine between the shoulders is "joint 21"
# there, and it is the centre of the ST-GCN graph. What is its index in our arrays? (Hint:
# `skelcl_lib.skeleton.NTU25.joint_names`.)

# %%
center_index = -1   # your answer
check_center_joint(center_index)

# %%
show_solution(SOLUTIONS, "center_joint")

# %% [markdown]
# ## Summary
#
# - Skeleton self-supervised learning trains an encoder on unlabelled skeleton sequences;
#   contrastive methods pull two augmented views of a sequence together and push other
#   sequences away. A linear classifier on the frozen features measures what was learnt.
# - `skelcl_lib.env.report()` shows versions and the device; smoke mode (`SKELCL_SMOKE=1`)
#   shrinks every notebook for automatic tests.
# - A sample is `(C, T, V, M)`, a batch `(N, C, T, V, M)`; `skelcl_lib.viz` draws stills,
#   frame grids, animations and interactive 3D plots.
#
# Next: notebook 01 looks at skeleton data in detail.
#
# ## References
#
# - H. Rao, S. Xu, X. Hu, J. Cheng, B. Hu. *Augmented Skeleton Based Contrastive Action Learning
#   with Momentum LSTM for Unsupervised Action Recognition.* Information Sciences 569 (2021);
#   arXiv:2008.00188.
# - T. Guo, H. Liu, Z. Chen, M. Liu, T. Wang, R. Ding. *Contrastive Learning from Extremely
#   Augmented Skeleton Sequences for Self-supervised Action Recognition.* AAAI 2022;
#   arXiv:2112.03590.
# - K. He, H. Fan, Y. Wu, S. Xie, R. Girshick. *Momentum Contrast for Unsupervised Visual
#   Representation Learning.* CVPR 2020.
# - A. Shahroudy, J. Liu, T.-T. Ng, G. Wang. *NTU RGB+D: A Large Scale Dataset for 3D Human
#   Activity Analysis.* CVPR 2016.
# - S. Yan, Y. Xiong, D. Lin. *Spatial Temporal Graph Convolutional Networks for Skeleton-Based
#   Action Recognition.* AAAI 2018.
