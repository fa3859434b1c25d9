"""Environment: device choice, smoke mode, seeds and a version report (notebook 00)."""

from __future__ import annotations

import importlib
import os
import pathlib
import platform
import random
import sys

import numpy as np
import torch


def smoke_mode() -> bool:
    """True when ``SKELCL_SMOKE`` is set to 1/true/yes: notebooks then use tiny sizes (CI)."""
    return os.environ.get("SKELCL_SMOKE", "").strip().lower() in ("1", "true", "yes", "on")


def pick_device(preference: str | None = None):
    """CUDA, then Apple MPS, then CPU; ``preference`` ("cpu", "cuda", "cuda:1", "mps") overrides.

    The environment variable ``SKELCL_DEVICE`` is used when no preference is given.
    """
    pref = preference or os.environ.get("SKELCL_DEVICE") or "auto"
    if pref != "auto":
        dev = torch.device(pref)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {pref!r} requested but CUDA is not available")
        if dev.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise RuntimeError(f"device {pref!r} requested but MPS is not available")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def versions() -> dict[str, str]:
    """Versions of Python and the packages the course uses (missing ones say so)."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("torch", "numpy", "scipy", "matplotlib", "plotly", "sklearn", "ipywidgets",
                "tqdm", "yaml", "skelcl_lib"):
        try:
            m = importlib.import_module(mod)
            out[mod] = getattr(m, "__version__", "?")
        except Exception as e:  # report, never fail: this is a diagnostic
            out[mod] = f"missing ({type(e).__name__})"
    return out


def machine_summary(device=None) -> str:
    """One line that says where a measurement ran: architecture, CPU cores, torch version, torch's
    CPU threads and the device (``pick_device()`` unless given); result tables print it."""
    dev = device if device is not None else pick_device()
    threads = torch.get_num_threads()
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__} "
            f"({threads} thread{'' if threads == 1 else 's'}), device {dev}")


def report() -> str:
    """A human-readable environment report: versions, device, GPU name and memory, smoke mode."""
    lines = [f"{k:>11}: {v}" for k, v in versions().items()]
    dev = pick_device()
    lines.append(f"{'device':>11}: {dev}")
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        lines.append(f"{'gpu':>11}: {p.name}, {p.total_memory / 2**30:.1f} GiB, "
                     f"{torch.cuda.device_count()} visible")
    lines.append(f"{'cpu threads':>11}: {torch.get_num_threads()}")
    lines.append(f"{'smoke mode':>11}: {smoke_mode()}")
    return "\n".join(lines)


def cli(argv: list[str]) -> int:
    print(report())
    return 0


def cache_dir() -> "os.PathLike":
    """Where generated datasets and caches go: ``$SKELCL_CACHE`` or ``~/.cache/skelcl``."""
    p = pathlib.Path(os.environ.get("SKELCL_CACHE") or pathlib.Path.home() / ".cache" / "skelcl")
    p.mkdir(parents=True, exist_ok=True)
    return p
