"""``skelcl demo``: the README's first command, on the embedded dataset.

One function per stage: generate the dataset, describe it, draw it, pretrain AS-CAL on the
cross-subject split with a short CPU schedule, and compare its frozen features with the same
probes on raw coordinates. Everything lands in ``--out`` (overview.png, summary.json,
results.md and the run folder).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np
from matplotlib.figure import Figure

from . import viz
from .config import load_config
from .data.build import INPUT_FIELDS, build_data
from .data.dataset import SkeletonData
from .data.synthetic import make_synthetic
from .evaluate.features import linear_probe, raw_features
from .evaluate.knn import knn_accuracy
from .pretrain import pretrain


def generate(seed: int = 0, quick: bool = False) -> SkeletonData:
    """The embedded dataset: the full size, or the smallest preset with ``quick``."""
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


def pretrain_and_evaluate(out: pathlib.Path, seed: int, quick: bool, epochs: int,
                          protocol: str = "xsub") -> dict:
    """AS-CAL (ascal_synthetic config, shortened) on one split, then linear + kNN probes.

    The same probes on raw coordinates (``evaluate.features.raw_features``) give the baseline row.
    """
    overrides = [f"data.seed={seed}", f"data.protocol={protocol}", f"train.epochs={epochs}",
                 f"train.lr_milestones=[{max(epochs - 1, 1)}]", "train.progress=false"]
    if quick:
        overrides += ["data.synthetic={size: tiny}", "model.hidden_size=32", "model.selected_frames=50"]
    config = load_config("ascal_synthetic", overrides)
    t0 = time.perf_counter()
    run_dir = pretrain(config, run_dir=out / f"ascal_{protocol}")
    train_s = time.perf_counter() - t0
    probe = json.loads((run_dir / "probe.json").read_text())
    train, test = build_data({**config, "data": {**config["data"], **dict.fromkeys(INPUT_FIELDS)}})
    raw_tr, raw_te = raw_features(train), raw_features(test)
    raw = {"linear": linear_probe(raw_tr, train.y, raw_te, test.y),
           "knn": {str(k): v for k, v in knn_accuracy(raw_tr, train.y, raw_te, test.y).items()}}
    rows = [("AS-CAL (frozen CAE)", probe), ("raw coordinates", raw)]
    lines = [f"Embedded dataset, {protocol}, seed {seed}: AS-CAL pretrained for {epochs} passes "
             f"({train_s:.0f} s); logistic-regression probe and cosine kNN on frozen features, "
             "test set evaluated once.", "",
             "| features | linear probe | kNN k=1 | kNN k=5 | kNN k=20 |", "|---|---|---|---|---|"]
    for name, r in rows:
        k = r["knn"]
        lines.append(f"| {name} | {100 * r['linear']:.1f} | {100 * k['1']:.1f} | "
                     f"{100 * k['5']:.1f} | {100 * k['20']:.1f} |")
    table = "\n".join(lines) + "\n"
    (out / "results.md").write_text(table)
    print(table)
    return {"ascal": probe, "raw": raw, "train_seconds": round(train_s, 1), "run_dir": str(run_dir)}


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
    ap.add_argument("--quick", action="store_true", help="the smallest dataset and model (a smoke test)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="AS-CAL pretraining passes (default 6, 2 with --quick; 0 skips pretraining)")
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
    print(f"wrote {png}")
    epochs = args.epochs if args.epochs is not None else (2 if args.quick else 6)
    if epochs > 0:
        summary["pretrain"] = pretrain_and_evaluate(out, args.seed, args.quick, epochs)
        print(f"wrote {out / 'results.md'}")
    js = write_summary(out / "summary.json", summary)
    print(f"wrote {js}")
    return 0
