"""`skelcl benchmark`: config resolution, quick end-to-end run, checkpoint reuse, table output."""

import json
import os
import platform
import re

import pytest
import torch
from datapaths import shared_dir

from skelcl_lib import benchmark as B
from skelcl_lib import checkpoints as C
from skelcl_lib.config import config_path, load_config
from skelcl_lib.evaluate.report import result_row
from skelcl_lib.pretrain import pretrain


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SKELCL_CHECKPOINTS", str(tmp_path / "ck"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_method_config_names():
    assert B.method_config("ascal", "synthetic", "xview")[0] == "ascal_synthetic"
    assert "data.protocol=xview" in B.method_config("ascal", "synthetic", "xview")[1]
    assert B.method_config("aimclr", "ntu60", "xsub", root="/d")[0] == "aimclr_ntu60_xsub_joint"
    assert B.method_config("aimclr", "ntu60", "xsub", root="/d")[1] == ["data.root=/d/xsub"]
    assert B.method_config("ascal", "ntu120", "xset")[0] == "ascal_ntu120_xset"
    assert B.method_config("skeletonclr", "nucla", "xview", root="/u")[1][-1] == "data.root=/u"
    for m in ("ascal", "skeletonclr", "aimclr"):           # every named config exists
        for data, split in (("synthetic", "xsub"), ("nucla", "xview"), ("ntu60", "xview"), ("ntu120", "xset")):
            config_path(B.method_config(m, data, split)[0])
    with pytest.raises(ValueError, match="--data"):
        B.method_config("ascal", "kinetics", "xsub")


def test_report_names_the_machine_and_no_date():
    result = {"provenance": {"ascal/xsub": {"source": "shipped ascal_synthetic_xsub", "epochs": 30,
                                           "pretrain_s": 12.0}},
              "rows": [result_row("AS-CAL", "synthetic", "xsub", "linear (ascal)", 0.5, 0.9, "val")]}
    text = B.render(result, "skelcl benchmark --quick", "synthetic")
    assert f"Run on {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} (1 thread), " \
        "device " in text
    assert "| ascal | xsub | shipped ascal_synthetic_xsub | 30 | 12 |" in text
    assert not re.search(r"\d{4}-\d\d-\d\d|\d\d:\d\d|UTC", text), text


@pytest.mark.slow
def test_quick_benchmark_end_to_end(tmp_path, capsys):
    out = tmp_path / "bench.md"
    rc = B.cli(["--quick", "--untrained", "--methods", "raw", "ascal", "--splits", "xsub", "--runs", str(tmp_path / "runs"),
                "--out", str(out)])
    assert rc == 0
    text = out.read_text()
    assert "Command: `skelcl benchmark --quick" in text
    for needle in ("raw coordinates", "AS-CAL", "validation split (honest)", "best test epoch (official)",
                   "kNN k=1", "kNN k=20", "probe (logistic)", "pretrained now (ascal_synthetic)",
                   "AS-CAL untrained", "linear (ascal)"):
        assert needle in text, needle
    rows = json.loads(out.with_suffix(".json").read_text())["rows"]
    assert {r["split"] for r in rows} == {"xsub"}
    assert all(0.0 <= r["top1"] <= 1.0 for r in rows)
    # a second call reuses the finished run instead of pretraining again
    result = B.run_benchmark("synthetic", methods=("ascal",), splits=("xsub",), quick=True,
                             runs=str(tmp_path / "runs"), select=("val",), log=lambda *a: None)
    assert result["provenance"]["ascal/xsub"]["source"].startswith("earlier run")


def test_shipped_checkpoint_is_used(tmp_path):
    cfg = load_config("ascal_tiny")
    run = pretrain(cfg, tmp_path / "tiny")
    C.export(run, "ascal_tiny_xsub")
    # a quick benchmark never uses shipped checkpoints; a normal one matches on data and split
    cfg2 = load_config(*B.method_config("ascal", "synthetic", "xsub"))
    assert B._matching_checkpoint("ascal", cfg2) is None            # tiny size != full size
    cfg2["data"]["synthetic"] = {"size": "tiny"}
    assert B._matching_checkpoint("ascal", cfg2) == "ascal_tiny_xsub"
    # a second checkpoint on the same data: the one trained with the asked config wins
    C.export(run, "zz_ascal_synthetic_copy")
    entry = C.read_manifest()["entries"]["zz_ascal_synthetic_copy"]
    entry["config_name"] = cfg2["name"]
    C._manifest_path().write_text(json.dumps({"format": 1, "entries": {
        **C.read_manifest()["entries"], "zz_ascal_synthetic_copy": entry}}))
    assert B._matching_checkpoint("ascal", cfg2) == "zz_ascal_synthetic_copy"
    cfg2["name"] = "some_other_config"
    assert B._matching_checkpoint("ascal", cfg2) == "ascal_tiny_xsub"
    cfg2["data"]["protocol"] = "xview"
    assert B._matching_checkpoint("ascal", cfg2) is None


def test_cli_rejects_missing_path(capsys):
    with pytest.raises(SystemExit):
        B.cli(["--data", "nucla"])
    assert "needs a PATH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        B.cli(["--data", "nucla", "/no/such/dir"])
    assert "not a directory" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_aimclr_three_stream_ensemble(tmp_path):
    result = B.run_benchmark("synthetic", methods=("aimclr",), splits=("xsub",), quick=True, ensemble=True,
                             runs=str(tmp_path / "runs"), select=("val",), log=lambda *a: None)
    methods = {r["method"] for r in result["rows"]}
    assert {"AimCLR", "AimCLR (motion)", "AimCLR (bone)", "AimCLR 3-stream"} <= methods
    assert set(result["provenance"]) == {"aimclr/xsub", "aimclr-motion/xsub", "aimclr-bone/xsub"}
    fused = [r for r in result["rows"] if r["method"] == "AimCLR 3-stream"]
    assert len(fused) == 1 and "joint 0.6, motion 0.4, bone 0.6" in fused[0]["settings"]
    assert B.method_config("aimclr", "synthetic", "xsub", stream="bone")[0] == "aimclr_synthetic_bone"
    assert "model.stream=motion" in B.method_config("aimclr", "nucla", "xview", stream="motion")[1]
    with pytest.raises(ValueError, match="streams"):
        B.method_config("ascal", "synthetic", "xsub", stream="bone")


@pytest.mark.slow
def test_quick_supervised_baseline_once_per_architecture(tmp_path):
    result = B.run_benchmark("synthetic", methods=("ascal",), splits=("xsub",), quick=True, supervised=True,
                             supervised_epochs=1, runs=str(tmp_path / "runs"), select=("val",),
                             log=lambda *a: None)
    sup = [r for r in result["rows"] if r["protocol"] == "supervised (scratch)"]
    assert len(sup) == 1 and sup[0]["method"].startswith("LSTM supervised from scratch")
    assert sup[0]["select"] == "val" and 0.0 <= sup[0]["top1"] <= 1.0 and "1 ep," in sup[0]["settings"]
    done = {("ST-GCN", "xsub")}                 # SkeletonCLR and AimCLR share one ST-GCN baseline
    assert B._supervised_rows("aimclr", {}, None, None, "xsub", "val", 0, 1, done, print) == []


@pytest.mark.slow
def test_quick_transfer_between_splits_and_cli_checks(tmp_path, capsys):
    result = B.run_benchmark("synthetic", methods=("raw", "ascal"), splits=("xview",), quick=True,
                             transfer_from=("synthetic", "xsub"), runs=str(tmp_path / "runs"),
                             select=("val",), log=lambda *a: None)
    methods = {r["method"] for r in result["rows"]}
    assert {"raw coordinates", "AS-CAL (pretrained on synthetic xsub)"} <= methods
    assert set(result["provenance"]) == {"raw/xview", "ascal (from synthetic xsub)/xview"}
    assert result["provenance"]["ascal (from synthetic xsub)/xview"]["source"].startswith("pretrained now")
    with pytest.raises(ValueError, match="in-domain"):
        B.run_benchmark("synthetic", transfer_from=("synthetic", "xsub"), untrained=True)
    for bad in (["synthetic"], ["synthetic", "xset"], ["nucla", "xview"]):
        with pytest.raises(SystemExit):
            B.cli(["--transfer-from", *bad])
    err = capsys.readouterr().err
    assert "--transfer-from: expected DATA SPLIT" in err and "needs a PATH" in err


NUCLA = shared_dir() / "data" / "nw_ucla"


@pytest.mark.slow
@pytest.mark.skipif(not (NUCLA / "all_sqe").is_dir(), reason="N-UCLA not found at ../shared/data/nw_ucla")
def test_quick_transfer_from_synthetic_to_nucla_converts_the_layout(tmp_path, monkeypatch):
    seen = []
    real = B.transfer_data

    def spy(*a, **k):
        out = real(*a, **k)
        seen.append(out)
        return out

    monkeypatch.setattr(B, "transfer_data", spy)
    result = B.run_benchmark("nucla", str(NUCLA), methods=("ascal",), quick=True,
                             transfer_from=("synthetic", "xsub"), runs=str(tmp_path / "runs"),
                             select=("val",), log=lambda *a: None)
    train, test, config = seen[0]
    assert train.layout.name == "ntu25" and train.x.shape[3:] == (25, 2) and test.x.shape[3:] == (25, 2)
    assert config["data"]["source"] == "nucla"
    rows = [r for r in result["rows"] if r["method"] == "AS-CAL (pretrained on synthetic xsub)"]
    assert rows and {r["split"] for r in rows} == {"xview"}


def test_an_earlier_run_of_another_setting_is_refused_not_reused(tmp_path):
    import yaml

    name, overrides = B.method_config("ascal", "synthetic", "xsub", quick=True)
    config = load_config(name, overrides)
    run = tmp_path / "runs" / "ascal_synthetic_xsub_quick"
    run.mkdir(parents=True)
    other = json.loads(json.dumps(config))
    other["model"]["hidden_size"] = 64
    other["data"]["root"] = "/elsewhere"                    # paths do not count
    del other["train"]["warmup_epochs"]                      # an option added since reads as its default
    (run / "config.yaml").write_text(yaml.safe_dump(other))
    (run / "checkpoint_last.pt").write_bytes(b"")
    (run / "probe.json").write_text("{}")
    assert B.config_mismatch(run / "config.yaml", config) == ["model.hidden_size: run 64, config 32"]
    with pytest.raises(ValueError, match=r"different setting \(model.hidden_size: run 64, config 32\)"):
        B.encoder_for("ascal", "synthetic", "xsub", quick=True, runs=str(tmp_path / "runs"))
    assert (run / "config.yaml").exists()                  # nothing replaced
    assert B.method_config("ascal", "nucla", "xview")[0] == "ascal_nucla_frame50"
