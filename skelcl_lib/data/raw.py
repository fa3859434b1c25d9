"""Raw-coordinate clip features, the "no learning" baseline: every clip centred on its spine
joint and resampled to a few frames, flattened (no model involved)."""

from __future__ import annotations

import numpy as np

from ..neighbours import nearest_rows


def valid_lengths(x: np.ndarray) -> np.ndarray:
    """Per sample, 1 + the index of the last frame with any non-zero coordinate (at least 1).

    x: (N, C, T, V, M).
    """
    nonzero = np.abs(np.asarray(x)).reshape(x.shape[0], x.shape[1], x.shape[2], -1).sum(axis=(1, 3)) > 0
    t = x.shape[2]
    last = t - np.argmax(nonzero[:, ::-1], axis=1)            # (N,) 1 + last non-zero frame
    return np.where(nonzero.any(axis=1), last, 1).astype(np.int64)


def raw_features(data, t_resample: int = 20, chunk: int = 512) -> np.ndarray:
    """Raw-coordinate features (N, 3·t_resample·V·M) float32: the "no learning" baseline.

    Exact preprocessing, per sample:
      1. valid length L = ``data.lengths`` if present, else 1 + the last non-zero frame;
      2. centring: at every frame, subtract body 0's ``layout.spine_joint`` (the AS-CAL centre)
         from all joints of every body present in that frame (absent bodies stay zero);
      3. the L valid frames are linearly resampled to ``t_resample`` frames at
         ``linspace(0, L - 1, t_resample)``;
      4. flattened in (C, T, V, M) order.
    """
    x_all = data.x
    n, c, t, v, m = x_all.shape
    lengths = data.lengths if getattr(data, "lengths", None) is not None else None
    spine = data.layout.spine_joint
    out = np.empty((n, c * t_resample * v * m), dtype=np.float32)
    for s in range(0, n, chunk):
        x = np.asarray(x_all[s:s + chunk], dtype=np.float32)           # (B, C, T, V, M)
        present = np.abs(x).sum(axis=(1, 3), keepdims=True) > 0       # (B, 1, T, 1, M)
        centre = x[:, :, :, spine:spine + 1, 0:1]                       # (B, C, T, 1, 1)
        x = np.where(present, x - centre, 0.0)
        L = np.clip(lengths[s:s + chunk], 1, t) if lengths is not None else valid_lengths(x_all[s:s + chunk])
        for b in range(len(x)):
            pos = np.linspace(0.0, L[b] - 1, t_resample)
            lo = np.floor(pos).astype(int)
            hi = np.minimum(lo + 1, L[b] - 1)
            w = (pos - lo)[None, :, None, None]
            r = (1 - w) * x[b][:, lo] + w * x[b][:, hi]                  # (C, t_resample, V, M)
            out[s + b] = r.reshape(-1)
    return out


def nearest_other(features: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """(N, k') int64, k' = min(k, N − 1): for each row of ``features`` (N, D), the positions of
    its k' nearest *other* rows by cosine distance, nearest first (ties by position;
    :func:`skelcl_lib.neighbours.nearest_rows`). Computed in chunks of rows, so N may be large."""
    return nearest_rows(features, None, k, "cosine", chunk)[0]
