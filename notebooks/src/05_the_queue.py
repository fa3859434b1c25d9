# %% [markdown]
# # 05 · The queue: a large, slowly refreshed dictionary of keys
#
# **Learning objectives.** After this notebook you can
#
# 1. describe the queue of keys as a ring buffer and follow its pointer through enqueue/dequeue;
# 2. say why a queue decouples the number of negatives K from the batch size B;
# 3. run short trainings with different queue sizes through the course's training loop;
# 4. measure how *stale* the keys in the queue are, and relate it to the momentum α of notebook 04.
#
# Library parts: `skelcl_lib.methods.moco.KeyQueue` (buffers `queue: (K, D)` and `ptr`, saved
# with every checkpoint), `skelcl_lib.methods.ASCAL`, `skelcl_lib.train.fit` (docs/methods.md §4.3).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from skelcl_lib.config import load_config
from skelcl_lib.methods import build_method
from skelcl_lib.train import fit
from skelcl_lib.data import make_synthetic
from skelcl_lib.env import seed_everything, smoke_mode
from skelcl_lib.evaluate.features import extract_features
from skelcl_lib.evaluate.knn import knn_accuracy
from skelcl_lib.methods import ASCAL
from skelcl_lib.methods.moco import KeyQueue

SMOKE = smoke_mode()
seed_everything(0)
torch.set_num_threads(1)                 # small models: one thread avoids oversubscription
data = make_synthetic(seed=0, size="tiny" if SMOKE else "small")
train, test = data.split("xsub")
print(data.summary())

# %% [markdown]
# ## 1. The dictionary of keys
#
# InfoNCE compares each query with one positive key and K negatives. MoCo and AS-CAL take the
# negatives from a **queue**: the keys of the last few batches. After each step the batch's keys
# are written over the **oldest** keys, at rows ptr, ptr + 1, …, ptr + B − 1 (modulo K), and the
# pointer advances by B. Nothing moves in memory: it is a ring buffer.
#
# Below, a toy queue with K = 12 slots receives batches of B = 5 keys; each key holds the number
# of the step that produced it, so the picture shows which step fills which slot. The black
# marks are the pointer after each step.

# %%
K_TOY, B_TOY, STEPS_TOY = 12, 5, 7
toy = KeyQueue(K_TOY, dim=1)
toy.queue.fill_(-1)                                   # -1: still the random initial keys
history, pointers = [], []
for step in range(STEPS_TOY):
    toy.enqueue(torch.full((B_TOY, 1), float(step)))
    history.append(toy.queue[:, 0].clone().numpy())
    pointers.append(int(toy.ptr))

fig, ax = plt.subplots(figsize=(8, 3.4))
cmap = plt.get_cmap("viridis", STEPS_TOY + 1)
im = ax.imshow(np.array(history), cmap=cmap, vmin=-1.5, vmax=STEPS_TOY - 0.5, aspect="auto")
ax.scatter(np.array(pointers) - 0.5, np.arange(STEPS_TOY), marker="|", s=300, color="k", label="ptr")
for s, row in enumerate(history):
    for j, v in enumerate(row):
        ax.text(j, s, "init" if v < 0 else int(v), ha="center", va="center", fontsize=7, color="w")
ax.set_xlabel("queue slot")
ax.set_ylabel("after step")
ax.set_title(f"ring buffer, K = {K_TOY}, B = {B_TOY}: slot = step that wrote the key")
ax.legend(loc="upper right", fontsize=8)
plt.show()
print("state dict entries:", list(toy.state_dict()))

# %% [markdown]
# K need not be a multiple of B: a batch that reaches the end wraps to slot 0 (step 2 writes
# slots 10, 11, 0, 1, 2). The keys of the current batch are *not* negatives of their own step:
# the logits use a copy of the queue taken before the enqueue. The queue and its pointer are
# registered buffers, so a checkpoint holds them and a resumed run continues with the same
# dictionary.
#
# ### Exercise 1: enqueue by hand
#
# Write `my_enqueue(queue, ptr, keys)`: write `keys: (B, D)` into `queue: (K, D)` in place at rows
# (ptr … ptr + B − 1) mod K and return the new pointer.

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb05 import SOLUTIONS, check_enqueue, check_key_lifetime, check_queue_fraction


def my_enqueue(queue, ptr, keys):
    # YOUR CODE HERE
    raise NotImplementedError


check_enqueue(my_enqueue)

# %%
show_solution(SOLUTIONS, "enqueue")

# %% [markdown]
# ## 2. Queue size vs batch size
#
# With in-batch negatives (SimCLR) a query sees B − 1 negatives, so more negatives cost a larger
# batch: memory and compute grow with B. With a queue the negatives are *stored* keys, which cost
# neither a forward nor a backward pass: AS-CAL uses K = 16384 negatives with batches of 32.

# %%
Bs = np.array([32, 64, 128, 256, 512, 1024])
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(Bs, Bs - 1, "o-", label="in-batch negatives: B − 1")
for K in (4096, 16384, 32768):
    ax.plot(Bs, np.full(len(Bs), K), "--", label=f"queue: K = {K}")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("batch size B")
ax.set_ylabel("negatives per query")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Does the size of the dictionary matter? We pretrain AS-CAL briefly on the embedded dataset with
# queues of several sizes, the batch fixed at 32, through the course's training loop
# `skelcl_lib.train.fit` (one epoch of queue warm-up, then training), and judge each encoder with a
# kNN probe on frozen features. The runs are tiny (hidden 64, SGD with lr 0.05), so read the
# numbers as a trend with noise, not a result: the last printed line says how large the noise
# of a single accuracy on this test set is.

# %%
EPOCHS = 2 if SMOKE else 6
QUEUE_SIZES = (16, 256) if SMOKE else (16, 64, 256)


def pretrain_small(K, epochs=EPOCHS, seed=0):
    config = load_config("ascal_tiny", [f"seed={seed}", "model.hidden_size=64", f"model.K={K}",
                                          "model.selected_frames=64", f"train.epochs={epochs}",
                                          "train.optimizer=sgd", "train.lr=0.05", "train.lr_milestones=[]",
                                          "train.device=cpu"])
    torch.manual_seed(seed)
    method = build_method(config, train)
    fit(method, train, config, run_dir=None)     # no run_dir: nothing written to disk
    return method


knn = {}
for K in QUEUE_SIZES:
    method = pretrain_small(K)
    extractor = method.feature_extractor()
    f_train, f_test = extract_features(extractor, train), extract_features(extractor, test)
    knn[K] = knn_accuracy(f_train, train.y, f_test, test.y, k=(1, 5))
    print(f"K = {K:>4}: 1-NN {knn[K][1]:.3f}  5-NN {knn[K][5]:.3f}")
spread = max(knn[K][1] for K in QUEUE_SIZES) - min(knn[K][1] for K in QUEUE_SIZES)
print(f"1-NN varies by {spread:.3f} across queue sizes; one accuracy on {len(test)} test clips has a "
      f"standard error of up to {np.sqrt(0.25 / len(test)):.3f}.")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(QUEUE_SIZES, [knn[K][1] for K in QUEUE_SIZES], "o-", label="1-NN")
ax.plot(QUEUE_SIZES, [knn[K][5] for K in QUEUE_SIZES], "s-", label="5-NN")
ax.set_xscale("log", base=2)
ax.set_xlabel("queue size K (batch 32)")
ax.set_ylabel("test accuracy (xsub)")
ax.set_title(f"{EPOCHS} short epochs on {len(train)} clips")
ax.legend()
plt.show()

# %% [markdown]
# Two limits frame the choice of K. A queue much larger than the training set would hold several
# stale keys of the *same* clip, which then count as negatives against their own positive.
# And the older a key, the older the encoder that produced it (section 3). AS-CAL's K = 16384
# is about 41% of NTU-60 xsub; for the small datasets the official code uses K = 500 (N-UCLA,
# UWA3D) or 200 (SBU).
#
# ### Exercise 2: how long does a key live?
#
# With K = 16384 and batches of B = 32, for how many optimiser steps does a key stay in the queue?

# %%
answer = None  # YOUR ANSWER: a number of steps
check_key_lifetime(answer)

# %%
show_solution(SOLUTIONS, "key_lifetime")

# %% [markdown]
# ### Exercise 3: how much of the dataset is in the queue?
#
# NTU-60 xsub has 40,091 training clips. What fraction of them has a key in a queue of 16384?

# %%
answer = None  # YOUR ANSWER: a fraction between 0 and 1
check_queue_fraction(answer)

# %%
show_solution(SOLUTIONS, "queue_fraction")

# %% [markdown]
# ## 3. Stale keys
#
# A key in the queue was computed by the key encoder of the step that enqueued it. By now the key
# encoder has moved on. How different would that key be if we recomputed it today? We train for a
# few dozen steps, re-create the exact augmented key view of every queued clip (by re-seeding the
# random generator of its step), encode it with the *current* key encoder and compare with the
# stored key. The x axis is the key's age in steps.

# %%
STALE_STEPS = 10 if SMOKE else 40
K_STALE, B_STALE = 32 * (STALE_STEPS // 2), 32


def staleness(alpha, steps=STALE_STEPS, seed=0):
    torch.manual_seed(seed)
    m = ASCAL.build(input_size=150, hidden_size=64, K=K_STALE, alpha=alpha, selected_frames=64,
              skip_warmup_epoch=True).train()
    m.on_epoch_start(1)
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    xs = torch.from_numpy(train.x)
    g = torch.Generator().manual_seed(seed)
    batches = []
    for step in range(steps):
        idx = torch.randint(len(xs), (B_STALE,), generator=g)
        batches.append(idx)
        torch.manual_seed(1000 + step)                 # the views of this step, reproducible
        loss, _ = m.training_step((xs[idx], None))
        opt.zero_grad()
        loss.backward()
        opt.step()
        m.after_optimizer_step()
    ages, cos = [], []
    with torch.no_grad():
        for step, idx in enumerate(batches):
            start = (step * B_STALE) % K_STALE
            if step < steps - K_STALE // B_STALE:      # already overwritten
                continue
            x = xs[idx][:, :, :64]
            torch.manual_seed(1000 + step)
            m.view_q(x)                                 # the query view was drawn first
            k_now = m.encoder_k(m.view_k(x))
            stored = m.queue.queue[start:start + B_STALE]
            ages.append(steps - step)
            cos.append(F.cosine_similarity(stored, k_now, dim=1).mean().item())
    return np.array(ages), np.array(cos)


fig, ax = plt.subplots(figsize=(6, 3.2))
oldest = {}
for alpha in (0.9, 0.99, 0.999):
    ages, cos = staleness(alpha)
    ax.plot(ages, 1 - cos, "o-", ms=3, label=f"α = {alpha}")
    oldest[alpha] = (int(ages.max()), float(1 - cos[np.argmax(ages)]), float(1 - cos[np.argmin(ages)]))
ax.set_yscale("log")
ax.set_xlabel("age of the key (steps since it was enqueued)")
ax.set_ylabel("1 − cos(stored key, key now)")
ax.set_title("stale keys: how far a stored key is from today's")
ax.legend()
plt.show()
for alpha, (age, old, new) in oldest.items():
    print(f"α = {alpha:<5}: 1 − cos = {new:.1e} for the newest keys, {old:.1e} for the oldest ({age} steps)")
old_gap = [oldest[a][1] for a in (0.9, 0.99, 0.999)]
print(f"The oldest keys of α = 0.9 differ {old_gap[0] / max(old_gap[2], 1e-12):,.0f} times as much "
      "from today's keys as those of α = 0.999; " +
      ("the larger α, the closer the oldest keys stay at each step (0.9 → 0.99 → 0.999)."
       if old_gap[0] > old_gap[1] > old_gap[2] else
       "in this run the oldest keys do not get closer at every step up in α (0.9 → 0.99 → 0.999)."))

# %% [markdown]
# Every stored key is a little out of date: the printed lines compare the newest and the oldest
# keys of each run, and the runs with each other. The smaller the momentum, the faster the key
# encoder moves, so the more the oldest negatives come from a different encoder (the last line
# says whether this run shows it at every step up in α). This is why the queue and the momentum
# encoder come together: the queue makes K large, the slow key encoder keeps a large queue
# consistent.
#
# A related quirk: AS-CAL's first epoch only *fills* the queue with keys of the randomly
# initialised key encoder, without any gradient step (docs/methods.md §4.5). `ASCAL` reproduces it
# (`training_step` returns `loss=None` in epoch 1 and the loop skips backward); the option
# `skip_warmup_epoch=True` trains from the first epoch instead.
#
# ## Summary
#
# - The queue is a ring buffer of K keys; each step overwrites the B oldest, the pointer wraps.
# - Negatives come from storage, so K can be far larger than B at no extra forward/backward cost.
# - A key lives K / B steps (512 for AS-CAL on NTU); during that time the key encoder moves, so
#   keys are stale, and a large momentum α keeps the staleness small.
# - Under DDP every process enqueues the keys of *all* processes (gathered in rank order), so the
#   queues stay identical (docs/methods.md §8.6).
#
# ## References
#
# - K. He, H. Fan, Y. Wu, S. Xie, R. Girshick, "Momentum Contrast for Unsupervised Visual
#   Representation Learning", CVPR 2020 (the queue, the dictionary-size ablation).
# - Z. Wu, Y. Xiong, S. Yu, D. Lin, "Unsupervised Feature Learning via Non-Parametric Instance
#   Discrimination", CVPR 2018 (the memory bank that the queue replaced).
# - H. Rao et al., AS-CAL, Information Sciences 569 (2021): K = 16384 for NTU, 500 / 200 for the
#   small datasets.
