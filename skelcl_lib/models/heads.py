"""Projection heads for contrastive pretraining (docs/methods.md §5.2)."""

from __future__ import annotations

from torch import nn


def projection_mlp(in_dim: int = 256, out_dim: int = 128, mlp: bool = True, bn: bool = False) -> nn.Module:
    """AimCLR/CrosSCLR head: Linear(in, in) → ReLU → Linear(in, out) (``mlp=True``), else Linear(in, out).

    With the defaults: 98,688 parameters. x: (N, in_dim) -> (N, out_dim).
    ``bn=True`` (not the official head; SimCLR's and MoCo v3's): Linear(in, in) → BatchNorm1d(in) →
    ReLU → Linear(in, out), so the hidden units are standardised over the batch in training.
    """
    if not mlp:
        if bn:
            raise ValueError("projection_mlp: bn=True needs mlp=True (the BatchNorm sits in the hidden layer)")
        return nn.Linear(in_dim, out_dim)
    hidden = [nn.Linear(in_dim, in_dim)] + ([nn.BatchNorm1d(in_dim)] if bn else [])
    return nn.Sequential(*hidden, nn.ReLU(inplace=True), nn.Linear(in_dim, out_dim))


def has_batchnorm(module: nn.Module) -> bool:
    """True if any submodule is a BatchNorm layer (its output then depends on the whole batch)."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())
