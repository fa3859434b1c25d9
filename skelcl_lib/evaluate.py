"""Evaluation of a frozen (or fine-tuned) skeleton encoder: features, linear, kNN, semi-supervised,
fine-tuning, the 3-stream ensemble and a raw-coordinate baseline.

Everything here sees only ``method.feature_extractor()``: an ``nn.Module`` mapping raw joints
``x: (N, 3, T, V, M)`` to features ``(N, D)`` with attribute ``out_dim`` (docs/ARCHITECTURE.md).
Accuracies are fractions in [0, 1] (``results_table`` prints percent).

Reporting protocols (METHODS.md §7, §9): both official codes report the **best test top-1 over
the evaluated epochs** (``select="best_test"``, the faithful default). ``select="val"`` is the
honest option: a class-stratified validation split is carved from the training set, the epoch
is chosen on it, and the test set is touched once, at that epoch. Every result says which.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import pathlib
import time
from dataclasses import dataclass, replace

import numpy as np

# ---------------------------------------------------------------------------------------------
# Features


def _as_array(data_or_x):
    """x of a SkeletonData, or the array itself (numpy, memmap or torch tensor)."""
    return getattr(data_or_x, "x", data_or_x)


def _labels(data_or_y):
    return np.asarray(getattr(data_or_y, "y", data_or_y), dtype=np.int64)


def _module_device(module):
    import torch

    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def _to_tensor(batch, device):
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.to(device=device, dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(device)


def extract_features(extractor, data_or_x, batch_size: int = 256, device=None) -> np.ndarray:
    """Features ``(N, D)`` float32 of ``data_or_x`` (SkeletonData or x: (N, 3, T, V, M)).

    The extractor runs in eval mode under ``no_grad`` (its previous mode is restored); batches go
    to ``device`` (default: the extractor's own device; a given device moves the extractor).
    """
    import torch

    x = _as_array(data_or_x)
    if device is None:
        device = _module_device(extractor)
    else:
        device = torch.device(device)
        extractor.to(device)
    was_training = extractor.training
    extractor.eval()
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                f = extractor(_to_tensor(x[i:i + batch_size], device))
                out.append(f.reshape(len(f), -1).float().cpu().numpy())
    finally:
        extractor.train(was_training)
    if not out:
        return np.zeros((0, getattr(extractor, "out_dim", 0)), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


# ---------------------------------------------------------------------------------------------
# Quick judges: scikit-learn logistic regression, raw coordinates


def linear_probe(train_f, train_y, test_f, test_y, C: float = 1.0) -> float:
    """Test accuracy of a scikit-learn LogisticRegression on standardised features.

    A quick judge of a run (not a paper protocol): the scaler is fit on the training features,
    L2 penalty ``C``, lbfgs, up to 2000 iterations.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_f)
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(scaler.transform(train_f), _labels(train_y))
    return float(clf.score(scaler.transform(test_f), _labels(test_y)))


def valid_lengths(x: np.ndarray) -> np.ndarray:
    """Per sample, 1 + the index of the last frame with any non-zero coordinate (at least 1).

    x: (N, C, T, V, M).
    """
    nonzero = np.abs(np.asarray(x)).reshape(x.shape[0], x.shape[1], x.shape[2], -1).sum(axis=(1, 3)) > 0
    t = x.shape[2]
    last = t - np.argmax(nonzero[:, ::-1], axis=1)            # (N,) 1 + last non-zero frame
    return np.where(nonzero.any(axis=1), last, 1).astype(np.int64)


def raw_features(data, t_resample: int = 20, chunk: int = 512) -> np.ndarray:
    """Raw-coordinate features (N, 3·t_resample·V·M) float32: the "no learning" baseline.

    Exact preprocessing, per sample:
      1. valid length L = ``data.lengths`` if present, else 1 + the last non-zero frame;
      2. centring: at every frame, subtract body 0's ``layout.spine_joint`` (the AS-CAL centre)
         from all joints of every body present in that frame (absent bodies stay zero);
      3. the L valid frames are linearly resampled to ``t_resample`` frames at
         ``linspace(0, L - 1, t_resample)``;
      4. flattened in (C, T, V, M) order.
    """
    x_all = data.x
    n, c, t, v, m = x_all.shape
    lengths = data.lengths if getattr(data, "lengths", None) is not None else None
    spine = data.layout.spine_joint
    out = np.empty((n, c * t_resample * v * m), dtype=np.float32)
    for s in range(0, n, chunk):
        x = np.asarray(x_all[s:s + chunk], dtype=np.float32)           # (B, C, T, V, M)
        present = np.abs(x).sum(axis=(1, 3), keepdims=True) > 0       # (B, 1, T, 1, M)
        centre = x[:, :, :, spine:spine + 1, 0:1]                       # (B, C, T, 1, 1)
        x = np.where(present, x - centre, 0.0)
        L = np.clip(lengths[s:s + chunk], 1, t) if lengths is not None else valid_lengths(x_all[s:s + chunk])
        for b in range(len(x)):
            pos = np.linspace(0.0, L[b] - 1, t_resample)
            lo = np.floor(pos).astype(int)
            hi = np.minimum(lo + 1, L[b] - 1)
            w = (pos - lo)[None, :, None, None]
            r = (1 - w) * x[b][:, lo] + w * x[b][:, hi]                  # (C, t_resample, V, M)
            out[s + b] = r.reshape(-1)
    return out


def pose_statistics(data, spread: bool = False) -> np.ndarray:
    """Hand-made clip features (N, 3·V·M), or (N, 2·3·V·M) with ``spread``: every joint's mean
    position over time and, with ``spread``, its standard deviation over time (how much it moves),
    after centring each body on ``layout.spine_joint`` in every frame (absent bodies stay zero).

    Meant as a diagnostic next to ``raw_features``: a mean-pooled encoder that only keeps the
    mean pose scores like the first; the second shows what a little motion information adds.
    All T frames are used, so give it time-normalised clips (frame50) rather than zero-padded ones.
    """
    x = np.asarray(data.x, dtype=np.float32)
    j = data.layout.spine_joint
    x = x - x[:, :, :, j:j + 1, :]
    parts = [x.mean(axis=2)] + ([x.std(axis=2)] if spread else [])
    return np.concatenate([p.reshape(len(x), -1) for p in parts], axis=1)


def raw_probe(train, test, t_resample: int = 20, C: float = 1.0) -> float:
    """``linear_probe`` on ``raw_features`` of two SkeletonData (see there for the preprocessing)."""
    return linear_probe(raw_features(train, t_resample), train.y,
                        raw_features(test, t_resample), test.y, C=C)


# ---------------------------------------------------------------------------------------------
# kNN


def nearest_neighbors(train_f, query_f, k: int, metric: str = "cosine", chunk: int = 1024):
    """The k nearest training ("gallery") samples of each query: ``(indices, distances)``, (Q, k).

    cosine: features L2-normalised, distance = 1 − cos; euclidean: plain L2 distance.
    Neighbours are sorted by distance, equal distances by gallery index.
    """
    train_f = np.asarray(train_f, dtype=np.float32)
    query_f = np.asarray(query_f, dtype=np.float32)
    if metric == "cosine":
        train_f = train_f / np.maximum(np.linalg.norm(train_f, axis=1, keepdims=True), 1e-12)
        query_f = query_f / np.maximum(np.linalg.norm(query_f, axis=1, keepdims=True), 1e-12)
    elif metric != "euclidean":
        raise ValueError(f"metric: expected 'cosine' or 'euclidean', got {metric!r}")
    n = len(train_f)
    k = int(min(k, n))
    idx = np.empty((len(query_f), k), dtype=np.int64)
    dist = np.empty((len(query_f), k), dtype=np.float32)
    sq_train = (train_f ** 2).sum(1)
    for s in range(0, len(query_f), chunk):
        q = query_f[s:s + chunk]
        if metric == "cosine":
            d = 1.0 - q @ train_f.T                                      # (B, N)
        else:
            d = np.sqrt(np.maximum((q ** 2).sum(1)[:, None] + sq_train[None] - 2 * q @ train_f.T, 0))
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(q), 1))
        dp = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, dp), axis=1)                           # by distance, then index
        idx[s:s + chunk] = np.take_along_axis(part, order, axis=1)
        dist[s:s + chunk] = np.take_along_axis(dp, order, axis=1)
    return idx, dist


def majority_vote(neighbor_labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Majority vote over (Q, k) labels; a tie goes to the tied class with the nearest neighbour."""
    q, k = neighbor_labels.shape
    counts = np.zeros((q, num_classes), dtype=np.int64)
    first = np.full((q, num_classes), k, dtype=np.int64)                 # rank of each class's nearest
    rows = np.arange(q)
    for j in range(k - 1, -1, -1):
        counts[rows, neighbor_labels[:, j]] += 1
        first[rows, neighbor_labels[:, j]] = j
    return np.argmax(counts * (k + 1) + (k - first), axis=1)


def knn_predict(train_f, train_y, test_f, k: int = 1, metric: str = "cosine"):
    """kNN prediction: ``(pred (Q,), indices (Q, k), distances (Q, k))``; vote as in ``knn_accuracy``."""
    train_y = _labels(train_y)
    idx, dist = nearest_neighbors(train_f, test_f, k, metric)
    return majority_vote(train_y[idx], int(train_y.max()) + 1), idx, dist


def knn_accuracy(train_f, train_y, test_f, test_y, k=(1, 5, 20), metric: str = "cosine") -> dict:
    """{k: accuracy} of kNN classification, train = gallery, test = queries (FORMATS.md §4).

    One similarity computation for all k. Majority vote; a tie goes to the tied class whose
    nearest member ranks first (for k = 1 this is plain 1-NN, as ISC/CMD's sklearn classifier).
    """
    ks = (k,) if np.isscalar(k) else tuple(k)
    train_y, test_y = _labels(train_y), _labels(test_y)
    idx, _ = nearest_neighbors(train_f, test_f, max(ks), metric)
    labels = train_y[idx]
    c = int(max(train_y.max(), test_y.max())) + 1
    return {int(kk): float((majority_vote(labels[:, :kk], c) == test_y).mean()) for kk in ks}


# ---------------------------------------------------------------------------------------------
# Metrics


def topk_accuracy(logits, y, k=(1, 5)) -> dict:
    """{k: fraction of samples whose label is among the k largest logits} (k clipped to C)."""
    logits = np.asarray(logits)
    y = _labels(y)
    order = np.argsort(-logits, axis=1, kind="stable")
    return {int(kk): float((order[:, :min(kk, logits.shape[1])] == y[:, None]).any(1).mean())
            for kk in ((k,) if np.isscalar(k) else k)}


def confusion_matrix(pred, y, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (_labels(y), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def per_class_accuracy(pred, y, num_classes: int) -> np.ndarray:
    """(C,) accuracy of each true class; NaN for classes without samples."""
    cm = confusion_matrix(pred, y, num_classes)
    n = cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.diag(cm) / np.maximum(n, 1), np.nan)


# ---------------------------------------------------------------------------------------------
# Ensemble (3s-AimCLR, METHODS.md §6.8)

FUSION_WEIGHTS = {"joint": 0.6, "bone": 0.6, "motion": 0.4}


def ensemble(logits_by_stream: dict, weights: dict | None = None) -> np.ndarray:
    """Score-level fusion Σ_s w_s · logits_s (raw logits, not probabilities; 0.6/0.6/0.4 default)."""
    weights = FUSION_WEIGHTS if weights is None else weights
    if not logits_by_stream:
        raise ValueError("ensemble: logits_by_stream is empty")
    missing = [s for s in logits_by_stream if s not in weights]
    if missing:
        raise ValueError(f"ensemble: no weight for stream(s) {missing}; weights has {sorted(weights)}")
    shapes = {s: np.shape(v) for s, v in logits_by_stream.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"ensemble: logits shapes differ: {shapes}")
    return sum(weights[s] * np.asarray(v, dtype=np.float64) for s, v in logits_by_stream.items())


# ---------------------------------------------------------------------------------------------
# Subsets


def class_balanced_subset(y, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a labelled subset: per class round(fraction · n_c), at least 1, at random.

    AimCLR ``Feeder_semi`` (METHODS.md §6.8). (AS-CAL's own semi protocol takes the *first*
    samples of each class instead, §4.7; not reproduced here.)
    """
    y = _labels(y)
    if not 0 < fraction <= 1:
        raise ValueError(f"class_balanced_subset: fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        n = max(1, int(round(fraction * len(members))))
        keep.append(rng.choice(members, size=min(n, len(members)), replace=False))
    return np.sort(np.concatenate(keep)).astype(np.int64)


def stratified_split(y, val_fraction: float = 0.1, seed: int = 0):
    """(train_idx, val_idx): per class round(val_fraction · n_c) to validation, keeping ≥ 1 in train."""
    y = _labels(y)
    rng = np.random.default_rng(seed)
    tr, va = [], []
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        n_val = min(int(round(val_fraction * len(members))), len(members) - 1)
        va.append(members[:n_val])
        tr.append(members[n_val:])
    return np.sort(np.concatenate(tr)).astype(np.int64), np.sort(np.concatenate(va)).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# The training loop shared by linear evaluation, semi-supervised, fine-tuning and the baseline


@dataclass(frozen=True)
class TrainSettings:
    """Optimiser, schedule and reporting of one supervised protocol.

    lr(e) = lr · gamma^#(milestones < e) for 1-based epoch e. The test (or validation) set is
    evaluated at every ``eval_every``-th epoch and at the last one.
    """

    name: str
    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    milestones: tuple = ()
    gamma: float = 0.1
    eval_every: int = 1
    init_std: float = 0.02              # std of the new Linear layer's weights (bias 0)
    grad_clip: float | None = None      # global L2 norm
    train_mode: bool = False            # False: the encoder runs in eval() while it trains
    source: str = ""                    # where the settings come from

    def lr_at(self, epoch: int) -> float:
        return self.lr * self.gamma ** sum(m < epoch for m in self.milestones)

    def describe(self) -> str:
        s = (f"{self.name}: SGD lr {self.lr:g} m {self.momentum:g}{' nesterov' if self.nesterov else ''} "
             f"wd {self.weight_decay:g}, batch {self.batch_size}, {self.epochs} ep, "
             f"x{self.gamma:g} after {list(self.milestones)}")
        if self.grad_clip:
            s += f", clip {self.grad_clip:g}"
        return s + (f" [{self.source}]" if self.source else "")


LINEAR_PROTOCOLS = {
    # METHODS.md §4.6: test every epoch, best of 90 reported.
    "ascal": TrainSettings("ascal", epochs=90, batch_size=32, lr=1.0, momentum=0.9, nesterov=True,
                           milestones=(15, 35, 60, 75), gamma=0.5, eval_every=1, init_std=0.01,
                           source="AS-CAL linEval.py"),
    # METHODS.md §6.7: test every 5 epochs, best reported; model.eval() throughout.
    "aimclr": TrainSettings("aimclr", epochs=100, batch_size=128, lr=3.0, momentum=0.9, nesterov=False,
                            milestones=(80,), gamma=0.1, eval_every=5, init_std=0.02,
                            source="AimCLR linear_eval configs"),
}

# METHODS.md §6.8 / pitfall 2: the official semi-supervised processor ships only as bytecode; its
# parser defaults give lr 0.01, wd 1e-4, Nesterov, grad-norm clip 2, all parameters training
# under model.eval(). Epochs, milestones, batch and eval interval are OURS (no public config).
FINETUNE_SETTINGS = TrainSettings("finetune", epochs=100, batch_size=128, lr=0.01, momentum=0.9,
                                  nesterov=True, weight_decay=1e-4, milestones=(80,), gamma=0.1,
                                  eval_every=5, init_std=0.02, grad_clip=2.0, train_mode=False,
                                  source="ours; lr/wd/nesterov/clip from AimCLR SE_Processor defaults")

# METHODS.md §4.7: AS-CAL `--mode supervise` (NTU): SGD lr 0.01 Nesterov wd 0, 60 epochs,
# x0.5 after 30 and 40. Batch and eval interval are ours; the encoder trains in train mode.
SCRATCH_SETTINGS = TrainSettings("scratch", epochs=60, batch_size=32, lr=0.01, momentum=0.9,
                                 nesterov=True, weight_decay=0.0, milestones=(30, 40), gamma=0.5,
                                 eval_every=1, init_std=0.02, train_mode=True,
                                 source="AS-CAL supervise settings; batch ours")


def _set_mode(model, train_mode: bool):
    """model.train(train_mode); recurrent layers without dropout are put in train mode anyway,
    because cuDNN cannot run an RNN backward in eval mode (their train/eval differ only by dropout)."""
    import torch.nn as nn

    model.train(train_mode)
    if not train_mode:
        for mod in model.modules():
            if isinstance(mod, nn.RNNBase) and mod.dropout == 0:
                mod.train()


def _predict(model, x, idx, batch_size, device) -> np.ndarray:
    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(idx), batch_size):
            i = idx[s:s + batch_size]
            xb = x[torch.from_numpy(i)] if torch.is_tensor(x) else x[i]
            out.append(model(_to_tensor(xb, device)).float().cpu().numpy())
    return np.concatenate(out)


SELECTIONS = ("best_test", "val", "last")
SELECTION_NAMES = {"best_test": "best test epoch (official)", "val": "validation split (honest)",
                   "last": "last epoch (fixed schedule, honest)"}


def _fit(model, params, x, y, train_idx, monitor_idx, test, cfg: TrainSettings, select, seed, device,
         eval_batch_size=256):
    """Train ``model`` on x[train_idx] with ``cfg``; choose the epoch on the test set
    (select="best_test") or on x[monitor_idx] (select="val"), then return the report dict.

    x: (N, ...) array indexed per batch (may be a memmap); ``test = (x_test, y_test)``.
    """
    import torch
    import torch.nn.functional as F

    x_test, y_test = test
    test_idx = np.arange(len(y_test))
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                          weight_decay=cfg.weight_decay)
    history, best, best_epoch, best_logits, best_state = [], -1.0, 0, None, None
    last_top1 = None
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        lr = cfg.lr_at(epoch)
        for group in opt.param_groups:
            group["lr"] = lr
        _set_mode(model, cfg.train_mode)
        # every sample once per epoch, the last batch may be smaller (whether the official
        # loaders drop it is [unverified]); the order comes from ``seed``
        perm = train_idx[torch.randperm(len(train_idx), generator=g).numpy()]
        total, seen = 0.0, 0
        for s in range(0, len(perm), cfg.batch_size):
            bi = np.sort(perm[s:s + cfg.batch_size])       # sorted: contiguous reads from a memmap
            xb = _to_tensor(x[torch.from_numpy(bi)] if torch.is_tensor(x) else x[bi], device)
            yb = torch.from_numpy(y[bi]).to(device)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            opt.step()
            total += float(loss.detach()) * len(bi)
            seen += len(bi)
        row = {"epoch": epoch, "lr": lr, "loss": total / max(seen, 1)}
        if select == "last":
            if epoch == cfg.epochs:                        # the one look at the test set
                best_logits, best_epoch = _predict(model, x_test, test_idx, eval_batch_size, device), epoch
        elif epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            if select == "best_test":
                logits = _predict(model, x_test, test_idx, eval_batch_size, device)
                acc = topk_accuracy(logits, y_test, (1, 5))
                row.update(test_top1=acc[1], test_top5=acc[5])
                last_top1 = acc[1]
                if acc[1] > best:                          # strict: the earliest best epoch
                    best, best_epoch, best_logits = acc[1], epoch, logits
            else:
                logits = _predict(model, x, monitor_idx, eval_batch_size, device)
                acc = topk_accuracy(logits, y[monitor_idx], (1,))
                row.update(val_top1=acc[1])
                if acc[1] > best:
                    best, best_epoch = acc[1], epoch
                    best_state = copy.deepcopy(model.state_dict())
        history.append(row)
    if select == "val":                                    # the one look at the test set
        model.load_state_dict(best_state)
        best_logits = _predict(model, x_test, test_idx, eval_batch_size, device)
    acc = topk_accuracy(best_logits, y_test, (1, 5))
    return {"protocol": cfg.name, "select": select, "top1": acc[1], "top5": acc[5],
            "best_epoch": best_epoch, "last_top1": last_top1,
            "val_top1": best if select == "val" else None,
            "logits": best_logits, "history": history, "seed": seed,
            "settings": cfg.describe(), "wall_s": time.perf_counter() - t0}


def _monitor_split(y, select, val_fraction, seed):
    if select not in SELECTIONS:
        raise ValueError(f"select: expected one of {SELECTIONS}, got {select!r}")
    all_idx = np.arange(len(y))
    if select in ("best_test", "last"):
        return all_idx, None
    tr, va = stratified_split(y, val_fraction, seed)
    if len(va) == 0:
        raise ValueError(f"select='val': val_fraction={val_fraction} leaves no validation samples "
                         f"among {len(y)} training samples; use more labels, or select='last' (the fixed "
                         f"last epoch, also honest)")
    return tr, va


def _override(cfg: TrainSettings, **kw) -> TrainSettings:
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})


def linear_evaluation(train_f, train_y, test_f, test_y, protocol: str = "aimclr",
                      select: str = "best_test", val_fraction: float = 0.1, seed: int = 0,
                      epochs: int | None = None, batch_size: int | None = None, device=None,
                      num_classes: int | None = None) -> dict:
    """The papers' linear evaluation on precomputed frozen features (METHODS.md §4.6, §6.7).

    Both official protocols train a Linear layer on a frozen encoder in eval mode without
    augmentation, so each sample's feature never changes: training the layer on features
    extracted once is the same computation (up to float rounding and the shuffling RNG).

    protocol "ascal": Linear(H, C) ~ N(0, 0.01), SGD lr 1.0 m 0.9 Nesterov wd 0, batch 32,
    90 epochs, ×0.5 after 15/35/60/75, test every epoch. "aimclr": N(0, 0.02), SGD lr 3.0 m 0.9
    wd 0, batch 128, 100 epochs, ×0.1 after 80, test every 5 epochs (and at the last).
    ``epochs``/``batch_size`` override (say so when reporting; pitfall 8: batch size matters).

    select "best_test" (official): top1 = max test top-1 over evaluated epochs (earliest on
    ties), top5 at that epoch, ``last_top1`` at the last epoch. select "val": train on the
    training set minus a class-stratified ``val_fraction``, choose the epoch on it, evaluate the
    test set once (``last_top1`` is None). select "last": train on everything for the fixed
    schedule and evaluate the test set once, after the last epoch (honest without a
    validation split; what 1 %-label runs need). Returns top1, top5, best_epoch, last_top1, val_top1,
    protocol, select, logits (test, at the reported epoch), history, settings, wall_s.
    Deterministic given ``seed``. Runs on the CPU unless ``device`` is given.
    """
    import torch

    if protocol not in LINEAR_PROTOCOLS:
        raise ValueError(f"protocol: expected one of {sorted(LINEAR_PROTOCOLS)}, got {protocol!r}")
    cfg = _override(LINEAR_PROTOCOLS[protocol], epochs=epochs, batch_size=batch_size)
    device = torch.device(device or "cpu")
    train_f = np.asarray(train_f, dtype=np.float32)
    test_f = np.asarray(test_f, dtype=np.float32)
    train_y, test_y = _labels(train_y), _labels(test_y)
    c = num_classes or int(max(train_y.max(), test_y.max())) + 1
    tr, va = _monitor_split(train_y, select, val_fraction, seed)
    fc = _new_linear(train_f.shape[1], c, cfg.init_std, seed).to(device)
    # features live on the device as tensors: batches are index lookups, no copies from numpy
    train_t, test_t = torch.from_numpy(train_f).to(device), torch.from_numpy(test_f).to(device)
    with _cpu_threads(1 if device.type == "cpu" else None):
        # one Linear layer: extra CPU threads only add synchronisation, and on a busy CPU
        # (another process on the other core) they made this 10-40x slower in a notebook
        return _fit(fc, list(fc.parameters()), train_t, train_y, tr, va, (test_t, test_y), cfg,
                    select, seed, device, eval_batch_size=4096)


@contextlib.contextmanager
def _cpu_threads(n: int | None):
    """Temporarily cap torch's intra-op CPU threads at ``n`` (None: unchanged)."""
    import torch

    old = torch.get_num_threads()
    if n is not None and n < old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def _new_linear(in_dim, num_classes, init_std, seed):
    """Linear(in_dim, C) with weights ~ N(0, init_std) drawn from ``seed``, bias 0."""
    import torch
    import torch.nn as nn

    g = torch.Generator().manual_seed(seed)
    fc = nn.Linear(int(in_dim), num_classes)
    with torch.no_grad():
        fc.weight.normal_(0.0, init_std, generator=g)
        fc.bias.zero_()
    return fc


def _train_encoder(extractor, train, test, labelled_idx, cfg, select, val_fraction, seed, device):
    """Train extractor + new Linear on train[labelled_idx]; the caller's extractor is untouched."""
    import torch
    import torch.nn as nn

    from .env import pick_device

    device = pick_device(device)
    y, y_test = _labels(train), _labels(test)
    c = int(max(y.max(), y_test.max())) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                        # dropout in train mode draws from here
        head = _new_linear(extractor.out_dim, c, cfg.init_std, seed)
        model = nn.Sequential(copy.deepcopy(extractor).requires_grad_(True), head).to(device)
        tr, va = _monitor_split(y[labelled_idx], select, val_fraction, seed)
        tr, va = labelled_idx[tr], (None if va is None else labelled_idx[va])
        out = _fit(model, list(model.parameters()), _as_array(train), y, tr, va,
                   (_as_array(test), y_test), cfg, select, seed, device, eval_batch_size=cfg.batch_size)
    out.update(model=model, extractor=model[0], num_labelled=int(len(labelled_idx)))
    return out


def semi_supervised(extractor, train, test, fraction: float = 0.1, epochs: int | None = None,
                    lr: float | None = None, batch_size: int | None = None,
                    milestones: tuple | None = None, weight_decay: float | None = None,
                    select: str = "best_test", val_fraction: float = 0.1, seed: int = 0,
                    device=None) -> dict:
    """Fine-tune a copy of the extractor + a new Linear on a class-balanced ``fraction`` of labels.

    Labelled subset: ``class_balanced_subset(train.y, fraction, seed)`` (AimCLR Feeder_semi).
    Settings: ``FINETUNE_SETTINGS`` — all parameters train under model.eval() with grad-norm
    clip 2, SGD Nesterov lr 0.01 wd 1e-4 (AimCLR SE_Processor defaults); epochs 100, ×0.1 after
    80, batch 128, evaluation every 5 epochs are OURS (no public config, METHODS.md pitfall 2).
    Returns the ``linear_evaluation`` keys plus ``model`` (extractor + Linear), ``extractor``.
    """
    idx = class_balanced_subset(train.y, fraction, seed)
    cfg = _override(FINETUNE_SETTINGS, name=f"semi{fraction * 100:g}", epochs=epochs, lr=lr,
                    batch_size=batch_size, milestones=milestones, weight_decay=weight_decay)
    out = _train_encoder(extractor, train, test, idx, cfg, select, val_fraction, seed, device)
    out["fraction"] = fraction
    return out


def finetune(extractor, train, test, epochs: int | None = None, lr: float | None = None,
             batch_size: int | None = None, milestones: tuple | None = None,
             weight_decay: float | None = None, select: str = "best_test",
             val_fraction: float = 0.1, seed: int = 0, device=None) -> dict:
    """``semi_supervised`` with every training label (same settings, OURS where no config ships)."""
    cfg = _override(FINETUNE_SETTINGS, epochs=epochs, lr=lr, batch_size=batch_size,
                    milestones=milestones, weight_decay=weight_decay)
    idx = np.arange(len(train.y))
    return _train_encoder(extractor, train, test, idx, cfg, select, val_fraction, seed, device)


def supervised_from_scratch(make_extractor, train, test, epochs: int | None = None,
                            lr: float | None = None, batch_size: int | None = None,
                            milestones: tuple | None = None, select: str = "best_test",
                            val_fraction: float = 0.1, seed: int = 0, device=None) -> dict:
    """The supervised baseline: ``make_extractor()`` (same encoder, random init) + Linear trained
    end to end on all labels in train mode, with ``SCRATCH_SETTINGS`` (AS-CAL supervise: SGD lr
    0.01 Nesterov wd 0, 60 epochs, ×0.5 after 30/40; batch 32 ours)."""
    import torch

    cfg = _override(SCRATCH_SETTINGS, epochs=epochs, lr=lr, batch_size=batch_size, milestones=milestones)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                        # the random init of the encoder
        extractor = make_extractor()
    idx = np.arange(len(train.y))
    return _train_encoder(extractor, train, test, idx, cfg, select, val_fraction, seed, device)


# ---------------------------------------------------------------------------------------------
# One-call summary, tables, command line

PROTOCOL_NAMES = ("linear", "linear_ascal", "linear_aimclr", "knn", "probe", "semi1", "semi10",
                  "finetune")


def evaluate_extractor(extractor, train, test, protocols=("linear", "knn"), linear_protocol: str = "aimclr",
                       select: str = "best_test", knn_k=(1, 5, 20), seed: int = 0, epochs: int | None = None,
                       finetune_epochs: int | None = None, device=None, method: str = "", split: str = "",
                       batch_size: int = 256, features=None) -> dict:
    """Run several protocols on one extractor: ``{"rows": [...], "results": {...}, "train_features",
    "test_features"}``. Protocols: linear (= linear_<linear_protocol>), linear_ascal,
    linear_aimclr, knn, probe (sklearn logistic regression), semi1, semi10, finetune.
    ``rows`` feed ``results_table``; ``epochs`` overrides the linear epochs,
    ``finetune_epochs`` those of semi/finetune. ``features=(train_f, test_f)`` reuses features
    extracted earlier with the same extractor (the result's ``train_features``/``test_features``)."""
    unknown = [p for p in protocols if p not in PROTOCOL_NAMES]
    if unknown:
        raise ValueError(f"protocols: unknown {unknown}; expected some of {PROTOCOL_NAMES}")
    dataset = getattr(train, "dataset", "")
    t0 = time.perf_counter()
    if features is None:
        train_f = extract_features(extractor, train, batch_size, device)
        test_f = extract_features(extractor, test, batch_size, device)
    else:
        train_f, test_f = (np.asarray(f) for f in features)
        if len(train_f) != len(train) or len(test_f) != len(test):
            raise ValueError(f"features: {len(train_f)}/{len(test_f)} rows for {len(train)}/{len(test)} samples")
    feat_s = time.perf_counter() - t0
    rows, results = [], {}

    def row(protocol, top1, top5=None, sel="-", wall=0.0, settings=""):
        rows.append({"method": method, "dataset": dataset, "split": split, "protocol": protocol,
                     "top1": top1, "top5": top5, "select": sel, "seed": seed, "wall_s": wall,
                     "settings": settings})

    for p in protocols:
        t = time.perf_counter()
        if p.startswith("linear"):
            name = linear_protocol if p == "linear" else p.split("_", 1)[1]
            r = linear_evaluation(train_f, train.y, test_f, test.y, protocol=name, select=select,
                                  seed=seed, epochs=epochs)
            row(f"linear ({name})", r["top1"], r["top5"], select, time.perf_counter() - t + feat_s,
                r["settings"])
        elif p == "knn":
            r = knn_accuracy(train_f, train.y, test_f, test.y, k=knn_k)
            for kk, acc in r.items():
                row(f"kNN k={kk}", acc, None, "none (no training)", time.perf_counter() - t + feat_s,
                    "cosine, L2-normalised")
        elif p == "probe":
            r = linear_probe(train_f, train.y, test_f, test.y)
            row("probe (logistic)", r, None, "none (fixed C=1)", time.perf_counter() - t + feat_s,
                "sklearn LogisticRegression, standardised")
        else:
            fn = finetune if p == "finetune" else semi_supervised
            kw = {} if p == "finetune" else {"fraction": {"semi1": 0.01, "semi10": 0.1}[p]}
            r = fn(extractor, train, test, epochs=finetune_epochs, select=select, seed=seed,
                   device=device, **kw)
            r.pop("model"), r.pop("extractor")
            row(p, r["top1"], r["top5"], select, time.perf_counter() - t, r["settings"])
        results[p] = r
    return {"rows": rows, "results": results, "train_features": train_f, "test_features": test_f}


def _fmt_pct(values) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "–"
    v = 100 * np.asarray(v, dtype=float)
    return f"{v.mean():.1f}" if len(v) == 1 else f"{v.mean():.1f} ± {v.std(ddof=1):.1f}"


def results_table(rows) -> str:
    """A markdown table: one line per (method, dataset, split, protocol, selection, settings),
    seeds merged as mean ± std (sample std), wall time summed. Columns: method | data |
    protocol | top-1 (%) | top-5 (%) | selection | seeds | wall (s) | settings."""
    groups: dict = {}
    for r in rows:
        key = (r.get("method", ""), r.get("dataset", ""), r.get("split", ""), r["protocol"],
               r.get("select", "-"), r.get("settings", ""))
        groups.setdefault(key, []).append(r)
    lines = ["| method | data | protocol | top-1 (%) | top-5 (%) | selection | seeds | wall (s) | settings |",
             "|---|---|---|---|---|---|---|---|---|"]
    names = SELECTION_NAMES
    for (m, d, s, p, sel, settings), rs in groups.items():
        data = "/".join(x for x in (d, s) if x) or "–"
        seeds = ",".join(str(r.get("seed", "")) for r in rs)
        wall = sum(float(r.get("wall_s", 0.0)) for r in rs)
        lines.append(f"| {m or '–'} | {data} | {p} | {_fmt_pct(r['top1'] for r in rs)} | "
                     f"{_fmt_pct(r.get('top5') for r in rs)} | {names.get(sel, sel)} | {seeds} | "
                     f"{wall:.1f} | {settings or '–'} |")
    return "\n".join(lines)


def _resolve_checkpoint(path, epoch: int | None = None) -> pathlib.Path:
    """A checkpoint file: ``path`` itself, or in a run directory ``checkpoint_last.pt`` (or
    ``ckpt_epoch_{epoch:03d}.pt``; AS-CAL's official evaluation uses epoch 60, pitfall 14)."""
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / (f"ckpt_epoch_{epoch:03d}.pt" if epoch else "checkpoint_last.pt")
    if not p.exists():
        raise FileNotFoundError(f"--checkpoint: {p} does not exist; expected a run directory with "
                                f"checkpoint_last.pt / ckpt_epoch_XXX.pt, or a checkpoint file")
    return p


def cli(argv: list[str]) -> int:
    """``skelcl evaluate --checkpoint RUN_DIR_OR_CKPT [--protocol linear knn ...] [--select val]``."""
    ap = argparse.ArgumentParser(prog="skelcl evaluate", description=cli.__doc__)
    ap.add_argument("--checkpoint", required=True, help="run directory or checkpoint file")
    ap.add_argument("--epoch", type=int, default=None,
                    help="in a run directory, evaluate ckpt_epoch_XXX.pt instead of checkpoint_last.pt")
    ap.add_argument("--protocol", nargs="+", default=["linear", "knn"], choices=PROTOCOL_NAMES)
    ap.add_argument("--select", default="best_test", choices=SELECTIONS,
                    help="best_test: max test top-1 over epochs (official); val: honest selection; "
                         "last: the fixed last epoch (honest, no validation split)")
    ap.add_argument("--linear-protocol", default=None, choices=sorted(LINEAR_PROTOCOLS),
                    help="default: the method's own (ascal for AS-CAL, aimclr otherwise)")
    ap.add_argument("--epochs", type=int, default=None, help="override the linear epochs")
    ap.add_argument("--finetune-epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None,
                    help="write results JSON here (+ .md table, + .logits.npz of the linear test logits)")
    args = ap.parse_args(argv)

    from . import train as train_mod

    loaded = train_mod.load_checkpoint(_resolve_checkpoint(args.checkpoint, args.epoch))
    method, config = loaded if isinstance(loaded, tuple) else (loaded, getattr(loaded, "config", {}))
    config = config or {}
    train, test = train_mod.build_data(config)
    kind = str(config.get("method", type(method).__name__))
    stream = (config.get("model") or {}).get("stream")
    name = str(config.get("name") or (f"{kind} ({stream})" if stream else kind))
    lin = args.linear_protocol or ("ascal" if kind.lower() == "ascal" else "aimclr")
    out = evaluate_extractor(method.feature_extractor(), train, test, protocols=args.protocol,
                             linear_protocol=lin, select=args.select, seed=args.seed,
                             epochs=args.epochs, finetune_epochs=args.finetune_epochs,
                             device=args.device, method=name,
                             split=str((config.get("data") or {}).get("protocol", "")))
    table = results_table(out["rows"])
    print(table)
    if args.out:
        path = pathlib.Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"checkpoint": str(args.checkpoint), "rows": out["rows"]}, indent=2))
        path.with_suffix(".md").write_text(table + "\n")
        for p, r in out["results"].items():
            if p.startswith("linear"):                 # the ensemble reads these
                np.savez(path.with_suffix(f".{p}.logits.npz"), logits=r["logits"], y=test.y,
                         names=np.asarray(test.names))
    return 0
