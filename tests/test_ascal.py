"""AS-CAL: the LSTM encoder (CAE), the method's step, warm-up epoch and feature extractor (docs/methods.md §4)."""

import copy

import pytest
import torch

from skelcl_lib.config import load_config
from skelcl_lib.methods import ASCAL
from skelcl_lib.methods.ascal import build_ascal
from skelcl_lib.models import LSTMEncoder
from skelcl_lib.models.lstm import frames_to_vectors


def _batch(n=8, t=20, v=25, m=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, t, v, m, generator=g) * 0.3
    x[:, :, t - 4:] = 0                          # zero padding after the valid length
    return x, torch.zeros(n, dtype=torch.long)


def _small(**kw):
    args = dict(input_size=150, hidden_size=16, K=24, selected_frames=16)
    args.update(kw)
    return ASCAL.build(**args)


def test_frame_vector_index_is_c_v_m():
    x = torch.zeros(1, 3, 2, 25, 2)
    c, v, m = 2, 7, 1
    x[0, c, 1, v, m] = 1.0
    vec = frames_to_vectors(x)
    assert vec.shape == (1, 2, 150)
    assert vec[0, 1].argmax().item() == c * 25 * 2 + v * 2 + m
    assert vec[0, 0].abs().sum() == 0


def test_lstm_encoder_cae_is_mean_of_hidden_states_including_padding():
    torch.manual_seed(0)
    enc = LSTMEncoder(150)
    assert enc.out_dim == 256 and enc.lstm.num_layers == 1 and not enc.lstm.bidirectional
    assert sum(p.numel() for p in enc.parameters()) == 417_792      # 4H(in + H) + 8H, METHODS §4.2
    x, _ = _batch(n=3)
    h = enc.hidden_states(x)
    assert h.shape == (3, 20, 256)
    torch.testing.assert_close(enc(x), h.mean(dim=1))
    assert enc(x).shape == (3, 256)
    torch.testing.assert_close(enc(frames_to_vectors(x)), enc(x))    # (N, T, F) input too
    with pytest.raises(ValueError, match="150"):
        enc(torch.zeros(2, 3, 10, 20, 1))


def test_lstm_pooling_options():
    torch.manual_seed(0)
    x, _ = _batch(n=2)
    last = LSTMEncoder(150, 8, pooling="last")
    summed = LSTMEncoder(150, 8, pooling="sum")
    summed.load_state_dict(last.state_dict())
    h = last.hidden_states(x)
    torch.testing.assert_close(last(x), h[:, -1])
    torch.testing.assert_close(summed(x), h.sum(1))
    with pytest.raises(ValueError, match="pooling"):
        LSTMEncoder(150, pooling="max")


def test_defaults_are_the_official_ones():
    m = ASCAL.build(input_size=150)
    assert (m.alpha, m.tau, m.queue.K, m.selected_frames) == (0.999, 0.06, 16384, 150)
    assert m.encoder_q.hidden_size == 256 and m.encoder_q.num_layers == 1
    assert not m.l2_normalize and not m.skip_warmup_epoch
    assert [type(t).__name__ for t in m.view_q] == ["Center", "TimeReverse", "Shear"]
    for a, b in zip(m.encoder_q.parameters(), m.encoder_k.parameters()):
        assert torch.equal(a, b) and not b.requires_grad          # exact copy at init
    m.train()
    assert not m.encoder_k.training                              # key encoder always in eval mode


def test_warmup_epoch_is_forward_only_and_fills_the_queue():
    torch.manual_seed(0)
    m = _small()
    before = copy.deepcopy(m.state_dict())
    m.on_epoch_start(1)
    loss, logs = m.training_step(_batch())
    assert loss is None and logs["loss"] > 0
    assert int(m.queue.ptr) == 8
    assert not torch.equal(m.queue.queue[:8], before["queue.queue"][:8])
    for k in before:
        if not k.startswith("queue."):
            assert torch.equal(m.state_dict()[k], before[k])
    m.on_epoch_start(2)
    loss, _ = m.training_step(_batch())
    assert loss is not None and loss.requires_grad
    skip = _small(skip_warmup_epoch=True)
    skip.on_epoch_start(1)
    assert skip.training_step(_batch())[0] is not None


def test_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    m = _small(skip_warmup_epoch=True)
    m.on_epoch_start(1)
    batch = _batch(n=16)
    queue0 = copy.deepcopy(m.queue.state_dict())

    def loss_with_initial_queue(model):
        probe = copy.deepcopy(model)
        probe.queue.load_state_dict(queue0)
        torch.manual_seed(123)                   # the same two views every time
        with torch.no_grad():
            return probe.training_step(batch)[0].item()

    start = loss_with_initial_queue(m)
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    for _ in range(15):
        m.queue.load_state_dict(queue0)          # fixed negatives: not this batch's own stale keys
        torch.manual_seed(123)
        loss, _ = m.training_step(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        m.after_optimizer_step()
    assert loss_with_initial_queue(m) < 0.8 * start


def test_after_optimizer_step_moves_the_key_encoder_slowly():
    torch.manual_seed(0)
    m = _small(alpha=0.9)
    with torch.no_grad():
        for p in m.encoder_q.parameters():
            p.add_(1.0)
    k0 = [p.clone() for p in m.encoder_k.parameters()]
    m.after_optimizer_step()
    for pk, pk0, pq in zip(m.encoder_k.parameters(), k0, m.encoder_q.parameters()):
        torch.testing.assert_close(pk, 0.9 * pk0 + 0.1 * pq)


def test_l2_normalize_option():
    torch.manual_seed(0)
    m = _small(l2_normalize=True, skip_warmup_epoch=True)
    m.on_epoch_start(1)
    _, logs = m.training_step(_batch())
    assert logs["q_norm"] == pytest.approx(1.0, abs=1e-5) and logs["k_norm"] == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(m.queue.queue[:8].norm(dim=1), torch.ones(8))


def test_feature_extractor_is_deterministic_crop_and_centre():
    torch.manual_seed(0)
    m = _small()
    f = m.feature_extractor().eval()
    x, _ = _batch(n=4, t=30)
    assert f.out_dim == 16
    out = f(x)
    assert out.shape == (4, 16) and torch.equal(out, f(x))
    xc = x[:, :, :16] - x[:, :, :16, 1:2]
    torch.testing.assert_close(out, m.encoder_q(xc))
    x_shifted = x + torch.tensor([1.0, -2.0, 0.5]).view(1, 3, 1, 1, 1)   # translation invariant
    torch.testing.assert_close(f(x_shifted), out, atol=1e-5, rtol=1e-5)


def test_asymmetric_strategies_and_builder():
    m = _small(augmentation="subtract_shear", key_augmentation="subtract_randomFlip_shear_gausNoise")
    assert len(m.view_q) == 2 and len(m.view_k) == 4
    info = {"channels": 3, "joints": 20, "bodies": 1, "num_train": 1000, "frames": 60}
    built = build_ascal({"model": {"hidden_size": 8, "selected_frames": 60}}, info)
    assert built.encoder_q.input_size == 60 and built.queue.K == 500        # K auto: N_train // 2
    fixed = build_ascal({"model": {"hidden_size": 8, "K": 64}}, info)
    assert fixed.queue.K == 64


def test_optional_head_is_trained_but_not_evaluated():
    torch.manual_seed(0)
    m = _small(head="mlp", head_dim=12, skip_warmup_epoch=True)
    assert m.queue.queue.shape == (24, 12)
    lin = m.head_q[0]
    assert lin.weight.std().item() == pytest.approx(0.01, rel=0.2) and lin.bias.abs().sum() == 0
    assert all(not p.requires_grad for p in m.head_k.parameters())
    assert torch.equal(m.head_k[0].weight, m.head_q[0].weight)          # exact copy at the start
    m.on_epoch_start(2)
    x, y = _batch()
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
    loss, _ = m.training_step((x, y))
    loss.backward()
    assert m.head_q[0].weight.grad is not None
    opt.step()
    before = m.head_k[0].weight.clone()
    m.after_optimizer_step()
    want = 0.999 * before + 0.001 * m.head_q[0].weight
    assert torch.allclose(m.head_k[0].weight, want, atol=1e-7)
    assert m.feature_extractor()(x).shape == (8, 16)                   # the CAE, not the head
    with pytest.raises(ValueError, match="head"):
        _small(head="deep")
    assert _small(head="linear").head_q[0].out_features == 512


def test_streams_option_feeds_joint_and_motion_to_the_lstm_in_training_and_evaluation():
    from skelcl_lib.augment import to_motion
    from skelcl_lib.methods.ascal import StreamInput

    x, y = _batch(n=4, t=30)
    assert StreamInput()(x) is x                                        # the paper's input
    jm = StreamInput(("joint", "motion"), motion_scale=10.0)(x)
    assert jm.shape == (4, 6, 30, 25, 2)
    torch.testing.assert_close(jm[:, :3], x)
    torch.testing.assert_close(jm[:, 3:], 10.0 * to_motion(x))
    for bad in (("joint", "joint"), ("speed",), ()):
        with pytest.raises(ValueError, match="streams"):
            StreamInput(bad)
    torch.manual_seed(0)
    m = _small(streams=("joint", "motion"), skip_warmup_epoch=True)
    assert m.encoder_q.input_size == 300                                # two streams of 150
    m.on_epoch_start(1)
    loss, _ = m.training_step((x, y))
    loss.backward()
    assert m.encoder_q.lstm.weight_ih_l0.grad[:, 150:].abs().sum() > 0   # motion inputs are used
    f = m.feature_extractor().eval()
    xc = x[:, :, :16] - x[:, :, :16, 1:2]
    want = m.encoder_q(torch.cat([xc, 10.0 * to_motion(xc)], dim=1))
    torch.testing.assert_close(f(x), want)
    info = {"channels": 3, "joints": 20, "bodies": 1, "num_train": 100, "frames": 50, "layout": "kinect20"}
    built = build_ascal({"model": {"hidden_size": 8, "streams": ["joint", "bone"]}}, info)
    assert built.encoder_q.input_size == 120 and built.streams.layout == "kinect20"


def test_ascal_cpu_recipe_keeps_time_direction_and_handedness_on_every_layout():
    cfg = load_config("ascal_cpu")
    official = load_config("ascal_synthetic")
    assert {k: v for k, v in cfg["model"].items() if k != "augmentation"} == \
        {k: v for k, v in official["model"].items() if k != "augmentation"}
    for info in ({"channels": 3, "joints": 25, "bodies": 2, "num_train": 1800, "layout": "ntu25"},
                 {"channels": 3, "joints": 20, "bodies": 1, "num_train": 430, "layout": "kinect20"}):
        m = build_ascal(cfg, info)
        assert m.queue.K == info["num_train"] // 2
        for view in (m.view_q, m.view_k):
            assert [type(t).__name__ for t in view] == ["Center", "ProperShear"]
            assert view[1].amplitude == 1.0


def test_twin_positives_add_the_queued_keys_of_named_clips_as_positives():
    from skelcl_lib.methods.moco import moco_logits
    torch.manual_seed(0)
    plain, twins = _small(skip_warmup_epoch=True), _small(skip_warmup_epoch=True, twin_positives=True)
    twins.load_state_dict(plain.state_dict(), strict=False)          # same weights and keys
    x, y = _batch(n=4)
    twins.on_epoch_start(1), plain.on_epoch_start(1)
    with pytest.raises(ValueError, match="twin_positives needs batches"):
        twins.training_step((x, y))
    # no queued key has any of the batch's ids yet: exactly the official loss
    ids = torch.tensor([[0, 1], [1, 0], [2, 3], [3, 2]])
    torch.manual_seed(5)
    loss_plain, _ = plain.training_step((x, y))
    torch.manual_seed(5)
    loss_twins, _ = twins.training_step((x, y, ids))
    assert torch.allclose(loss_plain, loss_twins)
    assert twins.queue.ids[:4].tolist() == [0, 1, 2, 3]             # column 0 stored
    # now clip 1's key is queued: it is a positive of clip 0 (its listed neighbour) and of clip 1
    queue = twins.queue.snapshot()
    torch.manual_seed(6)
    x_q = twins.streams(twins.view_q(x[:, :, :twins.selected_frames]))
    x_k = twins.streams(twins.view_k(x[:, :, :twins.selected_frames]))
    q, k = twins.encoder_q(x_q), twins.encoder_k(x_k)
    logits = moco_logits(q, k, queue, twins.tau)
    logp = torch.log_softmax(logits, dim=1)
    rows = torch.tensor([0, 1, 2, 3])
    same = twins.queue.same_id_mask(ids)
    assert same[0, rows].tolist() == [True, True, False, False]
    expected = -torch.stack([(logp[i, 0] + logp[i, 1:][same[i]].sum()) / (1 + same[i].sum())
                             for i in range(4)]).mean()
    torch.manual_seed(6)
    loss, _ = twins.training_step((x, y, ids))
    assert torch.allclose(loss, expected, atol=1e-5)
    cfg = load_config("ascal_tiny", ["model.twin_positives=true", "data.instance_ids=raw_neighbours"])
    assert cfg["model"]["twin_positives"] is True
