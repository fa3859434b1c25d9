"""Build notebooks/NN_name.ipynb from notebooks/src/NN_name.py (percent format), outputs empty.

Cells start with ``# %%`` (code) or ``# %% [markdown]`` (markdown; each line starts with ``# ``).
Hidden solutions are markdown cells holding ``<details><summary>Solution</summary>`` blocks.

Every notebook opens with the same set-up cell, written once in ``notebooks/src/_setup_cell.py``
(on Google Colab it clones and installs the course; elsewhere it prints one line). The builder
inserts it first and fills in the repository address from ``[project.urls] Repository`` in
``pyproject.toml``, the only place that address is written.

    python tools/nbbuild.py            # build all
    python tools/nbbuild.py --check    # exit 1 if a committed .ipynb differs from its source
                                       # or does not open with the set-up cell
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
SETUP_CELL = SRC / "_setup_cell.py"
URL_MARK = "@REPOSITORY_URL@"
PYPROJECT = ROOT / "pyproject.toml"


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


def repository_url(pyproject: pathlib.Path = PYPROJECT) -> str:
    """``[project.urls] Repository`` of ``pyproject.toml``."""
    try:
        import tomllib
    except ImportError:            # Python 3.10
        import tomli as tomllib
    data = tomllib.loads(pyproject.read_text())
    url = ((data.get("project") or {}).get("urls") or {}).get("Repository")
    if not isinstance(url, str) or not re.match(r"https?://\S+$", url):
        raise SystemExit(f"{pyproject}: field [project.urls] Repository is {url!r}; expected the "
                         f"https address of the course repository")
    return url


def setup_cell(url: str | None = None) -> dict:
    """The set-up cell of every notebook, with the repository address filled in."""
    cells = [c for c in parse(SETUP_CELL.read_text()) if c["cell_type"] == "code"]
    if len(cells) != 1 or URL_MARK not in cells[0]["source"]:
        raise SystemExit(f"{SETUP_CELL}: expected exactly one code cell containing {URL_MARK}")
    cell = cells[0]
    cell["source"] = cell["source"].replace(URL_MARK, url or repository_url())
    return cell


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


def build(path: pathlib.Path, url: str | None = None) -> str:
    nb = to_notebook([setup_cell(url), *parse(path.read_text())])
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def opens_with_setup_cell(notebook_text: str, url: str | None = None) -> bool:
    """Whether a notebook's first cell is the set-up cell (the built one, address included)."""
    cells = json.loads(notebook_text).get("cells") or []
    want = setup_cell(url)
    return bool(cells) and cells[0].get("cell_type") == "code" and \
        "".join(cells[0].get("source", [])) == want["source"]


def sources() -> list[pathlib.Path]:
    """The notebook sources ``NN_name.py`` (``_setup_cell.py`` and other helpers excluded)."""
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("names", nargs="*", help="source stems to build (default: all)")
    args = ap.parse_args(argv)
    bad = 0
    url = repository_url()
    for src in sources():
        if args.names and src.stem not in args.names:
            continue
        target = OUT / (src.stem + ".ipynb")
        text = build(src, url)
        if args.check:
            if not target.exists():
                print(f"missing: {target.relative_to(ROOT)} (run python tools/nbbuild.py)")
                bad += 1
            elif not opens_with_setup_cell(target.read_text(), url):
                print(f"no set-up cell first: {target.relative_to(ROOT)} (run python tools/nbbuild.py)")
                bad += 1
            elif target.read_text() != text:
                print(f"out of date: {target.relative_to(ROOT)} (run python tools/nbbuild.py)")
                bad += 1
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
