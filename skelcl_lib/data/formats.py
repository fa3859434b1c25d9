"""Processed skeleton formats: st-gcn arrays + label pickles, AimCLR frame50, CTR-GCN npz.

- st-gcn (docs/results/readers.md, docs/methods.md §2.1): ``{train,val}_data.npy`` float32
  ``(N, 3, T, V, M)`` and ``{train,val}_label.pkl`` = pickle of ``(names, labels)``.
- AimCLR frame50 (docs/methods.md §2.3): ``{train,val}_position.npy`` ``(N, 3, 50, V, M)`` with the
  same label pickle (or AimCLR's own ``{part}_label.npy`` ``(N, 1)`` int64).
- CTR-GCN (``NTU60_CS.npz``): ``x_train (N, T, 150)``, ``y_train`` one-hot, same for test.

Label pickles are read with a restricted unpickler: a pickle can name any importable callable
and ``pickle.load`` would call it, so only the few numpy constructors that a label file of
numpy ints legitimately needs are allowed. Arrays are always read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import os
import pickle
import re
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import DataFormatError
from ..skeleton import get_layout
from .dataset import SkeletonData, check_finite, check_labels

# NTU sample names: SsssCcccPpppRrrrAaaa (docs/results/readers.md).
NTU_NAME = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})\Z", re.ASCII)
# PKU-MMD per-action names written by AimCLR's cutting scripts (docs/methods.md §2.4):
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


def _as_str_list(values, path, field: str) -> list[str]:
    if isinstance(values, np.ndarray) and values.dtype.kind in "U" and values.ndim == 1:
        return [str(v) for v in values]
    if not isinstance(values, (list, tuple)):
        raise DataFormatError.at(path, field, "a list of sample names", got=type(values).__name__)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8", errors="strict")
            except UnicodeDecodeError:
                raise DataFormatError.at(path, f"{field}[{i}]", "a UTF-8 sample name", got=v) from None
        if not isinstance(v, str):
            raise DataFormatError.at(path, f"{field}[{i}]", "a sample name (str)", got=v)
        out.append(str(v))
    return out


def load_labels(path, num_classes: int | None = None) -> tuple[list[str], list[int]]:
    """Read an st-gcn label pickle ``(names, labels)`` safely -> ``(list[str], list[int])``.

    Labels are integers with ``0 <= label < num_classes`` (``MAX_CLASSES`` when not given), one
    per name. Malformed content is a ``DataFormatError`` naming the file and the index; I/O
    errors (a missing file) stay ``OSError``.
    """
    path = Path(path)
    raw = path.read_bytes()
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
    if not isinstance(obj[1], (list, tuple, np.ndarray)):
        raise DataFormatError.at(path, "labels", "a list of integer labels", got=type(obj[1]).__name__)
    labels = check_labels(obj[1], path, num_classes).tolist()
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
    # AimCLR's configs read {part}_label.pkl next to the frame50 arrays (docs/methods.md §2.3).
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


def _npy_header(f, path, member: str = ""):
    """(shape, fortran_order, dtype) of the ``.npy`` stream ``f``; a malformed header is a
    ``DataFormatError``."""
    where = f"{member} header" if member else "npy header"
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f)
        return np.lib.format.read_array_header_2_0(f)
    except OSError:
        raise
    except Exception as e:  # numpy parses the header text: ValueError, SyntaxError, TokenError, ...
        raise DataFormatError.at(path, where, "a numpy .npy header (magic, shape, dtype)",
                                 got=f"{type(e).__name__}: {e}") from None


def _check_header(path, shape, dtype, data_bytes: int, kinds: str, member: str = "") -> None:
    """The announced dtype and shape against what the file holds, before anything is read."""
    where = member or "npy header"
    if dtype.hasobject or dtype.kind not in kinds:
        want = {"f": "a float array", "iu": "an integer array", "fiu": "a numeric array"}[kinds]
        raise DataFormatError.at(path, f"{where} dtype", f"{want} (no Python objects)", got=str(dtype))
    need = int(np.prod([int(k) for k in shape], dtype=object)) * dtype.itemsize
    if need != data_bytes:
        raise DataFormatError.at(path, where, f"as many bytes as the shape {tuple(shape)} of {dtype} "
                                 f"announces ({need})", got=f"{data_bytes} bytes (truncated or padded file?)")


def open_npy(path, mmap: bool = True, kinds: str = "f") -> np.ndarray:
    """Open a ``.npy`` file after checking its header against the file's size: a truncated file
    or a header announcing a huge shape is a ``DataFormatError`` before anything is allocated.
    ``kinds``: the allowed dtype kinds ("f" float, "iu" integer). I/O errors stay ``OSError``."""
    path = Path(path)
    with open(path, "rb") as f:
        shape, fortran, dtype = _npy_header(f, path)
        offset = f.tell()
    _check_header(path, shape, dtype, os.path.getsize(path) - offset, kinds)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, EOFError) as e:
        raise DataFormatError.at(path, "data", f"a readable .npy array {tuple(shape)} {dtype}",
                                 got=f"{type(e).__name__}: {e}") from None



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


def load_stgcn(data_npy, label_file, mmap: bool = True, layout=None,
               num_classes: int | None = None) -> SkeletonData:
    """st-gcn ``*_data.npy`` (or AimCLR ``*_position.npy``) + label file -> ``SkeletonData``.

    x: (N, 3, T, V, M) float32, memory-mapped by default. ``label_file`` is the st-gcn pickle
    (read with the restricted unpickler) or AimCLR's ``*_label.npy`` (N, 1). NTU names fill
    setup/view(camera)/subject; PKU-MMD names fill view. ``lengths`` is left None so that
    opening a 7 GB memory map stays instant (``frame50.valid_lengths`` computes them).

    Checked before use, each error naming the file and the index: the header against the
    file's size, dtype float32, shape (N >= 1, 3, T >= 1, V of the layout, M >= 1), every value
    finite (read in slices of about 64 MB), one label per sample, ``0 <= label < num_classes``
    (``MAX_CLASSES`` when not given).
    """
    data_npy = Path(data_npy)
    x = open_npy(data_npy, mmap=mmap, kinds="f")
    if x.dtype != np.float32:
        raise DataFormatError.at(data_npy, "dtype", "float32", got=str(x.dtype))
    if x.ndim != 5 or x.shape[1] != 3 or 0 in x.shape:
        raise DataFormatError.at(data_npy, "shape", "(N, 3, T, V, M) with no empty dimension",
                                 got=tuple(x.shape))
    lay = get_layout(layout) if layout is not None else _layout_for(x.shape[3], data_npy)
    if x.shape[3] != lay.num_joints:
        raise DataFormatError.at(data_npy, "shape[3] (V)", f"{lay.num_joints} joints ({lay.name})",
                                 got=x.shape[3])
    label_file = Path(label_file)
    if label_file.suffix == ".npy":
        lab = open_npy(label_file, mmap=False, kinds="iu")
        if lab.ndim not in (1, 2) or lab.size != len(lab):
            raise DataFormatError.at(label_file, "labels", "an integer array (N,) or (N, 1)",
                                     got=f"{lab.dtype} {lab.shape}")
        names, labels = [], check_labels(lab.reshape(-1), label_file, num_classes)
    else:
        names, labels = load_labels(label_file, num_classes)
        labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != x.shape[0]:
        raise DataFormatError.at(label_file, "labels", f"{x.shape[0]} labels (N of {data_npy.name})",
                                 got=len(labels))
    check_finite(x, data_npy)
    meta = parse_sample_names(names)
    return SkeletonData(x=x, y=labels, layout=lay, names=[strip_suffix(n) for n in names],
                        subject=meta.get("subject"), view=meta.get("view"), setup=meta.get("setup"),
                        dataset=meta["dataset"] or data_npy.parent.name)


# ---------------------------------------------------------------- CTR-GCN npz


def _read_npz_member(zf, path, key: str, kinds: str) -> np.ndarray:
    """One member of an open npz ``ZipFile``: header checked against the member's size first."""
    name = f"{key}.npy"
    info = zf.getinfo(name)
    with zf.open(info) as f:
        shape, fortran, dtype = _npy_header(f, path, member=key)
        nbytes = info.file_size - f.tell()
        _check_header(path, shape, dtype, nbytes, kinds, member=key)
        data = f.read(nbytes)
    if len(data) != nbytes:
        raise DataFormatError.at(path, key, f"{nbytes} bytes of data", got=f"{len(data)} (truncated member)")
    arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    return arr


def load_ctrgcn_npz(path, part: str = "train", num_classes: int | None = None) -> SkeletonData:
    """CTR-GCN ``NTU60_CS.npz``-style file -> ``SkeletonData`` for ``part`` ("train" | "test").

    ``x_{part}``: (N, T, 150) = per frame 2 bodies x 25 joints x xyz (body-major), already
    denoised/centred by CTR-GCN's pipeline; ``y_{part}``: one-hot (N, C) or integer (N,).
    Returned x: (N, 3, T, 25, 2) float32 (a copy; npz members cannot be memory-mapped).
    Each member's header is checked against its size before it is read; a damaged archive, a
    non-numeric member, NaN/inf, empty dimensions or labels out of range are a
    ``DataFormatError`` naming the file and the member.
    """
    path = Path(path)
    if part not in ("train", "test"):
        raise ValueError(f"load_ctrgcn_npz: part must be 'train' or 'test', got {part!r}")
    with open(path, "rb"):  # I/O errors (a missing file) stay OSError
        pass
    try:
        with zipfile.ZipFile(path) as zf:
            members = sorted(n[:-4] for n in zf.namelist() if n.endswith(".npy"))
            for key in (f"x_{part}", f"y_{part}"):
                if key not in members:
                    raise DataFormatError.at(path, key, "a member of the npz", got=members)
            xr = _read_npz_member(zf, path, f"x_{part}", "f")
            yr = _read_npz_member(zf, path, f"y_{part}", "fiu")
    except DataFormatError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, zlib.error,
            NotImplementedError, RuntimeError, OverflowError) as e:
        raise DataFormatError.at(path, "file", "an intact .npz archive with x_train/y_train/x_test/y_test",
                                 got=f"{type(e).__name__}: {e}") from None
    if xr.ndim != 3 or xr.shape[2] != 150 or 0 in xr.shape:
        raise DataFormatError.at(path, f"x_{part}", "shape (N, T, 150) = 2 bodies x 25 joints x 3, "
                                 "N and T >= 1", got=tuple(xr.shape))
    check_finite(xr, f"{path} (x_{part})")
    if yr.ndim == 2:
        if yr.shape[0] != xr.shape[0] or yr.shape[1] == 0 or not np.all((yr == 0) | (yr == 1)) \
                or not np.all(yr.sum(1) == 1):
            raise DataFormatError.at(path, f"y_{part}", f"one-hot rows (N={xr.shape[0]}, C)",
                                     got=f"{yr.dtype} {yr.shape}")
        if num_classes is not None and yr.shape[1] > num_classes:
            raise DataFormatError.at(path, f"y_{part}", f"at most {num_classes} one-hot columns",
                                     got=yr.shape[1])
        y = check_labels(yr.argmax(1), path, num_classes or yr.shape[1], field=f"y_{part}")
    elif yr.ndim == 1 and len(yr) == len(xr):
        y = check_labels(yr, path, num_classes, field=f"y_{part}")
    else:
        raise DataFormatError.at(path, f"y_{part}", f"one-hot (N, C) or integer (N,) with N={len(xr)}",
                                 got=f"{yr.dtype} {yr.shape}")
    n, t, _ = xr.shape
    # (N, T, M, V, C) -> (N, C, T, V, M)
    x = np.ascontiguousarray(xr.reshape(n, t, 2, 25, 3).transpose(0, 4, 1, 3, 2), dtype=np.float32)
    return SkeletonData(x=x, y=y, layout="ntu25", dataset=f"ntu-ctrgcn-{part}")


__all__ = ["load_labels", "save_labels", "save_stgcn", "load_stgcn", "load_ctrgcn_npz",
           "write_stgcn_part", "write_frame50_part", "parse_sample_names", "NTU_NAME",
           "strip_suffix"]
