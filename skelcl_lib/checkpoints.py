"""Shipped checkpoints: small frozen encoders pretrained on the embedded dataset, and a manifest.

A shipped checkpoint is the **feature extractor only** (the query encoder that evaluation
uses; no key encoder, queue or optimizer) saved as a plain dict of tensors and JSON-like
values, so ``torch.load(..., weights_only=True)`` reads it::

    {"format": "skelcl-encoder-1", "name": ..., "config": {...}, "data_info": {...},
     "state_dict": {...}}

``skelcl_lib/pretrained/manifest.json`` (package data, so an ordinary non-editable install
carries it) lists every file with the config it was trained with, the data
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
import hashlib
import json
import os
import pathlib
import platform
import re
import time
import warnings

import torch
from torch import nn

from .config import apply_override, check_config, config_path, load_config, plain
from .data.build import build_data
from .env import cache_dir
from .errors import DataFormatError
from .evaluate.features import extract_features, linear_probe
from .evaluate.knn import knn_accuracy
from .methods import build_method
from .pretrain import pretrain
from .rundir import load_checkpoint, read_checkpoint, read_log, resolve_checkpoint, safe_load
from .skeleton import LAYOUTS

FORMAT = "skelcl-encoder-1"
MANIFEST_NAME = "manifest.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Bounds a checkpoint's config must respect before a model is built from it: the data it
# describes, any integer in its model section, and the size of the model it asks for.
DATA_INFO_BOUNDS = {"channels": (1, 16), "frames": (1, 100_000), "joints": (1, 100), "bodies": (1, 16),
                    "num_train": (0, 100_000_000), "num_classes": (1, 100_000)}
MAX_MODEL_INT = 1 << 20
MODEL_BOUNDS = {"num_layers": (1, 16), "hidden_size": (1, 8192), "hidden_dim": (1, 8192),
                "feature_dim": (1, 8192), "hidden_channels": (1, 1024), "queue_size": (1, 1 << 20),
                "K": (1, 1 << 20), "selected_frames": (1, 100_000)}
MAX_MODEL_ELEMENTS = 100_000_000   # parameters + buffers (400 MB of float32)
_WHAT_TO_DO = ("re-download it or delete it (load_or_train then trains it again)")


def checkpoint_dir() -> pathlib.Path:
    """``$SKELCL_CHECKPOINTS`` or the package's own ``pretrained`` folder (installed with it)."""
    env = os.environ.get("SKELCL_CHECKPOINTS")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(__file__).resolve().parent / "pretrained"


def _manifest_path(directory=None) -> pathlib.Path:
    return pathlib.Path(directory or checkpoint_dir()) / MANIFEST_NAME


def read_manifest(directory=None) -> dict:
    """The manifest ``{"format": 1, "entries": {name: entry}}`` (empty when there is none).
    A damaged file is a ``DataFormatError`` naming it."""
    path = _manifest_path(directory)
    if not path.exists():
        return {"format": 1, "entries": {}}
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as e:
        raise DataFormatError(f"{path}: not valid JSON ({e}); expected the checkpoint manifest",
                              path=path, where="JSON") from None
    except (UnicodeDecodeError, RecursionError, ValueError) as e:
        raise DataFormatError(f"{path}: not a readable JSON manifest ({type(e).__name__}); expected "
                              f"the checkpoint manifest", path=path, where="JSON") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), dict):
        raise DataFormatError(f"{path}: field 'entries' missing or not an object; expected "
                              f"{{'format': 1, 'entries': {{name: entry}}}}", path=path, where="entries")
    return manifest


def _entry_file(d: pathlib.Path, name: str, e) -> pathlib.Path:
    """The checkpoint file of manifest entry ``name``: a plain relative path inside ``d``."""
    where = f"entries[{name!r}]"
    mpath = d / MANIFEST_NAME
    if not isinstance(e, dict):
        raise DataFormatError.at(mpath, where, "an object with 'file' and 'sha256'", got=type(e).__name__)
    f = e.get("file")
    if not isinstance(f, str) or not f:
        raise DataFormatError.at(mpath, f"{where}.file", "the checkpoint's file name", got=f)
    rel = pathlib.PurePath(f)
    if rel.is_absolute() or pathlib.PureWindowsPath(f).is_absolute() or ".." in rel.parts \
            or "\\" in f or "\0" in f:
        raise DataFormatError.at(mpath, f"{where}.file", "a file name inside the checkpoint folder "
                                 "(no absolute path, no '..')", got=f)
    path = d / rel
    if not path.resolve().is_relative_to(d.resolve()):
        raise DataFormatError.at(mpath, f"{where}.file", "a file inside the checkpoint folder "
                                 "(a link leads outside it)", got=f)
    return path


def available(directory=None) -> list[str]:
    """Names of the manifest entries whose file is present."""
    d = pathlib.Path(directory or checkpoint_dir())
    return [n for n, e in read_manifest(d)["entries"].items() if _entry_file(d, n, e).exists()]


def entry(name: str, directory=None) -> dict:
    """Manifest entry ``name``, its ``file`` and ``sha256`` fields checked."""
    d = pathlib.Path(directory or checkpoint_dir())
    entries = read_manifest(d)["entries"]
    if name not in entries:
        raise KeyError(f"checkpoint {name!r} is not in {_manifest_path(d)}; "
                       f"known: {sorted(entries)}")
    e = entries[name]
    _entry_file(d, name, e)
    sha = e.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise DataFormatError.at(_manifest_path(d), f"entries[{name!r}].sha256",
                                 "the file's sha256 (64 lowercase hex digits)",
                                 got="missing" if sha is None else sha)
    return e


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


def _validate_checkpoint_config(config, data_info, path) -> None:
    """Check what a checkpoint asks to build before anything is built: types, the data
    description, and every integer of the model section within sane bounds. Then the
    config schema of :mod:`skelcl_lib.config`."""
    if not isinstance(config, dict):
        raise DataFormatError.at(path, "config", "an object (the training config)", got=type(config).__name__)
    if not isinstance(config.get("method"), str):
        raise DataFormatError.at(path, "config.method", "a method name", got=config.get("method"))
    model = config.get("model")
    if model is not None and not isinstance(model, dict):
        raise DataFormatError.at(path, "config.model", "an object", got=type(model).__name__)
    if not isinstance(data_info, dict):
        raise DataFormatError.at(path, "data_info", "an object", got=type(data_info).__name__)
    for key, (lo, hi) in DATA_INFO_BOUNDS.items():
        v = data_info.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise DataFormatError.at(path, f"data_info.{key}", f"an integer in {lo}..{hi}", got=v)
    layout = data_info.get("layout", "ntu25")
    if not isinstance(layout, str) or layout.lower() not in LAYOUTS \
            or LAYOUTS[layout.lower()].num_joints != data_info["joints"]:
        raise DataFormatError.at(path, "data_info.layout", f"a layout with {data_info['joints']} joints "
                                 f"(one of {sorted(LAYOUTS)})", got=layout)

    def walk(v, where):
        key = where.rpartition(".")[2]
        if key in MODEL_BOUNDS and not (key in ("K", "queue_size") and v == "auto"):
            lo, hi = MODEL_BOUNDS[key]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise DataFormatError.at(path, where, f"an integer in {lo}..{hi}", got=v)
        elif isinstance(v, bool) or v is None or isinstance(v, str):
            return
        elif isinstance(v, int):
            if not -MAX_MODEL_INT <= v <= MAX_MODEL_INT:
                raise DataFormatError.at(path, where, f"an integer within +-{MAX_MODEL_INT}", got=v)
        elif isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise DataFormatError.at(path, where, "a finite number", got=v)
        elif isinstance(v, (list, tuple)):
            if len(v) > 1000:
                raise DataFormatError.at(path, where, "a short list", got=f"{len(v)} items")
            for k, item in enumerate(v):
                walk(item, f"{where}[{k}]")
        elif isinstance(v, dict):
            for k, item in v.items():
                walk(item, f"{where}.{k}")
        else:
            raise DataFormatError.at(path, where, "plain JSON-like values", got=type(v).__name__)

    walk(model or {}, "config.model")
    problems = check_config(config, f"{path} (its config)")
    if problems:
        raise DataFormatError("\n".join(p.message() for p in problems), path=path, where="config")


def build_checked(config, data_info, path, build=None) -> nn.Module:
    """``build(config, data_info)`` (default: :func:`build_extractor`) after
    :func:`_validate_checkpoint_config` and a dry run on torch's ``meta`` device that bounds the
    model's size; a config that cannot be built is a ``DataFormatError`` naming the file."""
    build = build or build_extractor
    _validate_checkpoint_config(config, data_info, path)
    try:
        with torch.device("meta"):
            probe = build(config, data_info)
        size = sum(t.numel() for t in probe.parameters()) + sum(t.numel() for t in probe.buffers())
        del probe
    except DataFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, NotImplementedError,
            RuntimeError) as e:
        raise DataFormatError(f"{path}: its config cannot be built ({type(e).__name__}: {e}); "
                              f"{_WHAT_TO_DO}", path=path, where="config") from None
    if size > MAX_MODEL_ELEMENTS:
        raise DataFormatError.at(path, "config.model", f"a model of at most {MAX_MODEL_ELEMENTS:,} "
                                 "parameters and buffers", got=f"{size:,}")
    return build(config, data_info)


def _check_weights(state: dict, expected: dict, path) -> None:
    """The saved tensors against the model's: same names, shapes and dtypes, finite values."""
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise DataFormatError.at(path, "state_dict", "the parameters of the model its config describes",
                                 got=f"missing {missing[:3]}, unexpected {extra[:3]}")
    for k, t in state.items():
        want = expected[k]
        if t.shape != want.shape or t.dtype != want.dtype:
            raise DataFormatError.at(path, f"state_dict[{k!r}]", f"{want.dtype} {tuple(want.shape)}",
                                     got=f"{t.dtype} {tuple(t.shape)}")
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise DataFormatError.at(path, f"state_dict[{k!r}]", "finite weights", got="NaN or inf")


def load_encoder(path, map_location="cpu") -> tuple[nn.Module, dict]:
    """(extractor in eval mode, {"config", "data_info", "name"}) from a shipped checkpoint file.

    Read with ``weights_only=True``; every failure (damaged file, wrong format, a config that
    asks for an oversized or unknown model, weights that do not fit it) is a
    ``DataFormatError`` naming the file and what to do.
    """
    path = pathlib.Path(path)
    obj = safe_load(path, map_location, what="checkpoint", advice=_WHAT_TO_DO)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        got = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise DataFormatError(f"{path}: field 'format' is {got!r}; expected {FORMAT!r} (a file written "
                              f"by skelcl_lib.checkpoints.save_encoder; training checkpoints load with "
                              f"skelcl_lib.rundir.load_checkpoint)", path=path, where="format")
    for field in ("config", "data_info", "state_dict"):
        if field not in obj:
            raise DataFormatError(f"{path}: field {field!r} missing; expected {FORMAT!r}; {_WHAT_TO_DO}",
                                  path=path, where=field)
    state = obj["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise DataFormatError.at(path, "state_dict", "a mapping of parameter names to tensors",
                                 got=type(state).__name__)
    extractor = build_checked(obj["config"], obj["data_info"], path)
    _check_weights(state, extractor.state_dict(), path)
    try:
        extractor.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).splitlines()[1:2] or [str(e)[:200]]
        raise DataFormatError(f"{path}: its weights do not fit the model its config describes "
                              f"({first[0].strip()}); {_WHAT_TO_DO}", path=path, where="state_dict") from None
    return extractor.eval(), {k: obj.get(k) for k in ("config", "data_info", "name")}


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
    path = _entry_file(d, name, e)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the file of checkpoint {name!r} is missing "
                                f"(use load_or_train to retrain it)")
    if verify:
        got = sha256(path)
        if got != e["sha256"]:
            raise DataFormatError(f"{path}: sha256 {got[:12]}… differs from the manifest's "
                                  f"{e['sha256'][:12]}…; the file was changed or truncated; {_WHAT_TO_DO}",
                                  path=path, where="sha256")
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
        except FileNotFoundError as err:
            reason = str(err)
        except DataFormatError as err:
            reason = f"the shipped checkpoint is damaged or invalid ({err})"
            warnings.warn(f"checkpoint {name!r}: {reason}; it will be trained again", stacklevel=2)
    if not allow_train:
        raise FileNotFoundError(f"checkpoint {name!r}: {reason}; allow_train=False")
    saved = manifest[name].get("config") if isinstance(manifest.get(name), dict) else None
    if isinstance(saved, dict) and isinstance(saved.get("train"), dict):
        config = json.loads(json.dumps(saved))
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
            try:
                ex_, e = load_pretrained(n)
            except (DataFormatError, FileNotFoundError, KeyError) as err:
                print(f"{n}: cannot be loaded: {err}")
                bad += 1
                continue
            got = measure(ex_, e["config"])
            diff = max(abs(got[k] - v) for k, v in e["accuracy"].items() if k.startswith(("linear", "knn")))
            print(f"{n}: recorded {e['accuracy']['linear_probe']:.4f}, measured {got['linear_probe']:.4f}, "
                  f"max difference {diff:.4f}")
            bad += diff > 0.005
        return 1 if bad else 0
    for n, e in entries.items():
        present = _entry_file(checkpoint_dir(), n, e).exists()
        a = e["accuracy"]
        print(f"{n:32s} {e['method']:12s} {e['data']['source']}/{e['data']['protocol']:6s} "
              f"{e['epochs']:4d} ep  linear {100 * a['linear_probe']:5.1f}  kNN-1 {100 * a['knn1']:5.1f}  "
              f"{e['bytes'] / 1e6:5.2f} MB  {'ok' if present else 'MISSING'}")
    return 0
