"""The training loop: configs, forward-only steps, checkpoint/resume equivalence, DDP (gloo), CLI."""

import json
import pathlib

import numpy as np
import pytest
import torch

from skelcl_lib.config import DEFAULTS, apply_override, load_config, merge
from skelcl_lib.data import SkeletonData
from skelcl_lib.data.build import build_data, data_info
from skelcl_lib.methods import build_method
from skelcl_lib.optim import lr_at
from skelcl_lib.pretrain import cli, pretrain
from skelcl_lib.rundir import load_checkpoint, read_log
from skelcl_lib.train import fit


@pytest.fixture(autouse=True)
def _cache_and_one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                     # tiny LSTMs: one thread is faster than two
    yield
    torch.set_num_threads(threads)


def _stand_in(n=48, t=24, seed=0):
    """A small random SkeletonData (NTU-25, two bodies) with an "xsub" split."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, 3, t, 25, 2)) * 0.2).astype(np.float32)
    return SkeletonData(x=x, y=rng.integers(0, 4, n), layout="ntu25",
                        splits={"xsub": np.arange(n) < 3 * n // 4})


def _config(**train):
    cfg = merge(DEFAULTS, {"method": "ascal", "seed": 3,
                                "model": {"hidden_size": 16, "K": 20, "selected_frames": 16},
                                "train": {"epochs": 3, "batch_size": 8, "progress": False,
                                          "lr_milestones": [2], "save_every": 0, **train}})
    return cfg


# --------------------------------------------------------------------------- configs


def test_packaged_configs_load_and_resolve_their_base():
    paper = load_config("ascal_ntu60_xsub")
    m, tr = paper["model"], paper["train"]
    assert (m["K"], m["alpha"], m["tau"], m["selected_frames"], m["hidden_size"]) == (16384, 0.999, 0.06, 150, 256)
    assert (m["l2_normalize"], m["skip_warmup_epoch"]) == (False, False)
    assert (tr["lr"], tr["momentum"], tr["weight_decay"], tr["batch_size"], tr["lr_milestones"]) == \
        (0.01, 0.9, 1e-4, 32, [30, 70])
    xview = load_config("ascal_ntu60_xview")
    assert xview["data"]["protocol"] == "xview" and xview["model"]["K"] == 16384
    for name in ("ascal_ntu120_xsub", "ascal_ntu120_xset", "ascal_nucla", "ascal_synthetic", "ascal_tiny",
                 "tiny", "synthetic"):
        cfg = load_config(name)
        assert cfg["method"] == "ascal" and cfg["name"] == name
    assert load_config("ascal_nucla")["model"]["K"] == 500
    assert load_config("tiny")["model"] == load_config("ascal_tiny")["model"]


def test_overrides_are_yaml_values_and_files_load_by_path(tmp_path):
    cfg = load_config("ascal_tiny", ["train.epochs=7", "model.l2_normalize=true", "train.lr=1e-3",
                                       "train.lr_milestones=[1, 2]", "data.protocol=xview"])
    assert cfg["train"]["epochs"] == 7 and cfg["model"]["l2_normalize"] is True
    assert cfg["train"]["lr"] == 1e-3 and cfg["train"]["lr_milestones"] == [1, 2]
    assert cfg["data"]["protocol"] == "xview"
    path = tmp_path / "mine.yaml"
    path.write_text("base: ascal_tiny\ntrain:\n  epochs: 5\n")
    mine = load_config(str(path))
    assert mine["train"]["epochs"] == 5 and mine["model"]["hidden_size"] == 32 and mine["name"] == "mine"


def test_config_errors_name_the_field():
    with pytest.raises(FileNotFoundError, match="ascal_tiny"):
        load_config("no_such_config")
    with pytest.raises(ValueError, match="key=value"):
        load_config("ascal_tiny", ["train.epochs"])
    with pytest.raises(ValueError, match=r"train.epoch: expected a known key \(did you mean 'train.epochs'"):
        load_config("ascal_tiny", ["train.epoch=3"])
    with pytest.raises(ValueError, match="method"):
        build_method({"method": "nope", "model": {}}, _stand_in())


def test_build_data_sources_synthetic_stgcn_and_frame50(tmp_path):
    from skelcl_lib.data.formats import save_stgcn
    from skelcl_lib.data.synthetic import make_synthetic

    cfg = load_config("ascal_tiny", ["data.max_train=20", "data.max_test=10", "data.preprocess=null"])
    train, test = build_data(cfg)
    assert train.x.shape == (20, 3, 150, 25, 2) and len(test) == 10
    f50, _ = build_data(load_config("ascal_tiny", ["data.max_train=20", "data.max_test=10"]))
    assert f50.x.shape == (20, 3, 50, 25, 2)                  # the ascal_synthetic family reads frame50
    assert (f50.lengths == 50).all()                          # every clip's valid frames fill all 50
    save_stgcn(tmp_path, make_synthetic(seed=0, size="tiny"), protocols=["xsub"])
    cfg = load_config("ascal_ntu60_xsub", [f"data.root={tmp_path / 'xsub'}"])
    train2, test2 = build_data(cfg)
    full_train, full_test = make_synthetic(seed=0, size="tiny").split("xsub")
    np.testing.assert_array_equal(np.asarray(train2.x), full_train.x)
    np.testing.assert_array_equal(test2.y, full_test.y)
    info = data_info(train2)
    assert (info["channels"], info["frames"], info["joints"], info["bodies"], info["layout"]) == \
        (3, 150, 25, 2, "ntu25") and info["num_train"] == len(full_train)
    f50 = build_data(load_config("ascal_tiny", ["data.preprocess=frame50", "data.max_train=8",
                                                    "data.max_test=4"]))[0]
    assert f50.x.shape == (8, 3, 50, 25, 2)
    with pytest.raises(ValueError, match="data.source"):
        build_data({"data": {"source": "kinetics"}})


def test_step_schedule_matches_the_official_loop():
    tc = dict(DEFAULTS["train"], lr=0.01, lr_milestones=[30, 70], lr_gamma=0.1)
    assert lr_at(1, tc) == 0.01 and lr_at(30, tc) == 0.01
    assert lr_at(31, tc) == pytest.approx(0.001) and lr_at(61, tc) == pytest.approx(0.001)
    assert lr_at(71, tc) == pytest.approx(0.0001)


# --------------------------------------------------------------------------- the loop


def test_warmup_epoch_changes_only_the_queue(tmp_path):
    data = _stand_in()
    cfg = _config(epochs=1)
    method = build_method(cfg, data)
    before = {k: v.clone() for k, v in method.state_dict().items()}
    fit(method, data, cfg, tmp_path)
    after = method.state_dict()
    assert not torch.equal(after["queue.queue"], before["queue.queue"])
    assert int(after["queue.ptr"]) == len(data) % 20
    for k in before:
        if not k.startswith("queue."):
            assert torch.equal(after[k], before[k]), k
    row = read_log(tmp_path)[0]
    assert row["epoch"] == 1 and row["optimizer_steps"] == 0 and row["loss"] > 0


def test_checkpoint_loads_with_weights_only_and_rebuilds_the_method(tmp_path):
    data = _stand_in()
    cfg = _config(epochs=2, grad_clip=1.0)
    method = fit(build_method(cfg, data), data, cfg, tmp_path)
    ckpt = torch.load(tmp_path / "checkpoint_last.pt", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["config"]["model"]["K"] == 20
    assert {"method", "optimizer", "scaler", "data_info"} <= set(ckpt)
    loaded, config = load_checkpoint(tmp_path / "checkpoint_last.pt")
    assert config["train"]["epochs"] == 2
    for k, v in method.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    rows = read_log(tmp_path)
    assert [r["epoch"] for r in rows] == [1, 2] and "grad_norm" in rows[1] and rows[1]["samples_per_s"] > 0
    assert rows[1]["optimizer_steps"] == 6          # 36 training clips / batch 8, last batch kept


class _Killed(RuntimeError):
    pass


def test_resume_after_a_kill_gives_the_same_weights(tmp_path, monkeypatch):
    """tiny config: 3 epochs straight vs killed in epoch 3 and resumed from epoch 2's checkpoint."""
    cfg = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=32"])
    pretrain(cfg, tmp_path / "straight")
    straight = torch.load(tmp_path / "straight" / "checkpoint_last.pt", weights_only=True)

    from skelcl_lib.methods.ascal import ASCAL
    real_step, calls = ASCAL.training_step, {"n": 0}

    def dying_step(self, batch):
        calls["n"] += 1
        if calls["n"] == 2 * 2 + 2:              # 2 batches per epoch: die inside epoch 3
            raise _Killed
        return real_step(self, batch)

    monkeypatch.setattr(ASCAL, "training_step", dying_step)
    with pytest.raises(_Killed):
        pretrain(cfg, tmp_path / "killed")
    monkeypatch.setattr(ASCAL, "training_step", real_step)
    assert torch.load(tmp_path / "killed" / "checkpoint_last.pt", weights_only=True)["epoch"] == 2
    pretrain(cfg, tmp_path / "killed", resume=True)
    resumed = torch.load(tmp_path / "killed" / "checkpoint_last.pt", weights_only=True)
    assert resumed["epoch"] == 3
    for k, v in straight["method"].items():
        assert torch.equal(resumed["method"][k], v), k
    for a, b in zip(straight["optimizer"]["state"].values(), resumed["optimizer"]["state"].values()):
        assert a.keys() == b.keys()                  # SGD: momentum_buffer; AdamW: step, exp_avg, exp_avg_sq
        for key in a:
            assert torch.equal(torch.as_tensor(a[key]), torch.as_tensor(b[key])), key
    assert [r["epoch"] for r in read_log(tmp_path / "killed")] == [1, 2, 3]


def test_the_progress_bar_does_not_change_the_run(tmp_path):
    """The same run with and without the progress bar: the same weights and queue, bit for bit
    (a bar that wrapped the DataLoader opened an extra iterator, which drew from the global RNG
    and shifted every augmentation)."""
    states = {}
    for progress in ("true", "false"):
        cfg = load_config("skeletonclr_tiny", ["probe.enabled=false", "train.epochs=2",
                                               f"train.progress={progress}"])
        pretrain(cfg, tmp_path / progress)
        states[progress] = torch.load(tmp_path / progress / "checkpoint_last.pt", weights_only=True)["method"]
    for k, v in states["false"].items():
        assert torch.equal(states["true"][k], v), k


def test_cli_tiny_writes_log_checkpoint_and_probe(tmp_path, capsys):
    assert cli(["--config", "tiny", "--set", "train.epochs=2", "--set", "data.max_train=64",
                  "--run-dir", str(tmp_path)]) == 0
    probe = json.loads((tmp_path / "probe.json").read_text())
    assert 0 <= probe["linear"] <= 1 and set(probe["knn"]) == {"1", "5"}
    assert probe["feature_dim"] == 32 and probe["num_train"] == 64
    assert (tmp_path / "checkpoint_last.pt").exists() and (tmp_path / "config.yaml").exists()
    assert '"linear"' in capsys.readouterr().out


# --------------------------------------------------------------------------- DDP (gloo, 2 CPU processes)


def _ddp_worker(rank, world, init_file, out_dir):
    import torch.distributed as dist

    from skelcl_lib.methods.moco import KeyQueue

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        queue = KeyQueue(K=8, dim=2)
        queue.enqueue(torch.full((3, 2), float(rank)))       # rank r enqueues three rows of r
        data = _stand_in(n=32)
        cfg = _config(epochs=2, batch_size=4)
        torch.manual_seed(100 + rank)                          # different init: DDP must broadcast rank 0's
        method = build_method(cfg, data)
        fit(method, data, cfg, pathlib.Path(out_dir) / "run")
        torch.save({"queue": queue.state_dict(), "method": method.state_dict()},
                   pathlib.Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_gloo_gathers_keys_in_rank_order_and_keeps_ranks_equal(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    expected = torch.tensor([[0.0, 0.0]] * 3 + [[1.0, 1.0]] * 3)
    for r in (r0, r1):
        assert torch.equal(r["queue"]["queue"][:6], expected) and int(r["queue"]["ptr"]) == 6
    for k, v in r0["method"].items():                    # weights, key encoder and queue identical
        assert torch.equal(r1["method"][k], v), k
    # every step enqueued 2 ranks x 4 keys: 32 samples / (2 x 4) = 4 steps per epoch, 2 epochs
    assert int(r0["method"]["queue.ptr"]) == (2 * 4 * 4 * 2) % 20
    assert [r["epoch"] for r in read_log(tmp_path / "run")] == [1, 2]


def test_override_keeps_quoted_strings():
    cfg = {"model": {}}
    assert apply_override(cfg, "model.aug_method='1234'")["model"]["aug_method"] == "1234"
    assert apply_override(cfg, "model.x=1e-3")["model"]["x"] == pytest.approx(1e-3)
    assert apply_override(cfg, 'model.y="2e-3"')["model"]["y"] == "2e-3"
