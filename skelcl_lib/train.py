"""One pretraining loop for every method: ``skelcl pretrain --config NAME [--set a.b=value ...]``.

A config is a plain dict (YAML), merged over :data:`DEFAULTS`::

    method: ascal            # a key of the method registry (see register_method)
    base: ascal_synthetic    # optional: start from another config, then override
    seed: 1
    data:  {source: synthetic | stgcn | nucla, protocol: xsub, preprocess: null | frame50,
            normalize_scale: null | torso length in metres, ...}
    model: {...}             # keyword arguments of the method's builder
    train: {epochs, batch_size, optimizer, lr, lr_milestones, amp, device, ...}
    probe: {enabled, knn_k, batch_size}
    run_dir: runs/NAME

The loop (:func:`fit`) does not know which method it runs. A method is an ``nn.Module`` with
``training_step(batch) -> (loss, logs)``, ``on_epoch_start(epoch)`` (1-based) and
``after_optimizer_step()``; a step that returns ``loss=None`` is **forward-only** (AS-CAL's
queue warm-up epoch): the loop then does no backward, no optimiser step and does not call
``after_optimizer_step``. A method that may do so should run such steps without autograd.

Determinism and resume: the data order of epoch e is a permutation seeded by (seed, e) and the
global torch RNG (which the augmentations draw from) is re-seeded from (seed, e, rank) at the
start of every epoch, so a run resumed from the checkpoint of epoch e continues exactly as the
uninterrupted run (bit for bit on the CPU). Checkpoints hold the method (with its queue), the
optimiser, the AMP scaler, RNG states, the epoch and the config (plain types: ``weights_only``).

Multi-GPU: ``torchrun --nproc_per_node=G -m skelcl_lib pretrain --config ...`` wraps the method in
DistributedDataParallel; each process sees 1/G of every epoch, and keys are gathered across
processes before they enter the queue (``methods.moco.concat_all_gather``). ``batch_size`` is per
process. The learning rate is not rescaled: state it with ``--set train.lr=...``.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import pathlib
import random
import sys
import time
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

CONFIG_DIR = pathlib.Path(__file__).resolve().parent / "configs"

DEFAULTS: dict = {
    "method": "ascal",
    "seed": 1,
    "run_dir": None,                 # default: runs/<config name>
    "data": {"source": "synthetic", "protocol": "xsub", "preprocess": None, "normalize_scale": None},
    "model": {},
    "train": {
        "epochs": 60,
        "batch_size": 32,
        "optimizer": "sgd",          # sgd | adamw
        "lr": 0.01,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 1.0e-4,
        "lr_schedule": "step",       # step (×lr_gamma after each milestone epoch) | cosine | constant
        "lr_milestones": [30, 70],
        "lr_gamma": 0.1,
        "grad_clip": None,           # max global L2 norm of the gradients, None = off
        "amp": True,                 # mixed precision, CUDA only
        "amp_dtype": "float16",      # float16 (with a grad scaler) | bfloat16
        "device": "auto",            # auto = CUDA → MPS → CPU, or cpu / cuda / cuda:1 / mps
        "num_workers": 0,
        "drop_last": False,
        "save_every": 10,            # also keep ckpt_epoch_XXX.pt every N epochs (0: only the last)
        "progress": True,
    },
    "probe": {"enabled": True, "knn_k": [1, 5, 20], "batch_size": 256},
}


# ---------------------------------------------------------------------------------------------
# Configs


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def config_path(name_or_path) -> pathlib.Path:
    """A YAML path as given, else a packaged config ``skelcl_lib/configs/NAME.yaml``."""
    p = pathlib.Path(name_or_path)
    if p.is_file():
        return p
    packaged = CONFIG_DIR / (p.name if p.suffix in (".yaml", ".yml") else p.name + ".yaml")
    if packaged.is_file() and p.parent == pathlib.Path("."):
        return packaged
    names = sorted(q.stem for q in CONFIG_DIR.glob("*.yaml"))
    raise FileNotFoundError(f"config {str(name_or_path)!r}: no such file, and not a packaged config; "
                            f"expected a YAML path or one of {names}")


def _read_yaml(path: pathlib.Path, chain=()) -> dict:
    import yaml

    if path in chain:
        raise ValueError(f"{path}: field 'base': circular base chain {[str(c) for c in chain]}")
    cfg = yaml.safe_load(path.read_text()) or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level, got {type(cfg).__name__}")
    base = cfg.pop("base", None)
    if base is None:
        return cfg
    base_path = path.parent / base if (path.parent / str(base)).is_file() else config_path(base)
    return _merge(_read_yaml(base_path, (*chain, path)), cfg)


def apply_override(cfg: dict, assignment: str) -> dict:
    """``"a.b=value"``: set ``cfg["a"]["b"]`` to ``yaml.safe_load(value)`` (in place, returns cfg)."""
    import yaml

    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {assignment!r}: expected key=value, e.g. train.epochs=5")
    node, parts = cfg, key.strip().split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part, {}), dict):
            raise ValueError(f"--set {assignment!r}: {part!r} is not a section")
        node = node.setdefault(part, {})
    value = yaml.safe_load(text)
    if isinstance(value, str) and text.strip()[:1] not in ("'", '"'):   # quoted: keep the string
        try:                                     # YAML 1.1 reads "1e-3" as a string
            value = float(value)
        except ValueError:
            pass
    node[parts[-1]] = value
    return cfg


def load_config(name_or_path, overrides=()) -> dict:
    """A packaged config by name (``ascal_synthetic``) or a YAML file, with ``base`` chains
    resolved, merged over :data:`DEFAULTS`, then ``overrides`` (``"a.b=value"``) applied."""
    path = config_path(name_or_path)
    cfg = _merge(DEFAULTS, _read_yaml(path))
    for a in overrides:
        apply_override(cfg, a)
    for section in ("train", "probe"):
        unknown = sorted(set(cfg[section]) - set(DEFAULTS[section]))
        if unknown:
            raise ValueError(f"{path}: section {section!r}: unknown keys {unknown}; "
                             f"expected some of {sorted(DEFAULTS[section])}")
    cfg.setdefault("name", path.stem)
    return cfg


# ---------------------------------------------------------------------------------------------
# Registry of methods and data


METHODS: dict[str, Callable] = {}


def register_method(name: str):
    """Decorator: ``@register_method("aimclr")`` on ``build(config, data_info) -> nn.Module``.

    ``build_method`` imports ``skelcl_lib.methods.<name>`` on first use, so a method module
    registers itself and this file needs no edit.
    """
    def deco(fn):
        METHODS[name] = fn
        return fn
    return deco


def data_info(data) -> dict:
    """What a method builder may know about the training data (plain types, stored in checkpoints)."""
    n, c, t, v, m = data.x.shape
    return {"channels": int(c), "frames": int(t), "joints": int(v), "bodies": int(m),
            "num_train": int(n), "num_classes": int(data.num_classes), "layout": data.layout.name}


def build_method(config: dict, data_info_or_data) -> nn.Module:
    """The method named by ``config["method"]``, built from ``config["model"]`` and the data info."""
    name = config["method"]
    info = data_info_or_data if isinstance(data_info_or_data, dict) else data_info(data_info_or_data)
    if name not in METHODS:
        import importlib
        try:
            importlib.import_module(f"skelcl_lib.methods.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"skelcl_lib.methods.{name}":
                raise
    if name not in METHODS:
        raise ValueError(f"config field 'method': unknown method {name!r}; registered: {sorted(METHODS)}")
    return METHODS[name](config, info)


def _spread(n: int, k: int) -> np.ndarray:
    """k indices evenly spaced over range(n) (all of them when k >= n)."""
    if k >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


# The ``data`` fields that shape what an encoder reads (applied by ``build_data`` after loading):
# a baseline on coordinates as recorded sets them all to None, a transfer copies them from the
# encoder's own config.
INPUT_FIELDS = ("preprocess", "normalize_scale")


def build_data(config: dict):
    """(train, test) SkeletonData for ``config["data"]``.

    sources: ``synthetic`` (``seed`` + ``make_synthetic`` keyword arguments under ``synthetic``,
    split by ``protocol``); ``stgcn`` (``root`` + ``train_data``/``train_label``/``test_data``/
    ``test_label`` file names); ``nucla`` (``root``, split by ``protocol``).
    ``preprocess: frame50`` applies AimCLR's ``to_frame50`` to both parts; then
    ``normalize_scale: L`` (metres; not in either official code) scales every clip so that its
    performer's torso is L long (``data.normalize.normalize_scale``).
    ``max_train`` / ``max_test`` keep n samples of each part, evenly spaced over it (for quick
    runs; files sorted by class, as N-UCLA's are, still give every class).
    """
    d = config["data"]
    source = d.get("source")
    if source == "synthetic":
        from .data.synthetic import make_synthetic
        train, test = make_synthetic(seed=d.get("seed", 0), **(d.get("synthetic") or {})).split(d["protocol"])
    elif source == "stgcn":
        from .data.formats import load_stgcn
        root = pathlib.Path(os.path.expanduser(str(d.get("root", "."))))
        train = load_stgcn(root / d.get("train_data", "train_data.npy"), root / d.get("train_label", "train_label.pkl"))
        test = load_stgcn(root / d.get("test_data", "val_data.npy"), root / d.get("test_label", "val_label.pkl"))
    elif source == "nucla":
        from .data.nucla import load_nucla
        train, test = load_nucla(os.path.expanduser(str(d["root"]))).split(d["protocol"])
    else:
        raise ValueError(f"config field 'data.source': expected 'synthetic', 'stgcn' or 'nucla', got {source!r}")
    if d.get("max_train"):
        train = train.subset(_spread(len(train), int(d["max_train"])))
    if d.get("max_test"):
        test = test.subset(_spread(len(test), int(d["max_test"])))
    if d.get("preprocess") == "frame50":
        from dataclasses import replace
        from .data.frame50 import to_frame50
        train, test = (replace(p, x=to_frame50(np.asarray(p.x), p.lengths, p.layout),
                               # every clip now has 50 valid frames (its valid frames resampled)
                               lengths=None if p.lengths is None else np.where(p.lengths > 0, 50, 0))
                       for p in (train, test))
    elif d.get("preprocess") not in (None, "none"):
        raise ValueError(f"config field 'data.preprocess': expected null or 'frame50', got {d['preprocess']!r}")
    torso = d.get("normalize_scale")
    if torso not in (None, False):
        from dataclasses import replace
        from .data.normalize import normalize_scale
        try:
            train, test = (replace(p, x=normalize_scale(p.x, p.layout, torso)) for p in (train, test))
        except ValueError as e:
            raise ValueError(f"config field 'data.normalize_scale': {e}") from None
    return train, test


# ---------------------------------------------------------------------------------------------
# Pieces of the loop


class _Batches(torch.utils.data.Dataset):
    """Item = a list of indices -> one batch (x float32 (B, C, T, V, M), y (B,)): one array read per batch."""

    def __init__(self, data):
        self.x, self.y = data.x, data.y

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        idx = np.asarray(idx)
        x = torch.from_numpy(np.ascontiguousarray(self.x[idx], dtype=np.float32))
        return x, torch.from_numpy(np.asarray(self.y[idx], dtype=np.int64))


def make_loader(data, tc: dict, seed: int, rank: int = 0, world: int = 1, pin_memory: bool = False):
    """(loader, sampler): shuffled batches; call ``sampler.set_epoch(e)`` before epoch e."""
    sampler = torch.utils.data.DistributedSampler(range(len(data)), num_replicas=world, rank=rank,
                                                  shuffle=True, seed=seed)
    batches = torch.utils.data.BatchSampler(sampler, tc["batch_size"], drop_last=tc["drop_last"])
    loader = torch.utils.data.DataLoader(_Batches(data), sampler=batches, batch_size=None,
                                         num_workers=tc["num_workers"], pin_memory=pin_memory)
    return loader, sampler


def build_optimizer(params, tc: dict) -> torch.optim.Optimizer:
    if tc["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=tc["lr"], momentum=tc["momentum"], nesterov=tc["nesterov"],
                               weight_decay=tc["weight_decay"])
    if tc["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=tc["lr"], weight_decay=tc["weight_decay"])
    raise ValueError(f"config field 'train.optimizer': expected 'sgd' or 'adamw', got {tc['optimizer']!r}")


def lr_at(epoch: int, tc: dict) -> float:
    """Learning rate of (1-based) epoch: step = lr·γ^#(milestones < epoch), as the official loops."""
    if tc["lr_schedule"] == "step":
        return tc["lr"] * tc["lr_gamma"] ** sum(epoch > m for m in tc["lr_milestones"])
    if tc["lr_schedule"] == "cosine":
        return 0.5 * tc["lr"] * (1 + math.cos(math.pi * (epoch - 1) / tc["epochs"]))
    if tc["lr_schedule"] == "constant":
        return tc["lr"]
    raise ValueError(f"config field 'train.lr_schedule': expected step, cosine or constant, got {tc['lr_schedule']!r}")


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


def rng_states() -> dict:
    """Global RNG states as tensors and plain types (loadable with ``weights_only=True``)."""
    np_state = np.random.get_state()
    out = {"torch": torch.get_rng_state(), "python": random.getstate(),
           "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *map(float, np_state[2:])]}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.get_rng_state_all()
    return out


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    random.setstate(tuple(tuple(s) if isinstance(s, list) else s for s in states["python"]))
    name, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), int(pos), int(has_gauss), cached))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _save(obj, path: pathlib.Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)                       # never a half-written checkpoint


def _plain(obj):
    """The config as JSON-compatible types (tuples -> lists), for weights_only checkpoints."""
    return json.loads(json.dumps(obj))


class _Step(nn.Module):
    """DDP calls ``forward``; ours is the method's ``training_step``."""

    def __init__(self, method):
        super().__init__()
        self.method = method

    def forward(self, batch):
        return self.method.training_step(batch)


def read_log(run_dir) -> list[dict]:
    """The per-epoch rows of ``run_dir/log.jsonl`` (plot them with ``viz.plot_training_curve``)."""
    path = pathlib.Path(run_dir) / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------------------------------------
# The loop


def fit(method: nn.Module, train, config: dict, run_dir=None, resume: bool = False,
        info: dict | None = None) -> nn.Module:
    """Pretrain ``method`` on ``train`` (SkeletonData) for ``config["train"]["epochs"]`` epochs.

    Writes ``log.jsonl``, ``checkpoint_last.pt`` (every epoch) and ``ckpt_epoch_XXX.pt`` (every
    ``save_every`` epochs) in ``run_dir`` (rank 0 only; None writes nothing). ``resume`` continues
    from ``run_dir/checkpoint_last.pt``. Returns the method (unwrapped, on its device).
    """
    from .env import pick_device

    tc, seed = config["train"], int(config["seed"])
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)
    if world > 1 and torch.cuda.is_available() and tc["device"] in ("auto", "cuda"):
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
    else:
        device = pick_device(None if tc["device"] == "auto" else tc["device"])
    method.to(device)
    run_dir = None if run_dir is None else pathlib.Path(run_dir)
    writer = run_dir is not None and rank == 0
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)

    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = build_optimizer(params, tc)
    use_amp = bool(tc["amp"]) and device.type == "cuda"
    amp_dtype = getattr(torch, tc["amp_dtype"])
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    step_module = _Step(method)
    if world > 1:
        for t in method.state_dict().values():      # every rank starts from rank 0's weights and queue
            dist.broadcast(t, src=0)
        step_module = nn.parallel.DistributedDataParallel(
            step_module, device_ids=[device.index] if device.type == "cuda" else None,
            broadcast_buffers=False)            # queues stay equal anyway: every rank enqueues all keys
    loader, sampler = make_loader(train, tc, seed, rank, world, pin_memory=device.type == "cuda")

    start = 1
    if resume:
        ckpt = torch.load(run_dir / "checkpoint_last.pt", map_location=device, weights_only=True)
        method.load_state_dict(ckpt["method"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scaler.load_state_dict(ckpt["scaler"])
        set_rng_states(ckpt["rng"])
        start = int(ckpt["epoch"]) + 1
        if writer and (run_dir / "log.jsonl").exists():   # drop rows of epochs after the checkpoint
            rows = [r for r in read_log(run_dir) if r["epoch"] < start]
            (run_dir / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif writer:
        (run_dir / "log.jsonl").write_text("")

    for epoch in range(start, tc["epochs"] + 1):
        lr = lr_at(epoch, tc)
        for group in optimizer.param_groups:
            group["lr"] = lr
        sampler.set_epoch(epoch)
        torch.manual_seed(epoch_seed(seed, epoch, rank))   # augmentations draw from here
        method.train()
        method.on_epoch_start(epoch)
        sums, steps, updates, seen, t0 = {}, 0, 0, 0, time.time()
        bar = _progress(loader, epoch, tc, rank)
        for batch in bar:
            batch = [b.to(device, non_blocking=True) for b in batch]
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss, logs = step_module(batch)
            if loss is not None:                             # None: a forward-only step
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if tc["grad_clip"]:
                    scaler.unscale_(optimizer)
                    logs["grad_norm"] = nn.utils.clip_grad_norm_(params, tc["grad_clip"]).detach()
                scaler.step(optimizer)
                scaler.update()
                method.after_optimizer_step()
                updates += 1
            # logs stay device tensors until the end of the epoch: no host sync per step on a GPU
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + (v.detach().float() if torch.is_tensor(v) else float(v))
            steps, seen = steps + 1, seen + len(batch[0])
            if hasattr(bar, "set_postfix") and (device.type == "cpu" or steps % 25 == 1):
                bar.set_postfix(loss=f"{float(logs.get('loss', float('nan'))):.4f}",
                                samples_s=f"{seen / max(time.time() - t0, 1e-9):.0f}")
        seconds = time.time() - t0
        row = {"epoch": epoch, "lr": lr, **{k: float(v) / max(steps, 1) for k, v in sums.items()},
               "optimizer_steps": updates,
               "seconds": round(seconds, 3), "samples_per_s": round(seen * world / max(seconds, 1e-9), 1)}
        if writer:
            with open(run_dir / "log.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
            ckpt = {"epoch": epoch, "config": _plain(config), "data_info": info or data_info(train),
                    "method": method.state_dict(), "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(), "rng": rng_states()}
            _save(ckpt, run_dir / "checkpoint_last.pt")
            if tc["save_every"] and epoch % tc["save_every"] == 0:
                _save(ckpt, run_dir / f"ckpt_epoch_{epoch:03d}.pt")
        if world > 1:
            dist.barrier()
    return method


def _progress(loader, epoch: int, tc: dict, rank: int):
    if not tc["progress"] or rank != 0:
        return loader
    from tqdm.auto import tqdm
    return tqdm(loader, desc=f"epoch {epoch}/{tc['epochs']}", leave=False, dynamic_ncols=True)


# ---------------------------------------------------------------------------------------------
# Entry points


def quick_probe(method: nn.Module, train, test, config: dict) -> dict:
    """Frozen features of train/test -> {"linear": acc, "knn": {k: acc}} (scikit-learn, a quick judge)."""
    from .evaluate import extract_features, knn_accuracy, linear_probe

    pc = config["probe"]
    extractor = method.feature_extractor()
    f_train = extract_features(extractor, train, batch_size=pc["batch_size"])
    f_test = extract_features(extractor, test, batch_size=pc["batch_size"])
    knn = knn_accuracy(f_train, train.y, f_test, test.y, k=tuple(pc["knn_k"]))
    return {"linear": linear_probe(f_train, train.y, f_test, test.y),
            "knn": {str(k): v for k, v in knn.items()},
            "num_train": len(train), "num_test": len(test), "feature_dim": int(f_train.shape[1])}


def _init_distributed() -> bool:
    """Initialise torch.distributed under torchrun (WORLD_SIZE > 1); True if this call did it."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return True


def pretrain(config: dict, run_dir=None, resume: bool = False) -> pathlib.Path:
    """Build data and method from ``config``, run :func:`fit`, then the quick probe -> run_dir.

    The probe (linear + kNN on frozen features, see :func:`quick_probe`) is written to
    ``run_dir/probe.json`` and printed; ``probe.enabled: false`` skips it.
    """
    from .env import seed_everything

    run_dir = pathlib.Path(run_dir or config.get("run_dir") or pathlib.Path("runs") / config.get("name", "run"))
    created = _init_distributed()
    rank = dist.get_rank() if dist.is_initialized() else 0
    try:
        seed_everything(int(config["seed"]))
        train, test = build_data(config)
        info = data_info(train)
        method = build_method(config, info)
        if rank == 0:
            run_dir.mkdir(parents=True, exist_ok=True)
            import yaml
            (run_dir / "config.yaml").write_text(yaml.safe_dump(_plain(config), sort_keys=False))
        fit(method, train, config, run_dir, resume=resume, info=info)
        if rank == 0 and config["probe"]["enabled"]:
            result = {"config": config.get("name"), "protocol": config["data"].get("protocol"),
                      **quick_probe(method, train, test, config)}
            (run_dir / "probe.json").write_text(json.dumps(result, indent=2) + "\n")
            print(json.dumps(result, indent=2))
    finally:
        if created:
            dist.destroy_process_group()
    return run_dir


def read_checkpoint(path, map_location="cpu"):
    """(method in eval mode, the checkpoint dict) from a file written by :func:`fit`, read once."""
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    for field in ("config", "data_info", "method"):
        if field not in ckpt:
            raise ValueError(f"{path}: field {field!r} missing; expected a skelcl pretraining checkpoint")
    method = build_method(ckpt["config"], ckpt["data_info"])
    method.load_state_dict(ckpt["method"])
    return method.to(map_location).eval(), ckpt


def load_checkpoint(path, map_location="cpu"):
    """(method, config) from a checkpoint written by :func:`fit` (loaded with ``weights_only=True``)."""
    method, ckpt = read_checkpoint(path, map_location)
    return method, ckpt["config"]


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="skelcl pretrain", description="Self-supervised pretraining from a YAML config.")
    ap.add_argument("--config", required=True, help="packaged config name (e.g. ascal_synthetic) or a YAML path")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value, e.g. --set train.epochs=5 (repeatable)")
    ap.add_argument("--run-dir", default=None, help="output folder (default: config run_dir or runs/NAME)")
    ap.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint_last.pt")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1, mps (default: config train.device)")
    args = ap.parse_args(argv)
    config = load_config(args.config, args.overrides)
    if args.device:
        config["train"]["device"] = args.device
    run_dir = pretrain(config, args.run_dir, resume=args.resume)
    print(f"run dir: {run_dir}", file=sys.stderr)
    return 0
