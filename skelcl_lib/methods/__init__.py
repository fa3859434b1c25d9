"""Self-supervised methods: each an ``nn.Module`` with ``training_step(batch) -> (loss, logs)``."""

from .._lazy import lazy_getattr

_LAZY = {
    "ASCAL": ("ascal", "ASCAL"),
    "SkeletonCLR": ("skeletonclr", "SkeletonCLR"),
    "AimCLR": ("aimclr", "AimCLR"),
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = list(_LAZY)
