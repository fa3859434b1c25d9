"""``skelcl demo``: the README's first command, on the embedded dataset.

One function per stage (generate, describe, plot, write), so later stages (pretrain, evaluate)
slot in between without changing the others.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

from .data.dataset import SkeletonData


def generate(seed: int = 0, quick: bool = False) -> SkeletonData:
    """The embedded dataset: the full size, or the smallest preset with ``quick``."""
    from .data.synthetic import make_synthetic

    return make_synthetic(seed=seed, size="tiny" if quick else "full")


def describe(data: SkeletonData) -> dict:
    """Counts a reader can check: shape, classes, subjects, views, lengths, per-split sizes."""
    splits = {name: {"train": int(mask.sum()), "test": int((~mask).sum())}
              for name, mask in data.splits.items()}
    return {
        "dataset": data.dataset,
        "shape": list(data.shape),
        "layout": data.layout.name,
        "num_classes": data.num_classes,
        "class_names": list(data.class_names),
        "per_class": np.bincount(data.y, minlength=data.num_classes).tolist(),
        "subjects": np.unique(data.subject).tolist() if data.subject is not None else [],
        "views": np.unique(data.view).tolist() if data.view is not None else [],
        "lengths": ({"min": int(data.lengths.min()), "median": float(np.median(data.lengths)),
                     "max": int(data.lengths.max())} if data.lengths is not None else None),
        "splits": splits,
    }


def plot_overview(data: SkeletonData, path, classes=None, max_classes: int = 4):
    """A PNG grid: rows are classes, columns the camera views, the middle frame of one clip each."""
    from matplotlib.figure import Figure

    from . import viz

    if classes is None:
        present = np.unique(data.y)
        classes = present[np.linspace(0, len(present) - 1, min(max_classes, len(present))).astype(int)]
    views = np.unique(data.view) if data.view is not None else np.array([None])
    fig = Figure(figsize=(2.8 * len(views), 2.8 * len(classes)))
    for r, c in enumerate(classes):
        for k, v in enumerate(views):
            ax = fig.add_subplot(len(classes), len(views), r * len(views) + k + 1, projection="3d")
            match = np.flatnonzero((data.y == c) & ((data.view == v) if v is not None else True))
            if not len(match):
                ax.set_axis_off()
                continue
            i = int(match[0])
            n = int(data.lengths[i]) if data.lengths is not None else viz.valid_length(data.x[i])
            name = data.class_names[c] if data.class_names else f"class {c}"
            viz.plot_skeleton(data.x[i], t=n // 2, layout=data.layout, ax=ax,
                              title=f"{name}\ncamera {v}" if v is not None else name)
            ax.set_xlabel(""), ax.set_ylabel(""), ax.set_zlabel("")
    fig.suptitle(f"{data.dataset}: {len(classes)} of {data.num_classes} classes x {len(views)} views")
    fig.tight_layout()
    path = pathlib.Path(path)
    fig.savefig(path, dpi=80)
    return path


def write_summary(path, summary: dict):
    path = pathlib.Path(path)
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path


def cli(argv: list[str]) -> int:
    """``skelcl demo [--out outputs/demo] [--seed 0] [--quick]``."""
    ap = argparse.ArgumentParser(prog="skelcl demo", description="Generate the embedded dataset, "
                                 "describe it and draw a few classes from every camera.")
    ap.add_argument("--out", default="outputs/demo", help="output folder (default: outputs/demo)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="the smallest dataset (seconds, for a smoke test)")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    data = generate(args.seed, args.quick)
    seconds = time.perf_counter() - t0
    print(data.summary())
    summary = describe(data)
    for name, counts in summary["splits"].items():
        print(f"  {name}: {counts['train']} train / {counts['test']} test sequences")
    print(f"  generated in {seconds:.1f} s")
    summary.update(seed=args.seed, quick=args.quick, generate_seconds=round(seconds, 2))

    png = plot_overview(data, out / "overview.png")
    js = write_summary(out / "summary.json", summary)
    print(f"wrote {png}\nwrote {js}")
    return 0
