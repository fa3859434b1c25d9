"""Checkers for notebook 03 (contrastive learning: positives, negatives, InfoNCE, temperature)."""

from __future__ import annotations

import math

import torch

from ..methods.moco import info_nce
from . import Solution, verdict


def _reference_loss(q, k, queue, tau):
    return info_nce(q, k, queue, tau)


def check_info_nce(fn) -> bool:
    """``fn(q, k, queue, tau) -> scalar tensor``: InfoNCE averaged over the batch."""
    if not callable(fn):
        return verdict(False, hint=f"Pass your function itself (no parentheses); got {type(fn).__name__}.")
    g = torch.Generator().manual_seed(7)
    for n, d, k_size, tau in ((4, 8, 16, 0.07), (1, 3, 5, 1.0), (6, 16, 32, 0.5)):
        q, k = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g)
        queue = torch.randn(k_size, d, generator=g)
        q.requires_grad_(True)                        # the query is what the encoder learns from
        try:
            got = fn(q, k, queue, tau)
        except NotImplementedError:
            return verdict(False, hint="Fill in the function first.")
        except Exception as e:  # a learner's bug: show it as a hint, not a traceback
            return verdict(False, hint=f"Your function raised {type(e).__name__}: {e}")
        if not isinstance(got, torch.Tensor) or not got.requires_grad:
            return verdict(False, hint="Return the loss as a tensor that carries a gradient: computed "
                                       "under torch.no_grad(), detached or turned into a Python float, "
                                       "it would train nothing.")
        got = got.detach().to(torch.float64)
        if got.numel() != 1:
            return verdict(False, hint=f"Return one number (the mean over the batch); got shape {tuple(got.shape)}.")
        want = _reference_loss(q.detach(), k, queue, tau).double()
        if not torch.isclose(got.reshape(()), want, rtol=1e-4, atol=1e-5):
            per_sample_sum = (want * n).item()
            if abs(got.item() - per_sample_sum) < 1e-3 and n > 1:
                return verdict(False, hint="Close: average over the batch instead of summing.")
            return verdict(False, hint=f"For N={n}, K={k_size}, tau={tau} expected {want.item():.5f}, "
                                       f"got {got.item():.5f}. Is the positive in column 0, and did you divide by tau?")
    return verdict(True, "Correct: your InfoNCE matches the library's on three random cases.")


def positive_probability(sims, tau: float) -> float:
    """softmax(sims / tau)[0]: the probability InfoNCE gives the positive (sims[0])."""
    z = [s / tau for s in sims]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return e[0] / sum(e)


def check_positive_probability(answer, sims=(0.9, 0.5, 0.1), tau: float = 0.1) -> bool:
    """The probability given to the positive for similarities ``sims`` (positive first) at ``tau``."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one number between 0 and 1; got {answer!r}.")
    want = positive_probability(sims, tau)
    if abs(value - want) < 1e-3:
        return verdict(True, f"Correct: p = {want:.4f}; the loss for this query is -log p = {-math.log(want):.4f}.")
    if abs(value - positive_probability(sims, 1.0)) < 1e-3:
        return verdict(False, hint="That is the probability at tau = 1: divide the similarities by tau first.")
    if abs(value + math.log(want)) < 1e-3:
        return verdict(False, hint="That is the loss -log p; the question asks for p itself.")
    return verdict(False, hint="p = exp(s_pos / tau) / sum_j exp(s_j / tau), the positive included in the sum.")


def check_collapse_loss(answer, K: int = 4096) -> bool:
    """InfoNCE of a collapsed encoder (every embedding equal) with K negatives: log(K + 1)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one number; got {answer!r}.")
    want = math.log(K + 1)
    if abs(value - want) < min(1e-3, abs(value - math.log(K))):     # log K is only 1/K away
        return verdict(True, f"Correct: all K + 1 logits are equal, p = 1/(K + 1), loss = log({K + 1}) = {want:.4f}, "
                             "whatever the temperature. Negatives make collapse expensive.")
    if abs(value - math.log(K)) < 1e-3:
        return verdict(False, hint="Almost: the softmax runs over the positive *and* the K negatives.")
    if abs(value) < 1e-6:
        return verdict(False, hint="Zero would mean the positive wins outright; with equal logits it cannot.")
    return verdict(False, hint="If every similarity is the same, what probability does the softmax give each entry?")


SOLUTIONS = {
    "info_nce": Solution(
        code="""\
def my_info_nce(q, k, queue, tau):
    l_pos = (q * k).sum(dim=1, keepdim=True)         # (N, 1)
    l_neg = q @ queue.T                              # (N, K)
    logits = torch.cat([l_pos, l_neg], dim=1) / tau  # (N, 1 + K)
    target = torch.zeros(len(q), dtype=torch.long)   # the positive is class 0
    return F.cross_entropy(logits, target)
"""),
    "positive_probability": Solution(
        code="""\
answer = torch.tensor([0.9, 0.5, 0.1]).div(0.1).softmax(0)[0].item()   # ≈ 0.9817
"""),
    "collapse_loss": Solution(
        code="""\
# All 1 + K logits are equal, so the softmax is uniform: p = 1 / (K + 1), loss = log(K + 1),
# whatever tau is.
answer = math.log(4096 + 1)   # ≈ 8.318
"""),
}
