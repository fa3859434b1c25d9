"""Settings every test runs under.

- **Cache**: ``SKELCL_CACHE`` points to a folder of this session, so no test reads or leaves runs,
  t-SNE embeddings or checkpoints in the user's cache. The embedded dataset is the exception:
  it is a pure function of its parameters and of the generator's source (its file name hashes
  both), so the generated ``synthetic_*.npz`` files of the user's cache are linked in, and the
  ones generated during the session are moved back at its end, for the next session.
- **Threads**: torch uses ``SKELCL_TEST_THREADS`` (default 1) intra-op threads, and a test that
  changes the number gets it back afterwards; OpenMP/MKL read the same default. One thread: the
  tests' tensors are small, and extra threads only add synchronisation (and oversubscribe a
  shared CPU); tests that reproduce a recorded number set the count it was recorded with.
- **Tiers**: ``pytest -m "not slow"`` is the fast tier; ``@pytest.mark.slow`` marks notebooks,
  shipped-checkpoint reproduction, benchmarks, multi-process and longer trainings.
"""

from __future__ import annotations

import os
import pathlib
import shutil

THREADS = int(os.environ.get("SKELCL_TEST_THREADS", "1"))
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(THREADS))
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402  (after the thread variables: OpenMP reads them when torch loads)
import torch  # noqa: E402

USER_CACHE = pathlib.Path(os.environ.get("SKELCL_CACHE") or pathlib.Path.home() / ".cache" / "skelcl")


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """A cache folder for this session, with the user's generated datasets linked in."""
    cache = tmp_path_factory.mktemp("skelcl_cache")
    linked = set()
    for npz in sorted(USER_CACHE.glob("synthetic_*.npz")) if USER_CACHE.is_dir() else []:
        (cache / npz.name).symlink_to(npz)
        linked.add(npz.name)
    old = os.environ.get("SKELCL_CACHE")
    os.environ["SKELCL_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("SKELCL_CACHE", None)
    else:
        os.environ["SKELCL_CACHE"] = old
    try:                                        # keep what this session generated, for the next one
        USER_CACHE.mkdir(parents=True, exist_ok=True)
        for npz in cache.glob("synthetic_*.npz"):
            if npz.name not in linked and not npz.is_symlink() and not (USER_CACHE / npz.name).exists():
                shutil.move(str(npz), USER_CACHE / npz.name)
    except OSError:
        pass                                    # a read-only home: the next session generates again


@pytest.fixture(autouse=True)
def torch_threads():
    """At most THREADS intra-op threads in every test, restored if the test changes them."""
    torch.set_num_threads(min(THREADS, os.cpu_count() or 1))
    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)
