"""skelcl_lib: self-supervised contrastive learning for skeleton action recognition.

The library behind the skelcl course: data (embedded synthetic dataset and real-format
readers), batched augmentations, encoders (LSTM, ST-GCN), methods (AS-CAL, SkeletonCLR,
AimCLR), one training loop, evaluation and interactive explorers.
"""

__version__ = "0.1.0"

from .errors import DataFormatError  # noqa: F401

__all__ = ["DataFormatError", "__version__"]
