"""AS-CAL: momentum LSTM + queue + InfoNCE (Rao et al., Inf. Sci. 2021; docs/methods.md §4).

One step, as in the official ``pretrain_and_linEval.py``:

1. two views of the first ``selected_frames`` frames, drawn independently with the same
   strategy (default: centre on joint 1 → reverse with p = 0.5 → shear U(−1, 1));
2. q = CAE of the query LSTM f_q, k₊ = CAE of the momentum LSTM f_k (no gradient);
3. L = InfoNCE over [k₊, queue] with a raw dot product and τ = 0.06;
4. the keys enter the queue; after the optimiser step θ_k ← α·θ_k + (1 − α)·θ_q, α = 0.999.

Epoch 1 is forward-only: :meth:`training_step` returns ``loss=None`` and the loop does no
backward, no optimiser step and no momentum update; the queue fills with keys of the randomly
initialised key encoder (official behaviour; ``skip_warmup_epoch=True`` trains from epoch 1).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..augment import STREAMS, Center, ascal_view, to_stream
from ..models.lstm import LSTMEncoder
from .moco import (KeyQueue, info_nce_from_logits, make_key_encoder, moco_logits, momentum_update, nnm_loss,
                   twin_positive_mask)


class CenteredCrop(nn.Module):
    """x: (N, C, T, V, M) -> the first ``frames`` frames, each body centred on its joint ``joint``.

    AS-CAL's deterministic evaluation input (``SelectFrames`` + ``subtract``, docs/methods.md §2.5):
    padded frames and absent bodies stay zero.
    """

    def __init__(self, frames: int, joint: int = 1):
        super().__init__()
        self.frames, self.joint = int(frames), int(joint)
        self.center = Center(self.joint)                # a deterministic transform, no weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.center(x[:, :, : self.frames])


class StreamInput(nn.Module):
    """x: (N, 3, T, V, M) -> the named streams stacked on the channel axis, (N, 3·S, T, V, M).

    ``streams``: a tuple of "joint", "motion" (frame differences, last frame 0) and "bone"
    (``augment.to_bone`` with ``layout``); ``("joint",)`` is the identity, AS-CAL's only input.
    Motion is multiplied by ``motion_scale`` (frame-to-frame steps are ~10x smaller than the
    centred coordinates). Not in the official code: a named option (``model.streams``), computed
    from each augmented view as AimCLR derives its motion and bone streams (docs/methods.md §3.2).
    """

    def __init__(self, streams=("joint",), layout: str = "ntu25", motion_scale: float = 10.0):
        super().__init__()
        streams = (streams,) if isinstance(streams, str) else tuple(streams)
        bad = [s for s in streams if s not in STREAMS]
        if not streams or bad or len(set(streams)) != len(streams):
            raise ValueError(f"ASCAL streams: expected distinct names from {STREAMS}, got {list(streams)}")
        if not motion_scale > 0:
            raise ValueError(f"ASCAL motion_scale: expected a positive number, got {motion_scale!r}")
        self.streams, self.layout, self.motion_scale = streams, layout, float(motion_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.streams == ("joint",):
            return x
        parts = [to_stream(x, s, self.layout) * (self.motion_scale if s == "motion" else 1.0)
                 for s in self.streams]
        return torch.cat(parts, dim=1)

    def extra_repr(self) -> str:
        return f"streams={list(self.streams)}, layout={self.layout!r}, motion_scale={self.motion_scale}"


class FeatureExtractor(nn.Module):
    """Raw (N, 3, T, V, M) -> CAE (N, D) of the query encoder with the evaluation preprocessing."""

    def __init__(self, preprocess: nn.Module, encoder: LSTMEncoder):
        super().__init__()
        self.preprocess, self.encoder = preprocess, encoder
        self.out_dim = encoder.out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.preprocess(x))


def ascal_augmentation(strategy="subtract_randomFlip_shear", joint: int = 1, **options) -> Callable:
    """The view transform ``t(x, generator=g)`` for an official strategy string (docs/methods.md §3.1),
    e.g. ``"subtract_randomFlip_shear"`` (the released default); a callable is returned as is.
    ``options``: ``blur_normalize``, ``rotate_symmetric``, ``shear_amplitude`` (see ``augment.ascal_view``)."""
    if callable(strategy):
        return strategy
    return ascal_view(strategy, joint=joint, **options)


def make_ascal_head(kind: str | None, in_dim: int, out_dim: int = 512) -> nn.Module | None:
    """The official optional head: None, "linear" or "mlp" (H → H → ReLU → out), N(0, 0.01) weights."""
    if kind in (None, False, "none"):
        return None
    if kind == "linear":
        head = nn.Sequential(nn.Linear(in_dim, out_dim))
    elif kind == "mlp":
        head = nn.Sequential(nn.Linear(in_dim, in_dim), nn.ReLU(inplace=True), nn.Linear(in_dim, out_dim))
    else:
        raise ValueError(f"ASCAL head: expected None, 'linear' or 'mlp', got {kind!r}")
    for m in head:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)
    return head


class ASCAL(nn.Module):
    """AS-CAL from built parts, with the paper's symbols alpha (momentum α) and tau (temperature τ).

    ``encoder_q``: the query LSTM f_q (the key encoder f_k starts as its exact copy);
    ``queue``: the :class:`KeyQueue` of K past keys; ``view_q`` / ``view_k``: the transforms
    ``t(x, generator=None)`` of the two views; ``streams``: what the LSTM reads per frame
    (:class:`StreamInput`); ``crop``: the first-T crop centred on a joint (:class:`CenteredCrop`),
    whose T also crops every training clip; ``head_q``: the optional projection head (None in
    the paper). ``l2_normalize``: MoCo-style L2 normalisation of q and k (off in the official
    code); ``skip_warmup_epoch``: train from epoch 1 instead of the official forward-only first
    epoch. ``twin_positives`` (not in the official code, off by default): the queued keys whose
    clip id equals one of the ids the batch carries for a clip (``batch[2]``, ``data.instance_ids``;
    e.g. its raw-coordinate neighbours) are extra positives, with the multi-positive loss
    :func:`~skelcl_lib.methods.moco.nnm_loss` (M = [1 | same id]); it needs a queue built with
    ``track_ids=True``. :meth:`build` makes the parts from the official options.
    """

    def __init__(self, encoder_q: LSTMEncoder, queue: KeyQueue, view_q: Callable, view_k: Callable,
                 streams: StreamInput, crop: CenteredCrop, head_q: nn.Module | None = None,
                 alpha: float = 0.999, tau: float = 0.06, l2_normalize: bool = False,
                 skip_warmup_epoch: bool = False, twin_positives: bool = False):
        super().__init__()
        if twin_positives and queue.ids is None:
            raise ValueError("ASCAL: twin_positives needs a queue built with track_ids=True")
        self.twin_positives = bool(twin_positives)
        self.streams = streams
        self.alpha, self.tau = float(alpha), float(tau)
        self.selected_frames = crop.frames
        self.l2_normalize, self.skip_warmup_epoch = bool(l2_normalize), bool(skip_warmup_epoch)
        self.encoder_q = encoder_q
        self.encoder_k = make_key_encoder(encoder_q).eval()          # exact copy, no gradient
        self.head_q = head_q
        self.head_k = None if head_q is None else make_key_encoder(head_q)
        self.queue = queue
        self.view_q, self.view_k = view_q, view_k
        self.eval_preprocess = nn.Sequential(crop, streams)
        self.forward_only = False                       # True during the warm-up epoch

    @classmethod
    def build(cls, input_size: int, hidden_size: int = 256, num_layers: int = 1,
              K: int = 16384, alpha: float = 0.999, tau: float = 0.06,
              selected_frames: int = 150, center_joint: int = 1,
              l2_normalize: bool = False, skip_warmup_epoch: bool = False,
              augmentation="subtract_randomFlip_shear", key_augmentation=None,
              blur_normalize: bool = False, rotate_symmetric: bool = False,
              pooling: str = "mean", head: str | None = None, head_dim: int = 512,
              shear_amplitude: float = 1.0, streams=("joint",), layout: str = "ntu25",
              motion_scale: float = 10.0, twin_positives: bool = False) -> "ASCAL":
        """AS-CAL from the options of the official code (the keys of a config's ``model`` section).

        input_size: C·V·M of a frame (150 for NTU-25 with two bodies).
        selected_frames: T, the first-T crop (150 NTU, 60 N-UCLA/UWA3D, 40 SBU).
        center_joint: the ``subtract`` joint of the evaluation input (1 for every dataset).
        l2_normalize: L2-normalise q, k (and hence the queue), MoCo-style; off in the official code.
        skip_warmup_epoch: train from epoch 1 instead of the official forward-only first epoch.
        augmentation: the query view's strategy string (default centre → reverse → shear) or a
        callable ``t(x, generator=g)``; key_augmentation: the key view's (None: the same, as released).
        blur_normalize, rotate_symmetric: the named fixes of docs/methods.md for those transforms.
        shear_amplitude: the bound of ``shear``'s coefficients, U(-a, a) (official 1.0; not an
        official option).
        head: the official optional projection head (``--head``, off by default, docs/methods.md):
        None, "linear" (Linear(H, 512)) or "mlp" (Linear(H, H) → ReLU → Linear(H, 512)), weights
        N(0, 0.01); the loss acts on its output, evaluation still uses the CAE (the head is dropped).
        streams: what the LSTM reads per frame (``StreamInput``): ("joint",) as in the paper, or e.g.
        ("joint", "motion"), each stream derived from the augmented view; input_size is then the
        per-stream size C·V·M and the LSTM gets S times as many inputs. Not an official option.
        layout: the joint layout (for the bone stream). motion_scale: the motion stream's factor.
        twin_positives: queued keys of the clips the batch's ids name are extra positives (see the
        class; not an official option).
        """
        stream_input = StreamInput(streams, layout, motion_scale)
        encoder_q = LSTMEncoder(int(input_size) * len(stream_input.streams), hidden_size, num_layers,
                                pooling=pooling)
        head_q = make_ascal_head(head, encoder_q.out_dim, head_dim)
        queue = KeyQueue(K, encoder_q.out_dim if head_q is None else head_dim, init="uniform",
                         track_ids=twin_positives)
        opts = dict(joint=center_joint, blur_normalize=blur_normalize, rotate_symmetric=rotate_symmetric,
                    shear_amplitude=shear_amplitude)
        view_q = ascal_augmentation(augmentation, **opts)
        view_k = ascal_augmentation(augmentation if key_augmentation is None else key_augmentation, **opts)
        return cls(encoder_q, queue, view_q, view_k, stream_input, CenteredCrop(selected_frames, center_joint),
                   head_q, alpha, tau, l2_normalize, skip_warmup_epoch, twin_positives)

    def train(self, mode: bool = True):
        super().train(mode)
        self.encoder_k.eval()                           # f_k always in eval mode (official)
        return self

    # -- the method contract ---------------------------------------------------------------
    def on_epoch_start(self, epoch: int) -> None:
        """Epoch 1 (1-based) only fills the queue unless ``skip_warmup_epoch``."""
        self.forward_only = epoch == 1 and not self.skip_warmup_epoch

    def training_step(self, batch):
        """batch = (x, y) or (x, y, ids), x: (N, 3, T, V, M) raw joints -> (loss or None, logs).
        y is unused; ids only with ``twin_positives``."""
        if self.twin_positives and (len(batch) < 3 or batch[2] is None):
            raise ValueError("ASCAL: twin_positives needs batches (x, y, ids), as train.fit makes them")
        x = batch[0][:, :, : self.selected_frames]
        x_q = self.streams(self.view_q(x))              # query view x̃
        x_k = self.streams(self.view_k(x))              # key view x̄, an independent draw
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.forward_only):
            q = self.encoder_q(x_q)                     # CAE, (N, D)
            with torch.no_grad():
                k = self.encoder_k(x_k)                 # k₊, (N, D)
                if self.head_k is not None:
                    k = self.head_k(k)
            if self.head_q is not None:                 # optional head (off in the released setting)
                q = self.head_q(q)
            # official quirk: raw dot products, no L2 normalisation; l2_normalize=True normalises
            if self.l2_normalize:
                q, k = F.normalize(q, dim=1), F.normalize(k, dim=1)
            logits = moco_logits(q, k, self.queue.snapshot(), self.tau)
            if self.twin_positives:
                loss = nnm_loss(logits, twin_positive_mask(self.queue.same_id_mask(batch[2])))
            else:
                loss = info_nce_from_logits(logits)
        # current keys are never their own negatives
        self.queue.enqueue(k, ids=batch[2] if self.twin_positives else None)
        logs = {"loss": loss.detach(), "q_norm": q.detach().norm(dim=1).mean(),
                "k_norm": k.norm(dim=1).mean()}             # tensors: the loop syncs once per epoch
        if self.forward_only:                           # official warm-up; skip_warmup_epoch=True trains
            return None, logs                           # the loop skips backward, step and EMA
        return loss, logs

    def after_optimizer_step(self) -> None:
        """θ_k ← α·θ_k + (1 − α)·θ_q, after every optimiser step (never in the warm-up epoch)."""
        momentum_update(self.encoder_k, self.encoder_q, self.alpha)
        if self.head_q is not None:
            momentum_update(self.head_k, self.head_q, self.alpha)

    def feature_extractor(self) -> nn.Module:
        """Raw (N, 3, T, V, M) -> CAE of the *query* encoder (docs/methods.md §8.14), (N, D)."""
        return FeatureExtractor(self.eval_preprocess, self.encoder_q)


def build_ascal(config: dict, info: dict) -> ASCAL:
    """ASCAL from ``config["model"]`` (its keyword arguments) and the data info (``data.build.data_info``).

    ``K: auto`` sizes the queue to the dataset: min(16384, N_train // 2) (500 ≈ half of N-UCLA's
    training set in the official configs, 16384 ≈ 40% of NTU-60 xsub).
    """
    kw = dict(config.get("model") or {})
    K = kw.pop("K", "auto")
    if K == "auto":
        K = max(1, min(16384, info["num_train"] // 2))
    kw.setdefault("layout", info.get("layout", "ntu25"))
    return ASCAL.build(input_size=info["channels"] * info["joints"] * info["bodies"], K=int(K), **kw)
