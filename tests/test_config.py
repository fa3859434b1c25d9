"""skelcl_lib.config: the schema (unknown keys, types, ranges, rules between keys), where each
problem came from, the command line's one-line errors, and safe resume."""

import inspect
import json

import pytest
import torch

from skelcl_lib import cli as cli_mod
from skelcl_lib.config import CONFIG_DIR, MODEL, check_config, config_diff, load_config, read_yaml, validate
from skelcl_lib.errors import ConfigError, DataFormatError
from skelcl_lib.methods import AimCLR, SkeletonCLR, build_method
from skelcl_lib.methods.ascal import ASCAL
from skelcl_lib.pretrain import pretrain
from skelcl_lib.rundir import read_checkpoint


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIG_DIR.glob("*.yaml")))
def test_every_packaged_config_follows_the_schema(name):
    cfg = load_config(name)
    assert check_config(cfg) == []


def _problem(overrides, name="ascal_tiny"):
    with pytest.raises(ConfigError) as info:
        load_config(name, overrides)
    return info.value


@pytest.mark.parametrize("assignment, key, hint", [
    ("data.protocl=xview", "data.protocl", "did you mean 'data.protocol'"),
    ("seeed=3", "seeed", "did you mean 'seed'"),
    ("trian.epochs=2", "trian", "did you mean 'train'"),
    ("train.weigth_decay=0", "train.weigth_decay", "did you mean 'train.weight_decay'"),
    ("model.hiden_size=8", "model.hiden_size", "did you mean 'model.hidden_size'"),
    ("data.synthetic.sise=tiny", "data.synthetic.sise", "did you mean 'data.synthetic.size'"),
])
def test_an_unknown_key_names_the_closest_known_one(assignment, key, hint):
    err = _problem([assignment])
    assert len(err.problems) == 1
    assert str(err) == f"--set {assignment}: {key}: expected a known key ({hint}?)"


@pytest.mark.parametrize("assignment, expected", [
    ("train.epochs=0", "an integer >= 1, got 0"),
    ("train.epochs=2.5", "an integer >= 1, got 2.5"),
    ("train.lr=abc", "a number > 0, got 'abc'"),
    ("train.lr=-0.1", "a number > 0, got -0.1"),
    ("train.lr=.nan", "a number > 0, got nan"),
    ("train.batch_size=0", "an integer >= 1, got 0"),
    ("train.amp=yes please", "true or false, got 'yes please'"),
    ("train.optimizer=adam", "one of ['sgd', 'adamw'], got 'adam'"),
    ("train.device=gpu", "auto, cpu, mps, cuda or cuda:N, got 'gpu'"),
    ("train.lr_milestones=[10, -1]", "a list of integers >= 0, got [10, -1]"),
    ("probe.knn_k=[0]", "a list of integers >= 1, got [0]"),
    ("data.source=kinetics", "one of ['synthetic', 'stgcn', 'nucla'], got 'kinetics'"),
    ("model.K=4", "a queue of at least train.batch_size = 16 keys, got 4"),
    ("model.alpha=1.5", "a number >= 0 and <= 1, got 1.5"),
    ("model.streams=[joint, speed]", "a stream name or a list of them (joint, motion, bone), got ['joint', 'speed']"),
])
def test_types_ranges_and_rules_are_checked_with_the_setting_named(assignment, expected):
    key = assignment.partition("=")[0]
    assert str(_problem([assignment])) == f"--set {assignment}: {key}: expected {expected}"


def test_a_number_like_string_setting_says_how_to_quote_it():
    err = str(_problem(["model.aug_method=12345"], "aimclr_tiny"))
    assert "model.aug_method: expected a string" in err and "got 12345" in err
    assert "--set \"key='12345'\"" in err
    assert load_config("aimclr_tiny", ["model.aug_method='12345'"])["model"]["aug_method"] == "12345"


def test_queue_of_the_st_gcn_methods_holds_a_batch_and_the_method_is_known():
    assert "model.queue_size: expected a queue of at least train.batch_size = 32" in str(
        _problem(["train.batch_size=32", "model.queue_size=16"], "skeletonclr_tiny"))
    assert "method: expected one of ['aimclr', 'ascal', 'skeletonclr'], got 'simclr'" in str(_problem(["method=simclr"]))


def test_a_bad_key_in_a_file_names_the_file_and_every_problem_gets_a_line(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("base: ascal_tiny\nseeed: 1\ntrain:\n  epochs: 0\n  lr: 1e-3\n")
    err = _problem([], str(path))
    assert str(err).splitlines() == [f"{path}: seeed: expected a known key (did you mean 'seed'?)",
                                     f"{path}: train.epochs: expected an integer >= 1, got 0"]
    path.write_text("base: ascal_tiny\ntrain:\n  lr: 1e-3\n")
    assert load_config(str(path))["train"]["lr"] == 0.001            # YAML 1.1 would read a string
    assert read_yaml("[1e-3, 2.5E+2, .5, abc, 7]") == [0.001, 250.0, 0.5, "abc", 7]


def test_the_schema_knows_exactly_the_builders_options():
    def options(fn, drop=("self", "cls", "kwargs", "options")):
        return {p for p in inspect.signature(fn).parameters if p not in drop}

    assert set(MODEL["ascal"]) == options(ASCAL.build) - {"input_size"}
    builder = {"queue_fraction"}        # read by skeletonclr.method_builder (queue_size: auto)
    assert set(MODEL["skeletonclr"]) == options(SkeletonCLR.parts) | builder
    assert set(MODEL["aimclr"]) == options(AimCLR.build) | options(SkeletonCLR.parts) | builder


def test_build_method_and_checkpoints_check_the_config_before_building(tmp_path):
    with pytest.raises(ConfigError, match="model.queue_sise: expected a known key"):
        build_method({"method": "skeletonclr", "model": {"queue_sise": 8}}, {"channels": 3})
    cfg = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=16", "train.epochs=1"])
    pretrain(cfg, tmp_path)
    ckpt = torch.load(tmp_path / "checkpoint_last.pt", weights_only=True)
    ckpt["config"]["model"]["hidden_size"] = -5
    torch.save(ckpt, tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match=r"bad.pt \(its config\): model.hidden_size: expected an integer >= 1"):
        read_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ConfigError, match="train.epochs"):
        pretrain({**cfg, "train": {**cfg["train"], "epochs": 0}}, tmp_path / "never")
    assert not (tmp_path / "never").exists()          # refused before anything was built or written


def test_cli_prints_one_line_per_problem_and_exits_2(capsys):
    assert cli_mod.main(["pretrain", "--config", "ascal_tiny", "--set", "trian.epochs=1",
                         "--set", "train.lr=abc"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "skelcl pretrain: --set trian.epochs=1: trian: expected a known key (did you mean 'train'?)",
        "skelcl pretrain: --set train.lr=abc: train.lr: expected a number > 0, got 'abc'"]
    assert "Traceback" not in err
    assert cli_mod.main(["--debug", "pretrain", "--config", "ascal_tiny", "--set", "seeed=1"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_cli_turns_a_data_format_error_into_one_line(monkeypatch, capsys):
    def broken(argv):
        raise DataFormatError.at("clip.skeleton", "line 3 (numBodies)", "an integer >= 0", got="abc")

    monkeypatch.setitem(cli_mod.COMMANDS, "broken", ("skelcl_lib.env", "report", "a stand-in"))
    monkeypatch.setattr("skelcl_lib.env.report", broken)
    assert cli_mod.main(["broken"]) == 2
    err = capsys.readouterr().err
    assert err == "skelcl broken: clip.skeleton: line 3 (numBodies): expected an integer >= 0, got 'abc'\n"


def test_config_diff_lists_changed_leaves():
    a = {"seed": 1, "train": {"lr": 0.1, "epochs": 2}, "data": {"synthetic": {"size": "tiny"}}}
    b = {"seed": 1, "train": {"lr": 0.2, "epochs": 2}, "data": {"synthetic": {"size": "small"}}, "x": (1, 2)}
    assert config_diff(a, b) == [("data.synthetic.size", "tiny", "small"), ("train.lr", 0.1, 0.2),
                                 ("x", None, [1, 2])]
    assert config_diff(a, b, ignore=("data", "x")) == [("train.lr", 0.1, 0.2)]
    assert validate(load_config("ascal_tiny")) is not None


# --------------------------------------------------------------------------- safe resume


@pytest.fixture
def one_epoch_run(tmp_path):
    cfg = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=16", "train.epochs=1"])
    run = tmp_path / "run"
    pretrain(cfg, run)
    return cfg, run


def test_resume_refuses_a_changed_setting_and_names_it(one_epoch_run, capsys):
    cfg, run = one_epoch_run
    before = (run / "config.yaml").read_text()
    changed = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=16", "train.epochs=2",
                                         "train.lr=0.5", "seed=7"])
    with pytest.raises(ConfigError) as info:
        pretrain(changed, run, resume=True)
    keys = [p.key for p in info.value.problems]
    assert keys == ["seed", "train.lr"]                 # lengthening (train.epochs) is not a problem
    assert "expected 0.003 as the run was started" in str(info.value) and "got 0.5" in str(info.value)
    assert (run / "config.yaml").read_text() == before and not (run / "resume.log").exists()
    rc = cli_mod.main(["pretrain", "--config", "ascal_tiny", "--run-dir", str(run), "--resume",
                       "--set", "probe.enabled=false", "--set", "data.max_train=16", "--set", "train.lr=0.5"])
    assert rc == 2 and "train.lr" in capsys.readouterr().err


def test_resume_may_lengthen_the_run(one_epoch_run):
    cfg, run = one_epoch_run
    longer = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=16", "train.epochs=2"])
    pretrain(longer, run, resume=True)
    assert torch.load(run / "checkpoint_last.pt", weights_only=True)["epoch"] == 2
    assert "epochs: 2" in (run / "config.yaml").read_text()
    assert "train.epochs: 1 -> 2" in (run / "resume.log").read_text()


def test_resume_with_allow_config_change_records_the_change(one_epoch_run):
    cfg, run = one_epoch_run
    before = (run / "config.yaml").read_text()
    changed = load_config("ascal_tiny", ["probe.enabled=false", "data.max_train=16", "train.epochs=2",
                                         "train.lr=0.5"])
    pretrain(changed, run, resume=True, allow_config_change=True)
    assert (run / "config.prev-epoch001.yaml").read_text() == before
    assert "lr: 0.5" in (run / "config.yaml").read_text()
    log = (run / "resume.log").read_text()
    assert log == "resumed after epoch 1 with changed settings: train.epochs: 1 -> 2; train.lr: 0.003 -> 0.5\n"
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and rows[1]["lr"] == 0.5
