"""The ST-GCN MoCo options that are not in the official code (docs/methods.md §9): the own-id mask
(same sample or same recording) and twin positives in the queue, shuffle-BN emulated by BN groups,
no input BatchNorm, a BatchNorm in the projection head, the reversed key as a negative, the queue sized from the dataset, the lr warm-up and the per-epoch probe. Each
is off by default, and off it leaves the official step unchanged."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelcl_lib import augment
from skelcl_lib.config import DEFAULTS, check_config, load_config, merge
from skelcl_lib.data.build import instance_ids
from skelcl_lib.errors import ConfigError
from skelcl_lib.methods import AimCLR, SkeletonCLR, build_method
from skelcl_lib.methods.aimclr import eadm, nnm_mask
from skelcl_lib.methods.moco import KeyQueue, info_nce_from_logits
from skelcl_lib.methods.skeletonclr import MASKED_LOGIT, auto_queue_size
from skelcl_lib.optim import lr_at_step
from skelcl_lib.pretrain import pretrain, resume_changes
from skelcl_lib.rundir import load_state, read_checkpoint, read_log, write_config

KW = dict(hidden_channels=4, hidden_dim=32, feature_dim=16)
# The tiny run of the options: every option on at once (recording ids on the embedded data).
OPTIONS = ["model.mask_same_instance=true", "data.instance_ids=recording", "model.bn_groups=2",
           "model.queue_size=auto", "model.queue_fraction=0.5", "train.warmup_epochs=1",
           "probe.knn_k=[1]"]


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def batch(n=8, t=20, seed=0, ids=None):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, t, 25, 2, generator=g) * 0.3
    x[..., 1] = 0
    return x, torch.zeros(n, dtype=torch.long), torch.arange(n) if ids is None else ids


# --------------------------------------------------------------------------- the queue's ids


def test_queue_tracks_ids_through_the_ring_and_compares_them():
    q = KeyQueue(5, 2, init="normal", track_ids=True)
    assert torch.equal(q.ids, torch.full((5,), -1))
    q.enqueue(torch.ones(3, 2), ids=torch.tensor([7, 8, 9]))
    q.enqueue(torch.ones(3, 2), ids=torch.tensor([1, 2, 3]))       # wraps: rows 3, 4, 0
    assert q.ids.tolist() == [3, 8, 9, 1, 2]
    assert q.same_id_mask(torch.tensor([9, 3, 5])).tolist() == [[False, False, True, False, False],
                                                                [True, False, False, False, False],
                                                                [False] * 5]
    assert set(q.state_dict()) == {"queue", "ptr", "ids"}
    assert set(KeyQueue(5, 2).state_dict()) == {"queue", "ptr"}     # the official queue
    with pytest.raises(ValueError, match="track_ids"):
        KeyQueue(5, 2).same_id_mask(torch.tensor([1]))
    with pytest.raises(ValueError, match="tracks ids"):
        q.enqueue(torch.ones(2, 2))


def test_instance_ids_are_sample_positions_recordings_or_the_labels():
    class D:
        names = ["S001C001P001R001A001", "S001C002P001R001A001", "S001C001P002R001A001"]
        y = np.array([4, 2, 4])
    assert instance_ids(D()).tolist() == [0, 1, 2]
    assert instance_ids(D(), "recording").tolist() == [0, 0, 1]
    assert instance_ids(D(), "label").tolist() == [4, 2, 4]        # the diagnostic reads the labels
    with pytest.raises(ValueError, match="data.instance_ids"):
        instance_ids(D(), "clip")


# --------------------------------------------------------------------------- defaults = official


@pytest.mark.parametrize("cls", [SkeletonCLR, AimCLR])
def test_without_the_options_a_step_is_the_official_one(cls):
    extra = {"mining_epoch": 0} if cls is AimCLR else {}
    torch.manual_seed(0)
    a = cls.build(queue_size=16, **KW, **extra).train()
    torch.manual_seed(0)
    b = cls.build(queue_size=16, mask_same_instance=False, twin_positives=False, bn_groups=1,
                  **KW, **extra).train()
    assert a.state_dict().keys() == b.state_dict().keys() and "queue.ids" not in a.state_dict()
    x = batch()
    for m in (a, b):
        m.on_epoch_start(1)
    for seed in (1, 2):                            # the second step sees a queue with keys
        torch.manual_seed(seed)
        la, _ = a.training_step(x[:2])             # the official batch (x, y)
        torch.manual_seed(seed)
        lb, _ = b.training_step(x)                 # (x, y, ids): ids are not read
        assert la.item() == lb.item()


# --------------------------------------------------------------------------- mask_same_instance


def test_the_own_id_mask_removes_those_keys_from_the_softmax():
    torch.manual_seed(0)
    m = SkeletonCLR.build(queue_size=16, mask_same_instance=True, **KW).train()
    m.training_step(batch(8, ids=torch.arange(8)))                   # queue rows 0..7 = ids 0..7
    assert m.queue.ids[:8].tolist() == list(range(8))
    q, k = F.normalize(torch.randn(2, 16), dim=1), F.normalize(torch.randn(2, 16), dim=1)
    same = m.same_id(batch(2, ids=torch.tensor([3, 100])))
    plain = m.logits(q, k, m.queue.snapshot())
    masked = m.logits(q, k, m.queue.snapshot(), same)
    assert masked[0, 1 + 3].item() == MASKED_LOGIT
    keep = torch.ones_like(plain, dtype=torch.bool)
    keep[0, 1 + 3] = False
    torch.testing.assert_close(masked[keep], plain[keep])
    # the masked key is out of the softmax: row 0's loss is InfoNCE without that column
    row0 = info_nce_from_logits(plain[:1, keep[0]])
    torch.testing.assert_close(info_nce_from_logits(masked[:1]), row0)
    with pytest.raises(ValueError, match="ids"):
        m.training_step(batch()[:2])                                 # no ids in the batch


def test_aimclr_masks_all_three_logit_sets_and_stays_finite():
    torch.manual_seed(0)
    a = AimCLR.build(queue_size=16, mask_same_instance=True, mining_epoch=0, **KW).train()
    a.on_epoch_start(1)
    a.training_step(batch(8, ids=torch.arange(8)))
    seen = []
    real = a.logits
    a.logits = lambda u, k, queue, same=None: seen.append(real(u, k, queue, same)) or seen[-1]
    loss, logs = a.training_step(batch(8, seed=1, ids=torch.arange(8)))
    assert len(seen) == 3 and all((lg[:, 1:9].diagonal() == MASKED_LOGIT).all() for lg in seen)
    assert torch.isfinite(loss) and logs["mining"] == 1.0


# --------------------------------------------------------------------------- twin_positives


def test_twin_positives_is_infonce_without_twins_in_the_queue():
    torch.manual_seed(0)
    a = SkeletonCLR.build(queue_size=16, **KW).train()
    torch.manual_seed(0)
    b = SkeletonCLR.build(queue_size=16, twin_positives=True, **KW).train()
    for seed, ids in ((1, torch.arange(8)), (2, torch.arange(8, 16))):   # ids never seen again
        torch.manual_seed(seed)
        la, _ = a.training_step(batch(seed=seed, ids=ids))
        torch.manual_seed(seed)
        lb, _ = b.training_step(batch(seed=seed, ids=ids))
        torch.testing.assert_close(la, lb)


def test_twin_positives_by_hand():
    """ℓ = [2, 1, 0, 1] for one query, queue ids [5, 7, 5], query id 5: positives are columns 0,
    1 and 3, L = −(log p₀ + log p₁ + log p₃) / 3, p = softmax(ℓ)."""
    m = SkeletonCLR.build(queue_size=3, twin_positives=True, **KW)
    m.queue.ids.copy_(torch.tensor([5, 7, 5]))
    same = m.same_id(batch(1, ids=torch.tensor([5])))
    positives = m.twin_mask(same)
    assert positives.tolist() == [[1.0, 1.0, 0.0, 1.0]]
    logits = torch.tensor([[2.0, 1.0, 0.0, 1.0]])
    z = sum(math.exp(v) for v in (2.0, 1.0, 0.0, 1.0))
    expected = -(math.log(math.exp(2) / z) + 2 * math.log(math.exp(1) / z)) / 3
    assert m.instance_loss(logits, positives).item() == pytest.approx(expected, rel=1e-6)
    assert m.instance_loss(logits).item() == pytest.approx(-math.log(math.exp(2) / z), rel=1e-6)


def test_aimclr_twin_positives_join_the_mined_neighbours():
    torch.manual_seed(0)
    a = AimCLR.build(queue_size=16, twin_positives=True, mining_epoch=1, **KW).train()
    a.on_epoch_start(1)
    a.training_step(batch(8, ids=torch.arange(8)))                   # rows 0..7 = ids 0..7
    logits, positives = [], []
    real_logits, real_loss = a.logits, a.instance_loss
    a.logits = lambda u, k, queue, same=None: logits.append(real_logits(u, k, queue, same)) or logits[-1]
    a.instance_loss = lambda l_n, p=None: positives.append(p) or real_loss(l_n, p)
    for epoch in (1, 2):                                             # without, then with mining
        a.on_epoch_start(epoch)
        twins = a.twin_mask(a.queue.same_id_mask(torch.arange(8)))
        assert twins[:, 1:].sum(1).ge(1).all()                      # every query has a twin queued
        a.training_step(batch(8, seed=epoch, ids=torch.arange(8)))
        expected = torch.maximum(nnm_mask(*logits[-3:], topk=1), twins) if epoch == 2 else twins
        assert torch.equal(positives[-1], expected)
    assert not torch.equal(positives[-1], twins)                     # mining added neighbours


# --------------------------------------------------------------------------- bn_groups


def test_bn_groups_normalise_each_group_and_restore_the_key_order():
    torch.manual_seed(0)
    m = SkeletonCLR.build(queue_size=16, bn_groups=2, dropout=0.0, **KW).train()
    x = batch(8)[0]
    enc = m.encoder_q
    grouped = m.encode(enc, x)
    torch.testing.assert_close(grouped, torch.cat([enc(x[:4]), enc(x[4:])]))
    assert not torch.allclose(grouped, enc(x))        # batch statistics differ per group
    state = torch.random.get_rng_state()
    shuffled = m.encode(enc, x, shuffle=True)
    torch.random.set_rng_state(state)
    perm = torch.randperm(8)
    assert not torch.equal(perm, torch.arange(8))
    expected = torch.cat([enc(x[perm][:4]), enc(x[perm][4:])])[torch.argsort(perm)]
    torch.testing.assert_close(shuffled, expected)
    enc.eval()
    torch.testing.assert_close(m.encode(enc, x, shuffle=True), enc(x))   # eval: one batch, no draw
    with pytest.raises(ValueError, match="bn_groups"):
        SkeletonCLR.build(queue_size=16, bn_groups=0, **KW)


# --------------------------------------------------------------------------- input_bn


@pytest.mark.parametrize("cls", [SkeletonCLR, AimCLR])
def test_input_bn_off_feeds_the_coordinates_as_they_are(cls):
    """input_bn=False: the first graph convolution sees the raw joints; the rest is the same network."""
    torch.manual_seed(0)
    official = cls.build(queue_size=16, **KW)
    torch.manual_seed(0)
    plain = cls.build(queue_size=16, input_bn=False, **KW)
    assert isinstance(official.encoder_q.backbone.data_bn, torch.nn.BatchNorm1d)
    for enc in (plain.encoder_q, plain.encoder_k):
        assert isinstance(enc.backbone.data_bn, torch.nn.Identity)
    assert not any("data_bn" in k for k in plain.state_dict())
    same = {k: v for k, v in official.state_dict().items() if "data_bn" not in k}
    plain.load_state_dict(same)                                   # every other tensor matches
    x = batch(4)[0]
    official.train(), plain.train()
    data_bn = official.encoder_q.backbone.data_bn.eval()          # made the identity (up to its ε)
    with torch.no_grad():
        data_bn.weight.fill_(1.0), data_bn.bias.zero_()
    torch.manual_seed(1)
    expected = official.encoder_q.backbone(x)
    torch.manual_seed(1)
    torch.testing.assert_close(plain.encoder_q.backbone(x), expected, rtol=1e-4, atol=1e-5)
    torch.manual_seed(1)
    official.encoder_q.backbone.data_bn.train()                   # batch statistics: not the same
    assert not torch.allclose(official.encoder_q.backbone(x), expected)


def tiny_run(tmp_path, config: str, option: str):
    """One epoch of a tiny config with ``option`` set -> (method, checkpoint) reloaded from disk."""
    cfg = load_config(config, [option, "model.queue_size=16", "train.epochs=1"])
    cfg["run_dir"] = str(tmp_path / "run")
    pretrain(cfg)
    return read_checkpoint(tmp_path / "run" / "checkpoint_last.pt")


def test_input_bn_off_trains_saves_and_reloads(tmp_path):
    method, ckpt = tiny_run(tmp_path, "skeletonclr_tiny", "model.input_bn=false")
    assert ckpt["config"]["model"]["input_bn"] is False
    assert isinstance(method.encoder_q.backbone.data_bn, torch.nn.Identity)
    problems = check_config(merge(DEFAULTS, {"method": "skeletonclr", "model": {"input_bn": "no"}}))
    assert [p.key for p in problems] == ["model.input_bn"]


# --------------------------------------------------------------------------- head_bn


def test_head_bn_puts_a_batchnorm_in_the_hidden_layer_only_when_asked():
    official = SkeletonCLR.build(queue_size=16, **KW)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in official.encoder_q.head.modules())
    torch.manual_seed(0)
    m = SkeletonCLR.build(queue_size=16, head_bn=True, **KW)
    for enc in (m.encoder_q, m.encoder_k):
        kinds = [type(layer) for layer in enc.head]
        assert kinds == [torch.nn.Linear, torch.nn.BatchNorm1d, torch.nn.ReLU, torch.nn.Linear]
    n_official = sum(p.numel() for p in official.encoder_q.head.parameters())
    assert sum(p.numel() for p in m.encoder_q.head.parameters()) == n_official + 2 * KW["hidden_dim"]
    # in training the hidden units are standardised over the batch: a shift of the backbone's
    # output common to the whole batch does not reach the embedding
    head = m.encoder_q.head.train()
    h = torch.randn(8, KW["hidden_dim"])
    w = head[0].weight.detach()
    shift = torch.linalg.lstsq(w, torch.ones(KW["hidden_dim"], 1)).solution.T   # w @ shift = 1
    torch.testing.assert_close(head(h + 5 * shift), head(h), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="mlp=True"):
        SkeletonCLR.build(queue_size=16, head_bn=True, mlp=False, **KW)
    problems = check_config(merge(DEFAULTS, {"method": "aimclr", "model": {"head_bn": 1}}))
    assert [p.key for p in problems] == ["model.head_bn"]


@pytest.mark.parametrize("head_bn", [False, True])
def test_aimclr_extreme_embeddings_get_their_own_head_statistics(head_bn):
    """Without BN in the head, one head call on [h_e; h_ed] is exact; with it, z_e and z_ed each go
    through the head alone (statistics of their own batch), as two calls of the query encoder would."""
    torch.manual_seed(0)
    m = AimCLR.build(queue_size=16, head_bn=head_bn, dropout=0.0, **KW).train()
    x = batch(4)[0]
    torch.manual_seed(3)
    z_e, z_ed = m.extreme_embeddings(x, x.shape[-1])
    backbone, head = m.encoder_q.backbone, m.encoder_q.head
    fmap = backbone.forward_map(x)
    torch.manual_seed(3)                                             # EADM's draw, as above
    dropped = eadm(fmap, m.keep_prob)
    torch.testing.assert_close(z_e, F.normalize(head(backbone.pool(fmap, 2)), dim=1), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(z_ed, F.normalize(head(backbone.pool(dropped, 2)), dim=1), rtol=1e-4, atol=1e-5)


def test_head_bn_trains_saves_and_reloads(tmp_path):
    method, ckpt = tiny_run(tmp_path, "aimclr_tiny", "model.head_bn=true")
    assert ckpt["config"]["model"]["head_bn"] is True
    bn = method.encoder_q.head[1]
    assert isinstance(bn, torch.nn.BatchNorm1d) and int(bn.num_batches_tracked) > 0


# --------------------------------------------------------------------------- reversed_negatives


def test_reverse_valid_frames_keeps_the_padding_at_the_end():
    x = torch.randn(3, 3, 10, 25, 2)
    x[0, :, 6:] = 0                                                   # 6 valid frames, 4 padded
    x[1, :, 9:] = 0
    x[2, :, 4] = 0                                                    # a gap is not the end
    before = x.clone()
    r = augment.reverse_valid_frames(x)
    assert torch.equal(x, before)                                     # input untouched
    assert torch.equal(r[0, :, :6], x[0, :, :6].flip(1)) and torch.equal(r[0, :, 6:], x[0, :, 6:])
    assert torch.equal(r[1, :, :9], x[1, :, :9].flip(1)) and not r[1, :, 9:].any()
    assert torch.equal(r[2], x[2].flip(1))                            # full length: plain reversal
    assert torch.equal(augment.reverse_valid_frames(r), x)            # twice: the identity
    with pytest.raises(ValueError, match="reverse_valid_frames"):
        augment.reverse_valid_frames(torch.zeros(3, 10, 25))


def _capture_instance_logits(m, monkeypatch):
    seen = []
    original = m.instance_loss

    def spy(l_n, positives=None):
        seen.append((l_n.detach().clone(), None if positives is None else positives.clone()))
        return original(l_n, positives)
    monkeypatch.setattr(m, "instance_loss", spy)
    return seen


@pytest.mark.parametrize("cls", [SkeletonCLR, AimCLR])
def test_reversed_key_is_one_more_negative_column(cls, monkeypatch):
    """A clip that does not change over time is its own reversal: its reversed key equals its
    key, so the extra last column of ℓ(q) equals the positive's logit; nothing more is enqueued
    and the momentum update runs once."""
    torch.manual_seed(0)
    m = cls.build(queue_size=16, reversed_negatives=True, dropout=0.0, **KW).train()
    m.on_epoch_start(1)
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(4, 3, 1, 25, 2, generator=g) * 0.3).expand(4, 3, 20, 25, 2).contiguous()
    x[..., 1] = 0
    seen = _capture_instance_logits(m, monkeypatch)
    theta_q = [p.detach().clone() for p in m.encoder_q.parameters()]
    theta_k = [p.detach().clone() for p in m.encoder_k.parameters()]
    ptr = int(m.queue.ptr)
    loss, logs = m.training_step((x, torch.zeros(4, dtype=torch.long)))
    (l_n, positives), = seen
    assert l_n.shape == (4, 1 + 16 + 1) and positives is None
    torch.testing.assert_close(l_n[:, -1], l_n[:, 0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(logs["sim_reversed"] / m.T, l_n[:, 0].mean(), rtol=1e-4, atol=1e-4)
    assert int(m.queue.ptr) == (ptr + 4) % 16                         # the reversed keys stay out
    for pk, tk, tq in zip(m.encoder_k.parameters(), theta_k, theta_q):
        torch.testing.assert_close(pk.detach(), m.m * tk + (1 - m.m) * tq)


def test_reversed_negatives_pad_the_twin_positive_mask_and_leave_the_default_step_alone(monkeypatch):
    torch.manual_seed(0)
    m = SkeletonCLR.build(queue_size=16, reversed_negatives=True, twin_positives=True, **KW).train()
    seen = _capture_instance_logits(m, monkeypatch)
    x, y, ids = batch(8)
    m.training_step((x, y, ids))
    m.training_step((x, y, ids))                                      # now the queue holds own-id keys
    l_n, positives = seen[-1]
    assert l_n.shape == positives.shape == (8, 1 + 16 + 1)
    assert positives[:, 0].all() and not positives[:, -1].any() and positives[:, 1:-1].any()
    # off (the default): two views, the key, ℓ(q) of width 1 + K, as before the option existed
    torch.manual_seed(0)
    plain = SkeletonCLR.build(queue_size=16, **KW).train()
    assert plain.query_and_key_views(x)[2] is None
    seen = _capture_instance_logits(plain, monkeypatch)
    _, logs = plain.training_step((x, y, ids))
    assert seen[-1][0].shape == (8, 1 + 16) and "sim_reversed" not in logs
    problems = check_config(merge(DEFAULTS, {"method": "skeletonclr", "model": {"reversed_negatives": "yes"}}))
    assert [p.key for p in problems] == ["model.reversed_negatives"]


def test_reversed_negatives_train_log_and_reload(tmp_path):
    method, ckpt = tiny_run(tmp_path, "skeletonclr_tiny", "model.reversed_negatives=true")
    assert ckpt["config"]["model"]["reversed_negatives"] is True and method.reversed_negatives
    (row,) = read_log(tmp_path / "run")
    assert -1.0 <= row["sim_reversed"] <= 1.0


def test_reversed_view_is_the_key_view_played_backwards_in_joint_coordinates():
    torch.manual_seed(0)
    m = SkeletonCLR.build(queue_size=16, reversed_negatives=True, stream="motion", **KW)
    x = batch(4)[0]
    torch.manual_seed(2)
    x_q, x_k, x_r = m.query_and_key_views(x)
    torch.manual_seed(2)
    raw_q, raw_k = m.augment_normal(x), m.augment_normal(x)
    torch.testing.assert_close(x_k, augment.to_stream(raw_k, "motion", m.layout))
    torch.testing.assert_close(x_r, augment.to_stream(augment.reverse_valid_frames(raw_k), "motion", m.layout))
    assert not torch.allclose(x_r, x_k.flip(2))                       # motion: not the reversed motion array


# --------------------------------------------------------------------------- queue_size: auto


def test_auto_queue_size_is_a_fraction_of_the_train_split_in_whole_batches():
    assert auto_queue_size(1800, 32, 0.5) == 896                     # 28.1 batches -> 28
    assert auto_queue_size(1800, 32, 0.25) == 448
    assert auto_queue_size(100, 32, 0.01) == 32                      # at least one batch
    with pytest.raises(ValueError, match="queue_fraction"):
        auto_queue_size(100, 32, 0.0)
    cfg = merge(DEFAULTS, {"method": "skeletonclr", "model": {"queue_size": "auto", "queue_fraction": 0.25,
                                                              **KW}})
    info = {"num_train": 1800, "channels": 3, "layout": "ntu25"}
    assert build_method(cfg, info).queue.K == 448
    del cfg["model"]["queue_fraction"]
    assert build_method(cfg, info).queue.K == 896                    # default fraction 0.5


def test_schema_accepts_auto_and_keeps_the_rules_between_keys():
    def problems(model, **train):
        cfg = merge(DEFAULTS, {"method": "aimclr", "model": model, "train": train})
        return [(p.key, p.expected) for p in check_config(cfg)]
    assert problems({"queue_size": "auto", "queue_fraction": 1.0}) == []
    assert problems({"queue_size": 16}, batch_size=32)[0][0] == "model.queue_size"   # queue < batch
    assert problems({"queue_size": 64, "queue_fraction": 0.5})[0][0] == "model.queue_fraction"
    assert problems({"queue_size": "auto", "queue_fraction": 0})[0][0] == "model.queue_fraction"
    assert problems({"queue_size": "big"})[0][0] == "model.queue_size"
    assert problems({"mask_same_instance": True, "twin_positives": True})[0][0] == "model.twin_positives"
    assert problems({"bn_groups": 0})[0][0] == "model.bn_groups"
    with pytest.raises(ConfigError, match="data.instance_ids"):
        load_config("skeletonclr_tiny", ["data.instance_ids=clip"])
    with pytest.raises(ConfigError, match="train.warmup_epochs"):
        load_config("skeletonclr_tiny", ["train.warmup_epochs=-1"])


# --------------------------------------------------------------------------- warm-up


def test_warmup_is_linear_per_step_then_the_schedule():
    tc = dict(DEFAULTS["train"], lr=0.1, lr_milestones=[2], lr_gamma=0.1, warmup_epochs=1.5)
    lrs = [lr_at_step(e, s, 4, tc) for e in (1, 2, 3) for s in range(4)]   # W = 6 steps
    assert lrs == pytest.approx([0.1 / 6, 0.2 / 6, 0.3 / 6, 0.4 / 6, 0.5 / 6, 0.1, 0.1, 0.1,
                                 0.01, 0.01, 0.01, 0.01])
    tc["warmup_epochs"] = 0
    assert [lr_at_step(e, s, 4, tc) for e in (1, 3) for s in range(4)] == [0.1] * 4 + [0.1 * 0.1] * 4


def test_fit_steps_with_the_warmup_lr(tmp_path, monkeypatch):
    seen = []
    real = torch.optim.SGD.step
    monkeypatch.setattr(torch.optim.SGD, "step", lambda self, *a, **k: (
        seen.append(self.param_groups[0]["lr"]), real(self, *a, **k))[1])
    cfg = load_config("skeletonclr_tiny", ["train.warmup_epochs=1", "probe.enabled=false",
                                           "model.hidden_channels=4"])
    pretrain(cfg, tmp_path)
    assert seen == pytest.approx([0.1 / 4, 0.2 / 4, 0.3 / 4, 0.1] + [0.1] * 4)   # 4 steps per epoch


# --------------------------------------------------------------------------- a run with the options


def test_a_run_with_every_option_probes_each_epoch_and_resumes_exactly(tmp_path):
    """Tiny data: the options run, probe.every writes the probe into the log rows, the queue's
    ids travel with the checkpoint, and a run resumed after epoch 1 ends bit for bit where the
    straight run ends."""
    cfg = load_config("skeletonclr_tiny", OPTIONS + ["probe.every=1"])
    pretrain(cfg, tmp_path / "straight")
    rows = read_log(tmp_path / "straight")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(math.isfinite(r["loss"]) and "probe_linear" in r and "probe_knn1" in r for r in rows)
    straight = load_state(tmp_path / "straight" / "checkpoint_last.pt")["method"]
    assert straight["queue.queue"].shape[0] == 16                   # auto: half of 32 clips
    assert (straight["queue.ids"] >= 0).all()                       # ids written, saved

    cfg1 = load_config("skeletonclr_tiny", OPTIONS + ["probe.every=2", "train.epochs=1"])
    pretrain(cfg1, tmp_path / "resumed")
    assert "probe_linear" not in read_log(tmp_path / "resumed")[0]  # every 2nd epoch only
    cfg2 = load_config("skeletonclr_tiny", OPTIONS + ["probe.every=2"])
    pretrain(cfg2, tmp_path / "resumed", resume=True)
    rows = read_log(tmp_path / "resumed")
    assert [r["epoch"] for r in rows] == [1, 2] and "probe_linear" in rows[1]
    resumed = load_state(tmp_path / "resumed" / "checkpoint_last.pt")["method"]
    for k, v in straight.items():
        assert torch.equal(resumed[k], v), k


def test_a_run_saved_before_the_options_existed_resumes_without_a_change(tmp_path):
    cfg = load_config("skeletonclr_tiny")
    old = merge(cfg, {})
    del old["data"]["instance_ids"], old["train"]["warmup_epochs"], old["probe"]["every"]
    write_config(tmp_path, old)
    assert resume_changes(tmp_path, cfg) == []


def test_contrastive_view_defaults_are_the_normal_view_and_options_change_it():
    from skelcl_lib import augment as A
    x = torch.randn(4, 3, 50, 25, 2, generator=torch.Generator().manual_seed(0))
    default = A.contrastive_view()(x, generator=torch.Generator().manual_seed(1))
    official = A.aimclr_normal()(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(default, official)
    view = A.contrastive_view(resized_crop_scale=(0.5, 1.0), view_ops="2345")
    assert [type(t).__name__ for t in view.transforms] == ["ResizedTemporalCrop", "Shear", "Rotate",
                                                          "GaussianNoise", "GaussianBlur", "AxisMask"]
    assert view(x, generator=torch.Generator().manual_seed(1)).shape == x.shape
    with pytest.raises(ValueError, match=r"view_ops: aug_method '27' has unknown ops \['7'\]"):
        A.contrastive_view(view_ops="27")
    method = build_method(load_config("skeletonclr_tiny", ["model.view_ops=3", "model.resized_crop_scale=[0.5,1.0]"]),
                          {"channels": 3, "frames": 50, "joints": 25, "bodies": 2, "num_train": 64,
                           "num_classes": 15, "layout": "ntu25"})
    assert [type(t).__name__ for t in method.augment_normal.transforms] == ["ResizedTemporalCrop", "Shear",
                                                                           "GaussianNoise"]


def test_motion_scale_scales_movement_about_the_mean_pose():
    from skelcl_lib import augment as A
    x = torch.randn(3, 3, 50, 25, 2, generator=torch.Generator().manual_seed(0))
    x[..., 1] = 0                                                      # an absent second body
    y, params = A.MotionScale((0.5, 2.0))(x, generator=torch.Generator().manual_seed(1), return_params=True)
    m = x.mean(dim=2, keepdim=True)
    a = params["scale"].view(-1, 1, 1, 1, 1)
    assert torch.allclose(y, m + a * (x - m))
    assert ((params["scale"] >= 0.5) & (params["scale"] <= 2.0)).all()
    assert torch.allclose(y.mean(dim=2), x.mean(dim=2), atol=1e-6)     # the mean posture is kept
    assert y[..., 1].abs().max() == 0
    with pytest.raises(ValueError, match="MotionScale: scale must satisfy 0 < low <= high"):
        A.MotionScale((0.0, 1.0))
    view = A.contrastive_view(motion_scale=(0.6, 1.4))
    assert [type(t).__name__ for t in view.transforms] == ["MotionScale", "TemporalCrop", "Shear"]
    with pytest.raises(ConfigError, match="model.motion_scale"):
        load_config("skeletonclr_tiny", ["model.motion_scale=[1.2,0.8]"])


def test_raw_cluster_ids_group_clips_by_their_coordinates_without_labels():
    from dataclasses import replace

    from skelcl_lib.data.build import raw_cluster_ids
    from skelcl_lib.data.synthetic import make_synthetic
    data = make_synthetic(seed=0, size="tiny")
    ids = raw_cluster_ids(data, clusters=5)
    assert ids.shape == (len(data),) and set(ids.tolist()) <= set(range(5)) and len(set(ids.tolist())) == 5
    assert np.array_equal(ids, raw_cluster_ids(data, clusters=5))                 # deterministic
    relabelled = replace(data, y=np.roll(np.asarray(data.y), 7))
    assert np.array_equal(ids, raw_cluster_ids(relabelled, clusters=5))           # labels are not read
    assert np.array_equal(instance_ids(data, "raw_clusters"), raw_cluster_ids(data))


def test_nearest_other_is_the_brute_force_cosine_neighbour_never_the_row_itself():
    from skelcl_lib.data.raw import nearest_other
    rng = np.random.default_rng(0)
    f = rng.normal(size=(37, 6)).astype(np.float32)
    f[5] = f[9] * 3.0                                   # same direction: distance 0 for 5 <-> 9
    nbr = nearest_other(f, 3, chunk=8)                  # chunks smaller than N
    e = f / np.linalg.norm(f, axis=1, keepdims=True)
    d = 1.0 - e @ e.T
    np.fill_diagonal(d, np.inf)
    assert nbr.shape == (37, 3)
    assert (nbr != np.arange(37)[:, None]).all()
    assert nbr[5, 0] == 9 and nbr[9, 0] == 5
    for i in range(37):
        assert np.allclose(d[i, nbr[i]], np.sort(d[i])[:3], atol=1e-6)
    assert nearest_other(f[:1], 3).shape == (1, 0)      # a single clip has no other
    assert nearest_other(f[:3], 5).shape == (3, 2)


def test_raw_neighbour_ids_carry_the_clip_then_its_raw_neighbours_without_labels():
    from dataclasses import replace

    from skelcl_lib.data.build import raw_neighbour_ids
    from skelcl_lib.data.raw import nearest_other, raw_features
    from skelcl_lib.data.synthetic import make_synthetic
    data = make_synthetic(seed=0, size="tiny")
    ids = raw_neighbour_ids(data, neighbours=2)
    n = len(data)
    assert ids.shape == (n, 3) and ids.dtype == np.int64
    assert np.array_equal(ids[:, 0], np.arange(n))
    assert np.array_equal(ids[:, 1:], nearest_other(raw_features(data), 2))
    relabelled = replace(data, y=np.roll(np.asarray(data.y), 7))
    assert np.array_equal(ids, raw_neighbour_ids(relabelled, neighbours=2))        # labels are not read
    assert instance_ids(data, "raw_neighbours").shape == (n, 2)                    # RAW_NEIGHBOURS = 1
    assert np.array_equal(instance_ids(data, "raw_neighbours", 2), ids)
    with pytest.raises(ConfigError, match="data.raw_neighbours"):
        load_config("skeletonclr_tiny", ["data.instance_ids=raw_neighbours", "data.raw_neighbours=0"])


def test_queue_with_neighbour_ids_stores_the_own_id_and_matches_any_listed_id():
    q = KeyQueue(6, 4, init="normal", track_ids=True)
    q.enqueue(F.normalize(torch.randn(3, 4), dim=1), gather=False,
              ids=torch.tensor([[10, 11], [11, 12], [12, 10]]))
    assert q.ids.tolist() == [10, 11, 12, -1, -1, -1]                # column 0 only
    same = q.same_id_mask(torch.tensor([[10, 12], [13, 11], [14, 15]]))
    assert same.tolist() == [[True, False, True, False, False, False],
                             [False, True, False, False, False, False],
                             [False] * 6]
    assert torch.equal(q.same_id_mask(torch.tensor([10, 14])), q.same_id_mask(torch.tensor([[10], [14]])))


def test_twin_positives_with_raw_neighbours_train_a_tiny_run(tmp_path):
    cfg = load_config("skeletonclr_tiny", ["data.instance_ids=raw_neighbours", "data.raw_neighbours=3",
                                           "model.twin_positives=true", "model.queue_size=16", "train.epochs=1"])
    cfg["run_dir"] = str(tmp_path / "run")
    pretrain(cfg)
    rows = read_log(tmp_path / "run")
    assert len(rows) == 1 and math.isfinite(rows[0]["loss"])
    state = load_state(tmp_path / "run" / "checkpoint_last.pt")
    queued = state["method"]["queue.ids"]
    assert queued.ndim == 1 and (queued >= 0).any()
