"""Processed formats: label pickles (restricted unpickler), st-gcn arrays, CTR-GCN npz."""

import builtins
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from skelcl_lib.data import SkeletonData
from skelcl_lib.data.formats import (load_ctrgcn_npz, load_labels, load_stgcn, parse_sample_names,
                                     save_labels, save_stgcn)
from skelcl_lib.errors import DataFormatError

NAMES = ["S001C001P001R001A001", "S001C002P003R002A002", "S002C003P002R001A003",
         "S003C001P004R002A001", "S004C002P006R001A002"]


# ---------------------------------------------------------------- label pickles

def test_labels_round_trip(tmp_path):
    save_labels(tmp_path / "l.pkl", [n + ".skeleton" for n in NAMES], [0, 1, 2, 0, 1])
    names, labels = load_labels(tmp_path / "l.pkl")
    assert names[1] == "S001C002P003R002A002.skeleton" and labels == [0, 1, 2, 0, 1]
    assert all(type(v) is int for v in labels)


@pytest.mark.parametrize("labels", [[np.int64(3), np.int64(7)], np.array([3, 7], np.int64)])
def test_numpy_labels_are_allowed(tmp_path, labels):
    with open(tmp_path / "l.pkl", "wb") as f:
        pickle.dump((["a", "b"], labels), f)
    assert load_labels(tmp_path / "l.pkl") == (["a", "b"], [3, 7])


def test_numpy1_style_pickle_of_numpy_ints(tmp_path):
    raw = pickle.dumps((["a"], [np.int64(4)]), protocol=2)
    assert b"numpy._core.multiarray\nscalar" in raw or b"numpy.core.multiarray\nscalar" in raw
    (tmp_path / "l.pkl").write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert load_labels(tmp_path / "l.pkl") == (["a"], [4])


def test_python2_style_protocol2_pickle(tmp_path):
    with open(tmp_path / "l.pkl", "wb") as f:
        pickle.dump((["a.skeleton"], [5]), f, protocol=2)
    assert load_labels(tmp_path / "l.pkl") == (["a.skeleton"], [5])


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec"])
def test_code_executing_pickle_is_refused_and_not_run(tmp_path, kind):
    marker = tmp_path / "pwned"
    if kind == "os.system":
        payload = _Evil(os.system, f"touch {marker}")
    else:
        payload = _Evil(builtins.exec, f"open({str(marker)!r}, 'w').write('x')")
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump((["a"], [payload]), f)
    with pytest.raises(DataFormatError, match="refusing") as e:
        load_labels(tmp_path / "evil.pkl")
    assert str(tmp_path / "evil.pkl") in str(e.value)
    assert not marker.exists()


@pytest.mark.parametrize("obj,match", [
    ({"names": ["a"], "labels": [0]}, "2-tuple"),
    ((["a"], [0], [1]), "2-tuple"),
    ((["a", "b"], [0]), "as many labels"),
    ((["a"], [0.5]), "integer label"),
    (([1], [0]), "sample name"),
    (("ab", [0, 1]), "list of sample names"),
])
def test_malformed_label_pickles(tmp_path, obj, match):
    with open(tmp_path / "l.pkl", "wb") as f:
        pickle.dump(obj, f)
    with pytest.raises(DataFormatError, match=match):
        load_labels(tmp_path / "l.pkl")


def test_truncated_and_non_pickle_label_files(tmp_path):
    good = pickle.dumps((["a", "b"], [0, 1]))
    (tmp_path / "t.pkl").write_bytes(good[:-5])
    with pytest.raises(DataFormatError, match="t.pkl"):
        load_labels(tmp_path / "t.pkl")
    (tmp_path / "x.pkl").write_text("not a pickle")
    with pytest.raises(DataFormatError):
        load_labels(tmp_path / "x.pkl")
    with pytest.raises(FileNotFoundError, match="absent.pkl"):   # I/O errors stay what they are
        load_labels(tmp_path / "absent.pkl")


@pytest.mark.parametrize("obj,match", [
    ((["a", "b"], [0, -1]), r"labels\[1\].*0\.\.999.*-1"),
    ((["a", "b"], [0, 10 ** 12]), r"labels\[1\].*10+"),
    ((["a"], [2 ** 70]), r"labels\[0\].*1180591620717411303424"),
    ((["a"], [1.0]), r"labels\[0\]"),
    ((["a"], [True]), r"labels\[0\]"),
    ((["a"], np.array([0.5])), r"labels: .*array of float64"),
    (([b"\xff\xfe"], [0]), r"names\[0\].*UTF-8"),
    ((["a"], 3), r"labels.*list"),
])
def test_label_values_are_checked(tmp_path, obj, match):
    (tmp_path / "l.pkl").write_bytes(pickle.dumps(obj))
    with pytest.raises(DataFormatError, match=match) as e:
        load_labels(tmp_path / "l.pkl")
    assert "l.pkl" in str(e.value)


def test_label_range_with_num_classes(tmp_path):
    save_labels(tmp_path / "l.pkl", ["a", "b"], [0, 5])
    assert load_labels(tmp_path / "l.pkl", num_classes=6)[1] == [0, 5]
    with pytest.raises(DataFormatError, match=r"labels\[1\].*0\.\.4, got 5"):
        load_labels(tmp_path / "l.pkl", num_classes=5)


# ---------------------------------------------------------------- st-gcn arrays

def small_data(t=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 3, t, 25, 2)).astype(np.float32)
    return SkeletonData(x=x, y=[0, 1, 2, 0, 1], layout="ntu25", names=list(NAMES),
                        splits={"xsub": [True, False, True, False, False],
                                "xview": [False, True, True, False, True]}, dataset="toy")


def test_save_and_load_stgcn(tmp_path):
    d = small_data()
    folders = save_stgcn(tmp_path, d)
    assert sorted(folders) == ["xsub", "xview"]
    for p in ("xsub", "xview"):
        for part in ("train", "val"):
            assert (tmp_path / p / f"{part}_data.npy").exists()
    names, labels = load_labels(tmp_path / "xsub" / "train_label.pkl")
    assert names == [NAMES[0] + ".skeleton", NAMES[2] + ".skeleton"] and labels == [0, 2]
    tr = load_stgcn(tmp_path / "xsub" / "train_data.npy", tmp_path / "xsub" / "train_label.pkl")
    assert isinstance(tr.x, np.memmap) and tr.x.dtype == np.float32 and tr.x.shape == (2, 3, 30, 25, 2)
    np.testing.assert_array_equal(np.asarray(tr.x), d.x[[0, 2]])
    assert tr.names == [NAMES[0], NAMES[2]] and tr.dataset == "ntu"
    assert tr.setup.tolist() == [1, 2] and tr.view.tolist() == [1, 3] and tr.subject.tolist() == [1, 2]
    va = load_stgcn(tmp_path / "xsub" / "val_data.npy", tmp_path / "xsub" / "val_label.pkl", mmap=False)
    assert len(va) == 3 and not isinstance(va.x, np.memmap) and va.y.tolist() == [1, 0, 1]


def test_save_stgcn_protocol_subset_and_frame50(tmp_path):
    save_stgcn(tmp_path, small_data(t=60), protocols=["xview"], frame50=True)
    assert not (tmp_path / "xsub").exists()
    f50 = load_stgcn(tmp_path / "frame50" / "xview" / "val_position.npy",
                     tmp_path / "frame50" / "xview" / "val_label.pkl")
    assert f50.x.shape == (2, 3, 50, 25, 2)
    with pytest.raises(KeyError, match="xset"):
        save_stgcn(tmp_path, small_data(), protocols=["xset"])


def test_load_stgcn_with_aimclr_label_npy_and_pku_names(tmp_path):
    x = np.zeros((2, 3, 50, 25, 2), np.float32)
    np.save(tmp_path / "train_position.npy", x)
    np.save(tmp_path / "train_label.npy", np.array([[3], [4]], np.int64))
    d = load_stgcn(tmp_path / "train_position.npy", tmp_path / "train_label.npy")
    assert d.y.tolist() == [3, 4] and d.names == []
    meta = parse_sample_names(["F002V001C003L001.skeleton", "A001N002V003C041L010"])
    assert meta["dataset"] == ""  # mixed part I / part II names: no partial metadata
    meta = parse_sample_names(["F002V001C003L001.skeleton", "F364V003C051L020"])
    assert meta["dataset"] == "pku" and meta["view"].tolist() == [1, 3] and meta["action"].tolist() == [3, 51]


@pytest.mark.parametrize("bad,match", [
    (np.zeros((2, 3, 10, 25, 2), np.float64), "dtype"),
    (np.zeros((2, 3, 10, 25), np.float32), "shape"),
    (np.zeros((2, 2, 10, 25, 2), np.float32), "shape"),
    (np.zeros((2, 3, 10, 17, 2), np.float32), "V"),
    (np.zeros((3, 3, 10, 25, 2), np.float32), "2 labels|3 labels"),
])
def test_load_stgcn_rejects_bad_arrays(tmp_path, bad, match):
    np.save(tmp_path / "d.npy", bad)
    save_labels(tmp_path / "l.pkl", ["a", "b"], [0, 1])
    with pytest.raises(DataFormatError, match=match):
        load_stgcn(tmp_path / "d.npy", tmp_path / "l.pkl")


def test_load_stgcn_truncated_npy_and_nan(tmp_path):
    np.save(tmp_path / "d.npy", np.zeros((2, 3, 10, 25, 2), np.float32))
    raw = (tmp_path / "d.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(raw[: len(raw) // 2])
    save_labels(tmp_path / "l.pkl", ["a", "b"], [0, 1])
    with pytest.raises(DataFormatError, match="t.npy"):
        load_stgcn(tmp_path / "t.npy", tmp_path / "l.pkl")
    x = np.zeros((2, 3, 10, 25, 2), np.float32)
    x[1, 0, 3, 4, 0] = np.nan
    np.save(tmp_path / "n.npy", x)
    with pytest.raises(DataFormatError, match="finite"):
        load_stgcn(tmp_path / "n.npy", tmp_path / "l.pkl", mmap=False)
    with pytest.raises(DataFormatError, match=r"n.npy: sample 1 at index \(0, 3, 4, 0\).*finite"):
        load_stgcn(tmp_path / "n.npy", tmp_path / "l.pkl")                 # memory-mapped too
    np.save(tmp_path / "neg.npy", np.array([[-1], [0]]))
    with pytest.raises(DataFormatError, match=r"neg.npy: labels\[0\].*got -1"):
        load_stgcn(tmp_path / "d.npy", tmp_path / "neg.npy")
    np.save(tmp_path / "flt.npy", np.array([[0.0], [1.0]]))
    with pytest.raises(DataFormatError, match=r"flt.npy: npy header dtype.*integer"):
        load_stgcn(tmp_path / "d.npy", tmp_path / "flt.npy")


def test_finite_check_reads_in_slices(tmp_path, monkeypatch):
    """A memory map is checked slice by slice, never read whole."""
    from skelcl_lib.data import dataset
    monkeypatch.setattr(dataset, "_CHUNK_BYTES", 3 * 10 * 25 * 2 * 4 * 2)   # two samples per slice
    x = np.zeros((7, 3, 10, 25, 2), np.float32)
    x[5, 2, 9, 24, 1] = np.inf
    np.save(tmp_path / "d.npy", x)
    save_labels(tmp_path / "l.pkl", list("abcdefg"), [0] * 7)
    seen = []
    real = np.isfinite
    monkeypatch.setattr(dataset.np, "isfinite", lambda a: seen.append(a.shape[0]) or real(a))
    with pytest.raises(DataFormatError, match=r"sample 5 at index \(2, 9, 24, 1\)"):
        load_stgcn(tmp_path / "d.npy", tmp_path / "l.pkl")
    assert max(seen) <= 2


def npy_with_header(path, header: str, data: bytes = b""):
    """A .npy file with a hand-written header (version 1.0)."""
    h = header.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    Path(path).write_bytes(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data)
    return Path(path)


@pytest.mark.parametrize("header,data,match", [
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 3, 300, 25, 2), }", b"\0" * 64,
     r"as many bytes as the shape"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3, 300, 25, 2), }", b"", r"no empty dimension"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 0, 25, 2), }", b"", r"no empty dimension"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1, 25, 0), }", b"", r"no empty dimension"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (1, 3, 1, 25, 1), }", b"", r"no Python objects"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 1, 25, 2**70), }", b"", r"npy header"),
    ("{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((((1,),),),),),),),),), }", b"", r"npy header"),
    ("not a dict at all", b"", r"npy header"),
])
def test_npy_headers_are_checked_before_reading(tmp_path, header, data, match):
    save_labels(tmp_path / "l.pkl", ["a"], [0])
    f = npy_with_header(tmp_path / "h.npy", header, data)
    for mmap in (True, False):
        with pytest.raises(DataFormatError, match=match) as e:
            load_stgcn(f, tmp_path / "l.pkl", mmap=mmap)
        assert "h.npy" in str(e.value)
    (tmp_path / "empty.npy").write_bytes(b"")
    with pytest.raises(DataFormatError, match="empty.npy"):
        load_stgcn(tmp_path / "empty.npy", tmp_path / "l.pkl")


def test_skeleton_data_checks_its_arrays():
    x = np.zeros((2, 3, 4, 25, 1), np.float32)
    assert len(SkeletonData(x=x, y=[0, 1], layout="ntu25")) == 2
    for bad_x, match in ((x.astype(object), "float"), (x[:, :, :0], "T, V and M"),
                         (x[..., :0], "T, V and M"), (x[:, :2], "shape")):
        with pytest.raises(DataFormatError, match=match):
            SkeletonData(x=bad_x, y=[0, 1], layout="ntu25")
    nan = x.copy()
    nan[1, 2, 3, 4, 0] = np.nan
    with pytest.raises(DataFormatError, match=r"sample 1 at index \(2, 3, 4, 0\)"):
        SkeletonData(x=nan, y=[0, 1], layout="ntu25")
    for y, match in (([0, -1], r"y\[1\]"), ([0, 2], r"y\[1\].*0\.\.1"), (np.array([0.0, 1.0]), "float64"),
                     ([0, 2 ** 64], r"y\[1\]")):
        with pytest.raises(DataFormatError, match=match):
            SkeletonData(x=x, y=y, layout="ntu25", class_names=["a", "b"])


# ---------------------------------------------------------------- CTR-GCN npz

def test_ctrgcn_npz_layout(tmp_path):
    rng = np.random.default_rng(0)
    xr = rng.normal(size=(4, 7, 150)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[0, 3, 4, 1]]
    np.savez(tmp_path / "NTU60_CS.npz", x_train=xr, y_train=y, x_test=xr[:2], y_test=y[:2])
    d = load_ctrgcn_npz(tmp_path / "NTU60_CS.npz", "train")
    assert d.x.shape == (4, 3, 7, 25, 2) and d.x.dtype == np.float32 and d.y.tolist() == [0, 3, 4, 1]
    n, c, t, v, m = 2, 1, 5, 13, 1
    assert d.x[n, c, t, v, m] == xr[n, t, m * 75 + v * 3 + c]
    assert len(load_ctrgcn_npz(tmp_path / "NTU60_CS.npz", "test")) == 2


@pytest.mark.parametrize("arrays,match", [
    (dict(x_test=np.zeros((2, 5, 150), np.float32), y_test=np.eye(2)), "x_train"),
    (dict(x_train=np.zeros((2, 5, 75), np.float32), y_train=np.eye(2)), "150"),
    (dict(x_train=np.zeros((2, 5, 150), np.float32), y_train=np.full((2, 2), 0.5)), "one-hot"),
    (dict(x_train=np.full((2, 5, 150), np.inf, np.float32), y_train=np.eye(2)), "finite"),
    (dict(x_train=np.zeros((2, 5, 150), np.float32), y_train=np.array([["a"], ["b"]], object)), "y_train"),
    (dict(x_train=np.zeros((2, 0, 150), np.float32), y_train=np.eye(2)), "150"),
    (dict(x_train=np.zeros((2, 5, 150), np.float32), y_train=np.array([0, -3])), r"y_train\[1\]"),
    (dict(x_train=np.zeros((2, 5, 150), np.float32), y_train=np.array([0, 10 ** 12])), r"y_train\[1\]"),
    (dict(x_train=np.zeros((2, 5, 150), np.int64), y_train=np.eye(2)), "float"),
])
def test_ctrgcn_npz_errors(tmp_path, arrays, match):
    np.savez(tmp_path / "f.npz", **arrays)
    with pytest.raises(DataFormatError, match=match):
        load_ctrgcn_npz(tmp_path / "f.npz", "train")


def test_ctrgcn_npz_damaged_archives(tmp_path):
    np.savez(tmp_path / "f.npz", x_train=np.zeros((2, 5, 150), np.float32), y_train=np.eye(2))
    raw = (tmp_path / "f.npz").read_bytes()
    for k, data in enumerate([raw[: len(raw) // 2], raw[:100], b"", raw[:-30],
                              raw.replace(b"NUMPY", b"NUMPX", 1)]):
        (tmp_path / f"d{k}.npz").write_bytes(data)
        with pytest.raises(DataFormatError, match=f"d{k}.npz"):
            load_ctrgcn_npz(tmp_path / f"d{k}.npz", "train")
    np.savez_compressed(tmp_path / "c.npz", x_train=np.zeros((2, 5, 150), np.float32), y_train=np.eye(2))
    assert len(load_ctrgcn_npz(tmp_path / "c.npz")) == 2
    with pytest.raises(FileNotFoundError):
        load_ctrgcn_npz(tmp_path / "absent.npz")
