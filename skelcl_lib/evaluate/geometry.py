"""The shape of a cloud of features: is it spread over many directions, or nearly one?

Contrastive encoders can *collapse* — map every clip to nearly the same vector, or spend almost
all of their variance along one direction — and a nearest-neighbour read-out then measures that
direction rather than the action. Three numbers describe it (docs/methods.md §9.2):

- ``mean_cosine``: mean cosine similarity between *different* rows (≈ 1: every clip points the
  same way; pooled ReLU features are all non-negative, so they are never near 0);
- ``effective_rank``: exp of the entropy of the normalised squared singular values of the
  centred features (1: all variance along one direction; D: spread evenly);
- ``top_share``: the fraction of the variance along the first principal direction.
"""

from __future__ import annotations

import numpy as np
import torch


def feature_geometry(features) -> dict:
    """``mean_cosine``, ``effective_rank`` and ``top_share`` of features (N, D), N >= 2
    (torch or numpy; see the module docstring)."""
    f = torch.as_tensor(np.asarray(features) if not torch.is_tensor(features) else features).double()
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature_geometry: expected features of shape (N, D) with N >= 2, got {tuple(f.shape)}")
    e = torch.nn.functional.normalize(f, dim=1)
    n = len(e)
    total = e.sum(0)
    mean_cosine = (total @ total - (e * e).sum()) / (n * (n - 1))     # off-diagonal mean of e @ e.T
    s2 = torch.linalg.svdvals(f - f.mean(0)) ** 2
    if float(s2.sum()) == 0.0:
        return {"mean_cosine": float(mean_cosine), "effective_rank": 0.0, "top_share": 0.0}
    p = s2 / s2.sum()
    p = p[p > 0]
    return {"mean_cosine": float(mean_cosine), "effective_rank": float(torch.exp(-(p * p.log()).sum())),
            "top_share": float(p.max())}


def top_direction(features) -> np.ndarray:
    """(N,) the features' coordinates along their first principal direction (centred)."""
    f = np.asarray(features, dtype=np.float64)
    f = f - f.mean(0)
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    return u[:, 0] * s[0]
