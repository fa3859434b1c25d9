"""What the same encoder's frozen features reach when it is trained *with labels* on the same budget.

A pretraining recipe is judged by the quick probe and kNN-1 of its frozen backbone features
against the untrained encoder and raw coordinates. This script gives the other end of that
scale: the encoder of a method config (same architecture and input) trained end to end with
cross-entropy on every training label (``evaluate.protocols.supervised_from_scratch``: the AS-CAL
supervise settings, SGD lr 0.01 Nesterov, batch 32) for ``--epochs`` epochs, then read out
exactly as a pretrained encoder is (``pretrain.quick_probe`` on the frozen backbone, eval mode),
next to the same encoder untrained. If labels cannot lift the features above the untrained
encoder within the budget, a self-supervised recipe cannot be expected to either.

    python3 benchmarks/stgcn_supervised_ceiling.py --config skeletonclr_synthetic --epochs 8 \
        --out docs/results/stgcn_supervised_ceiling.md
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch

from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data, data_info
from skelcl_lib.env import machine_summary, seed_everything
from skelcl_lib.evaluate.protocols import supervised_from_scratch
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import probe_extractor


def read_out(extractor, train, test) -> dict:
    """The quick probe's numbers for a frozen extractor (eval mode): probe, kNN-1, kNN-20."""
    out = probe_extractor(extractor.eval(), train, test, knn_k=(1, 20))
    return {"probe": out["linear"], "knn1": out["knn"]["1"], "knn20": out["knn"]["20"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="skeletonclr_synthetic")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--epochs", type=int, default=8, help="supervised epochs (the pretraining budget)")
    ap.add_argument("--select", default="val", choices=("val", "last"),
                    help="which supervised epoch is read out: best on a 10 %% validation split, or the last")
    ap.add_argument("--out", type=pathlib.Path, help="write a Markdown table here (and .json beside it)")
    args = ap.parse_args(argv)

    cfg = load_config(args.config, args.set)
    seed = int(cfg["seed"])
    train, test = build_data(cfg)
    info = data_info(train)

    def make_extractor():
        return build_method(cfg, info).feature_extractor()

    rows = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        untrained = make_extractor()
    rows.append({"encoder": "untrained (random init)", "epochs": 0, **read_out(untrained, train, test)})
    print(json.dumps(rows[-1]), flush=True)
    seed_everything(seed)
    t0 = time.perf_counter()
    out = supervised_from_scratch(make_extractor, train, test, epochs=args.epochs, select=args.select, seed=seed)
    seconds = time.perf_counter() - t0
    rows.append({"encoder": "supervised from scratch, frozen backbone", "epochs": args.epochs,
                 **read_out(out["extractor"], train, test), "end_to_end_top1": out["top1"],
                 "train_seconds": round(seconds, 1)})
    print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# The encoder of `{args.config}` trained with labels: its frozen features", "",
                 f"Run on {machine_summary()}. {len(train)} training / {len(test)} test clips. "
                 f"Supervised: `evaluate.protocols.supervised_from_scratch`, {args.epochs} epochs, "
                 "epoch chosen on a validation split (10 % of the training clips). Read-out: the "
                 "quick probe (standardised logistic regression; cosine kNN) on the frozen backbone "
                 "in eval mode.", "",
                 "| encoder | epochs | probe | kNN-1 | kNN-20 | end-to-end top-1 |",
                 "|---|---:|---:|---:|---:|---:|"]
        for r in rows:
            e2e = f"{100 * r['end_to_end_top1']:.1f}" if "end_to_end_top1" in r else "–"
            lines.append(f"| {r['encoder']} | {r['epochs']} | {100 * r['probe']:.1f} | "
                         f"{100 * r['knn1']:.1f} | {100 * r['knn20']:.1f} | {e2e} |")
        args.out.write_text("\n".join(lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"config": args.config, "set": args.set, "epochs": args.epochs, "select": args.select,
             "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
