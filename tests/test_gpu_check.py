"""benchmarks/gpu_check.py runs every method's training, augmentations and evaluation; on a CPU it
runs the same code at small sizes (``--quick``). The GPU configs load and keep AimCLR's queue a
multiple of the batch."""

import pathlib

import pytest
from datapaths import load_script

from skelcl_lib.config import load_config

ROOT = pathlib.Path(__file__).resolve().parents[1]


gpu_check = load_script("benchmarks/gpu_check.py")


@pytest.mark.parametrize("name", ["ascal_nucla_gpu", "skeletonclr_nucla_gpu", "aimclr_nucla_gpu"])
def test_gpu_configs(name):
    config = load_config(name)
    tc = config["train"]
    assert tc["amp"] is True
    if config["method"] != "ascal":
        assert tc["batch_size"] == 128 and config["model"]["queue_size"] % tc["batch_size"] == 0
        assert max(tc["lr_milestones"]) < tc["epochs"]
    if config["method"] == "aimclr":
        assert config["model"]["mining_epoch"] < tc["epochs"]


def test_quick_check_times_every_part_of_every_method(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = tmp_path / "table.md"
    assert gpu_check.main(["--quick", "--configs", "ascal_nucla_gpu", "skeletonclr_nucla_gpu",
                           "aimclr_ntu60_xsub_joint", "--out", str(out)]) == 0
    table = out.read_text()
    assert table in capsys.readouterr().out
    assert "device cpu" in table.splitlines()[0]
    rows = [ln for ln in table.splitlines() if ln.startswith("| `")]
    parts = {}
    for ln in rows:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        parts.setdefault(cells[0].strip("`"), []).append(cells[1])
        assert float(cells[3].split()[0].replace(",", "")) > 0, ln        # a throughput was measured
        assert cells[5] == "–"                                            # no CUDA memory on a CPU
    expected_common = {"train step", "features", "linear (aimclr protocol)", "kNN (k = 1, 20)"}
    assert set(parts["skeletonclr_nucla_gpu"]) == expected_common | {"augment: normal view"}
    assert set(parts["aimclr_ntu60_xsub_joint"]) == expected_common | {"augment: normal view",
                                                                        "augment: extreme view"}
    assert set(parts["ascal_nucla_gpu"]) == {"train step", "augment: AS-CAL view", "features",
                                             "linear (ascal protocol)", "kNN (k = 1, 20)"}


def test_input_shapes_follow_the_data_source():
    assert gpu_check.input_shape(load_config("aimclr_ntu60_xsub_joint")) == \
        {"layout": "ntu25", "frames": 50, "bodies": 2, "classes": 60}
    assert gpu_check.input_shape(load_config("ascal_ntu60_xsub"))["frames"] == 300
    assert gpu_check.input_shape(load_config("ascal_nucla_gpu")) == \
        {"layout": "kinect20", "frames": 50, "bodies": 1, "classes": 10}
