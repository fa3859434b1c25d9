"""Lazy attribute access for packages, so ``import skelcl_lib.x`` stays cheap."""

from __future__ import annotations

import importlib


def lazy_getattr(package: str, names: dict[str, tuple[str, str]]):
    """A module ``__getattr__`` resolving ``names[attr] = (submodule, attribute)`` on first use."""

    def __getattr__(attr):
        if attr in names:
            module, name = names[attr]
            return getattr(importlib.import_module(f"{package}.{module}"), name)
        raise AttributeError(f"module {package!r} has no attribute {attr!r}")

    return __getattr__
