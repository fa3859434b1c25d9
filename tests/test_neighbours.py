"""skelcl_lib.neighbours.nearest_rows against a brute-force search (sorted by distance, ties by position)."""

import numpy as np
import pytest

from skelcl_lib.neighbours import nearest_rows


def _brute(gallery, queries, k, metric, exclude_self):
    g = np.asarray(gallery, dtype=np.float64)
    q = np.asarray(queries, dtype=np.float64)
    if metric == "cosine":
        g = g / np.linalg.norm(g, axis=1, keepdims=True)
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        d = 1.0 - q @ g.T
    else:
        d = np.linalg.norm(q[:, None] - g[None], axis=2)
    out = []
    for i, row in enumerate(d):
        cand = [j for j in range(len(g)) if not (exclude_self and j == i)]
        out.append(sorted(cand, key=lambda j: (round(row[j], 5), j))[:k])
    return np.array(out, dtype=np.int64).reshape(len(q), -1)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("chunk", [3, 1024])
def test_nearest_rows_matches_brute_force_with_ties_and_chunks(metric, chunk):
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(23, 5)).astype(np.float32)
    gallery[2] = gallery[7] = [2, 0, 0, 0, 0]                 # a tie that float32 computes exactly
    queries = rng.normal(size=(9, 5)).astype(np.float32)
    queries[0] = [3, 0, 0, 0, 0]
    idx, dist = nearest_rows(gallery, queries, 4, metric, chunk)
    assert idx.shape == dist.shape == (9, 4)
    np.testing.assert_array_equal(idx, _brute(gallery, queries, 4, metric, False))
    assert idx[0, 0] == 2 and idx[0, 1] == 7                  # equal distance: lower position first
    assert (np.diff(dist, axis=1) >= 0).all()


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_self_search_never_returns_the_row_and_caps_k(metric):
    rng = np.random.default_rng(1)
    gallery = rng.normal(size=(6, 4)).astype(np.float32)
    gallery[1] = gallery[4] = [0, 1, 0, 0]
    idx, _ = nearest_rows(gallery, None, 10, metric, chunk=4)
    assert idx.shape == (6, 5)                                # k' = N − 1
    assert not (idx == np.arange(6)[:, None]).any()
    np.testing.assert_array_equal(idx, _brute(gallery, gallery, 5, metric, True))
    assert idx[1, 0] == 4 and idx[4, 0] == 1                  # a duplicate is the other's nearest
    assert nearest_rows(gallery, None, 0)[0].shape == (6, 0)


def test_unknown_metric_is_named():
    with pytest.raises(ValueError, match="metric: expected 'cosine' or 'euclidean', got 'l1'"):
        nearest_rows(np.ones((3, 2)), None, 1, "l1")
