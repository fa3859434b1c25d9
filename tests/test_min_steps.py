"""``train.min_steps``: a step budget that gives a small dataset more epochs, with the schedule
stretched to keep its shape (``optim.stretch_schedule``), applied by ``skelcl pretrain``."""

import numpy as np
import pytest

from skelcl_lib.config import DEFAULTS, load_config, merge
from skelcl_lib.data import SkeletonData
from skelcl_lib.errors import ConfigError
from skelcl_lib.methods import build_method
from skelcl_lib.optim import steps_per_epoch, stretch_schedule
from skelcl_lib.pretrain import pretrain, stretched
from skelcl_lib.rundir import load_state, read_config, read_log
from skelcl_lib.train import fit, make_loader


def _stand_in(n):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(n, 3, 16, 25, 1)) * 0.2).astype(np.float32)
    return SkeletonData(x=x, y=rng.integers(0, 3, n), layout="ntu25", splits={"xsub": np.ones(n, bool)})


@pytest.mark.parametrize("n", [7, 8, 30, 33, 64])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_steps_per_epoch_is_the_length_of_each_ranks_loader(n, drop_last, world):
    tc = dict(DEFAULTS["train"], batch_size=8, drop_last=drop_last)
    data = _stand_in(n)
    for rank in range(world):
        loader, _ = make_loader(data, tc, seed=0, rank=rank, world=world)
        assert steps_per_epoch(n, tc, world) == len(loader) == sum(1 for _ in loader)


def test_aimclr_cpu_on_small_medium_and_large_splits():
    """430 clips (a small split), 1020 (N-UCLA cross-view), 1800 (the embedded xsub split)."""
    cfg = load_config("aimclr_cpu", ["train.min_steps=448"])
    small, changes = stretch_schedule(cfg, steps_per_epoch(430, cfg["train"]))      # 13 steps
    assert changes == {"train.epochs": (8, 35), "train.lr_milestones": ([7], [31]),
                       "model.mining_epoch": (4, 18)}
    assert (small["train"]["epochs"], small["train"]["lr_milestones"], small["model"]["mining_epoch"]) == \
        (35, [31], 18)
    assert 35 * 13 >= 448 > 34 * 13                                     # the fewest epochs that reach it
    medium, _ = stretch_schedule(cfg, steps_per_epoch(1020, cfg["train"]))          # 31 steps
    assert (medium["train"]["epochs"], medium["train"]["lr_milestones"], medium["model"]["mining_epoch"]) == \
        (15, [13], 8)
    large, changes = stretch_schedule(cfg, steps_per_epoch(1800, cfg["train"]))     # 56 steps: 448
    assert changes == {} and large is cfg
    # the caller's config is untouched, and a stretched config stretches no further
    assert (cfg["train"]["epochs"], cfg["train"]["lr_milestones"], cfg["model"]["mining_epoch"]) == (8, [7], 4)
    assert stretch_schedule(small, 13) == (small, {})


def test_min_steps_zero_and_fractional_warmup():
    cfg = load_config("skeletonclr_cpu")
    off = merge(cfg, {"train": {"min_steps": 0}})
    assert stretch_schedule(off, 1) == (off, {})
    warm = merge(cfg, {"train": {"min_steps": 100, "epochs": 4, "warmup_epochs": 1, "lr_milestones": [1, 3]}})
    out, changes = stretch_schedule(warm, 10)
    assert out["train"]["epochs"] == 10
    assert changes["train.warmup_epochs"] == (1, 2.5)           # a fraction of epochs, not rounded
    assert changes["train.lr_milestones"] == ([1, 3], [3, 8])   # 2.5 and 7.5, both rounded half up
    assert "model.mining_epoch" not in changes                    # SkeletonCLR has none
    with pytest.raises(ValueError, match="train.min_steps"):
        stretch_schedule(warm, 0)


def test_fit_refuses_a_config_that_was_not_stretched():
    data = _stand_in(24)
    cfg = merge(DEFAULTS, {"method": "ascal", "seed": 0,
                           "model": {"hidden_size": 8, "K": 8, "selected_frames": 8},
                           "train": {"epochs": 2, "batch_size": 8, "progress": False, "lr_milestones": [],
                                     "save_every": 0, "min_steps": 10}})
    with pytest.raises(ValueError, match=r"train.min_steps.*10 steps asked.*2 epochs of 3 steps give 6"):
        fit(build_method(cfg, data), data, cfg)


def test_pretrain_stretches_records_and_resumes(tmp_path, capsys):
    """skeletonclr_tiny: 4 steps per epoch; min_steps 10 -> 3 epochs, the milestone scaled."""
    cfg = load_config("skeletonclr_tiny", ["probe.enabled=false", "model.hidden_channels=4",
                                           "train.epochs=1", "train.lr_milestones=[1]", "train.min_steps=10"])
    run = pretrain(cfg, tmp_path / "run")
    said = capsys.readouterr().out
    assert "train.min_steps 10" in said and "train.epochs 1 -> 3" in said and "[1] -> [3]" in said
    asked = read_config(run)                                  # the config as asked for ...
    assert (asked["train"]["epochs"], asked["train"]["lr_milestones"], asked["train"]["min_steps"]) == (1, [1], 10)
    followed = load_state(run / "checkpoint_last.pt")["config"]["train"]   # ... and the schedule run
    assert (followed["epochs"], followed["lr_milestones"]) == (3, [3])
    assert [r["epoch"] for r in read_log(run)] == [1, 2, 3]
    # resuming with the same config is the same run; a longer one that no longer needs stretching
    # would move the milestone in the middle of the run, and is refused naming it
    pretrain(cfg, run, resume=True)
    assert [r["epoch"] for r in read_log(run)] == [1, 2, 3]
    longer = load_config("skeletonclr_tiny", ["probe.enabled=false", "model.hidden_channels=4",
                                              "train.epochs=4", "train.lr_milestones=[1]", "train.min_steps=10"])
    with pytest.raises(ConfigError, match=r"train.lr_milestones: expected \[3\] as the run's schedule was stretched"):
        pretrain(longer, run, resume=True)


def test_aimclr_default_mining_epoch_is_stretched_too():
    cfg = load_config("aimclr_tiny", ["train.min_steps=40", "train.epochs=2", "train.lr_milestones=[]"])
    cfg["model"].pop("mining_epoch", None)
    out = stretched(cfg, 32)                                  # 4 steps per epoch: 10 epochs, x5
    assert out["train"]["epochs"] == 10 and out["model"]["mining_epoch"] == 750   # the default 150, x5
    assert "mining_epoch" not in cfg["model"]
