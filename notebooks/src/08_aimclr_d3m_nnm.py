# %% [markdown]
# # 08 · AimCLR, part 2: D3M, nearest-neighbour mining, a full run, streams and the ensemble
#
# **Learning objectives**
#
# - Explain D3M (Dual Distributional Divergence Minimization) as a teacher/student match: the
#   normal view's similarity distribution over [key, queue] teaches the extreme views.
# - Explain NNM (Nearest Neighbours Mining): from the mining epoch on, the queue entries closest
#   to the three queries become extra positives of the normal InfoNCE, and see that mined
#   neighbours are sometimes of the wrong class (or the same clip, seen earlier).
# - Run AimCLR end to end with the library's loop and judge it with a linear probe and kNN.
# - Train the joint, motion and bone streams and fuse them with the 0.6 / 0.6 / 0.4 ensemble.

# %%
# %matplotlib inline
import copy
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from skelcl_lib import augment as A
from skelcl_lib.evaluate.features import extract_features
from skelcl_lib.evaluate.geometry import feature_geometry
from skelcl_lib.evaluate.metrics import accuracy_noise, ensemble
from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import quick_probe
from skelcl_lib.rundir import read_log
from skelcl_lib.train import fit
from skelcl_lib import viz
from skelcl_lib.env import seed_everything, smoke_mode
from skelcl_lib.methods.aimclr import d3m_loss, nnm_loss, nnm_mask

SMOKE = smoke_mode()
seed_everything(0)
EPOCHS = 1 if SMOKE else 3
cfg = load_config("aimclr_tiny", [
    f"data.synthetic.size={'tiny' if SMOKE else 'small'}", "data.max_train=null", "data.max_test=null",
    f"train.epochs={EPOCHS}", "train.batch_size=16", "model.queue_size=64",
    f"model.mining_epoch={EPOCHS - 1}",            # NNM in the last epoch, so every part runs
    "train.progress=false", "train.device=cpu"])
train, test = build_data(cfg)                    # frame50 clips (N, 3, 50, 25, 2)
train_fit = train.subset(np.arange(32)) if SMOKE else train
print("train", train.x.shape, "test", test.x.shape, "fit on", len(train_fit), "clips")

# %% [markdown]
# ## 1. A full AimCLR run
#
# One AimCLR step (docs/methods.md §6.5): two normal views (query, key) and one extreme view; the
# query encoder runs on the normal view and, once, on the extreme view, whose last feature map
# gives z_e (as is) and z_ed (after EADM) through the same head; the momentum encoder gives the
# key. The loss is the normal InfoNCE (or NNM, later) plus D3M. We train a short run with the
# library's loop: the sections below look inside the method (its key encoder and queue), which
# the shipped AimCLR checkpoints of notebook 09 do not keep (they hold the frozen encoder only).
# As in notebook 07, a copy of the encoder taken before training is the baseline the run must beat.

# %%
seed_everything(0)
aim = build_method(cfg, train)
aim_init = copy.deepcopy(aim).eval()             # the same weights, never trained
run_dir = pathlib.Path(tempfile.mkdtemp(prefix="skelcl_nb08_"))
fit(aim, train_fit, cfg, run_dir=run_dir)
log = read_log(run_dir)
viz.plot_training_curve(log, keys=("loss", "loss_n", "loss_d3m"), title="AimCLR pretraining")
plt.show()
probe = quick_probe(aim, train, test, cfg)
probe_init = quick_probe(aim_init, train, test, cfg)
for name, pr in ((f"AimCLR ({EPOCHS} epoch(s))", probe), ("same encoder untrained", probe_init)):
    print(f"{name:24s} linear probe {pr['linear']:.3f}, kNN-1 {pr['knn']['1']:.3f}")
gain = probe["linear"] - probe_init["linear"]
noise = accuracy_noise(len(test))               # about two standard errors of one accuracy, at most
improved = gain > noise
print(f"Pretraining moved the probe by {100 * gain:+.1f} points against the untrained encoder's, on {len(test)} "
      f"test clips (noise about ±{100 * noise:.0f} points): "
      + ("a measurable gain." if improved else
         "this toy run has not measurably improved on a random ST-GCN, so the sections below show the "
         "mechanics of the method, not what a trained AimCLR does."))

# %% [markdown]
# ## 2. D3M: the normal view teaches the extreme views
#
# For any query u, ℓ(u) = [u·k, uᵀQ] / T is a row of 1 + K logits (the positive key first, then
# the queue). The normal query q gives p_n = softmax(ℓ(q)), **detached**: it is the teacher. The
# extreme views are students: L_e = H(p_n, softmax ℓ(z_e)), L_ed = H(p_n, softmax ℓ(z_ed)), and
# D3M = ½(L_e + L_ed). Since p_n is constant, H(p_n, p_e) = KL(p_n ‖ p_e) + H(p_n): the extreme
# view is pulled toward the *whole* similarity profile of the normal view — "you need not be
# identical to your key, but rank the queue the way the normal view does" — instead of a one-hot
# target that it may be unable to meet.

# %%
aim.train()
x = torch.from_numpy(test.x[:16])
g = torch.Generator().manual_seed(0)
with torch.no_grad():
    x_q, x_k = (A.to_stream(A.aimclr_normal()(x, generator=g), "joint") for _ in range(2))
    x_e = A.aimclr_extreme()(x, generator=g)
    q = F.normalize(aim.encoder_q(x_q), dim=1)
    z_e, z_ed = aim.extreme_embeddings(x_e, x.shape[-1])
    k = F.normalize(aim.encoder_k(x_k), dim=1)
    queue = aim.queue.snapshot()
    l_n, l_e, l_ed = (aim.logits(u, k, queue) for u in (q, z_e, z_ed))
p_n, p_e, p_ed = (torch.softmax(lg, 1) for lg in (l_n, l_e, l_ed))
b = 0
top = torch.argsort(p_n[b], descending=True)[:15]
fig, ax = plt.subplots(figsize=(9, 3))
w = 0.28
ax.bar(np.arange(15) - w, p_n[b, top], w, label="p_n (teacher: normal)")
ax.bar(np.arange(15), p_e[b, top], w, label="p_e (extreme)")
ax.bar(np.arange(15) + w, p_ed[b, top], w, label="p_ed (extreme + EADM)")
ax.set_xticks(range(15), ["key" if int(i) == 0 else f"Q{int(i) - 1}" for i in top], rotation=60, fontsize=8)
ax.set_ylabel("probability")
ax.set_title("Similarity distributions over [key, queue] for one clip (15 largest entries of p_n)")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()
kl = (p_n * (torch.log(p_n) - torch.log_softmax(l_e, 1))).sum(1).mean()
h = -(p_n * torch.log(p_n)).sum(1).mean()
ce = -(p_n * torch.log_softmax(l_e, 1)).sum(1).mean()
print(f"H(p_n, p_e) = {ce:.4f} = KL {kl:.4f} + H(p_n) {h:.4f}")
mean_cos = feature_geometry(q)["mean_cosine"]
print(f"mean cosine between the queries of different clips: {mean_cos:.3f}; H(p_n) {h:.2f} nats against "
      f"{np.log(l_n.shape[1]):.2f} for a uniform distribution over the {l_n.shape[1]} entries")
if mean_cos > 0.9:
    print("  The encoder of this run is collapsed (every clip maps to nearly the same vector): every clip gets "
          f"the same similarity profile and the students already match the teacher (KL {kl:.4f}), so the "
          "figure shows the shapes D3M compares, not a teacher that ranks the queue by content.")
assert torch.isclose(ce, kl + h, rtol=1e-4, atol=1e-5)
print(f"D3M on this batch: {d3m_loss(l_n, l_e, l_ed):.4f}")

# %% [markdown]
# Gradients flow only into the students: the teacher logits are detached inside `d3m_loss`.

# %%
l_n_g, l_e_g = l_n.clone().requires_grad_(True), l_e.clone().requires_grad_(True)
d3m_loss(l_n_g, l_e_g, l_ed).backward()
print("gradient on the teacher logits:", l_n_g.grad, "| on the extreme logits: norm", round(float(l_e_g.grad.norm()), 4))
assert l_n_g.grad is None and l_e_g.grad is not None

# %% [markdown]
# ## 3. NNM: mined neighbours as extra positives
#
# From epoch `mining_epoch + 1` on (151 of 300 in the paper), each of q, z_e and z_ed picks its
# top-1 queue entry; their union (1–3 entries) joins the true key as positives of the *normal*
# InfoNCE: L_NNM = −mean over positives of log softmax(ℓ(q)). D3M is unchanged. The hope is
# that a clip's nearest neighbours are other clips of the same action. Let us check with labels
# the method never sees: we fill a labelled "queue" with key embeddings of the training clips,
# for the trained encoder and for its untrained copy.

# %%
def key_embed(method, x):
    with torch.no_grad():
        return F.normalize(method.encoder_k.eval()(torch.as_tensor(x)), dim=1)


queries = torch.from_numpy(test.x[:64])
x_query = A.aimclr_normal()(queries, generator=torch.Generator().manual_seed(1))
chance = 1 / train.num_classes
same = {}
for name, method in (("trained", aim), ("untrained", aim_init)):
    bank_m = key_embed(method, train.x)               # (N_train, 128), labels train.y
    with torch.no_grad():
        qn_m = F.normalize(method.encoder_q.eval()(x_query), dim=1)
    sims_m = qn_m @ bank_m.t()
    for kk in (1, 5):
        nn_idx = sims_m.topk(kk, dim=1).indices
        same[name, kk] = float((torch.as_tensor(train.y)[nn_idx] == torch.as_tensor(test.y[:64])[:, None]).float().mean())
    print(f"{name:9s}: mined neighbours of the same class: top-1 {100 * same[name, 1]:.1f}%, "
          f"top-5 {100 * same[name, 5]:.1f}%  (chance ≈ {100 * chance:.1f}%)")
    if name == "trained":
        bank, sims = bank_m, sims_m                   # the trained encoder's, for the cells below
s5, s5_init = same["trained", 5], same["untrained", 5]
print(f"So the trained encoder's top-5 mined positives share the query's class in {100 * s5:.0f}% of cases "
      f"({s5 / chance:.1f}× chance; wrong in {100 * (1 - s5):.0f}%), "
      + (f"more often than the untrained encoder's {100 * s5_init:.0f}%." if s5 > s5_init else
         f"no more often than the untrained encoder's {100 * s5_init:.0f}%: this short run has not made the "
         "neighbours more class-like than a random ST-GCN does. In the paper mining starts only at "
         "epoch 151 of 300."))

# %%
nn1 = sims.argmax(1)
show = range(4)
fig = plt.figure(figsize=(12, 5.5))
for col, i in enumerate(show):
    j = int(nn1[i])
    ok = train.y[j] == test.y[i]
    ax = fig.add_subplot(2, 4, col + 1, projection="3d")
    viz.plot_skeleton(test.x[i], t=25, ax=ax, title=f"query: {test.class_names[test.y[i]]}")
    ax = fig.add_subplot(2, 4, 4 + col + 1, projection="3d")
    viz.plot_skeleton(train.x[j], t=25, ax=ax,
                      title=f"{'✓' if ok else '✗'} neighbour: {train.class_names[train.y[j]]}")
fig.suptitle("Nearest queue neighbours (top-1) of four test clips")
plt.tight_layout()
plt.show()

# %% [markdown]
# **The stale-key caveat.** During training the queue holds keys of *training* clips, including
# older keys of the very clip being encoded (the official queue of 32,768 is 82% of NTU-60 xsub).
# Then the mined "neighbour" is the clip itself under other augmentations: a harmless but
# uninformative extra positive. Nothing in the official code excludes it. Here is how often
# that happens for training clips in our labelled bank:

# %%
with torch.no_grad():
    xt = torch.from_numpy(train.x[:64])
    qt = F.normalize(aim.encoder_q.eval()(A.aimclr_normal()(xt, generator=torch.Generator().manual_seed(2))), dim=1)
self_hit = ((qt @ bank.t()).argmax(1) == torch.arange(len(xt))).float().mean()
print(f"top-1 neighbour is the clip itself: {100 * self_hit:.1f}% of training queries")
mask = nnm_mask(l_n, l_e, l_ed, topk=1)
print("positives per sample in this batch (key + mined):", mask.sum(1).int().tolist())
print(f"InfoNCE {F.cross_entropy(l_n, torch.zeros(len(l_n), dtype=torch.long)):.4f} vs NNM {nnm_loss(l_n, mask):.4f}")

# %% [markdown]
# ## 4. Streams and the 3-stream ensemble
#
# AimCLR trains three *separate* models on three views of the same data: **joint** (the
# coordinates), **motion** (frame differences) and **bone** (joint minus its parent). The streams
# are computed on the device after augmentation. Each model is evaluated alone, then their test
# **logits** are fused: 0.6·joint + 0.6·bone + 0.4·motion. No loss ties the streams together.
# We train the motion and bone models for one epoch (the joint model is section 1's), and use a
# logistic-regression probe per stream
# (the paper trains a linear layer; notebook 09 does the full protocol).

# %%
def stream_logits(method):
    ext = method.feature_extractor()
    f_tr, f_te = extract_features(ext, train), extract_features(ext, test)
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    sc = StandardScaler().fit(f_tr)
    clf = LogisticRegression(max_iter=2000).fit(sc.transform(f_tr), train.y)
    return clf.decision_function(sc.transform(f_te))


logits = {"joint": stream_logits(aim)}
for stream in ("motion", "bone"):
    seed_everything(0)
    c = load_config("aimclr_tiny", [f"{k}={v}" for k, v in {
        "model.stream": stream, "model.queue_size": 64, "train.batch_size": 16,
        "train.epochs": 1, "model.mining_epoch": 10,
        "train.progress": "false", "train.device": "cpu"}.items()])
    m = build_method(c, train)
    fit(m, train_fit, c)
    logits[stream] = stream_logits(m)
acc = {s: float((lg.argmax(1) == test.y).mean()) for s, lg in logits.items()}
fused = ensemble(logits)                         # 0.6 joint + 0.6 bone + 0.4 motion
acc["3-stream"] = float((fused.argmax(1) == test.y).mean())
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(list(acc), [100 * v for v in acc.values()], color=["tab:blue", "tab:orange", "tab:green", "tab:red"])
ax.set_ylabel("test accuracy (%)")
ax.set_title("Per-stream probes and the logit ensemble (toy run)")
for i, v in enumerate(acc.values()):
    ax.text(i, 100 * v + 1, f"{100 * v:.1f}", ha="center", fontsize=9)
plt.show()
best = max(("joint", "motion", "bone"), key=acc.get)
print(f"The fusion scores {100 * acc['3-stream']:.1f}% against {100 * acc[best]:.1f}% for the best single "
      f"stream ({best}): " + (f"within the noise of {len(test)} test clips (±{100 * noise:.0f} points)."
                               if abs(acc["3-stream"] - acc[best]) <= noise else
                               "it helps here." if acc["3-stream"] > acc[best] else
                               "no gain on this toy run; fusion helps when the streams are each good and "
                               "make different mistakes."))

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Write `d3m(l_n, l_e, l_ed)` from the formula (detach the teacher!).

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb08 import SOLUTIONS, check_d3m, check_ensemble, check_nnm_mask


def d3m(l_n, l_e, l_ed):
    # YOUR CODE
    return torch.tensor(0.0)


check_d3m(d3m)

# %%
show_solution(SOLUTIONS, "d3m")

# %% [markdown]
# **Exercise 2.** Write `mask_fn(logits_list, topk)`: the NNM positive mask (N, 1 + K) from the
# logits of q, z_e and z_ed.

# %%
def mask_fn(logits_list, topk):
    # YOUR CODE
    m = torch.zeros_like(logits_list[0])
    m[:, 0] = 1
    return m


check_nnm_mask(mask_fn)

# %%
show_solution(SOLUTIONS, "nnm_mask")

# %% [markdown]
# **Exercise 3.** Write `fuse(joint, motion, bone)`: AimCLR's 3-stream score fusion.

# %%
def fuse(joint, motion, bone):
    # YOUR CODE
    return (joint + motion + bone) / 3


check_ensemble(fuse)

# %%
show_solution(SOLUTIONS, "ensemble")

# %% [markdown]
# ## Summary
#
# - D3M: the detached similarity distribution of the normal query is the target of the extreme
#   and extreme+EADM views (weights ½ each); the extreme views never get a one-hot target.
# - NNM: from the mining epoch on, the top-1 queue neighbours of q, z_e and z_ed are extra
#   positives of the normal InfoNCE. Whether they share the query's class depends on how well
#   the encoder has learned (section 3 measures it), and they can be stale keys of the same clip.
# - A full AimCLR run is the normal InfoNCE + D3M for half the epochs, then NNM + D3M.
# - Three streams, three separate models, fused on logits with 0.6 / 0.6 / 0.4.
# - Measured results on the synthetic dataset and N-UCLA are in `docs/results/README.md` (commands included).
#
# ## References
#
# - T. Guo et al., "Contrastive Learning from Extremely Augmented Skeleton Sequences for
#   Self-supervised Action Recognition", AAAI 2022 (arXiv 2112.03590); code `Levigty/AimCLR`.
# - K. He et al., "Momentum Contrast for Unsupervised Visual Representation Learning", CVPR 2020.
# - L. Li et al., CrosSCLR (CVPR 2021), for SkeletonCLR and the 3-stream protocol.
# - `docs/methods.md` §6 of this course.
