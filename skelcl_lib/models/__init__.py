"""Encoders: the AS-CAL LSTM and the AimCLR ¼-width ST-GCN, and projection heads."""

from .._lazy import lazy_getattr

_LAZY = {
    "LSTMEncoder": ("lstm", "LSTMEncoder"),
    "STGCN": ("stgcn", "STGCN"),
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = list(_LAZY)
