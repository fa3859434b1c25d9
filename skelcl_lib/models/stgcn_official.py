"""A literal re-implementation of the official ST-GCN forward, as AimCLR and CrosSCLR run it.

The structure and order of operations follow ``yysijie/st-gcn`` (``net/st_gcn.py``,
``net/utils/tgcn.py``) with AimCLR's ¼-width settings (``docs/methods.md``, the ST-GCN
section): each block computes the residual first, then ``ConvTemporalGraphical`` (a 1×1 conv to
K·C_out channels, then ``einsum('nkctv,kvw->nctw')``), then the temporal unit, and the bodies
are pooled with ``avg_pool2d``. It is not used for training. It serves as

- the baseline that ``benchmarks/bench_step.py`` times side by side with :class:`~.stgcn.STGCN`;
- the oracle the tests compare :class:`~.stgcn.STGCN` against (forward and gradients).

:func:`official_from_encoder` builds one with the weights of an :class:`~.stgcn.STGCN`; the
parameters correspond one to one (``blocks`` ↔ ``st_gcn_networks``), so both compute the same
function and, in train mode, draw the same dropout masks from the same seed.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .stgcn import STGCN


class ConvTemporalGraphical(nn.Module):
    """Official spatial graph convolution: 1×1 conv to K·C_out channels, then the graph product."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv2d(in_channels, out_channels * kernel_size, kernel_size=(1, 1))

    def forward(self, x: torch.Tensor, A: torch.Tensor):
        x = self.conv(x)
        n, kc, t, v = x.size()
        x = x.view(n, self.kernel_size, kc // self.kernel_size, t, v)
        x = torch.einsum("nkctv,kvw->nctw", (x, A))
        return x.contiguous(), A


class OfficialBlock(nn.Module):
    """Official ``st_gcn`` block: residual first, then gcn, tcn, add, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dropout: float = 0.0, residual: bool = True, temporal_kernel: int = 9,
                 num_partitions: int = 3):
        super().__init__()
        pad = (temporal_kernel - 1) // 2
        self.gcn = ConvTemporalGraphical(in_channels, out_channels, num_partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout, inplace=True),
        )
        self.residual_kind = ("none" if not residual else
                              "identity" if in_channels == out_channels and stride == 1 else "conv")
        if self.residual_kind == "conv":
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, A: torch.Tensor):
        res = (0 if self.residual_kind == "none" else
               x if self.residual_kind == "identity" else self.residual(x))
        x, A = self.gcn(x, A)
        x = self.tcn(x) + res
        return self.relu(x), A


class OfficialSTGCN(nn.Module):
    """The official ST-GCN backbone without its classifier. x: (N, C, T, V, M) -> (N, hidden_dim).

    ``forward_map`` gives the last block's map (N·M, hidden_dim, T', V), as AimCLR's EADM sees it.
    """

    def __init__(self, A: torch.Tensor, in_channels: int = 3, hidden_channels: int = 16,
                 hidden_dim: int = 256, dropout: float = 0.5, edge_importance: bool = True):
        super().__init__()
        self.register_buffer("A", A.clone())
        k, v = A.shape[0], A.shape[1]
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        h = hidden_channels
        spec = [(in_channels, h, 1), (h, h, 1), (h, h, 1), (h, h, 1),
                (h, 2 * h, 2), (2 * h, 2 * h, 1), (2 * h, 2 * h, 1),
                (2 * h, 4 * h, 2), (4 * h, 4 * h, 1), (4 * h, hidden_dim, 1)]
        self.st_gcn_networks = nn.ModuleList(
            OfficialBlock(cin, cout, s, dropout=0.0 if i == 0 else dropout, residual=i > 0,
                          num_partitions=k)
            for i, (cin, cout, s) in enumerate(spec))
        self.edge_importance = (nn.ParameterList(nn.Parameter(torch.ones_like(A))
                                                 for _ in self.st_gcn_networks)
                                if edge_importance else None)

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        N, C, T, V, M = x.size()
        x = x.permute(0, 4, 3, 1, 2).contiguous()
        x = x.view(N * M, V * C, T)
        x = self.data_bn(x)
        x = x.view(N, M, V, C, T)
        x = x.permute(0, 1, 3, 4, 2).contiguous()
        x = x.view(N * M, C, T, V)
        for i, gcn in enumerate(self.st_gcn_networks):
            A = self.A if self.edge_importance is None else self.A * self.edge_importance[i]
            x, _ = gcn(x, A)
        return x

    @staticmethod
    def pool(fmap: torch.Tensor, num_bodies: int) -> torch.Tensor:
        x = F.avg_pool2d(fmap, fmap.size()[2:])
        return x.view(fmap.shape[0] // num_bodies, num_bodies, -1).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_map(x), x.shape[-1])


def official_state_dict(encoder_state: dict) -> dict:
    """An :class:`~.stgcn.STGCN` state dict with its keys renamed to :class:`OfficialSTGCN`'s."""
    return {(("st_gcn_networks." + k[len("blocks."):]) if k.startswith("blocks.") else k): v
            for k, v in encoder_state.items()}


def official_from_encoder(encoder: STGCN) -> OfficialSTGCN:
    """An :class:`OfficialSTGCN` with the architecture and a copy of the weights of ``encoder``."""
    official = OfficialSTGCN(
        encoder.A, in_channels=encoder.in_channels, hidden_channels=encoder.hidden_channels,
        hidden_dim=encoder.out_dim, dropout=encoder.dropout,
        edge_importance=encoder.edge_importance is not None)
    like = next(encoder.parameters())
    official.to(device=like.device, dtype=like.dtype)
    official.load_state_dict(official_state_dict(encoder.state_dict()))
    return official.train(encoder.training)
