"""Fuzz campaign over every reader, written as a table.

For each format, N cases: a valid seed file mutated by a seeded generator (byte flips and
truncation, a number added to or removed from a line, a number moved to the next line, swapped
or repeated lines, weird numbers such as ``nan``, ``1_0`` or ``1e999``, huge counts, structural
edits of the decoded object), then read by the public reader and compared with an independent
re-reading (``tests/fuzzing.py``). Outcomes:

- clear error: ``DataFormatError`` naming the file, on input that breaks the format;
- accepted as written: the reader returned exactly what the re-reading says the file holds;
- not found: ``OSError``, or ``KeyError`` for a name the manifest does not list (a mutation
  that renames the entry or the file it names);
- valid refused, other exception, silently accepted: findings; the goal is 0 for all three.

    python benchmarks/fuzz_readers.py                       # 1000 cases per format
    python benchmarks/fuzz_readers.py --cases 200 --formats ntu pku --out -
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fuzzing import BAD_OUTCOMES, FORMATS, OUTCOMES, run_case  # noqa: E402

COLUMNS = {"clear_error": "clear errors", "accepted_as_written": "accepted as written",
           "not_found": "not found (OSError, unknown name)", "valid_refused": "valid input refused",
           "other_exception": "other exceptions", "silently_accepted": "silently accepted"}


def run(formats, cases: int, show: int = 3):
    rows, findings = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in formats:
            fmt = FORMATS[name]
            counts = dict.fromkeys(OUTCOMES, 0)
            t0 = time.perf_counter()
            for i in range(cases):
                outcome, detail = run_case(fmt, random.Random(f"{name}-{i}"), Path(tmp) / name)
                counts[outcome] += 1
                if outcome in BAD_OUTCOMES and sum(f[0] == name for f in findings) < show:
                    findings.append((name, i, outcome, detail))
            rows.append((fmt, counts, time.perf_counter() - t0))
            print(f"{name}: {counts} ({rows[-1][2]:.1f} s)", file=sys.stderr)
    return rows, findings


def table(rows, cases: int) -> str:
    head = "| format | cases | " + " | ".join(COLUMNS.values()) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for fmt, counts, _ in rows:
        lines.append(f"| {fmt.label} | {cases} | " + " | ".join(str(counts[k]) for k in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=1000, help="cases per format")
    ap.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    ap.add_argument("--out", default=str(ROOT / "docs" / "results" / "fuzz_readers.md"),
                    help="markdown file to write, or - for stdout only")
    a = ap.parse_args(argv)
    rows, findings = run(a.formats, a.cases)
    cmd = "python benchmarks/fuzz_readers.py" + (f" --cases {a.cases}" if a.cases != 1000 else "")
    text = (f"# Fuzzing the readers\n\nProduced by `{cmd}` (seeded: case i of format F uses "
            f"`random.Random(\"F-i\")`, so a rerun gives the same table).\n\n"
            "Each case mutates a small valid file (byte flips and truncation, a number added to or "
            "removed from a line, a number moved to the next line, swapped or repeated lines, "
            "weird numbers such as `nan`, `1_0`, `1e999`, huge counts, structural edits of the "
            "decoded object) and reads it with the public reader. The result is compared with an "
            "independent re-reading of the same bytes by the format's written rules "
            "(`tests/fuzzing.py`): *accepted as written* means the reader returned exactly what "
            "that re-reading says the file holds. The last three columns are findings; the goal is "
            "0 in each.\n\n" + table(rows, a.cases) + "\n")
    if findings:
        text += "\nFirst findings:\n\n" + "\n".join(
            f"- {n} case {i}: {o}: {d[:200]}" for n, i, o, d in findings) + "\n"
    print(text)
    if a.out != "-":
        Path(a.out).write_text(text)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
