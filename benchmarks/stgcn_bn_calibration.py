"""How much of the "untrained ST-GCN" bar comes from BatchNorm that has never seen data.

A freshly built ST-GCN in eval mode normalises with BatchNorm's initial running statistics
(mean 0, variance 1): every BN layer is the identity, the input BN (``data_bn``) included, so the
untrained encoder is a random convolutional network on the *unnormalised* coordinates. Training
in train mode replaces those statistics by the data's, whatever the learning rate. This script
separates the two effects without any gradient step: it estimates BatchNorm running statistics
from training clips (train-mode forward passes as in training, dropout included; cumulative
average; no weight change; the layers not chosen stay in eval mode and keep their statistics) for

- ``none``: no layer (the untrained encoder as the benchmarks evaluate it),
- ``data_bn``: only the input BN (per joint-coordinate channel standardisation),
- ``inner``: every BN but the input BN,
- ``all``: every BN layer,

and reports the quick probe (standardised logistic regression, cosine kNN) of each on the full
test split. The weights are the same random initialisation in every row.

    python3 benchmarks/stgcn_bn_calibration.py --config skeletonclr_synthetic --out docs/results/stgcn_bn_calibration.md
    python3 benchmarks/stgcn_bn_calibration.py --config skeletonclr_nucla --set data.root=PATH
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np
import torch
from torch import nn

from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data, data_info
from skelcl_lib.env import machine_summary, seed_everything
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import quick_probe

VARIANTS = ("none", "data_bn", "inner", "all")


def calibrate(extractor: nn.Module, x: np.ndarray, which: str, batch_size: int = 64) -> int:
    """Estimate the running statistics of the BN layers chosen by ``which`` (see the module
    docstring) from the clips ``x`` (N, C, T, V, M); the other layers keep theirs. Returns how
    many layers were calibrated."""
    layers = [(name, m) for name, m in extractor.named_modules()
              if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    chosen = [m for name, m in layers
              if which != "none" and (which == "all" or (name.endswith("data_bn") == (which == "data_bn")))]
    for bn in chosen:
        bn.reset_running_stats()
        bn.momentum = None                    # cumulative average over all batches
    extractor.train()
    for _, bn in layers:                      # the other layers keep (and use) their statistics
        if not any(bn is c for c in chosen):
            bn.eval()
    with torch.no_grad():
        if chosen:
            for i in range(0, len(x), batch_size):
                extractor(torch.from_numpy(np.ascontiguousarray(x[i:i + batch_size], dtype=np.float32)))
    extractor.eval()
    return len(chosen)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="skeletonclr_synthetic")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--clips", type=int, default=1024, help="training clips for the statistics")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--out", type=pathlib.Path, help="write a Markdown table here (and .json beside it)")
    args = ap.parse_args(argv)

    cfg = load_config(args.config, args.set)
    train, test = build_data(cfg)
    info = data_info(train)
    rows = []
    for which in args.variants:
        seed_everything(int(cfg["seed"]))
        method = build_method(cfg, info)                 # the same random weights in every row
        n = calibrate(method.feature_extractor(), train.x[:args.clips], which)
        method.eval()
        probe = quick_probe(method, train, test, cfg)
        rows.append({"bn_statistics": which, "layers": n, "probe": probe["linear"],
                     "knn1": probe["knn"]["1"], "knn20": probe["knn"].get("20")})
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# Untrained ST-GCN: BatchNorm statistics from data (`{args.config}`)", "",
                 f"Run on {machine_summary()}. {len(train)} training / {len(test)} test clips; "
                 f"statistics from {min(args.clips, len(train))} training clips; no gradient step.", "",
                 "| BN running statistics from data | layers | probe | kNN-1 | kNN-20 |",
                 "|---|---:|---:|---:|---:|"]
        for r in rows:
            k20 = "–" if r["knn20"] is None else f"{100 * r['knn20']:.1f}"
            lines.append(f"| {r['bn_statistics']} | {r['layers']} | {100 * r['probe']:.1f} | "
                         f"{100 * r['knn1']:.1f} | {k20} |")
        args.out.write_text("\n".join(lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"config": args.config, "set": args.set, "clips": args.clips, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
