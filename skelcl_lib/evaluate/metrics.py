"""Accuracy metrics on logits or predictions, and the score-level ensemble of streams."""

from __future__ import annotations

import numpy as np

from .features import as_labels


def accuracy_noise(n: int) -> float:
    """About two standard errors of an accuracy measured on ``n`` test clips, at its largest
    (accuracy 0.5): 2·sqrt(0.25 / n), as a fraction. Two read-outs closer than this are not
    told apart by that test set."""
    if int(n) < 1:
        raise ValueError(f"accuracy_noise: expected at least one test clip, got n = {n}")
    return float(2.0 * np.sqrt(0.25 / int(n)))


def topk_accuracy(logits, y, k=(1, 5)) -> dict:
    """{k: fraction of samples whose label is among the k largest logits} (k clipped to C)."""
    logits = np.asarray(logits)
    y = as_labels(y)
    order = np.argsort(-logits, axis=1, kind="stable")
    return {int(kk): float((order[:, :min(kk, logits.shape[1])] == y[:, None]).any(1).mean())
            for kk in ((k,) if np.isscalar(k) else k)}


def confusion_matrix(pred, y, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (as_labels(y), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def per_class_accuracy(pred, y, num_classes: int) -> np.ndarray:
    """(C,) accuracy of each true class; NaN for classes without samples."""
    cm = confusion_matrix(pred, y, num_classes)
    n = cm.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.diag(cm) / np.maximum(n, 1), np.nan)


# ---------------------------------------------------------------------------------------------
# Ensemble (3s-AimCLR, docs/methods.md)

FUSION_WEIGHTS = {"joint": 0.6, "bone": 0.6, "motion": 0.4}


def ensemble(logits_by_stream: dict, weights: dict | None = None) -> np.ndarray:
    """Score-level fusion Σ_s w_s · logits_s (raw logits, not probabilities; 0.6/0.6/0.4 default)."""
    weights = FUSION_WEIGHTS if weights is None else weights
    if not logits_by_stream:
        raise ValueError("ensemble: logits_by_stream is empty")
    missing = [s for s in logits_by_stream if s not in weights]
    if missing:
        raise ValueError(f"ensemble: no weight for stream(s) {missing}; weights has {sorted(weights)}")
    shapes = {s: np.shape(v) for s, v in logits_by_stream.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"ensemble: logits shapes differ: {shapes}")
    return sum(weights[s] * np.asarray(v, dtype=np.float64) for s, v in logits_by_stream.items())
