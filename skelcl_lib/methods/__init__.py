"""Self-supervised methods: each an ``nn.Module`` with ``training_step(batch) -> (loss, logs)``.

:data:`METHODS` maps a config's ``method`` to its builder ``(config, data_info) -> nn.Module``;
a new method is one import and one entry here.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from ..config import check_model
from ..data.build import data_info
from ..errors import ConfigError
from .aimclr import AimCLR
from .ascal import ASCAL, build_ascal
from .skeletonclr import SkeletonCLR, method_builder

METHODS: dict[str, Callable[[dict, dict], nn.Module]] = {
    "ascal": build_ascal,
    "skeletonclr": method_builder(SkeletonCLR),
    "aimclr": method_builder(AimCLR),
}


def build_method(config: dict, data_info_or_data) -> nn.Module:
    """The method named by ``config["method"]``, built from ``config["model"]`` and the data info
    (a ``data_info`` dict, or the training SkeletonData it is computed from)."""
    problems = check_model(config)
    if problems:
        raise ConfigError(problems)
    info = data_info_or_data if isinstance(data_info_or_data, dict) else data_info(data_info_or_data)
    return METHODS[config["method"]](config, info)


__all__ = ["ASCAL", "AimCLR", "METHODS", "SkeletonCLR", "build_method"]
