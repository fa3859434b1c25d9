"""The ¼-width ST-GCN encoder of AimCLR/CrosSCLR and its "spatial" graph (METHODS.md §5).

Re-implemented from the description of ``yysijie/st-gcn`` (``net/st_gcn.py``, ``net/utils/tgcn.py``,
``net/utils/graph.py``) as used by ``LinguoLi/CrosSCLR`` and ``Levigty/AimCLR``:

- data BN over (joint, coordinate), shared by both bodies;
- ten blocks (16, 16, 16, 16, 32, 32, 32, 64, 64, 256 channels at ``hidden_channels=16``), temporal
  kernel 9, stride 2 at blocks 5 and 8, dropout in blocks 2–10;
- a learnable edge-importance tensor per block;
- bodies folded into the batch, pooled over (T', V), then averaged over bodies.

Parameter count with the defaults: 821,380 (no head).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Layout, get_layout

# --------------------------------------------------------------------------------------------
# Graph
# --------------------------------------------------------------------------------------------

def hop_distance(adjacency: np.ndarray, max_hop: int = 1) -> np.ndarray:
    """Hop distances (V, V) between joints, ``inf`` beyond ``max_hop`` (as ST-GCN's ``hop_dis``)."""
    v = adjacency.shape[0]
    a = (adjacency > 0).astype(np.int64)
    dist = np.full((v, v), np.inf)
    reach = [np.linalg.matrix_power(a, d) > 0 for d in range(max_hop + 1)]
    for d in range(max_hop, -1, -1):      # the smallest d wins
        dist[reach[d]] = d
    return dist


def spatial_partitions(layout: Layout | str = "ntu25", max_hop: int = 1,
                       geodesic: bool = False) -> np.ndarray:
    """The ST-GCN "spatial" partition A: (3, V, V), used as ``x_out[w] = sum_v x[v] A[v, w]``.

    A[0] is the normalised self-loop, A[1] "root + closer" (source farther from the centre than the
    target, plus equal distances), A[2] "further" (source closer to the centre). Entries are
    ``1 / deg(target)`` (A·D⁻¹ with column sums), so the column sums of ``A.sum(0)`` are 1.

    Quirk (official ST-GCN, METHODS.md §5.3): distances to the centre are only known up to
    ``max_hop = 1``, and ``inf == inf`` counts as "equal", so on NTU-25 A[1] holds 40 of the 48
    directed edges and A[2] only 8. ``geodesic=True`` uses true hop distances to the centre instead.
    """
    lay = get_layout(layout)
    adj = lay.adjacency(self_loops=True)
    hop = hop_distance(adj, max_hop)
    # distance to the centre: faithful = the truncated hop_dis; geodesic = full BFS distance
    to_center = (hop_distance(adj, lay.num_joints) if geodesic else hop)[:, lay.center_joint]
    norm = adj / adj.sum(axis=0, keepdims=True)            # A·D⁻¹, D = column sums
    v = lay.num_joints
    parts = np.zeros((3, v, v), dtype=np.float32)
    for j in range(v):                                     # j: source, i: target
        for i in range(v):
            if hop[j, i] == 0:
                parts[0, j, i] = norm[j, i]
            elif hop[j, i] == 1:
                dj, di = to_center[j], to_center[i]
                if dj == di or dj > di:                    # "root" (equal) + "closer"
                    parts[1, j, i] = norm[j, i]
                else:                                      # "further"
                    parts[2, j, i] = norm[j, i]
    return parts


# --------------------------------------------------------------------------------------------
# Blocks
# --------------------------------------------------------------------------------------------

class GraphConv(nn.Module):
    """Spatial graph convolution: 1×1 conv to K·C_out channels, then Σ_k x_k · (A_k ⊙ E_k).

    x: (N, C_in, T, V) -> (N, C_out, T, V). The parameters are the official ones (one conv with
    K·C_out outputs); the forward applies the graph *before* the 1×1 conv, which is the same
    linear map (both act on different axes; the bias becomes b_k ⊗ column sums of A_k) but
    moves K·C_in instead of K·C_out channels through the graph product: cheaper in every block
    where C_in < C_out (blocks 1, 5, 8, 10). :meth:`forward_reference` is the literal order.
    """

    def __init__(self, in_channels: int, out_channels: int, num_partitions: int = 3):
        super().__init__()
        self.K = num_partitions
        self.conv = nn.Conv2d(in_channels, out_channels * num_partitions, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        k, c_out = self.K, self.conv.out_channels // self.K
        xa = torch.einsum("nctv,kvw->nkctw", x, A).reshape(n, k * c, t, A.shape[-1])
        w = self.conv.weight.view(k, c_out, c).transpose(0, 1).reshape(c_out, k * c, 1, 1)
        bias = torch.einsum("kc,kw->cw", self.conv.bias.view(k, c_out), A.sum(dim=1))
        return F.conv2d(xa, w) + bias[None, :, None, :]

    def forward_reference(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """The official order: conv to (N, K, C_out, T, V), then the graph product."""
        n, _, t, v = x.shape
        x = self.conv(x).view(n, self.K, -1, t, v)          # (N, K, C, T, V)
        return torch.einsum("nkctv,kvw->nctw", x, A)


class STGCNBlock(nn.Module):
    """One ST-GCN block: ReLU(tcn(gcn(x)) + res(x)); tcn = BN-ReLU-Conv(9×1, stride)-BN-Dropout."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dropout: float = 0.0, residual: bool = True, temporal_kernel: int = 9,
                 num_partitions: int = 3):
        super().__init__()
        pad = (temporal_kernel - 1) // 2
        self.gcn = GraphConv(in_channels, out_channels, num_partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout, inplace=True),
        )
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x, A))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y, inplace=True)


# --------------------------------------------------------------------------------------------
# Encoder
# --------------------------------------------------------------------------------------------

class STGCN(nn.Module):
    """¼-width ST-GCN backbone (METHODS.md §5). x: (N, C, T, V, M) -> (N, hidden_dim).

    ``forward`` returns the body-averaged pooled features (no head); ``forward_map`` returns the
    final feature map (N·M, hidden_dim, T', V) on which AimCLR's EADM acts; ``pool`` maps such a map
    to features, so ``forward(x) == pool(forward_map(x), M)``.
    """

    def __init__(self, layout: Layout | str = "ntu25", hidden_channels: int = 16,
                 hidden_dim: int = 256, in_channels: int = 3, dropout: float = 0.5,
                 edge_importance: bool = True, geodesic_partitions: bool = False):
        super().__init__()
        self.layout = get_layout(layout)
        A = torch.from_numpy(spatial_partitions(self.layout, geodesic=geodesic_partitions))
        self.register_buffer("A", A)                        # (K=3, V, V), not trained
        v = self.layout.num_joints
        self.in_channels = in_channels
        self.out_dim = hidden_dim
        self.data_bn = nn.BatchNorm1d(in_channels * v)      # channel index v·C + c
        h = hidden_channels
        # (in, out, stride) of the ten blocks; block 1 has no residual and no dropout
        spec = [(in_channels, h, 1), (h, h, 1), (h, h, 1), (h, h, 1),
                (h, 2 * h, 2), (2 * h, 2 * h, 1), (2 * h, 2 * h, 1),
                (2 * h, 4 * h, 2), (4 * h, 4 * h, 1), (4 * h, hidden_dim, 1)]
        self.blocks = nn.ModuleList(
            STGCNBlock(cin, cout, s, dropout=0.0 if i == 0 else dropout, residual=i > 0)
            for i, (cin, cout, s) in enumerate(spec))
        if edge_importance:
            self.edge_importance = nn.ParameterList(
                nn.Parameter(torch.ones_like(A)) for _ in self.blocks)
        else:
            self.edge_importance = None

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, T, V, M) -> final feature map (N·M, hidden_dim, T', V)."""
        n, c, t, v, m = x.shape
        if c != self.in_channels or v != self.layout.num_joints:
            raise ValueError(f"STGCN: input x has shape {tuple(x.shape)}; expected "
                             f"(N, {self.in_channels}, T, {self.layout.num_joints}, M)")
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)   # (N·M, V·C, T)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for i, block in enumerate(self.blocks):
            A = self.A if self.edge_importance is None else self.A * self.edge_importance[i]
            x = block(x, A)
        return x

    @staticmethod
    def pool(fmap: torch.Tensor, num_bodies: int) -> torch.Tensor:
        """(N·M, C, T', V) -> (N, C): mean over (T', V), then over the M bodies."""
        nm, c = fmap.shape[:2]
        return fmap.mean(dim=(2, 3)).view(nm // num_bodies, num_bodies, c).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, T, V, M) -> (N, hidden_dim)."""
        return self.pool(self.forward_map(x), x.shape[-1])


def official_weights_init(module: nn.Module) -> None:
    """The CrosSCLR/AimCLR processor's ``weights_init`` (METHODS.md §5.2), for ``module.apply``.

    Conv and Linear weights N(0, 0.02), biases 0; BatchNorm weights N(1, 0.02), biases 0. Edge
    importance and everything else keep their values.
    """
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
