"""``skelcl pretrain --config NAME [--set a.b=value ...]``: data and method from a config, the
loop (:func:`skelcl_lib.train.fit`) on the pretraining set, then a quick probe of the frozen
features on the labelled train and test splits."""

from __future__ import annotations

import argparse
import inspect
import json
import pathlib
import sys

import torch.distributed as dist
from torch import nn

from .config import DEFAULTS, config_diff, load_config, merge, validate
from .data.build import build_data, build_pretrain_set, data_info
from .env import seed_everything
from .errors import ConfigError, ConfigProblem
from .evaluate.features import extract_features, linear_probe
from .evaluate.knn import knn_accuracy
from .methods import build_method
from .methods.aimclr import AimCLR
from .optim import EPOCH_SETTINGS, steps_per_epoch, stretch_schedule
from .rundir import LAST, load_state, read_config, write_config
from .train import distributed_rank_world, fit, init_distributed


def quick_probe(method: nn.Module, train, test, config: dict) -> dict:
    """Frozen features of train/test -> {"linear": acc, "knn": {k: acc}} (scikit-learn, a quick judge)."""
    pc = config["probe"]
    return probe_extractor(method.feature_extractor(), train, test, tuple(pc["knn_k"]), pc["batch_size"])


def probe_extractor(extractor: nn.Module, train, test, knn_k=(1, 5, 20), batch_size: int = 256) -> dict:
    """:func:`quick_probe` for any feature extractor (its mode as the caller set it)."""
    f_train = extract_features(extractor, train, batch_size=batch_size)
    f_test = extract_features(extractor, test, batch_size=batch_size)
    knn = knn_accuracy(f_train, train.y, f_test, test.y, k=knn_k)
    return {"linear": linear_probe(f_train, train.y, f_test, test.y),
            "knn": {str(k): v for k, v in knn.items()},
            "num_train": len(train), "num_test": len(test), "feature_dim": int(f_train.shape[1])}


def epoch_probe(method: nn.Module, train, test, config: dict):
    """``probe.every: N`` > 0: a :func:`~skelcl_lib.train.fit` callback ``epoch -> dict`` that runs
    :func:`quick_probe` after every N-th epoch and returns ``probe_linear`` and ``probe_knnK`` for
    that epoch's log row (the learning curve of the representation, not only of the loss);
    None when N is 0."""
    every = int(config["probe"].get("every") or 0)
    if every <= 0:
        return None

    def on_epoch_end(epoch: int) -> dict:
        if epoch % every:
            return {}
        probe = quick_probe(method, train, test, config)
        return {"probe_linear": probe["linear"], **{f"probe_knn{k}": v for k, v in probe["knn"].items()}}
    return on_epoch_end


def stretched(config: dict, num_samples: int, world: int = 1, rank: int = 0) -> dict:
    """``config`` after :func:`~skelcl_lib.optim.stretch_schedule` for ``num_samples`` pretraining
    clips (``train.min_steps``: more epochs on a small dataset); what changed is printed (rank 0).
    AimCLR's ``mining_epoch``, when the config leaves it to the method's default, is written in
    first, so that it is scaled with the rest of the schedule."""
    if int(config["train"].get("min_steps") or 0) > 0 and config["method"] == "aimclr" \
            and "mining_epoch" not in (config.get("model") or {}):
        default = inspect.signature(AimCLR.build).parameters["mining_epoch"].default
        config = {**config, "model": {**(config.get("model") or {}), "mining_epoch": default}}
    steps = steps_per_epoch(num_samples, config["train"], world)
    config, changes = stretch_schedule(config, steps)
    if changes and rank == 0:
        told = ", ".join(f"{k} {a} -> {b}" for k, a, b in ((k, *v) for k, v in changes.items()))
        print(f"train.min_steps {config['train']['min_steps']}: {num_samples} clips give {steps} "
              f"steps per epoch; {told}", flush=True)
    return config


def check_same_stretch(run_dir, config: dict) -> None:
    """On resume: the stretched schedule (epoch-counted settings, :data:`~skelcl_lib.optim.EPOCH_SETTINGS`)
    must be the one the run's last checkpoint followed; it changes when the steps per epoch do
    (another number of processes) or when a larger ``train.epochs`` no longer needs stretching."""
    saved = load_state(pathlib.Path(run_dir) / LAST)["config"]
    differ = []
    for key in EPOCH_SETTINGS:
        section, name = key.split(".")
        old, new = (saved.get(section) or {}).get(name), (config.get(section) or {}).get(name)
        if old != new:
            differ.append(ConfigProblem(
                f"--resume {run_dir}", key,
                f"{old!r} as the run's schedule was stretched by train.min_steps (resume with the "
                f"same train.epochs and number of processes, or --allow-config-change)", new))
    if differ:
        raise ConfigError(differ)


# Settings a resumed run may change freely: they do not change what is computed.
RESUME_FREE = ("name", "run_dir", "train.progress", "train.num_workers")


def resume_changes(run_dir, config: dict, allow_change: bool = False) -> list[tuple]:
    """The differences ``[(key, saved, new)]`` between the config a run was started with and
    ``config``. Lengthening the run (a larger ``train.epochs``) is always allowed; any other
    difference raises :class:`ConfigError` naming the fields unless ``allow_change``. A key the
    saved config lacks (an option added to :data:`~skelcl_lib.config.DEFAULTS` since) reads as
    its default."""
    run_dir = pathlib.Path(run_dir)
    saved = read_config(run_dir)
    if saved is None:
        saved = load_state(run_dir / LAST)["config"]
    saved = merge(DEFAULTS, saved)
    changes = config_diff(saved, config, RESUME_FREE)
    refused = [(k, a, b) for k, a, b in changes
               if not (k == "train.epochs" and isinstance(a, int) and isinstance(b, int) and b > a)]
    if refused and not allow_change:
        raise ConfigError([ConfigProblem(
            f"--resume {run_dir}", key,
            f"{old!r} as the run was started (only a larger train.epochs may change on resume; "
            f"--allow-config-change resumes anyway and records the change)", new)
            for key, old, new in refused])
    return changes


def record_resume_changes(run_dir, changes: list[tuple]) -> None:
    """Keep the previous config.yaml as config.prev-epochNNN.yaml and append the changes to
    resume.log (NNN: the epoch of the checkpoint the run resumes from)."""
    run_dir = pathlib.Path(run_dir)
    epoch = int(load_state(run_dir / LAST)["epoch"])
    if (run_dir / "config.yaml").exists():
        (run_dir / "config.yaml").replace(run_dir / f"config.prev-epoch{epoch:03d}.yaml")
    line = "; ".join(f"{k}: {a!r} -> {b!r}" for k, a, b in changes)
    with open(run_dir / "resume.log", "a") as f:
        f.write(f"resumed after epoch {epoch} with changed settings: {line}\n")
    print(f"resuming {run_dir} after epoch {epoch} with changed settings: {line}", file=sys.stderr)


def pretrain(config: dict, run_dir=None, resume: bool = False, allow_config_change: bool = False,
             prepare=None) -> pathlib.Path:
    """Build data and method from ``config``, run :func:`~skelcl_lib.train.fit` on the
    pretraining set (:func:`~skelcl_lib.data.build.build_pretrain_set`: the labelled training
    split, plus the clips of ``data.unlabelled_subjects`` extra performers of the generator; the
    method is built for it, e.g. ``queue_size: auto``), then the quick probe -> run_dir. With
    ``train.min_steps`` the schedule is first stretched to that many steps (:func:`stretched`):
    the run's ``config.yaml`` keeps the config as asked for (what a resume is compared with), its
    checkpoints the stretched one the run follows.

    The probe (linear + kNN on frozen features of the labelled train and test splits only, see
    :func:`quick_probe`) is written to
    ``run_dir/probe.json`` and printed; ``probe.enabled: false`` skips it. ``probe.every: N``
    also probes after every N-th epoch, into ``log.jsonl`` (:func:`epoch_probe`). ``resume`` continues
    the run in ``run_dir`` when its config is the same (see :func:`resume_changes`).
    ``prepare(method, config, info)``, when given, runs on the built method before training (a
    diagnostic that changes the initial weights, e.g. ``benchmarks/stgcn_init_swap.py``).
    """
    validate(config)
    run_dir = pathlib.Path(run_dir or config.get("run_dir") or pathlib.Path("runs") / config.get("name", "run"))
    changes = resume_changes(run_dir, config, allow_config_change) if resume else []
    created = init_distributed()
    rank, world = distributed_rank_world()
    try:
        seed_everything(int(config["seed"]))
        train, test = build_data(config)
        pretrain_set = build_pretrain_set(config, train)   # train itself unless data.unlabelled_subjects
        requested = config
        config = stretched(config, len(pretrain_set), world, rank)
        if resume and not allow_config_change:
            check_same_stretch(run_dir, config)
        info = data_info(pretrain_set)
        method = build_method(config, info)
        if prepare is not None:
            prepare(method, config, info)
        if rank == 0:
            run_dir.mkdir(parents=True, exist_ok=True)
            if changes:
                record_resume_changes(run_dir, changes)
            write_config(run_dir, requested)
        fit(method, pretrain_set, config, run_dir, resume=resume, info=info,
            on_epoch_end=epoch_probe(method, train, test, config))
        if rank == 0 and config["probe"]["enabled"]:
            result = {"config": config.get("name"), "protocol": config["data"].get("protocol"),
                      **quick_probe(method, train, test, config)}
            (run_dir / "probe.json").write_text(json.dumps(result, indent=2) + "\n")
            print(json.dumps(result, indent=2))
    finally:
        if created:
            dist.destroy_process_group()
    return run_dir


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="skelcl pretrain", description="Self-supervised pretraining from a YAML config.")
    ap.add_argument("--config", required=True, help="packaged config name (e.g. ascal_synthetic) or a YAML path")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value, e.g. --set train.epochs=5 (repeatable)")
    ap.add_argument("--run-dir", default=None, help="output folder (default: config run_dir or runs/NAME)")
    ap.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint_last.pt")
    ap.add_argument("--allow-config-change", action="store_true",
                    help="with --resume: continue although the config differs from the run's (recorded in "
                         "RUN_DIR/resume.log; the old config.yaml is kept as config.prev-epochNNN.yaml)")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: config train.device)")
    args = ap.parse_args(argv)
    config = load_config(args.config, args.overrides)
    if args.device:
        config["train"]["device"] = args.device
    run_dir = pretrain(config, args.run_dir, resume=args.resume, allow_config_change=args.allow_config_change)
    print(f"run dir: {run_dir}", file=sys.stderr)
    return 0
