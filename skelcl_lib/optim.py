"""Optimiser and learning-rate schedule of a config's ``train`` section (pretraining and evaluation)."""

from __future__ import annotations

import math

import torch


def build_optimizer(params, tc: dict) -> torch.optim.Optimizer:
    """SGD (momentum, Nesterov, weight decay) or AdamW as ``tc["optimizer"]`` says."""
    if tc["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=tc["lr"], momentum=tc["momentum"], nesterov=tc["nesterov"],
                               weight_decay=tc["weight_decay"])
    if tc["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=tc["lr"], weight_decay=tc["weight_decay"])
    raise ValueError(f"config field 'train.optimizer': expected 'sgd' or 'adamw', got {tc['optimizer']!r}")


def step_lr(lr: float, gamma: float, milestones, epoch: int) -> float:
    """lr · γ^#(milestones < epoch) for a 1-based epoch, as the official loops step it."""
    return lr * gamma ** sum(epoch > m for m in milestones)


def lr_at(epoch: int, tc: dict) -> float:
    """Learning rate of (1-based) ``epoch`` under ``tc["lr_schedule"]``: step, cosine or constant."""
    if tc["lr_schedule"] == "step":
        return step_lr(tc["lr"], tc["lr_gamma"], tc["lr_milestones"], epoch)
    if tc["lr_schedule"] == "cosine":
        return 0.5 * tc["lr"] * (1 + math.cos(math.pi * (epoch - 1) / tc["epochs"]))
    if tc["lr_schedule"] == "constant":
        return tc["lr"]
    raise ValueError(f"config field 'train.lr_schedule': expected step, cosine or constant, got {tc['lr_schedule']!r}")


def lr_at_step(epoch: int, step: int, steps_per_epoch: int, tc: dict) -> float:
    """Learning rate of loop step ``step`` (0-based) of (1-based) ``epoch``: :func:`lr_at` times
    the linear warm-up factor min(1, (s + 1) / W), where s = (epoch − 1)·steps_per_epoch + step
    counts the steps before this one and W = round(``tc["warmup_epochs"]`` · steps_per_epoch)
    (``warmup_epochs: 0``, the default, or W = 0: no warm-up, the factor is 1)."""
    lr = lr_at(epoch, tc)
    warmup = int(round(float(tc.get("warmup_epochs") or 0) * steps_per_epoch))
    before = (epoch - 1) * steps_per_epoch + step
    return lr * (before + 1) / warmup if before < warmup else lr


# Settings counted in epochs that :func:`stretch_schedule` scales with the number of epochs.
# (``probe.every`` and ``train.save_every`` stay per epoch: a stretched run probes and saves more often.)
EPOCH_SETTINGS = ("train.lr_milestones", "train.warmup_epochs", "model.mining_epoch")


def steps_per_epoch(num_samples: int, tc: dict, world: int = 1) -> int:
    """Loop steps (batches) per epoch of :func:`skelcl_lib.train.make_loader` on one rank: the
    distributed sampler gives each of ``world`` ranks ⌈N / world⌉ samples, cut into batches of
    ``batch_size`` (the last, partial one dropped with ``drop_last``)."""
    per_rank = -(-int(num_samples) // int(world))
    batch = int(tc["batch_size"])
    return per_rank // batch if tc["drop_last"] else -(-per_rank // batch)


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def stretch_schedule(config: dict, steps: int) -> tuple[dict, dict]:
    """(config, changes) for a run of ``steps`` loop steps (batches) per epoch under ``train.min_steps``.

    ``train.min_steps`` S > 0 (0, the default, leaves the config as it is): when
    ``train.epochs`` E give fewer than S steps, the run gets E' = ⌈S / steps⌉ epochs, and every
    setting counted in epochs (:data:`EPOCH_SETTINGS`: the lr milestones and AimCLR's
    ``mining_epoch``, rounded half up to whole epochs, and the warm-up, a fraction of epochs) is
    scaled by E' / E, so that the schedule keeps its shape on a small dataset. Steps are loop
    steps: AS-CAL's forward-only first epoch counts as an epoch like the others. A run that
    already has S steps is unchanged, so a stretched config stretches no further. ``changes``
    maps each changed dotted key to (before, after); the input config is not modified. A
    setting the config leaves out keeps its default and is not scaled (``skelcl pretrain``
    writes AimCLR's default ``mining_epoch`` into the config first).
    """
    tc = config["train"]
    floor = int(tc.get("min_steps") or 0)
    epochs = int(tc["epochs"])
    if floor <= 0 or epochs * steps >= floor:
        return config, {}
    if steps <= 0:
        raise ValueError(f"config field 'train.min_steps': {floor} steps asked, but an epoch has no "
                         f"step: fewer training clips per process than train.batch_size "
                         f"({tc['batch_size']}) with train.drop_last, or no training clip")
    new_epochs = -(-floor // steps)
    factor = new_epochs / epochs
    out = {**config, "train": dict(tc), "model": dict(config.get("model") or {})}
    changes = {"train.epochs": (epochs, new_epochs)}
    out["train"]["epochs"] = new_epochs
    for key in EPOCH_SETTINGS:
        section, name = key.split(".")
        if name not in out[section]:
            continue
        old = out[section][name]
        if name == "warmup_epochs":
            new = round(float(old) * factor, 6)
        elif isinstance(old, (list, tuple)):
            new = [_half_up(m * factor) for m in old]
        else:
            new = _half_up(old * factor)
        if new != old:
            out[section][name] = new
            changes[key] = (old, new)
    return out, changes
