"""The in-memory dataset object every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import DataFormatError
from ..skeleton import Layout, get_layout


# The largest label a dataset may use when its class count is not known (NTU-120 has 120
# classes); a label file asking for more is malformed, not a bigger model.
MAX_CLASSES = 1000
_CHUNK_BYTES = 64 << 20


def check_finite(x: np.ndarray, where) -> None:
    """Raise ``DataFormatError`` naming the first sample (index along axis 0) with a NaN or inf.

    Reads ``x`` in slices of about 64 MB, so a memory-mapped array of any size is checked
    without being loaded at once.
    """
    if x.dtype.kind not in "fc" or x.size == 0:
        return
    per_sample = max(1, x[:1].nbytes)
    step = max(1, _CHUNK_BYTES // per_sample)
    for s in range(0, len(x), step):
        part = np.asarray(x[s:s + step])
        if not np.isfinite(part).all():
            bad = np.argwhere(~np.isfinite(part))[0]
            i = s + int(bad[0])
            pos = ", ".join(str(int(k)) for k in bad[1:])
            raise DataFormatError.at(where, f"sample {i} at index ({pos})", "finite coordinates",
                                     got=float(part[tuple(bad)]))


def check_labels(y, where, num_classes: int | None = None, field: str = "labels") -> np.ndarray:
    """Labels as an int64 array, or ``DataFormatError``: integers (no floats, no booleans), 1-D,
    each in ``0 <= y < num_classes`` (``MAX_CLASSES`` when unknown); names the first bad index."""
    bound = MAX_CLASSES if num_classes is None else int(num_classes)
    what = f"integer labels in 0..{bound - 1}" + ("" if num_classes is not None else
                                                   " (no class count given: at most MAX_CLASSES)")
    if isinstance(y, np.ndarray):
        if y.dtype.kind not in "iu":
            raise DataFormatError.at(where, field, what, got=f"an array of {y.dtype}")
        arr = y
    else:
        items = list(y)
        for i, v in enumerate(items):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise DataFormatError.at(where, f"{field}[{i}]", what, got=v)
            if not -2 ** 63 <= int(v) < 2 ** 63:
                raise DataFormatError.at(where, f"{field}[{i}]", what, got=int(v))
        arr = np.array(items, dtype=np.int64)
    if arr.ndim != 1:
        raise DataFormatError.at(where, field, "a 1-D sequence of labels", got=f"shape {arr.shape}")
    if arr.dtype.kind == "u" and arr.size and arr.max() >= 2 ** 63:
        i = int(np.argmax(arr >= 2 ** 63))
        raise DataFormatError.at(where, f"{field}[{i}]", what, got=int(arr[i]))
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= bound)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFormatError.at(where, f"{field}[{i}]", what, got=int(arr[i]))
    return arr


@dataclass
class SkeletonData:
    """Skeleton sequences with their labels and metadata.

    x: (N, C=3, T, V, M) float32, camera space in metres, zero padding after each sequence's
    valid length and for absent bodies. Checked on construction: a float array of that shape
    (T, V, M >= 1), finite (memory maps are checked by the reader that opened them), and
    integer labels ``0 <= y < len(class_names)`` (or ``MAX_CLASSES`` without class names);
    a violation raises ``DataFormatError``. Per-sample arrays all have length N. ``splits`` maps a
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
        where = self.dataset or "SkeletonData"
        if not isinstance(self.x, np.ndarray):
            raise DataFormatError.at(where, "x", "a numpy array (N, 3, T, V, M)", got=type(self.x).__name__)
        if self.x.dtype.kind != "f":
            raise DataFormatError.at(where, "x", "a float array", got=str(self.x.dtype))
        self.y = check_labels(self.y, where, len(self.class_names) or None, field="y")
        n = len(self.y)
        if self.x.ndim != 5 or self.x.shape[0] != n or self.x.shape[1] != 3:
            raise DataFormatError.at(where, "x", f"shape (N={n}, 3, T, V, M)", got=self.x.shape)
        if 0 in self.x.shape[2:]:
            raise DataFormatError.at(where, "x", "T, V and M of at least 1", got=self.x.shape)
        if self.x.shape[3] != self.layout.num_joints:
            raise DataFormatError.at(where, "x", f"V={self.layout.num_joints} joints (layout "
                                     f"{self.layout.name})", got=self.x.shape[3])
        if not isinstance(self.x, np.memmap):  # a reader that maps a file checks it, naming the file
            check_finite(self.x, where)
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

    @classmethod
    def concat(cls, parts) -> "SkeletonData":
        """One SkeletonData holding the samples of ``parts`` in order. The parts must agree in
        layout, class names and the shape of a sample (C, T, V, M). A per-sample array (and
        ``names``) is kept only when every part has it; a split mask only when every part has
        that protocol. Layout, class names and dataset name are the first part's."""
        parts = list(parts)
        if not parts:
            raise ValueError("SkeletonData.concat: expected at least one part, got none")
        first = parts[0]
        for i, p in enumerate(parts[1:], 1):
            for what, a, b in (("layout", first.layout.name, p.layout.name),
                               ("class_names", first.class_names, p.class_names),
                               ("sample shape (C, T, V, M)", first.x.shape[1:], p.x.shape[1:])):
                if a != b:
                    raise ValueError(f"SkeletonData.concat: part {i} has {what} {b!r}, expected "
                                     f"{a!r} as part 0")
        kw = {}
        for name in cls._PER_SAMPLE:
            values = [getattr(p, name) for p in parts]
            kw[name] = None if any(v is None for v in values) else np.concatenate(values)
        names = ([n for p in parts for n in p.names]
                 if all(p.names or not len(p) for p in parts) else [])
        splits = {k: np.concatenate([p.splits[k] for p in parts])
                  for k in first.splits if all(k in p.splits for p in parts)}
        return replace(first, names=names, splits=splits, **kw)

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

