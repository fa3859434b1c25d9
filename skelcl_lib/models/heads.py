"""Projection heads for contrastive pretraining (docs/methods.md §5.2)."""

from __future__ import annotations

from torch import nn


def projection_mlp(in_dim: int = 256, out_dim: int = 128, mlp: bool = True) -> nn.Module:
    """AimCLR/CrosSCLR head: Linear(in, in) → ReLU → Linear(in, out) (``mlp=True``), else Linear(in, out).

    With the defaults: 98,688 parameters. x: (N, in_dim) -> (N, out_dim).
    """
    if not mlp:
        return nn.Linear(in_dim, out_dim)
    return nn.Sequential(nn.Linear(in_dim, in_dim), nn.ReLU(inplace=True), nn.Linear(in_dim, out_dim))
