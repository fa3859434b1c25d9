"""Where the variance of an encoder's pooled features lies, epoch by epoch of a pretraining run.

For the untrained encoder (epoch 0, the run's seed) and each saved epoch, on the test split:
the mean cosine between different clips, the effective rank and the share of the variance along
the first principal direction (:func:`skelcl_lib.evaluate.geometry.feature_geometry`); the
correlation of that direction with each clip's motion energy (summed absolute frame-to-frame
displacement of every joint); and kNN-1 (train split as the memory) on the features as they
are (cosine, as the quick probe reads them) and standardised with the training features' mean
and spread. If one direction carries nearly all the variance and follows how much a clip moves,
a cosine read-out compares clips mostly by that.

    python3 -m skelcl_lib pretrain --config skeletonclr_cpu --set train.lr=0.025 --set train.epochs=3 \
        --set model.dropout=0.5 --set train.save_every=1 --run-dir runs/sclr_cpu_base   # the run the table read
    python3 benchmarks/stgcn_feature_geometry.py --run runs/sclr_cpu_base --epochs 1 2 3 \
        --out docs/results/stgcn_feature_geometry.md
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np

from skelcl_lib.data.build import build_data, data_info
from skelcl_lib.env import machine_summary
from skelcl_lib.evaluate.features import extract_features
from skelcl_lib.evaluate.geometry import feature_geometry, top_direction
from skelcl_lib.evaluate.knn import knn_accuracy
from skelcl_lib.rundir import read_config, run_epochs


def motion_energy(x) -> np.ndarray:
    """(N,) summed absolute frame-to-frame displacement of every joint of every body.
    x: (N, C, T, V, M)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 5:
        raise ValueError(f"motion_energy: expected clips of shape (N, C, T, V, M), got {x.shape}")
    return np.abs(np.diff(x, axis=2)).sum(axis=(1, 2, 3, 4))


def geometry_row(train_f, train_y, test_f, test_y, energy) -> dict:
    """One row of the table for train / test features (see the module docstring)."""
    mu, sd = train_f.mean(0), train_f.std(0) + 1e-8
    top = top_direction(test_f)
    corr = float(np.corrcoef(top, energy)[0, 1]) if top.std() > 0 and np.std(energy) > 0 else 0.0
    return {**feature_geometry(test_f), "top_vs_motion": abs(corr),
            "knn1": knn_accuracy(train_f, train_y, test_f, test_y, k=(1,))[1],
            "knn1_standardised": knn_accuracy((train_f - mu) / sd, train_y, (test_f - mu) / sd,
                                              test_y, k=(1,))[1]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=pathlib.Path, required=True, help="a pretraining run directory")
    ap.add_argument("--epochs", type=int, nargs="+", required=True, help="saved epochs (ckpt_epoch_XXX.pt)")
    ap.add_argument("--out", type=pathlib.Path, help="write a Markdown table here (and .json beside it)")
    args = ap.parse_args(argv)

    config = read_config(args.run)
    if config is None:
        raise SystemExit(f"--run {args.run}: no config.yaml; expected a pretraining run directory")
    train, test = build_data(config)
    energy = motion_energy(test.x)
    rows = []
    for epoch, method in run_epochs(args.run, config, data_info(train), args.epochs):
        extractor = method.feature_extractor().eval()
        row = geometry_row(extract_features(extractor, train), np.asarray(train.y),
                           extract_features(extractor, test), np.asarray(test.y), energy)
        rows.append({"epoch": epoch, **row})
        print(json.dumps(rows[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# Where the variance of `{config.get('name', args.run.name)}`'s features (lr {config['train']['lr']}, dropout {config['model'].get('dropout', 0.5)}) lies", "",
                 f"Run on {machine_summary()}. Pooled backbone features of the {len(test)} test clips "
                 f"(kNN memory: the {len(train)} training clips); epoch 0 = the untrained encoder.", "",
                 "| epoch | mean cosine | effective rank | variance on 1st direction | "
                 "\\|corr(1st direction, motion)\\| | kNN-1 | kNN-1 standardised |",
                 "|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['epoch']} | {r['mean_cosine']:.3f} | {r['effective_rank']:.2f} | "
                         f"{100 * r['top_share']:.1f} % | {r['top_vs_motion']:.2f} | "
                         f"{100 * r['knn1']:.1f} | {100 * r['knn1_standardised']:.1f} |")
        args.out.write_text("\n".join(lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"run": args.run.name, "config": config.get("name"), "epochs": args.epochs, "rows": rows},
            indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
