"""Checkers for notebook 04 (the momentum LSTM: CAE, key encoder, EMA)."""

from __future__ import annotations

import math

import torch
from torch import nn

from . import Solution, verdict


def check_cae(fn) -> bool:
    """``fn(h) -> (N, D)``: the CAE from top-layer hidden states ``h: (N, T, D)`` (padded steps count)."""
    if not callable(fn):
        return verdict(False, hint=f"Pass your function itself; got {type(fn).__name__}.")
    h = torch.randn(3, 7, 5, generator=torch.Generator().manual_seed(1))
    try:
        got = fn(h)
    except NotImplementedError:
        return verdict(False, hint="Fill in the function first.")
    except Exception as e:
        return verdict(False, hint=f"Your function raised {type(e).__name__}: {e}")
    got = torch.as_tensor(got)
    if tuple(got.shape) != (3, 5):
        return verdict(False, hint=f"Expected shape (N, D) = (3, 5), got {tuple(got.shape)}: average over time (dim 1).")
    if torch.allclose(got, h.mean(1), atol=1e-6):
        return verdict(True, "Correct: the CAE is the temporal mean of the hidden states, padding included.")
    if torch.allclose(got, h.sum(1), atol=1e-5):
        return verdict(False, hint="That is the sum; AS-CAL's default is the mean.")
    if torch.allclose(got, h[:, -1], atol=1e-6):
        return verdict(False, hint="That is the last hidden state (the 'last' option), not the CAE.")
    return verdict(False, hint="Average h over the time axis (dim=1).")


def check_momentum_update(fn) -> bool:
    """``fn(key, query, m)``: in place θ_k ← m·θ_k + (1 − m)·θ_q for two modules of the same architecture."""
    if not callable(fn):
        return verdict(False, hint=f"Pass your function itself; got {type(fn).__name__}.")
    torch.manual_seed(3)
    query, key = nn.Linear(4, 3), nn.Linear(4, 3)
    k0 = [p.detach().clone() for p in key.parameters()]
    q0 = [p.detach().clone() for p in query.parameters()]
    try:
        fn(key, query, 0.9)                   # called as training calls it: gradients are on
    except NotImplementedError:
        return verdict(False, hint="Fill in the function first.")
    except RuntimeError as e:
        if "requires grad" in str(e):
            return verdict(False, hint="An in-place update of parameters that require grad fails: "
                                       "decorate the function with @torch.no_grad() (the EMA is not "
                                       f"part of the graph). The error was: {e}")
        return verdict(False, hint=f"Your function raised RuntimeError: {e}")
    except Exception as e:
        return verdict(False, hint=f"Your function raised {type(e).__name__}: {e}")
    if any(not torch.equal(p, p0) for p, p0 in zip(query.parameters(), q0)):
        return verdict(False, hint="The query encoder changed: only the key encoder is updated.")
    new = list(key.parameters())
    if any(p.grad_fn is not None for p in new):
        return verdict(False, hint="The update was recorded in the autograd graph: decorate the "
                                   "function with @torch.no_grad().")
    if all(torch.allclose(p, 0.9 * a + 0.1 * b, atol=1e-6) for p, a, b in zip(new, k0, q0)):
        return verdict(True, "Correct: the key encoder keeps 90% of itself and takes 10% of the query.")
    if all(torch.allclose(p, 0.1 * a + 0.9 * b, atol=1e-6) for p, a, b in zip(new, k0, q0)):
        return verdict(False, hint="The weights are swapped: m multiplies the *key* parameters.")
    if all(torch.equal(p, a) for p, a in zip(new, k0)):
        return verdict(False, hint="The key encoder did not change: update its parameters in place (p.mul_(m).add_(...)).")
    return verdict(False, hint="θ_k ← m·θ_k + (1 − m)·θ_q, parameter by parameter.")


def check_half_life(answer, alpha: float = 0.999) -> bool:
    """Steps until the initial key weights keep half their share: ln(0.5) / ln(α)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one number of steps; got {answer!r}.")
    want = math.log(0.5) / math.log(alpha)
    if abs(value - want) <= 1.0:
        return verdict(True, f"Correct: α^n = 0.5 at n = ln 0.5 / ln α ≈ {want:.0f} steps; "
                             f"an NTU-60 epoch has ≈ 1253 steps.")
    if abs(value - 1 / (1 - alpha)) <= 1.0:
        return verdict(False, hint="1/(1 − α) is the EMA's time constant (weight 1/e); the question asks for 1/2.")
    return verdict(False, hint="After n steps the initial weights carry a factor α^n. Solve α^n = 0.5.")


SOLUTIONS = {
    "cae": Solution(
        code="""\
def my_cae(h):
    return h.mean(dim=1)      # average over time, padded steps included
"""),
    "momentum_update": Solution(
        code="""\
@torch.no_grad()
def my_momentum_update(key, query, m):
    for pk, pq in zip(key.parameters(), query.parameters()):
        pk.mul_(m).add_(pq, alpha=1 - m)
"""),
    "half_life": Solution(
        code="""\
answer = math.log(0.5) / math.log(0.999)   # ≈ 693 steps
"""),
}
