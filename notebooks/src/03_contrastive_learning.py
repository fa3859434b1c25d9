# %% [markdown]
# # 03 · Contrastive learning: positives, negatives and InfoNCE
#
# **Learning objectives.** After this notebook you can
#
# 1. say what a *positive pair* and a *negative* are in skeleton contrastive learning;
# 2. write the InfoNCE loss from its formula and check it against `cross_entropy`;
# 3. explain what the temperature τ does, with a plot to back it up;
# 4. show that without negatives an encoder *collapses* to a constant, and why negatives prevent it;
# 5. run a small contrastive training on the embedded dataset and judge it with a kNN classifier.
#
# The library functions used here are `skelcl_lib.methods.moco.info_nce` and `moco_logits`, the
# same code AS-CAL and AimCLR train with.

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from skelcl_lib import augment as A
from skelcl_lib.data import make_synthetic
from skelcl_lib.env import seed_everything, smoke_mode
from skelcl_lib.evaluate.knn import knn_accuracy
from skelcl_lib.methods.moco import info_nce, moco_logits

SMOKE = smoke_mode()
seed_everything(0)
torch.set_num_threads(1)                 # small models: one thread avoids oversubscription
data = make_synthetic(seed=0, size="tiny" if SMOKE else "small")
train, test = data.split("xsub")
print(data.summary())

# %% [markdown]
# ## 1. Positives and negatives
#
# Contrastive learning needs no labels. It turns each clip into its own little class:
#
# - a **positive pair** is two randomly augmented *views* of the **same** clip;
# - a **negative** is a view of **another** clip.
#
# An encoder f maps a view to a vector. Training pulls the vectors of a positive pair together and
# pushes negatives away. Which changes the encoder must ignore is decided by the augmentations
# (notebook 02): here AS-CAL's strategy, centre → time reverse (p = 0.5) → shear.
#
# Before any learning, how similar are two views of the same clip compared with views of different
# clips? We flatten the first 64 frames of each view and compare with the cosine similarity.

# %%
view = A.ascal_view()                           # centre, reverse with p = 0.5, shear U(-1, 1)
g = torch.Generator().manual_seed(0)
x = torch.from_numpy(train.x[:12, :, :64])      # 12 clips, (N, C, T, V, M)
v1, v2 = view(x, generator=g), view(x, generator=g)
z1 = F.normalize(v1.flatten(1), dim=1)
z2 = F.normalize(v2.flatten(1), dim=1)
sim = (z1 @ z2.T).numpy()                       # (12, 12): row i = view 1 of clip i

fig, ax = plt.subplots(figsize=(4.6, 4))
im = ax.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1)
ax.set_xlabel("view 2 of clip j")
ax.set_ylabel("view 1 of clip i")
ax.set_title("cosine similarity of raw views\n(diagonal = positive pairs)")
fig.colorbar(im, ax=ax, fraction=0.046)
plt.show()
diag = np.diag(sim)
off = sim[~np.eye(len(sim), dtype=bool)]
print(f"positives: mean {diag.mean():.3f}   negatives: mean {off.mean():.3f}")
print(f"The diagonal exceeds the rest by {diag.mean() - off.mean():.3f} on average, and "
      f"{int((diag[:, None] > sim).sum(1).min())} of the {len(sim) - 1} negatives in its row are below "
      f"the positive in the worst row.")

# %% [markdown]
# How much does the diagonal stand out in raw coordinates? The two printed lines say. A shear
# or a reversed clock changes the numbers a lot, while every clip shares the same body layout,
# so other clips can come close. The encoder's job is to produce vectors in which the diagonal
# wins clearly.
#
# ## 2. InfoNCE, written out
#
# For a query q (the encoded first view), its positive key k₊ (the encoded second view) and K
# negative keys Q₁ … Q_K (here: a *queue* of keys of other clips),
#
# $$\mathcal{L}(q) = -\log \frac{\exp(q\cdot k_+/\tau)}{\exp(q\cdot k_+/\tau) + \sum_{j=1}^{K} \exp(q\cdot Q_j/\tau)}.$$
#
# It is a (K + 1)-way classification: "which of these keys belongs to my clip?", with the
# similarities divided by τ as logits. So it is exactly `cross_entropy` with the positive as the
# target class. Let us write it by hand and compare.

# %%
def info_nce_by_hand(q, k, queue, tau):
    """q, k: (N, D); queue: (K, D). Mean over N of -log(exp(pos) / (exp(pos) + sum exp(neg)))."""
    pos = torch.exp((q * k).sum(dim=1) / tau)               # (N,)
    neg = torch.exp(q @ queue.T / tau).sum(dim=1)            # (N,)
    return (-torch.log(pos / (pos + neg))).mean()


torch.manual_seed(0)
q, k, queue = F.normalize(torch.randn(8, 16), dim=1), F.normalize(torch.randn(8, 16), dim=1), \
    F.normalize(torch.randn(100, 16), dim=1)
tau = 0.07
logits = moco_logits(q, k, queue, tau)                       # (N, 1 + K), positive in column 0
as_ce = F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))
print("by hand       :", info_nce_by_hand(q, k, queue, tau).item())
print("cross_entropy :", as_ce.item())
print("library       :", info_nce(q, k, queue, tau).item())
assert torch.allclose(info_nce_by_hand(q, k, queue, tau), as_ce, atol=1e-5)
assert torch.allclose(info_nce(q, k, queue, tau), as_ce, atol=1e-5)

# %% [markdown]
# The three agree. In practice one never exponentiates by hand: with τ = 0.06 and AS-CAL's
# *unnormalised* features, q·k/τ can reach thousands and `exp` overflows, whereas
# `cross_entropy` subtracts the maximum first (the log-sum-exp trick).
#
# The picture below shows what the loss looks at for one query: the softmax over its 1 + K logits.
# Training raises the first bar.

# %%
p = logits[0].softmax(0).detach().numpy()
fig, ax = plt.subplots(figsize=(7, 2.6))
ax.bar(np.arange(1, len(p)), p[1:], color="tab:gray", label="negatives (queue)")
ax.bar([0], p[:1], color="tab:red", label="positive k₊")
ax.set_xlabel("key index (0 = positive)")
ax.set_ylabel("softmax probability")
ax.set_title(f"one query, τ = {tau}: loss = -log p₀ = {-math.log(p[0]):.2f}")
ax.legend()
plt.show()

# %% [markdown]
# ### Exercise 1: your own InfoNCE
#
# Write `my_info_nce(q, k, queue, tau)` **without** `torch.exp` on raw logits: build the
# (N, 1 + K) logits matrix with the positive in column 0 and use `F.cross_entropy`. The checker
# compares it with the library on random inputs.

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb03 import (SOLUTIONS, check_collapse_loss, check_info_nce,
                                       check_positive_probability)


def my_info_nce(q, k, queue, tau):
    # YOUR CODE HERE: logits = [q·k, q·queue] / tau, then cross-entropy with target 0
    raise NotImplementedError


check_info_nce(my_info_nce)

# %%
show_solution(SOLUTIONS, "info_nce")

# %% [markdown]
# ## 3. The temperature τ
#
# Dividing by τ sharpens (small τ) or flattens (large τ) the softmax. Take one query with a
# positive at similarity 0.8 and negatives spread between −0.2 and 0.75; the last few are *hard*
# negatives, almost as close as the positive.

# %%
sims = torch.cat([torch.tensor([0.8]), torch.linspace(-0.2, 0.75, 50)])
taus = [0.02, 0.06, 0.2, 1.0]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for t in taus:
    axes[0].plot(sims[1:].numpy(), (sims / t).softmax(0)[1:].numpy(), label=f"τ = {t}")
axes[0].set_xlabel("similarity of the negative")
axes[0].set_ylabel("softmax weight")
axes[0].set_title("where the loss pushes: weight of each negative")
axes[0].legend()
grid = np.geomspace(0.01, 2, 60)
axes[1].plot(grid, [F.cross_entropy((sims / t)[None], torch.zeros(1, dtype=torch.long)).item() for t in grid])
axes[1].set_xscale("log")
axes[1].set_xlabel("τ")
axes[1].set_ylabel("InfoNCE of this query")
axes[1].axvline(0.06, color="tab:red", ls="--", label="AS-CAL τ = 0.06")
axes[1].axvline(0.07, color="tab:green", ls=":", label="MoCo / AimCLR τ = 0.07")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The gradient of InfoNCE with respect to a negative's similarity is its softmax weight (divided
# by τ). With a **small τ** almost all the weight sits on the hardest negatives: the loss works on
# the few clips that are easiest to confuse. With a **large τ** every negative counts about
# equally, and the positive barely stands out. AS-CAL uses τ = 0.06 on *unnormalised* features,
# AimCLR τ = 0.07 on L2-normalised ones; the two are not directly comparable, since the norms of
# AS-CAL's features also scale the logits.
#
# ### Exercise 2: probability of the positive
#
# A query has similarities 0.9 (its positive), 0.5 and 0.1 (two negatives). What probability does
# the InfoNCE softmax give the positive at τ = 0.1? Compute it (by hand or with torch).

# %%
answer = None  # YOUR ANSWER: a number between 0 and 1
check_positive_probability(answer)

# %%
show_solution(SOLUTIONS, "positive_probability")

# %% [markdown]
# ## 4. Collapse without negatives
#
# Why not simply pull positives together? Because a constant encoder, f(x) = c for every x, makes
# every positive pair perfectly similar. Let us train the same small encoder twice on augmented
# views: once with the positive term alone (maximise cos(q, k)), once with InfoNCE against the
# other clips of the batch. We watch the spread of the normalised embeddings across the batch:
# 0 means every clip is mapped to the same point.

# %%
FRAMES, STEP = 64, 4                              # first 64 frames, every 4th: 16 frames


def make_encoder(dim=32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * (FRAMES // STEP) * 25 * 2, 256), nn.ReLU(),
                         nn.Linear(256, dim))


def encode(enc, x):
    return enc(x[:, :, :FRAMES:STEP])


def in_batch_info_nce(q, k, tau=0.1):
    """SimCLR-style: for query i, key i is the positive and the other keys of the batch are negatives."""
    logits = q @ k.T / tau
    return F.cross_entropy(logits, torch.arange(len(q)))


def train_encoder(loss_name, steps, batch=64, lr=0.05, seed=0):
    enc = make_encoder()
    opt = torch.optim.SGD(enc.parameters(), lr=lr, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    xs = torch.from_numpy(train.x)
    curve = []
    for step in range(steps):
        idx = torch.randint(len(xs), (batch,), generator=g)
        xb = xs[idx]
        q = F.normalize(encode(enc, view(xb, generator=g)), dim=1)
        k = F.normalize(encode(enc, view(xb, generator=g)), dim=1)
        loss = -(q * k).sum(1).mean() if loss_name == "positives only" else in_batch_info_nce(q, k)
        opt.zero_grad()
        loss.backward()
        opt.step()
        curve.append(q.detach().std(dim=0).mean().item())      # spread across the batch
    return enc, curve


STEPS = 40 if SMOKE else 200
runs = {name: train_encoder(name, STEPS) for name in ("positives only", "InfoNCE")}
fig, ax = plt.subplots(figsize=(6, 3))
for name, (_, curve) in runs.items():
    ax.plot(curve, label=name)
ax.set_xlabel("step")
ax.set_ylabel("std of embeddings over the batch")
ax.set_yscale("log")
ax.set_title("spread of the embeddings (0: every clip mapped to one point)")
ax.legend()
plt.show()
end = {name: curve[-1] for name, (_, curve) in runs.items()}
print(f"spread after {STEPS} steps: positives only {end['positives only']:.4f} "
      f"(from {runs['positives only'][1][0]:.4f}), InfoNCE {end['InfoNCE']:.4f} "
      f"(from {runs['InfoNCE'][1][0]:.4f})")
print("Positives only collapse " + ("faster: their spread ends "
      f"{end['InfoNCE'] / end['positives only']:.0f} times smaller." if end["positives only"] < end["InfoNCE"]
      else "no faster than InfoNCE in this short run."))

# %% [markdown]
# With positives only, nothing stops the spread from falling towards zero: the encoder can
# learn to ignore its input. With InfoNCE, mapping everything to one point would make the
# positive indistinguishable from the negatives, which the loss punishes: it holds the embeddings
# apart. The printed spreads show how far each run went in these few steps. (BYOL and SimSiam
# avoid collapse without negatives through an asymmetric predictor and a stop-gradient; the
# methods of this course use negatives.)
#
# ### Exercise 3: the loss of a collapsed encoder
#
# If the encoder has collapsed, every similarity equals every other. What is the InfoNCE loss of
# one query with K = 4096 negatives? (Does it depend on τ?)

# %%
answer = None  # YOUR ANSWER: a number
check_collapse_loss(answer, K=4096)

# %%
show_solution(SOLUTIONS, "collapse_loss")

# %% [markdown]
# ## 5. A toy run on the embedded dataset
#
# Does the InfoNCE encoder of section 4 know anything about *actions*? It never saw a label. We
# freeze it and classify the test clips (unseen performers, the xsub protocol) by their nearest
# neighbours among the training clips (kNN on cosine similarity), and compare with an untrained
# encoder of the same shape and with the raw centred coordinates.

# %%
def features(enc, part):
    with torch.no_grad():
        x = torch.from_numpy(part.x)
        x = x - x[:, :, :, 1:2]                    # centre on joint 1, no augmentation
        return F.normalize(encode(enc, x), dim=1).numpy()


def raw(part):
    x = part.x[:, :, :FRAMES:STEP]
    return (x - x[:, :, :, 1:2]).reshape(len(x), -1)


results = {
    "raw coordinates": knn_accuracy(raw(train), train.y, raw(test), test.y, k=(1, 5)),
    "untrained encoder": knn_accuracy(features(make_encoder(), train), train.y,
                                      features(make_encoder(), test), test.y, k=(1, 5)),
    "InfoNCE encoder": knn_accuracy(features(runs["InfoNCE"][0], train), train.y,
                                    features(runs["InfoNCE"][0], test), test.y, k=(1, 5)),
}
fig, ax = plt.subplots(figsize=(6.5, 2.4))
names = list(results)
ax.barh(names, [results[n][1] for n in names], color=["tab:gray", "tab:gray", "tab:red"])
ax.axvline(1 / data.num_classes, color="k", ls=":", label="chance")
ax.set_xlabel("1-NN test accuracy (xsub)")
ax.legend()
plt.show()
for n in names:
    print(f"{n:>18}: 1-NN {results[n][1]:.3f}   5-NN {results[n][5]:.3f}")
chance = 1 / data.num_classes
lowest = min(names, key=lambda n: results[n][1])
print(f"lowest 1-NN: {lowest} at {results[lowest][1]:.3f}, {results[lowest][1] / chance:.1f} times chance "
      f"({chance:.3f}); the InfoNCE encoder is "
      + ("above" if results["InfoNCE encoder"][1] > results["raw coordinates"][1] else "not above")
      + " the raw coordinates and "
      + ("above" if results["InfoNCE encoder"][1] > results["untrained encoder"][1] else "not above")
      + " the untrained encoder.")
raw1, untr1 = results["raw coordinates"][1], results["untrained encoder"][1]
print(f"Raw centred coordinates reach {raw1 / chance:.1f} times chance; the untrained encoder keeps "
      f"{100 * untr1 / raw1:.0f}% of their 1-NN accuracy.")

# %% [markdown]
# Read these numbers with care, against chance and against each other (the last two printed
# lines). The clips of this embedded dataset are clean, so raw centred coordinates can be a
# *strong* baseline, and a small random encoder can preserve much of that structure: the last
# line says how much of it here. The contrastive encoder is not
# automatically better: it learned to ignore what the augmentations change. A random **time
# reversal** (p = 0.5, part of AS-CAL's strategy) makes "sit down" and "stand up", which are
# nearly time-reversed copies of each other in this dataset, look alike *by design*; a strong
# shear removes part of the body-shape information. Exercise for the curious: rebuild `view`
# with `A.ascal_view("subtract_shear")`, rerun sections 4 and 5, and compare.
#
# AS-CAL (notebook 06) trains this properly, with an LSTM, a momentum encoder (notebook 04) and a
# queue (notebook 05), and compares against the same raw-coordinate baseline.
#
# ## Summary
#
# - A positive pair is two augmented views of one clip; negatives are views of other clips.
# - InfoNCE is a (1 + K)-way cross-entropy on similarities divided by τ, positive in class 0;
#   compute it with `cross_entropy`, never with a raw `exp`.
# - A small τ focuses the loss on hard negatives; a large τ spreads it over all of them.
# - Without negatives (and without BYOL-style tricks) the encoder collapses; a collapsed encoder
#   pays log(K + 1) in InfoNCE.
# - A kNN probe on frozen features shows whether label-free training arranged clips by action;
#   judge it against raw coordinates and an untrained encoder, not against chance alone.
#
# ## References
#
# - A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with Contrastive Predictive
#   Coding", arXiv 1807.03748 (2018): the InfoNCE loss.
# - K. He et al., "Momentum Contrast for Unsupervised Visual Representation Learning", CVPR 2020.
# - T. Chen et al., "A Simple Framework for Contrastive Learning of Visual Representations"
#   (SimCLR), ICML 2020: in-batch negatives, temperature.
# - F. Wang, H. Liu, "Understanding the Behaviour of Contrastive Loss", CVPR 2021: temperature and
#   hard negatives.
# - H. Rao et al., AS-CAL, Information Sciences 569 (2021); T. Guo et al., AimCLR, AAAI 2022.
