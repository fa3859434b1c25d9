# %% [markdown]
# # 04 · The momentum LSTM: CAE and a slowly moving key encoder
#
# **Learning objectives.** After this notebook you can
#
# 1. feed a skeleton sequence to an LSTM frame by frame, knowing exactly what one input vector holds;
# 2. compute AS-CAL's *Contrastive Action Encoding* (CAE): the temporal mean of the hidden states;
# 3. explain why the key encoder is an exponential moving average (EMA) of the query encoder;
# 4. show, by training with several momentum values α, why the key encoder must move slowly.
#
# Library parts: `skelcl_lib.models.LSTMEncoder`, `skelcl_lib.methods.moco.make_key_encoder`,
# `momentum_update`, and the full method `skelcl_lib.methods.ASCAL` (docs/methods.md §4.2).

# %%
# %matplotlib inline
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from skelcl_lib.data import make_synthetic
from skelcl_lib.env import seed_everything, smoke_mode
from skelcl_lib.methods import ASCAL
from skelcl_lib.methods.moco import make_key_encoder, momentum_update
from skelcl_lib.models import LSTMEncoder
from skelcl_lib.models.lstm import frames_to_vectors

SMOKE = smoke_mode()
seed_everything(0)
torch.set_num_threads(1)                 # small models: one thread avoids oversubscription
data = make_synthetic(seed=0, size="tiny" if SMOKE else "small")
train, test = data.split("xsub")
print(data.summary())

# %% [markdown]
# ## 1. An LSTM reads one frame at a time
#
# AS-CAL does not use the skeleton graph. Each frame (C = 3 coordinates × V = 25 joints × M = 2
# bodies) is flattened into one vector of **150** numbers, index c·V·M + v·M + m: all x values
# first, then all y, then all z, the body index changing fastest. The LSTM reads these vectors
# in time order. Below, one clip as the LSTM sees it: time down, the 150 inputs across.

# %%
i = int(np.argmin(train.lengths))                         # the shortest clip: the most zero padding
x = torch.from_numpy(train.x[i:i + 1])                   # (1, 3, 150, 25, 2)
x = x - x[:, :, :, 1:2]                                    # centre on joint 1 ("subtract")
vec = frames_to_vectors(x)[0]                              # (T, 150)
fig, ax = plt.subplots(figsize=(8, 3.2))
im = ax.imshow(vec.T.numpy(), aspect="auto", cmap="RdBu_r", vmin=-0.8, vmax=0.8)
for b in (50, 100):
    ax.axhline(b - 0.5, color="k", lw=0.6)
ax.set_yticks([25, 75, 125], ["x (50)", "y (50)", "z (50)"])
ax.set_xlabel("frame t")
ax.set_title(f"clip {i} ({data.class_names[train.y[i]]}): 150 inputs per frame; "
             f"valid length {train.lengths[i]}, zero padding after")
fig.colorbar(im, ax=ax, fraction=0.03)
plt.show()

# %% [markdown]
# Within each 50-row block, rows alternate body 1, body 2; in a one-person clip every second row
# is zero. After the valid length the whole frame is zero: padding.
#
# ## 2. The Contrastive Action Encoding (CAE)
#
# The LSTM (one layer, hidden size H = 256, unidirectional) produces a hidden state h_t at every
# step. AS-CAL's representation is their **average over all T steps**:
#
# $$\text{CAE} = \frac{1}{T}\sum_{t=1}^{T} h_t .$$
#
# Faithful detail: the official code averages over all `selected_frames` = 150 steps, **padded
# steps included**: the LSTM keeps running on zeros after the clip ends, and those states count.

# %%
torch.manual_seed(0)
encoder = LSTMEncoder(input_size=150, hidden_size=256)
with torch.no_grad():
    h = encoder.hidden_states(x)[0]                        # (T, 256)
    cae = encoder(x)[0]                                    # (256,)
print("hidden states", tuple(h.shape), " CAE", tuple(cae.shape),
      " parameters:", sum(p.numel() for p in encoder.parameters()))
L = int(train.lengths[i])
assert L < h.shape[0], "the example clip must have padded steps"
gap = (h.mean(0) - h[:L].mean(0)).abs()
print(f"clip {i}: {L} valid steps of {h.shape[0]}; the mean over all steps and the mean over the valid "
      f"steps differ by up to {gap.max():.3f} per unit (median {gap.median():.3f}; the CAE's largest "
      f"unit is {cae.abs().max():.3f})")
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
for u in range(6):
    axes[0].plot(h[:, u].numpy(), lw=1)
axes[0].axvline(train.lengths[i], color="k", ls="--", label="end of the clip")
axes[0].set_xlabel("step t")
axes[0].set_title("six hidden units h_t (random LSTM)")
axes[0].legend()
axes[1].plot(h.mean(0).numpy()[:40], "o-", ms=3, label="CAE (mean over 150 steps)")
axes[1].plot(h[: train.lengths[i]].mean(0).numpy()[:40], "x", ms=4, label="mean over valid steps only")
axes[1].set_xlabel("unit")
axes[1].set_title("CAE, first 40 of 256 units")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The two averages differ (the printed line says by how much): with padding included, the CAE
# also encodes *how long* the clip was
# and how the LSTM "rings down" on zeros. We keep the official behaviour; it is one of the
# documented quirks (docs/methods.md §9).
#
# ### Exercise 1: the CAE from hidden states
#
# Write `my_cae(h)` mapping hidden states `h: (N, T, D)` to the CAE `(N, D)`.

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb04 import SOLUTIONS, check_cae, check_half_life, check_momentum_update


def my_cae(h):
    # YOUR CODE HERE
    raise NotImplementedError


check_cae(my_cae)

# %%
show_solution(SOLUTIONS, "cae")

# %% [markdown]
# ## 3. The key encoder: an exact copy that follows slowly
#
# Keys k₊ (and the negatives in the queue, notebook 05) come from a second LSTM f_k with the same
# architecture. It starts as an **exact copy** of the query LSTM f_q and is never trained by
# gradients. After every optimiser step it moves a little towards f_q:
#
# $$\theta_k \leftarrow \alpha\,\theta_k + (1-\alpha)\,\theta_q, \qquad \alpha = 0.999 .$$
#
# After n steps, the key encoder's weights are a weighted average of the query's weights over
# roughly the last 1/(1 − α) steps. The plot simulates one weight: the query weight jumps and
# wanders, the key weight follows with a lag set by α.

# %%
key = make_key_encoder(encoder)
print("same weights:", all(torch.equal(a, b) for a, b in zip(key.parameters(), encoder.parameters())),
      "| key takes gradients:", any(p.requires_grad for p in key.parameters()))

steps = np.arange(3000)
rng = np.random.default_rng(0)
theta_q = np.where(steps < 200, 0.0, 1.0) + np.cumsum(rng.normal(0, 0.01, len(steps)))
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(steps, theta_q, color="k", lw=1, label="query weight θ_q")
for alpha in (0.9, 0.99, 0.999):
    theta_k = np.zeros_like(theta_q)
    for s in range(1, len(steps)):
        theta_k[s] = alpha * theta_k[s - 1] + (1 - alpha) * theta_q[s]
    ax.plot(steps, theta_k, label=f"key weight, α = {alpha}")
ax.set_xlabel("optimiser step")
ax.legend()
ax.set_title("EMA: the larger α, the slower and smoother the key encoder")
plt.show()

# %% [markdown]
# ### Exercise 2: the momentum update
#
# Write `my_momentum_update(key, query, m)`: update the key encoder's parameters in place.
# (The library's version is `skelcl_lib.methods.moco.momentum_update`.)

# %%
def my_momentum_update(key, query, m):
    # YOUR CODE HERE: for each pair of parameters, p_k = m * p_k + (1 - m) * p_q (in place)
    raise NotImplementedError


check_momentum_update(my_momentum_update)

# %%
show_solution(SOLUTIONS, "momentum_update")

# %% [markdown]
# ### Exercise 3: how long does the key encoder remember?
#
# If the query encoder stopped changing, after n steps the key encoder's *initial* weights would
# still carry a share α^n. With α = 0.999, after how many steps is that share one half?

# %%
answer = None  # YOUR ANSWER: a number of steps
check_half_life(answer)

# %%
show_solution(SOLUTIONS, "half_life")

# %% [markdown]
# ## 4. Why the key encoder must move slowly
#
# The negatives in the queue were encoded by the key encoder of *earlier* steps. If the key
# encoder changes fast, old keys and new keys live in different spaces, and the dictionary is
# inconsistent (MoCo's argument). We train AS-CAL briefly with several α and measure, on a fixed
# set of clips, how much their keys change from one step to the next (the cosine similarity of
# the keys of step s and step s − 1: 1 means a perfectly stable dictionary). α = 0 means the key
# encoder *is* the query encoder.
#
# The runs are short and the model small (hidden 64, first 64 frames, queue of 256 keys); the
# printed lines compare what α does to the loss with what it does to the keys.

# %%
STEPS = 8 if SMOKE else 80
ALPHAS = (0.0, 0.9, 0.99, 0.999)
xs = torch.from_numpy(train.x)
probe = xs[:64, :, :64]
probe = probe - probe[:, :, :, 1:2]                        # fixed clips, deterministic input


def run(alpha, steps=STEPS, batch=32, seed=0):
    torch.manual_seed(seed)
    m = ASCAL.build(input_size=150, hidden_size=64, K=256, alpha=alpha, selected_frames=64,
              skip_warmup_epoch=True).train()
    m.on_epoch_start(1)
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        prev = F.normalize(m.encoder_k(probe), dim=1)
    losses, consistency = [], []
    for _ in range(steps):
        idx = torch.randint(len(xs), (batch,), generator=g)
        loss, logs = m.training_step((xs[idx], None))
        opt.zero_grad()
        loss.backward()
        opt.step()
        m.after_optimizer_step()                           # θ_k ← α θ_k + (1 − α) θ_q
        with torch.no_grad():
            now = F.normalize(m.encoder_k(probe), dim=1)
        consistency.append((now * prev).sum(1).mean().item())
        prev = now
        losses.append(float(logs["loss"]))
    return losses, consistency


results = {a: run(a) for a in ALPHAS}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for a, (losses, cons) in results.items():
    axes[0].plot(losses, label=f"α = {a}")
    axes[1].plot(1 - np.array(cons), label=f"α = {a}")
axes[0].set_xlabel("step")
axes[0].set_ylabel("InfoNCE")
axes[0].set_title("training loss")
axes[1].set_yscale("log")
axes[1].set_xlabel("step")
axes[1].set_ylabel("1 − cos(k_s, k_{s−1})")
axes[1].set_title("how much the keys move per step")
axes[0].legend()
plt.tight_layout()
plt.show()
drift = {}
for a, (losses, cons) in results.items():
    drift[a] = 1 - np.mean(cons)
    print(f"α = {a:<6} final loss {np.mean(losses[-10:]):.3f}   mean key drift per step {drift[a]:.2e}")
ratio = drift[0.0] / max(drift[0.999], 1e-12)
print(f"With α = 0.999 the keys drift {ratio:,.0f} times less per step than with α = 0 "
      f"({np.log10(ratio):.1f} orders of magnitude).")
final = {a: np.mean(losses[-10:]) for a, (losses, _) in results.items()}
lo, hi = min(final.values()), max(final.values())
print(f"The final losses span {lo:.3f} to {hi:.3f} (the largest {100 * (hi - lo) / lo:.0f}% above the "
      f"smallest); ordered from the lowest: " + ", ".join(f"α = {a}" for a in sorted(final, key=final.get))
      + ". One seed: rerun with another one to see whether that order holds.")

# %% [markdown]
# The last printed line compares the key drift of α = 0.999 with that of α = 0. A slow key
# encoder keeps keys encoded hundreds of steps apart comparable, so a large queue of negatives
# is meaningful.
#
# The loss curves are a poor guide for ranking the α values in a run this short: the order
# printed above is that of one seed (pass another `seed` to `run` and compare). With a small α
# the key encoder (nearly) equals the query encoder, so both views pass through the same
# function; with α = 0.999 the keys still come from the random initial LSTM. Either way a pretraining loss is not a measure of
# the representation (docs/methods.md §8.7: judge runs with a probe). Over long runs MoCo reports that
# α = 0 fails to train with a large queue and that 0.99–0.9999 work well.
#
# A second reason for the momentum encoder: keys need no gradient, so the key pass is cheap,
# and the queue can be far larger than a batch (notebook 05).
#
# ## Summary
#
# - AS-CAL's LSTM reads one 150-value vector per frame (x, y, z blocks; body index fastest).
# - The CAE is the mean of the top-layer hidden states over all T steps, padding included.
# - The key encoder starts as an exact copy and follows the query by an EMA with α = 0.999;
#   the initial weights keep half their share after ≈ 693 steps.
# - A slow key encoder keeps the keys of different steps consistent, which the queue relies on.
#
# ## References
#
# - H. Rao, S. Xu, X. Hu, J. Cheng, B. Hu, "Augmented Skeleton Based Contrastive Action Learning
#   with Momentum LSTM for Unsupervised Action Recognition", Information Sciences 569 (2021).
# - K. He, H. Fan, Y. Wu, S. Xie, R. Girshick, "Momentum Contrast for Unsupervised Visual
#   Representation Learning", CVPR 2020 (momentum ablation, Table in §4.1).
# - S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9 (1997).
