"""Shipped checkpoints: file format, checksum, load-or-train, and every manifest entry's accuracy."""

import json
import re

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
    # the entry says what it was measured with (torch, machine) but carries no date
    assert manifest["entries"]["tiny"]["torch"] == torch.__version__ and "exported" not in manifest["entries"]["tiny"]
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


def test_export_of_a_run_with_an_automatic_queue_size(tmp_path, monkeypatch):
    """The `*_cpu` recipes size the queue from the training split (``queue_size: auto``): the
    exported encoder keeps 'auto' in its config and builds from the file's ``data_info``."""
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    config = load_config("skeletonclr_tiny", ["model.queue_size=auto", "model.queue_fraction=0.5",
                                              "train.epochs=1", "train.progress=false"])
    run = pretrain(config, tmp_path / "run")
    method, config = load_checkpoint(run / "checkpoint_last.pt")
    assert config["model"]["queue_size"] == "auto" and method.queue.K == 16      # half of the 32 clips
    d = tmp_path / "ck"
    C.export(run, "tiny_auto", directory=d)
    extractor, entry = C.load_pretrained("tiny_auto", d)
    assert entry["config"]["model"]["queue_size"] == "auto"
    x = torch.as_tensor(build_data(config)[0].x[:4])
    with torch.no_grad():
        assert torch.equal(extractor(x), method.feature_extractor().eval()(x))
    # any other text is still refused, naming the field
    obj = torch.load(d / "tiny_auto.pt", weights_only=True)
    obj["config"]["model"]["queue_size"] = "big"
    torch.save(obj, d / "bad.pt")
    with pytest.raises(ValueError, match=r"config\.model\.queue_size: .*integer"):
        C.load_encoder(d / "bad.pt")


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


# ---------------------------------------------------------------- damaged files and manifests

class Payload:
    """A class the safe loader must refuse to rebuild."""


def shipped_copy(tmp_path, name="ascal_synthetic_xsub"):
    """A folder holding one shipped checkpoint and a manifest entry for it."""
    d = tmp_path / "ck"
    d.mkdir(exist_ok=True)
    e = dict(SHIPPED[name])
    (d / e["file"]).write_bytes((C.checkpoint_dir() / e["file"]).read_bytes())
    (d / "manifest.json").write_text(json.dumps({"format": 1, "entries": {name: e}}))
    return d, e


def rewrite(d, name, **fields):
    m = json.loads((d / "manifest.json").read_text())
    m["entries"][name].update(fields)
    m["entries"][name] = {k: v for k, v in m["entries"][name].items() if v is not None}
    (d / "manifest.json").write_text(json.dumps(m))


def test_unpickling_refusal_is_wrapped(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": C.FORMAT, "payload": Payload()}, path)
    with pytest.raises(C.DataFormatError, match=r"evil.pt: refused by the safe loader") as e:
        C.load_encoder(path)
    assert "weights_only" not in str(e.value) and "delete it" in str(e.value)


@pytest.mark.parametrize("cut", [0, 10, 1000, -200])
def test_truncated_checkpoint_names_the_file(tmp_path, cut):
    src = C.checkpoint_dir() / SHIPPED["ascal_synthetic_xsub"]["file"]
    raw = src.read_bytes()
    (tmp_path / "t.pt").write_bytes(raw[:cut] if cut >= 0 else raw[:cut])
    with pytest.raises(C.DataFormatError, match=r"t.pt: .*(truncated|refused)"):
        C.load_encoder(tmp_path / "t.pt")
    with pytest.raises(FileNotFoundError):
        C.load_encoder(tmp_path / "absent.pt")


@pytest.mark.parametrize("edit,match", [
    (dict(sha256=None), r"entries\['ascal_synthetic_xsub'\]\.sha256: .*sha256.*missing"),
    (dict(sha256="abc"), r"\.sha256: .*64 lowercase hex"),
    (dict(file="../x.pt"), r"\.file: .*inside the checkpoint folder"),
    (dict(file="/etc/passwd"), r"\.file: .*no absolute path"),
    (dict(file=None), r"\.file: .*file name"),
    (dict(file=3), r"\.file: "),
])
def test_manifest_entry_fields_are_checked(tmp_path, edit, match):
    d, _ = shipped_copy(tmp_path)
    rewrite(d, "ascal_synthetic_xsub", **edit)
    with pytest.raises(C.DataFormatError, match=match):
        C.load_pretrained("ascal_synthetic_xsub", d)


def test_manifest_link_out_of_the_folder_is_refused(tmp_path):
    d, e = shipped_copy(tmp_path)
    (tmp_path / "outside.pt").write_bytes((d / e["file"]).read_bytes())
    (d / "link.pt").symlink_to(tmp_path / "outside.pt")
    rewrite(d, "ascal_synthetic_xsub", file="link.pt")
    with pytest.raises(C.DataFormatError, match="a link leads outside"):
        C.load_pretrained("ascal_synthetic_xsub", d)


@pytest.mark.parametrize("text", ['{"entries": [[[[', "[" * 100000, '{"entries": 3}', "\udcff"])
def test_damaged_manifest(tmp_path, text):
    (tmp_path / "manifest.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(C.DataFormatError, match="manifest.json"):
        C.read_manifest(tmp_path)


def saved_with(tmp_path, model=None, data_info=None, state=None):
    obj = torch.load(C.checkpoint_dir() / SHIPPED["ascal_synthetic_xsub"]["file"], weights_only=True)
    if model:
        obj["config"]["model"].update(model)
    if data_info:
        obj["data_info"].update(data_info)
    if state is not None:
        obj["state_dict"] = state
    torch.save(obj, tmp_path / "c.pt")
    return tmp_path / "c.pt"


def test_saved_tensors_must_match_the_model(tmp_path):
    obj = torch.load(C.checkpoint_dir() / SHIPPED["ascal_synthetic_xsub"]["file"], weights_only=True)
    key = next(iter(obj["state_dict"]))
    for bad, match in ((obj["state_dict"][key][:1], "torch.float32"), (obj["state_dict"][key].double(), "float64"),
                       (obj["state_dict"][key] * float("nan"), "finite weights")):
        path = saved_with(tmp_path, state={**obj["state_dict"], key: bad})
        with pytest.raises(C.DataFormatError, match=rf"c.pt: state_dict\['{re.escape(key)}'\].*{match}"):
            C.load_encoder(path)


@pytest.mark.parametrize("kw,match", [
    (dict(model={"hidden_size": 8192, "num_layers": 16}), r"config.model: .*at most 100,000,000"),
    (dict(model={"hidden_size": 2 ** 40}), r"config.model.hidden_size: .*1..8192"),
    (dict(model={"num_layers": 10 ** 6}), r"config.model.num_layers: .*1..16"),
    (dict(model={"tau": float("nan")}), r"config.model.tau: .*finite"),
    (dict(model={"K": True}), r"config.model.K: .*integer in 1..1048576, got True"),
    (dict(model={"selected_frames": 3.0}), r"config.model.selected_frames: .*integer"),
    (dict(model={"extra": [[2 ** 40]]}), r"config.model.extra\[0\]\[0\]: .*within"),
    (dict(data_info={"joints": 10 ** 9}), r"data_info.joints: .*1..100"),
    (dict(data_info={"channels": "3"}), r"data_info.channels"),
    (dict(model={"hidden_size": "big"}), r"config.model.hidden_size: .*integer"),
    (dict(model={"no_such_option": 1}), r"model.no_such_option"),
    (dict(state={"w": torch.zeros(2)}), r"state_dict: expected the parameters of the model"),
    (dict(state=[1, 2]), r"state_dict"),
])
def test_checkpoint_config_is_validated_before_building(tmp_path, kw, match):
    path = saved_with(tmp_path, **kw)
    with pytest.raises(C.DataFormatError, match=match) as e:
        C.load_encoder(path)
    assert "c.pt" in str(e.value)


def test_load_or_train_retrains_a_corrupt_shipped_file(tiny_run, tmp_path):
    d = tmp_path / "ck"
    C.export(tiny_run, "tiny", directory=d)
    raw = (d / "tiny.pt").read_bytes()
    (d / "tiny.pt").write_bytes(raw[: len(raw) // 2])
    rewrite(d, "tiny", sha256=C.sha256(d / "tiny.pt"))   # checksum matches: the load itself fails
    with pytest.warns(UserWarning, match=r"'tiny': the shipped checkpoint is damaged.*tiny.pt"):
        ex, e = C.load_or_train("tiny", directory=d, overrides=["train.epochs=2"], run_dir=tmp_path / "re")
    assert e["trained_now"]
    with pytest.raises(FileNotFoundError, match="damaged"), pytest.warns(UserWarning):
        C.load_or_train("tiny", directory=d, allow_train=False)
