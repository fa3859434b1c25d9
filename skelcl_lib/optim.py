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
