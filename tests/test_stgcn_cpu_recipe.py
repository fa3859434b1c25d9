"""The ST-GCN CPU recipes on real data learn: on N-UCLA cross-view (1020 training clips) their
read-outs rise from epoch 2 to the end and end above the same encoder untrained
(docs/results/stgcn_cpu_recipe.md §3.8, §3.9, §3.12). ``train.min_steps`` stretches the 8 epochs
to 15 (`skeletonclr_cpu`, 448 steps) or 30 (`aimclr_cpu`, 900 steps). One seed, the config's own;
skipped without N-UCLA."""

import json

import numpy as np
import pytest

from datapaths import shared_dir
from skelcl_lib.config import load_config, validate
from skelcl_lib.data.build import build_data, build_pretrain_set, data_info
from skelcl_lib.evaluate.features import linear_probe, raw_features
from skelcl_lib.evaluate.knn import knn_accuracy
from skelcl_lib.pretrain import pretrain, quick_probe
from skelcl_lib.rundir import read_log, run_epochs

NUCLA = shared_dir() / "data" / "nw_ucla"
needs_nucla = pytest.mark.skipif(not (NUCLA / "all_sqe").is_dir(),
                                 reason="N-UCLA not found at ../shared/data/nw_ucla")


def run_on_nucla(name, tmp_path):
    """((train, test), the untrained encoder's quick probe, the log rows, the probe rows by
    epoch, the end-of-run read-outs) of config ``name`` pretrained on N-UCLA cross-view."""
    config = validate(load_config(name, [
        "data.source=nucla", f"data.root={NUCLA}", "data.protocol=xview", "probe.every=2",
        "train.progress=false", "train.save_every=0"]))
    pretrain(config, tmp_path / "run")
    train, test = build_data(config)
    _, untrained = next(run_epochs(tmp_path / "run", config, data_info(build_pretrain_set(config, train)), []))
    start = quick_probe(untrained, train, test, config)
    log = read_log(tmp_path / "run")
    curve = {row["epoch"]: row for row in log if "probe_linear" in row}
    end = json.loads((tmp_path / "run" / "probe.json").read_text())
    last = {"probe_linear": end["linear"], "probe_knn1": end["knn"]["1"]}
    return (train, test), start, log, curve, last


@pytest.mark.slow
@needs_nucla
def test_skeletonclr_cpu_rises_on_nucla_and_ends_above_its_untrained_encoder(tmp_path):
    _, start, log, curve, last = run_on_nucla("skeletonclr_cpu", tmp_path)
    assert [row["epoch"] for row in log] == list(range(1, 16))               # 15 epochs of 31 steps
    assert sorted(curve) == [2, 4, 6, 8, 10, 12, 14]
    first = curve[2]
    assert last["probe_linear"] >= first["probe_linear"] + 0.05, (curve, last)   # §3.9: +23.8 points
    assert last["probe_knn1"] > first["probe_knn1"], (curve, last)
    assert last["probe_linear"] > start["linear"] + 0.05, (start, last)
    assert last["probe_knn1"] > start["knn"]["1"] + 0.05, (start, last)


@pytest.mark.slow
@needs_nucla
def test_aimclr_cpu_rises_on_nucla_and_ends_above_raw_coordinates(tmp_path):
    (train, test), start, log, curve, last = run_on_nucla("aimclr_cpu", tmp_path)
    assert [row["epoch"] for row in log] == list(range(1, 31))               # 30 epochs of 31 steps
    assert sorted(curve) == list(range(2, 31, 2))
    first = curve[2]
    # §3.12, seeds 0-2: from 63.1-72.0 / 56.7-69.0 after epoch 2 to 82.5-84.1 / 72.4-76.7
    assert last["probe_linear"] >= first["probe_linear"] + 0.10, (curve, last)
    assert last["probe_knn1"] >= first["probe_knn1"] + 0.05, (curve, last)
    assert last["probe_linear"] > start["linear"] + 0.10, (start, last)
    assert last["probe_knn1"] > start["knn"]["1"] + 0.10, (start, last)
    # raw coordinates of the model's input (frame50), the same read-outs: about 65 / 68
    f_train, f_test = raw_features(train), raw_features(test)
    raw = {"probe_linear": linear_probe(f_train, train.y, f_test, test.y),
           "probe_knn1": knn_accuracy(f_train, train.y, f_test, test.y, k=(1,))[1]}
    assert last["probe_linear"] > raw["probe_linear"] + 0.10, (raw, last)
    assert last["probe_knn1"] > raw["probe_knn1"], (raw, last)
    assert np.isfinite([row["loss"] for row in log]).all()
