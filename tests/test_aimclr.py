"""AimCLR pieces: EADM, D3M, NNM against their formulas (docs/methods.md §6); a training step."""

import math

import pytest
import torch

from skelcl_lib.methods.aimclr import d3m_loss, eadm, eadm_masks, nnm_loss, nnm_mask, simam_attention


def spiked_map():
    """F: (2, 4, 5, 6) = 1 everywhere, +10 on joint 2 of sample 0 (all channels and frames)."""
    f = torch.ones(2, 4, 5, 6)
    f[0, :, :, 2] += 10.0
    return f


def test_simam_attention_matches_closed_form():
    f = spiked_map()
    att = simam_attention(f)
    mu = 1 + 10 * 5 / 30
    d_spike, d_rest = (11 - mu) ** 2, (1 - mu) ** 2
    var = (5 * d_spike + 25 * d_rest) / 29
    sig = lambda e: 1 / (1 + math.exp(-e))  # noqa: E731
    assert att[0, 0, 0, 2].item() == pytest.approx(sig(d_spike / (4 * (var + 1e-4)) + 0.5), rel=1e-5)
    assert att[0, 0, 0, 0].item() == pytest.approx(sig(d_rest / (4 * (var + 1e-4)) + 0.5), rel=1e-5)
    assert torch.allclose(att[1], torch.full_like(att[1], sig(0.5)))       # flat map: E⁻¹ = 0.5


def test_eadm_drops_exactly_the_rule():
    f = spiked_map()
    m_s, m_t = eadm_masks(f)
    expected_s = torch.ones(2, 6)
    expected_s[0, 2] = 0                      # the salient joint is dropped
    assert torch.equal(m_s, expected_s)
    expected_t = torch.ones_like(f)
    expected_t[0, :, :, 2] = 0                # element-wise: the same 20 entries
    assert torch.equal(m_t, expected_t)
    out = eadm(f)
    scale = (12 / 11) * (240 / 220)           # batch-global rescaling of both masks
    expected = torch.full_like(f, scale)
    expected[0, :, :, 2] = 0
    torch.testing.assert_close(out, expected)


def test_eadm_and_attention_equal_their_literal_formulas_bit_for_bit():
    """EADM folds the joint mask's scale into the mask and works in place, and the attention is
    computed in place without gradients: the same numbers as the literal expressions."""
    f = torch.randn(4, 8, 5, 25, generator=torch.Generator().manual_seed(0), requires_grad=True)
    t, v = f.shape[-2:]
    d = (f - f.mean(dim=(-2, -1), keepdim=True)).pow(2)
    att = torch.sigmoid(d / (4 * (d.sum(dim=(-2, -1), keepdim=True) / (t * v - 1) + 1e-4)) + 0.5)
    assert torch.equal(simam_attention(f.detach()), att.detach())
    assert torch.equal(simam_attention(f), att)
    m_s, m_t = eadm_masks(f)
    literal = f * m_s[:, None, None, :] * (m_s.numel() / m_s.sum()) * m_t * (m_t.numel() / m_t.sum())
    out = eadm(f)
    assert torch.equal(out, literal)
    g = torch.randn_like(out)
    assert torch.equal(torch.autograd.grad(out, f, g)[0], torch.autograd.grad(literal, f, g)[0])


def test_eadm_first_release_is_a_noop_and_gradients_flow():
    f = spiked_map().requires_grad_(True)
    torch.testing.assert_close(eadm(f, first_release_bug=True), f)
    eadm(f).sum().backward()
    assert f.grad[0, 0, 0, 2] == 0 and f.grad[1, 0, 0, 0] > 0


def test_eadm_on_gaussian_maps_drops_about_a_quarter():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(8, 64, 13, 25, generator=g)
    m_s, m_t = eadm_masks(f)
    assert m_s.all()                          # no joint dropped on i.i.d. noise (§6.2)
    assert 0.2 < 1 - m_t.mean().item() < 0.28


def random_logits(n=5, k=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 1 + k, generator=g) * 3 for _ in range(3)]


def test_d3m_equals_its_formula_and_detaches_the_teacher():
    ln, le, led = random_logits()
    ln.requires_grad_(True)
    le.requires_grad_(True)
    p_n = torch.softmax(ln.detach(), 1)
    ref = 0.5 * (-(p_n * torch.log(torch.softmax(le, 1))).sum(1).mean()
                 - (p_n * torch.log(torch.softmax(led, 1))).sum(1).mean())
    loss = d3m_loss(ln, le, led)
    torch.testing.assert_close(loss, ref)
    loss.backward()
    assert ln.grad is None and le.grad is not None
    # L_e = KL(p_n || p_e) + H(p_n): identical views give the entropy of p_n
    same = d3m_loss(ln.detach(), ln.detach(), ln.detach())
    torch.testing.assert_close(same, -(p_n * torch.log(p_n)).sum(1).mean())


def test_nnm_equals_its_formula():
    ln, le, led = random_logits(n=6, k=30, seed=1)
    mask = nnm_mask(ln, le, led, topk=2)
    assert mask.shape == ln.shape and torch.all(mask[:, 0] == 1)
    for b in range(ln.shape[0]):
        want = {0}
        for lg in (ln, le, led):
            want |= {int(j) + 1 for j in torch.argsort(lg[b, 1:], descending=True)[:2]}
        assert set(torch.nonzero(mask[b]).flatten().tolist()) == want
    logp = torch.log(torch.softmax(ln, 1))
    ref = torch.stack([-(logp[b][mask[b] > 0]).mean() for b in range(ln.shape[0])]).mean()
    torch.testing.assert_close(nnm_loss(ln, mask), ref)
    # with only the true key as positive NNM is the plain InfoNCE
    only_key = torch.zeros_like(ln)
    only_key[:, 0] = 1
    torch.testing.assert_close(nnm_loss(ln, only_key),
                               torch.nn.functional.cross_entropy(ln, torch.zeros(6, dtype=torch.long)))


# --------------------------------------------------------------------------------------------
# The methods
# --------------------------------------------------------------------------------------------

from skelcl_lib.methods import AimCLR, SkeletonCLR  # noqa: E402


def fixed_batch(n=8, t=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, t, 25, 2, generator=g) * 0.3
    x[..., 1] = 0                              # a single body, as in most clips
    return x


def loss_at(method, x, seed=0):
    """The loss for a fixed draw of augmentations and dropout and a fixed queue."""
    state = method.queue.queue.clone(), method.queue.ptr.clone()
    torch.manual_seed(seed)
    loss, logs = method.training_step((x, None))
    method.queue.queue.copy_(state[0])
    method.queue.ptr.copy_(state[1])
    return loss, logs


@pytest.mark.parametrize("cls", [AimCLR, SkeletonCLR])
def test_a_step_lowers_the_loss_on_a_fixed_batch(cls):
    torch.manual_seed(0)
    method = cls.build(queue_size=32, hidden_channels=4, hidden_dim=32, feature_dim=16).train()
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    x = fixed_batch(n=4, t=12)
    first = None
    for _ in range(3):
        loss, logs = loss_at(method, x)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert torch.isfinite(loss)
    with torch.no_grad():
        last, _ = loss_at(method, x)
    assert last.item() < first


def test_aimclr_step_wiring():
    torch.manual_seed(0)
    m = AimCLR.build(queue_size=16, hidden_channels=4, hidden_dim=32, feature_dim=16).train()
    assert not any(p.requires_grad for p in m.encoder_k.parameters())
    x = fixed_batch(t=12)
    before = m.queue.queue.clone()
    loss, logs = m.training_step((x, None))
    assert set(logs) >= {"loss", "loss_n", "loss_d3m"}
    torch.testing.assert_close(logs["loss"], logs["loss_n"] + logs["loss_d3m"])
    assert int(m.queue.ptr) == 8 and not torch.equal(m.queue.queue[:8], before[:8])
    torch.testing.assert_close(m.queue.queue[8:], before[8:])
    assert m.encoder_k.training                 # key encoder in train mode (official)
    loss.backward()
    assert m.encoder_q.backbone.blocks[9].tcn[2].weight.grad is not None
    m.on_epoch_start(150)
    assert not m.mining
    m.on_epoch_start(151)
    assert m.mining
    _, logs = m.training_step((x, None))
    assert logs["mining"] == 1.0


def test_named_options():
    torch.manual_seed(0)
    kw = dict(queue_size=16, hidden_channels=4, hidden_dim=32, feature_dim=16)
    indep = AimCLR.build(**kw)
    w_q, w_k = indep.encoder_q.backbone.blocks[0].gcn.conv.weight, indep.encoder_k.backbone.blocks[0].gcn.conv.weight
    assert not torch.equal(w_q, w_k)            # official: independent random init of θ_k
    copied = AimCLR.build(key_init_copy=True, key_encoder_train_mode=False, **kw).train()
    for pq, pk in zip(copied.encoder_q.parameters(), copied.encoder_k.parameters()):
        assert torch.equal(pq, pk)
    assert copied.encoder_q.training and not copied.encoder_k.training
    bug = AimCLR.build(eadm_first_release_bug=True, **kw).eval()
    z_e, z_ed = bug.extreme_embeddings(fixed_batch(4), 2)
    assert torch.equal(z_e, z_ed)


@pytest.mark.parametrize("stream", ["joint", "motion", "bone"])
def test_feature_extractor_applies_the_stream(stream):
    from skelcl_lib.augment import to_stream
    torch.manual_seed(0)
    m = AimCLR.build(stream=stream, queue_size=16, hidden_channels=4, hidden_dim=32, feature_dim=16)
    ext = m.feature_extractor().eval()
    x = fixed_batch(3)
    assert ext.out_dim == 32
    with torch.no_grad():
        torch.testing.assert_close(ext(x), m.encoder_q.backbone.eval()(to_stream(x, stream, "ntu25")))


def test_stream_transforms():
    from skelcl_lib.augment import to_bone, to_motion
    x = fixed_batch(2, t=5)
    mo = to_motion(x)
    torch.testing.assert_close(mo[:, :, 1], x[:, :, 2] - x[:, :, 1])
    assert torch.all(mo[:, :, -1] == 0)
    b = to_bone(x, "ntu25")
    torch.testing.assert_close(b[..., 5, :], x[..., 5, :] - x[..., 4, :])    # (6, 5) 1-based
    assert torch.all(b[..., 20, :] == 0)                                     # (21, 21)


def test_three_stream_ensemble_arithmetic():
    import numpy as np

    from skelcl_lib.evaluate.metrics import ensemble
    j, b, mo = np.eye(3), np.ones((3, 3)), np.arange(9.0).reshape(3, 3)
    fused = ensemble({"joint": j, "bone": b, "motion": mo})
    np.testing.assert_allclose(fused, 0.6 * j + 0.6 * b + 0.4 * mo)


def test_registered_builders_and_state_dict_round_trip():
    from skelcl_lib.methods import build_method
    cfg = {"method": "aimclr", "model": {"queue_size": 16, "hidden_channels": 4, "hidden_dim": 32,
                                        "feature_dim": 16, "stream": "bone"}}
    torch.manual_seed(0)
    a = build_method(cfg, {"layout": "kinect20", "channels": 3})
    assert isinstance(a, AimCLR) and a.layout.name == "kinect20" and a.stream == "bone"
    torch.manual_seed(1)
    b = build_method(cfg, {"layout": "kinect20", "channels": 3})
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 3, 12, 20, 1)
    with torch.no_grad():
        torch.testing.assert_close(a.feature_extractor().eval()(x), b.feature_extractor().eval()(x))
    assert {"queue.queue", "queue.ptr"} <= set(a.state_dict())
    s = build_method({"method": "skeletonclr", "model": {"queue_size": 16}}, {"layout": "ntu25"})
    assert type(s) is SkeletonCLR
    with pytest.raises(ValueError, match="model"):
        build_method({"method": "aimclr", "model": {"queue": 5}}, {"layout": "ntu25"})
