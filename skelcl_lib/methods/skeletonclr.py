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
from ..config import DEFAULTS
from ..models.heads import projection_mlp
from ..models.stgcn import STGCN, official_weights_init
from ..skeleton import get_layout
from .moco import (KeyQueue, info_nce_from_logits, make_key_encoder, moco_logits, momentum_update, nnm_loss,
                   positive_accuracy, twin_positive_mask)

# The logit of a masked queue entry (``mask_same_instance``): exp() of it underflows to 0 in
# float32, and unlike −inf it keeps 0·log p finite in D3M's soft cross-entropy (and fits float16).
MASKED_LOGIT = -1.0e4


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
                  geodesic_partitions: bool = False, input_bn: bool = True,
                  head_bn: bool = False) -> EncoderWithHead:
    """The ¼-width ST-GCN + projection head, initialised with the official ``weights_init``."""
    return EncoderWithHead(STGCN(layout, hidden_channels, hidden_dim, in_channels, dropout,
                                 geodesic_partitions=geodesic_partitions, input_bn=input_bn),
                           projection_mlp(hidden_dim, feature_dim, mlp, head_bn)).apply(official_weights_init)


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

    Options that are not in the official code (docs/methods.md §9), off by default; the first two
    read the clip ids a training batch carries as its third element (``batch[2]``, see
    ``data.instance_ids``) and need a queue built with ``track_ids=True``:

    - ``mask_same_instance``: queued keys with the query's own id (its stale keys from earlier
      epochs; with recording ids also the same performance seen by the other cameras) are no
      negatives: their logits become :data:`MASKED_LOGIT`.
    - ``twin_positives``: those keys are extra positives instead, with the multi-positive loss
      of AimCLR's mining (:func:`~skelcl_lib.methods.moco.nnm_loss`, M = [1 | same id]); with no
      such key in the queue the loss is plain InfoNCE. Not together with ``mask_same_instance``.
    - ``bn_groups`` G (1): shuffle-BN emulated on one device (MoCo's fix for a key recognisable by
      the batch statistics it shares with its query): in training, the query batch and the key
      batch are each cut into G groups with their own BatchNorm statistics, and the key batch is
      permuted before the cut and restored after, so a query and its key never share a group's
      statistics. AimCLR's extreme pass stays one whole-batch pass.
    - ``reversed_negatives``: the key view played backwards (:func:`~skelcl_lib.augment.reverse_valid_frames`),
      through the key encoder, is one more negative for its own query: ℓ(q) gains a last column
      q·k_rev / T in the instance loss. The features are pushed to tell a clip from its reversal
      ("sit down" from "stand up"), which the ST-GCN's temporal pooling nearly cannot at
      initialisation. One more key-encoder pass per step; never enqueued, never mined.
    """

    def __init__(self, encoder_q: EncoderWithHead, encoder_k: EncoderWithHead, queue: KeyQueue,
                 augment_normal, stream: str = "joint", momentum: float = 0.999,
                 temperature: float = 0.07, key_encoder_train_mode: bool = True,
                 mask_same_instance: bool = False, twin_positives: bool = False, bn_groups: int = 1,
                 reversed_negatives: bool = False):
        super().__init__()
        name = type(self).__name__
        if stream not in augment.STREAMS:
            raise ValueError(f"{name}: stream {stream!r}; expected one of {augment.STREAMS}")
        if isinstance(bn_groups, bool) or int(bn_groups) != bn_groups or bn_groups < 1:
            raise ValueError(f"{name}: bn_groups expected an integer >= 1, got {bn_groups!r}")
        if mask_same_instance and twin_positives:
            raise ValueError(f"{name}: mask_same_instance and twin_positives exclude each other "
                             f"(a queued key of the query's own id is either masked or a positive)")
        if (mask_same_instance or twin_positives) and queue.ids is None:
            raise ValueError(f"{name}: mask_same_instance / twin_positives need a queue built with track_ids=True")
        self.layout = encoder_q.backbone.layout
        self.stream = stream
        self.K, self.m, self.T = queue.K, float(momentum), float(temperature)
        self.key_encoder_train_mode = key_encoder_train_mode
        self.encoder_q, self.encoder_k, self.queue = encoder_q, encoder_k, queue
        self.augment_normal = augment_normal
        self.out_dim = encoder_q.backbone.out_dim
        self.mask_same_instance, self.twin_positives = bool(mask_same_instance), bool(twin_positives)
        self.bn_groups = int(bn_groups)
        self.reversed_negatives = bool(reversed_negatives)

    @staticmethod
    def parts(layout="ntu25", stream: str = "joint", in_channels: int = 3,
              hidden_channels: int = 16, hidden_dim: int = 256, feature_dim: int = 128,
              mlp: bool = True, dropout: float = 0.5, queue_size: int = 32768,
              momentum: float = 0.999, temperature: float = 0.07,
              key_init_copy: bool = False, key_encoder_train_mode: bool = True,
              geodesic_partitions: bool = False, shear_amplitude: float = 0.5,
              temporal_padding_ratio: int = 6, mask_same_instance: bool = False,
              twin_positives: bool = False, bn_groups: int = 1, resized_crop_scale=None,
              view_ops: str = "", motion_scale=None, input_bn: bool = True, head_bn: bool = False,
              reversed_negatives: bool = False) -> dict:
        """The constructor's arguments from the official options (a config's ``model`` keys):
        symbols ``queue_size`` K, ``momentum`` m, ``temperature`` T, ``feature_dim`` of the head;
        the quirk options ``key_init_copy`` (:func:`official_key_encoder`) and
        ``key_encoder_train_mode``; the options of this library ``input_bn`` (the encoder's input
        BatchNorm, :class:`~skelcl_lib.models.stgcn.STGCN`), ``head_bn`` (a BatchNorm in the
        projection head's hidden layer, :func:`~skelcl_lib.models.heads.projection_mlp`), ``mask_same_instance``,
        ``twin_positives`` (both make the queue track ids), ``bn_groups``, ``reversed_negatives`` (see the class), and the
        view options ``resized_crop_scale`` / ``view_ops`` / ``motion_scale`` (:func:`~skelcl_lib.augment.contrastive_view`)."""
        encoder_q = stgcn_encoder(get_layout(layout), in_channels, hidden_channels, hidden_dim, feature_dim,
                                  mlp, dropout, geodesic_partitions, input_bn, head_bn)
        encoder_k = official_key_encoder(encoder_q, key_init_copy)
        queue = KeyQueue(queue_size, feature_dim, init="normal",   # randn, L2-normalised rows
                         track_ids=mask_same_instance or twin_positives)
        return dict(encoder_q=encoder_q, encoder_k=encoder_k, queue=queue,
                    augment_normal=augment.contrastive_view(shear_amplitude, temporal_padding_ratio,
                                                            resized_crop_scale, str(view_ops), layout,
                                                            motion_scale),
                    stream=stream, momentum=momentum, temperature=temperature,
                    key_encoder_train_mode=key_encoder_train_mode, mask_same_instance=mask_same_instance,
                    twin_positives=twin_positives, bn_groups=bn_groups,
                    reversed_negatives=reversed_negatives)

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
        return [augment.to_stream(transform(x), self.stream, self.layout) for _ in range(n)]

    def query_and_key_views(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The two normal views (x_q, x_k) in the stream, and with ``reversed_negatives`` the key
        view played backwards (reversed in joint coordinates, then converted), else None."""
        raw_q, raw_k = self.augment_normal(x), self.augment_normal(x)
        x_q, x_k = (augment.to_stream(v, self.stream, self.layout) for v in (raw_q, raw_k))
        if not self.reversed_negatives:
            return x_q, x_k, None
        return x_q, x_k, augment.to_stream(augment.reverse_valid_frames(raw_k), self.stream, self.layout)

    def encode(self, encoder: nn.Module, x: torch.Tensor, shuffle: bool = False) -> torch.Tensor:
        """encoder(x); with ``bn_groups`` G > 1 and the encoder in training mode, the batch cut into
        G groups that each get their own BatchNorm statistics. ``shuffle`` (the key side of
        shuffle-BN) permutes the batch before the cut (from the global torch RNG) and restores the
        order after. With G = 1 nothing is drawn: the official step's random stream."""
        g = min(self.bn_groups, len(x))
        if g == 1 or not encoder.training:
            return encoder(x)
        if not shuffle:
            return torch.cat([encoder(part) for part in x.chunk(g)])
        perm = torch.randperm(len(x), device=x.device)
        out = torch.cat([encoder(part) for part in x[perm].chunk(g)])
        return out[torch.argsort(perm)]

    @torch.no_grad()
    def keys(self, x_k: torch.Tensor) -> torch.Tensor:
        """Momentum update θ_k ← mθ_k + (1−m)θ_q, then k = normalise(f_k(x_k)): (N, feature_dim)."""
        momentum_update(self.encoder_k, self.encoder_q, self.m)
        return F.normalize(self.encode(self.encoder_k, x_k, shuffle=True), dim=1)

    @torch.no_grad()
    def reversed_keys(self, x_r: torch.Tensor) -> torch.Tensor:
        """k_rev = normalise(f_k(x_r)) with the key encoder as it is (no second momentum update)."""
        return F.normalize(self.encode(self.encoder_k, x_r, shuffle=True), dim=1)

    def with_reversed(self, l_n: torch.Tensor, q: torch.Tensor, k_rev: torch.Tensor | None,
                      positives: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """ℓ(q) with the last column q·k_rev / T (a negative) and the positive mask with a zero
        column to match; unchanged when ``k_rev`` is None."""
        if k_rev is None:
            return l_n, positives
        l_r = torch.cat([l_n, (q * k_rev).sum(1, keepdim=True) / self.T], dim=1)
        if positives is not None:
            positives = torch.cat([positives, positives.new_zeros(len(positives), 1)], dim=1)
        return l_r, positives

    def same_id(self, batch) -> torch.Tensor | None:
        """(N, K) bool, True where a queued key has the id of the batch's clip (``batch[2]``);
        None when neither ``mask_same_instance`` nor ``twin_positives`` is on."""
        if not (self.mask_same_instance or self.twin_positives):
            return None
        if len(batch) < 3 or batch[2] is None:
            raise ValueError(f"{type(self).__name__}: mask_same_instance / twin_positives need batches "
                             f"(x, y, ids), as train.fit makes them")
        return self.queue.same_id_mask(batch[2])

    def logits(self, u: torch.Tensor, k: torch.Tensor, queue: torch.Tensor,
               same: torch.Tensor | None = None) -> torch.Tensor:
        """ℓ(u) = [u·k, uᵀQ] / T: (N, 1 + K). u, k: (N, D) L2-normalised; queue: (K, D).
        With ``mask_same_instance``, the queue columns where ``same`` (:meth:`same_id`) is True
        are :data:`MASKED_LOGIT`."""
        out = moco_logits(u, k, queue, self.T)
        if same is None or not self.mask_same_instance:
            return out
        return torch.cat([out[:, :1], out[:, 1:].masked_fill(same, MASKED_LOGIT)], dim=1)

    def twin_mask(self, same: torch.Tensor | None) -> torch.Tensor | None:
        """With ``twin_positives``: the positives M = [1 | same] (N, 1 + K) float for
        :func:`~skelcl_lib.methods.moco.nnm_loss`; otherwise None (the key is the only positive)."""
        if same is None or not self.twin_positives:
            return None
        return twin_positive_mask(same)

    @staticmethod
    def instance_loss(l_n: torch.Tensor, positives: torch.Tensor | None = None) -> torch.Tensor:
        """InfoNCE on ℓ(q) (the key in column 0), or with a positive mask the multi-positive
        :func:`~skelcl_lib.methods.moco.nnm_loss`."""
        return info_nce_from_logits(l_n) if positives is None else nnm_loss(l_n, positives)

    def enqueue(self, k: torch.Tensor, batch) -> None:
        """This step's keys into the queue, with the batch's ids when the queue tracks them."""
        self.queue.enqueue(k, ids=batch[2] if self.queue.ids is not None else None)

    # ----------------------------------------------------------------- training step

    def training_step(self, batch):
        """batch = (x, y) or (x, y, ids), x: (N, 3, T, V, M) raw joints on the device; y is
        unused, ids only with ``mask_same_instance`` or ``twin_positives``."""
        x = batch[0]
        x_q, x_k, x_r = self.query_and_key_views(x)
        q = F.normalize(self.encode(self.encoder_q, x_q), dim=1)
        k = self.keys(x_k)
        k_rev = None if x_r is None else self.reversed_keys(x_r)
        same = self.same_id(batch)
        l_n = self.logits(q, k, self.queue.snapshot(), same)
        l_n, positives = self.with_reversed(l_n, q, k_rev, self.twin_mask(same))
        loss = self.instance_loss(l_n, positives)
        self.enqueue(k, batch)
        logs = {"loss": loss.detach(), "acc": positive_accuracy(l_n)}
        if k_rev is not None:
            logs["sim_reversed"] = (q.detach() * k_rev).sum(1).mean()
        return loss, logs


AUTO_QUEUE_FRACTION = 0.5   # model.queue_fraction when queue_size is 'auto' and no fraction is set


def auto_queue_size(num_train: int, batch_size: int, fraction: float = AUTO_QUEUE_FRACTION) -> int:
    """``queue_size: auto``: ``queue_fraction`` of the training split, rounded to whole batches and
    at least one batch (so the queue ≥ batch rule holds), for one recipe across datasets."""
    if not 0 < fraction <= 1:
        raise ValueError(f"config field 'model.queue_fraction': expected a number in (0, 1], got {fraction!r}")
    return max(batch_size, int(round(fraction * num_train / batch_size)) * batch_size)


def method_builder(cls):
    """A builder ``(config, data_info) -> cls.build(**config["model"])``: layout and
    input channels come from the data unless the config sets them; ``queue_size: auto`` becomes
    :func:`auto_queue_size` of the training split (``queue_fraction``, default :data:`AUTO_QUEUE_FRACTION`)."""
    def build(config: dict, info: dict) -> nn.Module:
        kw = dict(config.get("model") or {})
        kw.setdefault("layout", info.get("layout", "ntu25"))
        fraction = kw.pop("queue_fraction", AUTO_QUEUE_FRACTION)   # check_model: only with 'auto'
        if kw.get("queue_size") == "auto":
            batch = (config.get("train") or {}).get("batch_size", DEFAULTS["train"]["batch_size"])
            kw["queue_size"] = auto_queue_size(info["num_train"], batch, fraction)
        kw.setdefault("in_channels", info.get("channels", 3))
        try:
            return cls.build(**kw)
        except TypeError as e:
            raise ValueError(f"config section 'model' for {cls.__name__}: {e}") from None
    return build

