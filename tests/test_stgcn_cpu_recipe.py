"""The SkeletonCLR CPU candidate on real data learns: on N-UCLA cross-view (1020 training clips,
``train.min_steps`` stretches the 8 epochs to 15) its read-outs rise from epoch 2 to the end and
end above the same encoder untrained (docs/results/stgcn_cpu_recipe.md §3.8, §3.9).
One seed, the config's own; skipped without N-UCLA."""

import json

import pytest

from datapaths import shared_dir
from skelcl_lib.config import load_config, validate
from skelcl_lib.data.build import build_data, build_pretrain_set, data_info
from skelcl_lib.pretrain import pretrain, quick_probe
from skelcl_lib.rundir import read_log, run_epochs

NUCLA = shared_dir() / "data" / "nw_ucla"


@pytest.mark.slow
@pytest.mark.skipif(not (NUCLA / "all_sqe").is_dir(), reason="N-UCLA not found at ../shared/data/nw_ucla")
def test_skeletonclr_cpu_rises_on_nucla_and_ends_above_its_untrained_encoder(tmp_path):
    config = validate(load_config("skeletonclr_cpu", [
        "data.source=nucla", f"data.root={NUCLA}", "data.protocol=xview", "probe.every=2",
        "train.progress=false", "train.save_every=0"]))
    pretrain(config, tmp_path / "run")
    train, test = build_data(config)
    _, untrained = next(run_epochs(tmp_path / "run", config, data_info(build_pretrain_set(config, train)), []))
    start = quick_probe(untrained, train, test, config)
    log = read_log(tmp_path / "run")
    assert [row["epoch"] for row in log] == list(range(1, 16))               # 15 epochs of 31 steps
    curve = {row["epoch"]: row for row in log if "probe_linear" in row}
    assert sorted(curve) == [2, 4, 6, 8, 10, 12, 14]
    end = json.loads((tmp_path / "run" / "probe.json").read_text())
    last = {"probe_linear": end["linear"], "probe_knn1": end["knn"]["1"]}
    first = curve[2]
    assert last["probe_linear"] >= first["probe_linear"] + 0.05, (curve, last)   # §3.9: +23.8 points
    assert last["probe_knn1"] > first["probe_knn1"], (curve, last)
    assert last["probe_linear"] > start["linear"] + 0.05, (start, last)
    assert last["probe_knn1"] > start["knn"]["1"] + 0.05, (start, last)
