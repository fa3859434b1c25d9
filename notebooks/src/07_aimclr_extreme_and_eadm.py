# %% [markdown]
# # 07 · AimCLR, part 1: ST-GCN, SkeletonCLR, extreme augmentations and EADM
#
# **Learning objectives**
#
# - Read the ¼-width ST-GCN encoder of AimCLR: its graph, its three partitions (and the
#   partition quirk inherited from the original ST-GCN code), its blocks and its 821,380 parameters.
# - Run SkeletonCLR, the MoCo-on-ST-GCN baseline that AimCLR builds on.
# - See what AimCLR's *extreme* augmentations do to a sequence, and measure whether an extreme
#   view stays closer to its original than other clips are (the reason AimCLR gives for not
#   asking a plain one-hot InfoNCE to match them).
# - Understand EADM (Energy-based Attention-guided Drop Module): compute SimAM attention on the
#   last feature map, see which joints it drops, and why.
#
# Everything here calls `skelcl_lib`; the notebook only explains and plots.

# %%
# %matplotlib inline
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import HTML, display

from skelcl_lib import augment as A
from skelcl_lib import viz
from skelcl_lib.env import seed_everything, smoke_mode
from skelcl_lib.evaluate.metrics import accuracy_noise
from skelcl_lib.methods.aimclr import eadm, eadm_masks, simam_attention
from skelcl_lib.models import STGCN
from skelcl_lib.models.stgcn import spatial_partitions
from skelcl_lib.skeleton import NTU25
from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import probe_extractor, quick_probe
from skelcl_lib.train import fit

SMOKE = smoke_mode()
seed_everything(0)
# The tiny config, on the small synthetic dataset outside smoke mode. build_data applies AimCLR's
# "frame50" preprocessing: centred on joint 21, resampled to 50 frames, shoulders aligned.
cfg = load_config("skeletonclr_tiny", [
    f"data.synthetic.size={'tiny' if SMOKE else 'small'}", "data.max_train=null", "data.max_test=null",
    f"train.epochs={1 if SMOKE else 4}", "train.batch_size=16", "model.queue_size=64",
    "train.progress=false", "train.device=cpu"])
train, test = build_data(cfg)
x_train, x_test = torch.from_numpy(train.x), torch.from_numpy(test.x)
print("train", tuple(x_train.shape), "test", tuple(x_test.shape), "classes:", train.num_classes)

# %% [markdown]
# ## 1. The graph and its three partitions
#
# ST-GCN treats the skeleton as a graph: 25 joints, the 24 bones as edges, plus a self-loop on
# every joint. A graph convolution mixes each joint with its neighbours. To let the network tell
# neighbours apart, the "spatial" strategy splits each neighbourhood into three **partitions**
# with their own weights, by comparing the distances of source and target to the centre joint
# (spine shoulder, joint 21; 0-based 20). Read as the code computes them (`x_out[w] = Σ_v x[v]·A[v, w]`,
# source v, target w):
#
# - A₀: the joint itself;
# - A₁ (named "root + closer" in the official code): w receives from neighbours v **at least as
#   far** from the centre as w itself, so information flows *inwards*, towards the centre;
# - A₂ ("further"): w receives from neighbours v **closer** to the centre, so information flows
#   *outwards*.
#
# The names describe the target: in A₁ the target is the closer one. The whole 1-hop adjacency
# (self-loops included) is normalised as A·D⁻¹ *before* it is split, with D the column sums (the
# number of inputs of each target): over the three partitions together a joint averages its
# inputs, so the column sums of A₀ + A₁ + A₂ are 1 (printed below), not those of each partition.
#
# **The quirk.** The official code measures "distance to the centre" with a hop-distance matrix
# computed only up to one hop. Every joint more than one hop from joint 21 is at distance ∞, and
# ∞ == ∞ counts as "equal", so almost every edge lands in A₁; the cell below counts them.

# %%
A_faithful = spatial_partitions("ntu25")                 # the official behaviour (default)
A_geodesic = spatial_partitions("ntu25", geodesic=True)  # a true centripetal/centrifugal split
edges = {}
for name, Ap in (("official", A_faithful), ("geodesic", A_geodesic)):
    edges[name] = [int((a != 0).sum()) for a in Ap]
    print(f"{name:9s} non-zeros per partition (A0, A1, A2):", edges[name])
print("column sums of A0+A1+A2:", np.unique(A_faithful.sum(0).sum(0).round(6)))
print(f"official: {edges['official'][1]} of the {sum(edges['official'][1:])} directed edges in A1, "
      f"{edges['official'][2]} in A2")
# the direction, checked on one bone: the elbow (5) is farther from the centre than the shoulder (4)
assert A_geodesic[1][5, 4] > 0 and A_geodesic[2][4, 5] > 0    # A1: elbow -> shoulder (inwards)
assert edges["official"][1:] == [40, 8]                       # the numbers the summary quotes

# %%
def draw_partitions(Ap, ax, title):
    """Front view of a mean pose; arrows source -> target coloured by partition."""
    pose = x_train[0, :, :, :, 0].mean(1).numpy()       # (3, V), mean over time
    px, py = pose[0], pose[1]
    colours = {1: "tab:blue", 2: "tab:red"}
    for k in (1, 2):
        for j, i in np.argwhere(Ap[k] != 0):
            ax.annotate("", xy=(px[i], py[i]), xytext=(px[j], py[j]),
                        arrowprops=dict(arrowstyle="->", color=colours[k], lw=1.6, alpha=0.8,
                                        shrinkA=4, shrinkB=4, connectionstyle="arc3,rad=0.15"))
    ax.scatter(px, py, s=30, c="k", zorder=3)
    ax.scatter(px[NTU25.center_joint], py[NTU25.center_joint], s=120, c="gold", edgecolors="k", zorder=4)
    ax.set_title(title, fontsize=10)
    ax.set_aspect("equal")
    ax.axis("off")


fig, axes = plt.subplots(1, 2, figsize=(9, 5))
draw_partitions(A_faithful, axes[0], f"official: A1 (blue) {edges['official'][1]} edges, "
                                     f"A2 (red) {edges['official'][2]}")
draw_partitions(A_geodesic, axes[1], f"geodesic option: A1 {edges['geodesic'][1]}, A2 {edges['geodesic'][2]}")
fig.suptitle("ST-GCN spatial partitions (gold: centre joint 21; arrows: source → target)")
plt.show()

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for k, (ax, name) in enumerate(zip(axes, ["A0: self", "A1: from v as far or farther", "A2: from v closer"])):
    ax.imshow(A_faithful[k], cmap="viridis")
    ax.set_title(f"{name} ({int((A_faithful[k] != 0).sum())} non-zeros)", fontsize=9)
    ax.set_xlabel("target joint w")
    ax.set_ylabel("source joint v")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. The encoder
#
# Ten ST-GCN blocks at a quarter of the original width (16 → 256 channels). Each block is a
# graph convolution (1×1 conv to 3·C channels, then Σₖ x·(Aₖ ⊙ Eₖ) with a learnable edge
# importance Eₖ) followed by a temporal convolution (kernel 9), with a residual connection in
# every block but the first. Blocks 5 and 8
# halve the time axis. The two persons are folded into the batch and averaged after pooling.
# The parameter count must match the official model exactly.

# %%
enc = STGCN("ntu25", hidden_channels=16, hidden_dim=256)
rows = [("data BN", sum(p.numel() for p in enc.data_bn.parameters()))]
for i, b in enumerate(enc.blocks):
    cin = b.gcn.conv.in_channels
    cout = b.tcn[2].out_channels
    stride = b.tcn[2].stride[0]
    rows.append((f"block {i + 1:2d}: {cin:3d} → {cout:3d}, stride {stride}", sum(p.numel() for p in b.parameters())))
rows.append(("edge importance (10 × 3×25×25)", sum(p.numel() for p in enc.edge_importance)))
for name, n in rows:
    print(f"{name:34s} {n:8,d}")
print(f"{'total (official: 821,380)':34s} {sum(p.numel() for p in enc.parameters()):8,d}")
assert sum(p.numel() for p in enc.parameters()) == 821_380
with torch.no_grad():
    fmap = enc.eval().forward_map(x_train[:2])
print("final feature map (N·M, C, T', V):", tuple(fmap.shape), "-> pooled features:", tuple(enc(x_train[:2]).shape))

# %%
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.bar(range(len(rows)), [n for _, n in rows], color="tab:blue")
ax.set_xticks(range(len(rows)), [r[0].split(":")[0] for r in rows], rotation=60, fontsize=8)
ax.set_ylabel("parameters")
top_name, top_n = max(rows, key=lambda r: r[1])
ax.set_title(f"Where the parameters are: {top_name.split(',')[0]} holds "
             f"{top_n / sum(n for _, n in rows):.0%} of them")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. A SkeletonCLR run
#
# SkeletonCLR is MoCo on this encoder: two *normal* views (temporal crop + shear) per clip, a
# momentum key encoder (m = 0.999), a queue of negatives, InfoNCE with T = 0.07. We train it
# with the library's loop (`skelcl_lib.train.fit`) using the `skeletonclr_tiny` config, made
# a little larger outside smoke mode, then judge the frozen features with a linear probe and kNN.
# A number alone says little: we also probe the *same* encoder at its random initialisation (a
# copy taken before training), the baseline that pretraining has to beat. On a CPU this is a toy
# run; the course's configs train longer (`skeletonclr_synthetic` and `_nucla` with the paper's
# settings, `skeletonclr_cpu` with the CPU recipe of `docs/results/stgcn_cpu_recipe.md`).

# %%
seed_everything(0)
skclr = build_method(cfg, train)                  # SkeletonCLR(queue_size=64), official init
skclr_init = copy.deepcopy(skclr).eval()           # the same weights, never trained
n_head = sum(p.numel() for p in skclr.encoder_q.parameters())
print(f"query encoder with its projection head: {n_head:,d} parameters")
assert n_head == 920_068                           # the number the summary quotes
if SMOKE:
    train_fit = train.subset(np.arange(32))
else:
    train_fit = train
fit(skclr, train_fit, cfg)                         # run_dir=None: nothing written
probe = quick_probe(skclr, train, test, cfg)
probe_init = quick_probe(skclr_init, train, test, cfg)
for name, pr in ((f"SkeletonCLR ({cfg['train']['epochs']} epoch(s))", probe), ("same encoder untrained", probe_init)):
    print(f"{name:28s} linear probe {pr['linear']:.3f}, kNN-1 {pr['knn']['1']:.3f}")
gain = probe["linear"] - probe_init["linear"]
noise = accuracy_noise(len(test))               # about two standard errors of one accuracy, at most
improved = gain > noise
print(f"Pretraining moved the probe by {100 * gain:+.1f} points against the untrained encoder's, on {len(test)} "
      f"test clips (noise about ±{100 * noise:.0f} points): "
      + ("a measurable gain." if improved else
         "a random ST-GCN separates these classes about as well or better, and this toy run has not "
         "measurably improved on it."))

# %% [markdown]
# ## 4. Extreme augmentations
#
# AimCLR adds an **extreme** view: the normal crop + shear, then in fixed order a spatial flip
# (p 0.5), a rotation (always; up to 30° on a main axis), Gaussian noise (p 0.5), the
# unnormalised Gaussian blur (p 0.5, it also scales coordinates by 1–5×) and an axis mask
# (p 0.5). About three extreme ops fire per view. Let us look at a few.

# %%
clip = x_train[:1]
g = torch.Generator().manual_seed(1)
normal = A.aimclr_normal()
extreme = A.aimclr_extreme()
views = [clip[0]] + [normal(clip, generator=g)[0]] + [extreme(clip, generator=g)[0] for _ in range(3)]
titles = ["original", "normal view", "extreme 1", "extreme 2", "extreme 3"]
fig = plt.figure(figsize=(14, 3.2))
for j, (v, t) in enumerate(zip(views, titles)):
    ax = fig.add_subplot(1, 5, j + 1, projection="3d")
    viz.plot_skeleton(v, t=25, ax=ax, title=t)
plt.tight_layout()
plt.show()
display(HTML(viz.animation_html(viz.animate_side_by_side(views[:1] + views[2:3], ["original", "extreme 1"],
                                                         max_frames=10 if SMOKE else 25))))

# %% [markdown]
# **Can plain InfoNCE on extreme views hurt?** InfoNCE demands that the positive (the other
# view of the *same* clip) be more similar to the query than every negative. Take an
# encoder and compare three similarity distributions: a normal view with another normal view of
# the same clip, a normal view with an extreme view of the same clip, and a normal view with
# *other* clips. The paper's argument: if the extreme positives overlap with the negatives, a
# one-hot loss would push the encoder to match views that no longer look alike, at the cost of the
# semantics. AimCLR therefore never gives the extreme views a one-hot target (notebook 08: D3M).
#
# Such a picture is evidence only if the encoder has not **collapsed**: an encoder that maps
# every clip to nearly the same vector gives cosines ≈ 1 for positives and negatives alike, and
# the histogram then shows nothing about augmentations. Two numbers tell: the mean cosine
# between *different* clips (≈ 1: collapsed) and the effective rank of the embeddings (the
# exponential of the entropy of their normalised singular values squared; 1 means one
# direction). We measure them for our short toy run and for the course's shipped SkeletonCLR
# encoder (pretrained longer on the full embedded dataset with the CPU recipe,
# `skeletonclr_cpu_xsub`; its pooled 256-d features, the ones a classifier reads), and draw the
# histogram from the one that has not collapsed. A third number says whether the picture is one
# of *learned* features at all: the probe of the shipped encoder on this notebook's clips, next
# to the untrained encoder's from section 3.

# %%
from skelcl_lib.checkpoints import load_or_train
from skelcl_lib.evaluate.geometry import feature_geometry   # mean cosine, effective rank, top share


COLLAPSED = 0.9                                   # mean cosine between different clips above this
shipped, _ = load_or_train("skeletonclr_cpu_xsub",
                           overrides=["train.epochs=1", "train.min_steps=0", "train.lr_milestones=[]",
                                      "train.progress=false", "data.synthetic.size=tiny"] if SMOKE else ())
skclr.eval()
encoders = {"toy run (section 3)": skclr.feature_extractor().eval(), "shipped SkeletonCLR": shipped.eval()}
n_sim = min(len(x_test), 32 if SMOKE else 128)
xs = x_test[:n_sim]
sims = {}
for label, f in encoders.items():
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        e_a, e_b, e_x = (F.normalize(f(v), dim=1) for v in (normal(xs, generator=g), normal(xs, generator=g),
                                                             extreme(xs, generator=g)))
    geometry = feature_geometry(e_a)
    mean_cos, rank = geometry["mean_cosine"], geometry["effective_rank"]
    sims[label] = dict(e_a=e_a, e_b=e_b, e_x=e_x, mean_cos=mean_cos, rank=rank,
                       collapsed=mean_cos > COLLAPSED)
    print(f"{label}: mean cosine between different clips {mean_cos:.3f}, effective rank {rank:.1f} "
          f"of {e_a.shape[1]} -> {'COLLAPSED' if mean_cos > COLLAPSED else 'not collapsed'}")
probe_shipped = probe_extractor(shipped, train, test, knn_k=(1,))
learned = {"toy run (section 3)": improved,
           "shipped SkeletonCLR": probe_shipped["linear"] - probe_init["linear"] > noise}
print(f"shipped SkeletonCLR on this notebook's clips: linear probe {probe_shipped['linear']:.3f}, "
      f"kNN-1 {probe_shipped['knn']['1']:.3f} (untrained encoder: {probe_init['linear']:.3f}, "
      f"{probe_init['knn']['1']:.3f}) -> "
      f"{'measurably above' if learned['shipped SkeletonCLR'] else 'NOT measurably above'} the untrained encoder")

# %%
usable = [k for k, s in sims.items() if not s["collapsed"]]
label = usable[-1] if usable else "shipped SkeletonCLR"
s = sims[label]
pos_normal = (s["e_a"] * s["e_b"]).sum(1).numpy()
pos_extreme = (s["e_a"] * s["e_x"]).sum(1).numpy()
others = (s["e_a"] @ s["e_b"].t()).numpy()
neg = others[~np.eye(n_sim, dtype=bool)]
np.fill_diagonal(others, -np.inf)                     # only *other* clips count as negatives
rank_n = (others > pos_normal[:, None]).sum(1).mean()
rank_e = (others > pos_extreme[:, None]).sum(1).mean()
fig, ax = plt.subplots(figsize=(7, 3))
bins = np.linspace(-1, 1, 60)
ax.hist(neg, bins, density=True, alpha=0.5, label="other clips (negatives)")
ax.hist(pos_normal, bins, density=True, alpha=0.6, label="normal ↔ normal (same clip)")
ax.hist(pos_extreme, bins, density=True, alpha=0.6, label="normal ↔ extreme (same clip)")
ax.set_xlabel("cosine similarity")
ax.legend(fontsize=8)
if s["collapsed"]:
    ax.set_title(f"{label}: COLLAPSED (mean cosine {s['mean_cos']:.2f}); this shows nothing")
    print(f"Both encoders are collapsed here (mean cosine between different clips above {COLLAPSED}): "
          "every clip lands near the same point, so positives and negatives cannot be told apart and "
          "the histogram says nothing about extreme views. Train longer (more epochs, more data) "
          "before reading it.")
else:
    closer = rank_e > rank_n
    ax.set_title(f"{label}: extreme positives {'closer to' if closer else 'not closer to'} the negatives")
    print(f"{label}: on average {rank_n:.1f} other clips (of {n_sim - 1}; {(n_sim - 1) / 2:.0f} by chance) are "
          f"more similar to the query than its normal positive, and {rank_e:.1f} than its extreme positive: "
          "the extreme views "
          + ("drift toward the negatives" if closer else
             "do not drift toward the negatives with this encoder and this sample") + ".")
    if closer and learned[label]:
        print("  This encoder probes measurably above the untrained one, so the drift is away from features that carry "
              "the classes: a one-hot target on extreme views would ask for more than its semantics give.")
    elif closer:
        print("  This encoder does not probe measurably above the untrained one: the figure shows how the extreme "
              "augmentations move clips in its feature space, not what they would cost an encoder that has "
              "learned the classes. The paper's argument is not tested here.")
    if s["rank"] < 2:
        print(f"  Caveat: the embeddings vary mostly along one direction (effective rank {s['rank']:.1f}), and "
              f"their mean cosine is {s['mean_cos']:.2f} (pooled ReLU features are all positive): read the "
              "figure as a picture of this encoder, not as a property of AimCLR's augmentations.")
plt.show()

# %% [markdown]
# ## 5. EADM: which joints does it drop?
#
# EADM acts on the last block's feature map F (N·M × 256 × 13 × 25) of the **extreme** view,
# in the query encoder only. It computes SimAM attention, a closed-form "how unusual is this
# activation in its channel" score:
#
# E⁻¹ = (F − μ)² / (4(σ² + λ)) + 0.5,  A = sigmoid(E⁻¹) ∈ [0.62, 1),
#
# with μ, σ² over the 13 × 25 positions of each channel. Then two hard masks:
#
# - **joint drop**: a joint whose attention, averaged over channels and frames, is ≥ 0.7 is zeroed;
# - **element-wise drop**: every activation with A ≥ 0.7 is zeroed;
#
# each followed by a rescaling by (#entries / #kept), counted over the whole batch. So EADM
# removes the *most salient* evidence and makes the network find the action in the rest: a
# harder extreme view, which the paper argues stays semantically faithful. We look at it on the
# shipped SkeletonCLR encoder's feature maps (EADM has no weights: it acts on whatever map it is
# given, so what it drops is a property of that encoder).

# %%
clip_e = extreme(x_test[:1], generator=torch.Generator().manual_seed(3))
with torch.no_grad():
    fmap = shipped.backbone.eval().forward_map(clip_e)                # (M, 256, 13, 25)
att = simam_attention(fmap)
m_s, m_t = eadm_masks(fmap)
print("feature map:", tuple(fmap.shape))
print("joints dropped in body 1:", [NTU25.joint_names[v] for v in torch.nonzero(m_s[0] == 0).flatten().tolist()])
print(f"element-wise drop: {100 * (1 - m_t[0].mean()):.1f}% of body 1's activations")

# %%
a_joint = att[0].mean(dim=(0, 1)).numpy()          # (V,) mean attention per joint
fig = plt.figure(figsize=(12, 3.6))
ax = fig.add_subplot(1, 3, 1)
ax.hist(att[0].flatten().numpy(), bins=60, color="tab:gray")
ax.axvline(0.7, color="r", ls="--", label="keep_prob 0.7")
ax.set_title("SimAM attention of all activations", fontsize=9)
ax.legend(fontsize=8)
ax = fig.add_subplot(1, 3, 2)
ax.bar(range(25), a_joint, color=["tab:red" if a >= 0.7 else "tab:blue" for a in a_joint])
ax.axhline(0.7, color="r", ls="--")
ax.set_ylim(0.6, max(0.75, a_joint.max() + 0.01))
ax.set_xlabel("joint (0-based)")
ax.set_title("mean attention per joint (red: dropped)", fontsize=9)
ax = fig.add_subplot(1, 3, 3)
pose = clip_e[0, :, 25, :, 0].numpy()
for v, p in enumerate(NTU25.parents):
    ax.plot(pose[0, [v, p]], pose[1, [v, p]], color="k", lw=1)
sc = ax.scatter(pose[0], pose[1], c=a_joint, cmap="coolwarm", s=80, zorder=3, edgecolors="k")
plt.colorbar(sc, ax=ax, fraction=0.046)
ax.set_title("attention on the (extreme) skeleton", fontsize=9)
ax.set_aspect("equal")
ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# A joint's attention is a mean over 256 channels and 13 frames, so the joint mask drops a joint
# only when it stands out in many channels at once; the element-wise mask drops every single
# activation far enough from its channel's mean. How many? For Gaussian features the threshold is a
# fixed distance from the channel mean: A ≥ 0.7 ⇔ |F − μ| ≥ 2σ·√(ln(7/3) − 0.5) ≈ 1.18σ, about
# 24 % of the activations. Real feature maps after a ReLU are not Gaussian; the cell below
# measures the drop rates over a batch, compares them with that figure, and shows the effect on
# the pooled features. The **first release** of AimCLR had a bug that made both masks all ones
# (EADM did nothing); the library reproduces it with `eadm_first_release_bug=True`, and the cell
# checks that the map then comes back unchanged.

# %%
with torch.no_grad():
    batch_e = extreme(x_test[:16], generator=torch.Generator().manual_seed(4))
    fmap_b = shipped.backbone.forward_map(batch_e)
    m_s, m_t = eadm_masks(fmap_b)
    pooled = shipped.backbone.pool(fmap_b, 2)
    pooled_d = shipped.backbone.pool(eadm(fmap_b), 2)
    pooled_bug = shipped.backbone.pool(eadm(fmap_b, first_release_bug=True), 2)
gauss = torch.randn(256, 64, 13, 25, generator=torch.Generator().manual_seed(5))
gauss_rate = 1 - eadm_masks(gauss)[1].mean().item()
drop_s, drop_t = 1 - m_s.mean().item(), 1 - m_t.mean().item()
print(f"joints dropped: {100 * drop_s:.1f}%   activations dropped: {100 * drop_t:.1f}% "
      f"(Gaussian features of the same shape: {100 * gauss_rate:.1f}%)")
print(f"The element-wise mask removes {drop_t:.1%} of this encoder's activations, "
      + ("about as many as for Gaussian features." if abs(drop_t - gauss_rate) < 0.03 else
         f"{'fewer' if drop_t < gauss_rate else 'more'} than the {gauss_rate:.0%} of Gaussian features: "
         f"its activations are {'less' if drop_t < gauss_rate else 'more'} often far from their channel mean."))
cos = F.cosine_similarity(pooled, pooled_d).numpy()
assert torch.equal(pooled_bug, pooled)                 # the buggy release: EADM changes nothing
n_pairs = m_s.numel()
print(f"joint mask: {int(n_pairs - m_s.sum())} of the {n_pairs} (body, joint) pairs of this batch dropped"
      + (": none, the joint mask did nothing here." if drop_s == 0 else "."))
print(f"cosine(pooled, pooled after EADM): mean {cos.mean():.3f}, min {cos.min():.3f} "
      "| first-release bug: 1 (the same map)")
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.imshow(1 - m_t[0].mean(0).numpy(), aspect="auto", cmap="Reds", vmin=0, vmax=1)
ax.set_xlabel("joint")
ax.set_ylabel("time step T'")
ax.set_title("fraction of channels dropped per (frame, joint), body 1 of clip 1", fontsize=9)
plt.show()

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** Write `normalized_adjacency(layout)` returning the (V, V) matrix A·D⁻¹ of the
# 1-hop graph with self-loops (`get_layout(layout).adjacency()` gives the 0/1 matrix).

# %%
from skelcl_lib.exercises import show_solution
from skelcl_lib.exercises.nb07 import (SOLUTIONS, check_eadm_joint_mask, check_normalized_adjacency,
                                       check_simam_attention)
from skelcl_lib.skeleton import get_layout


def normalized_adjacency(layout):
    a = get_layout(layout).adjacency(self_loops=True)
    # YOUR CODE: divide each column by its sum
    return a


check_normalized_adjacency(normalized_adjacency)

# %%
show_solution(SOLUTIONS, "normalized_adjacency")

# %% [markdown]
# **Exercise 2.** Write `attention(F)` for F: (N·M, C, T', V): SimAM's sigmoid(E⁻¹) with
# μ and σ² = Σ(F − μ)² / (T'V − 1) over (T', V), λ = 1e-4.

# %%
def attention(f):
    # YOUR CODE
    return torch.zeros_like(f)


check_simam_attention(attention)

# %%
show_solution(SOLUTIONS, "simam_attention")

# %% [markdown]
# **Exercise 3.** Write `joint_mask(F, keep_prob)` returning EADM's joint mask (N·M, V): 1 for a
# kept joint, 0 for a dropped one. You may use `simam_attention`.

# %%
def joint_mask(f, keep_prob):
    # YOUR CODE
    return torch.ones(f.shape[0], f.shape[-1])


check_eadm_joint_mask(joint_mask)

# %%
show_solution(SOLUTIONS, "eadm_joint_mask")

# %% [markdown]
# ## Summary
#
# - AimCLR's encoder is a ¼-width ST-GCN (821,380 parameters; 920,068 with the projection head).
#   Its "spatial" partitions inherit a quirk: with distances known only up to one hop, 40 of 48
#   directed edges share one partition. The library reproduces it; `geodesic_partitions=True`
#   gives the even split.
# - SkeletonCLR = MoCo on that encoder with normal augmentations (crop + shear).
# - Extreme augmentations (flip, rotation, noise, unnormalised blur, axis mask): the paper argues
#   they make views less similar to their source than other clips are, so one-hot InfoNCE on them
#   is risky. Section 4 measured how far they moved clips in one encoder, and printed whether that
#   encoder had learned anything beyond its random initialisation: an argument about semantics
#   needs an encoder that has.
# - A toy pretraining run is judged against the same encoder untrained (section 3 prints both).
# - EADM drops the most salient activations, and joints whose mean attention reaches 0.7, of the
#   extreme view's feature map, using SimAM attention with a fixed threshold of 0.7 and
#   batch-global rescaling; section 5 prints how much of each it removed.
#
# Next (notebook 08): how AimCLR *does* learn from the extreme views (D3M), nearest-neighbour
# mining, a full run, and the three streams.
#
# ## References
#
# - T. Guo et al., "Contrastive Learning from Extremely Augmented Skeleton Sequences for
#   Self-supervised Action Recognition", AAAI 2022 (arXiv 2112.03590); code `Levigty/AimCLR`.
# - S. Yan, Y. Xiong, D. Lin, "Spatial Temporal Graph Convolutional Networks for Skeleton-Based
#   Action Recognition", AAAI 2018; code `yysijie/st-gcn`.
# - L. Li et al., "3D Human Action Representation Learning via Cross-View Consistency Pursuit"
#   (CrosSCLR, SkeletonCLR), CVPR 2021; code `LinguoLi/CrosSCLR`.
# - L. Yang et al., "SimAM: A Simple, Parameter-Free Attention Module", ICML 2021.
# - `docs/methods.md` §5–6 of this course.
