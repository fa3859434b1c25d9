"""Frozen features of an encoder, and the baselines without one: raw coordinates, pose
statistics and a scikit-learn logistic-regression probe.

An extractor maps raw joints ``x: (N, 3, T, V, M)`` to features ``(N, D)`` and has ``out_dim``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data.raw import raw_features, valid_lengths  # noqa: F401  (the baselines live with the data)


def as_array(data_or_x):
    """x of a SkeletonData, or the array itself (numpy, memmap or torch tensor)."""
    return getattr(data_or_x, "x", data_or_x)


def as_labels(data_or_y):
    return np.asarray(getattr(data_or_y, "y", data_or_y), dtype=np.int64)


def _module_device(module):
    for p in module.parameters():
        return p.device
    for b in module.buffers():
        return b.device
    return torch.device("cpu")


def to_tensor(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device=device, dtype=torch.float32)
    return torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(device)


def extract_features(extractor, data_or_x, batch_size: int = 256, device=None) -> np.ndarray:
    """Features ``(N, D)`` float32 of ``data_or_x`` (SkeletonData or x: (N, 3, T, V, M)).

    The extractor runs in eval mode under ``no_grad`` (its previous mode is restored); batches go
    to ``device`` (default: the extractor's own device; a given device moves the extractor).
    """
    x = as_array(data_or_x)
    if device is None:
        device = _module_device(extractor)
    else:
        device = torch.device(device)
        extractor.to(device)
    was_training = extractor.training
    extractor.eval()
    out = []
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                f = extractor(to_tensor(x[i:i + batch_size], device))
                out.append(f.reshape(len(f), -1).float().cpu().numpy())
    finally:
        extractor.train(was_training)
    if not out:
        return np.zeros((0, getattr(extractor, "out_dim", 0)), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


# Quick judges: scikit-learn logistic regression, raw coordinates


def linear_probe(train_f, train_y, test_f, test_y, C: float = 1.0) -> float:
    """Test accuracy of a scikit-learn LogisticRegression on standardised features.

    A quick judge of a run (not a paper protocol): the scaler is fit on the training features,
    L2 penalty ``C``, lbfgs, up to 2000 iterations.
    """
    # scikit-learn takes about a second to import; only this quick judge needs it
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train_f)
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(scaler.transform(train_f), as_labels(train_y))
    return float(clf.score(scaler.transform(test_f), as_labels(test_y)))


def pose_statistics(data, spread: bool = False) -> np.ndarray:
    """Hand-made clip features (N, 3·V·M), or (N, 2·3·V·M) with ``spread``: every joint's mean
    position over time and, with ``spread``, its standard deviation over time (how much it moves),
    after centring each body on ``layout.spine_joint`` in every frame (absent bodies stay zero).

    Meant as a diagnostic next to ``raw_features``: a mean-pooled encoder that only keeps the
    mean pose scores like the first; the second shows what a little motion information adds.
    All T frames are used, so give it time-normalised clips (frame50) rather than zero-padded ones.
    """
    x = np.asarray(data.x, dtype=np.float32)
    j = data.layout.spine_joint
    x = x - x[:, :, :, j:j + 1, :]
    parts = [x.mean(axis=2)] + ([x.std(axis=2)] if spread else [])
    return np.concatenate([p.reshape(len(x), -1) for p in parts], axis=1)


def raw_probe(train, test, t_resample: int = 20, C: float = 1.0) -> float:
    """``linear_probe`` on ``raw_features`` of two SkeletonData (see there for the preprocessing)."""
    return linear_probe(raw_features(train, t_resample), train.y,
                        raw_features(test, t_resample), test.y, C=C)
