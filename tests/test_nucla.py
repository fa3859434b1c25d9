"""N-UCLA all_sqe JSON reader: the real files (when present) and malformed ones."""

import json

import numpy as np
import pytest

from skelcl_lib.config import CONFIG_DIR, load_config
from skelcl_lib.data.build import build_data
from skelcl_lib.data.nucla import CLASS_NAMES, load_nucla, read_nucla_json
from skelcl_lib.errors import DataFormatError

from datapaths import shared_dir

REAL = shared_dir() / "data" / "nw_ucla" / "all_sqe"


@pytest.fixture(scope="module")
def real():
    if not REAL.is_dir():
        pytest.skip(f"N-UCLA all_sqe not found at {REAL} (real-data test)")
    return load_nucla(REAL)


def test_real_counts_and_splits(real):
    assert len(real) == 1484 and real.x.shape == (1484, 3, 201, 20, 1) and real.x.dtype == np.float32
    assert np.bincount(real.view).tolist()[1:] == [516, 504, 464]
    tr, te = real.split("xview")
    assert (len(tr), len(te)) == (1020, 464) and set(te.view) == {3}
    assert int(real.splits["xsub"].sum()) == 754
    assert real.layout.name == "kinect20" and real.num_classes == 10 and real.class_names == CLASS_NAMES
    assert sorted(set(real.y.tolist())) == list(range(10))
    assert real.lengths.min() >= 1 and real.lengths.max() == 201
    assert sorted(set(real.subject.tolist())) == list(range(1, 11))


def test_real_values_padding_and_names(real):
    i = real.names.index("a01_s01_e00_v01")
    d = json.loads((REAL / "a01_s01_e00_v01.json").read_text())
    xyz = np.asarray(d["skeletons"], np.float32)
    np.testing.assert_array_equal(real.x[i, :, :len(xyz), :, 0], xyz.transpose(2, 0, 1))
    assert np.all(real.x[i, :, len(xyz):] == 0) and real.y[i] == 0

    assert len(load_nucla(REAL.parent).names) == 1484        # the parent folder is accepted too


NUCLA_CONFIGS = sorted(p.stem for p in CONFIG_DIR.glob("*nucla*.yaml"))


def test_nucla_configs_read_data_nw_ucla_by_default():
    assert len(NUCLA_CONFIGS) >= 7
    for name in NUCLA_CONFIGS:
        assert load_config(name)["data"]["root"] == "data/nw_ucla", name


def test_nucla_config_on_the_real_folder():
    if not REAL.is_dir():
        pytest.skip(f"N-UCLA all_sqe not found at {REAL} (real-data test)")
    train, test = build_data(load_config("aimclr_nucla", [f"data.root={REAL.parent}"]))
    assert train.x.shape == (1020, 3, 50, 20, 1) and test.x.shape == (464, 3, 50, 20, 1)


def test_missing_folder_names_the_config_field_the_path_and_what_belongs_there(tmp_path):
    missing = tmp_path / "nw_ucla"
    with pytest.raises(FileNotFoundError, match="is not a folder") as e:
        load_nucla(missing)
    assert str(missing) in str(e.value) and "all_sqe" in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        build_data(load_config("skeletonclr_nucla", [f"data.root={missing}"]))
    for needle in ("config field 'data.root'", str(missing), "aAA_sSS_eEE_vVV.json", "--set data.root="):
        assert needle in str(e.value), needle


def write(tmp_path, name="a01_s01_e00_v01", **override):
    d = {"file_name": name, "skeletons": np.full((4, 20, 3), 0.5).tolist(), "label": 1}
    d.update(override)
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(d))
    return p


def test_small_folder_and_t_max(tmp_path):
    write(tmp_path)
    write(tmp_path, "a12_s07_e01_v03", label=10, skeletons=np.ones((9, 20, 3)).tolist())
    d = load_nucla(tmp_path)
    assert d.x.shape == (2, 3, 9, 20, 1) and d.y.tolist() == [0, 9] and d.lengths.tolist() == [4, 9]
    assert d.splits["xview"].tolist() == [True, False] and d.splits["xsub"].tolist() == [True, False]
    with pytest.warns(UserWarning, match="1 sequences longer"):
        c = load_nucla(tmp_path, t_max=6)
    assert c.x.shape[2] == 6 and c.lengths.tolist() == [4, 6]


@pytest.mark.parametrize("kind,match", [
    ("badjson", "valid JSON"),
    ("nokey", "skeletons"),
    ("joints", r"skeletons\[2\].*20 joints"),
    ("coord", r"skeletons\[1\]\[5\]\[1\].*a JSON number, got 'x'"),
    ("string", r"skeletons\[1\]\[5\]\[0\].*a JSON number, got '1e3'"),
    ("bool", r"skeletons\[0\]\[0\]\[2\].*a JSON number, got True"),
    ("short", r"skeletons\[1\]\[5\].*3 numbers"),
    ("nan", r"NaN and Infinity are not JSON.*NaN"),
    ("huge", r"skeletons\[2\]\[1\]\[0\].*float32 range"),
    ("bigint", r"skeletons\[2\]\[1\]\[0\].*float32 range"),
    ("deep", r"nested"),
    ("dupkey", r"key 'label'.*each key once"),
    ("bytes", r"byte 13.*UTF-8"),
    ("newline", "file_name"),
    ("empty", "non-empty"),
    ("label", "label"),
    ("mismatch", "a01"),
    ("name", "file_name"),
])
def test_malformed_files(tmp_path, kind, match):
    sk = np.full((4, 20, 3), 0.5).tolist()
    if kind == "badjson":
        p = tmp_path / "a01_s01_e00_v01.json"
        p.write_text('{"file_name": "a01_s01_e00_v01", "skeletons": [[')
    elif kind == "nokey":
        p = tmp_path / "x.json"
        p.write_text(json.dumps({"file_name": "a01_s01_e00_v01", "label": 1}))
    elif kind == "joints":
        sk[2] = sk[2][:19]
        p = write(tmp_path, skeletons=sk)
    elif kind == "coord":
        sk[1][5] = [0.1, "x", 0.3]
        p = write(tmp_path, skeletons=sk)
    elif kind == "string":
        sk[1][5] = ["1e3", 0.2, 0.3]
        p = write(tmp_path, skeletons=sk)
    elif kind == "bool":
        sk[0][0] = [0.1, 0.2, True]
        p = write(tmp_path, skeletons=sk)
    elif kind == "short":
        sk[1][5] = [0.1, 0.2]
        p = write(tmp_path, skeletons=sk)
    elif kind in ("huge", "bigint"):
        sk[2][1][0] = 1e300 if kind == "huge" else 10 ** 300
        p = write(tmp_path, skeletons=sk)
    elif kind == "deep":
        p = tmp_path / "a01_s01_e00_v01.json"
        p.write_text("[" * 100000 + "]" * 100000)
    elif kind == "dupkey":
        p = tmp_path / "a01_s01_e00_v01.json"
        p.write_text('{"file_name": "a01_s01_e00_v01", "skeletons": [], "label": 1, "label": 2}')
    elif kind == "bytes":
        p = tmp_path / "a01_s01_e00_v01.json"
        p.write_bytes(b'{"file_name":\xff"a01"}')
    elif kind == "newline":
        p = write(tmp_path, name="a01_s01_e00_v01\n")
    elif kind == "nan":
        sk[3][0][2] = float("nan")
        p = write(tmp_path, skeletons=sk)      # json.dumps writes NaN, json.loads reads it back
    elif kind == "empty":
        p = write(tmp_path, skeletons=[])
    elif kind == "label":
        p = write(tmp_path, label=11)
    elif kind == "mismatch":
        p = write(tmp_path, label=2)
    else:
        p = write(tmp_path, name="walk_s01")
    with pytest.raises(DataFormatError, match=match) as e:
        read_nucla_json(p)
    assert str(p) in str(e.value)
    with pytest.raises(DataFormatError):
        load_nucla(tmp_path)


def test_bad_t_max(tmp_path):
    write(tmp_path)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="t_max"):
            load_nucla(tmp_path, t_max=bad)


def test_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no \\*.json"):
        load_nucla(tmp_path)
