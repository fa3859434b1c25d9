"""Shipped checkpoints: file format, checksum, load-or-train, and every manifest entry's accuracy."""

import json

import pytest
import torch

from skelcl_lib import checkpoints as C
from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data
from skelcl_lib.pretrain import pretrain
from skelcl_lib.rundir import load_checkpoint


@pytest.fixture
def tiny_run(tmp_path, monkeypatch):
    """A finished `ascal_tiny` pretraining run (3 passes on the tiny embedded set, seconds)."""
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run = pretrain(load_config("ascal_tiny"), tmp_path / "run")
    yield run
    torch.set_num_threads(threads)


def test_export_load_roundtrip(tiny_run, tmp_path):
    d = tmp_path / "ck"
    e = C.export(tiny_run, "tiny", directory=d, notes="test")
    assert (d / "tiny.pt").exists() and e["sha256"] == C.sha256(d / "tiny.pt")
    assert C.available(d) == ["tiny"]
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["entries"]["tiny"]["epochs"] == 3 and manifest["entries"]["tiny"]["method"] == "ascal"
    # the exported encoder computes the same features as the training checkpoint's query encoder
    method, config = load_checkpoint(tiny_run / "checkpoint_last.pt")
    extractor, entry = C.load_pretrained("tiny", d)
    train, _ = build_data(config)
    x = torch.as_tensor(train.x[:5])
    with torch.no_grad():
        assert torch.equal(extractor(x), method.feature_extractor().eval()(x))
    # the export's recorded accuracy is the training run's own probe (same features, same probe)
    probe = json.loads((tiny_run / "probe.json").read_text())
    assert entry["accuracy"]["linear_probe"] == pytest.approx(probe["linear"], abs=1e-6)
    assert entry["accuracy"]["knn1"] == pytest.approx(probe["knn"]["1"], abs=1e-6)
    # only the query side is stored: no key encoder, no queue
    obj = torch.load(d / "tiny.pt", weights_only=True)
    assert not any("queue" in k or "encoder_k" in k for k in obj["state_dict"])


def test_checksum_and_format_errors(tiny_run, tmp_path):
    d = tmp_path / "ck"
    C.export(tiny_run, "tiny", directory=d)
    with open(d / "tiny.pt", "ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match="sha256"):
        C.load_pretrained("tiny", d)
    with pytest.raises(ValueError, match="field 'format'"):
        C.load_encoder(tiny_run / "checkpoint_last.pt")
    with pytest.raises(KeyError, match="not in"):
        C.load_pretrained("nope", d)
    (d / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest.json: not valid JSON"):
        C.read_manifest(d)


def test_load_or_train_falls_back_to_training(tiny_run, tmp_path):
    d = tmp_path / "ck"
    C.export(tiny_run, "tiny", directory=d)
    ex, e = C.load_or_train("tiny", directory=d)
    assert "trained_now" not in e
    (d / "tiny.pt").unlink()
    with pytest.raises(FileNotFoundError, match="allow_train=False"):
        C.load_or_train("tiny", directory=d, allow_train=False)
    ex2, e2 = C.load_or_train("tiny", directory=d, overrides=["train.epochs=2"], run_dir=tmp_path / "re")
    assert e2["trained_now"] and e2["config"]["train"]["epochs"] == 2
    assert ex2.out_dim == ex.out_dim
    # a packaged config name works without a manifest entry
    _, e3 = C.load_or_train("ascal_tiny", directory=d, overrides=["train.epochs=2"], run_dir=tmp_path / "pk")
    assert e3["trained_now"] and e3["probe"]["num_test"] > 0


SHIPPED = C.read_manifest()["entries"]


def test_manifest_lists_files_that_exist():
    for name, e in SHIPPED.items():
        path = C.checkpoint_dir() / e["file"]
        assert path.exists(), f"{name}: {path} missing"
        assert C.sha256(path) == e["sha256"], f"{name}: checksum"
        assert e["bytes"] < 8_000_000, f"{name}: {e['bytes']} bytes; shipped checkpoints stay small"
        for field in ("config", "epochs", "data", "accuracy", "method"):
            assert field in e, f"{name}: manifest field {field!r} missing"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_checkpoint_reproduces_its_accuracy(name, tmp_path, monkeypatch):
    """Reload, re-extract features on the embedded dataset, re-run the probe: same numbers."""
    if SHIPPED[name]["data"]["source"] != "synthetic":
        pytest.skip("only embedded-data checkpoints are reproducible everywhere")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        extractor, e = C.load_pretrained(name)
        got = C.measure(extractor, e["config"])
    finally:
        torch.set_num_threads(threads)
    for key, recorded in e["accuracy"].items():
        if key.startswith(("linear", "knn")):
            assert got[key] == pytest.approx(recorded, abs=0.005), f"{name}: {key}"


def test_config_for_shipped_names():
    assert C.config_for("ascal_synthetic") == ("ascal_synthetic", [])
    assert C.config_for("aimclr_synthetic_xview", ["train.epochs=1"]) == (
        "aimclr_synthetic", ["data.protocol=xview", "train.epochs=1"])
    assert C.config_for("aimclr_synthetic_bone_xsub")[0] == "aimclr_synthetic_bone"
    with pytest.raises(FileNotFoundError, match="not a packaged config"):
        C.config_for("nothing_xsub")
