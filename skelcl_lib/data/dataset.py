"""The in-memory dataset object every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..skeleton import Layout, get_layout


@dataclass
class SkeletonData:
    """Skeleton sequences with their labels and metadata.

    x: (N, C=3, T, V, M) float32, camera space in metres, zero padding after each sequence's
    valid length and for absent bodies. Per-sample arrays all have length N. ``splits`` maps a
    protocol name ("xsub", "xview", "xset", ...) to a boolean *training* mask; the test set is
    its complement.
    """

    x: np.ndarray
    y: np.ndarray
    layout: Layout
    subject: np.ndarray | None = None
    view: np.ndarray | None = None
    names: list[str] = field(default_factory=list)
    lengths: np.ndarray | None = None
    setup: np.ndarray | None = None
    class_names: list[str] = field(default_factory=list)
    splits: dict[str, np.ndarray] = field(default_factory=dict)
    dataset: str = ""

    _PER_SAMPLE = ("x", "y", "subject", "view", "lengths", "setup")

    def __post_init__(self):
        self.layout = get_layout(self.layout)
        self.y = np.asarray(self.y, dtype=np.int64)
        n = len(self.y)
        if self.x.ndim != 5 or self.x.shape[0] != n or self.x.shape[1] != 3:
            raise ValueError(f"SkeletonData.x: expected shape (N={n}, 3, T, V, M), got {self.x.shape}")
        if self.x.shape[3] != self.layout.num_joints:
            raise ValueError(f"SkeletonData.x: layout {self.layout.name} has "
                             f"{self.layout.num_joints} joints, x has V={self.x.shape[3]}")
        for name in ("subject", "view", "lengths", "setup"):
            v = getattr(self, name)
            if v is not None:
                v = np.asarray(v, dtype=np.int64)
                if len(v) != n:
                    raise ValueError(f"SkeletonData.{name}: expected length {n}, got {len(v)}")
                setattr(self, name, v)
        if self.names and len(self.names) != n:
            raise ValueError(f"SkeletonData.names: expected {n} names, got {len(self.names)}")
        for k, m in self.splits.items():
            m = np.asarray(m, dtype=bool)
            if m.shape != (n,):
                raise ValueError(f"SkeletonData.splits[{k!r}]: expected a ({n},) bool mask, got {m.shape}")
            self.splits[k] = m

    def __len__(self) -> int:
        return len(self.y)

    @property
    def num_classes(self) -> int:
        if self.class_names:
            return len(self.class_names)
        return int(self.y.max()) + 1 if len(self.y) else 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape)

    def subset(self, index) -> "SkeletonData":
        """A new SkeletonData holding the samples ``index`` (bool mask or integer indices)."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        kw = {}
        for name in self._PER_SAMPLE:
            v = getattr(self, name)
            kw[name] = None if v is None else v[index]
        kw["x"] = np.ascontiguousarray(kw["x"]) if isinstance(self.x, np.memmap) else kw["x"]
        names = [self.names[i] for i in index] if self.names else []
        splits = {k: m[index] for k, m in self.splits.items()}
        return replace(self, names=names, splits=splits, **kw)

    def split(self, protocol: str) -> tuple["SkeletonData", "SkeletonData"]:
        """(train, test) for a protocol such as ``"xsub"`` or ``"xview"``."""
        if protocol not in self.splits:
            raise KeyError(f"{self.dataset or 'this dataset'} has no split {protocol!r}; "
                           f"available: {sorted(self.splits)}")
        m = self.splits[protocol]
        return self.subset(m), self.subset(~m)

    def summary(self) -> str:
        n, c, t, v, m = self.x.shape
        lines = [f"{self.dataset or 'skeleton data'}: {n} sequences, x {tuple(self.x.shape)} "
                 f"(N, C, T, V, M), layout {self.layout.name}, {self.num_classes} classes"]
        if self.subject is not None:
            lines.append(f"  subjects: {len(np.unique(self.subject))}")
        if self.view is not None:
            lines.append(f"  views: {sorted(np.unique(self.view).tolist())}")
        if self.lengths is not None:
            lines.append(f"  valid length: min {self.lengths.min()}, median "
                         f"{int(np.median(self.lengths))}, max {self.lengths.max()} of T={t}")
        for k, mask in self.splits.items():
            lines.append(f"  split {k}: train {int(mask.sum())} / test {int((~mask).sum())}")
        return "\n".join(lines)

