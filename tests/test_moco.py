"""MoCo machinery: the key queue, the momentum update and InfoNCE (docs/methods.md)."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skelcl_lib.methods.moco import (KeyQueue, concat_all_gather, info_nce, make_key_encoder,
                                     moco_logits, momentum_update)


def test_queue_wraps_around_and_keeps_pointer():
    torch.manual_seed(0)
    q = KeyQueue(K=5, dim=2)
    keys = torch.arange(16, dtype=torch.float32).reshape(8, 2)
    initial_tail = q.queue[3:].clone()
    q.enqueue(keys[:3])
    assert int(q.ptr) == 3
    assert torch.equal(q.queue[:3], keys[:3])
    assert torch.equal(q.queue[3:], initial_tail)   # rows after the pointer keep their random init
    assert not torch.equal(initial_tail, keys[3:5])
    q.enqueue(keys[3:6])                         # rows 3, 4, then wraps to row 0
    assert int(q.ptr) == 1
    assert torch.equal(q.queue[3], keys[3]) and torch.equal(q.queue[4], keys[4])
    assert torch.equal(q.queue[0], keys[5])
    assert torch.equal(q.queue[1:3], keys[1:3])  # not yet overwritten: the oldest keys still there


def test_queue_state_dict_holds_keys_and_pointer():
    torch.manual_seed(0)
    a = KeyQueue(K=7, dim=3)
    a.enqueue(torch.ones(4, 3))
    sd = a.state_dict()
    assert set(sd) == {"queue", "ptr"}
    b = KeyQueue(K=7, dim=3)
    b.load_state_dict(sd)
    assert int(b.ptr) == 4 and torch.equal(b.queue, a.queue)


def test_queue_initialisations():
    torch.manual_seed(0)
    u = KeyQueue(K=1000, dim=256, init="uniform").queue
    s = 1 / math.sqrt(256 / 3)                   # AS-CAL MemoryMoCo: U(-s, s)
    assert u.abs().max() <= s and u.abs().max() > 0.95 * s
    n = KeyQueue(K=10, dim=8, init="normal").queue
    assert torch.allclose(n.norm(dim=1), torch.ones(10), atol=1e-6)
    with pytest.raises(ValueError, match="init"):
        KeyQueue(4, 2, init="zeros")


def test_enqueue_rejects_wrong_dimension():
    q = KeyQueue(K=4, dim=3)
    with pytest.raises(ValueError, match=r"\(B, 3\)"):
        q.enqueue(torch.zeros(2, 5))


def test_snapshot_is_a_detached_copy():
    q = KeyQueue(K=4, dim=2)
    snap = q.snapshot()
    q.enqueue(torch.full((2, 2), 9.0))
    assert not torch.equal(snap[:2], q.queue[:2])


def test_momentum_update_is_the_ema_formula():
    torch.manual_seed(0)
    query = nn.Linear(4, 3)
    key = make_key_encoder(query)
    assert all(torch.equal(a, b) for a, b in zip(key.parameters(), query.parameters()))
    assert not any(p.requires_grad for p in key.parameters())
    with torch.no_grad():
        for p in query.parameters():
            p.add_(torch.randn_like(p))
    before = [p.clone() for p in key.parameters()]
    momentum_update(key, query, m=0.9)
    for pk, pk0, pq in zip(key.parameters(), before, query.parameters()):
        torch.testing.assert_close(pk, 0.9 * pk0 + 0.1 * pq, rtol=0, atol=1e-7)
    momentum_update(key, query, m=0.0)           # m = 0 copies the query
    assert all(torch.equal(a, b) for a, b in zip(key.parameters(), query.parameters()))


def test_info_nce_equals_the_formula():
    torch.manual_seed(0)
    tau = 0.06
    q, k, queue = 0.1 * torch.randn(6, 5), 0.1 * torch.randn(6, 5), 0.1 * torch.randn(11, 5)
    qd, kd, Qd = q.double(), k.double(), queue.double()
    # L = mean_i −log( exp(q_i·k_i/τ) / (exp(q_i·k_i/τ) + Σ_j exp(q_i·Q_j/τ)) )
    pos = torch.exp((qd * kd).sum(1) / tau)
    neg = torch.exp(qd @ Qd.t() / tau).sum(1)
    expected = (-torch.log(pos / (pos + neg))).mean()
    torch.testing.assert_close(info_nce(q, k, queue, tau).double(), expected, rtol=1e-5, atol=1e-6)


def test_info_nce_matches_cross_entropy_on_logits_and_small_case_by_hand():
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[1.0, 0.0]])
    queue = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    logits = moco_logits(q, k, queue, temperature=1.0)
    assert torch.equal(logits, torch.tensor([[1.0, 0.0, -1.0]]))
    by_hand = -math.log(math.e / (math.e + 1 + math.exp(-1)))
    assert info_nce(q, k, queue, 1.0).item() == pytest.approx(by_hand, rel=1e-6)
    assert torch.allclose(info_nce(q, k, queue, 0.5),
                          F.cross_entropy(moco_logits(q, k, queue, 0.5), torch.zeros(1, dtype=torch.long)))


def test_info_nce_gradient_reaches_only_the_query():
    q = torch.randn(3, 4, requires_grad=True)
    k = torch.randn(3, 4, requires_grad=True)
    info_nce(q, k, torch.randn(5, 4), 0.1).backward()
    assert q.grad is not None and k.grad is None


def test_concat_all_gather_without_distributed_is_identity():
    x = torch.randn(3, 2)
    assert concat_all_gather(x) is x
