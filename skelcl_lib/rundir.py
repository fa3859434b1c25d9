"""The files of a pretraining run directory, read and written in one place.

- ``checkpoint_last.pt`` (every epoch) and ``ckpt_epoch_XXX.pt`` (every ``save_every`` epochs):
  ``{"epoch", "config", "data_info", "method", "optimizer", "scaler"}`` — tensors and plain types,
  written atomically and read with ``weights_only=True``;
- ``config.yaml``: the config the run was started with;
- ``log.jsonl``: one JSON row per epoch.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import re
import zipfile

import torch
import yaml
from torch import nn

from .config import plain, validate
from .errors import DataFormatError
from .methods import build_method

LAST = "checkpoint_last.pt"
_RUN_ADVICE = "delete it, or start the run again without --resume"


def save_atomic(obj, path) -> None:
    """``torch.save`` to a temporary file, then rename: never a half-written checkpoint."""
    path = pathlib.Path(path)
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def safe_load(path, map_location="cpu", what: str = "checkpoint", advice: str = _RUN_ADVICE):
    """``torch.load(path, weights_only=True)``; a damaged or refused file is a ``DataFormatError``
    that names the file and what to do (torch's own advice to disable the safe loader is never
    passed on). I/O errors (a missing file) stay ``OSError``."""
    path = pathlib.Path(path)
    with open(path, "rb"):    # a missing or unreadable file stays an OSError
        pass
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        found = re.search(r"GLOBAL ([\w.]+)", str(e))
        detail = f" (it references {found.group(1)})" if found else ""
        raise DataFormatError(
            f"{path}: refused by the safe loader{detail}: a {what} holds only tensors and plain "
            f"values, so this file is damaged or not a skelcl {what}; {advice}",
            path=path, where="pickle") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError, TypeError,
            AttributeError, IndexError, OverflowError, MemoryError, UnicodeDecodeError) as e:
        raise DataFormatError(
            f"{path}: not a readable {what} ({type(e).__name__}; truncated or damaged file?); "
            f"{advice}", path=path, where="file") from None


def load_state(path, map_location="cpu") -> dict:
    """A training checkpoint's dict, read with the safe loader (``weights_only=True``)."""
    state = safe_load(path, map_location, what="training checkpoint")
    if not isinstance(state, dict):
        raise DataFormatError.at(path, "checkpoint", "a dict written by train.fit", got=type(state).__name__)
    return state


def read_checkpoint(path, map_location="cpu") -> tuple[nn.Module, dict]:
    """(method in eval mode, the checkpoint dict) from a file written by ``train.fit``, read once."""
    ckpt = load_state(path, map_location)
    for field in ("config", "data_info", "method"):
        if field not in ckpt:
            raise DataFormatError.at(path, field, "a skelcl pretraining checkpoint with this field",
                                     got="missing")
    validate(ckpt["config"], f"{path} (its config)")
    method = build_method(ckpt["config"], ckpt["data_info"])
    method.load_state_dict(ckpt["method"])
    return method.to(map_location).eval(), ckpt


def load_checkpoint(path, map_location="cpu") -> tuple[nn.Module, dict]:
    """(method, config) from a checkpoint written by ``train.fit``."""
    method, ckpt = read_checkpoint(path, map_location)
    return method, ckpt["config"]


def resolve_checkpoint(path, epoch: int | None = None) -> pathlib.Path:
    """A checkpoint file: ``path`` itself, or in a run directory ``checkpoint_last.pt`` (or
    ``ckpt_epoch_{epoch:03d}.pt``; AS-CAL's official evaluation uses epoch 60)."""
    p = pathlib.Path(path)
    if p.is_dir():
        p = p / (f"ckpt_epoch_{epoch:03d}.pt" if epoch else LAST)
    if not p.exists():
        raise FileNotFoundError(f"--checkpoint: {p} does not exist; expected a run directory with "
                                f"{LAST} / ckpt_epoch_XXX.pt, or a checkpoint file")
    return p


def write_config(run_dir, config: dict, name: str = "config.yaml") -> pathlib.Path:
    path = pathlib.Path(run_dir) / name
    path.write_text(yaml.safe_dump(plain(config), sort_keys=False))
    return path


def read_config(run_dir, name: str = "config.yaml") -> dict | None:
    """The saved config of a run (None when the run has none)."""
    path = pathlib.Path(run_dir) / name
    return yaml.safe_load(path.read_text()) if path.exists() else None


def read_log(run_dir) -> list[dict]:
    """The per-epoch rows of ``run_dir/log.jsonl`` (plot them with ``viz.plot_training_curve``)."""
    path = pathlib.Path(run_dir) / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_log(run_dir, rows: list[dict]) -> None:
    (pathlib.Path(run_dir) / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def append_log(run_dir, row: dict) -> None:
    with open(pathlib.Path(run_dir) / "log.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


def run_epochs(run_dir, config: dict, info: dict, epochs):
    """(epoch, method in eval mode) for epoch 0 — the untrained method, built with the run's seed
    (the same initialisation the run started from) — then each saved epoch of ``run_dir``
    (``ckpt_epoch_XXX.pt``), read one at a time. ``info``: ``data.build.data_info`` of the
    training data."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(config["seed"]))
        untrained = build_method(config, info).eval()
    yield 0, untrained
    for epoch in epochs:
        method, _ = read_checkpoint(resolve_checkpoint(run_dir, epoch))
        yield epoch, method.eval()
