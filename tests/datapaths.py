"""Shared test helpers: where the read-only reference data (shared/ beside the repo) lives, and
scripts of the repository loaded as modules."""

import importlib.util
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def shared_dir() -> pathlib.Path:
    """``$SKELCL_SHARED``, else ``shared/`` beside the repository."""
    for cand in (os.environ.get("SKELCL_SHARED"), ROOT.parent / "shared"):
        if cand and pathlib.Path(cand).is_dir():
            return pathlib.Path(cand)
    return ROOT.parent / "shared"  # absent: tests that need it skip


def load_script(relative: str):
    """A script of the repository (``benchmarks/x.py``, ``tools/y.py``) imported as a module."""
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
