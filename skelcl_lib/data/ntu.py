"""NTU RGB+D 60/120: the raw ``.skeleton`` reader, the missing-sample lists, the benchmark
splits and ``skelcl prepare-ntu`` (raw files -> st-gcn arrays + AimCLR frame50).

Formats: docs/results/readers.md; pipeline: docs/methods.md §2.1 (st-gcn ``ntu_gendata``) and §2.3.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from ..errors import DataFormatError
from .formats import NTU_NAME, malformed_lines, strip_suffix, write_stgcn_part
from .text import FLOAT, LineReader, explain_line, fields, line_pattern, to_floats

NUM_JOINTS = 25
BODY_FIELDS = ("bodyID", "clippedEdges", "handLeftConfidence", "handLeftState",
               "handRightConfidence", "handRightState", "isRestricted", "leanX", "leanY",
               "trackingState")
JOINT_FIELDS = ("x", "y", "z", "depthX", "depthY", "colorX", "colorY", "orientationW",
                "orientationX", "orientationY", "orientationZ", "trackingState")


class EmptySkeletonError(DataFormatError):
    """A well-formed file without a usable skeleton (0 frames, no body, or all-zero xyz)."""


class NTUBody(NamedTuple):
    body_id: int                 # 64-bit Kinect tracking id, kept exact (st-gcn's float() is not)
    info: tuple[float, ...]      # the 9 other body fields, BODY_FIELDS[1:]
    joints: np.ndarray           # (V, 12) float64, columns JOINT_FIELDS


# ---------------------------------------------------------------- the .skeleton grammar

# Kinect v2 tracks at most 6 bodies; a longer clip than MAX_FRAMES (over 5 minutes at 30 fps;
# NTU clips last seconds) is refused so that a count cannot ask for a huge array.
MAX_BODIES = 6
MAX_FRAMES = 10_000
TRACKING_STATES = (0, 1, 2)  # not tracked, inferred, tracked
_BODY_INT_FIELDS = (1, 2, 3, 4, 5, 6, 9)
_BODY_LINE = line_pattern("[0-9]+", *["[0-9]+"] * 6, FLOAT, FLOAT, "[012]")
_JOINT_LINE = line_pattern(*[FLOAT] * 11, "[012]")
# Fewest characters a record can take: an empty frame "0\n"; a body = its 10-field line
# (19 characters and a line end), the numJoints line and its joint lines of 12 one-character
# fields (24 characters with separators and line end).
_MIN_FRAME_CHARS = 2


def _min_body_chars(num_joints: int) -> int:
    return 20 + len(str(num_joints)) + 1 + num_joints * 24


def _body_line(r: LineReader, what: str) -> tuple[int, tuple[float, ...]]:
    line = r.next(what, f"{len(BODY_FIELDS)} body fields")
    where = f"line {r.lineno} ({what})"
    if not _BODY_LINE.fullmatch(line):
        raise explain_line(r.path, where, line, BODY_FIELDS, int_fields=(0, *_BODY_INT_FIELDS),
                           allowed={9: TRACKING_STATES})
    tok = fields(line)
    body_id = int(tok[0])
    if body_id >= 2 ** 64:
        raise DataFormatError.at(r.path, f"{where}, field 1 (bodyID)", "an unsigned 64-bit integer",
                                 got=tok[0])
    info = tuple(float(t) for t in tok[1:])
    if not all(np.isfinite(info)):
        raise DataFormatError.at(r.path, where, "finite numbers (a value overflows)", got=line)
    return body_id, info


def _joint_block(r: LineReader, num_joints: int, what: str) -> np.ndarray:
    """``num_joints`` joint lines -> (V, 12) float64; each line holds exactly 12 fields."""
    lines = []
    for j in range(num_joints):
        line = r.next(f"joint {j + 1} of {what}", f"{len(JOINT_FIELDS)} joint fields")
        if not _JOINT_LINE.fullmatch(line):
            raise explain_line(r.path, f"line {r.lineno} (joint {j + 1} of {what})", line,
                               JOINT_FIELDS, int_fields=(11,), allowed={11: TRACKING_STATES})
        lines.append(line)
    first = r.lineno - num_joints + 1
    vals = to_floats(r.path, f"lines {first}-{r.lineno} (joints of {what})", " ".join(lines),
                     num_joints * len(JOINT_FIELDS))
    return vals.reshape(num_joints, len(JOINT_FIELDS))


def parse_ntu_skeleton(path, num_joints: int = NUM_JOINTS,
                       max_frames: int = MAX_FRAMES) -> list[list[NTUBody]]:
    """Parse a ``.skeleton`` file (docs/results/readers.md) -> frames, each a list of bodies in file order.

    Strict, record by record: each body line has its 10 fields and each joint line its 12
    (a line is never borrowed from or lent to its neighbour), every number is a plain decimal
    (``skelcl_lib.data.text``), tracking states are 0, 1 or 2, counts are checked against the
    characters left in the file before anything is built from them, and nothing may follow the
    last frame except blank lines. LF and CRLF are accepted. Raises ``DataFormatError`` naming
    the line; ``EmptySkeletonError`` (a subclass) for 0 frames or no body at all.
    """
    r = LineReader(path)
    num_frames = r.count("numFrames", max_frames, _MIN_FRAME_CHARS, reserved=-1)
    frames: list[list[NTUBody]] = []
    any_body = False
    for t in range(num_frames):
        reserved = _MIN_FRAME_CHARS * (num_frames - t - 1) - 1
        nb = r.count(f"numBodies of frame {t + 1}", MAX_BODIES, _min_body_chars(num_joints), reserved)
        bodies = []
        for b in range(nb):
            what = f"body {b + 1} of frame {t + 1}"
            body_id, info = _body_line(r, what)
            nj = r.count(f"numJoints of {what}", num_joints)
            if nj != num_joints:
                raise DataFormatError.at(path, f"line {r.lineno} (numJoints of {what})",
                                         f"{num_joints} joints", got=nj)
            joints = _joint_block(r, num_joints, what)
            bodies.append(NTUBody(body_id, info, joints))
            any_body = True
        frames.append(bodies)
    if not r.at_end():
        line = r.next("after the last frame", "end of file")
        raise DataFormatError.at(path, f"line {r.lineno}", f"end of file after {num_frames} frames",
                                 got=line)
    if num_frames == 0:
        raise EmptySkeletonError.at(path, "line 1 (numFrames)", "at least one frame", got=0)
    if not any_body:
        raise EmptySkeletonError.at(path, "all frames", "at least one body", got="0 bodies in every frame")
    return frames


def read_ntu_skeleton(path, max_bodies: int = 2, num_joints: int = NUM_JOINTS) -> np.ndarray:
    """Read xyz of a ``.skeleton`` file -> (3, T, V, max_bodies) float32, T = numFrames.

    As st-gcn (docs/methods.md §2.1): the first ``max_bodies`` bodies in file order per frame;
    frames with 0 bodies stay zero frames (CTR-GCN/PYSKL drop them instead).
    """
    return _xyz(path, parse_ntu_skeleton(path, num_joints), max_bodies, num_joints)


def _xyz(path, frames, max_bodies, num_joints):
    """Parsed frames -> xyz (3, T, V, max_bodies); an all-zero result is EmptySkeletonError."""
    x = np.zeros((3, len(frames), num_joints, max_bodies), dtype=np.float32)
    for t, bodies in enumerate(frames):
        for m, body in enumerate(bodies[:max_bodies]):
            with np.errstate(over="ignore"):
                x[:, t, :, m] = body.joints[:, :3].T
            if not np.isfinite(x[:, t, :, m]).all():
                raise DataFormatError.at(path, f"x y z of body {m + 1} of frame {t + 1}",
                                         "coordinates within float32 range", got="an overflow")
    if not x.any():
        raise EmptySkeletonError.at(path, "x y z", "a non-zero skeleton", got="all zeros")
    return x


# ---------------------------------------------------------------- names, missing lists, splits

NTU60_XSUB_TRAIN = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
NTU120_XSUB_TRAIN = NTU60_XSUB_TRAIN + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86,
    89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
XVIEW_TRAIN_CAMERAS = (2, 3)
BENCHMARKS = {"ntu60": ("xsub", "xview"), "ntu120": ("xsub", "xset")}


class NTUName(NamedTuple):
    setup: int
    camera: int
    subject: int
    replication: int
    action: int


def parse_ntu_name(name: str) -> NTUName:
    """``'S001C002P003R002A013[.skeleton]'`` -> NTUName(1, 2, 3, 2, 13)."""
    m = NTU_NAME.match(strip_suffix(Path(name).name))
    if not m:
        raise ValueError(f"not an NTU sample name (SsssCcccPpppRrrrAaaa): {name!r}")
    return NTUName(*(int(g) for g in m.groups()))


def ntu_train_mask(names: Sequence[str], protocol: str) -> np.ndarray:
    """Boolean training mask for ``protocol``: "xsub" (NTU-60 and NTU-120 performers, §3.5),
    "xview" (cameras 2, 3) or "xset" (even setups). The NTU-60 training performers are exactly
    the NTU-120 ones numbered <= 40, so one list serves both benchmarks.
    """
    parsed = np.array([parse_ntu_name(n) for n in names], dtype=np.int64).reshape(-1, 5)
    if protocol == "xsub":
        return np.isin(parsed[:, 2], NTU120_XSUB_TRAIN)
    if protocol == "xview":
        return np.isin(parsed[:, 1], XVIEW_TRAIN_CAMERAS)
    if protocol == "xset":
        return parsed[:, 0] % 2 == 0
    raise ValueError(f"unknown NTU protocol {protocol!r}; expected 'xsub', 'xview' or 'xset'")


def in_benchmark(name: str, benchmark: str) -> bool:
    """NTU-60 = actions A001–A060 (setups S001–S017); NTU-120 = everything."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of {sorted(BENCHMARKS)}")
    return benchmark == "ntu120" or parse_ntu_name(name).action <= 60


_LIST_LINE = re.compile(r"^S\d{3}C\d{3}P\d{3}R\d{3}A\d{3}\Z", re.ASCII)


def read_missing_list(path) -> set[str]:
    """Names in an NTU missing-skeleton list: the official files (3-line header) or bare lists.

    Keeps the lines matching ``^S\\d{3}C\\d{3}P\\d{3}R\\d{3}A\\d{3}$`` (after stripping blanks
    and an optional ``.skeleton``); a file with no such line is an error.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")  # a missing file stays OSError
    names = {strip_suffix(ln.strip()) for ln in text.splitlines()}
    names = {n for n in names if _LIST_LINE.match(n)}
    if not names:
        raise DataFormatError.at(path, "lines", "NTU sample names SsssCcccPpppRrrrAaaa, one per line",
                                 got=text[:60])
    return names


# ---------------------------------------------------------------- prepare-ntu


@dataclass
class PrepareReport:
    """What a prepare run found, skipped and wrote (also saved as ``prepare_report.json``)."""

    benchmark: str
    files_found: int = 0
    not_in_benchmark: int = 0
    unrecognised_names: list[str] = field(default_factory=list)
    skipped_missing_list: int = 0
    skipped_no_skeleton: dict[str, str] = field(default_factory=dict)  # name -> reason
    skipped_malformed: dict[str, str] = field(default_factory=dict)    # name -> the error
    parsed_now: int = 0
    parsed_cached: int = 0
    cropped: list[str] = field(default_factory=list)
    extra_bodies: dict[str, int] = field(default_factory=dict)  # name -> most bodies in a frame
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    out_dir: str = ""

    def __str__(self) -> str:
        lines = [f"prepare-{self.benchmark}: {self.files_found} files found -> {self.out_dir}",
                 f"  not in {self.benchmark}: {self.not_in_benchmark}",
                 f"  skipped (published missing list): {self.skipped_missing_list}",
                 f"  skipped (no usable skeleton, detected): {len(self.skipped_no_skeleton)}",
                 f"  skipped (malformed file): {len(self.skipped_malformed)}"
                 + (" -- see prepare_report.json" if self.skipped_malformed else ""),
                 f"  parsed now: {self.parsed_now}, from cache: {self.parsed_cached}"]
        if self.unrecognised_names:
            lines.append(f"  ignored files with non-NTU names: {len(self.unrecognised_names)}")
        if self.extra_bodies:
            lines.append(f"  samples with more bodies than kept (first ones in file order kept): "
                         f"{len(self.extra_bodies)}")
        if self.cropped:
            lines.append(f"  sequences longer than max_frames (cropped): {len(self.cropped)}")
        for s, c in self.splits.items():
            lines.append(f"  {s}: train {c['train']} / val {c['val']}")
        lines += malformed_lines(self.skipped_malformed)
        return "\n".join(lines)


def _parse_to_shard(job):
    """Worker: parse one file into ``cache/{name}.npy`` (or ``.empty``); never raises."""
    path, cache, max_bodies = job
    name = strip_suffix(Path(path).name)
    try:
        frames = parse_ntu_skeleton(path)
        x = _xyz(path, frames, max_bodies, NUM_JOINTS)
    except EmptySkeletonError as e:
        tmp = Path(cache) / f"{name}.empty.tmp"
        tmp.write_text(str(e))
        os.replace(tmp, Path(cache) / f"{name}.empty")
        return name, "empty", str(e)
    except DataFormatError as e:
        return name, "error", str(e)
    most = max(len(b) for b in frames)
    if most > max_bodies:  # recorded before the shard, so a resumed run still reports it
        (Path(cache) / f"{name}.extra").write_text(str(most))
    tmp = Path(cache) / f"{name}.tmp.npy"
    np.save(tmp, x)
    os.replace(tmp, Path(cache) / f"{name}.npy")  # atomic: an interrupted run leaves no half shard
    return name, "ok", ""


def _find_skeleton_files(raw_dirs) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for d in raw_dirs:
        d = Path(d)
        if not d.is_dir():
            raise FileNotFoundError(f"prepare-ntu: raw folder not found: {d}")
        for p in d.rglob("*.skeleton"):
            name = p.stem
            if name in files:
                raise DataFormatError.at(p, "file name", "each sample once across the raw folders",
                                         got=f"duplicate of {files[name]}")
            files[name] = p
    return files


def prepare_ntu(raw_dir, out_dir, benchmark: str = "ntu60", missing_file=None, workers: int = 1,
                frame50: bool = True, max_frames: int = 300, max_bodies: int = 2,
                progress: bool = True, strict: bool = False) -> PrepareReport:
    """Raw NTU ``.skeleton`` files -> ``out_dir/{split}/{train,val}_data.npy`` + label pkl.

    ``raw_dir``: a folder or a list of folders (NTU-120 ships S001–S017 and S018–S032 apart),
    searched recursively. Splits: ntu60 -> xsub, xview; ntu120 -> xsub, xset. With ``frame50``
    also ``out_dir/frame50/{split}/{train,val}_position.npy`` + label pkl (docs/methods.md §2.3).
    Skips the names in ``missing_file`` and files without a usable skeleton (both counted).
    Parsed samples are cached in ``out_dir/_parsed`` so an interrupted run resumes. A malformed
    file is skipped and listed with its error in the report (``skipped_malformed``); it is
    parsed again on the next run, so a re-downloaded file is picked up. ``strict=True`` raises
    the ``DataFormatError`` of the first malformed file instead.
    """
    from tqdm.auto import tqdm

    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of {sorted(BENCHMARKS)}")
    raw_dirs = [raw_dir] if isinstance(raw_dir, (str, os.PathLike)) else list(raw_dir)
    out_dir = Path(out_dir)
    cache = out_dir / "_parsed"
    cache.mkdir(parents=True, exist_ok=True)
    rep = PrepareReport(benchmark=benchmark, out_dir=str(out_dir))

    files = _find_skeleton_files(raw_dirs)
    rep.files_found = len(files)
    missing = read_missing_list(missing_file) if missing_file else set()
    todo, ready = [], []
    for name in sorted(files):
        if not NTU_NAME.match(name):
            rep.unrecognised_names.append(name)
        elif not in_benchmark(name, benchmark):
            rep.not_in_benchmark += 1
        elif name in missing:
            rep.skipped_missing_list += 1
        elif (cache / f"{name}.npy").exists() or (cache / f"{name}.empty").exists():
            ready.append(name)
        else:
            todo.append(name)
    rep.parsed_cached = len(ready)

    jobs = [(str(files[n]), str(cache), max_bodies) for n in todo]
    with tqdm(total=len(jobs), desc="parse .skeleton", unit="file", disable=not progress) as bar:
        def collect(results):
            for name, status, msg in results:
                bar.update(1)
                if status == "error":
                    if strict:
                        raise DataFormatError(msg, path=files[name])
                    rep.skipped_malformed[name] = msg
                else:
                    ready.append(name)

        if workers > 1 and len(jobs) > 1:
            import multiprocessing as mp
            with mp.Pool(workers) as pool:
                collect(pool.imap(_parse_to_shard, jobs, chunksize=8))
        else:
            collect(map(_parse_to_shard, jobs))
    rep.parsed_now = len(jobs) - len(rep.skipped_malformed)

    usable = []
    for name in sorted(ready):
        empty = cache / f"{name}.empty"
        if empty.exists():
            rep.skipped_no_skeleton[name] = empty.read_text()
        else:
            usable.append(name)
            extra = cache / f"{name}.extra"
            if extra.exists():
                rep.extra_bodies[name] = int(extra.read_text())
    labels = np.array([parse_ntu_name(n).action - 1 for n in usable], dtype=np.int64)

    def load(name):
        return np.load(cache / f"{name}.npy", allow_pickle=False)

    cropped = set()
    for split in BENCHMARKS[benchmark]:
        mask = ntu_train_mask(usable, split) if usable else np.zeros(0, bool)
        rep.splits[split] = {}
        for part, m in (("train", mask), ("val", ~mask)):
            idx = np.flatnonzero(m)
            names = [usable[i] for i in idx]
            bar = tqdm(total=len(names), desc=f"write {split}/{part}", unit="sample",
                       disable=not progress)
            res = write_stgcn_part(out_dir / split, part, names, labels[idx].tolist(),
                                   lambda i, names=names: load(names[i]),
                                   (3, max_frames, NUM_JOINTS, max_bodies), crop="first",
                                   frame50_folder=(out_dir / "frame50" / split) if frame50 else None,
                                   progress=bar)
            bar.close()
            cropped.update(res["cropped"])
            rep.splits[split][part] = len(names)
    rep.cropped = sorted(strip_suffix(n) for n in cropped)
    (out_dir / "prepare_report.json").write_text(json.dumps(asdict(rep), indent=1))
    return rep


def cli_prepare(argv: list[str]) -> int:
    """``skelcl prepare-ntu --raw DIR [DIR ...] --out DIR --benchmark ntu60 [--missing FILE]``."""
    ap = argparse.ArgumentParser(prog="skelcl prepare-ntu", description=prepare_ntu.__doc__.split("\n")[0])
    ap.add_argument("--raw", nargs="+", required=True, help="folder(s) holding the .skeleton files")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--benchmark", choices=sorted(BENCHMARKS), default="ntu60")
    ap.add_argument("--missing", default=None,
                    help="the dataset authors' NTU_RGBD[120]_samples_with_missing_skeletons.txt")
    ap.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    ap.add_argument("--no-frame50", action="store_true", help="skip AimCLR's frame50 arrays")
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    ap.add_argument("--strict", action="store_true",
                    help="stop at the first malformed file instead of skipping and reporting it")
    a = ap.parse_args(argv)
    try:
        rep = prepare_ntu(a.raw, a.out, a.benchmark, a.missing, a.workers, not a.no_frame50,
                          a.max_frames, progress=not a.quiet, strict=a.strict)
    except DataFormatError as e:
        print(f"skelcl prepare-ntu: {e}", file=sys.stderr)
        return 1
    print(rep)
    return 0
