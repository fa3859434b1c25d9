"""``data.unlabelled_subjects`` (docs/methods.md §9.1): more performers of the generator in the
pretraining set only. The generator is a superset (the first performers' clips do not change
when more are drawn), the labelled splits stay the standard ones, the extra clips are prepared
like the labelled ones and never share an instance id with them, and the probe reads the
labelled splits only."""

import json

import numpy as np
import pytest
import torch

from skelcl_lib.config import load_config
from skelcl_lib.data import SkeletonData
from skelcl_lib.data.build import build_data, build_pretrain_set, instance_ids
from skelcl_lib.data.frame50 import to_frame50
from skelcl_lib.data.normalize import normalize_scale
from skelcl_lib.data.synthetic import make_synthetic
from skelcl_lib.errors import ConfigError
from skelcl_lib.pretrain import pretrain
from skelcl_lib.rundir import load_state, read_log

# skeletonclr_tiny: 4 labelled performers ("tiny"), 1 replication, 15 classes, 3 cameras.
EXTRA = 2
EXTRA_CLIPS = EXTRA * 15 * 3


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_more_performers_leave_the_first_ones_bit_identical():
    kw = dict(seed=3, repetitions=2, t_max=60, classes=[0, 7, 14], cache=False)   # 14: two persons
    few, more = make_synthetic(num_subjects=2, **kw), make_synthetic(num_subjects=4, **kw)
    assert set(more.subject.tolist()) == {1, 2, 3, 4}
    first = more.subset(more.subject <= 2)
    assert np.array_equal(first.x, few.x)
    for name in ("y", "subject", "view", "lengths", "setup"):
        assert np.array_equal(getattr(first, name), getattr(few, name)), name
    assert first.names == few.names
    for k in few.splits:
        assert np.array_equal(first.splits[k], few.splits[k]), k


def test_default_zero_is_the_labelled_training_split_itself():
    config = load_config("skeletonclr_tiny")
    assert config["data"]["unlabelled_subjects"] == 0
    train, _ = build_data(config)
    assert build_pretrain_set(config, train) is train


@pytest.mark.parametrize("torso", [None, 0.45])
def test_pretrain_set_is_the_labelled_train_then_every_clip_of_the_extra_performers(torso):
    over = [f"data.unlabelled_subjects={EXTRA}", f"data.normalize_scale={'null' if torso is None else torso}"]
    config = load_config("skeletonclr_tiny", over)
    standard = load_config("skeletonclr_tiny", over[1:])
    train, test = build_data(config)
    std_train, std_test = build_data(standard)
    for a, b in ((train, std_train), (test, std_test)):       # the labelled splits are unchanged
        assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y) and a.names == b.names
    assert set(train.subject.tolist()) | set(test.subject.tolist()) <= {1, 2, 3, 4}

    pre = build_pretrain_set(config, train)
    n = len(train)
    assert len(pre) == n + EXTRA_CLIPS
    assert np.array_equal(pre.x[:n], train.x) and pre.names[:n] == train.names
    extra = pre.subset(np.arange(n, len(pre)))
    assert sorted(set(extra.subject.tolist())) == [5, 6]
    assert sorted(set(extra.view.tolist())) == [1, 2, 3] and len(set(extra.y.tolist())) == 15
    # prepared as the labelled clips are: frame50, then (if set) the torso scaled
    raw = make_synthetic(seed=0, size="tiny", num_subjects=4 + EXTRA)
    raw = raw.subset(raw.subject > 4)
    expected = to_frame50(raw.x, raw.lengths, raw.layout)
    if torso is not None:
        expected = normalize_scale(expected, raw.layout, torso)
    assert pre.x.shape[2] == 50 and np.array_equal(extra.x, expected)
    assert extra.names == raw.names


@pytest.mark.parametrize("kind", ["sample", "recording"])
def test_extra_clips_never_share_an_instance_id_with_labelled_clips(kind):
    config = load_config("skeletonclr_tiny", [f"data.unlabelled_subjects={EXTRA}", f"data.instance_ids={kind}"])
    train, _ = build_data(config)
    pre = build_pretrain_set(config, train)
    ids, n = instance_ids(pre, kind), len(train)
    assert np.array_equal(ids[:n], instance_ids(train, kind))   # the labelled ids as without extras
    assert not set(ids[:n].tolist()) & set(ids[n:].tolist())
    counts = np.unique(ids[n:], return_counts=True)[1]
    # sample: every clip its own id; recording: the three cameras of one performance share one
    assert (counts == (1 if kind == "sample" else 3)).all()
    assert len(counts) == (EXTRA_CLIPS if kind == "sample" else EXTRA_CLIPS // 3)


def test_extra_performers_only_from_the_generator():
    with pytest.raises(ConfigError, match="data.unlabelled_subjects.*synthetic"):
        load_config("skeletonclr_nucla", ["data.root=.", "data.unlabelled_subjects=3"])
    with pytest.raises(ConfigError, match="data.unlabelled_subjects.*integer >= 0"):
        load_config("skeletonclr_tiny", ["data.unlabelled_subjects=-1"])
    load_config("skeletonclr_nucla", ["data.root=.", "data.unlabelled_subjects=0"])   # 0: the default
    with pytest.raises(ValueError, match="data.unlabelled_subjects.*'synthetic'.*'stgcn'"):
        build_pretrain_set({"data": {"source": "stgcn", "unlabelled_subjects": 2}}, None)
    with pytest.raises(ValueError, match="data.unlabelled_subjects.*integer >= 0"):
        build_pretrain_set({"data": {"source": "synthetic", "unlabelled_subjects": 1.5}}, None)


def test_concat_keeps_what_every_part_has_and_refuses_parts_that_differ():
    data = make_synthetic(seed=1, size="tiny", num_subjects=1, classes=[0, 1], t_max=40)
    a, b = data.subset([0, 1, 2]), data.subset([3, 4, 5])
    both = SkeletonData.concat([a, b])
    assert np.array_equal(both.x, data.x) and both.names == data.names
    assert np.array_equal(both.splits["xview"], data.splits["xview"])
    nameless = SkeletonData(x=b.x, y=b.y, layout=b.layout, class_names=b.class_names)
    mixed = SkeletonData.concat([a, nameless])
    assert mixed.names == [] and mixed.subject is None and mixed.splits == {}
    with pytest.raises(ValueError, match="part 1 has sample shape"):
        SkeletonData.concat([a, SkeletonData(x=b.x[:, :, :20], y=b.y, layout=b.layout,
                                             class_names=b.class_names)])
    with pytest.raises(ValueError, match="part 1 has class_names"):
        SkeletonData.concat([a, SkeletonData(x=b.x, y=b.y, layout=b.layout)])


def test_pretraining_reads_the_extra_clips_and_the_probe_the_labelled_ones(tmp_path):
    """One epoch of the tiny SkeletonCLR run: with 2 extra performers the loop takes more steps
    and the method is built for the larger set (queue_size: auto), while the probe still reads
    the 32 + 32 labelled clips."""
    base = ["train.epochs=1", "model.hidden_channels=4", "model.hidden_dim=32", "model.feature_dim=16",
            "model.queue_size=auto", "probe.knn_k=[1]"]
    pretrain(load_config("skeletonclr_tiny", base + ["probe.enabled=false"]), tmp_path / "standard")
    pretrain(load_config("skeletonclr_tiny", base + [f"data.unlabelled_subjects={EXTRA}"]), tmp_path / "extra")
    (row0,), (row2,) = read_log(tmp_path / "standard"), read_log(tmp_path / "extra")
    assert row0["optimizer_steps"] == 32 // 8 and row2["optimizer_steps"] == (32 + EXTRA_CLIPS) // 8
    ckpt0, ckpt2 = (load_state(tmp_path / r / "checkpoint_last.pt") for r in ("standard", "extra"))
    assert (ckpt0["data_info"]["num_train"], ckpt2["data_info"]["num_train"]) == (32, 32 + EXTRA_CLIPS)
    assert ckpt2["method"]["queue.queue"].shape[0] > ckpt0["method"]["queue.queue"].shape[0]
    probe = json.loads((tmp_path / "extra" / "probe.json").read_text())
    assert (probe["num_train"], probe["num_test"]) == (32, 32)      # the labelled clips only
