"""Encoders: the AS-CAL LSTM and the AimCLR ¼-width ST-GCN, and projection heads."""

_LAZY = {
    "LSTMEncoder": ("lstm", "LSTMEncoder"),
    "STGCN": ("stgcn", "STGCN"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    raise AttributeError(name)


__all__ = list(_LAZY)
