"""k-nearest-neighbour classification on frozen features (cosine or euclidean)."""

from __future__ import annotations

import numpy as np

from ..neighbours import nearest_rows
from .features import as_labels


def nearest_neighbors(train_f, query_f, k: int, metric: str = "cosine", chunk: int = 1024):
    """The k nearest training ("gallery") samples of each query: ``(indices, distances)``, (Q, k).

    cosine: features L2-normalised, distance = 1 − cos; euclidean: plain L2 distance.
    Neighbours are sorted by distance, equal distances by gallery index
    (:func:`skelcl_lib.neighbours.nearest_rows`).
    """
    return nearest_rows(train_f, query_f, k, metric, chunk)


def majority_vote(neighbor_labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Majority vote over (Q, k) labels; a tie goes to the tied class with the nearest neighbour."""
    q, k = neighbor_labels.shape
    counts = np.zeros((q, num_classes), dtype=np.int64)
    first = np.full((q, num_classes), k, dtype=np.int64)                 # rank of each class's nearest
    rows = np.arange(q)
    for j in range(k - 1, -1, -1):
        counts[rows, neighbor_labels[:, j]] += 1
        first[rows, neighbor_labels[:, j]] = j
    return np.argmax(counts * (k + 1) + (k - first), axis=1)


def knn_predict(train_f, train_y, test_f, k: int = 1, metric: str = "cosine"):
    """kNN prediction: ``(pred (Q,), indices (Q, k), distances (Q, k))``; vote as in ``knn_accuracy``."""
    train_y = as_labels(train_y)
    idx, dist = nearest_neighbors(train_f, test_f, k, metric)
    return majority_vote(train_y[idx], int(train_y.max()) + 1), idx, dist


def knn_accuracy(train_f, train_y, test_f, test_y, k=(1, 5, 20), metric: str = "cosine") -> dict:
    """{k: accuracy} of kNN classification, train = gallery, test = queries.

    One similarity computation for all k. Majority vote; a tie goes to the tied class whose
    nearest member ranks first (for k = 1 this is plain 1-NN, as ISC/CMD's sklearn classifier).
    """
    ks = (k,) if np.isscalar(k) else tuple(k)
    train_y, test_y = as_labels(train_y), as_labels(test_y)
    idx, _ = nearest_neighbors(train_f, test_f, max(ks), metric)
    labels = train_y[idx]
    c = int(max(train_y.max(), test_y.max())) + 1
    return {int(kk): float((majority_vote(labels[:, :kk], c) == test_y).mean()) for kk in ks}
