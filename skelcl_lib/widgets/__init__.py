"""Interactive explorers: pure functions (tested) + thin ipywidgets layers.

- ``augmentation_explorer(data)`` (augmentation.py)
- ``tsne_explorer(...)`` (tsne.py), ``knn_explorer(...)`` (knn.py)
"""

_LAZY = {
    "augmentation_explorer": ("augmentation", "augmentation_explorer"),
    "tsne_explorer": ("tsne", "tsne_explorer"),
    "knn_explorer": ("knn", "knn_explorer"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    raise AttributeError(name)


__all__ = list(_LAZY)
