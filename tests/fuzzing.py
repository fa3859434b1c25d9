"""Fuzzing the readers: valid seed files, mutations, independent oracles, one classified outcome.

Every format has
- a valid seed (a few small files written from a fixed random generator),
- ``mutate(rng, seed) -> {file name: bytes}``: one to three edits drawn from ``rng`` (byte
  flips, truncation, a number added to or removed from a line, a number moved to the next line,
  swapped or repeated lines, weird numbers, huge counts, structural edits of the decoded
  object),
- ``load(folder)``: the public reader under test,
- ``oracle(folder)``: an independent, deliberately simple re-reading of the same files by the
  format's written rules, returning the data they hold or ``INVALID``.

``run_case`` writes the mutated files and classifies what the reader did:

- ``clear_error``: ``DataFormatError`` naming the file, and the oracle agrees the input is bad;
- ``accepted_as_written``: the reader returned exactly what the oracle reads;
- ``not_found``: an ``OSError``, or the ``KeyError`` for a checkpoint name the manifest does not
  list (a mutation that renames a referenced file or an entry, say);
- ``valid_refused``: ``DataFormatError`` although the oracle reads the input as valid;
- ``other_exception``: any other exception, or an error message without the file name;
- ``silently_accepted``: the reader returned data the oracle rejects or reads differently.

The last three should never happen. Used by ``tests/test_fuzz_readers.py`` and
``benchmarks/fuzz_readers.py``.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import math
import pickle
import random
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from skelcl_lib import checkpoints as C
from skelcl_lib.data.formats import load_ctrgcn_npz, load_stgcn
from skelcl_lib.data.ntu import read_ntu_skeleton
from skelcl_lib.data.nucla import read_nucla_json
from skelcl_lib.data.pku import read_pku_skeleton
from skelcl_lib.errors import DataFormatError

INVALID = object()
OUTCOMES = ("clear_error", "accepted_as_written", "not_found", "valid_refused", "other_exception",
            "silently_accepted")
BAD_OUTCOMES = ("valid_refused", "other_exception", "silently_accepted")

WEIRD = ["nan", "NaN", "inf", "-inf", "Infinity", "1_0", "\u0661\u0662", "0x1F", "1e999", "1e39",
         "-1e39", "-0", "+1", ".5", "5.", "1e", "--1", "1,5", "\uff12", "1.0.0", "2.5", "3", "7", "-1",
         str(2 ** 64), str(2 ** 63), "99999999999", "0", "1e-400", "1e308", "1E5", "0.0", "01", "2",
         "1", "25", "26", "10001", "999999999999"]
WHITESPACE = ["\t", "\x0b", "\xa0", "\r", "  ", "\u2003", "\x0c", "\x1c", "\x00"]


# ---------------------------------------------------------------- generic mutations

def mutate_bytes(rng: random.Random, data: bytes, head: int | None = None) -> bytes:
    """One byte-level edit; with ``head`` the edit lands in the first ``head`` bytes half the time."""
    b = bytearray(data)
    hi = len(b) if not head or rng.random() < 0.5 else min(head, len(b))
    op = rng.choice(["flip", "flip", "set", "insert", "delete", "truncate", "duplicate"])
    if not b:
        return bytes([rng.randrange(256)])
    i = rng.randrange(max(1, hi))
    if op == "flip":
        b[i] ^= 1 << rng.randrange(8)
    elif op == "set":
        b[i] = rng.choice([0, 0xFF, 0x7F, 0x80, ord("9"), ord(" "), ord("\n"), rng.randrange(256)])
    elif op == "insert":
        b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif op == "delete":
        del b[i:i + rng.randint(1, 8)]
    elif op == "truncate":
        del b[rng.randrange(len(b)):]
    else:
        j = rng.randrange(len(b))
        b[j:j] = b[i:i + rng.randint(1, 64)]
    return bytes(b)


def _token_spans(line: str):
    return [m.span() for m in re.finditer(r"[^ \t]+", line)]


def mutate_text(rng: random.Random, text: str) -> str:
    """One line- or character-level edit of a text file."""
    lines = text.split("\n")
    op = rng.choice(["add_number", "remove_number", "shift", "shift", "swap", "delete_line",
                     "duplicate_line", "blank_line", "weird", "weird", "weird", "count", "truncate",
                     "whitespace", "digit", "digit", "digit", "crlf", "trailing", "bom"])
    i = rng.randrange(len(lines))
    spans = _token_spans(lines[i])
    if op == "add_number":
        k = rng.randint(0, len(spans))
        tok = lines[i].split(" ")
        tok.insert(min(k, len(tok)), rng.choice(["0.5", "1", "2", "-0.25"] + WEIRD[:6]))
        lines[i] = " ".join(tok)
    elif op == "remove_number" and spans:
        a, b = rng.choice(spans)
        lines[i] = (lines[i][:a] + lines[i][b:]).replace("  ", " ", 1)
    elif op == "shift" and i + 1 < len(lines) and spans:
        a, b = spans[-1]
        moved = lines[i][a:b]
        lines[i] = lines[i][:a].rstrip(" ")
        lines[i + 1] = moved + " " + lines[i + 1]
    elif op == "swap" and len(lines) > 1:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "delete_line":
        del lines[i]
    elif op == "duplicate_line":
        lines.insert(i, lines[i])
    elif op == "blank_line":
        lines.insert(i, rng.choice(["", " ", "\t"]))
    elif op == "weird" and spans:
        a, b = rng.choice(spans)
        lines[i] = lines[i][:a] + rng.choice(WEIRD) + lines[i][b:]
    elif op == "count":
        singles = [k for k, ln in enumerate(lines) if len(_token_spans(ln)) == 1]
        if singles:
            k = rng.choice(singles)
            lines[k] = rng.choice(["0", "-1", "7", "6", "10001", "999999999999", "24", "26", "3 3",
                                   "+2", "2.0", str(2 ** 70), "1e3"])
    elif op == "truncate":
        return text[:rng.randrange(len(text) + 1)]
    elif op == "whitespace":
        s = "\n".join(lines)
        k = rng.randrange(len(s) + 1)
        return s[:k] + rng.choice(WHITESPACE) + s[k:]
    elif op == "digit":
        s = "\n".join(lines)
        digits = [k for k, c in enumerate(s) if c.isdigit()]
        if digits:
            k = rng.choice(digits)
            s = s[:k] + str(rng.randrange(10)) + s[k + 1:]
        return s
    elif op == "crlf":
        return "\r\n".join(lines)
    elif op == "trailing":
        return "\n".join(lines) + rng.choice(["\n", "\n\n", " \n\t\n", "\r\n"])
    elif op == "bom":
        return "\ufeff" + "\n".join(lines)
    return "\n".join(lines)


def mutate_text_file(rng: random.Random, text: str) -> bytes:
    """One to three text edits, sometimes followed by a byte edit."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        text = mutate_text(rng, text)
    data = text.encode("utf-8")
    if rng.random() < 0.2:
        data = mutate_bytes(rng, data)
    return data


# ---------------------------------------------------------------- independent text rules

_NUM_CHARS = set("0123456789+-.eE")


def o_number(tok: str):
    """A plain decimal number -> float, else INVALID (overflow included)."""
    if not tok or not set(tok) <= _NUM_CHARS or not any(c.isdigit() for c in tok):
        return INVALID
    try:
        v = float(tok)
    except ValueError:
        return INVALID
    return v if math.isfinite(v) else INVALID


def o_lines(raw: bytes):
    """Decoded lines without line ends and without trailing blank lines, or INVALID."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return INVALID
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    while lines and not lines[-1].strip(" \t\r"):
        lines.pop()
    return lines


def o_tokens(line: str) -> list[str]:
    return re.findall(r"[^ \t]+", line)


def o_f32(values):
    a = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore"):
        b = a.astype(np.float32)
    return b if np.isfinite(b).all() else INVALID


# ---------------------------------------------------------------- NTU .skeleton

def ntu_seed(rng: random.Random) -> dict[str, bytes]:
    g = np.random.default_rng(rng.randrange(2 ** 32))
    out = ["4"]
    for nb in (1, 2, 0, 3):
        out.append(str(nb))
        for b in range(nb):
            out.append(f"{72057594037931101 + b} 0 1 1 1 1 0 0.02764709 -0.05745083 2")
            out.append("25")
            for j in range(25):
                vals = list(g.normal(0, 1, 3)) + list(g.uniform(0, 500, 4)) + list(g.normal(size=4))
                out.append(" ".join(f"{v:.7g}" for v in vals) + f" {int(g.integers(0, 3))}")
    return {"a.skeleton": ("\n".join(out) + "\n").encode()}


def ntu_oracle(folder: Path):
    lines = o_lines((folder / "a.skeleton").read_bytes())
    if lines is INVALID:
        return INVALID
    pos = 0

    def take():
        nonlocal pos
        if pos >= len(lines):
            raise IndexError
        pos += 1
        return o_tokens(lines[pos - 1])

    def count(limit):
        tok = take()
        if len(tok) != 1 or not re.fullmatch(r"\+?[0-9]+", tok[0], re.ASCII) or int(tok[0]) > limit:
            raise ValueError
        return int(tok[0])

    try:
        frames = []
        for _ in range(count(10_000)):
            bodies = []
            for _ in range(count(6)):
                body = take()
                if len(body) != 10 or not all(re.fullmatch(r"[0-9]+", t, re.ASCII) for t in body[:7]) \
                        or int(body[0]) >= 2 ** 64 or body[9] not in ("0", "1", "2") \
                        or INVALID in (o_number(body[7]), o_number(body[8])):
                    raise ValueError
                if count(25) != 25:
                    raise ValueError
                joints = []
                for _ in range(25):
                    tok = take()
                    if len(tok) != 12 or tok[11] not in ("0", "1", "2"):
                        raise ValueError
                    nums = [o_number(t) for t in tok[:11]]
                    if INVALID in nums:
                        raise ValueError
                    joints.append(nums[:3])
                bodies.append(joints)
            frames.append(bodies)
        if pos != len(lines) or not frames or not any(frames):
            raise ValueError
    except (IndexError, ValueError):
        return INVALID
    x = np.zeros((3, len(frames), 25, 2), np.float32)
    for t, bodies in enumerate(frames):
        for m, joints in enumerate(bodies[:2]):
            xyz = o_f32(joints)
            if xyz is INVALID:
                return INVALID
            x[:, t, :, m] = xyz.T
    return INVALID if not x.any() else x


def ntu_load(folder: Path):
    return read_ntu_skeleton(folder / "a.skeleton")


# ---------------------------------------------------------------- PKU-MMD skeleton text

def pku_seed(rng: random.Random) -> dict[str, bytes]:
    g = np.random.default_rng(rng.randrange(2 ** 32))
    rows = g.normal(0, 1, (6, 150)).round(5)
    rows[3:, 75:] = 0
    return {"0002-L.txt": ("\n".join(" ".join(f"{v:g}" for v in r) for r in rows) + "\n").encode()}


def pku_oracle(folder: Path):
    lines = o_lines((folder / "0002-L.txt").read_bytes())
    if lines is INVALID or not lines:
        return INVALID
    rows = []
    for ln in lines:
        tok = o_tokens(ln)
        nums = [o_number(t) for t in tok]
        if len(tok) != 150 or INVALID in nums:
            return INVALID
        rows.append(nums)
    return o_f32(rows)


def pku_load(folder: Path):
    return read_pku_skeleton(folder / "0002-L.txt")


# ---------------------------------------------------------------- N-UCLA json

ACTIONS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 8: 7, 9: 8, 11: 9, 12: 10}


def nucla_seed(rng: random.Random) -> dict[str, bytes]:
    g = np.random.default_rng(rng.randrange(2 ** 32))
    d = {"file_name": "a08_s03_e01_v02", "skeletons": g.normal(0, 1, (3, 20, 3)).round(6).tolist(),
         "label": 7}
    return {"a08_s03_e01_v02.json": json.dumps(d).encode()}


def _nucla_structural(rng: random.Random, d: dict) -> dict:
    sk = d["skeletons"]
    t, j, c = rng.randrange(len(sk)), rng.randrange(20), rng.randrange(3)
    op = rng.choice(["value", "value", "value", "joint", "frame", "key", "label", "name", "nest"])
    if op == "value":
        sk[t][j][c] = rng.choice(["1e3", "0.5", True, False, None, 1e300, 1e39, 10 ** 30, -0.0, 3,
                                  [0.5], {"x": 1}, 2 ** 70, 1.5e-45])
    elif op == "joint":
        sk[t][j] = rng.choice([[0.1, 0.2], [0.1, 0.2, 0.3, 0.4], [], "x", 0.5])
    elif op == "frame":
        if rng.random() < 0.5:
            sk[t] = sk[t][:rng.randrange(20)] if rng.random() < 0.5 else sk[t] + [[0.0, 0.0, 0.0]]
        else:
            d["skeletons"] = rng.choice([[], {}, "x", sk[:1], sk + sk])
    elif op == "key":
        del d[rng.choice(list(d))]
    elif op == "label":
        d["label"] = rng.choice([0, 1, 7, 8, 10, 11, -1, 7.0, "7", True, None, 2 ** 70])
    elif op == "name":
        d["file_name"] = rng.choice(["a08_s03_e01_v02\n", "a01_s03_e01_v02", "a8_s03_e01_v02",
                                     "a\u0660\u0668_s03_e01_v02", "", 3, "a08_s03_e01_v02 "])
    else:
        d["skeletons"] = [[[[0.5] * 3] * 20]] * 2
    return d


def nucla_mutate(rng: random.Random, seed: dict[str, bytes]) -> dict[str, bytes]:
    name, raw = next(iter(seed.items()))
    if rng.random() < 0.45:
        d = _nucla_structural(rng, json.loads(raw))
        text = json.dumps(d)
        if rng.random() < 0.3:
            text = mutate_text(rng, text)
        return {name: text.encode("utf-8")}
    if rng.random() < 0.1:
        return {name: rng.choice([b"[" * 50000 + b"]" * 50000, b'{"a": NaN}',
                                  raw.replace(b'"label": 7', b'"label": 7, "label": 8'),
                                  raw.replace(b"0.", b"NaN", 1), b"9" * 5000])}
    return {name: mutate_text_file(rng, raw.decode())}


def nucla_oracle(folder: Path):
    raw = (folder / "a08_s03_e01_v02.json").read_bytes()
    try:
        pairs_ok = True

        def hook(pairs):
            nonlocal pairs_ok
            if len({k for k, _ in pairs}) != len(pairs):
                pairs_ok = False
            return dict(pairs)

        def no_constant(_):
            raise ValueError

        d = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=hook, parse_constant=no_constant)
    except (ValueError, RecursionError):
        return INVALID
    if not pairs_ok or not isinstance(d, dict) or not {"file_name", "skeletons", "label"} <= set(d):
        return INVALID
    name, label, sk = d["file_name"], d["label"], d["skeletons"]
    m = re.fullmatch(r"a([0-9]{2})_s([0-9]{2})_e([0-9]{2})_v([0-9]{2})", name) if isinstance(name, str) else None
    if not m or type(label) is not int or ACTIONS.get(int(m.group(1))) != label:
        return INVALID
    if type(sk) is not list or not 1 <= len(sk) <= 10_000:
        return INVALID
    for fr in sk:
        if type(fr) is not list or len(fr) != 20:
            return INVALID
        for p in fr:
            if type(p) is not list or len(p) != 3 or any(type(v) not in (int, float) for v in p):
                return INVALID
    try:
        flat = [float(v) for fr in sk for p in fr for v in p]
    except OverflowError:
        return INVALID
    x = o_f32(flat)
    return INVALID if x is INVALID else (name, x.reshape(len(sk), 20, 3), label - 1)


def nucla_load(folder: Path):
    return read_nucla_json(folder / "a08_s03_e01_v02.json")


def nucla_same(got, exp) -> bool:
    return got[0] == exp[0] and got[2] == exp[2] and np.array_equal(got[1], exp[1])


# ---------------------------------------------------------------- st-gcn .npy + label .pkl

def npy_bytes(header: str, data: bytes, version: int = 1) -> bytes:
    h = header.encode("latin1")
    pre = 10 if version == 1 else 12
    h += b" " * ((64 - (pre + len(h) + 1) % 64) % 64) + b"\n"
    size = len(h).to_bytes(2 if version == 1 else 4, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + data


def stgcn_seed(rng: random.Random) -> dict[str, bytes]:
    g = np.random.default_rng(rng.randrange(2 ** 32))
    x = g.normal(0, 1, (2, 3, 4, 25, 2)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, x)
    names = ["S001C001P001R001A001.skeleton", "S002C002P003R001A005.skeleton"]
    return {"train_data.npy": buf.getvalue(), "train_label.pkl": pickle.dumps((names, [0, 4]), protocol=4)}


SHAPES = ["(2, 3, 4, 25, 2)", "(1000000000, 3, 4, 25, 2)", "(0, 3, 4, 25, 2)", "(2, 3, 0, 25, 2)",
          "(2, 3, 4, 25, 0)", "(2, 2, 4, 25, 2)", "(2, 3, 4, 17, 2)", "(2, 3, 4, 25)", "(2, 3, 4, 25, -2)",
          "(2, 3, 4, 25, 2**70)", "(2, 3, 4, 25, 2, 1)", "(4, 3, 2, 25, 2)", "(2, 3, 4, 20, 2)",
          "(1, 3, 8, 25, 2)", "((2,), 3, 4, 25, 2)", "[2, 3, 4, 25, 2]", "(2, 3, 4, 25, 2.0)"]
DESCRS = ["<f4", "<f4", "<f8", "<i4", "|O", ">f4", "<f2", "|b1", "f4", "float32", "<c8", "<U1", "x"]


def _stgcn_npy(rng: random.Random, raw: bytes) -> bytes:
    data = raw[128:]
    op = rng.choice(["bytes", "bytes", "header", "header", "header", "nan", "data_len", "version"])
    if op == "bytes":
        return mutate_bytes(rng, raw, head=128)
    if op == "header":
        descr, shape, fo = rng.choice(DESCRS), rng.choice(SHAPES), rng.choice(["False", "False", "True"])
        body = rng.choice([f"{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, }}",
                           f"{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, 'x': 1}}",
                           f"{{'descr': '{descr}', 'shape': {shape}}}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(" * 60 + ")" * 60 + "}",
                           "not a dict"])
        return npy_bytes(body, data)
    if op == "nan":
        a = bytearray(data)
        k = rng.randrange(len(a) // 4) * 4
        a[k:k + 4] = np.array([rng.choice([np.nan, np.inf, -np.inf, 1e38, -0.0])], "<f4").tobytes()
        return raw[:128] + bytes(a)
    if op == "data_len":
        return raw[:rng.randrange(len(raw))] if rng.random() < 0.5 else raw + b"\0" * rng.randint(1, 9)
    return raw[:6] + bytes([rng.choice([0, 2, 3, 9]), 0]) + raw[8:]


def _stgcn_pkl(rng: random.Random, raw: bytes) -> bytes:
    if rng.random() < 0.4:
        return mutate_bytes(rng, raw)
    names = ["S001C001P001R001A001.skeleton", "S002C002P003R001A005.skeleton"]
    labels = rng.choice([[0, 4], [0, -1], [0, 10 ** 12], [0, 2 ** 70], [0, 1.5], [0, True], [0, "3"],
                         [np.int64(1), np.int32(2)], np.array([3, 999]), np.array([1.0, 2.0]), [0],
                         [0, 4, 5], (7, 8), [0, 1000], np.array([[1], [2]]), [0, None]])
    names = rng.choice([names, names, [b"S001C001P001R001A001", "x"], [b"\xff\xfe", "x"], [1, 2],
                        names[:1], np.array(names), "ab"])
    obj = rng.choice([(names, labels), (names, labels), [names, labels], {"a": 1}, (names,),
                      (names, labels, 1), labels])
    return pickle.dumps(obj, protocol=rng.choice([0, 2, 4, 5]))


def stgcn_mutate(rng: random.Random, seed: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(seed)
    if rng.random() < 0.6:
        out["train_data.npy"] = _stgcn_npy(rng, seed["train_data.npy"])
    else:
        out["train_label.pkl"] = _stgcn_pkl(rng, seed["train_label.pkl"])
    return out


class _OracleUnpickler(pickle.Unpickler):
    OK = {("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "scalar"),
          ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "_reconstruct"),
          ("numpy._core.multiarray", "_reconstruct"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.OK:
            raise pickle.UnpicklingError(f"{module}.{name}")
        return super().find_class(module, name)


def o_labels(raw: bytes, n: int):
    try:
        obj = _OracleUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception:  # the oracle only needs to know that the pickle is unreadable
        return INVALID
    if not isinstance(obj, (tuple, list)) or len(obj) != 2:
        return INVALID
    names, labels = obj
    if isinstance(names, np.ndarray) and names.dtype.kind == "U" and names.ndim == 1:
        names = [str(v) for v in names]
    if not isinstance(names, (list, tuple)):
        return INVALID
    out_names = []
    for v in names:
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                return INVALID
        if not isinstance(v, str):
            return INVALID
        out_names.append(v)
    if isinstance(labels, np.ndarray):
        if labels.dtype.kind not in "iu" or labels.ndim != 1:
            return INVALID
        labels = labels.tolist()
    if not isinstance(labels, (list, tuple)):
        return INVALID
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) for v in labels):
        return INVALID
    labels = [int(v) for v in labels]
    if any(not 0 <= v < 1000 for v in labels) or not len(out_names) == len(labels) == n:
        return INVALID
    return out_names, labels


def o_npy(raw: bytes, shape_rule: Callable[[tuple], bool], dtype_rule: Callable[[np.dtype], bool]):
    """Independent .npy reading: magic, version, header dict, exact data length."""
    if raw[:6] != b"\x93NUMPY" or len(raw) < 10:
        return INVALID
    major = raw[6]
    if raw[7] != 0:                       # numpy writes and reads only versions 1.0, 2.0 and 3.0
        return INVALID
    if major == 1:
        hl, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3) and len(raw) >= 12:
        hl, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        return INVALID
    try:
        header = ast.literal_eval(raw[start:start + hl].decode("latin1" if major < 3 else "utf-8"))
        if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
            return INVALID
        dtype = np.dtype(header["descr"])
    except Exception:  # any unreadable header is simply invalid for the oracle
        return INVALID
    shape, fo = header["shape"], header["fortran_order"]
    if not isinstance(fo, bool) or not isinstance(shape, tuple) \
            or not all(type(k) is int and k >= 0 for k in shape) or not dtype_rule(dtype) \
            or not shape_rule(shape):
        return INVALID
    data = raw[start + hl:]
    if len(data) != math.prod(shape) * dtype.itemsize:
        return INVALID
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fo else "C")


def stgcn_oracle(folder: Path):
    x = o_npy((folder / "train_data.npy").read_bytes(),
              lambda s: len(s) == 5 and s[1] == 3 and s[3] in (20, 25) and 0 not in s,
              lambda d: d == np.float32)
    if x is INVALID or not np.isfinite(x).all():
        return INVALID
    lab = o_labels((folder / "train_label.pkl").read_bytes(), x.shape[0])
    if lab is INVALID:
        return INVALID
    return x, [n[:-9] if n.endswith(".skeleton") else n for n in lab[0]], lab[1]


def stgcn_load(folder: Path):
    return load_stgcn(folder / "train_data.npy", folder / "train_label.pkl")


def stgcn_same(got, exp) -> bool:
    x, names, labels = exp
    return np.array_equal(np.asarray(got.x), x) and got.names == names and got.y.tolist() == labels


# ---------------------------------------------------------------- CTR-GCN npz

def _npz(members: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **members)
    return buf.getvalue()


def ctrgcn_seed(rng: random.Random) -> dict[str, bytes]:
    g = np.random.default_rng(rng.randrange(2 ** 32))
    x = g.normal(0, 1, (3, 4, 150)).astype(np.float32)
    y = np.eye(5, dtype=np.float32)[[0, 3, 4]]
    return {"NTU60_CS.npz": _npz({"x_train": x, "y_train": y, "x_test": x[:1], "y_test": y[:1]})}


def ctrgcn_mutate(rng: random.Random, seed: dict[str, bytes]) -> dict[str, bytes]:
    raw = seed["NTU60_CS.npz"]
    if rng.random() < 0.5:
        return {"NTU60_CS.npz": mutate_bytes(rng, raw)}
    with np.load(io.BytesIO(raw)) as z:
        m = {k: z[k] for k in z.files}
    x, y = m["x_train"], m["y_train"]
    op = rng.choice(["x_shape", "x_value", "x_dtype", "y_onehot", "y_int", "missing", "object"])
    if op == "x_shape":
        m["x_train"] = rng.choice([x[:, :, :75], x[:0], x[:, :0], x.reshape(3, 2, 300), x[..., None], x[:2]])
    elif op == "x_value":
        x = x.copy()
        x[rng.randrange(3), rng.randrange(4), rng.randrange(150)] = rng.choice([np.nan, np.inf, -np.inf, 1.0])
        m["x_train"] = x
    elif op == "x_dtype":
        m["x_train"] = x.astype(rng.choice([np.float64, np.float16, np.int64, np.bool_]))
    elif op == "y_onehot":
        y = y.copy()
        y[rng.randrange(3), rng.randrange(5)] = rng.choice([0.5, 2.0, 1.0, 0.0, np.nan, -1.0])
        m["y_train"] = y
    elif op == "y_int":
        m["y_train"] = rng.choice([np.array([0, 3, 4]), np.array([0, -1, 2]), np.array([0, 10 ** 12, 1]),
                                   np.array([0.0, 1.0, 2.0]), np.array([0, 1]), np.array([0, 999, 1]),
                                   np.array([0, 1000, 1]), np.zeros((3, 0)), np.array([True, False, True])])
    elif op == "missing":
        del m[rng.choice(["x_train", "y_train"])]
    else:
        m["y_train"] = np.array([[1], ["a"], [None]], dtype=object)
    return {"NTU60_CS.npz": _npz(m)}


def ctrgcn_oracle(folder: Path):
    try:
        with zipfile.ZipFile(folder / "NTU60_CS.npz") as zf:
            members = {}
            for key in ("x_train", "y_train"):
                with zf.open(f"{key}.npy") as f:
                    members[key] = f.read()
    except Exception:  # an unreadable archive is invalid for the oracle
        return INVALID
    x = o_npy(members["x_train"], lambda s: len(s) == 3 and s[2] == 150 and 0 not in s,
              lambda d: d.kind == "f")
    y = o_npy(members["y_train"], lambda s: len(s) in (1, 2), lambda d: d.kind in "fiu")
    if x is INVALID or y is INVALID or not np.isfinite(x).all():
        return INVALID
    n = x.shape[0]
    if y.ndim == 2:
        if y.shape[0] != n or y.shape[1] == 0 or not np.all((y == 0) | (y == 1)) or not np.all(y.sum(1) == 1):
            return INVALID
        labels = y.argmax(1)
    else:
        if y.dtype.kind not in "iu" or len(y) != n or (y < 0).any() or (y >= 1000).any():
            return INVALID
        labels = y
    return x.reshape(n, x.shape[1], 2, 25, 3).transpose(0, 4, 1, 3, 2).astype(np.float32), labels.tolist()


def ctrgcn_load(folder: Path):
    return load_ctrgcn_npz(folder / "NTU60_CS.npz", "train")


def ctrgcn_same(got, exp) -> bool:
    return np.array_equal(got.x, exp[0]) and got.y.tolist() == exp[1]


# ---------------------------------------------------------------- checkpoints and the manifest

_TINY = {"method": "ascal", "model": {"hidden_size": 4, "K": 8, "selected_frames": 10}}
_INFO = {"channels": 3, "frames": 10, "joints": 25, "bodies": 2, "num_train": 20, "num_classes": 3,
         "layout": "ntu25"}


def checkpoint_seed(rng: random.Random) -> dict[str, bytes]:
    torch.manual_seed(rng.randrange(2 ** 31))
    ex = C.build_extractor(_TINY, _INFO)
    with tempfile.TemporaryDirectory() as d:
        path = C.save_encoder(ex, _TINY, _INFO, Path(d) / "enc.pt", name="enc")
        raw = path.read_bytes()
    manifest = {"format": 1, "entries": {"enc": {"file": "enc.pt", "sha256": _sha(raw), "notes": "x",
                                                 "config": _TINY}}}
    return {"enc.pt": raw, "manifest.json": json.dumps(manifest, indent=1).encode()}


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class Payload:
    """A class the safe loader must refuse."""


def checkpoint_mutate(rng: random.Random, seed: dict[str, bytes]) -> dict[str, bytes]:
    raw = seed["enc.pt"]
    if rng.random() < 0.55:
        data = mutate_bytes(rng, raw, head=200)
    else:
        obj = torch.load(io.BytesIO(raw), weights_only=True)
        op = rng.choice(["format", "field", "model", "info", "state", "payload", "type", "sizes", "sizes"])
        if op == "format":
            obj["format"] = rng.choice(["skelcl-encoder-2", None, 1])
        elif op == "field":
            del obj[rng.choice(["config", "data_info", "state_dict"])]
        elif op == "model":
            obj["config"]["model"][rng.choice(["hidden_size", "num_layers"])] = \
                rng.choice([8192, 2 ** 40, 10 ** 6, -1, 0, float("nan"), "big", None, [1, 2]])
        elif op == "info":
            obj["data_info"][rng.choice(list(_INFO))] = rng.choice([10 ** 9, -1, "3", None, 2.5])
        elif op == "state":
            k = rng.choice(list(obj["state_dict"]))
            obj["state_dict"][k] = rng.choice([torch.zeros(1), obj["state_dict"][k].double(), 3,
                                               obj["state_dict"][k] * float("nan")])
        elif op == "sizes":   # values a valid checkpoint may hold, and their limits on both sides
            value = rng.choice([0, 1, 7, 100_000, 100_001, 1 << 20, (1 << 20) + 1, 100_000_000,
                                100_000_001, True, 3.0])
            where = rng.choice([("config", "model", "K"), ("config", "model", "selected_frames"),
                                ("data_info", "frames"), ("data_info", "num_train"),
                                ("data_info", "num_classes"), ("name",)])
            target = obj
            for k in where[:-1]:
                target = target[k]
            target[where[-1]] = value
        elif op == "payload":
            obj["extra"] = Payload()
        else:
            obj = rng.choice([[1, 2], "x", {"format": "skelcl-encoder-1"}])
        buf = io.BytesIO()
        torch.save(obj, buf)
        data = buf.getvalue()
    # the manifest follows the file's checksum, so the load itself is what is tested
    manifest = json.loads(seed["manifest.json"])
    manifest["entries"]["enc"]["sha256"] = _sha(data)
    return {"enc.pt": data, "manifest.json": json.dumps(manifest).encode()}


def checkpoint_load(folder: Path):
    return C.load_pretrained("enc", folder)


def _int_in(v, lo, hi) -> bool:
    return type(v) is int and lo <= v <= hi


def checkpoint_oracle(folder: Path):
    """Valid when torch's safe loader reads the file, the format tag is right, the config and
    data description keep the seed's keys, method and shape-giving values and their other
    sizes are within the documented bounds, and the tensors have the seed's names, shapes and
    dtypes with finite values; the reader must then return exactly those tensors."""
    try:
        obj = torch.load(folder / "enc.pt", weights_only=True)
    except Exception:  # unreadable for torch as well
        return INVALID
    seed = torch.load(io.BytesIO(seed_files(FORMATS["checkpoint"])["enc.pt"]), weights_only=True)
    if not isinstance(obj, dict) or obj.get("format") != "skelcl-encoder-1":
        return INVALID
    cfg, info = obj.get("config"), obj.get("data_info")
    if not isinstance(cfg, dict) or set(cfg) != set(seed["config"]) or cfg["method"] != "ascal":
        return INVALID
    model = cfg["model"]
    if not isinstance(model, dict) or set(model) != set(seed["config"]["model"]) \
            or model["hidden_size"] != seed["config"]["model"]["hidden_size"] \
            or not _int_in(model["K"], 1, 1 << 20) or not _int_in(model["selected_frames"], 1, 100_000):
        return INVALID
    if not isinstance(info, dict) or set(info) != set(seed["data_info"]) \
            or any(info[k] != seed["data_info"][k] for k in ("channels", "joints", "bodies", "layout")) \
            or not _int_in(info["frames"], 1, 100_000) or not _int_in(info["num_train"], 0, 100_000_000) \
            or not _int_in(info["num_classes"], 1, 100_000):
        return INVALID
    state = obj.get("state_dict")
    if not isinstance(state, dict) or set(state) != set(seed["state_dict"]):
        return INVALID
    for k, t in state.items():
        ref = seed["state_dict"][k]
        if not isinstance(t, torch.Tensor) or t.shape != ref.shape or t.dtype != ref.dtype \
                or (t.is_floating_point() and not torch.isfinite(t).all()):
            return INVALID
    return obj


def checkpoint_same(got, exp) -> bool:
    ex, entry = got
    sd = ex.state_dict()
    want = exp["state_dict"]
    return set(sd) == set(want) and all(torch.equal(sd[k], want[k]) for k in sd) \
        and entry["data_info"] == exp["data_info"]


def manifest_mutate(rng: random.Random, seed: dict[str, bytes]) -> dict[str, bytes]:
    out = dict(seed)
    if rng.random() < 0.5:
        out["manifest.json"] = mutate_text_file(rng, seed["manifest.json"].decode())
        return out
    m = json.loads(seed["manifest.json"])
    e = m["entries"]["enc"]
    op = rng.choice(["file", "sha", "drop", "entries", "entry"])
    if op == "file":
        e["file"] = rng.choice(["../enc.pt", "/etc/passwd", "sub/../enc.pt", "./enc.pt", "", 3, None,
                                "enc.pt\x00", "C:\\enc.pt", "..", "enc.pt/"])
    elif op == "sha":
        e["sha256"] = rng.choice([e["sha256"].upper(), e["sha256"][:-1], "", 5, None, "0" * 64])
    elif op == "drop":
        del e[rng.choice(["file", "sha256"])]
    elif op == "entries":
        m["entries"] = rng.choice([[], "x", None, {"enc": []}])
    else:
        m = rng.choice([[], "x", {"format": 1}])
    out["manifest.json"] = json.dumps(m).encode()
    return out


def manifest_oracle(folder: Path):
    """Valid when the entry names this folder's ``enc.pt`` (plainly) with its right checksum."""
    try:
        m = json.loads((folder / "manifest.json").read_bytes().decode("utf-8"))
    except (ValueError, RecursionError):
        return INVALID
    if not isinstance(m, dict) or not isinstance(m.get("entries"), dict):
        return INVALID
    if "enc" not in m["entries"]:
        return "no_entry"
    e = m["entries"]["enc"]
    if not isinstance(e, dict):
        return INVALID
    f = e.get("file")
    if not isinstance(f, str) or not f or f.startswith(("/", "\\")) or ".." in f.split("/") \
            or "\\" in f or "\x00" in f or re.match(r"[A-Za-z]:", f):
        return INVALID
    if not (folder / f).is_file() or (folder / f).resolve() != (folder / "enc.pt").resolve():
        return "missing"
    if e.get("sha256") != _sha((folder / "enc.pt").read_bytes()):
        return INVALID
    return e


def manifest_same(got, exp) -> bool:
    _, entry = got
    return {k: v for k, v in entry.items() if k != "data_info"} == exp


# ---------------------------------------------------------------- the formats and one case


@dataclass
class Format:
    name: str
    seed: Callable[[random.Random], dict[str, bytes]]
    mutate: Callable[[random.Random, dict[str, bytes]], dict[str, bytes]]
    load: Callable[[Path], object]
    oracle: Callable[[Path], object]
    same: Callable[[object, object], bool]
    label: str


def _text_mutator(rng, seed):
    name, raw = next(iter(seed.items()))
    return {name: mutate_text_file(rng, raw.decode())}


FORMATS = {f.name: f for f in [
    Format("ntu", ntu_seed, _text_mutator, ntu_load, ntu_oracle, np.array_equal,
           "NTU `.skeleton` (`read_ntu_skeleton`)"),
    Format("pku", pku_seed, _text_mutator, pku_load, pku_oracle, np.array_equal,
           "PKU-MMD skeleton `.txt` (`read_pku_skeleton`)"),
    Format("nucla", nucla_seed, nucla_mutate, nucla_load, nucla_oracle, nucla_same,
           "N-UCLA `.json` (`read_nucla_json`)"),
    Format("stgcn", stgcn_seed, stgcn_mutate, stgcn_load, stgcn_oracle, stgcn_same,
           "st-gcn `.npy` + label `.pkl` (`load_stgcn`)"),
    Format("ctrgcn", ctrgcn_seed, ctrgcn_mutate, ctrgcn_load, ctrgcn_oracle, ctrgcn_same,
           "CTR-GCN `.npz` (`load_ctrgcn_npz`)"),
    Format("checkpoint", checkpoint_seed, checkpoint_mutate, checkpoint_load, checkpoint_oracle,
           checkpoint_same, "shipped checkpoint `.pt` (`load_pretrained`)"),
    Format("manifest", checkpoint_seed, manifest_mutate, checkpoint_load, manifest_oracle, manifest_same,
           "checkpoint `manifest.json` (`load_pretrained`)"),
]}

_SEEDS: dict[str, dict[str, bytes]] = {}


def seed_files(fmt: Format) -> dict[str, bytes]:
    if fmt.name not in _SEEDS:
        _SEEDS[fmt.name] = fmt.seed(random.Random(f"seed-{fmt.name}"))
    return _SEEDS[fmt.name]


def run_case(fmt: Format, rng: random.Random, folder: Path) -> tuple[str, str]:
    """Mutate the seed with ``rng``, write it to ``folder``, run the reader: (outcome, detail)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in folder.iterdir():
        p.unlink()
    files = fmt.mutate(rng, seed_files(fmt))
    for name, data in files.items():
        (folder / name).write_bytes(data)
    try:
        got = fmt.load(folder)
    except DataFormatError as e:
        if not any(name in str(e) for name in files):
            return "other_exception", f"DataFormatError without a file name: {e}"
        exp = fmt.oracle(folder)
        if exp is INVALID or (fmt.name == "manifest" and exp in ("missing", "no_entry")):
            return "clear_error", str(e)
        return "valid_refused", str(e)
    except OSError as e:
        return "not_found", f"{type(e).__name__}: {e}"
    except KeyError as e:
        if fmt.oracle(folder) == "no_entry":
            return "not_found", f"KeyError: {e}"
        return "other_exception", f"KeyError: {e}"
    except Exception as e:  # the point of the campaign: any other exception type is a finding
        return "other_exception", f"{type(e).__name__}: {e}"
    exp = fmt.oracle(folder)
    if exp is INVALID or isinstance(exp, str):
        return "silently_accepted", "the oracle rejects this input"
    if not fmt.same(got, exp):
        return "silently_accepted", "returned data differs from what the file says"
    return "accepted_as_written", ""
