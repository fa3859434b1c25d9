"""Checkers for notebook 08 (D3M, NNM, streams and the 3-stream ensemble)."""

from __future__ import annotations

import numpy as np
import torch

from . import Solution, verdict
from ..methods.aimclr import d3m_loss, nnm_mask


def _logits(seed: int, n: int = 6, k: int = 50):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 1 + k, generator=g) * 4 for _ in range(3)]


def check_d3m(d3m) -> bool:
    """``d3m(l_n, l_e, l_ed) -> scalar``: ½[H(p_n, p_e) + H(p_n, p_ed)], p_n = softmax(l_n) detached.

    The value must match, and the loss must train: gradient reaches the extreme views' logits
    (l_e, l_ed) and none reaches the teacher's (l_n)."""
    for seed in (0, 1):
        l_n, l_e, l_ed = (lg.requires_grad_(True) for lg in _logits(seed))
        want = d3m_loss(l_n, l_e, l_ed)
        try:
            got = d3m(l_n, l_e, l_ed)
        except Exception as e:
            return verdict(False, hint=f"your function raised {type(e).__name__}: {e}")
        if not isinstance(got, torch.Tensor) or got.numel() != 1:
            return verdict(False, hint="expected a scalar tensor (the loss averaged over the batch)")
        value = got.detach()
        if torch.allclose(value, 2 * want.detach(), rtol=1e-4):
            return verdict(False, hint="twice too large: each of the two terms has weight ½")
        if not torch.allclose(value, want.detach(), rtol=1e-4):
            return verdict(False, hint="the value differs: the target is softmax(l_n); the students "
                                       "enter as log_softmax(l_e) and log_softmax(l_ed); sum over the "
                                       "1 + K entries, average over the batch")
        if not got.requires_grad:
            return verdict(False, hint="the value is right but the loss carries no gradient (computed "
                                       "under torch.no_grad(), or detached): it would train nothing. "
                                       "Detach only the teacher p_n.")
        got.reshape(()).backward()
        if l_n.grad is not None and l_n.grad.abs().sum() > 0:
            return verdict(False, hint="the value is right but gradient reaches l_n: detach the "
                                       "teacher distribution p_n")
        for name, lg in (("l_e", l_e), ("l_ed", l_ed)):
            if lg.grad is None or lg.grad.abs().sum() == 0:
                return verdict(False, hint=f"the value is right but no gradient reaches {name}: only the "
                                           "teacher is detached, the extreme views must learn")
    return verdict(True, "Correct: the normal view teaches, the extreme views learn its distribution.")


def check_nnm_mask(mask_fn) -> bool:
    """``mask_fn([l_n, l_e, l_ed], topk) -> (N, 1 + K)``: 1 at column 0 and at each query's top-k queue entries."""
    for seed, topk in ((2, 1), (3, 3)):
        logits = _logits(seed)
        want = nnm_mask(*logits, topk=topk)
        try:
            got = torch.as_tensor(mask_fn([lg.clone() for lg in logits], topk)).float()
        except Exception as e:
            return verdict(False, hint=f"your function raised {type(e).__name__}: {e}")
        if got.shape != want.shape:
            return verdict(False, hint=f"expected shape {tuple(want.shape)}, got {tuple(got.shape)}")
        if not torch.all(got[:, 0] == 1):
            return verdict(False, hint="column 0 is the true key: it is always a positive")
        if not torch.equal(got, want):
            only_q = nnm_mask(logits[0], topk=topk)
            if torch.equal(got, only_q):
                return verdict(False, hint="you mined with the normal query only; take the union over "
                                           "q, z_e and z_ed")
            return verdict(False, hint=f"topk={topk}: the mask differs; rank columns 1.. (the queue), "
                                       "and remember the +1 offset of the key column")
    return verdict(True, "Correct: 1 to 3·topk mined positives per sample, plus the key.")


def check_ensemble(fuse) -> bool:
    """``fuse(joint, motion, bone) -> logits``: 0.6·joint + 0.6·bone + 0.4·motion on raw logits."""
    rng = np.random.default_rng(0)
    j, m, b = (rng.normal(size=(5, 4)) for _ in range(3))
    try:
        got = np.asarray(fuse(j, m, b), dtype=np.float64)
    except Exception as e:
        return verdict(False, hint=f"your function raised {type(e).__name__}: {e}")
    want = 0.6 * j + 0.6 * b + 0.4 * m
    if got.shape != want.shape:
        return verdict(False, hint=f"expected shape {want.shape}, got {got.shape}")
    if np.allclose(got, 0.6 * j + 0.4 * b + 0.6 * m):
        return verdict(False, hint="motion and bone are swapped: bone has weight 0.6, motion 0.4")
    if not np.allclose(got, want):
        return verdict(False, hint="AimCLR fuses raw logits (no softmax) with 0.6 / 0.6 / 0.4")
    return verdict(True, "Correct: score-level fusion of three separately trained models.")


SOLUTIONS = {
    "d3m": Solution(
        code="""\
def d3m(l_n, l_e, l_ed):
    p_n = torch.softmax(l_n.detach(), dim=1)
    h = lambda lg: -(p_n * torch.log_softmax(lg, dim=1)).sum(1).mean()
    return 0.5 * (h(l_e) + h(l_ed))
"""),
    "nnm_mask": Solution(
        code="""\
def mask_fn(logits_list, topk):
    m = torch.zeros_like(logits_list[0])
    m[:, 0] = 1
    for lg in logits_list:
        m.scatter_(1, lg[:, 1:].topk(topk, dim=1).indices + 1, 1.0)
    return m
"""),
    "ensemble": Solution(
        code="""\
def fuse(joint, motion, bone):
    return 0.6 * joint + 0.6 * bone + 0.4 * motion
"""),
}
