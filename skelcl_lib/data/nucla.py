"""Northwestern-UCLA Multiview Action 3D: CTR-GCN's ``all_sqe`` JSON files -> ``SkeletonData``.

Each file ``aAA_sSS_eEE_vVV.json`` holds ``{"file_name", "skeletons": [T][20][3], "label": 1..10}``
(Kinect v1, one person, metres). See the data folder's README for counts and splits.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import DataFormatError
from .dataset import SkeletonData

NUM_JOINTS = 20
CLASS_NAMES = ["pick up with one hand", "pick up with two hands", "drop trash", "walk around",
               "sit down", "stand up", "donning", "doffing", "throw", "carry"]
# file action id -> label (1-based); ids 7 and 10 are not in the released set
ACTION_TO_LABEL = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 9: 8, 11: 9, 12: 10}
_NAME = re.compile(r"^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})$")


def _frames(path, raw) -> np.ndarray:
    """``skeletons`` -> (T, 20, 3) float32, naming the first malformed frame."""
    if not isinstance(raw, list) or not raw:
        raise DataFormatError.at(path, "skeletons", "a non-empty list of frames [T][20][3]",
                                 got=type(raw).__name__ if not isinstance(raw, list) else "[]")
    try:
        x = np.asarray(raw, dtype=np.float32)
    except (ValueError, TypeError):
        x = None
    if x is None or x.shape[1:] != (NUM_JOINTS, 3):
        for t, fr in enumerate(raw):
            if not isinstance(fr, list) or len(fr) != NUM_JOINTS:
                raise DataFormatError.at(path, f"skeletons[{t}]", f"{NUM_JOINTS} joints",
                                         got=len(fr) if isinstance(fr, list) else fr)
            for j, p in enumerate(fr):
                if not isinstance(p, list) or len(p) != 3 or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in p):
                    raise DataFormatError.at(path, f"skeletons[{t}][{j}]", "3 numbers (x, y, z)", got=p)
        raise DataFormatError.at(path, "skeletons", f"shape (T, {NUM_JOINTS}, 3)", got=np.shape(raw))
    if not np.isfinite(x).all():
        t, j, c = np.argwhere(~np.isfinite(x))[0]
        raise DataFormatError.at(path, f"skeletons[{t}][{j}][{c}]", "a finite number", got=float(x[t, j, c]))
    return x


def read_nucla_json(path) -> tuple[str, np.ndarray, int]:
    """One ``all_sqe`` file -> (file_name, xyz (T, 20, 3) float32, label 0..9)."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataFormatError.at(path, "JSON", "a valid JSON object", got=str(e)) from None
    if not isinstance(d, dict):
        raise DataFormatError.at(path, "top level", "a JSON object", got=type(d).__name__)
    for key in ("file_name", "skeletons", "label"):
        if key not in d:
            raise DataFormatError.at(path, key, "a key of the object", got=sorted(d))
    name = d["file_name"]
    m = _NAME.match(name) if isinstance(name, str) else None
    if not m:
        raise DataFormatError.at(path, "file_name", "aAA_sSS_eEE_vVV", got=name)
    label = d["label"]
    if isinstance(label, bool) or not isinstance(label, int) or not 1 <= label <= len(CLASS_NAMES):
        raise DataFormatError.at(path, "label", f"an integer in 1..{len(CLASS_NAMES)}", got=label)
    action = int(m.group(1))
    if ACTION_TO_LABEL.get(action) != label:
        raise DataFormatError.at(path, "label", f"{ACTION_TO_LABEL.get(action)} for action a{action:02d}",
                                 got=label)
    return name, _frames(path, d["skeletons"]), label - 1


def load_nucla(root, t_max: int | None = None) -> SkeletonData:
    """All ``*.json`` of an ``all_sqe`` folder (or its parent) -> ``SkeletonData``.

    x: (N, 3, T, 20, 1) float32, zero-padded to the longest sequence (or ``t_max``; longer
    sequences keep their first ``t_max`` frames, with a warning). Labels 0..9, names = file_name,
    subject and view from the name, splits "xview" (train views 1, 2) and "xsub" (subjects 1–5).
    """
    root = Path(root)
    if (root / "all_sqe").is_dir():
        root = root / "all_sqe"
    files = sorted(root.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"load_nucla: no *.json files in {root}")
    names, seqs, labels = [], [], []
    for f in files:
        n, x, y = read_nucla_json(f)
        names.append(n)
        seqs.append(x)
        labels.append(y)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    t = int(lengths.max()) if t_max is None else int(t_max)
    if (lengths > t).any():
        warnings.warn(f"load_nucla: {int((lengths > t).sum())} sequences longer than t_max={t} "
                      f"keep their first {t} frames", stacklevel=2)
    out = np.zeros((len(seqs), 3, t, NUM_JOINTS, 1), dtype=np.float32)
    for i, s in enumerate(seqs):
        out[i, :, :min(len(s), t), :, 0] = s[:t].transpose(2, 0, 1)
    meta = np.array([[int(g) for g in _NAME.match(n).groups()] for n in names], dtype=np.int64)
    subject, view = meta[:, 1], meta[:, 3]
    return SkeletonData(x=out, y=np.array(labels), layout="kinect20", subject=subject, view=view,
                        names=names, lengths=np.minimum(lengths, t), class_names=list(CLASS_NAMES),
                        splits={"xview": np.isin(view, (1, 2)), "xsub": subject <= 5},
                        dataset="nw-ucla")
