"""Processed skeleton formats: st-gcn arrays + label pickles, AimCLR frame50, CTR-GCN npz.

- st-gcn (FORMATS.md §3.8, METHODS.md §2.1): ``{train,val}_data.npy`` float32
  ``(N, 3, T, V, M)`` and ``{train,val}_label.pkl`` = pickle of ``(names, labels)``.
- AimCLR frame50 (METHODS.md §2.3): ``{train,val}_position.npy`` ``(N, 3, 50, V, M)`` with the
  same label pickle (or AimCLR's own ``{part}_label.npy`` ``(N, 1)`` int64).
- CTR-GCN (``NTU60_CS.npz``): ``x_train (N, T, 150)``, ``y_train`` one-hot, same for test.

Label pickles are read with a restricted unpickler: a pickle can name any importable callable
and ``pickle.load`` would call it, so only the few numpy constructors that a label file of
numpy ints legitimately needs are allowed. Arrays are always read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import DataFormatError
from ..skeleton import get_layout
from .dataset import SkeletonData

# NTU sample names: SsssCcccPpppRrrrAaaa (FORMATS.md §3.1).
NTU_NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})\Z", re.ASCII)
# PKU-MMD per-action names written by AimCLR's cutting scripts (METHODS.md §2.4):
# part I  F{file:03d}V{view:03d}C{class:03d}L{index:03d}
# part II A0{aa}N0{nn}V{view:03d}C{class:03d}L{index:03d}
PKU1_NAME = re.compile(r"^F(\d{3})V(\d{3})C(\d{3})L(\d{3})\Z", re.ASCII)
PKU2_NAME = re.compile(r"^A(\d{3})N(\d{3})V(\d{3})C(\d{3})L(\d{3})\Z", re.ASCII)

SKELETON_SUFFIX = ".skeleton"


def strip_suffix(name: str) -> str:
    """``'S001C002P003R002A013.skeleton'`` -> ``'S001C002P003R002A013'``."""
    return name[: -len(SKELETON_SUFFIX)] if name.endswith(SKELETON_SUFFIX) else name


# ---------------------------------------------------------------- label pickles


class _LabelUnpickler(pickle.Unpickler):
    """Unpickler that resolves only numpy scalar/array/dtype reconstruction.

    Everything else (``os.system``, ``builtins.exec``, any class) is refused before it can be
    called, so loading a hostile file runs no code.
    """

    _ALLOWED = {
        ("numpy", "dtype"), ("numpy", "ndarray"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("_codecs", "encode"),  # how protocol <= 2 pickles written by Python 3 store bytes
    }

    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")  # latin1: python-2 pickles of numpy data
        self._path = path

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise DataFormatError.at(
                self._path, "pickle global",
                "a label file holding only lists of names and integer labels "
                "(numpy ints allowed); refusing to load a pickle that references other objects",
                got=f"{module}.{name}")
        if module == "_codecs":
            import codecs
            return codecs.encode
        if name == "dtype":
            return np.dtype
        if name == "ndarray":
            return np.ndarray
        try:
            from numpy._core import multiarray  # numpy >= 2 (numpy.core is an alias of it)
        except ImportError:
            from numpy.core import multiarray
        return getattr(multiarray, name)


def _as_int_list(values, path, field: str) -> list[int]:
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iu" or values.ndim != 1:
            raise DataFormatError.at(path, field, "a 1-D list of integer labels",
                                     got=f"array {values.dtype} {values.shape}")
        return [int(v) for v in values]
    if not isinstance(values, (list, tuple)):
        raise DataFormatError.at(path, field, "a list of integer labels", got=type(values).__name__)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise DataFormatError.at(path, f"{field}[{i}]", "an integer label", got=v)
        out.append(int(v))
    return out


def _as_str_list(values, path, field: str) -> list[str]:
    if isinstance(values, np.ndarray) and values.dtype.kind in "U" and values.ndim == 1:
        return [str(v) for v in values]
    if not isinstance(values, (list, tuple)):
        raise DataFormatError.at(path, field, "a list of sample names", got=type(values).__name__)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            v = v.decode("utf-8", errors="strict")
        if not isinstance(v, str):
            raise DataFormatError.at(path, f"{field}[{i}]", "a sample name (str)", got=v)
        out.append(str(v))
    return out


def load_labels(path) -> tuple[list[str], list[int]]:
    """Read an st-gcn label pickle ``(names, labels)`` safely -> ``(list[str], list[int])``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataFormatError.at(path, "file", "a readable label pickle", got=str(e)) from None
    try:
        obj = _LabelUnpickler(io.BytesIO(raw), path).load()
    except DataFormatError:
        raise
    except Exception as e:  # truncated or not a pickle at all
        raise DataFormatError.at(path, "pickle", "a pickle of (names, labels)",
                                 got=f"{type(e).__name__}: {e}") from None
    if not isinstance(obj, (tuple, list)) or len(obj) != 2:
        got = type(obj).__name__ + (f" of length {len(obj)}" if isinstance(obj, (tuple, list)) else "")
        raise DataFormatError.at(path, "top level", "a 2-tuple (names, labels)", got=got)
    names = _as_str_list(obj[0], path, "names")
    labels = _as_int_list(obj[1], path, "labels")
    if len(names) != len(labels):
        raise DataFormatError.at(path, "labels", f"as many labels as names ({len(names)})",
                                 got=len(labels))
    return names, labels


def save_labels(path, names: Sequence[str], labels: Sequence[int]) -> None:
    """Write an st-gcn label pickle: a plain tuple ``(list[str], list[int])``."""
    names = [str(n) for n in names]
    labels = [int(v) for v in labels]
    if len(names) != len(labels):
        raise ValueError(f"save_labels: {len(names)} names but {len(labels)} labels")
    with open(path, "wb") as f:
        pickle.dump((names, labels), f, protocol=4)


# ---------------------------------------------------------------- st-gcn arrays: writing


def malformed_lines(skipped: dict[str, str], show: int = 5) -> list[str]:
    """Summary lines for the first ``show`` malformed files of a prepare report."""
    out = [f"    malformed: {msg}" for _, msg in sorted(skipped.items())[:show]]
    if len(skipped) > show:
        out.append(f"    ... and {len(skipped) - show} more in prepare_report.json")
    return out


def write_stgcn_part(folder, part: str, names: Sequence[str], labels: Sequence[int],
                     get_x: Callable[[int], np.ndarray], shape: tuple[int, int, int, int],
                     crop: str = "first", frame50_folder=None, progress=None) -> dict:
    """Stream samples into ``folder/{part}_data.npy`` + ``{part}_label.pkl`` (and frame50).

    get_x(i): sample i as ``(3, T_i, V, M)``; shape = (C, T, V, M) of the written arrays.
    Longer samples keep their first T frames (``crop="first"``, st-gcn) or their central
    T frames (``crop="center"``, AimCLR's PKU reader). Returns ``{"cropped": [names]}``.
    """
    from numpy.lib.format import open_memmap

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = len(names)
    c, t_max, v, m = shape
    names = [n_ if n_.endswith(SKELETON_SUFFIX) else n_ + SKELETON_SUFFIX for n_ in names]
    data_path = folder / f"{part}_data.npy"
    out = open_memmap(str(data_path), mode="w+", dtype=np.float32, shape=(n, c, t_max, v, m))
    cropped = []
    for i in range(n):
        x = np.asarray(get_x(i), dtype=np.float32)
        t = x.shape[1]
        if t > t_max:
            cropped.append(names[i])
            s = (t - t_max) // 2 if crop == "center" else 0
            x = x[:, s:s + t_max]
            t = t_max
        out[i, :, :t] = x  # the rest stays zero (a fresh memmap is zero-filled)
        if progress is not None:
            progress.update(1)
    out.flush()
    del out
    save_labels(folder / f"{part}_label.pkl", names, labels)
    if frame50_folder is not None:
        write_frame50_part(data_path, folder / f"{part}_label.pkl", frame50_folder, part)
    return {"cropped": cropped}


def write_frame50_part(data_npy, label_pkl, out_folder, part: str, layout=None,
                       chunk: int = 128) -> Path:
    """AimCLR frame50 of an st-gcn array: ``out_folder/{part}_position.npy`` + the label pkl."""
    import shutil

    from numpy.lib.format import open_memmap

    from .frame50 import to_frame50

    out_folder = Path(out_folder)
    out_folder.mkdir(parents=True, exist_ok=True)
    x = np.load(data_npy, mmap_mode="r", allow_pickle=False)
    n, c, _, v, m = x.shape
    lay = layout or _layout_for(v, data_npy)
    pos_path = out_folder / f"{part}_position.npy"
    out = open_memmap(str(pos_path), mode="w+", dtype=np.float32, shape=(n, c, 50, v, m))
    for s in range(0, n, chunk):
        out[s:s + chunk] = to_frame50(np.asarray(x[s:s + chunk]), layout=lay)
    out.flush()
    del out
    # AimCLR's configs read {part}_label.pkl next to the frame50 arrays (METHODS.md §2.3).
    dst = out_folder / f"{part}_label.pkl"
    if Path(label_pkl).resolve() != dst.resolve():
        shutil.copyfile(label_pkl, dst)
    return pos_path


def save_stgcn(out_dir, data: SkeletonData, protocols=None, frame50: bool = False) -> dict[str, Path]:
    """Write ``out_dir/{protocol}/{train,val}_data.npy`` + ``{train,val}_label.pkl`` per protocol.

    ``protocols`` defaults to every split in ``data.splits``; "val" is the test side (~mask).
    Names get the ``.skeleton`` suffix as in st-gcn. With ``frame50``, AimCLR's arrays go to
    ``out_dir/frame50/{protocol}/``. Returns ``{protocol: folder}``.
    """
    out_dir = Path(out_dir)
    protocols = list(data.splits) if protocols is None else list(protocols)
    names = list(data.names) or [f"{data.dataset or 'sample'}{i:06d}" for i in range(len(data))]
    folders = {}
    for p in protocols:
        if p not in data.splits:
            raise KeyError(f"save_stgcn: {data.dataset or 'data'} has no split {p!r}; "
                           f"available: {sorted(data.splits)}")
        folder = out_dir / p
        for part, mask in (("train", data.splits[p]), ("val", ~data.splits[p])):
            idx = np.flatnonzero(mask)
            write_stgcn_part(folder, part, [names[i] for i in idx], data.y[idx].tolist(),
                             lambda i, idx=idx: data.x[idx[i]], data.x.shape[1:],
                             frame50_folder=(out_dir / "frame50" / p) if frame50 else None)
        folders[p] = folder
    return folders


# ---------------------------------------------------------------- st-gcn arrays: reading


def _layout_for(v: int, path):
    if v == 25:
        return get_layout("ntu25")
    if v == 20:
        return get_layout("kinect20")
    raise DataFormatError.at(path, "shape[3] (V)", "25 (ntu25) or 20 (kinect20) joints, or pass layout=",
                             got=v)


def parse_sample_names(names: Sequence[str]) -> dict:
    """Metadata from NTU or PKU-MMD names: ``{"dataset", "setup", "view", "subject", "action"}``.

    Arrays are present only when *every* name matches the same pattern (NTU: setup, camera ->
    view, performer -> subject, action; PKU: view and class; PKU names carry no subject).
    """
    stems = [strip_suffix(n) for n in names]
    if not stems:
        return {"dataset": ""}
    ntu = [NTU_NAME.match(s) for s in stems]
    if all(ntu):
        g = np.array([[int(x) for x in mt.groups()] for mt in ntu], dtype=np.int64)
        return {"dataset": "ntu", "setup": g[:, 0], "view": g[:, 1], "subject": g[:, 2],
                "replication": g[:, 3], "action": g[:, 4]}
    for pat, vcol in ((PKU1_NAME, 1), (PKU2_NAME, 2)):
        mt = [pat.match(s) for s in stems]
        if all(mt):
            g = np.array([[int(x) for x in m_.groups()] for m_ in mt], dtype=np.int64)
            return {"dataset": "pku", "view": g[:, vcol], "action": g[:, vcol + 1]}
    return {"dataset": ""}


def _check_array(x, path, expect_dtype=np.float32):
    if x.dtype != expect_dtype:
        raise DataFormatError.at(path, "dtype", np.dtype(expect_dtype).name, got=str(x.dtype))
    if x.ndim != 5 or x.shape[1] != 3:
        raise DataFormatError.at(path, "shape", "(N, 3, T, V, M)", got=tuple(x.shape))


def load_stgcn(data_npy, label_file, mmap: bool = True, layout=None) -> SkeletonData:
    """st-gcn ``*_data.npy`` (or AimCLR ``*_position.npy``) + label file -> ``SkeletonData``.

    x: (N, 3, T, V, M) float32, memory-mapped by default. ``label_file`` is the st-gcn pickle
    (read with the restricted unpickler) or AimCLR's ``*_label.npy`` (N, 1). NTU names fill
    setup/view(camera)/subject; PKU-MMD names fill view. ``lengths`` is left None so that
    opening a 7 GB memory map stays instant (``frame50.valid_lengths`` computes them).
    """
    data_npy = Path(data_npy)
    try:
        x = np.load(data_npy, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataFormatError.at(data_npy, "file", "a .npy array (N, 3, T, V, M) float32",
                                 got=f"{type(e).__name__}: {e}") from None
    _check_array(x, data_npy)
    if not mmap and not np.isfinite(x).all():  # a full scan of a memory map would read GBs
        raise DataFormatError.at(data_npy, "values", "finite coordinates", got="NaN or inf")
    label_file = Path(label_file)
    if label_file.suffix == ".npy":
        try:
            lab = np.load(label_file, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise DataFormatError.at(label_file, "file", "a .npy label array (N,) or (N, 1)",
                                     got=f"{type(e).__name__}: {e}") from None
        if lab.dtype.kind not in "iu" or lab.ndim not in (1, 2) or lab.size != len(lab):
            raise DataFormatError.at(label_file, "labels", "an integer array (N,) or (N, 1)",
                                     got=f"{lab.dtype} {lab.shape}")
        names, labels = [], lab.reshape(-1).astype(np.int64)
    else:
        names, labels = load_labels(label_file)
        labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != x.shape[0]:
        raise DataFormatError.at(label_file, "labels", f"{x.shape[0]} labels (N of {data_npy.name})",
                                 got=len(labels))
    if len(labels) and labels.min() < 0:
        raise DataFormatError.at(label_file, "labels", "labels >= 0", got=int(labels.min()))
    lay = get_layout(layout) if layout is not None else _layout_for(x.shape[3], data_npy)
    if x.shape[3] != lay.num_joints:
        raise DataFormatError.at(data_npy, "shape[3] (V)", f"{lay.num_joints} joints ({lay.name})",
                                 got=x.shape[3])
    meta = parse_sample_names(names)
    return SkeletonData(x=x, y=labels, layout=lay, names=[strip_suffix(n) for n in names],
                        subject=meta.get("subject"), view=meta.get("view"), setup=meta.get("setup"),
                        dataset=meta["dataset"] or data_npy.parent.name)


# ---------------------------------------------------------------- CTR-GCN npz


def load_ctrgcn_npz(path, part: str = "train") -> SkeletonData:
    """CTR-GCN ``NTU60_CS.npz``-style file -> ``SkeletonData`` for ``part`` ("train" | "test").

    ``x_{part}``: (N, T, 150) = per frame 2 bodies x 25 joints x xyz (body-major), already
    denoised/centred by CTR-GCN's pipeline; ``y_{part}``: one-hot (N, C) or integer (N,).
    Returned x: (N, 3, T, 25, 2) float32 (a copy; npz members cannot be memory-mapped).
    """
    path = Path(path)
    if part not in ("train", "test"):
        raise ValueError(f"load_ctrgcn_npz: part must be 'train' or 'test', got {part!r}")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataFormatError.at(path, "file", "an .npz with x_train/y_train/x_test/y_test",
                                 got=f"{type(e).__name__}: {e}") from None
    with z:
        for key in (f"x_{part}", f"y_{part}"):
            if key not in z.files:
                raise DataFormatError.at(path, key, "a member of the npz", got=sorted(z.files))
        try:
            xr, yr = z[f"x_{part}"], z[f"y_{part}"]
        except ValueError as e:  # object arrays need pickle: refused
            raise DataFormatError.at(path, f"x_{part}/y_{part}", "numeric arrays (no pickled objects)",
                                     got=str(e)) from None
    if xr.ndim != 3 or xr.shape[2] != 150:
        raise DataFormatError.at(path, f"x_{part}", "shape (N, T, 150) = 2 bodies x 25 joints x 3",
                                 got=tuple(xr.shape))
    if xr.dtype.kind != "f":
        raise DataFormatError.at(path, f"x_{part}", "a float array", got=str(xr.dtype))
    if not np.isfinite(xr).all():
        raise DataFormatError.at(path, f"x_{part}", "finite coordinates", got="NaN or inf")
    if yr.ndim == 2:
        if yr.shape[0] != xr.shape[0] or not np.all((yr == 0) | (yr == 1)) or not np.all(yr.sum(1) == 1):
            raise DataFormatError.at(path, f"y_{part}", f"one-hot rows (N={xr.shape[0]}, C)",
                                     got=f"{yr.dtype} {yr.shape}")
        y = yr.argmax(1)
    elif yr.ndim == 1 and yr.dtype.kind in "iu" and len(yr) == len(xr):
        y = yr
    else:
        raise DataFormatError.at(path, f"y_{part}", f"one-hot (N, C) or integer (N,) with N={len(xr)}",
                                 got=f"{yr.dtype} {yr.shape}")
    n, t, _ = xr.shape
    # (N, T, M, V, C) -> (N, C, T, V, M)
    x = np.ascontiguousarray(xr.reshape(n, t, 2, 25, 3).transpose(0, 4, 1, 3, 2), dtype=np.float32)
    return SkeletonData(x=x, y=y.astype(np.int64), layout="ntu25", dataset=f"ntu-ctrgcn-{part}")


__all__ = ["load_labels", "save_labels", "save_stgcn", "load_stgcn", "load_ctrgcn_npz",
           "write_stgcn_part", "write_frame50_part", "parse_sample_names", "NTU_NAME",
           "strip_suffix"]
