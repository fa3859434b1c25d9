"""Evaluation of a frozen (or fine-tuned) skeleton encoder, one module per job:

- :mod:`.features`: frozen features and the baselines without an encoder (raw coordinates, pose
  statistics, the scikit-learn probe);
- :mod:`.knn`: nearest-neighbour classification; :mod:`.geometry`: the shape of a feature cloud
  (mean cosine, effective rank); :mod:`.metrics`: top-k, confusion, ensemble;
- :mod:`.protocols`: linear, semi-supervised, fine-tuning and from-scratch training;
- :mod:`.report`: the result row and its table; :mod:`.suite`: several protocols in one call
  and ``skelcl evaluate``.

Everything sees only ``method.feature_extractor()``: an ``nn.Module`` mapping raw joints
``x: (N, 3, T, V, M)`` to features ``(N, D)`` with attribute ``out_dim`` (docs/ARCHITECTURE.md).
"""
