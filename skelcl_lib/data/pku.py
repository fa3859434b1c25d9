"""PKU-MMD part I and II: continuous recordings -> per-action st-gcn arrays (+ AimCLR frame50).

Raw files (docs/results/readers.md, docs/methods.md §2.4): a skeleton text file per video (one frame per
line, 150 floats = 2 bodies x 25 joints x xyz, Kinect v2 / NTU joint order [unverified]), a
label CSV per video (``class, start, end, confidence``; 1-based inclusive frames) and split files
(line 2 = comma-separated training videos, line 4 = test videos).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import DataFormatError
from .formats import malformed_lines, write_stgcn_part
from .text import FLOAT, LineReader, explain_line, is_number, line_pattern, read_text, to_floats

VALUES_PER_FRAME = 150
NUM_CLASSES = 51  # PKU-MMD's action classes; part II uses 41 of them
VIDEO_NAME = {1: re.compile(r"^(\d{4})-([LMR])\Z", re.ASCII),
              2: re.compile(r"^A(\d{2})N(\d{2})-([LMR])\Z", re.ASCII)}
VIEW_ID = {"L": 1, "M": 2, "R": 3}


class LabelRow(NamedTuple):
    label_class: int   # 1-based class id as in the file
    start: int         # 1-based first frame
    end: int           # 1-based last frame (inclusive)
    confidence: float  # the 4th column (described as a confidence flag [unverified]; unused)


_FRAME_LINE = line_pattern(*[FLOAT] * VALUES_PER_FRAME)
_FRAME_NAMES = tuple(f"body {m + 1} joint {j + 1} {c}" for m in range(2) for j in range(25) for c in "xyz")


def read_pku_skeleton(path, chunk: int = 1024) -> np.ndarray:
    """A continuous skeleton file -> (T, 150) float32.

    Strict, line by line: each line is one frame of exactly 150 plain decimal numbers
    (``skelcl_lib.data.text``); a line is never completed from its neighbour. Errors name the
    line and the value.
    """
    r = LineReader(path)
    parts, pending, first = [], [], 1
    while not r.at_end():
        line = r.next("frame", f"{VALUES_PER_FRAME} numbers")
        if not _FRAME_LINE.fullmatch(line):
            raise explain_line(path, f"line {r.lineno}", line, _FRAME_NAMES,
                               described="2 bodies x 25 joints x xyz")
        pending.append(line)
        if len(pending) == chunk:
            parts.append(_convert(path, pending, first))
            first += len(pending)
            pending = []
    if pending:
        parts.append(_convert(path, pending, first))
    if not parts:
        raise DataFormatError.at(path, "line 1", f"frames of {VALUES_PER_FRAME} numbers", got="empty file")
    return np.concatenate(parts)


def _convert(path, lines: list[str], first: int) -> np.ndarray:
    vals = to_floats(path, f"lines {first}-{first + len(lines) - 1}", " ".join(lines),
                     len(lines) * VALUES_PER_FRAME).reshape(len(lines), VALUES_PER_FRAME)
    with np.errstate(over="ignore"):  # an overflow becomes inf and is reported below
        out = vals.astype(np.float32)
    if not np.isfinite(out).all():
        i, k = np.argwhere(~np.isfinite(out))[0]
        raise DataFormatError.at(path, f"line {first + i}, value {k + 1}",
                                 "a number within float32 range", got=lines[i].split()[k])
    return out


def read_pku_labels(path) -> list[LabelRow]:
    """A label CSV -> rows ``(class, start, end, confidence)``; errors name the line.

    Every field is a plain decimal number; class, start and end are whole numbers.
    """
    rows = []
    for i, ln in enumerate(read_text(path).split("\n")):
        ln = ln.rstrip("\r")
        if not ln.strip(" \t"):
            continue
        tok = [t.strip(" \t") for t in ln.split(",")]
        where = f"line {i + 1}"
        if len(tok) != 4:
            raise DataFormatError.at(path, where, "4 comma-separated fields: class, start, end, confidence",
                                     got=ln)
        for k, t in enumerate(tok):
            if not is_number(t):
                raise DataFormatError.at(path, f"{where}, field {k + 1}", "a plain decimal number", got=t)
        nums = [float(t) for t in tok]
        if not all(np.isfinite(nums)) or any(v != int(v) for v in nums[:3]):
            raise DataFormatError.at(path, where, "integer class, start and end frames", got=ln)
        c, s, e = (int(v) for v in nums[:3])
        if not 1 <= c <= NUM_CLASSES or s < 1 or e < s:
            raise DataFormatError.at(path, where, f"class in 1..{NUM_CLASSES} and 1 <= start <= end",
                                     got=ln)
        rows.append(LabelRow(c, s, e, nums[3]))
    if not rows:
        raise DataFormatError.at(path, "file", "at least one label row", got="no rows")
    return rows


def frames_to_bodies(frames: np.ndarray) -> np.ndarray:
    """(T, 150) -> (3, T, 25, 2); body 2 is zeroed in frames where its 75 values sum to 0
    (AimCLR then writes only one body)."""
    x = frames.reshape(-1, 2, 25, 3).transpose(3, 0, 2, 1).copy()  # (C, T, V, M)
    absent = frames[:, 75:150].sum(axis=1) == 0
    x[:, absent, :, 1] = 0
    return x


def cut_action(frames: np.ndarray, row: LabelRow) -> tuple[np.ndarray, bool]:
    """Frames ``start..end`` (1-based inclusive, as AimCLR slices ``[start-1:end]``) -> (3, T, 25, 2).

    MAMP slices ``[start:end]`` instead, one frame later and one shorter (docs/results/readers.md).
    Returns (x, clipped): clipped when ``end`` lies beyond the recording.
    """
    seg = frames[row.start - 1:row.end]
    return frames_to_bodies(seg), row.end > len(frames)


def read_split_file(path) -> tuple[list[str], list[str]]:
    """Official split file -> (training videos, test videos): line 2 and line 4, comma-separated."""
    lines = read_text(path).splitlines()
    if len(lines) < 4:
        raise DataFormatError.at(path, f"line {len(lines) + 1}", "4 lines (title, train list, title, test list)",
                                 got="end of file")
    train, test = ([s.strip() for s in lines[k].split(",") if s.strip()] for k in (1, 3))
    if not train or not test:
        raise DataFormatError.at(path, "line 2" if not train else "line 4", "comma-separated video names",
                                 got=lines[1] if not train else lines[3])
    both = sorted(set(train) & set(test))
    if both:
        raise DataFormatError.at(path, "lines 2 and 4", "disjoint train and test lists", got=both[:5])
    return train, test


def protocol_name(split_file) -> str:
    """``cross-subject.txt`` / ``cross_subject_v2.txt`` -> "xsub"; ``cross-view*`` -> "xview"."""
    stem = Path(split_file).stem.lower()
    return "xsub" if "subject" in stem else "xview" if "view" in stem else stem


def action_name(video: str, row: LabelRow, index: int, part: int) -> str:
    """AimCLR's per-action names: part I ``F{file}V{view}C{class}L{index}``, part II
    ``A0{aa}N0{nn}V{view}C{class}L{index}`` (index = 1-based row in the label file)."""
    m = VIDEO_NAME[part].match(video)
    if not m:
        raise ValueError(f"not a PKU-MMD part {part} video name: {video!r}")
    g = m.groups()
    tail = f"V{VIEW_ID[g[-1]]:03d}C{row.label_class:03d}L{index:03d}"
    return (f"F{int(g[0]):03d}" if part == 1 else f"A{int(g[0]):03d}N{int(g[1]):03d}") + tail


# ---------------------------------------------------------------- prepare-pku


@dataclass
class PKUReport:
    part: int
    videos_found: int = 0
    unrecognised_videos: list[str] = field(default_factory=list)
    videos_without_skeleton: list[str] = field(default_factory=list)
    videos_not_in_split: dict[str, list[str]] = field(default_factory=dict)
    actions: int = 0
    skipped_empty_actions: list[str] = field(default_factory=list)
    skipped_malformed: dict[str, str] = field(default_factory=dict)  # video -> the error
    clipped_actions: list[str] = field(default_factory=list)    # end beyond the recording
    cropped_actions: list[str] = field(default_factory=list)    # longer than max_frames: centre kept
    parsed_now: int = 0
    parsed_cached: int = 0
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    out_dir: str = ""

    def __str__(self) -> str:
        lines = [f"prepare-pku part {self.part}: {self.videos_found} videos, {self.actions} actions "
                 f"-> {self.out_dir}",
                 f"  videos parsed now: {self.parsed_now}, from cache: {self.parsed_cached}",
                 f"  videos skipped (label file without skeleton file): {len(self.videos_without_skeleton)}",
                 f"  videos skipped (name not PKU-MMD part {self.part}): {len(self.unrecognised_videos)}",
                 f"  videos skipped (malformed skeleton or label file): {len(self.skipped_malformed)}"
                 + (" -- see prepare_report.json" if self.skipped_malformed else ""),
                 f"  actions skipped (no skeleton in the interval): {len(self.skipped_empty_actions)}",
                 f"  actions ending after the recording (kept, shorter): {len(self.clipped_actions)}",
                 f"  actions longer than max_frames (central frames kept): {len(self.cropped_actions)}"]
        for p, vids in self.videos_not_in_split.items():
            lines.append(f"  {p}: videos in neither list (skipped): {len(vids)}")
        for s, c in self.splits.items():
            lines.append(f"  {s}: train {c['train']} / val {c['val']}")
        lines += malformed_lines(self.skipped_malformed)
        return "\n".join(lines)


def _parse_video(skel_path, label_path, cache_file):
    frames = read_pku_skeleton(skel_path)
    rows = read_pku_labels(label_path)
    xs, lengths, clipped = [], [], []
    for row in rows:
        x, c = cut_action(frames, row)
        xs.append(x)
        lengths.append(x.shape[1])
        clipped.append(c)
    tmp = cache_file.with_suffix(".tmp.npz")
    np.savez(tmp, x=np.concatenate(xs, axis=1), lengths=np.array(lengths, np.int64),
             rows=np.array([r[:3] for r in rows], np.int64), clipped=np.array(clipped, bool))
    os.replace(tmp, cache_file)  # atomic: an interrupted run leaves no half file


def prepare_pku(skeleton_dir, label_dir, split_file, out_dir, part: int = 1, max_frames: int = 300,
                frame50: bool = True, progress: bool = True, strict: bool = False) -> PKUReport:
    """PKU-MMD part I/II -> ``out_dir/{protocol}/{train,val}_data.npy`` + ``_label.pkl`` (+ frame50).

    ``split_file``: a path, a list of paths or ``{protocol: path}``; the protocol name comes from
    the file name (``cross-subject`` -> xsub, ``cross-view`` -> xview). Labels = class - 1.
    Actions longer than ``max_frames`` keep their central frames (AimCLR's PKU reader). Videos
    are parsed once into ``out_dir/_parsed`` (resumable). Skipped items are counted in the report.
    A video whose skeleton or label file is malformed is skipped and listed with its error
    (``skipped_malformed``; parsed again on the next run); ``strict=True`` raises the
    ``DataFormatError`` of the first one instead.
    Deviation: AimCLR puts videos listed in neither split line into "val"; here they are skipped.
    """
    from tqdm.auto import tqdm

    if part not in VIDEO_NAME:
        raise ValueError(f"prepare_pku: part must be 1 or 2, got {part!r}")
    if isinstance(split_file, dict):
        splits = {k: Path(v) for k, v in split_file.items()}
    else:
        files = [split_file] if isinstance(split_file, (str, os.PathLike)) else list(split_file)
        splits = {protocol_name(f): Path(f) for f in files}
    split_lists = {p: read_split_file(f) for p, f in splits.items()}
    skeleton_dir, label_dir, out_dir = Path(skeleton_dir), Path(label_dir), Path(out_dir)
    cache = out_dir / "_parsed"
    cache.mkdir(parents=True, exist_ok=True)
    rep = PKUReport(part=part, out_dir=str(out_dir))

    videos = []
    for lab in sorted(label_dir.glob("*.txt")):
        rep.videos_found += 1
        v = lab.stem
        if not VIDEO_NAME[part].match(v):
            rep.unrecognised_videos.append(v)
        elif not (skeleton_dir / lab.name).exists():
            rep.videos_without_skeleton.append(v)
        else:
            videos.append(v)
    todo = [v for v in videos if not (cache / f"{v}.npz").exists()]
    rep.parsed_cached = len(videos) - len(todo)
    for v in tqdm(todo, desc="parse PKU-MMD", unit="video", disable=not progress):
        try:
            _parse_video(skeleton_dir / f"{v}.txt", label_dir / f"{v}.txt", cache / f"{v}.npz")
        except DataFormatError as e:
            if strict:
                raise
            rep.skipped_malformed[v] = str(e)
    rep.parsed_now = len(todo) - len(rep.skipped_malformed)
    videos = [v for v in videos if v not in rep.skipped_malformed]

    # Per action: (video, index in the video, name, label, offset, length)
    actions = []
    for v in videos:
        with np.load(cache / f"{v}.npz", allow_pickle=False) as z:
            lengths, rows, clipped, x = z["lengths"], z["rows"], z["clipped"], z["x"]
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        for k, (row, length, off, clip) in enumerate(zip(rows, lengths, offsets, clipped)):
            name = action_name(v, LabelRow(*row, 0.0), k + 1, part)
            if length == 0 or not x[:, off:off + length].any():
                rep.skipped_empty_actions.append(name)
                continue
            if clip:
                rep.clipped_actions.append(name)
            actions.append((v, name, int(row[0]) - 1, int(off), int(length)))
    rep.actions = len(actions)

    loaded = {}

    def load(v, off, length):
        if v not in loaded:  # actions come grouped by video: keep one video in memory
            loaded.clear()
            with np.load(cache / f"{v}.npz", allow_pickle=False) as z:
                loaded[v] = z["x"]
        return loaded[v][:, off:off + length]

    cropped = set()
    for proto, (train, test) in split_lists.items():
        train, test = set(train), set(test)
        rep.videos_not_in_split[proto] = sorted(v for v in videos if v not in train and v not in test)
        rep.splits[proto] = {}
        for pname, members in (("train", train), ("val", test)):
            sel = [a for a in actions if a[0] in members]
            bar = tqdm(total=len(sel), desc=f"write {proto}/{pname}", unit="action", disable=not progress)
            res = write_stgcn_part(out_dir / proto, pname, [a[1] for a in sel], [a[2] for a in sel],
                                   lambda i, sel=sel: load(sel[i][0], sel[i][3], sel[i][4]),
                                   (3, max_frames, 25, 2), crop="center",
                                   frame50_folder=(out_dir / "frame50" / proto) if frame50 else None,
                                   progress=bar)
            bar.close()
            cropped.update(n[: -len(".skeleton")] for n in res["cropped"])
            rep.splits[proto][pname] = len(sel)
    rep.cropped_actions = sorted(cropped)
    (out_dir / "prepare_report.json").write_text(json.dumps(asdict(rep), indent=1))
    return rep


def cli_prepare(argv: list[str]) -> int:
    """``skelcl prepare-pku --skeletons DIR --labels DIR --split FILE [FILE] --out DIR --part 1``."""
    ap = argparse.ArgumentParser(prog="skelcl prepare-pku", description=prepare_pku.__doc__.split("\n")[0])
    ap.add_argument("--skeletons", required=True, help="folder of per-video skeleton .txt files")
    ap.add_argument("--labels", required=True, help="folder of per-video label .txt (CSV) files")
    ap.add_argument("--split", nargs="+", required=True,
                    help="official split file(s): cross-subject.txt cross-view.txt (part II: *_v2.txt)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--part", type=int, choices=(1, 2), default=1)
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--no-frame50", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--strict", action="store_true",
                    help="stop at the first malformed file instead of skipping and reporting it")
    a = ap.parse_args(argv)
    try:
        rep = prepare_pku(a.skeletons, a.labels, a.split, a.out, a.part, a.max_frames,
                          not a.no_frame50, progress=not a.quiet, strict=a.strict)
    except DataFormatError as e:
        print(f"skelcl prepare-pku: {e}", file=sys.stderr)
        return 1
    print(rep)
    return 0
