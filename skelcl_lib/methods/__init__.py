"""Self-supervised methods: each an ``nn.Module`` with ``training_step(batch) -> (loss, logs)``."""

_LAZY = {
    "ASCAL": ("ascal", "ASCAL"),
    "SkeletonCLR": ("skeletonclr", "SkeletonCLR"),
    "AimCLR": ("aimclr", "AimCLR"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{mod}"), attr)
    raise AttributeError(name)


__all__ = list(_LAZY)
