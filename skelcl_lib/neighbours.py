"""Nearest rows of a feature matrix: the chunked top-k search shared by the kNN read-out
(``evaluate.knn``) and the raw-neighbour clip ids of the data layer (``data.raw``)."""

from __future__ import annotations

import numpy as np


def _unit_rows(f: np.ndarray) -> np.ndarray:
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def nearest_rows(gallery, queries=None, k: int = 1, metric: str = "cosine", chunk: int = 1024):
    """``(indices, distances)``, each (Q, k'): for every query row, its k' nearest gallery rows,
    nearest first, equal distances by gallery position.

    ``metric``: ``cosine`` (rows L2-normalised, distance 1 − cos) or ``euclidean``.
    ``queries=None`` searches the gallery against itself and never returns a row as its own
    neighbour; then k' = min(k, N − 1), otherwise k' = min(k, N). Computed ``chunk`` query rows at
    a time, so only a (chunk, N) block of distances exists at once.
    """
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric: expected 'cosine' or 'euclidean', got {metric!r}")
    gallery = np.asarray(gallery, dtype=np.float32)
    self_search = queries is None
    queries = gallery if self_search else np.asarray(queries, dtype=np.float32)
    if metric == "cosine":
        gallery = _unit_rows(gallery)
        queries = gallery if self_search else _unit_rows(queries)
    n = len(gallery)
    k = max(0, min(int(k), n - 1 if self_search else n))
    idx = np.empty((len(queries), k), dtype=np.int64)
    dist = np.empty((len(queries), k), dtype=np.float32)
    if k == 0:
        return idx, dist
    sq_gallery = (gallery ** 2).sum(1) if metric == "euclidean" else None
    for s in range(0, len(queries), chunk):
        q = queries[s:s + chunk]
        if metric == "cosine":
            d = 1.0 - q @ gallery.T                                          # (B, N)
        else:
            d = np.sqrt(np.maximum((q ** 2).sum(1)[:, None] + sq_gallery[None] - 2 * q @ gallery.T, 0))
        if self_search:
            rows = np.arange(len(d))
            d[rows, s + rows] = np.inf                                       # never the row itself
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(q), 1))
        dp = np.take_along_axis(d, part, axis=1)
        order = np.lexsort((part, dp), axis=1)                               # by distance, then position
        idx[s:s + chunk] = np.take_along_axis(part, order, axis=1)
        dist[s:s + chunk] = np.take_along_axis(dp, order, axis=1)
    return idx, dist
