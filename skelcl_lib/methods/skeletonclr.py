"""SkeletonCLR: MoCo on the ¼-width ST-GCN (CrosSCLR's single-stream baseline; METHODS.md §6.1).

Two normal views (temporal crop + shear) of each clip; the query encoder sees one, the momentum
key encoder the other; InfoNCE over [key, queue] with T = 0.07 and a queue of 32768 keys.
AimCLR (``aimclr.py``) extends this module with the extreme view, EADM, D3M and NNM.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import augment
from ..models.heads import projection_mlp
from ..models.stgcn import STGCN, official_weights_init
from ..skeleton import get_layout
from .moco import KeyQueue, info_nce_from_logits, make_key_encoder, moco_logits, momentum_update, positive_accuracy


class EncoderWithHead(nn.Module):
    """ST-GCN backbone + projection head. x: (N, C, T, V, M) -> (N, feature_dim)."""

    def __init__(self, backbone: STGCN, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


class StreamFeatures(nn.Module):
    """Evaluation feature extractor: raw joints (N, 3, T, V, M) -> stream -> backbone -> (N, 256).

    Shares the backbone's parameters (no copy). Call ``.eval()`` before extracting features:
    linear evaluation runs the encoder in eval mode (BN running statistics, no dropout).
    """

    def __init__(self, backbone: STGCN, stream: str = "joint"):
        super().__init__()
        self.backbone = backbone
        self.stream = stream
        self.out_dim = backbone.out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(augment.to_stream(x, self.stream, self.backbone.layout))


class SkeletonCLR(nn.Module):
    """MoCo v2-style contrastive learning on ST-GCN (METHODS.md §6.1, normal views only).

    Symbols: ``queue_size`` K, ``momentum`` m, ``temperature`` T, ``feature_dim`` of the head.
    Quirks of the official code kept by default, each with the option that turns it off:
    ``key_init_copy=False`` (the key encoder starts from its own random init), and
    ``key_encoder_train_mode=True`` (BN batch statistics and dropout in the key encoder).
    """

    def __init__(self, layout="ntu25", stream: str = "joint", in_channels: int = 3,
                 hidden_channels: int = 16, hidden_dim: int = 256, feature_dim: int = 128,
                 mlp: bool = True, dropout: float = 0.5, queue_size: int = 32768,
                 momentum: float = 0.999, temperature: float = 0.07,
                 key_init_copy: bool = False, key_encoder_train_mode: bool = True,
                 geodesic_partitions: bool = False, shear_amplitude: float = 0.5,
                 temporal_padding_ratio: int = 6):
        super().__init__()
        if stream not in augment.STREAMS:
            raise ValueError(f"{type(self).__name__}: stream {stream!r}; expected one of {augment.STREAMS}")
        self.layout = get_layout(layout)
        self.stream = stream
        self.K, self.m, self.T = int(queue_size), float(momentum), float(temperature)
        self.key_encoder_train_mode = key_encoder_train_mode

        def encoder() -> EncoderWithHead:
            return EncoderWithHead(
                STGCN(self.layout, hidden_channels, hidden_dim, in_channels, dropout,
                      geodesic_partitions=geodesic_partitions),
                projection_mlp(hidden_dim, feature_dim, mlp))

        self.encoder_q = encoder().apply(official_weights_init)
        # Quirk (official processor): weights_init runs again after the q→k copy, so θ_k starts
        # from its own random draw; key_init_copy=True keeps θ_k = θ_q (MoCo, AS-CAL). The draw
        # happens either way, so the queue drawn next does not depend on the option.
        own_init = make_key_encoder(self.encoder_q).apply(official_weights_init)
        self.encoder_k = make_key_encoder(self.encoder_q) if key_init_copy else own_init
        self.queue = KeyQueue(self.K, feature_dim, init="normal")   # randn, L2-normalised rows
        self.augment_normal = augment.aimclr_normal(shear_amplitude, temporal_padding_ratio)
        self.out_dim = hidden_dim

    # ----------------------------------------------------------------- modes and hooks

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.key_encoder_train_mode:
            self.encoder_k.eval()
        return self

    def on_epoch_start(self, epoch: int) -> None:
        """Epochs are 1-based. SkeletonCLR has no schedule of its own."""
        self.epoch = epoch

    def after_optimizer_step(self) -> None:
        """Nothing: the momentum update runs at the start of each step, as in the official code."""

    def feature_extractor(self) -> StreamFeatures:
        return StreamFeatures(self.encoder_q.backbone, self.stream)

    # ----------------------------------------------------------------- pieces of a step

    def views(self, x: torch.Tensor, transform, n: int = 1) -> list[torch.Tensor]:
        """``n`` independent draws of ``transform`` on raw joints x, each converted to the stream."""
        return [augment.to_stream(transform(x), self.stream, self.layout)
                for _ in range(n)]

    @torch.no_grad()
    def keys(self, x_k: torch.Tensor) -> torch.Tensor:
        """Momentum update θ_k ← mθ_k + (1−m)θ_q, then k = normalise(f_k(x_k)): (N, feature_dim)."""
        momentum_update(self.encoder_k, self.encoder_q, self.m)
        return F.normalize(self.encoder_k(x_k), dim=1)

    def logits(self, u: torch.Tensor, k: torch.Tensor, queue: torch.Tensor) -> torch.Tensor:
        """ℓ(u) = [u·k, uᵀQ] / T: (N, 1 + K). u, k: (N, D) L2-normalised; queue: (K, D)."""
        return moco_logits(u, k, queue, self.T)

    # ----------------------------------------------------------------- training step

    def training_step(self, batch):
        """batch = (x, y), x: (N, 3, T, V, M) raw joints on the device; y is unused."""
        x = batch[0]
        x_q, x_k = self.views(x, self.augment_normal, 2)
        q = F.normalize(self.encoder_q(x_q), dim=1)
        k = self.keys(x_k)
        l_n = self.logits(q, k, self.queue.snapshot())
        loss = info_nce_from_logits(l_n)
        self.queue.enqueue(k)
        return loss, {"loss": loss.detach(), "acc": positive_accuracy(l_n)}


def method_builder(cls):
    """A ``train.py`` builder ``(config, data_info) -> cls(**config["model"])``: layout and
    input channels come from the data unless the config sets them."""
    def build(config: dict, info: dict) -> nn.Module:
        kw = dict(config.get("model") or {})
        kw.setdefault("layout", info.get("layout", "ntu25"))
        kw.setdefault("in_channels", info.get("channels", 3))
        try:
            return cls(**kw)
        except TypeError as e:
            raise ValueError(f"config section 'model' for {cls.__name__}: {e}") from None
    return build

