"""Interactive explorers: pure functions (tested) + thin ipywidgets layers.

- ``augmentation_explorer(data)`` (augmentation.py)
- ``tsne_explorer(...)``, ``checkpoint_features(data)`` (tsne.py), ``knn_explorer(...)`` (knn.py)
"""

from .._lazy import lazy_getattr

_LAZY = {
    "augmentation_explorer": ("augmentation", "augmentation_explorer"),
    "tsne_explorer": ("tsne", "tsne_explorer"),
    "checkpoint_features": ("tsne", "checkpoint_features"),
    "knn_explorer": ("knn", "knn_explorer"),
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = list(_LAZY)
