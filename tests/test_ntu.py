"""NTU RGB+D: the .skeleton grammar, missing lists, splits and prepare-ntu end to end."""

import hashlib
import json
import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from skelcl_lib.data.formats import load_labels, load_stgcn
from skelcl_lib.data.ntu import (NTU60_XSUB_TRAIN, NTU120_XSUB_TRAIN, EmptySkeletonError, cli_prepare,
                                 ntu_train_mask, parse_ntu_name, parse_ntu_skeleton, prepare_ntu,
                                 read_missing_list, read_ntu_skeleton)
from skelcl_lib.errors import DataFormatError

from datapaths import shared_dir

SHARED = shared_dir() / "data" / "ntu"
LIST60 = SHARED / "NTU_RGBD_samples_with_missing_skeletons.txt"
LIST120 = SHARED / "NTU_RGBD120_samples_with_missing_skeletons.txt"
needs_lists = pytest.mark.skipif(not (LIST60.exists() and LIST120.exists()),
                                 reason=f"official NTU missing lists not found in {SHARED}")

BODY_ID = 72057594037931101


def skeleton_text(frames, seed=0, crlf=False):
    """Write the exact .skeleton grammar. frames: list of frames, each a list of (25, 3) xyz."""
    rng = np.random.default_rng(seed)
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for b, xyz in enumerate(bodies):
            out.append(f"{BODY_ID + b} 0 1 1 1 1 0 0.02764709 0.05745083 2")
            out.append("25")
            for j in range(25):
                extra = rng.uniform(0, 500, size=4)
                quat = rng.normal(size=4)
                out.append(" ".join([f"{v:.7g}" for v in xyz[j]] + [f"{v:.7g}" for v in extra]
                                    + [f"{v:.7g}" for v in quat] + ["2"]))
    sep = "\r\n" if crlf else "\n"
    return sep.join(out) + sep


def pose(k):
    """A deterministic (25, 3) body, distinct per k, never all zero."""
    rng = np.random.default_rng(100 + k)
    return np.round(rng.normal(0, 0.4, size=(25, 3)) + [0, 0, 3], 4)


def write(path, frames, **kw):
    Path(path).write_text(skeleton_text(frames, **kw), newline="")
    return Path(path)


# ---------------------------------------------------------------- the grammar

def test_single_body_file(tmp_path):
    f = write(tmp_path / "a.skeleton", [[pose(0)], [pose(1)], [pose(2)]])
    x = read_ntu_skeleton(f)
    assert x.shape == (3, 3, 25, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 1, :, 0], pose(1).T, atol=1e-6)
    assert np.all(x[..., 1] == 0)


def test_multi_body_keeps_first_two_in_file_order_and_body_ids(tmp_path):
    f = write(tmp_path / "b.skeleton", [[pose(0), pose(1), pose(2)], [pose(3), pose(4)]])
    x = read_ntu_skeleton(f)
    np.testing.assert_allclose(x[:, 0, :, 0], pose(0).T, atol=1e-6)
    np.testing.assert_allclose(x[:, 0, :, 1], pose(1).T, atol=1e-6)
    np.testing.assert_allclose(x[:, 1, :, 1], pose(4).T, atol=1e-6)
    assert read_ntu_skeleton(f, max_bodies=3)[:, 0, :, 2].any()
    frames = parse_ntu_skeleton(f)
    assert [len(b) for b in frames] == [3, 2]
    assert frames[0][2].body_id == BODY_ID + 2 and isinstance(frames[0][2].body_id, int)
    assert frames[0][0].joints.shape == (25, 12) and frames[0][0].info[-1] == 2.0


def test_zero_body_frame_stays_a_zero_frame(tmp_path):
    f = write(tmp_path / "z.skeleton", [[pose(0)], [], [pose(2)]])
    x = read_ntu_skeleton(f)
    assert x.shape[1] == 3 and np.all(x[:, 1] == 0) and x[:, 2].any()


def test_crlf_is_accepted(tmp_path):
    frames = [[pose(0), pose(1)], [pose(2)]]
    a = read_ntu_skeleton(write(tmp_path / "lf.skeleton", frames))
    b = read_ntu_skeleton(write(tmp_path / "crlf.skeleton", frames, crlf=True))
    assert b"\r\n" in (tmp_path / "crlf.skeleton").read_bytes()
    np.testing.assert_array_equal(a, b)


def good_lines(tmp_path):
    return skeleton_text([[pose(0)], [pose(1)]]).splitlines()


def token(lines, i, k, value):
    """lines with token k of line index i replaced."""
    tok = lines[i].split()
    tok[k] = value
    return lines[:i] + [" ".join(tok)] + lines[i + 1:]


def shifted(lines, i, value):
    """Move one number from joint line i + 1 to the end of joint line i (same total count)."""
    a, b = lines[i].split(), lines[i + 1].split()
    return lines[:i] + [" ".join(a + [b[0]]), " ".join(b[1:])] + lines[i + 2:]


@pytest.mark.parametrize("edit,match", [
    (lambda L: L[:40], r"line 41 .*truncated"),                         # cut inside frame 2
    (lambda L: L[:29], r"line 30 \(numBodies of frame 2\).*truncated"),
    (lambda L: L[:3] + ["24"] + L[4:], r"line 4 \(numJoints of body 1 of frame 1\).*25 joints"),
    (lambda L: token(L, 6, 2, "abc"), r"line 7 \(joint 3 of body 1 of frame 1\), field 3 \(z\)"
                                      r".*plain decimal number, got 'abc'"),
    (lambda L: L[:6] + ["0.1 0.2 0.3"] + L[7:], r"line 7 \(joint 3 of body 1 of frame 1\).*12 fields"),
    (lambda L: shifted(L, 6, None), r"line 7 \(joint 3 .*12 fields.*13 fields"),
    (lambda L: token(L, 6, 0, "nan"), r"line 7 \(joint 3 .*field 1 \(x\).*'nan'"),
    (lambda L: token(L, 6, 4, "NaN"), r"line 7 .*field 5 \(depthY\).*'NaN'"),
    (lambda L: token(L, 33, 1, "-inf"), r"line 34 .*field 2 \(y\).*'-inf'"),
    (lambda L: token(L, 6, 1, "1_0"), r"line 7 .*field 2 \(y\).*'1_0'"),
    (lambda L: token(L, 6, 1, "\u0661.5"), r"line 7 .*field 2 \(y\)"),      # Arabic-Indic digit
    (lambda L: token(L, 6, 1, "0x10"), r"line 7 .*field 2 \(y\).*'0x10'"),
    (lambda L: token(L, 6, 1, "1e999"), r"lines 5-29 .*finite.*1e999"),
    (lambda L: token(L, 6, 11, "2.5"), r"line 7 .*field 12 \(trackingState\).*integer >= 0"),
    (lambda L: token(L, 6, 11, "3"), r"line 7 .*field 12 \(trackingState\).*one of \[0, 1, 2\]"),
    (lambda L: token(L, 2, 9, "7"), r"line 3 .*field 10 \(trackingState\).*one of"),
    (lambda L: token(L, 2, 3, "1.5"), r"line 3 .*field 4 \(handLeftState\).*integer"),
    (lambda L: token(L, 2, 0, str(2 ** 64)), r"line 3 .*bodyID.*unsigned 64-bit"),
    (lambda L: L[:6] + [L[6].replace(" ", "\x0b", 1)] + L[7:], r"line 7 .*12 fields"),
    (lambda L: L[:2] + ["1 2 3"] + L[3:], r"line 3 \(body 1 of frame 1\).*10 fields"),
    (lambda L: L[:2] + ["abc 0 1 1 1 1 0 0.1 0.2 2"] + L[3:], r"line 3 .*field 1 \(bodyID\)"),
    (lambda L: ["two"] + L[1:], r"line 1 \(numFrames\)"),
    (lambda L: ["2.0"] + L[1:], r"line 1 \(numFrames\).*one integer"),
    (lambda L: L[:1] + ["-1"] + L[2:], r"line 2 .*>= 0"),
    (lambda L: L[:1] + ["7"] + L[2:], r"line 2 \(numBodies of frame 1\).*<= 6"),
    (lambda L: ["1", "5"] + L[2:29], r"line 2 \(numBodies of frame 1\).*rest of the file"),
    (lambda L: ["9999"] + L[1:], r"line 1 \(numFrames\).*rest of the file"),
    (lambda L: ["100000"] + L[1:], r"line 1 \(numFrames\).*<= 10000"),
    (lambda L: L + ["1"], r"line 58: .*end of file after 2 frames"),
])
def test_malformed_files_raise_with_line_numbers(tmp_path, edit, match):
    f = tmp_path / "bad.skeleton"
    f.write_text("\n".join(edit(good_lines(tmp_path))) + "\n")
    with pytest.raises(DataFormatError, match=match) as e:
        read_ntu_skeleton(f)
    assert str(f) in str(e.value) and not isinstance(e.value, EmptySkeletonError)


def test_a_file_of_empty_frames_stays_small(tmp_path):
    """A count is checked against the file's size before anything is built from it."""
    f = tmp_path / "many.skeleton"
    f.write_text("5000000\n" + "0\n" * 5000)
    with pytest.raises(DataFormatError, match=r"line 1 \(numFrames\)"):
        read_ntu_skeleton(f)
    f.write_text("5000\n" + "0\n" * 4999 + "1\n" + skeleton_text([[pose(0)]]).split("\n", 2)[2])
    x = read_ntu_skeleton(f)
    assert x.shape == (3, 5000, 25, 2) and x[:, :4999].sum() == 0 and x[:, 4999].any()


def test_memory_stays_proportional_to_the_file(tmp_path):
    """20 MB of empty frames announcing 10 million frames: refused without a large allocation."""
    f = tmp_path / "huge.skeleton"
    f.write_bytes(b"10000000\n" + b"0\n" * 10_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=r"line 1 \(numFrames\).*<= 10000"):
            read_ntu_skeleton(f)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * f.stat().st_size     # the decoded text, nothing built from the count


def test_empty_sequences_raise_empty_skeleton_error(tmp_path):
    (tmp_path / "e0.skeleton").write_text("0\n")
    with pytest.raises(EmptySkeletonError, match="at least one frame"):
        read_ntu_skeleton(tmp_path / "e0.skeleton")
    (tmp_path / "e1.skeleton").write_text("3\n0\n0\n0\n")
    with pytest.raises(EmptySkeletonError, match="at least one body"):
        read_ntu_skeleton(tmp_path / "e1.skeleton")
    write(tmp_path / "e2.skeleton", [[np.zeros((25, 3))]])
    with pytest.raises(EmptySkeletonError, match="all zeros"):
        read_ntu_skeleton(tmp_path / "e2.skeleton")
    (tmp_path / "e3.skeleton").write_bytes(b"\xff\xfe1\n")
    with pytest.raises(DataFormatError, match="text file"):
        read_ntu_skeleton(tmp_path / "e3.skeleton")


# ---------------------------------------------------------------- missing lists and splits

def fingerprint(names):
    return hashlib.sha256(("\n".join(sorted(names)) + "\n").encode()).hexdigest()


@needs_lists
def test_official_missing_lists_match_fingerprints():
    m60, m120 = read_missing_list(LIST60), read_missing_list(LIST120)
    assert len(m60) == 302 and len(m120) == 535 and m60 <= m120
    assert fingerprint(m60) == "4a964781573e86c3f3bb24d489d2b4768d2d03ede396d20ea9c09ddc92b6df18"
    assert fingerprint(m120) == "f8abc124c4fc4b4e8f144caa34948f8307e5d7dcba17acf96132c9f311ff93cf"
    assert min(m120) == "S001C002P005R002A008" and max(m120) == "S032C003P067R002A077"


@needs_lists
def test_bare_list_equals_headered_list(tmp_path):
    names = read_missing_list(LIST60)
    (tmp_path / "bare.txt").write_text("\r\n".join(sorted(names)) + "\r\n")
    assert read_missing_list(tmp_path / "bare.txt") == names


def test_missing_list_without_names_is_an_error(tmp_path):
    (tmp_path / "x.txt").write_text("hello\nworld\n")
    with pytest.raises(DataFormatError, match="SsssCcccPpppRrrrAaaa"):
        read_missing_list(tmp_path / "x.txt")
    (tmp_path / "y.txt").write_text("S001C002P005R002A008.skeleton\n  S001C002P006R001A008 \n")
    assert read_missing_list(tmp_path / "y.txt") == {"S001C002P005R002A008", "S001C002P006R001A008"}


@needs_lists
def test_split_counts_of_the_missing_samples():
    """docs/results/readers.md: all vs after-removal counts imply how many missing samples each side has."""
    m60, m120 = sorted(read_missing_list(LIST60)), sorted(read_missing_list(LIST120))
    for names, proto, train_missing, test_missing in [
            (m60, "xsub", 40320 - 40091, 16560 - 16487),
            (m60, "xview", 37920 - 37646, 18960 - 18932),
            (m120, "xsub", 63360 - 63026, 51120 - 50919),
            (m120, "xset", 54720 - 54468, 59760 - 59477)]:
        mask = ntu_train_mask(names, proto)
        assert (int(mask.sum()), int((~mask).sum())) == (train_missing, test_missing), proto


def test_split_lists_and_constructed_names():
    test60 = {3, 6, 7, 10, 11, 12, 20, 21, 22, 23, 24, 26, 29, 30, 32, 33, 36, 37, 39, 40}
    assert len(NTU60_XSUB_TRAIN) == 20 and set(NTU60_XSUB_TRAIN) == set(range(1, 41)) - test60
    assert len(NTU120_XSUB_TRAIN) == 53 and len(set(range(1, 107)) - set(NTU120_XSUB_TRAIN)) == 53
    names = [f"S{s:03d}C{c:03d}P{p:03d}R001A001" for s in (1, 2, 31, 32) for c in (1, 2, 3)
             for p in (1, 3, 45, 41)]
    xsub, xview, xset = (ntu_train_mask(names, k) for k in ("xsub", "xview", "xset"))
    for n, a, b, c in zip(names, xsub, xview, xset):
        s, cam, p = parse_ntu_name(n)[:3]
        assert a == (p in (1, 45)) and b == (cam in (2, 3)) and c == (s % 2 == 0)
    assert parse_ntu_name("S017C003P020R001A059.skeleton") == (17, 3, 20, 1, 59)
    with pytest.raises(ValueError, match="xmix"):
        ntu_train_mask(names, "xmix")
    with pytest.raises(ValueError, match="not an NTU"):
        parse_ntu_name("S1C2")


# ---------------------------------------------------------------- prepare-ntu

def make_raw(root):
    """A tiny raw folder: 5 usable samples, a 0-body sample, a listed-missing one, an NTU-120 one."""
    raw = root / "raw"
    raw.mkdir()
    write(raw / "S001C001P001R001A001.skeleton", [[pose(0)], [pose(1)]])               # xsub train, xview test
    write(raw / "S001C002P003R001A002.skeleton", [[pose(2)], [pose(3)], [pose(4)]])    # xsub test, xview train
    write(raw / "S002C003P002R002A003.skeleton", [[pose(5), pose(6)], [pose(7), pose(8), pose(9)]])
    write(raw / "S002C001P004R002A004.skeleton", [[pose(10)], [], [pose(11)]])          # 0-body frame
    write(raw / "S003C002P006R001A060.skeleton", [[pose(12)]] * 4)
    (raw / "S003C003P007R001A005.skeleton").write_text("2\n0\n0\n")                    # no skeleton
    write(raw / "S001C002P005R002A008.skeleton", [[pose(13)]])                         # in the list
    sub = raw / "s018"
    sub.mkdir()
    write(sub / "S018C001P008R001A061.skeleton", [[pose(14)]])                         # NTU-120 only
    (root / "missing.txt").write_text("header line\n\nS001C002P005R002A008\n")
    return raw


def test_prepare_ntu_end_to_end_and_resume(tmp_path):
    raw = make_raw(tmp_path)
    out = tmp_path / "out"
    rep = prepare_ntu(raw, out, "ntu60", missing_file=tmp_path / "missing.txt", progress=False)
    assert rep.files_found == 8 and rep.not_in_benchmark == 1 and rep.skipped_missing_list == 1
    assert list(rep.skipped_no_skeleton) == ["S003C003P007R001A005"]
    assert rep.parsed_now == 6 and rep.parsed_cached == 0
    assert rep.extra_bodies == {"S002C003P002R002A003": 3}
    assert rep.splits == {"xsub": {"train": 3, "val": 2}, "xview": {"train": 3, "val": 2}}
    names, labels = load_labels(out / "xsub" / "train_label.pkl")
    assert names == ["S001C001P001R001A001.skeleton", "S002C001P004R002A004.skeleton",
                     "S002C003P002R002A003.skeleton"] and labels == [0, 3, 2]
    assert load_labels(out / "xsub" / "val_label.pkl")[1] == [1, 59]
    d = load_stgcn(out / "xsub" / "train_data.npy", out / "xsub" / "train_label.pkl")
    assert d.x.shape == (3, 3, 300, 25, 2) and d.x.dtype == np.float32
    i = d.names.index("S002C003P002R002A003")
    np.testing.assert_array_equal(d.x[i, :, :2], read_ntu_skeleton(raw / "S002C003P002R002A003.skeleton"))
    assert np.all(d.x[i, :, 2:] == 0)
    j = d.names.index("S002C001P004R002A004")
    assert np.all(d.x[j, :, 1] == 0) and d.x[j, :, 2].any()
    v = load_stgcn(out / "xview" / "val_data.npy", out / "xview" / "val_label.pkl")
    assert sorted(v.names) == ["S001C001P001R001A001", "S002C001P004R002A004"] and set(v.view) == {1}
    f50 = load_stgcn(out / "frame50" / "xview" / "train_position.npy",
                     out / "frame50" / "xview" / "train_label.pkl")
    assert f50.x.shape == (3, 3, 50, 25, 2) and f50.names == load_stgcn(
        out / "xview" / "train_data.npy", out / "xview" / "train_label.pkl").names
    assert (out / "prepare_report.json").exists()
    # resume: nothing new to parse, same arrays
    before = np.array(np.load(out / "xsub" / "val_data.npy"))
    rep2 = prepare_ntu(raw, out, "ntu60", missing_file=tmp_path / "missing.txt", progress=False)
    assert rep2.parsed_now == 0 and rep2.parsed_cached == 6
    assert rep2.splits == rep.splits and list(rep2.skipped_no_skeleton) == ["S003C003P007R001A005"]
    assert rep2.extra_bodies == rep.extra_bodies
    np.testing.assert_array_equal(np.load(out / "xsub" / "val_data.npy"), before)


def test_prepare_ntu120_with_workers_and_xset(tmp_path):
    raw = make_raw(tmp_path)
    rep = prepare_ntu([raw], tmp_path / "o", "ntu120", workers=2, frame50=False, progress=False)
    assert rep.not_in_benchmark == 0 and rep.skipped_missing_list == 0 and rep.parsed_now == 8
    assert set(rep.splits) == {"xsub", "xset"}
    assert rep.splits["xset"] == {"train": 3, "val": 4}     # setups 2, 18 (3 files) vs 1, 3
    assert not (tmp_path / "o" / "frame50").exists()
    names, labels = load_labels(tmp_path / "o" / "xset" / "train_label.pkl")
    assert dict(zip(names, labels))["S018C001P008R001A061.skeleton"] == 60


def test_prepare_ntu_skips_and_reports_malformed_files(tmp_path, capsys):
    raw = make_raw(tmp_path)
    good = skeleton_text([[pose(20)], [pose(21)]]).splitlines()
    bad = raw / "S004C001P001R001A001.skeleton"
    bad.write_text("\n".join(good[:40]) + "\n")
    shifted_file = raw / "S004C002P001R001A001.skeleton"
    shifted_file.write_text("\n".join(shifted(good, 6, None)) + "\n")
    rep = prepare_ntu(raw, tmp_path / "o", "ntu60", progress=False)
    assert sorted(rep.skipped_malformed) == ["S004C001P001R001A001", "S004C002P001R001A001"]
    assert "truncated" in rep.skipped_malformed["S004C001P001R001A001"]
    assert "12 fields" in rep.skipped_malformed["S004C002P001R001A001"]
    assert rep.parsed_now == 7 and "skipped (malformed file): 2" in str(rep)
    saved = json.loads((tmp_path / "o" / "prepare_report.json").read_text())
    assert saved["skipped_malformed"] == rep.skipped_malformed
    names = load_labels(tmp_path / "o" / "xsub" / "train_label.pkl")[0]
    assert not any(n.startswith("S004") for n in names)
    # a rerun skips them again instead of stopping; a fixed file is parsed, the rest is cached
    write(bad, [[pose(20)], [pose(21)]])
    rep = prepare_ntu(raw, tmp_path / "o", "ntu60", progress=False)
    assert list(rep.skipped_malformed) == ["S004C002P001R001A001"]
    assert rep.parsed_now == 1 and rep.parsed_cached == 7
    # --strict stops at the first malformed file with its message
    rc = cli_prepare(["--raw", str(raw), "--out", str(tmp_path / "s"), "--workers", "1", "--quiet",
                      "--strict", "--no-frame50"])
    err = capsys.readouterr().err
    assert rc == 1 and "S004C002P001R001A001.skeleton: line 7" in err
    with pytest.raises(DataFormatError, match="S004C002P001R001A001"):
        prepare_ntu(raw, tmp_path / "s", "ntu60", workers=2, progress=False, strict=True)


def test_cli_prepare_prints_the_report(tmp_path, capsys):
    raw = make_raw(tmp_path)
    rc = cli_prepare(["--raw", str(raw), "--out", str(tmp_path / "c"), "--benchmark", "ntu60",
                      "--missing", str(tmp_path / "missing.txt"), "--workers", "1", "--no-frame50",
                      "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0 and "skipped (published missing list): 1" in text
    assert "skipped (no usable skeleton, detected): 1" in text and "xview: train 3 / val 2" in text
    assert "skipped (malformed file): 0" in text
    with open(tmp_path / "c" / "xview" / "val_label.pkl", "rb") as f:
        assert len(pickle.load(f)[0]) == 2
