"""AimCLR (Guo et al., AAAI 2022): extreme view, EADM, D3M and NNM on top of SkeletonCLR.

docs/methods.md §6. The three mechanisms are pure functions so that tests and notebooks can call them
alone: :func:`eadm` (§6.2), :func:`d3m_loss` (§6.3), :func:`nnm_mask` / :func:`nnm_loss` (§6.4;
the loss lives in ``moco.py``, shared with SkeletonCLR's ``twin_positives``, and is re-exported here).
The :class:`AimCLR` module wires them into one training step (§6.5).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import augment
from ..models.heads import has_batchnorm
from .moco import nnm_loss, positive_accuracy  # noqa: F401  (nnm_loss: re-exported)
from .skeletonclr import SkeletonCLR

# --------------------------------------------------------------------------------------------
# EADM: Energy-based Attention-guided Drop Module (§6.2)
# --------------------------------------------------------------------------------------------


def simam_attention(features: torch.Tensor, e_lambda: float = 1e-4) -> torch.Tensor:
    """SimAM attention A = sigmoid(1/E*) per sample and channel over the (T', V) positions.

    features F: (N·M, C, T', V) -> A: same shape, values in [sigmoid(0.5), 1) ≈ [0.6225, 1).
    E*⁻¹ = (F − μ)² / (4(σ² + λ)) + 0.5 with μ, σ² over (T', V) and σ² = Σ(F − μ)² / (T'V − 1).
    """
    t, v = features.shape[-2:]
    d = (features - features.mean(dim=(-2, -1), keepdim=True)).pow_(2)
    var = d.sum(dim=(-2, -1), keepdim=True) / (t * v - 1)
    if torch.is_grad_enabled() and features.requires_grad:
        return torch.sigmoid(d / (4 * (var + e_lambda)) + 0.5)
    return d.div_(4 * (var + e_lambda)).add_(0.5).sigmoid_()       # the same, in place


def eadm_masks(features: torch.Tensor, keep_prob: float = 0.7, e_lambda: float = 1e-4,
               first_release_bug: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The two EADM masks computed from F: (N·M, C, T', V).

    Returns ``(m_s, m_t)``: the joint mask m_s: (N·M, V), 1 where the joint's mean attention over
    (C, T') is below ``keep_prob`` (salient joints are dropped), and the element-wise mask
    m_t: (N·M, C, T', V), 1 where A < ``keep_prob``. Masks are float and carry no gradient.

    Quirk (first release 2021-12-06, docs/methods.md §6.2): both masks were all ones (a no-op);
    ``first_release_bug=True`` reproduces it, the default is the fixed version.
    """
    with torch.no_grad():
        att = simam_attention(features.detach(), e_lambda)
        m_s = (att.mean(dim=(1, 2)) < keep_prob).to(features.dtype)     # (N·M, V)
        m_t = (att < keep_prob).to(features.dtype)                       # (N·M, C, T', V)
        if first_release_bug:
            m_s, m_t = torch.ones_like(m_s), torch.ones_like(m_t)
    return m_s, m_t


def eadm(features: torch.Tensor, keep_prob: float = 0.7, e_lambda: float = 1e-4,
         first_release_bug: bool = False) -> torch.Tensor:
    """EADM on the last block's map F: (N·M, C, T', V) -> dropped map, same shape.

    F₁ = F ⊙ m_s · numel(m_s)/Σm_s, then F₂ = F₁ ⊙ m_t · numel(m_t)/Σm_t. Both rescalings count
    over the whole batch (official behaviour), not per sample. The attention is computed once, from
    F. If a mask is all zeros the official code divides by zero; here the count is clamped to 1 so
    the output is zeros instead of NaN.
    """
    m_s, m_t = eadm_masks(features, keep_prob, e_lambda, first_release_bug)
    scale_s = m_s.numel() / m_s.sum().clamp_min(1.0)
    scale_t = m_t.numel() / m_t.sum().clamp_min(1.0)
    out = features * (m_s * scale_s)[:, None, None, :]     # m_s is 0/1: the same products
    return out.mul_(m_t).mul_(scale_t)


# --------------------------------------------------------------------------------------------
# D3M: Dual Distributional Divergence Minimization (§6.3)
# --------------------------------------------------------------------------------------------


def soft_cross_entropy(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """H(p, softmax(logits)) averaged over the batch: −mean_b Σ_j p_bj log softmax(logits)_bj.

    The official code takes log(softmax(·)) in two steps; ``log_softmax`` is the same maths and
    numerically safer (the substitution docs/methods.md §9 allows).
    """
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def d3m_loss(logits_normal: torch.Tensor, logits_extreme: torch.Tensor,
             logits_extreme_drop: torch.Tensor) -> torch.Tensor:
    """D3M: ½[H(p_n, p_e) + H(p_n, p_ed)] with p_n = stopgrad(softmax(ℓ(q))).

    Each logits tensor is ℓ(u) = [u·k, uᵀQ]/T: (N, 1 + K). The normal query is the teacher; the
    two extreme views (without and with EADM) are students. Weights ½ are fixed as in the code.
    """
    p_n = F.softmax(logits_normal.detach(), dim=1)
    return 0.5 * (soft_cross_entropy(p_n, logits_extreme) + soft_cross_entropy(p_n, logits_extreme_drop))


# --------------------------------------------------------------------------------------------
# NNM: Nearest Neighbours Mining (§6.4)
# --------------------------------------------------------------------------------------------


def nnm_mask(*logits: torch.Tensor, topk: int = 1) -> torch.Tensor:
    """Positive mask M: (N, 1 + K) from the logits of the queries (q, z_e, z_ed).

    Column 0 (the true key) is always 1; for each query the top-``topk`` queue entries (by
    similarity, i.e. columns 1.. of its logits; dividing by T does not change the ranking) become
    1 as well, united over the queries. Stale keys of the same instance are not excluded
    (official behaviour).
    """
    first = logits[0]
    mask = torch.zeros_like(first)
    mask[:, 0] = 1.0
    for lg in logits:
        idx = lg[:, 1:].detach().topk(topk, dim=1).indices + 1
        mask.scatter_(1, idx, 1.0)
    return mask


# --------------------------------------------------------------------------------------------
# The method (§6.5)
# --------------------------------------------------------------------------------------------


class AimCLR(SkeletonCLR):
    """AimCLR = SkeletonCLR + extreme view with EADM + D3M + NNM (docs/methods.md).

    Per step: q from a normal view, (z_e, z_ed) from one backbone pass on the extreme view (the
    map before / after :func:`eadm`, through the same head), k from the momentum encoder on the
    other normal view. L = L_N + d3m_loss; from epoch ``mining_epoch + 1`` on, L_N becomes
    :func:`nnm_loss` with :func:`nnm_mask` over (q, z_e, z_ed). Only q's InfoNCE sees hard labels;
    the extreme views learn from D3M alone.

    Parts beyond SkeletonCLR's: ``augment_extreme`` (the extreme view's transform); options
    ``mining_epoch`` (150), ``topk`` (1), ``keep_prob`` (0.7, EADM) and
    ``eadm_first_release_bug`` (False: the fixed EADM). :meth:`build` also takes ``aug_method``
    ("12345", the extreme ops), ``blur_normalize`` and ``rotate_symmetric`` (False: the official
    extreme augmentations) and every option of :meth:`SkeletonCLR.parts`.

    The options of this library that SkeletonCLR documents act on all three logit sets:
    ``mask_same_instance`` masks the own-id queue entries in ℓ(q), ℓ(z_e) and ℓ(z_ed) (so D3M's
    distributions and NNM's ranking never see them); ``twin_positives`` adds them to L_N's
    positives, united (logical or) with the mined neighbours once mining is on; ``bn_groups``
    groups the q and k passes.
    """

    def __init__(self, encoder_q, encoder_k, queue, augment_normal, augment_extreme, stream: str = "joint",
                 momentum: float = 0.999, temperature: float = 0.07, key_encoder_train_mode: bool = True,
                 mining_epoch: int = 150, topk: int = 1, keep_prob: float = 0.7,
                 eadm_first_release_bug: bool = False, mask_same_instance: bool = False,
                 twin_positives: bool = False, bn_groups: int = 1, reversed_negatives: bool = False):
        super().__init__(encoder_q, encoder_k, queue, augment_normal, stream, momentum, temperature,
                         key_encoder_train_mode, mask_same_instance, twin_positives, bn_groups,
                         reversed_negatives)
        self.mining_epoch, self.topk, self.keep_prob = int(mining_epoch), int(topk), float(keep_prob)
        self.eadm_first_release_bug = eadm_first_release_bug
        self.augment_extreme = augment_extreme
        self.mining = False
        self.head_has_bn = has_batchnorm(encoder_q.head)   # model.head_bn: z_e and z_ed through the head apart

    @classmethod
    def build(cls, mining_epoch: int = 150, topk: int = 1, keep_prob: float = 0.7, aug_method: str = "12345",
              eadm_first_release_bug: bool = False, blur_normalize: bool = False,
              rotate_symmetric: bool = False, **options) -> "AimCLR":
        """AimCLR from the official options (a config's ``model`` keys)."""
        parts = SkeletonCLR.parts(**options)
        extreme = augment.aimclr_extreme(options.get("shear_amplitude", 0.5), options.get("temporal_padding_ratio", 6),
                                         aug_method, parts["encoder_q"].backbone.layout, blur_normalize,
                                         rotate_symmetric)
        return cls(**parts, augment_extreme=extreme, mining_epoch=mining_epoch, topk=topk, keep_prob=keep_prob,
                   eadm_first_release_bug=eadm_first_release_bug)

    def on_epoch_start(self, epoch: int) -> None:
        """Epochs are 1-based; nearest-neighbour mining is on while epoch > mining_epoch."""
        super().on_epoch_start(epoch)
        self.mining = epoch > self.mining_epoch

    def extreme_embeddings(self, x_e: torch.Tensor, num_bodies: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One backbone pass on the extreme view -> (z_e, z_ed), each (N, feature_dim), normalised."""
        backbone, head = self.encoder_q.backbone, self.encoder_q.head
        fmap = backbone.forward_map(x_e)                                    # (N·M, C, T', V)
        if self.eadm_first_release_bug:       # EADM was a no-op then: z_ed ≡ z_e, skip the head pass
            z_e = F.normalize(head(backbone.pool(fmap, num_bodies)), dim=1)
            return z_e, z_e
        dropped = eadm(fmap, self.keep_prob)
        h_e, h_ed = backbone.pool(fmap, num_bodies), backbone.pool(dropped, num_bodies)
        if self.head_has_bn:                  # model.head_bn: each batch gets its own head statistics
            return F.normalize(head(h_e), dim=1), F.normalize(head(h_ed), dim=1)
        z_e, z_ed = F.normalize(head(torch.cat([h_e, h_ed])), dim=1).chunk(2)   # one head call for both
        return z_e, z_ed

    def training_step(self, batch):
        """batch = (x, y) or (x, y, ids), x: (N, 3, T, V, M) raw joints on the device; y is
        unused, ids only with ``mask_same_instance`` or ``twin_positives``."""
        x = batch[0]
        x_q, x_k, x_r = self.query_and_key_views(x)
        (x_e,) = self.views(x, self.augment_extreme, 1)
        q = F.normalize(self.encode(self.encoder_q, x_q), dim=1)
        z_e, z_ed = self.extreme_embeddings(x_e, x.shape[-1])
        k = self.keys(x_k)
        k_rev = None if x_r is None else self.reversed_keys(x_r)
        queue, same = self.queue.snapshot(), self.same_id(batch)
        l_n, l_e, l_ed = (self.logits(u, k, queue, same) for u in (q, z_e, z_ed))
        positives = self.twin_mask(same)
        if self.mining:
            mined = nnm_mask(l_n, l_e, l_ed, topk=self.topk)
            positives = mined if positives is None else torch.maximum(mined, positives)
        l_nr, positives = self.with_reversed(l_n, q, k_rev, positives)   # the reversed key: L_N only
        loss_n = self.instance_loss(l_nr, positives)
        loss_d3m = d3m_loss(l_n, l_e, l_ed)
        loss = loss_n + loss_d3m
        self.enqueue(k, batch)
        logs = {"loss": loss.detach(), "loss_n": loss_n.detach(), "loss_d3m": loss_d3m.detach(),
                "acc": positive_accuracy(l_nr), "mining": float(self.mining)}
        if k_rev is not None:
            logs["sim_reversed"] = (q.detach() * k_rev).sum(1).mean()
        return loss, logs

