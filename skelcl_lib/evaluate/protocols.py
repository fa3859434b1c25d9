"""The supervised protocols on a pretrained encoder: linear evaluation (on frozen features),
semi-supervised and fine-tuning (a copy of the encoder trains), and the supervised baseline from
scratch; one training loop (:func:`_fit`) serves them all.

Reporting (docs/methods.md): both official codes report the **best test top-1 over the evaluated
epochs** (``select="best_test"``, the faithful default). ``select="val"`` is the honest option:
a class-stratified validation split is carved from the training set, the epoch is chosen on it,
and the test set is touched once, at that epoch. ``select="last"`` takes the fixed last epoch.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..env import pick_device
from ..optim import step_lr
from .features import as_array, as_labels, to_tensor
from .metrics import topk_accuracy


def class_balanced_subset(y, fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of a labelled subset: per class round(fraction · n_c), at least 1, at random.

    AimCLR ``Feeder_semi`` (docs/methods.md). (AS-CAL's own semi protocol takes the *first*
    samples of each class instead; not reproduced here.)
    """
    y = as_labels(y)
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
    y = as_labels(y)
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
        return step_lr(self.lr, self.gamma, self.milestones, epoch)

    def describe(self) -> str:
        s = (f"{self.name}: SGD lr {self.lr:g} m {self.momentum:g}{' nesterov' if self.nesterov else ''} "
             f"wd {self.weight_decay:g}, batch {self.batch_size}, {self.epochs} ep, "
             f"x{self.gamma:g} after {list(self.milestones)}")
        if self.grad_clip:
            s += f", clip {self.grad_clip:g}"
        return s + (f" [{self.source}]" if self.source else "")


LINEAR_PROTOCOLS = {
    # docs/methods.md: test every epoch, best of 90 reported.
    "ascal": TrainSettings("ascal", epochs=90, batch_size=32, lr=1.0, momentum=0.9, nesterov=True,
                           milestones=(15, 35, 60, 75), gamma=0.5, eval_every=1, init_std=0.01,
                           source="AS-CAL linEval.py"),
    # docs/methods.md: test every 5 epochs, best reported; model.eval() throughout.
    "aimclr": TrainSettings("aimclr", epochs=100, batch_size=128, lr=3.0, momentum=0.9, nesterov=False,
                            milestones=(80,), gamma=0.1, eval_every=5, init_std=0.02,
                            source="AimCLR linear_eval configs"),
}

# docs/methods.md: the official semi-supervised processor ships only as bytecode; its
# parser defaults give lr 0.01, wd 1e-4, Nesterov, grad-norm clip 2, all parameters training
# under model.eval(). Epochs, milestones, batch and eval interval are OURS (no public config).
FINETUNE_SETTINGS = TrainSettings("finetune", epochs=100, batch_size=128, lr=0.01, momentum=0.9,
                                  nesterov=True, weight_decay=1e-4, milestones=(80,), gamma=0.1,
                                  eval_every=5, init_std=0.02, grad_clip=2.0, train_mode=False,
                                  source="ours; lr/wd/nesterov/clip from AimCLR SE_Processor defaults")

# docs/methods.md: AS-CAL `--mode supervise` (NTU): SGD lr 0.01 Nesterov wd 0, 60 epochs,
# x0.5 after 30 and 40. Batch and eval interval are ours; the encoder trains in train mode.
SCRATCH_SETTINGS = TrainSettings("scratch", epochs=60, batch_size=32, lr=0.01, momentum=0.9,
                                 nesterov=True, weight_decay=0.0, milestones=(30, 40), gamma=0.5,
                                 eval_every=1, init_std=0.02, train_mode=True,
                                 source="AS-CAL supervise settings; batch ours")


def _set_mode(model, train_mode: bool):
    """model.train(train_mode); recurrent layers without dropout are put in train mode anyway,
    because cuDNN cannot run an RNN backward in eval mode (their train/eval differ only by dropout)."""
    model.train(train_mode)
    if not train_mode:
        for mod in model.modules():
            if isinstance(mod, nn.RNNBase) and mod.dropout == 0:
                mod.train()


def _predict(model, x, idx, batch_size, device) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(idx), batch_size):
            i = idx[s:s + batch_size]
            xb = x[torch.from_numpy(i)] if torch.is_tensor(x) else x[i]
            out.append(model(to_tensor(xb, device)).float().cpu().numpy())
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
            xb = to_tensor(x[torch.from_numpy(bi)] if torch.is_tensor(x) else x[bi], device)
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
    """The papers' linear evaluation on precomputed frozen features (docs/methods.md).

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
    if protocol not in LINEAR_PROTOCOLS:
        raise ValueError(f"protocol: expected one of {sorted(LINEAR_PROTOCOLS)}, got {protocol!r}")
    cfg = _override(LINEAR_PROTOCOLS[protocol], epochs=epochs, batch_size=batch_size)
    device = torch.device(device or "cpu")
    train_f = np.asarray(train_f, dtype=np.float32)
    test_f = np.asarray(test_f, dtype=np.float32)
    train_y, test_y = as_labels(train_y), as_labels(test_y)
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
    g = torch.Generator().manual_seed(seed)
    fc = nn.Linear(int(in_dim), num_classes)
    with torch.no_grad():
        fc.weight.normal_(0.0, init_std, generator=g)
        fc.bias.zero_()
    return fc


def _train_encoder(extractor, train, test, labelled_idx, cfg, select, val_fraction, seed, device):
    """Train extractor + new Linear on train[labelled_idx]; the caller's extractor is untouched."""
    device = pick_device(device)
    y, y_test = as_labels(train), as_labels(test)
    c = int(max(y.max(), y_test.max())) + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                        # dropout in train mode draws from here
        head = _new_linear(extractor.out_dim, c, cfg.init_std, seed)
        model = nn.Sequential(copy.deepcopy(extractor).requires_grad_(True), head).to(device)
        tr, va = _monitor_split(y[labelled_idx], select, val_fraction, seed)
        tr, va = labelled_idx[tr], (None if va is None else labelled_idx[va])
        out = _fit(model, list(model.parameters()), as_array(train), y, tr, va,
                   (as_array(test), y_test), cfg, select, seed, device, eval_batch_size=cfg.batch_size)
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
    80, batch 128, evaluation every 5 epochs are OURS (no public config, docs/methods.md).
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
    cfg = _override(SCRATCH_SETTINGS, epochs=epochs, lr=lr, batch_size=batch_size, milestones=milestones)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                        # the random init of the encoder
        extractor = make_extractor()
    idx = np.arange(len(train.y))
    return _train_encoder(extractor, train, test, idx, cfg, select, val_fraction, seed, device)
