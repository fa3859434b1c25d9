"""Build notebooks/NN_name.ipynb from notebooks/src/NN_name.py (percent format), outputs empty.

Cells start with ``# %%`` (code) or ``# %% [markdown]`` (markdown; each line starts with ``# ``).
Hidden solutions are markdown cells holding ``<details><summary>Solution</summary>`` blocks.

    python tools/nbbuild.py            # build all
    python tools/nbbuild.py --check    # exit 1 if a committed .ipynb differs from its source
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"


def parse(text: str) -> list[dict]:
    cells, kind, buf = [], None, []

    def flush():
        if kind is None:
            return
        lines = list(buf)
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            lines = [ln[2:] if ln.startswith("# ") else ln[1:] if ln.startswith("#") else ln
                     for ln in lines]
        src = "\n".join(lines)
        cell = {"cell_type": kind, "metadata": {}, "source": src}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, buf = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            buf.append(line)
    flush()
    return cells


def to_notebook(cells: list[dict]) -> dict:
    out = []
    for i, c in enumerate(cells):
        c = {"id": f"cell-{i:03d}", **c}  # stable ids: rebuilding gives the same file
        src = c["source"].splitlines(keepends=True)
        c["source"] = src
        out.append(c)
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def build(path: pathlib.Path) -> str:
    nb = to_notebook(parse(path.read_text()))
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("names", nargs="*", help="source stems to build (default: all)")
    args = ap.parse_args(argv)
    bad = 0
    for src in sorted(SRC.glob("*.py")):
        if args.names and src.stem not in args.names:
            continue
        target = OUT / (src.stem + ".ipynb")
        text = build(src)
        if args.check:
            if not target.exists() or target.read_text() != text:
                print(f"out of date: {target.relative_to(ROOT)} (run python tools/nbbuild.py)")
                bad += 1
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
