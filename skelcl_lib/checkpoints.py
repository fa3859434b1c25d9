"""Shipped checkpoints: small frozen encoders pretrained on the embedded dataset, and a manifest.

A shipped checkpoint is the **feature extractor only** (the query encoder that evaluation
uses; no key encoder, queue or optimizer) saved as a plain dict of tensors and JSON-like
values, so ``torch.load(..., weights_only=True)`` reads it::

    {"format": "skelcl-encoder-1", "name": ..., "config": {...}, "data_info": {...},
     "state_dict": {...}}

``data/checkpoints/manifest.json`` lists every file with the config it was trained with, the data
seed and split, the epochs, its sha256 and the accuracy measured when it was exported (the
quick probe of :func:`skelcl_lib.pretrain.quick_probe`: scikit-learn logistic regression and
cosine kNN on the frozen features of the embedded test split). ``tests/test_checkpoints.py``
reloads each entry and reproduces that accuracy.

Typical use (notebooks)::

    from skelcl_lib.checkpoints import load_or_train
    extractor, entry = load_or_train("ascal_synthetic_xsub")

``load_or_train`` loads the file when it is there and its checksum matches; otherwise it
pretrains the entry's config (or a packaged config of that name) and returns the fresh
extractor, so a deleted or corrupted file costs time, never correctness.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import pathlib
import platform
import time

import torch
from torch import nn

from .config import apply_override, config_path, load_config, plain
from .data.build import build_data
from .env import cache_dir
from .evaluate.features import extract_features, linear_probe
from .evaluate.knn import knn_accuracy
from .methods import build_method
from .pretrain import pretrain
from .rundir import load_checkpoint, read_checkpoint, read_log, resolve_checkpoint

FORMAT = "skelcl-encoder-1"
MANIFEST_NAME = "manifest.json"


def checkpoint_dir() -> pathlib.Path:
    """``$SKELCL_CHECKPOINTS`` or the repository's ``data/checkpoints`` (next to the package)."""
    env = os.environ.get("SKELCL_CHECKPOINTS")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parents[1] / "data" / "checkpoints"


def _manifest_path(directory=None) -> pathlib.Path:
    return pathlib.Path(directory or checkpoint_dir()) / MANIFEST_NAME


def read_manifest(directory=None) -> dict:
    """The manifest ``{"format": 1, "entries": {name: entry}}`` (empty when there is none)."""
    path = _manifest_path(directory)
    if not path.exists():
        return {"format": 1, "entries": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); expected the checkpoint manifest") from None
    if not isinstance(manifest.get("entries"), dict):
        raise ValueError(f"{path}: field 'entries' missing or not an object; expected "
                         f"{{'format': 1, 'entries': {{name: entry}}}}")
    return manifest


def available(directory=None) -> list[str]:
    """Names of the manifest entries whose file is present."""
    d = pathlib.Path(directory or checkpoint_dir())
    return [n for n, e in read_manifest(d)["entries"].items() if (d / e["file"]).exists()]


def entry(name: str, directory=None) -> dict:
    entries = read_manifest(directory)["entries"]
    if name not in entries:
        raise KeyError(f"checkpoint {name!r} is not in {_manifest_path(directory)}; "
                       f"known: {sorted(entries)}")
    return entries[name]


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_extractor(config: dict, data_info: dict) -> nn.Module:
    """The (untrained) feature extractor that ``config`` describes."""
    return build_method(config, data_info).feature_extractor()


def save_encoder(method_or_extractor: nn.Module, config: dict, data_info: dict, path, name: str = "") -> pathlib.Path:
    """Write the feature extractor of a method (or an extractor) as a shipped checkpoint file."""
    module = method_or_extractor
    if hasattr(module, "feature_extractor"):
        module = module.feature_extractor()
    state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "name": name, "config": plain(config),
                "data_info": plain(data_info), "state_dict": state}, path)
    return path


def load_encoder(path, map_location="cpu") -> tuple[nn.Module, dict]:
    """(extractor in eval mode, {"config", "data_info", "name"}) from a shipped checkpoint file."""
    path = pathlib.Path(path)
    obj = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        got = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"{path}: field 'format' is {got!r}; expected {FORMAT!r} (a file written "
                         f"by skelcl_lib.checkpoints.save_encoder; training checkpoints load with "
                         f"skelcl_lib.rundir.load_checkpoint)")
    for field in ("config", "data_info", "state_dict"):
        if field not in obj:
            raise ValueError(f"{path}: field {field!r} missing; expected {FORMAT!r}")
    extractor = build_extractor(obj["config"], obj["data_info"])
    extractor.load_state_dict(obj["state_dict"])
    return extractor.eval(), {k: obj[k] for k in ("config", "data_info", "name")}


def measure(extractor: nn.Module, config: dict, knn_k=(1, 20)) -> dict:
    """The accuracy recorded in the manifest: quick probe on the config's data (test split)."""

    train, test = build_data(config)
    t0 = time.perf_counter()
    f_train = extract_features(extractor, train)
    f_test = extract_features(extractor, test)
    knn = knn_accuracy(f_train, train.y, f_test, test.y, k=tuple(knn_k))
    return {"linear_probe": round(float(linear_probe(f_train, train.y, f_test, test.y)), 6),
            **{f"knn{k}": round(float(v), 6) for k, v in knn.items()},
            "num_train": len(train), "num_test": len(test), "seconds": round(time.perf_counter() - t0, 1)}


def export(run_dir_or_checkpoint, name: str, directory=None, notes: str = "") -> dict:
    """Export a pretraining run (``skelcl pretrain`` output) as shipped checkpoint ``name``:
    writes ``name.pt``, measures its accuracy and adds/replaces its manifest entry."""

    src = resolve_checkpoint(run_dir_or_checkpoint)
    method, raw = read_checkpoint(src)
    config = raw["config"]
    d = pathlib.Path(directory or checkpoint_dir())
    path = save_encoder(method, config, raw["data_info"], d / f"{name}.pt", name=name)
    extractor, _ = load_encoder(path)            # measure what a user will load
    acc = measure(extractor, config)
    log = read_log(src.parent) if src.parent.joinpath("log.jsonl").exists() else []
    data, model = config.get("data") or {}, config.get("model") or {}
    e = {
        "file": path.name, "sha256": sha256(path), "bytes": path.stat().st_size,
        "method": config.get("method"), "stream": (config.get("model") or {}).get("stream", "joint"),
        **({"input_streams": list(model["streams"])} if "streams" in model else {}),
        "data": {"source": data.get("source"), "protocol": data.get("protocol"),
                 "seed": data.get("seed", 0), "preprocess": data.get("preprocess"),
                 "normalize_scale": data.get("normalize_scale"),
                 "size": (data.get("synthetic") or {}).get("size", "full")},
        "config_name": config.get("name"), "epochs": int((config.get("train") or {}).get("epochs", 0)),
        "seed": config.get("seed"), "config": plain(config),
        "accuracy": acc, "accuracy_protocol": "quick probe: scikit-learn LogisticRegression (C=1, "
        "standardised features) and cosine kNN on frozen features, test split",
        "train_seconds": round(sum(float(r.get("seconds", 0.0)) for r in log), 1) or None,
        "exported": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "notes": notes,
    }
    manifest = read_manifest(d)
    manifest["entries"][name] = e
    _manifest_path(d).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return e


def load_pretrained(name: str, directory=None, verify: bool = True) -> tuple[nn.Module, dict]:
    """(extractor, manifest entry + the file's ``data_info``) of a shipped checkpoint; ``verify``
    checks its sha256."""
    d = pathlib.Path(directory or checkpoint_dir())
    e = entry(name, d)
    path = d / e["file"]
    if not path.exists():
        raise FileNotFoundError(f"{path}: the file of checkpoint {name!r} is missing "
                                f"(use load_or_train to retrain it)")
    if verify and sha256(path) != e["sha256"]:
        raise ValueError(f"{path}: sha256 {sha256(path)[:12]}… differs from the manifest's "
                         f"{e['sha256'][:12]}…; the file was changed or truncated")
    extractor, meta = load_encoder(path)
    return extractor, {**e, "data_info": meta["data_info"]}


SPLIT_SUFFIXES = ("xsub", "xview", "xset")


def config_for(name: str, overrides=()) -> tuple[str, list[str]]:
    """(packaged config, overrides) that trains checkpoint ``name``: the config of that name, or
    for ``<config>_<split>`` (the shipped naming, e.g. ``aimclr_synthetic_xview``) the config
    with ``data.protocol=<split>``; streams are part of the config name (``aimclr_synthetic_bone``)."""

    try:
        config_path(name)
        return name, list(overrides)
    except FileNotFoundError:
        base, _, split = name.rpartition("_")
        if split in SPLIT_SUFFIXES and base:
            config_path(base)                   # raises the listing error if this is unknown too
            return base, [f"data.protocol={split}", *overrides]
        raise


def load_or_train(name: str, directory=None, allow_train: bool = True, overrides=(),
                  run_dir=None) -> tuple[nn.Module, dict]:
    """Load shipped checkpoint ``name``; if its file is absent or damaged, pretrain it.

    The config comes from the manifest entry, or else from :func:`config_for` ``(name)``
    (``overrides``: ``--set``-style strings, e.g. ``["train.epochs=2"]`` for a quick stand-in).
    Returns ``(extractor, entry)``; a freshly trained entry has ``"trained_now": True`` and the
    quick-probe accuracy it reached.
    """

    d = pathlib.Path(directory or checkpoint_dir())
    manifest = read_manifest(d)["entries"]
    reason = "not in the manifest"
    if name in manifest:
        try:
            return load_pretrained(name, d)
        except (FileNotFoundError, ValueError) as err:
            reason = str(err)
    if not allow_train:
        raise FileNotFoundError(f"checkpoint {name!r}: {reason}; allow_train=False")
    if name in manifest:
        config = json.loads(json.dumps(manifest[name]["config"]))
        for o in overrides:
            config = apply_override(config, o)
    else:
        config = load_config(*config_for(name, overrides))
    print(f"checkpoint {name!r}: {reason}; pretraining it now with config "
          f"{config.get('name')!r} ({config['train']['epochs']} epochs)")
    rd = pathlib.Path(run_dir or pathlib.Path(cache_dir()) / "runs" / name)
    pretrain(config, rd)
    method, config = load_checkpoint(rd / "checkpoint_last.pt")
    probe = json.loads((rd / "probe.json").read_text()) if (rd / "probe.json").exists() else {}
    return method.feature_extractor().eval(), {"config": config, "trained_now": True,
                                               "run_dir": str(rd), "probe": probe,
                                               "method": config.get("method")}


def cli(argv: list[str]) -> int:
    """``skelcl checkpoints [list | export RUN NAME | verify [NAME ...]]``."""

    ap = argparse.ArgumentParser(prog="skelcl checkpoints", description=cli.__doc__)
    sub = ap.add_subparsers(dest="cmd")
    sub.add_parser("list", help="the manifest, one line per checkpoint")
    ex = sub.add_parser("export", help="export a pretraining run as a shipped checkpoint")
    ex.add_argument("run", help="run directory or training checkpoint")
    ex.add_argument("name")
    ex.add_argument("--notes", default="")
    ve = sub.add_parser("verify", help="reload and re-measure; compare with the manifest")
    ve.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    if args.cmd == "export":
        e = export(args.run, args.name, notes=args.notes)
        print(json.dumps({k: e[k] for k in ("file", "sha256", "bytes", "accuracy")}, indent=2))
        return 0
    entries = read_manifest()["entries"]
    if args.cmd == "verify":
        bad = 0
        for n in args.names or list(entries):
            ex_, e = load_pretrained(n)
            got = measure(ex_, e["config"])
            diff = max(abs(got[k] - v) for k, v in e["accuracy"].items() if k.startswith(("linear", "knn")))
            print(f"{n}: recorded {e['accuracy']['linear_probe']:.4f}, measured {got['linear_probe']:.4f}, "
                  f"max difference {diff:.4f}")
            bad += diff > 0.005
        return 1 if bad else 0
    for n, e in entries.items():
        present = (checkpoint_dir() / e["file"]).exists()
        a = e["accuracy"]
        print(f"{n:32s} {e['method']:12s} {e['data']['source']}/{e['data']['protocol']:6s} "
              f"{e['epochs']:4d} ep  linear {100 * a['linear_probe']:5.1f}  kNN-1 {100 * a['knn1']:5.1f}  "
              f"{e['bytes'] / 1e6:5.2f} MB  {'ok' if present else 'MISSING'}")
    return 0
