"""PKU-MMD: skeleton/label/split readers, action cutting and prepare-pku end to end."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from skelcl_lib.data.formats import load_labels, load_stgcn
from skelcl_lib.data.pku import (LabelRow, action_name, cli_prepare, cut_action, frames_to_bodies,
                                 prepare_pku, protocol_name, read_pku_labels, read_pku_skeleton,
                                 read_split_file)
from skelcl_lib.errors import DataFormatError


def recording(t, two_bodies_from=None, seed=0):
    """(t, 150): frame i has body 1 x-coordinates = i + 1 (so cuts are checkable)."""
    rng = np.random.default_rng(seed)
    f = np.round(rng.normal(0, 0.3, size=(t, 150)), 4)
    f[:, 0] = np.arange(1, t + 1)          # body 1, joint 0, x = 1-based frame number
    f[:, 75:] = 0
    if two_bodies_from is not None:
        f[two_bodies_from:, 75:] = np.round(rng.normal(0, 0.3, size=(t - two_bodies_from, 75)), 4) + 1
    return f


def write_rec(path, frames):
    Path(path).write_text("\n".join(" ".join(f"{v:g}" for v in row) for row in frames) + "\n")


def write_labels(path, rows):
    Path(path).write_text("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")


# ---------------------------------------------------------------- readers

def test_skeleton_and_bodies(tmp_path):
    f = recording(6, two_bodies_from=3)
    write_rec(tmp_path / "0002-L.txt", f)
    got = read_pku_skeleton(tmp_path / "0002-L.txt")
    assert got.shape == (6, 150) and got.dtype == np.float32
    np.testing.assert_allclose(got, f, atol=1e-6)
    x = frames_to_bodies(got)
    assert x.shape == (3, 6, 25, 2)
    np.testing.assert_allclose(x[:, 4, 7, 0], f[4, 21:24], atol=1e-6)    # joint 7 of body 1
    np.testing.assert_allclose(x[:, 4, 7, 1], f[4, 96:99], atol=1e-6)    # joint 7 of body 2
    assert np.all(x[..., :3, :, 1] == 0) and x[:, 3:, :, 1].any()


def test_second_body_zeroed_when_its_values_sum_to_zero():
    f = recording(2).astype(np.float32)
    f[0, 75:78] = [1.0, -1.0, 0.0]         # non-zero values that sum to 0: AimCLR drops the body
    f[1, 75:78] = [1.0, 0.0, 0.0]
    x = frames_to_bodies(f)
    assert np.all(x[:, 0, :, 1] == 0) and x[0, 1, 0, 1] == 1.0


def test_cut_is_one_based_inclusive():
    f = recording(20).astype(np.float32)
    x, clipped = cut_action(f, LabelRow(3, 5, 9, 1.0))
    assert x.shape[1] == 5 and x[0, :, 0, 0].tolist() == [5, 6, 7, 8, 9] and not clipped
    x, clipped = cut_action(f, LabelRow(3, 18, 25, 1.0))
    assert x.shape[1] == 3 and clipped


@pytest.mark.parametrize("text,match", [
    ("1 2 3\n", r"line 1: expected 150 fields \(2 bodies x 25 joints x xyz\), got '3 fields"),
    (" ".join(["0.5"] * 150) + "\n" + " ".join(["0.5"] * 149) + " abc\n",
     r"line 2, field 150 \(body 2 joint 25 z\).*plain decimal number, got 'abc'"),
    (" ".join(["0.5"] * 150) + "\n" + " ".join(["0.5"] * 149) + " nan\n", r"line 2, field 150.*'nan'"),
    (" ".join(["0.5"] * 150) + "\n" + " ".join(["0.5"] * 151) + "\n", r"line 2.*151 fields"),
    (" ".join(["0.5"] * 151) + "\n" + " ".join(["0.5"] * 149) + "\n", r"line 1.*151 fields"),
    (" ".join(["0.5"] * 149) + " 1_0\n", r"line 1, field 150.*'1_0'"),
    (" ".join(["0.5"] * 149) + " 1e999\n", r"lines 1-1.*finite.*1e999"),
    (" ".join(["0.5"] * 149) + " 1e39\n", r"line 1, value 150.*float32 range"),
    (" ".join(["0.5"] * 150) + "\n\n" + " ".join(["0.5"] * 150) + "\n", r"line 2.*150 fields"),
    ("\n\n", "empty file"),
])
def test_malformed_skeleton_lines(tmp_path, text, match):
    (tmp_path / "s.txt").write_text(text)
    with pytest.raises(DataFormatError, match=match) as e:
        read_pku_skeleton(tmp_path / "s.txt")
    assert "s.txt" in str(e.value)


def test_labels(tmp_path):
    (tmp_path / "l.txt").write_text("1,10,40,1\n51, 41, 60, 0\n\n")
    assert read_pku_labels(tmp_path / "l.txt") == [LabelRow(1, 10, 40, 1.0), LabelRow(51, 41, 60, 0.0)]


@pytest.mark.parametrize("text,match", [
    ("1,10,40\n", r"line 1.*4 comma-separated"),
    ("1,10,40,1\nx,1,2,1\n", r"line 2, field 1.*plain decimal number"),
    ("1,1_0,40,1\n", r"line 1, field 2.*plain decimal"),
    ("1,10,40,nan\n", r"line 1, field 4.*plain decimal"),
    ("52,1,10,1\n", r"class in 1..51"),
    ("1,10.5,40,1\n", "integer"),
    ("1,40,10,1\n", "start <= end"),
    ("0,1,10,1\n", "class in 1..51"),
    ("\n", "at least one label row"),
])
def test_malformed_labels(tmp_path, text, match):
    (tmp_path / "l.txt").write_text(text)
    with pytest.raises(DataFormatError, match=match):
        read_pku_labels(tmp_path / "l.txt")


def test_split_files(tmp_path):
    (tmp_path / "cross-subject.txt").write_text("Training videos:\n0002-L, 0002-M,\nValidation videos:\n0003-L\n")
    assert read_split_file(tmp_path / "cross-subject.txt") == (["0002-L", "0002-M"], ["0003-L"])
    assert protocol_name("cross-subject.txt") == "xsub" and protocol_name("cross_view_v2.txt") == "xview"
    (tmp_path / "bad.txt").write_text("Training videos:\n0002-L\n")
    with pytest.raises(DataFormatError, match="4 lines"):
        read_split_file(tmp_path / "bad.txt")
    (tmp_path / "both.txt").write_text("T\n0002-L\nV\n0002-L\n")
    with pytest.raises(DataFormatError, match="disjoint"):
        read_split_file(tmp_path / "both.txt")


def test_action_names():
    r = LabelRow(7, 1, 2, 1.0)
    assert action_name("0002-R", r, 3, 1) == "F002V003C007L003"
    assert action_name("A01N13-M", r, 12, 2) == "A001N013V002C007L012"
    with pytest.raises(ValueError):
        action_name("A01N13-M", r, 1, 1)


# ---------------------------------------------------------------- prepare-pku

def make_pku(root):
    sk, lab = root / "skeleton", root / "label"
    sk.mkdir()
    lab.mkdir()
    write_rec(sk / "0002-L.txt", recording(400, two_bodies_from=350, seed=1))
    write_labels(lab / "0002-L.txt", [(1, 1, 40, 1), (5, 41, 390, 1)])        # 2nd action: 350 frames
    write_rec(sk / "0003-M.txt", recording(100, seed=2))
    write_labels(lab / "0003-M.txt", [(2, 10, 20, 0), (3, 95, 110, 1)])       # 2nd ends after the file
    rec = recording(60, seed=3)
    rec[20:30] = 0                                                             # no skeleton in 21..30
    write_rec(sk / "0004-R.txt", rec)
    write_labels(lab / "0004-R.txt", [(4, 21, 30, 1), (51, 1, 60, 1)])
    write_labels(lab / "0005-L.txt", [(1, 1, 5, 1)])                          # no skeleton file
    write_rec(sk / "0006-L.txt", recording(10))
    write_labels(lab / "0006-L.txt", [(1, 1, 5, 1)])                          # in neither list
    (root / "cross-subject.txt").write_text("Training videos:\n0002-L, 0004-R\nValidation videos:\n0003-M\n")
    (root / "cross-view.txt").write_text("Training videos:\n0003-M,0004-R,0006-L\nValidation videos:\n0002-L\n")
    return sk, lab


def test_prepare_pku_end_to_end_and_resume(tmp_path):
    sk, lab = make_pku(tmp_path)
    splits = [tmp_path / "cross-subject.txt", tmp_path / "cross-view.txt"]
    out = tmp_path / "out"
    rep = prepare_pku(sk, lab, splits, out, part=1, progress=False)
    assert rep.videos_found == 5 and rep.videos_without_skeleton == ["0005-L"]
    assert rep.parsed_now == 4 and rep.actions == 6
    assert rep.skipped_empty_actions == ["F004V003C004L001"]
    assert rep.clipped_actions == ["F003V002C003L002"] and rep.cropped_actions == ["F002V001C005L002"]
    assert rep.videos_not_in_split == {"xsub": ["0006-L"], "xview": []}
    assert rep.splits == {"xsub": {"train": 3, "val": 2}, "xview": {"train": 4, "val": 2}}
    names, labels = load_labels(out / "xsub" / "train_label.pkl")
    assert names == ["F002V001C001L001.skeleton", "F002V001C005L002.skeleton", "F004V003C051L002.skeleton"]
    assert labels == [0, 4, 50]
    d = load_stgcn(out / "xsub" / "train_data.npy", out / "xsub" / "train_label.pkl")
    assert d.x.shape == (3, 3, 300, 25, 2) and d.dataset == "pku" and d.view.tolist() == [1, 1, 3]
    assert d.x[0, 0, :41, 0, 0].tolist() == list(range(1, 41)) + [0]         # frames 1..40, then padding
    # 350-frame action (frames 41..390): the central 300 = frames 66..365
    assert d.x[1, 0, 0, 0, 0] == 66 and d.x[1, 0, 299, 0, 0] == 365
    assert d.x[1, :, :284, :, 1].sum() == 0 and d.x[1, :, 284:, :, 1].any()  # body 2 from frame 351
    v = load_stgcn(out / "xsub" / "val_data.npy", out / "xsub" / "val_label.pkl")
    assert v.x[1, 0, :6, 0, 0].tolist() == [95, 96, 97, 98, 99, 100]        # clipped at the file end
    f50 = load_stgcn(out / "frame50" / "xview" / "train_position.npy", out / "frame50" / "xview" / "train_label.pkl")
    assert f50.x.shape == (4, 3, 50, 25, 2)
    rep2 = prepare_pku(sk, lab, splits, out, part=1, progress=False)
    assert rep2.parsed_now == 0 and rep2.parsed_cached == 4 and rep2.splits == rep.splits


def test_prepare_pku_part2_names_and_malformed_video(tmp_path):
    sk, lab = tmp_path / "s", tmp_path / "l"
    sk.mkdir()
    lab.mkdir()
    write_rec(sk / "A01N01-L.txt", recording(30))
    write_labels(lab / "A01N01-L.txt", [(41, 2, 20, 1)])
    write_labels(lab / "0002-L.txt", [(1, 2, 20, 1)])                         # a part-I name
    (tmp_path / "cross_subject_v2.txt").write_text("T\nA01N01-L\nV\nA02N01-L\n")
    rep = prepare_pku(sk, lab, {"xsub": tmp_path / "cross_subject_v2.txt"}, tmp_path / "o", part=2,
                      frame50=False, progress=False)
    assert rep.unrecognised_videos == ["0002-L"]
    assert load_labels(tmp_path / "o" / "xsub" / "train_label.pkl") == (["A001N001V001C041L001.skeleton"], [40])
    assert load_labels(tmp_path / "o" / "xsub" / "val_label.pkl") == ([], [])
    write_rec(sk / "A01N02-L.txt", recording(30)[:, :120])
    write_labels(lab / "A01N02-L.txt", [(1, 2, 20, 1)])
    rep = prepare_pku(sk, lab, tmp_path / "cross_subject_v2.txt", tmp_path / "o", part=2, progress=False)
    assert list(rep.skipped_malformed) == ["A01N02-L"]
    assert re.search(r"A01N02-L.txt: line 1.*150 fields", rep.skipped_malformed["A01N02-L"])
    assert "videos skipped (malformed skeleton or label file): 1" in str(rep)
    assert rep.parsed_now == 0 and rep.splits["xsub"] == {"train": 1, "val": 0}
    report = json.loads((tmp_path / "o" / "prepare_report.json").read_text())
    assert list(report["skipped_malformed"]) == ["A01N02-L"]
    with pytest.raises(DataFormatError, match=r"A01N02-L.txt: line 1.*150 fields"):
        prepare_pku(sk, lab, tmp_path / "cross_subject_v2.txt", tmp_path / "o", part=2, progress=False,
                    strict=True)
    rc = cli_prepare(["--skeletons", str(sk), "--labels", str(lab), "--split",
                      str(tmp_path / "cross_subject_v2.txt"), "--out", str(tmp_path / "o"), "--part", "2",
                      "--quiet", "--strict"])
    assert rc == 1


def test_cli_prepare(tmp_path, capsys):
    sk, lab = make_pku(tmp_path)
    rc = cli_prepare(["--skeletons", str(sk), "--labels", str(lab), "--split",
                      str(tmp_path / "cross-view.txt"), "--out", str(tmp_path / "c"), "--quiet",
                      "--no-frame50"])
    text = capsys.readouterr().out
    assert rc == 0 and "xview: train 4 / val 2" in text and "no skeleton in the interval): 1" in text
