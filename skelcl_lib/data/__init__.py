"""Data: the embedded synthetic dataset and readers for real skeleton formats.

Every reader returns arrays in the layout (N, C=3, T, V, M) float32 (or one sample
(3, T, V, M)); malformed input raises :class:`skelcl_lib.errors.DataFormatError`.
"""

from .dataset import SkeletonData, SkeletonDataset  # noqa: F401

_LAZY = {
    "make_synthetic": ("synthetic", "make_synthetic"),
    "read_ntu_skeleton": ("ntu", "read_ntu_skeleton"),
    "load_nucla": ("nucla", "load_nucla"),
    "load_stgcn": ("formats", "load_stgcn"),
    "load_labels": ("formats", "load_labels"),
    "save_stgcn": ("formats", "save_stgcn"),
    "load_ctrgcn_npz": ("formats", "load_ctrgcn_npz"),
    "to_frame50": ("frame50", "to_frame50"),
    "prepare_ntu": ("ntu", "prepare_ntu"),
    "prepare_pku": ("pku", "prepare_pku"),
}


def __getattr__(name):  # lazy so importing the package stays cheap
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    raise AttributeError(name)


__all__ = ["SkeletonData", "SkeletonDataset", *_LAZY]
