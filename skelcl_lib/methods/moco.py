"""MoCo machinery shared by AS-CAL, SkeletonCLR and AimCLR (docs/methods.md §4.3, §6.1).

- :class:`KeyQueue`: the dictionary of past keys, a ring buffer registered as buffers so the
  keys and the pointer travel with the state dict (and so with every checkpoint);
- :func:`momentum_update`: θ_k ← m·θ_k + (1 − m)·θ_q;
- :func:`moco_logits` / :func:`info_nce` / :func:`info_nce_from_logits`: [q·k₊, q·Q] / τ and the
  cross-entropy with the positive at index 0; :func:`nnm_loss`, the same with several positives;
- :func:`concat_all_gather`: keys of every process, in rank order, when torch.distributed runs
  (the fix for the DataParallel queue bug, docs/methods.md §8.6).

Layouts: queries and keys ``(N, D)``; the queue ``(K, D)``, one key per row.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def distributed_world() -> tuple[int, int]:
    """(rank, world_size); (0, 1) when torch.distributed is not initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def concat_all_gather(x: torch.Tensor) -> torch.Tensor:
    """x: (B, ...) on every process -> (world·B, ...), rank 0's rows first. No gradient.

    Without torch.distributed (or with one process) this returns ``x`` unchanged.
    """
    _, world = distributed_world()
    if world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(world)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def make_key_encoder(query_encoder: nn.Module) -> nn.Module:
    """θ_k := θ_q, an exact copy that takes no gradient (MoCo and AS-CAL initialisation)."""
    key = copy.deepcopy(query_encoder)
    for p in key.parameters():
        p.requires_grad_(False)
    return key


@torch.no_grad()
def momentum_update(key: nn.Module, query: nn.Module, m: float) -> None:
    """θ_k ← m·θ_k + (1 − m)·θ_q for every parameter (buffers are left alone, as in MoCo)."""
    for pk, pq in zip(key.parameters(), query.parameters()):
        pk.mul_(m).add_(pq.detach(), alpha=1.0 - m)


def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor,
                temperature: float) -> torch.Tensor:
    """q, k: (N, D), queue: (K, D) -> logits (N, 1 + K) = [q·k₊, q·Q₁..Q_K] / τ.

    The positive sits in column 0. ``k`` and ``queue`` are used as given (detach them first).
    """
    l_pos = (q * k).sum(dim=1, keepdim=True)            # (N, 1)
    l_neg = q @ queue.to(q.dtype).t()                     # (N, K)
    return torch.cat([l_pos, l_neg], dim=1) / temperature


def info_nce(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float,
             reduction: str = "mean") -> torch.Tensor:
    """InfoNCE loss −log( exp(q·k₊/τ) / (exp(q·k₊/τ) + Σ_j exp(q·Q_j/τ)) ), averaged over N.

    Computed as the cross-entropy of :func:`moco_logits` with target 0 (in float32 for AMP).
    ``k`` and ``queue`` are detached here: keys never carry gradient in MoCo.
    """
    return info_nce_from_logits(moco_logits(q, k.detach(), queue.detach(), temperature), reduction)


def info_nce_from_logits(logits: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """InfoNCE of logits (N, 1 + K) from :func:`moco_logits`: the cross-entropy with target 0."""
    target = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.float(), target, reduction=reduction)


def nnm_loss(logits_normal: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Multi-positive InfoNCE of AimCLR's nearest-neighbour mining (docs/methods.md §6.4):
    L_NNM = −mean_b Σ_j M_bj log softmax(ℓ(q_b))_j / Σ_j M_bj, the mean log-probability of the
    positives M: (N, 1 + K), 1 or 0, column 0 (the key) always 1. With M = [1 | 0 … 0] it is
    :func:`info_nce_from_logits`. SkeletonCLR's ``twin_positives`` uses it too."""
    logp = F.log_softmax(logits_normal, dim=1)
    return -((mask * logp).sum(dim=1) / mask.sum(dim=1)).mean()


def twin_positive_mask(same: torch.Tensor) -> torch.Tensor:
    """same (N, K) bool, queued keys that count as positives -> M = [1 | same] (N, 1 + K) float,
    the positive mask of :func:`nnm_loss` with the key in column 0."""
    return torch.cat([torch.ones_like(same[:, :1]), same], dim=1).float()


def positive_accuracy(logits: torch.Tensor) -> torch.Tensor:
    """The fraction of queries whose positive (column 0) has the largest logit (a training log)."""
    return (logits.argmax(1) == 0).float().mean()


class KeyQueue(nn.Module):
    """A FIFO dictionary of K keys of dimension D: ``queue: (K, D)`` and ``ptr`` (registered buffers).

    ``init="uniform"`` draws U(−s, s) with s = 1/√(D/3) (AS-CAL's ``MemoryMoCo``);
    ``init="normal"`` draws N(0, 1) rows and L2-normalises them (MoCo, AimCLR).
    :meth:`enqueue` writes keys at rows (ptr … ptr + B − 1) mod K, so any B and K work.
    ``track_ids=True`` adds a buffer ``ids: (K,)`` int64, the id of the clip each key came from
    (−1: a row never written), saved with the queue; :meth:`same_id_mask` compares a batch's ids
    with it. Without it the state dict is the official one (``queue``, ``ptr``).
    """

    def __init__(self, K: int, dim: int, init: str = "uniform", track_ids: bool = False):
        super().__init__()
        if K < 1 or dim < 1:
            raise ValueError(f"KeyQueue: expected K >= 1 and dim >= 1, got K={K}, dim={dim}")
        if init == "uniform":
            s = 1.0 / math.sqrt(dim / 3)
            queue = torch.rand(K, dim) * (2 * s) - s
        elif init == "normal":
            queue = F.normalize(torch.randn(K, dim), dim=1)
        else:
            raise ValueError(f"KeyQueue: init expected 'uniform' or 'normal', got {init!r}")
        self.K, self.dim = int(K), int(dim)
        self.register_buffer("queue", queue)
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        if track_ids:
            self.register_buffer("ids", torch.full((self.K,), -1, dtype=torch.long))
        else:
            self.ids = None

    def snapshot(self) -> torch.Tensor:
        """A detached copy of the keys, (K, D): the negatives for this step's logits."""
        return self.queue.detach().clone()

    def same_id_mask(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: (N,) the batch's clip ids -> (N, K) bool, True where the queued key came from a clip
        with the same id (a stale copy of the query's positive, or a camera twin with recording
        ids). ids (N, J): column 0 the clip's own id, the other columns ids that count as the same
        (its raw-coordinate neighbours with ``data.instance_ids: raw_neighbours``); True where the
        queued id equals any of them. Needs ``track_ids=True``."""
        if self.ids is None:
            raise ValueError("KeyQueue.same_id_mask: this queue was built with track_ids=False")
        ids = ids.to(self.ids.device)
        if ids.ndim == 1:
            return ids[:, None] == self.ids[None, :]
        return (ids[:, :, None] == self.ids[None, None, :]).any(dim=1)

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, gather: bool = True, ids: torch.Tensor | None = None) -> None:
        """keys: (B, D) -> replace the oldest B keys; with torch.distributed, all processes' keys.

        With ``gather`` the keys of every process are concatenated in rank order first, so all
        processes keep the same queue (the DDP fix of docs/methods.md §8.6). ``ids`` (B,): the
        clips the keys came from, stored (gathered the same way) when the queue tracks ids; a
        queue that tracks ids needs them. ids (B, J) store column 0, the clip's own id (see
        :meth:`same_id_mask`).
        """
        if keys.ndim != 2 or keys.shape[1] != self.dim:
            raise ValueError(f"KeyQueue.enqueue: expected keys (B, {self.dim}), got {tuple(keys.shape)}")
        if ids is not None and ids.ndim == 2:
            ids = ids[:, 0]
        if self.ids is not None and (ids is None or ids.shape != keys.shape[:1]):
            raise ValueError(f"KeyQueue.enqueue: this queue tracks ids; expected ids ({keys.shape[0]},), "
                             f"got {None if ids is None else tuple(ids.shape)}")
        keys = keys.detach()
        if gather:
            keys = concat_all_gather(keys)
            ids = None if self.ids is None else concat_all_gather(ids)
        keys = keys[-self.K:]                       # more keys than slots: keep the newest K
        b = keys.shape[0]
        rows = (self.ptr + torch.arange(b, device=self.queue.device)) % self.K
        self.queue[rows] = keys.to(self.queue.dtype)
        if self.ids is not None:
            self.ids[rows] = ids[-self.K:].to(self.ids.device)
        self.ptr.copy_((self.ptr + b) % self.K)

    def extra_repr(self) -> str:
        return f"K={self.K}, dim={self.dim}" + (", track_ids=True" if self.ids is not None else "")
