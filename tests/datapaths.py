"""Shared test helpers: where the read-only reference data (../shared beside the repo) lives."""

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def shared_dir() -> pathlib.Path:
    """``$SKELCL_SHARED``, else ``shared/`` beside the repository."""
    for cand in (os.environ.get("SKELCL_SHARED"), ROOT.parent / "shared"):
        if cand and pathlib.Path(cand).is_dir():
            return pathlib.Path(cand)
    return ROOT.parent / "shared"  # absent: tests that need it skip
