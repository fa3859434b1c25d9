"""The ¼-width ST-GCN encoder of AimCLR/CrosSCLR and its "spatial" graph (docs/methods.md §5).

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

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import Layout, get_layout
from .dropout import SameMaskDropout

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

    Quirk (official ST-GCN, docs/methods.md §5.3): distances to the centre are only known up to
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

# Bodies per chunk of the graph convolution on the CPU: its (N, C, T, K·W) intermediate then stays
# in the cache and out of the page-fault path of fresh large allocations.
GRAPH_CHUNK = 8


class _ChunkedGraphConv(torch.autograd.Function):
    """GraphConv's computation, ``x @ [A_1 … A_K]`` then the (K, 1)-strided conv plus the bias,
    a chunk of bodies at a time. The graph product of a chunk is not kept for the backward: it
    is recomputed there (one small matmul). x: (N, C, T, V), a_cat: (V, K·W), weight
    (C', C, K, 1), bias (C', W) -> (N, C', T, W)."""

    @staticmethod
    def forward(ctx, x, a_cat, weight, bias, k, chunk):
        n, c, t, _ = x.shape
        w = a_cat.shape[1] // k
        out = x.new_empty((n, weight.shape[0], t, w))
        for s in range(0, n, chunk):
            xa = torch.matmul(x[s:s + chunk], a_cat)                      # (m, C, T, K·W)
            y = F.conv2d(xa.view(len(xa), c, t * k, w), weight, stride=(k, 1))
            torch.add(y, bias[None, :, None, :], out=out[s:s + chunk])
        ctx.save_for_backward(x, a_cat, weight)
        ctx.k, ctx.chunk = k, chunk
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x, a_cat, weight = ctx.saved_tensors
        n, c, t, v = x.shape
        k, kw = ctx.k, a_cat.shape[1]
        need_x, need_a, need_w, need_b = ctx.needs_input_grad[:4]
        grad_out = grad_out.contiguous()
        grad_x = x.new_empty(x.shape) if need_x else None
        grad_a = torch.zeros_like(a_cat) if need_a else None
        grad_w = torch.zeros_like(weight) if need_w else None
        for s in range(0, n, ctx.chunk):
            xs = x[s:s + ctx.chunk]
            m = len(xs)
            xa = torch.matmul(xs, a_cat).view(m, c, t * k, kw // k)
            g_xa, g_w, _ = torch.ops.aten.convolution_backward(
                grad_out[s:s + m], xa, weight, None, [k, 1], [0, 0], [1, 1], False, [0, 0], 1,
                [need_x or need_a, need_w, False])
            if need_w:
                grad_w += g_w
            if need_x or need_a:
                g_xa = g_xa.view(m * c * t, kw)
                if need_a:
                    grad_a.addmm_(xs.reshape(-1, v).t(), g_xa)
                if need_x:
                    torch.mm(g_xa, a_cat.t(), out=grad_x[s:s + m].view(-1, v))
        grad_b = grad_out.sum(dim=(0, 2)) if need_b else None
        return grad_x, grad_a, grad_w, grad_b, None, None


class GraphConv(nn.Module):
    """Spatial graph convolution: 1×1 conv to K·C_out channels, then Σ_k x_k · (A_k ⊙ E_k).

    x: (N, C_in, T, V) -> (N, C_out, T, V). The parameters are the official ones (one conv with
    K·C_out outputs); the forward applies the graph *before* the 1×1 conv, which is the same
    linear map (both act on different axes; the bias becomes b_k ⊗ column sums of A_k) but
    moves K·C_in instead of K·C_out channels through the graph product: cheaper in every block
    where C_in < C_out (blocks 1, 5, 8, 10). :meth:`forward_reference` is the literal order.

    Without copies: one matmul with the partitions side by side, ``x @ [A_1 … A_K]``, gives
    (N, C_in, T, K, W) in memory, i.e. (N, C_in, T·K, W); the 1×1 conv over the K·C_in channels
    is then a (K, 1) conv with stride (K, 1) on that view. On the CPU this runs
    :data:`GRAPH_CHUNK` bodies at a time (:class:`_ChunkedGraphConv`), differentiable once.
    """

    def __init__(self, in_channels: int, out_channels: int, num_partitions: int = 3):
        super().__init__()
        self.K = num_partitions
        self.conv = nn.Conv2d(in_channels, out_channels * num_partitions, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        k, w = self.K, A.shape[-1]
        c_out = self.conv.out_channels // k
        a_cat = A.permute(1, 0, 2).reshape(v, k * w)                       # [A_1 … A_K]
        weight = self.conv.weight.view(k, c_out, c).permute(1, 2, 0).unsqueeze(-1)   # (C', C, K, 1)
        bias = torch.einsum("kc,kw->cw", self.conv.bias.view(k, c_out), A.sum(dim=1))
        if x.device.type == "cpu":
            return _ChunkedGraphConv.apply(x, a_cat, weight.contiguous(), bias, k, GRAPH_CHUNK)
        xa = torch.matmul(x, a_cat)                                         # (N, C, T, K·W)
        y = F.conv2d(xa.view(n, c, t * k, w), weight, stride=(k, 1))     # (N, C', T, W)
        return y.add_(bias[None, :, None, :])       # in place: the conv's backward needs no output

    def forward_reference(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        """The official order: conv to (N, K, C_out, T, V), then the graph product."""
        n, _, t, v = x.shape
        x = self.conv(x).view(n, self.K, -1, t, v)          # (N, K, C, T, V)
        return torch.einsum("nkctv,kvw->nctw", x, A)


# ------------------------------------------------------------------ temporal conv, spectral form

@functools.lru_cache(maxsize=64)
def _spectral_matrices(t_in: int, kernel: int, pad: int, stride: int) -> dict:
    """The three matrices (float64, CPU) of a length-``t_in`` temporal conv done by real DFT.

    The conv y[t] = Σ_k W[k] x[s·t + k − p] (zero padding p) equals a circular convolution of
    length L = t_in + p: the p wrapped-around positions land in zeros. Frequencies f = 0 … L//2;
    f = 0 (and L/2 when L is even) are real, the others complex. Per real frequency the product
    X_f·G_f is one real product; per complex one, with X = a + ib and G = g + ih, it takes three
    (Gauss): P1 = (a + b)g, P2 = a(h − g), P3 = b(g + h), XG = (P1 − P3) + i(P1 + P2). The
    P = n_real + 3·n_complex products are laid out as [real | P1 | P2 | P3], and the sums and
    differences of the trick are folded into the matrices, so the conv is three products:

    - ``forward`` (P, t_in): the inputs of the products, [X_real; a + b; a; b] = forward @ x;
    - ``kernel`` (kernel, P): the per-product weights, [g_real, g, h − g, g + h] = W @ kernel,
      with G_f = Σ_k W[k] e^{−2πif(p−k)/L};
    - ``inverse`` (t_out, P): y at the output times t·s from the products (Hermitian
      symmetry; the stride only picks the rows).
    """
    L = t_in + pad
    nf = L // 2 + 1
    real = [0] + ([L // 2] if L % 2 == 0 else [])
    cplx = [f for f in range(nf) if f not in real]
    f = torch.arange(nf, dtype=torch.float64)
    ang = 2 * math.pi * torch.outer(f, torch.arange(t_in, dtype=torch.float64)) / L   # (F, T)
    a, b = ang.cos()[cplx], -ang.sin()[cplx]                 # real and imaginary part of X_c
    forward = torch.cat([ang.cos()[real], a + b, a, b])
    ang_k = 2 * math.pi * torch.outer(pad - torch.arange(kernel, dtype=torch.float64), f) / L
    g, h = ang_k.cos(), -ang_k.sin()                          # (kernel, F): G_f = g + ih
    kernel_map = torch.cat([g[:, real], g[:, cplx], h[:, cplx] - g[:, cplx],
                            g[:, cplx] + h[:, cplx]], dim=1)
    t_out = (t_in + 2 * pad - kernel) // stride + 1
    tau = torch.arange(t_out, dtype=torch.float64) * stride
    ang_t = 2 * math.pi * torch.outer(tau, f) / L                                     # (t_out, F)
    weight = torch.full((nf,), 2.0 / L, dtype=torch.float64)
    weight[real] = 1.0 / L
    inv_re, inv_im = (ang_t.cos() * weight)[:, cplx], (-ang_t.sin() * weight)[:, cplx]
    inverse = torch.cat([(ang_t.cos() * weight)[:, real], inv_re + inv_im, inv_im, -inv_re], dim=1)
    return {"forward": forward, "kernel": kernel_map, "inverse": inverse}


# Bodies per chunk of the spectral conv: its frequency-domain tensors (≈ 2× the input) then stay
# a few MiB, in the cache and out of the page-fault path of fresh large allocations.
SPECTRAL_CHUNK = 8


class _SpectralConv(torch.autograd.Function):
    """y = inverse · bmm(g, forward · x) (+ bias) per chunk of bodies, and its backward.

    Nothing of the frequency domain is kept for the backward: it recomputes the DFT of each
    chunk (one small product), so memory stays that of the input and output, and every
    intermediate is a chunk-sized tensor. x: (N, C, T, V), g: (P, C', C) -> (N, C', T', V).
    """

    @staticmethod
    def _dft(x, forward):
        """(n, C, T, V) -> (P, C, n·V): the product inputs of one chunk."""
        n, c, t, v = x.shape
        return (forward @ x.permute(2, 1, 0, 3).reshape(t, -1)).view(-1, c, n * v)

    @staticmethod
    def forward(ctx, x, g, bias, forward, inverse, chunk):
        n, v = x.shape[0], x.shape[3]
        p, c_out, _ = g.shape
        out = x.new_empty((n, c_out, inverse.shape[0], v))
        for s in range(0, n, chunk):
            xs = x[s:s + chunk]
            yf = torch.bmm(g, _SpectralConv._dft(xs, forward)).view(p, -1)     # (P, C'·n·V)
            if bias is None:
                y = inverse @ yf
            else:               # the bias, constant in time, joins the inverse DFT's product
                y = torch.addmm(bias[:, None].expand(c_out, len(xs) * v).reshape(1, -1), inverse, yf)
            out[s:s + chunk] = y.view(-1, c_out, len(xs), v).permute(2, 1, 0, 3)
        ctx.save_for_backward(x, g, forward, inverse)
        ctx.chunk, ctx.has_bias = chunk, bias is not None
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x, g, forward, inverse = ctx.saved_tensors
        n, c, t, v = x.shape
        p, c_out, _ = g.shape
        need_x, need_g, need_b = ctx.needs_input_grad[:3]
        grad_x = x.new_empty(x.shape) if need_x else None
        grad_g = torch.zeros_like(g) if need_g else None
        for s in range(0, n, ctx.chunk):
            gs = grad_out[s:s + ctx.chunk]
            m = len(gs)
            gy = gs.permute(2, 1, 0, 3).reshape(gs.shape[2], -1)               # (T', C'·m·V)
            gyf = (inverse.t() @ gy).view(p, c_out, m * v)                      # (P, C', m·V)
            if need_g:
                grad_g.baddbmm_(gyf, _SpectralConv._dft(x[s:s + m], forward).transpose(1, 2))
            if need_x:
                gxf = torch.bmm(g.transpose(1, 2), gyf).view(p, -1)             # (P, C·m·V)
                grad_x[s:s + m] = (forward.t() @ gxf).view(t, c, m, v).permute(2, 1, 0, 3)
        grad_b = grad_out.sum(dim=(0, 2, 3)) if need_b and ctx.has_bias else None
        return grad_x, grad_g, grad_b, None, None, None


def spectral_temporal_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                           stride: int = 1, padding: int | None = None,
                           chunk: int = SPECTRAL_CHUNK) -> torch.Tensor:
    """``F.conv2d(x, weight, bias, (stride, 1), (padding, 0))`` for a (kernel, 1) weight, by DFT.

    x: (N, C, T, V), weight: (C', C, k, 1) -> (N, C', T', V). The same linear map as the direct
    conv (equal to float rounding), computed in the frequency domain along time: one real DFT of
    x (a matmul), then per frequency a product with that frequency's kernel spectrum, all of them
    in one batched matmul (C -> C' per frequency; a complex frequency takes three real products,
    see :func:`_spectral_matrices`), then the inverse DFT at the output times only (a matmul; the
    stride costs nothing). For T = 13, k = 9 that is 1 + 8·3 = 25 C×C' products per position
    instead of the direct conv's 117. Runs ``chunk`` bodies at a time, forward and backward
    (:class:`_SpectralConv`). Differentiable once (no double backward).
    """
    t, kernel = x.shape[2], weight.shape[2]
    pad = (kernel - 1) // 2 if padding is None else int(padding)
    mats = _spectral_matrices(t, kernel, pad, int(stride))
    dt = dict(dtype=x.dtype, device=x.device)
    g = torch.einsum("ock,kp->poc", weight[..., 0], mats["kernel"].to(**dt))           # (P, C', C)
    return _SpectralConv.apply(x, g.contiguous(), bias, mats["forward"].to(**dt),
                               mats["inverse"].to(**dt), max(1, int(chunk)))


# Spectral temporal convs pay on the CPU once the channel product is large enough (blocks 8–10 of
# the ¼-width network); the narrower blocks keep the direct conv (docs/results/step_benchmark.md).
SPECTRAL_MIN_CHANNELS = 64 * 64
TEMPORAL_CONVS = ("auto", "direct", "spectral")


class STGCNBlock(nn.Module):
    """One ST-GCN block: ReLU(tcn(gcn(x)) + res(x)); tcn = BN-ReLU-Conv(9×1, stride)-BN-Dropout.

    ``temporal_conv``: "direct" (``nn.Conv2d``), "spectral" (:func:`spectral_temporal_conv`, the
    same map) or "auto" (spectral on the CPU when the temporal conv's C·C' ≥
    :data:`SPECTRAL_MIN_CHANNELS`, i.e. blocks 8–10 of the ¼-width network).
    The submodules and the state dict are the official ones whatever the choice.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 dropout: float = 0.0, residual: bool = True, temporal_kernel: int = 9,
                 num_partitions: int = 3, temporal_conv: str = "auto"):
        super().__init__()
        if temporal_conv not in TEMPORAL_CONVS:
            raise ValueError(f"STGCNBlock: temporal_conv {temporal_conv!r}; expected one of {TEMPORAL_CONVS}")
        self.temporal_conv = temporal_conv
        pad = (temporal_kernel - 1) // 2
        self.gcn = GraphConv(in_channels, out_channels, num_partitions)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels),
            SameMaskDropout(dropout, inplace=True),
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

    def uses_spectral(self, x: torch.Tensor) -> bool:
        """Whether the temporal conv runs in the spectral form for an input like x."""
        if self.temporal_conv != "auto":
            return self.temporal_conv == "spectral"
        conv = self.tcn[2]
        # (under bfloat16 autocast the DFT products would lose precision: keep the direct conv)
        return (x.device.type == "cpu" and not torch.is_autocast_enabled("cpu")
                and conv.in_channels * conv.out_channels >= SPECTRAL_MIN_CHANNELS)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        bn1, relu, conv, bn2, drop = self.tcn
        y = relu(bn1(self.gcn(x, A)))
        if self.uses_spectral(y):
            y = spectral_temporal_conv(y, conv.weight, conv.bias, conv.stride[0], conv.padding[0])
        else:
            y = conv(y)
        y = drop(bn2(y))
        if self.residual is not None:      # in place: no backward here needs y itself
            y = y.add_(self.residual(x))
        return F.relu(y, inplace=True)


# --------------------------------------------------------------------------------------------
# Encoder
# --------------------------------------------------------------------------------------------

class STGCN(nn.Module):
    """¼-width ST-GCN backbone (docs/methods.md §5). x: (N, C, T, V, M) -> (N, hidden_dim).

    ``forward`` returns the body-averaged pooled features (no head); ``forward_map`` returns the
    final feature map (N·M, hidden_dim, T', V) on which AimCLR's EADM acts; ``pool`` maps such a map
    to features, so ``forward(x) == pool(forward_map(x), M)``.

    ``temporal_conv`` ("auto") only chooses how the temporal convs are computed (see
    :class:`STGCNBlock`); it does not change the function, the parameters or the state dict.
    ``input_bn`` (True, official): the input BatchNorm over the V·C joint-coordinate channels;
    False replaces it by the identity (coordinates enter as they are; no ``data_bn`` weights in
    the state dict; docs/methods.md §9.1).
    """

    def __init__(self, layout: Layout | str = "ntu25", hidden_channels: int = 16,
                 hidden_dim: int = 256, in_channels: int = 3, dropout: float = 0.5,
                 edge_importance: bool = True, geodesic_partitions: bool = False,
                 temporal_conv: str = "auto", input_bn: bool = True):
        super().__init__()
        self.layout = get_layout(layout)
        A = torch.from_numpy(spatial_partitions(self.layout, geodesic=geodesic_partitions))
        self.register_buffer("A", A)                        # (K=3, V, V), not trained
        v = self.layout.num_joints
        self.in_channels, self.hidden_channels, self.dropout = in_channels, hidden_channels, dropout
        self.out_dim = hidden_dim
        # channel index v·C + c; input_bn=False (not the official network): no input normalisation
        self.data_bn = nn.BatchNorm1d(in_channels * v) if input_bn else nn.Identity()
        h = hidden_channels
        # (in, out, stride) of the ten blocks; block 1 has no residual and no dropout
        spec = [(in_channels, h, 1), (h, h, 1), (h, h, 1), (h, h, 1),
                (h, 2 * h, 2), (2 * h, 2 * h, 1), (2 * h, 2 * h, 1),
                (2 * h, 4 * h, 2), (4 * h, 4 * h, 1), (4 * h, hidden_dim, 1)]
        self.blocks = nn.ModuleList(
            STGCNBlock(cin, cout, s, dropout=0.0 if i == 0 else dropout, residual=i > 0,
                       temporal_conv=temporal_conv)
            for i, (cin, cout, s) in enumerate(spec))
        if edge_importance:
            self.edge_importance = nn.ParameterList(
                nn.Parameter(torch.ones_like(A)) for _ in self.blocks)
        else:
            self.edge_importance = None

    def set_temporal_conv(self, kind: str) -> "STGCN":
        """Choose how every block computes its temporal conv ("auto", "direct", "spectral"); the
        function and the parameters stay the same (see :class:`STGCNBlock`)."""
        if kind not in TEMPORAL_CONVS:
            raise ValueError(f"STGCN: temporal_conv {kind!r}; expected one of {TEMPORAL_CONVS}")
        for block in self.blocks:
            block.temporal_conv = kind
        return self

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
    """The CrosSCLR/AimCLR processor's ``weights_init`` (docs/methods.md §5.2), for ``module.apply``.

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
