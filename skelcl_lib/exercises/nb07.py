"""Checkers for notebook 07 (ST-GCN, SkeletonCLR, extreme augmentations, EADM)."""

from __future__ import annotations

import numpy as np
import torch

from . import Solution, verdict
from ..methods.aimclr import eadm_masks, simam_attention
from ..skeleton import get_layout


def _call(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:  # learners see a hint, not a traceback
        return None, f"your function raised {type(e).__name__}: {e}"


def check_normalized_adjacency(normalized_adjacency) -> bool:
    """``normalized_adjacency(layout) -> (V, V)``: the 1-hop adjacency with self-loops, A·D⁻¹
    with D the column sums (entry [v, w] = 1/deg(w) for neighbours v of w)."""
    for name in ("ntu25", "kinect20"):
        lay = get_layout(name)
        a = lay.adjacency(self_loops=True)
        want = a / a.sum(axis=0, keepdims=True)
        got, err = _call(normalized_adjacency, name)
        if err:
            return verdict(False, hint=err)
        got = np.asarray(got, dtype=np.float64)
        if got.shape != want.shape:
            return verdict(False, hint=f"{name}: expected shape {want.shape}, got {got.shape}")
        if np.allclose(got, want.T, atol=1e-6) and not np.allclose(got, want, atol=1e-6):
            return verdict(False, hint="you divided by the row sums (D⁻¹·A); ST-GCN divides each "
                                       "column by its sum (A·D⁻¹), so each *target* averages its inputs")
        if np.allclose(got, a):
            return verdict(False, hint="that is the 0/1 adjacency; divide each column by its sum")
        if not np.allclose(got, want, atol=1e-6):
            return verdict(False, hint=f"{name}: the values differ; check the self-loops (deg(21) = 5 on NTU)")
    return verdict(True, "Correct: every column sums to 1, so each joint averages itself and its neighbours.")


def check_simam_attention(attention) -> bool:
    """``attention(F) -> A``: SimAM's sigmoid(1/E*) per sample and channel over (T', V)."""
    g = torch.Generator().manual_seed(7)
    f = torch.randn(3, 4, 6, 5, generator=g) * 2 + 1
    want = simam_attention(f)
    got, err = _call(attention, f.clone())
    if err:
        return verdict(False, hint=err)
    got = torch.as_tensor(got, dtype=want.dtype)
    if got.shape != want.shape:
        return verdict(False, hint=f"expected shape {tuple(want.shape)} (same as F), got {tuple(got.shape)}")
    if torch.all(got < 0.62):
        return verdict(False, hint="every value should be ≥ sigmoid(0.5) ≈ 0.62: did you forget the +0.5 "
                                   "or the sigmoid?")
    t, v = f.shape[-2:]
    d = (f - f.mean(dim=(-2, -1), keepdim=True)) ** 2
    biased = torch.sigmoid(d / (4 * (d.mean(dim=(-2, -1), keepdim=True) + 1e-4)) + 0.5)
    if torch.allclose(got, biased, atol=1e-5) and not torch.allclose(got, want, atol=1e-5):
        return verdict(False, hint=f"close: the variance divides by T'V − 1 = {t * v - 1}, not T'V")
    if not torch.allclose(got, want, atol=1e-5):
        return verdict(False, hint="the values differ; mean and variance are over (T', V) for each "
                                   "sample and channel separately")
    return verdict(True, "Correct: positions far from their channel mean get attention close to 1.")


def check_eadm_joint_mask(joint_mask) -> bool:
    """``joint_mask(F, keep_prob) -> (N·M, V)`` float: 1 where a joint is kept by EADM's spatial drop."""
    g = torch.Generator().manual_seed(3)
    f = torch.randn(4, 8, 5, 25, generator=g)
    f[1, :, :, 7] += 6.0                                  # a salient joint
    f[2, :, :, [3, 11]] -= 5.0
    for kp in (0.7, 0.66):
        want, _ = eadm_masks(f, keep_prob=kp)
        got, err = _call(joint_mask, f.clone(), kp)
        if err:
            return verdict(False, hint=err)
        got = torch.as_tensor(got).float()
        if got.shape != want.shape:
            return verdict(False, hint=f"expected shape {tuple(want.shape)} (N·M, V), got {tuple(got.shape)}")
        if torch.equal(got, 1 - want):
            return verdict(False, hint="inverted: EADM drops the *salient* joints (mean attention ≥ "
                                       "keep_prob) and keeps the others")
        if not torch.equal(got, want):
            return verdict(False, hint=f"keep_prob={kp}: the mask differs; average the attention over "
                                       "channels and frames (dims 1 and 2), then compare with keep_prob")
    return verdict(True, "Correct: joints 7 (sample 1) and 3, 11 (sample 2) are dropped.")


SOLUTIONS = {
    "normalized_adjacency": Solution(
        code="""\
def normalized_adjacency(layout):
    a = get_layout(layout).adjacency(self_loops=True)
    return a / a.sum(axis=0, keepdims=True)
"""),
    "simam_attention": Solution(
        code="""\
def attention(f):
    t, v = f.shape[-2:]
    d = (f - f.mean(dim=(-2, -1), keepdim=True)) ** 2
    var = d.sum(dim=(-2, -1), keepdim=True) / (t * v - 1)
    return torch.sigmoid(d / (4 * (var + 1e-4)) + 0.5)
"""),
    "eadm_joint_mask": Solution(
        code="""\
def joint_mask(f, keep_prob):
    a = simam_attention(f).mean(dim=(1, 2))      # (N·M, V)
    return (a < keep_prob).float()
"""),
}
