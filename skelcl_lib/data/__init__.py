"""Data: the embedded synthetic dataset and readers for real skeleton formats.

Every reader returns arrays in the layout (N, C=3, T, V, M) float32 (or one sample
(3, T, V, M)); malformed input raises :class:`skelcl_lib.errors.DataFormatError`.
"""

from .._lazy import lazy_getattr
from .dataset import SkeletonData  # noqa: F401

_LAZY = {
    "make_synthetic": ("synthetic", "make_synthetic"),
    "read_ntu_skeleton": ("ntu", "read_ntu_skeleton"),
    "load_nucla": ("nucla", "load_nucla"),
    "load_stgcn": ("formats", "load_stgcn"),
    "load_labels": ("formats", "load_labels"),
    "save_stgcn": ("formats", "save_stgcn"),
    "load_ctrgcn_npz": ("formats", "load_ctrgcn_npz"),
    "to_frame50": ("frame50", "to_frame50"),
    "normalize_scale": ("normalize", "normalize_scale"),
    "convert_layout": ("convert", "convert_layout"),
    "prepare_ntu": ("ntu", "prepare_ntu"),
    "prepare_pku": ("pku", "prepare_pku"),
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["SkeletonData", *_LAZY]
