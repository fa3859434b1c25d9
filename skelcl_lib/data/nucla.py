"""Northwestern-UCLA Multiview Action 3D: CTR-GCN's ``all_sqe`` JSON files -> ``SkeletonData``.

Each file ``aAA_sSS_eEE_vVV.json`` holds ``{"file_name", "skeletons": [T][20][3], "label": 1..10}``
(Kinect v1, one person, metres): 1484 clips of 10 actions by 10 performers, from 3 cameras.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np

from ..errors import DataFormatError
from .dataset import SkeletonData
from .text import read_text

NUM_JOINTS = 20
CLASS_NAMES = ["pick up with one hand", "pick up with two hands", "drop trash", "walk around",
               "sit down", "stand up", "donning", "doffing", "throw", "carry"]
# file action id -> label (1-based); ids 7 and 10 are not in the released set
ACTION_TO_LABEL = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 9: 8, 11: 9, 12: 10}
_NAME = re.compile(r"^a(\d{2})_s(\d{2})_e(\d{2})_v(\d{2})\Z", re.ASCII)


# A sequence longer than this is refused (N-UCLA's longest has 201 frames).
MAX_FRAMES = 10_000
# What a folder given to load_nucla must hold (error messages).
EXPECTED_FOLDER = ("the N-UCLA folder: `all_sqe` with one aAA_sSS_eEE_vVV.json file per clip "
                   "(1484 files), or the folder that contains `all_sqe`")


def _locate_bad_element(path, raw):
    """Slow path: raise for the first frame, joint or coordinate that is not as expected."""
    for t, fr in enumerate(raw):
        if type(fr) is not list or len(fr) != NUM_JOINTS:
            raise DataFormatError.at(path, f"skeletons[{t}]", f"a list of {NUM_JOINTS} joints",
                                     got=len(fr) if isinstance(fr, list) else fr)
        for j, p in enumerate(fr):
            if type(p) is not list or len(p) != 3:
                raise DataFormatError.at(path, f"skeletons[{t}][{j}]", "a list of 3 numbers (x, y, z)",
                                         got=p)
            for c, v in enumerate(p):
                if type(v) is not float and type(v) is not int:  # bool is a subclass of int
                    raise DataFormatError.at(path, f"skeletons[{t}][{j}][{c}]", "a JSON number", got=v)


def _frames(path, raw) -> np.ndarray:
    """``skeletons`` -> (T, 20, 3) float32. Every coordinate must be a JSON number (not a
    string, not a boolean, not NaN/Infinity) that fits in float32; errors name the first bad
    element by its index."""
    if not isinstance(raw, list) or not raw:
        raise DataFormatError.at(path, "skeletons", "a non-empty list of frames [T][20][3]",
                                 got=type(raw).__name__ if not isinstance(raw, list) else "[]")
    if len(raw) > MAX_FRAMES:
        raise DataFormatError.at(path, "skeletons", f"at most {MAX_FRAMES} frames", got=len(raw))
    shape_ok = all(type(fr) is list and len(fr) == NUM_JOINTS for fr in raw) and all(
        type(p) is list and len(p) == 3 for fr in raw for p in fr)
    if not shape_ok or not {type(v) for fr in raw for p in fr for v in p} <= {float, int}:
        _locate_bad_element(path, raw)
    try:
        x64 = np.array(raw, dtype=np.float64)
    except OverflowError:  # an integer literal too large for a float
        x64 = None
    if x64 is not None:
        with np.errstate(over="ignore"):
            x = x64.astype(np.float32)
    if x64 is None or not np.isfinite(x).all():
        for t, fr in enumerate(raw):
            for j, p in enumerate(fr):
                for c, v in enumerate(p):
                    try:
                        with np.errstate(over="ignore"):
                            ok = np.isfinite(np.float32(float(v)))
                    except OverflowError:
                        ok = False
                    if not ok:
                        raise DataFormatError.at(path, f"skeletons[{t}][{j}][{c}]",
                                                 "a finite number within float32 range", got=v)
    return x


def _no_duplicate_keys(path):
    def hook(pairs):
        d = dict(pairs)
        if len(d) != len(pairs):
            seen = set()
            dup = next(k for k, _ in pairs if k in seen or seen.add(k))
            raise DataFormatError.at(path, f"key {dup!r}", "each key once per object",
                                     got=[k for k, _ in pairs])
        return d
    return hook


def _refuse_constant(path):
    def hook(name):
        raise DataFormatError.at(path, "JSON", "numbers only (NaN and Infinity are not JSON)", got=name)
    return hook


def read_nucla_json(path) -> tuple[str, np.ndarray, int]:
    """One ``all_sqe`` file -> (file_name, xyz (T, 20, 3) float32, label 0..9)."""
    text = read_text(path)
    try:
        d = json.loads(text, object_pairs_hook=_no_duplicate_keys(path),
                       parse_constant=_refuse_constant(path))
    except json.JSONDecodeError as e:
        raise DataFormatError.at(path, f"JSON line {e.lineno} column {e.colno}", "a valid JSON object",
                                 got=e.msg) from None
    except RecursionError:
        raise DataFormatError.at(path, "JSON", "an object nested a few levels deep",
                                 got="nesting too deep to parse") from None
    except ValueError as e:  # e.g. an integer literal with more digits than Python converts
        if isinstance(e, DataFormatError):
            raise
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
    if t_max is not None and (isinstance(t_max, bool) or not isinstance(t_max, (int, np.integer))
                              or not 1 <= t_max <= MAX_FRAMES):
        raise ValueError(f"load_nucla: t_max must be an integer in 1..{MAX_FRAMES}, got {t_max!r}")
    root = Path(root)
    if not root.is_dir():
        where = str(root) if root.is_absolute() else f"{root} (absolute: {root.absolute()})"
        raise FileNotFoundError(f"load_nucla: {where} is not a folder; expected {EXPECTED_FOLDER}")
    if (root / "all_sqe").is_dir():
        root = root / "all_sqe"
    files = sorted(root.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"load_nucla: no *.json files in {root}; expected {EXPECTED_FOLDER}")
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
