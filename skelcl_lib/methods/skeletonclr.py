"""SkeletonCLR: MoCo on the ¼-width ST-GCN (CrosSCLR's single-stream baseline; docs/methods.md §6.1).

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


def stgcn_encoder(layout, in_channels: int = 3, hidden_channels: int = 16, hidden_dim: int = 256,
                  feature_dim: int = 128, mlp: bool = True, dropout: float = 0.5,
                  geodesic_partitions: bool = False) -> EncoderWithHead:
    """The ¼-width ST-GCN + projection head, initialised with the official ``weights_init``."""
    return EncoderWithHead(STGCN(layout, hidden_channels, hidden_dim, in_channels, dropout,
                                 geodesic_partitions=geodesic_partitions),
                           projection_mlp(hidden_dim, feature_dim, mlp)).apply(official_weights_init)


def official_key_encoder(encoder_q: nn.Module, key_init_copy: bool = False) -> nn.Module:
    """θ_k as the official processor makes it: a copy of θ_q that ``weights_init`` then draws
    again, so θ_k starts from its own random weights (the quirk); ``key_init_copy=True`` keeps
    θ_k = θ_q (MoCo, AS-CAL). The second draw happens either way, so what is drawn next (the
    queue) does not depend on the option."""
    own_init = make_key_encoder(encoder_q).apply(official_weights_init)
    return make_key_encoder(encoder_q) if key_init_copy else own_init


class SkeletonCLR(nn.Module):
    """MoCo v2-style contrastive learning on ST-GCN (docs/methods.md, normal views only), from
    built parts: ``encoder_q`` (ST-GCN + head), ``encoder_k`` (its momentum copy),
    ``queue`` (:class:`KeyQueue`), ``augment_normal`` (the views' transform), ``stream``
    (joint, motion or bone), ``momentum`` m and ``temperature`` T.
    ``key_encoder_train_mode=True`` (official) keeps BN batch statistics and dropout in the key
    encoder. :meth:`build` makes the parts from the official options.
    """

    def __init__(self, encoder_q: EncoderWithHead, encoder_k: EncoderWithHead, queue: KeyQueue,
                 augment_normal, stream: str = "joint", momentum: float = 0.999,
                 temperature: float = 0.07, key_encoder_train_mode: bool = True):
        super().__init__()
        if stream not in augment.STREAMS:
            raise ValueError(f"{type(self).__name__}: stream {stream!r}; expected one of {augment.STREAMS}")
        self.layout = encoder_q.backbone.layout
        self.stream = stream
        self.K, self.m, self.T = queue.K, float(momentum), float(temperature)
        self.key_encoder_train_mode = key_encoder_train_mode
        self.encoder_q, self.encoder_k, self.queue = encoder_q, encoder_k, queue
        self.augment_normal = augment_normal
        self.out_dim = encoder_q.backbone.out_dim

    @staticmethod
    def parts(layout="ntu25", stream: str = "joint", in_channels: int = 3,
              hidden_channels: int = 16, hidden_dim: int = 256, feature_dim: int = 128,
              mlp: bool = True, dropout: float = 0.5, queue_size: int = 32768,
              momentum: float = 0.999, temperature: float = 0.07,
              key_init_copy: bool = False, key_encoder_train_mode: bool = True,
              geodesic_partitions: bool = False, shear_amplitude: float = 0.5,
              temporal_padding_ratio: int = 6) -> dict:
        """The constructor's arguments from the official options (a config's ``model`` keys):
        symbols ``queue_size`` K, ``momentum`` m, ``temperature`` T, ``feature_dim`` of the head;
        the quirk options ``key_init_copy`` (:func:`official_key_encoder`) and
        ``key_encoder_train_mode``."""
        encoder_q = stgcn_encoder(get_layout(layout), in_channels, hidden_channels, hidden_dim, feature_dim,
                                  mlp, dropout, geodesic_partitions)
        encoder_k = official_key_encoder(encoder_q, key_init_copy)
        queue = KeyQueue(queue_size, feature_dim, init="normal")   # randn, L2-normalised rows
        return dict(encoder_q=encoder_q, encoder_k=encoder_k, queue=queue,
                    augment_normal=augment.aimclr_normal(shear_amplitude, temporal_padding_ratio),
                    stream=stream, momentum=momentum, temperature=temperature,
                    key_encoder_train_mode=key_encoder_train_mode)

    @classmethod
    def build(cls, **options) -> "SkeletonCLR":
        """SkeletonCLR from the official options (see :meth:`parts`)."""
        return cls(**cls.parts(**options))

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
    """A builder ``(config, data_info) -> cls.build(**config["model"])``: layout and
    input channels come from the data unless the config sets them."""
    def build(config: dict, info: dict) -> nn.Module:
        kw = dict(config.get("model") or {})
        kw.setdefault("layout", info.get("layout", "ntu25"))
        kw.setdefault("in_channels", info.get("channels", 3))
        try:
            return cls.build(**kw)
        except TypeError as e:
            raise ValueError(f"config section 'model' for {cls.__name__}: {e}") from None
    return build

